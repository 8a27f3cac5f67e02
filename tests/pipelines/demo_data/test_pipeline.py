"""Slice test of the ``demo_data`` pipeline."""

from __future__ import annotations

import numpy as np

from cell_clustering.pipelines.demo_data import create_pipeline
from tests.parameters import block
from tests.pipelines.slices import run_slice


def test_demo_data_pipeline_draws_fields_masks_and_truth():
    params = block("demo_data", fields_per_condition=2, field_shape=[128, 128], cells_per_field={"sparse": 3, "crowded": 5})
    outputs = run_slice(create_pipeline(), {"params:demo_data": params})
    images, masks, fields, cells = (outputs[name] for name in ("raw_images", "raw_masks", "demo_fields", "demo_cells"))
    assert len(images) == len(masks) == len(fields) == 2 * len(params.conditions)
    assert all(image.shape == (128, 128) and image.dtype == np.uint16 for image in images.values())
    assert sorted(images) == sorted(fields["field"])
    assert cells.groupby("field").size().sum() == sum(int(mask.max()) for mask in masks.values())
