"""examples/http_api_server.py as a real process over stdio, driven by mcplite's Client, in
front of a small JSON API this file serves itself (http.server on 127.0.0.1, a thread)."""

import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mcplite import Client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "http_api_server.py")
MAX_BYTES = 4096
HUGE = ["x" * 100] * 100  # some 10 kB of JSON


class BooksAPI(BaseHTTPRequestHandler):
    """/api/books and friends; every request line is kept in server.seen."""

    def log_message(self, *args):  # quiet
        pass

    def answer(self, status, value, content_type="application/json", length=True):
        body = value if isinstance(value, bytes) else json.dumps(value).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.server.seen.append("GET " + self.path)
        url = urllib.parse.urlsplit(self.path)
        books = self.server.books
        if url.path == "/api/books":
            self.answer(200, books)
        elif url.path.startswith("/api/books/"):
            wanted = url.path.rsplit("/", 1)[1]
            found = [b for b in books if str(b["id"]) == wanted]
            self.answer(200, found[0]) if found else self.answer(404, {"error": "no book %s" % wanted})
        elif url.path == "/api/search":
            self.answer(200, {"query": urllib.parse.parse_qs(url.query), "auth": self.headers.get("Authorization")})
        elif url.path == "/api/huge":
            self.answer(200, HUGE)
        elif url.path == "/api/huge-unsized":  # no Content-Length: the body ends when the connection does
            self.answer(200, HUGE, length=False)
        elif url.path == "/api/moved":
            self.redirect("/api/books")
        elif url.path == "/api/away":
            self.redirect("http://other.invalid:%d/api/books" % self.server.server_address[1])
        elif url.path == "/api/away-port":
            self.redirect("http://127.0.0.1:1/api/books")
        elif url.path == "/api/slow":
            self.server.release.wait(5)
            self.answer(200, {"late": True})
        elif url.path == "/api/page":
            self.answer(200, b"<html>hello</html>", content_type="text/html")
        elif url.path == "/api/broken":
            self.answer(500, {"error": "database on fire"})
        else:
            self.answer(404, {"error": "no route"})

    def do_POST(self):
        self.server.seen.append("POST " + self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/api/books" or self.headers.get("Content-Type") != "application/json":
            return self.answer(400, {"error": "bad request"})
        book = dict(body, id=len(self.server.books) + 1)
        self.server.books.append(book)
        self.answer(201, book)


@pytest.fixture(scope="module")
def api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BooksAPI)
    server.daemon_threads = True
    server.books = [{"id": 1, "title": "The Dispossessed"}, {"id": 2, "title": "Kindred"}]
    server.seen = []
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def client(api):
    base = "http://127.0.0.1:%d/api" % api.server_address[1]
    argv = [sys.executable, EXAMPLE, base, "--timeout", "0.5", "--max-bytes", str(MAX_BYTES)]
    # A proxy in the environment that would refuse everything: the example must not use it.
    env = {"HTTP_API_TOKEN": "t0ken", "http_proxy": "http://127.0.0.1:1", "HTTP_PROXY": "http://127.0.0.1:1",
           "no_proxy": "", "NO_PROXY": ""}
    with Client.stdio(argv, env=env, timeout=10) as c:
        yield c


def ok(client, tool, arguments):
    result = client.call_tool(tool, arguments)
    assert not result.get("isError"), result
    return result["structuredContent"]


def tool_error(client, tool, arguments):
    result = client.call_tool(tool, arguments)
    assert result.get("isError") is True, result
    [block] = result["content"]
    assert "\n" not in block["text"] and "Traceback" not in block["text"]
    return block["text"]


def test_get_and_post(client, api):
    base = "http://127.0.0.1:%d/api" % api.server_address[1]
    assert ok(client, "get_json", {"path": "books/2"}) == {
        "status": 200, "url": base + "/books/2", "data": {"id": 2, "title": "Kindred"}}
    created = ok(client, "post_json", {"path": "/books", "body": {"title": "Parable of the Sower"}})
    assert (created["status"], created["data"]) == (201, {"title": "Parable of the Sower", "id": 3})
    assert [b["title"] for b in ok(client, "get_json", {"path": "books"})["data"]] == [
        "The Dispossessed", "Kindred", "Parable of the Sower"]
    searched = ok(client, "get_json", {"path": "search", "query": {"author": "Le Guin", "limit": 5, "new": True}})
    assert searched["data"] == {"query": {"author": ["Le Guin"], "limit": ["5"], "new": ["true"]},
                                "auth": "Bearer t0ken"}


def test_http_error_status_is_a_tool_error(client):
    assert tool_error(client, "get_json", {"path": "books/99"}) == (
        'HTTP 404 Not Found from GET /api/books/99: {"error": "no book 99"}')
    assert tool_error(client, "get_json", {"path": "broken"}).startswith("HTTP 500 Internal Server Error from GET")


def test_oversized_bodies_are_refused(client):
    assert tool_error(client, "get_json", {"path": "huge"}) == (
        "refused: the response body is %d bytes, larger than %d bytes" % (len(json.dumps(HUGE)), MAX_BYTES))
    assert tool_error(client, "get_json", {"path": "huge-unsized"}) == (
        "refused: the response body is larger than %d bytes" % MAX_BYTES)


def test_redirects_stay_on_the_apis_host(client, api):
    assert ok(client, "get_json", {"path": "moved"})["data"][0]["title"] == "The Dispossessed"
    before = list(api.seen)
    assert tool_error(client, "get_json", {"path": "away"}) == (
        "refused: GET /api/away redirected to another host (http://other.invalid:%d/api/books)"
        % api.server_address[1])
    assert tool_error(client, "get_json", {"path": "away-port"}) == (
        "refused: GET /api/away-port redirected to another host (http://127.0.0.1:1/api/books)")
    assert api.seen[len(before):] == ["GET /api/away", "GET /api/away-port"]


@pytest.mark.parametrize("path", ["../admin", "books/../../admin", "%2e%2e/admin", "http://other.invalid/x",
                                  "//other.invalid/x", "books\\..\\admin", "books?admin=1", "books/%2F..%2Fadmin"])
def test_paths_stay_below_the_base(client, api, path):
    before = len(api.seen)
    assert tool_error(client, "get_json", {"path": path}).startswith("refused %r" % path)
    assert len(api.seen) == before  # nothing was sent


def test_timeouts_and_non_json(client, api):
    started = time.monotonic()
    assert tool_error(client, "get_json", {"path": "slow"}) == "timed out after 0.5 s waiting for GET /api/slow"
    assert time.monotonic() - started < 4
    assert tool_error(client, "get_json", {"path": "page"}) == (
        "GET /api/page answered text/html, not JSON: <html>hello</html>")
