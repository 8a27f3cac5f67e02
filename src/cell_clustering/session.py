"""The project's Kedro session: one run at a time per project folder, and an
interrupted run recorded as KILLED in MLflow instead of FINISHED.

Two runs in one folder would read each other's newest outputs (a model of one,
latents of the other). The run holds an exclusive lock on ``data/.run.lock`` while
it runs; the operating system releases it when the process ends, however it ends,
so a killed run leaves no stale lock. Ctrl-C and SIGTERM end the MLflow run as
KILLED (mlflow's own exit handler would record FINISHED); SIGKILL leaves it RUNNING.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kedro.framework.session import KedroSession

from cell_clustering import log_filters, tracking
from cell_clustering.errors import ProjectError, fixable_cause

LOCK_FILE = Path("data") / ".run.lock"
logger = logging.getLogger(__name__)


class RunInProgress(ProjectError, RuntimeError):
    """Another ``kedro run`` holds this project folder; the ``kedro`` command shows the
    message alone (``Error: ...``, exit code 1)."""

#: Set to 1 to see the traceback of a user-fixable error too (it is always in info.log).
TRACEBACK_VARIABLE = "CELL_CLUSTERING_TRACEBACK"


class _LockState:
    """The lock this process holds (if any) and what an earlier holder left in it."""

    path: Path | None = None
    previous: str = ""


_LOCK = _LockState()


def previous_holder() -> str:
    """What the lock file held when this run took it: empty after a run that ended
    (normally, on an error or on Ctrl-C), the dead run's lines after a SIGKILL."""
    return _LOCK.previous


def record_in_lock(line: str) -> None:
    """Add ``line`` (e.g. the MLflow run id) to the lock this process holds, so that a
    run that finds it after a SIGKILL knows what the dead run left open."""
    if _LOCK.path is not None:
        with open(_LOCK.path, "a") as handle:
            handle.write(f"\n{line}")


@contextlib.contextmanager
def run_lock(path: Path, description: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on ``path`` for the duration; what an
    earlier holder left in the file is kept for :func:`previous_holder`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a run whose details are unknown"
            raise RunInProgress(
                f"Another `kedro run` is using this project folder: {holder} (lock: {path}). "
                "Wait for it to finish, or run in a copy of the project: two runs in one folder "
                "would read each other's outputs. Nothing was run."
            ) from None
        handle.seek(0)
        _LOCK.previous = handle.read().strip()
        handle.seek(0)
        handle.truncate()
        handle.write(description)
        handle.flush()
        _LOCK.path = path
        try:
            yield
        finally:
            _LOCK.path, _LOCK.previous = None, ""
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt while the run lasts (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class ProjectSession(KedroSession):
    """``KedroSession`` with :func:`run_lock` around every run and interrupted runs
    ended as KILLED in MLflow."""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        pipelines = kwargs.get("pipeline_names") or ["__default__"]
        description = f"pid {os.getpid()}, pipelines {pipelines}, started {time.strftime('%Y-%m-%d %H:%M:%S')}"
        with run_lock(Path(self._project_path) / LOCK_FILE, description), sigterm_as_interrupt():
            already_active = tracking.active_run_id()
            log_filters.install_on_console()
            try:
                return super().run(*args, **kwargs)
            except KeyboardInterrupt:
                tracking.end_run("KILLED")
                raise
            except Exception as error:
                fixable = fixable_cause(error)
                if fixable is None or os.environ.get(TRACEBACK_VARIABLE) == "1":
                    raise
                logger.debug("The run stopped on an error the user can fix.", exc_info=True)
                if fixable is error:
                    raise
                # Kedro wrapped it (a dataset's error): show the wrapper's message alone.
                raise ProjectError(str(error)) from error
            finally:
                # kedro-mlflow ends its run once but re-enters it for every node: pop
                # the entries it left, so that the next session in this process (a
                # notebook, a test) does not start inside a finished run.
                tracking.close_runs_opened_since(already_active)
