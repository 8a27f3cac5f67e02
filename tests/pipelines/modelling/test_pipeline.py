"""Slice test of the ``modelling`` pipeline: train, then encode every patch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cell_clustering.pipelines.modelling import create_pipeline
from cell_clustering.pipelines.modelling.nodes import plot_training_curves
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
    curves = outputs["training_curves@figure"]
    plotted = {axis.get_title(): {line.get_label(): list(line.get_ydata()) for line in axis.get_lines()} for axis in curves.axes}
    assert plotted["total"]["train"] == [point["value"] for point in outputs["training_history"]["train_total"]]
    assert plotted["total"]["validation"] == [point["value"] for point in outputs["training_history"]["validation_total"]]


def test_the_training_curves_read_back_from_mlflow_are_drawn_as_the_fresh_ones():
    # MLflow gives the names with the dataset's prefix, and a single point as a dict.
    fresh = {"train_total": [{"step": 0, "value": 2.0}, {"step": 1, "value": 1.0}], "validation_total": [{"step": 0, "value": 3.0}]}
    from_mlflow = {"training.train_total": fresh["train_total"], "training.validation_total": fresh["validation_total"][0]}
    drawn = [[list(line.get_ydata()) for line in plot_training_curves(history).axes[0].get_lines()] for history in (fresh, from_mlflow)]
    assert drawn[0] == drawn[1] == [[2.0, 1.0], [3.0]]
