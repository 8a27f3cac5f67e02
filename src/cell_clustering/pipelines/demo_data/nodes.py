"""Nodes of the ``demo_data`` pipeline."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cell_clustering import demo_data
from cell_clustering.parameters import DemoDataParams

logger = logging.getLogger(__name__)


def generate_demo_data(
    params: DemoDataParams,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], pd.DataFrame, pd.DataFrame]:
    """Draw the demo fields, their instance masks and the ground-truth tables.

    Returns
    -------
    images : dict of str to (rows, cols) uint16 ndarray
        Raw fields keyed ``"<condition>/field_<nnn>"``.
    masks : dict of str to (rows, cols) uint16 ndarray
        Ground-truth instance masks with the same keys.
    fields : pandas.DataFrame
        One row per field: condition, groove angle, density class and value.
    cells : pandas.DataFrame
        One row per cell: field, label, condition, planted shape parameters.
    """
    images, masks, fields, cells = demo_data.generate_dataset(params)
    logger.info("Demo data: %d fields, %d cells across %d conditions.", len(images), len(cells), fields["condition"].nunique())
    return images, masks, fields, cells
