"""Hyperparameter search with Optuna (see :mod:`cell_clustering.tuning.search`).

Submodules load on first use (``lazy_loader.attach``): Optuna is imported when a
search starts, not when pipelines are registered.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={"search": ["DIRECTIONS", "run_trial", "stability", "suggest", "tune"]},
)
