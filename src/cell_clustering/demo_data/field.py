"""Synthetic fluorescence fields of cells on micropatterned grooves, with ground truth.

The demo dataset is the project's test bed: every later stage (groove-angle detection,
segmentation, patching, clustering) is measured against what was planted here.

Conventions
-----------
* Images are indexed ``[row, col]``; rows go down the screen.
* An angle is counter-clockwise as the image is displayed, from the horizontal (row)
  axis, in degrees. A field whose grooves are at ``angle_deg`` becomes horizontal after
  ``skimage.transform.rotate(image, -angle_deg)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from cell_clustering.demo_data.cells import (
    PlantedCell,
    cell_record,
    draw_cell_parameters,
    rasterise_cell,
)
from cell_clustering.parameters import DemoDataParams

MAX_PLACEMENT_ATTEMPTS = 60


@dataclass(frozen=True)
class FieldLayout:
    """The field-level draws: groove angle, density class, cell count, colonies."""

    angle_deg: float
    density_class: str
    n_target: int
    gap_px: float
    colonies: np.ndarray  # (2, 2): centres (row, col) of the crowded colonies


def groove_pattern(config: DemoDataParams, angle_deg: float) -> np.ndarray:
    """Smooth square wave of grooves and ridges at ``angle_deg``, values in [0, 1]."""
    rows, cols = np.mgrid[0 : config.field_shape[0], 0 : config.field_shape[1]]
    theta = np.deg2rad(angle_deg)
    # Coordinate along the grooves' normal (sin t, cos t) in (col, row).
    across = cols * np.sin(theta) + rows * np.cos(theta)
    period = config.um_to_px(config.groove_width_um + config.groove_spacing_um)
    duty = config.groove_width_um / (config.groove_width_um + config.groove_spacing_um)
    phase = np.cos(2 * np.pi * across / period) - np.cos(np.pi * duty)
    return 0.5 + 0.5 * np.tanh(3.0 * phase)


def _illumination(rng: np.random.Generator, config: DemoDataParams) -> np.ndarray:
    """Vignetting plus a linear gradient in a random direction (multiplicative)."""
    n_rows, n_cols = config.field_shape
    rows, cols = np.mgrid[0:n_rows, 0:n_cols]
    rows = (rows - n_rows / 2) / (n_rows / 2)
    cols = (cols - n_cols / 2) / (n_cols / 2)
    centre_row, centre_col = rng.uniform(-0.3, 0.3, size=2)
    vignette = 1.0 - config.illumination_falloff * ((rows - centre_row) ** 2 + (cols - centre_col) ** 2) / 2.0
    direction = rng.uniform(0, 2 * np.pi)
    gradient = 1.0 + config.illumination_gradient * 0.5 * (np.cos(direction) * cols + np.sin(direction) * rows)
    return np.clip(vignette * gradient, 0.2, None)


def _draw_layout(rng: np.random.Generator, config: DemoDataParams) -> FieldLayout:
    shape = config.field_shape
    angle = float(rng.uniform(-config.max_angle_deg, config.max_angle_deg))
    density_class = "crowded" if rng.uniform() < config.crowded_fraction else "sparse"
    n_target = int(rng.poisson(getattr(config.cells_per_field, density_class)))
    gap_px = config.um_to_px(getattr(config.min_gap_um, density_class))
    colonies = rng.uniform([0.2 * shape[0], 0.2 * shape[1]], [0.8 * shape[0], 0.8 * shape[1]], size=(2, 2))
    return FieldLayout(angle, density_class, n_target, gap_px, colonies)


def _draw_centre(rng: np.random.Generator, config: DemoDataParams, layout: FieldLayout) -> np.ndarray:
    if layout.density_class == "crowded":
        colony = layout.colonies[rng.integers(len(layout.colonies))]
        return rng.normal(colony, config.um_to_px(config.colony_sd_um))
    return rng.uniform([0, 0], config.field_shape)


def _place_cells(
    rng: np.random.Generator, config: DemoDataParams, condition: str, layout: FieldLayout
) -> tuple[np.ndarray, np.ndarray, list[PlantedCell]]:
    """Labels, the cytoplasm signal and the planted cells, placed without overlap
    (and at least the minimal gap apart in sparse fields)."""
    shape = config.field_shape
    mixture = config.condition_mixtures[condition]
    class_names = list(mixture)
    class_probs = np.array([mixture[name] for name in class_names], dtype=float)
    class_probs /= class_probs.sum()
    gap_structure = ndi.generate_binary_structure(2, 1) if layout.gap_px > 0 else None
    labels = np.zeros(shape, dtype=np.uint16)
    cytoplasm = np.zeros(shape, dtype=np.float64)
    planted: list[PlantedCell] = []
    for _ in range(layout.n_target):
        name = class_names[rng.choice(len(class_names), p=class_probs)]
        parameters = draw_cell_parameters(rng, config, name, config.shape_classes[name])
        for _attempt in range(MAX_PLACEMENT_ATTEMPTS):
            centre = _draw_centre(rng, config, layout)
            if not (0 <= centre[0] < shape[0] and 0 <= centre[1] < shape[1]):
                continue
            cell = PlantedCell(center_row=float(centre[0]), center_col=float(centre[1]), **parameters)
            box, inside, relative_radius = rasterise_cell(cell, layout.angle_deg, shape)
            if inside.sum() < 20:
                continue
            footprint = inside
            if gap_structure is not None:
                footprint = ndi.binary_dilation(inside, gap_structure, iterations=int(np.ceil(layout.gap_px)))
            if np.any(labels[box][footprint]):
                continue
            labels[box][inside] = len(planted) + 1
            # Brighter towards the centre, with a bright nucleus: a cytoplasmic stain.
            shading = 0.55 + 0.45 * np.sqrt(np.clip(1.0 - relative_radius, 0.0, 1.0))
            nucleus = 0.5 * (relative_radius < 0.35)
            cytoplasm[box][inside] = cell.brightness * (shading + nucleus)[inside]
            planted.append(cell)
            break
    return labels, cytoplasm, planted


def _render(rng: np.random.Generator, config: DemoDataParams, cytoplasm: np.ndarray, angle_deg: float) -> np.ndarray:
    """The uint16 camera image: texture, blur, grooves, uneven light, shot and read
    noise, offset and hot pixels."""
    shape = config.field_shape
    texture = 1.0 + 0.12 * ndi.gaussian_filter(rng.normal(size=shape), 2.0) / 0.14
    signal = ndi.gaussian_filter(cytoplasm * texture, config.psf_sigma_px)
    background = config.background_level + config.groove_contrast * groove_pattern(config, angle_deg)
    expected = (signal + background) * _illumination(rng, config) * config.peak_photons
    counts = rng.poisson(np.clip(expected, 0, None)).astype(np.float64)
    counts += config.camera_offset + rng.normal(0.0, config.read_noise, size=shape)
    hot = rng.integers(0, [shape[0], shape[1]], size=(config.hot_pixels, 2))
    counts[hot[:, 0], hot[:, 1]] = rng.uniform(8000, 65535, size=config.hot_pixels)
    return np.clip(np.rint(counts), 0, np.iinfo(np.uint16).max).astype(np.uint16)


def touching_labels(labels: np.ndarray) -> set[int]:
    """Labels that share an edge (4-connectivity) with another label."""
    touching: set[int] = set()
    for a, b in ((labels[1:, :], labels[:-1, :]), (labels[:, 1:], labels[:, :-1])):
        contact = (a != b) & (a > 0) & (b > 0)
        touching.update(np.unique(a[contact]).tolist())
        touching.update(np.unique(b[contact]).tolist())
    return touching


def _cell_records(
    config: DemoDataParams, planted: list[PlantedCell], labels: np.ndarray, field_id: str, condition: str
) -> list[dict[str, Any]]:
    areas = np.bincount(labels.ravel(), minlength=len(planted) + 1)
    border = np.zeros(len(planted) + 1, dtype=bool)
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        border[np.unique(edge)] = True
    neighbours = touching_labels(labels)
    return [
        {
            **cell_record(cell, label, field_id, condition, config.pixel_size_um),
            "area_px": int(areas[label]),
            "touches_border": bool(border[label]),
            "touches_other_cell": label in neighbours,
        }
        for label, cell in enumerate(planted, start=1)
    ]


def generate_field(
    config: DemoDataParams, condition: str, field_index: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any], list[dict[str, Any]]]:
    """Draw one field of one condition.

    The random stream depends only on ``(seed, condition, field_index)``, so field 3 of
    ``control`` is the same whether 4 or 400 fields are drawn.

    Returns
    -------
    image : (rows, cols) uint16 ndarray
        The fluorescence field, noisy, unevenly lit, with hot pixels.
    labels : (rows, cols) uint16 ndarray
        Instance mask: 0 is background, 1..n the cells.
    field_record : dict
        Ground truth of the field (angle, density, number of cells).
    cell_records : list of dict
        Ground truth of each cell, one dict per label.
    """
    rng = np.random.default_rng([config.seed, config.conditions.index(condition), field_index])
    layout = _draw_layout(rng, config)
    labels, cytoplasm, planted = _place_cells(rng, config, condition, layout)
    image = _render(rng, config, cytoplasm, layout.angle_deg)
    field_id = f"{condition}/field_{field_index:03d}"
    field_record = {
        "field": field_id,
        "condition": condition,
        "angle_deg": round(layout.angle_deg, 4),
        "density_class": layout.density_class,
        "n_cells": len(planted),
        "foreground_fraction": round(float((labels > 0).mean()), 6),
        "pixel_size_um": config.pixel_size_um,
    }
    return image, labels, field_record, _cell_records(config, planted, labels, field_id, condition)


def generate_dataset(
    config: DemoDataParams,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], pd.DataFrame, pd.DataFrame]:
    """Draw ``fields_per_condition × scale`` fields for every condition.

    Returns images and masks keyed ``"<condition>/field_<nnn>"``, the per-field table
    and the per-cell table.
    """
    images: dict[str, np.ndarray] = {}
    masks: dict[str, np.ndarray] = {}
    field_rows: list[dict[str, Any]] = []
    cell_rows: list[dict[str, Any]] = []
    for condition in config.conditions:
        for field_index in range(config.fields_per_condition * config.scale):
            image, labels, field_record, cell_records = generate_field(config, condition, field_index)
            images[field_record["field"]] = image
            masks[field_record["field"]] = labels
            field_rows.append(field_record)
            cell_rows.extend(cell_records)
    return images, masks, pd.DataFrame(field_rows), pd.DataFrame(cell_rows)
