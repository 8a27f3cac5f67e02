"""Crop + resize or crop + pad, background removed: one patch per kept cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from skimage import transform

from cell_clustering.parameters.patching import PatchingParams
from cell_clustering.patching.morphology import (
    KEPT,
    filter_reason,
    morphology_table,
    with_physical_units,
)


def _cell_only(image: np.ndarray, labels: np.ndarray, label: int, dilation: int) -> np.ndarray:
    """The image with everything outside the cell's own mask set to 0.

    A dilation margin keeps a rim of the cell's surroundings but never a pixel of
    another cell.
    """
    own = labels == label
    if dilation > 0:
        own = ndi.binary_dilation(own, iterations=dilation) & ((labels == 0) | own)
    return np.where(own, image, 0.0).astype(np.float32)


def crop_resize(
    image: np.ndarray, labels: np.ndarray, label: int, *, size: int, margin: int = 2, dilation: int = 0
) -> np.ndarray:
    """Crop the cell's bounding box (plus ``margin``), resize so the longest side is
    ``size`` with the aspect ratio kept, and pad to ``size × size`` (centred).

    Returns
    -------
    (size, size) float32 ndarray
    """
    rows, cols = np.nonzero(labels == label)
    r0, r1 = max(rows.min() - margin, 0), min(rows.max() + 1 + margin, labels.shape[0])
    c0, c1 = max(cols.min() - margin, 0), min(cols.max() + 1 + margin, labels.shape[1])
    crop = _cell_only(image[r0:r1, c0:c1], labels[r0:r1, c0:c1], label, dilation)
    scale = size / max(crop.shape)
    new_shape = (
        min(size, max(1, round(crop.shape[0] * scale))),
        min(size, max(1, round(crop.shape[1] * scale))),
    )
    resized = transform.resize(crop, new_shape, order=1, anti_aliasing=scale < 1, preserve_range=True)
    patch = np.zeros((size, size), dtype=np.float32)
    top, left = (size - new_shape[0]) // 2, (size - new_shape[1]) // 2
    patch[top : top + new_shape[0], left : left + new_shape[1]] = resized
    return patch


def crop_pad(
    image: np.ndarray, labels: np.ndarray, label: int, *, size: int, dilation: int = 0, channel: str = "intensity"
) -> tuple[np.ndarray, bool]:
    """Centre the cell's bounding box in a ``size × size`` window at native pixel scale:
    the cell's pixels (``channel="intensity"``) or its silhouette (``"mask"``), 0 elsewhere.

    Returns
    -------
    patch : (size, size) float32 ndarray
    cropped : bool
        True when the cell is larger than the window and was cut.
    """
    rows, cols = np.nonzero(labels == label)
    centre_row = (rows.min() + rows.max() + 1) // 2
    centre_col = (cols.min() + cols.max() + 1) // 2
    half = size // 2
    r0, c0 = centre_row - half, centre_col - half
    patch = np.zeros((size, size), dtype=np.float32)
    src_r0, src_c0 = max(r0, 0), max(c0, 0)
    src_r1, src_c1 = min(r0 + size, labels.shape[0]), min(c0 + size, labels.shape[1])
    source = image[src_r0:src_r1, src_c0:src_c1] if channel == "intensity" else np.ones((src_r1 - src_r0, src_c1 - src_c0), np.float32)
    patch[src_r0 - r0 : src_r1 - r0, src_c0 - c0 : src_c1 - c0] = _cell_only(source, labels[src_r0:src_r1, src_c0:src_c1], label, dilation)
    cropped = bool(rows.max() - rows.min() + 1 > size or cols.max() - cols.min() + 1 > size)
    return patch, cropped


def scaled_window(
    image: np.ndarray, labels: np.ndarray, label: int, *, window_px: int, size: int, channels: tuple[str, ...], dilation: int = 0
) -> tuple[np.ndarray, bool]:
    """A window of ``window_px`` around the cell, each channel scaled to ``size``: one
    physical scale for every cell, so size is kept.

    Returns
    -------
    patch : (len(channels), size, size) float32 ndarray
    cropped : bool
        True when the cell is larger than the window and was cut.
    """
    planes, cropped = [], False
    for channel in channels:
        plane, cropped = crop_pad(image, labels, label, size=window_px, dilation=dilation, channel=channel)
        if window_px != size:
            plane = transform.resize(plane, (size, size), order=1, anti_aliasing=window_px > size, preserve_range=True)
        planes.append(plane.astype(np.float32))
    return np.stack(planes), cropped


def _cut(image: np.ndarray, labels: np.ndarray, label: int, params: PatchingParams, pixel_size_um: float) -> tuple[np.ndarray, bool]:
    """One cell's patch (C, S, S) by the configured method, and whether it was cropped."""
    if params.method == "crop_resize":
        planes = [
            crop_resize(image if channel == "intensity" else (labels == label).astype(np.float32), labels, label,
                        size=params.patch_size, margin=params.margin, dilation=params.mask_dilation)
            for channel in params.channels
        ]
        return np.stack(planes), False
    window_px = max(8, int(round(params.window_um / pixel_size_um)))
    return scaled_window(image, labels, label, window_px=window_px, size=params.patch_size,
                         channels=tuple(params.channels), dilation=params.mask_dilation)


def patch_field(
    image: np.ndarray, labels: np.ndarray, params: PatchingParams, pixel_size_um: float, *, covered: np.ndarray | None = None
) -> tuple[pd.DataFrame | None, list[np.ndarray]]:
    """The morphology table (None for an empty mask) and the patches of the kept cells.

    Parameters
    ----------
    image : (rows, cols) float ndarray
    labels : (rows, cols) integer ndarray, 0 = background
    pixel_size_um : float
        Micrometres per pixel of this field (for ``window_um``).
    covered : (rows, cols) bool ndarray, optional
        The pixels imaged in the field (see :func:`morphology_table`).

    Returns
    -------
    table : pandas.DataFrame or None
        :func:`morphology_table` with ``filtered_by`` (the filter that removed the
        cell, or ``"kept"``) and ``cropped_by_window``.
    patches : list of (C, S, S) float32 ndarray
        One per kept cell, in table order.
    """
    if image.shape != labels.shape:
        raise ValueError(f"image shape {image.shape} differs from mask shape {labels.shape}")
    if labels.max() == 0:
        return None, []
    table = with_physical_units(morphology_table(image, labels, covered=covered), pixel_size_um)
    table["filtered_by"] = table.apply(filter_reason, axis=1, filters=params.filters)
    table["cropped_by_window"] = False
    patches = []
    for index in table.index[table["filtered_by"] == KEPT]:
        patch, cropped = _cut(image, labels, int(table.at[index, "cell_label"]), params, pixel_size_um)
        table.at[index, "cropped_by_window"] = cropped
        patches.append(patch)
    return table, patches
