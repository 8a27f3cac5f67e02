"""Artifacts and metrics logged to the active MLflow run.

An artifact is uploaded once: its SHA-256 is recorded as the tag
``sha256/<folder>/<file>`` of the run that logged it, and a later run that writes the
same bytes (a 26 MB Cellpose model trained again with the same seed) gets the tag
``reused/<folder>/<file>`` pointing at that run's copy instead of a second upload.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

logger = logging.getLogger(__name__)


def active_run_id() -> str | None:
    """The id of the active MLflow run, or None outside a tracked run."""
    run = mlflow.active_run()
    return run.info.run_id if run is not None else None


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run_with_artifact(key: str, digest: str) -> str | None:
    """The id of a run of the active experiment that holds this exact artifact."""
    experiment = mlflow.active_run().info.experiment_id
    runs = mlflow.search_runs(
        experiment_ids=[experiment], filter_string=f"tags.`sha256/{key}` = '{digest}'", max_results=1, output_format="list"
    )
    return runs[0].info.run_id if runs else None


def log_artifact(path: str, folder: str) -> None:
    """Log the file at ``path`` under the artifact folder ``folder`` of the active run,
    unless a run of the experiment already holds the same bytes under that name."""
    key = f"{folder}/{Path(path).name}"
    digest = sha256(path)
    holder = _run_with_artifact(key, digest)
    if holder is not None:
        mlflow.set_tag(f"reused/{key}", f"runs:/{holder}/{key}")
        logger.info("'%s' is unchanged (sha256 %s…): not uploaded again; it is runs:/%s/%s.", path, digest[:12], holder, key)
        return
    mlflow.log_artifact(path, artifact_path=folder)
    mlflow.set_tag(f"sha256/{key}", digest)
    logger.info("Logged '%s' to MLflow as an artifact under '%s'.", path, folder)


def log_metric(name: str, value: float) -> None:
    """Log one metric to the active run."""
    mlflow.log_metric(name, value)


# MLflow accepts at most this many metrics in one ``log_batch`` call.
BATCH_LIMIT = 1000


def log_batches(
    client: MlflowClient, run_id: str, metrics: Sequence[Metric], *, params: Sequence[Param] = (), tags: Sequence[RunTag] = ()
) -> None:
    """Log ``metrics`` to run ``run_id`` in as few ``log_batch`` calls as MLflow allows
    (one SQLite transaction each, instead of one per point), ``params`` and ``tags``
    with the first; nothing when there is nothing to log."""
    if not (metrics or params or tags):
        return
    for start in range(0, max(len(metrics), 1), BATCH_LIMIT):
        first = start == 0
        client.log_batch(run_id, metrics=list(metrics[start : start + BATCH_LIMIT]),
                         params=list(params) if first else [], tags=list(tags) if first else [])


def end_run(status: str) -> None:
    """End the active run (if any) with ``status`` (FINISHED, FAILED or KILLED).

    kedro-mlflow re-enters its run for every node, so the same run may stand several
    times on mlflow's stack; mlflow's exit handler would end what is left as FINISHED.
    """
    while mlflow.active_run() is not None:
        mlflow.end_run(status=status)


def close_runs_opened_since(previous_run_id: str | None) -> None:
    """End the runs stacked on top of ``previous_run_id`` (None: every run), keeping
    the status each already has in the store (FINISHED if it has none)."""
    while (run := mlflow.active_run()) is not None and run.info.run_id != previous_run_id:
        status = mlflow.get_run(run.info.run_id).info.status
        mlflow.end_run(status=status if status != "RUNNING" else "FINISHED")


def kill_runs_left_running(run_ids: list[str]) -> list[str]:
    """Mark as KILLED those of ``run_ids`` that the store still has as RUNNING (their
    process died without ending them); returns the ids it marked."""
    client = MlflowClient()
    killed = []
    for run_id in run_ids:
        try:
            status = client.get_run(run_id).info.status
        except MlflowException:
            continue  # not in this store (e.g. mlflow.db was deleted since)
        if status == "RUNNING":
            client.set_terminated(run_id, status="KILLED")
            killed.append(run_id)
    return killed


def _local_path(uri: str) -> Path | None:
    """The local folder of a ``file:`` (or plain path) artifact location, else None."""
    if uri.startswith("file://"):
        return Path(uri.removeprefix("file://"))
    return Path(uri) if "://" not in uri else None


def orphaned_artifact_folders(experiment_id: str | None = None) -> list[tuple[Path, int]]:
    """Run folders under the experiment's (default: the active run's) artifact location
    that no run of the tracking store owns (left when ``mlflow.db`` was deleted), with
    their sizes (bytes)."""
    client = MlflowClient()
    experiment_id = experiment_id or mlflow.active_run().info.experiment_id
    location = _local_path(client.get_experiment(experiment_id).artifact_location)
    if location is None or not location.is_dir():
        return []
    orphans = []
    for folder in sorted(path for path in location.iterdir() if path.is_dir() and len(path.name) == 32):
        try:
            client.get_run(folder.name)
        except MlflowException:
            orphans.append((folder, sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())))
    return orphans
