"""The refined VAE of the slides: Z' = f(Z) ⊕ g(E), split by the hyperparameter alpha.

Z is the stochastic latent (KL-regularised); E is a deterministic embedding, by
default of the input through its own encoder branch, optionally of the condition.
f and g are learned linear projections with dim g(E) = latent_dim / alpha and
dim f(Z) = (alpha − 1) / alpha · latent_dim; the decoder reads Z'. The slides
introduced it because the KL term of the plain models diverged: part of the code
(g(E)) is not pulled towards N(0, I), which makes the latent space more flexible.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from cell_clustering.modelling.models.nn import ConvDecoder, ConvEncoder
from cell_clustering.modelling.models.vae import VAEConfig, VAELossMixin, reparameterise


@dataclass(frozen=True)
class RefinedVAEConfig(VAEConfig):
    """Hyperparameters of :class:`RefinedVAE`."""

    alpha: int = 8
    embedding: str = "input"  # "input" (encoder branch) or "condition"
    n_conditions: int = 0  # the number of conditions, for embedding "condition"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.alpha < 2:
            raise ValueError(f"alpha must be at least 2 (g(E) gets latent_dim / alpha dimensions), got {self.alpha}.")
        if self.latent_dim % self.alpha:
            raise ValueError(
                f"latent_dim ({self.latent_dim}) must be divisible by alpha ({self.alpha}): "
                "dim g(E) = latent_dim / alpha must be a whole number."
            )
        if self.embedding not in ("input", "condition"):
            raise ValueError(f"embedding must be 'input' or 'condition', got '{self.embedding}'.")
        if self.embedding == "condition" and self.n_conditions < 2:
            raise ValueError("embedding 'condition' needs at least 2 conditions.")

    @property
    def g_dim(self) -> int:
        return self.latent_dim // self.alpha

    @property
    def f_dim(self) -> int:
        return self.latent_dim - self.g_dim


class RefinedVAE(VAELossMixin, nn.Module):
    """VAE whose decoder reads Z' = f(Z) ⊕ g(E)."""

    config_class = RefinedVAEConfig

    def __init__(self, config: RefinedVAEConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = ConvEncoder(config.in_channels, config.patch_size, config.feature_dim)
        self.mu = nn.Linear(config.feature_dim, config.latent_dim)
        self.logvar = nn.Linear(config.feature_dim, config.latent_dim)
        if config.embedding == "input":
            self.embedding = nn.Sequential(nn.Linear(config.feature_dim, config.feature_dim), nn.LeakyReLU(0.2))
            embedding_dim = config.feature_dim
        else:
            self.embedding = nn.Identity()
            embedding_dim = config.n_conditions
        self.f = nn.Linear(config.latent_dim, config.f_dim)
        self.g = nn.Linear(embedding_dim, config.g_dim)
        self.decoder = ConvDecoder(config.latent_dim, config.in_channels, config.patch_size)

    def _embedding(self, features: torch.Tensor, conditions: torch.Tensor | None) -> torch.Tensor:
        if self.config.embedding == "input":
            return self.embedding(features)
        if conditions is None:
            raise ValueError("RefinedVAE with embedding 'condition' needs the condition of every patch.")
        return F.one_hot(conditions.long(), self.config.n_conditions).float()

    def encode(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns mu and logvar of Z, and E."""
        features = self.encoder(images)
        return self.mu(features), self.logvar(features), self._embedding(features, conditions)

    def combine(self, z: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """Z' = f(Z) ⊕ g(E)."""
        return torch.cat([self.f(z), self.g(e)], dim=1)

    def forward(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar, e = self.encode(images, conditions)
        return self.decoder(self.combine(reparameterise(mu, logvar), e)), mu, logvar

    @torch.no_grad()
    def embed(self, images: torch.Tensor, conditions: torch.Tensor | None = None) -> torch.Tensor:
        """Z' computed from the mean of Z: the representation that is clustered."""
        mu, _, e = self.encode(images, conditions)
        return self.combine(mu, e)
