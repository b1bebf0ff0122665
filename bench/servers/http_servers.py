"""The HTTP benchmark's servers: ``python http_servers.py KIND PORT [--json-response]``.

Run by ``bench/bench_http.py`` with ``PYTHONPATH`` set to the repository root, bound to
127.0.0.1 only, endpoint ``/mcp``. Each kind has the same two tools:

* ``add(a, b) -> a + b``: a plain tool, answered with ``application/json`` (mcplite by
  default, the SDK with ``--json-response``);
* ``add_progress(a, b)``: reports progress ``(1, 2)`` first, so a request carrying a
  ``progressToken`` is answered with a ``text/event-stream``.

Kinds:

``mcplite``  ``Server.run("http", ...)``, the framework's own front end (``http.server``).
``sdk``      the official SDK's ``MCPServer`` on ``streamable-http`` (uvicorn + starlette;
             needs ``mcp==2.3.0``, Python >= 3.10). ``log_level="WARNING"`` so uvicorn does
             not write an access-log line per request (mcplite logs nothing either).
``raw``      the floor: ``ThreadingHTTPServer``, HTTP/1.1 keep-alive, TCP_NODELAY, one
             ``sendall`` per response, ``json.loads`` of the body and a fixed-shape answer
             with the same id; no sessions, no validation. A request with a
             ``progressToken`` gets the SSE form (one chunked event stream with the
             progress notification and the response, written at once). A ``GET`` gets
             an event-stream head (chunked) and the connection is held, unread, until
             the client closes it: the floor of ``bench_http.py --streams``.
"""
import sys

HOST = "127.0.0.1"
PATH = "/mcp"


def serve_mcplite(port, json_response):
    from mcplite import Context, Server

    app = Server("bench", version="1.0.0")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @app.tool()
    def add_progress(a: int, b: int, ctx: Context) -> int:
        """Add two integers, reporting progress first."""
        ctx.progress(1, 2)
        return a + b

    app.run("http", host=HOST, port=port, path=PATH, json_response=json_response)


def serve_sdk(port, json_response):
    from mcp.server.mcpserver import Context, MCPServer

    mcp = MCPServer("bench", version="1.0.0", log_level="WARNING")

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool()
    async def add_progress(a: int, b: int, ctx: Context) -> int:
        """Add two integers, reporting progress first."""
        await ctx.report_progress(1, 2)
        return a + b

    mcp.run(transport="streamable-http", host=HOST, port=port, streamable_http_path=PATH,
            json_response=json_response)


def serve_raw(port):
    import json
    import socket
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    loads = json.loads
    dumps = json.dumps
    info = {"name": "raw-floor", "version": "1.0.0"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            BaseHTTPRequestHandler.setup(self)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
            self.rfile.read()  # held until the client closes: nothing is ever sent on it
            self.close_connection = True

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            msg = loads(self.rfile.read(length))
            if "id" not in msg:  # a notification
                self.wfile.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                return
            params = msg.get("params") or {}
            method = msg.get("method")
            token = None
            if method == "tools/call":
                args = params["arguments"]
                value = args["a"] + args["b"]
                result = {"content": [{"type": "text", "text": dumps(value)}],
                          "structuredContent": {"result": value}, "isError": False}
                token = (params.get("_meta") or {}).get("progressToken")
            elif method == "initialize":
                result = {"protocolVersion": params.get("protocolVersion"),
                          "capabilities": {"tools": {}}, "serverInfo": info}
            else:
                result = {}
            reply = dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result},
                          separators=(",", ":")).encode("utf-8")
            if token is None:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(reply) + reply)
                return
            note = dumps({"jsonrpc": "2.0", "method": "notifications/progress",
                          "params": {"progressToken": token, "progress": 1, "total": 2}},
                         separators=(",", ":")).encode("utf-8")
            events = b"event: message\ndata: " + note + b"\n\nevent: message\ndata: " + reply + b"\n\n"
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + b"%x\r\n" % len(events) + events + b"\r\n0\r\n\r\n")

    class Httpd(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    Httpd((HOST, port), Handler).serve_forever()


def main(argv):
    if len(argv) < 2 or argv[0] not in ("mcplite", "sdk", "raw") or not argv[1].isdigit():
        sys.stderr.write("usage: http_servers.py mcplite|sdk|raw PORT [--json-response]\n")
        return 2
    kind, port = argv[0], int(argv[1])
    json_response = "--json-response" in argv[2:]
    try:
        if kind == "mcplite":
            serve_mcplite(port, json_response)
        elif kind == "sdk":
            serve_sdk(port, json_response)
        else:
            serve_raw(port)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
