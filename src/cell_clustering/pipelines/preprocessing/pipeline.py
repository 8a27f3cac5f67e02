"""Wiring of the ``preprocessing`` pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_clustering.pipelines.preprocessing.nodes import (
    annotate_fields,
    compare_angles,
    measure_fields,
    plot_before_after,
    preprocess_fields,
    preprocess_nuclei,
    rotate_masks,
    summarise_preprocessing,
)


def _report_nodes() -> list[Node]:
    """The before/after figure and the MLflow metrics."""
    return [
        Node(
            plot_before_after,
            inputs=["raw_images", "preprocessed_images", "field_table", "params:preprocessing"],
            outputs="preprocessing_figure@figure",
            name="plot_before_after",
        ),
        Node(summarise_preprocessing, inputs="field_table", outputs="preprocessing_metrics", name="summarise_preprocessing"),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                measure_fields,
                inputs=["raw_images", "params:preprocessing", "params:compute"],
                outputs="measured_fields",
                name="measure_fields",
            ),
            Node(
                annotate_fields,
                inputs=["measured_fields", "plate_map"],
                outputs="annotated_fields",
                name="annotate_fields",
            ),
            Node(
                compare_angles,
                inputs=["annotated_fields", "demo_fields"],
                outputs="field_table",
                name="compare_angles_with_truth",
            ),
            Node(
                preprocess_fields,
                inputs=["raw_images", "field_table", "params:preprocessing", "params:compute"],
                outputs="preprocessed_images",
                name="preprocess_fields",
            ),
            Node(
                preprocess_nuclei,
                inputs=["raw_images", "field_table", "params:preprocessing", "params:compute"],
                outputs="preprocessed_nuclei",
                name="preprocess_nuclei",
            ),
            Node(
                rotate_masks,
                inputs=["raw_masks", "raw_annotations_seg", "field_table", "params:preprocessing", "params:compute"],
                outputs="rotated_masks",
                name="rotate_ground_truth_masks",
            ),
            *_report_nodes(),
        ]
    )
