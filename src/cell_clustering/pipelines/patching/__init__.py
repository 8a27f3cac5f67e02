"""The ``patching`` pipeline."""

from cell_clustering.pipelines.patching.pipeline import create_pipeline

__all__ = ["create_pipeline"]
