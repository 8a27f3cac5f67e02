"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# The processing chain, in order. `demo_data` is set-up, run on its own.
PROCESSING_PIPELINES = ("preprocessing", "segmentation", "patching", "modelling", "evaluation")


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns
    -------
    dict
        ``demo_data``, the five processing pipelines, and ``__default__`` = the five
        processing pipelines chained from raw images to the clustering table.
    """
    pipelines = find_pipelines(raise_errors=True)
    # Kedro loads only the pipelines a command asks for (`--pipelines=demo_data`);
    # `__default__` is built when the whole processing chain was loaded.
    if all(name in pipelines for name in PROCESSING_PIPELINES):
        pipelines["__default__"] = sum(pipelines[name] for name in PROCESSING_PIPELINES)
    return pipelines
