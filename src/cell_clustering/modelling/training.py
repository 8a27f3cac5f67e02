"""A plain PyTorch training loop for the models of :mod:`cell_clustering.modelling.models`.

AdamW, a budget in epochs or in optimizer updates, β constant or warmed up linearly
(VAE family), augmentation in the groove frame, a seeded validation split, early
stopping on the validation loss, and a divergence guard (non-finite loss, or a KL
above a threshold for several epochs) that stops with a message and keeps the best
weights. Every model's ``loss`` returns a named tuple whose first field is
``total``; each field is recorded per epoch.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from cell_clustering.errors import ProjectError
from cell_clustering.modelling.augment import AugmentConfig, augment
from cell_clustering.parallel.progress import Progress
from cell_clustering.parameters.modelling import TrainingParams

logger = logging.getLogger(__name__)


class TrainingDiverged(ProjectError, RuntimeError):
    """Training stopped by the divergence guard. ``best_state`` holds the weights of
    the best epoch so far (``None`` if no epoch finished), ``history`` the losses."""

    def __init__(self, message: str, best_state: dict | None, history: dict[str, list[float]]) -> None:
        super().__init__(message)
        self.best_state = best_state
        self.history = history


def default_device() -> torch.device:
    """CUDA when present, CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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


def beta_at(epoch: int, beta: float, warmup_epochs: int) -> float:
    """β for ``epoch`` (0-based): linear warm-up from β/warmup to β, then constant."""
    if warmup_epochs <= 0:
        return beta
    return beta * min(1.0, (epoch + 1) / warmup_epochs)


@dataclass(frozen=True)
class _Step:
    """What one epoch needs besides the data: β, the optimiser (None: evaluate only)
    and the augmentation of training batches."""

    beta: float
    optimiser: torch.optim.Optimizer | None
    augmentation: AugmentConfig
    generator: torch.Generator


def _epoch(
    model: torch.nn.Module, data: torch.Tensor, conditions: torch.Tensor | None, batches: list[torch.Tensor], step: _Step
) -> dict[str, float]:
    """One pass over ``batches``: trains when an optimiser is given; mean losses."""
    totals: dict[str, float] = {}
    training = step.optimiser is not None
    model.train(training)
    for batch_index in batches:
        batch_conditions = None if conditions is None else conditions[batch_index]
        images = augment(data[batch_index], step.augmentation, step.generator) if training else data[batch_index]
        with torch.set_grad_enabled(training):
            loss = model.loss(images, batch_conditions, beta=step.beta)
            if training and torch.isfinite(loss.total):
                step.optimiser.zero_grad()
                loss.total.backward()
                step.optimiser.step()
        for name, value in loss._asdict().items():
            totals[name] = totals.get(name, 0.0) + value.item() * len(batch_index)
    n = sum(len(b) for b in batches)
    return {name: value / n for name, value in totals.items()}


def _batches(indices: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    batches = list(indices.split(batch_size))
    # A batch of one breaks batch normalisation: fold a last singleton into its neighbour.
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2] = torch.cat([batches[-2], batches.pop()])
    return batches


@dataclass
class _Monitor:
    """Best weights, early stopping and the divergence guard across epochs."""

    config: TrainingParams
    name: str
    best_loss: float = math.inf
    best_state: dict | None = None
    epochs_without_gain: int = 0
    epochs_above_kl: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)

    def record(self, results: dict[str, float]) -> None:
        for name, value in results.items():
            self.history.setdefault(name, []).append(value)

    def problem(self, results: dict[str, float], epoch: int) -> str | None:
        """Why training must stop as diverged after ``epoch``, or None."""
        if not all(math.isfinite(v) for v in results.values()):
            return f"the loss became non-finite at epoch {epoch + 1} ({results})"
        threshold = self.config.kl_threshold
        if threshold is None or results.get("train_kl", 0.0) <= threshold:
            self.epochs_above_kl = 0
            return None
        self.epochs_above_kl += 1
        if self.epochs_above_kl < self.config.kl_patience:
            return None
        return (
            f"the KL divergence stayed above kl_threshold={threshold} for {self.epochs_above_kl} "
            f"epochs (last {results['train_kl']:.3g} at epoch {epoch + 1})"
        )

    def should_stop(self, model: torch.nn.Module, results: dict[str, float], epoch: int) -> bool:
        """Keep the best weights; True when early stopping ends training."""
        if results[self.name] < self.best_loss:
            self.best_loss, self.epochs_without_gain = results[self.name], 0
            self.best_state = {name: value.detach().cpu().clone() for name, value in model.state_dict().items()}
            return False
        self.epochs_without_gain += 1
        patience = self.config.early_stopping_patience
        if patience and self.epochs_without_gain >= patience:
            logger.info("Early stopping at epoch %d: no %s gain for %d epochs.", epoch + 1, self.name, self.epochs_without_gain)
            return True
        return False

    def restore_best(self, model: torch.nn.Module) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
        model.to("cpu").eval()  # checkpoints and embeddings are CPU tensors


def _epoch_results(
    model: torch.nn.Module,
    data: tuple[torch.Tensor, torch.Tensor | None],
    batches: tuple[list[torch.Tensor], list[torch.Tensor]],
    step: _Step,
) -> dict[str, float]:
    """Train on the training batches, then score the validation batches (if any)."""
    tensor, conditions = data
    train_batches, validation_batches = batches
    results = {f"train_{k}": v for k, v in _epoch(model, tensor, conditions, train_batches, step).items()}
    if validation_batches:
        evaluate = _Step(step.beta, None, step.augmentation, step.generator)
        results.update({f"validation_{k}": v for k, v in _epoch(model, tensor, conditions, validation_batches, evaluate).items()})
    results["beta"] = step.beta
    return results


def n_epochs(config: TrainingParams, n_train: int) -> int:
    """The epochs of the budget: ``epochs``, or more if needed for ``min_updates`` steps."""
    per_epoch = max(1, math.ceil(n_train / config.batch_size))
    return max(config.epochs, math.ceil(config.min_updates / per_epoch))


def train(
    model: torch.nn.Module,
    data: np.ndarray,
    config: TrainingParams,
    conditions: np.ndarray | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` on ``data`` (N, C, H, W) with AdamW; return per-epoch losses
    (``train_<part>`` for each part of the model's loss, ``beta`` and, with a
    validation split, ``validation_<part>``). The model ends with the weights of its
    best epoch (lowest validation total, or training total without validation).

    Raises
    ------
    TrainingDiverged
        When a loss becomes NaN or infinite, or the KL stays above ``kl_threshold``
        for ``kl_patience`` epochs; the model is reset to its best weights first.
    """
    generator = seed_everything(config.seed)
    device = default_device()
    model.to(device)
    tensor = torch.as_tensor(data, dtype=torch.float32).to(device)
    condition_tensor = None if conditions is None else torch.as_tensor(np.array(conditions, dtype=np.int64)).to(device)
    train_idx, validation_idx = split_indices(len(tensor), config.validation_fraction, config.seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    train_idx_t = torch.as_tensor(train_idx)
    validation_batches = _batches(torch.as_tensor(validation_idx), config.batch_size) if len(validation_idx) else []
    monitor = _Monitor(config, "validation_total" if validation_batches else "train_total")
    if hasattr(model, "generator"):  # models that draw their own views (contrastive)
        model.generator.manual_seed(config.seed)
    augmentation = AugmentConfig(**config.augment.model_dump())
    progress = Progress(n_epochs(config, len(train_idx)), "Training the shape model", unit="epoch", enabled=config.progress_bar)
    for epoch in range(progress.total):
        step = _Step(beta_at(epoch, getattr(model.config, "beta", 0.0), config.beta_warmup_epochs), optimiser, augmentation, generator)
        train_batches = _batches(train_idx_t[torch.randperm(len(train_idx_t), generator=generator)], config.batch_size)
        results = _epoch_results(model, (tensor, condition_tensor), (train_batches, validation_batches), step)
        monitor.record(results)
        progress.tick(loss=f"{results[monitor.name]:.2f}")
        problem = monitor.problem(results, epoch)
        if problem:
            monitor.restore_best(model)
            raise TrainingDiverged(
                f"Training diverged: {problem}. The weights of the best epoch are kept. "
                "Lower the learning rate or beta, use a beta warm-up, or try the refined VAE.",
                monitor.best_state,
                monitor.history,
            )
        if monitor.should_stop(model, results, epoch):
            break
    monitor.restore_best(model)
    return monitor.history


@torch.no_grad()
def embed(model: torch.nn.Module, data: np.ndarray, conditions: np.ndarray | None = None, batch_size: int = 256) -> np.ndarray:
    """The clustered representation of every sample, in order, as float32 (N, D)."""
    model.eval()
    tensor = torch.as_tensor(data, dtype=torch.float32)
    condition_tensor = None if conditions is None else torch.as_tensor(np.array(conditions, dtype=np.int64))
    parts = []
    for start in range(0, len(tensor), batch_size):
        stop = start + batch_size
        batch_conditions = None if condition_tensor is None else condition_tensor[start:stop]
        parts.append(model.embed(tensor[start:stop], batch_conditions))
    return torch.cat(parts).numpy().astype(np.float32)
