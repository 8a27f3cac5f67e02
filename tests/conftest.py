"""Test-wide set-up."""

import atexit
import os
import shutil
import tempfile

import mlflow
import pytest
from kedro.framework.startup import bootstrap_project

from tests.kedro_project import make_project, run

# Cellpose reads this when it is first imported: keep anything it would write out of
# the home folder. Set before any test module imports cellpose; removed at exit, so
# test sessions leave no folder behind in the system's temporary directory.
if "CELLPOSE_LOCAL_MODELS_PATH" not in os.environ:
    os.environ["CELLPOSE_LOCAL_MODELS_PATH"] = tempfile.mkdtemp(prefix="cellpose-models-")
    atexit.register(shutil.rmtree, os.environ["CELLPOSE_LOCAL_MODELS_PATH"], ignore_errors=True)
os.environ.setdefault("DO_NOT_TRACK", "true")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """A temporary project after `kedro run --pipelines=demo_data` then `kedro run`
    (conf/test): shared by the end-to-end, notebook and browser tests."""
    root = make_project(tmp_path_factory.mktemp("demo_run"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(root)
        bootstrap_project(root)
        run(root, "demo_data")
        run(root)
    mlflow.set_tracking_uri(None)
    return root
