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
distribution detection with deep nearest neighbors", ICML 2022.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from cell_clustering.errors import ProjectValueError


class Reference(NamedTuple):
    """The training cells a new cell is compared with.

    latents : (N, D) float array, the training cells' latents (not standardised)
    clusters : (N,) int array, their reported clusters
    """

    latents: np.ndarray
    clusters: np.ndarray


class Transfer(NamedTuple):
    """Per new cell: cluster, mean distance to its k nearest training cells, and flag."""

    clusters: np.ndarray
    distance: np.ndarray
    out_of_distribution: np.ndarray


def _scaled(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` standardised with the mean and sd of ``reference`` (as the head did)."""
    scale = reference.std(axis=0)
    return (values - reference.mean(axis=0)) / np.where(scale > 0, scale, 1.0)


def _check(reference: Reference, latents: np.ndarray, n_neighbors: int) -> None:
    if latents.ndim != 2 or latents.shape[1] != reference.latents.shape[1]:
        raise ProjectValueError(
            f"The new cells' latents have shape {latents.shape}; the trained clusters were found in "
            f"{reference.latents.shape[1]} latent dimensions. Encode them with the shape model of the same run."
        )
    if len(reference.latents) <= n_neighbors:
        raise ProjectValueError(
            f"inference.n_neighbors ({n_neighbors}) must be below the number of training cells "
            f"({len(reference.latents)}); lower it."
        )


def distance_threshold(reference: Reference, *, n_neighbors: int, quantile: float) -> float:
    """The ``quantile`` of the training cells' mean distance to their ``n_neighbors``
    nearest other training cells (leave-one-out), in the standardised space."""
    _check(reference, reference.latents, n_neighbors)
    scaled = _scaled(reference.latents, reference.latents)
    distances, _ = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(scaled).kneighbors(scaled)
    return float(np.quantile(distances[:, 1:].mean(axis=1), quantile))  # column 0: the cell itself


def transfer_clusters(reference: Reference, latents: np.ndarray, *, n_neighbors: int, threshold: float) -> Transfer:
    """The trained clusters of new cells.

    Parameters
    ----------
    reference : Reference
        The training cells' latents (N, D) and reported clusters (N,).
    latents : (M, D) float array
        The new cells' latents, encoded by the same shape model.
    n_neighbors : int
        Training cells that vote, weighted by inverse distance.
    threshold : float
        Mean k-nearest distance above which a cell is flagged (:func:`distance_threshold`).

    Returns
    -------
    Transfer
        ``clusters`` (M,), ``distance`` (M,) and ``out_of_distribution`` (M,) bool.
    """
    _check(reference, latents, n_neighbors)
    if len(latents) == 0:
        return Transfer(np.zeros(0, dtype=int), np.zeros(0), np.zeros(0, dtype=bool))
    train = _scaled(reference.latents, reference.latents)
    new = _scaled(reference.latents, latents.astype(np.float64))
    # Inverse-distance weights: a training cell met again (distance 0) decides alone.
    vote = KNeighborsClassifier(n_neighbors=n_neighbors, weights="distance").fit(train, reference.clusters)
    distances, _ = vote.kneighbors(new)
    mean_distance = distances.mean(axis=1)
    return Transfer(vote.predict(new).astype(int), mean_distance, mean_distance > threshold)
