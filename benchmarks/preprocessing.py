"""Preprocessing throughput: megapixels per second per step and for the whole chain,
through the project's node functions and through direct scikit-image calls.

    .venv/bin/python benchmarks/preprocessing.py [--fields N] [--repeats R]

Prints figures; asserts nothing. The "pipeline" path is the nodes `measure_fields`
and `preprocess_fields` on in-memory partitions (no disk I/O on either side), so
the ratio is the overhead of the project's code around the same library calls.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import yaml
from skimage import exposure, feature, filters, restoration, transform

from cell_clustering import preprocessing as steps
from cell_clustering.demo_data import generate_field
from cell_clustering.parameters import (
    ComputeParams,
    DemoDataParams,
    PreprocessingParams,
)
from cell_clustering.parameters.preprocessing import DensityBin
from cell_clustering.pipelines.preprocessing.nodes import (
    measure_fields,
    preprocess_fields,
)

ROOT = Path(__file__).resolve().parents[1]


def load_params() -> tuple[DemoDataParams, PreprocessingParams]:
    demo = DemoDataParams.model_validate(yaml.safe_load((ROOT / "conf/base/parameters_demo_data.yml").read_text())["demo_data"])
    pre = PreprocessingParams.model_validate(
        yaml.safe_load((ROOT / "conf/base/parameters_preprocessing.yml").read_text())["preprocessing"]
    )
    return demo, pre


def best_of(repeats: int, function) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def direct_chain(image: np.ndarray, params: PreprocessingParams, density_bin: DensityBin) -> np.ndarray:
    """The same library calls, written inline as a user would without the project."""
    image = image.astype(np.float32)
    flat = np.clip(image, np.percentile(image, 1), np.percentile(image, params.angle.background_percentile))
    edges = feature.canny(flat, sigma=params.angle.canny_sigma)
    coarse = np.deg2rad(np.arange(-90, 90, params.angle.coarse_step_deg))
    accumulator, _, _ = transform.hough_line(edges, theta=coarse)
    peak = coarse[np.argmax((accumulator.astype(float) ** 2).sum(0))]
    fine = peak + np.deg2rad(np.arange(-0.5, 0.5 + 1e-9, params.angle.fine_step_deg))
    accumulator, _, _ = transform.hough_line(edges, theta=fine)
    angle = 90 - np.rad2deg(fine[np.argmax((accumulator.astype(float) ** 2).sum(0))])
    smooth = filters.gaussian(image / np.percentile(image, 99.99), sigma=2)
    _ = (smooth > filters.threshold_otsu(smooth)).mean()
    rotated = transform.rotate(image, -angle, order=1, mode="constant", cval=float(np.median(image)), preserve_range=True)
    unit = np.clip((rotated - rotated.min()) / (np.percentile(rotated, 99.99) - rotated.min()), 0, 1)
    equalised = exposure.equalize_adapthist(unit, kernel_size=density_bin.clahe_kernel_size, clip_limit=density_bin.clahe_clip_limit)
    normalised = exposure.rescale_intensity(equalised, out_range=(0.0, 1.0))
    low, high = np.percentile(normalised, [params.clip.low_percentile, params.clip.high_percentile])
    clipped = exposure.rescale_intensity(np.clip(normalised, low, high), in_range=(low, high), out_range=(0.0, 1.0))
    # float32 like the project: TV denoising costs twice as much in float64.
    return restoration.denoise_tv_chambolle(clipped.astype(np.float32), weight=density_bin.tv_weight)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    config, params = load_params()
    conditions = config.conditions
    images = [generate_field(config, conditions[i % len(conditions)], i // len(conditions))[0] for i in range(args.fields)]
    megapixels = sum(image.size for image in images) / 1e6
    bin_ = params.density_bins[0]
    angle = 12.0

    # Each step is timed on the output of the previous one, as in the chain: TV
    # denoising converges in a number of iterations that depends on its input.
    chain = [
        ("groove angle (Canny + Hough)", lambda im: steps.detect_groove_angle(im, **params.angle.model_dump(exclude={"min_confidence"})), False),
        ("density (Otsu)", steps.foreground_fraction, False),
        ("rotation", lambda im: steps.rotate_image(im, angle), True),
        ("CLAHE", lambda im: steps.apply_clahe(im, clip_limit=bin_.clahe_clip_limit, kernel_size=bin_.clahe_kernel_size), True),
        ("normalise", steps.normalise, True),
        ("percentile clip", lambda im: steps.clip_percentiles(im, low=params.clip.low_percentile, high=params.clip.high_percentile), True),
        ("TV denoising", lambda im: steps.denoise_tv(im, weight=bin_.tv_weight), True),
    ]
    print(f"{args.fields} fields of {images[0].shape[0]}×{images[0].shape[1]} ({megapixels:.2f} MP), best of {args.repeats}")
    print(f"{'step':32s} {'seconds':>8s} {'MP/s':>8s}")
    inputs = images
    for name, step, feeds_next in chain:
        seconds = best_of(args.repeats, lambda step=step, inputs=inputs: [step(image) for image in inputs])
        print(f"{name:32s} {seconds:8.3f} {megapixels / seconds:8.2f}")
        if feeds_next:
            inputs = [step(image) for image in inputs]

    partitions = {f"c/f{i:03d}": (lambda image=image: image) for i, image in enumerate(images)}

    def through_nodes() -> None:
        table = measure_fields(partitions, params, ComputeParams())
        for load in preprocess_fields(partitions, table, params, ComputeParams()).values():
            load()

    def direct() -> None:
        for image in images:
            density = steps.foreground_fraction(image)
            chosen = next(b for b in params.density_bins if density <= b.max_foreground)
            direct_chain(image, params, chosen)

    pipeline_seconds = best_of(args.repeats, through_nodes)
    direct_seconds = best_of(args.repeats, direct)
    print(f"{'whole chain, project nodes':32s} {pipeline_seconds:8.3f} {megapixels / pipeline_seconds:8.2f}")
    print(f"{'whole chain, direct skimage':32s} {direct_seconds:8.3f} {megapixels / direct_seconds:8.2f}")
    print(f"ratio nodes / direct: {pipeline_seconds / direct_seconds:.3f} (goal <= 1.10)")


if __name__ == "__main__":
    main()
