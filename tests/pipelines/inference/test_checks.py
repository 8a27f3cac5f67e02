"""A new plate that does not fit the trained run is refused, naming what differs."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from cell_clustering.inference import model_card
from cell_clustering.parameters import (
    InferenceParams,
    PatchingParams,
    PreprocessingParams,
    SegmentationParams,
)
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
