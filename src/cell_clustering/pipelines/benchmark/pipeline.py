"""Wiring of the ``benchmark`` pipeline: ``kedro run --pipelines=benchmark``.

Reads the IDX files written by ``benchmark_data`` (or dropped by the user) for each
dataset, trains every model × latent size of the grid on the training split, and
clusters the test split with the heads of the evaluation pipeline. The β sweep trains
one model per β on MNIST with the same node.
"""

from functools import partial

from kedro.pipeline import Node, Pipeline

from cell_clustering.pipelines.benchmark.nodes import (
    beta_sweep_cells,
    grid_cells,
    prepare_benchmark_split,
    summarise_benchmark,
    summarise_beta_sweep,
    train_and_score_cells,
)

DATASETS = ("mnist", "fashion_mnist")
BETA_SWEEP_DATASET = "mnist"


def _splits(name: str) -> list[str]:
    return [f"{name}_train_patches", f"{name}_train_metadata", f"{name}_test_patches", f"{name}_test_metadata"]


def _dataset_nodes(name: str) -> list[Node]:
    splits = [
        Node(
            prepare_benchmark_split,
            inputs=[f"{name}_{split}_images", f"{name}_{split}_labels", f"params:benchmark.max_{split}_samples"],
            outputs=[f"{name}_{split}_patches", f"{name}_{split}_metadata"],
            name=f"prepare_{name}_{split}",
        )
        for split in ("train", "test")
    ]
    grid = Node(
        partial(train_and_score_cells, dataset=name),
        inputs=[*_splits(name), "params:benchmark", "benchmark_grid_cells"],
        outputs=f"{name}_benchmark_results",
        name=f"benchmark_grid_{name}",
    )
    return [*splits, grid]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(grid_cells, inputs="params:benchmark", outputs="benchmark_grid_cells", name="list_benchmark_grid"),
            Node(beta_sweep_cells, inputs="params:benchmark", outputs="beta_sweep_cells", name="list_beta_sweep"),
            *[n for name in DATASETS for n in _dataset_nodes(name)],
            Node(
                summarise_benchmark,
                inputs={"params": "params:benchmark", **{name: f"{name}_benchmark_results" for name in DATASETS}},
                outputs=["benchmark_table", "benchmark_table_markdown", "benchmark_mlflow_runs"],
                name="summarise_benchmark",
            ),
            Node(
                partial(train_and_score_cells, dataset=BETA_SWEEP_DATASET),
                inputs=[*_splits(BETA_SWEEP_DATASET), "params:benchmark", "beta_sweep_cells"],
                outputs="beta_sweep_results",
                name="beta_sweep",
            ),
            Node(
                summarise_beta_sweep,
                inputs={"params": "params:benchmark", BETA_SWEEP_DATASET: "beta_sweep_results"},
                outputs=["beta_sweep_table", "beta_sweep_figure", "beta_sweep_mlflow_runs"],
                name="summarise_beta_sweep",
            ),
        ]
    )
