"""Clustering of latent vectors and the seed's quality metrics."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import metrics
from sklearn.cluster import KMeans


def kmeans(latents: np.ndarray, n_clusters: int, seed: int = 0, n_init: int = 10) -> np.ndarray:
    """KMeans labels (N,) of ``latents`` (N, D); raises when N < k."""
    if len(latents) < n_clusters:
        raise ValueError(f"Cannot make k={n_clusters} clusters from {len(latents)} cells; lower evaluation.n_clusters.")
    return KMeans(n_clusters=n_clusters, random_state=seed, n_init=n_init).fit_predict(latents)


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
