"""The HTTP front end on ``http.server``: sockets, threads, limits. The protocol is in
``httpapp``; this module only moves bytes.

A thread per connection (``ThreadingHTTPServer``), HTTP/1.1 keep-alive, TCP_NODELAY, and
each response written with one ``send`` where the size allows (``http.server``'s own
helpers write the status line, each header and the body separately, and with Nagle's
algorithm and delayed ACKs that costs ~40 ms per keep-alive request). A call whose handler
gets no Context runs on its connection's thread, watched by one thread per server
(``_CallWatcher``) for a hang-up and for a quiet answer to keep alive.
"""

from __future__ import annotations

import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Optional, Set, Tuple

from .httpapp import HttpRequest, HttpResponse, McpHttpApp
from .httpparse import RequestHead, parse_request_head, read_chunked_body
from .logs import LazyLogger
from .loopback import is_loopback_host
from .server import Server
from .sse import SSE_KEEPALIVE

_front_log = LazyLogger("mcplite.http")

_REASONS = BaseHTTPRequestHandler.responses


def _reason(status: int) -> str:
    return _REASONS[status][0] if status in _REASONS else ""


def _status_line(status: int) -> bytes:
    return ("HTTP/1.1 %d %s\r\n" % (status, _reason(status))).encode("latin-1")


class _McpRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mcplite"
    sys_version = ""
    server = None  # type: Any   # the _McpHttpServer
    _watched = None  # type: Optional[_WatchedCall]   # the call the watcher watches for this request
    fields = {}  # type: Dict[str, str]   # the request's header fields by lower-case name
    raw_requestline = b""  # (set by BaseHTTPRequestHandler.handle_one_request)

    def setup(self) -> None:
        # The read timeout bounds a half-sent request and an idle keep-alive connection
        # alike, so a slow or silent client cannot hold a thread forever.
        self.timeout = self.server.read_timeout
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def parse_request(self) -> bool:
        """The request head by our own strict parser (httpparse.py), not ``http.server``'s
        ``email``-based one: the same attributes set (``command``, ``path``,
        ``request_version``, ``headers``, ``close_connection``), a refusal answered here."""
        self.close_connection = True  # until a head is parsed whole
        self.command = self.path = ""
        self.request_version = "HTTP/1.1"
        self.requestline = ""
        seen = {}  # type: Dict[str, str]
        head = parse_request_head(self.raw_requestline, self.rfile.readline, seen=seen)
        if not isinstance(head, RequestHead):  # (a NamedTuple is a tuple too: ask for the head)
            status, reason = head
            # (the CORS grant from the fields read before the refused line: an Origin after
            # it is not known)
            self._send_simple(status, ("%s: %s\n" % (_reason(status), reason)).encode("latin-1"), fields=seen)
            return False
        self.command, self.path, self.request_version = head.method, head.target, head.version
        self.requestline = "%s %s %s" % (head.method, head.target, head.version)
        self.headers = head.lines  # type: ignore[assignment]   # (name, value) pairs as sent
        self.fields = head.fields
        tokens = head.fields.get("connection", "").lower()
        if head.version == "HTTP/1.1":
            self.close_connection = "close" in tokens
        else:  # HTTP/1.0 closes unless asked to keep the connection
            self.close_connection = "keep-alive" not in tokens
        if head.fields.get("expect", "").lower() == "100-continue" and head.version == "HTTP/1.1" and \
                int(head.fields.get("content-length", "0")) <= self.server.app.max_body_bytes:
            # The client waits for this before it sends the body (curl does above 1 KiB). Not for
            # a body that will be refused unread: the 413 stands in for it (RFC 9110 10.1.1).
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        # Never the default: it writes a line per request to stderr.
        _front_log.debug("%s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        try:
            self._serve_one()
        finally:
            # Waiting for the next request on this connection: evictable again, and on the
            # clock (the whole of the next request must arrive within read_timeout).
            self.server.connection_waiting(self.connection)

    def _serve_one(self) -> None:
        app = self.server.app  # type: McpHttpApp
        headers = self.fields  # (lower-case names, OWS stripped: httpparse.py)
        target = self.path
        if target[:7].lower() == "http://" or target[:8].lower() == "https://":
            # What a proxy sends: "A server MUST accept the absolute-form in requests" and
            # "MUST ignore the received Host header field (if any) and instead use the host
            # information of the request-target" (RFC 9112 3.2.2).
            rest = target.split("://", 1)[1]
            end = min([i for i in (rest.find("/"), rest.find("?")) if i >= 0] or [len(rest)])
            headers = dict(headers, host=rest[:end])
            target = rest[end:] if rest[end:end + 1] == "/" else "/" + rest[end:]
        body = b""
        # Whatever the method: a body left unread would be taken for the next request.
        transfer_coding = headers.get("transfer-encoding")
        if transfer_coding is not None:
            codings = [coding.strip().lower() for coding in transfer_coding.split(",")]
            if codings[-1] != "chunked" or "chunked" in codings[:-1] or self.request_version != "HTTP/1.1":
                # "If a Transfer-Encoding header field is present in a request and the chunked
                # transfer coding is not the final encoding ... the server MUST respond with the
                # 400 (Bad Request) status code and then close the connection" (RFC 9112 6.3);
                # chunked twice is not allowed either, and an HTTP/1.0 message with
                # Transfer-Encoding the server "MUST treat ... as if the framing is faulty" (6.1).
                self._send_simple(400, b"Bad Request: faulty framing (Transfer-Encoding must end in chunked, "
                                       b"once, in a request of version 1.1)\n", fields=headers)
                return
            if len(codings) > 1:
                self._send_simple(501, b"Not Implemented: no transfer coding but chunked\n", fields=headers)
                return
            try:
                read = read_chunked_body(self.rfile.readline, self.rfile.read, app.max_body_bytes)
            except (socket.timeout, OSError):
                self.close_connection = True
                return
            if not isinstance(read, bytes):
                if read == 413:
                    self._send_too_large(app.max_body_bytes, headers)
                else:
                    self._send_simple(400, b"Bad Request: malformed chunked body\n", fields=headers)
                return
            body = read
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                length = -1
            if length < 0:
                self._send_simple(400, b"Bad Request: invalid Content-Length\n", fields=headers)
                return
            if length > app.max_body_bytes:
                # Not read: refuse and close, rather than swallow an oversize body.
                self._send_too_large(app.max_body_bytes, headers)
                return
            try:
                body = self.rfile.read(length) if length else b""
            except (socket.timeout, OSError):
                self.close_connection = True
                return
            if len(body) < length:  # the client stopped half way
                self.close_connection = True
                return
        # The request has arrived whole: from here until it is answered the connection is
        # busy, never evicted for a newcomer.
        self.server.connection_busy(self.connection)
        tracer = self.server.tracer
        if tracer is not None:
            tracer.http_request(self.command, self.path, self.headers, body)
        self._watched = None
        response = app.handle(HttpRequest(self.command, target, headers, body, self._peer_closed,
                                          self.client_address[0] if self.client_address else None,
                                          self._watch))
        # (set by _watch, if app.handle called it; a type comment, not cast(Optional[...]):
        # that would build the Optional at each request)
        watched = self._watched  # type: Optional[_WatchedCall]
        head_sent = watched is not None and watched.streamed
        if watched is not None and head_sent and (response is None or response is not watched.head):
            # The watcher began a stream and nothing may follow on it but its events: the
            # client went, or this answer is not that stream's (an internal error after it).
            watched.let_go()
            self.server.streaming_ended()
            if response is not None and response.then is not None:
                response.then()
            response = None
        if response is None:
            self.close_connection = True
            return
        try:
            self._write(response, head_sent)
        except (OSError, ValueError) as exc:
            _front_log.debug("client went away while answered: %s", exc)
            self.close_connection = True
        finally:
            if response.then is not None:
                response.then()

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def _send_too_large(self, limit: int, fields: Dict[str, str]) -> None:
        self._send_simple(413, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":'
                               b'"Payload Too Large: the limit is %d bytes"}}' % limit, "application/json", fields)

    def _send_simple(self, status: int, body: bytes, content_type: str = "text/plain",
                     fields: Optional[Dict[str, str]] = None) -> None:
        """The front end's own answer, before the app sees the request; ``fields``: the
        request's header fields as far as they are known."""
        self.close_connection = True
        # A page of an accepted Origin must be able to read the refusal, as it reads the
        # app's answers (else the browser hands it an opaque network error).
        cors = self.server.app.cors_headers(fields) if fields else []
        headers = [("Content-Type", content_type)] + cors
        if self.server.tracer is not None:
            self.server.tracer.http_response(status, _reason(status), headers, body)
        extra = b"".join(b"%s: %s\r\n" % (name.encode("latin-1"), value.encode("latin-1")) for name, value in cors)
        try:
            self.wfile.write(_status_line(status) + b"Content-Type: %s\r\nContent-Length: %d\r\n%s"
                             b"Connection: close\r\n\r\n" % (content_type.encode("ascii"), len(body), extra) + body)
        except OSError:
            pass

    def _head(self, response: HttpResponse, extra: bytes) -> bytes:
        lines = [_status_line(response.status)]
        for name, value in response.headers:
            lines.append(("%s: %s\r\n" % (name, value)).encode("latin-1"))
        lines.append(extra)
        if self.close_connection:
            lines.append(b"Connection: close\r\n")
        elif self.request_version == "HTTP/1.0":
            # It asked to keep the connection; an HTTP/1.0 client keeps it only when told so.
            lines.append(b"Connection: keep-alive\r\n")
        lines.append(b"\r\n")
        return b"".join(lines)

    def _write(self, response: HttpResponse, head_sent: bool = False) -> None:
        """Write ``response``; ``head_sent``: its stream's head is out already (written by
        the watcher, ``_write_stream_head``), only its events remain."""
        stream = response.stream
        tracer = self.server.tracer
        if tracer is not None and not head_sent:
            tracer.http_response(response.status, _reason(response.status), response.headers,
                                 response.body if stream is None else None, self.command)
        if stream is None:
            body = b"" if self.command == "HEAD" else response.body
            self.wfile.write(self._head(response, b"Content-Length: %d\r\n" % len(response.body)) + body)
            return
        chunked = self.request_version == "HTTP/1.1"
        first = b"" if head_sent else self._stream_head(response)
        complete = False
        after = response.after
        pending = response.stream_prefix
        poll = self.server.app.poll_interval
        keepalive_every = max(1, int(self.server.keepalive_interval / poll))
        idle = 0
        try:
            while True:
                data, after, done = stream.read(after, 0 if first else poll, response)
                data = pending + data
                pending = b""
                if tracer is not None and data:
                    tracer.sse_bytes(data)
                out = first + self._framed(data)
                first = b""
                if data:
                    idle = 0
                if done and chunked:
                    out += b"0\r\n\r\n"
                if out:
                    self.wfile.write(out)
                if done:
                    complete = stream.finished
                    return
                if not data:
                    idle += 1
                    if self.server.stopping:
                        self.close_connection = True
                        return
                    if idle % keepalive_every == 0:
                        self.wfile.write(self._keepalive())
                    elif self._peer_closed():
                        self.close_connection = True
                        return
        except (OSError, ValueError):
            self.close_connection = True
            raise
        finally:
            self.server.streaming_ended()
            stream.detach(response)
            if response.on_close is not None:
                try:
                    response.on_close(complete, after)
                except Exception:
                    _front_log.exception("error while closing a stream")

    def _stream_head(self, response: HttpResponse) -> bytes:
        """The head of an SSE response, the stream counted as started."""
        # Chunked, so the connection stays usable once the stream ends. Not to HTTP/1.0: "A
        # server MUST NOT send a response containing Transfer-Encoding unless the
        # corresponding request indicates HTTP/1.1" (RFC 9112 6.1); there the close ends it.
        chunked = self.request_version == "HTTP/1.1"
        if not chunked:
            self.close_connection = True
        self.server.streaming_started()
        return self._head(response, b"Transfer-Encoding: chunked\r\n" if chunked else b"")

    def _framed(self, data: bytes) -> bytes:
        """Events as this request's SSE response carries them: a chunk each write (nothing
        for nothing: an empty chunk would end the body), or as they are over HTTP/1.0."""
        if data and self.request_version == "HTTP/1.1":
            return b"%x\r\n" % len(data) + data + b"\r\n"
        return data

    def _keepalive(self) -> bytes:
        """A keep-alive comment on this request's SSE response, framed as its events are."""
        if self.request_version == "HTTP/1.1":
            return b"%x\r\n" % len(SSE_KEEPALIVE) + SSE_KEEPALIVE + b"\r\n"
        return SSE_KEEPALIVE

    def _watch(self, call: Any, begin: Optional[Callable[[], Optional[HttpResponse]]],
               cancels: bool) -> "_WatchedCall":
        """``HttpRequest.watch``: ``call`` runs on this thread from now until the watch ends,
        the server's watcher keeping an eye on its connection meanwhile."""
        watched = self._watched = _WatchedCall(self, call, begin, cancels,
                                               time.monotonic() + self.server.app.stream_after)
        self.server.watcher.add(watched)
        return watched

    def _write_stream_head(self, response: HttpResponse) -> None:
        """(The watcher's.) Begin ``response``'s stream: its head and the events its stream
        holds already (a 2025-11-25 session's priming event, which a client that hangs up
        next resumes from) now, the rest once the call is done (from ``response.after``)."""
        tracer = self.server.tracer
        if tracer is not None:
            tracer.http_response(response.status, _reason(response.status), response.headers, None, self.command)
        data = response.stream_prefix
        response.stream_prefix = b""
        if response.stream is not None:
            events, response.after, _ = response.stream.read(response.after, 0, response)
            data += events
        if tracer is not None and data:
            tracer.sse_bytes(data)
        self.wfile.write(self._stream_head(response) + self._framed(data))

    def _peer_closed(self) -> bool:
        """Whether the client has closed its end (readable with nothing to read)."""
        sock = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            return sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


class _WatchedCall:
    """A call running on its connection's thread (``_McpRequestHandler._watch``), as the
    watcher sees it. ``lock`` decides between the watcher beginning a stream and the call
    ending: whoever takes it first settles whether the answer is JSON or that stream."""

    __slots__ = ("handler", "call", "begin", "cancels", "head", "due", "lock", "done", "streamed", "gone",
                 "let_go_done")

    def __init__(self, handler: _McpRequestHandler, call: Any, begin: Optional[Callable[[], Optional[HttpResponse]]],
                 cancels: bool, due: float) -> None:
        self.handler = handler
        self.call = call
        # Makes the SSE response to begin if the call runs past ``due`` (its stream attached
        # to it), or None when the answer can no longer be one; None itself: JSON only.
        self.begin = begin
        self.cancels = cancels  # whether a hang-up cancels the call (see look)
        self.head = None  # type: Optional[HttpResponse]   # the response begin made
        self.due = due  # when to begin the stream, then when the next keep-alive comment is due
        self.lock = threading.Lock()
        self.done = False  # the call has ended: the watcher writes nothing more
        self.streamed = False  # the head is out (and counted as a stream begun)
        self.gone = False  # the client hung up, or a write failed
        self.let_go_done = False

    def end(self) -> bool:
        """The call has ended (on the connection's thread): whether the stream was begun."""
        self.handler.server.watcher.remove(self)
        with self.lock:
            self.done = True
            return self.streamed

    def look(self, now: float, keepalive_interval: float) -> None:
        """(On the watcher's thread.) Begin the stream or write a keep-alive comment when one
        is due, and see whether the client has gone."""
        if self.done or self.gone:
            return
        handler = self.handler
        # Only peeks: the connection's thread reads nothing while the call runs.
        closed = handler._peer_closed()
        with self.lock:
            if self.done or self.gone:
                return
            if not closed and now >= self.due and (self.streamed or self.begin is not None):
                try:
                    if self.streamed:
                        handler.wfile.write(handler._keepalive())
                    else:
                        head = self.head = self.begin()  # type: ignore[misc]   # (not None: just checked)
                        if head is None:
                            self.begin = None  # the answer is decided, as JSON
                        else:
                            self.streamed = True
                            handler._write_stream_head(head)
                except (OSError, ValueError) as exc:
                    _front_log.debug("client went away during a call: %s", exc)
                    closed = True
                self.due = now + keepalive_interval
            if closed:
                self.gone = True
                if self.cancels:
                    # "Closing the SSE response stream MUST be treated by the server as
                    # cancellation of that request" (2026-07-28). Not so for a session's
                    # request: "Disconnection SHOULD NOT be interpreted as the client
                    # cancelling its request" - it runs on, its answer kept on its stream
                    # for a client that resumes it.
                    self.call.cancelled = True
                self.let_go()

    def let_go(self) -> None:
        """(Under ``lock`` on the watcher's thread, or after ``end`` on the connection's.)
        No longer the reader of the stream begun: a client resuming it (GET with
        ``Last-Event-ID``) becomes its reader, as when the front stops copying a stream
        (``_McpRequestHandler._write``)."""
        head = self.head
        if head is None or self.let_go_done:
            return
        self.let_go_done = True
        if head.stream is not None:
            head.stream.detach(head)
        if head.on_close is not None:
            try:
                head.on_close(False, head.after)
            except Exception:
                _front_log.exception("error while closing a stream")


# Ticks (poll_interval apart) with no call to watch before the watcher sleeps until one is added:
# a server answering call after call never pays for waking it, an idle one does not tick.
_WATCH_IDLE_TICKS = 40


class _CallWatcher:
    """One thread per server watching every call that runs on its connection's thread: the
    hang-up check every ``poll_interval`` seconds, and an answer still undecided after
    ``stream_after`` seconds turned into an SSE stream of keep-alive comments, as
    ``McpHttpApp._await`` does for a call on the worker pool - without its hand-off to a
    worker and back. Adding a call costs a lock and a dict insertion; the watcher is woken
    only when it had gone to sleep, idle."""

    def __init__(self, httpd: "_McpHttpServer") -> None:
        self._httpd = httpd
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._calls = {}  # type: Dict[_WatchedCall, None]   # (a dict: ordered, O(1) removal)
        self._thread = None  # type: Optional[threading.Thread]
        self._asleep = True  # no thread yet, or one waiting for a call to be added
        self._stopped = False

    def add(self, watched: _WatchedCall) -> None:
        with self._lock:
            self._calls[watched] = None
            if self._asleep and not self._stopped:
                self._asleep = False
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="mcplite-http-watcher", daemon=True)
                    self._thread.start()
                else:
                    self._wake.notify()

    def remove(self, watched: _WatchedCall) -> None:
        with self._lock:
            self._calls.pop(watched, None)

    def stop(self, timeout: float) -> None:
        with self._lock:
            self._stopped = True
            self._wake.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        poll = self._httpd.app.poll_interval
        keepalive_interval = self._httpd.keepalive_interval
        idle = 0
        while True:
            with self._lock:
                if self._stopped:
                    return
                calls = list(self._calls)
                if calls:
                    idle = 0
                else:
                    idle += 1
                    if idle > _WATCH_IDLE_TICKS:
                        self._asleep = True
                        while self._asleep and not self._stopped:
                            self._wake.wait()
                        idle = 0
                        continue
            now = time.monotonic()
            wake = now + poll
            for watched in calls:
                try:
                    watched.look(now, keepalive_interval)
                except Exception:  # the watcher must go on for the others
                    _front_log.exception("error while watching a call")
                if not (watched.done or watched.gone) and (watched.streamed or watched.begin is not None):
                    wake = min(wake, watched.due)  # (JSON only: nothing is ever due)
            with self._lock:
                if not self._stopped:
                    self._wake.wait(max(0.0, wake - time.monotonic()))


# How long a newcomer waits for the slot of the connection it displaced (its thread sees the
# shutdown at once; this only bounds a thread that is slow to be scheduled).
_DISPLACE_WAIT = 0.5


def _end_connection(sock: socket.socket) -> None:
    """End a connection from outside its thread: its blocked read returns at once."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _McpHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: Tuple[str, int], app: McpHttpApp, max_connections: int,
                 read_timeout: float, keepalive_interval: float, tracer: Any = None, backlog: int = 1024) -> None:
        # The listen queue: connections the kernel accepts before we do. http.server keeps 5,
        # and a burst of clients beyond that has its connection attempts dropped, each retried
        # by the client's kernel a second later (a p99 of seconds); the kernel caps it at
        # net.core.somaxconn.
        self.request_queue_size = backlog
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self.tracer = tracer  # a Tracer (tracing.py) shown every request and answer, or None
        self.read_timeout = read_timeout
        self.keepalive_interval = keepalive_interval
        self.stopping = False
        self._slots = threading.BoundedSemaphore(max_connections)
        self._open = set()  # type: Set[socket.socket]
        # Connections with no request in progress (between requests, or one still arriving),
        # by when they began waiting: the ones a newcomer may displace, oldest first, and the
        # ones the sweep ends when a request takes longer than read_timeout to arrive whole.
        self._waiting = {}  # type: Dict[socket.socket, float]
        self._next_sweep = 0.0
        self._open_lock = threading.Lock()
        self._streaming = 0
        self._streams_done = threading.Condition(self._open_lock)
        self.watcher = _CallWatcher(self)
        super().__init__(address, _McpRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # A bound on connections (and so on threads). At it, a newcomer takes the place of
        # the connection that has waited longest for its next request (as a client must
        # expect of an idle keep-alive connection, it is closed): otherwise whoever opened
        # max_connections idle connections first - or trickled requests a byte at a time -
        # would shut everyone else out. Only when every connection is busy is it refused.
        if not self._slots.acquire(blocking=False) and not self._displace_a_waiting_connection():
            # No CORS grant on this one, unlike the front end's other refusals: it is written
            # on the accepting thread before a byte of the request is read, so its Origin is
            # not known, and reading the head to learn it would let one slow client hold up
            # every accept (or take the thread the bound is there to deny). A page then sees
            # a network error, as it would for a refused connection.
            try:
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
                                b"Connection: close\r\n\r\n")
            except OSError:
                pass
            self.shutdown_request(request)
            return
        with self._open_lock:
            self._open.add(request)
            self._waiting[request] = time.monotonic()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(request)

    def _release(self, request: Any) -> None:
        with self._open_lock:
            self._waiting.pop(request, None)
            if request in self._open:
                self._open.discard(request)
                self._slots.release()

    def connection_busy(self, request: Any) -> None:
        with self._open_lock:
            self._waiting.pop(request, None)

    def connection_waiting(self, request: Any) -> None:
        with self._open_lock:
            if request in self._open:
                self._waiting[request] = time.monotonic()

    def _displace_a_waiting_connection(self) -> bool:
        """End the connection that has waited longest for a request, and take its slot
        (its thread gives it back within moments: its read sees the shutdown)."""
        with self._open_lock:
            if not self._waiting:
                return False
            victim = min(self._waiting, key=self._waiting.__getitem__)
            del self._waiting[victim]
        _front_log.info("all connections taken: closing the one idle longest for a new one")
        _end_connection(victim)
        return self._slots.acquire(timeout=_DISPLACE_WAIT)

    def service_actions(self) -> None:
        # Called by serve_forever between polls. read_timeout bounds each read, so a client
        # sending a byte every few seconds would never time out: the whole request (line,
        # headers, body) must arrive within read_timeout of the wait's start.
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + 0.5
        with self._open_lock:
            late = [sock for sock, since in self._waiting.items() if now - since > self.read_timeout]
            for sock in late:
                del self._waiting[sock]
        for sock in late:
            _end_connection(sock)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, TimeoutError)):
            return
        _front_log.exception("error while serving %s", client_address)

    def streaming_started(self) -> None:
        with self._open_lock:
            self._streaming += 1

    def streaming_ended(self) -> None:
        with self._open_lock:
            self._streaming -= 1
            self._streams_done.notify_all()

    def wait_for_streams(self, timeout: float) -> None:
        with self._open_lock:
            self._streams_done.wait_for(lambda: self._streaming <= 0, timeout)

    def close_connections(self, timeout: float) -> bool:
        """Shut every open connection down and wait up to ``timeout`` seconds for their
        threads to finish; True when all did."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            _end_connection(sock)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._open_lock:
                if not self._open:
                    return True
            time.sleep(0.01)
        return False


class HttpServerHandle:
    """A running HTTP server: its ``url``, ``port``, and ``stop()`` (also a context manager)."""

    def __init__(self, httpd: _McpHttpServer, app: McpHttpApp, thread: Optional[threading.Thread]) -> None:
        self._httpd = httpd
        self.app = app
        self._thread = thread
        host, port = httpd.server_address[:2]
        self.host = host
        self.port = port
        shown = "[%s]" % host if ":" in host else host
        self.url = "http://%s:%d%s" % (shown, port, app.path)

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.5)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end every session and stream, close every connection."""
        httpd = self._httpd
        if self._thread is not None:
            httpd.shutdown()
            self._thread.join(timeout)
        # Sessions and listen streams end first, so their readers send what is left (a
        # listen stream's closing response) and finish cleanly; then the rest is cut.
        self.app.close()
        httpd.wait_for_streams(min(1.0, timeout))
        httpd.stopping = True
        httpd.close_connections(timeout)
        httpd.watcher.stop(timeout)
        httpd.server_close()

    def __enter__(self) -> "HttpServerHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()




def start_http(server: Server, host: str = "127.0.0.1", port: int = 8000, path: str = "/mcp",
               background: bool = True, max_connections: int = 256, read_timeout: float = 30.0,
               keepalive_interval: float = 15.0, trace: Any = None, backlog: int = 1024,
               **options: Any) -> HttpServerHandle:
    """Bind and start serving ``server`` at ``http://host:port/path``; the other options
    are ``McpHttpApp``'s. ``trace``: True, "explain" or a Tracer shows every request and
    answer on stderr (see tracing.py). ``keepalive_interval``: seconds of silence on an SSE
    stream before a comment line is sent, and before a POST's answer that has not begun becomes
    such a stream (a proxy's read timeout must be longer). ``read_timeout`` bounds the arrival
    of a request, never the call it makes. Refuses a non-loopback address unless ``allowed_hosts`` (or
    ``allowed_origins``) says which names the server answers to: without that, any web
    page could reach it by DNS rebinding."""
    if not is_loopback_host(host) and options.get("allowed_hosts") is None and options.get("allowed_origins") is None:
        raise ValueError("refusing to bind %r, which is not a loopback address, without allowed_hosts and "
                         "allowed_origins: say which Host and Origin values this server answers to" % host)
    if options.get("allowed_hosts") is None and not is_loopback_host(host):
        options["allowed_hosts"] = ["*"] if options.get("allowed_origins") is not None else None
    tracer = None
    if trace is not None and trace is not False:
        from .tracing import make_tracer
        tracer = make_tracer(trace)
    app = McpHttpApp(server, path, **options)
    # A quiet POST becomes a stream of keep-alive comments after as long as a quiet stream
    # waits for its next one.
    app.stream_after = keepalive_interval
    if not isinstance(backlog, int) or backlog < 1:
        raise ValueError("backlog must be an integer >= 1")
    httpd = _McpHttpServer((host, port), app, max_connections, read_timeout, keepalive_interval, tracer, backlog)
    thread = None
    if background:
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                  name="mcplite-http", daemon=True)
        thread.start()
    return HttpServerHandle(httpd, app, thread)


def serve_http(server: Server, host: str = "127.0.0.1", port: int = 8000, path: str = "/mcp",
               **options: Any) -> None:
    """Serve until interrupted (Ctrl-C)."""
    handle = start_http(server, host, port, path, background=False, **options)
    try:
        # Inside the try: a Ctrl-C right after the line is printed stops it cleanly too.
        sys.stderr.write("mcplite: serving %s at %s\n" % (server.name, handle.url))
        sys.stderr.flush()
        handle.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
