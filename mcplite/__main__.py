"""``python -m mcplite COMMAND ...`` runs the command line (cli.py).

The one-file build puts this module last and keeps the ``__main__`` guard at the bottom, so
running the copied file (``python mcplite.py ls ...``) runs the command line too.
"""

from __future__ import annotations

import sys


def _main_entry() -> int:
    from .cli import cli_main  # (the one file runs the command line's sections only now)
    return cli_main()


if __name__ == "__main__":
    sys.exit(_main_entry())
