"""Server-Sent Events: the event format, and the event log behind one SSE stream.

No sockets here. A stream is written by whichever thread has something to say (a handler
sending progress, the request's final response) and read by the one thread serving the
HTTP connection, which may change: a client that loses the connection comes back with
``Last-Event-ID`` and a new reader picks up after that event.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Deque, Optional, Tuple

from .jsonrpc import encode_outgoing
from .logs import LazyLogger

_sse_log = LazyLogger("mcplite.sse")


def sse_event(data: bytes, event_id: Optional[str] = None, event: Optional[str] = "message",
              retry_ms: Optional[int] = None) -> bytes:
    """One event in the SSE wire format. ``data`` is compact JSON, which never holds a raw
    line break, so it fits one ``data:`` line; anything else is split line by line as the
    format requires."""
    head = b""
    if event_id is not None:
        head += b"id: " + event_id.encode("ascii") + b"\n"
    if event is not None:
        head += b"event: " + event.encode("ascii") + b"\n"
    if retry_ms is not None:
        head += b"retry: %d\n" % retry_ms
    if b"\n" in data or b"\r" in data:
        lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        return head + b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"
    return head + b"data: " + data + b"\n\n"


# A comment line: clients ignore it; it keeps intermediaries from timing an idle stream out
# and lets the server notice a client that has gone.
SSE_KEEPALIVE = b":\n\n"
_NEXT_READER = object()


class EventStream:
    """The events of one SSE stream, in order, with at most one reader at a time.

    A *resumable* stream numbers its events ``<stream id>.<n>`` and keeps the last
    ``keep`` of them after they are read, so a reader that reconnects with the id of the
    last event it saw gets the rest ("Event IDs ... MUST be globally unique across all
    streams within that session" - the stream id makes them so, and names the stream to
    replay). A plain stream forgets each event once read.
    """

    def __init__(self, stream_id: str, resumable: bool = False, keep: int = 256) -> None:
        self.stream_id = stream_id
        self.resumable = resumable
        self._keep = max(1, keep)
        self._events = deque()  # type: Deque[Tuple[int, bytes]]
        self._next_seq = 0
        self._cond = threading.Condition()
        self.finished = False  # nothing more will be added
        self.reader = None  # type: Any   # the reader now attached, if any
        self._drop_reader = None  # type: Any   # a reader told to close its connection now

    # -- writing -----------------------------------------------------------------

    def push_message(self, message: Any) -> bool:
        try:
            data = encode_outgoing(message)
        except (TypeError, ValueError):
            _sse_log.exception("dropped a message that cannot be encoded as JSON")
            return False
        return self.push(data)

    def push(self, data: bytes, event: Optional[str] = "message", retry_ms: Optional[int] = None) -> bool:
        """Add one event; False when the stream has already finished."""
        with self._cond:
            if self.finished:
                return False
            seq = self._next_seq
            self._next_seq = seq + 1
            event_id = "%s.%d" % (self.stream_id, seq) if self.resumable else None
            self._events.append((seq, sse_event(data, event_id, event, retry_ms)))
            if len(self._events) > self._keep:
                # A reader this far behind (or none at all) loses the oldest event rather
                # than the server growing without bound.
                self._events.popleft()
                _sse_log.warning("SSE stream %s: replay buffer full, oldest event dropped", self.stream_id)
            self._cond.notify_all()
            return True

    def prime(self, retry_ms: Optional[int]) -> None:
        """The 2025-11-25 priming event: an id and empty data, so the client can resume
        from the very start ("The server SHOULD immediately send an SSE event consisting
        of an event ID and an empty data field")."""
        self.push(b"", event=None, retry_ms=retry_ms)

    def finish(self) -> None:
        with self._cond:
            self.finished = True
            self._cond.notify_all()

    def close_connection(self, retry_ms: Optional[int]) -> None:
        """Ask the attached reader to close its connection without ending the stream; the
        client resumes with ``Last-Event-ID``. "If the server does close the connection
        prior to terminating the SSE stream, it SHOULD send an SSE event with a standard
        retry field before closing the connection.\""""
        with self._cond:
            if self.finished:
                return
            if retry_ms is not None:
                seq = self._next_seq
                self._next_seq = seq + 1
                self._events.append((seq, sse_event(b"", "%s.%d" % (self.stream_id, seq), None, retry_ms)))
            # No reader yet (the POST that opened the stream is still being answered): the
            # first one to attach is the one to let go.
            self._drop_reader = self.reader if self.reader is not None else _NEXT_READER
            self._cond.notify_all()

    # -- reading -----------------------------------------------------------------

    def attach(self, reader: Any) -> bool:
        """Make ``reader`` the stream's one reader; False if another is attached. A reader
        the server told to let go (``close_connection``) of a resumable stream is replaced:
        its client may reconnect with ``Last-Event-ID`` before that reader's thread has seen
        its connection close, and the events it had not sent are still kept for the new one."""
        with self._cond:
            if self.reader is not None and not (self.resumable and self._drop_reader is self.reader):
                return False
            self.reader = reader
            if self._drop_reader is _NEXT_READER:
                self._drop_reader = reader
            return True

    def detach(self, reader: Any) -> None:
        with self._cond:
            if self.reader is reader:
                self.reader = None
            if self._drop_reader is reader:
                self._drop_reader = None

    def read(self, after: int, timeout: Optional[float], reader: Any = None) -> Tuple[bytes, int, bool]:
        """Wait up to ``timeout`` seconds for events numbered above ``after``.

        Returns (bytes of every such event, the last number read, done); done means
        nothing further will come, either because the stream finished and has been read
        to its end or because the server asked this reader to close its connection.
        """
        with self._cond:
            while True:
                if reader is not None and self._drop_reader is reader:
                    data, last = self._collect(after)
                    return data, last, True
                if self._events and self._events[-1][0] > after:
                    data, last = self._collect(after)
                    return data, last, False
                if self.finished:
                    return b"", after, True
                if timeout is not None and timeout <= 0:
                    return b"", after, False
                if not self._cond.wait(timeout):
                    return b"", after, False
                timeout = 0 if timeout is not None else None

    def _collect(self, after: int) -> Tuple[bytes, int]:
        chunks = [data for seq, data in self._events if seq > after]
        last = self._events[-1][0] if self._events else after
        if not self.resumable:
            self._events.clear()
        return b"".join(chunks), last
