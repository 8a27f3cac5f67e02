"""Wiring of the ``benchmark`` pipeline: ``kedro run --pipelines=benchmark``.

Reads the IDX files written by ``benchmark_data`` (or dropped by the user) for each
dataset, trains every model × latent size of the grid on the training split, and
clusters the test split with the evaluation pipeline's node.
"""

from kedro.pipeline import Pipeline, node, pipeline

from cell_clustering.pipelines.benchmark.nodes import (
    prepare_benchmark_split,
    run_benchmark_grid,
    run_beta_sweep,
    summarise_benchmark,
    summarise_beta_sweep,
)

DATASETS = ("mnist", "fashion_mnist")
BETA_SWEEP_DATASET = "mnist"


def _dataset_nodes(name: str) -> list:
    splits = [
        node(
            prepare_benchmark_split,
            inputs=[f"{name}_{split}_images", f"{name}_{split}_labels", f"params:benchmark.max_{split}_samples"],
            outputs=[f"{name}_{split}_patches", f"{name}_{split}_metadata"],
            name=f"prepare_{name}_{split}",
        )
        for split in ("train", "test")
    ]
    data = [f"{name}_train_patches", f"{name}_train_metadata", f"{name}_test_patches", f"{name}_test_metadata"]
    grid = node(run_benchmark_grid, inputs=[*data, "params:benchmark"], outputs=f"{name}_benchmark_results", name=f"benchmark_grid_{name}")
    return [*splits, grid]


def create_pipeline(**kwargs) -> Pipeline:
    sweep_data = [f"{BETA_SWEEP_DATASET}_{part}" for part in ("train_patches", "train_metadata", "test_patches", "test_metadata")]
    return pipeline(
        [
            *[n for name in DATASETS for n in _dataset_nodes(name)],
            node(
                summarise_benchmark,
                inputs={"params": "params:benchmark", **{name: f"{name}_benchmark_results" for name in DATASETS}},
                outputs=["benchmark_table", "benchmark_table_markdown", "benchmark_mlflow_runs"],
                name="summarise_benchmark",
            ),
            node(run_beta_sweep, inputs=[*sweep_data, "params:benchmark"], outputs="beta_sweep_results", name="beta_sweep"),
            node(
                summarise_beta_sweep,
                inputs={"params": "params:benchmark", BETA_SWEEP_DATASET: "beta_sweep_results"},
                outputs=["beta_sweep_table", "beta_sweep_figure", "beta_sweep_mlflow_runs"],
                name="summarise_beta_sweep",
            ),
        ]
    )
