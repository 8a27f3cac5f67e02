"""Clusters of a trained run carried to new cells, and cells that fit none of them.

The reported head (UMAP + mixture, from several candidate fits) has no exact
``predict``: ``UMAP.transform`` places even the training cells a little off their
own embedding. New cells therefore take the clusters of their nearest training cells
in the same standardised latent space the head clustered (a distance-weighted
k-nearest-neighbour vote, as single-cell label transfer does). A training cell is its
own nearest neighbour at distance 0 and gets exactly its training cluster.

A cell is out of distribution when its mean distance to its k nearest training cells
exceeds what training cells show among themselves (the ``quantile`` of their
leave-one-out distances), the nearest-neighbour test of Sun et al., "Out-of-
distribution detection with deep nearest neighbors", ICML 2022. The same test runs on
the cells' measurements (``DRIFT_FEATURES``: size in µm, shape, brightness), which
need no shape model: a small or under-trained model can map a foreign object close
to the cells it knows, but not change the object's size, solidity or brightness.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from cell_clustering.errors import ProjectValueError
from cell_clustering.evaluation import standardise

# Per-cell measurements of the patching pipeline's morphology table whose drift says a
# new cell is unlike every training cell: physical sizes (the pixel size is checked
# apart), shape and brightness; no orientation, which conditions may change.
DRIFT_FEATURES = (
    "area_um2", "perimeter_um", "major_axis_length_um", "minor_axis_length_um", "eccentricity", "solidity", "extent",
    "mean_intensity",
)


class Reference(NamedTuple):
    """The training cells a new cell is compared with.

    latents : (N, D) float array, the training cells' latents or measurements (not
        standardised)
    clusters : (N,) int array, their reported clusters
    """

    latents: np.ndarray
    clusters: np.ndarray


def reference_latents(reference: pd.DataFrame) -> np.ndarray:
    """(N, D) float64 latents of a saved clustering reference (its ``latent_<i>`` columns)."""
    return reference[[c for c in reference if c.startswith("latent_")]].to_numpy(dtype=np.float64)


class Transfer(NamedTuple):
    """Per new cell: cluster, mean distance to its k nearest training cells, and flag."""

    clusters: np.ndarray
    distance: np.ndarray
    out_of_distribution: np.ndarray


def _check(training: np.ndarray, latents: np.ndarray, n_neighbors: int) -> None:
    if latents.ndim != 2 or latents.shape[1] != training.shape[1]:
        raise ProjectValueError(
            f"The new cells' values have shape {latents.shape}; the trained run's cells have "
            f"{training.shape[1]} (latent dimensions or measurements). Encode and measure them with "
            "the shape model and the configuration of the same run."
        )
    if len(training) <= n_neighbors:
        raise ProjectValueError(
            f"inference.n_neighbors ({n_neighbors}) must be below the number of training cells "
            f"({len(training)}); lower it."
        )


def distance_threshold(training: np.ndarray, *, n_neighbors: int, quantile: float) -> float:
    """The ``quantile`` of the training cells' mean distance to their ``n_neighbors``
    nearest other training cells (leave-one-out), in the standardised space of
    ``training`` (N, D), their latents or measurements."""
    _check(training, training, n_neighbors)
    distances, _ = _nearest(training, training, n_neighbors + 1)
    return float(np.quantile(distances[:, 1:].mean(axis=1), quantile))  # column 0: the cell itself


def _nearest(training: np.ndarray, values: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices (M, n_neighbors) of each row's nearest training rows, both
    standardised with the training rows' mean and sd (as the head saw them)."""
    scaled = standardise(training)
    search = NearestNeighbors(n_neighbors=n_neighbors).fit(scaled)
    return search.kneighbors(standardise(values.astype(np.float64), reference=training))


def distance_to_training(training: np.ndarray, values: np.ndarray, *, n_neighbors: int) -> np.ndarray:
    """(M,) mean distance of each row of ``values`` to its ``n_neighbors`` nearest rows of
    ``training`` (N, D), both standardised with the training rows' mean and sd: the drift
    test alone, without a vote (the cells' measurements have no clusters to carry)."""
    _check(training, values, n_neighbors)
    if len(values) == 0:
        return np.zeros(0)
    distances, _ = _nearest(training, values, n_neighbors)
    return distances.mean(axis=1)


def _vote(clusters: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """(M,) cluster of inverse-distance weight majority among the neighbours'
    ``clusters`` (M, k); a neighbour at distance 0 decides alone (scikit-learn's
    ``weights="distance"``), ties go to the smaller label."""
    with np.errstate(divide="ignore"):
        weights = 1.0 / distances
    met_again = np.isinf(weights)
    weights[met_again.any(axis=1)] = met_again[met_again.any(axis=1)]
    labels = np.unique(clusters)
    scores = np.stack([(weights * (clusters == label)).sum(axis=1) for label in labels], axis=1)
    return labels[scores.argmax(axis=1)]


def transfer_clusters(reference: Reference, latents: np.ndarray, *, n_neighbors: int, threshold: float) -> Transfer:
    """The trained clusters of new cells.

    Parameters
    ----------
    reference : Reference
        The training cells' latents (N, D) and reported clusters, (N,) or one column
        per clustering (N, C).
    latents : (M, D) float array
        The new cells' latents, encoded by the same shape model (or their
        measurements, to test drift alone).
    n_neighbors : int
        Training cells that vote, weighted by inverse distance.
    threshold : float
        Mean k-nearest distance above which a cell is flagged (:func:`distance_threshold`).

    Returns
    -------
    Transfer
        ``clusters`` (M,) or (M, C), ``distance`` (M,) and ``out_of_distribution`` (M,) bool.
    """
    _check(reference.latents, latents, n_neighbors)
    training_clusters = np.asarray(reference.clusters)
    if len(latents) == 0:
        return Transfer(np.zeros((0, *training_clusters.shape[1:]), dtype=int), np.zeros(0), np.zeros(0, dtype=bool))
    distances, indices = _nearest(reference.latents, latents, n_neighbors)
    neighbours = training_clusters[indices]  # (M, k) or (M, k, C)
    if neighbours.ndim == 2:
        clusters = _vote(neighbours, distances)
    else:
        clusters = np.stack([_vote(neighbours[..., c], distances) for c in range(neighbours.shape[2])], axis=1)
    mean_distance = distances.mean(axis=1)
    return Transfer(clusters.astype(int), mean_distance, mean_distance > threshold)
