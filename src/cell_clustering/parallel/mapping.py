"""Per-field work in parallel: one helper for every per-field node.

Preprocessing, Cellpose inference and patching treat each field on its own. The
``compute`` parameters choose how the fields are spread:

- ``sequential``: one after the other in the Kedro process (the default);
- ``loky``: ``n_workers`` local processes (joblib's default backend);
- ``dask``: a ``distributed`` cluster at ``scheduler_address`` (joblib's dask
  backend), or a local one started for the run when the address is null.

Results always come back in the order of the field names, never all at once: a
new field is dispatched only as earlier results are consumed (joblib's
``pre_dispatch``), so memory stays flat in the number of fields. An error in a
field is re-raised as :class:`FieldFailed` naming the field.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, TypeVar

from joblib import Parallel, delayed, parallel_config

from cell_clustering import parallel
from cell_clustering.errors import ProjectError
from cell_clustering.parallel.progress import Progress
from cell_clustering.parameters import ComputeParams

logger = logging.getLogger(__name__)

T = TypeVar("T")
SEQUENTIAL = ComputeParams()


class FieldFailed(ValueError):
    """A per-field task failed; the message names the field and the cause. A
    ValueError, like most per-field failures (bad data), and picklable so it crosses
    process boundaries intact."""


class FieldFailedFixable(ProjectError, FieldFailed):
    """A per-field failure the user can fix (bad data, a setting): shown as its message."""


def _named(key: str, function: Callable[[], T]) -> T:
    """Run ``function``; any error becomes a picklable ``FieldFailed`` naming ``key``."""
    try:
        return function()
    except ProjectError as error:
        raise FieldFailedFixable(f"Field '{key}' failed: {error.message}") from error
    except Exception as error:
        raise FieldFailed(f"Field '{key}' failed: {type(error).__name__}: {error}") from error


def ordered_map(
    tasks: Mapping[str, Callable[[], T]], compute: ComputeParams | None, description: str = "Fields"
) -> Iterator[tuple[str, T]]:
    """Run every zero-argument task and yield ``(key, result)`` in sorted key order,
    showing progress (:class:`~cell_clustering.parallel.progress.Progress`).

    Parameters
    ----------
    tasks : mapping of str to callable
        One task per field; each must be picklable by cloudpickle for the process
        backends (closures over lazy partition loaders are).
    compute : ComputeParams, optional
        ``backend``, ``n_workers``, ``scheduler_address``; None runs sequentially.
    description : str
        What the loop does, for the progress bar or log lines.

    Yields
    ------
    (key, result)
        As results arrive, in order; at most about ``2 * n_workers`` run ahead.

    Raises
    ------
    FieldFailed
        From the first failing field in key order, naming it.
    """
    progress = Progress(len(tasks), description)
    for key, result in _ordered_results(tasks, compute or SEQUENTIAL):
        progress.tick()
        yield key, result


def _ordered_results(tasks: Mapping[str, Callable[[], T]], config: ComputeParams) -> Iterator[tuple[str, T]]:
    keys = sorted(tasks)
    # Under the DaskRunner the node itself is a task on the cluster: submitting from
    # it could wait on its own worker's slots, so its fields run in turn.
    nested_in_dask = config.backend == "dask" and len(keys) > 1 and parallel.on_dask_worker()
    if nested_in_dask:
        logger.info("Already on a Dask worker: the %d fields of this node run one after the other.", len(keys))
    if config.backend == "sequential" or len(keys) <= 1 or nested_in_dask:
        for key in keys:
            yield key, _named(key, tasks[key])
        return

    calls = (delayed(_named)(key, tasks[key]) for key in keys)
    if config.backend == "loky":
        runner = Parallel(n_jobs=config.n_workers, backend="loky", return_as="generator", pre_dispatch="2*n_jobs")
        yield from zip(keys, runner(calls), strict=True)
        return
    with parallel.dask_client(config.scheduler_address, config.n_workers) as client, parallel_config(backend="dask", client=client):
        n_threads = max(1, sum(client.nthreads().values()))
        runner = Parallel(n_jobs=-1, return_as="generator", pre_dispatch=2 * n_threads)
        yield from zip(keys, runner(calls), strict=True)


class _LazyOrderedResults:
    """Shares one :func:`ordered_map` among lazy partitions that are saved in key order."""

    def __init__(self, tasks: Mapping[str, Callable[[], Any]], compute: Any, description: str) -> None:
        self._tasks, self._compute, self._description = tasks, compute, description
        self._stream: Iterator[tuple[str, Any]] | None = None
        self._waiting: dict[str, Any] = {}

    def result(self, key: str) -> Any:
        if key in self._waiting:
            return self._waiting.pop(key)
        if self._stream is None:
            self._stream = ordered_map(self._tasks, self._compute, self._description)
        for produced, value in self._stream:
            if produced == key:
                return value
            self._waiting[produced] = value  # asked out of order: keep until asked
        raise KeyError(f"No result for field '{key}'.")


def _ticking(key: str, task: Callable[[], T], progress: Progress) -> T:
    result = _named(key, task)
    progress.tick()
    return result


def lazy_partitions(
    tasks: Mapping[str, Callable[[], T]], compute: ComputeParams | None, description: str = "Fields"
) -> dict[str, Callable[[], T]]:
    """Lazy partitions for a PartitionedDataset: the same keys, each returning its
    result. With ``sequential`` each task simply runs when its partition is saved;
    otherwise the first save starts :func:`ordered_map` over all of them and the
    following saves (in key order, as Kedro's PartitionedDataset saves) take the
    next results as they come."""
    config = compute or SEQUENTIAL
    if config.backend == "sequential":
        progress = Progress(len(tasks), description)
        return {key: partial(_ticking, key, task, progress) for key, task in tasks.items()}
    shared = _LazyOrderedResults(tasks, config, description)
    return {key: _Pull(shared, key) for key in tasks}


class _Pull:
    def __init__(self, shared: _LazyOrderedResults, key: str) -> None:
        self._shared, self._key = shared, key

    def __call__(self) -> Any:
        return self._shared.result(self._key)
