"""What users look at, checked in a real headless Chromium (Debian's ``chromium``).

After a tiny run (the ``demo_run`` fixture), each test starts the server a user
would start (kedro-viz, the MLflow UI) on a free loopback port, drives the page with
Playwright and stops the server, whatever the outcome. Screenshots go to
``data/08_reporting/screenshots/`` of the repository.

Run them alone with ``pytest -m browser``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import kedro_viz
import pandas as pd
import pytest
from kedro.framework.project import pipelines
from mlflow.tracking import MlflowClient
from playwright.sync_api import expect, sync_playwright

import cell_clustering
from tests.kedro_project import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = PROJECT_ROOT / "data" / "08_reporting" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
BIN = Path(sys.executable).parent


def _ephemeral_range() -> range:
    """The kernel's range of ephemeral (client) ports."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    return range(low, high + 1)


def free_port() -> int:
    """A free loopback port for a server, chosen so that nothing can go wrong:

    - below 49152, because kedro-viz refuses higher ports (``_find_available_port``
      raises), and binding port 0 hands out ephemeral ports up to 60999;
    - outside the kernel's ephemeral range, because while the server is starting, the
      test's polling client may get the very same port as its own source port and
      TCP then connects the socket to itself (it reads back its own request).
    """
    ephemeral = _ephemeral_range()
    candidates = [port for port in range(20000, 49152) if port not in ephemeral] or list(range(20000, 49152))
    start = os.getpid() % len(candidates)  # spread concurrent test runs apart
    for offset in range(len(candidates)):
        port = candidates[(start + offset * 7919) % len(candidates)]
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in 20000-49151 outside the ephemeral range {ephemeral}")


def log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def server(command: list[str], url: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180) -> Iterator[None]:
    """Start ``command``, wait until ``url`` answers 200, and always stop it (the
    whole process group: the MLflow UI forks workers)."""
    log = (cwd / f"server-{Path(command[0]).name}.log").open("w")
    process = subprocess.Popen(
        command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "DO_NOT_TRACK": "true", **(env or {})},
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log.flush()
                raise RuntimeError(
                    f"{command[0]} exited with {process.returncode}; {log.name} ends with:\n{log_tail(Path(log.name))}"
                )
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
                    if response.status == 200:
                        break
            except (OSError, http.client.HTTPException):  # not listening yet, or not speaking HTTP yet
                pass
            if time.monotonic() > deadline:
                log.flush()
                raise TimeoutError(
                    f"{url} did not answer within {timeout} s; {log.name} ends with:\n{log_tail(Path(log.name))}"
                )
            time.sleep(1)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    executable = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail("Chromium is missing: `apt-get install -y chromium` (make system-deps does it).")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context.new_page()
    context.close()


def test_kedro_viz_shows_the_five_pipelines_and_the_evaluation_nodes(demo_run, page):
    port = free_port()
    # What `make viz` runs: kedro-viz's app with the project's edge (cell_clustering/viz.py).
    command = [str(BIN / "python"), "-m", "cell_clustering.viz", "--host", "127.0.0.1", "--port", str(port), "--env", "test"]
    with server(command, f"http://127.0.0.1:{port}/api/main", demo_run):
        page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle")
        assert page.title() == f"cell-clustering {cell_clustering.__version__} · pipelines"
        page.wait_for_timeout(2_000)  # kedro-viz opens its tour a moment after the page
        assert page.locator(".feature-hints").count() == 0  # no onboarding tour over the flowchart
        page.locator(".pipeline-menu-button--settings").first.click()
        assert "None is here" not in page.inner_text("body")
        # The settings panel draws its version line a moment after the click.
        page.get_by_text("latest version of Kedro-Viz").first.wait_for(timeout=15_000)
        assert f"latest version of Kedro-Viz ({kedro_viz.__version__})" in page.inner_text("body")
        page.keyboard.press("Escape")
        page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle")
        page.locator(".pipeline-list").get_by_text("__default__").first.click()
        # The drop-down renders its options a moment after the click; reading them at
        # once can find none (it did on CI), so wait for the last one to be drawn.
        page.get_by_role("option", name="evaluation", exact=True).wait_for(timeout=30_000)
        listed = page.get_by_role("option").all_inner_texts()
        assert {"preprocessing", "segmentation", "patching", "modelling", "evaluation"} <= set(listed)

        page.get_by_role("option", name="evaluation", exact=True).click()
        page.wait_for_url("**pid=evaluation**")
        panel = page.locator(".pipeline-nodelist__elements-panel")
        # The URL changes before the list is redrawn (a run on a fresh clone read the
        # whole pipeline's list there): the segmentation node must go, the view is filtered.
        expect(panel).not_to_contain_text("train_cellpose", timeout=30_000)
        node_list = panel.inner_text().split("\n")
        expected = {node.name for node in pipelines["evaluation"].nodes}
        assert expected <= set(node_list)
        # The flowchart redraws a moment after the list: wait until it has dropped the
        # other pipelines' boxes, then check it draws every evaluation node.
        page.wait_for_function(
            "() => { const drawn = [...document.querySelectorAll('.pipeline-node__text')].map(e => e.textContent);"
            " return drawn.length > 0 && !drawn.includes('train_cellpose'); }",
            timeout=30_000,
        )
        drawn = set(page.locator(".pipeline-node__text").all_text_contents())
        assert expected <= drawn
        assert "raw_images" not in drawn  # a preprocessing input
        page.screenshot(path=SCREENSHOTS / "kedro_viz_evaluation.png")


def test_mlflow_ui_lists_the_run_its_params_and_a_metric_history(demo_run, page):
    client = MlflowClient(tracking_uri=f"sqlite:///{demo_run / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("cell_clustering")
    # The demo run's own `kedro run` (other tests sharing the project may add later ones).
    run = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.run_name = '__default__'",
        order_by=["attributes.start_time ASC"], max_results=1,
    )[0]
    history = client.get_metric_history(run.info.run_id, "cellpose.train_loss")
    assert len(history) > 1

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [str(BIN / "mlflow"), "ui", "--backend-store-uri", f"sqlite:///{demo_run / 'mlflow.db'}",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with server(command, base, demo_run, env={"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}):
        page.goto(f"{base}/#/experiments/{experiment.experiment_id}/runs", wait_until="load")
        page.get_by_text("__default__").first.wait_for(timeout=60_000)
        assert "cell_clustering" in page.inner_text("body")
        page.screenshot(path=SCREENSHOTS / "mlflow_runs.png")

        page.goto(f"{base}/#/experiments/{experiment.experiment_id}/runs/{run.info.run_id}", wait_until="load")
        page.get_by_text("Parameters", exact=False).first.wait_for(timeout=60_000)
        for name, value in (("modelling.model.latent_dim", "4"), ("evaluation.report.k", "3")):
            search = page.get_by_placeholder("Search parameters")
            if search.count():  # long tables are searchable and virtualised
                search.fill(name)
            row = page.get_by_role("row", name=name).first
            row.wait_for(timeout=30_000)
            assert row.inner_text().split() == [name, value]
        body = page.inner_text("body")
        assert "clustering.latents.gmm.k2.silhouette" in body or page.get_by_placeholder("Search metrics").count()
        page.screenshot(path=SCREENSHOTS / "mlflow_run.png", full_page=True)

        query = urllib.parse.urlencode({
            "runs": json.dumps([run.info.run_id]), "metric": json.dumps("cellpose.train_loss"),
            "experiments": json.dumps([experiment.experiment_id]), "plot_metric_keys": json.dumps(["cellpose.train_loss"]),
            "plot_layout": "{}", "x_axis": "step", "y_axis_scale": "linear", "line_smoothness": 1, "show_point": "true",
            "deselected_curves": "[]", "last_linear_y_axis_range": "[]",
        })
        page.goto(f"{base}/#/metric/cellpose.train_loss?{query}", wait_until="load")
        page.locator(".js-plotly-plot path.point").first.wait_for(timeout=60_000)
        # One marker per logged epoch, and the summary names the last step.
        assert page.locator(".js-plotly-plot path.point").count() == len(history)
        assert f"(step={len(history) - 1})" in page.inner_text("body")
        page.screenshot(path=SCREENSHOTS / "mlflow_metric_history.png")


def test_report_shows_every_table_and_figure(demo_run, page):
    report = sorted((demo_run / "data/08_reporting/report.html").iterdir())[-1] / "report.html"
    page.goto(report.as_uri(), wait_until="load")
    headings = page.locator("h2").all_inner_texts()
    for stage in ("Input:", "Preprocessing:", "Segmentation: cells per field", "Segmentation against the ground truth",
                  "Segmentation: predicted outlines", "Patching:", "Training of the shape model", "Latent map"):
        assert any(heading.startswith(stage) for heading in headings), (stage, headings)  # the whole run, stage by stage
    assert "MLflow run " in page.inner_text("body") and "mlflow ui --backend-store-uri" in page.inner_text("body")
    images = page.locator("img")
    assert images.count() == 11  # 5 of the stages before the clustering, 5 of the clustering, the map's preview
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        loaded = image.evaluate("img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0")
        assert loaded, f"figure {index} ({image.get_attribute('alt')}) is broken"
        assert image.bounding_box()["width"] > 100
    assert page.locator("details table").is_hidden()  # every metric at every k: one click away
    page.get_by_text("Every metric at every k").click()
    tables = page.locator("table")
    assert tables.count() >= 3  # compact and full comparison, composition
    for index in range(tables.count()):
        table = tables.nth(index)
        assert table.is_visible()
        assert table.locator("tbody tr").count() >= 1
    page.screenshot(path=SCREENSHOTS / "report.png", full_page=True)


def test_hovering_a_cell_of_the_latent_map_shows_its_thumbnail_and_ids(demo_run, page):
    report = sorted((demo_run / "data/08_reporting/report.html").iterdir())[-1] / "report.html"
    page.goto(report.as_uri(), wait_until="load")
    preview, text = page.locator("#cell-preview-image"), page.locator("#cell-preview-text")
    assert text.inner_text() == ""  # filled by the hover handler only
    points = page.locator("#latent-map .scatterlayer .point")
    assert points.count() > 1
    points.nth(points.count() - 1).scroll_into_view_if_needed()
    points.nth(points.count() - 1).hover(force=True)
    page.wait_for_function("() => document.getElementById('cell-preview-text').textContent.includes('field')", timeout=10_000)
    assert preview.get_attribute("src").startswith("data:image/png;base64,")
    shown = text.inner_text()
    assignments = sorted((demo_run / "data/08_reporting/cluster_assignments.csv").iterdir())[-1] / "cluster_assignments.csv"
    fields = set(pd.read_csv(assignments)["field"])
    assert any(f"field {field} " in shown for field in fields), shown  # a real cell of the run
    page.get_by_text("colour by condition").click()
    page.screenshot(path=SCREENSHOTS / "report_latent_map.png", full_page=False)
