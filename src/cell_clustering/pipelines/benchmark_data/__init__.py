"""The ``benchmark_data`` pipeline: MNIST and FashionMNIST as IDX files, offline."""

from cell_clustering.pipelines.benchmark_data.pipeline import create_pipeline

__all__ = ["create_pipeline"]
