"""Augmentations that respect the groove frame (plain PyTorch, free of Kedro).

Patches are cut in the frame where grooves are horizontal, so a flip about the
groove axis or across it, a shift of a few pixels, a small rotation and a small
change of scale give another plausible view of the same cell; a 90° turn would not
(a cell along the grooves would become one across them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class AugmentConfig:
    """How far views may differ: flips, rotation in degrees, shift and scale as
    fractions of the patch."""

    flips: bool = True
    rotation_deg: float = 15.0
    shift: float = 0.08
    scale: float = 0.1

    @property
    def is_identity(self) -> bool:
        return not self.flips and self.rotation_deg == 0 and self.shift == 0 and self.scale == 0


def augment(images: torch.Tensor, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """A random view of every image (N, C, S, S), drawn from ``generator``."""
    if config.is_identity:
        return images
    n, device = len(images), images.device
    if config.flips:  # random numbers on the generator's device (CPU), then moved
        rows = (torch.rand(n, generator=generator) < 0.5).to(device)
        cols = (torch.rand(n, generator=generator) < 0.5).to(device)
        images = torch.where(rows[:, None, None, None], images.flip(-2), images)
        images = torch.where(cols[:, None, None, None], images.flip(-1), images)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(config.rotation_deg)
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * config.scale
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * config.shift
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(device=device, dtype=images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")
