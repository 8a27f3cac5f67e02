"""Cluster composition with fields as the unit.

Cells of one field share its dish, its day and its imaging: they are not independent
replicates, and a χ² test on cells calls a difference significant when one unusual
field carries it. Here each field is one observation, the vector of its cells'
cluster proportions, and:

- the **global test** permutes the condition labels among fields (each field keeps its
  cells) and compares the between-condition sum of squares of the field proportion
  vectors (the numerator of a PERMANOVA with Euclidean distance; Anderson 2001) with
  its permutation distribution;
- **per cluster**, the effect is the difference between the mean proportion of the
  mutant fields and that of the control fields, with a percentile bootstrap confidence
  interval (fields resampled within each group) and a two-sided permutation p-value.

p-values are ``(1 + #permutations at least as extreme) / (1 + n_permutations)``, never
zero; with few fields the smallest possible p-value is large, which is the point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def field_proportions(clusters: np.ndarray, conditions: np.ndarray, fields: np.ndarray) -> pd.DataFrame:
    """One row per field: its condition, its number of cells and the share of its cells
    in each cluster (columns ``cluster_<c>``, each row summing to 1)."""
    cells = pd.DataFrame({"field": fields, "condition": conditions, "cluster": clusters})
    mixed = cells.groupby("field")["condition"].nunique()
    if (mixed > 1).any():
        raise ValueError(f"Field(s) {list(mixed[mixed > 1].index)} hold cells of several conditions; a field is one condition.")
    counts = pd.crosstab(cells["field"], cells["cluster"])
    table = counts.div(counts.sum(axis=1), axis=0)
    table.columns = [f"cluster_{c}" for c in counts.columns]
    table.insert(0, "n_cells", counts.sum(axis=1))
    table.insert(0, "condition", cells.groupby("field")["condition"].first())
    return table.reset_index()


def _between_sum_of_squares(proportions: np.ndarray, groups: np.ndarray) -> float:
    grand = proportions.mean(axis=0)
    return float(sum(
        (groups == group).sum() * np.sum((proportions[groups == group].mean(axis=0) - grand) ** 2) for group in np.unique(groups)
    ))


def _p_value(observed: float, permuted: np.ndarray) -> float:
    # A small tolerance so that floating-point noise in equal statistics counts as equal.
    return float((1 + np.sum(permuted >= observed - 1e-12)) / (1 + len(permuted)))


def _mean_difference(proportions: np.ndarray, is_mutant: np.ndarray) -> np.ndarray:
    return proportions[is_mutant].mean(axis=0) - proportions[~is_mutant].mean(axis=0)


def _per_cluster(
    proportions: np.ndarray, is_mutant: np.ndarray, rng: np.random.Generator, n_permutations: int, n_bootstrap: int, confidence: float
) -> dict[str, np.ndarray]:
    """Mutant − control difference of the mean field proportion of each cluster, its
    bootstrap interval and its permutation p-value."""
    observed = _mean_difference(proportions, is_mutant)
    permuted = np.array([np.abs(_mean_difference(proportions, rng.permutation(is_mutant))) for _ in range(n_permutations)])
    mutant, control = proportions[is_mutant], proportions[~is_mutant]
    boots = np.array([
        mutant[rng.integers(0, len(mutant), len(mutant))].mean(axis=0) - control[rng.integers(0, len(control), len(control))].mean(axis=0)
        for _ in range(n_bootstrap)
    ])
    tail = 100 * (1 - confidence) / 2
    p_values = np.array([_p_value(abs(value), permuted[:, column]) for column, value in enumerate(observed)])
    return {"difference": observed, "ci_low": np.percentile(boots, tail, axis=0), "ci_high": np.percentile(boots, 100 - tail, axis=0), "p_value": p_values}


def _effect_columns(confidence: float) -> list[str]:
    level = f"ci{round(100 * confidence)}"
    return ["cluster", "mean_control", "mean_mutant", "difference", f"{level}_low", f"{level}_high", "p_value"]


def field_level_test(
    proportions: pd.DataFrame, control: str, *, n_permutations: int = 9999, n_bootstrap: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Condition differences in cluster composition with fields as the unit.

    Parameters
    ----------
    proportions : pandas.DataFrame
        :func:`field_proportions`' table.
    control : str
        The control condition; every other condition is a mutant.

    Returns
    -------
    effects : pandas.DataFrame
        One row per cluster: mean proportion in control and mutant fields, their
        difference (mutant − control) with its bootstrap interval, and its permutation
        p-value (empty when a group has fewer than two fields).
    test : dict
        The global permutation test over conditions, or a ``note`` when it cannot run.
    """
    columns = [c for c in proportions.columns if c.startswith("cluster_")]
    values, conditions = proportions[columns].to_numpy(dtype=np.float64), proportions["condition"].to_numpy()
    is_mutant = conditions != control
    counts = pd.Series(conditions).value_counts()
    rng = np.random.default_rng(seed)
    base = {"unit": "field", "n_fields": int(len(values)), "fields_per_condition": {str(k): int(v) for k, v in counts.items()}}
    if len(counts) < 2 or counts.min() < 2:
        note = "field-level statistics need at least two conditions with two fields each"
        empty = pd.DataFrame(columns=_effect_columns(confidence))  # with its header: a CSV that reads back
        return empty, {**base, "test": "none", "note": f"{note}; fields per condition: {base['fields_per_condition']}"}
    observed = _between_sum_of_squares(values, conditions)
    permuted = np.array([_between_sum_of_squares(values, rng.permutation(conditions)) for _ in range(n_permutations)])
    test = {
        **base, "test": "permutation test of condition labels among fields (between-condition sum of squares of field cluster proportions)",
        "statistic": observed, "n_permutations": n_permutations, "p_value": _p_value(observed, permuted),
    }
    if is_mutant.sum() < 2 or (~is_mutant).sum() < 2:
        note = f"per-cluster effects need two {control!r} fields and two mutant fields"
        return pd.DataFrame(columns=_effect_columns(confidence)), {**test, "note": note}
    effects = _per_cluster(values, is_mutant, rng, n_permutations, n_bootstrap, confidence)
    values_by_column = [
        [c.removeprefix("cluster_") for c in columns], values[~is_mutant].mean(axis=0), values[is_mutant].mean(axis=0),
        effects["difference"], effects["ci_low"], effects["ci_high"], effects["p_value"],
    ]
    return pd.DataFrame(dict(zip(_effect_columns(confidence), values_by_column, strict=True))), test
