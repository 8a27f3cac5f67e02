"""The report's interactive latent map (plotly, inlined: it opens from disk offline).

Each point is a cell, coloured by cluster or by condition (buttons switch); hovering
a point shows its thumbnail, condition, field and cell label beside the map, so a
surprising cluster leads back to its cells.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image

MAP_ID = "latent-map"
PREVIEW_ID = "cell-preview"

# Runs once the plot exists: on hover, show the hovered cell's thumbnail and ids.
_HOVER_SCRIPT = """
const plot = document.getElementById('{plot_id}');
const thumbnails = %(thumbnails)s;
plot.on('plotly_hover', function (event) {
  const cell = event.points[0].customdata;
  document.getElementById('%(preview)s-image').src = thumbnails[cell[0]];
  document.getElementById('%(preview)s-text').textContent =
    cell[1] + ' | field ' + cell[2] + ' | cell ' + cell[3] + ' | cluster ' + cell[4];
});
"""


def thumbnail(patch: np.ndarray, *, scale: int = 2) -> str:
    """A data-URI PNG of a (C, S, S) patch in [0, 1] (first channel), ``scale`` × larger."""
    grey = (np.clip(patch[0], 0, 1) * 255).astype(np.uint8)
    image = Image.fromarray(grey).resize((grey.shape[1] * scale, grey.shape[0] * scale), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _traces(embedding: np.ndarray, groups: np.ndarray, custom: np.ndarray, prefix: str, visible: bool) -> list[go.Scatter]:
    return [
        go.Scatter(
            x=embedding[groups == group, 0], y=embedding[groups == group, 1], mode="markers", name=f"{prefix} {group}",
            customdata=custom[groups == group], visible=visible, marker={"size": 6},
            hovertemplate="%{customdata[1]}<br>field %{customdata[2]}<br>cell %{customdata[3]}<extra></extra>",
        )
        for group in sorted(pd.unique(groups), key=str)
    ]


def latent_map(embedding: np.ndarray, cells: pd.DataFrame, clusters: np.ndarray, patches: np.ndarray) -> str:
    """The map as an HTML fragment (plotly.js inlined), with the hover preview.

    Parameters
    ----------
    embedding : (N, 2) ndarray
        2-D coordinates of the cells.
    cells : pandas.DataFrame
        N rows with ``condition``, ``field`` and ``cell_label``.
    clusters : (N,) ndarray
        The reported cluster of each cell.
    patches : (N, C, S, S) ndarray
        The cells' patches, for the thumbnails.
    """
    custom = np.column_stack([
        np.arange(len(cells)), cells["condition"].astype(str), cells["field"].astype(str),
        cells["cell_label"].astype(str), clusters.astype(str),
    ]).astype(object)
    by_cluster = _traces(embedding, clusters.astype(str), custom, "cluster", True)
    by_condition = _traces(embedding, cells["condition"].astype(str).to_numpy(), custom, "", False)
    figure = go.Figure(by_cluster + by_condition)
    flags = [True] * len(by_cluster) + [False] * len(by_condition)
    figure.update_layout(
        width=760, height=560, margin={"l": 20, "r": 20, "t": 40, "b": 20}, xaxis={"visible": False}, yaxis={"visible": False},
        updatemenus=[{"type": "buttons", "direction": "right", "x": 0, "y": 1.08, "xanchor": "left", "buttons": [
            {"label": "colour by cluster", "method": "update", "args": [{"visible": flags}]},
            {"label": "colour by condition", "method": "update", "args": [{"visible": [not flag for flag in flags]}]},
        ]}],
    )
    thumbnails = [thumbnail(patch) for patch in patches]
    script = _HOVER_SCRIPT % {"thumbnails": json.dumps(thumbnails), "preview": PREVIEW_ID}
    plot = figure.to_html(full_html=False, include_plotlyjs=True, div_id=MAP_ID, post_script=script)
    preview = (
        f"<div id='{PREVIEW_ID}' style='display:inline-block;vertical-align:top;margin-left:1em;width:220px'>"
        f"<p>Hover a cell to see it.</p><img id='{PREVIEW_ID}-image' alt='hovered cell' src='{thumbnails[0] if thumbnails else ''}'"
        " style='width:160px;image-rendering:pixelated'>"
        f"<p id='{PREVIEW_ID}-text'></p></div>"
    )
    return f"<div style='display:inline-block'>{plot}</div>{preview}"
