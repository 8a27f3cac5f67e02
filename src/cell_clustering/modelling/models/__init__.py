"""PyTorch models, free of Kedro: one module per model, a config dataclass each."""

from cell_clustering.modelling.models.cvae import ConditionalVAE, ConditionalVAEConfig
from cell_clustering.modelling.models.refined_vae import RefinedVAE, RefinedVAEConfig
from cell_clustering.modelling.models.vae import VAE, VAEConfig

MODELS = {
    "vae": (VAE, VAEConfig),
    "cvae": (ConditionalVAE, ConditionalVAEConfig),
    "refined_vae": (RefinedVAE, RefinedVAEConfig),
}

__all__ = [
    "MODELS",
    "VAE",
    "ConditionalVAE",
    "ConditionalVAEConfig",
    "RefinedVAE",
    "RefinedVAEConfig",
    "VAEConfig",
]
