"""The ``benchmark`` pipeline: the seed's MNIST / FashionMNIST clustering tables."""

from cell_clustering.pipelines.benchmark.pipeline import create_pipeline

__all__ = ["create_pipeline"]
