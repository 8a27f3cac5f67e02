"""New cells put into trained clusters, and cells far from every cluster flagged
(``inference.transfer``), on fixed-seed blobs with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from cell_clustering import inference
from cell_clustering.evaluation import standardise


def _blobs(seed: int, n_per_cluster: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 0.0], [0.0, 6.0, 0.0]])
    clusters = np.repeat(np.arange(3), n_per_cluster)
    return centres[clusters] + rng.normal(0, 1.0, (len(clusters), 3)), clusters


@pytest.fixture
def reference() -> inference.Reference:
    latents, clusters = _blobs(0)
    return inference.Reference(latents.astype(np.float32), clusters)


def test_training_cells_get_exactly_their_own_cluster_even_where_neighbours_disagree(reference):
    # Relabel a few cells against their neighbours: a vote of neighbours alone would
    # overrule them; a training cell met again must keep its training cluster.
    clusters = reference.clusters.copy()
    clusters[[0, 70, 130]] = [2, 0, 1]
    relabelled = inference.Reference(reference.latents, clusters)
    threshold = inference.distance_threshold(relabelled.latents, n_neighbors=10, quantile=0.99)
    result = inference.transfer_clusters(relabelled, reference.latents, n_neighbors=10, threshold=threshold)
    np.testing.assert_array_equal(result.clusters, clusters)
    # Met again, a cell is at distance 0 from itself, so it is flagged only if its
    # leave-one-out distance is already beyond the 0.99 quantile: at most 1 + 1 % of (N - 1).
    assert result.out_of_distribution.sum() <= 1 + int(0.01 * (len(clusters) - 1))


def test_new_cells_drawn_like_the_training_cells_take_their_clusters_and_are_in_distribution(reference):
    new, truth = _blobs(1)
    threshold = inference.distance_threshold(reference.latents, n_neighbors=10, quantile=0.99)
    result = inference.transfer_clusters(reference, new, n_neighbors=10, threshold=threshold)
    assert (result.clusters == truth).mean() > 0.95
    assert result.out_of_distribution.mean() < 0.05


def test_cells_far_from_every_cluster_are_flagged(reference):
    rng = np.random.default_rng(2)
    far = rng.normal(0, 1.0, (40, 3)) + np.array([20.0, 20.0, 20.0])
    threshold = inference.distance_threshold(reference.latents, n_neighbors=10, quantile=0.99)
    result = inference.transfer_clusters(reference, far, n_neighbors=10, threshold=threshold)
    assert result.out_of_distribution.all()
    assert (result.distance > threshold).all()


def test_the_threshold_is_the_quantile_of_the_training_cells_leave_one_out_distances(reference):
    low = inference.distance_threshold(reference.latents, n_neighbors=5, quantile=0.5)
    high = inference.distance_threshold(reference.latents, n_neighbors=5, quantile=0.99)
    assert 0 < low < high


def test_latents_of_another_size_or_too_few_training_cells_are_refused(reference):
    with pytest.raises(ValueError, match="latent dimensions or measurements"):
        inference.transfer_clusters(reference, np.zeros((3, 5)), n_neighbors=5, threshold=1.0)
    small = inference.Reference(reference.latents[:4], reference.clusters[:4])
    with pytest.raises(ValueError, match="inference.n_neighbors"):
        inference.distance_threshold(small.latents, n_neighbors=5, quantile=0.9)


def test_the_vote_is_scikit_learns_distance_weighted_neighbours_for_every_clustering_at_once(reference):
    # Three clusterings of the same training cells (as cluster_k3/k4/k5), new cells
    # between the blobs where the weights decide.
    rng = np.random.default_rng(3)
    clusterings = np.stack([reference.clusters, (reference.clusters + 1) % 3, rng.integers(0, 4, len(reference.clusters))], axis=1)
    new = rng.uniform(-2, 8, (50, 3))
    result = inference.transfer_clusters(
        inference.Reference(reference.latents, clusterings), new, n_neighbors=7, threshold=np.inf
    )
    assert result.clusters.shape == (50, 3)
    for column in range(3):
        expected = KNeighborsClassifier(n_neighbors=7, weights="distance").fit(
            standardise(reference.latents), clusterings[:, column]
        ).predict(standardise(new, reference=reference.latents))
        np.testing.assert_array_equal(result.clusters[:, column], expected)
