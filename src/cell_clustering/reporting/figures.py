"""Matplotlib on the headless Agg backend, and the figure helpers shared by nodes."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and in CI; before pyplot is imported

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from skimage.segmentation import find_boundaries  # noqa: E402


def pyplot() -> Any:
    """``matplotlib.pyplot``, on the Agg backend."""
    return plt


def sample_grid(
    patches: np.ndarray,
    groups: Mapping[str, np.ndarray],
    *,
    n_samples: int,
    rng: np.random.Generator,
) -> Any:
    """One row per group of up to ``n_samples`` patches drawn without replacement.

    Parameters
    ----------
    patches : (N, C, S, S) ndarray in [0, 1]; the first channel is shown
    groups : mapping of row title → indices into ``patches``
    n_samples : int
    rng : numpy.random.Generator
        Draws the samples, group after group, in the mapping's order.

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure, axes = plt.subplots(len(groups), n_samples, figsize=(1.3 * n_samples, 1.4 * len(groups)), squeeze=False)
    for row_axes, (title, members) in zip(axes, groups.items(), strict=True):
        chosen = rng.choice(members, size=min(n_samples, len(members)), replace=False)
        for index, axis in enumerate(row_axes):
            axis.set_axis_off()
            if index < len(chosen):
                axis.imshow(patches[chosen[index], 0], cmap="gray", vmin=0, vmax=1)
        row_axes[0].set_title(title, fontsize=8, loc="left")
    figure.tight_layout()
    return figure


def png_base64(figure: Any, dpi: int = 80) -> str:
    """The figure as a base64 PNG, for a report that opens from disk with no server."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def image_base64(image: Any) -> str:
    """A PIL image (a figure read back from disk) as a base64 PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def outline_overlay(image: np.ndarray, labels: np.ndarray, colour: tuple[float, float, float] = (1.0, 0.2, 0.2)) -> np.ndarray:
    """An RGB copy of ``image`` (rows, cols) in [0, 1] with label outlines drawn in ``colour``.

    Returns
    -------
    (rows, cols, 3) float ndarray
    """
    overlay = np.dstack([image] * 3)
    overlay[find_boundaries(labels, mode="inner")] = colour
    return overlay
