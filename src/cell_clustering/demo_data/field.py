"""Synthetic fluorescence fields of cells on micropatterned grooves, with ground truth.

The demo dataset is the project's test bed: every later stage (groove-angle detection,
segmentation, patching, clustering) is measured against what was planted here.

Conventions
-----------
* Images are indexed ``[row, col]``; rows go down the screen.
* An angle is counter-clockwise as the image is displayed, from the horizontal (row)
  axis, in degrees. A field whose grooves are at ``angle_deg`` becomes horizontal after
  ``skimage.transform.rotate(image, -angle_deg)``.
* Cells are rasterised analytically in their own frame, so the instance mask and the
  drawn cell are aligned exactly: no interpolation ever touches the labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

CONDITIONS: tuple[str, ...] = ("control", "BRAFV600E", "DCIS.com", "PIK3CA", "Rac1")


@dataclass(frozen=True)
class ShapeClass:
    """The planted distribution of one kind of cell shape.

    Lengths are in micrometres so that the demo keeps its biology at any pixel size.
    ``orientation_sd_deg`` of ``None`` means orientation uniform in [0, 180).
    """

    name: str
    length_um: tuple[float, float]  # mean, sd of the major axis
    aspect: tuple[float, float]  # mean, sd of major / minor (clipped to >= 1)
    orientation_mean_deg: float = 0.0  # relative to the grooves
    orientation_sd_deg: float | None = 10.0
    lobes: tuple[int, int] = (0, 0)  # inclusive range of protrusion counts
    lobe_amplitude: float = 0.0  # relative radius gain at a protrusion tip
    ruffle_amplitude: float = 0.0  # relative radius of high-frequency edge ruffles

    @classmethod
    def from_dict(cls, name: str, spec: dict[str, Any]) -> ShapeClass:
        return cls(
            name=name,
            length_um=tuple(spec["length_um"]),
            aspect=tuple(spec["aspect"]),
            orientation_mean_deg=float(spec.get("orientation_mean_deg", 0.0)),
            orientation_sd_deg=spec.get("orientation_sd_deg", 10.0),
            lobes=tuple(spec.get("lobes", (0, 0))),
            lobe_amplitude=float(spec.get("lobe_amplitude", 0.0)),
            ruffle_amplitude=float(spec.get("ruffle_amplitude", 0.0)),
        )


@dataclass(frozen=True)
class DemoConfig:
    """Everything that decides a demo dataset; built from ``parameters_demo_data.yml``."""

    seed: int
    fields_per_condition: int
    shape_classes: dict[str, ShapeClass]
    condition_mixtures: dict[str, dict[str, float]]
    field_shape: tuple[int, int] = (512, 512)
    pixel_size_um: float = 0.65
    groove_width_um: float = 5.0
    groove_spacing_um: float = 5.0
    max_angle_deg: float = 20.0
    scale: int = 1
    crowded_fraction: float = 0.5
    cells_per_field: dict[str, float] = field(
        default_factory=lambda: {"sparse": 10, "crowded": 26}
    )
    min_gap_um: dict[str, float] = field(
        default_factory=lambda: {"sparse": 6.0, "crowded": 0.0}
    )
    colony_sd_um: float = 45.0
    groove_contrast: float = 0.08
    background_level: float = 0.10
    illumination_falloff: float = 0.35
    illumination_gradient: float = 0.2
    peak_photons: float = 1200.0
    camera_offset: float = 100.0
    read_noise: float = 6.0
    hot_pixels: int = 12
    psf_sigma_px: float = 1.0

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DemoConfig:
        params = dict(params)
        classes = {
            name: ShapeClass.from_dict(name, spec)
            for name, spec in params.pop("shape_classes").items()
        }
        mixtures = params.pop("condition_mixtures")
        for condition, mixture in mixtures.items():
            unknown = set(mixture) - set(classes)
            if unknown:
                raise ValueError(
                    f"demo_data.condition_mixtures.{condition} names unknown shape "
                    f"classes {sorted(unknown)}; known: {sorted(classes)}."
                )
        params["field_shape"] = tuple(params.get("field_shape", (512, 512)))
        for name in ("seed", "fields_per_condition", "scale"):
            if name in params and int(params[name]) < (0 if name == "seed" else 1):
                raise ValueError(f"demo_data.{name} must be positive, got {params[name]}.")
        return cls(shape_classes=classes, condition_mixtures=mixtures, **params)

    @property
    def conditions(self) -> list[str]:
        return list(self.condition_mixtures)

    def um_to_px(self, length_um: float) -> float:
        return length_um / self.pixel_size_um


@dataclass
class PlantedCell:
    """Ground truth of one drawn cell (before it is rasterised)."""

    shape_class: str
    center_row: float
    center_col: float
    length_px: float
    width_px: float
    orientation_rel_deg: float  # relative to the grooves, in (-90, 90]
    n_lobes: int
    lobe_amplitude: float
    lobe_phase: float
    ruffle_amplitude: float
    ruffle_freqs: tuple[int, int]
    ruffle_phases: tuple[float, float]
    brightness: float


def _polar_radius(cell: PlantedCell, psi: np.ndarray) -> np.ndarray:
    """Radius of the cell outline at angle ``psi`` (radians) in the cell's own frame."""
    a = cell.length_px / 2.0
    b = cell.width_px / 2.0
    radius = a * b / np.sqrt((b * np.cos(psi)) ** 2 + (a * np.sin(psi)) ** 2)
    if cell.n_lobes > 0 and cell.lobe_amplitude > 0:
        # Sharp positive bumps: protrusions rather than a smooth polygon.
        bumps = np.clip(np.cos(cell.n_lobes * (psi - cell.lobe_phase)), 0.0, None) ** 4
        radius = radius * (1.0 + cell.lobe_amplitude * bumps)
    if cell.ruffle_amplitude > 0:
        ruffles = sum(
            np.sin(freq * psi + phase)
            for freq, phase in zip(cell.ruffle_freqs, cell.ruffle_phases, strict=True)
        )
        radius = radius * (1.0 + 0.5 * cell.ruffle_amplitude * ruffles)
    return radius


def rasterise_cell(
    cell: PlantedCell, groove_angle_deg: float, shape: tuple[int, int]
) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """Rasterise one cell in its bounding box.

    Returns
    -------
    box : tuple of slice
        The ``(rows, cols)`` window of the field the cell occupies (clipped to the field).
    inside : (h, w) bool ndarray
        The cell's footprint in that window.
    relative_radius : (h, w) float ndarray
        Distance from the centre divided by the outline radius (0 at the centre, 1 on the
        edge), used to shade the cytoplasm and place the nucleus.
    """
    alpha = np.deg2rad(groove_angle_deg + cell.orientation_rel_deg)
    reach = cell.length_px / 2.0 * (1.0 + cell.lobe_amplitude + cell.ruffle_amplitude) + 2
    r0 = max(int(np.floor(cell.center_row - reach)), 0)
    r1 = min(int(np.ceil(cell.center_row + reach)) + 1, shape[0])
    c0 = max(int(np.floor(cell.center_col - reach)), 0)
    c1 = min(int(np.ceil(cell.center_col + reach)) + 1, shape[1])
    rows, cols = np.mgrid[r0:r1, c0:c1].astype(np.float64)
    d_col = cols - cell.center_col
    d_row = rows - cell.center_row
    # Rows go down: a direction at angle alpha (counter-clockwise as displayed) is
    # (d_col, d_row) = (cos alpha, -sin alpha).
    along = d_col * np.cos(alpha) - d_row * np.sin(alpha)
    across = d_col * np.sin(alpha) + d_row * np.cos(alpha)
    psi = np.arctan2(across, along)
    relative_radius = np.hypot(along, across) / _polar_radius(cell, psi)
    return (slice(r0, r1), slice(c0, c1)), relative_radius <= 1.0, relative_radius


def groove_pattern(config: DemoConfig, angle_deg: float) -> np.ndarray:
    """Smooth square wave of grooves and ridges at ``angle_deg``, values in [0, 1]."""
    rows, cols = np.mgrid[0 : config.field_shape[0], 0 : config.field_shape[1]]
    theta = np.deg2rad(angle_deg)
    # Coordinate along the grooves' normal (sin t, cos t) in (col, row).
    across = cols * np.sin(theta) + rows * np.cos(theta)
    period = config.um_to_px(config.groove_width_um + config.groove_spacing_um)
    duty = config.groove_width_um / (config.groove_width_um + config.groove_spacing_um)
    phase = np.cos(2 * np.pi * across / period) - np.cos(np.pi * duty)
    return 0.5 + 0.5 * np.tanh(3.0 * phase)


def _draw_cell_parameters(
    rng: np.random.Generator, config: DemoConfig, shape_class: ShapeClass
) -> dict[str, Any]:
    length_um = max(rng.normal(*shape_class.length_um), 0.4 * shape_class.length_um[0])
    aspect = max(rng.normal(*shape_class.aspect), 1.0)
    if shape_class.orientation_sd_deg is None:
        orientation = rng.uniform(-90.0, 90.0)
    else:
        orientation = rng.normal(
            shape_class.orientation_mean_deg, shape_class.orientation_sd_deg
        )
    orientation = (orientation + 90.0) % 180.0 - 90.0
    low, high = shape_class.lobes
    return {
        "shape_class": shape_class.name,
        "length_px": config.um_to_px(length_um),
        "width_px": config.um_to_px(length_um / aspect),
        "orientation_rel_deg": float(orientation),
        "n_lobes": int(rng.integers(low, high + 1)) if high > 0 else 0,
        "lobe_amplitude": shape_class.lobe_amplitude,
        "lobe_phase": float(rng.uniform(0, 2 * np.pi)),
        "ruffle_amplitude": shape_class.ruffle_amplitude,
        "ruffle_freqs": (int(rng.integers(9, 13)), int(rng.integers(14, 19))),
        "ruffle_phases": (
            float(rng.uniform(0, 2 * np.pi)),
            float(rng.uniform(0, 2 * np.pi)),
        ),
        "brightness": float(rng.uniform(0.55, 1.0)),
    }


def _illumination(rng: np.random.Generator, config: DemoConfig) -> np.ndarray:
    """Vignetting plus a linear gradient in a random direction (multiplicative)."""
    n_rows, n_cols = config.field_shape
    rows, cols = np.mgrid[0:n_rows, 0:n_cols]
    rows = (rows - n_rows / 2) / (n_rows / 2)
    cols = (cols - n_cols / 2) / (n_cols / 2)
    centre_row, centre_col = rng.uniform(-0.3, 0.3, size=2)
    vignette = 1.0 - config.illumination_falloff * (
        (rows - centre_row) ** 2 + (cols - centre_col) ** 2
    ) / 2.0
    direction = rng.uniform(0, 2 * np.pi)
    gradient = 1.0 + config.illumination_gradient * 0.5 * (
        np.cos(direction) * cols + np.sin(direction) * rows
    )
    return np.clip(vignette * gradient, 0.2, None)


def generate_field(
    config: DemoConfig, condition: str, field_index: int
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
    condition_index = config.conditions.index(condition)
    rng = np.random.default_rng([config.seed, condition_index, field_index])
    shape = config.field_shape
    angle = float(rng.uniform(-config.max_angle_deg, config.max_angle_deg))
    density_class = "crowded" if rng.uniform() < config.crowded_fraction else "sparse"
    n_target = int(rng.poisson(config.cells_per_field[density_class]))
    gap_px = config.um_to_px(config.min_gap_um[density_class])
    gap_structure = (
        ndi.generate_binary_structure(2, 1) if gap_px > 0 else None
    )
    colonies = rng.uniform([0.2 * shape[0], 0.2 * shape[1]], [0.8 * shape[0], 0.8 * shape[1]], size=(2, 2))

    mixture = config.condition_mixtures[condition]
    class_names = list(mixture)
    class_probs = np.array([mixture[name] for name in class_names], dtype=float)
    class_probs /= class_probs.sum()

    labels = np.zeros(shape, dtype=np.uint16)
    cytoplasm = np.zeros(shape, dtype=np.float64)
    planted: list[PlantedCell] = []
    for _ in range(n_target):
        shape_class = config.shape_classes[class_names[rng.choice(len(class_names), p=class_probs)]]
        parameters = _draw_cell_parameters(rng, config, shape_class)
        for _attempt in range(60):
            if density_class == "crowded":
                colony = colonies[rng.integers(len(colonies))]
                centre = rng.normal(colony, config.um_to_px(config.colony_sd_um))
            else:
                centre = rng.uniform([0, 0], shape)
            if not (0 <= centre[0] < shape[0] and 0 <= centre[1] < shape[1]):
                continue
            cell = PlantedCell(center_row=float(centre[0]), center_col=float(centre[1]), **parameters)
            box, inside, relative_radius = rasterise_cell(cell, angle, shape)
            if inside.sum() < 20:
                continue
            footprint = inside
            if gap_structure is not None:
                footprint = ndi.binary_dilation(inside, gap_structure, iterations=int(np.ceil(gap_px)))
            if np.any(labels[box][footprint]):
                continue
            label = len(planted) + 1
            labels[box][inside] = label
            # Brighter towards the centre, with a bright nucleus: a cytoplasmic stain.
            shading = 0.55 + 0.45 * np.sqrt(np.clip(1.0 - relative_radius, 0.0, 1.0))
            nucleus = 0.5 * (relative_radius < 0.35)
            cytoplasm[box][inside] = cell.brightness * (shading + nucleus)[inside]
            planted.append(cell)
            break

    texture = 1.0 + 0.12 * ndi.gaussian_filter(rng.normal(size=shape), 2.0) / 0.14
    signal = ndi.gaussian_filter(cytoplasm * texture, config.psf_sigma_px)
    background = config.background_level + config.groove_contrast * groove_pattern(config, angle)
    expected = (signal + background) * _illumination(rng, config) * config.peak_photons
    counts = rng.poisson(np.clip(expected, 0, None)).astype(np.float64)
    counts += config.camera_offset + rng.normal(0.0, config.read_noise, size=shape)
    hot = rng.integers(0, [shape[0], shape[1]], size=(config.hot_pixels, 2))
    counts[hot[:, 0], hot[:, 1]] = rng.uniform(8000, 65535, size=config.hot_pixels)
    image = np.clip(np.rint(counts), 0, np.iinfo(np.uint16).max).astype(np.uint16)

    field_id = f"{condition}/field_{field_index:03d}"
    areas = np.bincount(labels.ravel(), minlength=len(planted) + 1)
    border = np.zeros(len(planted) + 1, dtype=bool)
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        border[np.unique(edge)] = True
    neighbours = _touching_labels(labels)
    cell_records = [
        {
            "field": field_id,
            "condition": condition,
            "cell_label": index + 1,
            "shape_class": cell.shape_class,
            "center_row": round(cell.center_row, 3),
            "center_col": round(cell.center_col, 3),
            "length_um": round(cell.length_px * config.pixel_size_um, 4),
            "width_um": round(cell.width_px * config.pixel_size_um, 4),
            "aspect_ratio": round(cell.length_px / cell.width_px, 4),
            "orientation_rel_deg": round(cell.orientation_rel_deg, 3),
            "n_lobes": cell.n_lobes,
            "lobe_amplitude": cell.lobe_amplitude,
            "ruffle_amplitude": cell.ruffle_amplitude,
            "area_px": int(areas[index + 1]),
            "touches_border": bool(border[index + 1]),
            "touches_other_cell": bool(index + 1 in neighbours),
        }
        for index, cell in enumerate(planted)
    ]
    field_record = {
        "field": field_id,
        "condition": condition,
        "angle_deg": round(angle, 4),
        "density_class": density_class,
        "n_cells": len(planted),
        "foreground_fraction": round(float((labels > 0).mean()), 6),
        "pixel_size_um": config.pixel_size_um,
    }
    return image, labels, field_record, cell_records


def _touching_labels(labels: np.ndarray) -> set[int]:
    """Labels that share an edge (4-connectivity) with another label."""
    touching: set[int] = set()
    for a, b in (
        (labels[1:, :], labels[:-1, :]),
        (labels[:, 1:], labels[:, :-1]),
    ):
        contact = (a != b) & (a > 0) & (b > 0)
        touching.update(np.unique(a[contact]).tolist())
        touching.update(np.unique(b[contact]).tolist())
    return touching


def generate_dataset(
    config: DemoConfig,
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
            image, labels, field_record, cell_records = generate_field(
                config, condition, field_index
            )
            images[field_record["field"]] = image
            masks[field_record["field"]] = labels
            field_rows.append(field_record)
            cell_rows.extend(cell_records)
    return images, masks, pd.DataFrame(field_rows), pd.DataFrame(cell_rows)
