"""Cellpose 3.x (the CPnet U-Net) for our fields: model sources, training, inference.

No Kedro here. Known Cellpose pitfalls handled here:

* A path that does not exist is *not* an error in cellpose 3.1.1: it logs "using
  default model" and downloads ``cyto3``. :func:`resolve_model_source` refuses such a
  path before Cellpose sees it.
* ``models.Cellpose`` always needs built-in weights and a size model; we only use
  ``models.CellposeModel``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError

import numpy as np
import torch
from cellpose import metrics, models
from cellpose import version as CELLPOSE_VERSION
from skimage.segmentation import relabel_sequential

from cell_clustering.errors import ProjectFileNotFoundError, ProjectValueError
from cell_clustering.modelling.checkpoints import read_torch_file
from cell_clustering.parameters.segmentation import (
    NORMALIZE_PERCENTILES,
    CellposeTrainingParams,
)
from cell_clustering.segmentation.cellpose_training import (
    UpdateBudget,
    train_in_updates,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSource:
    """Where the starting weights come from.

    ``kind`` is ``"none"`` (a randomly initialised CPnet), ``"builtin"`` (a name that
    Cellpose downloads itself, e.g. ``cyto3``) or ``"path"`` (a model file, e.g. from
    the Cellpose GUI).
    """

    kind: str
    value: str | None = None


def resolve_model_source(source: str | None) -> ModelSource:
    """Interpret ``segmentation.model_source``.

    Raises
    ------
    FileNotFoundError
        For anything that is neither ``none``, a built-in name nor an existing file:
        Cellpose would silently fall back to downloading ``cyto3``.
    """
    if source is None or str(source).strip().lower() in ("", "none", "null", "scratch"):
        return ModelSource("none")
    source = str(source)
    if source in models.MODEL_NAMES:
        return ModelSource("builtin", source)
    if Path(source).is_file():
        return ModelSource("path", str(Path(source).resolve()))
    raise ProjectFileNotFoundError(
        f"segmentation.model_source '{source}' is neither an existing model file nor a "
        f"built-in Cellpose model ({', '.join(models.MODEL_NAMES[:4])}, ...). Fix the "
        "path, name a built-in model, or use 'none' to train a CPnet from scratch."
    )


def build_model(source: ModelSource, *, seed: int = 0) -> models.CellposeModel:
    """A ``CellposeModel`` with the weights of ``source`` (random for ``none``, drawn
    from ``seed`` so that a run from scratch is reproducible)."""
    torch.manual_seed(seed)
    gpu = torch.cuda.is_available()
    if source.kind == "none":
        return models.CellposeModel(gpu=gpu, pretrained_model=False)
    if source.kind == "builtin":
        return _builtin_model(source.value, gpu)
    return models.CellposeModel(gpu=gpu, pretrained_model=source.value)


def _builtin_model(name: str, gpu: bool) -> models.CellposeModel:
    """A built-in model; Cellpose downloads its weights on first use (needs internet)."""
    try:
        return models.CellposeModel(gpu=gpu, model_type=name)
    except (URLError, OSError) as error:
        folder = models.MODEL_DIR
        raise ProjectFileNotFoundError(
            f"segmentation.model_source '{name}' is a built-in Cellpose model whose weights are not on "
            f"this machine, and downloading them failed ({error}). Copy the file '{builtin_file_name(name)}' "
            f"from a machine with internet (cellpose {CELLPOSE_VERSION} keeps it in ~/.cellpose/models/) into "
            f"{folder} (the folder CELLPOSE_LOCAL_MODELS_PATH names), or set model_source to the path of a "
            "model file, or to 'none' to train from your annotations."
        ) from error


def read_state_dict(path: str) -> dict[str, Any]:
    """The CPnet state dict in a model file, as saved (``weights_only``): a model used
    as is keeps its bytes, so saving it again gives the same file and MLflow does
    not upload an unchanged model twice (a CellposeModel's own ``state_dict`` differs)."""
    with open(path, "rb") as stream:
        return read_torch_file(stream)


def builtin_file_name(name: str) -> str:
    """The file cellpose 3.1 looks for in its models folder for a built-in model
    (``models.model_path``: ``nucleitorch_0`` for ``nuclei``, ``cyto3`` for ``cyto3``)."""
    return f"{name}torch_0" if name in ("cyto", "cyto2", "nuclei") else name


def model_from_state_dict(state_dict: dict[str, Any]) -> models.CellposeModel:
    """Rebuild a ``CellposeModel`` from a saved CPnet state dict."""
    model = models.CellposeModel(gpu=torch.cuda.is_available(), pretrained_model=False)
    model.net.load_state_dict(state_dict)
    model.net.eval()
    # CellposeModel reads these from the file when it loads a path itself.
    model.diam_mean = float(model.net.diam_mean.item())
    model.diam_labels = float(model.net.diam_labels.item())
    return model


_MODEL_CACHE: dict[str, models.CellposeModel] = {}


def cached_model(key: str, state_dict: dict[str, Any]) -> models.CellposeModel:
    """The model of ``state_dict``, built once per process for ``key``: per-field tasks
    on parallel workers each rebuild it once, not once per field. Holds one model."""
    if key not in _MODEL_CACHE:
        _MODEL_CACHE.clear()
        _MODEL_CACHE[key] = model_from_state_dict(state_dict)
    return _MODEL_CACHE[key]


def count_trainable(labels: list[np.ndarray], min_train_masks: int) -> int:
    """How many label images have at least ``min_train_masks`` masks (Cellpose drops
    the others)."""
    return sum(len(np.unique(mask)) - 1 >= min_train_masks for mask in labels)


def train(
    model: models.CellposeModel,
    train_images: list[np.ndarray],
    train_labels: list[np.ndarray],
    validation_images: list[np.ndarray],
    validation_labels: list[np.ndarray],
    config: CellposeTrainingParams,
    *,
    channels: tuple[int, int] = (0, 0),
    percentiles: tuple[float, float] = NORMALIZE_PERCENTILES,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Train ``model.net`` in place for ``config.updates`` optimizer updates (see
    :mod:`cell_clustering.segmentation.cellpose_training`); return the kept (best)
    weights and the train and validation losses at each check."""
    if count_trainable(train_labels, config.min_train_masks) == 0:
        raise ProjectValueError(
            f"Too few masks for training: no training field has at least "
            f"min_train_masks={config.min_train_masks} cells. Annotate more cells, add "
            "fields, or lower segmentation.training.min_train_masks."
        )
    budget = UpdateBudget(
        updates=config.updates, batch_size=config.batch_size, learning_rate=config.learning_rate,
        weight_decay=config.weight_decay, bsize=config.bsize, min_train_masks=config.min_train_masks,
        n_checks=config.n_checks, seed=config.seed,
    )
    _, train_losses, validation_losses = train_in_updates(
        model, train_images, train_labels, validation_images, validation_labels, budget,
        channels=channels, percentiles=percentiles,
    )
    model.diam_labels = float(model.net.diam_labels.item())
    state = {name: tensor.detach().cpu().clone() for name, tensor in model.net.state_dict().items()}
    return state, np.asarray(train_losses), np.asarray(validation_losses)


def segment(
    model: models.CellposeModel,
    image: np.ndarray,
    *,
    diameter: float | None = None,
    flow_threshold: float = 0.4,
    cellprob_threshold: float = 0.0,
    bsize: int = 224,
    channels: tuple[int, int] = (0, 0),
    percentiles: tuple[float, float] = NORMALIZE_PERCENTILES,
) -> np.ndarray:
    """Instance labels of one single-channel field with ``CellposeModel.eval``.

    Cellpose scales each image so that its ``percentiles`` become 0 and 1, as in
    training, so any preprocessed range works. ``diameter`` of ``None`` uses the mean diameter of
    the training masks. ``bsize`` is the tile size: fields larger than it, once
    rescaled to the model's diameter, are cut into overlapping tiles.

    Parameters
    ----------
    image : (rows, cols) ndarray, any real dtype

    Returns
    -------
    (rows, cols) integer ndarray of labels
    """
    masks, _, _ = model.eval(
        np.asarray(image, dtype=np.float32),
        channels=list(channels),
        diameter=diameter,
        flow_threshold=flow_threshold,
        cellprob_threshold=cellprob_threshold,
        bsize=bsize,
        normalize={"normalize": True, "percentile": list(percentiles)},
    )
    return np.asarray(masks)


def with_nuclei(image: np.ndarray, nuclei: np.ndarray | None) -> tuple[np.ndarray, tuple[int, int]]:
    """The image and channels Cellpose expects: the cell plane alone (``[0, 0]``), or
    (rows, cols, 2) with the nuclear plane second (``[1, 2]``: segment channel 1 with
    the nuclei of channel 2), as its GUI and ``train_seg`` take them."""
    if nuclei is None:
        return np.asarray(image, dtype=np.float32), (0, 0)
    if nuclei.shape != image.shape:
        raise ProjectValueError(f"The nuclear plane has shape {nuclei.shape}, the cell plane {image.shape}.")
    return np.stack([image, nuclei], axis=-1).astype(np.float32), (1, 2)


def _sequential(masks: list[np.ndarray]) -> list[np.ndarray]:
    """Masks relabelled 1..n: cellpose's metrics count a mask's objects as its largest
    label, so a gap (a deleted annotation, a cell rotated out of the field) would count
    as a missed object."""
    return [relabel_sequential(np.asarray(mask))[0] for mask in masks]


def average_precision(
    true_masks: list[np.ndarray], predicted_masks: list[np.ndarray], thresholds: list[float]
) -> np.ndarray:
    """AP = TP / (TP + FP + FN) per field (rows) and IoU threshold (columns)."""
    ap, _, _, _ = metrics.average_precision(_sequential(true_masks), _sequential(predicted_masks), threshold=thresholds)
    return np.asarray(ap)


def recall(true_masks: list[np.ndarray], predicted_masks: list[np.ndarray], threshold: float = 0.5) -> float:
    """The share of all true objects matched by a prediction at IoU ≥ ``threshold``,
    pooled over the fields (NaN when there is no true object)."""
    _, true_positives, _, false_negatives = metrics.average_precision(
        _sequential(true_masks), _sequential(predicted_masks), threshold=[threshold]
    )
    n_true = float(true_positives.sum() + false_negatives.sum())
    return float(true_positives.sum()) / n_true if n_true else float("nan")


def aggregated_jaccard(true_masks: list[np.ndarray], predicted_masks: list[np.ndarray]) -> np.ndarray:
    """Aggregated Jaccard index per field."""
    return np.asarray(metrics.aggregated_jaccard_index(true_masks, predicted_masks))
