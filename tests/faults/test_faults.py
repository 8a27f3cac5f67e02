"""Fault injection: a run's outputs are complete and consistent, or they are not there.

Each test copies a finished demo project (conf/test), breaks a run through the real
CLI, then runs the next stage. Every case ends in a clear error or in outputs
identical to an uninterrupted run; none loses or mixes data silently.

| case | command | expected outcome |
|---|---|---|
| preprocessing killed (SIGKILL) while writing fields | `kedro run --pipelines=preprocessing`, kill -9 after 2 fields | no new version (fields stay in `.staging`, removed with a warning at the next save); MLflow run left RUNNING, marked KILLED by the next run (the lock names it); the field table of the stopped run was published, so `--pipelines=patching` stops (inputs from different runs: re-run preprocessing then segmentation) and writes nothing; preprocessing again publishes one version |
| preprocessing interrupted (SIGINT) while writing fields | same, Ctrl-C | no new version, staging removed; MLflow run KILLED; patching stops as above |
| segmentation interrupted (SIGINT) while training | `kedro run --pipelines=segmentation`, Ctrl-C during `train_cellpose` | no new model or masks; MLflow run KILLED; patching identical |
| segmentation killed (SIGKILL) while writing masks | kill -9 after 2 masks | no new `predicted_masks`; patching identical |
| patching killed between its outputs | `--pipelines=patching`, then its newest `patch_metadata` removed: the state a kill between the two saves leaves | `--pipelines=modelling` stops: inputs from different runs, re-run patching |
| modelling interrupted (SIGINT) | Ctrl-C during `train_model` | MLflow run KILLED; `--pipelines=evaluation` gives the reference metrics |
| evaluation killed between its outputs | `--pipelines=evaluation`, then its newest `clustering_metrics` removed (as a kill between saves leaves it) | evaluation again gives the reference metrics |
| two runs in one folder | a second `kedro run` while segmentation runs | the second stops at once (exit 1, names the first run); no MLflow run, no output; the first finishes |
| a raw image changed, only preprocessing re-run | edit one field, `--pipelines=preprocessing`, then `--pipelines=patching` | patching stops: masks made from older images; re-run segmentation |
| demo data into a user's folder | `kedro run --pipelines=demo_data` with a user image in `data/01_raw/images` | stops naming the folder; the user's file is untouched |
| control condition not in the data | `--params=evaluation.control_condition=Control` | stops naming the parameter and the conditions found |
| label column not in the data | `--params=evaluation.label_column=conditon` | stops naming the parameter and the columns |
| epochs, batch size, patch size < 1 | `--params=modelling.training.epochs=-1` (likewise batch_size=0, patch_size=0) | stops before any node naming key, value and rule |
| built-in Cellpose model offline | `--params=segmentation.model_source=cyto3,segmentation.train=false` | stops naming the file to copy and the folder |
| output pinned to an old version | `--load-versions=clustering_metrics:<old>` on evaluation | stops before writing: pinned version would hide the new one |
"""

from __future__ import annotations

import shutil
import signal

import numpy as np
import pandas as pd
import pytest
import tifffile

from tests.faults.harness import (
    copy_project,
    interrupt,
    kedro,
    latest_file,
    latest_run_id,
    latest_run_status,
    n_runs,
    run_status,
    staged_files,
    versions,
)
from tests.kedro_project import make_project

pytestmark = pytest.mark.slow

PRE = "02_intermediate/preprocessed_images"
MASKS = "03_primary/predicted_masks"
PATCHES = "05_model_input/patches.npy"


@pytest.fixture
def project(demo_run, tmp_path):
    """A copy of the finished demo project, for one test to break."""
    return copy_project(demo_run, tmp_path / "project")


def _patches_match_reference(project, reference) -> None:
    result = kedro(project, "--pipelines=patching")
    assert result.returncode == 0, result.output[-3000:]
    np.testing.assert_array_equal(np.load(latest_file(project, PATCHES)), np.load(latest_file(reference, PATCHES)))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_preprocessing_stopped_while_writing_fields_leaves_no_version(project, demo_run, sig):
    before = versions(project, PRE)
    interrupt(project, ["--pipelines=preprocessing"], lambda _: staged_files(project, PRE) >= 2, sig)
    assert versions(project, PRE) == before
    assert latest_run_status(project) == ("KILLED" if sig == signal.SIGINT else "RUNNING")
    stopped_run = latest_run_id(project)
    if sig == signal.SIGINT:
        assert staged_files(project, PRE) == 0  # cleaned on the way out
        assert not (project / "data" / PRE / ".staging").exists()  # no empty folder left either
    else:
        assert f"mlflow_run_id={stopped_run}" in (project / "data/.run.lock").read_text()
    # The field table was published before the stop, the images were not: patching
    # (which reads both) refuses the mix and says what to re-run, writing nothing.
    patches_before = versions(project, PATCHES)
    refused = kedro(project, "--pipelines=patching")
    assert refused.returncode != 0
    # The next run finds what the SIGKILLed one left RUNNING and ends it as KILLED.
    assert run_status(project, stopped_run) == "KILLED"
    if sig == signal.SIGKILL:
        # (rich wraps log lines at 80 columns, the file name on the first: check pieces)
        assert stopped_run in refused.output and "no longer exists" in refused.output and "marked KILLED" in refused.output
    assert (project / "data/.run.lock").read_text() == ""
    assert "The inputs of node 'extract_patches' come from different runs" in refused.output
    assert "kedro run --pipelines=preprocessing" in " ".join(refused.output.split())
    assert versions(project, PATCHES) == patches_before
    again = kedro(project, "--pipelines=preprocessing")
    assert again.returncode == 0, again.output[-3000:]
    if sig == signal.SIGKILL:
        assert "an unfinished version left by an interrupted run" in again.output
    assert staged_files(project, PRE) == 0 and len(versions(project, PRE)) == len(before) + 1


def test_segmentation_interrupted_while_training(project, demo_run):
    models_before = versions(project, "06_models/cellpose_model.pt")
    interrupt(project, ["--pipelines=segmentation"], lambda log: "Running node: train_cellpose" in log, signal.SIGINT)
    assert versions(project, "06_models/cellpose_model.pt") == models_before
    assert latest_run_status(project) == "KILLED"
    _patches_match_reference(project, demo_run)


def test_segmentation_killed_while_writing_masks(project, demo_run):
    before = versions(project, MASKS)
    # From the model the demo run trained: the masks are written the same way, sooner.
    trained = latest_file(project, "06_models/cellpose_model.pt")
    arguments = ["--pipelines=segmentation", f"--params=segmentation.model_source={trained},segmentation.train=false"]
    interrupt(project, arguments, lambda _: staged_files(project, MASKS) >= 2, signal.SIGKILL)
    assert versions(project, MASKS) == before
    _patches_match_reference(project, demo_run)


def _drop_newest(project, dataset: str) -> None:
    """The state a run killed after publishing its other outputs leaves: a kill in the
    milliseconds between two saves cannot be timed reliably, its result can."""
    shutil.rmtree(project / "data" / dataset / versions(project, dataset)[-1])


def test_patching_killed_between_its_outputs_stops_modelling(project):
    assert kedro(project, "--pipelines=patching").returncode == 0
    _drop_newest(project, "05_model_input/patch_metadata.csv")
    result = kedro(project, "--pipelines=modelling")
    assert result.returncode != 0
    assert "The inputs of node 'train_model' come from different runs" in result.output
    assert "Re-run `kedro run --pipelines=patching`" in result.output


def test_modelling_interrupted_then_evaluation_gives_reference_metrics(project, demo_run):
    interrupt(project, ["--pipelines=modelling"], lambda log: "Running node: train_model" in log, signal.SIGINT)
    assert latest_run_status(project) == "KILLED"
    result = kedro(project, "--pipelines=evaluation")
    assert result.returncode == 0, result.output[-3000:]
    metrics = "08_reporting/clustering_metrics.csv"
    pd.testing.assert_frame_equal(pd.read_csv(latest_file(project, metrics)), pd.read_csv(latest_file(demo_run, metrics)))


def test_evaluation_killed_between_its_outputs_then_rerun_is_identical(project, demo_run):
    metrics = "08_reporting/clustering_metrics.csv"
    assert kedro(project, "--pipelines=evaluation").returncode == 0
    _drop_newest(project, metrics)
    result = kedro(project, "--pipelines=evaluation")
    assert result.returncode == 0, result.output[-3000:]
    pd.testing.assert_frame_equal(pd.read_csv(latest_file(project, metrics)), pd.read_csv(latest_file(demo_run, metrics)))


def test_a_second_run_in_the_same_folder_stops_at_once(project):
    runs_before = n_runs(project)
    metrics_before = versions(project, "08_reporting/clustering_metrics.csv")
    second = {}

    def start_second(log: str) -> bool:
        if "Running node: train_cellpose" in log and not second:
            second["result"] = kedro(project, "--pipelines=evaluation")
        return "Pipeline execution completed" in log

    # Watch the first run; SIGCONT, sent once it has completed, changes nothing.
    interrupt(project, ["--pipelines=segmentation"], start_second, signal.SIGCONT)
    result = second["result"]
    assert result.returncode == 1
    assert "Error: Another `kedro run` is using this project folder: pid" in result.output
    assert "Running node" not in result.output
    assert versions(project, "08_reporting/clustering_metrics.csv") == metrics_before
    assert n_runs(project) == runs_before + 1  # the first run only
    assert latest_run_status(project) == "FINISHED"


def test_changed_raw_image_then_patching_without_segmentation_stops(project):
    field = sorted((project / "data/01_raw/images").glob("*/*.tif"))[0]
    tifffile.imwrite(field, np.flipud(tifffile.imread(field)))
    assert kedro(project, "--pipelines=preprocessing").returncode == 0
    result = kedro(project, "--pipelines=patching")
    assert result.returncode != 0
    assert "come from different runs" in result.output and "Re-run `kedro run --pipelines=segmentation`" in result.output


def test_demo_data_never_writes_into_a_users_folder(tmp_path):
    root = make_project(tmp_path)
    mine = root / "data/01_raw/images/WT/plate1_f01.tif"
    mine.parent.mkdir(parents=True)
    tifffile.imwrite(mine, np.arange(64, dtype=np.uint16).reshape(8, 8))
    result = kedro(root, "--pipelines=demo_data")
    assert result.returncode != 0
    assert "holds files it did not make: 'WT/plate1_f01.tif'" in result.output
    assert "Traceback" not in result.output  # Kedro's catalog wraps it; the message still shows alone
    np.testing.assert_array_equal(tifffile.imread(mine), np.arange(64, dtype=np.uint16).reshape(8, 8))
    assert sorted(p.name for p in (root / "data/01_raw/images").rglob("*") if p.is_file()) == ["plate1_f01.tif"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("evaluation.label_column=conditon", "evaluation.label_column = 'conditon' is not a column of the patch metadata"),
        ("modelling.training.epochs=-1", "modelling.training.epochs = -1: Input should be greater than 0"),
        ("modelling.training.batch_size=0", "modelling.training.batch_size = 0: Input should be greater than or equal to 2"),
        ("patching.patch_size=0", "patching.patch_size = 0: Input should be greater than or equal to 8"),
    ],
)
def test_values_wrong_for_the_data_stop_with_the_parameter_named(project, params, expected):
    pipeline = params.split(".")[0]
    result = kedro(project, f"--pipelines={pipeline}", f"--params={params}")
    assert result.returncode != 0
    assert expected in result.output


def test_control_condition_off_by_case_names_the_conditions_found_and_suggests_the_right_one(project):
    # The conditions are those of the cells this run's segmentation found (a field where
    # the tiny test training finds no cell drops out): read them from the run itself.
    conditions = sorted(pd.read_csv(latest_file(project, "05_model_input/patch_metadata.csv"))["condition"].unique())
    result = kedro(project, "--pipelines=evaluation", "--params=evaluation.control_condition=Control")
    assert result.returncode != 0
    expected = f"evaluation.control_condition = 'Control' is not among the conditions of the data: {', '.join(conditions)}."
    assert expected in result.output
    if "control" in conditions:
        assert "Did you mean 'control'?" in result.output


def test_builtin_cellpose_model_offline_says_which_file_to_put_where(project):
    result = kedro(project, "--pipelines=segmentation", "--params=segmentation.model_source=cyto3,segmentation.train=false")
    assert result.returncode != 0
    assert "segmentation.model_source 'cyto3' is a built-in Cellpose model whose weights are not on this machine" in result.output
    assert "Copy the file 'cyto3'" in result.output


def test_an_output_pinned_to_an_old_version_is_refused_before_writing(project):
    metrics = "08_reporting/clustering_metrics.csv"
    old = versions(project, metrics)[0]
    result = kedro(project, "--pipelines=evaluation", f"--load-versions=clustering_metrics:{old}")
    assert result.returncode != 0
    assert f"is pinned to load version {old} (--load-versions)" in result.output
    assert versions(project, metrics) == [old]
