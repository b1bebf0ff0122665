"""What several test files share to run things on this machine and clean up after them:
checking that processes are gone by their PIDs (killing any left behind), and serving a
``BaseHTTPRequestHandler`` on 127.0.0.1 in a thread for the length of a test.

``tests/test_host.py``, ``tests/test_gateway.py``, ``tests/test_cli_check.py``,
``tests/test_cli_install.py`` and ``tests/test_cli_recording.py`` import from here (``tests/`` is on sys.path, see
``tests/conftest.py``).
"""

import contextlib
import os
import signal
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Union

WAIT = 10.0  # how long processes may take to go


def gone(pid, zombies=False):
    # type: (int, bool) -> bool
    """Whether process ``pid`` has ended. A zombie (ended, not yet reaped by its parent)
    counts as gone only once reaped, unless ``zombies``: for a process whose parent is not
    the test's (a grandchild), which the test cannot reap and init may reap late."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    if not zombies:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] == "Z"
    except OSError:
        return True  # (no /proc entry: reaped since)


def assert_gone(pids, kill=os.kill, wait=WAIT, zombies=False):
    # type: (Union[Dict[str, int], List[int]], Callable[[int, int], None], float, bool) -> None
    """Each process (a list of PIDs, or PIDs by name) is gone within ``wait`` seconds; one that
    is not is killed here with ``kill(pid, SIGKILL)`` (``os.killpg`` for a process group led by
    it), and the test fails naming it. ``zombies``: as for ``gone``."""
    named = pids if isinstance(pids, dict) else None
    values = list(pids.values()) if isinstance(pids, dict) else list(pids)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not all(gone(pid, zombies) for pid in values):
        time.sleep(0.05)
    left = ({name: pid for name, pid in named.items() if not gone(pid, zombies)} if named is not None
            else [pid for pid in values if not gone(pid, zombies)])  # type: Any
    for pid in (left.values() if named is not None else left):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert len(left) == 0, "processes left behind: %r" % (left,)


@contextlib.contextmanager
def serving(handler):
    # type: (Any) -> Iterator[str]
    """``handler`` (a BaseHTTPRequestHandler class) served on 127.0.0.1 (a free port) in a
    thread: yields its ``/mcp`` URL; shut down and joined (bounded) at the end."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d/mcp" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
