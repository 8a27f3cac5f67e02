"""Nodes of the ``preprocessing`` pipeline.

The per-image steps live in :mod:`cell_clustering.preprocessing`; these nodes apply
them to every field of a partitioned dataset, one field at a time, and return lazy
partitions (callables) so that no more than one field is in memory while saving.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import microscopy, reporting
from cell_clustering import plate_map as plates
from cell_clustering import preprocessing as steps
from cell_clustering.fields import (
    FieldError,
    Partitions,
    checked_plane,
    condition_of,
    require_partitions,
)
from cell_clustering.parallel import lazy_partitions, ordered_map
from cell_clustering.parameters import ComputeParams, PreprocessingParams
from cell_clustering.parameters.preprocessing import DensityBin

logger = logging.getLogger(__name__)

FIELD_TABLE_COLUMNS = [
    "field", "condition", "status", "file", "path", "axes", "channel", "channel_names", "rows", "cols",
    "pixel_size_um", "pixel_size_from", "angle_deg", "angle_confidence",
    "n_edge_pixels", "low_confidence", "rotation_deg", "foreground_fraction", "density_bin",
    "clahe_clip_limit", "clahe_kernel_size", "tv_weight",
]


def _density_bin(fraction: float, bins: list[DensityBin]) -> DensityBin:
    return next((density_bin for density_bin in bins if fraction <= density_bin.max_foreground), bins[-1])


def _plane(
    image: np.ndarray | microscopy.RawField, field: str, params: PreprocessingParams, role: str = "cell_channel"
) -> np.ndarray:
    """The checked 2-D float32 plane of the cell (or nuclear) channel of a raw field."""
    layout = params.layout
    raw = microscopy.as_raw_field(image, field)
    plane = microscopy.select_plane(
        raw, channel=getattr(layout, role), axes=layout.axes, z_projection=layout.z_projection, role=role
    )
    return checked_plane(plane, field)


def _pixel_size(raw: microscopy.RawField, params: PreprocessingParams) -> tuple[float, str]:
    """The field's pixel size (µm) and where it came from: its file or the parameter."""
    if params.pixel_size_from == "file" and raw.pixel_size_um is not None:
        return raw.pixel_size_um, "file"
    return params.pixel_size_um, "parameter"


def _describe_file(field: str, raw: microscopy.RawField, params: PreprocessingParams) -> dict[str, Any]:
    pixel_size, source = _pixel_size(raw, params)
    return {
        "file": raw.source or field,
        "path": raw.path or raw.source or field,
        "axes": raw.axes,
        "channel": str(params.layout.cell_channel),
        "channel_names": "|".join(raw.channel_names),
        "pixel_size_um": round(pixel_size, 6),
        "pixel_size_from": source,
    }


def _measure_field(field: str, load: Any, params: PreprocessingParams) -> dict[str, Any]:
    """One row of the field table (``status`` says why a field is skipped).

    A layout that contradicts the file (:class:`~cell_clustering.microscopy.LayoutError`)
    is recorded as ``layout error: ...``: :func:`measure_fields` stops on it.
    """
    record: dict[str, Any] = dict.fromkeys(FIELD_TABLE_COLUMNS)
    record.update(field=field, condition=condition_of(field))
    try:
        raw = microscopy.as_raw_field(load(), field)
        record.update(_describe_file(field, raw, params))
        image = _plane(raw, field, params)
        if params.layout.nuclear_channel is not None:
            _plane(raw, field, params, role="nuclear_channel")
    except microscopy.LayoutError as error:
        record["status"] = f"layout error: {error}"
        return record
    except Exception as error:  # one bad file must not stop the others
        record["status"] = f"skipped: {error}"
        return record
    groove = steps.detect_groove_angle(image, **params.angle.model_dump(exclude={"min_confidence"}))
    fraction = steps.foreground_fraction(image)
    density_bin = _density_bin(fraction, params.density_bins)
    record.update(
        status="ok",
        rows=image.shape[0],
        cols=image.shape[1],
        angle_deg=round(groove.angle_deg, 4),
        angle_confidence=round(groove.confidence, 4),
        n_edge_pixels=groove.n_edge_pixels,
        low_confidence=groove.confidence < params.angle.min_confidence,
        # A groove angle found without confidence is not applied: a wrong rotation would
        # turn every cell by it.
        rotation_deg=round(groove.angle_deg, 4) if groove.confidence >= params.angle.min_confidence else 0.0,
        foreground_fraction=round(fraction, 5),
        density_bin=density_bin.name,
        clahe_clip_limit=density_bin.clahe_clip_limit,
        clahe_kernel_size=density_bin.clahe_kernel_size,
        tv_weight=density_bin.tv_weight,
    )
    return record


def measure_fields(raw_images: Partitions, params: PreprocessingParams, compute: ComputeParams) -> pd.DataFrame:
    """Groove angle, confidence, density and the parameters chosen for every field.

    A field that cannot be read or is not a usable 2-D image gets ``status`` set to
    ``"skipped: <reason>"`` and a warning naming it; the other fields go on. If no field
    is usable the run stops with the reasons. Fields are measured in parallel as
    ``compute`` says (see :mod:`cell_clustering.parallel`).

    Returns
    -------
    pandas.DataFrame
        One row per field, columns ``FIELD_TABLE_COLUMNS``.
    """
    tasks = {field: partial(_measure_field, field, raw_images[field], params) for field in require_partitions(raw_images)}
    rows = []
    for field, record in ordered_map(tasks, compute, "Measuring fields"):
        # Warn here, in the Kedro process, whichever backend measured the field.
        if record["status"].startswith("skipped"):
            logger.warning("Skipping field '%s': %s", field, record["status"].removeprefix("skipped: "))
        elif record["low_confidence"]:
            logger.warning(
                "No groove angle found with confidence in field '%s' (confidence %.2f < "
                "preprocessing.angle.min_confidence %.2f): the field is not rotated.",
                field, record["angle_confidence"], params.angle.min_confidence,
            )
        rows.append(record)
    table = pd.DataFrame(rows, columns=FIELD_TABLE_COLUMNS)
    layout_errors = table[table["status"].str.startswith("layout error")]
    if len(layout_errors):
        raise microscopy.LayoutError(
            f"{len(layout_errors)} file(s) do not match the layout in preprocessing.layout:\n"
            + "\n".join(f"  {r.field}: {r.status.removeprefix('layout error: ')}" for r in layout_errors.itertuples())
        )
    if not (table["status"] == "ok").any():
        raise FieldError(
            "No usable field among the raw images:\n"
            + "\n".join(f"  {r.field}: {r.status}" for r in table.itertuples())
        )
    return table


def annotate_fields(measured_fields: pd.DataFrame, plate_map: pd.DataFrame) -> pd.DataFrame:
    """Conditions and ``Metadata_*`` columns from the plate map, where there is one
    (see :func:`cell_clustering.plate_map.apply_plate_map`); the folder names otherwise."""
    table = plates.apply_plate_map(measured_fields, plate_map)
    usable = table[table["status"] == "ok"]
    logger.info(
        "%d field(s) read, %d skipped; fields per condition: %s",
        len(usable), len(table) - len(usable), usable["condition"].value_counts().sort_index().to_dict(),
    )
    return table


def preprocess_image(
    image: np.ndarray, field: pd.Series, params: PreprocessingParams, *, role: str = "cell_channel"
) -> np.ndarray:
    """Apply the enabled steps to one field (its ``role`` channel: ``cell_channel`` or
    ``nuclear_channel``) with the choices recorded for it.

    Parameters
    ----------
    image : (rows, cols) ndarray, any real dtype
    field : pandas.Series
        The field's row of the field table (angle, density bin parameters).
    params : PreprocessingParams

    Returns
    -------
    (rows', cols') float32 ndarray in [0, 1]
    """
    image = _plane(image, field["field"], params, role=role)
    if params.rotation.enabled:
        image = steps.rotate_image(
            image, field["rotation_deg"], border_mode=params.rotation.border_mode, crop_to_valid=params.rotation.crop_to_valid
        )
    if params.clahe.enabled:
        image = steps.apply_clahe(
            image,
            clip_limit=field["clahe_clip_limit"],
            kernel_size=int(field["clahe_kernel_size"]),
            saturation_percentile=params.clahe.saturation_percentile,
        )
    if params.normalise.enabled:
        image = steps.normalise(image)
    if params.clip.enabled:
        image = steps.clip_percentiles(image, low=params.clip.low_percentile, high=params.clip.high_percentile)
    if params.denoise.enabled:
        image = steps.denoise_tv(image, weight=field["tv_weight"])
    return steps.normalise(image) if image.min() < 0 or image.max() > 1 else image


def _usable(field_table: pd.DataFrame) -> pd.DataFrame:
    return field_table[field_table["status"] == "ok"].set_index("field", drop=False)


def preprocess_fields(
    raw_images: Partitions, field_table: pd.DataFrame, params: PreprocessingParams, compute: ComputeParams
) -> dict[str, Any]:
    """Lazy partitions of preprocessed float32 fields, one per usable field, computed
    in parallel as ``compute`` says while they are saved."""

    return _preprocessed(raw_images, field_table, params, compute, "cell_channel")


def _preprocessed(
    raw_images: Partitions, field_table: pd.DataFrame, params: PreprocessingParams, compute: ComputeParams, role: str
) -> dict[str, Any]:
    """Lazy partitions of one channel (``role``) of every usable field, preprocessed."""

    def preprocess(field: str, row: pd.Series) -> np.ndarray:
        return preprocess_image(raw_images[field](), row, params, role=role)

    description = "Preprocessing fields" if role == "cell_channel" else "Preprocessing nuclei"
    return lazy_partitions(
        {field: partial(preprocess, field, row) for field, row in _usable(field_table).iterrows()}, compute, description
    )


def preprocess_nuclei(
    raw_images: Partitions, field_table: pd.DataFrame, params: PreprocessingParams, compute: ComputeParams
) -> dict[str, Any]:
    """Lazy partitions of the preprocessed nuclear channel (``layout.nuclear_channel``),
    aligned pixel for pixel with the preprocessed fields; empty without one."""
    if params.layout.nuclear_channel is None:
        return {}
    return _preprocessed(raw_images, field_table, params, compute, "nuclear_channel")


def _annotation_loaders(raw_masks: Partitions, raw_annotations_seg: Partitions) -> dict[str, Any]:
    """One loader per field from mask TIFFs and Cellpose GUI files.

    The GUI names its files ``<image>_masks.png`` / ``.tif`` and ``<image>_seg.npy``,
    ``cellpose.io.save_masks`` ``<image>_cp_masks.png``; all map to the image's field
    key. A label image wins over a ``_seg.npy`` of the same field.
    """
    loaders = {key: load for key, load in raw_annotations_seg.items()}
    loaders.update({key.removesuffix("_cp_masks").removesuffix("_masks"): load for key, load in raw_masks.items()})
    return loaders


def rotate_masks(
    raw_masks: Partitions,
    raw_annotations_seg: Partitions,
    field_table: pd.DataFrame,
    params: PreprocessingParams,
    compute: ComputeParams,
) -> dict[str, Any]:
    """Lazy partitions of ground-truth masks rotated exactly like their fields.

    Fields without a mask are left out; an empty result is normal for user data.
    """
    usable = _usable(field_table)
    raw_masks = _annotation_loaders(raw_masks, raw_annotations_seg)

    def rotate(field: str, angle: float) -> np.ndarray:
        labels = np.asarray(raw_masks[field]())
        if labels.shape[:2] != (usable.at[field, "rows"], usable.at[field, "cols"]):
            raise FieldError(
                f"Mask of field '{field}' has shape {labels.shape}, its image "
                f"({usable.at[field, 'rows']}, {usable.at[field, 'cols']})."
            )
        if not params.rotation.enabled:
            return labels
        return steps.rotate_labels(labels, angle, crop_to_valid=params.rotation.crop_to_valid)

    return lazy_partitions(
        {field: partial(rotate, field, usable.at[field, "rotation_deg"]) for field in sorted(set(raw_masks) & set(usable.index))},
        compute,
        "Rotating annotations",
    )


def compare_angles(field_table: pd.DataFrame, ground_truth: pd.DataFrame) -> pd.DataFrame:
    """Add ``true_angle_deg`` and ``angle_error_deg`` where a ground truth exists."""
    table = field_table.copy()
    if ground_truth.empty or "angle_deg" not in ground_truth:
        table["true_angle_deg"] = np.nan
        table["angle_error_deg"] = np.nan
        return table
    truth = ground_truth.set_index("field")["angle_deg"]
    table["true_angle_deg"] = table["field"].map(truth)
    # Orientations are defined modulo 180°.
    difference = (table["angle_deg"] - table["true_angle_deg"] + 90.0) % 180.0 - 90.0
    table["angle_error_deg"] = difference.abs().round(4)
    return table


def summarise_preprocessing(field_table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """MLflow metrics: angle error (where known), fields used and skipped."""
    usable = field_table["status"] == "ok"
    metrics = {
        "n_fields": float(usable.sum()),
        "n_skipped": float((~usable).sum()),
        "mean_angle_confidence": float(field_table.loc[usable, "angle_confidence"].mean()),
    }
    errors = field_table["angle_error_deg"].dropna()
    if len(errors):
        metrics["median_angle_error_deg"] = float(errors.median())
        metrics["max_angle_error_deg"] = float(errors.max())
    return {name: {"value": value, "step": 0} for name, value in metrics.items()}


def plot_before_after(
    raw_images: Partitions, preprocessed_images: Partitions, field_table: pd.DataFrame, params: PreprocessingParams
) -> Any:
    """A figure of raw (left) and preprocessed (right) fields, one row per sample field.

    Samples are the first usable field of each condition, up to ``n_figure_fields``.
    Raw fields are shown between their 1st and 99.9th percentiles so that hot pixels
    do not hide everything else.
    """
    plt = reporting.pyplot()
    usable = _usable(field_table)
    samples = usable.groupby("condition", sort=False).head(1)["field"].tolist()[: params.n_figure_fields]
    figure, axes = plt.subplots(len(samples), 2, figsize=(8, 4 * len(samples)), squeeze=False)
    for (raw_axis, processed_axis), field in zip(axes, samples, strict=True):
        raw = _plane(raw_images[field](), field, params)
        low, high = np.percentile(raw, [1, 99.9])
        raw_axis.imshow(raw, cmap="gray", vmin=low, vmax=high)
        row = usable.loc[field]
        raw_axis.set_title(f"{field}: raw, grooves at {row['angle_deg']:.2f}°", fontsize=9)
        processed_axis.imshow(preprocessed_images[field](), cmap="gray", vmin=0, vmax=1)
        processed_axis.set_title(f"preprocessed ({row['density_bin']})", fontsize=9)
        for axis in (raw_axis, processed_axis):
            axis.set_axis_off()
    figure.tight_layout()
    return figure
