"""Matplotlib for nodes: the headless backend, imported only when a figure is made."""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no display on servers and in CI).

    Imported lazily so that listing or running pipelines without figures does not pay
    for matplotlib.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
