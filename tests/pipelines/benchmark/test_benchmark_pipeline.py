"""The benchmark set-up from the offline sources, and the benchmark pipeline on a
tiny configuration (conf/test), through the real `kedro run` CLI and a real MLflow
store. (A subprocess each: kedro-mlflow keeps the previous session's experiment in
process-wide state, which breaks a second project in the same process.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from cell_clustering.datasets import IdxDataset
from tests.kedro_project import make_project


def _latest(path):
    return sorted(path.iterdir())[-1] / path.name


def run(root: Path, pipeline: str) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "kedro"), "run", "--env", "test", f"--pipelines={pipeline}"],
        cwd=root, capture_output=True, text=True, check=False, env={**os.environ, "DO_NOT_TRACK": "true"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("benchmark_project"))


@pytest.mark.slow
def test_benchmark_data_writes_the_official_idx_files(project):
    run(project, "benchmark_data")
    folder = project / "data/01_raw/benchmarks"
    mnist_train = IdxDataset(filepath=str(folder / "mnist/train-images-idx3-ubyte.gz")).load()
    mnist_labels = IdxDataset(filepath=str(folder / "mnist/train-labels-idx1-ubyte.gz")).load()
    assert mnist_train.shape == (60000, 28, 28) and mnist_labels[:5].tolist() == [5, 0, 4, 1, 9]
    fashion_test = IdxDataset(filepath=str(folder / "fashion_mnist/t10k-images-idx3-ubyte.gz")).load()
    fashion_labels = IdxDataset(filepath=str(folder / "fashion_mnist/t10k-labels-idx1-ubyte.gz")).load()
    assert fashion_test.shape == (10000, 28, 28) and fashion_test.dtype == np.uint8
    assert np.bincount(fashion_labels).tolist() == [1000] * 10


@pytest.mark.slow
def test_tiny_benchmark_runs_end_to_end_into_tables_and_mlflow(project):
    if not (project / "data/01_raw/benchmarks/mnist").exists():
        run(project, "benchmark_data")
    run(project, "benchmark")

    table = pd.read_csv(_latest(project / "data/08_reporting/benchmark/benchmark_table.csv"))
    # 2 datasets × (VAE: Z; cVAE: Z and Z ⊕ class; contrastive: Z) × 4 heads, at latent size 4.
    assert len(table) == 2 * 4 * 4
    assert set(table["head"]) == {"kmeans", "gmm", "umap_kmeans", "umap_gmm"}
    assert set(table["model"]) == {"vae", "cvae", "contrastive"}
    assert set(table["dataset"]) == {"mnist", "fashion_mnist"}
    assert table["accuracy"].between(0, 1).all() and table["nmi"].between(0, 1).all()
    informed = table[table["label_informed"]]
    assert set(informed["model"]) == {"cvae"} and set(informed["representation"]) == {"z_condition"}
    markdown = _latest(project / "data/08_reporting/benchmark/benchmark_table.md").read_text()
    assert "Best unsupervised head per dataset" in markdown and "| mnist | vae | 4 |" in markdown

    sweep = pd.read_csv(_latest(project / "data/08_reporting/benchmark/beta_sweep.csv"))
    assert sorted(sweep["beta"].unique()) == [1.0, 4.0]
    assert _latest(project / "data/08_reporting/benchmark/beta_sweep.png").stat().st_size > 0

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cell_clustering")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1  # benchmark_data is not tracked
    assert len(children) == 2 * 3 + 2  # the grid (2 datasets × 3 models), then the β sweep
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}
    cvae = next(c for c in children if c.data.params == {**c.data.params, "dataset": "mnist", "model": "cvae"})
    assert 0 <= cvae.data.metrics["z.kmeans.accuracy"] <= 1
    assert "z_condition.umap_gmm.accuracy" in cvae.data.metrics
    assert len(client.get_metric_history(cvae.info.run_id, "history.train_total")) == 1
