"""A WSGI (PEP 3333) front end for ``McpHttpApp``: the same endpoint as ``httpserver``, run by
a production WSGI server (gunicorn, waitress, ...) instead of ``http.server``.

``Server.wsgi(**options)`` makes one. Everything the protocol decides stays in ``httpapp``;
this module turns a WSGI environ into an ``HttpRequest`` (the body bounded), the answer into
``start_response`` and a body, and an SSE stream into an iterable that yields each event as it
comes, so the WSGI server writes (and flushes) it at once.

An open SSE stream holds the thread iterating it for as long as it lasts: a GET stream, a
``subscriptions/listen`` stream, a tool reporting progress. So the WSGI server needs a thread
per open stream (gunicorn ``-k gthread --threads N``, waitress ``threads=N``). gunicorn's
default ``sync`` worker has one thread and kills it after ``--timeout``: it is detected on the
first request and refused with a message that says what to run instead.

A client that hangs up is noticed through the server's own probe where it has one
(waitress's ``waitress.client_disconnected``, which needs ``channel_request_lookahead`` >= 1;
gunicorn's socket, ``gunicorn.socket``), and otherwise when the next write fails (the keep-
alive comment every ``keepalive_interval`` seconds) and the server calls the body's
``close()``. For a 2026-07-28 request that is a cancellation.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple, Union

from .errors import MCPError
from .httpapp import HttpRequest, HttpResponse, McpHttpApp
from .jsonrpc import INTERNAL_ERROR, INVALID_REQUEST, encode_outgoing, error_response
from .logs import LazyLogger
from .server import Server
from .sse import SSE_KEEPALIVE

_wsgi_log = LazyLogger("mcplite.wsgi")

# The reasons the status line needs (PEP 3333: "a status code and a reason phrase"); a code
# not listed gets a generic one.
_WSGI_REASONS = {
    200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 411: "Length Required",
    413: "Payload Too Large", 415: "Unsupported Media Type", 421: "Misdirected Request",
    429: "Too Many Requests", 499: "Client Closed Request", 500: "Internal Server Error",
    503: "Service Unavailable",
}

_UNSHARED_CHANGES_MESSAGE = (
    "mcplite: several worker processes serve this endpoint without a shared store: a change made on one "
    "(a tool added or removed, notify_resource_updated) reaches the streams held by that worker only. "
    "Server(..., store=SqliteStore('/path/to/state.db')) shares them.")
_SYNC_WORKER_MESSAGE = (
    "mcplite: gunicorn's sync worker cannot serve MCP: an SSE stream (a GET stream, a listen stream, a "
    "tool reporting progress) holds its one thread until --timeout kills the worker, and nothing else is "
    "served meanwhile. Run a threaded worker: gunicorn -k gthread --threads 16 ...")

_StartResponse = Callable[..., Any]


def _wsgi_status(status: int) -> str:
    return "%d %s" % (status, _WSGI_REASONS.get(status) or ("OK" if status < 400 else "Error"))


def _wsgi_error(status: int, code: int, message: str, headers: Optional[List[Tuple[str, str]]] = None) -> HttpResponse:
    # The same shape httpapp gives its refusals: a JSON-RPC error with "id": null.
    body = encode_outgoing(error_response(None, MCPError(code, message)))
    return HttpResponse(status, [("Content-Type", "application/json")] + (headers or []), body)


def _too_large(limit: int) -> HttpResponse:
    # Made only when refused: an error body encoded for every request cost a JSON encoding each.
    return _wsgi_error(413, INVALID_REQUEST, "Payload Too Large: the limit is %d bytes" % limit)


# environ key -> header name ("" for a key that is none), so that each request does not
# rebuild the same names; bounded in entries and in each key's length, since a client picks
# the names of its HTTP_* keys.
_FIELD_NAMES = {}  # type: Dict[str, str]
_FIELD_NAMES_MAX = 512
_FIELD_NAME_LONGEST = 64


def _header_fields(environ: Dict[str, Any]) -> Dict[str, str]:
    """The request's header fields, by lower-case name, from the environ's ``HTTP_*`` keys and
    ``CONTENT_TYPE``/``CONTENT_LENGTH``."""
    headers = {}  # type: Dict[str, str]
    names = _FIELD_NAMES
    for key, value in environ.items():
        name = names.get(key)
        if name is None:
            if key.startswith("HTTP_"):
                name = key[5:].replace("_", "-").lower()
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                name = key.replace("_", "-").lower()
            else:
                name = ""
            if len(names) < _FIELD_NAMES_MAX and len(key) <= _FIELD_NAME_LONGEST:
                names[key] = name
        if name and isinstance(value, str) and value != "":
            # "field parsing MUST exclude OWS before evaluating" (RFC 9110 5.5)
            headers[name] = value.strip(" \t")
    return headers


def _socket_closed(sock: Any) -> bool:
    """Whether the client has closed its end of ``sock`` (readable with nothing to read).
    Unknown (a TLS socket cannot be peeked) counts as still open."""
    import select
    import socket
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except ValueError:
        return False
    except OSError:
        return True


def _disconnect_probe(environ: Dict[str, Any]) -> Optional[Callable[[], bool]]:
    """The server's own way to tell that the client has gone, if it offers one."""
    hook = environ.get("waitress.client_disconnected")
    if callable(hook):
        return hook  # type: ignore[no-any-return]
    sock = environ.get("gunicorn.socket")
    if sock is not None and hasattr(sock, "fileno"):
        return lambda: _socket_closed(sock)
    return None


def _is_gunicorn_sync_worker(environ: Dict[str, Any]) -> bool:
    # gunicorn sets wsgi.multithread True in every worker that can run requests side by side
    # (gthread, and the gevent/eventlet ones); its sync worker leaves the default, False.
    return str(environ.get("SERVER_SOFTWARE", "")).startswith("gunicorn") and not environ.get("wsgi.multithread")


class _EventBody:
    """An SSE stream as a WSGI response body: each ``next`` waits for events and returns them
    (the WSGI server writes each one out before asking for more), a keep-alive comment when
    the stream has been quiet for ``keepalive_interval`` seconds. ``close`` (which the server
    calls when the response ends, however it ends) detaches the reader and tells the stream
    whether every event was written."""

    def __init__(self, front: "WsgiApp", response: HttpResponse, probe: Optional[Callable[[], bool]]) -> None:
        self._front = front
        self._response = response
        self._stream = response.stream
        self._after = response.after
        self._pending = response.stream_prefix
        self._probe = probe
        poll = front.app.poll_interval
        self._poll = poll
        self._keepalive_every = max(1, int(front.keepalive_interval / poll))
        self._idle = 0
        self._first = True
        self._ending = None  # type: Optional[bool]   # done: whether the stream finished
        self._complete = False
        self._closed = False

    def __iter__(self) -> "_EventBody":
        return self

    def __next__(self) -> bytes:
        stream = self._stream
        assert stream is not None
        if self._ending is not None:
            # Asked again: the last events were written, so the stream is complete if it ended.
            self._complete = self._ending
            raise StopIteration
        while True:
            first = self._first
            self._first = False
            data, self._after, done = stream.read(self._after, 0 if first else self._poll, self._response)
            data = self._pending + data
            self._pending = b""
            tracer = self._front.tracer
            if tracer is not None and data:
                tracer.sse_bytes(data)
            if done:
                self._ending = stream.finished
                if data:
                    return data
                self._complete = self._ending
                raise StopIteration
            if data or first:
                # (The first read may find nothing yet: an empty first item still makes the
                # server send the status and headers now, as gunicorn, waitress and wsgiref do.)
                self._idle = 0
                return data
            self._idle += 1
            if self._front.app.closed:
                raise StopIteration
            if self._idle % self._keepalive_every == 0:
                # A write the server makes now fails if the client has gone, which ends this.
                return SSE_KEEPALIVE
            if self._probe is not None and self._probe():
                raise StopIteration

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        response = self._response
        try:
            if self._stream is not None:
                self._stream.detach(response)
            if response.on_close is not None:
                # Not complete: for a 2026-07-28 request, "Closing the SSE response stream MUST
                # be treated by the server as cancellation of that request."
                response.on_close(self._complete, self._after)
        except Exception:
            _wsgi_log.exception("error while closing a stream")
        finally:
            if response.then is not None:
                response.then()


class _Body:
    """A plain body whose ``close`` runs the response's ``then`` (work that must not overtake
    the answer, such as the old HTTP+SSE transport handling a message after its 202)."""

    def __init__(self, body: bytes, then: Callable[[], None]) -> None:
        self._body = body
        self._then = then  # type: Optional[Callable[[], None]]

    def __iter__(self) -> Any:
        return iter([self._body])

    def close(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()


class WsgiApp:
    """A PEP 3333 application serving one ``Server``'s MCP endpoint; ``Server.wsgi()`` makes it.

    ``keepalive_interval``: seconds of silence on an SSE stream before a comment line is sent
    (it keeps proxies from timing the stream out, and a write to a client that has gone ends
    the stream), and before a POST's answer that has not begun becomes such a stream (a quiet
    tool: a proxy's read timeout bounds the wait for the answer's head too); ``trace``: as for
    ``start_http``; every other option is ``McpHttpApp``'s (``path``, ``allowed_hosts``,
    ``allowed_origins``, ``auth``, ``max_body_bytes``, ``stateless``, ...). Paths are matched
    against ``PATH_INFO``, so the endpoint's path is relative to where the application is
    mounted. The Host check defaults to loopback names, as for ``start_http``: behind a public
    name, pass ``allowed_hosts``.

    ``app`` is the ``McpHttpApp``; ``close()`` ends every session and stream (a worker's
    shutdown hook may call it, so open streams end cleanly rather than being cut).
    """

    def __init__(self, server: Server, path: str = "/mcp", *, keepalive_interval: float = 15.0,
                 trace: Any = None, **options: Any) -> None:
        if not keepalive_interval > 0:
            raise ValueError("keepalive_interval must be > 0")
        self.keepalive_interval = keepalive_interval
        self.tracer = None  # type: Any
        if trace is not None and trace is not False:
            from .tracing import make_tracer
            self.tracer = make_tracer(trace)
        self.app = McpHttpApp(server, path, **options)
        # A quiet POST becomes a stream of keep-alive comments after as long as a quiet
        # stream waits for its next one.
        self.app.stream_after = keepalive_interval
        self._warned = set()  # type: Set[str]
        self._multiprocess_problem = None  # type: Optional[str]   # "" once found to be none
        self._warn_lock = threading.Lock()

    def close(self) -> None:
        self.app.close()

    def __call__(self, environ: Dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
        headers = _header_fields(environ)
        if _is_gunicorn_sync_worker(environ):
            # Refused from the first request on, and said once on the server's error log: a
            # sync worker would serve plain requests and then hang on the first stream.
            self._warn_once("sync", environ, _SYNC_WORKER_MESSAGE)
            return self._send(environ, start_response,
                              self._own_answer(_wsgi_error(500, INTERNAL_ERROR, _SYNC_WORKER_MESSAGE), headers), None)
        if environ.get("wsgi.multiprocess"):
            # Several worker processes (gunicorn -w N with N > 1 says so in every request):
            # refused from the first request on when what they must share is not shared,
            # rather than failing later on one request in N.
            problem = self._multiprocess_problem
            if problem is None:
                server = self.app.server
                problem = self._multiprocess_problem = server.multiprocess_problem() or ""
                if not problem and (server.store is None or not server.store.shared):
                    # Served, but a change made on one worker reaches the streams of that
                    # worker only: said once, since a server whose lists never change loses
                    # nothing.
                    self._warn_once("multiprocess-store", environ, _UNSHARED_CHANGES_MESSAGE)
            if problem:
                self._warn_once("multiprocess", environ, problem)
                return self._send(environ, start_response,
                                  self._own_answer(_wsgi_error(500, INTERNAL_ERROR, problem), headers), None)
        probe = _disconnect_probe(environ)
        request = self._request(environ, headers, probe)
        if isinstance(request, HttpResponse):
            return self._send(environ, start_response, self._own_answer(request, headers), probe)
        if self.tracer is not None:
            self.tracer.http_request(request.method, environ.get("RAW_URI") or request.path,
                                     list(request.headers.items()), request.body)
        response = self.app.handle(request)
        if response is None:
            # The client went away before its answer took form: nobody is left to read one.
            return self._send(environ, start_response, HttpResponse(499), probe)
        if response.status == 421:
            self._warn_once("host", environ, "mcplite: refused a request for Host %r: only loopback names are "
                            "served unless wsgi(allowed_hosts=[...]) names others"
                            % (environ.get("HTTP_HOST"),))
        return self._send(environ, start_response, response, probe)

    # -- the request ---------------------------------------------------------------------

    def _request(self, environ: Dict[str, Any], headers: Dict[str, str],
                 probe: Optional[Callable[[], bool]]) -> Union[HttpRequest, HttpResponse]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        target = environ.get("PATH_INFO") or "/"
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        body = b""
        if method in ("POST", "PUT", "PATCH"):
            read = self._read_body(environ, headers)
            if isinstance(read, HttpResponse):
                return read
            body = read
        return HttpRequest(method, target, headers, body, probe, environ.get("REMOTE_ADDR") or None)

    def _read_body(self, environ: Dict[str, Any], headers: Dict[str, str]) -> Union[bytes, HttpResponse]:
        """The body, never more than ``max_body_bytes`` of it read: with a Content-Length, a
        larger one is refused unread; without one (a chunked body the server has not counted),
        it is read only from a server that marks its input as ending with the body
        (``wsgi.input_terminated``), and refused once it passes the bound."""
        limit = self.app.max_body_bytes
        stream = environ.get("wsgi.input")
        declared = headers.get("content-length")
        if declared is None:
            if not environ.get("wsgi.input_terminated"):
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    return _wsgi_error(411, INVALID_REQUEST, "Length Required: send Content-Length")
                return b""  # no length and not chunked: no body
            length = limit + 1  # read until the input ends, one byte past the bound at most
        else:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                return _wsgi_error(400, INVALID_REQUEST, "Bad Request: invalid Content-Length")
            if length > limit:
                return _too_large(limit)
        if stream is None or length == 0:
            return b""
        chunks = []  # type: List[bytes]
        total = 0
        while total < length:
            try:
                chunk = stream.read(min(65536, length - total))
            except (OSError, ValueError):
                chunk = b""
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            return _too_large(limit)
        if declared is not None and total < length:
            return _wsgi_error(400, INVALID_REQUEST, "Bad Request: the body ended before its Content-Length")
        return b"".join(chunks)

    # -- the answer ----------------------------------------------------------------------

    def _own_answer(self, response: HttpResponse, headers: Dict[str, str]) -> HttpResponse:
        """``response``, an answer this adapter makes itself without the app (a body it will
        not read, a server it cannot run under), with the CORS grant the app's answers carry
        when the request's Origin (and Host) is one the app accepts: a page of that Origin
        then reads the status, not an opaque network error."""
        response.headers.extend(self.app.cors_headers(headers))
        return response

    def _send(self, environ: Dict[str, Any], start_response: _StartResponse, response: HttpResponse,
              probe: Optional[Callable[[], bool]]) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        status = _wsgi_status(response.status)
        if self.tracer is not None:
            self.tracer.http_response(response.status, status.split(" ", 1)[1], response.headers,
                                      response.body if response.stream is None else None, method)
        if response.stream is not None:
            body = _EventBody(self, response, probe)
            try:
                start_response(status, list(response.headers))
            except BaseException:
                body.close()  # never iterated: let the stream go, or it keeps a reader that is not there
                raise
            return body
        headers = list(response.headers) + [("Content-Length", str(len(response.body)))]
        data = b"" if method == "HEAD" else response.body
        plain = [data] if response.then is None else _Body(data, response.then)  # type: Iterable[bytes]
        try:
            start_response(status, headers)
        except BaseException:
            if isinstance(plain, _Body):
                plain.close()
            raise
        return plain

    def _warn_once(self, key: str, environ: Dict[str, Any], message: str) -> None:
        with self._warn_lock:
            if key in self._warned:
                return
            self._warned.add(key)
        # The server's error log (gunicorn's and waitress's go to stderr by default).
        errors = environ.get("wsgi.errors") or sys.stderr
        try:
            errors.write(message + "\n")
            errors.flush()
        except Exception:
            _wsgi_log.warning("%s", message)
