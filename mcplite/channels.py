"""The client's channel to a server it runs as a child process (``StdioChannel``):
newline-delimited JSON-RPC over its stdin and stdout. The HTTP channels are in httpclient.py,
the in-memory one in memory.py; what every channel offers the ``Client`` is
``ports.ClientChannel``.
"""

from __future__ import annotations

import io
import os
import select
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from .errors import ConnectionClosed, MCPError
from .jsonrpc import decode, encode
from .logs import LazyLogger
from .ports import ClientChannel, no_hook
from .processes import ChildProcess

_channels_log = LazyLogger("mcplite.client")

# How long, after the server process exited, its stdout may still be read before the
# connection is taken as closed (a process it started may hold the pipe open for ever).
_STDIO_EXIT_DRAIN = 1.0


class StdioChannel(ClientChannel):
    """A server in a child process: requests on its stdin, one JSON message per line on its
    stdout. Its stderr is ours unless ``capture_stderr`` keeps it (the last 64 KiB go into
    the error raised when the server dies)."""

    def __init__(self, argv: Sequence[str], env: Optional[Dict[str, str]], cwd: Optional[str],
                 capture_stderr: bool, max_message_bytes: int, close_timeout: float) -> None:
        super().__init__()
        try:
            self.child = ChildProcess(argv, env, cwd, capture_stderr)
        except OSError as exc:
            raise ConnectionClosed("cannot start the server %r: %s" % (list(argv)[:1], exc))
        self.process = self.child.process
        self.argv = self.child.argv
        self._origin = ("stdio", tuple(self.argv), cwd, tuple(sorted((env or {}).items())))
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None  # (both piped)
        # Unbuffered, readline() would read the pipe a byte per system call.
        self._stdout = io.BufferedReader(stdout, 65536)  # type: ignore[arg-type]
        # Writes that cannot block for ever: a server that stops reading its stdin fills
        # the pipe, and a blocked write would hold the lock past every timeout.
        self._stdin = stdin
        self._stdin_fd = stdin.fileno()
        self._nonblocking = os.name == "posix"
        if self._nonblocking:
            os.set_blocking(self._stdin_fd, False)
        self.write_timeout = 30.0
        self.max_message_bytes = max_message_bytes
        self.close_timeout = close_timeout  # type: float
        self._write_lock = threading.Lock()
        self._closing = False
        self.garbage = None  # type: Optional[bytes]   # the last line that was not JSON
        self._reader = None  # type: Optional[threading.Thread]
        self._ended = False
        self._end_lock = threading.Lock()

    def cache_origin(self) -> Any:
        # The same command in the same place: the same server, for its public results.
        return self._origin

    def set_write_timeout(self, timeout: float) -> None:
        self.write_timeout = timeout

    def start(self, on_message: Callable[[Any], None], on_close: Callable[[BaseException], None],
              on_failure: Callable[[Any, BaseException], Any] = no_hook) -> None:
        super().start(on_message, on_close, on_failure)
        self._reader = threading.Thread(target=self._read, name="mcplite-client-reader", daemon=True)
        self._reader.start()
        threading.Thread(target=self._watch_exit, name="mcplite-client-exit-watch", daemon=True).start()

    def _end(self, error: BaseException) -> None:
        """``on_close`` once: the reader, the exit watch and a stuck write may each see the end."""
        with self._end_lock:
            if self._ended:
                return
            self._ended = True
        self.on_close(error)

    def _watch_exit(self) -> None:
        # End of file on its stdout alone does not say that the server has gone: a process
        # it started (a wrapper's background job, a helper it spawned) may inherit the pipe
        # and hold it open long after the server crashed, and every call would then wait
        # for its timeout. Only a failure counts: a launcher that exits 0 may have handed
        # its pipes on to the server it forked (`setsid`, run as a group leader, does).
        status = self.process.wait()
        reader = self._reader
        assert reader is not None
        reader.join(_STDIO_EXIT_DRAIN)  # what it wrote before exiting is read first
        if status != 0 and reader.is_alive() and not self._closing:
            self._end(ConnectionClosed(self._exit_description()))

    def _read(self) -> None:
        stdout = self._stdout
        error = None  # type: Optional[BaseException]
        first = True
        try:
            while True:
                line = stdout.readline(self.max_message_bytes + 1)
                if not line:
                    break
                if first:
                    first = False
                    # JSON parsers "MAY ignore the presence of a byte order mark" (RFC 8259);
                    # a Windows server (.NET writing UTF-8) may put one first.
                    if line.startswith(b"\xef\xbb\xbf"):
                        line = line[3:]
                if len(line) > self.max_message_bytes and not line.endswith(b"\n"):
                    error = ConnectionClosed("the server sent a message larger than %d bytes" % self.max_message_bytes)
                    break
                if not line.strip():
                    continue
                try:
                    message = decode(line)
                except MCPError:
                    # "The server MUST NOT write anything to its stdout that is not a valid
                    # MCP message": say so, keep reading (one stray print need not end it).
                    self.garbage = line[:200]
                    if self.tracer is not None:
                        self.tracer.message("<-", None, line)
                    _channels_log.warning("the server wrote a line that is not JSON: %r", line[:200])
                    continue
                if self.tracer is not None:
                    self.tracer.message("<-", message, line)
                self.on_message(message)
        except (OSError, ValueError) as exc:
            error = ConnectionClosed("reading from the server failed: %s" % exc)
        if error is None:
            error = ConnectionClosed(self._exit_description())
        self._end(error)

    def _exit_description(self) -> str:
        if self._closing:
            return "the client is closed"
        status = self.child.exit_status(0.5)
        what = "the server closed its stdout" if status is None else "the server exited with status %s" % status
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(0.5)  # the rest of its stdout: a last line that was not JSON
        if self.garbage is not None:
            what += "; its last line that was not JSON: %r" % self.garbage.decode("utf-8", "replace").rstrip("\r\n")
        tail = self.child.stderr_tail()
        if tail:
            what += "; its stderr ends with:\n" + tail
        return what

    def send(self, message: Any) -> None:
        data = encode(message) + b"\n"
        if self.tracer is not None:
            self.tracer.message("->", message, data)
        deadline = time.monotonic() + self.write_timeout
        if not self._write_lock.acquire(timeout=self.write_timeout):
            raise ConnectionClosed("the server has not read its stdin for %g s" % self.write_timeout)
        try:
            if not self._nonblocking:
                self._stdin.write(data)
                return
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(self._stdin_fd, view):]
                except BlockingIOError:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        # Part of a line may be out: the stream is unusable from here on.
                        error = ConnectionClosed("the server has not read its stdin for %g s" % self.write_timeout)
                        self._end(error)
                        raise error
                    select.select([], [self._stdin_fd], [], min(remaining, 1.0))
        except (OSError, ValueError) as exc:
            # A server that exited says more than the broken pipe.
            if self.child.exit_status(0.5) is None:
                raise ConnectionClosed("cannot write to the server: %s" % exc)
            raise ConnectionClosed(self._exit_description())
        finally:
            self._write_lock.release()

    def close(self) -> None:
        """Close stdin, wait, then SIGTERM, then SIGKILL: never an orphan."""
        self._closing = True
        process = self.process
        # A writer stuck on a full pipe gives the lock up within write_timeout; close
        # anyway after close_timeout (SIGTERM/SIGKILL then end the write).
        locked = self._write_lock.acquire(timeout=self.close_timeout)
        try:
            self.child.close_stdin()
        finally:
            if locked:
                self._write_lock.release()
        self.child.stop(self.close_timeout)
        readers = {id(self._stdout): self._reader, id(process.stderr): self.child.stderr_reader}
        # The server and its group are gone: what they wrote is in the pipes already, and
        # reading it is quick. One short wait for both readers, not close_timeout each: a
        # pipe held by a process outside the group (a daemon it started) never ends.
        deadline = time.monotonic() + min(self.close_timeout, _STDIO_EXIT_DRAIN)
        for thread in readers.values():
            if thread is not None and thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        # A stream a thread still reads (a process outside our group holds the pipe open)
        # is left to that daemon thread: closing it would wait for its read to end.
        for stream in (self._stdout, process.stderr):
            reader = readers.get(id(stream))
            if stream is not None and (reader is None or not reader.is_alive()):
                try:
                    stream.close()
                except OSError:
                    pass
