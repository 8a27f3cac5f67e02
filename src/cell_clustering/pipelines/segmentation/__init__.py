"""The ``segmentation`` pipeline."""

from cell_clustering.pipelines.segmentation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
