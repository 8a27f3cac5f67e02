"""Helpers for pipeline-slice tests: run a pipeline with Kedro's SequentialRunner on
an in-memory catalog, as Kedro's starters do, and get every output back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from cell_clustering.demo_data import generate_dataset
from tests.parameters import block


class _KeptDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so intermediate outputs can be checked."""

    def _release(self) -> None:
        pass


def run_slice(pipeline: Pipeline, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``pipeline`` on a catalog holding ``inputs`` (parameters as ``params:<block>``);
    every dataset it writes stays in memory and is returned by name."""
    catalog = DataCatalog()
    for name, value in inputs.items():
        catalog[name] = value
    for name in pipeline.all_outputs():
        catalog[name] = _KeptDataset()
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog.load(name) for name in pipeline.all_outputs()}


def lazy(arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Partitions as a PartitionedDataset loads them: key → loader."""
    return {key: (lambda value=value: value) for key, value in arrays.items()}


def materialise(partitions: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Call every lazy partition (what saving a PartitionedDataset does)."""
    return {key: np.asarray(load() if callable(load) else load) for key, load in partitions.items()}


def small_demo(**overrides: Any) -> tuple[dict, dict, Any, Any]:
    """A small demo dataset: one 192 × 192 field per condition by default."""
    settings = {"fields_per_condition": 1, "field_shape": [192, 192], "cells_per_field": {"sparse": 5, "crowded": 8}}
    return generate_dataset(block("demo_data", **{**settings, **overrides}))
