"""Nodes of the ``evaluation`` pipeline."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

ID_COLUMNS = ["field", "condition", "cell_label"]


def cluster_latents(
    latents: np.ndarray, patch_metadata: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """KMeans for every k in ``params["n_clusters"]`` and the metrics of each.

    Returns
    -------
    assignments : pandas.DataFrame
        One row per cell (field, condition, cell label) with a ``cluster_k<k>`` column
        per k: the clustering table.
    metrics_table : pandas.DataFrame
        One row per k: silhouette, Davies-Bouldin, Calinski-Harabasz and, when a label
        column is set and has at least two values, accuracy, NMI and ARI.
    mlflow_metrics : dict
        The same numbers keyed ``k<k>.<metric>`` for MLflow.
    """
    from cell_clustering.clustering import external_scores, internal_scores, kmeans

    if len(latents) != len(patch_metadata):
        raise ValueError(
            f"latents has {len(latents)} rows but patch_metadata {len(patch_metadata)}; "
            "re-run the modelling pipeline on the current patches."
        )
    label_column = params.get("label_column")
    labels = patch_metadata[label_column].to_numpy() if label_column else None
    has_labels = labels is not None and len(np.unique(labels)) > 1
    assignments = patch_metadata[ID_COLUMNS].copy()
    rows = []
    for k in params["n_clusters"]:
        clusters = kmeans(latents, int(k), params["seed"], params["n_init"])
        assignments[f"cluster_k{k}"] = clusters
        row = {"k": int(k), "n_cells": len(latents), **internal_scores(latents, clusters)}
        if has_labels:
            row.update(external_scores(labels, clusters))
        rows.append(row)
    metrics_table = pd.DataFrame(rows)
    mlflow_metrics = {
        f"k{int(row['k'])}.{name}": {"value": float(value), "step": 0}
        for row in rows
        for name, value in row.items()
        if name not in ("k", "n_cells") and np.isfinite(value)
    }
    logger.info("Clustering metrics:\n%s", metrics_table.to_string(index=False))
    return assignments, metrics_table, mlflow_metrics
