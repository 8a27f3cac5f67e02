"""Datasets for a user's folder of microscopy files, whatever their suffix and layout.

``MicroscopyFileDataset`` reads one ``.tif`` / ``.tiff`` / ``.TIF`` / ``.png`` file
into a :class:`cell_clustering.microscopy.RawField` (pixels, axes, pixel size, channel
names). ``MicroscopyFolderDataset`` lists every file under a folder: each image file
becomes a field keyed by its path without suffix (``control/plate1_f01``); a file of
another type, or two files for one field, becomes a field whose loader raises with the
reason, so the field table lists it as skipped instead of it vanishing.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import PurePosixPath
from typing import Any, BinaryIO, NoReturn

import numpy as np
import tifffile
from kedro.io.core import DatasetError, get_filepath_str

from cell_clustering import microscopy
from cell_clustering.datasets._file_dataset import BinaryFileDataset
from cell_clustering.datasets.demo_owned import DemoFolderDataset
from cell_clustering.fields import FieldError


class MicroscopyFileDataset(BinaryFileDataset[microscopy.RawField]):
    """One microscopy image file, read with its axes and metadata; written as TIFF.

    Loading returns a :class:`~cell_clustering.microscopy.RawField`. Saving takes a
    (rows, cols) or (channels, rows, cols) array and writes an ImageJ-free TIFF with no
    timestamp (same array, same bytes), as the demo data needs.
    """

    DEFAULT_SAVE_ARGS: dict[str, Any] = {"photometric": "minisblack"}

    def __init__(self, *, source: str | None = None, **kwargs: Any) -> None:
        """``source``: the name messages and the field table give the file (default: its path)."""
        super().__init__(**kwargs)
        self._source = source

    def _read(self, stream: BinaryIO) -> microscopy.RawField:
        path = PurePosixPath(self._filepath)
        raw = microscopy.read_field(stream, path.suffix, source=self._source or str(path))
        return dataclasses.replace(raw, path=get_filepath_str(self._get_load_path(), self._protocol))

    def _write(self, data: np.ndarray, stream: BinaryIO) -> None:
        if not isinstance(data, np.ndarray) or data.size == 0:
            raise DatasetError(f"MicroscopyFileDataset '{self._filepath}' saves a non-empty NumPy array.")
        tifffile.imwrite(stream, data, **self._save_args)


# Files Cellpose (GUI or CLI) writes beside an image: annotations, not fields.
_ANNOTATION_ENDINGS = ("_seg.npy", "_masks", "_cp_masks", "_outlines", "_flows")


def _is_annotation(name: str) -> bool:
    stem = name if name.endswith(".npy") else str(PurePosixPath(name).with_suffix(""))
    return stem.endswith(_ANNOTATION_ENDINGS)


def _refuse(message: str) -> NoReturn:
    raise FieldError(message)


class MicroscopyFolderDataset(DemoFolderDataset):
    """Every file under ``path`` as a field; see the module docstring.

    Parameters are ``DemoFolderDataset``'s (the demo writes its fields here as
    ``filename_suffix`` files), and ``file_pattern``: a shell-style pattern on each
    file's path inside the folder (``*`` also crosses sub-folders, case-sensitive);
    a file that does not match is listed as skipped. Hidden files (``.name``) and the
    files Cellpose writes beside images (``_seg.npy``, ``_masks``) are not fields.
    """

    def __init__(self, *, file_pattern: str = "*", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._file_pattern = file_pattern

    def _field_files(self) -> dict[str, list[str]]:
        root = PurePosixPath(self._normalized_path)
        files: dict[str, list[str]] = defaultdict(list)
        for path in sorted(self._filesystem.find(str(root), withdirs=False)):
            relative = PurePosixPath(path).relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or _is_annotation(relative.name):
                continue
            files[str(relative.with_suffix(""))].append(path)
        return files

    def _loader(self, key: str, paths: list[str]) -> Callable[[], Any]:
        names = [PurePosixPath(p).name for p in paths]
        if len(paths) > 1:
            return partial(_refuse, f"field '{key}' has {len(paths)} files ({', '.join(names)}): keep one per field.")
        suffix = PurePosixPath(paths[0]).suffix
        if not fnmatch.fnmatchcase(f"{key}{suffix}", self._file_pattern):
            return partial(_refuse, f"'{key}{suffix}' does not match the file pattern '{self._file_pattern}'.")
        if suffix.lower() not in microscopy.IMAGE_SUFFIXES:
            return partial(
                _refuse,
                f"'{names[0]}' is not an image file this project reads ({', '.join(microscopy.IMAGE_SUFFIXES)}, any case).",
            )
        filepath = paths[0] if self._protocol == "file" else f"{self._protocol}://{paths[0]}"
        return MicroscopyFileDataset(filepath=filepath, source=f"{key}{suffix}").load

    def load(self) -> dict[str, Callable[[], Any]]:
        if not self._filesystem.exists(self._normalized_path):
            return {}
        return {key: self._loader(key, paths) for key, paths in self._field_files().items()}
