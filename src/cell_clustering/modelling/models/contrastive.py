"""A contrastive encoder (SimCLR, Chen et al. 2020) for cell silhouettes.

Two random views of each cell (see :mod:`cell_clustering.modelling.augment`) are
pulled together and away from the other cells of the batch. The encoder ends in a
global average pool, so what it extracts (protrusions, ruffled edges, size,
elongation along or across the grooves) does not depend on where in the patch it
lies; a linear bottleneck of ``latent_dim`` is the representation, and a small
projection head carries the loss, as in SimCLR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from cell_clustering.modelling.augment import AugmentConfig, augment


@dataclass(frozen=True)
class ContrastiveConfig:
    """Hyperparameters of :class:`ContrastiveEncoder`."""

    patch_size: int = 40
    in_channels: int = 1
    latent_dim: int = 16
    width: int = 16
    projection_dim: int = 64
    temperature: float = 0.1
    # The invariances of the data (modelling.invariances): what two views may differ by.
    flips: str = "both"
    rotation_deg: float = 15.0
    shift: float = 0.08
    scale: float = 0.4
    intensity: float = 0.0
    blur_sigma: float = 0.0
    noise: float = 0.0

    def __post_init__(self) -> None:
        if self.patch_size < 16:
            raise ValueError(f"patch_size must be at least 16 pixels for the contrastive encoder, got {self.patch_size}.")
        if not 0 < self.temperature <= 1:
            raise ValueError(f"temperature must be in (0, 1], got {self.temperature}.")

    @property
    def augmentation(self) -> AugmentConfig:
        return AugmentConfig(
            self.flips, self.rotation_deg, self.shift, self.scale, self.intensity, self.blur_sigma, self.noise
        )


class ContrastiveLoss(NamedTuple):
    """``total`` is the NT-Xent loss of the batch (no reconstruction, no KL)."""

    total: torch.Tensor
    contrastive: torch.Tensor


def nt_xent(first: torch.Tensor, second: torch.Tensor, temperature: float) -> torch.Tensor:
    """The normalised-temperature cross-entropy of SimCLR: row i of ``first`` must
    pick row i of ``second`` (and back) among all 2N - 1 other rows."""
    embeddings = F.normalize(torch.cat([first, second]), dim=1)
    similarity = embeddings @ embeddings.t() / temperature
    similarity.fill_diagonal_(float("-inf"))
    n = len(first)
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(similarity.device)
    return F.cross_entropy(similarity, targets)


def _stage(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, stride=2), nn.BatchNorm2d(out_channels), nn.ReLU(),
    )


class ContrastiveEncoder(nn.Module):
    """(N, C, S, S) patches → (N, latent_dim) representation, trained by contrast.

    Shares the interface of the VAEs: ``loss(images, conditions, beta=None)`` and
    ``embed(images, conditions)``; conditions are ignored.
    """

    config_class = ContrastiveConfig

    def __init__(self, config: ContrastiveConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.width, 2 * config.width, 4 * config.width, 4 * config.width]
        self.features = nn.Sequential(*[_stage(a, b) for a, b in zip([config.in_channels, *widths[:-1]], widths, strict=True)])
        self.bottleneck = nn.Linear(widths[-1], config.latent_dim)
        self.projection = nn.Sequential(nn.Linear(config.latent_dim, config.projection_dim), nn.ReLU(),
                                        nn.Linear(config.projection_dim, config.projection_dim))
        self.generator = torch.Generator().manual_seed(0)  # reseeded by the training loop
        # Channels-last convolutions: a third less time per update on the CPU (oneDNN),
        # the layout tensor cores want on a GPU.
        self.to(memory_format=torch.channels_last)

    def represent(self, images: torch.Tensor) -> torch.Tensor:
        images = images.contiguous(memory_format=torch.channels_last)
        return self.bottleneck(self.features(images).mean(dim=(2, 3)))

    def loss(self, images: torch.Tensor, conditions: torch.Tensor | None = None, beta: float | None = None) -> ContrastiveLoss:
        views = [augment(images, self.config.augmentation, self.generator) for _ in range(2)]
        value = nt_xent(*(self.projection(self.represent(view)) for view in views), self.config.temperature)
        return ContrastiveLoss(value, value)

    @torch.no_grad()
    def embed(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> torch.Tensor:
        """The representation of every patch (the bottleneck, before projection)."""
        return self.represent(images)
