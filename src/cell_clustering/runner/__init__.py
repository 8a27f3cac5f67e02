"""Kedro runners of the project."""

from cell_clustering.runner.dask_runner import DaskRunner

__all__ = ["DaskRunner"]
