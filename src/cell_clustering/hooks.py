"""Project hooks: parameters checked before anything runs, lineage recorded and
checked, typed parameters logged to MLflow like plain ones, and versioned outputs
logged as MLflow artifacts."""

from __future__ import annotations

import importlib
import logging
import re
import time
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io.core import AbstractVersionedDataset
from pydantic import BaseModel

from cell_clustering import lineage, session, tracking
from cell_clustering.datasets.atomic import AtomicVersionMixin
from cell_clustering.errors import ProjectError
from cell_clustering.parameters import ParameterError, check_parameters
from cell_clustering.pipeline_registry import PROCESSING_PIPELINES

logger = logging.getLogger(__name__)


class InvalidParameters(ProjectError, ParameterError):
    """A ``ParameterError`` that the ``kedro`` command shows as its message alone
    (``Error: Invalid parameters: ...``, exit code 1), without a traceback: the message
    already names every bad key, its value and what is allowed."""


class ParameterCheckHook:
    """Validate every parameter block (and refuse unknown blocks) as soon as the
    context exists: a typo anywhere in ``conf/*/parameters_*.yml`` or ``--params``
    stops the command before the catalog is built and before any node runs.

    Kedro validates the blocks that typed node inputs name; this also catches a
    misspelt top-level block (``modeling``) that no node reads.
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        parameters = context.config_loader["parameters"]
        try:
            check_parameters(parameters)
        except ParameterError as error:
            raise InvalidParameters(str(error)) from None
        # Kedro reads the parameters again to build the catalog; a value set on the
        # loader is returned as is, which spares a second parse of every file.
        context.config_loader["parameters"] = parameters


class LineageHook:
    """Record with every versioned output which input versions it was made from, and
    stop a node whose inputs come from different runs (see :mod:`cell_clustering.lineage`).
    """

    def __init__(self) -> None:
        self._catalog: Any = None
        self._run_id = ""
        self._made: dict[str, dict[str, str]] = {}  # dataset → upstream, for outputs of this run
        self._inputs: dict[str, dict[str, tuple[str | None, dict[str, str]]]] = {}
        self._made_in: dict[str, str | None] = {}  # input → the run that made it

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        self.resume_run(str(run_params.get("run_id") or ""), catalog)

    def resume_run(self, run_id: str, catalog: Any) -> None:
        """Bind to a run: the session does it; a Dask worker, which never sees
        ``before_pipeline_run``, does it before each node."""
        if run_id != self._run_id:
            self._made, self._inputs, self._made_in = {}, {}, {}
        self._catalog, self._run_id = catalog, run_id

    @hook_impl
    def before_node_run(self, node: Any, catalog: Any) -> None:
        inputs = {name: self._lineage_of(name, catalog) for name in node.inputs if not name.startswith("params:") and name != "parameters"}
        found = lineage.conflicts(lineage.merge_upstream(inputs))
        if found:
            raise lineage.LineageMismatch(lineage.mismatch_message(node.name, found, self._made_in, _producers()))
        self._inputs[node.name] = inputs

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, node: Any) -> None:
        record = lineage.record(node.name, self._run_id, self._inputs.get(node.name, {}))
        self._made[dataset_name] = record["upstream"]
        dataset = self._catalog.get(dataset_name) if self._catalog is not None else None
        if isinstance(dataset, AtomicVersionMixin):
            dataset.lineage = record  # written with the data, in the same version

    def _lineage_of(self, name: str, catalog: Any) -> tuple[str | None, dict[str, str]]:
        dataset = catalog.get(name)
        upstream = self._made.get(name)
        self._made_in[name] = self._run_id
        if upstream is None:
            stored = lineage.stored_record(dataset) or {}
            upstream, self._made_in[name] = stored.get("upstream", {}), stored.get("run_id")
        return lineage.version_of(dataset), upstream


def _producers() -> dict[str, str]:
    """Which pipeline makes each dataset, to say what to re-run (Kedro registers only
    the pipelines a command names, so they are built here from their packages)."""
    return {
        output: name
        for name in (*PROCESSING_PIPELINES, "demo_data")
        for output in importlib.import_module(f"cell_clustering.pipelines.{name}").create_pipeline().all_outputs()
    }


class TypedParamsForMlflowHook:
    """Hand kedro-mlflow's hook the typed parameter blocks as plain dicts, so that it
    logs them flattened (``modelling.model.latent_dim``) as it does dicts, instead of
    one truncated string per block.

    Kedro gives every ``before_node_run`` hook one shallow copy of the node's inputs:
    this hook runs first and replaces the typed values in that copy; the node itself
    still receives the typed objects.
    """

    @hook_impl(tryfirst=True)
    def before_node_run(self, inputs: dict[str, Any]) -> None:
        for name, value in inputs.items():
            if isinstance(value, BaseModel):
                inputs[name] = value.model_dump(mode="json")


class StaleRunHook:
    """End in MLflow what a killed run left open, and note this run's id in the lock.

    A SIGKILL (out of memory, a closed laptop, a scheduler's limit) ends a run before
    it can tell MLflow: the run would stay RUNNING forever. The run lock file keeps the
    dead run's text (:func:`cell_clustering.session.previous_holder`), including its
    MLflow run id, which this hook writes there once kedro-mlflow has started the run.
    """

    @hook_impl(trylast=True)  # after kedro-mlflow has started this run
    def before_pipeline_run(self) -> None:
        previous = session.previous_holder()
        killed = tracking.kill_runs_left_running(re.findall(r"mlflow_run_id=(\w+)", previous)) if previous else []
        for run_id in killed:
            logger.warning(
                "MLflow run %s was left RUNNING by a `kedro run` that no longer exists (%s): marked KILLED.",
                run_id, previous.splitlines()[0],
            )
        if previous and not killed:
            logger.warning("An earlier `kedro run` in this folder ended without cleaning up (%s).", previous.splitlines()[0])
        run_id = tracking.active_run_id()
        if run_id:
            session.record_in_lock(f"mlflow_run_id={run_id}")
            _warn_about_orphans()


def _warn_about_orphans() -> None:
    """Say so when artifacts of runs the tracking store no longer has take up space."""
    orphans = tracking.orphaned_artifact_folders()
    if orphans:
        megabytes = sum(size for _, size in orphans) / 1e6
        logger.warning(
            "%d artifact folder(s) under %s (%.1f MB) belong to runs that the tracking store no longer has "
            "(was mlflow.db deleted?), e.g. %s. Delete them if you do not need them (README: 'Comparing "
            "runs in MLflow').", len(orphans), orphans[0][0].parent, megabytes, orphans[0][0].name,
        )


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
        if self._catalog is None or tracking.active_run_id() is None:
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
        tracking.log_artifact(str(path), str(artifact_path))

    def _log_throughput(self, dataset_name: str, prefix: str, n_partitions: int) -> None:
        """Per-field outputs are lazy: the work happens while they are saved, so the
        save time of the partitioned dataset is the stage's compute time."""
        seconds = time.perf_counter() - self._save_started.pop(dataset_name, time.perf_counter())
        tracking.log_metric(f"{prefix}.seconds", seconds)
        if seconds > 0:
            tracking.log_metric(f"{prefix}.fields_per_second", n_partitions / seconds)
