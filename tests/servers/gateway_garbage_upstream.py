"""An upstream that is no MCP server, for tests/test_gateway_failures.py: it writes lines that
are not JSON on stdout (naming its PID) every 50 ms and never reads its stdin, so it neither
answers nor ends when its stdin is closed (SIGTERM ends it). It ends by itself after 60 s.
"""

import os
import sys
import time

if __name__ == "__main__":
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sys.stdout.write("garbage from pid %d\n" % os.getpid())
        sys.stdout.flush()
        time.sleep(0.05)
