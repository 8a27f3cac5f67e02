"""Slice test of the ``evaluation`` pipeline on separated blobs."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import torch
from PIL import Image
from sklearn.datasets import make_blobs

from cell_clustering.patching.morphology import with_physical_units
from cell_clustering.pipelines.evaluation import create_pipeline
from tests.parameters import block
from tests.pipelines.slices import run_slice


def test_evaluation_pipeline_clusters_scores_and_reports():
    latents, truth = make_blobs(n_samples=120, centers=3, n_features=6, cluster_std=0.5, random_state=0)
    conditions = np.array(["control", "Rac1", "PIK3CA"])[truth]
    rng = np.random.default_rng(0)
    features = {"area": truth * 100.0, "aspect_ratio": 1.0 + truth, "angle_to_grooves_deg": 10.0 * truth, "solidity": 0.9}
    features.update({name: rng.uniform(size=120) for name in ("perimeter", "major_axis_length", "minor_axis_length",
                                                              "eccentricity", "extent", "mean_intensity", "orientation")})
    fields = [f"{condition}/f{index % 4}" for index, condition in enumerate(conditions)]  # 4 fields per condition
    metadata = with_physical_units(
        pd.DataFrame({"field": fields, "condition": conditions, "cell_label": range(120), **features}), pixel_size_um=0.65
    )
    patch_truth = pd.DataFrame({"shape_class": np.array(["round", "spread", "elongated"])[truth]})
    params = block("evaluation", n_clusters=[2, 3], seeds=[0, 1], report={"k": 3}, n_init=2,
                   umap={"n_neighbors": 10}, pixels={"n_components": 4})
    patches = rng.uniform(size=(120, 1, 8, 8)).astype(np.float32)
    outputs = run_slice(create_pipeline(), {
        "latents": latents.astype(np.float32), "patch_metadata": metadata, "patch_truth": patch_truth,
        "patches": patches, "params:evaluation": params,
        "field_table": pd.DataFrame({"field": ["f"], "condition": ["control"], "status": ["ok"], "pixel_size_um": [0.65], "rotation_deg": [3.0],
                                     "angle_confidence": [0.2], "low_confidence": [True], "density_bin": ["crowded"]}),
        "segmentation_method": {"method": "classical", "reason": "no annotated field"},
        # What the trained chain (reference, model card, registered model) is made of.
        "trained_model": {"model": "contrastive", "config": {}, "state_dict": {"weight": torch.ones(2)}},
        **{f"params:{name}": block(name) for name in ("preprocessing", "segmentation", "patching", "inference")},
        **_stage_outputs(),
    })
    metrics = outputs["clustering_metrics"].set_index(["representation", "head", "k"])
    assert set(metrics.index.get_level_values("representation")) == {"latents", "morphology", "pixels_pca"}
    assert metrics.loc[("latents", "kmeans", 3), "accuracy"] == 1.0
    assert metrics.loc[("latents", "gmm", 3), "shape_accuracy"] == 1.0
    assert outputs["representation_diagnostics"]["probe_shape_accuracy"]["latents"] == 1.0
    assert outputs["representation_diagnostics"]["probe_shape_accuracy"]["pixels_pca"] < 0.6  # noise pixels
    assert list(outputs["cluster_assignments"].columns) == ["field", "condition", "cell_label", "cluster_k2", "cluster_k3"]
    assert outputs["composition_test"]["p_value"] < 1e-6
    assert outputs["field_level_test"]["n_fields"] == 12 and outputs["field_level_test"]["p_value"] < 0.01
    effects = outputs["field_effects"].set_index("cluster")
    assert len(effects) == 3 and effects["difference"].min() == -1.0  # the control fields' own cluster
    assert effects.loc[effects["difference"].idxmin(), "p_value"] < 0.01
    assert len(outputs["field_proportions"]) == 12
    profiles = outputs["cell_profiles"]
    assert len(profiles) == 120 and list(profiles["cell_label"]) == list(range(120))
    np.testing.assert_array_equal(profiles[[f"latent_{i}" for i in range(6)]].to_numpy(), latents.astype(np.float32))
    np.testing.assert_array_equal(profiles["cluster"], outputs["cluster_assignments"]["cluster_k3"])
    assert set(profiles["clustered_by"]) == {f"{params.report.representation} / {params.report.head} / k=3"}
    assert {"field", "condition", "cell_label", "aspect_ratio", "angle_to_grooves_deg", "cluster_k2"} <= set(profiles)
    assert outputs["cell_profiles_csv"].equals(profiles)
    report = outputs["evaluation_report"]
    assert report.count("<img ") == 10 and "NMI(cluster, condition) = 1.000" in report  # 4 stage + 5 figures, the map's preview
    # The stages before the clustering, each led by its answer.
    assert "13 cells found in 2 fields; 1 fields with none: Rac1/f0." in report
    assert "mean AP@0.5 cellpose 0.900; classical 0.500" in report and "Patching: 12 patches from 13 segmented cells" in report
    assert "75% of the cells have a longest side within 40 px, 95 % within 48 px" in report
    assert re.search(r"Training of the shape model[^<]*</h2>\s*<p>Not found", report)
    assert "id=\"latent-map\"" in report and "plotly_hover" in report and "<script src=" not in report  # plotly.js inline: offline
    reference, card = outputs["clustering_reference"], outputs["model_card"]
    assert list(reference["cluster_k3"]) == list(outputs["cluster_assignments"]["cluster_k3"]) and len(reference) == 120
    assert card["n_training_cells"] == 120 and card["clusters"]["k"] == 3 and card["transfer"]["distance_threshold"] > 0
    assert card["transfer"]["measurement_threshold"] > 0
    np.testing.assert_array_equal(reference["area_um2"], metadata["area_um2"])  # the measurements the drift test compares
    assert card["fields"]["pixel_size_um"]["median"] == 0.65 and "patching" in card["parameters"]
    assert "Segmented with classical: no annotated field" in report and "Input: 1 fields read, 0 skipped, 1 without a confident groove angle" in report
    assert "not found with confidence are not rotated: f." in report


def _stage_outputs() -> dict:
    """What the earlier stages saved, as the report reads it back: figures as images,
    the QC tables."""
    picture = Image.new("RGB", (20, 10), "white")
    quality = pd.DataFrame({
        "method": ["cellpose", "cellpose", "classical", "classical"], "field": ["control/f0", "overall"] * 2,
        "ap_0.5": [0.9, 0.9, 0.5, 0.5], "aggregated_jaccard": [0.8, 0.8, 0.4, 0.4], "n_true": 5, "n_predicted": 5,
    })
    return {
        **{f"{name}@png": picture for name in ("preprocessing_figure", "segmentation_figure", "cell_size_figure", "patch_grid_figure")},
        "training_curves@png": None,  # a model trained before the curves were drawn: said, not a failure
        "cells_per_field": pd.DataFrame({"field": ["control/f0", "Rac1/f0"], "n_cells": [13, 0], "method": "cellpose"}),
        "segmentation_quality": quality,
        "patch_counts": pd.DataFrame({"condition": ["control", "Rac1", "total"], "segmented_cells": [13, 0, 13], "patches": [12, 0, 12]}),
        "cell_size_suggestion": {"configured_patch_size": 40, "share_fitting_configured_size": 0.75, "suggested_patch_size": 48,
                                 "percentile": 95.0},
    }
