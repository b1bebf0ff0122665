"""The WSGI benchmark's servers (``bench/bench_wsgi.py``), each with the one tool it calls,
``add(a, b) -> a + b``, at ``/mcp`` on 127.0.0.1.

As modules for the servers' own command lines:

* ``mcplite_wsgi()``: ``Server.wsgi()``, for gunicorn (``'wsgi_servers:mcplite_wsgi()'``,
  the factory-call form it accepts); ``mcplite_inline_wsgi()``: the same with ``add``
  declared ``inline=True`` (served on the request's thread, no hand-off to a worker);
* ``floor_wsgi()``: the WSGI servers' floor, no mcplite imported: a trivial application that
  reads the body and answers ``FLOOR_ANSWER``, a fixed JSON body of the size of mcplite's
  answer, with ``Content-Length``. Under a server it times what that server costs a request,
  which no WSGI application can go below;
* ``sdk_asgi()``: the official SDK's ``MCPServer.streamable_http_app`` in its stateless,
  JSON-answer mode (``stateless_http=True, json_response=True``: no session to keep, no SSE
  stream to open, the fair match for 2026-07-28's stateless requests), for
  ``uvicorn --factory``.

As a script, ``python wsgi_servers.py http|waitress|waitress-floor PORT``: mcplite's own
``http.server`` front end (``Server.run("http")``), or ``Server.wsgi()`` (``floor_wsgi()``)
under waitress (8 threads, as gunicorn's ``--threads 8``). ``python wsgi_servers.py floor N
[inline]``: no server and no socket, ``N`` calls of the application ``mcplite_wsgi()`` (or
``mcplite_inline_wsgi()``) returns made in this process with a request's environ, as a WSGI
server would make them; prints the CPU microseconds a call (what mcplite itself costs; the
rest of a row's figure is the HTTP server's).

``$MCPLITE_BENCH_STATE_SECRET`` (hex) is the ``state_secret`` of every mcplite server: with
several workers, a 2026-07-28 request's sealed state (``requestState``, cursors) made by one
may be opened by another, and each worker's random key would refuse the others'.
"""
import os
import sys

HOST = "127.0.0.1"
PATH = "/mcp"
SECRET_VARIABLE = "MCPLITE_BENCH_STATE_SECRET"
WAITRESS_THREADS = 8
# The floor's answer: byte for byte the size of mcplite's answer to add(1234, 1) (its
# serverInfo name "bench" here "floor"), so that both rows move the same bytes. The load
# checks it is this body exactly.
FLOOR_ANSWER = (b'{"jsonrpc":"2.0","id":1234,"result":{"content":[{"type":"text","text":"1235"}],'
                b'"structuredContent":{"result":1235},"resultType":"complete","_meta":'
                b'{"io.modelcontextprotocol/serverInfo":{"name":"floor","version":"1.0.0"}}}}')


def make_mcplite(inline=False):
    from mcplite import Server

    secret = os.environ.get(SECRET_VARIABLE)
    app = Server("bench", version="1.0.0", state_secret=bytes.fromhex(secret) if secret else None)

    @app.tool(inline=inline)
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return app


def mcplite_wsgi():
    return make_mcplite().wsgi()


def mcplite_inline_wsgi():
    return make_mcplite(inline=True).wsgi()


def floor_wsgi():
    length = str(len(FLOOR_ANSWER))

    def floor_application(environ, start_response):
        # The body is read as any application must (a server may not read it for us), then
        # left unparsed: the floor is the server's cost, not JSON's.
        stream = environ["wsgi.input"]
        size = int(environ.get("CONTENT_LENGTH") or 0)
        while size > 0:
            chunk = stream.read(size)
            if not chunk:
                break
            size -= len(chunk)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", length)])
        return [FLOOR_ANSWER]

    return floor_application


def sdk_asgi():
    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("bench", version="1.0.0", log_level="WARNING")

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return mcp.streamable_http_app(streamable_http_path=PATH, json_response=True, stateless_http=True)


def floor(calls, inline=False):
    import io
    import json
    import time

    application = mcplite_inline_wsgi() if inline else mcplite_wsgi()
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def call(i):
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {
            "name": "add", "arguments": {"a": i, "b": 1}, "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}}}}).encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": PATH, "QUERY_STRING": "", "SERVER_NAME": HOST,
                   "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": HOST,
                   "HTTP_HOST": HOST + ":8000", "CONTENT_TYPE": "application/json",
                   "CONTENT_LENGTH": str(len(body)), "HTTP_ACCEPT": "application/json, text/event-stream",
                   "HTTP_MCP_PROTOCOL_VERSION": "2026-07-28", "HTTP_MCP_METHOD": "tools/call", "HTTP_MCP_NAME": "add",
                   "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
                   "wsgi.url_scheme": "http", "wsgi.multithread": True, "wsgi.multiprocess": False,
                   "wsgi.run_once": False}
        del statuses[:]
        chunks = application(environ, start_response)
        try:
            answer = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        # Checked like the load's calls: a broken path must not look cheap.
        if statuses != ["200 OK"] or json.loads(answer)["result"]["structuredContent"] != {"result": i + 1}:
            raise SystemExit("floor: call %d answered %r %r" % (i, statuses, answer[:300]))

    for i in range(min(calls, 200)):
        call(i)  # warm-up
    began = time.process_time()
    for i in range(calls):
        call(i)
    sys.stdout.write("%.1f\n" % ((time.process_time() - began) * 1e6 / calls))
    return 0


def main(argv):
    if argv[:1] == ["floor"] and len(argv) in (2, 3) and argv[1].isdigit() and argv[2:] in ([], ["inline"]):
        return floor(int(argv[1]), inline=argv[2:] == ["inline"])
    if len(argv) != 2 or argv[0] not in ("http", "waitress", "waitress-floor") or not argv[1].isdigit():
        sys.stderr.write("usage: wsgi_servers.py http|waitress|waitress-floor PORT | floor CALLS [inline]\n")
        return 2
    port = int(argv[1])
    try:
        if argv[0] == "http":
            make_mcplite().run("http", host=HOST, port=port, path=PATH)
        else:
            import waitress
            application = floor_wsgi() if argv[0] == "waitress-floor" else mcplite_wsgi()
            waitress.serve(application, host=HOST, port=port, threads=WAITRESS_THREADS)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
