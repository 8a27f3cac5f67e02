"""Artifacts and metrics logged to the active MLflow run."""

from __future__ import annotations

import logging

import mlflow

logger = logging.getLogger(__name__)


def active_run_id() -> str | None:
    """The id of the active MLflow run, or None outside a tracked run."""
    run = mlflow.active_run()
    return run.info.run_id if run is not None else None


def log_artifact(path: str, folder: str) -> None:
    """Log the file at ``path`` under the artifact folder ``folder`` of the active run."""
    mlflow.log_artifact(path, artifact_path=folder)
    logger.info("Logged '%s' to MLflow as an artifact under '%s'.", path, folder)


def log_metric(name: str, value: float) -> None:
    """Log one metric to the active run."""
    mlflow.log_metric(name, value)
