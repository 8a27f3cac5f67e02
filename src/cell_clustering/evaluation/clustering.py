"""Clustering of latent vectors and the seed's quality metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn import metrics
from sklearn.cluster import KMeans


def kmeans(latents: np.ndarray, n_clusters: int, seed: int = 0, n_init: int = 10) -> np.ndarray:
    """KMeans labels (N,) of ``latents`` (N, D); raises when N < k."""
    if len(latents) < n_clusters:
        raise ValueError(f"Cannot make k={n_clusters} clusters from {len(latents)} cells; lower evaluation.n_clusters.")
    return KMeans(n_clusters=n_clusters, random_state=seed, n_init=n_init).fit_predict(latents)


def gaussian_mixture(latents: np.ndarray, n_clusters: int, seed: int = 0, n_init: int = 1) -> np.ndarray:
    """Labels (N,) of a full-covariance Gaussian mixture fitted to ``latents`` (N, D)."""
    from sklearn.mixture import GaussianMixture

    if len(latents) < n_clusters:
        raise ValueError(f"Cannot make k={n_clusters} clusters from {len(latents)} samples; lower the number of clusters.")
    return GaussianMixture(n_clusters, covariance_type="full", n_init=n_init, random_state=seed).fit_predict(latents)


def umap_embedding(latents: np.ndarray, n_components: int, n_neighbors: int, seed: int = 0, min_dist: float = 0.0) -> np.ndarray:
    """UMAP of ``latents`` (N, D) to (N, n_components), as in N2D (McConville et al.
    2020): local structure kept, min_dist 0 packs clusters for KMeans or a GMM."""
    import umap

    n_neighbors = max(2, min(int(n_neighbors), len(latents) - 1))
    reducer = umap.UMAP(n_components=int(n_components), n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed)
    return reducer.fit_transform(latents).astype(np.float32)


CLUSTERERS = {"kmeans": kmeans, "gmm": gaussian_mixture}


def cluster(latents: np.ndarray, n_clusters: int, method: str = "kmeans", seed: int = 0, n_init: int = 10) -> np.ndarray:
    """Labels (N,) from the named clustering method: ``kmeans`` or ``gmm``."""
    if method not in CLUSTERERS:
        raise ValueError(f"Unknown clustering method '{method}'; choose one of {sorted(CLUSTERERS)}.")
    return CLUSTERERS[method](latents, n_clusters, seed, n_init)


def hungarian_accuracy(true_labels: np.ndarray, cluster_labels: np.ndarray) -> float:
    """Accuracy after the one-to-one cluster → label matching that maximises it.

    Uses ``scipy.optimize.linear_sum_assignment`` on the contingency table; clusters
    left unmatched (more clusters than labels) count as errors.
    """
    contingency = metrics.cluster.contingency_matrix(true_labels, cluster_labels)
    rows, cols = linear_sum_assignment(contingency, maximize=True)
    return float(contingency[rows, cols].sum() / contingency.sum())


def internal_scores(latents: np.ndarray, cluster_labels: np.ndarray) -> dict[str, float]:
    """Silhouette, Davies-Bouldin and Calinski-Harabasz (NaN for a single cluster)."""
    if len(np.unique(cluster_labels)) < 2:
        return {"silhouette": np.nan, "davies_bouldin": np.nan, "calinski_harabasz": np.nan}
    return {
        "silhouette": float(metrics.silhouette_score(latents, cluster_labels)),
        "davies_bouldin": float(metrics.davies_bouldin_score(latents, cluster_labels)),
        "calinski_harabasz": float(metrics.calinski_harabasz_score(latents, cluster_labels)),
    }


def external_scores(true_labels: np.ndarray, cluster_labels: np.ndarray) -> dict[str, float]:
    """Hungarian accuracy, NMI and ARI against known labels."""
    return {
        "accuracy": hungarian_accuracy(true_labels, cluster_labels),
        "nmi": float(metrics.normalized_mutual_info_score(true_labels, cluster_labels)),
        "ari": float(metrics.adjusted_rand_score(true_labels, cluster_labels)),
    }


def composition(clusters: np.ndarray, conditions: np.ndarray, control: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Cells per cluster, % control vs % mutant and % per cell line, with statistics.

    The dependence between cluster and condition is tested with Pearson's χ² test of
    independence on the cluster × condition table; each cluster's enrichment in
    mutant cells with a two-sided Fisher exact test of (control, mutant) inside the
    cluster against the rest. With a single condition, no test is run.

    Returns
    -------
    table : pandas.DataFrame
        One row per cluster, and a ``total`` row.
    test : dict
        ``test``, ``chi2``, ``dof``, ``p_value`` (or a ``note`` when skipped).
    """
    from scipy import stats

    counts = pd.crosstab(pd.Series(clusters, name="cluster"), pd.Series(conditions, name="condition"))
    lines = list(counts.columns)
    table = pd.DataFrame({"n_cells": counts.sum(axis=1)})
    is_control = np.array([line == control for line in lines])
    table["pct_control"] = 100 * counts.loc[:, is_control].sum(axis=1) / table["n_cells"]
    table["pct_mutant"] = 100 - table["pct_control"]
    for line in lines:
        table[f"pct_{line}"] = 100 * counts[line] / table["n_cells"]
    if len(lines) < 2:
        return _with_total(table, counts), {"test": "none", "note": f"only one condition ({lines[0]}): composition statistics skipped"}
    chi2, p_value, dof, _ = stats.chi2_contingency(counts.to_numpy())
    n_control, n_mutant = counts.loc[:, is_control].sum().sum(), counts.loc[:, ~is_control].sum().sum()
    if is_control.any() and (~is_control).any():
        p_values = []
        for cluster in counts.index:
            inside_control = counts.loc[cluster, is_control].sum()
            inside_mutant = counts.loc[cluster, ~is_control].sum()
            _, p = stats.fisher_exact([[inside_control, inside_mutant], [n_control - inside_control, n_mutant - inside_mutant]])
            p_values.append(p)
        table["enrichment_p_value"] = p_values
        table["enrichment_test"] = "Fisher exact, two-sided: control vs mutant in cluster vs rest"
    test = {"test": "Pearson chi-squared test of independence (cluster x condition)", "chi2": float(chi2), "dof": int(dof), "p_value": float(p_value)}
    return _with_total(table, counts), test


def _with_total(table: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    total = counts.sum(axis=0)
    row = {"n_cells": int(total.sum())}
    for column in table.columns:
        if column.startswith("pct_"):
            line = column[4:]
            if line in total.index:
                row[column] = 100 * total[line] / total.sum()
    row["pct_control"] = table["pct_control"].mul(table["n_cells"]).sum() / total.sum()
    row["pct_mutant"] = 100 - row["pct_control"]
    out = pd.concat([table, pd.DataFrame([row], index=["total"])])
    out.index.name = "cluster"
    return out.reset_index()
