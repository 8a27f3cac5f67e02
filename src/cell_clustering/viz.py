"""``make viz``: kedro-viz on this project, as its users should see it offline.

kedro-viz 12.5 asks PyPI for its latest version whenever the page asks; offline it
compares its own version with the string ``"None"`` and the settings panel announces
"Kedro-Viz None is here!". On a first visit it also opens its onboarding tour over the
flowchart. This launcher serves kedro-viz's own app, loaded by kedro-viz's own loader,
with two changes at the edge:

- ``/api/version`` gives kedro-viz's static answer (the installed version, up to date):
  nothing is fetched at run time;
- the page starts with the onboarding hints off (the settings panel turns them back on,
  and kedro-viz remembers that) and is titled with the project's name and version.

    python -m cell_clustering.viz [--host 127.0.0.1] [--port 4141] [--env base]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from kedro_viz.api import apps
from kedro_viz.api.rest.responses.version import get_static_version_response
from kedro_viz.server import load_and_populate_data

from cell_clustering import __version__

TITLE = f"cell-clustering {__version__} · pipelines"
# Runs before kedro-viz's bundle reads its saved settings: hints off unless the user
# has chosen otherwise in an earlier visit.
_HEAD = (
    "<script>(function () {var key = 'KedroViz'; var saved = JSON.parse(localStorage.getItem(key) || '{}');"
    "if (!('showFeatureHints' in saved)) {saved.showFeatureHints = false; localStorage.setItem(key, JSON.stringify(saved));}"
    f"}})();</script><title>{TITLE}</title>"
)


def create_app(project_path: Path, env: str | None = None) -> FastAPI:
    """kedro-viz's app for the project at ``project_path`` with this project's edge."""
    load_and_populate_data(project_path, env=env)
    app = apps.create_api_app_from_project(project_path)
    app.middleware("http")(_project_edge)
    return app


async def _project_edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    if request.url.path == "/api/version":
        return JSONResponse(json.loads(get_static_version_response().model_dump_json()))
    response = await call_next(request)
    if request.url.path not in ("/", "/workflow") or response.status_code != 200:
        return response
    page = b"".join([chunk async for chunk in response.body_iterator]).decode("utf-8")
    page = page.replace("<title>Kedro-Viz</title>", "").replace("<head>", "<head>" + _HEAD, 1)
    headers = {name: value for name, value in response.headers.items() if name.lower() != "content-length"}
    return HTMLResponse(page, status_code=response.status_code, headers=headers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4141)
    parser.add_argument("--env", default=None)
    args = parser.parse_args()
    print(f"{TITLE}: http://{args.host}:{args.port}")  # noqa: T201 - the address, as `kedro viz run` prints it
    uvicorn.run(create_app(Path.cwd(), args.env), host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
