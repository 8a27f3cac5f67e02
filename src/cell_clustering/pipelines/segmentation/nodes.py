"""Nodes of the ``segmentation`` pipeline."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import numpy as np

from cell_clustering.fields import Partitions, require_partitions

logger = logging.getLogger(__name__)

NO_PREPROCESSED_MESSAGE = (
    "No preprocessed field to segment. Run the preprocessing pipeline first "
    "(`kedro run --pipelines=preprocessing`)."
)


def segment_field(image: np.ndarray, field: str, params: dict[str, Any]) -> np.ndarray:
    """Label the cells of one preprocessed field and apply the post-filters.

    Returns
    -------
    (rows, cols) uint16 or uint32 ndarray; an all-zero mask (with a warning) for a
    field with no cell.
    """
    from cell_clustering.segmentation import filter_labels, segment_classical

    if params["method"] != "classical":
        raise ValueError(
            f"segmentation.method '{params['method']}' is not available; use 'classical'."
        )
    labels = filter_labels(segment_classical(image, **params["classical"]), **params["post_filters"])
    if labels.max() == 0:
        logger.warning("No cell found in field '%s': its mask is empty.", field)
    return labels


def segment_fields(preprocessed_images: Partitions, params: dict[str, Any]) -> dict[str, Any]:
    """Lazy partitions of label masks, one per preprocessed field."""

    def segment(field: str) -> np.ndarray:
        return segment_field(preprocessed_images[field](), field, params)

    return {
        field: partial(segment, field)
        for field in require_partitions(preprocessed_images, NO_PREPROCESSED_MESSAGE)
    }
