"""One patch per cell: morphology, crop + resize or crop + pad, background removed.

Images are indexed ``[row, col]``; grooves are horizontal after preprocessing, so a
cell's angle to the grooves is the angle of its major axis to the column axis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from skimage import measure, transform

PROPERTIES = (
    "label", "centroid", "bbox", "area", "perimeter", "major_axis_length",
    "minor_axis_length", "eccentricity", "orientation", "solidity", "extent",
    "intensity_mean",
)


def morphology_table(image: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Shape and intensity descriptors of every labelled cell.

    Parameters
    ----------
    image : (rows, cols) ndarray
    labels : (rows, cols) integer ndarray, 0 = background

    Returns
    -------
    pandas.DataFrame
        One row per label with ``regionprops_table`` columns plus ``aspect_ratio``
        (major / minor axis), ``angle_to_grooves_deg`` (0 = along the grooves, 90 =
        across) and ``touches_border``.
    """
    if image.shape != labels.shape:
        raise ValueError(f"Image shape {image.shape} differs from mask shape {labels.shape}.")
    table = pd.DataFrame(
        measure.regionprops_table(labels.astype(np.int64), intensity_image=image, properties=PROPERTIES)
    ).rename(
        columns={
            "label": "cell_label", "centroid-0": "centroid_row", "centroid-1": "centroid_col",
            "bbox-0": "bbox_min_row", "bbox-1": "bbox_min_col", "bbox-2": "bbox_max_row",
            "bbox-3": "bbox_max_col", "intensity_mean": "mean_intensity",
        }
    )
    table["aspect_ratio"] = table["major_axis_length"] / table["minor_axis_length"].clip(lower=1e-6)
    # skimage's orientation is the angle between the row axis and the major axis.
    table["angle_to_grooves_deg"] = 90.0 - np.degrees(np.abs(table["orientation"]))
    rows, cols = labels.shape
    table["touches_border"] = (
        (table["bbox_min_row"] == 0) | (table["bbox_min_col"] == 0)
        | (table["bbox_max_row"] == rows) | (table["bbox_max_col"] == cols)
    )
    return table


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
    image: np.ndarray, labels: np.ndarray, label: int, size: int, margin: int = 2, dilation: int = 0
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
    image: np.ndarray, labels: np.ndarray, label: int, size: int, dilation: int = 0
) -> tuple[np.ndarray, bool]:
    """Centre the cell's bounding box in a ``size × size`` window at native pixel scale.

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
    window = _cell_only(image[src_r0:src_r1, src_c0:src_c1], labels[src_r0:src_r1, src_c0:src_c1], label, dilation)
    patch[src_r0 - r0 : src_r1 - r0, src_c0 - c0 : src_c1 - c0] = window
    cropped = bool(rows.max() - rows.min() + 1 > size or cols.max() - cols.min() + 1 > size)
    return patch, cropped
