"""Wiring of the ``demo_data`` pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_clustering.pipelines.demo_data.nodes import generate_demo_data


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                generate_demo_data,
                inputs="params:demo_data",
                outputs=["raw_images", "raw_masks", "demo_fields", "demo_cells"],
                name="generate_demo_data",
            )
        ]
    )
