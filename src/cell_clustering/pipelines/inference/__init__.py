"""The ``inference`` pipeline: new fields into the clusters of a trained run, without training."""

from cell_clustering.pipelines.inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
