"""The ``demo_data`` pipeline: a synthetic dataset with ground truth."""

from cell_clustering.pipelines.demo_data.pipeline import create_pipeline

__all__ = ["create_pipeline"]
