"""Cellpose training counted in optimizer updates, keeping the best checkpoint.

``cellpose.train.train_seg`` counts its budget in epochs over the training images:
three annotated crops with batch 4 make one optimizer update per epoch, so its
default schedule gives 40 updates, of which the learning-rate warm-up eats ten, and
the model collapses. Forty large fields get ten times as many updates for the same
epochs. Here the budget is ``updates``: each update draws ``batch_size`` training
images (with replacement), applies Cellpose's own augmentation
(``transforms.random_rotate_and_resize``: rotation, flips, scale around the training
diameter) and loss (``_loss_fn_seg``), on the flows Cellpose computes from the masks
(``_process_train_test``). The learning rate follows Cellpose's shape in updates: a
linear warm-up, a plateau, then halvings at the end. The validation loss is computed
``n_checks`` times; the weights with the lowest one are kept (the last ones without
validation images).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from cellpose import models, transforms
from cellpose.train import _get_batch, _loss_fn_seg, _process_train_test

from cell_clustering.parameters.segmentation import NORMALIZE_PERCENTILES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateBudget:
    """The optimizer side of a training: how many updates, of what, how often checked."""

    updates: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    bsize: int
    min_train_masks: int
    n_checks: int = 10
    seed: int = 0


def learning_rates(budget: UpdateBudget) -> np.ndarray:
    """Per-update learning rate: warm-up over the first 10 % of updates, a plateau, and
    ten halvings over the last 20 % (Cellpose's epoch schedule, in updates)."""
    n = budget.updates
    warm = max(1, n // 10)
    rates = np.full(n, budget.learning_rate, dtype=np.float64)
    rates[:warm] = np.linspace(budget.learning_rate / warm, budget.learning_rate, warm)
    tail = n // 5
    for i in range(10 if tail >= 10 else 0):
        start = n - tail + i * tail // 10
        rates[start:] = budget.learning_rate / 2 ** (i + 1)
    return rates


def _batch_loss(net: Any, data: list, labels: list, diams: np.ndarray, indices: np.ndarray, bsize: int, kwargs: dict) -> torch.Tensor:
    images, flows = _get_batch(indices, data=data, labels=labels, files=None, labels_files=None, **kwargs)
    rescale = diams[indices] / net.diam_mean.item()
    augmented, target = transforms.random_rotate_and_resize(images, Y=flows, rescale=rescale, scale_range=0.5, xy=(bsize, bsize))[:2]
    prediction = net(torch.from_numpy(augmented).to(net.device))[0]
    return _loss_fn_seg(target, prediction, net.device)


def _validation_loss(net: Any, data: list | None, labels: list | None, diams: np.ndarray, budget: UpdateBudget, kwargs: dict) -> float:
    """Mean loss on the validation images, with a fixed augmentation (same draw each check)."""
    if not data:
        return float("nan")
    state = np.random.get_state()
    np.random.seed(42)
    net.eval()
    losses = []
    with torch.no_grad():
        for start in range(0, len(data), budget.batch_size):
            indices = np.arange(start, min(start + budget.batch_size, len(data)))
            losses.append(_batch_loss(net, data, labels, diams, indices, budget.bsize, kwargs).item() * len(indices))
    np.random.set_state(state)
    return float(np.sum(losses) / len(data))


@dataclass
class _Prepared:
    """Training and validation images with the flows Cellpose computed from their masks."""

    data: list
    labels: list
    diams: np.ndarray
    test_data: list | None
    test_labels: list | None
    test_diams: np.ndarray | None
    kwargs: dict


def _prepare(
    net: Any, images: list, labels: list, validation_images: list, validation_labels: list,
    budget: UpdateBudget, channels: tuple[int, int], percentiles: tuple[float, float],
) -> _Prepared:
    normalize = {**models.normalize_default, "normalize": True, "percentile": list(percentiles)}
    out = _process_train_test(
        train_data=images, train_labels=labels, test_data=validation_images or None,
        test_labels=validation_labels or None, load_files=False, min_train_masks=budget.min_train_masks,
        channels=list(channels), normalize_params=normalize, device=net.device,
    )
    kwargs = {} if out[12] else {"normalize_params": normalize, "channels": list(channels)}
    return _Prepared(out[0], out[1], out[5], out[6], out[7], out[11], kwargs)


def _check(net: Any, prepared: _Prepared, budget: UpdateBudget, running: list[float], update: int) -> tuple[float, float]:
    """The mean training loss since the last check and the validation loss, logged."""
    validation = _validation_loss(net, prepared.test_data, prepared.test_labels, prepared.test_diams, budget, prepared.kwargs)
    train = float(np.mean(running))
    logger.info("Cellpose update %d/%d: train loss %.4f, validation loss %.4f", update + 1, budget.updates, train, validation)
    return train, validation


def train_in_updates(
    model: models.CellposeModel,
    train_images: list[np.ndarray],
    train_labels: list[np.ndarray],
    validation_images: list[np.ndarray],
    validation_labels: list[np.ndarray],
    budget: UpdateBudget,
    *,
    channels: tuple[int, int] = (0, 0),
    percentiles: tuple[float, float] = NORMALIZE_PERCENTILES,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Train ``model.net`` for ``budget.updates`` updates; keep the best checkpoint.

    Returns
    -------
    state_dict : dict
        The kept weights; ``diam_labels`` is the mean diameter of the training masks.
    train_losses, validation_losses : (n_checks,) ndarray
        Mean training loss since the previous check, and the validation loss (NaN
        without validation images), at each check.
    """
    net = model.net
    torch.manual_seed(budget.seed)
    np.random.seed(budget.seed)  # Cellpose's augmentation draws from NumPy's global RNG
    prepared = _prepare(net, train_images, train_labels, validation_images, validation_labels, budget, channels, percentiles)
    net.diam_labels.data = torch.Tensor([prepared.diams.mean()]).to(net.device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=budget.learning_rate, weight_decay=budget.weight_decay)
    rates, rng = learning_rates(budget), np.random.default_rng(budget.seed)
    check_every = max(1, budget.updates // budget.n_checks)
    best, best_loss, history, running = None, np.inf, [], []
    for update in range(budget.updates):
        for group in optimizer.param_groups:
            group["lr"] = rates[update]
        net.train()
        indices = rng.integers(0, len(prepared.data), budget.batch_size)
        loss = _batch_loss(net, prepared.data, prepared.labels, prepared.diams, indices, budget.bsize, prepared.kwargs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running.append(loss.item())
        if (update + 1) % check_every == 0 or update + 1 == budget.updates:
            history.append(_check(net, prepared, budget, running, update))
            running, validation = [], history[-1][1]
            if not np.isfinite(validation) or validation <= best_loss:
                best_loss, best = (validation if np.isfinite(validation) else best_loss), copy.deepcopy(net.state_dict())
    net.load_state_dict(best)
    net.eval()
    losses = np.asarray(history)
    return best, losses[:, 0], losses[:, 1]
