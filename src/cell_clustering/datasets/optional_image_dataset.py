"""``OptionalImageDataset``: a versioned image that loads as None when no version exists."""

from __future__ import annotations

from typing import Any

from kedro_datasets.pillow import ImageDataset


class OptionalImageDataset(ImageDataset):
    """A ``pillow.ImageDataset`` for a figure another stage saves.

    The run's report reads back the figures of the stages before the clustering. Run
    alone (``--pipelines=evaluation``) in a project where a stage never ran, or ran
    before it drew that figure, the report says the figure is missing instead of
    failing the run.
    """

    def load(self) -> Any:
        if not self.exists():
            return None
        return super().load()
