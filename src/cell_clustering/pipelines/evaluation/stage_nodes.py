"""The run report's sections on the stages before the clustering: what preprocessing
did, how well the cells were segmented, how many became patches, and whether the shape
model's training converged. Each leads with its answer in a sentence; the figures are
read back from the files the stages saved (``<name>@png``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cell_clustering import reporting

_MAX_LISTED = 10  # fields named in a sentence; the rest are in the CSV


def describe_stages(  # one input per stage output the report shows
    preprocessing_png: Any, cells_per_field: pd.DataFrame, segmentation_quality: pd.DataFrame, segmentation_png: Any,
    patch_counts: pd.DataFrame, cell_size_suggestion: dict[str, Any], cell_size_png: Any, patch_grid_png: Any,
    training_png: Any,
) -> list[reporting.Section]:
    """Sections on preprocessing, segmentation, patching and training, in that order.

    The PNG inputs are PIL images, or None where the stage never saved that figure
    here; the tables are the stages' CSV outputs.
    """
    return [
        _figure("Preprocessing: fields raw (left) and preprocessed (right)", preprocessing_png),
        *_segmentation_sections(cells_per_field, segmentation_quality, segmentation_png),
        *_patching_sections(patch_counts, cell_size_suggestion, cell_size_png, patch_grid_png),
        _figure(
            "Training of the shape model: losses per evaluation step (still falling at the end: more updates; "
            "validation rising while training falls: fewer)",
            training_png,
        ),
    ]


def _segmentation_sections(cells: pd.DataFrame, quality: pd.DataFrame, figure: Any) -> list[reporting.Section]:
    empty = cells.loc[cells["n_cells"] == 0, "field"].tolist()
    lead = f"{int(cells['n_cells'].sum())} cells found in {len(cells)} fields"
    lead += f"; {len(empty)} fields with none: {', '.join(empty[:_MAX_LISTED])}{' …' if len(empty) > _MAX_LISTED else ''}." if empty else \
        "; every field has cells."
    sections = [reporting.text_section("Segmentation: cells per field", lead)]
    overall = quality[quality["field"] == "overall"].drop(columns="field")
    if len(overall):
        first_ap = next(column for column in overall if column.startswith("ap_"))
        answer = "; ".join(f"{method} {score:.3f}" for method, score in zip(overall["method"], overall[first_ap], strict=True))
        sections.append(reporting.table_section(
            f"Segmentation against the ground truth of the held-out fields: mean {first_ap.replace('ap_', 'AP@')} {answer}", overall,
            note="The classical segmentation (Otsu + watershed) is the baseline beside the method used; per field in "
            "segmentation_quality.csv.",
        ))
    sections.append(_figure("Segmentation: predicted outlines", figure))
    return sections


def _patching_sections(counts: pd.DataFrame, suggestion: dict[str, Any], sizes: Any, grid: Any) -> list[reporting.Section]:
    # count_against_truth adds a "total" row when the run has more than one condition.
    per_condition = counts[counts["condition"] != "total"]
    lead = f"{int(per_condition['patches'].sum())} patches from {int(per_condition['segmented_cells'].sum())} segmented cells"
    fit = (
        f"Size study (patching.size_study): {suggestion['share_fitting_configured_size']:.0%} of the cells have a longest "
        f"side within {suggestion['configured_patch_size']} px, {suggestion['percentile']:g} % within "
        f"{suggestion['suggested_patch_size']} px (the suggested crop)."
    )
    return [
        reporting.table_section(f"Patching: {lead}", counts, note=fit),
        _figure("Patching: cell sizes per condition", sizes),
        _figure("Patching: sample patches per condition", grid),
    ]


def _figure(title: str, image: Any) -> reporting.Section:
    if image is None:
        return reporting.text_section(title, "Not found: the stage that draws it has not run in this project since it does.")
    return reporting.figure_section(title, reporting.image_base64(image))
