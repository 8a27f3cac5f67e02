"""``VersionedPartitionedDataset``: a folder of partitions, versioned as a whole."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import (
    AbstractVersionedDataset,
    Version,
    VersionNotFoundError,
    get_protocol_and_path,
)

from cell_clustering.datasets.atomic import AtomicVersionMixin
from cell_clustering.datasets.optional_partitioned_dataset import (
    OptionalPartitionedDataset,
)


class VersionedPartitionedDataset(
    AtomicVersionMixin, AbstractVersionedDataset[dict[str, Any], dict[str, Callable[[], Any]]]
):
    """Per-field outputs (one file per field) that a new run never overwrites.

    Kedro refuses ``versioned: true`` on a ``PartitionedDataset``. This dataset keeps
    the whole folder of partitions under Kedro's usual versioned layout,
    ``<path>/<save version>/<folder name>/<condition>/<field><suffix>``, so a run
    writes a new folder next to the previous ones and readers load the latest (or a
    pinned) version. Inside a version it behaves like ``OptionalPartitionedDataset``:
    lazy loaders in, lazy callables out, ``{}`` when empty. The folder of a version is
    published by one rename once every field is written
    (:mod:`cell_clustering.datasets.atomic`): a run killed after 4 of 30 fields leaves
    no version behind.
    """

    def __init__(
        self,
        *,
        path: str,
        dataset: str | dict[str, Any],
        filename_suffix: str = "",
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, folder = get_protocol_and_path(path, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(deepcopy(credentials) or {}), **(deepcopy(fs_args) or {}))
        self._dataset_config = dataset
        self._filename_suffix = filename_suffix
        self._credentials = credentials
        self._fs_args = fs_args
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(folder),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def _partitions_at(self, folder: PurePosixPath) -> OptionalPartitionedDataset:
        prefix = f"{self._protocol}://" if self._protocol != "file" else ""
        return OptionalPartitionedDataset(
            path=f"{prefix}{folder}",
            dataset=deepcopy(self._dataset_config),
            filename_suffix=self._filename_suffix,
            credentials=deepcopy(self._credentials),
            fs_args=deepcopy(self._fs_args),
        )

    def load(self) -> dict[str, Callable[[], Any]]:
        try:
            folder = self._get_load_path()
        except VersionNotFoundError:
            return {}
        return self._partitions_at(folder).load()

    def save(self, data: dict[str, Any]) -> None:
        self._save_atomically(lambda: self._write_partitions(data))
        self._fs.invalidate_cache(str(self._filepath))

    def _write_partitions(self, data: dict[str, Any]) -> None:
        folder = self._get_save_path()
        # The version folder exists even when there is nothing to write, so that an
        # empty output is the latest version instead of a stale older one.
        self._fs.makedirs(str(folder), exist_ok=True)
        self._partitions_at(folder).save(data)

    def _exists(self) -> bool:
        try:
            return self._fs.exists(str(self._get_load_path()))
        except VersionNotFoundError:
            return False

    def _describe(self) -> dict[str, Any]:
        return {
            "path": str(self._filepath),
            "dataset": self._dataset_config,
            "filename_suffix": self._filename_suffix,
            "version": self._version,
        }
