"""Annotations as users have them: label masks as TIFF or PNG, 8 or 16 bit, named as the
image or as the Cellpose GUI names them, matched to their fields."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile
from kedro.io.core import DatasetError
from PIL import Image

from cell_clustering.datasets import LabelMaskFolderDataset
from cell_clustering.errors import ProjectValueError
from cell_clustering.parameters import ComputeParams, PreprocessingParams
from cell_clustering.pipelines.preprocessing.nodes import rotate_masks

TIFF = {"type": "cell_clustering.datasets.TiffDataset"}


def _labels(dtype: type, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4, size=(12, 16)).astype(dtype)


def _dataset(folder) -> LabelMaskFolderDataset:
    return LabelMaskFolderDataset(path=str(folder), dataset=TIFF, filename_suffix=".tif")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_tiff_and_png_masks_of_any_case_are_read_with_their_labels(tmp_path, dtype):
    written = {"control/a": _labels(dtype, 0), "control/b_masks": _labels(dtype, 1), "Rac1/c_cp_masks": _labels(dtype, 2)}
    (tmp_path / "control").mkdir()
    (tmp_path / "Rac1").mkdir()
    tifffile.imwrite(tmp_path / "control" / "a.TIFF", written["control/a"])
    Image.fromarray(written["control/b_masks"]).save(tmp_path / "control" / "b_masks.png")
    Image.fromarray(written["Rac1/c_cp_masks"]).save(tmp_path / "Rac1" / "c_cp_masks.PNG")
    (tmp_path / "control" / "notes.txt").write_text("not a mask")
    np.save(tmp_path / "control" / "a_seg.npy", {"masks": written["control/a"]}, allow_pickle=True)
    tifffile.imwrite(tmp_path / ".hidden.tif", written["control/a"])

    loaded = {key: load() for key, load in _dataset(tmp_path).load().items()}

    assert sorted(loaded) == sorted(written)
    for key, labels in written.items():
        np.testing.assert_array_equal(loaded[key], labels)
        assert loaded[key].dtype == dtype


def test_a_colour_mask_is_refused_naming_the_file(tmp_path):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "field_masks.png")
    load = _dataset(tmp_path).load()["field_masks"]
    with pytest.raises(ProjectValueError, match=r"field_masks.png.*2-D integer image of cell labels"):
        load()


def test_two_masks_for_one_field_are_refused(tmp_path):
    tifffile.imwrite(tmp_path / "field.tif", _labels(np.uint16, 0))
    Image.fromarray(_labels(np.uint8, 0)).save(tmp_path / "field.png")
    with pytest.raises(DatasetError, match="Two mask files for 'field'") as raised:
        _dataset(tmp_path).load()  # Kedro wraps what a dataset's load raises
    assert isinstance(raised.value.__cause__, ProjectValueError)


def test_gui_named_masks_are_matched_to_their_fields(tmp_path):
    masks = {"control/a": _labels(np.uint16, 0), "control/b": _labels(np.uint8, 1)}
    (tmp_path / "control").mkdir()
    tifffile.imwrite(tmp_path / "control" / "a_masks.tif", masks["control/a"])
    Image.fromarray(masks["control/b"]).save(tmp_path / "control" / "b_cp_masks.png")
    field_table = pd.DataFrame(
        {"field": ["control/a", "control/b"], "rows": [12, 12], "cols": [16, 16], "rotation_deg": [0.0, 0.0], "status": ["ok", "ok"]}
    )
    params = PreprocessingParams.model_validate({"rotation": {"enabled": False}})
    rotated = rotate_masks(_dataset(tmp_path).load(), {}, field_table, params, ComputeParams())
    assert sorted(rotated) == ["control/a", "control/b"]
    for field, labels in masks.items():
        np.testing.assert_array_equal(rotated[field](), labels)
