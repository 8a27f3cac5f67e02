"""Nodes of the ``evaluation`` pipeline: clusters of the representation, their quality,
their composition by condition, figures and the report."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import evaluation, reporting
from cell_clustering.parameters import EvaluationParams

logger = logging.getLogger(__name__)

MORPHOLOGY_FEATURES = ["area", "aspect_ratio", "angle_to_grooves_deg", "solidity"]
FIGURE_TITLES = {
    "cluster_samples": "Sample cells per cluster",
    "latent_distributions": "Latent distributions per cluster",
    "cluster_correlations": "Correlation of cluster mean latents",
    "latent_map": "2-D map (UMAP)",
    "morphology_by_cluster": "Morphology per cluster",
}


def cluster_latents(
    latents: np.ndarray, patch_metadata: pd.DataFrame, params: EvaluationParams, patch_truth: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Clusters for every k in ``params.n_clusters`` and the metrics of each.

    ``params.method`` is ``kmeans`` (the seed's) or ``gmm`` (a full-covariance
    Gaussian mixture); with ``params.reduce.method = "umap"`` both run on a UMAP of
    the latents (the N2D recipe) and the internal scores are computed there.

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
    evaluation.check_aligned(latents, patch_metadata)
    evaluation.check_against_data(patch_metadata, params)
    space = evaluation.clustering_space(latents, params)
    labels = evaluation.labels_of(patch_metadata, params.label_column)
    shape_classes = evaluation.shape_classes_of(patch_truth, len(latents))
    assignments, metrics_table = evaluation.cluster_each_k(space, patch_metadata, params, labels, shape_classes)
    logger.info("Clustering metrics:\n%s", metrics_table.to_string(index=False))
    return assignments, metrics_table, evaluation.as_mlflow_metrics(metrics_table)


def _report_clusters(assignments: pd.DataFrame, params: EvaluationParams) -> np.ndarray:
    return assignments[f"cluster_k{params.report_k}"].to_numpy()


def cluster_composition(assignments: pd.DataFrame, params: EvaluationParams) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Composition of the ``report_k`` clusters by condition, with a χ² test of
    independence and per-cluster enrichment p-values (see ``evaluation.composition``)."""
    clusters = _report_clusters(assignments, params)
    table, test = evaluation.composition(clusters, assignments["condition"].to_numpy(), params.control_condition)
    logger.info("Cluster composition (k=%s):\n%s\n%s", params.report_k, table.to_string(index=False), test)
    return table, test


def plot_cluster_samples(patches: np.ndarray, assignments: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """``samples_per_cluster`` patches of every cluster (rows), drawn with a seed."""
    clusters = _report_clusters(assignments, params)
    groups = {}
    for label in sorted(np.unique(clusters)):
        members = np.flatnonzero(clusters == label)
        groups[f"cluster {label} ({len(members)} cells)"] = members
    figure = reporting.sample_grid(patches, groups, n_samples=params.samples_per_cluster, rng=np.random.default_rng(params.seed))
    return figure, reporting.png_base64(figure)


def plot_latent_distributions(latents: np.ndarray, assignments: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """Histograms of chosen latent dimensions, one curve per cluster."""
    clusters = _report_clusters(assignments, params)
    dims = [d for d in params.latent_dims_to_plot if d < latents.shape[1]]
    figure, axes = reporting.pyplot().subplots(1, len(dims), figsize=(3 * len(dims), 2.8), squeeze=False)
    for axis, dim in zip(axes[0], dims, strict=True):
        for label in sorted(np.unique(clusters)):
            axis.hist(latents[clusters == label, dim], bins=20, histtype="step", density=True, label=f"cluster {label}")
        axis.set_title(f"latent dimension {dim}", fontsize=9)
    axes[0][0].legend(fontsize=6)
    figure.tight_layout()
    return figure, reporting.png_base64(figure)


def plot_cluster_correlations(latents: np.ndarray, assignments: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """Pearson correlation between the clusters' mean latent profiles (across the
    latent dimensions): which clusters resemble each other."""
    clusters = _report_clusters(assignments, params)
    labels = sorted(np.unique(clusters))
    correlation = np.corrcoef(np.stack([latents[clusters == label].mean(axis=0) for label in labels]))
    figure, axis = reporting.pyplot().subplots(figsize=(4.5, 4))
    image = axis.imshow(correlation, vmin=-1, vmax=1, cmap="RdBu_r")
    axis.set_xticks(range(len(labels)), [str(label) for label in labels])
    axis.set_yticks(range(len(labels)), [str(label) for label in labels])
    for (row, col), value in np.ndenumerate(correlation):
        axis.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7)
    axis.set_title("correlation of cluster mean latents", fontsize=9)
    figure.colorbar(image, ax=axis)
    figure.tight_layout()
    return figure, reporting.png_base64(figure)


def plot_latent_map(latents: np.ndarray, assignments: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """A 2-D UMAP of the latents, coloured by cluster and by condition."""
    clusters = _report_clusters(assignments, params)
    embedding = evaluation.umap_embedding(latents, 2, params.umap.n_neighbors, params.seed, params.umap.min_dist)
    figure, (by_cluster, by_condition) = reporting.pyplot().subplots(1, 2, figsize=(10, 4.5))
    by_cluster.scatter(embedding[:, 0], embedding[:, 1], c=clusters, cmap="tab10", s=8)
    by_cluster.set_title(f"UMAP coloured by cluster (k={params.report_k})", fontsize=9)
    for condition in sorted(assignments["condition"].unique()):
        mask = assignments["condition"].to_numpy() == condition
        by_condition.scatter(embedding[mask, 0], embedding[mask, 1], s=8, label=condition)
    by_condition.set_title("UMAP coloured by condition", fontsize=9)
    by_condition.legend(fontsize=7, markerscale=2)
    figure.tight_layout()
    return figure, reporting.png_base64(figure)


def plot_morphology_by_cluster(assignments: pd.DataFrame, patch_metadata: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """Box plots of shape features per cluster, so a cluster reads as a shape."""
    clusters = _report_clusters(assignments, params)
    labels = sorted(np.unique(clusters))
    figure, axes = reporting.pyplot().subplots(1, len(MORPHOLOGY_FEATURES), figsize=(3.2 * len(MORPHOLOGY_FEATURES), 3))
    for axis, feature in zip(axes, MORPHOLOGY_FEATURES, strict=True):
        axis.boxplot([patch_metadata.loc[clusters == label, feature] for label in labels], tick_labels=[str(label) for label in labels])
        axis.set_title(feature, fontsize=9)
        axis.set_xlabel("cluster", fontsize=8)
    figure.tight_layout()
    return figure, reporting.png_base64(figure)


def _composition_note(test: dict[str, Any]) -> str:
    if "note" in test:
        return test["note"]
    return f"{test['test']}: χ² = {test['chi2']:.2f}, dof = {test['dof']}, p = {test['p_value']:.3g}"


def build_report(
    metrics_table: pd.DataFrame,
    composition_table: pd.DataFrame,
    composition_test: dict[str, Any],
    params: EvaluationParams,
    **figures: str,
) -> str:
    """One static HTML page with every table and figure (PNGs embedded); ``figures``
    are the base64 PNGs keyed by the names of ``FIGURE_TITLES``."""
    nmi = metrics_table.set_index("k")["nmi"].get(params.report_k) if "nmi" in metrics_table else None
    summary = (
        f"NMI(cluster, condition) = {nmi:.3f}." if nmi is not None and pd.notna(nmi) else "NMI not computed (one condition)."
    )
    sections = [
        reporting.text_section("Summary", f"Clusters reported: k = {params.report_k}. {summary}"),
        reporting.table_section("Clustering metrics per k", metrics_table),
        reporting.table_section(
            f"Composition of the clusters (k = {params.report_k})", composition_table, note=_composition_note(composition_test)
        ),
        *[reporting.figure_section(FIGURE_TITLES[name], png) for name, png in figures.items()],
    ]
    return reporting.render_report("cell-clustering: evaluation report", sections)
