"""Per-field work in parallel: one helper for every per-field node (sequential, loky
processes or a Dask cluster; see :mod:`cell_clustering.parallel.mapping`).

Submodules load on first use (``lazy_loader.attach``): ``distributed`` (about a
second) is imported only when the dask backend is used.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "mapping": ["FieldFailed", "SEQUENTIAL", "lazy_partitions", "ordered_map"],
        "dask_backend": ["dask_client", "on_dask_worker"],
    },
)
