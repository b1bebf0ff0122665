"""`check TARGET`: a quick compliance probe of a server (being written)."""

from typing import Any


def add_probe_commands(commands: Any, common: Any) -> None:
    """Add the ``check`` command to the command line's sub-parsers."""
