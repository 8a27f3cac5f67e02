"""Wiring of the ``patching`` pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_clustering.pipelines.patching.nodes import (
    count_against_truth,
    extract_patches,
    match_cells_to_truth,
    plot_patch_grid,
    study_cell_sizes,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                extract_patches,
                inputs=["preprocessed_images", "predicted_masks", "field_table", "params:patching", "params:compute"],
                outputs=["patches", "patch_metadata", "cell_table"],
                name="extract_patches",
            ),
            Node(
                study_cell_sizes,
                inputs=["cell_table", "params:patching"],
                outputs=["cell_size_suggestion", "cell_size_figure@figure"],
                name="study_cell_sizes",
            ),
            Node(
                plot_patch_grid,
                inputs=["patches", "patch_metadata", "params:patching"],
                outputs="patch_grid_figure@figure",
                name="plot_patch_grid",
            ),
            Node(
                match_cells_to_truth,
                inputs=["patch_metadata", "predicted_masks", "rotated_masks", "demo_cells"],
                outputs="patch_truth",
                name="match_cells_to_truth",
            ),
            Node(
                count_against_truth,
                inputs=["cell_table", "rotated_masks", "field_table", "params:patching"],
                outputs="patch_counts",
                name="count_patches_against_truth",
            ),
        ]
    )
