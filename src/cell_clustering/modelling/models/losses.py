"""The VAE objective: reconstruction + β · KL(q(z|x) || N(0, I))."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch.nn import functional as F


class VAELoss(NamedTuple):
    """Per-sample means over the batch; ``total = reconstruction + beta * kl``."""

    total: torch.Tensor
    reconstruction: torch.Tensor
    kl: torch.Tensor


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions, per sample."""
    return -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def vae_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
    reconstruction: str = "bce",
) -> VAELoss:
    """Reconstruction (summed over pixels) plus ``beta`` times the KL, batch-averaged.

    Parameters
    ----------
    logits : (N, C, H, W) tensor
        Decoder output before the sigmoid.
    target : (N, C, H, W) tensor in [0, 1]
    mu, logvar : (N, D) tensors
    beta : float
    reconstruction : {"bce", "mse"}
    """
    if reconstruction == "bce":
        per_pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    elif reconstruction == "mse":
        per_pixel = F.mse_loss(torch.sigmoid(logits), target, reduction="none")
    else:
        raise ValueError(f"reconstruction must be 'bce' or 'mse', got '{reconstruction}'.")
    recon = per_pixel.flatten(1).sum(dim=1).mean()
    kl = kl_to_standard_normal(mu, logvar).mean()
    return VAELoss(recon + beta * kl, recon, kl)
