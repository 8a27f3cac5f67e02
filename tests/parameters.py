"""Typed parameter blocks for tests: ``conf/base`` values with deep-merged overrides,
validated exactly as a run validates them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from cell_clustering.parameters import BLOCKS, Params

CONF = Path(__file__).resolve().parents[1] / "conf"


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in, nested mappings key by key."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def raw_block(name: str, env: str = "base") -> dict[str, Any]:
    """The raw ``name`` block of ``conf/<env>/parameters_<name>.yml``."""
    return yaml.safe_load((CONF / env / f"parameters_{name}.yml").read_text())[name]


def block(name: str, **overrides: Any) -> Params:
    """The validated ``name`` block of ``conf/base`` with ``overrides`` merged in."""
    return BLOCKS[name].model_validate(deep_merge(raw_block(name), overrides))
