"""The views a self-supervised model draws follow the declared invariances."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cell_clustering.modelling.augment import AugmentConfig, augment
from cell_clustering.modelling.factory import model_config
from cell_clustering.parameters import ModellingParams

NONE = AugmentConfig(flips="none", rotation_deg=0, shift=0, scale=0)


def _images(seed: int = 0) -> torch.Tensor:
    images = torch.zeros(8, 1, 24, 24)
    rng = np.random.default_rng(seed)
    for image in images:  # an off-centre, asymmetric blob: a flip or turn moves it
        row, col = rng.integers(3, 10, 2)
        image[0, row:row + 9, col:col + 5] = 1.0
    return images


def test_no_declared_invariance_gives_the_images_back():
    images = _images()
    assert torch.equal(augment(images, NONE, torch.Generator().manual_seed(0)), images)


def test_without_flips_or_turns_a_shape_is_never_mirrored():
    images = _images()
    views = augment(images, AugmentConfig(flips="none", rotation_deg=0, shift=0, scale=0, noise=0.0, intensity=0.3),
                    torch.Generator().manual_seed(0))
    # Only the brightness changed (gain 0.7-1.3): every blob is where it was.
    assert torch.equal(views > 0.5, images > 0.5)


def test_flips_mirror_some_views():
    images = _images()
    views = augment(images, AugmentConfig(flips="both", rotation_deg=0, shift=0, scale=0), torch.Generator().manual_seed(0))
    assert not torch.allclose(views, images, atol=1e-4)
    for view, image in zip(views, images, strict=True):  # (the identity resampling is exact to float error)
        candidates = (image, image.flip(-1), image.flip(-2), image.flip(-1).flip(-2))
        assert any(torch.allclose(view, candidate, atol=1e-4) for candidate in candidates)


@pytest.mark.parametrize("option", [{"intensity": 0.3}, {"blur_sigma": 1.5}, {"noise": 0.1}])
def test_photometric_views_stay_in_range_and_keep_the_mass_where_it_was(option):
    images = _images()
    views = augment(images, AugmentConfig(flips="none", rotation_deg=0, shift=0, scale=0, **option), torch.Generator().manual_seed(1))
    assert views.shape == images.shape and not torch.equal(views, images)
    assert float(views.min()) >= 0 and float(views.max()) <= 1 + 1e-6
    inside = images > 0
    assert float(views[inside].mean()) > float(views[~inside].mean()) + 0.3


def test_the_same_generator_seed_gives_the_same_views():
    config = AugmentConfig(intensity=0.2, blur_sigma=1.0, noise=0.05)
    first = augment(_images(), config, torch.Generator().manual_seed(3))
    assert torch.equal(first, augment(_images(), config, torch.Generator().manual_seed(3)))


def test_the_contrastive_model_reads_the_declared_invariances():
    params = ModellingParams(model_type="contrastive", invariances={"flips": "none", "rotation_deg": 5.0, "noise": 0.02})
    config = model_config(params, patch_size=28, in_channels=1, n_conditions=1)
    assert config.augmentation == AugmentConfig(flips="none", rotation_deg=5.0, shift=0.08, scale=0.4, noise=0.02)


def test_left_right_flips_mirror_columns_only():
    images = _images()
    views = augment(images, AugmentConfig(flips="left_right", rotation_deg=0, shift=0, scale=0), torch.Generator().manual_seed(0))
    mirrored = [not torch.allclose(v, i, atol=1e-4) for v, i in zip(views, images, strict=True)]
    assert any(mirrored)
    for view, image in zip(views, images, strict=True):
        assert torch.allclose(view, image, atol=1e-4) or torch.allclose(view, image.flip(-1), atol=1e-4)


def test_the_vae_familys_default_augmentation_changes_nothing_and_draws_nothing():
    # training.augment (flips: false, no rotation, shift or scale) must leave the batches
    # and the generator alone, as before the invariances existed.
    config = AugmentConfig(**ModellingParams().training.augment.model_dump())
    generator = torch.Generator().manual_seed(0)
    images = _images()
    assert config.flips == "none" and config.is_identity
    assert torch.equal(augment(images, config, generator), images)
    assert torch.equal(torch.rand(3, generator=generator), torch.rand(3, generator=torch.Generator().manual_seed(0)))
