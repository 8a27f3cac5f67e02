"""Versioned saves that are complete or absent: a version is written to a staging
folder and published by one rename.

Kedro writes a versioned output to ``<filepath>/<version>/<name>`` and loads the
newest ``<filepath>/*/<name>`` that exists. Writing there in place means that a run
killed mid-save leaves a partial newest version that the next run reads. Here the
version is written to ``<filepath>/.staging/<version>/<name>`` (which Kedro's glob
never matches) and the whole version folder is renamed into place once written,
with its lineage record (see :mod:`cell_clustering.lineage`) beside the data. A
folder left in ``.staging`` by a killed run is removed, with a warning, the next time
the dataset is saved.

:func:`atomic` makes an atomic variant of a kedro-datasets class; the project's own
datasets use :class:`AtomicVersionMixin` directly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset as _MatplotlibDataset
from kedro_datasets.pandas import CSVDataset as _CSVDataset
from kedro_datasets.pandas import ParquetDataset as _ParquetDataset
from kedro_datasets.text import TextDataset as _TextDataset

logger = logging.getLogger(__name__)

STAGING = ".staging"
LINEAGE_SUFFIX = ".lineage.json"


def staging_path(final: PurePosixPath) -> PurePosixPath:
    """``<filepath>/<version>/<name>`` → ``<filepath>/.staging/<version>/<name>``."""
    return final.parent.parent / STAGING / final.parent.name / final.name


def lineage_path(data_path: PurePosixPath) -> PurePosixPath:
    """Where the lineage record of the version holding ``data_path`` lives."""
    return data_path.parent / f"{data_path.name}{LINEAGE_SUFFIX}"


class AtomicVersionMixin:
    """Give a versioned Kedro dataset atomic saves (see the module docstring).

    The dataset must have ``_fs`` (an fsspec filesystem) and ``_protocol``, as
    kedro-datasets' and the project's datasets do, and write to
    ``self._get_save_path()`` inside the function passed to :meth:`_save_atomically`.
    ``lineage``, when set by the lineage hook before the save, is written beside the
    data in the same version.
    """

    _to_staging: bool = False
    lineage: dict[str, Any] | None = None

    def _get_save_path(self) -> PurePosixPath:
        final = super()._get_save_path()  # type: ignore[misc]
        return staging_path(final) if self._to_staging else final

    def _path(self, path: PurePosixPath) -> str:
        return get_filepath_str(path, self._protocol)  # type: ignore[attr-defined]

    def _save_atomically(self, write: Callable[[], None]) -> None:
        if not getattr(self, "_version", None):
            write()
            return
        final = self._get_save_path()  # raises if this version exists already
        pinned = self._version.load  # type: ignore[attr-defined]
        if pinned and pinned != final.parent.name:
            raise DatasetError(
                f"{self} is pinned to load version {pinned} (--load-versions) but this run would write "
                f"version {final.parent.name}: the next node would read {pinned}, not what this run made. "
                "Pin only datasets the run does not make."
            )
        staging = staging_path(final)
        self._remove_leftovers(keep=final.parent.name)
        self._to_staging = True
        try:
            write()
            if self.lineage is not None:
                with self._fs.open(self._path(lineage_path(staging)), "w") as stream:  # type: ignore[attr-defined]
                    json.dump(self.lineage, stream, indent=1, sort_keys=True)
        except BaseException:
            self._remove(staging.parent)
            self._remove_if_empty(staging.parent.parent)
            raise
        finally:
            self._to_staging = False
            self.lineage = None
        self._fs.mv(self._path(staging.parent), self._path(final.parent), recursive=True)  # type: ignore[attr-defined]
        self._remove_if_empty(staging.parent.parent)
        self._fs.invalidate_cache(self._path(final.parent.parent))  # type: ignore[attr-defined]

    def _remove(self, folder: PurePosixPath) -> None:
        if self._fs.exists(self._path(folder)):  # type: ignore[attr-defined]
            self._fs.rm(self._path(folder), recursive=True)  # type: ignore[attr-defined]

    def _remove_if_empty(self, folder: PurePosixPath) -> None:
        """An empty ``.staging`` folder says nothing: leave none behind."""
        path = self._path(folder)
        if self._fs.exists(path) and not self._fs.ls(path):  # type: ignore[attr-defined]
            self._fs.rmdir(path)  # type: ignore[attr-defined]

    def _remove_leftovers(self, keep: str) -> None:
        root = PurePosixPath(self._filepath) / STAGING  # type: ignore[attr-defined]
        if not self._fs.exists(self._path(root)):  # type: ignore[attr-defined]
            return
        for leftover in self._fs.ls(self._path(root), detail=False):  # type: ignore[attr-defined]
            if PurePosixPath(leftover).name != keep:
                logger.warning("Removing '%s': an unfinished version left by an interrupted run.", leftover)
                self._fs.rm(leftover, recursive=True)  # type: ignore[attr-defined]


def atomic(base: type) -> type:
    """A subclass of the versioned kedro-datasets class ``base`` with atomic saves."""
    unwrapped_save = base.save.__wrapped__  # Kedro wraps every save; wrap ours instead

    class Atomic(AtomicVersionMixin, base):  # type: ignore[misc, valid-type]
        def save(self, data: Any) -> None:
            self._save_atomically(lambda: unwrapped_save(self, data))

    Atomic.__name__ = Atomic.__qualname__ = base.__name__
    Atomic.__module__ = __name__
    Atomic.__doc__ = f"``{base.__module__}.{base.__name__}`` with atomic versioned saves (see {__name__})."
    return Atomic


CSVDataset = atomic(_CSVDataset)
JSONDataset = atomic(_JSONDataset)
MatplotlibDataset = atomic(_MatplotlibDataset)
ParquetDataset = atomic(_ParquetDataset)
TextDataset = atomic(_TextDataset)
