"""Servers that fail to start, for the host tests: ``python host_misbehaving.py MODE``.

crash    raises at import time (a traceback on stderr, exit 1)
garbage  writes lines that are not JSON-RPC to stdout and never answers
hang     reads its stdin and never answers
chatty   prints a banner on stdout, then serves properly (tests/servers/host_app.py's app)

Every mode ends by itself within 60 s at most (or at the end of its stdin), so a failed test
cannot leave one running for long.
"""

import os
import sys
import threading
import time

LIFETIME = 60.0


def _wait_for_eof() -> None:
    done = threading.Event()

    def read() -> None:
        for _ in sys.stdin:
            pass
        done.set()
    threading.Thread(target=read, daemon=True).start()
    done.wait(LIFETIME)


mode = sys.argv[1] if len(sys.argv) > 1 else ""
if mode == "crash":
    sys.stderr.write("starting up...\n")
    import a_module_that_does_not_exist  # noqa: F401,E402
elif mode == "garbage":
    sys.stdout.write("Welcome to the server! Listening...\n")
    sys.stdout.flush()
    _wait_for_eof()
elif mode == "hang":
    _wait_for_eof()
elif mode == "chatty":
    sys.stdout.write("server v1 starting\n")
    sys.stdout.flush()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from host_app import make_host_app  # noqa: E402
    make_host_app("chatty").run()
else:
    sys.exit("unknown mode %r" % mode)
time.sleep(0)
