"""The ``tuning`` pipeline: hyperparameter search over the modelling parameters."""

from cell_clustering.pipelines.tuning.pipeline import create_pipeline

__all__ = ["create_pipeline"]
