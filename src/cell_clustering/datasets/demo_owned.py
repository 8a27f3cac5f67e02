"""Datasets the demo generator writes into: only an empty folder or one it made
itself, never a user's.

A folder the demo made holds the marker file ``.made-by-demo-data``. Saving into a
folder that has other files and no marker is refused with the folder's name, so
``kedro run --pipelines=demo_data`` cannot overwrite or mix into a user's images.
A folder of fields is written beside its place and swapped in whole once complete.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pandas as pd
from kedro.io.core import DatasetError

from cell_clustering.datasets.optional_csv_dataset import OptionalCSVDataset
from cell_clustering.datasets.optional_partitioned_dataset import (
    OptionalPartitionedDataset,
)
from cell_clustering.errors import ProjectError

MARKER = ".made-by-demo-data"


class DemoFolderRefused(ProjectError, DatasetError):
    """The demo would write into a folder holding files it did not make."""


def claim(fs: Any, folder: str) -> None:
    """Refuse a folder with files of someone else's; otherwise mark it as the demo's."""
    if fs.exists(folder):
        entries = [PurePosixPath(path).name for path in fs.find(folder, withdirs=False)]
        foreign = [name for name in entries if name != MARKER]
        if foreign and MARKER not in entries:
            raise DemoFolderRefused(
                f"The demo data would write into '{folder}', which holds files it did not make "
                f"(e.g. '{foreign[0]}'). It never writes into a folder of yours: move your files elsewhere "
                "and point the catalog at them (see the README's own-data section), or empty the folder."
            )
    fs.makedirs(folder, exist_ok=True)
    fs.touch(f"{folder}/{MARKER}")


class DemoFolderDataset(OptionalPartitionedDataset):
    """A folder of partitions that the demo may (re)write and anyone may read.

    Reading is ``OptionalPartitionedDataset``'s. Saving claims the folder (see
    :func:`claim`), writes every partition into ``.<name>.staging`` beside it and swaps
    the complete folder into place: a killed run leaves the previous folder intact.
    """

    def save(self, data: dict[str, Any]) -> None:
        path = PurePosixPath(self._normalized_path)
        claim(self._filesystem, str(path))
        staging, previous = path.parent / f".{path.name}.staging", path.parent / f".{path.name}.previous"
        for leftover in (staging, previous):
            if self._filesystem.exists(str(leftover)):
                self._filesystem.rm(str(leftover), recursive=True)
        writer = OptionalPartitionedDataset(
            path=str(staging), dataset={**self._dataset_config, "type": self._dataset_type}, filename_suffix=self._filename_suffix
        )
        writer.save(data)
        self._filesystem.touch(f"{staging}/{MARKER}")
        self._filesystem.mv(str(path), str(previous), recursive=True)
        self._filesystem.mv(str(staging), str(path), recursive=True)
        self._filesystem.rm(str(previous), recursive=True)
        self._invalidate_caches()


class DemoTableDataset(OptionalCSVDataset):
    """A ground-truth table that the demo may (re)write in a folder it claims."""

    def save(self, data: pd.DataFrame) -> None:
        claim(self._fs, str(PurePosixPath(self._filepath).parent))
        super().save(data)
