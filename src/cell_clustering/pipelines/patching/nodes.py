"""Nodes of the ``patching`` pipeline."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering.fields import Partitions, condition_of, require_partitions

logger = logging.getLogger(__name__)

# Value of `filtered_by` for a cell that passed every filter (a word, not an empty
# string: CSV round trips turn "" into NaN).
KEPT = "kept"

NO_MASKS_MESSAGE = (
    "No predicted mask to cut patches from. Run the segmentation pipeline first "
    "(`kedro run --pipelines=segmentation`)."
)


def _filter_reason(row: pd.Series, filters: dict[str, Any]) -> str:
    if filters.get("drop_border", True) and row["touches_border"]:
        return "drop_border"
    if row["area"] < filters.get("min_area", 0):
        return "min_area"
    max_area = filters.get("max_area")
    if max_area is not None and row["area"] > max_area:
        return "max_area"
    return KEPT


def _patch_field(field: str, load_image: Any, load_labels: Any, params: dict[str, Any]) -> tuple[pd.DataFrame | None, list[np.ndarray]]:
    """The morphology table (None for an empty mask) and the kept patches of one field."""
    from cell_clustering.patching import crop_pad, crop_resize, morphology_table

    method, size = params["method"], int(params["patch_size"])
    labels = np.asarray(load_labels())
    image = np.asarray(load_image(), dtype=np.float32)
    if image.shape != labels.shape:
        raise ValueError(f"Field '{field}': image shape {image.shape} differs from mask shape {labels.shape}.")
    if labels.max() == 0:
        return None, []
    table = morphology_table(image, labels)
    table.insert(0, "condition", condition_of(field))
    table.insert(0, "field", field)
    table["filtered_by"] = table.apply(_filter_reason, axis=1, filters=params["filters"])
    table["cropped_by_window"] = False
    patches = []
    for index in table.index[table["filtered_by"] == KEPT]:
        label = int(table.at[index, "cell_label"])
        if method == "crop_resize":
            patch = crop_resize(image, labels, label, size, params["margin"], params["mask_dilation"])
        else:
            patch, cropped = crop_pad(image, labels, label, size, params["mask_dilation"])
            table.at[index, "cropped_by_window"] = cropped
        patches.append(patch)
    return table, patches


def extract_patches(
    preprocessed_images: Partitions, predicted_masks: Partitions, params: dict[str, Any], compute: dict[str, Any] | None = None
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Cut one background-free patch per kept cell, field by field (in parallel as
    ``compute`` says; the order of fields and cells does not depend on it).

    Returns
    -------
    patches : (N, 1, S, S) float32 ndarray
    patch_metadata : pandas.DataFrame
        N rows, in patch order: field, condition, cell label, morphology.
    cell_table : pandas.DataFrame
        Every segmented cell with ``filtered_by``: the filter that removed it, or
        ``"kept"``.
    """
    from cell_clustering.parallel import ordered_map

    method, size = params["method"], int(params["patch_size"])
    if method not in ("crop_resize", "crop_pad"):
        raise ValueError(f"patching.method must be 'crop_resize' or 'crop_pad', got '{method}'.")
    tasks = {
        field: partial(_patch_field, field, preprocessed_images[field], predicted_masks[field], params)
        for field in require_partitions(predicted_masks, NO_MASKS_MESSAGE)
    }
    patches: list[np.ndarray] = []
    tables: list[pd.DataFrame] = []
    empty_fields: list[str] = []
    for field, (table, field_patches) in ordered_map(tasks, compute):
        if table is None:
            empty_fields.append(field)
            continue
        tables.append(table)
        patches.extend(field_patches)
    if empty_fields:
        logger.warning("%d field(s) with an empty mask gave no patch: %s", len(empty_fields), ", ".join(empty_fields))
    cell_table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if not patches:
        if cell_table.empty:
            raise ValueError("No cell in any predicted mask: every field's mask is empty.")
        counts = cell_table["filtered_by"].value_counts().to_dict()
        raise ValueError(
            f"All {len(cell_table)} cells were removed by the patching filters {counts}; "
            "relax patching.filters in parameters_patching.yml."
        )
    metadata = cell_table[cell_table["filtered_by"] == KEPT].drop(columns="filtered_by").reset_index(drop=True)
    n_cropped = int(metadata["cropped_by_window"].sum())
    if method == "crop_pad" and n_cropped:
        logger.warning("%d of %d cells exceed the %d-pixel window and were cropped.", n_cropped, len(metadata), size)
    logger.info("Cut %d patches of %d×%d from %d cells.", len(patches), size, size, len(cell_table))
    return np.stack(patches)[:, None].astype(np.float32), metadata, cell_table


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


def study_cell_sizes(cell_table: pd.DataFrame, params: dict[str, Any]) -> tuple[dict[str, Any], Any]:
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
    from cell_clustering.plotting import pyplot

    plt = pyplot()

    study = params["size_study"]
    sizes = _bbox_sizes(cell_table[cell_table["filtered_by"] == KEPT])
    percentile = float(study["percentile"])
    multiple = int(study["size_multiple"])
    longest = float(np.percentile(sizes["bbox_longest"], percentile))
    suggested = int(np.ceil(longest / multiple) * multiple)
    per_condition = sizes.groupby("condition")[["bbox_longest", "area"]].describe(percentiles=[0.5, 0.95])
    suggestion = {
        "percentile": percentile,
        "longest_side_at_percentile_px": round(longest, 2),
        "suggested_patch_size": suggested,
        "configured_patch_size": int(params["patch_size"]),
        "share_fitting_configured_size": round(float((sizes["bbox_longest"] <= params["patch_size"]).mean()), 4),
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
    figure, (side_axis, area_axis) = plt.subplots(1, 2, figsize=(11, 4))
    for condition, group in sizes.groupby("condition"):
        side_axis.hist(group["bbox_longest"], bins=20, histtype="step", label=condition)
        area_axis.hist(group["area"], bins=20, histtype="step", label=condition)
    side_axis.axvline(suggested, color="black", linestyle="--", label=f"suggested {suggested} px (p{percentile:g})")
    side_axis.set_xlabel("longest bounding-box side (px)")
    area_axis.set_xlabel("area (px)")
    for axis in (side_axis, area_axis):
        axis.set_ylabel("cells")
        axis.legend(fontsize=7)
    figure.tight_layout()
    return suggestion, figure


def plot_patch_grid(patches: np.ndarray, patch_metadata: pd.DataFrame, params: dict[str, Any]) -> Any:
    """Sample patches per condition (rows), drawn with a seeded generator."""
    from cell_clustering.plotting import pyplot

    plt = pyplot()

    n_samples = int(params["grid"]["samples_per_condition"])
    rng = np.random.default_rng(params["grid"]["seed"])
    conditions = sorted(patch_metadata["condition"].unique())
    figure, axes = plt.subplots(len(conditions), n_samples, figsize=(1.3 * n_samples, 1.4 * len(conditions)), squeeze=False)
    for row_axes, condition in zip(axes, conditions, strict=True):
        rows = np.flatnonzero(patch_metadata["condition"].to_numpy() == condition)
        chosen = rng.choice(rows, size=min(n_samples, len(rows)), replace=False)
        for axis_index, axis in enumerate(row_axes):
            axis.set_axis_off()
            if axis_index < len(chosen):
                axis.imshow(patches[chosen[axis_index], 0], cmap="gray", vmin=0, vmax=1)
        row_axes[0].set_title(condition, fontsize=8, loc="left")
    figure.tight_layout()
    return figure


def count_against_truth(cell_table: pd.DataFrame, rotated_masks: Partitions, params: dict[str, Any]) -> pd.DataFrame:
    """Patches per condition beside the ground-truth cells that pass the same filters.

    The truth is the rotated ground-truth masks (the frame the patches are cut in),
    measured and filtered exactly like the predicted cells. Empty when there is no
    ground truth.
    """
    from cell_clustering.patching import morphology_table

    if not rotated_masks or cell_table.empty:
        return pd.DataFrame()
    truth_rows = []
    for field in sorted(rotated_masks):
        labels = np.asarray(rotated_masks[field]())
        if labels.max() == 0:
            continue
        table = morphology_table(labels.astype(np.float32), labels)
        table["condition"] = condition_of(field)
        table["filtered_by"] = table.apply(_filter_reason, axis=1, filters=params["filters"])
        truth_rows.append(table[["condition", "filtered_by"]])
    truth = pd.concat(truth_rows, ignore_index=True) if truth_rows else pd.DataFrame(columns=["condition", "filtered_by"])
    counts = pd.DataFrame(
        {
            "segmented_cells": cell_table.groupby("condition").size(),
            "patches": cell_table[cell_table["filtered_by"] == KEPT].groupby("condition").size(),
            "true_cells": truth.groupby("condition").size(),
            "true_cells_after_filters": truth[truth["filtered_by"] == KEPT].groupby("condition").size(),
        }
    ).fillna(0).astype(int)
    counts.loc["total"] = counts.sum()
    counts["patches_minus_truth"] = counts["patches"] - counts["true_cells_after_filters"]
    logger.info("Patches against ground truth:\n%s", counts.to_string())
    return counts.reset_index(names="condition")


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
        return pd.DataFrame(columns=["field", "cell_label", "true_cell_label", "iou", "shape_class"])
    classes = ground_truth_cells.set_index(["field", "cell_label"])["shape_class"]
    rows = []
    for field, group in patch_metadata.groupby("field", sort=False):
        predicted = np.asarray(predicted_masks[field]())
        truth = np.asarray(rotated_masks[field]()) if field in rotated_masks else np.zeros_like(predicted)
        for label in group["cell_label"]:
            own = predicted == label
            overlapping, counts = np.unique(truth[own], return_counts=True)
            counts, overlapping = counts[overlapping > 0], overlapping[overlapping > 0]
            match, iou = 0, 0.0
            if len(overlapping):
                best = overlapping[np.argmax(counts)]
                iou = float(counts.max() / np.logical_or(own, truth == best).sum())
                match = int(best) if iou >= 0.5 else 0
            rows.append({
                "field": field, "cell_label": int(label), "true_cell_label": match, "iou": round(iou, 4),
                "shape_class": classes.get((field, match), "unmatched") if match else "unmatched",
            })
    matched = pd.DataFrame(rows)
    # Back to patch order (groupby visited fields in order of first appearance).
    return patch_metadata[["field", "cell_label"]].merge(matched, on=["field", "cell_label"], how="left")
