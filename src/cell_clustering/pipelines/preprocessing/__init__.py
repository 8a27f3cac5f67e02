"""The ``preprocessing`` pipeline."""

from cell_clustering.pipelines.preprocessing.pipeline import create_pipeline

__all__ = ["create_pipeline"]
