"""Datasets for Cellpose files: trained CPnet weights and GUI annotations."""

from __future__ import annotations

from typing import Any, BinaryIO

import numpy as np
from kedro.io.core import DatasetError

from cell_clustering import modelling
from cell_clustering.datasets._file_dataset import BinaryFileDataset


class CellposeModelDataset(BinaryFileDataset[dict[str, Any]]):
    """A CPnet state dict in Cellpose's own file format (``torch.save`` of the dict).

    The saved file loads in the Cellpose GUI and as
    ``segmentation.model_source: <path>``; here it is loaded with
    ``weights_only=True``. When the classical segmentation was chosen instead, the
    file holds ``{"method": "classical"}`` and no weights.
    """

    def _validate(self, data: dict[str, Any]) -> None:
        if data == {"method": "classical"}:
            return
        if not isinstance(data, dict) or "diam_labels" not in data:
            raise DatasetError(
                f"CellposeModelDataset '{self._filepath}' saves a CPnet state dict "
                "(with 'diam_labels'); got something else."
            )

    def _read(self, stream: BinaryIO) -> dict[str, Any]:
        return modelling.read_torch_file(stream)

    def _write(self, data: dict[str, Any], stream: BinaryIO) -> None:
        modelling.write_torch_file(data, stream)


class CellposeSegDataset(BinaryFileDataset[np.ndarray]):
    """The instance mask of a Cellpose GUI annotation file (``<image>_seg.npy``).

    These files are pickled dictionaries written by the GUI, so loading them runs
    pickle: only point this dataset at annotation files you made or trust.
    Read-only.
    """

    def _read(self, stream: BinaryIO) -> np.ndarray:
        content = np.load(stream, allow_pickle=True).item()
        if not isinstance(content, dict) or "masks" not in content:
            raise ValueError("not a Cellpose _seg.npy file (no 'masks' entry)")
        return np.asarray(content["masks"])

    def _write(self, data: np.ndarray, stream: BinaryIO) -> None:
        raise DatasetError(f"CellposeSegDataset '{self._filepath}' is read-only: annotate in the Cellpose GUI.")
