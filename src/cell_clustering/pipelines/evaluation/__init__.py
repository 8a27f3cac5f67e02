"""The ``evaluation`` pipeline."""

from cell_clustering.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
