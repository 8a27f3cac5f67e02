"""Reading microscopy files as they declare themselves (axes, channels, pixel size),
and the folder dataset that lists every file as a field or as skipped."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tifffile
from PIL import Image

from cell_clustering.datasets import MicroscopyFolderDataset
from cell_clustering.fields import FieldError
from cell_clustering.microscopy import LayoutError, RawField, read_field, select_plane

RNG = np.random.default_rng(0)
STACK = RNG.integers(0, 4000, (2, 32, 40)).astype(np.uint16)


def _tiff(data: np.ndarray = STACK, **kwargs) -> RawField:
    stream = io.BytesIO()
    tifffile.imwrite(stream, data, **kwargs)
    stream.seek(0)
    return read_field(stream, ".tif", "x.tif")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_plain_2d_tiff_keeps_dtype_and_declares_no_pixel_size(dtype):
    image = (RNG.uniform(0, 200, (16, 24))).astype(dtype)
    raw = _tiff(image)
    assert raw.axes == "YX" and raw.pixels.dtype == dtype and raw.pixel_size_um is None
    np.testing.assert_array_equal(select_plane(raw, channel=0), image)


def test_imagej_channel_first_file_gives_axes_names_and_pixel_size():
    raw = _tiff(imagej=True, resolution=(1 / 0.325, 1 / 0.325), metadata={"axes": "CYX", "unit": "um", "Labels": ["actin", "dapi"]})
    assert (raw.axes, raw.pixel_size_um, raw.channel_names) == ("CYX", pytest.approx(0.325), ("actin", "dapi"))
    np.testing.assert_array_equal(select_plane(raw, channel="dapi"), STACK[1])
    np.testing.assert_array_equal(select_plane(raw, channel=0), STACK[0])


def test_ome_tiff_gives_pixel_size_and_channel_names():
    raw = _tiff(ome=True, metadata={"axes": "CYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2, "Channel": {"Name": ["cell", "nuc"]}})
    assert (raw.axes, raw.pixel_size_um, raw.channel_names) == ("CYX", pytest.approx(0.2), ("cell", "nuc"))


def test_centimetre_resolution_tags_give_micrometres_and_inches_are_ignored():
    assert _tiff(STACK[0], resolution=(1e4 / 0.5, 1e4 / 0.5), resolutionunit="CENTIMETER").pixel_size_um == pytest.approx(0.5)
    assert _tiff(STACK[0], resolution=(72, 72), resolutionunit="INCH").pixel_size_um is None


def test_rgb_tiff_and_png_are_channels_last():
    rgb = RNG.integers(0, 255, (20, 30, 3)).astype(np.uint8)
    assert _tiff(rgb, photometric="rgb").axes == "YXC"
    stream = io.BytesIO()
    Image.fromarray(rgb).save(stream, format="png")
    stream.seek(0)
    raw = read_field(stream, ".PNG", "x.PNG")
    assert raw.axes == "YXC"
    np.testing.assert_array_equal(select_plane(raw, channel=2), rgb[..., 2])


def test_16_bit_png_reads_back_exactly():
    image = np.arange(64 * 48, dtype=np.uint16).reshape(64, 48)
    stream = io.BytesIO()
    Image.fromarray(image).save(stream, format="png")
    stream.seek(0)
    raw = read_field(stream, ".png", "x.png")
    assert raw.axes == "YX" and raw.pixels.dtype == np.uint16
    np.testing.assert_array_equal(raw.pixels, image)


def test_z_stack_is_projected_or_one_plane_taken():
    raw = _tiff(metadata={"axes": "ZYX"})
    np.testing.assert_array_equal(select_plane(raw, channel=0, z_projection="max"), STACK.max(axis=0))
    np.testing.assert_array_equal(select_plane(raw, channel=0, z_projection=1), STACK[1])


def test_time_lapse_is_refused_with_a_message():
    with pytest.raises(LayoutError, match="time-lapse is not supported yet"):
        select_plane(_tiff(imagej=True, metadata={"axes": "TYX"}), channel=0)


def test_undescribed_pages_need_a_declared_layout_and_a_contradiction_is_an_error():
    raw = _tiff()  # a plain multi-page TIFF: tifffile cannot say what the pages are
    with pytest.raises(LayoutError, match="preprocessing.layout.axes"):
        select_plane(raw, channel=0)
    np.testing.assert_array_equal(select_plane(raw, channel=1, axes="CYX"), STACK[1])
    declared = _tiff(metadata={"axes": "ZYX"})
    with pytest.raises(LayoutError, match=r"'x.tif' has axes ZYX .* declares CYX"):
        select_plane(declared, channel=0, axes="CYX")


def test_missing_channel_name_and_index_name_the_file_and_the_choices():
    raw = _tiff(imagej=True, metadata={"axes": "CYX", "Labels": ["actin", "dapi"]})
    with pytest.raises(LayoutError, match="no channel named 'tubulin'.*actin, dapi"):
        select_plane(raw, channel="tubulin")
    with pytest.raises(LayoutError, match="2 channel.*= 5 is out of range"):
        select_plane(raw, channel=5)


def test_folder_lists_every_file_as_a_field_or_a_reason(tmp_path):
    folder = tmp_path / "images"
    (folder / "control").mkdir(parents=True)
    for name in ("a.tif", "b.tiff", "c.TIF"):
        tifffile.imwrite(folder / "control" / name, STACK[0])
    Image.fromarray(STACK[0]).save(folder / "d.png")
    (folder / "notes.txt").write_text("x")
    tifffile.imwrite(folder / "e.tif", STACK[0])
    Image.fromarray(STACK[0]).save(folder / "e.png")
    np.save(folder / "d_seg.npy", {"masks": np.zeros((2, 2))}, allow_pickle=True)  # Cellpose's, not a field
    (folder / ".DS_Store").write_text("x")
    partitions = MicroscopyFolderDataset(path=str(folder), dataset="cell_clustering.datasets.MicroscopyFileDataset").load()
    assert sorted(partitions) == ["control/a", "control/b", "control/c", "d", "e", "notes"]
    for key in ("control/a", "control/b", "control/c", "d"):
        np.testing.assert_array_equal(partitions[key]().pixels, STACK[0])
    assert partitions["control/b"]().source == "control/b.tiff"
    with pytest.raises(FieldError, match="'notes.txt' is not an image file"):
        partitions["notes"]()
    with pytest.raises(FieldError, match="2 files .*e.png, e.tif"):
        partitions["e"]()


def test_file_pattern_lists_the_files_it_leaves_out(tmp_path):
    for name in ("well_A01_w1.tif", "well_A01_w2.tif"):
        tifffile.imwrite(tmp_path / name, STACK[0])
    partitions = MicroscopyFolderDataset(
        path=str(tmp_path), dataset="cell_clustering.datasets.MicroscopyFileDataset", file_pattern="*_w1.tif"
    ).load()
    assert partitions["well_A01_w1"]().axes == "YX"
    with pytest.raises(FieldError, match="does not match the file pattern"):
        partitions["well_A01_w2"]()
