"""Convolutional encoder and decoder sized from the patch size (plain PyTorch)."""

from __future__ import annotations

import torch
from torch import nn


def downsampling_plan(patch_size: int, max_channels: int = 128, base_channels: int = 32) -> tuple[list[int], int]:
    """Channels of each stride-2 stage and the final spatial size.

    Halve while the size is even and above 7: 28 → 14 → 7, 64 → … → 4, 96 → … → 6.
    """
    if patch_size < 8:
        raise ValueError(f"patch_size must be at least 8 pixels, got {patch_size}.")
    channels, size = [], patch_size
    while size % 2 == 0 and size > 7:
        channels.append(min(base_channels * 2 ** len(channels), max_channels))
        size //= 2
    if not channels:
        raise ValueError(f"patch_size {patch_size} cannot be halved; use an even size such as 28, 64 or 96.")
    return channels, size


class ConvEncoder(nn.Module):
    """(N, C, S, S) images → (N, feature_dim) features."""

    def __init__(self, in_channels: int, patch_size: int, feature_dim: int = 256) -> None:
        super().__init__()
        channels, final_size = downsampling_plan(patch_size)
        layers: list[nn.Module] = []
        previous = in_channels
        for out in channels:
            layers += [nn.Conv2d(previous, out, 4, stride=2, padding=1), nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
            previous = out
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.project = nn.Sequential(nn.Linear(previous * final_size**2, feature_dim), nn.LeakyReLU(0.2))
        self.feature_dim = feature_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.project(self.features(images))


class ConvDecoder(nn.Module):
    """(N, latent_dim) codes → (N, C, S, S) images in [0, 1]."""

    def __init__(self, latent_dim: int, out_channels: int, patch_size: int) -> None:
        super().__init__()
        channels, final_size = downsampling_plan(patch_size)
        channels = channels[::-1]
        self.start_shape = (channels[0], final_size, final_size)
        self.expand = nn.Sequential(nn.Linear(latent_dim, channels[0] * final_size**2), nn.LeakyReLU(0.2))
        layers: list[nn.Module] = []
        for index, current in enumerate(channels):
            last = index == len(channels) - 1
            out = out_channels if last else channels[index + 1]
            layers.append(nn.ConvTranspose2d(current, out, 4, stride=2, padding=1))
            if not last:
                layers += [nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
        self.upsample = nn.Sequential(*layers)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        hidden = self.expand(codes).view(-1, *self.start_shape)
        # Logits: the loss applies the sigmoid itself (stable BCE).
        return self.upsample(hidden)
