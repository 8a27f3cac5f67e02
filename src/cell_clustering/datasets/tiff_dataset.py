"""``TiffDataset``: one TIFF image (2-D field, multi-channel or stack) as a NumPy array."""

from __future__ import annotations

from typing import Any, BinaryIO

import numpy as np
import tifffile
from kedro.io.core import DatasetError

from cell_clustering.datasets._file_dataset import BinaryFileDataset


class TiffDataset(BinaryFileDataset[np.ndarray]):
    """Load and save a TIFF file with ``tifffile``; versioned like any Kedro dataset.

    Arrays keep their dtype (uint8, uint16, uint32 label masks, float32 images).
    Files are written without a timestamp so that the same array always gives the
    same bytes, which keeps the demo data reproducible byte for byte.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "field.tif")
    >>> dataset = TiffDataset(filepath=path)
    >>> dataset.save(np.arange(6, dtype=np.uint16).reshape(2, 3))
    >>> dataset.load().dtype
    dtype('uint16')
    """

    DEFAULT_SAVE_ARGS: dict[str, Any] = {"photometric": "minisblack"}

    def _validate(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray):
            raise DatasetError(
                f"TiffDataset '{self._filepath}' saves NumPy arrays, got {type(data).__name__}."
            )
        if data.size == 0:
            raise DatasetError(f"Refusing to write an empty image to '{self._filepath}'.")

    def _read(self, stream: BinaryIO) -> np.ndarray:
        return tifffile.imread(stream, **self._load_args)

    def _write(self, data: np.ndarray, stream: BinaryIO) -> None:
        tifffile.imwrite(stream, data, **self._save_args)
