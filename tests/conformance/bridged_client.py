"""The conformance client (examples/conformance/client.py) through ``mcplite bridge --stdio``,
for ``scripts/conformance --bridge client-...``:

    MCP_CONFORMANCE_SCENARIO=tools_call python tests/conformance/bridged_client.py URL

The same scenarios, but each client speaks stdio to a ``python -m mcplite bridge --stdio URL``
process (its ``-H`` options carrying the headers a scenario gives), and that process speaks
Streamable HTTP to the harness's mock server: what the harness checks on the wire is the
bridge's doing. Signing in is the bridge's own (``--oauth``, a person at a browser), which a
headless scenario cannot drive: the authorization scenarios end as unsupported here.
"""

import os
import sys
from typing import Any, Dict, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "examples", "conformance"))
sys.path.insert(0, REPO)

import client as conformance  # noqa: E402  (examples/conformance/client.py)
from mcplite import Client  # noqa: E402


def bridged(url: str, headers: Optional[Dict[str, str]] = None, *, auth: Any = None, **options: Any) -> Client:
    """``Client.http``'s stand-in: a stdio client of the bridge to ``url``."""
    if auth is not None:
        raise conformance.Unsupported("signing in through the bridge (its --oauth needs a person at a browser)")
    argv = [sys.executable, "-m", "mcplite", "bridge", "--stdio", url]
    for name, value in (headers or {}).items():
        argv += ["-H", "%s: %s" % (name, value)]
    # The bridge's process is stopped by the client's close (stdin closed, then SIGTERM,
    # then SIGKILL, by its PID).
    return Client.stdio(argv, cwd=REPO, **options)


if __name__ == "__main__":
    Client.http = bridged  # type: ignore[assignment]  # (this process's client only)
    sys.exit(conformance.main())
