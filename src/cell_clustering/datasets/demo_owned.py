"""Datasets the demo generator writes into: only an empty folder or one it made
itself, and never over a file it did not write.

A folder the demo made holds the manifest ``.made-by-demo-data``: a JSON map of every
file the demo wrote there (path inside the folder → sha256). Saving into a folder is
refused, naming the file, when it holds any file that is not in the manifest (a user's
field dropped beside the demo's) or whose bytes changed since the demo wrote it, so
``kedro run --pipelines=demo_data`` cannot delete or overwrite a user's file. A folder
of fields is written beside its place and swapped in whole once complete.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import partial
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import tifffile
from kedro.io.core import DatasetError
from PIL import Image

from cell_clustering.datasets.optional_csv_dataset import OptionalCSVDataset
from cell_clustering.datasets.optional_partitioned_dataset import (
    OptionalPartitionedDataset,
)
from cell_clustering.errors import ProjectError, ProjectValueError

MARKER = ".made-by-demo-data"
_HOW_TO = (
    "The demo never deletes or overwrites a file it did not write. Move your files to a folder of "
    "your own and run them with your own conf environment (README: 'Bringing your own images'), "
    "or delete the folder if it holds nothing of yours."
)


class DemoFolderRefused(ProjectError, DatasetError):
    """The demo would write into a folder holding files it did not make."""


def _sha256(fs: Any, path: str) -> str:
    with fs.open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _files(fs: Any, folder: str) -> dict[str, str]:
    """Every file under ``folder`` but the manifest: path inside the folder → full path."""
    root = PurePosixPath(fs._strip_protocol(folder))
    found = {}
    for path in fs.find(folder, withdirs=False):
        relative = str(PurePosixPath(fs._strip_protocol(path)).relative_to(root))
        if relative != MARKER:
            found[relative] = path
    return found


def read_manifest(fs: Any, folder: str) -> dict[str, str] | None:
    """The demo's manifest of ``folder`` (None where the demo never wrote)."""
    path = f"{folder}/{MARKER}"
    if not fs.exists(path):
        return None
    text = fs.cat_file(path).decode() or "{}"
    return json.loads(text)


def write_manifest(fs: Any, folder: str) -> None:
    """Record every file now in ``folder`` as the demo's (after the demo wrote them)."""
    manifest = {relative: _sha256(fs, path) for relative, path in sorted(_files(fs, folder).items())}
    with fs.open(f"{folder}/{MARKER}", "w") as stream:
        json.dump(manifest, stream, indent=0, sort_keys=True)


def foreign_files(fs: Any, folder: str) -> list[str]:
    """Files in ``folder`` the demo did not write, or that changed since it did."""
    if not fs.exists(folder):
        return []
    manifest = read_manifest(fs, folder) or {}
    return [
        f"{relative}" if relative not in manifest else f"{relative} (changed since the demo wrote it)"
        for relative, path in sorted(_files(fs, folder).items())
        if manifest.get(relative) != _sha256(fs, path)
    ]


def claim(fs: Any, folder: str) -> None:
    """Refuse a folder with any file that is not the demo's; otherwise keep it for the demo."""
    foreign = foreign_files(fs, folder)
    if foreign:
        listed = ", ".join(f"'{name}'" for name in foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise DemoFolderRefused(
            f"The demo data would write into '{folder}', which holds files it did not make: {listed}. {_HOW_TO}"
        )
    fs.makedirs(folder, exist_ok=True)
    if read_manifest(fs, folder) is None:
        write_manifest(fs, folder)


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
        write_manifest(self._filesystem, str(staging))
        self._filesystem.mv(str(path), str(previous), recursive=True)
        self._filesystem.mv(str(staging), str(path), recursive=True)
        self._filesystem.rm(str(previous), recursive=True)
        self._invalidate_caches()


class DemoTableDataset(OptionalCSVDataset):
    """A ground-truth table that the demo may (re)write in a folder it claims."""

    def save(self, data: pd.DataFrame) -> None:
        folder = str(PurePosixPath(self._filepath).parent)
        claim(self._fs, folder)
        super().save(data)
        write_manifest(self._fs, folder)


# Label masks as annotation tools write them (Cellpose GUI, Fiji, napari, QuPath).
MASK_SUFFIXES = (".tif", ".tiff", ".png")


def read_label_mask(fs: Any, path: str) -> np.ndarray:
    """The (rows, cols) integer label image in a ``.tif`` / ``.tiff`` / ``.png`` file."""
    with fs.open(path, "rb") as stream:
        if path.lower().endswith(".png"):
            with Image.open(io.BytesIO(stream.read())) as image:
                labels = np.asarray(image)
        else:
            labels = tifffile.imread(stream)
    labels = np.squeeze(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ProjectValueError(
            f"Mask file '{path}' holds a {labels.dtype} array of shape {labels.shape}; a mask is one "
            "2-D integer image of cell labels (0 background). Save it as a label image, not in colour."
        )
    return labels


class LabelMaskFolderDataset(DemoFolderDataset):
    """A folder of label masks: every ``.tif`` / ``.tiff`` / ``.png`` (any case) under it,
    keyed by its path without the suffix, as the images are (``<field>.tif`` or the
    Cellpose GUI's ``<field>_masks.png``). Hidden files and folders are skipped; files of
    other kinds (``_seg.npy``, notes) are read by other datasets or not at all.

    Saving is the demo's (:class:`DemoFolderDataset`, ``.tif`` files).
    """

    def load(self) -> dict[str, Any]:
        fs, root = self._filesystem, PurePosixPath(self._normalized_path)
        if not fs.exists(str(root)):
            return {}
        loaders: dict[str, Any] = {}
        for path in sorted(fs.find(str(root), withdirs=False)):
            relative = PurePosixPath(fs._strip_protocol(path)).relative_to(root)
            if relative.suffix.lower() not in MASK_SUFFIXES or any(part.startswith(".") for part in relative.parts):
                continue
            key = str(relative.with_suffix(""))
            if key in loaders:
                raise ProjectValueError(
                    f"Two mask files for '{key}' in '{root}' (differing only in their suffix); keep one."
                )
            loaders[key] = partial(read_label_mask, fs, path)
        return loaders
