"""PyTorch models, free of Kedro: one module per model, a config dataclass each."""

from cell_clustering.models.vae import VAE, VAEConfig

MODELS = {"vae": (VAE, VAEConfig)}

__all__ = ["MODELS", "VAE", "VAEConfig"]
