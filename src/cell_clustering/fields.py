"""Helpers shared by the per-field nodes: keys, conditions, loading with clear errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cell_clustering.errors import ProjectFileNotFoundError, ProjectValueError

logger = logging.getLogger(__name__)

Partitions = Mapping[str, Callable[[], Any]]

NO_IMAGES_MESSAGE = (
    "No raw images found. Put your fields in data/01_raw/images/<condition>/<field>.tif "
    "(one sub-folder per cell line, e.g. control/, Rac1/; .tif, .tiff or .png), point the "
    "`input_folder` of your own conf environment at them (README: 'Bringing your own images'), "
    "or make the demo data with `kedro run --pipelines=demo_data`."
)


class FieldError(ProjectValueError):
    """A field that cannot be processed; the message names the field and the fix."""


def condition_of(field: str) -> str:
    """The condition (cell line) of a field is the name of its sub-folder."""
    return field.split("/", 1)[0] if "/" in field else "unknown"


def require_partitions(partitions: Partitions, message: str = NO_IMAGES_MESSAGE) -> list[str]:
    """Sorted partition keys; raises with ``message`` when there are none."""
    if not partitions:
        raise ProjectFileNotFoundError(message)
    return sorted(partitions)


def checked_plane(image: np.ndarray, field: str) -> np.ndarray:
    """Return a 2-D float32 copy of one plane of a field, checked for use.

    Raises ``FieldError`` naming the field for a plane that is not 2-D, empty,
    not real-valued, all NaN or constant; a few non-finite pixels are filled with
    the median.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise FieldError(f"Field '{field}' has shape {image.shape}; one 2-D plane is expected.")
    if image.size == 0:
        raise FieldError(f"Field '{field}' is empty (shape {image.shape}).")
    if not np.issubdtype(image.dtype, np.number) or np.issubdtype(image.dtype, np.complexfloating):
        raise FieldError(f"Field '{field}' has dtype {image.dtype}; a real-valued image is expected.")
    image = image.astype(np.float32, copy=False)
    finite = np.isfinite(image)
    if not finite.any():
        raise FieldError(f"Field '{field}' holds no finite value (all NaN or inf).")
    if not finite.all():
        # A few dead pixels should not lose a field: fill them with the median.
        image = np.where(finite, image, np.median(image[finite])).astype(np.float32)
    if float(image.max()) == float(image.min()):
        raise FieldError(f"Field '{field}' is constant ({image.flat[0]}): nothing to analyse.")
    return image
