"""Conditional VAE: the condition (cell line, one-hot) is given to encoder and decoder."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cell_clustering.modelling.models.nn import ConvDecoder, ConvEncoder
from cell_clustering.modelling.models.vae import VAEConfig, VAELossMixin, reparameterise


@dataclass(frozen=True)
class ConditionalVAEConfig(VAEConfig):
    """Hyperparameters of :class:`ConditionalVAE`; ``n_conditions`` ≥ 2."""

    n_conditions: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_conditions < 2:
            raise ValueError(f"A conditional VAE needs at least 2 conditions, got {self.n_conditions}.")


class ConditionalVAE(VAELossMixin, nn.Module):
    """q(z | x, c) and p(x | z, c).

    The encoder sees the one-hot condition as extra constant image channels; the
    decoder reads z ⊕ one-hot. Because the decoder is told the condition, z is free
    to leave it out: clustering z groups shapes *within* conditions.
    """

    config_class = ConditionalVAEConfig

    def __init__(self, config: ConditionalVAEConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = ConvEncoder(config.in_channels + config.n_conditions, config.patch_size, config.feature_dim)
        self.mu = nn.Linear(config.feature_dim, config.latent_dim)
        self.logvar = nn.Linear(config.feature_dim, config.latent_dim)
        self.decoder = ConvDecoder(config.latent_dim + config.n_conditions, config.in_channels, config.patch_size)

    def _one_hot(self, conditions: torch.Tensor | None) -> torch.Tensor:
        if conditions is None:
            raise ValueError("ConditionalVAE needs the condition of every patch.")
        return F.one_hot(conditions.long(), self.config.n_conditions).float()

    def encode(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        one_hot = self._one_hot(conditions)
        planes = one_hot[:, :, None, None].expand(-1, -1, *images.shape[-2:])
        features = self.encoder(torch.cat([images, planes], dim=1))
        return self.mu(features), self.logvar(features)

    def decode(self, z: torch.Tensor, conditions: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, self._one_hot(conditions)], dim=1))

    def forward(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(images, conditions)
        return self.decode(reparameterise(mu, logvar), conditions), mu, logvar

    @torch.no_grad()
    def embed(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> torch.Tensor:
        """Latent means of z (without the condition)."""
        return self.encode(images, conditions)[0]
