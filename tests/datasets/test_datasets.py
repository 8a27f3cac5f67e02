"""Tests of the project's own Kedro datasets."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from kedro.io import DatasetError, Version
from kedro_mlflow.io.metrics import MlflowMetricsHistoryDataset
from mlflow.tracking import MlflowClient

from cell_clustering.datasets import (
    BatchedMetricsHistoryDataset,
    IdxDataset,
    NumpyDataset,
    OptionalCSVDataset,
    OptionalPartitionedDataset,
    TiffDataset,
    TorchCheckpointDataset,
    VersionedPartitionedDataset,
)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.float32])
def test_tiff_round_trip_keeps_values_and_dtype(tmp_path, dtype):
    rng = np.random.default_rng(0)
    data = (rng.uniform(0, 200, size=(17, 23))).astype(dtype)
    dataset = TiffDataset(filepath=str(tmp_path / "field.tif"))
    dataset.save(data)
    loaded = dataset.load()
    assert loaded.dtype == dtype
    np.testing.assert_array_equal(loaded, data)


@pytest.mark.parametrize(
    ("dataset_class", "suffix", "data"),
    [
        (TiffDataset, ".tif", np.arange(64, dtype=np.uint16).reshape(8, 8)),
        (IdxDataset, ".gz", np.arange(100, dtype=np.uint8).reshape(10, 10)),  # gzip stores no timestamp
    ],
)
def test_same_array_gives_same_bytes(tmp_path, dataset_class, suffix, data):
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    dataset_class(filepath=str(first)).save(data)
    dataset_class(filepath=str(second)).save(data)
    assert first.read_bytes() == second.read_bytes()


def test_tiff_corrupt_file_error_names_the_file(tmp_path):
    path = tmp_path / "control" / "broken.tif"
    path.parent.mkdir()
    path.write_bytes(b"this is not a tiff")
    with pytest.raises(DatasetError, match="broken.tif"):
        TiffDataset(filepath=str(path)).load()


def test_tiff_refuses_empty_image(tmp_path):
    with pytest.raises(DatasetError, match="empty"):
        TiffDataset(filepath=str(tmp_path / "e.tif")).save(np.zeros((0, 5), dtype=np.uint8))


def test_tiff_versioned_save_never_overwrites(tmp_path):
    path = str(tmp_path / "out.tif")
    TiffDataset(filepath=path, version=Version(None, "2026-01-01T00.00.00.000Z")).save(np.ones((2, 2), np.uint8))
    TiffDataset(filepath=path, version=Version(None, "2026-01-02T00.00.00.000Z")).save(np.zeros((2, 2), np.uint8))
    versions = sorted(p.name for p in (tmp_path / "out.tif").iterdir())
    assert versions == ["2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"]
    # The latest version is what loads by default.
    assert TiffDataset(filepath=path, version=Version(None, None)).load().max() == 0


def test_numpy_dataset_round_trip_and_refuses_objects(tmp_path):
    data = np.random.default_rng(1).normal(size=(5, 1, 4, 4)).astype(np.float32)
    dataset = NumpyDataset(filepath=str(tmp_path / "patches.npy"))
    dataset.save(data)
    np.testing.assert_array_equal(dataset.load(), data)
    with pytest.raises(DatasetError, match="numeric"):
        dataset.save(np.array([{"a": 1}], dtype=object))


def test_optional_partitioned_dataset_is_empty_when_folder_missing(tmp_path):
    dataset = OptionalPartitionedDataset(
        path=str(tmp_path / "nothing"), dataset="cell_clustering.datasets.TiffDataset", filename_suffix=".tif"
    )
    assert dataset.load() == {}


def test_optional_partitioned_dataset_lists_condition_folders(tmp_path):
    dataset = OptionalPartitionedDataset(
        path=str(tmp_path / "images"), dataset="cell_clustering.datasets.TiffDataset", filename_suffix=".tif"
    )
    dataset.save({"control/f1": np.ones((3, 3), np.uint16), "Rac1/f2": np.zeros((3, 3), np.uint16)})
    loaded = dataset.load()
    assert sorted(loaded) == ["Rac1/f2", "control/f1"]
    assert loaded["control/f1"]().sum() == 9


def test_optional_csv_dataset_absent_is_empty(tmp_path):
    assert OptionalCSVDataset(filepath=str(tmp_path / "no.csv")).load().empty
    path = tmp_path / "yes.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(path, index=False)
    assert OptionalCSVDataset(filepath=str(path)).load()["a"].tolist() == [1, 2]


def test_torch_checkpoint_round_trip_with_weights_only(tmp_path):
    state = torch.nn.Linear(3, 2).state_dict()
    dataset = TorchCheckpointDataset(filepath=str(tmp_path / "model.pt"))
    dataset.save({"model": "vae", "config": {"latent_dim": 2}, "state_dict": state})
    loaded = dataset.load()
    assert loaded["config"] == {"latent_dim": 2}
    torch.testing.assert_close(loaded["state_dict"]["weight"], state["weight"])
    with pytest.raises(DatasetError, match="missing"):
        dataset.save({"state_dict": state})


def _versioned_folder(tmp_path, save=None, load=None):
    return VersionedPartitionedDataset(
        path=str(tmp_path / "masks"), dataset="cell_clustering.datasets.TiffDataset",
        filename_suffix=".tif", version=Version(load, save),
    )


def test_versioned_partitions_keep_every_run_and_load_the_latest(tmp_path):
    assert _versioned_folder(tmp_path).load() == {}
    _versioned_folder(tmp_path, save="2026-01-01T00.00.00.000Z").save({"control/f1": lambda: np.ones((2, 2), np.uint16)})
    _versioned_folder(tmp_path, save="2026-01-02T00.00.00.000Z").save({"Rac1/f2": np.full((2, 2), 7, np.uint16)})
    assert (tmp_path / "masks/2026-01-01T00.00.00.000Z/masks/control/f1.tif").exists()
    latest = _versioned_folder(tmp_path).load()
    assert list(latest) == ["Rac1/f2"] and latest["Rac1/f2"]().max() == 7
    pinned = _versioned_folder(tmp_path, load="2026-01-01T00.00.00.000Z").load()
    assert list(pinned) == ["control/f1"]


def test_versioned_partitions_empty_save_is_the_latest_version(tmp_path):
    _versioned_folder(tmp_path, save="2026-01-01T00.00.00.000Z").save({"c/f": np.ones((2, 2), np.uint16)})
    _versioned_folder(tmp_path, save="2026-01-02T00.00.00.000Z").save({})
    assert _versioned_folder(tmp_path).load() == {}


def test_batched_metrics_history_logs_every_point_as_kedro_mlflow_does(tmp_path):
    """1,200 points (over MLflow's 1000-per-batch limit) logged in batches come back as
    the same history kedro-mlflow's one-call-per-point dataset writes."""
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("batched-history")
    history = {"loss": [{"value": 1.0 / (step + 1), "step": step} for step in range(1200)], "final": {"value": 0.5, "step": 0}}
    try:
        with mlflow.start_run() as batched:
            BatchedMetricsHistoryDataset(prefix="training").save(history)
            batched_history = BatchedMetricsHistoryDataset(prefix="training").load()
        with mlflow.start_run():
            MlflowMetricsHistoryDataset(prefix="training").save(history)
            reference = MlflowMetricsHistoryDataset(prefix="training").load()
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)
    assert len(batched_history["training.loss"]) == 1200
    assert batched_history == reference
    points = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}").get_metric_history(batched.info.run_id, "training.loss")
    assert sorted(point.step for point in points) == list(range(1200))
