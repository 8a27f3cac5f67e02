"""Slice test of the ``preprocessing`` pipeline on a small demo dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cell_clustering.pipelines.preprocessing import create_pipeline
from tests.parameters import block
from tests.pipelines.slices import lazy, materialise, run_slice, small_demo


def test_preprocessing_pipeline_measures_rotates_and_normalises():
    images, masks, fields, _ = small_demo()
    params = block("preprocessing", density_bins=[
        {"name": "sparse", "max_foreground": 0.07, "clahe_clip_limit": 0.01, "clahe_kernel_size": 32, "tv_weight": 0.06},
        {"name": "crowded", "max_foreground": 1.0, "clahe_clip_limit": 0.008, "clahe_kernel_size": 48, "tv_weight": 0.04},
    ])
    outputs = run_slice(create_pipeline(), {
        "raw_images": lazy(images), "raw_masks": lazy(masks), "raw_annotations_seg": {}, "demo_fields": fields,
        "plate_map": pd.DataFrame(),
        "params:preprocessing": params, "params:compute": block("compute"),
    })
    table = outputs["field_table"]
    assert (table["status"] == "ok").all() and table["angle_error_deg"].max() < 2.0
    preprocessed = materialise(outputs["preprocessed_images"])
    rotated = materialise(outputs["rotated_masks"])
    assert sorted(preprocessed) == sorted(rotated) == sorted(images)
    for field, image in preprocessed.items():
        assert image.dtype == np.float32 and 0.0 <= image.min() and image.max() <= 1.0
        assert image.shape == rotated[field].shape
        # Nearest-neighbour rotation keeps the labels: no new label value appears.
        assert set(np.unique(rotated[field])) <= set(np.unique(masks[field]))
    assert outputs["preprocessing_metrics"]["n_fields"]["value"] == len(images)
    assert len(outputs["preprocessing_figure@figure"].axes) == 2 * min(len(images), params.n_figure_fields)
