"""UMAP's numba functions are compiled by the first process and loaded by the next."""

from __future__ import annotations

import json
import subprocess
import sys

# A fresh process: imports the evaluation (which turns the cache on), fits one UMAP and
# reports numba's own cache counters summed over UMAP's functions compiled on first call.
FIT_AND_COUNT = """
import json, sys
import numpy as np
from numba.core.dispatcher import Dispatcher
from cell_clustering.evaluation import umap_embedding
dispatchers = [f for name, m in list(sys.modules.items()) if name.startswith("umap") and m
               for f in vars(m).values() if isinstance(f, Dispatcher)]
# Functions declared with a signature are compiled by UMAP at import; the cost is in
# the ones compiled at their first call.
lazy = [f for f in dispatchers if not f.signatures]
values = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
umap_embedding(values, 2, 10, seed=0)
print(json.dumps({
    "hits": sum(sum(f.stats.cache_hits.values()) for f in lazy),
    "misses": sum(sum(f.stats.cache_misses.values()) for f in lazy),
}))
"""


def _fit_in_a_new_process() -> dict[str, int]:
    result = subprocess.run([sys.executable, "-c", FIT_AND_COUNT], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_umaps_compiled_functions_instead_of_compiling_them():
    # The environment's own cache folder, as a user's run uses it (an empty
    # NUMBA_CACHE_DIR would also recompile pynndescent's cached functions: 30 s more).
    # The first process compiles and writes whatever is not cached yet...
    _fit_in_a_new_process()
    # ... and the next one compiles nothing: without the cache, 7 functions again.
    second = _fit_in_a_new_process()
    assert second["misses"] == 0 and second["hits"] > 0
