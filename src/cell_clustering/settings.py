"""Project settings (see https://docs.kedro.org/en/stable/configure/configuration_basics/)."""

import os
from pathlib import Path

from cell_clustering.hooks import (
    LineageHook,
    MlflowOutputsHook,
    ParameterCheckHook,
    StaleRunHook,
    TypedParamsForMlflowHook,
)
from cell_clustering.known_warnings import silence_known_warnings
from cell_clustering.session import ProjectSession

# Before a node imports mlflow, umap or torch (the imports above load them lazily):
# their known warnings say nothing to a user.
silence_known_warnings()

# Cellpose keeps downloaded weights (built-in models, for users with internet) in the
# project's models/ folder, not in the home folder. It reads this when it is first
# imported, which is always later (it loads lazily); an explicit variable wins. The
# one place that sets it.
os.environ.setdefault("CELLPOSE_LOCAL_MODELS_PATH", str(Path.cwd() / "models" / "cellpose"))

HOOKS = (ParameterCheckHook(), LineageHook(), TypedParamsForMlflowHook(), MlflowOutputsHook(), StaleRunHook())

# One run at a time per project folder; interrupted runs recorded as KILLED in MLflow.
SESSION_CLASS = ProjectSession

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Deep-merge parameters across environments, so `conf/test/` (or a user's
    # `conf/local/`) overrides single keys instead of whole pipeline blocks.
    "merge_strategy": {"parameters": "soft"},
}
