"""MLflow tracking beyond what kedro-mlflow does: versioned outputs as artifacts and
per-stage throughput, into the run kedro-mlflow opened.

Submodules load on first use (``lazy_loader.attach``): ``settings.py`` imports the
hooks while Kedro's settings loader inspects the call stack, at a cost that grows with
every module already imported, so mlflow loads when something is first logged.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "artifacts": [
            "active_run_id", "close_runs_opened_since", "end_run", "kill_runs_left_running", "log_artifact", "log_batches",
            "log_metric",
            "orphaned_artifact_folders",
        ],
    },
)
