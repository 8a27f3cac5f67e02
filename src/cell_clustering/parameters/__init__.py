"""Typed, frozen parameter models: one per block of ``conf/*/parameters_*.yml``.

Nodes annotate their ``params:<block>`` input with the block's model, and Kedro
(``kedro.validation``) turns the YAML into that object before the first node runs.
:func:`check_parameters` validates every block, unknown top-level blocks included,
so a typo anywhere fails at once with the full key path (see ``hooks.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cell_clustering.parameters.base import ParameterError, Params, validate_block
from cell_clustering.parameters.benchmark import BenchmarkParams
from cell_clustering.parameters.compute import ComputeParams
from cell_clustering.parameters.demo_data import DemoDataParams
from cell_clustering.parameters.evaluation import EvaluationParams
from cell_clustering.parameters.inference import InferenceParams
from cell_clustering.parameters.modelling import ModellingParams
from cell_clustering.parameters.patching import PatchingParams
from cell_clustering.parameters.preprocessing import PreprocessingParams
from cell_clustering.parameters.segmentation import SegmentationParams
from cell_clustering.parameters.tuning import TuningParams

# Top-level block → its model. A block not listed here is a typo.
BLOCKS: dict[str, type[Params]] = {
    "demo_data": DemoDataParams,
    "preprocessing": PreprocessingParams,
    "segmentation": SegmentationParams,
    "patching": PatchingParams,
    "modelling": ModellingParams,
    "evaluation": EvaluationParams,
    "inference": InferenceParams,
    "compute": ComputeParams,
    "benchmark": BenchmarkParams,
    "tuning": TuningParams,
}


def check_parameters(raw: Mapping[str, Any]) -> dict[str, Params]:
    """Validate every block of ``raw`` (the merged parameters of a run).

    Returns
    -------
    dict
        Block name → validated model.

    Raises
    ------
    ParameterError
        Naming every unknown block, and every unknown, mistyped or out-of-range key
        with its full path, value and what is allowed.
    """
    problems: list[str] = []
    unknown = sorted(set(raw) - set(BLOCKS))
    for name in unknown:
        problems.append(f"  - {name}: unknown parameter block (a typo?); known blocks: {', '.join(BLOCKS)}.")
    validated: dict[str, Params] = {}
    for name, model in BLOCKS.items():
        if name not in raw:
            continue
        try:
            validated[name] = validate_block(model, raw[name], name)
        except ParameterError as error:
            problems.extend(line for line in str(error).splitlines() if line.startswith("  - "))
    if problems:
        raise ParameterError(
            "Invalid parameters:\n" + "\n".join(problems)
            + "\nFix conf/<env>/parameters_*.yml or the --params of the command; nothing was run."
        )
    return validated


__all__ = [
    "BLOCKS",
    "BenchmarkParams",
    "ComputeParams",
    "DemoDataParams",
    "EvaluationParams",
    "InferenceParams",
    "ModellingParams",
    "ParameterError",
    "Params",
    "PatchingParams",
    "PreprocessingParams",
    "SegmentationParams",
    "TuningParams",
    "check_parameters",
]
