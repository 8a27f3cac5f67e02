"""Nodes of the ``evaluation`` pipeline that keep a trained run for later plates: the
clustering reference, the model card and the registered MLflow model (applied by the
``inference`` pipeline and by ``mlflow.pyfunc``)."""

from __future__ import annotations

from typing import Any

import mlflow
import numpy as np
import pandas as pd

from cell_clustering import evaluation
from cell_clustering.inference import model_card, transfer
from cell_clustering.parameters import (
    EvaluationParams,
    InferenceParams,
    PatchingParams,
    PreprocessingParams,
    SegmentationParams,
)


def save_trained_chain(
    checkpoint: dict[str, Any], latents: np.ndarray, assignments: pd.DataFrame, patch_metadata: pd.DataFrame,
    field_table: pd.DataFrame,
    preprocessing: PreprocessingParams, segmentation: SegmentationParams, patching: PatchingParams,
    params: EvaluationParams, options: InferenceParams,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """What the ``inference`` pipeline needs to put new cells into this run's clusters.

    Returns
    -------
    reference : pandas.DataFrame
        One row per training cell: ``field``, ``cell_label``, ``latent_<i>``,
        ``cluster_k<k>`` for every k and the measurements ``transfer.DRIFT_FEATURES``
        (see ``inference.transfer``).
    card : dict
        The model card (see ``model_card``): the shape model's fingerprint, the reported
        head, the out-of-distribution threshold, the processing parameters and the
        training fields' pixel sizes and channel layouts.
    """
    evaluation.check_aligned(latents, assignments)
    clusters = assignments[[c for c in assignments if c.startswith("cluster_k")]].reset_index(drop=True)
    latent_table = pd.DataFrame(latents, columns=[f"latent_{i}" for i in range(latents.shape[1])])
    evaluation.check_aligned(latents, patch_metadata)
    measurements = patch_metadata[list(transfer.DRIFT_FEATURES)].reset_index(drop=True)
    reference = pd.concat(
        [assignments[["field", "cell_label"]].reset_index(drop=True), latent_table, clusters, measurements], axis=1
    )
    card = {
        "model_fingerprint": model_card.fingerprint(checkpoint),
        "model_type": checkpoint["model"],
        "clusters": {**params.report.model_dump(mode="json"), "n_clusters": list(params.n_clusters)},
        "n_training_cells": len(reference),
        "patch_shape": [len(patching.channels), patching.patch_size, patching.patch_size],
        "conditions": sorted(map(str, assignments["condition"].unique())),
        "control_condition": params.control_condition,
        "transfer": _transfer_settings(latents, measurements.to_numpy(dtype=np.float64), options),
        "fields": model_card.field_layout(field_table),
        "parameters": model_card.processing_parameters(
            {"preprocessing": preprocessing, "segmentation": segmentation, "patching": patching}
        ),
        "mlflow_run_id": active.info.run_id if (active := mlflow.active_run()) else None,
    }
    return reference, card


def _transfer_settings(latents: np.ndarray, measurements: np.ndarray, options: InferenceParams) -> dict[str, Any]:
    """The out-of-distribution thresholds in the latent space (``distance_threshold``)
    and in the space of the cells' measurements (``measurement_threshold``)."""
    thresholds = [
        transfer.distance_threshold(values, n_neighbors=options.n_neighbors, quantile=options.ood_quantile)
        for values in (latents, measurements)
    ]
    return {
        "n_neighbors": options.n_neighbors, "ood_quantile": options.ood_quantile, "distance_threshold": thresholds[0],
        "measurement_features": list(transfer.DRIFT_FEATURES), "measurement_threshold": thresholds[1],
    }


def package_cluster_model(checkpoint: dict[str, Any], reference: pd.DataFrame, card: dict[str, Any]) -> dict[str, Any]:
    """The trained chain, logged and registered as one ``mlflow.pyfunc`` model by the
    catalog (``registered_cluster_model``, see ``cell_clustering.inference.registry``)."""
    return {"checkpoint": checkpoint, "reference": reference, "card": card}
