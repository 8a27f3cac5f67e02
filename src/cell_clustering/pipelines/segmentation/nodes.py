"""Nodes of the ``segmentation`` pipeline: Cellpose training, inference and quality."""

from __future__ import annotations

import logging
import uuid
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import preprocessing as steps
from cell_clustering import reporting, segmentation
from cell_clustering.errors import ProjectValueError
from cell_clustering.fields import Partitions, require_partitions
from cell_clustering.parallel import lazy_partitions
from cell_clustering.parameters import (
    ComputeParams,
    PreprocessingParams,
    SegmentationParams,
)

logger = logging.getLogger(__name__)

#: What ``train_cellpose`` returns when the classical segmentation was chosen: no
#: CPnet weights, only the word (the catalog stores it in place of a model file).
CLASSICAL_SEGMENTER = {"method": "classical"}

NO_PREPROCESSED_MESSAGE = (
    "No preprocessed field to segment. Run the preprocessing pipeline first "
    "(`kedro run --pipelines=preprocessing`)."
)


def split_fields(preprocessed_images: Partitions, rotated_masks: Partitions, params: SegmentationParams) -> pd.DataFrame:
    """Assign each field a role: ``train``, ``validation`` (annotated, held out) or
    ``unannotated``. The split is by field and seeded.

    With a single annotated field, it is used for training and nothing is held out.
    """
    fields = require_partitions(preprocessed_images, NO_PREPROCESSED_MESSAGE)
    annotated = [field for field in fields if field in rotated_masks]
    order = np.random.default_rng(params.split_seed).permutation(len(annotated))
    n_validation = int(round(len(annotated) * params.validation_fraction))
    n_validation = min(n_validation, max(len(annotated) - 1, 0))
    validation = {annotated[i] for i in order[:n_validation]}
    roles = [
        "unannotated" if field not in rotated_masks else "validation" if field in validation else "train"
        for field in fields
    ]
    return pd.DataFrame({"field": fields, "role": roles})


def _choice(params: SegmentationParams, n_train: int) -> tuple[str, str]:
    """The segmentation method ``auto`` resolves to, and why."""
    if params.method != "auto":
        return params.method, f"segmentation.method is {params.method}"
    if segmentation.resolve_model_source(params.model_source).kind != "none":
        return "cellpose", f"a Cellpose model is given (segmentation.model_source: {params.model_source})"
    if n_train and params.train:
        return "cellpose", f"{n_train} annotated field(s) to train Cellpose on"
    return "classical", (
        "no annotated field and no Cellpose model (segmentation.model_source), so the classical "
        "Otsu + watershed segmentation runs, offline. To use Cellpose, annotate a few fields "
        "(README: 'Segmentation: which Cellpose model') or give a model file"
    )


def choose_segmentation_method(split: pd.DataFrame, params: SegmentationParams) -> dict[str, Any]:
    """Which segmentation runs (``params.method``; ``auto`` decides from the annotations
    and the model source), logged and recorded for the report.

    Returns
    -------
    dict
        ``method`` (``cellpose`` or ``classical``), ``reason``, ``trains_cellpose``,
        ``model_source`` and the number of annotated training fields.
    """
    n_train = int((split["role"] == "train").sum())
    method, reason = _choice(params, n_train)
    logger.info("Segmentation method: %s (%s).", method, reason)
    return {
        "method": method,
        "reason": reason,
        "trains_cellpose": method == "cellpose" and params.train,
        "model_source": params.model_source,
        "n_annotated_training_fields": n_train,
    }


def _cellpose_input(field: str, preprocessed_images: Partitions, preprocessed_nuclei: Partitions | None) -> np.ndarray:
    """The field as Cellpose takes it: the cell plane, with the nuclear plane where there is one."""
    nuclei = np.asarray(preprocessed_nuclei[field]()) if preprocessed_nuclei and field in preprocessed_nuclei else None
    return segmentation.with_nuclei(np.asarray(preprocessed_images[field]()), nuclei)[0]


def _pairs(
    preprocessed_images: Partitions, rotated_masks: Partitions, fields: list[str], preprocessed_nuclei: Partitions | None = None
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    images, masks = [], []
    for field in fields:
        image = _cellpose_input(field, preprocessed_images, preprocessed_nuclei)
        mask = np.asarray(rotated_masks[field]())
        if image.shape[:2] != mask.shape:
            raise ProjectValueError(
                f"Training pair '{field}': image shape {image.shape[:2]} differs from mask "
                f"shape {mask.shape}."
            )
        images.append(image)
        masks.append(mask)
    return images, masks


def train_cellpose(
    preprocessed_images: Partitions,
    rotated_masks: Partitions,
    split: pd.DataFrame,
    segmentation_method: dict[str, Any],
    params: SegmentationParams,
    preprocessed_nuclei: Partitions | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The CPnet weights to segment with: trained or fine-tuned on the annotated
    training fields, or the model source as is when ``train`` is false;
    ``CLASSICAL_SEGMENTER`` when the classical segmentation was chosen.

    Returns
    -------
    state_dict : dict
        CPnet weights (Cellpose's file format once saved).
    history : dict
        Per-epoch train loss and the validation losses Cellpose computed, for MLflow.
    """
    if segmentation_method["method"] == "classical":
        return dict(CLASSICAL_SEGMENTER), {}
    source = segmentation.resolve_model_source(params.model_source)
    model = segmentation.build_model(source, seed=params.training.seed)
    if not params.train:
        return _used_as_is(source, model), {}
    train_fields = split.loc[split["role"] == "train", "field"].tolist()
    if not train_fields:
        raise ProjectValueError(
            "No annotated field to train Cellpose on (segmentation.method is cellpose). Put instance "
            "masks in the masks folder as <condition>/<field>.tif (or Cellpose GUI <field>_seg.npy / "
            "<field>_masks.tif), set segmentation.method: auto to use the classical segmentation, or "
            "set segmentation.train: false with a model_source."
        )
    validation_fields = split.loc[split["role"] == "validation", "field"].tolist()
    train_images, train_masks = _pairs(preprocessed_images, rotated_masks, train_fields, preprocessed_nuclei)
    validation_images, validation_masks = _pairs(preprocessed_images, rotated_masks, validation_fields, preprocessed_nuclei)
    logger.info(
        "Training Cellpose (%s start) on %d fields, validating on %d, %d updates of %d crops.",
        source.kind, len(train_fields), len(validation_fields), params.training.updates, params.training.batch_size,
    )
    channels = (1, 2) if train_images[0].ndim == 3 else (0, 0)
    state, train_losses, validation_losses = segmentation.train(
        model, train_images, train_masks, validation_images, validation_masks, params.training,
        channels=channels, percentiles=params.normalize_percentiles,
    )
    check_not_collapsed(model, train_images, train_masks, params)
    return state, _loss_history(train_losses, validation_losses)


def check_not_collapsed(model: Any, images: list[np.ndarray], masks: list[np.ndarray], params: SegmentationParams) -> None:
    """Stop the run when the trained model finds far fewer cells in its own training
    fields than were annotated there (a collapsed training ends without complaint)."""
    n_fields = min(len(images), params.training.collapse_check_fields)
    channels = (1, 2) if images[0].ndim == 3 else (0, 0)
    found = sum(
        segmentation.n_objects(segmentation.segment(model, image, **_eval_options(params), channels=channels))
        for image in images[:n_fields]
    )
    annotated = sum(segmentation.n_objects(mask) for mask in masks[:n_fields])
    logger.info(
        "Trained Cellpose (diameter %.1f px) finds %d of the %d annotated cells in %d of its training fields.",
        float(model.net.diam_labels.item()), found, annotated, n_fields,
    )
    if found < params.training.collapse_ratio * annotated:
        raise ProjectValueError(
            f"The trained Cellpose model collapsed: in {n_fields} of its own training fields it finds {found} "
            f"cells where {annotated} are annotated (below segmentation.training.collapse_ratio = "
            f"{params.training.collapse_ratio}). Raise segmentation.training.updates (now "
            f"{params.training.updates}), annotate more cells, or use segmentation.method: classical."
        )


def _used_as_is(source: Any, model: Any) -> dict[str, Any]:
    """The weights of a model used without training: a model file's own (not
    re-serialised from the network, so an unchanged file keeps its bytes)."""
    if source.kind == "none":
        raise ProjectValueError(
            "segmentation.train is false and model_source is none: an untrained CPnet "
            "finds no cell. Set train: true, or give a built-in name or a model file."
        )
    return segmentation.read_state_dict(source.value) if source.kind == "path" else model.net.state_dict()


def _loss_history(train_losses: np.ndarray, validation_losses: np.ndarray) -> dict[str, Any]:
    """MLflow histories of the per-epoch losses."""
    history = {"train_loss": [{"step": i, "value": float(v)} for i, v in enumerate(train_losses)]}
    # Cellpose evaluates the validation loss on a few epochs only; the rest are 0.
    evaluated = [{"step": i, "value": float(v)} for i, v in enumerate(validation_losses) if v > 0]
    if evaluated:
        history["validation_loss"] = evaluated
    return history


def _diameter_px(params: SegmentationParams, trained_here: bool, pixel_size_um: float) -> float | None:
    """Cellpose's diameter (px): the parameter; else, for a model not trained here, the
    cell size in µm at this field's pixel size; else None (the training masks' mean)."""
    if params.inference.diameter is not None:
        return params.inference.diameter
    if params.cell_diameter_um is not None and not trained_here:
        return params.cell_diameter_um / pixel_size_um
    return None


def _segment_one(
    image: np.ndarray, segmenter: dict[str, Any], model_key: str, diameter: float | None, params: SegmentationParams
) -> np.ndarray:
    if segmenter.get("method") == "classical":
        return segmentation.segment_classical(image[..., 0] if image.ndim == 3 else image, **params.classical.model_dump())
    model = segmentation.cached_model(model_key, segmenter)
    channels = (1, 2) if image.ndim == 3 else (0, 0)
    return segmentation.segment(model, image, **{**_eval_options(params), "diameter": diameter}, channels=channels)


def _eval_options(params: SegmentationParams) -> dict[str, Any]:
    """``segmentation.segment``'s options: the inference block and the normalisation
    the model was trained with."""
    return {**params.inference.model_dump(), "percentiles": params.normalize_percentiles}


def segment_fields(
    preprocessed_images: Partitions,
    cellpose_model: dict[str, Any],
    segmentation_method: dict[str, Any],
    field_table: pd.DataFrame,
    params: SegmentationParams,
    compute: ComputeParams,
    preprocessed_nuclei: Partitions | None = None,
) -> dict[str, Any]:
    """Lazy partitions of label masks predicted by Cellpose (or the classical
    segmentation, as ``segmentation_method`` says), post-filtered; Cellpose gets the
    nuclear channel too where ``preprocessed_nuclei`` has one.

    Each field is segmented while it is saved, in parallel as ``compute`` says, so
    only a few fields are in memory at a time; each worker process builds the model
    once. A field with no cell gives an empty mask and a warning.
    """
    model_key = uuid.uuid4().hex  # this node call's model, in every worker's cache
    pixel_sizes = field_table.set_index("field")["pixel_size_um"]
    trained_here = bool(segmentation_method.get("trains_cellpose"))

    def segment(field: str) -> np.ndarray:
        diameter = _diameter_px(params, trained_here, float(pixel_sizes[field]))
        image = _cellpose_input(field, preprocessed_images, preprocessed_nuclei)
        predicted = _segment_one(image, cellpose_model, model_key, diameter, params)
        labels = segmentation.filter_labels(predicted, **params.post_filters.model_dump())
        if labels.max() == 0:
            logger.warning("No cell found in field '%s': its mask is empty.", field)
        return labels

    fields = require_partitions(preprocessed_images, NO_PREPROCESSED_MESSAGE)
    return lazy_partitions({field: partial(segment, field) for field in fields}, compute, "Segmenting fields")


def evaluate_segmentation(
    preprocessed_images: Partitions,
    predicted_masks: Partitions,
    rotated_masks: Partitions,
    split: pd.DataFrame,
    segmentation_method: dict[str, Any],
    params: SegmentationParams,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Average precision at the IoU thresholds and the aggregated Jaccard index on the
    held-out fields, for Cellpose and for the classical baseline on the same fields.

    Returns an empty table (and no metric) when no annotated field was held out.
    """
    fields = split.loc[split["role"] == "validation", "field"].tolist()
    if not fields:
        logger.warning("No held-out annotated field: segmentation quality is not measured.")
        # The columns still, so that the CSV reads back as an empty table.
        columns = ["method", "field", *(f"ap_{t:g}" for t in params.quality_thresholds), "aggregated_jaccard", "n_true", "n_predicted"]
        return pd.DataFrame(columns=columns), {}
    truth = [np.asarray(rotated_masks[field]()) for field in fields]
    classical = [
        segmentation.filter_labels(
            segmentation.segment_classical(preprocessed_images[field](), **params.classical.model_dump()),
            **params.post_filters.model_dump(),
        )
        for field in fields
    ]
    # The chosen method's masks, and the classical baseline beside Cellpose.
    predicted = {"classical": classical}
    if segmentation_method["method"] != "classical":
        predicted = {segmentation_method["method"]: [np.asarray(predicted_masks[field]()) for field in fields], **predicted}
    rows = [
        row for method, masks in predicted.items()
        for row in segmentation.quality_rows(method, fields, truth, masks, params.quality_thresholds)
    ]
    table = pd.DataFrame(rows)
    overall = table[table["field"] == "overall"]
    metrics = {
        f"{row['method']}.{name}": {"value": value, "step": 0}
        for row in overall.to_dict("records")
        for name, value in row.items()
        if name.startswith(("ap_", "aggregated"))
    }
    logger.info("Segmentation quality on %d held-out fields:\n%s", len(fields), overall.to_string(index=False))
    return table, metrics


def plot_segmentation(
    preprocessed_images: Partitions,
    predicted_masks: Partitions,
    rotated_masks: Partitions,
    split: pd.DataFrame,
    params: SegmentationParams,
) -> Any:
    """Predicted outlines (left) and, where annotated, true outlines (right) over the
    preprocessed field; held-out fields first."""
    plt = reporting.pyplot()
    ordered = pd.concat([split[split["role"] == "validation"], split[split["role"] != "validation"]])
    fields = ordered["field"].tolist()[: params.n_figure_fields]
    figure, axes = plt.subplots(len(fields), 2, figsize=(8, 4 * len(fields)), squeeze=False)
    for (predicted_axis, true_axis), field in zip(axes, fields, strict=True):
        image = np.asarray(preprocessed_images[field]())
        for axis, masks, title in (
            (predicted_axis, predicted_masks[field](), "predicted"),
            (true_axis, rotated_masks[field]() if field in rotated_masks else None, "annotated"),
        ):
            if masks is not None:
                axis.imshow(reporting.outline_overlay(image, np.asarray(masks)))
                axis.set_title(f"{field}: {title}, {len(np.unique(masks)) - 1} cells", fontsize=9)
            else:
                axis.imshow(np.dstack([image] * 3))
                axis.set_title(f"{field}: no annotation", fontsize=9)
            axis.set_axis_off()
    figure.tight_layout()
    return figure


def count_cells_per_field(predicted_masks: Partitions, segmentation_method: dict[str, Any]) -> pd.DataFrame:
    """Cells found in every field, with the method that found them; the fields where
    none was found are named in a warning (a QC table to read before the clusters).

    Returns
    -------
    pandas.DataFrame
        One row per field: ``field``, ``n_cells``, ``method``.
    """
    counts = pd.DataFrame(
        [(field, segmentation.n_objects(np.asarray(predicted_masks[field]()))) for field in sorted(predicted_masks)],
        columns=["field", "n_cells"],
    )
    counts["method"] = segmentation_method.get("method", "unknown")
    empty = counts.loc[counts["n_cells"] == 0, "field"].tolist()
    if empty:
        logger.warning("%d of %d fields have no cell found: %s", len(empty), len(counts), ", ".join(empty))
    return counts


def map_masks_to_raw_frame(
    predicted_masks: Partitions, field_table: pd.DataFrame, preprocessing: PreprocessingParams, compute: ComputeParams
) -> dict[str, Any]:
    """Lazy partitions of the predicted masks in the raw fields' frame (rotation, and a
    crop to the valid area, undone), to lay over the raw images or correct them.

    Returns
    -------
    dict of field → (rows, cols) labels, the raw field's shape
    """
    fields = field_table.set_index("field")

    def to_raw(field: str) -> np.ndarray:
        row = fields.loc[field]
        return steps.labels_to_raw_frame(
            np.asarray(predicted_masks[field]()), float(row["rotation_deg"]), (int(row["rows"]), int(row["cols"])),
            crop_to_valid=preprocessing.rotation.enabled and preprocessing.rotation.crop_to_valid,
        )

    return lazy_partitions(
        {field: partial(to_raw, field) for field in require_partitions(predicted_masks)}, compute, "Masks to the raw frame"
    )


def write_cellpose_gui_files(raw_frame_masks: Partitions, field_table: pd.DataFrame) -> dict[str, Any]:
    """Lazy partitions of Cellpose GUI annotations (``<field>_seg.npy``): the raw-frame
    masks and the raw file's path (from the field table: the raw image is not read
    again), so that the GUI opens each field with its masks, ready to correct and to
    train on."""
    paths = field_table.set_index("field")["path"]

    def gui_file(field: str) -> dict[str, Any]:
        return {"masks": np.asarray(raw_frame_masks[field]()), "filename": str(paths[field])}

    return {field: partial(gui_file, field) for field in sorted(raw_frame_masks)}
