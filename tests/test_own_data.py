"""A user's own folder, end to end, following the README's recipe ("Bringing your own
images") step by step: copy conf/own_data_template, edit its globals.yml, run
``kedro run --env=my_plate``.

The folder is what a microscope export looks like: flat (no condition folders), mixed
``.tif`` / ``.tiff`` / ``.TIF`` / ``.png``, 8-bit, 16-bit and float, one ImageJ CYX
two-channel file at half the pixel size of the others (declared in its metadata), a
notes file, a plate map, and no masks. The fields are drawn by the demo generator so
that their true cells are known (they are never shown to the run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
import yaml
from cellpose import io as cellpose_io
from PIL import Image
from skimage import transform

from cell_clustering import demo_data
from tests.kedro_project import make_project
from tests.parameters import block

pytestmark = pytest.mark.slow

# file → (condition, demo field drawn, how it is written)
FILES = {
    "A01_f1.tif": ("control", 0, "plain uint16"),
    "A02_f1.tiff": ("control", 1, "ImageJ float32, 0.65 µm"),
    "B01_f1.TIF": ("Rac1", 0, "plain uint8"),
    "B02_f1.png": ("Rac1", 1, "PNG uint16"),
    "C01_f1.tif": ("BRAFV600E", 0, "ImageJ CYX, nuclei then cells, 0.325 µm"),
}
# Small fields and a tiny shape model: the test is about reading, not about learning.
TEST_SIZE = {
    "modelling": {"model": {"latent_dim": 4}, "contrastive": {"width": 8}, "training": {"min_updates": 20, "batch_size": 16}},
    "evaluation": {"n_clusters": [2, 3], "seeds": [0, 1], "report": {"k": 3}, "n_init": 2},
}


def _fields() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    config = block("demo_data", field_shape=[256, 256], cells_per_field={"sparse": 6, "crowded": 10}, crowded_fraction=0.0)
    return {name: demo_data.generate_field(config, condition, index)[:2] for name, (condition, index, _) in FILES.items()}


def _nuclei(labels: np.ndarray) -> np.ndarray:
    """A decoy nuclear channel: a small bright disc near each cell's centre."""
    image = np.full(labels.shape, 200, np.uint16)
    rows, cols = np.indices(labels.shape)
    for label in np.unique(labels)[1:]:
        r, c = np.argwhere(labels == label).mean(axis=0)
        image[(rows - r) ** 2 + (cols - c) ** 2 < 9] = 3000
    return image


def _write(folder: Path, name: str, image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Write one file as FILES says; returns the true labels in that file's frame."""
    path = folder / name
    if name.startswith("A01"):
        tifffile.imwrite(path, image)
    elif name.startswith("A02"):
        tifffile.imwrite(path, image.astype(np.float32) / 4096, imagej=True, resolution=(1 / 0.65, 1 / 0.65), metadata={"unit": "um"})
    elif name.startswith("B01"):
        tifffile.imwrite(path, (image / image.max() * 255).astype(np.uint8))
    elif name.startswith("B02"):
        Image.fromarray(image).save(path)
    else:  # twice the pixels per µm: the same cells, twice as many pixels across
        big = transform.rescale(image.astype(np.float32), 2, order=1, preserve_range=True).astype(np.uint16)
        labels = transform.rescale(labels, 2, order=0, preserve_range=True, anti_aliasing=False).astype(np.uint16)
        stack = np.stack([_nuclei(labels), big])
        tifffile.imwrite(path, stack, imagej=True, resolution=(1 / 0.325, 1 / 0.325),
                         metadata={"axes": "CYX", "unit": "um", "Labels": ["nuclei", "cells"]})
    return labels


def _latest(project: Path, name: str) -> Path:
    return sorted((project / "data").glob(f"*/{name}/*"))[-1] / name


@pytest.fixture(scope="module")
def own_run(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("own_data"))
    export = tmp_path_factory.mktemp("microscope_export")  # a folder outside the project
    truth = {name: _write(export, name, *pair) for name, pair in _fields().items()}
    (export / "notes.txt").write_text("plate 1, imaged on Monday")
    plate_map = pd.DataFrame({
        "file": list(FILES), "condition": [c for c, _, _ in FILES.values()],
        "plate": "P1", "well": [name.split("_")[0] for name in FILES], "site": 1,
    })
    plate_map.to_csv(root / "plate_map.csv", index=False)
    # The README's recipe: copy the template, edit globals.yml, run with --env.
    shutil.copytree(root / "conf" / "own_data_template", root / "conf" / "my_plate")
    globals_file = root / "conf" / "my_plate" / "globals.yml"
    settings = yaml.safe_load(globals_file.read_text())
    settings.update(input_folder=str(export), plate_map=str(root / "plate_map.csv"), cell_channel="cells")
    globals_file.write_text(yaml.safe_dump(settings))
    (root / "conf" / "my_plate" / "parameters_test_size.yml").write_text(yaml.safe_dump(TEST_SIZE))
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env=my_plate"], cwd=root, capture_output=True, text=True,
        env={**os.environ, "DO_NOT_TRACK": "true", "COLUMNS": "200"}, check=False,
    )
    return root, export, truth, result


def test_the_run_succeeds_and_says_which_segmentation_it_used(own_run):
    root, _, _, result = own_run
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "Segmentation method: classical" in log and "no annotated field" in log
    report = (_latest(root, "report.html")).read_text()
    assert "Segmented with classical" in report and "notes.txt" in report


def test_every_file_is_read_with_its_own_layout_and_pixel_size_or_listed(own_run):
    root, _, _, _ = own_run
    table = pd.read_csv(_latest(root, "field_table.csv")).set_index("field")
    assert sorted(table.index) == sorted([Path(name).stem for name in FILES] + ["notes"])
    assert table.loc["notes", "status"].startswith("skipped") and "not an image file" in table.loc["notes", "status"]
    ok = table.drop(index="notes")
    assert (ok["status"] == "ok").all()
    assert ok.loc["C01_f1", "axes"] == "CYX" and ok.loc["C01_f1", "channel_names"] == "nuclei|cells"
    assert ok.loc["C01_f1", ["rows", "cols"]].tolist() == [512, 512]
    assert ok["pixel_size_um"].to_dict() == {"A01_f1": 0.65, "A02_f1": 0.65, "B01_f1": 0.65, "B02_f1": 0.65, "C01_f1": 0.325}
    assert ok["pixel_size_from"].to_dict() == {
        "A01_f1": "parameter", "A02_f1": "file", "B01_f1": "parameter", "B02_f1": "parameter", "C01_f1": "file",
    }
    assert ok["condition"].to_dict() == {Path(n).stem: c for n, (c, _, _) in FILES.items()}


def test_masks_in_the_raw_frame_lie_on_the_cells_of_the_right_channel(own_run):
    root, _, truth, _ = own_run
    masks_folder = _latest(root, "raw_frame_masks")
    for name, labels in truth.items():
        predicted = tifffile.imread(masks_folder / f"{Path(name).stem}.tif")
        assert predicted.shape == labels.shape
        overlap = np.logical_and(predicted > 0, labels > 0).sum() / np.logical_or(predicted > 0, labels > 0).sum()
        # The cells channel of C01 (the nuclei channel would cover a few % of each cell).
        assert overlap > 0.6, (name, overlap)


def test_cellpose_gui_files_load_in_cellposes_reader_and_point_at_the_raw_image(own_run):
    root, export, _, _ = own_run
    gui_folder = _latest(root, "cellpose_gui")
    for name in FILES:
        seg = gui_folder / f"{Path(name).stem}_seg.npy"
        masks = cellpose_io.imread(str(seg))
        np.testing.assert_array_equal(masks, tifffile.imread(_latest(root, "raw_frame_masks") / f"{Path(name).stem}.tif"))
        assert np.load(seg, allow_pickle=True).item()["filename"] == str(export / name)


def test_cells_carry_the_plate_map_and_sizes_in_micrometres(own_run):
    root, _, _, _ = own_run
    cells = pd.read_csv(_latest(root, "patch_metadata.csv"))
    assert {"Metadata_plate", "Metadata_well", "Metadata_site", "area_um2", "raw_centroid_row"} <= set(cells.columns)
    assert set(cells["Metadata_well"]) <= {"A01", "A02", "B01", "B02", "C01"}
    clusters = pd.read_csv(_latest(root, "cluster_assignments.csv"))
    assert {"Metadata_plate", "Metadata_well", "raw_centroid_col"} <= set(clusters.columns)
    # The same cells drawn at half the pixel size: 4× the pixels, the same µm².
    by_field = cells.groupby("field")[["area", "area_um2"]].median()
    half_pixel = by_field.loc["C01_f1"]
    others = by_field.drop(index="C01_f1").median()
    assert 3.0 < half_pixel["area"] / others["area"] < 5.5
    assert 0.6 < half_pixel["area_um2"] / others["area_um2"] < 1.6
