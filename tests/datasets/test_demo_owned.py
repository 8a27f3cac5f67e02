"""The demo writes only into folders it made, and never over a file it did not write."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile

from cell_clustering.datasets import DemoFolderDataset, DemoTableDataset
from cell_clustering.datasets.demo_owned import DemoFolderRefused

TIFF = {"type": "cell_clustering.datasets.TiffDataset"}
FIELD = np.arange(64, dtype=np.uint16).reshape(8, 8)


def _demo(folder) -> DemoFolderDataset:
    return DemoFolderDataset(path=str(folder), dataset=TIFF, filename_suffix=".tif")


def test_a_users_file_beside_the_demo_fields_is_never_deleted(tmp_path):
    images = tmp_path / "images"
    _demo(images).save({"control/field_000": FIELD, "Rac1/field_000": FIELD + 1})
    mine = images / "control" / "my_own_field.tif"
    tifffile.imwrite(mine, FIELD * 3)
    with pytest.raises(DemoFolderRefused, match=r"holds files it did not make: 'control/my_own_field.tif'.*Move your files"):
        _demo(images).save({"control/field_000": FIELD})
    np.testing.assert_array_equal(tifffile.imread(mine), FIELD * 3)
    assert (images / "Rac1" / "field_000.tif").exists()  # nothing of the demo's removed either


def test_a_demo_file_the_user_changed_is_not_overwritten(tmp_path):
    images = tmp_path / "images"
    _demo(images).save({"control/field_000": FIELD})
    edited = images / "control" / "field_000.tif"
    tifffile.imwrite(edited, FIELD[::-1])
    with pytest.raises(DemoFolderRefused, match="changed since the demo wrote it"):
        _demo(images).save({"control/field_000": FIELD})
    np.testing.assert_array_equal(tifffile.imread(edited), FIELD[::-1])


def test_the_demo_rewrites_its_own_folder_and_tables(tmp_path):
    images = tmp_path / "images"
    _demo(images).save({"control/field_000": FIELD, "control/field_001": FIELD})
    _demo(images).save({"control/field_000": FIELD + 5})  # the demo's own files: replaced
    assert sorted(p.name for p in (images / "control").iterdir()) == ["field_000.tif"]
    truth = tmp_path / "ground_truth"
    for name in ("fields.csv", "cells.csv", "fields.csv"):
        DemoTableDataset(filepath=str(truth / name)).save(pd.DataFrame({"field": ["control/field_000"]}))
    (truth / "notes.txt").write_text("mine")
    with pytest.raises(DemoFolderRefused, match="'notes.txt'"):
        DemoTableDataset(filepath=str(truth / "cells.csv")).save(pd.DataFrame({"field": ["x"]}))
