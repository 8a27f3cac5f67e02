"""Third-party warnings that say nothing to a user of this project, silenced at their
source by message and category (never all warnings, never a whole category).

Each one was seen on every run and is either about the library's own internals or
about a choice this project makes on purpose:

- mlflow: "Add type hints to the `predict` method" (12 lines, on every ``kedro run``,
  about kedro-mlflow's model class, which this project does not log);
- umap: "n_jobs value 1 overridden to 1 by setting random_state" (seeded on purpose:
  the same run gives the same clusters);
- torch: "Sparse invariant checks are implicitly disabled" (raised inside cellpose's
  flow dynamics, once per field).
"""

from __future__ import annotations

import logging
import re
import warnings

KNOWN = (
    (r".*Add type hints to the `predict` method", UserWarning),
    (r"n_jobs value \d+ overridden to 1 by setting random_state", UserWarning),
    (r".*Sparse invariant checks are implicitly disabled", UserWarning),
)


class KnownWarnings(logging.Filter):
    """Drop captured warnings (``py.warnings`` records) that match :data:`KNOWN`.

    mlflow raises its type-hint warning inside ``warnings.catch_warnings()`` with its
    own ``simplefilter("once")``, which overrides any ``filterwarnings`` of ours; once
    Kedro routes warnings to logging, this filter is where it can be stopped.
    """

    _patterns = [re.compile(message) for message, _ in KNOWN]

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not any(pattern.search(text) for pattern in self._patterns)


def silence_known_warnings() -> None:
    """Install the filters of :data:`KNOWN` (idempotent)."""
    for message, category in KNOWN:
        warnings.filterwarnings("ignore", message=message, category=category)
    captured = logging.getLogger("py.warnings")
    if not any(isinstance(existing, KnownWarnings) for existing in captured.filters):
        captured.addFilter(KnownWarnings())
