"""Field-level statistics on data with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cell_clustering.evaluation.field_statistics import (
    field_level_test,
    field_proportions,
)


def _cells(per_field: list[tuple[str, list[float], int]], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of fields given as (condition, cluster probabilities, number of cells)."""
    rng = np.random.default_rng(seed)
    clusters, conditions, fields = [], [], []
    for index, (condition, probabilities, n_cells) in enumerate(per_field):
        clusters.append(rng.choice(len(probabilities), size=n_cells, p=probabilities))
        conditions += [condition] * n_cells
        fields += [f"{condition}/field_{index:02d}"] * n_cells
    return np.concatenate(clusters), np.array(conditions), np.array(fields)


def _test(clusters, conditions, fields, **options):
    return field_level_test(field_proportions(clusters, conditions, fields), "control", n_permutations=999, n_bootstrap=500, **options)


def test_proportions_are_one_row_per_field_summing_to_one():
    clusters, conditions, fields = _cells([("control", [0.5, 0.5], 10), ("Rac1", [0.2, 0.8], 30)], seed=0)
    table = field_proportions(clusters, conditions, fields).set_index("field")
    assert table.loc["control/field_00", "n_cells"] == 10 and table.loc["Rac1/field_01", "n_cells"] == 30
    assert table.loc["Rac1/field_01", "condition"] == "Rac1"
    np.testing.assert_allclose(table[["cluster_0", "cluster_1"]].sum(axis=1), 1.0)


def test_a_planted_difference_between_conditions_is_found():
    fields = [("control", [0.7, 0.2, 0.1], 40)] * 6 + [("Rac1", [0.2, 0.7, 0.1], 40)] * 6
    effects, test = _test(*_cells(fields, seed=1))
    assert test["p_value"] < 0.01
    effect = effects.set_index("cluster")
    assert effect.at["1", "difference"] == pytest.approx(0.5, abs=0.1)
    assert effect.at["1", "ci95_low"] > 0 and effect.at["0", "ci95_high"] < 0
    assert effect.at["1", "p_value"] < 0.01 and effect.at["2", "p_value"] > 0.05  # cluster 2 was not changed


def test_no_difference_is_found_where_none_was_planted():
    fields = [("control", [0.5, 0.3, 0.2], 40)] * 6 + [("Rac1", [0.5, 0.3, 0.2], 40)] * 6
    effects, test = _test(*_cells(fields, seed=2))
    assert test["p_value"] > 0.05
    assert (effects["ci95_low"] < 0).all() and (effects["ci95_high"] > 0).all()


def test_a_difference_carried_by_one_field_alone_is_not_significant_at_the_field_level():
    same = [0.5, 0.5]
    fields = [("control", same, 50)] * 4 + [("Rac1", same, 50)] * 3 + [("Rac1", [0.02, 0.98], 1000)]
    clusters, conditions, fields_ = _cells(fields, seed=3)
    # On cells, the one big field makes the difference look overwhelming ...
    table = np.array([[np.sum((conditions == c) & (clusters == k)) for k in (0, 1)] for c in ("control", "Rac1")])
    assert stats.chi2_contingency(table)[1] < 1e-6
    # ... with fields as the unit, one field of four is not evidence.
    effects, test = _test(clusters, conditions, fields_)
    assert test["p_value"] > 0.05
    assert effects.set_index("cluster").at["1", "p_value"] > 0.05


def test_too_few_fields_give_a_note_not_a_p_value():
    effects, test = _test(*_cells([("control", [0.5, 0.5], 20), ("Rac1", [0.5, 0.5], 20)], seed=4))
    assert effects.empty and "p_value" not in test and "two fields each" in test["note"]
    assert list(effects.columns)[:2] == ["cluster", "mean_control"]  # saved with its header, it reads back


def test_the_same_seed_gives_the_same_p_values():
    cells = _cells([("control", [0.6, 0.4], 30)] * 4 + [("Rac1", [0.4, 0.6], 30)] * 4, seed=5)
    first, second = _test(*cells, seed=7), _test(*cells, seed=7)
    assert first[1] == second[1]
    assert first[0].equals(second[0])
