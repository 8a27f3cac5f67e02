"""Microscopy files read as they declare themselves: axes, channels and pixel size.

A user's folder holds TIFF files from ImageJ / Fiji, OME-TIFF from Bio-Formats or a
microscope, plain TIFF and PNG. :func:`read_field` reads one file into a
:class:`RawField` that keeps what the file says about itself (its axes as tifffile
reports them, its channel names, its pixel size); :func:`select_plane` then takes the
plane a pipeline step needs (the cell or the nuclear channel, a z projection), as
the layout parameters say, and refuses a file whose layout contradicts them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from xml.etree import ElementTree

import numpy as np
import tifffile
from PIL import Image

from cell_clustering.fields import FieldError

#: File suffixes read as images, compared case-insensitively (``.TIF`` is ``.tif``).
IMAGE_SUFFIXES = (".tif", ".tiff", ".png")
# tifffile's axis codes: S = samples (RGB), I / Q = pages of unknown meaning.
_UNKNOWN_AXES = "IQ"
_MICROMETRES_PER_UNIT = {
    "nm": 1e-3, "nanometer": 1e-3, "µm": 1.0, "um": 1.0, "micron": 1.0, "microns": 1.0, "micrometer": 1.0,
    "\\u00b5m": 1.0, "mm": 1e3, "millimeter": 1e3, "cm": 1e4, "centimeter": 1e4,
}


class LayoutError(FieldError):
    """A file whose axes or channels contradict the declared layout (a setting to fix)."""


@dataclass(frozen=True)
class RawField:
    """One field's pixels and what its file declares.

    Attributes
    ----------
    pixels : ndarray
        The file's array, in its dtype, axes as ``axes`` says.
    axes : str
        One letter per axis of ``pixels``: Y, X, C (channels, RGB samples included),
        Z (planes), T (time points), or ``?`` where the file does not say.
    pixel_size_um : float or None
        The physical size of a pixel (µm) from OME, ImageJ or TIFF resolution
        metadata; None when the file declares none.
    channel_names : tuple of str
        Channel names from the metadata, empty when the file names none.
    source : str
        The file's name, for messages.
    path : str
        Where the file is (for files that point back to it, such as Cellpose GUI
        annotations); empty for an array that came from no file.
    """

    pixels: np.ndarray
    axes: str
    pixel_size_um: float | None = None
    channel_names: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""
    path: str = ""

    @property
    def n_channels(self) -> int:
        return self.pixels.shape[self.axes.index("C")] if "C" in self.axes else 1


def _micrometres(value: float, unit: str | None) -> float | None:
    factor = _MICROMETRES_PER_UNIT.get((unit or "").strip().lower())
    if factor is None or not np.isfinite(value) or value <= 0:
        return None
    return float(value) * factor


def _ome_pixels(tif: tifffile.TiffFile) -> tuple[float | None, tuple[str, ...]]:
    """Pixel size and channel names of the first image of an OME-XML header."""
    root = ElementTree.fromstring(tif.ome_metadata)
    pixels = next((element for element in root.iter() if element.tag.endswith("}Pixels")), None)
    if pixels is None:
        return None, ()
    names = tuple(c.get("Name", "") for c in pixels if c.tag.endswith("}Channel"))
    size = pixels.get("PhysicalSizeX")
    unit = pixels.get("PhysicalSizeXUnit", "µm")
    return (_micrometres(float(size), unit) if size else None), (names if all(names) else ())


def _resolution_pixel_size(tif: tifffile.TiffFile, unit: str | None) -> float | None:
    """Pixel size from the XResolution tag (pixels per unit) in ``unit``."""
    tag = tif.pages.first.tags.get("XResolution")
    if tag is None:
        return None
    numerator, denominator = tag.value
    return _micrometres(denominator / numerator, unit) if numerator else None


def _tiff_metadata(tif: tifffile.TiffFile) -> tuple[float | None, tuple[str, ...]]:
    """Pixel size (µm) and channel names as OME, ImageJ or the TIFF tags declare them."""
    if tif.is_ome and tif.ome_metadata:
        return _ome_pixels(tif)
    if tif.is_imagej:
        metadata = tif.imagej_metadata or {}
        labels = metadata.get("Labels")
        return _resolution_pixel_size(tif, metadata.get("unit")), tuple(labels) if labels else ()
    unit_tag = tif.pages.first.tags.get("ResolutionUnit")
    # An inch is what writers put by default (72 dpi): it is not a microscope's size.
    if unit_tag is not None and int(unit_tag.value) == 3:
        return _resolution_pixel_size(tif, "cm"), ()
    return None, ()


def _canonical_axes(axes: str) -> str:
    """tifffile's codes as ours: S → C, I / Q → ?; E (lambda) counts as channels."""
    return re.sub(f"[{_UNKNOWN_AXES}]", "?", axes.replace("S", "C").replace("E", "C"))


def read_tiff(stream: BinaryIO, source: str = "") -> RawField:
    """Read the first series of a TIFF (plain, ImageJ or OME) with its axes and metadata."""
    with tifffile.TiffFile(stream) as tif:
        series = tif.series[0]
        pixels = series.asarray()
        pixel_size, names = _tiff_metadata(tif)
        return RawField(pixels, _canonical_axes(series.axes), pixel_size, names, source)


def read_png(stream: BinaryIO, source: str = "") -> RawField:
    """Read a PNG (grey, grey + alpha, RGB or RGBA; 8 or 16 bit); PNG declares no pixel size."""
    with Image.open(io.BytesIO(stream.read())) as image:
        pixels = np.asarray(image)
    return RawField(pixels, "YX" if pixels.ndim == 2 else "YXC", None, (), source)


def read_field(stream: BinaryIO, suffix: str, source: str = "") -> RawField:
    """Read one image file by its suffix (``.tif``, ``.tiff``, ``.png``, any case)."""
    suffix = suffix.lower()
    if suffix in (".tif", ".tiff"):
        return read_tiff(stream, source)
    if suffix == ".png":
        return read_png(stream, source)
    raise FieldError(f"'{source}': unsupported file type '{suffix}'; readable: {', '.join(IMAGE_SUFFIXES)}.")


def _declared(raw: RawField, axes: str | None) -> tuple[np.ndarray, str]:
    """The pixels with the declared axes where the file does not say, checked where it does."""
    file_axes = raw.axes
    squeezed = "".join(a for a, n in zip(file_axes, raw.pixels.shape, strict=True) if n > 1 or a in "YX")
    pixels = raw.pixels.reshape([n for a, n in zip(file_axes, raw.pixels.shape, strict=True) if n > 1 or a in "YX"])
    if axes is None:
        if "?" in squeezed:
            raise LayoutError(
                f"'{raw.source}' holds {pixels.shape[squeezed.index('?')]} pages that its metadata does not "
                f"describe (shape {pixels.shape}). Declare what they are in preprocessing.layout.axes "
                "(e.g. CYX for channels, ZYX for a z-stack)."
            )
        return pixels, squeezed
    if len(axes) != pixels.ndim or any(f not in ("?", d) for f, d in zip(squeezed, axes, strict=True)):
        raise LayoutError(
            f"'{raw.source}' has axes {squeezed} (shape {pixels.shape}) but preprocessing.layout.axes "
            f"declares {axes}. Fix the setting, or set it to null to read each file as it declares itself."
        )
    return pixels, axes


def _channel_index(raw: RawField, channel: int | str, n_channels: int, role: str) -> int:
    if isinstance(channel, str):
        if channel not in raw.channel_names:
            names = ", ".join(raw.channel_names) or "none"
            raise LayoutError(
                f"'{raw.source}' has no channel named '{channel}' (preprocessing.layout.{role}); "
                f"its channels are named: {names}. Give the channel's index instead."
            )
        return raw.channel_names.index(channel)
    if channel >= n_channels:
        raise LayoutError(
            f"'{raw.source}' has {n_channels} channel(s); preprocessing.layout.{role} = {channel} "
            "is out of range (channels count from 0)."
        )
    return channel


def select_plane(
    raw: RawField, *, channel: int | str, axes: str | None = None, z_projection: str | int = "max", role: str = "cell_channel"
) -> np.ndarray:
    """The 2-D (rows, cols) plane of one channel, a z-stack projected or one plane taken.

    Parameters
    ----------
    raw : RawField
    channel : int or str
        Channel index (from 0) or name; ignored for single-channel files.
    axes : str, optional
        The declared layout (``YX``, ``CYX``, ``YXC``, ``ZYX``, ``ZCYX``...); None
        trusts the file. A contradiction raises :class:`LayoutError`.
    z_projection : {"max", "mean"} or int
        How a z-stack becomes one plane: a projection or the index of a plane.
    role : str
        The parameter name used in messages.

    Returns
    -------
    (rows, cols) ndarray in the file's dtype
    """
    pixels, axes = _declared(raw, axes)
    if "T" in axes:
        raise LayoutError(
            f"'{raw.source}' is a time-lapse ({pixels.shape[axes.index('T')]} time points, axes {axes}); "
            "time-lapse is not supported yet. Save one file per time point."
        )
    if "C" in axes:
        index = _channel_index(raw, channel, pixels.shape[axes.index("C")], role)
        pixels, axes = np.take(pixels, index, axis=axes.index("C")), axes.replace("C", "")
    if "Z" in axes:
        z_axis = axes.index("Z")
        if isinstance(z_projection, int):
            pixels = np.take(pixels, min(z_projection, pixels.shape[z_axis] - 1), axis=z_axis)
        else:
            pixels = getattr(np, z_projection)(pixels, axis=z_axis)
        axes = axes.replace("Z", "")
    if axes != "YX":
        raise LayoutError(f"'{raw.source}' has axes {axes} left after choosing a channel; expected YX.")
    return pixels


def as_raw_field(image: Any, source: str = "") -> RawField:
    """A :class:`RawField` from a RawField or a bare array (YX, or YXC with ≤ 4 channels)."""
    if isinstance(image, RawField):
        return image
    array = np.asarray(image)
    axes = "YX" if array.ndim == 2 else "YXC" if array.ndim == 3 and array.shape[-1] <= 4 else "?" * (array.ndim - 2) + "YX"
    return RawField(array, axes, None, (), source)
