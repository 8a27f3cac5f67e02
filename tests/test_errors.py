"""The project's own errors: found behind Kedro's wrappers, suggestions that fit."""

from __future__ import annotations

from kedro.io.core import DatasetError

from cell_clustering.errors import ProjectValueError, closest, fixable_cause


def test_a_fixable_error_is_found_behind_a_wrapper_and_a_bug_is_not():
    cause = ProjectValueError("evaluation.control_condition = 'Control' ...")
    try:
        try:
            raise cause
        except ProjectValueError as error:
            raise DatasetError(f"raw_images: {error}") from error
    except DatasetError as wrapped:
        assert fixable_cause(wrapped) is cause
    assert fixable_cause(KeyError("a bug")) is None


def test_suggestions_prefer_the_same_name_in_another_case_then_the_closest_spelling():
    conditions = ["BRAFV600E", "DCIS.com", "PIK3CA", "Rac1", "control"]
    assert closest("Control", conditions) == "control"
    assert closest("contrl", conditions) == "control"
    assert closest("Rac2", conditions) == "Rac1"
    assert closest("wild_type", conditions) is None
