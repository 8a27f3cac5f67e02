"""What a deleted tracking store leaves behind is named, not silently kept."""

from __future__ import annotations

import mlflow

from cell_clustering import tracking


def test_artifact_folders_of_runs_the_store_no_longer_has_are_found(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        experiment = mlflow.create_experiment("x", artifact_location=str(tmp_path / "mlruns" / "1"))
        with mlflow.start_run(experiment_id=experiment) as kept:
            mlflow.log_text("kept", "a.txt")
        orphan = tmp_path / "mlruns" / "1" / ("f" * 32) / "artifacts"
        orphan.mkdir(parents=True)
        (orphan / "model.pt").write_bytes(b"0" * 1000)
        found = tracking.orphaned_artifact_folders(experiment)
    finally:
        mlflow.set_tracking_uri(None)
    assert [(folder.name, size) for folder, size in found] == [("f" * 32, 1000)]
    assert kept.info.run_id != "f" * 32
