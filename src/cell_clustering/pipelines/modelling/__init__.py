"""The ``modelling`` pipeline."""

from cell_clustering.pipelines.modelling.pipeline import create_pipeline

__all__ = ["create_pipeline"]
