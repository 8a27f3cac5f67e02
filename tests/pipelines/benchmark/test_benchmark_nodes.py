"""Benchmark nodes on small fixed-seed data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cell_clustering.evaluation import cluster, hungarian_accuracy
from cell_clustering.pipelines.benchmark.nodes import (
    prepare_benchmark_split,
    summarise_benchmark,
)
from cell_clustering.pipelines.benchmark_data.nodes import validate_benchmark_arrays
from tests.parameters import block


def test_prepare_scales_to_unit_range_and_keeps_the_first_samples():
    images = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 4, 4) * 3
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    patches, metadata = prepare_benchmark_split(images, labels, max_samples=3)
    assert patches.shape == (3, 1, 4, 4) and patches.dtype == np.float32
    np.testing.assert_allclose(patches[:, 0], images[:3] / 255.0, rtol=1e-6)
    assert metadata["condition"].tolist() == ["3", "1", "4"]


def test_validation_names_the_bad_array():
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    with pytest.raises(ValueError, match="test labels must be one per image"):
        validate_benchmark_arrays(images, np.zeros(4, dtype=np.uint8), images, np.zeros(3, dtype=np.uint8))
    with pytest.raises(ValueError, match="train images must be .* uint8"):
        validate_benchmark_arrays(images.astype(np.float32), np.zeros(4, dtype=np.uint8), images, np.zeros(4, dtype=np.uint8))


@pytest.mark.parametrize("method", ["kmeans", "gmm"])
def test_heads_recover_separated_blobs(method):
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=10, size=(4, 3))
    truth = np.repeat(np.arange(4), 50)
    points = centres[truth] + rng.normal(scale=0.5, size=(200, 3))
    assert hungarian_accuracy(truth, cluster(points, 4, method, seed=0, n_init=2)) == 1.0


def _record(model: str, accuracy_z: float, accuracy_informed: float | None = None) -> dict:
    scores = [{"representation": "z", "label_informed": False, "head": "kmeans", "accuracy": accuracy_z,
               "nmi": 0.5, "ari": 0.4, "silhouette": 0.1, "davies_bouldin": 2.0, "calinski_harabasz": 300.0}]
    if accuracy_informed is not None:
        scores.append({**scores[0], "representation": "z_condition", "label_informed": True, "accuracy": accuracy_informed})
    return {"model": model, "latent_dim": 16, "beta": 1.0, "train_seconds": 12.3, "epochs": 2,
            "history": {"train_total": [3.0, 2.0]}, "scores": scores}


def test_best_unsupervised_row_never_is_a_label_informed_one():
    grid = [_record("vae", 0.81), _record("cvae", 0.70, accuracy_informed=0.99)]
    params = block("benchmark", training={"epochs": 2, "batch_size": 8}, heads=["kmeans"])
    table, markdown, runs = summarise_benchmark(params, mnist=grid)
    assert len(table) == 3
    best_section = markdown.split("## Best unsupervised head per dataset")[1].split("##")[0]
    assert "| mnist | vae | 16 |" in best_section and "0.990" not in best_section
    assert [run["run_name"] for run in runs] == ["mnist-vae-z16-beta1", "mnist-cvae-z16-beta1"]
    assert runs[1]["metrics"]["z_condition.kmeans.accuracy"] == pytest.approx(0.99)
    assert isinstance(table, pd.DataFrame)
