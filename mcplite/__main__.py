"""``python -m mcplite COMMAND ...`` runs the command line (cli.py).

The one-file build puts this module last and keeps the ``__main__`` guard at the bottom, so
running the copied file (``python mcplite.py ls ...``) runs the command line too.
"""

import sys

from .cli import cli_main

if __name__ == "__main__":
    sys.exit(cli_main())
