"""Wiring of the ``segmentation`` pipeline."""

from kedro.pipeline import Pipeline, node, pipeline

from cell_clustering.pipelines.segmentation.nodes import (
    evaluate_segmentation,
    plot_segmentation,
    segment_fields,
    split_fields,
    train_cellpose,
)


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                split_fields,
                inputs=["preprocessed_images", "rotated_masks", "params:segmentation"],
                outputs="segmentation_split",
                name="split_annotated_fields",
            ),
            node(
                train_cellpose,
                inputs=["preprocessed_images", "rotated_masks", "segmentation_split", "params:segmentation"],
                outputs=["cellpose_model", "cellpose_training_history"],
                name="train_cellpose",
            ),
            node(
                segment_fields,
                inputs=["preprocessed_images", "cellpose_model", "params:segmentation", "params:compute"],
                outputs="predicted_masks",
                name="segment_fields",
            ),
            node(
                evaluate_segmentation,
                inputs=["preprocessed_images", "predicted_masks", "rotated_masks", "segmentation_split", "params:segmentation"],
                outputs=["segmentation_quality", "segmentation_quality_mlflow"],
                name="evaluate_segmentation",
            ),
            node(
                plot_segmentation,
                inputs=["preprocessed_images", "predicted_masks", "rotated_masks", "segmentation_split", "params:segmentation"],
                outputs="segmentation_figure",
                name="plot_segmentation",
            ),
        ]
    )
