"""A versioned, fsspec-backed base for datasets that read and write one binary file.

kedro-datasets has no dataset for TIFF images, plain NumPy arrays or PyTorch
checkpoints with their config. All three only differ in how bytes become an
object, so they share this base: versioning, filesystem handling and error
messages that name the file live here once.
"""

from __future__ import annotations

import os
from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any, BinaryIO, Generic, TypeVar

import fsspec
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)

from cell_clustering.datasets.atomic import AtomicVersionMixin

T = TypeVar("T")


class BinaryFileDataset(AtomicVersionMixin, AbstractVersionedDataset[T, T], Generic[T]):
    """Load and save one object from/to one binary file on any fsspec filesystem.

    Subclasses implement :meth:`_read` and :meth:`_write`. Any exception raised while
    reading is re-raised as a ``DatasetError`` naming the file, so that one corrupt
    image in a folder of thousands is easy to find. Versioned saves are atomic
    (:mod:`cell_clustering.datasets.atomic`).
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {}
    DEFAULT_SAVE_ARGS: dict[str, Any] = {}

    def __init__(
        self,
        *,
        filepath: str | os.PathLike,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """
        Parameters
        ----------
        filepath : str or os.PathLike
            Path of the file, optionally prefixed with an fsspec protocol (``s3://``).
        load_args, save_args : dict, optional
            Keyword arguments passed to the reader / writer of the subclass.
        version : kedro.io.core.Version, optional
            Versioning as in every Kedro versioned dataset.
        credentials, fs_args : dict, optional
            Passed to ``fsspec.filesystem``.
        metadata : dict, optional
            Ignored by Kedro, available to plugins such as kedro-viz.
        """
        fs_args = deepcopy(fs_args) or {}
        protocol, path = get_protocol_and_path(str(filepath), version)
        if protocol == "file":
            fs_args.setdefault("auto_mkdir", True)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(deepcopy(credentials) or {}), **fs_args)
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self._save_args = {**self.DEFAULT_SAVE_ARGS, **(save_args or {})}
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    # Subclass hooks ---------------------------------------------------------------
    def _read(self, stream: BinaryIO) -> T:  # pragma: no cover - abstract
        raise NotImplementedError

    def _write(self, data: T, stream: BinaryIO) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _validate(self, data: T) -> None:
        """Raise ``DatasetError`` when ``data`` cannot be written by this dataset."""

    # Kedro interface ----------------------------------------------------------------
    def load(self) -> T:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        try:
            with self._fs.open(load_path, mode="rb") as stream:
                return self._read(stream)
        except FileNotFoundError as error:
            raise DatasetError(f"File not found: '{load_path}'.") from error
        except Exception as error:
            raise DatasetError(
                f"Cannot read '{load_path}' as {type(self).__name__}: {error}. "
                "The file may be corrupt or of another format; replace or remove it."
            ) from error

    def save(self, data: T) -> None:
        self._validate(data)
        self._save_atomically(lambda: self._write_file(data))
        self._invalidate_cache()

    def _write_file(self, data: T) -> None:
        with self._fs.open(get_filepath_str(self._get_save_path(), self._protocol), mode="wb") as stream:
            self._write(data, stream)

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "load_args": self._load_args,
            "save_args": self._save_args,
            "version": self._version,
        }

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        filepath = get_filepath_str(self._filepath, self._protocol)
        self._fs.invalidate_cache(filepath)
