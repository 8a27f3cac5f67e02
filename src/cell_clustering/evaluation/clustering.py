"""Clustering heads (KMeans, Gaussian mixture, UMAP reduction) and the seed's quality
metrics: Hungarian accuracy, NMI, ARI, silhouette, Davies-Bouldin, Calinski-Harabasz."""

from __future__ import annotations

import numpy as np
import umap
from scipy.optimize import linear_sum_assignment
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from cell_clustering.evaluation.numba_cache import cache_compilations

# UMAP (and pynndescent, which it imports) compiled once per environment, not per process.
cache_compilations("umap", "pynndescent")


def kmeans(latents: np.ndarray, n_clusters: int, seed: int = 0, n_init: int = 10) -> np.ndarray:
    """KMeans labels (N,) of ``latents`` (N, D); raises when N < k."""
    if len(latents) < n_clusters:
        raise ValueError(f"Cannot make k={n_clusters} clusters from {len(latents)} cells; lower evaluation.n_clusters.")
    return KMeans(n_clusters=n_clusters, random_state=seed, n_init=n_init).fit_predict(latents)


def gaussian_mixture(
    latents: np.ndarray, n_clusters: int, seed: int = 0, n_init: int = 1, *, reg_covar: float = 1e-6
) -> np.ndarray:
    """Labels (N,) of a full-covariance Gaussian mixture fitted to ``latents`` (N, D),
    the best likelihood of ``n_init`` starts.

    ``reg_covar`` is added to the diagonal of every component's covariance: a floor on
    how thin a component may become. A learned representation spans fewer directions
    than it has dimensions (the demo's 16-D latents have 8 principal directions above
    0.1 % of the variance), and without a floor a component collapses onto the thin
    directions of a few cells instead of following the main structure.
    """
    if len(latents) < n_clusters:
        raise ValueError(f"Cannot make k={n_clusters} clusters from {len(latents)} samples; lower the number of clusters.")
    mixture = GaussianMixture(n_clusters, covariance_type="full", n_init=n_init, random_state=seed, reg_covar=reg_covar)
    return mixture.fit_predict(latents)


def principal_components(values: np.ndarray, variance_share: float | None) -> np.ndarray:
    """``values`` (N, D) projected onto their leading principal components, as many as
    hold ``variance_share`` of the variance: (N, D') with D' <= D; ``None`` keeps every
    dimension (``values`` returned as they are).

    A learned representation spreads over fewer directions than it has dimensions; the
    thin ones carry little but noise, and a full-covariance mixture fitted in them can
    split a class along that noise. Dropping them keeps the mixture on the directions
    that carry the structure (the covariance floor of :func:`gaussian_mixture` still
    applies to those that remain).
    """
    if variance_share is None:
        return values
    return PCA(n_components=variance_share, svd_solver="full").fit_transform(values).astype(values.dtype, copy=False)


def umap_embedding(latents: np.ndarray, n_components: int, n_neighbors: int, seed: int = 0, min_dist: float = 0.0) -> np.ndarray:
    """UMAP of ``latents`` (N, D) to (N, n_components), as in N2D (McConville et al.
    2020): local structure kept, min_dist 0 packs clusters for KMeans or a GMM."""
    n_neighbors = max(2, min(int(n_neighbors), len(latents) - 1))
    # The spectral start needs more samples than dimensions (a tiny test set has not).
    init = "spectral" if len(latents) > int(n_components) + 2 else "random"
    reducer = umap.UMAP(n_components=int(n_components), n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed, init=init)
    return reducer.fit_transform(latents).astype(np.float32)


CLUSTERERS = {"kmeans": kmeans, "gmm": gaussian_mixture}


def candidate_seeds(seed: int, n_candidates: int) -> list[int]:
    """The UMAP seeds behind clustering seed ``seed``: ``n_candidates`` of them, disjoint
    between clustering seeds (seed 0 → 0..n-1, seed 1 → n..2n-1, ...)."""
    return [seed * n_candidates + offset for offset in range(n_candidates)]


def pairwise_agreement(partitions: list[np.ndarray]) -> np.ndarray:
    """(P, P) adjusted Rand index between every two partitions of the same samples."""
    agreement = np.ones((len(partitions), len(partitions)))
    for first in range(len(partitions)):
        for second in range(first + 1, len(partitions)):
            value = metrics.adjusted_rand_score(partitions[first], partitions[second])
            agreement[first, second] = agreement[second, first] = value
    return agreement


def consensus_choice(partitions: list[np.ndarray]) -> tuple[int, float]:
    """The index of the partition that agrees best with all the others (highest mean
    ARI to them: the medoid partition) and the mean ARI between the partitions, a
    label-free measure of how stable the clustering is (1: all identical).

    UMAP is a stochastic embedding: a few of its seeds split or merge a cluster that
    most seeds find. Keeping the medoid of several fits drops those without looking
    at any label (consensus clustering, Monti et al. 2003; Strehl & Ghosh 2002).
    """
    if len(partitions) == 1:
        return 0, float("nan")
    agreement = pairwise_agreement(partitions)
    off_diagonal = ~np.eye(len(partitions), dtype=bool)
    mean_to_others = np.where(off_diagonal, agreement, 0.0).sum(axis=1) / (len(partitions) - 1)
    return int(np.argmax(mean_to_others)), float(agreement[off_diagonal].mean())


def cluster(
    latents: np.ndarray, n_clusters: int, method: str = "kmeans", seed: int = 0, n_init: int = 10, *, reg_covar: float = 1e-6
) -> np.ndarray:
    """Labels (N,) from the named clustering method: ``kmeans`` or ``gmm`` (which
    takes ``reg_covar``, see :func:`gaussian_mixture`)."""
    if method not in CLUSTERERS:
        raise ValueError(f"Unknown clustering method '{method}'; choose one of {sorted(CLUSTERERS)}.")
    if method == "gmm":
        return gaussian_mixture(latents, n_clusters, seed, n_init, reg_covar=reg_covar)
    return kmeans(latents, n_clusters, seed, n_init)


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
