"""Does the learned representation earn its place? The demo data through the default
pipeline, and the comparison table of every run printed for the planted k.

    .venv/bin/python benchmarks/representations.py [--seeds 20261124 7] [--scales 1 4] [--k 5]
        [--params "modelling.training.min_updates=3000"]

For every (demo seed, scale), a temporary copy of the project gets the demo data
(`kedro run --pipelines=demo_data`) and runs the default pipeline (`kedro run`, base
configuration: Cellpose trained on the annotated fields, patching, the default model,
evaluation), timed. Printed: the wall time of the default run, the clustering
metrics of every (representation, head) at k (mean ± sd over `evaluation.seeds`:
shape ACC, shape NMI, condition NMI), the linear probe of each representation and
the condition-NMI ceiling. Asserts nothing: the figures go in the closing notes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd
from scaling import kedro, make_project, timed_run


def latest(project: Path, dataset: str) -> Path:
    folder = project / "data" / "08_reporting" / dataset
    return sorted(folder.iterdir())[-1] / dataset


def run_demo(folder: Path, seed: int, scale: int, extra: list[str]) -> tuple[float, pd.DataFrame, dict]:
    project = make_project(folder)
    kedro(project, "--pipelines=demo_data", f"--params=demo_data.seed={seed},demo_data.scale={scale}")
    seconds, _ = timed_run(project, *extra)
    metrics = pd.read_csv(latest(project, "clustering_metrics.csv"))
    diagnostics = json.loads(latest(project, "representation_diagnostics.json").read_text())
    return seconds, metrics, diagnostics


def table(metrics: pd.DataFrame, k: int) -> str:
    rows = metrics[metrics["k"] == k]
    columns = [c for c in ("shape_accuracy", "shape_nmi", "nmi") if c in rows]
    lines = ["| representation | head | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for _, row in rows.iterrows():
        cells = [f"{row[c]:.3f} ± {row.get(c + '_sd', float('nan')):.3f}" for c in columns]
        lines.append(f"| {row['representation']} | {row['head']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[20261124])
    parser.add_argument("--scales", type=int, nargs="+", default=[1])
    parser.add_argument("--k", type=int, default=5, help="the number of planted shapes")
    parser.add_argument("--params", default=None, help="passed to `kedro run --params`")
    args = parser.parse_args()
    extra = [f"--params={args.params}"] if args.params else []
    for seed in args.seeds:
        for scale in args.scales:
            with tempfile.TemporaryDirectory(prefix="representations-") as folder:
                seconds, metrics, diagnostics = run_demo(Path(folder), seed, scale, extra)
            print(f"\n## demo seed {seed}, scale ×{scale}: `kedro run` {seconds:.0f} s")
            print(table(metrics, args.k))
            print("diagnostics:", json.dumps(diagnostics, indent=None, sort_keys=True))


if __name__ == "__main__":
    main()
