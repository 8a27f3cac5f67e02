"""Project hooks."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io.core import AbstractVersionedDataset

logger = logging.getLogger(__name__)


class MlflowArtifactHook:
    """Log the file of every dataset whose catalog metadata says ``mlflow_artifact``.

    kedro-mlflow's ``MlflowArtifactDataset`` cannot wrap a versioned dataset with
    Kedro 1.7 (its own save version clashes with the catalog's when the catalog is
    built), so versioned outputs are declared with plain dataset types and

        metadata: {mlflow_artifact: <artifact folder>}

    and this hook logs the exact file that was just written to the active run.
    """

    def __init__(self) -> None:
        self._catalog: Any = None

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog = catalog

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        import mlflow

        if self._catalog is None or mlflow.active_run() is None:
            return
        dataset = self._catalog.get(dataset_name)
        artifact_path = (getattr(dataset, "metadata", None) or {}).get("mlflow_artifact")
        if not artifact_path:
            return
        if isinstance(dataset, AbstractVersionedDataset):
            path = dataset._get_load_path()  # the version just written
        else:
            path = dataset._filepath
        mlflow.log_artifact(str(path), artifact_path=str(artifact_path))
        logger.info("Logged '%s' to MLflow as an artifact under '%s'.", path, artifact_path)
