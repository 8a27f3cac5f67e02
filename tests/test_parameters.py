"""Typed parameters: every block of conf/base validates, and a typo'd, mistyped or
out-of-range value anywhere stops `kedro run` before the first node, with a message
naming the full key path, the value and what is allowed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from pydantic import ValidationError

from cell_clustering.parameters import (
    BLOCKS,
    ModellingParams,
    ParameterError,
    check_parameters,
)
from tests.kedro_project import make_project
from tests.parameters import CONF, block, deep_merge, raw_block


def test_every_base_block_validates_and_every_file_has_a_model():
    files = sorted(path.stem.removeprefix("parameters_") for path in (CONF / "base").glob("parameters_*.yml"))
    assert files == sorted(BLOCKS)
    validated = check_parameters({name: raw_block(name) for name in files})
    assert {name: type(model) for name, model in validated.items()} == BLOCKS


def test_models_are_frozen():
    params = block("modelling")
    with pytest.raises(ValidationError, match="frozen"):
        params.model_type = "vae"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"modelling": {"model": {"latnt_dim": 32}}},
         "modelling.model.latnt_dim = 32: unknown parameter (a typo?); allowed here: latent_dim."),
        ({"modeling": {"model": {"latent_dim": 32}}}, "modeling: unknown parameter block (a typo?); known blocks: demo_data,"),
        ({"modelling": {"training": {"epochs": "abc"}}}, "modelling.training.epochs = 'abc': Input should be a valid integer"),
        ({"patching": {"filters": {"min_are": 5000}}}, "patching.filters.min_are = 5000: unknown parameter"),
        ({"patching": {"patch_size": 0}}, "patching.patch_size = 0: Input should be greater than or equal to 8."),
        ({"patching": {"patch_size": 63}}, "patching.patch_size = 63: Value error, must be even"),
        ({"evaluation": {"heads": ["kmean"]}}, "evaluation.heads.0 = 'kmean': Input should be 'kmeans', 'gmm', 'umap_kmeans' or 'umap_gmm'."),
        ({"evaluation": {"report": {"k": 9}}}, "evaluation: report.k (9) must be one of n_clusters [4, 5, 7]."),
        ({"segmentation": {"training": {"batch_size": 0}}}, "segmentation.training.batch_size = 0: Input should be greater than 0."),
        ({"preprocessing": {"density_bins": [{"name": "x", "max_foreground": 0.5, "clahe_clip_limit": 0.01,
                                               "clahe_kernel_size": 64, "tv_weight": 0.1}]}},
         "preprocessing: density_bins must have increasing max_foreground ending at 1.0"),
        ({"compute": {"backend": "threads"}}, "compute.backend = 'threads': Input should be 'sequential', 'loky' or 'dask'."),
        ({"demo_data": {**raw_block("demo_data"), "shape_classes": {"round": {"lenght_um": [1, 2], "aspect": [1, 0]}}}},
         "demo_data.shape_classes.round.lenght_um = [1, 2]: unknown parameter (a typo?); allowed here: length_um,"),
        ({"benchmark": {"heads": ["kmeans", "umap_dbscan"]}}, "benchmark.heads.1 = 'umap_dbscan': Input should be"),
    ],
)
def test_bad_values_name_key_value_and_rule(raw, expected):
    with pytest.raises(ParameterError) as error:
        check_parameters(raw)
    assert expected.replace("Value error, ", "") in str(error.value)


def test_a_key_of_another_model_type_has_no_place_to_go():
    # alpha belongs to the refined VAE's own block, beta to the VAE family's; under
    # `model` they are refused whatever the model type, so none is silently dropped.
    with pytest.raises(ValidationError, match="alpha"):
        ModellingParams.model_validate({"model_type": "vae", "model": {"alpha": 4}})
    with pytest.raises(ValidationError, match="beta"):
        ModellingParams.model_validate({"model_type": "contrastive", "model": {"beta": 4}})
    with pytest.raises(ValidationError, match="the contrastive model draws its own views"):
        ModellingParams.model_validate({"model_type": "contrastive", "training": {"augment": {"flips": True}}})
    with pytest.raises(ValidationError, match="divisible"):
        ModellingParams.model_validate({"model_type": "refined_vae", "model": {"latent_dim": 12}, "refined_vae": {"alpha": 8}})
    assert ModellingParams.model_validate({"model_type": "vae", "model": {"latent_dim": 12}}).model.latent_dim == 12


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("parameters_project"))
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(root)
    bootstrap_project(root)
    yield root
    monkeypatch.undo()


# One bad runtime parameter per pipeline: the run stops before its first node.
BAD_PARAMETER_PER_PIPELINE = {
    "demo_data": ({"demo_data.seed": -1}, "demo_data.seed = -1"),
    "preprocessing": ({"preprocessing.angle.canny_sigm": 2.0}, "preprocessing.angle.canny_sigm = 2.0: unknown parameter"),
    "segmentation": ({"segmentation.inference.flow_threshold": "high"}, "segmentation.inference.flow_threshold = 'high'"),
    "patching": ({"patching.method": "crop"}, "patching.method = 'crop'"),
    "modelling": ({"modelling.model.latnt_dim": 32}, "modelling.model.latnt_dim = 32: unknown parameter"),
    "evaluation": ({"evaluation.n_init": 0}, "evaluation.n_init = 0: Input should be greater than 0."),
    "benchmark_data": ({"benchmark.max_train_samples": 0}, "benchmark.max_train_samples = 0"),
    "benchmark": ({"benchmark.latent_dims": "16"}, "benchmark.latent_dims = '16'"),
}


def nested(dotted: dict[str, object]) -> dict[str, object]:
    """``{"a.b": 1}`` → ``{"a": {"b": 1}}``, as ``kedro run --params`` passes them."""
    result: dict[str, object] = {}
    for key, value in dotted.items():
        *parents, last = key.split(".")
        current = result
        for parent in parents:
            current = current.setdefault(parent, {})  # type: ignore[assignment]
        current[last] = value  # type: ignore[index]
    return result


@pytest.mark.parametrize("pipeline", sorted(BAD_PARAMETER_PER_PIPELINE))
def test_bad_runtime_parameter_stops_the_run_before_any_node(project, pipeline, caplog):
    runtime_params, expected = BAD_PARAMETER_PER_PIPELINE[pipeline]
    with pytest.raises(ParameterError, match="Invalid parameters") as error:
        with KedroSession.create(project_path=project, env="test", runtime_params=nested(runtime_params)) as session:
            session.run(pipeline_names=[pipeline])
    assert expected in str(error.value)
    assert "Running node" not in caplog.text
    assert not (project / "data").exists() or not any((project / "data").rglob("*.*"))


def test_typo_in_a_parameters_file_stops_the_cli_with_the_message_only(tmp_path):
    root = make_project(tmp_path)
    (root / "conf" / "local" / "parameters.yml").write_text("patching:\n  filters:\n    min_are: 5000\n")
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines=patching"],
        cwd=root, capture_output=True, text=True, check=False, env={**os.environ, "DO_NOT_TRACK": "true"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Error: Invalid parameters:\n  - patching.filters.min_are = 5000: unknown parameter" in output
    assert "Traceback" not in output and "Running node" not in output


@pytest.mark.parametrize("env", ["test", "domain_b"])
def test_every_environment_deep_merged_on_base_validates(env):
    overrides = yaml.safe_load((CONF / env / "parameters.yml").read_text())
    merged = {name: deep_merge(raw_block(name), overrides.get(name, {})) for name in BLOCKS}
    check_parameters(merged)


def test_the_second_domain_images_the_demo_shapes_otherwise():
    base = block("demo_data")
    domain_b = BLOCKS["demo_data"].model_validate(
        deep_merge(raw_block("demo_data"), yaml.safe_load((CONF / "domain_b" / "parameters.yml").read_text())["demo_data"])
    )
    assert domain_b.condition_mixtures == base.condition_mixtures  # the same ground truth to score against
    assert domain_b.shape_classes.keys() == base.shape_classes.keys()
    assert domain_b.pixel_size_um != base.pixel_size_um and domain_b.peak_photons < base.peak_photons
