"""Progress of a per-field loop: a bar in a terminal, a few log lines in a file.

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


class FieldProgress:
    """Count finished fields of one loop; ``tick()`` after each.

    Parameters
    ----------
    total : int
        Fields in the loop.
    description : str
        What the loop does, e.g. ``"Segmenting fields"``.
    stream : file-like, optional
        Where a bar would go (standard error); a bar only if it is a terminal.
    """

    def __init__(self, total: int, description: str, stream: Any = None) -> None:
        self.total, self.description, self.done = total, description, 0
        stream = stream or sys.stderr
        interactive = bool(getattr(stream, "isatty", lambda: False)())
        self._bar = tqdm(total=total, desc=description, unit="field", file=stream, leave=True) if interactive else None
        self._next_quarter = 1

    def tick(self) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
            if self.done == self.total:
                self._bar.close()
            return
        # Log at 25, 50, 75 and 100 %: a handful of lines whatever the number of fields.
        while self.total and self.done * 4 >= self._next_quarter * self.total and self._next_quarter <= 4:
            logger.info("%s: %d/%d fields.", self.description, self.done, self.total)
            self._next_quarter += 1
