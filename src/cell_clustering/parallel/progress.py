"""Progress of a loop (fields, training epochs): a bar in a terminal, a few log lines
in a file.

A bar that redraws is right for a person at a terminal; in a log file (CI, a
scheduler, ``kedro run > log``) the same bar would print thousands of lines. So a
terminal gets tqdm's bar and anything else gets a log line at each quarter.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from tqdm import tqdm

logger = logging.getLogger(__name__)


class Progress:
    """Count finished items of one loop; ``tick()`` after each.

    Parameters
    ----------
    total : int
        Items in the loop.
    description : str
        What the loop does, e.g. ``"Segmenting fields"``.
    stream : file-like, optional
        Where a bar would go (standard error); a bar only if it is a terminal.
    unit : str
        What an item is, e.g. ``"field"`` or ``"epoch"`` (plural: an ``s`` added).
    enabled : bool
        False: neither bar nor log lines.
    """

    def __init__(self, total: int, description: str, stream: Any = None, *, unit: str = "field", enabled: bool = True) -> None:
        self.total, self.description, self.unit, self.done = total, description, unit, 0
        stream = stream or sys.stderr
        interactive = enabled and bool(getattr(stream, "isatty", lambda: False)())
        self._bar = tqdm(total=total, desc=description, unit=unit, file=stream, leave=True) if interactive else None
        self._next_quarter = 1 if enabled else 5

    def tick(self, **status: Any) -> None:
        """One more item done; ``status`` (e.g. ``loss="1.02"``) is shown beside the count."""
        self.done += 1
        if self._bar is not None:
            self._bar.set_postfix(status, refresh=False)
            self._bar.update(1)
            if self.done == self.total:
                self._bar.close()
            return
        # Log at 25, 50, 75 and 100 %: a handful of lines whatever the number of items.
        while self.total and self.done * 4 >= self._next_quarter * self.total and self._next_quarter <= 4:
            extra = "".join(f", {name} {value}" for name, value in status.items())
            logger.info("%s: %d/%d %ss%s.", self.description, self.done, self.total, self.unit, extra)
            self._next_quarter += 1

