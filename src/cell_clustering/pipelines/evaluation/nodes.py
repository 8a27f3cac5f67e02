"""Nodes of the ``evaluation`` pipeline: clusters of the representation, their quality,
their composition by condition, figures and the report."""

from __future__ import annotations

import html
import logging
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from cell_clustering import evaluation, plate_map, reporting
from cell_clustering.parameters import EvaluationParams

logger = logging.getLogger(__name__)

MORPHOLOGY_FEATURES = ["area", "aspect_ratio", "angle_to_grooves_deg", "solidity"]
FIGURE_TITLES = {
    "cluster_samples": "Sample cells per cluster",
    "latent_distributions": "Latent distributions per cluster",
    "cluster_correlations": "Correlation of cluster mean latents",
    "latent_map": "2-D map (UMAP)",
    "morphology_by_cluster": "Morphology per cluster",
}


def represent_cells(
    latents: np.ndarray, patches: np.ndarray, patch_metadata: pd.DataFrame, params: EvaluationParams
) -> dict[str, np.ndarray]:
    """Every representation compared on the same cells: the learned ``latents``, the
    ``morphology`` table (standardised) and the patch pixels reduced with PCA
    (``pixels_pca``), each (N, D) in patch order."""
    evaluation.check_aligned(latents, patch_metadata)
    evaluation.check_aligned(patches, patch_metadata)
    evaluation.check_against_data(patch_metadata, params)
    builders = {
        "latents": lambda: latents.astype(np.float32),
        "morphology": lambda: evaluation.morphology(
            patch_metadata, normalise=params.morphology.normalise, control=params.control_condition
        ),
        "pixels_pca": lambda: evaluation.pixels_pca(patches, n_components=params.pixels.n_components, seed=params.seeds[0]),
    }
    return {name: builders[name]() for name in params.representations}


def compare_representations(
    representations: dict[str, np.ndarray], patch_metadata: pd.DataFrame, params: EvaluationParams, patch_truth: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """The same clustering heads on every representation, over ``params.seeds``.

    Returns
    -------
    metrics_table : pandas.DataFrame
        One row per representation × head × k: mean and sd over the seeds of the
        internal scores and, where labels exist, accuracy / NMI / ARI against the
        condition and the planted shape (demo).
    diagnostics : dict
        ``probe_shape_accuracy`` per representation (cross-validated logistic
        regression, a diagnostic only) and ``shape_condition_nmi_ceiling``.
    mlflow_metrics : dict
        Every number above for MLflow.
    """
    labels = evaluation.labels_of(patch_metadata, params.label_column)
    shape_classes = evaluation.shape_classes_of(patch_truth, len(patch_metadata))
    table = evaluation.compare(representations, params, labels, shape_classes)
    ceiling = evaluation.condition_ceiling(shape_classes, patch_metadata["condition"].to_numpy())
    diagnostics = {"probe_shape_accuracy": evaluation.probes(representations, shape_classes), "shape_condition_nmi_ceiling": ceiling}
    logger.info("Representations × heads (mean over %d seeds):\n%s", len(params.seeds), table.to_string(index=False))
    return table, diagnostics, evaluation.as_mlflow_metrics(table, diagnostics)


def cluster_cells(representations: dict[str, np.ndarray], patch_metadata: pd.DataFrame, params: EvaluationParams) -> pd.DataFrame:
    """The reported clustering (``params.report``) for every k: the clustering table."""
    return evaluation.report_assignments(representations, patch_metadata, params, cell_id_columns(patch_metadata))


def cell_id_columns(patch_metadata: pd.DataFrame) -> list[str]:
    """What identifies a cell in a clustering table: ids, its centroid in the raw field
    (where known) and the plate map's ``Metadata_`` columns."""
    extra = [c for c in ("raw_centroid_row", "raw_centroid_col") if c in patch_metadata]
    return [*evaluation.ID_COLUMNS, *extra, *plate_map.metadata_columns(patch_metadata)]


# Per-cell table columns of patch_metadata, in this order: ids, coordinates (field =
# the raw image's frame, rotated = the groove-aligned frame the cell was measured in),
# morphology in physical units, then pixels-based shape ratios.
_CELL_COLUMNS = [
    "field", "condition", "cell_label", "raw_centroid_row", "raw_centroid_col", "centroid_row", "centroid_col",
    "pixel_size_um", "area_um2", "perimeter_um", "major_axis_length_um", "minor_axis_length_um", "eccentricity",
    "solidity", "extent", "aspect_ratio", "orientation", "angle_to_grooves_deg", "mean_intensity",
]


def cell_profiles(
    latents: np.ndarray, patch_metadata: pd.DataFrame, assignments: pd.DataFrame, params: EvaluationParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per cell, as image-profiling tools load it: ids, centroids in the field's
    and the rotated frame, morphology in µm, the plate map's ``Metadata_`` columns, the
    latent coordinates (``latent_<i>``), the reported cluster (``cluster``, and
    ``cluster_k<k>`` for every k) and what made it (``clustered_by``); returned twice,
    for the Parquet and the CSV file."""
    evaluation.check_aligned(latents, patch_metadata)
    columns = [c for c in _CELL_COLUMNS if c in patch_metadata] + plate_map.metadata_columns(patch_metadata)
    table = patch_metadata[columns].reset_index(drop=True)
    latent_columns = pd.DataFrame(latents, columns=[f"latent_{i}" for i in range(latents.shape[1])])
    clusters = assignments[[c for c in assignments if c.startswith("cluster_k")]].reset_index(drop=True)
    report = params.report
    # Cells put into a trained run's clusters (the inference pipeline) carry how far they
    # are from the training cells and which model placed them.
    transferred = assignments[[c for c in _TRANSFER_COLUMNS if c in assignments]].reset_index(drop=True)
    table = pd.concat([table, latent_columns, clusters, transferred], axis=1)
    table["cluster"] = clusters[f"cluster_k{report.k}"]
    if "clustered_by" not in table:
        table["clustered_by"] = f"{report.representation} / {report.head} / k={report.k}"
    return table, table  # Parquet (typed, compact) and CSV (for a spreadsheet)


_TRANSFER_COLUMNS = (
    "distance_to_training", "measurement_distance_to_training", "out_of_distribution", "out_of_distribution_latent",
    "out_of_distribution_measurements", "clustered_by",
)


def _report_clusters(assignments: pd.DataFrame, params: EvaluationParams) -> np.ndarray:
    return assignments[f"cluster_k{params.report.k}"].to_numpy()


def cluster_composition(assignments: pd.DataFrame, params: EvaluationParams) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Composition of the reported clusters (``report.k``) by condition, with a χ² test of
    independence and per-cluster enrichment p-values (see ``evaluation.composition``)."""
    clusters = _report_clusters(assignments, params)
    table, test = evaluation.composition(clusters, assignments["condition"].to_numpy(), params.control_condition)
    logger.info("Cluster composition (k=%s):\n%s\n%s", params.report.k, table.to_string(index=False), test)
    return table, test


def field_statistics(assignments: pd.DataFrame, params: EvaluationParams) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The reported clusters' composition with fields as the unit (see
    ``evaluation.field_statistics``): per-field proportions, per-cluster effects
    (mutant − control, bootstrap interval, permutation p-value) and the global test."""
    proportions = evaluation.field_proportions(
        _report_clusters(assignments, params), assignments["condition"].to_numpy(), assignments["field"].to_numpy()
    )
    options = params.field_statistics
    effects, test = evaluation.field_level_test(
        proportions, params.control_condition, n_permutations=options.n_permutations,
        n_bootstrap=options.n_bootstrap, confidence=options.confidence, seed=options.seed,
    )
    logger.info("Field-level composition test (k=%s): %s", params.report.k, _field_note(test))
    return proportions, effects, test


# What the compact comparison shows, best first: agreement with the planted shape
# (demo), with the condition, then the label-free stability and silhouette.
_COMPACT_METRICS = {"shape_accuracy": "shape ACC", "shape_nmi": "shape NMI", "nmi": "condition NMI",
                    "stability": "stability", "silhouette": "silhouette"}


def compact_comparison(metrics_table: pd.DataFrame, k: int) -> tuple[pd.DataFrame, str | None]:
    """Rows representation × head at ``k``, cells ``mean ± sd`` (3 decimals) of the
    metrics in ``_COMPACT_METRICS`` that exist, the best row by the first of them marked
    ``★`` in ``best``; and a sentence naming it (None without any metric)."""
    rows = metrics_table[metrics_table["k"] == k].reset_index(drop=True)
    shown = [name for name in _COMPACT_METRICS if name in rows and rows[name].notna().any()]
    table = rows[["representation", "head"]].copy()
    for name in shown:
        spread = rows.get(f"{name}_sd", pd.Series(np.nan, index=rows.index))
        table[_COMPACT_METRICS[name]] = [
            "" if pd.isna(mean) else f"{mean:.3f} ± {sd:.3f}" if pd.notna(sd) else f"{mean:.3f}" for mean, sd in zip(rows[name], spread, strict=True)
        ]
    if not shown:
        return table, None
    best = int(rows[shown[0]].idxmax())
    table["best"] = ["★" if index == best else "" for index in range(len(rows))]
    return table, f"Best at k = {k} by {_COMPACT_METRICS[shown[0]]}: {rows.at[best, 'representation']} / {rows.at[best, 'head']}."


def _comparison_section(metrics_table: pd.DataFrame, params: EvaluationParams) -> reporting.Section:
    """The comparison at the reported k, best marked; every metric and k a click away."""
    k = params.report.k
    table, lead = compact_comparison(metrics_table, k)
    lead = lead or f"Comparison at k = {k}."
    compact = table.to_html(index=False, escape=True)
    full = metrics_table.to_html(index=False, float_format=lambda v: f"{v:.4g}")
    body = (
        f"<p>{html.escape(lead)} Mean ± sd over the clustering seeds {list(params.seeds)}.</p>{compact}"
        f"<details><summary>Every metric at every k (clustering_metrics.csv)</summary>{full}</details>"
    )
    return reporting.Section("Which representation and head find the structure", body)


def _field_section(effects: pd.DataFrame, test: dict[str, Any], k: int) -> reporting.Section:
    title = f"Mutant − control share of each cluster, fields as the unit (k = {k})"
    if effects.empty:
        return reporting.text_section(title, _field_note(test))
    return reporting.table_section(title, effects, note=_field_note(test))


def _field_note(test: dict[str, Any]) -> str:
    if "p_value" not in test:
        return test["note"]
    return f"{test['test']}: {test['n_fields']} fields, p = {test['p_value']:.3g} ({test['n_permutations']} permutations)"


def plot_cluster_samples(patches: np.ndarray, assignments: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """``samples_per_cluster`` patches of every cluster (rows), drawn with a seed."""
    clusters = _report_clusters(assignments, params)
    groups = {}
    for label in sorted(np.unique(clusters)):
        members = np.flatnonzero(clusters == label)
        groups[f"cluster {label} ({len(members)} cells)"] = members
    figure = reporting.sample_grid(patches, groups, n_samples=params.samples_per_cluster, rng=np.random.default_rng(params.seeds[0]))
    return figure, reporting.png_base64(figure)


def plot_latent_distributions(latents: np.ndarray, assignments: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """Histograms of chosen latent dimensions, one curve per cluster."""
    clusters = _report_clusters(assignments, params)
    dims = [d for d in params.latent_dims_to_plot if d < latents.shape[1]]
    figure, axes = reporting.pyplot().subplots(1, len(dims), figsize=(3 * len(dims), 2.8), squeeze=False)
    for axis, dim in zip(axes[0], dims, strict=True):
        for label in sorted(np.unique(clusters)):
            axis.hist(latents[clusters == label, dim], bins=20, histtype="step", density=True, label=f"cluster {label}")
        axis.set_title(f"latent dimension {dim}", fontsize=9)
    axes[0][0].legend(fontsize=6)
    figure.tight_layout()
    return figure, reporting.png_base64(figure)


def plot_cluster_correlations(latents: np.ndarray, assignments: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """Pearson correlation between the clusters' mean latent profiles (across the
    latent dimensions): which clusters resemble each other."""
    clusters = _report_clusters(assignments, params)
    labels = sorted(np.unique(clusters))
    correlation = np.corrcoef(np.stack([latents[clusters == label].mean(axis=0) for label in labels]))
    figure, axis = reporting.pyplot().subplots(figsize=(4.5, 4))
    image = axis.imshow(correlation, vmin=-1, vmax=1, cmap="RdBu_r")
    axis.set_xticks(range(len(labels)), [str(label) for label in labels])
    axis.set_yticks(range(len(labels)), [str(label) for label in labels])
    for (row, col), value in np.ndenumerate(correlation):
        axis.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7)
    axis.set_title("correlation of cluster mean latents", fontsize=9)
    figure.colorbar(image, ax=axis)
    figure.tight_layout()
    return figure, reporting.png_base64(figure)


def plot_latent_map(latents: np.ndarray, assignments: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """A 2-D UMAP of the latents, coloured by cluster and by condition."""
    clusters = _report_clusters(assignments, params)
    embedding = evaluation.umap_embedding(latents, 2, params.map.n_neighbors, params.seeds[0], params.map.min_dist)
    figure, (by_cluster, by_condition) = reporting.pyplot().subplots(1, 2, figsize=(10, 4.5))
    by_cluster.scatter(embedding[:, 0], embedding[:, 1], c=clusters, cmap="tab10", s=8)
    by_cluster.set_title(f"UMAP coloured by cluster (k={params.report.k})", fontsize=9)
    for condition in sorted(assignments["condition"].unique()):
        mask = assignments["condition"].to_numpy() == condition
        by_condition.scatter(embedding[mask, 0], embedding[mask, 1], s=8, label=condition)
    by_condition.set_title("UMAP coloured by condition", fontsize=9)
    by_condition.legend(fontsize=7, markerscale=2)
    figure.tight_layout()
    return figure, reporting.png_base64(figure)


def interactive_latent_map(
    latents: np.ndarray, patches: np.ndarray, assignments: pd.DataFrame, params: EvaluationParams
) -> str:
    """The report's interactive map (HTML): the 2-D UMAP of the latents, coloured by
    cluster or condition, each cell's thumbnail and ids on hover."""
    evaluation.check_aligned(patches, assignments)
    embedding = evaluation.umap_embedding(latents, 2, params.map.n_neighbors, params.seeds[0], params.map.min_dist)
    return reporting.latent_map(embedding, assignments, _report_clusters(assignments, params), patches)


def plot_morphology_by_cluster(assignments: pd.DataFrame, patch_metadata: pd.DataFrame, params: EvaluationParams) -> tuple[Any, str]:
    """Box plots of shape features per cluster, so a cluster reads as a shape."""
    clusters = _report_clusters(assignments, params)
    labels = sorted(np.unique(clusters))
    figure, axes = reporting.pyplot().subplots(1, len(MORPHOLOGY_FEATURES), figsize=(3.2 * len(MORPHOLOGY_FEATURES), 3))
    for axis, feature in zip(axes, MORPHOLOGY_FEATURES, strict=True):
        axis.boxplot([patch_metadata.loc[clusters == label, feature] for label in labels], tick_labels=[str(label) for label in labels])
        axis.set_title(feature, fontsize=9)
        axis.set_xlabel("cluster", fontsize=8)
    figure.tight_layout()
    return figure, reporting.png_base64(figure)


def _composition_note(test: dict[str, Any]) -> str:
    if "note" in test:
        return test["note"]
    return f"{test['test']}: χ² = {test['chi2']:.2f}, dof = {test['dof']}, p = {test['p_value']:.3g}"


def _summary(metrics_table: pd.DataFrame, diagnostics: dict[str, Any], params: EvaluationParams) -> str:
    report = params.report
    rows = metrics_table[(metrics_table["representation"] == report.representation) & (metrics_table["head"] == report.head)]
    nmi = rows.set_index("k")["nmi"].get(report.k) if "nmi" in rows else None
    text = f"Clusters reported: {report.representation} clustered by {report.head}, k = {report.k}. "
    text += f"NMI(cluster, condition) = {nmi:.3f}." if nmi is not None and pd.notna(nmi) else "NMI not computed (one condition)."
    if diagnostics.get("shape_condition_nmi_ceiling") is not None:
        text += f" Ceiling for that NMI (NMI of planted shape and condition): {diagnostics['shape_condition_nmi_ceiling']:.3f}."
    return text


def _input_sections(field_table: pd.DataFrame, segmentation_method: dict[str, Any]) -> list[reporting.Section]:
    """What was read (fields per condition, files skipped and why) and how it was segmented."""
    usable = field_table["status"] == "ok"
    read = field_table[usable]
    columns = {"fields": ("field", "size"), "pixel_size_um": ("pixel_size_um", "median"),
               "rotated": ("rotation_deg", lambda a: int((a != 0).sum()))}
    if "angle_confidence" in read:  # groove alignment and density (preprocessing)
        columns |= {"median_angle_confidence": ("angle_confidence", "median"), "low_confidence": ("low_confidence", "sum"),
                    "crowded": ("density_bin", lambda bins: int((bins == "crowded").sum()))}
    per_condition = read.groupby("condition").agg(**columns).reset_index()
    skipped = field_table.loc[~usable, ["field", "status"]]
    flagged = read.loc[read["low_confidence"].astype(bool), "field"].tolist() if "low_confidence" in read else []
    sections = [reporting.table_section(
        f"Input: {int(usable.sum())} fields read, {len(skipped)} skipped, {len(flagged)} without a confident groove angle",
        per_condition,
        note="Fields whose groove angle was not found with confidence are not rotated"
        + (f": {', '.join(flagged)}." if flagged else "."),
    )]
    if len(skipped):
        sections.append(reporting.table_section("Files skipped, and why", skipped))
    method = segmentation_method.get("method", "unknown")
    sections.append(reporting.text_section("Segmentation", f"Segmented with {method}: {segmentation_method.get('reason', '')}."))
    return sections


def build_report(
    metrics_table: pd.DataFrame,
    diagnostics: dict[str, Any],
    composition_table: pd.DataFrame,
    composition_test: dict[str, Any],
    field_effects: pd.DataFrame,
    field_test: dict[str, Any],
    field_table: pd.DataFrame,
    segmentation_method: dict[str, Any],
    latent_map_html: str,
    stage_sections: list[reporting.Section],
    params: EvaluationParams,
    **figures: str,
) -> str:
    """One static HTML page for the whole run, every table and figure inline: the
    input, the stages before the clustering (``stage_sections``), then the clustering;
    ``figures`` are the base64 PNGs keyed by the names of ``FIGURE_TITLES``."""
    probes = pd.DataFrame(
        {"representation": list(diagnostics.get("probe_shape_accuracy", {})),
         "linear probe, planted shape": list(diagnostics.get("probe_shape_accuracy", {}).values())}
    )
    sections = [
        reporting.text_section("Summary", _summary(metrics_table, diagnostics, params)),
        *_input_sections(field_table, segmentation_method),
        *stage_sections,
        _comparison_section(metrics_table, params),
        *([reporting.table_section("How much of the planted shape each representation carries", probes)] if len(probes) else []),
        reporting.table_section(
            f"Composition of the clusters (k = {params.report.k}), cells as the unit", composition_table,
            note=_composition_note(composition_test),
        ),
        _field_section(field_effects, field_test, params.report.k),
        reporting.Section("Latent map: hover a cell to see it", latent_map_html),
        *[reporting.figure_section(FIGURE_TITLES[name], png) for name, png in figures.items()],
    ]
    return reporting.render_report("cell-clustering: run report", sections, _mlflow_line())


def _mlflow_line() -> str:
    """Which MLflow run holds this run's parameters, metrics and artifacts, and how to open it."""
    active = mlflow.active_run()
    if active is None:
        return "<p>No MLflow run was active: this run's metrics were not tracked.</p>"
    return (
        f"<p>MLflow run <code>{html.escape(active.info.run_id)}</code>: open it with "
        "<code>mlflow ui --backend-store-uri sqlite:///mlflow.db</code> (or <code>make mlflow-ui</code>) "
        "in the project folder.</p>"
    )
