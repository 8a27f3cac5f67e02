"""Run, interrupt and inspect copies of a finished demo project, through the real CLI."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from mlflow.tracking import MlflowClient

KEDRO = [sys.executable, "-m", "kedro"]
ENV = {**os.environ, "DO_NOT_TRACK": "true", "PYTHONUNBUFFERED": "1"}


def copy_project(source: Path, target: Path) -> Path:
    """A copy of a finished project (configuration, data and MLflow store)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock"))
    return target


def kedro(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    """``kedro run --env test <arguments>`` to completion; output folded to one line."""
    result = subprocess.run([*KEDRO, "run", "--env", "test", *arguments], cwd=project, env=ENV,
                            capture_output=True, text=True, check=False)
    result.output = " ".join((result.stdout + result.stderr).split())
    return result


@contextlib.contextmanager
def _children_heed_interrupts() -> Iterator[None]:
    """Let the children started inside take SIGINT. A suite started in the background
    (``nohup make test &``) has SIGINT ignored, children inherit that through exec, and
    Python installs its KeyboardInterrupt handler only where SIGINT is not ignored: the
    child would run on through the interrupt this harness sends. A handler (unlike
    ``SIG_IGN``) is reset to the default in the child."""
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous == signal.SIG_IGN:
            signal.signal(signal.SIGINT, previous)


def interrupt(project: Path, arguments: list[str], when: Callable[[str], bool], sig: int, timeout: float = 900) -> str:
    """Start ``kedro run``, send ``sig`` as soon as ``when(log so far)`` holds, wait
    for the process to end and return its log. Fails if ``when`` never held."""
    log = project / "interrupted.log"
    with open(log, "w") as stream, _children_heed_interrupts():
        process = subprocess.Popen([*KEDRO, "run", "--env", "test", *arguments], cwd=project, env=ENV,
                                   stdout=stream, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not when(log.read_text()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"The fault point was never reached:\n{log.read_text()[-3000:]}")
            time.sleep(0.01)
        os.kill(process.pid, sig)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return log.read_text()


def staged_files(project: Path, dataset: str, pattern: str = "**/*.tif") -> int:
    """Files written so far into the staging folder of a versioned dataset."""
    return len(glob.glob(str(project / "data" / dataset / ".staging" / pattern), recursive=True))


def versions(project: Path, dataset: str) -> list[str]:
    """Published versions of a versioned dataset, oldest first."""
    folder = project / "data" / dataset
    return sorted(path.name for path in folder.iterdir() if not path.name.startswith(".")) if folder.exists() else []


def latest_file(project: Path, dataset: str) -> Path:
    name = Path(dataset).name
    return project / "data" / dataset / versions(project, dataset)[-1] / name


def latest_run_status(project: Path) -> str:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cell_clustering")
    (run,) = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1)
    return run.info.status


def latest_run_id(project: Path) -> str:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cell_clustering")
    (run,) = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=1)
    return run.info.run_id


def run_status(project: Path, run_id: str) -> str:
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}").get_run(run_id).info.status


def n_runs(project: Path) -> int:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    return len(client.search_runs([client.get_experiment_by_name("cell_clustering").experiment_id]))
