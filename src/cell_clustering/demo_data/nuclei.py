"""Annotated crops of nuclei-like blobs: the "few real-like annotations" case.

A user who brings real images annotates a handful of crops (often in the Cellpose
GUI) and trains. These crops are drawn to look unlike the demo's cells: round to oval
nuclei of varied size, many touching, each with its own brightness and a grainy
texture, under uneven illumination and camera noise. The labels are exact.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage import draw


def _place(rng: np.random.Generator, labels: np.ndarray, n_nuclei: int) -> list[tuple[float, float, float, float, float]]:
    """Ellipses (row, col, radius_row, radius_col, angle), half of them next to another."""
    rows, cols = labels.shape
    placed: list[tuple[float, float, float, float, float]] = []
    for _ in range(n_nuclei * 20):
        if len(placed) == n_nuclei:
            break
        radius_row, radius_col = rng.uniform(7, 14), rng.uniform(7, 14)
        if placed and rng.uniform() < 0.5:  # touching a neighbour
            row0, col0, r0, c0, _ = placed[rng.integers(len(placed))]
            direction = rng.uniform(0, 2 * np.pi)
            distance = 0.5 * (max(r0, c0) + min(r0, c0)) + 0.5 * (radius_row + radius_col) - 1.0
            row, col = row0 + distance * np.sin(direction), col0 + distance * np.cos(direction)
        else:
            row, col = rng.uniform(0, rows), rng.uniform(0, cols)
        rr, cc = draw.ellipse(row, col, radius_row, radius_col, shape=labels.shape, rotation=rng.uniform(0, np.pi))
        if len(rr) < 60 or (labels[rr, cc] > 0).mean() > 0.02:
            continue
        labels[rr, cc] = np.where(labels[rr, cc] == 0, len(placed) + 1, labels[rr, cc])
        placed.append((row, col, radius_row, radius_col, 0.0))
    return placed


def nuclei_crop(seed: int, *, shape: tuple[int, int] = (256, 256), n_nuclei: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """One annotated crop of nuclei.

    Parameters
    ----------
    seed : int
        The crop depends on nothing else.
    shape : (rows, cols)
    n_nuclei : int
        Nuclei tried; fewer fit in a crowded crop.

    Returns
    -------
    image : (rows, cols) uint16 ndarray
    labels : (rows, cols) uint16 ndarray, 0 = background
    """
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, np.uint16)
    _place(rng, labels, n_nuclei)
    brightness = np.concatenate([[0.0], rng.uniform(0.35, 1.0, int(labels.max()))])
    texture = ndi.gaussian_filter(rng.normal(0, 1, shape), 1.5)
    signal = brightness[labels] * (1.0 + 0.25 * texture)
    signal = ndi.gaussian_filter(signal, 1.2)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]] / max(shape)
    illumination = 0.6 + 0.4 * np.cos(rng.uniform(0, 2 * np.pi) + 2.5 * rows) * np.sin(1.5 + 2.0 * cols)
    expected = 200 + 2500 * signal * illumination
    image = rng.poisson(expected) + rng.normal(0, 30, shape)
    return np.clip(image, 0, 65535).astype(np.uint16), labels
