"""Nodes of the ``modelling`` pipeline."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def _build_model(model_type: str, config: dict[str, Any]) -> Any:
    from cell_clustering.models import MODELS

    if model_type not in MODELS:
        raise ValueError(f"modelling.model_type '{model_type}' is unknown; choose one of {sorted(MODELS)}.")
    model_class, config_class = MODELS[model_type]
    return model_class(config_class(**config))


def train_model(patches: np.ndarray, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the configured model on the patches.

    Parameters
    ----------
    patches : (N, C, S, S) float32 ndarray in [0, 1]
    params : dict
        ``modelling`` parameters.

    Returns
    -------
    checkpoint : dict
        ``model`` (type name), ``config`` (plain dict) and ``state_dict``.
    history : dict
        Per-epoch losses for MLflow (``{name: [{"step": epoch, "value": v}, ...]}``).
    """
    from cell_clustering.training import TrainingConfig, seed_everything, train

    if patches.ndim != 4:
        raise ValueError(f"patches must be (N, C, H, W); got shape {patches.shape}.")
    if patches.shape[2] != patches.shape[3]:
        raise ValueError(f"patches must be square; got {patches.shape[2]}×{patches.shape[3]}.")
    model_config = {**params["model"], "patch_size": int(patches.shape[-1]), "in_channels": int(patches.shape[1])}
    training_config = TrainingConfig(**params["training"])
    # Seed before building the model so the initial weights are reproducible too.
    seed_everything(training_config.seed)
    model = _build_model(params["model_type"], model_config)
    history = train(model, patches, training_config)
    checkpoint = {
        "model": params["model_type"],
        "config": asdict(model.config),
        "state_dict": model.state_dict(),
    }
    metrics = {
        name: [{"step": epoch, "value": value} for epoch, value in enumerate(values)]
        for name, values in history.items()
    }
    return checkpoint, metrics


def encode_patches(checkpoint: dict[str, Any], patches: np.ndarray) -> np.ndarray:
    """Latent means (N, D) of every patch, aligned row by row with the patch metadata."""
    from cell_clustering.training import embed

    model = _build_model(checkpoint["model"], checkpoint["config"])
    model.load_state_dict(checkpoint["state_dict"])
    return embed(model, patches)
