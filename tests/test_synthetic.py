"""Tests of the demo data generator: what it records is what it drew."""

from __future__ import annotations

import numpy as np
import pytest

from cell_clustering.demo_data import generate_dataset, generate_field
from cell_clustering.parameters import DemoDataParams, ParameterError
from cell_clustering.parameters.base import validate_block
from tests.parameters import block, raw_block

BASE_PARAMS = raw_block("demo_data")


def small_config(**overrides) -> DemoDataParams:
    return block("demo_data", **{"fields_per_condition": 1, "field_shape": [256, 256], **overrides})


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(small_config(fields_per_condition=2))


def test_masks_cover_the_bright_cells(dataset):
    images, masks, _, _ = dataset
    for field, image in images.items():
        inside = image[masks[field] > 0].mean()
        outside = np.median(image[masks[field] == 0])
        assert inside > 2 * outside, field


def test_counts_agree_between_mask_and_tables(dataset):
    _, masks, fields, cells = dataset
    for row in fields.itertuples():
        labels = np.unique(masks[row.field])
        labels = labels[labels > 0]
        assert len(labels) == row.n_cells
        assert cells.loc[cells["field"] == row.field, "cell_label"].tolist() == labels.tolist()
        areas = np.bincount(masks[row.field].ravel())[labels]
        assert cells.loc[cells["field"] == row.field, "area_px"].tolist() == areas.tolist()


def test_every_condition_and_shape_class_is_recorded(dataset):
    _, _, fields, cells = dataset
    assert sorted(fields["condition"].unique()) == sorted(BASE_PARAMS["condition_mixtures"])
    for condition, mixture in BASE_PARAMS["condition_mixtures"].items():
        assert set(cells.loc[cells["condition"] == condition, "shape_class"]) <= set(mixture)


def _fft_groove_angle(image: np.ndarray) -> float:
    """Groove angle from the strongest non-DC peak of the spectrum (independent of
    the project's Hough detector)."""
    image = image.astype(float) - image.mean()
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(image * np.hanning(image.shape[0])[:, None] * np.hanning(image.shape[1]))))
    centre = np.array(image.shape) // 2
    spectrum[centre[0] - 3 : centre[0] + 4, centre[1] - 3 : centre[1] + 4] = 0
    peak_row, peak_col = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    k_row, k_col = peak_row - centre[0], peak_col - centre[1]
    # The wave vector is the grooves' normal (sin a, cos a) in (col, row).
    angle = np.degrees(np.arctan2(k_col, k_row))
    return (angle + 90.0) % 180.0 - 90.0


@pytest.mark.parametrize("field_index", range(4))
def test_recorded_angle_matches_drawn_grooves(field_index):
    config = small_config(field_shape=[512, 512], cells_per_field={"sparse": 0, "crowded": 0}, hot_pixels=0)
    image, _, record, _ = generate_field(config, "control", field_index)
    # A 512-pixel spectrum resolves the ~15-pixel groove period to about ±1°.
    difference = (_fft_groove_angle(image) - record["angle_deg"] + 90) % 180 - 90
    assert abs(difference) < 1.5
    assert abs(record["angle_deg"]) <= config.max_angle_deg


def test_same_seed_same_fields_and_different_seed_differs():
    first = generate_field(small_config(), "Rac1", 0)
    again = generate_field(small_config(), "Rac1", 0)
    other = generate_field(small_config(seed=1), "Rac1", 0)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_scale_adds_fields_without_changing_existing_ones():
    images_1, _, _, _ = generate_dataset(small_config(scale=1))
    images_2, _, _, _ = generate_dataset(small_config(scale=2))
    assert len(images_2) == 2 * len(images_1)
    for field, image in images_1.items():
        np.testing.assert_array_equal(images_2[field], image)


def test_images_are_16_bit_with_hot_pixels_and_sparse_and_crowded_fields():
    images, masks, fields, cells = generate_dataset(small_config(fields_per_condition=4, field_shape=[512, 512]))
    assert all(image.dtype == np.uint16 for image in images.values())
    assert all(mask.dtype == np.uint16 for mask in masks.values())
    assert set(fields["density_class"]) == {"sparse", "crowded"}
    assert fields.groupby("density_class")["n_cells"].mean()["crowded"] > fields.groupby("density_class")["n_cells"].mean()["sparse"]
    assert cells["touches_other_cell"].any()
    assert max(int(image.max()) for image in images.values()) >= 8000  # hot pixels


def test_unknown_shape_class_in_mixture_is_a_clear_error():
    params = {**BASE_PARAMS, "condition_mixtures": {"control": {"blob": 1.0}}}
    with pytest.raises(ParameterError, match=r"demo_data: condition_mixtures.control names unknown shape classes \['blob'\]"):
        validate_block(DemoDataParams, params, "demo_data")
