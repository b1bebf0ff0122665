"""`record`, `replay` and `diff`: stdio sessions as JSON lines (being written)."""

from typing import Any


def add_recording_commands(commands: Any, common: Any) -> None:
    """Add ``record``, ``replay`` and ``diff`` to the command line's sub-parsers."""
