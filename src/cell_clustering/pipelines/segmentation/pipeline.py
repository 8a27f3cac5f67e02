"""Wiring of the ``segmentation`` pipeline."""

from kedro.pipeline import Pipeline, node, pipeline

from cell_clustering.pipelines.segmentation.nodes import segment_fields


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                segment_fields,
                inputs=["preprocessed_images", "params:segmentation"],
                outputs="predicted_masks",
                name="segment_fields",
            )
        ]
    )
