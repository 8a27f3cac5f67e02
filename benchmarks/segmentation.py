"""Cellpose inference: seconds per 512×512 field through the pipeline's node and
through a direct ``CellposeModel.eval`` call on the same fields, and their ratio.

    .venv/bin/python benchmarks/segmentation.py [--fields N] [--model PATH]

Uses the latest trained model in data/06_models/cellpose_model.pt (run
`make demo` first) or --model. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import tifffile
import torch
import yaml

from cell_clustering import segmentation
from cell_clustering.parameters import ComputeParams, SegmentationParams
from cell_clustering.pipelines.segmentation.nodes import segment_fields

ROOT = Path(__file__).resolve().parents[1]


def latest(pattern: str) -> Path:
    found = sorted(ROOT.glob(pattern))
    if not found:
        raise SystemExit(f"Nothing matches {pattern}: run `make demo` first.")
    return found[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=6)
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args()

    params = SegmentationParams.model_validate(
        yaml.safe_load((ROOT / "conf/base/parameters_segmentation.yml").read_text())["segmentation"]
    )
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
    partitions = segment_fields({k: (lambda v=v: v) for k, v in images.items()}, state, params, ComputeParams())
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
