"""The gateway in front of the conformance fixture, for ``scripts/conformance --gateway``:

    python tests/conformance/gateway_front.py --port 8001 --upstream http://127.0.0.1:8000/mcp

A front ``Server`` that mounts the fixture server (examples/conformance/server.py, served on
its own port) under the prefix "" (its own names, which the scenarios call) and serves
Streamable HTTP on 127.0.0.1; every request the suite makes goes through the mount.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from mcplite import Server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the fixture server's URL")
    args = parser.parse_args()
    app = Server("mcplite-conformance-gateway", version="1.0.0")
    mount = app.mount("", {"url": args.upstream})
    try:
        app.run("http", host="127.0.0.1", port=args.port, path="/mcp")
    finally:
        mount.close()


if __name__ == "__main__":
    main()
