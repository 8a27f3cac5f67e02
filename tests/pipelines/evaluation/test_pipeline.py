"""Slice test of the ``evaluation`` pipeline on separated blobs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs

from cell_clustering.pipelines.evaluation import create_pipeline
from tests.parameters import block
from tests.pipelines.slices import run_slice


def test_evaluation_pipeline_clusters_scores_and_reports():
    latents, truth = make_blobs(n_samples=120, centers=3, n_features=6, cluster_std=0.5, random_state=0)
    conditions = np.array(["control", "Rac1", "PIK3CA"])[truth]
    metadata = pd.DataFrame({
        "field": "f", "condition": conditions, "cell_label": range(120), "area": truth * 100.0,
        "aspect_ratio": 1.0 + truth, "angle_to_grooves_deg": 10.0 * truth, "solidity": 0.9,
    })
    patch_truth = pd.DataFrame({"shape_class": np.array(["round", "spread", "elongated"])[truth]})
    params = block("evaluation", n_clusters=[2, 3], report_k=3, n_init=2, umap={"n_neighbors": 10})
    outputs = run_slice(create_pipeline(), {
        "latents": latents.astype(np.float32), "patch_metadata": metadata, "patch_truth": patch_truth,
        "patches": np.zeros((120, 1, 8, 8), np.float32), "params:evaluation": params,
    })
    metrics = outputs["clustering_metrics"].set_index("k")
    assert metrics.loc[3, "accuracy"] == 1.0 and metrics.loc[3, "shape_accuracy"] == 1.0
    assert list(outputs["cluster_assignments"].columns) == ["field", "condition", "cell_label", "cluster_k2", "cluster_k3"]
    assert outputs["composition_test"]["p_value"] < 1e-6
    report = outputs["evaluation_report"]
    assert report.count("<img ") == 5 and "NMI(cluster, condition) = 1.000" in report
