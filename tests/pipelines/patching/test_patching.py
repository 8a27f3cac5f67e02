"""Tests of patch extraction and the morphology table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from skimage import draw

from cell_clustering.patching import (
    crop_pad,
    crop_resize,
    cut_by_edge,
    morphology_table,
)
from cell_clustering.pipelines.patching.nodes import (
    count_against_truth,
    extract_patches,
    match_cells_to_truth,
    plot_patch_grid,
    study_cell_sizes,
)
from cell_clustering.preprocessing import covered_area, rotate_image, rotate_labels
from tests.parameters import block

SETTINGS = {"method": "crop_resize", "channels": ["intensity"], "patch_size": 32, "margin": 2, "mask_dilation": 0,
            "filters": {"drop_border": True, "min_area_um2": 20 * 0.65**2, "max_area_um2": None}}
PARAMS = block("patching", **SETTINGS)
SEQUENTIAL = block("compute")


def _fields(names, pixel_size_um: float = 0.65) -> pd.DataFrame:
    """The field table columns patching reads."""
    names = list(names)
    return pd.DataFrame({"field": names, "condition": [n.split("/")[0] for n in names], "pixel_size_um": pixel_size_um})


def field_with_two_touching_cells():
    labels = np.zeros((120, 160), np.uint16)
    rr, cc = draw.ellipse(60, 50, 10, 30, shape=labels.shape)
    labels[rr, cc] = 1
    rr, cc = draw.ellipse(60, 95, 12, 16, shape=labels.shape)
    labels[rr, cc] = np.where(labels[rr, cc] == 0, 2, labels[rr, cc])
    image = np.where(labels == 1, 0.5, np.where(labels == 2, 0.9, 0.1)).astype(np.float32)
    return image, labels


def test_crop_pad_keeps_pixel_scale():
    image, labels = field_with_two_touching_cells()
    patch, cropped = crop_pad(image, labels, 1, size=80)
    assert not cropped
    assert (patch > 0).sum() == (labels == 1).sum()


def test_crop_pad_reports_cells_larger_than_window():
    image, labels = field_with_two_touching_cells()
    _, cropped = crop_pad(image, labels, 1, size=32)
    assert cropped


def test_crop_resize_keeps_aspect_ratio_within_one_pixel():
    image, labels = field_with_two_touching_cells()
    patch = crop_resize(image, labels, 1, size=64, margin=0)
    rows, cols = np.nonzero(patch > 0)
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    true_rows, true_cols = np.nonzero(labels == 1)
    expected_height = (np.ptp(true_rows) + 1) * 64 / (np.ptp(true_cols) + 1)
    assert width == 64
    assert abs(height - expected_height) <= 1.0


@pytest.mark.parametrize("method", ["crop_resize", "crop_pad"])
def test_neighbours_never_leak_and_outside_is_zero(method):
    image, labels = field_with_two_touching_cells()
    if method == "crop_resize":
        patch = crop_resize(image, labels, 1, size=64, margin=10, dilation=3)
    else:
        patch, _ = crop_pad(image, labels, 1, size=96, dilation=3)
    # Cell 2 is 0.9 bright, cell 1 is 0.5, background 0.1: nothing above 0.5 may appear.
    assert patch.max() <= 0.5 + 1e-6
    assert (patch == 0).any()


def test_morphology_angle_to_grooves():
    labels = np.zeros((100, 100), np.uint16)
    rr, cc = draw.ellipse(30, 50, 5, 25, shape=labels.shape)  # along the grooves
    labels[rr, cc] = 1
    rr, cc = draw.ellipse(70, 50, 25, 5, shape=labels.shape)  # across them
    labels[rr, cc] = 2
    table = morphology_table(labels.astype(np.float32), labels).set_index("cell_label")
    assert table.loc[1, "angle_to_grooves_deg"] < 5
    assert table.loc[2, "angle_to_grooves_deg"] > 85
    assert table.loc[1, "aspect_ratio"] == pytest.approx(5.0, rel=0.15)


def _rotated_field_with_a_cell_cut_by_its_edge(angle_deg: float):
    """A raw 120×160 field with a whole cell (1) and one cut by the left edge (2),
    rotated by ``angle_deg`` as preprocessing does."""
    labels = np.zeros((120, 160), np.uint16)
    rr, cc = draw.ellipse(60, 80, 10, 20, shape=labels.shape)
    labels[rr, cc] = 1
    rr, cc = draw.ellipse(60, 4, 10, 20, shape=labels.shape)
    labels[rr, cc] = 2
    image = np.where(labels > 0, 0.8, 0.1).astype(np.float32)
    return rotate_image(image, angle_deg), rotate_labels(labels, angle_deg)


def test_cut_by_edge_finds_the_cell_beside_the_filled_corner_of_a_rotated_field():
    _, labels = _rotated_field_with_a_cell_cut_by_its_edge(20.0)
    assert labels.shape == (120, 160) and set(np.unique(labels)) == {0, 1, 2}
    assert cut_by_edge(labels).tolist() == []  # neither touches the image's own edge
    assert cut_by_edge(labels, covered_area((120, 160), 20.0)).tolist() == [2]
    assert covered_area((120, 160), 0.0).all()


@pytest.mark.parametrize(("rotation_deg", "kept"), [(20.0, [1]), (0.0, [1, 2])])
def test_extract_patches_drops_cells_cut_by_the_edge_of_a_rotated_field(rotation_deg, kept):
    # The field table's rotation says which corners are filled; recorded as 0, the
    # cut cell looks whole (what patching did before it read the rotation).
    image, labels = _rotated_field_with_a_cell_cut_by_its_edge(20.0)
    fields = _fields(["control/a"]).assign(rows=120, cols=160, rotation_deg=rotation_deg)
    _, metadata, cells = extract_patches({"control/a": lambda: image}, {"control/a": lambda: labels}, fields, PARAMS, SEQUENTIAL)
    assert metadata["cell_label"].tolist() == kept
    assert cells.set_index("cell_label")["filtered_by"].get(2) == ("drop_border" if rotation_deg else "kept")


def test_extract_patches_rows_align_with_metadata_and_are_deterministic():
    image, labels = field_with_two_touching_cells()
    edge = labels.copy()
    rr, cc = draw.ellipse(5, 140, 8, 8, shape=edge.shape)
    edge[rr, cc] = 3  # touches the border: filtered
    images = {"control/a": lambda: image, "Rac1/b": lambda: image}
    masks = {"control/a": lambda: edge, "Rac1/b": lambda: labels}
    patches, metadata, cells = extract_patches(images, masks, _fields(images), PARAMS, SEQUENTIAL)
    assert patches.shape == (4, 1, 32, 32) and patches.dtype == np.float32
    assert metadata[["field", "cell_label"]].values.tolist() == [["Rac1/b", 1], ["Rac1/b", 2], ["control/a", 1], ["control/a", 2]]
    assert metadata["condition"].tolist() == ["Rac1", "Rac1", "control", "control"]
    assert cells.loc[cells["cell_label"] == 3, "filtered_by"].tolist() == ["drop_border"]
    again, _, _ = extract_patches(images, masks, _fields(images), PARAMS, SEQUENTIAL)
    np.testing.assert_array_equal(patches, again)


def test_all_cells_filtered_names_the_filter():
    image, labels = field_with_two_touching_cells()
    params = block("patching", **{**SETTINGS, "filters": {"drop_border": True, "min_area_um2": 10_000, "max_area_um2": None}})
    with pytest.raises(ValueError, match="min_area_um2"):
        extract_patches({"c/a": lambda: image}, {"c/a": lambda: labels}, _fields(["c/a"]), params, SEQUENTIAL)


def test_shape_mismatch_names_the_field():
    image, labels = field_with_two_touching_cells()
    with pytest.raises(ValueError, match="c/a"):
        extract_patches({"c/a": lambda: image[:50]}, {"c/a": lambda: labels}, _fields(["c/a"]), PARAMS, SEQUENTIAL)


STUDY_PARAMS = block("patching", **{**SETTINGS, "grid": {"samples_per_condition": 3, "seed": 0}})


def test_size_study_suggests_a_window_fitting_the_percentile_after_a_csv_round_trip(tmp_path):
    image, labels = field_with_two_touching_cells()
    _, _, cells = extract_patches({"c/a": lambda: image, "d/b": lambda: image}, {"c/a": lambda: labels, "d/b": lambda: labels}, _fields(["c/a", "d/b"]), STUDY_PARAMS, SEQUENTIAL)
    cells.to_csv(tmp_path / "cells.csv", index=False)  # as the catalog stores it
    suggestion, figure = study_cell_sizes(pd.read_csv(tmp_path / "cells.csv"), STUDY_PARAMS)
    # Cell 1's box is 59 columns wide, cell 2's 31: the p95 of [59, 31, 59, 31] is
    # 59, rounded up to 64; only cell 2 fits the configured 32.
    assert suggestion["n_cells"] == 4
    assert suggestion["suggested_patch_size"] == 64
    assert suggestion["share_fitting_configured_size"] == 0.5
    assert set(suggestion["per_condition"]) == {"c", "d"}
    assert len(figure.axes) == 2


def test_patch_counts_match_truth_for_a_perfect_segmentation():
    image, labels = field_with_two_touching_cells()
    edge = labels.copy()
    rr, cc = draw.ellipse(5, 140, 8, 8, shape=edge.shape)
    edge[rr, cc] = 3
    _, _, cells = extract_patches({"c/a": lambda: image}, {"c/a": lambda: edge}, _fields(["c/a"]), PARAMS, SEQUENTIAL)
    counts = count_against_truth(cells, {"c/a": lambda: edge}, _fields(["c/a"]), PARAMS).set_index("condition")
    assert counts.loc["c", "segmented_cells"] == counts.loc["c", "true_cells"] == 3
    assert counts.loc["c", "patches"] == counts.loc["c", "true_cells_after_filters"] == 2
    assert counts.loc["total", "patches_minus_truth"] == 0
    # Without ground truth: the patches per condition still, and no truth column.
    without_truth = count_against_truth(cells, {}, _fields(["c/a"]), PARAMS)
    assert without_truth.set_index("condition").loc["total"].to_dict() == {"segmented_cells": 3, "patches": 2}


def test_patch_grid_has_a_row_per_condition():
    patches = np.random.default_rng(0).uniform(size=(7, 1, 8, 8)).astype(np.float32)
    metadata = pd.DataFrame({"condition": ["a"] * 4 + ["b"] * 3})
    figure = plot_patch_grid(patches, metadata, STUDY_PARAMS)
    assert len(figure.axes) == 2 * 3


def test_patches_are_matched_to_their_planted_shape_class():
    _, truth = field_with_two_touching_cells()
    predicted = np.zeros_like(truth)
    predicted[truth == 1] = 2  # the segmenter numbers cells its own way
    predicted[truth == 2] = 1
    predicted[5:9, 5:9] = 3  # a false positive: no truth under it
    metadata = pd.DataFrame({"field": ["c/a", "c/a", "c/a"], "cell_label": [3, 1, 2]})
    truth_cells = pd.DataFrame({"field": ["c/a", "c/a"], "cell_label": [1, 2], "shape_class": ["elongated", "round"]})
    matched = match_cells_to_truth(metadata, {"c/a": lambda: predicted}, {"c/a": lambda: truth}, truth_cells)
    assert matched["cell_label"].tolist() == [3, 1, 2]  # patch order kept
    assert matched["shape_class"].tolist() == ["unmatched", "round", "elongated"]
    assert matched["true_cell_label"].tolist() == [0, 2, 1]
    assert matched.loc[1:, "iou"].tolist() == [1.0, 1.0]
    assert match_cells_to_truth(metadata, {}, {}, pd.DataFrame()).empty


def test_crop_pad_window_is_in_micrometres_and_keeps_size_across_pixel_sizes():
    image, labels = field_with_two_touching_cells()
    settings = {**SETTINGS, "method": "crop_pad", "channels": ["mask", "intensity"], "window_um": 52.0, "patch_size": 40}
    patches, metadata, _ = extract_patches({"c/a": lambda: image}, {"c/a": lambda: labels}, _fields(["c/a"], 0.65),
                                           block("patching", **settings), SEQUENTIAL)
    assert patches.shape == (2, 2, 40, 40)
    # Channel 0 is the silhouette: its area in the 40 px patch scales with the true area.
    window_px = round(52.0 / 0.65)
    expected = (labels == 1).sum() * (40 / window_px) ** 2
    assert patches[0, 0].sum() == pytest.approx(expected, rel=0.03)
    assert patches[0, 1].max() == pytest.approx(0.5, abs=0.05)  # channel 1: the cell's own pixels
    # The same cell imaged at twice the pixel size fills half the window's width.
    coarse = image[::2, ::2], labels[::2, ::2]
    half, _, _ = extract_patches({"c/a": lambda: coarse[0]}, {"c/a": lambda: coarse[1]}, _fields(["c/a"], 1.3),
                                 block("patching", **settings), SEQUENTIAL)
    assert half[0, 0].sum() == pytest.approx(patches[0, 0].sum(), rel=0.1)
