"""``MlflowClusterModelDataset``: a trained chain logged to the active MLflow run and
registered, as files and code (no pickle; see ``cell_clustering.inference.registry``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError

from cell_clustering.inference import registry


class MlflowClusterModelDataset(AbstractDataset[dict[str, Any], mlflow.pyfunc.PyFuncModel]):
    """Save: ``{"checkpoint", "reference", "card"}`` logged as the pyfunc model ``name`` of
    the active run and registered as ``registered_model_name``. Load: the newest
    registered version. Nothing is logged when no MLflow run is active.

    Parameters
    ----------
    name : str
        The model's name inside the run.
    registered_model_name : str
        The model registry entry; each save adds a version.
    pip_requirements : list of str
        The environment to record (given, so that nothing is inferred at run time).
    """

    def __init__(
        self, name: str, registered_model_name: str, pip_requirements: list[str], metadata: dict[str, Any] | None = None
    ) -> None:
        self._name, self._registered_model_name, self._pip_requirements = name, registered_model_name, pip_requirements
        self.metadata = metadata

    def save(self, data: dict[str, Any]) -> None:
        if mlflow.active_run() is None:
            return
        with tempfile.TemporaryDirectory(prefix="cluster-model-") as folder:
            mlflow.pyfunc.log_model(
                name=self._name,
                python_model=str(Path(registry.__file__).with_name("registry_model.py")),
                artifacts=registry.write_artifacts(data, Path(folder)),
                registered_model_name=self._registered_model_name,
                pip_requirements=self._pip_requirements,
            )

    def load(self) -> mlflow.pyfunc.PyFuncModel:
        try:
            return mlflow.pyfunc.load_model(f"models:/{self._registered_model_name}/latest")
        except mlflow.exceptions.MlflowException as error:
            raise DatasetError(
                f"No registered model '{self._registered_model_name}' in the MLflow store: run the default pipeline first ({error})."
            ) from error

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name, "registered_model_name": self._registered_model_name}
