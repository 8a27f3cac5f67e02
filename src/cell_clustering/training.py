"""A plain PyTorch training loop for the models of :mod:`cell_clustering.models`."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    """How a model is trained; every random step draws from ``seed``."""

    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    validation_fraction: float = 0.1
    seed: int = 0


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global generator (weights, reparameterisation noise) and return a
    dedicated generator for data order."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def split_indices(n_samples: int, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train / validation split; validation may be empty for tiny datasets."""
    order = np.random.default_rng(seed).permutation(n_samples)
    n_validation = int(round(n_samples * validation_fraction))
    if n_validation >= n_samples:
        n_validation = 0
    return np.sort(order[n_validation:]), np.sort(order[:n_validation])


def _epoch(model: torch.nn.Module, data: torch.Tensor, batches: list[torch.Tensor], optimiser: torch.optim.Optimizer | None) -> dict[str, float]:
    totals = {"total": 0.0, "reconstruction": 0.0, "kl": 0.0}
    model.train(optimiser is not None)
    for batch_index in batches:
        batch = data[batch_index]
        with torch.set_grad_enabled(optimiser is not None):
            loss = model.loss(batch)
            if optimiser is not None:
                optimiser.zero_grad()
                loss.total.backward()
                optimiser.step()
        for name in totals:
            totals[name] += getattr(loss, name).item() * len(batch_index)
    n = sum(len(b) for b in batches)
    return {name: value / n for name, value in totals.items()}


def train(model: torch.nn.Module, data: np.ndarray, config: TrainingConfig) -> dict[str, list[float]]:
    """Train ``model`` on ``data`` (N, C, H, W) with AdamW; return per-epoch losses.

    Returns
    -------
    dict
        ``train_total``, ``train_reconstruction``, ``train_kl`` and, when a validation
        split exists, the same three for ``validation``: one value per epoch.
    """
    generator = seed_everything(config.seed)
    tensor = torch.as_tensor(data, dtype=torch.float32)
    train_idx, validation_idx = split_indices(len(tensor), config.validation_fraction, config.seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    history: dict[str, list[float]] = {}
    train_idx_t = torch.as_tensor(train_idx)
    validation_batches = list(torch.as_tensor(validation_idx).split(config.batch_size)) if len(validation_idx) else []
    for epoch in range(config.epochs):
        order = train_idx_t[torch.randperm(len(train_idx_t), generator=generator)]
        # A batch of one breaks batch normalisation: fold a last singleton into its neighbour.
        batches = list(order.split(config.batch_size))
        if len(batches) > 1 and len(batches[-1]) == 1:
            batches[-2] = torch.cat([batches[-2], batches.pop()])
        for name, value in _epoch(model, tensor, batches, optimiser).items():
            history.setdefault(f"train_{name}", []).append(value)
        if validation_batches:
            for name, value in _epoch(model, tensor, validation_batches, None).items():
                history.setdefault(f"validation_{name}", []).append(value)
        logger.info(
            "epoch %d/%d  train loss %.2f%s", epoch + 1, config.epochs, history["train_total"][-1],
            f"  validation loss {history['validation_total'][-1]:.2f}" if validation_batches else "",
        )
    model.eval()
    return history


@torch.no_grad()
def embed(model: torch.nn.Module, data: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Latent means of every sample, in order, as float32 (N, D)."""
    model.eval()
    tensor = torch.as_tensor(data, dtype=torch.float32)
    return torch.cat([model.embed(batch) for batch in tensor.split(batch_size)]).numpy().astype(np.float32)
