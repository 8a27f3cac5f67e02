"""Wiring of the ``evaluation`` pipeline."""

from kedro.pipeline import Pipeline, node, pipeline

from cell_clustering.pipelines.evaluation.nodes import cluster_latents


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                cluster_latents,
                inputs=["latents", "patch_metadata", "params:evaluation"],
                outputs=["cluster_assignments", "clustering_metrics", "clustering_metrics_mlflow"],
                name="cluster_latents",
            )
        ]
    )
