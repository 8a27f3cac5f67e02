"""Same seed, same machine, same metrics: byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from tests.faults.harness import copy_project, kedro, versions

pytestmark = pytest.mark.slow


def test_a_seeded_run_gives_identical_latents_and_metrics_twice(demo_run, tmp_path):
    # The copy holds the demo run's outputs: run modelling and evaluation again on the
    # same patches and compare the new versions with the first run's.
    project = copy_project(demo_run, tmp_path / "project")
    result = kedro(project, "--pipelines=modelling,evaluation")
    assert result.returncode == 0, result.output[-3000:]
    data = project / "data"
    latents = [np.load(data / "07_model_output/latents.npy" / v / "latents.npy") for v in versions(project, "07_model_output/latents.npy")[-2:]]
    np.testing.assert_array_equal(*latents)
    for table in ("clustering_metrics.csv", "cluster_assignments.csv", "cluster_composition.csv"):
        first, second = [(data / "08_reporting" / table / v / table).read_bytes() for v in versions(project, f"08_reporting/{table}")[-2:]]
        assert first == second, table
