"""Slice test of the ``benchmark`` pipeline on tiny in-memory datasets (the nested MLflow
runs stay in memory here; test_benchmark_pipeline.py logs them to a real store)."""

from __future__ import annotations

import numpy as np

from cell_clustering.pipelines.benchmark import create_pipeline
from tests.parameters import block
from tests.pipelines.slices import run_slice


def _digits(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two easy classes of 28 × 28 images: a bright square top-left or bottom-right."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    images = rng.integers(0, 30, (n, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels, strict=True):
        image[2:12, 2:12] += 200 if label == 0 else 0
        image[16:26, 16:26] += 200 if label == 1 else 0
    return images, labels.astype(np.uint8)


def test_benchmark_pipeline_trains_every_cell_and_tabulates():
    inputs = {}
    for name, seed in (("mnist", 0), ("fashion_mnist", 1)):
        for split, n in (("train", 64), ("test", 40)):
            inputs[f"{name}_{split}_images"], inputs[f"{name}_{split}_labels"] = _digits(seed + (split == "test"), n)
    params = block("benchmark", models=["vae", "cvae"], latent_dims=[2], heads=["kmeans", "gmm"],
                   vae={"feature_dim": 16}, training={"epochs": 1, "batch_size": 16, "progress_bar": False},
                   evaluation={"n_init": 2}, beta_sweep={"latent_dim": 2, "betas": [1.0, 2.0]})
    inputs["params:benchmark"] = params
    inputs["params:benchmark.max_train_samples"] = None
    inputs["params:benchmark.max_test_samples"] = None
    outputs = run_slice(create_pipeline(), inputs)
    table = outputs["benchmark_table"]
    # 2 datasets × (VAE: Z; cVAE: Z and Z ⊕ class) × 2 heads.
    assert len(table) == 2 * 3 * 2
    assert table["accuracy"].between(0, 1).all()
    assert set(table.loc[table["label_informed"], "representation"]) == {"z_condition"}
    assert "## Best unsupervised head per dataset" in outputs["benchmark_table_markdown"]
    assert sorted(outputs["beta_sweep_table"]["beta"].unique()) == [1.0, 2.0]
    assert [run["run_name"] for run in outputs["beta_sweep_mlflow_runs"]] == ["beta-sweep-mnist-vae-z2-beta1", "beta-sweep-mnist-vae-z2-beta2"]
