"""Tests of clustering and its metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from cell_clustering.evaluation import (
    as_mlflow_metrics,
    compare,
    composition,
    condition_ceiling,
    consensus_choice,
    hungarian_accuracy,
    internal_scores,
    linear_probe,
    morphology,
    principal_components,
    report_assignments,
    seeded_clusterings,
    standardise,
)
from cell_clustering.pipelines.evaluation.nodes import (
    FIGURE_TITLES,
    build_report,
    cluster_composition,
    compact_comparison,
    compare_representations,
    field_statistics,
    plot_cluster_samples,
    represent_cells,
)
from tests.parameters import block

PARAMS = block("evaluation", representations=["latents"], heads=["kmeans", "gmm"], n_clusters=[3], seeds=[0, 1],
               report={"representation": "latents", "head": "kmeans", "k": 3}, n_init=5, control_condition="a")


def _blobs(n: int = 300, seed: int = 0):
    latents, truth = make_blobs(n_samples=n, centers=3, cluster_std=0.5, center_box=(-20, 20), random_state=seed)
    metadata = pd.DataFrame({"field": "f", "condition": np.array(["a", "b", "c"])[truth], "cell_label": range(n)})
    return latents.astype(np.float32), truth, metadata


def test_hungarian_accuracy_hand_checked_case():
    truth = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    clusters = np.array([2, 2, 1, 0, 0, 1, 1, 1])
    # Best matching: 2→0 (2 right), 0→1 (2 right), 1→2 (3 right): 7 of 8.
    assert hungarian_accuracy(truth, clusters) == pytest.approx(7 / 8)


def test_well_separated_blobs_are_found_exactly_by_every_head_and_seed():
    latents, truth, metadata = _blobs()
    table = compare({"latents": latents}, PARAMS, metadata["condition"].to_numpy(), None)
    assert list(table["head"]) == ["kmeans", "gmm"] and (table["n_seeds"] == 2).all()
    assert (table["accuracy"] == 1.0).all() and (table["accuracy_sd"] == 0.0).all()
    assert table["nmi"].to_numpy() == pytest.approx(1.0)
    metrics_ = as_mlflow_metrics(table, {"probe_shape_accuracy": {"latents": 0.9}, "shape_condition_nmi_ceiling": 0.4})
    assert metrics_["latents.kmeans.k3.accuracy"] == {"value": 1.0, "step": 0}
    assert metrics_["latents.gmm.k3.accuracy_sd"]["value"] == 0.0
    assert metrics_["latents.probe.shape_accuracy"]["value"] == 0.9 and "truth.shape_condition_nmi_ceiling" in metrics_


def test_consensus_keeps_the_partition_most_others_agree_with_and_measures_their_agreement():
    common = np.repeat([0, 1, 2], 10)
    relabelled = (common + 1) % 3  # the same partition under other cluster numbers
    merged = np.where(common == 2, 1, common)  # a fit that merged two clusters
    index, stability = consensus_choice([merged, common, relabelled, common])
    assert index in (1, 2, 3)
    # Pairs: three identical (ARI 1) and three against the merged fit.
    against_merged = metrics.adjusted_rand_score(common, merged)
    assert stability == pytest.approx((3 * 1.0 + 3 * against_merged) / 6)
    assert consensus_choice([common]) == (0, pytest.approx(np.nan, nan_ok=True))


def test_umap_heads_report_the_stability_of_their_candidates():
    latents, truth, metadata = _blobs(n=200)
    params = block("evaluation", representations=["latents"], heads=["umap_gmm", "kmeans"], n_clusters=[3], seeds=[0, 1],
                   report={"representation": "latents", "head": "umap_gmm", "k": 3}, n_init=2,
                   umap={"n_components": 2, "n_neighbors": 15, "candidates": 3})
    table = compare({"latents": latents}, params, metadata["condition"].to_numpy(), None).set_index("head")
    assert table.at["umap_gmm", "accuracy"] == 1.0
    assert table.at["umap_gmm", "stability"] == pytest.approx(1.0)  # well-separated blobs: every fit agrees
    assert pd.isna(table.at["kmeans", "stability"])  # a single fit has no stability


def test_comparison_table_does_not_depend_on_the_number_of_threads():
    """Overlapping blobs (heads and seeds disagree) and two representations, so every
    (representation, seed) fit differs: one thread and three give the same table."""
    latents, _, metadata = _blobs(n=240)
    noisy = latents + np.random.default_rng(0).normal(0, 6, latents.shape).astype(np.float32)
    spaces = {"latents": noisy, "morphology": noisy[:, ::-1].copy()}
    tables = []
    for n_threads in (1, 3):
        params = block("evaluation", representations=["latents", "morphology"], heads=["kmeans", "gmm", "umap_gmm"],
                       n_clusters=[3, 4], seeds=[0, 1, 2], report={"representation": "latents", "head": "gmm", "k": 3},
                       n_init=2, n_threads=n_threads, gmm={"n_init": 2}, umap={"n_components": 2, "candidates": 2})
        tables.append(compare(spaces, params, metadata["condition"].to_numpy(), None))
    assert tables[0]["accuracy_sd"].max() > 0  # the seeds really differ
    pd.testing.assert_frame_equal(tables[0], tables[1])


def _blobs_in_ten_dimensions(seed: int) -> np.ndarray:
    """Three blobs in a plane, mixed into ten correlated dimensions with a little noise:
    after standardising, two principal components hold nearly all the variance."""
    rng = np.random.default_rng(seed)
    plane, _ = make_blobs(n_samples=150, centers=3, cluster_std=3.0, center_box=(-6, 6), random_state=seed)
    return plane @ rng.normal(size=(2, 10)) + rng.normal(scale=0.3, size=(150, 10))


def test_principal_components_keep_the_directions_that_hold_the_variance_share():
    values = standardise(_blobs_in_ten_dimensions(seed=1))
    kept = principal_components(values, 0.95)
    assert kept.shape == (150, 2)
    assert kept.dtype == values.dtype
    reference = PCA(n_components=0.95, svd_solver="full").fit(values)
    np.testing.assert_allclose(kept, reference.transform(values), rtol=1e-5, atol=1e-5)
    assert principal_components(values, None) is values


def test_gmm_head_is_the_best_of_its_starts_on_the_principal_components_of_its_parameters():
    latents = _blobs_in_ten_dimensions(seed=0)  # overlapping: the mixture without the projection differs (ARI 0.86)
    params = block("evaluation", representations=["latents"], heads=["gmm"], n_clusters=[3], seeds=[4],
                   report={"representation": "latents", "head": "gmm", "k": 3}, n_init=1,
                   gmm={"reg_covar": 0.5, "n_init": 3, "variance_share": 0.9}, control_condition="a")
    labels = seeded_clusterings(latents, params)[0]
    space = PCA(n_components=0.9, svd_solver="full").fit_transform(standardise(latents))
    expected = GaussianMixture(3, covariance_type="full", n_init=3, reg_covar=0.5, random_state=4).fit_predict(space)
    assert metrics.adjusted_rand_score(labels, expected) == 1.0
    with pytest.raises(ValueError, match="reg_covar"):
        block("evaluation", gmm={"reg_covar": 0.0})
    for share in (0.0, 1.0):  # 1.0 too: scikit-learn's PCA takes a share only below 1 (null keeps all)
        with pytest.raises(ValueError, match="variance_share"):
            block("evaluation", gmm={"variance_share": share})


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
        compare({"latents": np.zeros((2, 4), np.float32)}, PARAMS, metadata["condition"].to_numpy(), None)


def test_single_condition_skips_label_metrics():
    latents, _ = make_blobs(n_samples=60, centers=3, random_state=2)
    table = compare({"latents": latents}, PARAMS, None, None)
    assert "accuracy" not in table and "silhouette" in table


def test_linear_probe_reads_what_a_representation_carries():
    latents, truth, _ = _blobs()
    assert linear_probe(latents, truth) == 1.0
    noise = np.random.default_rng(0).normal(size=(300, 5))
    assert linear_probe(noise, truth) < 0.5  # chance is 1/3
    assert np.isnan(linear_probe(latents[:6], truth[:6]))  # a class smaller than the folds


def test_condition_ceiling_is_the_nmi_of_shape_and_condition():
    shapes = np.repeat(["round", "spread"], 50)
    assert condition_ceiling(shapes, np.repeat(["a", "b"], 50)) == pytest.approx(1.0)
    assert condition_ceiling(shapes, np.tile(["a", "b"], 50)) == pytest.approx(0.0, abs=1e-9)
    assert condition_ceiling(None, shapes) is None


def test_morphology_is_standardised_over_all_cells_or_against_the_control():
    metadata = pd.DataFrame({"condition": ["control"] * 4 + ["Rac1"] * 4, "area": [1, 2, 3, 4, 10, 11, 12, 13.0]})
    everyone = morphology(metadata, features=("area",))
    assert everyone.mean() == pytest.approx(0.0, abs=1e-6) and everyone.std() == pytest.approx(1.0, rel=1e-5)
    against_control = morphology(metadata, features=("area",), normalise="control", control="control")
    assert against_control[:4].mean() == pytest.approx(0.0, abs=1e-6) and against_control[4:].mean() > 5
    with pytest.raises(ValueError, match="0 cells of 'WT'"):
        morphology(metadata, features=("area",), normalise="control", control="WT")


def test_representations_are_aligned_and_the_report_clusters_every_k():
    latents, truth, metadata = _blobs(90)
    metadata = metadata.assign(**{name: np.random.default_rng(0).uniform(size=90) for name in
                                  ("area", "perimeter", "major_axis_length", "minor_axis_length", "eccentricity", "solidity",
                                   "extent", "mean_intensity", "aspect_ratio", "angle_to_grooves_deg", "orientation")})
    params = block("evaluation", n_clusters=[2, 3], seeds=[0], report={"k": 3}, control_condition="a", pixels={"n_components": 3})
    representations = represent_cells(latents, np.zeros((90, 1, 8, 8), np.float32), metadata, params)
    assert {name: values.shape for name, values in representations.items()} == {"latents": (90, 2), "morphology": (90, 11), "pixels_pca": (90, 3)}
    assignments = report_assignments(representations, metadata, params, ["field", "condition", "cell_label"])
    assert list(assignments.columns) == ["field", "condition", "cell_label", "cluster_k2", "cluster_k3"]
    with pytest.raises(ValueError, match="latents has 89 rows but patch_metadata 90"):
        represent_cells(latents[:89], np.zeros((90, 1, 8, 8), np.float32), metadata, params)


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
    assignments = pd.DataFrame({"field": "control/a", "condition": "control", "cluster_k2": np.arange(10) % 2})
    params = block("evaluation", n_clusters=[2], report={"k": 2}, control_condition="control", samples_per_cluster=3)
    table, test = cluster_composition(assignments, params)
    assert "only one condition" in test["note"]
    assert "enrichment_p_value" not in table
    _, field_effects, field_test = field_statistics(assignments, params)
    assert field_effects.empty and "two fields each" in field_test["note"]
    _, png = plot_cluster_samples(np.zeros((10, 1, 8, 8), np.float32), assignments, params)
    metrics_table = pd.DataFrame({"representation": ["latents"], "head": ["gmm"], "k": [2], "silhouette": [0.5]})
    fields = pd.DataFrame({"field": ["control/a", "control/notes"], "condition": "control", "status": ["ok", "skipped: 'notes.txt' is not an image file"],
                           "pixel_size_um": 0.65, "rotation_deg": 0.0})
    method = {"method": "cellpose", "reason": "3 annotated field(s) to train Cellpose on"}
    page = build_report(
        metrics_table, {"probe_shape_accuracy": {}}, table, test, field_effects, field_test, fields, method, "<p>map</p>", [], params,
        **dict.fromkeys(FIGURE_TITLES, png),
    )
    assert "only one condition" in page and "two fields each" in page
    assert "notes.txt" in page and "Segmented with cellpose" in page
    assert page.count("<img ") == 5 and page.count("<table") == 5  # the full comparison folded under the compact one; no empty field table
    assert "NMI not computed" in page


def test_shape_class_scores_use_matched_cells_only():
    latents, truth, metadata = _blobs()
    shapes = np.array(["round", "spread", "ruffled"])[truth].astype(object)
    shapes[:10] = "unmatched"
    table, diagnostics, _ = compare_representations({"latents": latents}, metadata, PARAMS, pd.DataFrame({"shape_class": shapes}))
    assert (table["shape_accuracy"] == 1.0).all() and table["shape_nmi"].to_numpy() == pytest.approx(1.0)
    assert diagnostics["probe_shape_accuracy"]["latents"] == 1.0
    assert diagnostics["shape_condition_nmi_ceiling"] == pytest.approx(1.0)
    without, diagnostics, _ = compare_representations({"latents": latents}, metadata, PARAMS, pd.DataFrame())
    assert "shape_accuracy" not in without and diagnostics["shape_condition_nmi_ceiling"] is None


def test_compact_comparison_marks_the_best_head_at_the_reported_k():
    metrics_table = pd.DataFrame({
        "representation": ["latents", "latents", "morphology", "latents"], "head": ["kmeans", "umap_gmm", "kmeans", "kmeans"],
        "k": [5, 5, 5, 4], "shape_accuracy": [0.7, 0.91, 0.75, 0.99], "shape_accuracy_sd": [0.01, 0.02, 0.0, 0.0],
        "nmi": [0.3, 0.31, 0.2, 0.1],
    })
    table, lead = compact_comparison(metrics_table, 5)
    assert len(table) == 3  # k = 4 is not shown
    assert list(table["best"]) == ["", "★", ""] and lead == "Best at k = 5 by shape ACC: latents / umap_gmm."
    assert list(table["shape ACC"]) == ["0.700 ± 0.010", "0.910 ± 0.020", "0.750 ± 0.000"]
    assert list(table["condition NMI"]) == ["0.300", "0.310", "0.200"]  # no sd column: the mean alone
