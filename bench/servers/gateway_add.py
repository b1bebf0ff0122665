"""The gateway benchmark's front: mcplite's gateway in front of the benchmark's ``add`` server.

    python gateway_add.py stdio                 # on stdio, mounting mcplite_add.py over stdio
    python gateway_add.py http PORT URL         # Streamable HTTP on 127.0.0.1:PORT/mcp,
                                                # mounting the HTTP server at URL
    python gateway_add.py http PORT             # the same, mounting mcplite_add.py over stdio
                                                # (``mcplite proxy --http`` of a stdio server)

Run by ``bench/bench_gateway.py`` with ``PYTHONPATH`` set to the repository root. The mount's
prefix is "", so the front's ``add`` is the upstream's, called the same way as directly.
"""
import os
import sys

from mcplite import Server

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    app = Server("bench-gateway", version="1.0.0")
    stdio_upstream = {"command": sys.executable, "args": [os.path.join(HERE, "mcplite_add.py")]}
    if argv[:1] == ["stdio"]:
        mount = app.mount("", stdio_upstream)
        try:
            app.run()
        finally:
            mount.close()
    elif argv[:1] == ["http"] and len(argv) in (2, 3) and argv[1].isdigit():
        mount = app.mount("", {"url": argv[2]} if len(argv) == 3 else stdio_upstream)
        try:
            app.run("http", host="127.0.0.1", port=int(argv[1]), path="/mcp")
        finally:
            mount.close()
    else:
        sys.stderr.write("usage: gateway_add.py stdio | gateway_add.py http PORT [URL]\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
