"""Nodes of the ``evaluation`` pipeline."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering.plotting import pyplot

logger = logging.getLogger(__name__)

ID_COLUMNS = ["field", "condition", "cell_label"]


def cluster_latents(
    latents: np.ndarray, patch_metadata: pd.DataFrame, params: dict[str, Any], patch_truth: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Clusters for every k in ``params["n_clusters"]`` and the metrics of each.

    ``params["method"]`` is ``kmeans`` (the seed's) or ``gmm`` (a full-covariance
    Gaussian mixture); with ``params["reduce"]["method"] = "umap"`` both run on a UMAP
    of the latents (the N2D recipe) and the internal scores are computed there.

    Returns
    -------
    assignments : pandas.DataFrame
        One row per cell (field, condition, cell label) with a ``cluster_k<k>`` column
        per k: the clustering table.
    metrics_table : pandas.DataFrame
        One row per k: silhouette, Davies-Bouldin, Calinski-Harabasz and, when a label
        column is set and has at least two values, accuracy, NMI and ARI. With a
        ``patch_truth`` table (the demo), also ``shape_accuracy``, ``shape_nmi`` and
        ``shape_ari`` against the planted shape classes of the matched cells.
    mlflow_metrics : dict
        The same numbers keyed ``k<k>.<metric>`` for MLflow.
    """
    from cell_clustering.clustering import (
        cluster,
        external_scores,
        internal_scores,
        umap_embedding,
    )

    if len(latents) != len(patch_metadata):
        raise ValueError(
            f"latents has {len(latents)} rows but patch_metadata {len(patch_metadata)}; "
            "re-run the modelling pipeline on the current patches."
        )
    if params.get("reduce", {}).get("method", "none") == "umap":
        # Cluster (and score) in a low-dimensional UMAP of the latents (the N2D recipe).
        latents = umap_embedding(latents, params["reduce"]["n_components"], params["umap"]["n_neighbors"], params["seed"])
    shape_classes = None
    if patch_truth is not None and len(patch_truth) == len(latents) and "shape_class" in patch_truth:
        candidate = patch_truth["shape_class"].fillna("unmatched").to_numpy()
        if len(np.unique(candidate[candidate != "unmatched"])) > 1:
            shape_classes = candidate
    label_column = params.get("label_column")
    labels = patch_metadata[label_column].to_numpy() if label_column else None
    has_labels = labels is not None and len(np.unique(labels)) > 1
    assignments = patch_metadata[ID_COLUMNS].copy()
    rows = []
    for k in params["n_clusters"]:
        clusters = cluster(latents, int(k), params.get("method", "kmeans"), params["seed"], params["n_init"])
        assignments[f"cluster_k{k}"] = clusters
        row = {"k": int(k), "n_cells": len(latents), **internal_scores(latents, clusters)}
        if has_labels:
            row.update(external_scores(labels, clusters))
        if shape_classes is not None:
            matched = shape_classes != "unmatched"
            scores = external_scores(shape_classes[matched], clusters[matched])
            row.update({f"shape_{name}": value for name, value in scores.items()})
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


def _report_clusters(assignments: pd.DataFrame, params: dict[str, Any]) -> np.ndarray:
    column = f"cluster_k{params['report_k']}"
    if column not in assignments:
        raise ValueError(f"evaluation.report_k={params['report_k']} is not in evaluation.n_clusters {params['n_clusters']}.")
    return assignments[column].to_numpy()


def _png(figure: Any) -> str:
    """The figure as a base64 PNG, for a report that opens from disk with no server."""
    import base64
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def cluster_composition(assignments: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Composition of the ``report_k`` clusters by condition, with a χ² test of
    independence and per-cluster enrichment p-values (see ``clustering.composition``)."""
    from cell_clustering.clustering import composition

    table, test = composition(_report_clusters(assignments, params), assignments["condition"].to_numpy(), params["control_condition"])
    logger.info("Cluster composition (k=%s):\n%s\n%s", params["report_k"], table.to_string(index=False), test)
    return table, test


def plot_cluster_samples(patches: np.ndarray, assignments: pd.DataFrame, params: dict[str, Any]) -> tuple[Any, str]:
    """``samples_per_cluster`` patches of every cluster (rows), drawn with a seed."""
    plt = pyplot()
    clusters = _report_clusters(assignments, params)
    rng = np.random.default_rng(params["seed"])
    n = int(params["samples_per_cluster"])
    labels = sorted(np.unique(clusters))
    figure, axes = plt.subplots(len(labels), n, figsize=(1.3 * n, 1.4 * len(labels)), squeeze=False)
    for row_axes, label in zip(axes, labels, strict=True):
        members = np.flatnonzero(clusters == label)
        chosen = rng.choice(members, size=min(n, len(members)), replace=False)
        for index, axis in enumerate(row_axes):
            axis.set_axis_off()
            if index < len(chosen):
                axis.imshow(patches[chosen[index], 0], cmap="gray", vmin=0, vmax=1)
        row_axes[0].set_title(f"cluster {label} ({len(members)} cells)", fontsize=8, loc="left")
    figure.tight_layout()
    return figure, _png(figure)


def plot_latent_distributions(latents: np.ndarray, assignments: pd.DataFrame, params: dict[str, Any]) -> tuple[Any, str]:
    """Histograms of chosen latent dimensions, one curve per cluster."""
    plt = pyplot()
    clusters = _report_clusters(assignments, params)
    dims = [d for d in params["latent_dims_to_plot"] if d < latents.shape[1]]
    figure, axes = plt.subplots(1, len(dims), figsize=(3 * len(dims), 2.8), squeeze=False)
    for axis, dim in zip(axes[0], dims, strict=True):
        for label in sorted(np.unique(clusters)):
            axis.hist(latents[clusters == label, dim], bins=20, histtype="step", density=True, label=f"cluster {label}")
        axis.set_title(f"latent dimension {dim}", fontsize=9)
    axes[0][0].legend(fontsize=6)
    figure.tight_layout()
    return figure, _png(figure)


def plot_cluster_correlations(latents: np.ndarray, assignments: pd.DataFrame, params: dict[str, Any]) -> tuple[Any, str]:
    """Pearson correlation between the clusters' mean latent profiles (across the
    latent dimensions): which clusters resemble each other."""
    plt = pyplot()
    clusters = _report_clusters(assignments, params)
    labels = sorted(np.unique(clusters))
    profiles = np.stack([latents[clusters == label].mean(axis=0) for label in labels])
    correlation = np.corrcoef(profiles)
    figure, axis = plt.subplots(figsize=(4.5, 4))
    image = axis.imshow(correlation, vmin=-1, vmax=1, cmap="RdBu_r")
    axis.set_xticks(range(len(labels)), [str(label) for label in labels])
    axis.set_yticks(range(len(labels)), [str(label) for label in labels])
    for (row, col), value in np.ndenumerate(correlation):
        axis.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7)
    axis.set_title("correlation of cluster mean latents", fontsize=9)
    figure.colorbar(image, ax=axis)
    figure.tight_layout()
    return figure, _png(figure)


def plot_latent_map(latents: np.ndarray, assignments: pd.DataFrame, params: dict[str, Any]) -> tuple[Any, str]:
    """A 2-D UMAP of the latents, coloured by cluster and by condition."""
    from cell_clustering.clustering import umap_embedding

    plt = pyplot()
    clusters = _report_clusters(assignments, params)
    embedding = umap_embedding(latents, 2, params["umap"]["n_neighbors"], params["seed"], params["umap"]["min_dist"])
    figure, (by_cluster, by_condition) = plt.subplots(1, 2, figsize=(10, 4.5))
    by_cluster.scatter(embedding[:, 0], embedding[:, 1], c=clusters, cmap="tab10", s=8)
    by_cluster.set_title(f"UMAP coloured by cluster (k={params['report_k']})", fontsize=9)
    for condition in sorted(assignments["condition"].unique()):
        mask = assignments["condition"].to_numpy() == condition
        by_condition.scatter(embedding[mask, 0], embedding[mask, 1], s=8, label=condition)
    by_condition.set_title("UMAP coloured by condition", fontsize=9)
    by_condition.legend(fontsize=7, markerscale=2)
    figure.tight_layout()
    return figure, _png(figure)


MORPHOLOGY_FEATURES = ["area", "aspect_ratio", "angle_to_grooves_deg", "solidity"]


def plot_morphology_by_cluster(assignments: pd.DataFrame, patch_metadata: pd.DataFrame, params: dict[str, Any]) -> tuple[Any, str]:
    """Box plots of shape features per cluster, so a cluster reads as a shape."""
    plt = pyplot()
    clusters = _report_clusters(assignments, params)
    labels = sorted(np.unique(clusters))
    figure, axes = plt.subplots(1, len(MORPHOLOGY_FEATURES), figsize=(3.2 * len(MORPHOLOGY_FEATURES), 3))
    for axis, feature in zip(axes, MORPHOLOGY_FEATURES, strict=True):
        axis.boxplot([patch_metadata.loc[clusters == label, feature] for label in labels], tick_labels=[str(label) for label in labels])
        axis.set_title(feature, fontsize=9)
        axis.set_xlabel("cluster", fontsize=8)
    figure.tight_layout()
    return figure, _png(figure)


def build_report(
    metrics_table: pd.DataFrame,
    composition_table: pd.DataFrame,
    composition_test: dict[str, Any],
    params: dict[str, Any],
    *figures: str,
) -> str:
    """One static HTML page with every table and figure (PNGs embedded)."""
    import html

    titles = ["Sample cells per cluster", "Latent distributions per cluster", "Correlation of cluster mean latents",
              "2-D map (UMAP)", "Morphology per cluster"]
    nmi = metrics_table.set_index("k")["nmi"].get(params["report_k"]) if "nmi" in metrics_table else None
    if "note" in composition_test:
        test_text = html.escape(composition_test["note"])
    else:
        test_text = (f"{html.escape(composition_test['test'])}: χ² = {composition_test['chi2']:.2f}, "
                     f"dof = {composition_test['dof']}, p = {composition_test['p_value']:.3g}")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>cell-clustering report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}img{max-width:100%}</style></head><body>",
        "<h1>cell-clustering: evaluation report</h1>",
        f"<p>Clusters reported: k = {params['report_k']}. "
        + (f"NMI(cluster, condition) = <b>{nmi:.3f}</b>.</p>" if nmi is not None and pd.notna(nmi) else "NMI not computed (one condition).</p>"),
        "<h2>Clustering metrics per k</h2>", metrics_table.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
        f"<h2>Composition of the clusters (k = {params['report_k']})</h2>",
        composition_table.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
        f"<p>{test_text}</p>",
    ]
    for title, png in zip(titles, figures, strict=True):
        parts += [f"<h2>{title}</h2>", f"<img alt='{title}' src='data:image/png;base64,{png}'>"]
    parts.append("</body></html>")
    return "\n".join(parts)
