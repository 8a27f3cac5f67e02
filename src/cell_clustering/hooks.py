"""Project hooks."""

from __future__ import annotations

import logging
import time
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io.core import AbstractVersionedDataset

logger = logging.getLogger(__name__)


class MlflowOutputsHook:
    """Log the file of every dataset whose catalog metadata says ``mlflow_artifact``,
    and the save time of partitioned datasets marked ``mlflow_throughput``.

    kedro-mlflow's ``MlflowArtifactDataset`` cannot wrap a versioned dataset with
    Kedro 1.7 (its own save version clashes with the catalog's when the catalog is
    built), so versioned outputs are declared with plain dataset types and

        metadata: {mlflow_artifact: <artifact folder>}

    and this hook logs the exact file that was just written to the active run.
    """

    def __init__(self) -> None:
        self._catalog: Any = None
        self._save_started: dict[str, float] = {}

    @hook_impl
    def after_catalog_created(self, catalog: Any) -> None:
        self._catalog = catalog

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        self._save_started[dataset_name] = time.perf_counter()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        import mlflow

        if self._catalog is None or mlflow.active_run() is None:
            return
        dataset = self._catalog.get(dataset_name)
        metadata = getattr(dataset, "metadata", None) or {}
        if metadata.get("mlflow_throughput") and isinstance(data, dict):
            self._log_throughput(dataset_name, str(metadata["mlflow_throughput"]), len(data))
        artifact_path = metadata.get("mlflow_artifact")
        if not artifact_path:
            return
        if isinstance(dataset, AbstractVersionedDataset):
            path = dataset._get_load_path()  # the version just written
        else:
            path = dataset._filepath
        mlflow.log_artifact(str(path), artifact_path=str(artifact_path))
        logger.info("Logged '%s' to MLflow as an artifact under '%s'.", path, artifact_path)

    def _log_throughput(self, dataset_name: str, prefix: str, n_partitions: int) -> None:
        """Per-field outputs are lazy: the work happens while they are saved, so the
        save time of the partitioned dataset is the stage's compute time."""
        import mlflow

        seconds = time.perf_counter() - self._save_started.pop(dataset_name, time.perf_counter())
        mlflow.log_metric(f"{prefix}.seconds", seconds)
        if seconds > 0:
            mlflow.log_metric(f"{prefix}.fields_per_second", n_partitions / seconds)
