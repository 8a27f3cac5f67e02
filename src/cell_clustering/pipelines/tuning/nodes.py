"""Nodes of the ``tuning`` pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import evaluation, tuning
from cell_clustering.parameters import EvaluationParams, ModellingParams, TuningParams


def tune_hyperparameters(
    patches: np.ndarray,
    patch_metadata: pd.DataFrame,
    patch_truth: pd.DataFrame,
    params: TuningParams,
    modelling: ModellingParams,
    evaluation_params: EvaluationParams,
) -> tuple[pd.DataFrame, dict[str, Any], list[dict[str, Any]]]:
    """Search the modelling parameters with Optuna (see :mod:`cell_clustering.tuning`).

    Returns
    -------
    trials : pandas.DataFrame
        One row per trial: the values drawn, the objective and every score.
    best : dict
        The objective, whether it used labels, the best value and parameters.
    mlflow_runs : list of dict
        One nested MLflow run per trial.
    """
    shape_classes = evaluation.shape_classes_of(patch_truth, len(patch_metadata))
    data = (patches, patch_metadata["condition"].to_numpy(), shape_classes)
    study = tuning.tune(data, (modelling, evaluation_params, params))
    on_labels = params.objective == "shape_accuracy"
    trials = pd.DataFrame(
        [{"trial": t.number, **t.params, "objective": params.objective, "value": t.value, **t.user_attrs} for t in study.trials]
    )
    best = {
        "objective": params.objective, "optimised_on_labels": on_labels, "direction": tuning.DIRECTIONS[params.objective],
        "best_trial": study.best_trial.number, "best_value": study.best_value, "best_params": study.best_params,
    }
    tags = {"cell_clustering.tuning_objective": params.objective, "cell_clustering.optimised_on_labels": str(on_labels).lower()}
    runs = [
        {
            "run_name": f"tuning-trial-{t.number}",
            "params": {**t.params, "model_type": modelling.model_type},
            "metrics": {name: float(value) for name, value in {"value": t.value, **t.user_attrs}.items() if value is not None},
            "tags": tags,
        }
        for t in study.trials
    ]
    return trials, best, runs
