"""Per-image segmentation that does not need Cellpose.

:func:`segment_classical` (Otsu threshold + distance-transform watershed) is the
baseline against which a trained Cellpose model is judged. :func:`filter_labels`
applies the post-filters shared by every segmenter.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage import filters, measure, morphology, segmentation


def label_dtype(n_labels: int) -> type[np.unsignedinteger]:
    """uint16 while labels fit (what Cellpose and most viewers expect), else uint32."""
    return np.uint16 if n_labels < np.iinfo(np.uint16).max else np.uint32


def segment_classical(
    image: np.ndarray,
    *,
    smoothing_sigma: float = 2.0,
    min_object_area: int = 80,
    h_maxima: float = 3.0,
) -> np.ndarray:
    """Instance labels by Otsu thresholding and a marker-based watershed.

    Touching cells are split along the valleys of the distance transform; markers are
    its h-maxima, so an elongated cell (one long ridge) keeps a single marker.

    Parameters
    ----------
    image : (rows, cols) ndarray, any real dtype
        A field with bright cells on a darker background.
    smoothing_sigma : float
        Gaussian smoothing before thresholding, in pixels.
    min_object_area : int
        Foreground objects smaller than this (pixels) are dropped.
    h_maxima : float
        Minimal height (pixels of distance) of a marker above its surroundings.

    Returns
    -------
    (rows, cols) uint16 or uint32 ndarray of labels, 0 = background.
    """
    image = np.asarray(image, dtype=np.float32)
    smooth = filters.gaussian(image, sigma=smoothing_sigma)
    if float(smooth.max()) == float(smooth.min()):
        return np.zeros(image.shape, dtype=np.uint16)
    foreground = smooth > filters.threshold_otsu(smooth)
    foreground = morphology.remove_small_objects(foreground, max_size=min_object_area - 1)
    foreground = ndi.binary_fill_holes(foreground)
    distance = ndi.distance_transform_edt(foreground)
    markers = measure.label(morphology.h_maxima(ndi.gaussian_filter(distance, 1.0), h_maxima))
    labels = segmentation.watershed(-distance, markers, mask=foreground)
    return labels.astype(label_dtype(int(labels.max())))


def filter_labels(
    labels: np.ndarray,
    *,
    drop_border: bool = True,
    min_area: int = 0,
    max_area: int | None = None,
) -> np.ndarray:
    """Remove labels touching the border or outside ``[min_area, max_area]``; relabel
    sequentially (1..n) in raster order.

    Parameters
    ----------
    labels : (rows, cols) integer ndarray, 0 = background

    Returns
    -------
    (rows, cols) uint16 or uint32 ndarray
    """
    labels = np.asarray(labels)
    if drop_border:
        labels = segmentation.clear_border(labels)
    areas = np.bincount(labels.ravel())
    keep = areas >= max(min_area, 1)
    if max_area is not None:
        keep &= areas <= max_area
    keep[0] = False
    labels = np.where(keep[labels], labels, 0)
    relabelled, _, _ = segmentation.relabel_sequential(labels)
    return relabelled.astype(label_dtype(int(relabelled.max())))
