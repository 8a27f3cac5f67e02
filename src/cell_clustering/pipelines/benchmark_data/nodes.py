"""Nodes of the ``benchmark_data`` pipeline."""

from __future__ import annotations

import numpy as np

from cell_clustering import benchmark_data


def validate_benchmark_arrays(
    train_images: np.ndarray, train_labels: np.ndarray, test_images: np.ndarray, test_labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One benchmark's four arrays, checked (see :func:`benchmark_data.validate_arrays`)."""
    return benchmark_data.validate_arrays(train_images, train_labels, test_images, test_labels)


def unpack_mnist(mnist: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four arrays of :class:`~cell_clustering.datasets.MnistHubDataset`, checked."""
    return benchmark_data.validate_arrays(*(mnist[part] for part in benchmark_data.PARTS))
