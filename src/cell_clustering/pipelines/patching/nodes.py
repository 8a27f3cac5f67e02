"""Nodes of the ``patching`` pipeline: one patch per kept cell, the morphology table,
the cell-size study and the comparison with ground truth."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import patching, reporting
from cell_clustering import plate_map as plates
from cell_clustering import preprocessing as steps
from cell_clustering.errors import ProjectValueError
from cell_clustering.fields import Partitions, require_partitions
from cell_clustering.parallel import ordered_map
from cell_clustering.parameters import ComputeParams, PatchingParams

logger = logging.getLogger(__name__)

NO_MASKS_MESSAGE = (
    "No predicted mask to cut patches from. Run the segmentation pipeline first "
    "(`kedro run --pipelines=segmentation`)."
)
TRUTH_COLUMNS = ["field", "cell_label", "true_cell_label", "iou", "shape_class"]


def _raw_frame(field_row: dict[str, Any], shape: tuple[int, int]) -> tuple[tuple[int, int], float]:
    """The raw field's shape and the rotation that turned it into the field of ``shape``."""
    raw_shape = (int(field_row.get("rows", shape[0])), int(field_row.get("cols", shape[1])))
    return raw_shape, float(field_row.get("rotation_deg", 0.0))


def _covered_area(field_row: dict[str, Any], shape: tuple[int, int]) -> np.ndarray | None:
    """The pixels of a rotated field that were imaged (None: all of them, as in an
    unrotated field or one cropped to its valid area)."""
    raw_shape, angle = _raw_frame(field_row, shape)
    if angle == 0 or raw_shape != tuple(shape):
        return None
    return steps.covered_area(raw_shape, angle)


def _patch_field(
    field: str, load_image: Any, load_labels: Any, params: PatchingParams, field_row: dict[str, Any]
) -> tuple[pd.DataFrame | None, list[np.ndarray]]:
    """The morphology table (None for an empty mask) and the kept patches of one field.

    ``field_row`` holds the field's ``condition``, ``pixel_size_um`` and plate-map
    ``Metadata_*`` values, which every cell of the field carries, and its raw shape
    and rotation, which give each centroid in the raw field (``raw_centroid_*``) and
    the filled corners of the rotated field (a cell next to one was cut by the field's
    edge: ``touches_border``).
    """
    labels = np.asarray(load_labels())
    image = np.asarray(load_image(), dtype=np.float32)
    if image.shape != labels.shape:
        raise ValueError(f"Field '{field}': image shape {image.shape} differs from mask shape {labels.shape}.")
    table, patches = patching.patch_field(
        image, labels, params, float(field_row["pixel_size_um"]), covered=_covered_area(field_row, image.shape)
    )
    if table is not None:
        table.insert(0, "condition", field_row.get("condition", "unknown"))
        table.insert(0, "field", field)
        raw_shape, angle = _raw_frame(field_row, image.shape)
        table["raw_centroid_row"], table["raw_centroid_col"] = steps.rotated_to_raw_coordinates(
            table["centroid_row"], table["centroid_col"], angle, raw_shape, image.shape
        )
        for column, value in field_row.items():
            if column.startswith(plates.METADATA_PREFIX):
                table[column] = value
    return table, patches


def _field_rows(field_table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    columns = ["condition", "pixel_size_um", "rotation_deg", "rows", "cols", *plates.metadata_columns(field_table)]
    return field_table.set_index("field")[[c for c in columns if c in field_table]].to_dict("index")


def _no_patch_error(cell_table: pd.DataFrame) -> ProjectValueError:
    if cell_table.empty:
        return ProjectValueError(
            "No cell in any predicted mask: every field's mask is empty. Check that the images show cells "
            "(a trained run applied to new fields finds none in fields of another kind), the segmentation "
            "figure of a training run (data/08_reporting/segmentation_outlines.png) and segmentation.method / model_source."
        )
    counts = cell_table["filtered_by"].value_counts().to_dict()
    return ProjectValueError(
        f"All {len(cell_table)} cells were removed by the patching filters {counts}; "
        "relax patching.filters in parameters_patching.yml."
    )


def extract_patches(
    preprocessed_images: Partitions,
    predicted_masks: Partitions,
    field_table: pd.DataFrame,
    params: PatchingParams,
    compute: ComputeParams,
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Cut one background-free patch per kept cell, field by field (in parallel as
    ``compute`` says; the order of fields and cells does not depend on it).

    Returns
    -------
    patches : (N, C, S, S) float32 ndarray, one channel per ``params.channels``
    patch_metadata : pandas.DataFrame
        N rows, in patch order: field, condition, cell label, morphology.
    cell_table : pandas.DataFrame
        Every segmented cell with ``filtered_by``: the filter that removed it, or
        ``"kept"``.
    """
    rows = _field_rows(field_table)
    tasks = {
        field: partial(_patch_field, field, preprocessed_images[field], predicted_masks[field], params, rows[field])
        for field in require_partitions(predicted_masks, NO_MASKS_MESSAGE)
    }
    patches: list[np.ndarray] = []
    tables: list[pd.DataFrame] = []
    empty_fields: list[str] = []
    for field, (table, field_patches) in ordered_map(tasks, compute, "Cutting patches"):
        if table is None:
            empty_fields.append(field)
            continue
        tables.append(table)
        patches.extend(field_patches)
    if empty_fields:
        logger.warning("%d field(s) with an empty mask gave no patch: %s", len(empty_fields), ", ".join(empty_fields))
    cell_table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if not patches:
        raise _no_patch_error(cell_table)
    metadata = cell_table[cell_table["filtered_by"] == patching.KEPT].drop(columns="filtered_by").reset_index(drop=True)
    n_cropped = int(metadata["cropped_by_window"].sum())
    if params.method == "crop_pad" and n_cropped:
        logger.warning("%d of %d cells exceed the %d-pixel window and were cropped.", n_cropped, len(metadata), params.patch_size)
    logger.info("Cut %d patches of %d×%d from %d cells.", len(patches), params.patch_size, params.patch_size, len(cell_table))
    return np.stack(patches).astype(np.float32), metadata, cell_table


def _bbox_sizes(table: pd.DataFrame) -> pd.DataFrame:
    sizes = pd.DataFrame(
        {
            "condition": table["condition"],
            "bbox_rows": table["bbox_max_row"] - table["bbox_min_row"],
            "bbox_cols": table["bbox_max_col"] - table["bbox_min_col"],
            "area": table["area"],
        }
    )
    sizes["bbox_longest"] = sizes[["bbox_rows", "bbox_cols"]].max(axis=1)
    return sizes


def _size_suggestion(sizes: pd.DataFrame, params: PatchingParams) -> dict[str, Any]:
    percentile = params.size_study.percentile
    multiple = params.size_study.size_multiple
    longest = float(np.percentile(sizes["bbox_longest"], percentile))
    per_condition = sizes.groupby("condition")[["bbox_longest", "area"]].describe(percentiles=[0.5, 0.95])
    return {
        "percentile": percentile,
        "longest_side_at_percentile_px": round(longest, 2),
        "suggested_patch_size": int(np.ceil(longest / multiple) * multiple),
        "configured_patch_size": params.patch_size,
        "share_fitting_configured_size": round(float((sizes["bbox_longest"] <= params.patch_size).mean()), 4),
        "n_cells": len(sizes),
        "per_condition": {
            condition: {
                "n_cells": int(row[("bbox_longest", "count")]),
                "median_longest_side_px": float(row[("bbox_longest", "50%")]),
                "p95_longest_side_px": round(float(row[("bbox_longest", "95%")]), 2),
                "median_area_px": float(row[("area", "50%")]),
            }
            for condition, row in per_condition.iterrows()
        },
    }


def study_cell_sizes(cell_table: pd.DataFrame, params: PatchingParams) -> tuple[dict[str, Any], Any]:
    """Bounding-box sizes and areas of the kept cells, per condition, and the patch
    size that fits a chosen percentile of them at native scale (for ``crop_pad``).

    Returns
    -------
    suggestion : dict
        ``suggested_patch_size`` (the percentile of the longest bounding-box side,
        rounded up to a multiple of ``size_multiple``), the percentile used, and the
        share of cells that fit the configured ``patch_size`` uncropped.
    figure : matplotlib.figure.Figure
        Histograms of the longest side and of the area per condition.
    """
    sizes = _bbox_sizes(cell_table[cell_table["filtered_by"] == patching.KEPT])
    suggestion = _size_suggestion(sizes, params)
    figure, (side_axis, area_axis) = reporting.pyplot().subplots(1, 2, figsize=(11, 4))
    for condition, group in sizes.groupby("condition"):
        side_axis.hist(group["bbox_longest"], bins=20, histtype="step", label=condition)
        area_axis.hist(group["area"], bins=20, histtype="step", label=condition)
    suggested = suggestion["suggested_patch_size"]
    side_axis.axvline(suggested, color="black", linestyle="--", label=f"suggested {suggested} px (p{suggestion['percentile']:g})")
    side_axis.set_xlabel("longest bounding-box side (px)")
    area_axis.set_xlabel("area (px)")
    for axis in (side_axis, area_axis):
        axis.set_ylabel("cells")
        axis.legend(fontsize=7)
    figure.tight_layout()
    return suggestion, figure


def plot_patch_grid(patches: np.ndarray, patch_metadata: pd.DataFrame, params: PatchingParams) -> Any:
    """Sample patches per condition (rows), drawn with a seeded generator."""
    conditions = patch_metadata["condition"].to_numpy()
    groups = {condition: np.flatnonzero(conditions == condition) for condition in sorted(set(conditions))}
    return reporting.sample_grid(
        patches, groups, n_samples=params.grid.samples_per_condition, rng=np.random.default_rng(params.grid.seed)
    )


def count_against_truth(
    cell_table: pd.DataFrame, rotated_masks: Partitions, field_table: pd.DataFrame, params: PatchingParams
) -> pd.DataFrame:
    """Patches per condition beside the ground-truth cells that pass the same filters.

    The truth is the rotated ground-truth masks (the frame the patches are cut in),
    measured and filtered exactly like the predicted cells. Without ground truth,
    segmented cells and patches per condition only.
    """
    if not rotated_masks or cell_table.empty:
        return patching.truth_counts(cell_table, None)
    truth_rows = []
    rows = _field_rows(field_table)
    for field in sorted(set(rotated_masks) & set(rows)):
        labels = np.asarray(rotated_masks[field]())
        if labels.max() == 0:
            continue
        table = patching.filtered_truth(
            labels, params.filters, float(rows[field]["pixel_size_um"]), covered=_covered_area(rows[field], labels.shape)
        )
        table["condition"] = rows[field]["condition"]
        truth_rows.append(table[["condition", "filtered_by"]])
    truth = pd.concat(truth_rows, ignore_index=True) if truth_rows else pd.DataFrame(columns=["condition", "filtered_by"])
    counts = patching.truth_counts(cell_table, truth)
    logger.info("Patches against ground truth:\n%s", counts.set_index("condition").to_string())
    return counts


def match_cells_to_truth(
    patch_metadata: pd.DataFrame, predicted_masks: Partitions, rotated_masks: Partitions, ground_truth_cells: pd.DataFrame
) -> pd.DataFrame:
    """The planted shape class of every patch, where a ground truth exists.

    Each patch's cell is matched to the ground-truth cell it overlaps most (rotated
    truth masks keep their labels); a match needs IoU ≥ 0.5, else ``unmatched``.

    Returns
    -------
    pandas.DataFrame
        One row per patch, in patch order: field, cell_label, true_cell_label, iou,
        shape_class. Empty when there is no ground truth.
    """
    if ground_truth_cells.empty or not rotated_masks:
        return pd.DataFrame(columns=TRUTH_COLUMNS)
    classes = ground_truth_cells.set_index(["field", "cell_label"])["shape_class"]
    rows = []
    for field, group in patch_metadata.groupby("field", sort=False):
        predicted = np.asarray(predicted_masks[field]())
        truth = np.asarray(rotated_masks[field]()) if field in rotated_masks else np.zeros_like(predicted)
        for label, (match, iou) in zip(group["cell_label"], patching.match_to_truth(predicted, truth, group["cell_label"].tolist()), strict=True):
            shape_class = classes.get((field, match), "unmatched") if match else "unmatched"
            rows.append(dict(zip(TRUTH_COLUMNS, [field, int(label), match, round(iou, 4), shape_class], strict=True)))
    # Back to patch order (groupby visited fields in order of first appearance).
    return patch_metadata[["field", "cell_label"]].merge(pd.DataFrame(rows), on=["field", "cell_label"], how="left")
