"""Per-image preprocessing steps, in the order of the slides.

rotation (groove angle by Canny + Hough) → CLAHE → normalise to [0, 1] →
percentile clipping → total-variation denoising.

Every function takes one image of any real dtype (uint8, uint16, float) indexed
``[row, col]`` and returns float32; the steps after rotation return values in [0, 1].
Angles are counter-clockwise as displayed, in degrees, from the horizontal (row) axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage import exposure, feature, filters, restoration, transform


@dataclass(frozen=True)
class GrooveAngle:
    """A detected groove orientation.

    ``confidence`` in [0, 1] is how much the winning direction stands out from the
    typical direction: ``1 - median(score) / max(score)`` over all tested angles.
    ``n_edge_pixels`` is 0 when no edge was found (then ``angle_deg`` is a fallback).
    """

    angle_deg: float
    confidence: float
    n_edge_pixels: int


def robust_unit_range(image: np.ndarray, saturation_percentile: float = 99.99) -> np.ndarray:
    """Scale to [0, 1] between the minimum and a high percentile, clipping above it.

    Isolated hot pixels would otherwise squeeze every real intensity into the lowest
    few bins of CLAHE's 256-bin histograms.

    Parameters
    ----------
    image : (rows, cols) ndarray, any real dtype
    saturation_percentile : float
        Percentile mapped to 1; 100 keeps plain min-max scaling.

    Returns
    -------
    (rows, cols) float32 ndarray in [0, 1]
    """
    image = np.asarray(image, dtype=np.float32)
    low = float(image.min())
    high = float(np.percentile(image, saturation_percentile))
    if high <= low:
        high = float(image.max())
    if high <= low:
        return np.zeros_like(image)
    return np.clip((image - low) / (high - low), 0.0, 1.0)


def detect_groove_angle(
    image: np.ndarray,
    *,
    canny_sigma: float = 2.0,
    background_percentile: float = 70.0,
    coarse_step_deg: float = 0.5,
    fine_step_deg: float = 0.02,
    fallback_angle_deg: float = 0.0,
) -> GrooveAngle:
    """Orientation of the grooves by Canny edges and a Hough line transform.

    Cells are brighter than the micropattern, and their edges would vote for their own
    orientation. Clipping the image at ``background_percentile`` first flattens the cells
    into plateaus, so what remains textured is the groove pattern. Each tested direction
    is then scored by the sum of squared Hough accumulator values over all line
    distances: many long parallel lines (grooves) win over a few short ones (cell
    outlines). A coarse search over 180° is refined around its peak.

    Parameters
    ----------
    image : (rows, cols) ndarray, any real dtype
    canny_sigma : float
        Gaussian width of the Canny detector, in pixels.
    background_percentile : float
        Intensities above this percentile are clipped before edge detection.
    coarse_step_deg, fine_step_deg : float
        Angular resolution of the two Hough passes.
    fallback_angle_deg : float
        Returned, with confidence 0, when no edge is found.

    Returns
    -------
    GrooveAngle
    """
    edges = _groove_edges(np.asarray(image, dtype=np.float32), canny_sigma, background_percentile)
    n_edges = int(edges.sum())
    if n_edges == 0:
        return GrooveAngle(fallback_angle_deg, 0.0, 0)
    coarse = np.deg2rad(np.arange(-90.0, 90.0, coarse_step_deg))
    coarse_scores = _direction_scores(edges, coarse)
    peak = coarse[int(np.argmax(coarse_scores))]
    theta = _refined_peak(edges, peak, coarse_step_deg, fine_step_deg)
    # hough_line's theta is the normal of the line in (col, row) coordinates; a groove
    # at angle a (counter-clockwise as displayed) has normal (sin a, cos a): a = 90° - θ.
    angle = (90.0 - np.rad2deg(theta) + 90.0) % 180.0 - 90.0
    confidence = float(1.0 - np.median(coarse_scores) / coarse_scores.max())
    return GrooveAngle(float(angle), confidence, n_edges)


# The span of intensities Canny sees (its default thresholds, 0.1 and 0.2, are absolute).
_EDGE_SPAN = 1000.0


def _groove_edges(image: np.ndarray, canny_sigma: float, background_percentile: float) -> np.ndarray:
    """Canny edges of the image clipped at ``background_percentile`` (cells flattened).

    The clipped range is stretched to a fixed span before Canny, whose thresholds are
    absolute: a float field in [0, 1] (or a dim 8-bit one) would otherwise give no edge
    where the same field in 16-bit counts gives the grooves.
    """
    low, high = np.percentile(image, 1.0), np.percentile(image, background_percentile)
    flattened = (np.clip(image, low, high) - low) * (_EDGE_SPAN / max(float(high - low), 1e-12))
    edges = feature.canny(flattened, sigma=canny_sigma)
    # Edges along the image border are an artefact of the clipping, not grooves.
    edges[:3, :] = edges[-3:, :] = edges[:, :3] = edges[:, -3:] = False
    return edges


def _direction_scores(edges: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    """Per direction, the sum of squared Hough accumulator values over all distances."""
    accumulator, _, _ = transform.hough_line(edges, theta=thetas)
    return (accumulator.astype(np.float64) ** 2).sum(axis=0)


def _refined_peak(edges: np.ndarray, peak: float, coarse_step_deg: float, fine_step_deg: float) -> float:
    """The best direction on a fine grid around ``peak``, refined between grid points
    by a parabola through the best score and its neighbours."""
    fine = peak + np.deg2rad(np.arange(-coarse_step_deg, coarse_step_deg + 1e-9, fine_step_deg))
    fine_scores = _direction_scores(edges, fine)
    best = int(np.argmax(fine_scores))
    theta = fine[best]
    if 0 < best < len(fine) - 1:
        left, centre, right = fine_scores[best - 1 : best + 2]
        denominator = left - 2 * centre + right
        if denominator != 0:
            theta += 0.5 * (left - right) / denominator * np.deg2rad(fine_step_deg)
    return float(theta)


def rotate_image(
    image: np.ndarray,
    angle_deg: float,
    *,
    border_mode: str = "constant",
    border_value: float | None = None,
    crop_to_valid: bool = False,
) -> np.ndarray:
    """Rotate by ``-angle_deg`` so that grooves at ``angle_deg`` become horizontal.

    Parameters
    ----------
    image : (rows, cols) ndarray, any real dtype
    angle_deg : float
        Groove angle, counter-clockwise as displayed.
    border_mode : {"constant", "edge", "symmetric", "reflect", "wrap"}
        How the corners uncovered by the rotation are filled. ``constant`` (default)
        never invents cells; mirroring modes would.
    border_value : float, optional
        Fill value for ``constant``; the image median (its background) by default.
    crop_to_valid : bool
        Crop to the largest centred rectangle with no filled pixel.

    Returns
    -------
    (rows', cols') float32 ndarray with the input's value range (bilinear).
    """
    image = np.asarray(image, dtype=np.float32)
    if border_value is None:
        border_value = float(np.median(image))
    rotated = transform.rotate(
        image, -angle_deg, order=1, mode=border_mode, cval=border_value, preserve_range=True
    ).astype(np.float32)
    return crop_valid_area(rotated, angle_deg) if crop_to_valid else rotated


def rotate_labels(
    labels: np.ndarray, angle_deg: float, *, crop_to_valid: bool = False
) -> np.ndarray:
    """Rotate a label mask with the same transform as :func:`rotate_image`.

    Nearest-neighbour interpolation keeps labels intact (no blended label values);
    uncovered corners become background (0). The dtype is kept.
    """
    labels = np.asarray(labels)
    rotated = transform.rotate(
        labels, -angle_deg, order=0, mode="constant", cval=0, preserve_range=True
    )
    rotated = np.rint(rotated).astype(labels.dtype)
    return crop_valid_area(rotated, angle_deg) if crop_to_valid else rotated


def covered_area(raw_shape: tuple[int, int], angle_deg: float) -> np.ndarray:
    """Pixels of a field rotated by :func:`rotate_labels` (no crop) that come from the
    raw field; the rest are the filled corners.

    Parameters
    ----------
    raw_shape : (rows, cols)
    angle_deg : float
        The rotation that was applied (the groove angle, or 0).

    Returns
    -------
    (rows, cols) bool ndarray
    """
    return rotate_labels(np.ones(raw_shape, np.uint8), angle_deg) > 0


def labels_to_raw_frame(
    labels: np.ndarray, angle_deg: float, raw_shape: tuple[int, int], *, crop_to_valid: bool = False
) -> np.ndarray:
    """Map a label mask of a rotated field back onto the raw field (the inverse of
    :func:`rotate_labels` for a field of ``raw_shape`` rotated by ``angle_deg``).

    A crop to the valid area is undone by centring the mask in a field of
    ``raw_shape`` (as :func:`crop_valid_area` centred it), then the field is turned by
    ``+angle_deg`` with nearest-neighbour sampling: labels stay intact, pixels that
    fall outside the rotated field are background.

    Parameters
    ----------
    labels : (rows', cols') integer ndarray
    angle_deg : float
        The rotation that was applied (the groove angle, or 0).
    raw_shape : (rows, cols)

    Returns
    -------
    (rows, cols) ndarray of the labels' dtype
    """
    labels = np.asarray(labels)
    rows, cols = raw_shape
    if crop_to_valid:
        full = np.zeros((rows, cols), labels.dtype)
        top, left = (rows - labels.shape[0]) // 2, (cols - labels.shape[1]) // 2
        full[top : top + labels.shape[0], left : left + labels.shape[1]] = labels
        labels = full
    if labels.shape != (rows, cols):
        raise ValueError(f"A mask of shape {labels.shape} cannot come from a field of shape {raw_shape}.")
    if angle_deg == 0:
        return labels.copy()
    back = transform.rotate(labels, angle_deg, order=0, mode="constant", cval=0, preserve_range=True)
    return np.rint(back).astype(labels.dtype)


def rotated_to_raw_coordinates(
    rows: np.ndarray, cols: np.ndarray, angle_deg: float, raw_shape: tuple[int, int], rotated_shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates of points of a rotated field, in its raw field.

    The exact transform :func:`rotate_image` applied (``skimage.transform.rotate`` by
    ``-angle_deg`` about the centre, after which a crop to the valid area is centred).

    Parameters
    ----------
    rows, cols : (N,) ndarray
        Coordinates in the rotated (possibly cropped) field.
    angle_deg : float
        The rotation that was applied.
    raw_shape, rotated_shape : (rows, cols)

    Returns
    -------
    raw_rows, raw_cols : (N,) ndarray
    """
    top, left = (raw_shape[0] - rotated_shape[0]) // 2, (raw_shape[1] - rotated_shape[1]) // 2
    centre = np.array((raw_shape[1], raw_shape[0])) / 2.0 - 0.5
    # skimage's rotate maps output to input coordinates with this transform.
    to_raw = (
        transform.SimilarityTransform(translation=-centre)
        + transform.SimilarityTransform(rotation=np.deg2rad(-angle_deg))
        + transform.SimilarityTransform(translation=centre)
    )
    xy = to_raw(np.column_stack([np.asarray(cols, float) + left, np.asarray(rows, float) + top]))
    return xy[:, 1], xy[:, 0]


def crop_valid_area(image: np.ndarray, angle_deg: float) -> np.ndarray:
    """Largest centred axis-aligned rectangle inside a field rotated by ``angle_deg``."""
    rows, cols = image.shape[:2]
    angle = abs(np.deg2rad(angle_deg)) % np.pi
    if angle > np.pi / 2:
        angle = np.pi - angle
    sin, cos = np.sin(angle), np.cos(angle)
    long_side, short_side = max(rows, cols), min(rows, cols)
    if short_side <= 2.0 * sin * cos * long_side or abs(sin - cos) < 1e-10:
        half = 0.5 * short_side
        width, height = (half / sin, half / cos) if rows <= cols else (half / cos, half / sin)
    else:
        cos2 = cos * cos - sin * sin
        width = (cols * cos - rows * sin) / cos2
        height = (rows * cos - cols * sin) / cos2
    # One pixel less on each side: bilinear samples at the exact edge mix in the fill.
    margin = 2 if angle > 1e-6 else 0
    height = int(np.floor(min(height, rows))) - margin
    width = int(np.floor(min(width, cols))) - margin
    top = (rows - height) // 2
    left = (cols - width) // 2
    return image[top : top + height, left : left + width]


def apply_clahe(
    image: np.ndarray,
    *,
    clip_limit: float = 0.01,
    kernel_size: int | None = None,
    saturation_percentile: float = 99.99,
) -> np.ndarray:
    """Contrast Limited Adaptive Histogram Equalisation (``equalize_adapthist``).

    The input is first scaled with :func:`robust_unit_range` so that hot pixels do not
    flatten the histograms. Returns float32 in [0, 1].
    """
    unit = robust_unit_range(image, saturation_percentile)
    return exposure.equalize_adapthist(unit, kernel_size=kernel_size, clip_limit=clip_limit).astype(np.float32)


def normalise(image: np.ndarray) -> np.ndarray:
    """Linear min-max scaling to [0, 1] (float32); a constant image gives zeros."""
    image = np.asarray(image, dtype=np.float32)
    low, high = float(image.min()), float(image.max())
    if high <= low:
        return np.zeros_like(image)
    return (image - low) / (high - low)


def clip_percentiles(image: np.ndarray, *, low: float = 1.0, high: float = 99.8) -> np.ndarray:
    """Clip to the ``[low, high]`` percentiles of the intensity distribution, then
    rescale to [0, 1] (float32)."""
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(f"Percentiles must satisfy 0 <= low < high <= 100, got low={low}, high={high}.")
    image = np.asarray(image, dtype=np.float32)
    lower, upper = np.percentile(image, [low, high])
    if upper <= lower:
        return normalise(image)
    return ((np.clip(image, lower, upper) - lower) / (upper - lower)).astype(np.float32)


def denoise_tv(image: np.ndarray, *, weight: float = 0.05) -> np.ndarray:
    """Total-variation denoising (``denoise_tv_chambolle``); float32 in [0, 1]."""
    unit = normalise(image) if (np.min(image) < 0 or np.max(image) > 1) else np.asarray(image, np.float32)
    return np.clip(restoration.denoise_tv_chambolle(unit, weight=weight), 0.0, 1.0).astype(np.float32)


def foreground_fraction(image: np.ndarray, *, smoothing_sigma: float = 2.0) -> float:
    """Share of pixels above Otsu's threshold after light smoothing: a density proxy.

    Computed on the robustly scaled image so hot pixels do not move the threshold.
    """
    unit = filters.gaussian(robust_unit_range(image), sigma=smoothing_sigma)
    return float((unit > filters.threshold_otsu(unit)).mean())
