"""Slice test of the ``segmentation`` pipeline after training: split, inference with a
given CPnet, quality against the annotations and the outline figure. (Training runs
in test_segmentation.py and in the end-to-end tests.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cell_clustering import segmentation
from cell_clustering.pipelines.segmentation import create_pipeline
from tests.parameters import block
from tests.pipelines.slices import lazy, materialise, run_slice, small_demo


def test_segmentation_pipeline_after_training():
    images, masks, _, _ = small_demo()
    preprocessed = {field: (image / image.max()).astype(np.float32) for field, image in images.items()}
    untrained = segmentation.build_model(segmentation.ModelSource("none"), seed=0).net.state_dict()
    pipeline = create_pipeline().only_nodes(
        "split_annotated_fields", "choose_segmentation_method", "segment_fields", "evaluate_segmentation", "plot_segmentation"
    )
    params = block("segmentation", validation_fraction=0.4, inference={"diameter": 30.0})
    outputs = run_slice(pipeline, {
        "preprocessed_images": lazy(preprocessed), "rotated_masks": lazy(masks), "cellpose_model": untrained,
        "preprocessed_nuclei": {},
        "field_table": pd.DataFrame({"field": sorted(images), "pixel_size_um": 0.65}),
        "params:segmentation": params, "params:compute": block("compute"),
    })
    assert outputs["segmentation_method"]["method"] == "cellpose"  # annotated fields to train on
    split = outputs["segmentation_split"]
    assert (split["role"] == "validation").sum() == 2 and (split["role"] == "train").sum() == 3
    predicted = materialise(outputs["predicted_masks"])
    assert sorted(predicted) == sorted(images)
    assert all(labels.shape == images[field].shape for field, labels in predicted.items())
    quality = outputs["segmentation_quality"].set_index(["method", "field"])
    validation = split.loc[split["role"] == "validation", "field"]
    assert quality.loc[("classical", "overall"), "n_true"] == sum(int(masks[field].max()) for field in validation)
    assert "classical.ap_0.5" in outputs["segmentation_quality_mlflow"]
    assert len(outputs["segmentation_figure@figure"].axes) == 2 * params.n_figure_fields
