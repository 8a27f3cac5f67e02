"""Scaling of the per-field stages: wall time, time per field and peak memory for the
demo data at scale ×1, ×2, ×4 with 1 and 2 workers.

    .venv/bin/python benchmarks/scaling.py [--scales 1 2 4] [--workers 1 2] [--env test]

For every scale, a temporary copy of the project gets the demo data at that scale and
trains Cellpose once (preprocessing + segmentation, as in the chosen environment).
Then, for every worker count, a fresh `kedro run` of the per-field nodes
(groove angles, preprocessing, Cellpose inference, patching) is timed:
`compute.backend=sequential` for 1 worker, `loky` with n workers otherwise. Peak
memory is the largest resident set of the `kedro` process and all its children,
sampled every 0.1 s. Time per field should stay flat across scales and peak memory
should not grow with the number of fields. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
KEDRO = str(Path(sys.executable).parent / "kedro")
PER_FIELD_NODES = "measure_fields,compare_angles_with_truth,preprocess_fields,segment_fields,extract_patches"


def make_project(folder: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", folder)
    shutil.copytree(ROOT / "conf", folder / "conf", ignore=shutil.ignore_patterns("local"))
    (folder / "conf" / "local").mkdir()
    (folder / "src").mkdir()
    return folder


def kedro(project: Path, *args: str) -> subprocess.CompletedProcess:
    """``kedro run *args`` in ``project``, its output captured; a failed run stops the
    benchmark with the end of what Kedro printed (the project's own message, e.g. the
    misspelt parameter it names), not only its exit status."""
    env = {**os.environ, "DO_NOT_TRACK": "true", "COLUMNS": "250", "CELLPOSE_LOCAL_MODELS_PATH": str(project / "models")}
    result = subprocess.run([KEDRO, "run", *args], cwd=project, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"kedro run {' '.join(args)} failed (exit {result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")
    return result


def timed_run(project: Path, *args: str) -> tuple[float, float]:
    """(pipeline seconds as Kedro reports them, peak RSS in MiB of the process tree)."""
    env = {**os.environ, "DO_NOT_TRACK": "true", "COLUMNS": "250", "CELLPOSE_LOCAL_MODELS_PATH": str(project / "models")}
    process = psutil.Popen([KEDRO, "run", *args], cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.1)
    reader.join()
    text = " ".join("".join(output).split())
    if process.returncode != 0:
        raise SystemExit(f"kedro run {' '.join(args)} failed:\n{text[-3000:]}")
    seconds = float(re.findall(r"completed successfully in ([0-9.]+) sec", text)[-1])
    return seconds, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--env", default="test", help="configuration environment (test: 256×256 fields, 5 per scale)")
    args = parser.parse_args()

    rows = []
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix=f"scaling-x{scale}-") as folder:
            project = make_project(Path(folder))
            kedro(project, "--env", args.env, "--pipelines=demo_data", "--params", f"demo_data.scale={scale}")
            n_fields = len(list((project / "data/01_raw/images").glob("*/*.tif")))
            kedro(project, "--env", args.env, "--pipelines=preprocessing,segmentation")  # trains Cellpose once
            for workers in args.workers:
                backend = "sequential" if workers == 1 else "loky"
                params = f"compute.backend={backend},compute.n_workers={workers}"
                seconds, peak_mib = timed_run(project, "--env", args.env, "--nodes", PER_FIELD_NODES, "--params", params)
                rows.append((scale, n_fields, workers, seconds, seconds / n_fields, peak_mib))
                print(f"scale x{scale}: {n_fields} fields, {workers} worker(s): {seconds:.1f} s, "
                      f"{seconds / n_fields:.2f} s/field, peak {peak_mib:.0f} MiB", flush=True)

    print("\n| scale | fields | workers | wall (s) | s / field | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|")
    for scale, n_fields, workers, seconds, per_field, peak in rows:
        print(f"| ×{scale} | {n_fields} | {workers} | {seconds:.1f} | {per_field:.2f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
