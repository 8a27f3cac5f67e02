"""Composition of clusters by condition, with a test of independence and per-cluster
enrichment (the slides' "% control vs % mutant" table)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


def composition(clusters: np.ndarray, conditions: np.ndarray, control: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Cells per cluster, % control vs % mutant and % per cell line, with statistics.

    The dependence between cluster and condition is tested with Pearson's χ² test of
    independence on the cluster × condition table; each cluster's enrichment in
    mutant cells with a two-sided Fisher exact test of (control, mutant) inside the
    cluster against the rest. With a single condition, no test is run.

    Returns
    -------
    table : pandas.DataFrame
        One row per cluster, and a ``total`` row.
    test : dict
        ``test``, ``chi2``, ``dof``, ``p_value`` (or a ``note`` when skipped).
    """
    counts = pd.crosstab(pd.Series(clusters, name="cluster"), pd.Series(conditions, name="condition"))
    lines = list(counts.columns)
    table = pd.DataFrame({"n_cells": counts.sum(axis=1)})
    is_control = np.array([line == control for line in lines])
    table["pct_control"] = 100 * counts.loc[:, is_control].sum(axis=1) / table["n_cells"]
    table["pct_mutant"] = 100 - table["pct_control"]
    for line in lines:
        table[f"pct_{line}"] = 100 * counts[line] / table["n_cells"]
    if len(lines) < 2:
        return _with_total(table, counts), {"test": "none", "note": f"only one condition ({lines[0]}): composition statistics skipped"}
    chi2, p_value, dof, _ = stats.chi2_contingency(counts.to_numpy())
    n_control, n_mutant = counts.loc[:, is_control].sum().sum(), counts.loc[:, ~is_control].sum().sum()
    if is_control.any() and (~is_control).any():
        p_values = []
        for cluster in counts.index:
            inside_control = counts.loc[cluster, is_control].sum()
            inside_mutant = counts.loc[cluster, ~is_control].sum()
            _, p = stats.fisher_exact([[inside_control, inside_mutant], [n_control - inside_control, n_mutant - inside_mutant]])
            p_values.append(p)
        table["enrichment_p_value"] = p_values
        table["enrichment_test"] = "Fisher exact, two-sided: control vs mutant in cluster vs rest"
    test = {"test": "Pearson chi-squared test of independence (cluster x condition)", "chi2": float(chi2), "dof": int(dof), "p_value": float(p_value)}
    return _with_total(table, counts), test


def _with_total(table: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    total = counts.sum(axis=0)
    row = {"n_cells": int(total.sum())}
    for column in table.columns:
        if column.startswith("pct_"):
            line = column[4:]
            if line in total.index:
                row[column] = 100 * total[line] / total.sum()
    row["pct_control"] = table["pct_control"].mul(table["n_cells"]).sum() / total.sum()
    row["pct_mutant"] = 100 - row["pct_control"]
    out = pd.concat([table, pd.DataFrame([row], index=["total"])])
    out.index.name = "cluster"
    return out.reset_index()
