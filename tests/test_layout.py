"""The layout a newcomer reads: short functions, short modules, one core module (or
package) per pipeline, imports at the top, torch modules free of Kedro."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "cell_clustering"
MODULES = sorted(SOURCE.rglob("*.py"))
PIPELINES = sorted(path.name for path in (SOURCE / "pipelines").iterdir() if (path / "pipeline.py").exists())


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


@pytest.mark.parametrize("module", MODULES, ids=lambda path: str(path.relative_to(SOURCE)))
def test_no_module_over_400_lines_and_no_function_over_50(module):
    text = module.read_text()
    assert len(text.splitlines()) <= 400
    long = {
        function.name: function.end_lineno - function.lineno + 1
        for function in _functions(ast.parse(text))
        if function.end_lineno - function.lineno + 1 > 50
    }
    assert long == {}


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_every_pipeline_has_a_core_module_of_its_name_and_a_parameters_model(pipeline):
    assert (SOURCE / f"{pipeline}.py").exists() or (SOURCE / pipeline / "__init__.py").exists()
    # benchmark_data has no parameters: it only converts the offline sources.
    assert (SOURCE / "parameters" / f"{pipeline}.py").exists() or pipeline == "benchmark_data"


@pytest.mark.parametrize("module", MODULES, ids=lambda path: str(path.relative_to(SOURCE)))
def test_imports_sit_at_the_top_of_modules(module):
    tree = ast.parse(module.read_text())
    nested = [
        node.lineno
        for function in _functions(tree)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert nested == []


def test_torch_modules_are_free_of_kedro():
    for module in (SOURCE / "modelling").rglob("*.py"):
        assert "kedro" not in module.read_text(), module
