"""Segmentation quality against annotated masks: AP at IoU thresholds, aggregated
Jaccard, object counts; per field and overall."""

from __future__ import annotations

from typing import Any

import numpy as np

from cell_clustering.segmentation.cellpose import aggregated_jaccard, average_precision


def n_objects(labels: np.ndarray) -> int:
    """Number of labelled objects (0 is background)."""
    return int(len(np.unique(labels)) - 1)


def quality_rows(
    method: str, fields: list[str], truth: list[np.ndarray], predicted: list[np.ndarray], thresholds: list[float]
) -> list[dict[str, Any]]:
    """One row per field and an ``overall`` row (means over fields, summed counts).

    Parameters
    ----------
    truth, predicted : list of (rows, cols) integer ndarray, aligned with ``fields``
    """
    ap = average_precision(truth, predicted, thresholds)
    jaccard = aggregated_jaccard(truth, predicted)
    rows = []
    for index, field in enumerate(fields):
        row: dict[str, Any] = {"method": method, "field": field}
        row.update({f"ap_{t:g}": float(ap[index, j]) for j, t in enumerate(thresholds)})
        row["aggregated_jaccard"] = float(jaccard[index])
        row["n_true"] = n_objects(truth[index])
        row["n_predicted"] = n_objects(predicted[index])
        rows.append(row)
    overall: dict[str, Any] = {"method": method, "field": "overall"}
    overall.update({f"ap_{t:g}": float(ap[:, j].mean()) for j, t in enumerate(thresholds)})
    overall["aggregated_jaccard"] = float(jaccard.mean())
    overall["n_true"] = int(sum(n_objects(m) for m in truth))
    overall["n_predicted"] = int(sum(n_objects(m) for m in predicted))
    return [*rows, overall]
