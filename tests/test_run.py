"""End to end: the demo data and the whole default pipeline through a real KedroSession
(in a temporary project, see tests/kedro_project.py)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from mlflow.tracking import MlflowClient

from tests.kedro_project import make_project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("project"))
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(root)
    bootstrap_project(root)
    yield root
    monkeypatch.undo()
    mlflow.set_tracking_uri(None)


def test_registry_lists_the_six_pipelines(project):
    assert {"demo_data", "preprocessing", "segmentation", "patching", "modelling", "evaluation"} <= set(pipelines)
    default_nodes = {n.name for n in pipelines["__default__"].nodes}
    assert {"measure_fields", "train_cellpose", "segment_fields", "evaluate_segmentation", "extract_patches",
            "train_model", "compare_representations", "cluster_cells"} <= default_nodes
    assert "generate_demo_data" not in default_nodes


def test_kedro_run_without_images_says_how_to_make_them(tmp_path):
    # Through the real CLI, as a user meets it. (In-process, a failed run leaves
    # kedro-mlflow's hook state behind for the next session of the same process.)
    root = make_project(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "test"],
        check=False, cwd=root, capture_output=True, text=True, env={**os.environ, "DO_NOT_TRACK": "true"},
    )
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert "No raw images found" in output
    assert "kedro run --pipelines=demo_data" in output
    # A mistake the user can fix reads on one screen: no traceback, and from the failed
    # node to the end fewer than 15 lines; the known third-party start-up noise is gone.
    lines = (result.stdout + result.stderr).splitlines()
    first_error = next(i for i, line in enumerate(lines) if "ERROR" in line)
    assert len(lines) - first_error < 15, "\n".join(lines[first_error:])
    assert "Traceback" not in output and "Error: No raw images found" in output
    assert "Add type hints to the `predict` method" not in output


@pytest.mark.slow
def test_demo_then_default_pipeline_writes_clustering_table_and_mlflow_run(demo_run):
    project = demo_run  # demo_data, then `kedro run` (tests/conftest.py)
    fields = pd.read_csv(project / "data/01_raw/ground_truth/fields.csv")
    images = sorted((project / "data/01_raw/images").glob("*/*.tif"))
    assert len(images) == len(fields) == 5  # 1 field per condition in conf/test

    table_versions = sorted((project / "data/08_reporting/cluster_assignments.csv").iterdir())
    assignments = pd.read_csv(table_versions[-1] / "cluster_assignments.csv")
    patches_meta = pd.read_csv(next((project / "data/05_model_input/patch_metadata.csv").iterdir()) / "patch_metadata.csv")
    assert len(assignments) == len(patches_meta) > 0
    assert {"cluster_k2", "cluster_k3"} <= set(assignments.columns)
    assert set(assignments["condition"]) <= set(fields["condition"])

    counts = pd.read_csv(next((project / "data/08_reporting/patch_counts.csv").iterdir()) / "patch_counts.csv")
    assert counts.set_index("condition").loc["total", "patches"] == len(patches_meta)

    # The per-cell table, as an image-profiling user loads it: one row per patched cell.
    profiles = pd.read_parquet(next((project / "data/08_reporting/cell_profiles.parquet").iterdir()) / "cell_profiles.parquet")
    assert len(profiles) == len(patches_meta)
    assert {"field", "condition", "cell_label", "raw_centroid_row", "area_um2", "latent_0", "cluster", "clustered_by"} <= set(profiles)
    np.testing.assert_array_equal(profiles["cluster_k2"], assignments["cluster_k2"])

    report = next((project / "data/08_reporting/report.html").iterdir()) / "report.html"
    page = report.read_text()
    # 5 figures of the stages before the clustering, 5 of the clustering, the map's preview.
    assert page.count("<img ") == 11 and "NMI(cluster, condition)" in page
    total = counts.set_index("condition").loc["total"]
    assert f"Patching: {int(total['patches'])} patches from {int(total['segmented_cells'])} segmented cells" in page

    field_table = pd.read_csv(next((project / "data/02_intermediate/field_table.csv").iterdir()) / "field_table.csv")
    assert field_table["angle_error_deg"].max() < 2.0

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cell_clustering")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1  # the default run; demo_data is not tracked
    logged = runs[0]
    assert "clustering.latents.gmm.k2.silhouette" in logged.data.metrics
    assert "clustering.morphology.kmeans.k2.silhouette_sd" in logged.data.metrics  # baselines, over seeds
    truth = pd.read_csv(next((project / "data/05_model_input/patch_truth.csv").iterdir()) / "patch_truth.csv")
    matched_classes = set(truth["shape_class"].dropna()) - {"unmatched"}
    # Planted shape classes are scored where the run matched cells of at least two.
    assert ("clustering.pixels_pca.umap_gmm.k2.shape_nmi" in logged.data.metrics) == (len(matched_classes) >= 2)
    # The probe needs ≥ 5 matched cells per planted class; how many cells the tiny test
    # training of Cellpose finds varies by machine, so check the run against its own report.
    diagnostics = json.loads((next((project / "data/08_reporting/representation_diagnostics.json").iterdir())
                              / "representation_diagnostics.json").read_text())
    probe = diagnostics["probe_shape_accuracy"]["latents"]
    assert ("clustering.latents.probe.shape_accuracy" in logged.data.metrics) == (probe is not None and math.isfinite(probe))
    assert "clustering.truth.shape_condition_nmi_ceiling" in logged.data.metrics
    history = client.get_metric_history(logged.info.run_id, "training.train_total")
    # One point per epoch; conf/test asks 1 epoch but at least 20 updates, so a few epochs.
    assert sorted(point.step for point in history) == list(range(len(history))) and len(history) > 1
    assert logged.data.params["modelling.model.latent_dim"] == "4"
    artifacts = {a.path for a in client.list_artifacts(logged.info.run_id)}
    assert {"model", "reporting", "figures", "cellpose"} <= artifacts
    assert len(client.get_metric_history(logged.info.run_id, "cellpose.train_loss")) == 10  # n_checks
    # Segmentation quality of the trained CPnet and of the classical baseline.
    assert 0.0 <= logged.data.metrics["segmentation.cellpose.ap_0.5"] <= 1.0
    assert 0.0 <= logged.data.metrics["segmentation.classical.ap_0.5"] <= 1.0
    assert logged.data.metrics["preprocessing.max_angle_error_deg"] < 2.0
    assert logged.data.metrics["preprocessing.fields_per_second"] > 0
