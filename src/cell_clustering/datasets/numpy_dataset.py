"""``NumpyDataset``: one array in NumPy's ``.npy`` format, never unpickled."""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
from kedro.io.core import DatasetError

from cell_clustering.datasets._file_dataset import BinaryFileDataset


class NumpyDataset(BinaryFileDataset[np.ndarray]):
    """Load and save a NumPy array as ``.npy`` with ``allow_pickle=False``.

    Used for patch tensors (N × 1 × H × W, float32) and latent matrices (N × D):
    a format any tool reads, with no code execution on load.
    """

    def _validate(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray) or data.dtype == object:
            raise DatasetError(
                f"NumpyDataset '{self._filepath}' saves numeric NumPy arrays, "
                f"got {type(data).__name__}."
            )

    def _read(self, stream: BinaryIO) -> np.ndarray:
        return np.load(stream, allow_pickle=False)

    def _write(self, data: np.ndarray, stream: BinaryIO) -> None:
        np.save(stream, data, allow_pickle=False)
