"""The project's hooks: parameters checked before anything runs; typed parameters,
artifacts and stage throughput logged to a real MLflow store by a real `kedro run`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from mlflow.tracking import MlflowClient

from cell_clustering.hooks import InvalidParameters, ParameterCheckHook
from cell_clustering.parameters import ParameterError
from tests.kedro_project import make_project
from tests.parameters import raw_block


def test_parameter_check_hook_raises_a_cli_error_naming_the_key():
    context = SimpleNamespace(config_loader={"parameters": {"evaluation": {"n_clusters": [1]}}})
    with pytest.raises(InvalidParameters) as error:
        ParameterCheckHook().after_context_created(context)
    assert isinstance(error.value, ParameterError) and isinstance(error.value, click.ClickException)
    assert "evaluation: n_clusters must all be at least 2, got [1]." in error.value.format_message()


def test_parameter_check_hook_accepts_the_base_configuration():
    context = SimpleNamespace(config_loader={"parameters": {"modelling": raw_block("modelling")}})
    ParameterCheckHook().after_context_created(context)


def _kedro(root: Path, *arguments: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "test", *arguments],
        cwd=root, capture_output=True, text=True, check=False, env={**os.environ, "DO_NOT_TRACK": "true"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.slow
def test_a_run_logs_flattened_typed_params_artifacts_and_throughput(tmp_path):
    root = make_project(tmp_path)
    _kedro(root, "--pipelines=demo_data")
    _kedro(root, "--pipelines=preprocessing")
    client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("cell_clustering").experiment_id])
    # TypedParamsMlflowHook: the typed block, flattened like a dict.
    assert run.data.params["preprocessing.angle.canny_sigma"] == "2.0"
    assert run.data.params["preprocessing.density_bins"].startswith("[{'name': 'sparse'")
    assert "preprocessing" not in run.data.params  # no single truncated string
    # MlflowOutputsHook: the versioned figure as an artifact, and the stage's throughput.
    figures = [artifact.path for artifact in client.list_artifacts(run.info.run_id, "figures")]
    assert figures == ["figures/preprocessing_before_after.png"]
    assert run.data.metrics["preprocessing.fields_per_second"] > 0
