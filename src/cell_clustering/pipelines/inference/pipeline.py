"""Wiring of the ``inference`` pipeline: the processing pipelines' own nodes (no training
node among them), reused under the namespace ``new_plate``, then the new cells put into
the trained clusters.

Every dataset of the new plate is ``new_plate.<name>``; the trained run's datasets
(``_TRAINED``) and the parameters (``_PARAMETERS``) are shared with the training run.
"""

from kedro.pipeline import Node, Pipeline, pipeline

from cell_clustering.pipelines.evaluation import pipeline as evaluation
from cell_clustering.pipelines.inference.nodes import (
    assign_to_trained_clusters,
    check_new_plate,
    summarise_new_plate,
)
from cell_clustering.pipelines.modelling import pipeline as modelling
from cell_clustering.pipelines.patching import pipeline as patching
from cell_clustering.pipelines.preprocessing import pipeline as preprocessing
from cell_clustering.pipelines.segmentation import pipeline as segmentation

# What the trained run saved; loaded at their latest version or at --load-versions.
_TRAINED = {"trained_model", "cellpose_model", "segmentation_method", "clustering_reference", "model_card"}
_PARAMETERS = {"preprocessing", "segmentation", "patching", "compute", "evaluation", "inference"}


def _reused_nodes() -> Pipeline:
    """The processing chain's inference nodes: fields to latents, then the per-cell table
    and the composition by condition."""
    reading = preprocessing.create_pipeline().only_nodes("measure_fields", "annotate_fields")
    cells = (
        preprocessing.create_pipeline().only_nodes("preprocess_fields", "preprocess_nuclei")
        + segmentation.create_pipeline().only_nodes("segment_fields")
        + patching.create_pipeline().only_nodes("extract_patches")
        + modelling.create_pipeline().only_nodes("encode_patches")
    )
    # Where the new plate has a ground truth (demo fields), its cells are matched to it.
    truth = preprocessing.create_pipeline().only_nodes("rotate_ground_truth_masks") + patching.create_pipeline().only_nodes(
        "match_cells_to_truth"
    )
    return reading + cells + truth + evaluation.create_pipeline().only_nodes("cell_profiles", "cluster_composition")


def _new_plate_nodes() -> list[Node]:
    return [
        Node(
            check_new_plate,
            inputs=["annotated_fields", "model_card", "params:preprocessing", "params:segmentation", "params:patching", "params:inference"],
            outputs="field_table",
            name="check_new_plate",
        ),
        Node(
            assign_to_trained_clusters,
            inputs=["trained_model", "latents", "patch_metadata", "clustering_reference", "model_card"],
            outputs="cluster_assignments",
            name="assign_to_trained_clusters",
        ),
        Node(
            summarise_new_plate,
            inputs=[
                "cluster_assignments", "cluster_composition", "composition_test", "model_card", "patch_truth", "params:evaluation",
            ],
            outputs=["summary", "report"],
            name="summarise_new_plate",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        _reused_nodes() + Pipeline(_new_plate_nodes()), namespace="new_plate", inputs=_TRAINED, parameters=_PARAMETERS
    )
