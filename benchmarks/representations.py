"""Does the learned representation earn its place? The demo data through the default
pipeline, and the comparison table printed for the planted k, with a spread that
includes the shape model's own seed.

    .venv/bin/python benchmarks/representations.py [--seeds 20261124 7] [--model-seeds 0 1 2]
        [--scales 1 4] [--k 5] [--params "modelling.training.min_updates=3000"] [--env domain_b]

For every (demo seed, scale), a temporary copy of the project gets the demo data
(`kedro run --pipelines=demo_data`) and runs the default pipeline (`kedro run`, base
configuration: Cellpose trained on the annotated fields, patching, the default model,
evaluation) with the first model seed, timed; every further model seed re-runs the
modelling and evaluation pipelines on the same cells
(`--params=modelling.training.seed=<s>`). Printed: the wall time of each run and, for
every (representation, head) at k, mean ± sd over model seeds × `evaluation.seeds`
(shape ACC, shape NMI, condition NMI; the baselines do not depend on the model seed),
the shape ACC per model seed, the linear probes and the condition-NMI ceiling.
Asserts nothing: the figures go in the closing notes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scaling import kedro, make_project, timed_run


def latest(project: Path, dataset: str, layer: str = "08_reporting") -> Path:
    """The newest version of a versioned dataset file, ``data/<layer>/<dataset>/<version>/<dataset>``."""
    folder = project / "data" / layer / dataset
    return sorted(folder.iterdir())[-1] / dataset


COLUMNS = ("shape_accuracy", "shape_nmi", "nmi", "stability")


def results(project: Path) -> tuple[pd.DataFrame, dict]:
    metrics = pd.read_csv(latest(project, "clustering_metrics.csv"))
    diagnostics = json.loads(latest(project, "representation_diagnostics.json").read_text())
    return metrics, diagnostics


def run_demo(folder: Path, seed: int, scale: int, model_seeds: list[int], env: str, params: str | None) -> dict[int, tuple[float, pd.DataFrame, dict]]:
    """Per model seed: the run's wall time, its comparison table and diagnostics."""
    project = make_project(folder)
    kedro(project, "--pipelines=demo_data", f"--env={env}", f"--params=demo_data.seed={seed},demo_data.scale={scale}")
    runs = {}
    for index, model_seed in enumerate(model_seeds):
        pipelines = [] if index == 0 else ["--pipelines=modelling,evaluation"]
        # One --params option: `kedro run` keeps only the last of several, so the
        # user's overrides and the model seed travel together.
        overrides = ",".join([*([params] if params else []), f"modelling.training.seed={model_seed}"])
        seconds, _ = timed_run(project, *pipelines, f"--env={env}", f"--params={overrides}")
        runs[model_seed] = (seconds, *results(project))
    return runs


def pooled(tables: list[pd.DataFrame], k: int) -> pd.DataFrame:
    """Mean and sd over model seeds × clustering seeds of every column, from each
    run's mean and (population) sd over its clustering seeds, all runs having as many."""
    rows = pd.concat([table[table["k"] == k] for table in tables])
    keys = ["representation", "head"]
    out = rows.groupby(keys, sort=False)[[c for c in COLUMNS if c in rows]].mean()
    for column in out.columns:
        second_moment = (rows[column] ** 2 + rows.get(f"{column}_sd", 0.0) ** 2).groupby([rows[key] for key in keys], sort=False).mean()
        out[f"{column}_sd"] = np.sqrt(np.maximum(second_moment - out[column] ** 2, 0.0))
    return out.reset_index()


def table(tables: dict[int, pd.DataFrame], k: int) -> str:
    summary = pooled(list(tables.values()), k)
    columns = [c for c in COLUMNS if c in summary]
    per_seed = [f"ACC model seed {s}" for s in tables]
    lines = [
        "| representation | head | " + " | ".join(columns + per_seed) + " |",
        "|---|---|" + "---|" * (len(columns) + len(per_seed)),
    ]
    for _, row in summary.iterrows():
        cells = [f"{row[c]:.3f} ± {row[c + '_sd']:.3f}" for c in columns]
        for one in tables.values():
            match = one[(one["k"] == k) & (one["representation"] == row["representation"]) & (one["head"] == row["head"])]
            cells.append(f"{match['shape_accuracy'].iloc[0]:.3f}" if "shape_accuracy" in match else "")
        lines.append(f"| {row['representation']} | {row['head']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[20261124])
    parser.add_argument("--model-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--scales", type=int, nargs="+", default=[1])
    parser.add_argument("--k", type=int, default=5, help="the number of planted shapes")
    parser.add_argument("--params", default=None, help="passed to `kedro run --params`")
    parser.add_argument("--env", default="base", help="configuration environment (domain_b: the second development domain)")
    args = parser.parse_args()
    for seed in args.seeds:
        for scale in args.scales:
            with tempfile.TemporaryDirectory(prefix="representations-") as folder:
                runs = run_demo(Path(folder), seed, scale, args.model_seeds, args.env, args.params)
            times = ", ".join(f"model seed {s}: {seconds:.0f} s" for s, (seconds, _, _) in runs.items())
            print(f"\n## {args.env} configuration, demo seed {seed}, scale ×{scale}: `kedro run` (first; then modelling + evaluation) {times}")
            print(f"mean ± sd over {len(runs)} model seeds × the evaluation seeds")
            print(table({s: metrics for s, (_, metrics, _) in runs.items()}, args.k))
            for model_seed, (_, _, diagnostics) in runs.items():
                print(f"diagnostics, model seed {model_seed}:", json.dumps(diagnostics, indent=None, sort_keys=True))


if __name__ == "__main__":
    main()
