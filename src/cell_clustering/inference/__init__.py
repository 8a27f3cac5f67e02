"""Applying a trained run to new fields: the clusters carried to new cells
(``transfer``), what a new plate must share with the training plate (``model_card``) and
the chain as one registered MLflow model (``registry``)."""

from cell_clustering.inference import model_card
from cell_clustering.inference.transfer import (
    DRIFT_FEATURES,
    Reference,
    Transfer,
    distance_threshold,
    distance_to_training,
    reference_latents,
    transfer_clusters,
)

__all__ = ["DRIFT_FEATURES", "Reference", "Transfer", "distance_threshold", "distance_to_training", "model_card", "reference_latents", "transfer_clusters"]
