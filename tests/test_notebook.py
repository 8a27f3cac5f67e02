"""The exploration notebook runs top to bottom on the outputs of a real run."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.kedro_project import PROJECT_ROOT

NOTEBOOK = PROJECT_ROOT / "notebooks" / "explore_latest_run.ipynb"


@pytest.mark.slow
def test_notebook_executes_on_the_latest_run(demo_run, monkeypatch):
    monkeypatch.setenv("CELL_CLUSTERING_PROJECT", str(demo_run))
    monkeypatch.setenv("KEDRO_ENV", "test")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # Raises CellExecutionError, with the cell and traceback, if any cell fails.
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    text = "".join(output.get("text", "") for output in outputs)
    assert f"Project {demo_run}, environment test" in text
    assert "Pearson chi-squared" in text
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(figures) == 3  # composition, UMAP, sample cells
