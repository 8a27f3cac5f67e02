"""Start-up time of ``kedro run``: seconds from launching the command to the first
"Running node" line, the cost paid before any work (CLI, plugins, MLflow set-up,
parameter validation, pipeline registration and the imports it triggers).

    .venv/bin/python benchmarks/startup.py [--repeats 9] [--pipelines __default__ evaluation]
    .venv/bin/python benchmarks/startup.py --against <other checkout>   # e.g. a worktree of main

With ``--against``, runs of this checkout and of the other one (its own conf/ and
src/, through PYTHONPATH) alternate, so that drift in the machine's load affects both
alike.

A temporary copy of the project's configuration gets the demo data and one whole run
first (conf/test, a few minutes), so that every pipeline finds its inputs; each measured run is stopped as soon as its first node starts. Prints the median and
the range per pipeline; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEDRO = [sys.executable, "-m", "kedro"]


def make_project(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copy(source / "pyproject.toml", folder)
    shutil.copytree(source / "conf", folder / "conf", ignore=shutil.ignore_patterns("local"))
    (folder / "conf" / "local").mkdir()
    (folder / "src").mkdir()
    return folder


def environment(source: Path | None = None) -> dict[str, str]:
    """The run's environment; ``source`` is another checkout whose package to import."""
    extra = {"PYTHONPATH": str(source / "src")} if source else {}
    return {**os.environ, "DO_NOT_TRACK": "true", "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra}


def prepare(source: Path, folder: Path, other: bool) -> Path:
    """A project with the configuration of ``source``, its demo data and one whole run."""
    project = make_project(source, folder)
    env = environment(source if other else None)
    for pipeline in ("demo_data", "__default__"):
        command = [*KEDRO, "run", "--env", "test"] + ([f"--pipelines={pipeline}"] if pipeline != "__default__" else [])
        subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)
    return project


def seconds_to_first_node(project: Path, pipeline: str, env: dict[str, str]) -> float:
    """Launch ``kedro run`` and stop it when the first node starts."""
    command = [*KEDRO, "run", "--env", "test"]
    if pipeline != "__default__":
        command.append(f"--pipelines={pipeline}")
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    output = []
    try:
        for line in process.stdout:
            if "Running node:" in line:
                return time.perf_counter() - start
            output.append(line)
        raise RuntimeError(f"`{' '.join(command)}` ended before any node ran:\n{''.join(output[-30:])}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, default=None, help="another checkout, measured in alternation")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--pipelines", nargs="+", default=["__default__", "evaluation"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="startup-") as folder:
        setups = {"this checkout": (prepare(ROOT, Path(folder) / "this", other=False), environment())}
        if args.against:
            against = args.against.resolve()
            setups[str(against)] = (prepare(against, Path(folder) / "other", other=True), environment(against))
        print(f"{'pipeline':14s} {'checkout':40s} {'median s':>9s} {'min s':>7s} {'max s':>7s}  ({args.repeats} runs each)")
        for pipeline in args.pipelines:
            times: dict[str, list[float]] = {name: [] for name in setups}
            for _ in range(args.repeats):
                for name, (project, env) in setups.items():
                    times[name].append(seconds_to_first_node(project, pipeline, env))
            for name, values in times.items():
                print(f"{pipeline:14s} {name:40s} {statistics.median(values):9.2f} {min(values):7.2f} {max(values):7.2f}")


if __name__ == "__main__":
    main()
