"""The model card of a trained run: what a new plate must share with the training plate.

A trained run is applied to new fields by the ``inference`` pipeline. The card records
what made the clusters (the shape model's fingerprint, the reported head), the
processing parameters that produced the cells (preprocessing, segmentation at
inference, patching), the pixel sizes and channel layout of the training fields, and
the out-of-distribution threshold. The checks here refuse a new plate or a
configuration that does not match, naming what differs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cell_clustering.parameters import Params

# The parameters that change which cells a field gives and how they are patched. A new
# plate goes through exactly these; training-only keys (budgets, figures) may differ.
COMPARED_KEYS: dict[str, tuple[str, ...] | None] = {
    "preprocessing": None,  # every key
    "segmentation": (
        "method", "cell_diameter_um", "model_source", "normalize_percentiles", "inference", "post_filters", "classical",
    ),
    "patching": ("method", "window_um", "channels", "patch_size", "margin", "mask_dilation", "filters"),
}


def fingerprint(checkpoint: Mapping[str, Any]) -> str:
    """SHA-256 of a shape-model checkpoint's weights (names, shapes and values), so that a
    clustering reference is never paired with another run's model."""
    digest = hashlib.sha256(str(checkpoint["model"]).encode())
    for name in sorted(checkpoint["state_dict"]):
        tensor = checkpoint["state_dict"][name].detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def processing_parameters(params: Mapping[str, Params]) -> dict[str, dict[str, Any]]:
    """The compared keys (``COMPARED_KEYS``) of each block, as plain JSON values."""
    recorded = {}
    for block, keys in COMPARED_KEYS.items():
        values = params[block].model_dump(mode="json")
        recorded[block] = values if keys is None else {key: values[key] for key in keys}
    return recorded


def _flatten(values: Any, prefix: str) -> dict[str, Any]:
    if isinstance(values, Mapping):
        return {key: value for name, inner in values.items() for key, value in _flatten(inner, f"{prefix}.{name}").items()}
    return {prefix: values}


def parameter_differences(trained: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``block.key = current (trained with: value)`` for every compared key that differs."""
    flat_trained, flat_current = _flatten(trained, ""), _flatten(current, "")
    return [
        f"{key.lstrip('.')} = {flat_current.get(key)!r} (trained with {flat_trained.get(key)!r})"
        for key in sorted(set(flat_trained) | set(flat_current))
        if flat_trained.get(key) != flat_current.get(key)
    ]


def field_layout(field_table: pd.DataFrame) -> dict[str, Any]:
    """Pixel sizes (µm, min / median / max) and channel layouts of the fields that were read."""
    read = field_table[field_table["pixel_size_um"].notna()] if "pixel_size_um" in field_table else field_table.iloc[:0]
    sizes = read["pixel_size_um"].to_numpy(dtype=float) if len(read) else np.array([np.nan])
    layout_columns = [column for column in ("axes", "channel") if column in read]
    return {
        "pixel_size_um": {"min": float(np.min(sizes)), "median": float(np.median(sizes)), "max": float(np.max(sizes))},
        "layouts": sorted({"/".join(str(row[c]) for c in layout_columns) for _, row in read.iterrows()}),
        "layout_columns": layout_columns,
    }


def layout_problems(field_table: pd.DataFrame, trained: Mapping[str, Any], *, tolerance: float) -> list[str]:
    """One line per new field whose pixel size or channel layout the trained run never saw."""
    sizes = trained["pixel_size_um"]
    low, high = sizes["min"] * (1 - tolerance), sizes["max"] * (1 + tolerance)
    problems = []
    for _, row in field_table.iterrows():
        size = row.get("pixel_size_um")
        if size is not None and pd.notna(size) and not low <= float(size) <= high:
            problems.append(
                f"{row['field']}: pixel size {float(size):.4g} µm, trained on {sizes['min']:.4g}-{sizes['max']:.4g} µm"
            )
        layout = "/".join(str(row[c]) for c in trained["layout_columns"] if c in row)
        if trained["layouts"] and pd.notna(size) and layout not in trained["layouts"]:
            problems.append(f"{row['field']}: channel layout {layout}, trained on {', '.join(trained['layouts'])}")
    return problems
