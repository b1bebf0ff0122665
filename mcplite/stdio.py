"""The stdio transport: newline-delimited JSON-RPC over stdin and stdout.

The main thread reads lines and answers the cheap methods itself; other requests run on
the worker pool. Each response is written as one whole line under a lock, so lines from
different threads never interleave.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from typing import Any, BinaryIO, Callable, Optional, Tuple

from .connection import ServerConnection
from .jsonrpc import INVALID_REQUEST, decode, encode_outgoing, error_response
from .errors import MCPError
from .logs import LazyLogger
from .server import Server
from .workers import WorkerPool

_stdio_log = LazyLogger("mcplite.stdio")

DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# How often a stdio server waiting for input looks whether its parent process is still there.
PARENT_POLL_SECONDS = 1.0
_BOM = b"\xef\xbb\xbf"


class LineWriter:
    """Writes whole messages as single lines, one writer at a time."""

    def __init__(self, stream: BinaryIO, tracer: Any = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self.broken = False
        self.tracer = tracer  # a Tracer (tracing.py) shown every line written, or None

    def send(self, message: Any, about: Any = None) -> None:
        """Write one message as one line. ``about``: the Call a notification reports on; it
        is dropped if that call was cancelled before the write lock was ours."""
        try:
            data = encode_outgoing(message) + b"\n"
        except (TypeError, ValueError):
            _stdio_log.exception("dropped a message that cannot be encoded as JSON")
            return
        with self._lock:
            if self.broken or (about is not None and about.cancelled):
                return
            if self.tracer is not None:
                self.tracer.message("<-", message, data)
            try:
                # write_whole's common case, the whole line in one write, without its call.
                stream = self._stream
                written = stream.write(data)
                if written != len(data):
                    _write_rest(stream, data, written)
                flush = getattr(stream, "flush", None)
                if flush is not None:
                    flush()
            except (BrokenPipeError, ConnectionResetError, ValueError, OSError) as exc:
                # The client has gone; the reader sees end-of-file next.
                self.broken = True
                _stdio_log.debug("stdout closed: %s", exc)


def write_whole(stream: Any, data: bytes) -> None:
    """All of ``data`` written to ``stream`` (a raw stream, which may take part of it: a
    signal, a non-blocking descriptor), then flushed. OSError when the reader has gone."""
    written = stream.write(data)
    if written != len(data):
        _write_rest(stream, data, written)
    flush = getattr(stream, "flush", None)
    if flush is not None:
        flush()


def _write_rest(stream: Any, data: bytes, written: Optional[int]) -> None:
    """After a first write of ``data`` that took ``written`` bytes, part of it or nothing
    (None: a non-blocking stream that could not write): the rest, as the reader makes room.
    (Nearly every line goes in the one write.)"""
    view = memoryview(data)
    while True:
        if written is None:
            _wait_writable(stream)
        else:
            view = view[written:]
            if not view:
                break
        written = stream.write(view)


def _wait_writable(stream: Any) -> None:
    # (A parent may have made the descriptor non-blocking: see _protect_standard_streams.)
    # Until the reader made room, rather than trying again at once, for as long as the
    # peer is slow to read.
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        time.sleep(0.001)  # a stream without a descriptor: nothing to wait on
        return
    import select
    select.select([], [fd], [], 1.0)


class _StdinRaw(io.RawIOBase):
    """The protocol's input file descriptor, read so that waiting for input can be given up.

    A parent that dies without closing the pipe it writes our requests into (killed while
    a child of its own holds the pipe's write end, say) leaves a read that never ends: the
    server would be orphaned. No other thread can wake a blocked read() on a pipe, so the
    read itself waits with poll() in slices of ``PARENT_POLL_SECONDS`` and asks, between
    them, whether the parent is still there; when it is gone, reading ends as end of input
    does, with the same orderly shutdown. Until ``give_up_when`` is called it is a plain reader.
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._gone = None  # type: Optional[Callable[[], bool]]
        self._poll = None  # type: Any
        self._next_check = 0.0
        self.parent_gone = False

    def fileno(self) -> int:
        return self._fd

    def readable(self) -> bool:
        return True

    def give_up_when(self, gone: Callable[[], bool]) -> bool:
        """Give up reading once ``gone()`` is true; False where the fd cannot be polled."""
        import select
        if not hasattr(select, "poll"):
            return False
        poller = select.poll()
        poller.register(self._fd, select.POLLIN | select.POLLPRI)
        self._poll = poller
        self._gone = gone
        self._next_check = time.monotonic() + PARENT_POLL_SECONDS
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            if self.parent_gone:
                return 0
            if self._gone is not None:
                while True:
                    # Also looked at while input keeps coming: a dead parent's other children
                    # could keep the pipe busy.
                    now = time.monotonic()
                    if now >= self._next_check:
                        self._next_check = now + PARENT_POLL_SECONDS
                        if self._gone():
                            self.parent_gone = True
                            return 0
                    if self._poll.poll(PARENT_POLL_SECONDS * 1000):  # readable, or hung up: read says which
                        break
            try:
                return os.readv(self._fd, [buffer])
            except BlockingIOError:
                # A non-blocking descriptor (see _protect_standard_streams): nothing there
                # yet is not the end of input. Waited on here, or by the loop above.
                if self._gone is None:
                    import select
                    select.select([self._fd], [], [])

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self._fd)
            except OSError:
                pass
        super().close()


def _parent_watch() -> Optional[Callable[[], bool]]:
    """A test of whether this process's parent has gone, or None where there is none to make.

    When a parent dies its children are given to init (PID 1) or to the nearest "subreaper":
    getppid() changes, which is the sign used (a PID that could be reused is never probed).
    A parent that is PID 1 already (a container's init, a service manager), or outside our
    PID namespace (0), cannot be told apart that way, and rarely dies; on Windows getppid()
    never changes and os.kill() would terminate, so nothing is watched there.
    """
    if os.name == "nt":
        return None
    original = os.getppid()
    if original <= 1:
        return None
    return lambda: os.getppid() != original


class _ParentWatchThread:
    """Ends serving when the parent process dies, at no cost to reading.

    Where the server reads on the main thread and SIGINT still has Python's own handler
    (``app.run()`` in a script, ``mcplite serve``), a thread looks at the parent once per
    ``PARENT_POLL_SECONDS`` and, once it is gone, sends SIGINT to the main thread: the
    blocked read is interrupted, KeyboardInterrupt ends the loop, and the shutdown is the
    one at end of input. Reading itself stays a plain blocking read (waiting with poll()
    in every read, as _StdinRaw does where this cannot be used, cost 7 % of the stdio
    calls/s). ``start`` returns None where it cannot be used.
    """

    def __init__(self, gone: Callable[[], bool]) -> None:
        self._gone = gone
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.parent_gone = False

    @staticmethod
    def usable() -> bool:
        import signal
        return (threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_kill")
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler)

    @classmethod
    def start(cls, gone: Callable[[], bool]) -> "Optional[_ParentWatchThread]":
        if not cls.usable():
            return None
        watch = cls(gone)
        threading.Thread(target=watch._run, name="mcplite-parent-watch", daemon=True).start()
        return watch

    def _run(self) -> None:
        import signal
        main = threading.main_thread().ident
        while not self._stopped.wait(PARENT_POLL_SECONDS):
            if self._gone():
                with self._lock:
                    if self._stopped.is_set():
                        return
                    self.parent_gone = True
                    signal.pthread_kill(main, signal.SIGINT)  # type: ignore[arg-type]
                return

    def stop(self) -> None:
        # Under the lock: once this returns, no SIGINT is sent any more (one sent just
        # before may still interrupt what follows; the parent died at that very moment).
        with self._lock:
            self._stopped.set()


def _on_a_terminal() -> bool:
    try:
        return os.isatty(0)
    except OSError:
        return False


def _protect_standard_streams(watchable: Optional[bool] = None) -> Tuple[BinaryIO, BinaryIO]:
    """Take the protocol's file descriptors for ourselves.

    "The server MUST NOT write anything to its stdout that is not a valid MCP message."
    A stray print(), a C library writing to fd 1, or a child process inheriting stdout
    would corrupt the stream; so the protocol gets private duplicates of fds 0 and 1, fd 1
    becomes a copy of stderr and fd 0 reads /dev/null. print() then lands on stderr and
    input() or a child process can no longer swallow requests.
    """
    # A parent may start us with stderr closed (`2>&-`): the copy of stdin would then take
    # the free number 2, and fd 1, made a copy of fd 2, would be the protocol's input (every
    # print() an error). /dev/null fills it first.
    try:
        os.fstat(2)
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        if devnull != 2:
            os.dup2(devnull, 2)
            os.close(devnull)
    if _on_a_terminal():
        # A person who runs the server at a prompt would otherwise see nothing happen at all.
        # stderr: "The server MUST NOT write anything to its stdout that is not a valid MCP message."
        try:
            os.write(2, b"mcplite: serving MCP on stdin and stdout, for a client program (a host, or "
                        b"`python3 -m mcplite shell` given this command), not for typing; Ctrl-D stops it\n")
        except OSError:
            pass
    protocol_in = os.dup(0)
    protocol_out = os.dup(1)
    os.dup2(2, 1)
    # Flushed only now that fd 1 is stderr: text printed before run() and still buffered
    # must not reach the protocol stream either.
    for stream in (sys.stdout, sys.__stdout__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd in (protocol_in, protocol_out):
        try:
            os.set_inheritable(fd, False)
        except OSError:
            pass
    if sys.stdout is not None:
        try:
            sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass
    if watchable is None:  # (the command line protects the streams before serve_stdio runs)
        watchable = not _ParentWatchThread.usable()
    # A parent may hand us a pipe whose open file description it made non-blocking (a
    # Node.js wrapper's libuv does; the flag is shared, so it is not ours to change): a
    # plain reader would take "nothing yet" (EAGAIN) for the end of input and stop.
    nonblocking = os.name == "posix" and not os.get_blocking(protocol_in)
    if (watchable or nonblocking) and os.name != "nt" and hasattr(os, "readv"):
        # (serve_stdio watches the parent through it: see _StdinRaw)
        reader = io.BufferedReader(_StdinRaw(protocol_in), 64 * 1024)  # type: BinaryIO
    else:
        reader = os.fdopen(protocol_in, "rb", buffering=64 * 1024)
    # The process's own input, for serve_stdio to watch the parent on (an attribute, not a
    # class: a one-file copy's command line may hand it to another copy's serve_stdio).
    reader.mcplite_process_stdin = True  # type: ignore[attr-defined]
    writer = os.fdopen(protocol_out, "wb", buffering=0)
    return reader, writer  # type: ignore[return-value]


def _decoded_or_none(line: bytes) -> Any:
    try:
        return decode(line)
    except MCPError:
        return None


def _discard_rest_of_line(reader: BinaryIO) -> None:
    while True:
        chunk = reader.readline(64 * 1024)
        if not chunk or chunk.endswith(b"\n"):
            return


def serve_stdio(server: Server, *, stdin: Optional[BinaryIO] = None, stdout: Optional[BinaryIO] = None,
                max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, exit_grace: float = 2.0,
                max_workers: Optional[int] = None, trace: Any = None, watch_parent: bool = True) -> None:
    """Serve ``server`` over stdio until end of input.

    With no streams given, serves the process's stdin and stdout (protected from stray
    writes, see ``_protect_standard_streams``). ``max_message_bytes`` bounds one line:
    a longer one is discarded unread and answered with an error. After end of input,
    requests still running get ``exit_grace`` seconds to write their responses.
    ``trace``: True, "explain" or a Tracer shows every line both ways on stderr.
    ``watch_parent`` (POSIX, serving the process's own stdin): also stop, as at end of
    input, within about a second of the parent process dying, even if the pipe into stdin
    stays open (another process holds it) - so no server is left orphaned.
    """
    tracer = None
    if trace is not None and trace is not False:
        from .tracing import make_tracer
        tracer = make_tracer(trace)
    own_streams = stdin is None or stdout is None or getattr(stdin, "mcplite_process_stdin", False) is True
    gone = _parent_watch() if watch_parent and own_streams else None
    watcher = _ParentWatchThread.start(gone) if gone is not None else None
    if stdin is None or stdout is None:
        reader, writer = _protect_standard_streams(watchable=gone is not None and watcher is None)
    else:
        reader, writer = stdin, stdout  # type: ignore[assignment]
    # Where no thread can interrupt the read, the read watches (_StdinRaw). (Looked up by
    # name, not by class: the command line of a one-file copy may serve a Server of another
    # copy of mcplite, the one the server file imports.)
    raw = getattr(reader, "raw", None)  # type: Any
    if gone is not None and watcher is None and callable(getattr(raw, "give_up_when", None)):
        raw.give_up_when(gone)
    out = LineWriter(writer, tracer)
    pool = WorkerPool(max_workers or server.max_workers)
    connection = ServerConnection(server, out.send, pool)
    connection.one_reader = True  # (this loop: a line is read once the last one's handling returned)
    limit = max_message_bytes
    readline = reader.readline
    first = True
    try:
        while True:
            line = readline(limit + 1)
            if not line:
                if getattr(raw, "parent_gone", False) is True:
                    _stdio_log.info("the parent process has gone: stopping as at end of input")
                break
            if first:
                first = False
                # JSON parsers "MAY ignore the presence of a byte order mark" (RFC 8259);
                # a Windows pipe (PowerShell, .NET writing UTF-8) may put one first.
                if line.startswith(_BOM):
                    line = line[len(_BOM):]
            if len(line) > limit and not line.endswith(b"\n"):
                _discard_rest_of_line(reader)
                out.send(error_response(None, MCPError(
                    INVALID_REQUEST, "Invalid Request: message larger than %d bytes" % limit)))
                continue
            # Tolerate "\r\n" line ends (Windows peers) and blank lines between messages.
            line = line.rstrip(b"\r\n")
            if not line or line.isspace():
                continue
            if tracer is not None:
                tracer.message("->", _decoded_or_none(line), line)
            connection.receive_data(line)
            if out.broken:
                break
    except KeyboardInterrupt:
        if watcher is not None and watcher.parent_gone:
            _stdio_log.info("the parent process has gone: stopping as at end of input")
    finally:
        if watcher is not None:
            watcher.stop()
        connection.close()
        # "Servers SHOULD exit promptly when their standard input is closed": let the
        # requests already received finish briefly, then return.
        pool.shutdown(exit_grace)
