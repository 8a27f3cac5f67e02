"""``OptionalPartitionedDataset``: a folder of partitions that may be empty or absent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro.io.core import DatasetError
from kedro_datasets.partitions import PartitionedDataset


class OptionalPartitionedDataset(PartitionedDataset):
    """A ``PartitionedDataset`` that loads as ``{}`` when its folder holds no partition.

    Ground-truth masks exist for the demo data but rarely for a user's own images, so
    their absence is a normal case, not a crash. Nodes that need at least one partition
    (the raw images) check for emptiness themselves and raise an error that says where
    to put files and how to make the demo data, which the generic "No partitions
    found" message of ``PartitionedDataset`` cannot say.
    """

    def load(self) -> dict[str, Callable[[], Any]]:
        if not self._filesystem.exists(self._normalized_path):
            return {}
        try:
            return super().load()
        except DatasetError:
            # The parent raises when the folder lists no partition; its listing is
            # cached, so checking costs no second scan. Any other error propagates.
            if self._list_partitions():
                raise
            return {}
