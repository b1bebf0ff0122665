"""An MCP server wrapping an HTTP JSON API, with urllib and nothing else.

    python examples/http_api_server.py http://127.0.0.1:8080/api
    python examples/http_api_server.py BASE_URL --timeout 5 --max-bytes 1000000
    HTTP_API_TOKEN=... python examples/http_api_server.py BASE_URL    # sent as a Bearer token

Two tools, get_json and post_json, take a path below BASE_URL (books/7 means
BASE_URL/books/7); the answer's JSON comes back as structured content. What the model asks
for stays below the base: a full URL, ``//host``, a backslash, ``.`` or ``..`` segments
(percent-encoded or not) are refused, and so is a redirect to any other scheme, host or
port. Bodies are bounded (``--max-bytes``, 1 MB by default; larger ones are refused, not cut,
since half a JSON document is no JSON), every request has a deadline (``--timeout``, 10 s),
and an HTTP error status is a tool error naming it. Proxies from the environment are not
used: the API is meant to be a local one.
"""

import json
import os
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Tuple, TypedDict, Union

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

from mcplite import Context, Server, ToolError  # noqa: E402

app = Server("http-api", version="1.0.0",
             instructions="A JSON HTTP API. get_json reads a path below the API's base URL (with an optional "
                          "query), post_json sends a JSON body to one.")

# Set by main() from the command line.
settings = {"base": "", "timeout": 10.0, "max_bytes": 1000000}  # type: Dict[str, Any]
QueryValue = Union[str, int, float, bool]


class Response(TypedDict):
    status: int
    url: str
    data: Any


class RedirectRefused(Exception):
    pass


def origin(url: str) -> Tuple[str, str, int]:
    """(scheme, host, port), the default port filled in: what a redirect must keep."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


class SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the API's own scheme, host and port: another host could
    be anything (and would receive the token)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> Optional[urllib.request.Request]:
        if origin(newurl) != origin(settings["base"]):
            fp.close()
            raise RedirectRefused(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


# ProxyHandler({}): no proxy from the environment; our redirect rule instead of the default one.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), SameOriginRedirects())


def api_url(path: str, query: Optional[Dict[str, QueryValue]]) -> str:
    """BASE_URL/path?query, once the path is known to stay below the base."""
    if "\\" in path or "://" in path or path.startswith("//") or any(c in path for c in "?#"):
        raise ToolError("refused %r: give a path below the API's base URL (no URL, host, ? or #; "
                        "queries go in the query argument)" % path[:200])
    segments = path.strip("/").split("/")
    if any(urllib.parse.unquote(s) in (".", "..") or "/" in urllib.parse.unquote(s) for s in segments):
        raise ToolError("refused %r: '.', '..' and encoded '/' segments are not allowed" % path[:200])
    # quote() escapes spaces, control characters and non-ASCII; "%" stays, so a path that is
    # already percent-encoded is sent as given.
    url = settings["base"].rstrip("/") + "/" + urllib.parse.quote(path.lstrip("/"), safe="/%:@!$&'()*+,;=-._~")
    if query:
        url += "?" + urllib.parse.urlencode(
            {k: (json.dumps(v) if isinstance(v, bool) else str(v)) for k, v in query.items()})
    return url


def read_bounded(response: Any, deadline: float, ctx: Context) -> bytes:
    """The body, or ToolError once it passes max_bytes or the deadline."""
    limit = settings["max_bytes"]
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ToolError("refused: the response body is %s bytes, larger than %d bytes" % (declared, limit))
    chunks = []  # type: List[bytes]
    size = 0
    while True:  # the length may be absent, or a lie: count what actually arrives
        if time.monotonic() > deadline:
            raise ToolError("timed out after %g s reading the response" % settings["timeout"])
        ctx.check_cancelled()
        chunk = response.read(min(65536, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ToolError("refused: the response body is larger than %d bytes" % limit)


def one_line(data: bytes, limit: int = 300) -> str:
    text = " ".join(data[:limit].decode("utf-8", "replace").split())
    return text + ("..." if len(data) > limit else "")


def call(method: str, path: str, query: Optional[Dict[str, QueryValue]], body: Any, ctx: Context) -> Response:
    url = api_url(path, query)
    shown = "%s %s" % (method, urllib.parse.urlsplit(url).path)
    headers = {"Accept": "application/json", "User-Agent": "mcplite-http-api-example/1.0"}
    token = os.environ.get("HTTP_API_TOKEN")
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None
    if method == "POST":
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    timeout = settings["timeout"]
    deadline = time.monotonic() + timeout
    try:
        # timeout= bounds each wait on the socket; the deadline bounds the whole read.
        with opener.open(request, timeout=timeout) as response:
            payload = read_bounded(response, deadline, ctx)
            status = response.status
            final_url = response.geturl()
            content_type = response.headers.get("Content-Type", "")
    except RedirectRefused as refused:
        raise ToolError("refused: %s redirected to another host (%s)" % (shown, str(refused)[:200]))
    except urllib.error.HTTPError as error:
        try:
            detail = one_line(error.read(300))
        except (OSError, ValueError):
            detail = ""
        error.close()
        raise ToolError("HTTP %d %s from %s%s" % (error.code, error.reason, shown, ": " + detail if detail else ""))
    except urllib.error.URLError as error:
        if isinstance(error.reason, socket.timeout):
            raise ToolError("timed out after %g s waiting for %s" % (timeout, shown))
        raise ToolError("could not reach the API for %s: %s" % (shown, error.reason))
    except (socket.timeout, TimeoutError):
        raise ToolError("timed out after %g s waiting for %s" % (timeout, shown))
    except OSError as error:  # the connection broke off mid-answer
        raise ToolError("the API connection failed during %s: %s" % (shown, error))
    if not payload.strip():
        return {"status": status, "url": final_url, "data": None}  # 204 No Content, say
    try:
        parsed = json.loads(payload.decode("utf-8"))
    except ValueError:
        raise ToolError("%s answered %s, not JSON: %s" % (shown, content_type or "without a Content-Type",
                                                         one_line(payload, 120)))
    return {"status": status, "url": final_url, "data": parsed}


@app.tool(annotations={"readOnlyHint": True, "openWorldHint": True})
def get_json(ctx: Context, path: str, query: Optional[Dict[str, QueryValue]] = None) -> Response:
    """GET a path below the API's base URL and return its JSON.

    Args:
        path: below the base URL, like books or books/7
        query: query parameters, like {"author": "Le Guin", "limit": 5}
    """
    return call("GET", path, query, None, ctx)


@app.tool(annotations={"destructiveHint": False, "openWorldHint": True})
def post_json(ctx: Context, path: str, body: Any) -> Response:
    """POST a JSON body to a path below the API's base URL and return the JSON answer.

    Args:
        path: below the base URL, like books
        body: the JSON value to send
    """
    return call("POST", path, None, body, ctx)


def main(argv: List[str]) -> int:
    args = list(argv)
    usage = "usage: python examples/http_api_server.py BASE_URL [--timeout SECONDS] [--max-bytes N]"
    try:
        for flag, key, kind in (("--timeout", "timeout", float), ("--max-bytes", "max_bytes", int)):
            if flag in args:
                at = args.index(flag)
                settings[key] = kind(args[at + 1])
                del args[at:at + 2]
    except (IndexError, ValueError):
        print(usage, file=sys.stderr)
        return 2
    if len(args) != 1 or not settings["timeout"] > 0 or not settings["max_bytes"] > 0:
        print(usage, file=sys.stderr)
        return 2
    base = urllib.parse.urlsplit(args[0])
    if base.scheme not in ("http", "https") or not base.hostname or base.query or base.fragment:
        print("http_api_server: BASE_URL must be an http:// or https:// URL without query: %s" % args[0],
              file=sys.stderr)
        return 2
    settings["base"] = args[0]
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
