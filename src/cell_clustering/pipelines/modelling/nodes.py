"""Nodes of the ``modelling`` pipeline: train the shape model, encode every patch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import modelling
from cell_clustering.parameters import ModellingParams


def train_model(
    patches: np.ndarray, patch_metadata: pd.DataFrame, params: ModellingParams
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the configured model (``vae``, ``cvae`` or ``refined_vae``) on the patches.

    Parameters
    ----------
    patches : (N, C, S, S) float32 ndarray in [0, 1]
    patch_metadata : pandas.DataFrame
        N rows aligned with ``patches``; its ``condition`` column conditions the cVAE.
    params : ModellingParams

    Returns
    -------
    checkpoint : dict
        ``model`` (type name), ``config`` (plain dict, with the condition names) and
        ``state_dict`` (the best epoch).
    history : dict
        Per-epoch losses for MLflow (``{name: [{"step": epoch, "value": v}, ...]}``).
    """
    checkpoint, history = modelling.fit_model(patches, patch_metadata["condition"].to_numpy(), params)
    metrics = {
        name: [{"step": epoch, "value": value} for epoch, value in enumerate(values)]
        for name, values in history.items()
    }
    return checkpoint, metrics


def encode_patches(checkpoint: dict[str, Any], patches: np.ndarray, patch_metadata: pd.DataFrame) -> np.ndarray:
    """The clustered representation of every patch (Z for the VAE and cVAE, Z' for
    the refined VAE), aligned row by row with the patch metadata."""
    return modelling.encode(checkpoint, patches, patch_metadata["condition"].to_numpy())
