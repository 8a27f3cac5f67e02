"""Errors a user can fix: a setting, a file, a folder. Shown as their message alone.

A user who set ``evaluation.control_condition=Control`` needs the sentence that says
which conditions exist, not 300 lines of traceback above it. Every error the project
raises on purpose derives from :class:`ProjectError`, a ``click.ClickException``: the
``kedro`` command prints ``Error: <message>`` and exits with 1, and the log file keeps
the node's failure. An unexpected exception (a bug) keeps its full traceback.

Each subclass also derives from the built-in exception a caller would catch
(``ValueError``, ``FileNotFoundError``...), so ``except ValueError`` still works.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import click


class ProjectError(click.ClickException):
    """A mistake the user can fix; the message says what and how."""

    def __init__(self, message: str) -> None:
        click.ClickException.__init__(self, message)

    def __reduce__(self):  # picklable across worker processes, message intact
        return (type(self), (self.message,))


class ProjectValueError(ProjectError, ValueError):
    """A value (parameter, data) that is wrong for this run."""


class ProjectFileNotFoundError(ProjectError, FileNotFoundError):
    """A file or folder the run needs and cannot find."""


def fixable_cause(error: BaseException) -> ProjectError | None:
    """The :class:`ProjectError` behind ``error`` (itself, or one it wraps, as Kedro's
    catalog wraps a dataset's error in its own ``DatasetError``), else None."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ProjectError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def closest(value: str, choices: Iterable[str]) -> str | None:
    """The choice ``value`` most likely meant: equal ignoring case first, else the
    nearest spelling (difflib), else None."""
    choices = [str(choice) for choice in choices]
    same_case = [choice for choice in choices if choice.casefold() == value.casefold()]
    if same_case:
        return same_case[0]
    near = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    return near[0] if near else None
