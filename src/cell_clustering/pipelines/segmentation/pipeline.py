"""Wiring of the ``segmentation`` pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_clustering.pipelines.segmentation.nodes import (
    choose_segmentation_method,
    count_cells_per_field,
    evaluate_segmentation,
    map_masks_to_raw_frame,
    plot_segmentation,
    segment_fields,
    split_fields,
    train_cellpose,
    write_cellpose_gui_files,
)


def _raw_frame_nodes() -> list[Node]:
    """The masks back in the raw images' frame, and as Cellpose GUI files."""
    return [
        Node(
            map_masks_to_raw_frame,
            inputs=["predicted_masks", "field_table", "params:preprocessing", "params:compute"],
            outputs="raw_frame_masks",
            name="map_masks_to_raw_frame",
        ),
        Node(
            write_cellpose_gui_files,
            inputs=["raw_frame_masks", "field_table"],
            outputs="cellpose_gui_masks",
            name="write_cellpose_gui_files",
        ),
    ]


def _quality_nodes() -> list[Node]:
    """Cells per field, quality against the annotations, and the outline figure."""
    return [
        Node(
            count_cells_per_field,
            inputs=["predicted_masks", "segmentation_method"],
            outputs="cells_per_field",
            name="count_cells_per_field",
        ),
        Node(
            evaluate_segmentation,
            inputs=[
                "preprocessed_images", "predicted_masks", "rotated_masks", "segmentation_split",
                "segmentation_method", "params:segmentation",
            ],
            outputs=["segmentation_quality", "segmentation_quality_mlflow"],
            name="evaluate_segmentation",
        ),
        Node(
            plot_segmentation,
            inputs=["preprocessed_images", "predicted_masks", "rotated_masks", "segmentation_split", "params:segmentation"],
            outputs="segmentation_figure@figure",
            name="plot_segmentation",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                split_fields,
                inputs=["preprocessed_images", "rotated_masks", "params:segmentation"],
                outputs="segmentation_split",
                name="split_annotated_fields",
            ),
            Node(
                choose_segmentation_method,
                inputs=["segmentation_split", "params:segmentation"],
                outputs="segmentation_method",
                name="choose_segmentation_method",
            ),
            Node(
                train_cellpose,
                inputs=[
                    "preprocessed_images", "rotated_masks", "segmentation_split", "segmentation_method",
                    "params:segmentation", "preprocessed_nuclei",
                ],
                outputs=["cellpose_model", "cellpose_training_history"],
                name="train_cellpose",
            ),
            Node(
                segment_fields,
                inputs=[
                    "preprocessed_images", "cellpose_model", "segmentation_method", "field_table",
                    "params:segmentation", "params:compute", "preprocessed_nuclei",
                ],
                outputs="predicted_masks",
                name="segment_fields",
            ),
            *_raw_frame_nodes(),
            *_quality_nodes(),
        ]
    )
