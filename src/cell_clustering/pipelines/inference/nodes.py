"""Nodes of the ``inference`` pipeline: the checks that a new plate fits the trained run,
the new cells put into its clusters, and the new plate's summary and report."""

from __future__ import annotations

import html
import logging
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering import evaluation, inference, reporting
from cell_clustering.errors import ProjectValueError
from cell_clustering.inference import model_card
from cell_clustering.parameters import (
    EvaluationParams,
    InferenceParams,
    PatchingParams,
    PreprocessingParams,
    SegmentationParams,
)
from cell_clustering.pipelines.evaluation.nodes import cell_id_columns

logger = logging.getLogger(__name__)

_SAME_RUN = (
    "Load the trained run's datasets of one version: kedro run --pipelines=inference "
    "--load-versions=trained_model:<version>,clustering_reference:<version>,model_card:<version>,"
    "cellpose_model:<version>,segmentation_method:<version> (the folders under data/06_models and "
    "data/08_reporting are named by version)."
)


def check_new_plate(
    fields: pd.DataFrame, card: dict[str, Any], preprocessing: PreprocessingParams, segmentation: SegmentationParams,
    patching: PatchingParams, params: InferenceParams,
) -> pd.DataFrame:
    """The new plate's field table, once it is known to fit the trained run.

    Raises
    ------
    ValueError
        When the configuration's processing parameters differ from the trained run's
        (``model_card.COMPARED_KEYS``), when a field's pixel size or channel layout was
        never seen in training (nothing is resized), or when no field could be read.
    """
    current = model_card.processing_parameters({"preprocessing": preprocessing, "segmentation": segmentation, "patching": patching})
    differences = model_card.parameter_differences(card["parameters"], current)
    if differences:
        raise ProjectValueError(
            "The inference pipeline processes new fields exactly as the trained run did, but these parameters "
            "differ from it:\n  " + "\n  ".join(differences)
            + "\nRun it with the trained run's configuration (its values are in data/06_models/model_card.json)."
        )
    problems = model_card.layout_problems(fields, card["fields"], tolerance=params.pixel_size_tolerance)
    if problems:
        raise ProjectValueError(
            "These new fields differ from the training fields, and nothing is resized or re-ordered silently:\n  "
            + "\n  ".join(problems)
            + "\nImage the plate as the training plate, or train a model on fields like these "
            "(inference.pixel_size_tolerance sets the relative pixel-size tolerance)."
        )
    if not (fields["status"] == "ok").any():
        raise ProjectValueError(f"No field of the new plate could be read ({len(fields)} files); see the status column: "
                         f"{fields['status'].value_counts().to_dict()}.")
    return fields


def _reference(reference: pd.DataFrame, checkpoint: dict[str, Any], card: dict[str, Any]) -> np.ndarray:
    """The training latents, once the model and reference are known to come from one run."""
    if model_card.fingerprint(checkpoint) != card["model_fingerprint"] or len(reference) != card["n_training_cells"]:
        raise ProjectValueError("The shape model, the clustering reference and the model card are not of one trained run. " + _SAME_RUN)
    return inference.reference_latents(reference)


def _measurement_drift(patch_metadata: pd.DataFrame, reference: pd.DataFrame, transfer: dict[str, Any]) -> np.ndarray:
    """How far each new cell's size, shape and brightness are from the training cells'
    (``transfer.DRIFT_FEATURES``), whatever the shape model makes of it."""
    features = transfer["measurement_features"]
    return inference.distance_to_training(
        reference[features].to_numpy(dtype=np.float64), patch_metadata[features].to_numpy(dtype=np.float64),
        n_neighbors=transfer["n_neighbors"],
    )


def assign_to_trained_clusters(
    checkpoint: dict[str, Any], latents: np.ndarray, patch_metadata: pd.DataFrame, reference: pd.DataFrame,
    card: dict[str, Any],
) -> pd.DataFrame:
    """Each new cell in the trained clusters (``cluster_k<k>`` for every trained k), its
    mean distance to its nearest training cells in the latent space and in the space of
    its measurements, whether either is out of distribution, and the model that placed
    it (``clustered_by``); see ``inference.transfer``."""
    evaluation.check_aligned(latents, patch_metadata)
    training_latents = _reference(reference, checkpoint, card)
    assignments = patch_metadata[cell_id_columns(patch_metadata)].copy()  # as the training run's table
    transfer = card["transfer"]
    columns = [f"cluster_k{k}" for k in card["clusters"]["n_clusters"]]
    result = inference.transfer_clusters(
        inference.Reference(training_latents, reference[columns].to_numpy()), latents,
        n_neighbors=transfer["n_neighbors"], threshold=transfer["distance_threshold"],
    )
    assignments[columns] = result.clusters
    drift = _measurement_drift(patch_metadata, reference, transfer)
    drifted = drift > transfer["measurement_threshold"]
    assignments["distance_to_training"] = result.distance
    assignments["measurement_distance_to_training"] = drift
    assignments["out_of_distribution_latent"] = result.out_of_distribution
    assignments["out_of_distribution_measurements"] = drifted
    assignments["out_of_distribution"] = result.out_of_distribution | drifted
    assignments["clustered_by"] = _model_label(card)
    logger.info(
        "%d new cells put into the trained clusters; %d out of distribution (%d by their latents, %d by their measurements).",
        len(assignments), int(assignments["out_of_distribution"].sum()), int(result.out_of_distribution.sum()),
        int(drifted.sum()),
    )
    return assignments


def _model_label(card: dict[str, Any]) -> str:
    clusters = card["clusters"]
    run = f", MLflow run {card['mlflow_run_id']}" if card.get("mlflow_run_id") else ""
    return f"trained model {card['model_fingerprint'][:12]}{run}: {clusters['representation']} / {clusters['head']} / k={clusters['k']}"


def _shape_scores(assignments: pd.DataFrame, patch_truth: pd.DataFrame | None, k: int) -> dict[str, float] | None:
    """Accuracy / NMI / ARI of the trained clusters against the planted shapes, where the
    new plate has a ground truth (demo fields); None otherwise."""
    shapes = evaluation.shape_classes_of(patch_truth, len(assignments))
    if shapes is None:
        return None
    matched = shapes != evaluation.UNMATCHED
    return evaluation.external_scores(shapes[matched], assignments[f"cluster_k{k}"].to_numpy()[matched])


def summarise_new_plate(
    assignments: pd.DataFrame, composition: pd.DataFrame, composition_test: dict[str, Any], card: dict[str, Any],
    patch_truth: pd.DataFrame | None, params: EvaluationParams,
) -> tuple[dict[str, Any], str]:
    """The new plate in numbers (cells, share out of distribution, per condition, and
    the agreement with planted shapes where a ground truth exists) and a
    self-contained HTML page labelled with the model that clustered it."""
    by_condition = assignments.groupby("condition")["out_of_distribution"].agg(["size", "mean"])
    summary = {
        "shape_scores": _shape_scores(assignments, patch_truth, card["clusters"]["k"]),
        "model": _model_label(card),
        "model_fingerprint": card["model_fingerprint"],
        "mlflow_run_id": card.get("mlflow_run_id"),
        "n_cells": len(assignments),
        "n_fields": int(assignments["field"].nunique()),
        "ood_quantile": card["transfer"]["ood_quantile"],
        **{
            f"out_of_distribution_share{suffix}": float(assignments[f"out_of_distribution{suffix}"].mean()) if len(assignments) else float("nan")
            for suffix in ("", "_latent", "_measurements")
        },
        "cells_per_condition": {str(c): int(n) for c, n in by_condition["size"].items()},
        "out_of_distribution_share_per_condition": {str(c): float(s) for c, s in by_condition["mean"].items()},
        "composition_test": composition_test,
    }
    return summary, _new_plate_report(summary, composition, params)


def _new_plate_report(summary: dict[str, Any], composition: pd.DataFrame, params: EvaluationParams) -> str:
    share = summary["out_of_distribution_share"]
    lead = (
        f"{summary['n_cells']} cells of {summary['n_fields']} fields put into the clusters of {summary['model']}. "
        f"{share:.1%} of them are out of distribution, farther from the training cells than "
        f"{summary['ood_quantile']:.0%} of the training cells are from each other, in the shape model's latent space "
        f"({summary['out_of_distribution_share_latent']:.1%}) or in their size, shape and brightness "
        f"({summary['out_of_distribution_share_measurements']:.1%}): read their clusters with care."
    )
    conditions = pd.DataFrame({
        "condition": list(summary["cells_per_condition"]),
        "cells": list(summary["cells_per_condition"].values()),
        "out of distribution": [f"{v:.1%}" for v in summary["out_of_distribution_share_per_condition"].values()],
    })
    sections = [
        reporting.table_section("Cells of the new plate", conditions),
        reporting.table_section(
            f"Composition of the trained clusters (k = {params.report.k})", composition, note=_test_note(summary["composition_test"])
        ),
    ]
    return reporting.render_report("New plate in a trained run's clusters", sections, f"<p>{html.escape(lead)}</p>")



def _test_note(test: dict[str, Any]) -> str:
    if test.get("p_value") is None:
        return str(test.get("note", ""))
    return f"{test['test']}: chi2 = {test['chi2']:.3g}, dof = {test['dof']}, p = {test['p_value']:.3g}"
