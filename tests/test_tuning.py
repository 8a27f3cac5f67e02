"""The tuning pipeline on the demo data (conf/test: two tiny trials), through the real
CLI in a copy of the finished demo project: trials recorded as nested MLflow runs,
a label-free objective by default, the same trials for the same seed, and the
label objective refused unless asked for."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.faults.harness import copy_project, kedro, latest_file

pytestmark = pytest.mark.slow

TRIALS = "08_reporting/tuning/tuning_trials.csv"
BEST = "08_reporting/tuning/tuning_best.json"


@pytest.fixture
def project(demo_run, tmp_path):
    return copy_project(demo_run, tmp_path / "project")


def _trial_runs(project) -> list:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cell_clustering")
    return [run for run in client.search_runs([experiment.experiment_id]) if run.info.run_name.startswith("tuning-trial-")]


def test_tuning_searches_on_cluster_stability_and_logs_each_trial(project):
    result = kedro(project, "--pipelines=tuning")
    assert result.returncode == 0, result.output[-3000:]

    trials = pd.read_csv(latest_file(project, TRIALS))
    assert len(trials) == 2 and set(trials["latent_dim"]) <= {2, 4}
    assert trials["min_updates"].between(5, 10).all()
    np.testing.assert_array_equal(trials["value"], trials["stability"])  # the objective is the stability
    assert trials["stability"].between(-1, 1).all() and trials["shape_accuracy"].between(0, 1).all()

    best = json.loads(latest_file(project, BEST).read_text())
    assert best["objective"] == "stability" and best["optimised_on_labels"] is False
    assert best["best_value"] == pytest.approx(trials["value"].max())

    runs = _trial_runs(project)
    assert len(runs) == 2
    assert {run.data.tags["cell_clustering.optimised_on_labels"] for run in runs} == {"false"}
    assert all("mlflow.parentRunId" in run.data.tags and "stability" in run.data.metrics for run in runs)

    again = kedro(project, "--pipelines=tuning")
    assert again.returncode == 0, again.output[-3000:]
    pd.testing.assert_frame_equal(pd.read_csv(latest_file(project, TRIALS)), trials)  # same seed, same trials


def test_optimising_on_the_planted_labels_must_be_asked_for(project):
    result = kedro(project, "--pipelines=tuning", "--params=tuning.objective=shape_accuracy")
    assert result.returncode != 0
    assert "tuning" in result.output and "allow_label_objective" in result.output
    assert not (project / "data" / "08_reporting" / "tuning").exists()
