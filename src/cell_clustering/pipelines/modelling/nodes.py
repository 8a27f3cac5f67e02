"""Nodes of the ``modelling`` pipeline."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)


def _build_model(model_type: str, config: dict[str, Any]) -> Any:
    """A model from its type name and a dict of hyperparameters.

    Keys the model's config does not have (e.g. ``alpha`` for the plain VAE) are
    left out, so one parameter block serves every model type.
    """
    from cell_clustering.models import MODELS

    if model_type not in MODELS:
        raise ValueError(f"modelling.model_type '{model_type}' is unknown; choose one of {sorted(MODELS)}.")
    model_class, config_class = MODELS[model_type]
    known = {field.name for field in dataclasses.fields(config_class)}
    return model_class(config_class(**{k: v for k, v in config.items() if k in known}))


def _condition_codes(patch_metadata: pd.DataFrame, conditions: list[str]) -> np.ndarray:
    unknown = sorted(set(patch_metadata["condition"]) - set(conditions))
    if unknown:
        raise ValueError(f"Conditions {unknown} were not seen in training (known: {conditions}); retrain the model.")
    index = {name: code for code, name in enumerate(conditions)}
    return patch_metadata["condition"].map(index).to_numpy(dtype=np.int64)


def train_model(
    patches: np.ndarray, patch_metadata: pd.DataFrame, params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the configured model (``vae``, ``cvae`` or ``refined_vae``) on the patches.

    Parameters
    ----------
    patches : (N, C, S, S) float32 ndarray in [0, 1]
    patch_metadata : pandas.DataFrame
        N rows aligned with ``patches``; its ``condition`` column conditions the cVAE.
    params : dict
        ``modelling`` parameters.

    Returns
    -------
    checkpoint : dict
        ``model`` (type name), ``config`` (plain dict, with the condition names) and
        ``state_dict`` (the best epoch).
    history : dict
        Per-epoch losses for MLflow (``{name: [{"step": epoch, "value": v}, ...]}``).
    """
    from cell_clustering.training import (
        TrainingConfig,
        TrainingDiverged,
        seed_everything,
        train,
    )

    if patches.ndim != 4:
        raise ValueError(f"patches must be (N, C, H, W); got shape {patches.shape}.")
    if patches.shape[2] != patches.shape[3]:
        raise ValueError(f"patches must be square; got {patches.shape[2]}×{patches.shape[3]}.")
    if len(patch_metadata) != len(patches):
        raise ValueError(f"patch_metadata has {len(patch_metadata)} rows for {len(patches)} patches; re-run patching.")
    conditions = sorted(patch_metadata["condition"].unique())
    model_config = {
        **params["model"],
        "patch_size": int(patches.shape[-1]),
        "in_channels": int(patches.shape[1]),
        "n_conditions": len(conditions),
    }
    training_config = TrainingConfig(**params["training"])
    # Seed before building the model so the initial weights are reproducible too.
    seed_everything(training_config.seed)
    model = _build_model(params["model_type"], model_config)
    codes = _condition_codes(patch_metadata, conditions)
    try:
        history = train(model, patches, training_config, codes)
    except TrainingDiverged as diverged:
        if params.get("on_divergence", "stop") == "raise" or diverged.best_state is None:
            raise
        logger.warning("%s Saving the best epoch's weights.", diverged)
        history = {**diverged.history, "stopped_by_divergence_guard": [1.0]}
    checkpoint = {
        "model": params["model_type"],
        "config": {**dataclasses.asdict(model.config), "conditions": conditions},
        "state_dict": model.state_dict(),
    }
    metrics = {
        name: [{"step": epoch, "value": value} for epoch, value in enumerate(values)]
        for name, values in history.items()
    }
    return checkpoint, metrics


def encode_patches(checkpoint: dict[str, Any], patches: np.ndarray, patch_metadata: pd.DataFrame) -> np.ndarray:
    """The clustered representation of every patch (Z for the VAE and cVAE, Z' for
    the refined VAE), aligned row by row with the patch metadata."""
    from cell_clustering.training import embed

    config = dict(checkpoint["config"])
    conditions = config.pop("conditions")
    model = _build_model(checkpoint["model"], config)
    model.load_state_dict(checkpoint["state_dict"])
    return embed(model, patches, _condition_codes(patch_metadata, conditions))
