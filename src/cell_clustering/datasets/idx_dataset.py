"""``IdxDataset``: one array in the IDX format of MNIST and FashionMNIST.

IDX is the format of ``train-images-idx3-ubyte.gz`` and friends: two zero bytes, a
type code, the number of dimensions, each dimension as a big-endian int32, then the
values, big-endian. Files whose name ends in ``.gz`` are gzip-compressed. No
maintained Kedro dataset reads it, hence this one.
"""

from __future__ import annotations

import gzip
import struct
from typing import Any, BinaryIO

import numpy as np
from kedro.io.core import DatasetError

from cell_clustering.datasets._file_dataset import BinaryFileDataset

# IDX type code → NumPy dtype (big-endian, as the format stores it).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("<") if dtype.itemsize > 1 else dtype: code for code, dtype in IDX_DTYPES.items()}


def read_idx(raw: bytes) -> np.ndarray:
    """Decode uncompressed IDX bytes into a native-endian array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError("not an IDX file (the first two bytes must be zero)")
    code, n_dims = raw[2], raw[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"unknown IDX type code 0x{code:02X}")
    header = 4 + 4 * n_dims
    shape = struct.unpack(f">{n_dims}i", raw[4:header])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"header announces shape {shape} ({expected} bytes) but {len(raw) - header} bytes follow")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(data: np.ndarray) -> bytes:
    """Encode an array as uncompressed IDX bytes."""
    native = data.dtype.newbyteorder("<") if data.dtype.itemsize > 1 else data.dtype
    if native not in _CODES:
        raise ValueError(f"IDX cannot store dtype {data.dtype}; use uint8, int8, int16, int32, float32 or float64")
    code = _CODES[native]
    header = bytes([0, 0, code, data.ndim]) + struct.pack(f">{data.ndim}i", *data.shape)
    return header + np.ascontiguousarray(data, dtype=IDX_DTYPES[code]).tobytes()


class IdxDataset(BinaryFileDataset[np.ndarray]):
    """Load and save one IDX array (gzip-compressed when the name ends in ``.gz``).

    Parameters
    ----------
    filepath : str
        e.g. ``data/01_raw/benchmarks/mnist/train-images-idx3-ubyte.gz``.
    how_to_get : str, optional
        Added to the error when the file is missing: how the user obtains it.
    **kwargs
        As :class:`~cell_clustering.datasets._file_dataset.BinaryFileDataset`.
    """

    def __init__(self, *, filepath: str, how_to_get: str | None = None, **kwargs: Any) -> None:
        super().__init__(filepath=filepath, **kwargs)
        self._how_to_get = how_to_get
        self._gzip = str(filepath).endswith(".gz")

    def load(self) -> np.ndarray:
        try:
            return super().load()
        except DatasetError as error:
            if self._how_to_get and not self._exists():
                raise DatasetError(f"{error} {self._how_to_get}") from error
            raise

    def _validate(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray):
            raise DatasetError(f"IdxDataset '{self._filepath}' saves NumPy arrays, got {type(data).__name__}.")

    def _read(self, stream: BinaryIO) -> np.ndarray:
        raw = stream.read()
        return read_idx(gzip.decompress(raw) if self._gzip else raw)

    def _write(self, data: np.ndarray, stream: BinaryIO) -> None:
        raw = write_idx(data)
        # mtime=0: the same array always gives the same bytes. Level 6 (zlib's default):
        # gzip's own default, 9, took 13 s for MNIST's training images against 0.9 s,
        # for a file 2 % smaller.
        stream.write(gzip.compress(raw, compresslevel=6, mtime=0) if self._gzip else raw)
