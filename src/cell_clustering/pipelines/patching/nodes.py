"""Nodes of the ``patching`` pipeline."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering.fields import Partitions, condition_of, require_partitions

logger = logging.getLogger(__name__)

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
    return ""


def extract_patches(
    preprocessed_images: Partitions, predicted_masks: Partitions, params: dict[str, Any]
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Cut one background-free patch per kept cell, field by field.

    Returns
    -------
    patches : (N, 1, S, S) float32 ndarray
    patch_metadata : pandas.DataFrame
        N rows, in patch order: field, condition, cell label, morphology.
    cell_table : pandas.DataFrame
        Every segmented cell with ``filtered_by`` (empty string when kept).
    """
    from cell_clustering.patching import crop_pad, crop_resize, morphology_table

    method, size = params["method"], int(params["patch_size"])
    if method not in ("crop_resize", "crop_pad"):
        raise ValueError(f"patching.method must be 'crop_resize' or 'crop_pad', got '{method}'.")
    patches: list[np.ndarray] = []
    tables: list[pd.DataFrame] = []
    empty_fields: list[str] = []
    for field in require_partitions(predicted_masks, NO_MASKS_MESSAGE):
        labels = np.asarray(predicted_masks[field]())
        image = np.asarray(preprocessed_images[field](), dtype=np.float32)
        if image.shape != labels.shape:
            raise ValueError(
                f"Field '{field}': image shape {image.shape} differs from mask shape {labels.shape}."
            )
        if labels.max() == 0:
            empty_fields.append(field)
            continue
        table = morphology_table(image, labels)
        table.insert(0, "condition", condition_of(field))
        table.insert(0, "field", field)
        table["filtered_by"] = table.apply(_filter_reason, axis=1, filters=params["filters"])
        table["cropped_by_window"] = False
        for index in table.index[table["filtered_by"] == ""]:
            label = int(table.at[index, "cell_label"])
            if method == "crop_resize":
                patch = crop_resize(image, labels, label, size, params["margin"], params["mask_dilation"])
            else:
                patch, cropped = crop_pad(image, labels, label, size, params["mask_dilation"])
                table.at[index, "cropped_by_window"] = cropped
            patches.append(patch)
        tables.append(table)
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
    metadata = cell_table[cell_table["filtered_by"] == ""].drop(columns="filtered_by").reset_index(drop=True)
    n_cropped = int(metadata["cropped_by_window"].sum())
    if method == "crop_pad" and n_cropped:
        logger.warning("%d of %d cells exceed the %d-pixel window and were cropped.", n_cropped, len(metadata), size)
    logger.info("Cut %d patches of %d×%d from %d cells.", len(patches), size, size, len(cell_table))
    return np.stack(patches)[:, None].astype(np.float32), metadata, cell_table
