"""One planted cell: its drawn parameters and its analytic rasterisation.

Cells are rasterised in their own frame, so the instance mask and the drawn cell are
aligned exactly: no interpolation ever touches the labels. Angles are
counter-clockwise as displayed, from the horizontal (row) axis, in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cell_clustering.parameters import DemoDataParams
from cell_clustering.parameters.demo_data import ShapeClassParams


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


def polar_radius(cell: PlantedCell, psi: np.ndarray) -> np.ndarray:
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
    relative_radius = np.hypot(along, across) / polar_radius(cell, psi)
    return (slice(r0, r1), slice(c0, c1)), relative_radius <= 1.0, relative_radius


def draw_cell_parameters(
    rng: np.random.Generator, config: DemoDataParams, name: str, shape_class: ShapeClassParams
) -> dict[str, Any]:
    """Everything of a :class:`PlantedCell` but its position, drawn from its class."""
    length_um = max(rng.normal(*shape_class.length_um), 0.4 * shape_class.length_um[0])
    aspect = max(rng.normal(*shape_class.aspect), 1.0)
    if shape_class.orientation_sd_deg is None:
        orientation = rng.uniform(-90.0, 90.0)
    else:
        orientation = rng.normal(shape_class.orientation_mean_deg, shape_class.orientation_sd_deg)
    orientation = (orientation + 90.0) % 180.0 - 90.0
    low, high = shape_class.lobes
    return {
        "shape_class": name,
        "length_px": config.um_to_px(length_um),
        "width_px": config.um_to_px(length_um / aspect),
        "orientation_rel_deg": float(orientation),
        "n_lobes": int(rng.integers(low, high + 1)) if high > 0 else 0,
        "lobe_amplitude": shape_class.lobe_amplitude,
        "lobe_phase": float(rng.uniform(0, 2 * np.pi)),
        "ruffle_amplitude": shape_class.ruffle_amplitude,
        "ruffle_freqs": (int(rng.integers(9, 13)), int(rng.integers(14, 19))),
        "ruffle_phases": (float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi))),
        "brightness": float(rng.uniform(0.55, 1.0)),
    }


def cell_record(cell: PlantedCell, label: int, field_id: str, condition: str, pixel_size_um: float) -> dict[str, Any]:
    """The ground-truth row of one planted cell (without its measured area)."""
    return {
        "field": field_id,
        "condition": condition,
        "cell_label": label,
        "shape_class": cell.shape_class,
        "center_row": round(cell.center_row, 3),
        "center_col": round(cell.center_col, 3),
        "length_um": round(cell.length_px * pixel_size_um, 4),
        "width_um": round(cell.width_px * pixel_size_um, 4),
        "aspect_ratio": round(cell.length_px / cell.width_px, 4),
        "orientation_rel_deg": round(cell.orientation_rel_deg, 3),
        "n_lobes": cell.n_lobes,
        "lobe_amplitude": cell.lobe_amplitude,
        "ruffle_amplitude": cell.ruffle_amplitude,
    }
