"""Hyperparameter search (Optuna) over the modelling parameters.

Each trial trains a model with parameters drawn from the search space, encodes the
cells and scores the result. The default objective needs no labels: the stability
of the reported clustering across seeds (mean pairwise adjusted Rand index). Label
metrics against the planted shapes are recorded for every trial but optimised only
when the user explicitly asks for it on a labelled benchmark.
"""

from __future__ import annotations

import logging

import numpy as np
import optuna

from cell_clustering import evaluation, modelling
from cell_clustering.parameters import EvaluationParams, ModellingParams, TuningParams
from cell_clustering.parameters.modelling import VAE_FAMILY

logger = logging.getLogger(__name__)

DIRECTIONS = {"stability": "maximize", "validation_loss": "minimize", "shape_accuracy": "maximize"}


def suggest(trial: optuna.Trial, base: ModellingParams, tuning: TuningParams) -> ModellingParams:
    """The modelling parameters of one trial: ``base`` with the searched values drawn."""
    search, raw = tuning.search, base.model_dump()
    raw["model"]["latent_dim"] = trial.suggest_categorical("latent_dim", search.latent_dim)
    if search.min_updates is not None:
        span = search.min_updates
        raw["training"]["min_updates"] = trial.suggest_int("min_updates", span.low, span.high, log=span.log)
    if search.learning_rate is not None:
        span = search.learning_rate
        raw["training"]["learning_rate"] = trial.suggest_float("learning_rate", span.low, span.high, log=span.log)
    if search.temperature is not None and base.model_type == "contrastive":
        span = search.temperature
        raw["contrastive"]["temperature"] = trial.suggest_float("temperature", span.low, span.high, log=span.log)
    if search.beta is not None and base.model_type in VAE_FAMILY:
        raw["vae"]["beta"] = trial.suggest_float("beta", search.beta.low, search.beta.high, log=search.beta.log)
    return ModellingParams.model_validate(raw)


def stability(clusterings: list[np.ndarray]) -> float:
    """Mean adjusted Rand index between every pair of the reported head's clusterings,
    one per seed (1: the clusters do not depend on the seed)."""
    if len(clusterings) < 2:
        return 1.0
    agreement = evaluation.pairwise_agreement(clusterings)
    return float(agreement[~np.eye(len(clusterings), dtype=bool)].mean())


def _shape_accuracy(clusterings: list[np.ndarray], shape_classes: np.ndarray | None) -> float | None:
    """Mean accuracy of the reported clusterings against the planted shapes (reported
    for every trial; optimised only on request)."""
    if shape_classes is None:
        return None
    matched = shape_classes != evaluation.UNMATCHED
    return float(np.mean([evaluation.hungarian_accuracy(shape_classes[matched], c[matched]) for c in clusterings]))


def run_trial(
    trial: optuna.Trial, data: tuple[np.ndarray, np.ndarray, np.ndarray | None], params: tuple[ModellingParams, EvaluationParams, TuningParams]
) -> float:
    """Train and score one trial; every score is kept as a user attribute."""
    patches, conditions, shape_classes = data
    base, evaluation_params, tuning = params
    trial_params = suggest(trial, base, tuning)
    checkpoint, history = modelling.fit_model(patches, conditions, trial_params)
    latents = modelling.encode(checkpoint, patches, conditions)
    clusterings = evaluation.seeded_clusterings(latents, evaluation_params)  # one UMAP per seed, used twice
    scores = {
        "stability": stability(clusterings),
        "validation_loss": float(np.min(history.get("validation_total", history["train_total"]))),
        "shape_accuracy": _shape_accuracy(clusterings, shape_classes),
    }
    for name, value in scores.items():
        trial.set_user_attr(name, value)
    logger.info("Trial %d %s: %s", trial.number, trial.params, scores)
    return scores[tuning.objective]


def tune(
    data: tuple[np.ndarray, np.ndarray, np.ndarray | None], params: tuple[ModellingParams, EvaluationParams, TuningParams]
) -> optuna.Study:
    """Run ``tuning.n_trials`` trials (TPE sampler seeded by ``tuning.seed``)."""
    tuning = params[2]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=DIRECTIONS[tuning.objective], sampler=optuna.samplers.TPESampler(seed=tuning.seed))
    study.optimize(lambda trial: run_trial(trial, data, params), n_trials=tuning.n_trials)
    return study
