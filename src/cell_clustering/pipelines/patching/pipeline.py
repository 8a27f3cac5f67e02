"""Wiring of the ``patching`` pipeline."""

from kedro.pipeline import Pipeline, node, pipeline

from cell_clustering.pipelines.patching.nodes import extract_patches


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                extract_patches,
                inputs=["preprocessed_images", "predicted_masks", "params:patching"],
                outputs=["patches", "patch_metadata", "cell_table"],
                name="extract_patches",
            )
        ]
    )
