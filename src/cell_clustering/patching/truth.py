"""Patches against ground truth (the demo data, or a user's annotations)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cell_clustering.parameters.patching import PatchFilterParams
from cell_clustering.patching.morphology import (
    KEPT,
    filter_reason,
    morphology_table,
    with_physical_units,
)


def truth_counts(cell_table: pd.DataFrame, truth_cells: pd.DataFrame | None) -> pd.DataFrame:
    """Segmented cells and patches per condition beside the true cells (before and
    after the same filters), with a ``total`` row.

    Parameters
    ----------
    cell_table : pandas.DataFrame
        Every segmented cell with ``condition`` and ``filtered_by``.
    truth_cells : pandas.DataFrame or None
        Every true cell with ``condition`` and ``filtered_by``; None where the run has
        no ground truth (the truth columns are then left out).
    """
    if cell_table.empty:
        return pd.DataFrame(columns=["condition", "segmented_cells", "patches"])
    columns = {
        "segmented_cells": cell_table.groupby("condition").size(),
        "patches": cell_table[cell_table["filtered_by"] == KEPT].groupby("condition").size(),
    }
    if truth_cells is not None:
        columns["true_cells"] = truth_cells.groupby("condition").size()
        columns["true_cells_after_filters"] = truth_cells[truth_cells["filtered_by"] == KEPT].groupby("condition").size()
    counts = pd.DataFrame(columns).fillna(0).astype(int)
    counts.loc["total"] = counts.sum()
    if truth_cells is not None:
        counts["patches_minus_truth"] = counts["patches"] - counts["true_cells_after_filters"]
    return counts.reset_index(names="condition")


def filtered_truth(
    labels: np.ndarray, filters: PatchFilterParams, pixel_size_um: float, *, covered: np.ndarray | None = None
) -> pd.DataFrame:
    """The true cells of one mask, measured and filtered like predicted cells
    (``covered``: the pixels imaged in the field, see :func:`morphology_table`)."""
    table = with_physical_units(morphology_table(labels.astype(np.float32), labels, covered=covered), pixel_size_um)
    table["filtered_by"] = table.apply(filter_reason, axis=1, filters=filters)
    return table


def match_to_truth(predicted: np.ndarray, truth: np.ndarray, cell_labels: list[int]) -> list[tuple[int, float]]:
    """For each predicted cell, the true label it overlaps most and the IoU; a match
    needs IoU ≥ 0.5 (else label 0).

    Parameters
    ----------
    predicted, truth : (rows, cols) integer ndarray, 0 = background
    """
    matches = []
    for label in cell_labels:
        own = predicted == label
        overlapping, counts = np.unique(truth[own], return_counts=True)
        counts, overlapping = counts[overlapping > 0], overlapping[overlapping > 0]
        match, iou = 0, 0.0
        if len(overlapping):
            best = overlapping[np.argmax(counts)]
            iou = float(counts.max() / np.logical_or(own, truth == best).sum())
            match = int(best) if iou >= 0.5 else 0
        matches.append((match, iou))
    return matches
