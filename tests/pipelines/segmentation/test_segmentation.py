"""Tests of the Cellpose nodes: model sources, training, inference, quality."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch
from cellpose import models

from cell_clustering import demo_data
from cell_clustering import segmentation as cp
from cell_clustering.datasets import CellposeModelDataset, CellposeSegDataset
from cell_clustering.parameters.segmentation import CellposeTrainingParams
from cell_clustering.pipelines.preprocessing.nodes import _annotation_loaders
from cell_clustering.pipelines.segmentation.nodes import (
    CLASSICAL_SEGMENTER,
    _diameter_px,
    choose_segmentation_method,
    count_cells_per_field,
    evaluate_segmentation,
    segment_fields,
    split_fields,
    train_cellpose,
)
from tests.parameters import block

PARAMS = block("segmentation")
SEQUENTIAL = block("compute")
CELLPOSE = {"method": "cellpose", "trains_cellpose": True}
CLASSICAL = {"method": "classical", "trains_cellpose": False}


def _fields(*names: str, pixel_size_um: float = 0.65) -> pd.DataFrame:
    return pd.DataFrame({"field": list(names), "pixel_size_um": pixel_size_um})


def _split(**roles: int) -> pd.DataFrame:
    rows = [(f"c/{role}{i}", role) for role, n in roles.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["field", "role"])


@pytest.mark.parametrize(
    ("settings", "roles", "expected"),
    [
        ({}, {"train": 2, "validation": 1}, "cellpose"),
        ({}, {"unannotated": 3}, "classical"),
        ({"train": False}, {"train": 2}, "classical"),
        ({"method": "classical"}, {"train": 2}, "classical"),
        ({"method": "cellpose"}, {"unannotated": 3}, "cellpose"),
    ],
)
def test_auto_method_uses_cellpose_only_with_annotations_or_a_model(settings, roles, expected, caplog):
    with caplog.at_level(logging.INFO):
        choice = choose_segmentation_method(_split(**roles), block("segmentation", **settings))
    assert choice["method"] == expected
    assert f"Segmentation method: {expected}" in caplog.text
    if not settings and expected == "classical":
        assert "no annotated field" in choice["reason"] and "offline" in choice["reason"]


def test_auto_method_with_a_model_file_uses_cellpose(tmp_path):
    weights = tmp_path / "gui_model"
    weights.write_bytes(b"x")
    choice = choose_segmentation_method(_split(unannotated=2), block("segmentation", model_source=str(weights)))
    assert choice["method"] == "cellpose" and "model_source" in choice["reason"]


def test_classical_choice_trains_nothing_and_segments_every_field():
    config = block("demo_data", field_shape=[160, 160])
    image = demo_data.generate_field(config, "control", 0)[0].astype(np.float32)
    segmenter, history = train_cellpose({"c/a": lambda: image}, {}, _split(unannotated=1), CLASSICAL, PARAMS)
    assert segmenter == CLASSICAL_SEGMENTER and history == {}
    labels = segment_fields({"c/a": lambda: image}, segmenter, CLASSICAL, _fields("c/a"), PARAMS, SEQUENTIAL)["c/a"]()
    assert labels.max() > 0


def test_cell_diameter_in_micrometres_becomes_pixels_at_each_fields_pixel_size():
    params = block("segmentation", cell_diameter_um=13.0)
    assert _diameter_px(params, False, 0.65) == pytest.approx(20.0)
    assert _diameter_px(params, False, 0.325) == pytest.approx(40.0)
    assert _diameter_px(params, True, 0.65) is None  # trained here: the masks' mean diameter
    assert _diameter_px(block("segmentation", inference={"diameter": 17.0}), False, 0.65) == 17.0


def test_model_source_none_builtin_and_existing_path(tmp_path):
    assert cp.resolve_model_source("none") == cp.ModelSource("none")
    assert cp.resolve_model_source(None) == cp.ModelSource("none")
    assert cp.resolve_model_source("cyto3") == cp.ModelSource("builtin", "cyto3")
    weights = tmp_path / "my_model"
    weights.write_bytes(b"x")
    assert cp.resolve_model_source(str(weights)) == cp.ModelSource("path", str(weights.resolve()))


def test_missing_model_path_is_an_error_naming_it():
    with pytest.raises(FileNotFoundError, match="models/from_gui_v2"):
        cp.resolve_model_source("models/from_gui_v2")


@pytest.mark.parametrize(("name", "file_name"), [("cyto3", "cyto3"), ("nuclei", "nucleitorch_0")])
def test_builtin_name_reaches_cellpose_unchanged_and_offline_says_what_to_copy(name, file_name):
    # The file name cellpose 3.1 itself looks for (models.model_path: "nuclei" → nucleitorch_0).
    assert cp.builtin_file_name(name) == file_name
    try:
        model = cp.build_model(cp.ModelSource("builtin", name))
    except FileNotFoundError as error:  # offline: which file to put where
        assert f"Copy the file '{file_name}'" in str(error) and str(models.MODEL_DIR) in str(error)
    else:  # with internet, cellpose fetched exactly the requested weights
        assert str(model.pretrained_model).endswith(file_name)


def test_split_is_by_field_seeded_and_marks_unannotated():
    images = {f"c/f{i}": None for i in range(10)}
    masks = {f"c/f{i}": None for i in range(8)}
    params = block("segmentation", validation_fraction=0.25, split_seed=3)
    split = split_fields(images, masks, params)
    assert split["role"].value_counts().to_dict() == {"train": 6, "validation": 2, "unannotated": 2}
    assert split.equals(split_fields(images, masks, params))
    single = split_fields({"c/a": None}, {"c/a": None}, params)
    assert single["role"].tolist() == ["train"]


def test_training_errors_name_the_problem():
    image = np.zeros((64, 64), np.float32)
    split = pd.DataFrame({"field": ["c/a"], "role": ["train"]})
    with pytest.raises(ValueError, match="c/a"):
        train_cellpose({"c/a": lambda: image}, {"c/a": lambda: np.zeros((32, 32), np.uint16)}, split, CELLPOSE, PARAMS)
    one_cell = np.zeros((64, 64), np.uint16)
    one_cell[10:20, 10:20] = 1
    with pytest.raises(ValueError, match="min_train_masks=5"):
        train_cellpose({"c/a": lambda: image}, {"c/a": lambda: one_cell}, split, CELLPOSE, PARAMS)
    with pytest.raises(ValueError, match="No annotated field"):
        train_cellpose({"c/a": lambda: image}, {}, pd.DataFrame({"field": ["c/a"], "role": ["unannotated"]}), CELLPOSE, PARAMS)
    with pytest.raises(ValueError, match="untrained CPnet"):
        train_cellpose({}, {}, split, CELLPOSE, block("segmentation", train=False))


def test_field_with_no_cell_gives_empty_mask_and_warning(caplog):
    state = cp.build_model(cp.ModelSource("none")).net.state_dict()
    partitions = segment_fields({"c/blank": lambda: np.zeros((64, 64), np.float32)}, state, CELLPOSE, _fields("c/blank"), PARAMS, SEQUENTIAL)
    with caplog.at_level(logging.WARNING):
        labels = partitions["c/blank"]()
    assert labels.shape == (64, 64) and labels.max() == 0
    assert "c/blank" in caplog.text


def test_quality_table_scores_perfect_prediction_and_baseline():
    config = block("demo_data", field_shape=[192, 192])
    image, labels, _, _ = demo_data.generate_field(config, "control", 0)
    split = pd.DataFrame({"field": ["c/a"], "role": ["validation"]})
    image = image.astype(np.float32)
    table, metrics = evaluate_segmentation({"c/a": lambda: image}, {"c/a": lambda: labels}, {"c/a": lambda: labels}, split, CELLPOSE, block("segmentation", post_filters={"drop_border": False, "min_area": 0, "max_area": None}))
    overall = table[table["field"] == "overall"].set_index("method")
    assert overall.loc["cellpose", "ap_0.5"] == 1.0 and overall.loc["cellpose", "aggregated_jaccard"] == 1.0
    assert 0 < overall.loc["classical", "ap_0.5"] <= 1.0
    assert metrics["cellpose.ap_0.5"] == {"value": 1.0, "step": 0}
    assert set(table["method"]) == {"cellpose", "classical"}


def test_quality_without_held_out_fields_is_empty():
    table, metrics = evaluate_segmentation({}, {}, {}, pd.DataFrame({"field": ["c/a"], "role": ["train"]}), CELLPOSE, PARAMS)
    assert table.empty and metrics == {}


def test_cellpose_model_file_loads_in_cellpose(tmp_path):
    net_state = cp.build_model(cp.ModelSource("none")).net.state_dict()
    path = tmp_path / "cellpose_model.pt"
    CellposeModelDataset(filepath=str(path)).save(net_state)
    reloaded = models.CellposeModel(gpu=False, pretrained_model=str(path))
    torch.testing.assert_close(reloaded.net.state_dict()["output.2.weight"], net_state["output.2.weight"])


def test_gui_annotations_map_to_field_keys(tmp_path):
    masks = np.zeros((8, 8), np.uint16)
    masks[2:5, 2:5] = 1
    np.save(tmp_path / "f1_seg.npy", {"masks": masks, "outlines": None}, allow_pickle=True)
    np.testing.assert_array_equal(CellposeSegDataset(filepath=str(tmp_path / "f1_seg.npy")).load(), masks)
    loaders = _annotation_loaders({"c/f2_masks": lambda: "tif", "c/f1": lambda: "tif1"}, {"c/f1": lambda: "npy", "c/f3": lambda: "npy3"})
    assert {key: load() for key, load in loaders.items()} == {"c/f1": "tif1", "c/f2": "tif", "c/f3": "npy3"}


@pytest.fixture(scope="module")
def trained_on_demo_fields() -> tuple[models.CellposeModel, list[np.ndarray], list[np.ndarray]]:
    """A CPnet trained from scratch on three 192×192 demo fields of 9 cells; the
    fourth field (index 0 of the lists) was not trained on."""
    config = block(
        "demo_data", field_shape=[192, 192], crowded_fraction=0.0,
        cells_per_field={"sparse": 9, "crowded": 9}, min_gap_um={"sparse": 2.0, "crowded": 0.0},
    )
    fields = [demo_data.generate_field(config, condition, 0) for condition in config.conditions]
    images = [f[0].astype(np.float32) for f in fields]
    masks = [f[1] for f in fields]
    model = cp.build_model(cp.ModelSource("none"))
    cp.train(model, images[1:], masks[1:], [], [], CellposeTrainingParams(updates=80, bsize=128, batch_size=2, min_train_masks=1))
    return model, images, masks


@pytest.mark.slow
def test_training_raises_average_precision_above_the_untrained_model(trained_on_demo_fields):
    model, images, masks = trained_on_demo_fields
    untrained = cp.build_model(cp.ModelSource("none"))
    baseline = cp.average_precision(masks[:1], [cp.segment(untrained, images[0], diameter=30.0)], [0.5])[0, 0]
    trained = cp.average_precision(masks[:1], [cp.segment(model, images[0])], [0.5])[0, 0]
    assert trained > baseline
    assert trained > 0.5


@pytest.mark.slow
def test_fields_with_one_to_three_cells_are_segmented_like_full_ones(trained_on_demo_fields):
    # 448×448 fields with 1-3 cells: under 1 % of the pixels are cell, so Cellpose's
    # default percentiles (1, 99) put the 99th in the background and the cells go unseen.
    # The bar is the full fields' (> 0.5), not their exact recall: how many cells a
    # training of 80 updates finds varies from one CPU to another (sparse 6 of 7 cells
    # against full 9 of 9 on an AVX2-only machine, where another machine found as many).
    model, images, masks = trained_on_demo_fields
    config = block("demo_data", field_shape=[448, 448], crowded_fraction=0.0, cells_per_field={"sparse": 1.5, "crowded": 2})
    drawn = (demo_data.generate_field(config, "control", index) for index in range(30))
    sparse = [field for field in drawn if 1 <= field[2]["n_cells"] <= 3][:4]
    assert len(sparse) == 4
    true_masks, fields = [f[1] for f in sparse], [f[0].astype(np.float32) for f in sparse]
    full_recall = cp.recall(masks[:1], [cp.segment(model, images[0])])
    sparse_recall = cp.recall(true_masks, [cp.segment(model, field) for field in fields])
    cellpose_default_recall = cp.recall(true_masks, [cp.segment(model, field, percentiles=(1.0, 99.0)) for field in fields])
    assert full_recall > 0.5
    assert sparse_recall > 0.5
    assert cellpose_default_recall < sparse_recall  # what the project's percentiles mend


def test_model_from_scratch_is_seeded():
    first = cp.build_model(cp.ModelSource("none"), seed=3).net.state_dict()
    torch.manual_seed(12345)  # whatever happened before must not matter
    second = cp.build_model(cp.ModelSource("none"), seed=3).net.state_dict()
    for name, tensor in first.items():
        torch.testing.assert_close(tensor, second[name], rtol=0, atol=0)


def test_a_model_file_used_as_is_is_saved_with_the_same_bytes(tmp_path):
    # An unchanged model must give the same file, so that MLflow does not upload it again.
    source = tmp_path / "from_gui.pt"
    CellposeModelDataset(filepath=str(source)).save(cp.build_model(cp.ModelSource("none"), seed=1).net.state_dict())
    params = block("segmentation", model_source=str(source), train=False)
    weights, history = train_cellpose({}, {}, _split(unannotated=1), CELLPOSE, params)
    saved = tmp_path / "saved.pt"
    CellposeModelDataset(filepath=str(saved)).save(weights)
    assert saved.read_bytes() == source.read_bytes() and history == {}


def test_a_nuclear_channel_reaches_cellpose_as_its_second_channel():
    cells = np.random.default_rng(0).uniform(size=(64, 64)).astype(np.float32)
    nuclei = np.random.default_rng(1).uniform(size=(64, 64)).astype(np.float32)
    stacked, channels = cp.with_nuclei(cells, nuclei)
    assert stacked.shape == (64, 64, 2) and channels == (1, 2)
    np.testing.assert_array_equal(stacked[..., 1], nuclei)
    assert cp.with_nuclei(cells, None)[1] == (0, 0)
    state = cp.build_model(cp.ModelSource("none")).net.state_dict()
    labels = segment_fields(
        {"c/a": lambda: cells}, state, CELLPOSE, _fields("c/a"), PARAMS, SEQUENTIAL, {"c/a": lambda: nuclei}
    )["c/a"]()
    assert labels.shape == (64, 64)
    with pytest.raises(ValueError, match="nuclear plane has shape"):
        cp.with_nuclei(cells, nuclei[:32])


def test_a_collapsed_training_stops_the_run_naming_the_parameters():
    config = block("demo_data", field_shape=[160, 160], cells_per_field={"sparse": 8, "crowded": 8}, crowded_fraction=0.0)
    image, labels, _, _ = demo_data.generate_field(config, "control", 0)
    split = pd.DataFrame({"field": ["c/a"], "role": ["train"]})
    starved = block("segmentation", training={"updates": 2, "batch_size": 2, "min_train_masks": 1})
    with pytest.raises(ValueError, match=r"collapsed: .* finds 0 cells where \d+ are annotated.*segmentation.training.updates"):
        train_cellpose({"c/a": lambda: image.astype(np.float32)}, {"c/a": lambda: labels}, split, CELLPOSE, starved)


@pytest.mark.slow
def test_three_annotated_crops_teach_cellpose_the_held_out_nuclei():
    # The "few real-like annotations" case (benchmarks/segmentation.py few gives the
    # figures of the default budget, 128 updates, and the classical baseline); 60
    # updates keep the suite short and reached AP@0.5 0.99-1.00 on model seeds 0 and 1.
    train = [demo_data.nuclei_crop(seed) for seed in (0, 1, 2)]
    held_out = [demo_data.nuclei_crop(seed) for seed in (100, 101)]
    model = cp.build_model(cp.ModelSource("none"), seed=0)
    budget = CellposeTrainingParams(updates=60, batch_size=4, min_train_masks=1)
    cp.train(model, [i.astype(np.float32) for i, _ in train], [m for _, m in train], [], [], budget)
    predicted = [cp.segment(model, image.astype(np.float32)) for image, _ in held_out]
    ap = cp.average_precision([m for _, m in held_out], predicted, [0.5]).mean()
    assert ap >= 0.8
    for (_, truth), labels in zip(held_out, predicted, strict=True):
        assert abs(int(labels.max()) - int(truth.max())) <= 0.2 * truth.max()


def test_cells_per_field_lists_the_fields_where_nothing_was_found(caplog):
    one = np.zeros((16, 16), np.uint16)
    one[2:6, 2:6], one[8:12, 8:12] = 1, 2
    masks = {"c/two": lambda: one, "c/none": lambda: np.zeros((16, 16), np.uint16)}
    with caplog.at_level(logging.WARNING):
        counts = count_cells_per_field(masks, CLASSICAL)
    assert counts.set_index("field")["n_cells"].to_dict() == {"c/none": 0, "c/two": 2}
    assert (counts["method"] == "classical").all()
    assert "1 of 2 fields have no cell found: c/none" in caplog.text


def test_the_same_seed_trains_the_same_weights_and_finds_the_same_masks():
    train = [demo_data.nuclei_crop(0)]
    held_out = demo_data.nuclei_crop(100)[0][:128, :128]
    budget = CellposeTrainingParams(updates=2, batch_size=1, bsize=128, min_train_masks=1, n_checks=2, seed=4)

    def trained() -> tuple[dict, np.ndarray]:
        model = cp.build_model(cp.ModelSource("none"), seed=4)
        np.random.seed(999)  # whatever the global RNGs hold before must not matter
        torch.manual_seed(999)
        cp.train(model, [i.astype(np.float32) for i, _ in train], [m for _, m in train], [], [], budget)
        return model.net.state_dict(), cp.segment(model, held_out.astype(np.float32))

    (first_weights, first_masks), (second_weights, second_masks) = trained(), trained()
    for name, tensor in first_weights.items():
        torch.testing.assert_close(tensor, second_weights[name], rtol=0, atol=0)
    np.testing.assert_array_equal(first_masks, second_masks)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32])
def test_quality_metrics_count_objects_not_the_largest_label(dtype):
    # Annotations with gaps in their labels (a deleted mask, a cell rotated out of
    # the field): cellpose's metrics alone would count label 7 as seven objects.
    truth = np.zeros((64, 64), dtype)
    truth[5:20, 5:20], truth[30:50, 30:50] = 2, 7
    predicted = np.zeros((64, 64), np.uint16)
    predicted[5:20, 5:20], predicted[30:50, 30:50] = 1, 9
    assert cp.average_precision([truth], [predicted], [0.5]).tolist() == [[1.0]]
    assert cp.recall([truth], [predicted]) == 1.0
    predicted[30:50, 30:50] = 0
    assert cp.recall([truth], [predicted]) == 0.5
