"""The Dask side of :mod:`cell_clustering.parallel`: a client to submit fields to,
and whether this process is a Dask worker."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import distributed


@contextlib.contextmanager
def dask_client(address: str | None, n_workers: int) -> Iterator[Any]:
    """A client for ``address``, else the one already open in this process, else a
    local cluster of ``n_workers`` processes for the duration of the call."""
    if address:
        with distributed.Client(address, set_as_default=False) as client:
            yield client
        return
    try:
        existing = distributed.get_client()
    except ValueError:
        existing = None
    if existing is not None:
        yield existing
        return
    with distributed.Client(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, set_as_default=False
    ) as client:
        yield client


def on_dask_worker() -> bool:
    """True inside a task running on a Dask worker."""
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True
