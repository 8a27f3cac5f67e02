"""``compute``: how per-field work is spread (see :mod:`cell_clustering.parallel`)."""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt

from cell_clustering.parameters.base import Params


class ComputeParams(Params):
    """``sequential`` in the Kedro process, ``loky`` local processes or ``dask``."""

    backend: Literal["sequential", "loky", "dask"] = "sequential"
    n_workers: PositiveInt = 2
    scheduler_address: str | None = None
