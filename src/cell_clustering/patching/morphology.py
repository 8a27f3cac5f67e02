"""Shape and intensity descriptors of every labelled cell, and the patch filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage import measure

from cell_clustering.parameters.patching import PatchFilterParams

PROPERTIES = (
    "label", "centroid", "bbox", "area", "perimeter", "major_axis_length",
    "minor_axis_length", "eccentricity", "orientation", "solidity", "extent",
    "intensity_mean",
)
# Value of `filtered_by` for a cell that passed every filter (a word, not an empty
# string: CSV round trips turn "" into NaN).
KEPT = "kept"


def morphology_table(image: np.ndarray, labels: np.ndarray, *, covered: np.ndarray | None = None) -> pd.DataFrame:
    """Shape and intensity descriptors of every labelled cell.

    Parameters
    ----------
    image : (rows, cols) ndarray
    labels : (rows, cols) integer ndarray, 0 = background
    covered : (rows, cols) bool ndarray, optional
        The pixels imaged in the field (:func:`~cell_clustering.preprocessing.covered_area`
        of a rotated field); all of them by default. A cell next to an uncovered pixel
        was cut by the field's edge as surely as one on the image's edge.

    Returns
    -------
    pandas.DataFrame
        One row per label with ``regionprops_table`` columns plus ``aspect_ratio``
        (major / minor axis), ``angle_to_grooves_deg`` (0 = along the grooves, 90 =
        across) and ``touches_border``.
    """
    if image.shape != labels.shape:
        raise ValueError(f"Image shape {image.shape} differs from mask shape {labels.shape}.")
    table = pd.DataFrame(
        measure.regionprops_table(labels.astype(np.int64), intensity_image=image, properties=PROPERTIES)
    ).rename(
        columns={
            "label": "cell_label", "centroid-0": "centroid_row", "centroid-1": "centroid_col",
            "bbox-0": "bbox_min_row", "bbox-1": "bbox_min_col", "bbox-2": "bbox_max_row",
            "bbox-3": "bbox_max_col", "intensity_mean": "mean_intensity",
        }
    )
    table["aspect_ratio"] = table["major_axis_length"] / table["minor_axis_length"].clip(lower=1e-6)
    # skimage's orientation is the angle between the row axis and the major axis.
    table["angle_to_grooves_deg"] = 90.0 - np.degrees(np.abs(table["orientation"]))
    table["touches_border"] = table["cell_label"].isin(cut_by_edge(labels, covered))
    return table


def cut_by_edge(labels: np.ndarray, covered: np.ndarray | None = None) -> np.ndarray:
    """Labels with a pixel on the edge of the imaged area (the image's outer ring, or
    next to a pixel outside ``covered``), or outside it.

    Parameters
    ----------
    labels : (rows, cols) integer ndarray, 0 = background
    covered : (rows, cols) bool ndarray, optional
        The pixels imaged in the field; all of them by default.

    Returns
    -------
    1-D ndarray of labels, sorted, without 0
    """
    covered = np.ones(labels.shape, bool) if covered is None else np.asarray(covered, bool)
    if covered.shape != labels.shape:
        raise ValueError(f"covered area of shape {covered.shape} differs from mask shape {labels.shape}")
    # Eroding with the outside counted as uncovered keeps the pixels whose 3×3
    # neighbourhood is all imaged: the rest is the edge.
    interior = ndimage.binary_erosion(covered, structure=np.ones((3, 3), bool), border_value=0)
    touching = np.unique(labels[~interior])
    return touching[touching != 0]


# Lengths (px) that also get a column in µm; the area gets one in µm².
LENGTH_COLUMNS = ("perimeter", "major_axis_length", "minor_axis_length")


def with_physical_units(table: pd.DataFrame, pixel_size_um: float) -> pd.DataFrame:
    """``table`` with ``pixel_size_um``, ``area_um2`` and ``<length>_um`` columns.

    The pixel columns stay (filters and patches work in pixels of the field); the µm
    columns compare fields imaged at different pixel sizes.
    """
    table = table.copy()
    table["pixel_size_um"] = pixel_size_um
    table["area_um2"] = table["area"] * pixel_size_um**2
    for column in LENGTH_COLUMNS:
        table[f"{column}_um"] = table[column] * pixel_size_um
    return table


def filter_reason(row: pd.Series, filters: PatchFilterParams) -> str:
    """The first filter that removes the cell of ``row``, or ``KEPT``."""
    if filters.drop_border and row["touches_border"]:
        return "drop_border"
    if row["area_um2"] < filters.min_area_um2:
        return "min_area_um2"
    if filters.max_area_um2 is not None and row["area_um2"] > filters.max_area_um2:
        return "max_area_um2"
    return KEPT
