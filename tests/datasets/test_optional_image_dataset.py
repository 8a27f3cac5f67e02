"""A stage figure read back for the run's report: None before any version exists, the
newest version's pixels after."""

from __future__ import annotations

import numpy as np
from kedro.io import Version
from PIL import Image

from cell_clustering.datasets import OptionalImageDataset
from cell_clustering.datasets.atomic import MatplotlibDataset
from cell_clustering.reporting import pyplot


def test_a_figure_never_saved_loads_as_none_and_a_saved_one_as_its_image(tmp_path):
    path = str(tmp_path / "figure.png")
    assert OptionalImageDataset(filepath=path, version=Version(None, None)).load() is None
    figure = pyplot().figure(figsize=(2, 1))
    MatplotlibDataset(filepath=path, version=Version(None, "2026-11-30T12.00.00.000Z"), save_args={"dpi": 50}).save(figure)
    image = OptionalImageDataset(filepath=path, version=Version(None, None)).load()
    assert isinstance(image, Image.Image) and image.size == (100, 50)
    assert np.asarray(image).std() == 0  # the empty white figure, as saved
