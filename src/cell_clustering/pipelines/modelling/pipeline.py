"""Wiring of the ``modelling`` pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_clustering.pipelines.modelling.nodes import encode_patches, train_model


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                train_model,
                inputs=["patches", "patch_metadata", "params:modelling"],
                outputs=["trained_model", "training_history"],
                name="train_model",
            ),
            Node(
                encode_patches,
                inputs=["trained_model", "patches", "patch_metadata"],
                outputs="latents",
                name="encode_patches",
            ),
        ]
    )
