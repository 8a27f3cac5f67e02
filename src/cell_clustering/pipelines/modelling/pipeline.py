"""Wiring of the ``modelling`` pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_clustering.pipelines.modelling.nodes import (
    encode_patches,
    plot_training_curves,
    train_model,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                train_model,
                inputs=["patches", "patch_metadata", "params:modelling"],
                outputs=["trained_model", "training_history"],
                name="train_model",
            ),
            Node(plot_training_curves, inputs="training_history", outputs="training_curves@figure", name="plot_training_curves"),
            Node(
                encode_patches,
                inputs=["trained_model", "patches", "patch_metadata"],
                outputs="latents",
                name="encode_patches",
            ),
        ]
    )
