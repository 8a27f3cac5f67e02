"""Scale-out: the per-field nodes give byte-identical outputs with the sequential, loky
and dask backends, and the DaskRunner runs the default pipeline with MLflow tracking.
Dask runs on a real ``distributed.LocalCluster`` on 127.0.0.1 (2 worker processes),
shut down by the test."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import LocalCluster
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from mlflow.tracking import MlflowClient

from cell_clustering.datasets import OptionalPartitionedDataset
from cell_clustering.parallel import SEQUENTIAL, FieldFailed, ordered_map
from cell_clustering.parallel.progress import Progress
from cell_clustering.parameters import ComputeParams
from cell_clustering.pipelines.patching.nodes import extract_patches
from cell_clustering.pipelines.preprocessing.nodes import (
    measure_fields,
    preprocess_fields,
)
from cell_clustering.pipelines.segmentation.nodes import segment_fields
from tests.faults.harness import latest_file

TIFF = {"type": "cell_clustering.datasets.TiffDataset", "save_args": {"photometric": "minisblack", "compression": "zlib"}}


@pytest.fixture(scope="module")
def local_cluster():
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    yield cluster
    cluster.close()


def _backends(cluster) -> dict[str, ComputeParams]:
    return {
        "sequential": ComputeParams(backend="sequential"),
        "loky": ComputeParams(backend="loky", n_workers=2),
        "dask": ComputeParams(backend="dask", scheduler_address=cluster.scheduler_address),
    }


def _save_and_digest(partitions: dict, folder: Path) -> dict[str, str]:
    OptionalPartitionedDataset(path=str(folder), dataset=TIFF, filename_suffix=".tif").save(partitions)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.tif"))}


def _catalog(project: Path):
    session = KedroSession.create(project_path=project, env="test")
    context = session.load_context()
    return session, context.catalog, context.params


def test_ordered_map_keeps_key_order_and_names_a_failing_field(local_cluster):
    def fails() -> int:
        raise ValueError("unreadable")

    tasks = {f"field_{i:02d}": (lambda i=i: i * i) for i in range(7)}
    for name, compute in _backends(local_cluster).items():
        results = list(ordered_map(tasks, compute))
        assert results == [(f"field_{i:02d}", i * i) for i in range(7)], name
        with pytest.raises(FieldFailed, match="Field 'field_03' failed: ValueError: unreadable"):
            list(ordered_map({**tasks, "field_03": fails}, compute))


@pytest.mark.slow
def test_per_field_nodes_give_identical_bytes_with_every_backend(demo_run, local_cluster, tmp_path, monkeypatch):
    monkeypatch.chdir(demo_run)
    session, catalog, params = _catalog(demo_run)
    try:
        raw_images, cellpose_model = catalog.load("raw_images"), catalog.load("cellpose_model")
        outputs: dict[str, dict] = {}
        for name, compute in _backends(local_cluster).items():
            table = measure_fields(raw_images, params["preprocessing"], compute)
            preprocessed = _save_and_digest(
                preprocess_fields(raw_images, table, params["preprocessing"], compute), tmp_path / name / "pre"
            )
            saved = OptionalPartitionedDataset(path=str(tmp_path / name / "pre"), dataset=TIFF, filename_suffix=".tif").load()
            masks = _save_and_digest(
                segment_fields(saved, cellpose_model, {"method": "cellpose", "trains_cellpose": True}, table, params["segmentation"], compute), tmp_path / name / "masks"
            )
            saved_masks = OptionalPartitionedDataset(path=str(tmp_path / name / "masks"), dataset=TIFF, filename_suffix=".tif").load()
            patches, metadata, cells = extract_patches(saved, saved_masks, table, params["patching"], compute)
            outputs[name] = {
                "field_table": table, "preprocessed": preprocessed, "masks": masks,
                "patches": hashlib.sha256(patches.tobytes()).hexdigest(), "metadata": metadata, "cells": cells,
            }
    finally:
        session.close()
    reference = outputs["sequential"]
    assert len(reference["preprocessed"]) == 5 and len(reference["masks"]) == 5
    for name in ("loky", "dask"):
        assert outputs[name]["preprocessed"] == reference["preprocessed"], name
        assert outputs[name]["masks"] == reference["masks"], name
        assert outputs[name]["patches"] == reference["patches"], name
        pd.testing.assert_frame_equal(outputs[name]["field_table"], reference["field_table"])
        pd.testing.assert_frame_equal(outputs[name]["metadata"], reference["metadata"])
        pd.testing.assert_frame_equal(outputs[name]["cells"], reference["cells"])


@pytest.mark.slow
def test_dask_runner_runs_the_default_pipeline_and_mlflow_records_it(demo_run, local_cluster):
    before = {run.info.run_id for run in _runs(demo_run)}
    # Segmentation starts from the model the sequential run trained (a user's GUI model
    # takes the same path): training it again on the workers tests nothing more here.
    trained = latest_file(demo_run, "06_models/cellpose_model.pt")
    # The real CLI, as documented (one session per process, as kedro-mlflow expects).
    result = subprocess.run(
        [str(Path(sys.executable).parent / "kedro"), "run", "--env", "test",
         "--params", f"segmentation.model_source={trained},segmentation.train=false",
         "--runner", "cell_clustering.runner.DaskRunner",
         "--runner-params", f"client_args.address={local_cluster.scheduler_address}"],
        cwd=demo_run, capture_output=True, text=True, check=False, env={**os.environ, "DO_NOT_TRACK": "true"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    n_nodes = len(pipelines["__default__"].nodes)
    assert f"Completed {n_nodes} out of {n_nodes} tasks" in " ".join((result.stdout + result.stderr).split())

    (new_run,) = [run for run in _runs(demo_run) if run.info.run_id not in before]
    assert new_run.info.status == "FINISHED"
    assert new_run.data.params["modelling.model.latent_dim"] == "4"  # logged from the driver
    assert "clustering.latents.gmm.k2.silhouette" in new_run.data.metrics  # a metric dataset saved on a worker
    client = MlflowClient(tracking_uri=f"sqlite:///{demo_run / 'mlflow.db'}")
    artifacts = {artifact.path for artifact in client.list_artifacts(new_run.info.run_id)}
    assert {"model", "reporting", "figures"} <= artifacts  # the project's hook, on the workers

    versions = sorted((demo_run / "data/08_reporting/clustering_metrics.csv").iterdir())
    assert len(versions) >= 2  # a new version; the sequential run's is kept
    dask_metrics = pd.read_csv(versions[-1] / "clustering_metrics.csv")
    assert set(dask_metrics["k"]) == {2, 3}
    latents = dask_metrics[dask_metrics["representation"] == "latents"]
    assert len(latents) > 0 and np.isfinite(latents["silhouette"]).all()


def _runs(project: Path) -> list:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cell_clustering")
    return client.search_runs([experiment.experiment_id])


def test_progress_is_a_few_log_lines_when_the_output_is_not_a_terminal(caplog):
    tasks = {f"c/f{i:03d}": (lambda i=i: i) for i in range(100)}
    with caplog.at_level(logging.INFO, logger="cell_clustering.parallel.progress"):
        results = dict(ordered_map(tasks, SEQUENTIAL, "Segmenting fields"))
    assert len(results) == 100
    lines = [r.getMessage() for r in caplog.records if r.name == "cell_clustering.parallel.progress"]
    assert lines == [f"Segmenting fields: {n}/100 fields." for n in (25, 50, 75, 100)]


def test_progress_draws_a_bar_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(3, "Cutting patches", stream=screen)
    for _ in range(3):
        progress.tick()
    assert "\r" in screen.getvalue() and "Cutting patches" in screen.getvalue() and "3/3" in screen.getvalue()
