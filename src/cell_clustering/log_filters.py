"""Logging filters that keep the console readable (:func:`install_on_console` puts
them on the console handler only; ``info.log`` keeps every record in full).

When a node fails, Kedro logs the node's whole signature and the message, kedro-mlflow
logs "closed because of an error" once per stacked run entry, and the message is then
printed again by the ``kedro`` command: 20 lines for one sentence. On the console the
failure becomes one short line; the sentence itself follows as ``Error: ...``.
"""

from __future__ import annotations

import logging

from rich.logging import RichHandler

_NODE_FAILED = "Node %s failed with error"
_MLFLOW_CLOSED = "was closed because of an error in the pipeline"


class ReadableErrors(logging.Filter):
    """Shorten Kedro's node-failure record and drop kedro-mlflow's repeated lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("kedro_mlflow") and _MLFLOW_CLOSED in record.getMessage():
            return False
        if record.name == "kedro.pipeline.node" and str(record.msg).startswith(_NODE_FAILED) and record.args:
            node_name = str(record.args[0]).split(":", 1)[0]
            record.msg, record.args = "Node '%s' failed; the error follows.", (node_name,)
        return True


def install_on_console() -> None:
    """Add :class:`ReadableErrors` to the root logger's console (rich) handlers, once."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, RichHandler) and not any(isinstance(f, ReadableErrors) for f in handler.filters):
            handler.addFilter(ReadableErrors())
