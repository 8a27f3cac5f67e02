"""The mechanisms behind complete-and-consistent outputs, one at a time: atomic
versions, lineage records and their check, the one-run lock, MLflow artifacts logged
once, interrupted runs ended as KILLED."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError, Version
from mlflow.tracking import MlflowClient

from cell_clustering import lineage, tracking
from cell_clustering.datasets import TiffDataset, VersionedPartitionedDataset
from cell_clustering.datasets.atomic import STAGING, CSVDataset
from cell_clustering.session import RunInProgress, run_lock


def _csv(tmp_path, load=None):
    return CSVDataset(filepath=str(tmp_path / "table.csv"), version=Version(load, None))


def test_a_version_appears_whole_with_its_lineage(tmp_path):
    dataset = _csv(tmp_path)
    dataset.lineage = {"node": "n", "run_id": "r", "inputs": {}, "upstream": {"a": "1"}}
    dataset.save(pd.DataFrame({"x": [1, 2]}))
    (version,) = [p for p in (tmp_path / "table.csv").iterdir() if p.name != STAGING]
    assert sorted(p.name for p in version.iterdir()) == ["table.csv", "table.csv.lineage.json"]
    assert json.loads((version / "table.csv.lineage.json").read_text())["upstream"] == {"a": "1"}
    assert lineage.stored_record(_csv(tmp_path))["node"] == "n"


class Unwritable:
    """Data whose writing fails half-way, as a crash would."""

    def to_csv(self, *args, **kwargs):
        raise OSError("disk full")


def test_a_failed_save_leaves_no_version_and_the_previous_one_loads(tmp_path):
    _csv(tmp_path).save(pd.DataFrame({"x": [1]}))
    partitions = {"c/a": lambda: np.zeros((4, 4), np.uint16), "c/b": lambda: (_ for _ in ()).throw(OSError("bad field"))}
    folder = VersionedPartitionedDataset(path=str(tmp_path / "masks"), dataset={"type": TiffDataset}, filename_suffix=".tif",
                                         version=Version(None, None))
    with pytest.raises(DatasetError, match="bad field"):
        folder.save(partitions)
    assert not list((tmp_path / "masks").iterdir())  # no version, and no half-written or empty staging folder
    with pytest.raises(DatasetError):
        _csv(tmp_path).save(Unwritable())
    assert _csv(tmp_path).load()["x"].tolist() == [1]


def test_a_leftover_of_a_killed_run_is_ignored_then_removed_with_a_warning(tmp_path, caplog):
    _csv(tmp_path).save(pd.DataFrame({"x": [1]}))
    leftover = tmp_path / "table.csv" / STAGING / "2099-01-01T00.00.00.000Z"
    leftover.mkdir(parents=True)
    (leftover / "table.csv").write_text("x\n9\n")  # half a version, newer than any other
    assert _csv(tmp_path).load()["x"].tolist() == [1]
    _csv(tmp_path).save(pd.DataFrame({"x": [2]}))
    assert not leftover.exists() and "an unfinished version left by an interrupted run" in caplog.text


def test_saving_an_output_pinned_to_another_version_is_refused(tmp_path):
    _csv(tmp_path).save(pd.DataFrame({"x": [1]}))
    (old,) = [p.name for p in (tmp_path / "table.csv").iterdir() if p.name != STAGING]
    with pytest.raises(DatasetError, match=f"pinned to load version {old}"):
        _csv(tmp_path, load=old).save(pd.DataFrame({"x": [2]}))


def test_lineage_conflicts_name_the_stale_input_and_its_pipeline():
    inputs = {
        "preprocessed_images": ("B", {"raw_images": "files:2", "node:preprocess_fields": "R2"}),
        "predicted_masks": ("M", {"preprocessed_images": "A", "raw_images": "files:1", "node:preprocess_fields": "R1"}),
    }
    found = lineage.conflicts(lineage.merge_upstream(inputs))
    assert set(found) == {"preprocessed_images", "raw_images", "node:preprocess_fields"}
    message = lineage.mismatch_message("extract_patches", found, {"preprocessed_images": "R2", "predicted_masks": "R1"},
                                       {"predicted_masks": "segmentation", "preprocessed_images": "preprocessing"})
    assert "preprocessed_images: predicted_masks was made from A; B is the one loaded here" in message
    assert "Re-run `kedro run --pipelines=segmentation` to make them" in message


def test_outputs_of_one_node_from_two_runs_conflict():
    inputs = {"patches": ("P2", {"node:extract_patches": "R2"}), "patch_metadata": ("M1", {"node:extract_patches": "R1"})}
    found = lineage.conflicts(lineage.merge_upstream(inputs))
    message = lineage.mismatch_message("train_model", found, {"patches": "R2", "patch_metadata": "R1"}, {"patch_metadata": "patching"})
    assert "node 'extract_patches' made patch_metadata in run R1; patches in run R2" in message
    assert not lineage.conflicts(lineage.merge_upstream({k: (v, {"node:x": "R"}) for k, v in (("a", "1"), ("b", "2"))}))


def _hold_lock(path, ready):
    with run_lock(path, "pid test, pipelines ['segmentation']"):
        ready.set()
        time.sleep(30)


def test_a_second_run_is_refused_while_the_first_holds_the_lock_and_a_killed_holder_frees_it(tmp_path):
    path = tmp_path / "data" / ".run.lock"
    ready = multiprocessing.get_context("fork").Event()
    holder = multiprocessing.get_context("fork").Process(target=_hold_lock, args=(path, ready))
    holder.start()
    assert ready.wait(20)
    with pytest.raises(RunInProgress, match=r"Another `kedro run` is using this project folder: pid test, pipelines \['segmentation'\]"):
        with run_lock(path, "second"):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    with run_lock(path, "third"):  # the operating system released the killed holder's lock
        assert path.read_text() == "third"


@pytest.fixture
def tracking_store(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("consistency")
    yield MlflowClient()
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def test_an_unchanged_artifact_is_logged_once(tracking_store, tmp_path):
    model = tmp_path / "cellpose_model.pt"
    model.write_bytes(os.urandom(4096))
    with mlflow.start_run() as first:
        tracking.log_artifact(str(model), "cellpose")
    with mlflow.start_run() as second:
        tracking.log_artifact(str(model), "cellpose")
    assert [a.path for a in tracking_store.list_artifacts(first.info.run_id, "cellpose")] == ["cellpose/cellpose_model.pt"]
    assert tracking_store.list_artifacts(second.info.run_id, "cellpose") == []
    tags = tracking_store.get_run(second.info.run_id).data.tags
    assert tags["reused/cellpose/cellpose_model.pt"] == f"runs:/{first.info.run_id}/cellpose/cellpose_model.pt"
    model.write_bytes(os.urandom(4096))  # changed: logged again
    with mlflow.start_run() as third:
        tracking.log_artifact(str(model), "cellpose")
    assert len(tracking_store.list_artifacts(third.info.run_id, "cellpose")) == 1


def test_end_run_ends_every_entry_of_a_re_entered_run(tracking_store):
    run = mlflow.start_run()
    mlflow.start_run(run_id=run.info.run_id, nested=True)  # as kedro-mlflow re-enters it per node
    tracking.end_run("KILLED")
    assert mlflow.active_run() is None
    assert tracking_store.get_run(run.info.run_id).info.status == "KILLED"
