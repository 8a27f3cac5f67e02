"""Every representation through every clustering head, over several seeds, scored
against what is known; and the diagnostics that need the truth.

One row per (representation, head, k) with the mean and standard deviation over the
seeds of: silhouette, Davies-Bouldin and Calinski-Harabasz (in the space the head
clustered), and, where labels exist, accuracy, NMI and ARI against the condition and
(on the demo) the planted shape. The linear probe (cross-validated logistic
regression) measures how much of the planted shape a representation carries at all;
it is a diagnostic and is never used to choose anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from cell_clustering.evaluation.clustering import (
    candidate_seeds,
    cluster,
    consensus_choice,
    principal_components,
    umap_embedding,
)
from cell_clustering.evaluation.representations import standardise
from cell_clustering.evaluation.scoring import UNMATCHED, score
from cell_clustering.parameters.evaluation import EvaluationParams

METRICS = (
    "stability", "silhouette", "davies_bouldin", "calinski_harabasz", "accuracy", "nmi", "ari",
    "shape_accuracy", "shape_nmi", "shape_ari",
)


class _Spaces:
    """The standardised representation and its UMAPs (``umap.candidates`` per
    clustering seed), computed once and shared by every head and k."""

    def __init__(self, values: np.ndarray, params: EvaluationParams) -> None:
        self.values, self.params, self._umaps = standardise(values), params, {}

    def umaps(self, seed: int) -> list[tuple[int, np.ndarray]]:
        """(UMAP seed, embedding) of every candidate behind clustering seed ``seed``."""
        if seed not in self._umaps:
            umap = self.params.umap
            self._umaps[seed] = [
                (umap_seed, umap_embedding(self.values, umap.n_components, umap.n_neighbors, umap_seed, umap.min_dist))
                for umap_seed in candidate_seeds(seed, umap.candidates)
            ]
        return self._umaps[seed]


class HeadResult(NamedTuple):
    """One head's clusters, the space it drew them in and, for the ``umap_*`` heads,
    the mean agreement (ARI) between its candidate fits (NaN with one candidate)."""

    labels: np.ndarray
    space: np.ndarray
    stability: float = float("nan")


def head_labels(spaces: _Spaces, head: str, k: int, seed: int, n_init: int) -> HeadResult:
    """The clusters of one head at clustering seed ``seed``.

    ``kmeans`` / ``gmm`` cluster the standardised representation (``gmm`` on its principal
    components holding ``gmm.variance_share`` of the variance, from ``gmm.n_init`` starts
    with the covariance floor ``gmm.reg_covar``). ``umap_*`` heads fit
    the clusterer on each candidate UMAP and keep the medoid partition (see
    :func:`~cell_clustering.evaluation.clustering.consensus_choice`).
    """
    method, gmm = head.removeprefix("umap_"), spaces.params.gmm
    if head == "gmm":
        space = principal_components(spaces.values, gmm.variance_share)
        return HeadResult(cluster(space, k, method, seed, gmm.n_init, reg_covar=gmm.reg_covar), space)
    if head == "kmeans":
        return HeadResult(cluster(spaces.values, k, method, seed, n_init), spaces.values)
    fits = [(cluster(space, k, method, umap_seed, n_init), space) for umap_seed, space in spaces.umaps(seed)]
    chosen, stability = consensus_choice([labels for labels, _ in fits])
    return HeadResult(*fits[chosen], stability)


def _summary(representation: str, head: str, k: int, runs: list[dict[str, float]]) -> dict[str, Any]:
    row: dict[str, Any] = {"representation": representation, "head": head, "k": k, "n_seeds": len(runs)}
    for name in METRICS:
        values = [run[name] for run in runs if name in run]
        if values:
            row[name], row[f"{name}_sd"] = float(np.mean(values)), float(np.std(values))
    return row


def _runs_at_seed(
    values: np.ndarray, params: EvaluationParams, seed: int, labels: np.ndarray | None, shape_classes: np.ndarray | None
) -> dict[tuple[str, int], dict[str, float]]:
    """Every (head, k) of one representation at clustering seed ``seed``, scored."""
    spaces, runs = _Spaces(values, params), {}
    for head in params.heads:
        for k in params.n_clusters:
            result = head_labels(spaces, head, k, seed, params.n_init)
            run = score(result.space, result.labels, labels, shape_classes)
            runs[head, k] = {**run, "stability": result.stability} if np.isfinite(result.stability) else run
    return runs


def compare(
    representations: Mapping[str, np.ndarray],
    params: EvaluationParams,
    labels: np.ndarray | None,
    shape_classes: np.ndarray | None,
) -> pd.DataFrame:
    """The comparison table: one row per representation × head × k (see the module).

    The (representation, seed) fits run on ``params.n_threads`` threads: scikit-learn's
    mixtures and UMAP's numba code release the GIL for most of their work (on 2 cores
    the demo's comparison took 30 s instead of 56 s). Each fit has its own seed, so
    the table does not depend on the number of threads.
    """
    tasks = [(name, seed) for name in representations for seed in params.seeds]
    with ThreadPoolExecutor(max_workers=params.n_threads) as pool:
        done = pool.map(lambda task: _runs_at_seed(representations[task[0]], params, task[1], labels, shape_classes), tasks)
        results = dict(zip(tasks, done, strict=True))
    rows = []
    for name, values in representations.items():
        for head in params.heads:
            for k in params.n_clusters:
                runs = [results[name, seed][head, k] for seed in params.seeds]
                rows.append({**_summary(name, head, k, runs), "n_cells": len(values)})
    return pd.DataFrame(rows)


def linear_probe(values: np.ndarray, classes: np.ndarray, *, folds: int = 5, seed: int = 0) -> float:
    """Mean accuracy of a cross-validated logistic regression from ``values`` to
    ``classes`` (standardised inside each fold); NaN when a class is too small."""
    counts = np.unique(classes, return_counts=True)[1]
    if len(counts) < 2 or counts.min() < folds:
        return float("nan")
    model = LogisticRegression(max_iter=5000)
    scores = cross_val_score(model, standardise(values), classes, cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    return float(scores.mean())


def probes(representations: Mapping[str, np.ndarray], shape_classes: np.ndarray | None) -> dict[str, float]:
    """The linear probe of every representation against the planted shape."""
    if shape_classes is None:
        return {}
    matched = shape_classes != UNMATCHED
    return {name: linear_probe(values[matched], shape_classes[matched]) for name, values in representations.items()}


def condition_ceiling(shape_classes: np.ndarray | None, conditions: np.ndarray) -> float | None:
    """NMI(planted shape, condition): no clustering by shape can recover more of the
    condition than this."""
    if shape_classes is None:
        return None
    matched = shape_classes != UNMATCHED
    return float(metrics.normalized_mutual_info_score(shape_classes[matched], conditions[matched]))


def report_assignments(
    representations: Mapping[str, np.ndarray], patch_metadata: pd.DataFrame, params: EvaluationParams, id_columns: list[str]
) -> pd.DataFrame:
    """The reported clustering (``params.report``: representation and head, first seed)
    for every k: one row per cell, a ``cluster_k<k>`` column per k."""
    spaces = _Spaces(representations[params.report.representation], params)
    assignments = patch_metadata[id_columns].copy()
    for k in params.n_clusters:
        assignments[f"cluster_k{k}"] = head_labels(spaces, params.report.head, k, params.seeds[0], params.n_init).labels
    return assignments


def as_mlflow_metrics(table: pd.DataFrame, diagnostics: Mapping[str, Any]) -> dict[str, Any]:
    """``<representation>.<head>.k<k>.<metric>`` (and ``_sd``) for every finite score,
    the probes as ``<representation>.probe.shape_accuracy`` and the condition ceiling."""
    names = [name for metric in METRICS for name in (metric, f"{metric}_sd")]
    entries = {
        f"{row['representation']}.{row['head']}.k{int(row['k'])}.{name}": float(row[name])
        for row in table.to_dict("records")
        for name in names
        if name in row and pd.notna(row[name]) and np.isfinite(row[name])
    }
    for representation, value in diagnostics.get("probe_shape_accuracy", {}).items():
        if np.isfinite(value):
            entries[f"{representation}.probe.shape_accuracy"] = float(value)
    if diagnostics.get("shape_condition_nmi_ceiling") is not None:
        entries["truth.shape_condition_nmi_ceiling"] = float(diagnostics["shape_condition_nmi_ceiling"])
    return {name: {"value": value, "step": 0} for name, value in entries.items()}


def seeded_clusterings(values: np.ndarray, params: EvaluationParams) -> list[np.ndarray]:
    """The reported head's clusters of ``values`` at ``report.k``, one per seed."""
    spaces = _Spaces(values, params)
    return [head_labels(spaces, params.report.head, params.report.k, seed, params.n_init).labels for seed in params.seeds]
