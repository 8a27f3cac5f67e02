"""Numba's on-disk cache for the jitted functions of a third-party package.

UMAP compiles about 250 numba functions the first time it runs in a process (12 s on
2 cores for the demo's 37-cell test run, whatever the data size) and marks one of them
``cache=True``. Every ``kedro run``, Dask worker and test process paid that again.
With the cache on, the first process writes the compiled code next to the package (or
under ``NUMBA_CACHE_DIR``) and every later one loads it (0.1 s); numba keys each entry
on the source file's timestamp and the CPU, so an upgrade or another machine compiles
afresh instead of loading stale code.
"""

from __future__ import annotations

import sys

from numba.core.dispatcher import Dispatcher


def cache_compilations(*packages: str) -> int:
    """Turn on numba's on-disk cache for every jitted function of the imported modules
    of ``packages`` (e.g. ``"umap"``); returns how many functions it covers.

    ``Dispatcher.enable_caching`` is what ``@njit(cache=True)`` calls at decoration. A
    function numba cannot locate a cache folder for keeps compiling in memory.
    """
    modules = [module for name, module in list(sys.modules.items()) if module is not None and name.split(".")[0] in packages]
    covered = 0
    for module in modules:
        for function in list(vars(module).values()):
            if isinstance(function, Dispatcher):
                try:
                    function.enable_caching()
                except RuntimeError:  # no writable cache folder: compile in memory as before
                    continue
                covered += 1
    return covered
