"""Nodes of the ``benchmark`` pipeline: the models of ``modelling`` and the heads of
``evaluation`` on MNIST-like datasets (see :mod:`cell_clustering.benchmark`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import benchmark, reporting
from cell_clustering.parameters import BenchmarkParams


def prepare_benchmark_split(images: np.ndarray, labels: np.ndarray, max_samples: int | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Images (N, rows, cols) uint8 as (M, 1, rows, cols) patches in [0, 1] and their
    metadata (the class as ``condition``); ``max_samples`` keeps the first M."""
    return benchmark.prepare_split(images, labels, max_samples)


def grid_cells(params: BenchmarkParams) -> list[dict[str, Any]]:
    """The models of the grid: every model type × latent size, at the configured β."""
    return [
        {"model_type": model_type, "latent_dim": latent_dim, "beta": params.vae.beta}
        for model_type in params.models
        for latent_dim in params.latent_dims
    ]


def beta_sweep_cells(params: BenchmarkParams) -> list[dict[str, Any]]:
    """The models of the β sweep: one per β, for the sweep's model and latent size."""
    sweep = params.beta_sweep
    return [{"model_type": sweep.model, "latent_dim": sweep.latent_dim, "beta": beta} for beta in sweep.betas]


def train_and_score_cells(
    train_patches: np.ndarray,
    train_metadata: pd.DataFrame,
    test_patches: np.ndarray,
    test_metadata: pd.DataFrame,
    params: BenchmarkParams,
    cells: list[dict[str, Any]],
    *,
    dataset: str,
) -> list[dict[str, Any]]:
    """One trained and scored model per cell (model type, latent size, β); the
    contrastive model draws its views within the invariances the benchmark declares
    for ``dataset`` (``benchmark.invariances.<dataset>``; bound in the pipeline)."""
    splits = ((train_patches, train_metadata), (test_patches, test_metadata))
    invariances = getattr(params.invariances, dataset)
    return [benchmark.train_and_score(*splits, params, **cell, invariances=invariances) for cell in cells]


def summarise_benchmark(params: BenchmarkParams, **grids: list[dict[str, Any]]) -> tuple[pd.DataFrame, str, list[dict[str, Any]]]:
    """The benchmark table (one row per dataset × model × latent size × representation
    × head), as CSV and Markdown laid out like the seed's, and one MLflow run per cell.

    ``**grids``: ``<dataset name>=`` the records of :func:`train_and_score_cells` on the grid.
    """
    table = pd.concat([benchmark.flatten(records, name) for name, records in grids.items()], ignore_index=True)
    runs = [run for name, records in grids.items() for run in benchmark.mlflow_runs(records, name, "")]
    return table, benchmark.benchmark_markdown(table, params), runs


def summarise_beta_sweep(params: BenchmarkParams, **sweeps: list[dict[str, Any]]) -> tuple[pd.DataFrame, Any, list[dict[str, Any]]]:
    """The β sweep as a table, a figure (accuracy and final KL against β) and MLflow runs.

    ``**sweeps``: ``<dataset name>=`` the records of the β sweep (one dataset).
    """
    ((dataset, records),) = sweeps.items()
    table = benchmark.flatten(records, dataset)
    table["final_kl"] = table["beta"].map({record["beta"]: record["history"]["train_kl"][-1] for record in records})
    figure, (accuracy_axis, kl_axis) = reporting.pyplot().subplots(1, 2, figsize=(9, 3.5))
    for (representation, head), rows in table.groupby(["representation", "head"]):
        accuracy_axis.plot(rows["beta"], rows["accuracy"], marker="o", label=f"{representation}, {head}")
    accuracy_axis.set(xscale="log", xlabel="β", ylabel="accuracy (Hungarian)", title=f"{dataset}: clustering accuracy vs β")
    accuracy_axis.legend(fontsize=7)
    per_beta = table.drop_duplicates("beta")
    kl_axis.plot(per_beta["beta"], per_beta["final_kl"], marker="o")
    kl_axis.set(xscale="log", xlabel="β", ylabel="KL per sample (nats)", title="KL of the last epoch")
    figure.tight_layout()
    return table, figure, benchmark.mlflow_runs(records, dataset, "beta-sweep-")
