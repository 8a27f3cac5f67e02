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


def _outlines(masks: np.ndarray) -> np.ndarray:
    """Each label's inner boundary pixels (4-neighbourhood), labelled; 0 elsewhere."""
    padded = np.pad(masks, 1, mode="edge")
    centre = padded[1:-1, 1:-1]
    edge = (
        (padded[:-2, 1:-1] != centre) | (padded[2:, 1:-1] != centre)
        | (padded[1:-1, :-2] != centre) | (padded[1:-1, 2:] != centre)
    )
    return np.where(edge & (centre > 0), centre, 0)


class CellposeSegDataset(BinaryFileDataset[np.ndarray]):
    """The instance mask of a Cellpose GUI annotation file (``<image>_seg.npy``).

    These files are pickled dictionaries written by the GUI, so loading them runs
    pickle: only point this dataset at annotation files you made or trust.

    Saving takes ``{"masks": (rows, cols) labels, "filename": the image file's path}``
    and writes the dictionary the GUI and ``cellpose.io`` read (the keys of
    ``cellpose.io.masks_flows_to_seg``, no flows): the GUI opens the image at
    ``filename`` with the masks over it, ready to correct. The image is not copied.
    """

    def _read(self, stream: BinaryIO) -> np.ndarray:
        content = np.load(stream, allow_pickle=True).item()
        if not isinstance(content, dict) or "masks" not in content:
            raise ValueError("not a Cellpose _seg.npy file (no 'masks' entry)")
        return np.asarray(content["masks"])

    def _validate(self, data: Any) -> None:
        if not isinstance(data, dict) or not {"masks", "filename"} <= set(data):
            raise DatasetError(f"CellposeSegDataset '{self._filepath}' saves a dict with masks and filename.")

    def _write(self, data: dict[str, Any], stream: BinaryIO) -> None:
        masks = np.asarray(data["masks"])
        dtype = np.uint16 if masks.max(initial=0) < 2**16 - 1 else np.uint32
        outlines = _outlines(masks)
        content = {
            "outlines": outlines.astype(dtype),
            "masks": masks.astype(dtype),
            "chan_choose": [0, 0],
            "ismanual": np.zeros(int(masks.max(initial=0)), bool),
            "filename": str(data["filename"]),
            "flows": [],
            "diameter": float(data.get("diameter") or 30.0),
        }
        np.save(stream, content, allow_pickle=True)
