"""Fields of another kind than cells, drawn like a microscope field, to check that a
trained run flags what it has never seen (``inference`` pipeline's drift test and
``benchmarks/inference.py``)."""

from __future__ import annotations

import numpy as np
from skimage.transform import rescale


def foreign_field(
    like: np.ndarray, *, kind: str, seed: int, digits: np.ndarray | None = None, per_side: int = 3
) -> np.ndarray:
    """One field of ``kind`` with the size, dtype and intensity range of ``like``.

    Parameters
    ----------
    like : (rows, cols) integer ndarray
        A field of the training plate: its shape, dtype, median (background) and 99.5th
        percentile (bright objects) are copied.
    kind : {"digits", "noise"}
        ``per_side``² handwritten digits scaled ×2 on a dark background, or uniform
        noise over the whole field.
    seed : int
        Which digits, and the camera noise.
    digits : (N, 28, 28) uint8 ndarray, optional
        The digit images to draw from (MNIST), required for ``kind="digits"``.

    Returns
    -------
    (rows, cols) ndarray of ``like.dtype``
    """
    if kind not in ("digits", "noise"):
        raise ValueError(f"kind must be 'digits' or 'noise', not {kind!r}.")
    if kind == "digits" and digits is None:
        raise ValueError("kind='digits' needs the digit images (digits=...).")
    rng = np.random.default_rng(seed)
    low, high = np.percentile(like, [50, 99.5])
    signal = rng.random(like.shape) if kind == "noise" else np.zeros(like.shape)
    if kind == "digits":
        step = like.shape[0] // per_side
        for row in range(per_side):
            for col in range(per_side):
                digit = rescale(digits[rng.integers(len(digits))] / 255.0, 2, order=1)
                top, left = row * step + 10, col * step + 10
                signal[top:top + digit.shape[0], left:left + digit.shape[1]] = digit[: like.shape[0] - top, : like.shape[1] - left]
    image = low + signal * (high - low) + rng.normal(0, 0.02 * (high - low), like.shape)
    return image.clip(0, np.iinfo(like.dtype).max).astype(like.dtype)
