"""Slice test of the ``patching`` pipeline on ground-truth masks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cell_clustering.pipelines.patching import create_pipeline
from tests.parameters import block
from tests.pipelines.slices import lazy, run_slice, small_demo


def test_patching_pipeline_cuts_one_patch_per_kept_cell_with_its_truth():
    images, masks, _, cells = small_demo()
    preprocessed = {field: (image / image.max()).astype(np.float32) for field, image in images.items()}
    params = block("patching", patch_size=32, grid={"samples_per_condition": 3, "seed": 0})
    fields = pd.DataFrame({"field": sorted(images), "condition": [f.split("/")[0] for f in sorted(images)], "pixel_size_um": 0.65})
    outputs = run_slice(create_pipeline(), {
        "preprocessed_images": lazy(preprocessed), "predicted_masks": lazy(masks), "rotated_masks": lazy(masks), "field_table": fields,
        "demo_cells": cells, "params:patching": params, "params:compute": block("compute"),
    })
    patches, metadata, truth = outputs["patches"], outputs["patch_metadata"], outputs["patch_truth"]
    assert patches.shape == (len(metadata), 1, 32, 32) and len(truth) == len(metadata)
    # Predicted masks are the truth here: every patch matches its own cell exactly.
    assert (truth["iou"] == 1.0).all() and (truth["true_cell_label"] == metadata["cell_label"]).all()
    counts = outputs["patch_counts"].set_index("condition")
    assert counts.loc["total", "patches_minus_truth"] == 0
    assert outputs["cell_size_suggestion"]["n_cells"] == len(metadata)
