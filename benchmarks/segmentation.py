"""Segmentation figures. Prints them; asserts nothing.

    .venv/bin/python benchmarks/segmentation.py few [--updates N] [--seeds 0 1 2]
    .venv/bin/python benchmarks/segmentation.py speed [--fields N] [--model PATH]
    .venv/bin/python benchmarks/segmentation.py sparse [--fields N] [--model PATH]

``few``: Cellpose trained from scratch on 3 annotated 256×256 nuclei crops (drawn by
``demo_data.nuclei_crop``, seeds 0-2), the classical baseline beside it, both scored
by AP@0.5 / AP@0.75 on 4 held-out crops (seeds 100-103); training time per model seed.

``speed``: seconds per 512×512 field through the pipeline's node and through a direct
``CellposeModel.eval`` call on the same fields, and their ratio. Uses the latest
trained model in data/06_models/cellpose_model.pt (run `make demo` first) or --model.

``sparse``: recall at IoU 0.5 of that model on new demo fields (seed 1000, not the
demo's) with 1-3 cells and on crowded ones, each preprocessed as the pipeline does,
under the configured ``normalize_percentiles`` and under Cellpose's default (1, 99);
predictions and truth pass the pipeline's post-filters (``min_area``), so that slivers
of cells cut by the field's edge do not count; recall of every true cell, and of the
whole ones (not cut by the field's edge, image edge or filled corner: the cells
patching keeps).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile
import torch
import yaml

from cell_clustering import demo_data, patching, preprocessing, segmentation
from cell_clustering.parameters import (
    ComputeParams,
    DemoDataParams,
    PreprocessingParams,
    SegmentationParams,
)
from cell_clustering.parameters.segmentation import (
    CellposeTrainingParams,
    ClassicalParams,
)
from cell_clustering.pipelines.preprocessing.nodes import (
    measure_fields,
    preprocess_fields,
    rotate_masks,
)
from cell_clustering.pipelines.segmentation.nodes import segment_fields

ROOT = Path(__file__).resolve().parents[1]


def latest(pattern: str) -> Path:
    found = sorted(ROOT.glob(pattern))
    if not found:
        raise SystemExit(f"Nothing matches {pattern}: run `make demo` first.")
    return found[-1]


def few_annotations(updates: int, seeds: list[int]) -> None:
    """Train on 3 annotated crops per model seed; AP on held-out crops beside the classical baseline."""
    train = [demo_data.nuclei_crop(seed) for seed in (0, 1, 2)]
    held_out = [demo_data.nuclei_crop(seed) for seed in (100, 101, 102, 103)]
    truth = [labels for _, labels in held_out]
    classical = [
        segmentation.filter_labels(segmentation.segment_classical(image.astype(np.float32), **ClassicalParams().model_dump()), min_area=80)
        for image, _ in held_out
    ]
    baseline = segmentation.average_precision(truth, classical, [0.5, 0.75]).mean(axis=0)
    print(f"classical (Otsu + watershed): AP@0.5 {baseline[0]:.3f}  AP@0.75 {baseline[1]:.3f}")
    for seed in seeds:
        model = segmentation.build_model(segmentation.ModelSource("none"), seed=seed)
        config = CellposeTrainingParams(updates=updates, min_train_masks=1, seed=seed)
        start = time.perf_counter()
        segmentation.train(model, [i.astype(np.float32) for i, _ in train], [m for _, m in train], [], [], config)
        seconds = time.perf_counter() - start
        predicted = [segmentation.segment(model, image.astype(np.float32)) for image, _ in held_out]
        ap = segmentation.average_precision(truth, predicted, [0.5, 0.75]).mean(axis=0)
        print(f"cellpose seed {seed}: {updates} updates × {config.batch_size} crops in {seconds:.0f} s; "
              f"AP@0.5 {ap[0]:.3f}  AP@0.75 {ap[1]:.3f}; objects {[int(p.max()) for p in predicted]} "
              f"of {[int(t.max()) for t in truth]}")


def _base_block(name: str) -> dict:
    """The ``name`` block of ``conf/base/parameters_<name>.yml``, as plain values."""
    return yaml.safe_load((ROOT / f"conf/base/parameters_{name}.yml").read_text())[name]


def _preprocessed_demo_fields(crowded: bool, n_fields: int, min_area: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """New demo fields (seed 1000) through the preprocessing pipeline's own nodes
    (fields measured and preprocessed, masks rotated like them): crowded colonies, or
    fields of 1-3 cells. Each as (image, truth, whole cells of the truth)."""
    demo = {**_base_block("demo_data"), "seed": 1000, "crowded_fraction": 1.0 if crowded else 0.0}
    if not crowded:
        demo["cells_per_field"] = {"sparse": 1.5, "crowded": 1.5}
    config = DemoDataParams.model_validate(demo)
    drawn = (demo_data.generate_field(config, "control", index) for index in range(20 * n_fields))
    kept = [field for field in drawn if crowded or 1 <= field[2]["n_cells"] <= 3][:n_fields]
    images = {record["field"]: (lambda image=image: image) for image, _, record, _ in kept}
    masks = {record["field"]: (lambda labels=labels: labels) for _, labels, record, _ in kept}
    prep, compute = PreprocessingParams.model_validate(_base_block("preprocessing")), ComputeParams()
    table = measure_fields(images, prep, compute)
    preprocessed = preprocess_fields(images, table, prep, compute)
    rotated = rotate_masks(masks, {}, table, prep, compute)
    fields = []
    for field, row in table.set_index("field").iterrows():
        # Slivers of cells cut by the field's edge (a few px) are not cells the pipeline
        # could keep: the truth gets the post-filters' minimum area too.
        truth = segmentation.filter_labels(rotated[field](), drop_border=False, min_area=min_area)
        covered = preprocessing.covered_area((int(row["rows"]), int(row["cols"])), float(row["rotation_deg"]))
        whole = np.where(np.isin(truth, patching.cut_by_edge(truth, covered)), 0, truth)
        fields.append((preprocessed[field](), truth, whole))
    return fields


def sparse_recall(model_path: Path, n_fields: int) -> None:
    """Recall on fields of 1-3 cells beside crowded fields, under two normalisations,
    of every true cell and of the whole ones (not cut by the field's edge: the cells
    patching keeps)."""
    model = segmentation.model_from_state_dict(torch.load(model_path, map_location="cpu", weights_only=True))
    params = SegmentationParams.model_validate(_base_block("segmentation"))
    print(f"model {model_path}; {n_fields} new fields per group")
    for name, crowded in (("1-3 cells", False), ("crowded", True)):
        fields = _preprocessed_demo_fields(crowded, n_fields, params.post_filters.min_area)
        for percentiles in (params.normalize_percentiles, (1.0, 99.0)):
            predicted = [
                segmentation.filter_labels(
                    segmentation.segment(model, image, **{**params.inference.model_dump(), "percentiles": percentiles}),
                    **params.post_filters.model_dump(),
                )
                for image, _, _ in fields
            ]
            for cells, column in (("all", 1), ("whole", 2)):
                truth = [field[column] for field in fields]
                n_cells = sum(segmentation.n_objects(labels) for labels in truth)
                found = segmentation.recall(truth, predicted)
                print(f"{name:>9}, {cells:>5} cells ({n_cells}), percentiles {list(percentiles)}: recall@0.5 {found:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["few", "speed", "sparse"])
    parser.add_argument("--fields", type=int, default=6)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--updates", type=int, default=CellposeTrainingParams().updates)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    if args.case == "few":
        few_annotations(args.updates, args.seeds)
        return
    if args.case == "sparse":
        sparse_recall(args.model or latest("data/06_models/cellpose_model.pt/*/cellpose_model.pt"), args.fields)
        return

    params = SegmentationParams.model_validate(_base_block("segmentation"))
    model_path = args.model or latest("data/06_models/cellpose_model.pt/*/cellpose_model.pt")
    state = torch.load(model_path, map_location="cpu", weights_only=True)
    version = latest("data/02_intermediate/preprocessed_images/*/preprocessed_images")
    files = sorted(version.glob("*/*.tif"))[: args.fields]
    images = {f"{p.parent.name}/{p.stem}": tifffile.imread(p) for p in files}
    print(f"model {model_path.relative_to(ROOT)}; {len(images)} fields of {next(iter(images.values())).shape}")

    # Warm-up: the first eval in a process pays one-off costs (thread pools, kernels);
    # it would otherwise be charged to whichever path runs first.
    segmentation.segment(segmentation.model_from_state_dict(state), next(iter(images.values())))

    start = time.perf_counter()
    fields = pd.DataFrame({"field": list(images), "pixel_size_um": 0.65})
    method = {"method": "cellpose", "trains_cellpose": True}
    partitions = segment_fields({k: (lambda v=v: v) for k, v in images.items()}, state, method, fields, params, ComputeParams())
    pipeline_masks = [load() for load in partitions.values()]
    pipeline_seconds = (time.perf_counter() - start) / len(images)

    start = time.perf_counter()
    model = segmentation.model_from_state_dict(state)
    direct_masks = [
        model.eval(image, channels=[0, 0], diameter=None, flow_threshold=params.inference.flow_threshold,
                   cellprob_threshold=params.inference.cellprob_threshold, normalize=True)[0]
        for image in images.values()
    ]
    direct_seconds = (time.perf_counter() - start) / len(images)

    cells = sum(len(np.unique(m)) - 1 for m in pipeline_masks)
    print(f"pipeline node (incl. model build, post-filters): {pipeline_seconds:6.2f} s/field, {cells} cells")
    print(f"direct CellposeModel.eval (incl. model build):    {direct_seconds:6.2f} s/field, "
          f"{sum(len(np.unique(m)) - 1 for m in direct_masks)} cells")
    print(f"ratio pipeline / direct: {pipeline_seconds / direct_seconds:.3f}")


if __name__ == "__main__":
    main()
