"""Augmentations that respect the groove frame (plain PyTorch, free of Kedro).

Patches are cut in the frame where grooves are horizontal, so a flip about the
groove axis or across it, a shift of a few pixels, a small rotation and a change of
scale (one shape class spans many sizes) give another plausible view of the same
cell; a 90° turn would not (a cell along the grooves would become one across them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class AugmentConfig:
    """How far views may differ: flips, rotation in degrees, shift and scale as
    fractions of the patch, brightness gain (± fraction), Gaussian blur (up to
    ``blur_sigma`` pixels) and additive Gaussian noise (sd, on the [0, 1] range)."""

    flips: str = "both"  # both | left_right (columns mirrored) | up_down (rows) | none
    rotation_deg: float = 15.0
    shift: float = 0.08
    scale: float = 0.4
    intensity: float = 0.0
    blur_sigma: float = 0.0
    noise: float = 0.0

    def __post_init__(self) -> None:
        # The VAE family's `training.augment.flips` is a bool: True is both axes, False none.
        if isinstance(self.flips, bool):
            object.__setattr__(self, "flips", "both" if self.flips else "none")

    @property
    def is_identity(self) -> bool:
        return self.flips == "none" and not any(
            (self.rotation_deg, self.shift, self.scale, self.intensity, self.blur_sigma, self.noise)
        )


def augment(images: torch.Tensor, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """A random view of every image (N, C, S, S), drawn from ``generator``."""
    if config.is_identity:
        return images
    n, device = len(images), images.device
    if config.flips != "none":  # random numbers on the generator's device (CPU), then moved
        # Both draws are made whichever axes flip, so one seed gives one stream of views.
        rows = (torch.rand(n, generator=generator) < 0.5).to(device) & (config.flips in ("both", "up_down"))
        cols = (torch.rand(n, generator=generator) < 0.5).to(device) & (config.flips in ("both", "left_right"))
        images = torch.where(rows[:, None, None, None], images.flip(-2), images)
        images = torch.where(cols[:, None, None, None], images.flip(-1), images)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(config.rotation_deg)
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * config.scale
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * config.shift
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(device=device, dtype=images.dtype), list(images.shape), align_corners=False)
    return _photometric(F.grid_sample(images, grid, align_corners=False, padding_mode="zeros"), config, generator)


def _photometric(images: torch.Tensor, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Brightness, blur and noise; each draws random numbers only when it is on, so that
    a configuration without them gives the same views as before they existed."""
    n, device = len(images), images.device
    if config.intensity:
        gain = 1 + (torch.rand(n, generator=generator) * 2 - 1) * config.intensity
        images = images * gain.to(device=device, dtype=images.dtype)[:, None, None, None]
    if config.blur_sigma:
        images = _blur(images, torch.rand(n, generator=generator) * config.blur_sigma)
    if config.noise:
        images = images + torch.randn(images.shape, generator=generator).to(device=device, dtype=images.dtype) * config.noise
    return images.clamp(0, 1) if (config.intensity or config.noise) else images


def _blur(images: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """Each image (N, C, S, S) blurred with its own Gaussian ``sigmas`` (N,), separably."""
    n, channels = images.shape[:2]
    radius = max(1, math.ceil(3 * float(sigmas.max())))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype)
    kernels = torch.exp(-(offsets[None] ** 2) / (2 * sigmas.to(images.dtype).clamp_min(1e-3)[:, None] ** 2))
    kernels = (kernels / kernels.sum(1, keepdim=True)).repeat_interleave(channels, 0).to(images.device)
    flat = images.reshape(1, n * channels, *images.shape[2:])
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="reflect"), kernels[:, None, None, :], groups=n * channels)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="reflect"), kernels[:, None, :, None], groups=n * channels)
    return flat.reshape(images.shape)
