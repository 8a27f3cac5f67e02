"""The variational autoencoder of the seed: z = μ + σ ⊙ ε, loss = L(x, x̂) + β·KL."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cell_clustering.modelling.models.losses import VAELoss, vae_loss
from cell_clustering.modelling.models.nn import ConvDecoder, ConvEncoder


@dataclass(frozen=True)
class VAEConfig:
    """Hyperparameters of :class:`VAE`."""

    patch_size: int = 64
    in_channels: int = 1
    latent_dim: int = 16
    feature_dim: int = 256
    beta: float = 1.0
    reconstruction: str = "bce"  # or "mse"

    def __post_init__(self) -> None:
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be positive, got {self.latent_dim}.")
        if self.reconstruction not in ("bce", "mse"):
            raise ValueError(f"reconstruction must be 'bce' or 'mse', got '{self.reconstruction}'.")


def reparameterise(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = μ + σ ⊙ ε with ε ~ N(0, I)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


class VAELossMixin:
    """``loss`` for every model whose forward returns (logits, mu, logvar) and whose
    config has ``beta`` and ``reconstruction``: the objective lives in one place."""

    def loss(self, images: torch.Tensor, conditions: torch.Tensor | None = None, beta: float | None = None) -> VAELoss:
        logits, mu, logvar = self(images, conditions)
        beta = self.config.beta if beta is None else beta
        return vae_loss(logits, images, mu, logvar, beta, self.config.reconstruction)


class VAE(VAELossMixin, nn.Module):
    """Convolutional VAE over (N, C, S, S) patches with values in [0, 1].

    Every model of this package shares the interface ``loss(images, conditions,
    beta=None)`` and ``embed(images, conditions)``; the plain VAE ignores conditions.
    """

    config_class = VAEConfig

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = ConvEncoder(config.in_channels, config.patch_size, config.feature_dim)
        self.mu = nn.Linear(config.feature_dim, config.latent_dim)
        self.logvar = nn.Linear(config.feature_dim, config.latent_dim)
        self.decoder = ConvDecoder(config.latent_dim, config.in_channels, config.patch_size)

    def encode(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.encoder(images)
        return self.mu(features), self.logvar(features)

    def forward(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns decoder logits, mu and logvar."""
        mu, logvar = self.encode(images)
        return self.decoder(reparameterise(mu, logvar)), mu, logvar

    @torch.no_grad()
    def embed(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> torch.Tensor:
        """Latent means: the representation that is clustered."""
        return self.encode(images)[0]
