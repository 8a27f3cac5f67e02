"""Wiring of the ``tuning`` pipeline: ``kedro run --pipelines=tuning`` after patching."""

from kedro.pipeline import Node, Pipeline

from cell_clustering.pipelines.tuning.nodes import tune_hyperparameters


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                tune_hyperparameters,
                inputs=["patches", "patch_metadata", "patch_truth", "params:tuning", "params:modelling", "params:evaluation"],
                outputs=["tuning_trials", "tuning_best", "tuning_mlflow_runs"],
                name="tune_hyperparameters",
            )
        ]
    )
