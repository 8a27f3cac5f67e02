"""Slice test of the ``modelling`` pipeline: train, then encode every patch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cell_clustering.pipelines.modelling import create_pipeline
from tests.parameters import block
from tests.pipelines.slices import run_slice


@pytest.mark.parametrize("model_type", ["vae", "cvae", "refined_vae", "contrastive"])
def test_modelling_pipeline_trains_and_encodes_every_patch(model_type):
    rng = np.random.default_rng(0)
    patches = rng.uniform(size=(40, 1, 28, 28)).astype(np.float32)
    metadata = pd.DataFrame({"field": "c/f", "condition": np.where(np.arange(40) % 2, "control", "Rac1"), "cell_label": range(40)})
    params = block("modelling", model_type=model_type, model={"latent_dim": 4}, vae={"feature_dim": 16}, contrastive={"width": 4},
                   refined_vae={"alpha": 2}, training={"epochs": 2, "min_updates": 0, "batch_size": 8, "progress_bar": False})
    outputs = run_slice(create_pipeline(), {"patches": patches, "patch_metadata": metadata, "params:modelling": params})
    assert outputs["trained_model"]["model"] == model_type
    assert outputs["latents"].shape == (40, 4)
    assert [point["step"] for point in outputs["training_history"]["train_total"]] == [0, 1]
