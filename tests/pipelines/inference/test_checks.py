"""A new plate that does not fit the trained run is refused, naming what differs, and
new cells unlike the training cells are flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from cell_clustering.inference import model_card
from cell_clustering.parameters import (
    EvaluationParams,
    InferenceParams,
    PatchingParams,
    PreprocessingParams,
    SegmentationParams,
)
from cell_clustering.pipelines.evaluation.chain_nodes import save_trained_chain
from cell_clustering.pipelines.inference.nodes import (
    assign_to_trained_clusters,
    check_new_plate,
)

PARAMS = {"preprocessing": PreprocessingParams(), "segmentation": SegmentationParams(), "patching": PatchingParams()}


def _fields(pixel_size: float = 0.65, axes: str = "YX", channel: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {"field": ["control/f0", "Rac1/f0"], "condition": ["control", "Rac1"], "status": ["ok", "ok"],
         "axes": [axes, axes], "channel": [channel, channel], "pixel_size_um": [0.65, pixel_size]}
    )


@pytest.fixture
def card() -> dict:
    return {"parameters": model_card.processing_parameters(PARAMS), "fields": model_card.field_layout(_fields())}


def _check(fields: pd.DataFrame, card: dict, **changed) -> pd.DataFrame:
    params = {**PARAMS, **changed}
    return check_new_plate(fields, card, params["preprocessing"], params["segmentation"], params["patching"], InferenceParams())


def test_a_plate_like_the_training_plate_passes(card):
    fields = _fields()
    assert _check(fields, card) is fields


def test_a_changed_processing_parameter_is_named_with_its_trained_value(card):
    changed = PatchingParams(patch_size=64)
    with pytest.raises(ValueError, match=r"patching.patch_size = 64 \(trained with 40\)"):
        _check(_fields(), card, patching=changed)


def test_a_training_only_parameter_may_differ(card):
    longer_training = SegmentationParams(training={"updates": 999})
    _check(_fields(), card, segmentation=longer_training)


def test_another_pixel_size_is_refused_not_resized(card):
    with pytest.raises(ValueError, match=r"Rac1/f0: pixel size 0.325 µm, trained on 0.65-0.65 µm"):
        _check(_fields(pixel_size=0.325), card)


def test_another_channel_layout_is_refused(card):
    with pytest.raises(ValueError, match=r"channel layout CYX/1, trained on YX/0"):
        _check(_fields(axes="CYX", channel=1), card)


def test_a_model_of_another_run_is_refused():
    checkpoint = {"model": "contrastive", "state_dict": {"weight": torch.ones(2, 2)}}
    other = {"model": "contrastive", "state_dict": {"weight": torch.zeros(2, 2)}}
    card = {"model_fingerprint": model_card.fingerprint(other), "n_training_cells": 1}
    metadata = pd.DataFrame({"field": ["f"], "cell_label": [1], "condition": ["control"]})
    reference = pd.DataFrame({"field": ["f"], "cell_label": [1], "latent_0": [0.0], "cluster_k2": [0]})
    with pytest.raises(ValueError, match="not of one trained run.*--load-versions"):
        assign_to_trained_clusters(checkpoint, torch.zeros(1, 1).numpy(), metadata, reference, card)


def _training_run(rng: np.random.Generator, n_cells: int = 120) -> tuple[dict, np.ndarray, pd.DataFrame]:
    """A trained run's chain (checkpoint, reference, card) from blob latents and cells of
    ordinary measurements."""
    latents = rng.normal(0, 1, (n_cells, 4)).astype(np.float32)
    table = pd.DataFrame({"field": "control/f0", "condition": "control", "cell_label": np.arange(1, n_cells + 1)})
    table["cluster_k2"], table["cluster_k3"] = (latents[:, 0] > 0).astype(int), np.digitize(latents[:, 1], [-0.5, 0.5])
    metadata = _measured(table[["field", "condition", "cell_label"]], rng)
    checkpoint = {"model": "contrastive", "state_dict": {"weight": torch.ones(2, 2)}}
    reference, card = save_trained_chain(
        checkpoint, latents, table, metadata, _fields(), *PARAMS.values(), EvaluationParams(n_clusters=[2, 3], report={"k": 3}),
        InferenceParams(n_neighbors=10),
    )
    return checkpoint, reference, card


def _measured(cells: pd.DataFrame, rng: np.random.Generator, scale: float = 1.0) -> pd.DataFrame:
    """``cells`` with every drift measurement, sizes multiplied by ``scale``."""
    sizes = {"area_um2": 400.0 * scale**2, "perimeter_um": 80.0 * scale, "major_axis_length_um": 30.0 * scale, "minor_axis_length_um": 18.0 * scale}
    shapes = {"eccentricity": 0.8, "solidity": 0.95, "extent": 0.75, "mean_intensity": 0.45}
    noisy = {name: value * rng.normal(1, 0.1, len(cells)) for name, value in {**sizes, **shapes}.items()}
    return cells.assign(**noisy)


def test_cells_of_ordinary_latents_but_foreign_size_are_flagged_by_their_measurements():
    rng = np.random.default_rng(0)
    checkpoint, reference, card = _training_run(rng)
    new = pd.DataFrame({"field": "control/f1", "condition": "control", "cell_label": np.arange(1, 41)})
    ordinary, giant = _measured(new[:20], rng), _measured(new[20:], rng, scale=4.0)
    latents = rng.normal(0, 1, (40, 4)).astype(np.float32)  # drawn as the training latents
    placed = assign_to_trained_clusters(checkpoint, latents, pd.concat([ordinary, giant], ignore_index=True), reference, card)
    assert {"cluster_k2", "cluster_k3"} <= set(placed) and placed["out_of_distribution_latent"].mean() <= 0.1
    assert placed["out_of_distribution_measurements"].to_numpy()[20:].all()
    assert placed["out_of_distribution_measurements"].to_numpy()[:20].mean() <= 0.1
    assert placed["out_of_distribution"].equals(placed["out_of_distribution_latent"] | placed["out_of_distribution_measurements"])
