"""``TorchCheckpointDataset``: a model's state dict together with its config."""

from __future__ import annotations

from typing import Any, BinaryIO

from kedro.io.core import DatasetError

from cell_clustering import modelling
from cell_clustering.datasets._file_dataset import BinaryFileDataset


class TorchCheckpointDataset(BinaryFileDataset[dict[str, Any]]):
    """Save ``{"model": name, "config": dict, "state_dict": ...}`` with ``torch.save``.

    Loading uses ``torch.load(weights_only=True)``: a checkpoint from elsewhere cannot
    run code on load. The config holds only plain Python values, so a model can be
    rebuilt from the file alone.
    """

    REQUIRED_KEYS = ("model", "config", "state_dict")

    def _validate(self, data: dict[str, Any]) -> None:
        missing = [key for key in self.REQUIRED_KEYS if key not in data]
        if missing:
            raise DatasetError(
                f"TorchCheckpointDataset '{self._filepath}' needs keys {list(self.REQUIRED_KEYS)}; "
                f"missing {missing}."
            )

    def _read(self, stream: BinaryIO) -> dict[str, Any]:
        return modelling.read_torch_file(stream)

    def _write(self, data: dict[str, Any], stream: BinaryIO) -> None:
        modelling.write_torch_file(data, stream)
