"""A stdio server for the parent watchdog tests (tests/test_stdio_watchdog.py).

``python watch_app.py`` serves with ``app.run()``, ``python watch_app.py off`` with
``app.run(watch_parent=False)``, ``python watch_app.py sigint-ignored`` with SIGINT
ignored (the watch then polls in the read); ``python -m mcplite serve watch_app.py`` works too.
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the checkout (mcplite)

from mcplite import Server  # noqa: E402

app = Server("watch")


@app.tool()
def echo(text: str) -> str:
    return text


@app.tool()
def hang() -> str:
    """Never returns, and ignores cancellation: a stuck tool must not keep the server alive."""
    while True:
        time.sleep(1)


if __name__ == "__main__":
    if sys.argv[1:] == ["sigint-ignored"]:
        # No SIGINT for the watch thread to interrupt the read with: the read watches itself.
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    app.run(watch_parent=sys.argv[1:] != ["off"])
