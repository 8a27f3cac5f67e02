"""PyTorch models, free of Kedro: one module per model, a config dataclass each."""

from cell_clustering.modelling.models.contrastive import (
    ContrastiveConfig,
    ContrastiveEncoder,
)
from cell_clustering.modelling.models.cvae import ConditionalVAE, ConditionalVAEConfig
from cell_clustering.modelling.models.refined_vae import RefinedVAE, RefinedVAEConfig
from cell_clustering.modelling.models.vae import VAE, VAEConfig

MODELS = {
    "vae": (VAE, VAEConfig),
    "cvae": (ConditionalVAE, ConditionalVAEConfig),
    "refined_vae": (RefinedVAE, RefinedVAEConfig),
    "contrastive": (ContrastiveEncoder, ContrastiveConfig),
}

__all__ = [
    "MODELS",
    "VAE",
    "ConditionalVAE",
    "ContrastiveConfig",
    "ContrastiveEncoder",
    "ConditionalVAEConfig",
    "RefinedVAE",
    "RefinedVAEConfig",
    "VAEConfig",
]
