"""Models built from the typed ``modelling`` parameters, trained, saved and reloaded.

The checkpoint is a plain dict (``model``, ``config``, ``state_dict``) so that a
model can be rebuilt from its file alone; the config holds the condition names the
model was trained on.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import torch

from cell_clustering.modelling.models import MODELS
from cell_clustering.modelling.training import (
    TrainingDiverged,
    embed,
    seed_everything,
    train,
)
from cell_clustering.parameters.modelling import ModellingParams

logger = logging.getLogger(__name__)


def model_config(params: ModellingParams, *, patch_size: int, in_channels: int, n_conditions: int) -> Any:
    """The config dataclass of ``params.model_type``, every key placed explicitly.

    The latent size goes to every model; the ``vae`` block to the VAE family, the
    ``refined_vae`` and ``contrastive`` blocks to their model and the number of
    conditions only to the models that read it, so no key is silently dropped.
    """
    _, config_class = MODELS[params.model_type]
    shared = {**params.model.model_dump(), "patch_size": patch_size, "in_channels": in_channels}
    if params.model_type == "contrastive":
        return config_class(**shared, **params.contrastive.model_dump(), **params.invariances.model_dump())
    shared.update(params.vae.model_dump())
    if params.model_type == "cvae":
        return config_class(**shared, n_conditions=n_conditions)
    if params.model_type == "refined_vae":
        return config_class(**shared, **params.refined_vae.model_dump(), n_conditions=n_conditions)
    return config_class(**shared)


def build_model(model_type: str, config: Any) -> torch.nn.Module:
    """The model of ``model_type`` from its config dataclass."""
    model_class, _ = MODELS[model_type]
    return model_class(config)


def condition_codes(conditions: np.ndarray, known: list[str]) -> np.ndarray:
    """Integer code of each condition among ``known`` (the model's training conditions)."""
    unknown = sorted(set(conditions) - set(known))
    if unknown:
        raise ValueError(f"Conditions {unknown} were not seen in training (known: {known}); retrain the model.")
    index = {name: code for code, name in enumerate(known)}
    return np.array([index[name] for name in conditions], dtype=np.int64)


def _check_patches(patches: np.ndarray, n_rows: int) -> None:
    if patches.ndim != 4:
        raise ValueError(f"patches must be (N, C, H, W); got shape {patches.shape}.")
    if patches.shape[2] != patches.shape[3]:
        raise ValueError(f"patches must be square; got {patches.shape[2]}×{patches.shape[3]}.")
    if n_rows != len(patches):
        raise ValueError(f"patch_metadata has {n_rows} rows for {len(patches)} patches; re-run patching.")


def fit_model(
    patches: np.ndarray, conditions: np.ndarray, params: ModellingParams
) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Train ``params.model_type`` on ``patches`` (N, C, S, S) in [0, 1].

    ``conditions`` (N,) names the condition of every patch (what the cVAE is
    conditioned on). With ``on_divergence: stop`` a diverged run keeps its best epoch
    and the history gets ``stopped_by_divergence_guard``.

    Returns
    -------
    checkpoint : dict
        ``model``, ``config`` (with the sorted condition names) and ``state_dict``.
    history : dict
        Per-epoch losses, name → list of floats.
    """
    _check_patches(patches, len(conditions))
    known = sorted(set(conditions))
    config = model_config(params, patch_size=int(patches.shape[-1]), in_channels=int(patches.shape[1]), n_conditions=len(known))
    # Seed before building the model so the initial weights are reproducible too.
    seed_everything(params.training.seed)
    model = build_model(params.model_type, config)
    try:
        history = train(model, patches, params.training, condition_codes(conditions, known))
    except TrainingDiverged as diverged:
        if params.on_divergence == "raise" or diverged.best_state is None:
            raise
        logger.warning("%s Saving the best epoch's weights.", diverged)
        history = {**diverged.history, "stopped_by_divergence_guard": [1.0]}
    checkpoint = {
        "model": params.model_type,
        "config": {**dataclasses.asdict(model.config), "conditions": known},
        "state_dict": model.state_dict(),
    }
    return checkpoint, history


def model_from_checkpoint(checkpoint: dict[str, Any]) -> tuple[torch.nn.Module, list[str]]:
    """The model of a checkpoint, with the condition names it was trained on."""
    config = dict(checkpoint["config"])
    conditions = config.pop("conditions")
    if checkpoint["model"] not in MODELS:
        raise ValueError(f"Checkpoint of unknown model type '{checkpoint['model']}'; known: {sorted(MODELS)}.")
    _, config_class = MODELS[checkpoint["model"]]
    model = build_model(checkpoint["model"], config_class(**config))
    model.load_state_dict(checkpoint["state_dict"])
    return model, conditions


def encode(checkpoint: dict[str, Any], patches: np.ndarray, conditions: np.ndarray) -> np.ndarray:
    """The clustered representation (N, D) of every patch, in order."""
    model, known = model_from_checkpoint(checkpoint)
    # Only the conditional models read the condition: cells of a condition never seen in
    # training (a new plate's new drug) are encoded by every other model.
    codes = condition_codes(conditions, known) if _reads_conditions(checkpoint) else None
    return embed(model, patches, codes)


def _reads_conditions(checkpoint: dict[str, Any]) -> bool:
    """The cVAE, and the refined VAE whose E is the condition."""
    config = checkpoint["config"]
    return checkpoint["model"] == "cvae" or (checkpoint["model"] == "refined_vae" and config.get("embedding") == "condition")
