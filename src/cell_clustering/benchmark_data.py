"""MNIST and FashionMNIST as the benchmark expects them: checked uint8 image arrays
and one integer label per image (the files themselves are read by the datasets
``MnistHubDataset`` and ``IdxDataset``)."""

from __future__ import annotations

import numpy as np

PARTS = ("train_images", "train_labels", "test_images", "test_labels")


def validate_arrays(
    train_images: np.ndarray, train_labels: np.ndarray, test_images: np.ndarray, test_labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check one benchmark's four arrays and return them unchanged.

    Parameters
    ----------
    train_images, test_images : (N, rows, cols) uint8 ndarray
    train_labels, test_labels : (N,) integer ndarray, one label per image

    Raises
    ------
    ValueError
        Naming the array that has the wrong dtype, shape or length.
    """
    for split, images, labels in (("train", train_images, train_labels), ("test", test_images, test_labels)):
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{split} images must be (N, rows, cols) uint8; got {images.shape} {images.dtype}.")
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"{split} labels must be one per image; got {labels.shape} for {len(images)} images.")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{split} labels must be integers; got {labels.dtype}.")
    return train_images, train_labels, test_images, test_labels
