"""Loggers that import ``logging`` only when something is logged.

``import logging`` costs several milliseconds of start-up, and a healthy server may never
log a line. mcplite configures no handlers: without the application's own logging
setup, warnings and errors (with their tracebacks) reach stderr through logging's
last-resort handler, and nothing ever reaches stdout.
"""

from __future__ import annotations

from typing import Any


class LazyLogger:
    """Stands in for ``logging.getLogger(name)`` until first used."""

    __slots__ = ("_name", "_logger")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger = None  # type: Any

    def __getattr__(self, attribute: str) -> Any:
        logger = self._logger
        if logger is None:
            import logging
            logger = self._logger = logging.getLogger(self._name)
        return getattr(logger, attribute)
