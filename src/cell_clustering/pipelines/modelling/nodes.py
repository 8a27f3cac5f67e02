"""Nodes of the ``modelling`` pipeline: train the shape model, encode every patch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import modelling, reporting
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


def plot_training_curves(history: dict[str, Any]) -> Any:
    """The training and validation losses against the evaluation step, one panel per
    loss (``train_<loss>`` beside ``validation_<loss>``), for the run's report: a
    curve that still falls at the end asks for more updates, a validation curve that
    rises while training falls, for fewer.

    ``history`` is :func:`train_model`'s, or the same read back from MLflow (names
    prefixed ``training.``, a single point as a dict rather than a list)."""
    history = {name.rsplit(".", 1)[-1]: points if isinstance(points, list) else [points] for name, points in history.items()}
    losses = sorted({name.split("_", 1)[1] for name in history if name.startswith(("train_", "validation_"))})
    figure, axes = reporting.pyplot().subplots(1, max(len(losses), 1), figsize=(4.5 * max(len(losses), 1), 3.2), squeeze=False)
    for axis, loss in zip(axes[0], losses, strict=False):
        for split in ("train", "validation"):
            points = history.get(f"{split}_{loss}", [])
            axis.plot([p["step"] for p in points], [p["value"] for p in points], label=split)
        axis.set_title(loss)
        axis.set_xlabel("evaluation step")
        axis.legend(fontsize=7)
    figure.tight_layout()
    return figure
