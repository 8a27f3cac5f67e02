"""Scores of one clustering against what is known, and the checks of the inputs.

Internal scores (silhouette, Davies-Bouldin, Calinski-Harabasz) need nothing but the
clustered space; external scores (accuracy, NMI, ARI) need labels: a metadata column
(the condition) and, on the demo data, the planted shape class of each matched cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cell_clustering.errors import ProjectValueError, closest
from cell_clustering.evaluation.clustering import external_scores, internal_scores
from cell_clustering.parameters.evaluation import EvaluationParams

ID_COLUMNS = ["field", "condition", "cell_label"]
UNMATCHED = "unmatched"


def check_aligned(representation: np.ndarray, patch_metadata: pd.DataFrame) -> None:
    """Raise when the representation and the metadata do not have one row per cell."""
    if len(representation) != len(patch_metadata):
        raise ValueError(
            f"latents has {len(representation)} rows but patch_metadata {len(patch_metadata)}; "
            "re-run the modelling pipeline on the current patches."
        )


def check_against_data(patch_metadata: pd.DataFrame, params: EvaluationParams) -> None:
    """Raise when a parameter names a column or condition the data does not have:
    valid in type, wrong for this data (a misspelt control line would silently give
    100 % mutant everywhere)."""
    if params.label_column and params.label_column not in patch_metadata:
        guess = closest(params.label_column, patch_metadata.columns)
        raise ProjectValueError(
            f"evaluation.label_column = {params.label_column!r} is not a column of the patch metadata; "
            f"columns: {', '.join(map(str, patch_metadata.columns))}. "
            + (f"Did you mean {guess!r}? " if guess else "")
            + "Set it to one of them, or null to skip label scores."
        )
    conditions = sorted(map(str, patch_metadata["condition"].unique()))
    if len(conditions) > 1 and params.control_condition not in conditions:
        guess = closest(params.control_condition, conditions)
        raise ProjectValueError(
            f"evaluation.control_condition = {params.control_condition!r} is not among the conditions of the "
            f"data: {', '.join(conditions)}. "
            + (f"Did you mean {guess!r}? Run with --params=\"evaluation.control_condition={guess}\"."
               if guess else "Set it to the wild-type line with --params=\"evaluation.control_condition=<condition>\".")
        )


def shape_classes_of(patch_truth: pd.DataFrame | None, n_cells: int) -> np.ndarray | None:
    """The planted shape class per cell (``unmatched`` where no true cell matched), or
    None without a usable ground truth (fewer than two classes)."""
    if patch_truth is None or len(patch_truth) != n_cells or "shape_class" not in patch_truth:
        return None
    classes = patch_truth["shape_class"].fillna(UNMATCHED).to_numpy()
    return classes if len(np.unique(classes[classes != UNMATCHED])) > 1 else None


def labels_of(patch_metadata: pd.DataFrame, column: str | None) -> np.ndarray | None:
    """The values of ``column`` when it has at least two (else external scores are moot)."""
    if not column:
        return None
    labels = patch_metadata[column].to_numpy()
    return labels if len(np.unique(labels)) > 1 else None


def score(space: np.ndarray, clusters: np.ndarray, labels: np.ndarray | None, shape_classes: np.ndarray | None) -> dict[str, float]:
    """Internal scores, and external ones against the labels and the shape classes."""
    row = internal_scores(space, clusters)
    if labels is not None:
        row.update(external_scores(labels, clusters))
    if shape_classes is not None:
        matched = shape_classes != UNMATCHED
        scores = external_scores(shape_classes[matched], clusters[matched])
        row.update({f"shape_{name}": value for name, value in scores.items()})
    return row
