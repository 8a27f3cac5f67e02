"""Wiring of the ``evaluation`` pipeline."""

from kedro.pipeline import Node, Pipeline

from cell_clustering.pipelines.evaluation.chain_nodes import (
    package_cluster_model,
    save_trained_chain,
)
from cell_clustering.pipelines.evaluation.nodes import (
    build_report,
    cell_profiles,
    cluster_cells,
    cluster_composition,
    compare_representations,
    field_statistics,
    interactive_latent_map,
    plot_cluster_correlations,
    plot_cluster_samples,
    plot_latent_distributions,
    plot_latent_map,
    plot_morphology_by_cluster,
    represent_cells,
)
from cell_clustering.pipelines.evaluation.stage_nodes import describe_stages

FIGURES = {
    "cluster_samples": (plot_cluster_samples, ["patches", "cluster_assignments"]),
    "latent_distributions": (plot_latent_distributions, ["latents", "cluster_assignments"]),
    "cluster_correlations": (plot_cluster_correlations, ["latents", "cluster_assignments"]),
    "latent_map": (plot_latent_map, ["latents", "cluster_assignments"]),
    "morphology_by_cluster": (plot_morphology_by_cluster, ["cluster_assignments", "patch_metadata"]),
}


def _per_cell_and_field_nodes() -> list[Node]:
    """The per-cell table, the field-level statistics and the report's interactive map."""
    return [
        Node(
            cell_profiles,
            inputs=["latents", "patch_metadata", "cluster_assignments", "params:evaluation"],
            outputs=["cell_profiles", "cell_profiles_csv"],
            name="cell_profiles",
        ),
        Node(
            field_statistics,
            inputs=["cluster_assignments", "params:evaluation"],
            outputs=["field_proportions", "field_effects", "field_level_test"],
            name="field_statistics",
        ),
        Node(
            interactive_latent_map,
            inputs=["latents", "patches", "cluster_assignments", "params:evaluation"],
            outputs="latent_map_html",
            name="interactive_latent_map",
        ),
        Node(
            save_trained_chain,
            inputs=[
                "trained_model", "latents", "cluster_assignments", "patch_metadata", "field_table", "params:preprocessing",
                "params:segmentation", "params:patching", "params:evaluation", "params:inference",
            ],
            outputs=["clustering_reference", "model_card"],
            name="save_trained_chain",
        ),
        Node(
            package_cluster_model,
            inputs=["trained_model", "clustering_reference", "model_card"],
            outputs="registered_cluster_model",
            name="register_cluster_model",
        ),
    ]


def _report_nodes() -> list[Node]:
    """One node per figure, then the report that embeds them."""
    figure_nodes = [
        Node(function, inputs=[*inputs, "params:evaluation"], outputs=[f"{name}_figure", f"{name}_png"], name=f"plot_{name}")
        for name, (function, inputs) in FIGURES.items()
    ]
    report = Node(
        build_report,
        inputs={
            "metrics_table": "clustering_metrics",
            "diagnostics": "representation_diagnostics",
            "composition_table": "cluster_composition",
            "composition_test": "composition_test",
            "field_effects": "field_effects",
            "field_test": "field_level_test",
            "field_table": "field_table",
            "segmentation_method": "segmentation_method",
            "latent_map_html": "latent_map_html",
            "stage_sections": "stage_sections",
            "params": "params:evaluation",
            **{name: f"{name}_png" for name in FIGURES},
        },
        outputs="evaluation_report",
        name="build_report",
    )
    stages = Node(
        describe_stages,
        inputs=[
            "preprocessing_figure@png", "cells_per_field", "segmentation_quality", "segmentation_figure@png", "patch_counts",
            "cell_size_suggestion", "cell_size_figure@png", "patch_grid_figure@png", "training_curves@png",
        ],
        outputs="stage_sections",
        name="describe_stages",
    )
    return [*figure_nodes, stages, report]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                represent_cells,
                inputs=["latents", "patches", "patch_metadata", "params:evaluation"],
                outputs="cell_representations",
                name="represent_cells",
            ),
            Node(
                compare_representations,
                inputs=["cell_representations", "patch_metadata", "params:evaluation", "patch_truth"],
                outputs=["clustering_metrics", "representation_diagnostics", "clustering_metrics_mlflow"],
                name="compare_representations",
            ),
            Node(
                cluster_cells,
                inputs=["cell_representations", "patch_metadata", "params:evaluation"],
                outputs="cluster_assignments",
                name="cluster_cells",
            ),
            Node(
                cluster_composition,
                inputs=["cluster_assignments", "params:evaluation"],
                outputs=["cluster_composition", "composition_test"],
                name="cluster_composition",
            ),
            *_per_cell_and_field_nodes(),
            *_report_nodes(),
        ]
    )
