"""Tests of the VAE, its loss and the training loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from cell_clustering.models import VAE, VAEConfig
from cell_clustering.models.losses import kl_to_standard_normal, vae_loss
from cell_clustering.pipelines.modelling.nodes import encode_patches, train_model
from cell_clustering.training import TrainingConfig, train


@pytest.mark.parametrize("patch_size", [28, 64, 96])
def test_output_shapes(patch_size):
    model = VAE(VAEConfig(patch_size=patch_size, latent_dim=8, feature_dim=32))
    images = torch.rand(3, 1, patch_size, patch_size)
    logits, mu, logvar = model(images)
    assert logits.shape == images.shape
    assert mu.shape == logvar.shape == (3, 8)


def test_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(dim=1)
    torch.testing.assert_close(kl_to_standard_normal(mu, logvar), expected)


def test_loss_is_reconstruction_plus_beta_kl():
    torch.manual_seed(1)
    logits, target = torch.randn(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    mu, logvar = torch.randn(2, 3), torch.randn(2, 3)
    loss = vae_loss(logits, target, mu, logvar, beta=2.5, reconstruction="mse")
    torch.testing.assert_close(loss.total, loss.reconstruction + 2.5 * loss.kl)
    with pytest.raises(ValueError, match="reconstruction"):
        vae_loss(logits, target, mu, logvar, reconstruction="l1")


def _blobs(n=48, size=28, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    data = np.zeros((n, 1, size, size), np.float32)
    for i in range(n):
        r, c, s = rng.uniform(8, 20), rng.uniform(8, 20), rng.uniform(2, 5)
        data[i, 0] = np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * s**2))
    return data


def test_loss_decreases_on_a_tiny_fixed_dataset():
    torch.manual_seed(0)
    model = VAE(VAEConfig(patch_size=28, latent_dim=4, feature_dim=32))
    history = train(model, _blobs(), TrainingConfig(epochs=8, batch_size=16, validation_fraction=0.0, learning_rate=3e-3))
    assert history["train_total"][-1] < 0.7 * history["train_total"][0]


PARAMS = {
    "model_type": "vae",
    "model": {"latent_dim": 4, "feature_dim": 32, "beta": 1.0, "reconstruction": "bce"},
    "training": {"epochs": 2, "batch_size": 16, "learning_rate": 1e-3, "weight_decay": 1e-4,
                 "validation_fraction": 0.25, "seed": 7},
}


def test_same_seed_gives_identical_weights_and_metrics():
    first, history_1 = train_model(_blobs(), PARAMS)
    second, history_2 = train_model(_blobs(), PARAMS)
    assert history_1 == history_2
    for name, tensor in first["state_dict"].items():
        torch.testing.assert_close(tensor, second["state_dict"][name], rtol=0, atol=0)
    assert set(history_1) == {f"{split}_{part}" for split in ("train", "validation") for part in ("total", "reconstruction", "kl")}


def test_encoding_is_aligned_and_deterministic():
    checkpoint, _ = train_model(_blobs(), PARAMS)
    latents = encode_patches(checkpoint, _blobs())
    assert latents.shape == (48, 4) and latents.dtype == np.float32
    np.testing.assert_array_equal(latents, encode_patches(checkpoint, _blobs()))


def test_unknown_model_type_is_a_clear_error():
    with pytest.raises(ValueError, match="model_type 'gan'"):
        train_model(_blobs(), {**PARAMS, "model_type": "gan"})
