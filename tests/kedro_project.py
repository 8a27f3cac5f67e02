"""Temporary Kedro projects for end-to-end tests.

The project's configuration is copied to a temporary folder that becomes the
project root, so a run writes its data and its MLflow store (sqlite) there and never
touches the developer's `data/` or `mlflow.db`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cell_clustering.session import ProjectSession

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def make_project(root: Path) -> Path:
    """A project root holding this project's configuration (the package is installed)."""
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root)
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()  # bootstrap_project wants it
    return root


def run(root: Path, pipeline: str | None = None, params: dict | None = None) -> None:
    """``kedro run --env test [--pipelines=<pipeline>] [--params ...]`` in-process."""
    with ProjectSession.create(project_path=root, env="test", runtime_params=params) as session:
        session.run(pipeline_names=[pipeline] if pipeline else None)
