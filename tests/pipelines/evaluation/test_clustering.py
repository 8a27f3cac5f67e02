"""Tests of clustering and its metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.datasets import make_blobs

from cell_clustering.evaluation import composition, hungarian_accuracy, internal_scores
from cell_clustering.pipelines.evaluation.nodes import (
    FIGURE_TITLES,
    build_report,
    cluster_composition,
    cluster_latents,
    plot_cluster_samples,
)
from tests.parameters import block

PARAMS = block("evaluation", n_clusters=[3], report_k=3, seed=0, n_init=5, label_column="condition", control_condition="a")


def test_hungarian_accuracy_hand_checked_case():
    truth = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    clusters = np.array([2, 2, 1, 0, 0, 1, 1, 1])
    # Best matching: 2→0 (2 right), 0→1 (2 right), 1→2 (3 right): 7 of 8.
    assert hungarian_accuracy(truth, clusters) == pytest.approx(7 / 8)


def test_well_separated_blobs_are_found_exactly():
    latents, truth = make_blobs(n_samples=300, centers=3, cluster_std=0.5, center_box=(-20, 20), random_state=0)
    metadata = pd.DataFrame({"field": "f", "condition": np.array(["a", "b", "c"])[truth], "cell_label": range(300)})
    assignments, table, mlflow_metrics = cluster_latents(latents.astype(np.float32), metadata, PARAMS)
    row = table.iloc[0]
    assert row["accuracy"] == 1.0 and row["nmi"] == pytest.approx(1.0) and row["ari"] == pytest.approx(1.0)
    assert mlflow_metrics["k3.accuracy"] == {"value": 1.0, "step": 0}
    assert len(assignments) == 300


def test_internal_scores_equal_scikit_learn():
    latents, _ = make_blobs(n_samples=120, centers=4, random_state=1)
    clusters = np.random.default_rng(0).integers(0, 4, 120)
    scores = internal_scores(latents, clusters)
    assert scores["silhouette"] == metrics.silhouette_score(latents, clusters)
    assert scores["davies_bouldin"] == metrics.davies_bouldin_score(latents, clusters)
    assert scores["calinski_harabasz"] == metrics.calinski_harabasz_score(latents, clusters)


def test_fewer_cells_than_k_names_k_and_count():
    metadata = pd.DataFrame({"field": "f", "condition": ["a", "b"], "cell_label": [1, 2]})
    with pytest.raises(ValueError, match="k=3 .* 2 cells"):
        cluster_latents(np.zeros((2, 4), np.float32), metadata, PARAMS)


def test_single_condition_skips_label_metrics():
    latents, _ = make_blobs(n_samples=60, centers=3, random_state=2)
    metadata = pd.DataFrame({"field": "f", "condition": "control", "cell_label": range(60)})
    _, table, _ = cluster_latents(latents, metadata, PARAMS)
    assert "accuracy" not in table


def _planted(dependent: bool, n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    clusters = rng.integers(0, 4, n)
    if dependent:
        conditions = np.where(clusters < 2, "control", rng.choice(["Rac1", "PIK3CA"], n))
    else:
        conditions = rng.choice(["control", "Rac1", "PIK3CA"], n)
    return clusters, conditions


def test_composition_sums_to_the_cells_and_to_100_percent():
    clusters, conditions = _planted(dependent=False)
    table, _ = composition(clusters, conditions, "control")
    per_cluster = table[table["cluster"] != "total"]
    assert per_cluster["n_cells"].sum() == 400 == table.set_index("cluster").loc["total", "n_cells"]
    np.testing.assert_allclose(per_cluster[["pct_control", "pct_mutant"]].sum(axis=1), 100.0)
    np.testing.assert_allclose(per_cluster[["pct_control", "pct_PIK3CA", "pct_Rac1"]].sum(axis=1), 100.0)
    assert per_cluster["enrichment_test"].str.contains("Fisher").all()


def test_chi_squared_detects_planted_dependence_only():
    _, dependent = composition(*_planted(dependent=True), "control")
    _, independent = composition(*_planted(dependent=False), "control")
    assert dependent["p_value"] < 1e-6
    assert independent["p_value"] > 0.05
    assert "chi-squared" in dependent["test"]


def test_single_condition_skips_statistics_with_a_note_and_report_says_so():
    assignments = pd.DataFrame({"condition": "control", "cluster_k2": np.arange(10) % 2})
    params = block("evaluation", report_k=2, n_clusters=[2], control_condition="control", seed=0, samples_per_cluster=3)
    table, test = cluster_composition(assignments, params)
    assert "only one condition" in test["note"]
    assert "enrichment_p_value" not in table
    _, png = plot_cluster_samples(np.zeros((10, 1, 8, 8), np.float32), assignments, params)
    metrics_table = pd.DataFrame({"k": [2], "silhouette": [0.5]})
    page = build_report(metrics_table, table, test, params, **dict.fromkeys(FIGURE_TITLES, png))
    assert "only one condition" in page
    assert page.count("<img ") == 5 and page.count("<table") == 2
    assert "NMI not computed" in page


def test_shape_class_scores_use_matched_cells_only():
    latents, truth = make_blobs(n_samples=300, centers=3, cluster_std=0.5, center_box=(-20, 20), random_state=0)
    metadata = pd.DataFrame({"field": "f", "condition": np.where(np.arange(300) % 2, "a", "b"), "cell_label": range(300)})
    shapes = np.array(["round", "spread", "ruffled"])[truth].astype(object)
    shapes[:10] = "unmatched"
    patch_truth = pd.DataFrame({"shape_class": shapes})
    _, table, _ = cluster_latents(latents, metadata, PARAMS, patch_truth)
    assert table.loc[0, "shape_accuracy"] == 1.0 and table.loc[0, "shape_nmi"] == pytest.approx(1.0)
    _, without, _ = cluster_latents(latents, metadata, PARAMS, pd.DataFrame())
    assert "shape_accuracy" not in without
