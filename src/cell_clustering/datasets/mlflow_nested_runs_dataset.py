"""``MlflowNestedRunsDataset``: one nested MLflow run per record, under the active run.

kedro-mlflow opens one MLflow run per ``kedro run`` and its datasets log into that
run only. A benchmark grid has one model per cell and users compare cells in the
MLflow UI, so each cell gets its own child run (tag ``mlflow.parentRunId``) with its
params, final metrics and per-epoch histories.
"""

from __future__ import annotations

import time
from typing import Any

import mlflow
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError
from mlflow.entities import Metric, Param, RunTag

from cell_clustering import tracking


class MlflowNestedRunsDataset(AbstractDataset[list[dict[str, Any]], None]):
    """Write-only. Each record is a dict with ``run_name`` and optionally ``params``,
    ``metrics`` (name → float), ``histories`` (name → list of floats, logged with
    step = position) and ``tags``.

    Parameters
    ----------
    experiment_tag : str, optional
        Extra tag ``cell_clustering.dataset`` set on every child run (the catalog name).
    """

    def __init__(self, experiment_tag: str | None = None, metadata: dict[str, Any] | None = None) -> None:
        self._experiment_tag = experiment_tag
        self.metadata = metadata

    def load(self) -> None:
        raise DatasetError("MlflowNestedRunsDataset is write-only: open the runs in the MLflow UI.")

    def save(self, data: list[dict[str, Any]]) -> None:
        parent = mlflow.active_run()
        client = mlflow.MlflowClient()
        now = int(time.time() * 1000)
        for record in data:
            if "run_name" not in record:
                raise DatasetError(f"Every nested run needs a 'run_name'; got keys {sorted(record)}.")
            tags = {**record.get("tags", {})}
            if self._experiment_tag:
                tags["cell_clustering.dataset"] = self._experiment_tag
            with mlflow.start_run(run_name=record["run_name"], nested=parent is not None) as run:
                metrics = [Metric(name, float(value), now, 0) for name, value in record.get("metrics", {}).items()]
                for name, values in record.get("histories", {}).items():
                    metrics += [Metric(f"history.{name}", float(value), now, step) for step, value in enumerate(values)]
                params = [Param(name, str(value)) for name, value in record.get("params", {}).items()]
                run_tags = [RunTag(key, str(value)) for key, value in tags.items()]
                tracking.log_batches(client, run.info.run_id, metrics, params=params, tags=run_tags)

    def _describe(self) -> dict[str, Any]:
        return {"experiment_tag": self._experiment_tag}
