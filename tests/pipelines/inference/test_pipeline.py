"""The inference pipeline trains nothing: it reads the trained run and the new plate only."""

from __future__ import annotations

from cell_clustering.pipelines.inference import create_pipeline


def test_no_training_or_clustering_node_runs_in_inference():
    names = {node.name.removeprefix("new_plate.") for node in create_pipeline().nodes}
    assert {"segment_fields", "extract_patches", "encode_patches", "assign_to_trained_clusters"} <= names
    assert not names & {"train_cellpose", "train_model", "cluster_cells", "compare_representations", "split_annotated_fields"}


def test_it_reads_the_trained_run_and_the_new_plate_and_writes_only_new_plate_datasets():
    pipeline = create_pipeline()
    trained = {"trained_model", "cellpose_model", "segmentation_method", "clustering_reference", "model_card"}
    free = {name for name in pipeline.inputs() if not name.startswith("params:")}
    assert trained <= free
    assert all(name.startswith("new_plate.") for name in free - trained)
    assert all(name.startswith("new_plate.") for name in pipeline.all_outputs())
