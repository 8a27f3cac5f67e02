"""Tests of the per-image preprocessing steps and the preprocessing nodes."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from skimage import draw

from cell_clustering import preprocessing as steps
from cell_clustering.fields import FieldError
from cell_clustering.pipelines.preprocessing.nodes import (
    compare_angles,
    measure_fields,
    preprocess_fields,
)
from tests.parameters import block

DTYPES = [np.uint8, np.uint16, np.float32, np.float64]


def line_pattern(angle_deg: float, shape=(300, 300), period=14.0, noise=0.15, seed=0) -> np.ndarray:
    """Sinusoidal stripes at ``angle_deg`` (counter-clockwise as displayed), noisy."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    theta = np.deg2rad(angle_deg)
    across = cols * np.sin(theta) + rows * np.cos(theta)
    stripes = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * across / period))
    return stripes + np.random.default_rng(seed).normal(0, noise, shape)


def as_dtype(image: np.ndarray, dtype) -> np.ndarray:
    unit = (image - image.min()) / (image.max() - image.min())
    if np.issubdtype(dtype, np.integer):
        return np.rint(unit * np.iinfo(dtype).max * 0.8).astype(dtype)
    return (unit * 3.0 - 1.0).astype(dtype)  # floats outside [0, 1] on purpose


@pytest.mark.parametrize("angle", [0.0, 10.0, -10.0, 45.0, -45.0, 89.0, -88.0, 17.3])
def test_groove_angle_on_noisy_lines(angle):
    detected = steps.detect_groove_angle(line_pattern(angle))
    error = (detected.angle_deg - angle + 90) % 180 - 90
    assert abs(error) < 0.3
    assert detected.confidence > 0.3


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1.0, 1 / 4096])
def test_groove_angle_does_not_depend_on_dtype_or_intensity_scale(dtype, scale):
    # A float field in [0, 1] found no groove when Canny's absolute thresholds saw it raw.
    image = line_pattern(12.0, noise=0.05) * 300 + 200
    image = (image * scale).astype(dtype) if np.issubdtype(dtype, np.floating) else as_dtype(image, dtype)
    detected = steps.detect_groove_angle(image)
    assert abs((detected.angle_deg - 12.0 + 90) % 180 - 90) < 0.3 and detected.confidence > 0.3


def test_groove_angle_robust_to_cells_covering_grooves():
    image = line_pattern(12.0, noise=0.05)
    rng = np.random.default_rng(3)
    for _ in range(15):  # bright elongated "cells" at other orientations
        rr, cc = draw.ellipse(*rng.uniform(40, 260, 2), 12, 35, rotation=rng.uniform(0, np.pi), shape=image.shape)
        image[rr, cc] = 6.0
    error = (steps.detect_groove_angle(image).angle_deg - 12.0 + 90) % 180 - 90
    assert abs(error) < 0.5


def test_groove_angle_without_edges_falls_back():
    result = steps.detect_groove_angle(np.full((50, 50), 7.0), fallback_angle_deg=3.0)
    assert result == steps.GrooveAngle(3.0, 0.0, 0)


def test_rotated_mask_matches_mask_drawn_at_rotated_angle_and_keeps_labels():
    shape = (201, 201)
    labels = np.zeros(shape, np.uint16)
    truth = np.zeros(shape, np.uint16)
    angle = 15.0
    centre = 100.0
    t = np.deg2rad(-angle)  # the image turns by -angle, counter-clockwise as displayed
    for label, (d_row, d_col) in enumerate([(0, 0), (-50, 30), (40, -45)], start=1):
        # An ellipse along the grooves at `angle` ...
        rr, cc = draw.ellipse(centre + d_row, centre + d_col, 8, 25, rotation=np.deg2rad(angle), shape=shape)
        labels[rr, cc] = label
        # ... and the same ellipse drawn where the rotation about the centre puts it.
        new_row = d_row * np.cos(t) - d_col * np.sin(t)
        new_col = d_col * np.cos(t) + d_row * np.sin(t)
        rr, cc = draw.ellipse(centre + new_row, centre + new_col, 8, 25, rotation=0.0, shape=shape)
        truth[rr, cc] = label
    rotated_labels = steps.rotate_labels(labels, angle)
    assert rotated_labels.dtype == np.uint16
    assert set(np.unique(rotated_labels)) == set(np.unique(labels))
    for label in (1, 2, 3):
        a, b = rotated_labels == label, truth == label
        assert (a & b).sum() / (a | b).sum() > 0.85


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "step",
    [
        lambda im: steps.apply_clahe(im, clip_limit=0.01, kernel_size=16),
        steps.normalise,
        lambda im: steps.clip_percentiles(im, low=1.0, high=99.0),
        lambda im: steps.denoise_tv(im, weight=0.05),
        steps.robust_unit_range,
    ],
    ids=["clahe", "normalise", "clip", "denoise", "robust_unit_range"],
)
def test_steps_accept_any_dtype_and_return_unit_float32(step, dtype):
    image = as_dtype(np.random.default_rng(4).gamma(2.0, 1.0, (40, 50)), dtype)
    out = step(image)
    assert out.dtype == np.float32
    assert out.shape == image.shape
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > out.min()


@pytest.mark.parametrize("dtype", DTYPES)
def test_rotation_preserves_range_and_dtype_agnostic(dtype):
    image = as_dtype(line_pattern(10.0, shape=(64, 64)), dtype)
    out = steps.rotate_image(image, 10.0)
    assert out.dtype == np.float32
    assert out.min() >= float(image.min()) - 1e-4 and out.max() <= float(image.max()) + 1e-4


def test_crop_to_valid_leaves_no_filled_corner():
    image = np.ones((100, 140), np.float32)
    out = steps.rotate_image(image, 20.0, border_value=0.0, crop_to_valid=True)
    assert out.min() > 0.99  # only original pixels remain
    assert out.shape[0] < 100 and out.shape[1] < 140


def test_clip_percentiles_rejects_bad_percentiles():
    with pytest.raises(ValueError, match="low=50"):
        steps.clip_percentiles(np.ones((4, 4)), low=50, high=10)


def test_hot_pixels_do_not_flatten_clahe():
    # 5 hot pixels in 65 536 (0.008 %) stay above the 99.99th percentile.
    image = np.random.default_rng(5).uniform(100, 200, (256, 256)).astype(np.uint16)
    image[[3, 50, 90, 120, 200], [3, 60, 10, 250, 7]] = 65535
    out = steps.apply_clahe(image, kernel_size=32)
    assert out.std() > 0.1


SETTINGS = {
    "angle": {"fine_step_deg": 0.05},
    "density_bins": [
        {"name": "sparse", "max_foreground": 0.07, "clahe_clip_limit": 0.01, "clahe_kernel_size": 16, "tv_weight": 0.06},
        {"name": "crowded", "max_foreground": 1.0, "clahe_clip_limit": 0.008, "clahe_kernel_size": 16, "tv_weight": 0.04},
    ],
}
PARAMS = block("preprocessing", **SETTINGS)
SEQUENTIAL = block("compute")


def _broken():
    raise OSError("Cannot read 'data/01_raw/images/control/bad.tif'")


def test_bad_fields_are_skipped_with_their_names_and_others_go_on(caplog):
    good = (line_pattern(5.0, shape=(64, 64)) * 1000 + 2000).astype(np.uint16)
    partitions = {
        "control/good": lambda: good,
        "control/bad": _broken,
        "control/constant": lambda: np.full((64, 64), 3, np.uint16),
        "control/nan": lambda: np.full((64, 64), np.nan, np.float32),
    }
    with caplog.at_level(logging.WARNING):
        table = measure_fields(partitions, PARAMS, SEQUENTIAL)
    status = table.set_index("field")["status"]
    assert status["control/good"] == "ok"
    for field in ("control/bad", "control/constant", "control/nan"):
        assert status[field].startswith("skipped"), field
        assert field in caplog.text
    assert "bad.tif" in status["control/bad"]
    outputs = preprocess_fields(partitions, table, PARAMS, SEQUENTIAL)
    assert list(outputs) == ["control/good"]
    image = outputs["control/good"]()
    assert image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1


def test_channel_parameter_picks_one_channel_of_rgb():
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[..., 1] = (line_pattern(20.0, shape=(64, 64), noise=0.01) * 120 + 50).astype(np.uint8)
    table = measure_fields({"control/rgb": lambda: rgb}, block("preprocessing", **SETTINGS, layout={"cell_channel": 1}), SEQUENTIAL)
    assert abs(table.loc[0, "angle_deg"] - 20.0) < 1.0


def test_pages_the_file_does_not_describe_stop_the_run_naming_the_file_and_the_setting():
    good = (line_pattern(5.0, shape=(64, 64)) * 1000 + 2000).astype(np.uint16)
    partitions = {"control/good": lambda: good, "control/stack": lambda: np.zeros((3, 64, 64), np.uint16)}
    with pytest.raises(FieldError, match=r"(?s)control/stack.*3 pages.*preprocessing.layout.axes"):
        measure_fields(partitions, PARAMS, SEQUENTIAL)


def test_no_images_error_says_where_to_put_them():
    with pytest.raises(FileNotFoundError, match="data/01_raw/images/<condition>.*demo_data"):
        measure_fields({}, PARAMS, SEQUENTIAL)


def test_all_fields_bad_is_an_error_listing_them():
    with pytest.raises(FieldError, match="control/constant"):
        measure_fields({"control/constant": lambda: np.ones((8, 8))}, PARAMS, SEQUENTIAL)


def test_compare_angles_wraps_at_180_degrees():
    table = pd.DataFrame({"field": ["a", "b"], "angle_deg": [89.5, 10.0]})
    truth = pd.DataFrame({"field": ["a", "b"], "angle_deg": [-89.7, 10.4]})
    compared = compare_angles(table, truth)
    np.testing.assert_allclose(compared["angle_error_deg"], [0.8, 0.4], atol=1e-6)
    assert compare_angles(table, pd.DataFrame())["angle_error_deg"].isna().all()
