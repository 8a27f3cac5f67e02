"""Clustering new plates with a trained run, without training: the inference pipeline
on the training fields, on new demo plates drawn with other seeds, and on fields of
another kind (MNIST digits, pure noise).

    .venv/bin/python benchmarks/inference.py [--project PATH] [--new-seeds 7 11] [--env base]

``--project``: a project folder after ``make demo`` (default: a temporary copy of this
project trained on the demo data with the default configuration). For every case, a
``kedro run --pipelines=inference --params inference.new_plate_folder=...``; printed:
cells, the share that got the training run's cluster (the training fields), the shape
accuracy of the trained clusters on the new plate beside the training run's own (demo
plates, whose ground truth is read with ``inference.new_plate_masks`` and
``inference.new_plate_ground_truth``), the share out of distribution and the time.
Asserts nothing: the figures go in the closing notes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd
import tifffile
from scaling import kedro, make_project, timed_run

from cell_clustering import evaluation
from cell_clustering.datasets import MnistHubDataset
from cell_clustering.demo_data import foreign_field


def latest(folder: Path, pattern: str) -> Path:
    return sorted(folder.glob(f"*/{pattern}"))[-1]


def training_run(project: Path) -> tuple[pd.DataFrame, float, int]:
    """The training cells, their reported clusters' shape accuracy and k."""
    cells = pd.read_parquet(latest(project / "data/08_reporting/cell_profiles.parquet", "*.parquet"))
    card = json.loads(latest(project / "data/06_models/model_card.json", "model_card.json").read_text())
    truth = pd.read_csv(latest(project / "data/05_model_input/patch_truth.csv", "patch_truth.csv"))
    shapes = evaluation.shape_classes_of(truth, len(cells))
    matched = shapes != evaluation.UNMATCHED
    k = card["clusters"]["k"]
    accuracy = evaluation.external_scores(shapes[matched], cells[f"cluster_k{k}"].to_numpy()[matched])["accuracy"]
    return cells, accuracy, k


def apply(project: Path, raw: Path, extra: list[str]) -> tuple[float, pd.DataFrame, dict]:
    params = [f"inference.new_plate_folder={raw / 'images'}"]
    if (raw / "masks").is_dir():
        params += [f"inference.new_plate_masks={raw / 'masks'}", f"inference.new_plate_ground_truth={raw / 'ground_truth'}"]
    seconds, _ = timed_run(project, "--pipelines=inference", *extra, f"--params={','.join(params)}")
    reporting = project / "data/08_reporting/new_plate"
    cells = pd.read_parquet(latest(reporting / "cell_profiles.parquet", "*.parquet"))
    return seconds, cells, json.loads(latest(reporting / "summary.json", "summary.json").read_text())


def other_kind_fields(folder: Path, like: Path, kind: str, n_fields: int = 3, seed: int = 0) -> Path:
    """Fields of MNIST digits (9 per field, scaled ×2) or of pure noise, with the demo
    fields' size, dtype and intensity range, one per condition folder."""
    reference = tifffile.imread(next(like.rglob("*.tif")))
    digits = MnistHubDataset().load()["test_images"] if kind == "digits" else None
    for index in range(n_fields):
        path = folder / "images" / f"condition_{index}" / "field_000.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, foreign_field(reference, kind=kind, seed=seed + index, digits=digits))
    return folder


def row(case: str, seconds: float, cells: pd.DataFrame, summary: dict, trained: pd.DataFrame, k: int) -> dict:
    same = float("nan")
    if case == "training fields":  # other plates reuse field names: a match by name would mean nothing
        both = trained.merge(cells, on=["field", "cell_label"], suffixes=("_trained", "_new"))
        same = (both[f"cluster_k{k}_trained"] == both[f"cluster_k{k}_new"]).mean()
    shape = (summary.get("shape_scores") or {}).get("accuracy", float("nan"))
    return {"case": case, "cells": len(cells), "same_cluster_as_training": same, "shape_accuracy": shape,
            "out_of_distribution": summary["out_of_distribution_share"],
            "ood_latent": summary.get("out_of_distribution_share_latent"),
            "ood_measurements": summary.get("out_of_distribution_share_measurements"), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=None)
    parser.add_argument("--new-seeds", type=int, nargs="+", default=[7, 11])
    parser.add_argument("--env", default="base")
    args = parser.parse_args()
    extra = [f"--env={args.env}"]
    with tempfile.TemporaryDirectory(prefix="inference-benchmark-") as temporary:
        scratch = Path(temporary)
        project = args.project
        if project is None:
            project = make_project(scratch / "trained")
            kedro(project, "--pipelines=demo_data", *extra)
            kedro(project, *extra)
        trained, trained_accuracy, k = training_run(project)
        rows = [row("training fields", *apply(project, project / "data/01_raw", extra), trained, k)]
        for seed in args.new_seeds:
            (scratch / f"plate_{seed}").mkdir()
            plate = make_project(scratch / f"plate_{seed}")
            kedro(plate, "--pipelines=demo_data", *extra, f"--params=demo_data.seed={seed}")
            rows.append(row(f"new demo plate, seed {seed}", *apply(project, plate / "data/01_raw", extra), trained, k))
        for kind in ("digits", "noise"):
            folder = other_kind_fields(scratch / kind, project / "data/01_raw/images", kind)
            try:
                rows.append(row(f"fields of {kind}", *apply(project, folder, extra), trained, k))
            except SystemExit as stopped:  # e.g. the trained segmentation finds no cell at all
                print(f"fields of {kind}: the run stopped: {str(stopped)[-300:]}")
    print(f"Trained run: shape accuracy of its reported clusters (k = {k}) {trained_accuracy:.3f}, {len(trained)} cells")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
