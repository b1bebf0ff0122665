"""The MCP client: a synchronous API over a transport, in both protocol eras.

    with Client.stdio(["python3", "server.py"]) as client:
        client.list_tools()                              # every tool, all pages
        client.call_tool("add", {"a": 1, "b": 2})        # the CallToolResult dict

One reader thread per connection matches responses to the requests waiting for them, so
one ``Client`` may be used from many threads at once. Requests the server sends us
(sampling, elicitation, roots) run on a small pool, never on the reader. Results are the
wire dicts; a JSON-RPC error raises ``MCPError`` with its code, message and data.

Eras (``era=``): "auto" (default) probes with ``server/discover`` and falls back to
``initialize`` on any answer that is not a recognised modern one, or none in
``probe_timeout`` seconds, as the 2026-07-28 stdio binding says; "modern" and "legacy"
force one. ``protocol_version=`` asks for one version exactly.
"""

import io
import os
import select
import subprocess
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from .jsonrpc import (
    INTERNAL_ERROR, METHOD_NOT_FOUND, NOTIFICATION, REQUEST, UNSUPPORTED_PROTOCOL_VERSION, Message,
    PendingRequests, classify, decode, encode, encode_outgoing, error_response, notification, result_response,
)
from .errors import (
    ConnectionClosed, HttpError, MCPError, ProtocolError, RequestTimeout, SessionLost, TransportError,
)
from .logs import LazyLogger
from .protocol import (
    LATEST_LEGACY_VERSION, LEGACY_VERSIONS, LOG_LEVELS, META_CLIENT_CAPABILITIES, META_CLIENT_INFO,
    META_LOG_LEVEL, META_PROTOCOL_VERSION, META_SERVER_INFO, META_SUBSCRIPTION_ID, MODERN_VERSIONS,
)
from .ports import ClientChannel, no_hook
from .workers import WorkerPool

_client_log = LazyLogger("mcplite.client")

DEFAULT_CLIENT_INFO = {"name": "mcplite-client", "version": "0.1.0"}
# Requests of 2026-07-28 that may end a round with input_required.
_ROUND_TRIP_METHODS = frozenset(("tools/call", "prompts/get", "resources/read"))
_MAX_PAGES = 10000  # a server whose cursors never end is a broken one
_on_event_thread = threading.local()  # .active: this thread runs the client's callbacks


# ---------------------------------------------------------------------------
# Channels: how the client reaches its server (the interface is ports.ClientChannel).

class _MemoryChannel(ClientChannel):
    """A ``Server`` in this process, through the same JSON-RPC code as a pipe: each message
    is encoded and decoded again, so what the client sees is what a pipe would carry."""

    def __init__(self, server: Any) -> None:
        super().__init__()
        from .connection import ServerConnection  # the client alone never needs the server side
        self.pool = WorkerPool(server.max_workers)
        self.connection = ServerConnection(server, self._from_server, self.pool)
        self._lock = threading.Lock()
        self._closed = False

    def _from_server(self, message: Any, about: Any = None) -> None:
        if about is not None and about.cancelled:
            return
        data = encode_outgoing(message)
        if not self._closed:
            decoded = decode(data)
            if self.tracer is not None:
                self.tracer.message("<-", decoded, data)
            self.on_message(decoded)

    def send(self, message: Any) -> None:
        if self._closed:
            raise ConnectionClosed("the client is closed")
        data = encode(message)
        if self.tracer is not None:
            self.tracer.message("->", message, data)
        self.connection.receive_data(data)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.connection.close()
            self.pool.shutdown(2.0)
            self.on_close(ConnectionClosed("the client is closed"))


class _StdioChannel(ClientChannel):
    """A server in a child process: requests on its stdin, one JSON message per line on its
    stdout. Its stderr is ours unless ``capture_stderr`` keeps it (the last 64 KiB go into
    the error raised when the server dies)."""

    def __init__(self, argv: Sequence[str], env: Optional[Dict[str, str]], cwd: Optional[str],
                 capture_stderr: bool, max_message_bytes: int, close_timeout: float) -> None:
        super().__init__()
        full_env = None
        if env is not None:
            full_env = dict(os.environ)
            full_env.update(env)
        try:
            # A process group of its own: what the server starts (npx's node, a shell's
            # command) is stopped with it, and a Ctrl-C meant for us is not its to handle.
            self.process = subprocess.Popen(
                list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE if capture_stderr else None, env=full_env, cwd=cwd, bufsize=0,
                start_new_session=os.name == "posix")
        except OSError as exc:
            raise ConnectionClosed("cannot start the server %r: %s" % (list(argv)[:1], exc))
        self.argv = list(argv)
        # Unbuffered, readline() would read the pipe a byte per system call.
        self._stdout = io.BufferedReader(self.process.stdout, 65536)  # type: ignore[arg-type]
        # Writes that cannot block for ever: a server that stops reading its stdin fills
        # the pipe, and a blocked write would hold the lock past every timeout.
        self._stdin_fd = self.process.stdin.fileno()
        self._nonblocking = os.name == "posix"
        if self._nonblocking:
            os.set_blocking(self._stdin_fd, False)
        self.write_timeout = 30.0
        self.max_message_bytes = max_message_bytes
        self.close_timeout = close_timeout
        self._write_lock = threading.Lock()
        self._stderr_tail = bytearray()
        self._closing = False
        self.garbage = None  # type: Optional[bytes]   # the last line that was not JSON
        self._threads = []  # type: List[threading.Thread]

    def set_write_timeout(self, timeout: float) -> None:
        self.write_timeout = timeout

    def start(self, on_message: Callable[[Any], None], on_close: Callable[[BaseException], None],
              on_failure: Callable[[Any, BaseException], Any] = no_hook) -> None:
        super().start(on_message, on_close, on_failure)
        reader = threading.Thread(target=self._read, name="mcplite-client-reader", daemon=True)
        self._threads.append(reader)
        if self.process.stderr is not None:
            self._threads.append(threading.Thread(target=self._read_stderr, name="mcplite-client-stderr",
                                                  daemon=True))
        for thread in self._threads:
            thread.start()

    def _read(self) -> None:
        stdout = self._stdout
        error = None  # type: Optional[BaseException]
        try:
            while True:
                line = stdout.readline(self.max_message_bytes + 1)
                if not line:
                    break
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
                    _client_log.warning("the server wrote a line that is not JSON: %r", line[:200])
                    continue
                if self.tracer is not None:
                    self.tracer.message("<-", message, line)
                self.on_message(message)
        except (OSError, ValueError) as exc:
            error = ConnectionClosed("reading from the server failed: %s" % exc)
        if error is None:
            error = ConnectionClosed(self._exit_description())
        self.on_close(error)

    def _read_stderr(self) -> None:
        for chunk in iter(lambda: self.process.stderr.read(4096), b""):
            self._stderr_tail.extend(chunk)
            del self._stderr_tail[:-65536]

    def _exit_description(self) -> str:
        if self._closing:
            return "the client is closed"
        try:
            status = self.process.wait(0.5)
        except subprocess.TimeoutExpired:
            status = None
        what = "the server closed its stdout" if status is None else "the server exited with status %s" % status
        current = threading.current_thread()
        for thread in self._threads:
            if thread.ident is not None and thread is not current:  # (started, and not this one)
                thread.join(0.5)  # the rest of its stdout (a last line that was not JSON) and stderr
        if self.garbage is not None:
            what += "; its last line that was not JSON: %r" % self.garbage.decode("utf-8", "replace").rstrip("\r\n")
        tail = bytes(self._stderr_tail[-2000:]).decode("utf-8", "replace").strip()
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
                self.process.stdin.write(data)
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
                        self.on_close(error)
                        raise error
                    select.select([], [self._stdin_fd], [], min(remaining, 1.0))
        except (OSError, ValueError) as exc:
            try:  # a server that exited says more than the broken pipe
                self.process.wait(0.5)
            except subprocess.TimeoutExpired:
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
            process.stdin.close()
        except OSError:
            pass
        finally:
            if locked:
                self._write_lock.release()
        stop_process(process, self.close_timeout, group=True)
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(self.close_timeout)
        # A stream a thread still reads (a process outside our group holds the pipe open)
        # is left to that daemon thread: closing it would wait for its read to end.
        readers = {id(self._stdout): self._threads[0] if self._threads else None,
                   id(process.stderr): self._threads[1] if len(self._threads) > 1 else None}
        for stream in (self._stdout, process.stderr):
            reader = readers.get(id(stream))
            if stream is not None and (reader is None or not reader.is_alive()):
                try:
                    stream.close()
                except OSError:
                    pass


def stop_process(process: "subprocess.Popen[bytes]", timeout: float, group: bool = False,
                 signal_wait: Optional[float] = None, hurry: Optional[threading.Event] = None) -> None:
    """After its stdin was closed: wait ``timeout`` seconds for ``process`` to exit, then
    SIGTERM it and wait again (``signal_wait``, default ``timeout``), then SIGKILL it
    ("sending SIGTERM if the server does not exit within a reasonable time ... SIGKILL if
    [it] does not exit ... after SIGTERM"). ``group``: the process was started in a session
    of its own (``start_new_session``); its whole group is signalled, and whatever of the
    group outlives it is killed: never an orphan. ``hurry``: an event that cuts the first
    wait short once set (a proxy told to stop now)."""
    import signal
    group = group and os.name == "posix"
    for sig in (None, signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
        if sig is not None:
            try:
                if group:
                    os.killpg(process.pid, sig)
                else:
                    process.send_signal(sig)
            except OSError:
                pass
        wait = timeout if sig is None or signal_wait is None else signal_wait
        if sig is None and hurry is not None:
            # Polled, so that the event is heard while waiting.
            deadline = time.monotonic() + wait
            while process.poll() is None and time.monotonic() < deadline and not hurry.is_set():
                time.sleep(0.02)
            wait = 0.0
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    if group:
        try:
            os.killpg(process.pid, getattr(signal, "SIGKILL", signal.SIGTERM))  # what the server left behind
        except OSError:
            pass  # (nothing left: the group is gone)


# ---------------------------------------------------------------------------
# The client

class _Waiter:
    """What one outgoing request waits with: its deadline moves with progress."""

    __slots__ = ("deadline", "progress", "timeout")

    def __init__(self, timeout: float, progress: Optional[Callable[..., Any]]) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.progress = progress


class Client:
    """A connection to one MCP server. Build it with ``Client.stdio(argv)`` or
    ``Client(app)`` (an in-memory ``Server``, for tests); use it as a context manager, or
    call ``close()``.

    Handlers (each optional; the capabilities declared follow what is given):
    ``sampling(params) -> CreateMessageResult dict``, ``elicitation(params) -> ElicitResult
    dict``, ``roots``: a list of ``{"uri", "name"?}`` or a function returning one,
    ``on_log(params)``, ``on_resource_updated(uri)``, ``on_list_changed(kind)``.
    ``capabilities`` adds to what is declared (``{"sampling": {"tools": {}}}``, say).
    A handler raising ``MCPError`` answers with that error.

    ``timeout`` is the default for every call; progress notifications push a call's
    deadline ``timeout`` further, up to ``max_timeout`` in all.

    ``trace=True`` shows every message on stderr as it crosses (over HTTP with the
    request, status, headers and SSE framing); ``trace="explain"`` adds a plain-English
    note to each; a ``Tracer`` writes where it was told (see tracing.py).
    """

    def __init__(self, app: Any = None, *, timeout: float = 30.0, max_timeout: Optional[float] = None,
                 era: str = "auto", protocol_version: Optional[str] = None,
                 client_info: Optional[Dict[str, Any]] = None,
                 sampling: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
                 elicitation: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
                 roots: Any = None, on_log: Optional[Callable[[Dict[str, Any]], Any]] = None,
                 on_resource_updated: Optional[Callable[[str], Any]] = None,
                 on_list_changed: Optional[Callable[[str], Any]] = None,
                 capabilities: Optional[Dict[str, Any]] = None, probe_timeout: float = 5.0,
                 max_rounds: int = 10, tasks: bool = False, trace: Any = None,
                 _channel: Optional[ClientChannel] = None) -> None:
        if era not in ("auto", "modern", "legacy"):
            raise ValueError("era must be 'auto', 'modern' or 'legacy'")
        if protocol_version is not None:
            if protocol_version in MODERN_VERSIONS:
                era = "modern"
            elif protocol_version in LEGACY_VERSIONS:
                era = "legacy"
            else:
                raise ValueError("unknown protocol version %r" % (protocol_version,))
        tracer = None
        if trace is not None and trace is not False:
            from .tracing import make_tracer  # only a traced client pays for it
            tracer = make_tracer(trace)
        if _channel is None:
            if app is None:
                raise TypeError("Client(app) needs a Server; use Client.stdio(argv) for a server process")
            _channel = _MemoryChannel(app)
        _channel.tracer = tracer
        self.timeout = timeout
        self.max_timeout = max_timeout if max_timeout is not None else timeout * 10
        self.probe_timeout = probe_timeout
        self.max_rounds = max_rounds
        self.client_info = dict(client_info or DEFAULT_CLIENT_INFO)
        self.sampling = sampling
        self.elicitation = elicitation
        self.roots = roots
        self.on_log = on_log
        self.on_resource_updated = on_resource_updated
        self.on_list_changed = on_list_changed
        self.capabilities = self._declared_capabilities(capabilities)
        # The tasks extension is a 2026-07-28 one: declared in each request's _meta only.
        self.tasks = tasks
        self._modern_capabilities = self.capabilities_with_tasks(tasks)
        # What the server told us.
        self.era = None  # type: Optional[str]   # "legacy" or "modern" once connected
        self.protocol_version = None  # type: Optional[str]
        self.server_info = {}  # type: Dict[str, Any]
        self.server_capabilities = {}  # type: Dict[str, Any]
        self.instructions = None  # type: Optional[str]
        # set_log_level's: in 2026-07-28 sent in every request's _meta; in a session, set
        # again in a session that replaces one the server ended.
        self.log_level = None  # type: Optional[str]
        self._outgoing = PendingRequests()
        self._waiters = {}  # type: Dict[Any, _Waiter]   # by progress token
        self._lock = threading.Lock()
        self._pool = WorkerPool(4, name="mcplite-client-handler")
        # Callbacks (on_log, progress, updates, list changes) run in order on one thread of
        # their own, never on the reader: a callback may call the client. A response waits
        # until the callbacks of what arrived before it have run (see _call).
        self._events = WorkerPool(1, name="mcplite-client-events")
        self._events_cond = threading.Condition()
        self._queued_seq = 0
        self._done_seq = 0
        self._barriers = {}  # type: Dict[Any, int]   # response id -> the callback it follows
        self._closed = None  # type: Optional[BaseException]
        self._listen = None  # type: Any   # the 2026-07-28 subscriptions/listen request in force
        self._subscriptions = set()  # type: set
        self._acknowledged = (None, threading.Event())  # (listen id, set when acknowledged)
        self._renew_lock = threading.Lock()
        self._channel = _channel
        _channel.set_write_timeout(timeout)  # a write may take as long as a call
        _channel.start(self._receive, self._channel_closed, self._outgoing.fail)
        try:
            self._connect(era, protocol_version)
        except BaseException:
            self.close()
            raise

    @classmethod
    def stdio(cls, argv: Sequence[str], env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None, *,
              capture_stderr: bool = False, max_message_bytes: int = 16 * 1024 * 1024,
              close_timeout: float = 2.0, **options: Any) -> "Client":
        """Start ``argv`` and talk to it over its stdin and stdout. ``env`` adds to this
        process's environment. On close: stdin closed, then SIGTERM, then SIGKILL, each
        after ``close_timeout`` seconds."""
        if isinstance(argv, str):
            raise TypeError("argv is a list: ['python3', 'server.py'], not a command line string")
        return cls._over(_StdioChannel(argv, env, cwd, capture_stderr, max_message_bytes, close_timeout), options)

    @classmethod
    def _over(cls, channel: ClientChannel, options: Dict[str, Any]) -> "Client":
        """A client over ``channel``; the channel is closed if that fails (a mistyped
        option must not leave a server process running)."""
        try:
            return cls(_channel=channel, **options)
        except BaseException:
            channel.close()
            raise

    @classmethod
    def http(cls, url: str, headers: Optional[Dict[str, str]] = None, *, auth: Any = None,
             ssl_context: Any = None, ca_file: Optional[str] = None, proxy: Optional[str] = None,
             **options: Any) -> "Client":
        """Talk to a Streamable HTTP endpoint (``http://127.0.0.1:8000/mcp``, say).
        ``headers`` go on every request; ``auth`` is an ``OAuth`` for a server that
        answers 401 (a fixed token can go in ``headers`` instead). ``ssl_context`` is an
        ``ssl.SSLContext`` for https (default: the system's CAs), or ``ca_file`` the CA
        bundle to trust instead. ``proxy``: an http:// proxy URL, "" for none; by
        default the environment's (``https_proxy``, ``no_proxy``, ...)."""
        from .httpclient import HttpChannel, LegacySseChannel  # only a client of HTTP pays for http.client
        if ca_file is not None:
            if ssl_context is not None:
                raise ValueError("give ssl_context or ca_file, not both")
            import ssl
            ssl_context = ssl.create_default_context(cafile=ca_file)
        channel = HttpChannel(url, headers, ssl_context, proxy=proxy, auth=auth)
        try:
            return cls._over(channel, options)
        except (MCPError, TransportError):
            if channel.initialize_refused is None or options.get("era") == "modern":
                raise
        # The server refused initialize with 400/404/405: an old HTTP+SSE server, maybe.
        return cls._over(LegacySseChannel(url, headers, ssl_context, proxy=proxy, auth=auth),
                         dict(options, era="legacy"))

    # -- context manager ------------------------------------------------------------

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """End the connection (the server process too, for stdio); calls still waiting
        raise ``ConnectionClosed``."""
        with self._lock:
            if self._closed is None:
                self._closed = ConnectionClosed("the client is closed")
        self._channel.close()
        self._outgoing.fail_all(self._closed)
        self._pool.shutdown(1.0)
        self._events.shutdown(1.0)
        with self._events_cond:
            self._events_cond.notify_all()

    # -- the API ----------------------------------------------------------------------

    def list_tools(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        return self._channel.usable_tools(self._list_all("tools/list", "tools", timeout))

    def call_tool(self, name: str, arguments: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None,
                  progress: Optional[Callable[[float, Optional[float], Optional[str]], Any]] = None,
                  wait: bool = True, task: Optional[bool] = None) -> Dict[str, Any]:
        """The ``CallToolResult`` (an ``isError`` result is returned, not raised).
        ``progress(progress, total, message)`` is called for each progress notification.
        A tool the server runs as a task (2026-07-28, with ``Client(tasks=True)`` or
        ``task=True`` for this call alone) is waited for, unless ``wait=False``: then its
        CreateTaskResult is returned, for ``wait_task(taskId)`` or ``cancel_task(taskId)``."""
        params = {"name": name}  # type: Dict[str, Any]
        if arguments is not None:
            params["arguments"] = arguments
        if task is not None and task != self.tasks and self.era == "modern":
            # The extension is declared request by request: "regardless of prior declarations".
            params["_meta"] = {META_CLIENT_CAPABILITIES: self.capabilities_with_tasks(task)}
        return self.request("tools/call", params, timeout=timeout, progress=progress, wait=wait)

    def wait_task(self, task_id: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Wait for a task to end and return the tool's result: polls ``tasks/get``,
        answers its questions through the handlers, gives up (``tasks/cancel``, then
        ``RequestTimeout``) after ``timeout`` seconds in which the task did not change.
        A task that failed raises its error, one that was cancelled ``TaskCancelled``."""
        from .taskwait import await_task
        return await_task(self, {"taskId": task_id, "status": "working"}, timeout)

    def cancel_task(self, task_id: str, timeout: Optional[float] = None) -> None:
        """Ask the server to cancel a task (``tasks/cancel``; the task may still end
        otherwise if it was about to)."""
        from .taskwait import cancel_task
        cancel_task(self, task_id, timeout, quiet=False)

    def list_resources(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        return self._list_all("resources/list", "resources", timeout)

    def list_resource_templates(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        return self._list_all("resources/templates/list", "resourceTemplates", timeout)

    def read_resource(self, uri: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        return self.request("resources/read", {"uri": uri}, timeout=timeout)

    def list_prompts(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        return self._list_all("prompts/list", "prompts", timeout)

    def get_prompt(self, name: str, arguments: Optional[Dict[str, str]] = None,
                   timeout: Optional[float] = None) -> Dict[str, Any]:
        params = {"name": name}  # type: Dict[str, Any]
        if arguments is not None:
            params["arguments"] = arguments
        return self.request("prompts/get", params, timeout=timeout)

    def complete(self, ref: Dict[str, Any], argument: str, value: str,
                 arguments: Optional[Dict[str, str]] = None, timeout: Optional[float] = None) -> Dict[str, Any]:
        """``completion/complete`` for one argument of ``ref`` (``{"type": "ref/prompt",
        "name": ...}`` or ``{"type": "ref/resource", "uri": ...}``); the ``completion``
        object (``values``, ``total``?, ``hasMore``?)."""
        params = {"ref": ref, "argument": {"name": argument, "value": value}}  # type: Dict[str, Any]
        if arguments:
            params["context"] = {"arguments": arguments}
        return self.request("completion/complete", params, timeout=timeout)["completion"]

    def ping(self, timeout: Optional[float] = None) -> None:
        """Check the server answers: ``ping`` in a session; 2026-07-28 has no ping, so a
        ``server/discover`` stands in."""
        if self.era == "modern":
            self.request("server/discover", {}, timeout=timeout)
        else:
            self.request("ping", None, timeout=timeout)

    def set_log_level(self, level: str, timeout: Optional[float] = None) -> None:
        """The lowest level of ``notifications/message`` wanted (to ``on_log``): in a
        session ``logging/setLevel``; in 2026-07-28 part of every later request."""
        if level not in LOG_LEVELS:
            raise ValueError("unknown log level %r; use one of %s" % (level, ", ".join(LOG_LEVELS)))
        if self.era == "modern":
            self.log_level = level
        else:
            self.request("logging/setLevel", {"level": level}, timeout=timeout)
            self.log_level = level

    def subscribe(self, uri: str, timeout: Optional[float] = None) -> None:
        """Hear of changes to ``uri`` (``on_resource_updated``): ``resources/subscribe`` in
        a session, a ``subscriptions/listen`` stream in 2026-07-28."""
        if self.era == "modern":
            with self._lock:
                self._subscriptions.add(uri)
            self._relisten(timeout)
        else:
            self.request("resources/subscribe", {"uri": uri}, timeout=timeout)
            with self._lock:
                self._subscriptions.add(uri)

    def unsubscribe(self, uri: str, timeout: Optional[float] = None) -> None:
        if self.era == "modern":
            with self._lock:
                self._subscriptions.discard(uri)
            self._relisten(timeout)
        else:
            self.request("resources/unsubscribe", {"uri": uri}, timeout=timeout)
            with self._lock:
                self._subscriptions.discard(uri)

    def notify_roots_changed(self) -> None:
        """Tell a session's server the roots changed (2026-07-28 servers ask each time)."""
        if self.era == "legacy":
            self._send(notification("notifications/roots/list_changed"))

    def request(self, method: str, params: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None,
                progress: Optional[Callable[..., Any]] = None, wait: bool = True) -> Dict[str, Any]:
        """Send any request and return its result. In 2026-07-28 the ``_meta`` envelope is
        added, ``input_required`` rounds are answered through the handlers and retried
        (at most ``max_rounds`` times), and a task the server created is waited for
        (unless ``wait=False``; see ``wait_task``)."""
        params = dict(params) if params else {}
        if self.era != "modern":
            try:
                return self._call(method, params, timeout, progress)
            except SessionLost as lost:
                # Only this request's own loss: the server never ran it, so it is sent again
                # in a new session (one that another thread may have started already).
                self._renew_session(lost.generation)
                return self._call(method, params, timeout, progress)
        if method not in _ROUND_TRIP_METHODS:
            return self._call(method, params, timeout, progress)
        for rounds in range(self.max_rounds + 1):
            result = self._call(method, params, timeout, progress)
            if result.get("resultType") == "task" and wait:
                from .taskwait import await_task
                return await_task(self, result, timeout)
            if result.get("resultType") != "input_required":
                return result
            if rounds == self.max_rounds:
                break  # no question is asked whose answer would never be sent
            params = dict(params)
            requests = result.get("inputRequests") or {}
            if not isinstance(requests, dict):
                raise ProtocolError("the server sent inputRequests that are not an object")
            params["inputResponses"] = {key: self._answer_input(entry) for key, entry in requests.items()}
            if "requestState" in result:
                params["requestState"] = result["requestState"]
            else:
                params.pop("requestState", None)
        raise ProtocolError("%s still needed input after %d rounds" % (method, self.max_rounds))

    # -- connecting -------------------------------------------------------------------

    def _renew_session(self, lost: int) -> None:
        """After the server ended session ``lost`` (HTTP 404): a new session, with what the
        old one had set up (log level, subscriptions) - unless another thread has started
        one since."""
        with self._renew_lock:
            if self._channel.session_generation() != lost:
                return
            self._initialize(self.protocol_version or LATEST_LEGACY_VERSION)
            self._channel.ready()
            if self.log_level is not None:
                self._call("logging/setLevel", {"level": self.log_level}, None, None)
            for uri in sorted(self._subscriptions):
                self._call("resources/subscribe", {"uri": uri}, None, None)

    def _declared_capabilities(self, extra: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        caps = {}  # type: Dict[str, Any]
        if self.sampling is not None:
            caps["sampling"] = {}
        if self.elicitation is not None:
            caps["elicitation"] = {}
        if self.roots is not None:
            caps["roots"] = {"listChanged": True}
        for key, value in (extra or {}).items():
            if isinstance(value, dict) and isinstance(caps.get(key), dict):
                caps[key] = dict(caps[key], **value)
            else:
                caps[key] = value
        elicit = caps.get("elicitation")
        if self.elicitation is not None and isinstance(elicit, dict) and elicit and "form" not in elicit:
            # "{}" meant form mode; naming another mode must not drop it.
            caps["elicitation"] = dict(elicit, form={})
        return caps

    def capabilities_with_tasks(self, tasks: bool) -> Dict[str, Any]:
        """The capabilities declared, with the tasks extension in them or not."""
        from .tasks import TASKS_EXTENSION
        extensions = dict(self.capabilities.get("extensions") or {})
        if tasks:
            extensions.setdefault(TASKS_EXTENSION, {})
        else:
            extensions.pop(TASKS_EXTENSION, None)
        if extensions:
            return dict(self.capabilities, extensions=extensions)
        return {k: v for k, v in self.capabilities.items() if k != "extensions"}

    def _connect(self, era: str, version: Optional[str]) -> None:
        if era != "legacy" and self._discover(version or MODERN_VERSIONS[-1], forced=era == "modern"):
            self._negotiated()
        else:
            try:
                self._initialize(version or LATEST_LEGACY_VERSION)
            except MCPError as exc:
                # A modern server that answered the probe too late for us has settled on
                # 2026-07-28 and refuses initialize, naming its versions: go back to them.
                data = exc.data if isinstance(exc.data, dict) else {}
                offered = data.get("supported") if isinstance(data.get("supported"), list) else []
                if (era != "auto" or exc.code != UNSUPPORTED_PROTOCOL_VERSION
                        or not any(v in offered for v in MODERN_VERSIONS)):
                    raise
                if not self._discover(version or MODERN_VERSIONS[-1], forced=True):
                    raise
                self._negotiated()
        self._channel.ready()
        if self.era == "modern" and self.on_list_changed is not None:
            # 2026-07-28 tells of list changes only on a subscriptions/listen stream.
            try:
                self._relisten(None)
            except MCPError as exc:
                _client_log.warning("no list-change notifications: subscriptions/listen failed: %s", exc)

    def _negotiated(self) -> None:
        self._channel.negotiated(self.era, self.protocol_version)  # type: ignore[arg-type]

    def _discover(self, version: str, forced: bool, retried: bool = False) -> bool:
        """The 2026-07-28 probe: True when the server is modern (now set up)."""
        self.era, self.protocol_version = "modern", version
        try:
            result = self._call("server/discover", {}, None if forced else min(self.probe_timeout, self.timeout),
                                None)
        except RequestTimeout:
            if forced:
                raise
            result = None
        except HttpError as exc:
            # A plain HTTP refusal of the probe: a server of the older era, unless it was
            # authorization (and OAuth, if any, could not help) - not an era question.
            if forced or exc.status in (401, 403):
                raise
            result = None
        except MCPError as exc:
            data = exc.data if isinstance(exc.data, dict) else {}
            offered = data.get("supported") if exc.code == UNSUPPORTED_PROTOCOL_VERSION else None
            if isinstance(offered, list):
                # "a recognized modern JSON-RPC error ... identifies a modern server: the
                # client retries with a supported version rather than falling back."
                usable = [v for v in MODERN_VERSIONS if v in offered]
                if usable and (usable[-1] != version or not retried):
                    # Once more even with the version just sent: "the client retries with
                    # a supported version" (the refusal may have been about something else).
                    return self._discover(usable[-1], forced, retried=True)
                if forced or not [v for v in LEGACY_VERSIONS if v in offered]:
                    raise MCPError(UNSUPPORTED_PROTOCOL_VERSION, "The server supports none of our %s protocol "
                                   "versions" % ("modern" if forced else ""), *([exc.data] if exc.has_data else []))
            elif forced:
                raise
            result = None
        if result is None:
            self.era, self.protocol_version = None, None
            return False
        supported = result.get("supportedVersions") or []
        if version not in supported:
            usable = [v for v in MODERN_VERSIONS if v in supported]
            if not usable:
                self.era, self.protocol_version = None, None
                if forced:
                    raise MCPError(UNSUPPORTED_PROTOCOL_VERSION, "The server offers no modern version we speak",
                                   {"supported": supported})
                return False
            self.protocol_version = usable[-1]
        self.server_capabilities = result.get("capabilities") or {}
        self.instructions = result.get("instructions")
        meta = result.get("_meta")
        if isinstance(meta, dict) and isinstance(meta.get(META_SERVER_INFO), dict):
            self.server_info = meta[META_SERVER_INFO]
        return True

    def _initialize(self, version: str) -> None:
        self.era, self.protocol_version = "legacy", version
        result = self._call("initialize", {"protocolVersion": version, "capabilities": self.capabilities,
                                           "clientInfo": self.client_info}, None, None)
        answered = result.get("protocolVersion")
        if answered not in LEGACY_VERSIONS:
            # "If the client does not support the version in the server's response, it
            # SHOULD disconnect."
            raise MCPError(UNSUPPORTED_PROTOCOL_VERSION, "The server answered initialize with protocol version %r, "
                                                         "which this client does not speak" % (answered,))
        self.protocol_version = answered
        self.server_capabilities = result.get("capabilities") or {}
        self.server_info = result.get("serverInfo") or {}
        self.instructions = result.get("instructions")
        self._negotiated()
        self._send(notification("notifications/initialized"))

    # -- sending and waiting ----------------------------------------------------------

    def _send(self, message: Any) -> None:
        if self._closed is not None:
            raise self._closed
        self._channel.send(message)

    def _envelope(self, params: Dict[str, Any], progress_token: Any) -> Dict[str, Any]:
        meta = dict(params.get("_meta") or {})
        if self.era == "modern":
            meta[META_PROTOCOL_VERSION] = self.protocol_version
            meta[META_CLIENT_INFO] = self.client_info
            meta.setdefault(META_CLIENT_CAPABILITIES, self._modern_capabilities)
            if self.log_level is not None:
                meta[META_LOG_LEVEL] = self.log_level
        if progress_token is not None:
            meta["progressToken"] = progress_token
        if meta:
            params = dict(params)
            params["_meta"] = meta
        return params

    def _call(self, method: str, params: Optional[Dict[str, Any]], timeout: Optional[float],
              progress: Optional[Callable[..., Any]]) -> Dict[str, Any]:
        """One request, one response: the result, or MCPError. A request the transport
        can repair (HTTP: a 401 or 403 after which the OAuth got a new token) is sent
        again, with a new id; the repair runs here, in the caller's thread, outside the
        call's timeout (a person may be signing in)."""
        attempt = 0
        while True:
            message, pending = self._outgoing.new(method, None)
            try:
                return self._exchange(message, pending, params, timeout, progress)
            except RequestTimeout:
                raise
            except TransportError as exc:
                if self._closed is not None or not self._channel.recover(pending.id, exc, attempt):
                    raise
            attempt += 1

    def _exchange(self, message: Message, pending: Any, params: Optional[Dict[str, Any]],
                  timeout: Optional[float], progress: Optional[Callable[..., Any]]) -> Dict[str, Any]:
        method = message["method"]
        if timeout is None:
            timeout = self.timeout
        token = ("p%s" % pending.id) if progress is not None else None
        body = self._envelope(params or {}, token)
        if body or method != "ping":
            message["params"] = body
        start = time.monotonic()
        waiter = _Waiter(timeout, progress)
        if token is not None:
            with self._lock:
                self._waiters[token] = waiter
        try:
            try:
                self._send(message)
            except BaseException:
                self._outgoing.forget(pending.id)
                raise
            hard_stop = start + max(self.max_timeout, timeout)
            while True:
                remaining = min(waiter.deadline, hard_stop) - time.monotonic()
                try:
                    result = pending.wait(max(remaining, 0.0))
                    break
                except KeyboardInterrupt:
                    # The person gave up: the server is told, as after a timeout.
                    self._outgoing.forget(pending.id)
                    self._cancel(pending.id, "interrupted")
                    raise
                except TimeoutError:
                    if waiter.deadline > time.monotonic() and time.monotonic() < hard_stop:
                        continue  # progress moved the deadline
                    self._outgoing.forget(pending.id)
                    # "the sender SHOULD issue a cancellation notification for that request
                    # and stop waiting for a response."
                    self._cancel(pending.id, "timed out")
                    raise RequestTimeout(method, timeout)
        finally:
            if token is not None:
                with self._lock:
                    self._waiters.pop(token, None)
        barrier = self._barriers.pop(pending.id, None) if self._barriers else None
        if barrier is not None and not getattr(_on_event_thread, "active", False):
            # The progress and log callbacks of this call have run when it returns.
            with self._events_cond:
                self._events_cond.wait_for(lambda: self._done_seq >= barrier or self._closed is not None,
                                           timeout=self.timeout)
        if not isinstance(result, dict):
            raise ProtocolError("the server answered %s with a result that is not an object" % method)
        return result

    def _cancel(self, rid: Any, reason: str) -> None:
        """``notifications/cancelled`` for a request we stopped waiting for (over 2026-07-28
        HTTP the channel closes the request's stream instead)."""
        try:
            self._send(notification("notifications/cancelled", {"requestId": rid, "reason": reason}))
        except ConnectionClosed:
            pass

    def _list_all(self, method: str, key: str, timeout: Optional[float]) -> List[Dict[str, Any]]:
        items = []  # type: List[Dict[str, Any]]
        params = {}  # type: Dict[str, Any]
        seen = set()  # type: set
        for _ in range(_MAX_PAGES):
            result = self.request(method, params, timeout=timeout)
            page = result.get(key)
            if not isinstance(page, list):
                raise ProtocolError("the server's %s result has no %r list" % (method, key))
            items.extend(page)
            cursor = result.get("nextCursor")
            if cursor is None:
                return items
            if not isinstance(cursor, str) or cursor in seen:
                raise ProtocolError("the server's %s cursors loop or are not strings" % method)
            seen.add(cursor)
            params = {"cursor": cursor}
        raise ProtocolError("the server's %s never ends (more than %d pages)" % (method, _MAX_PAGES))

    # -- what the server sends ----------------------------------------------------------

    def _channel_closed(self, error: BaseException) -> None:
        with self._lock:
            if self._closed is None:
                self._closed = error
        self._outgoing.fail_all(self._closed)

    def _receive(self, message: Any) -> None:
        if isinstance(message, list):
            for item in message:
                self._receive(item)
            return
        try:
            kind = classify(message)
        except MCPError:
            _client_log.warning("ignored a message that is not JSON-RPC: %r", message)
            return
        if kind is NOTIFICATION:
            self._notification(message)
        elif kind is REQUEST:
            if not self._pool.submit(lambda: self._serve(message)):
                self._reply(error_response(message["id"], MCPError(INTERNAL_ERROR, "Client busy")))
        else:
            if self._queued_seq > self._done_seq:  # (callbacks pending: rare; ints read atomically)
                with self._events_cond:
                    if self._queued_seq > self._done_seq and len(self._barriers) < 10000:
                        self._barriers[message.get("id")] = self._queued_seq
            if not self._outgoing.resolve(message):
                self._barriers.pop(message.get("id"), None)
                _client_log.debug("ignored a response that matches no request: %r", message.get("id"))

    def _reply(self, response: Message) -> None:
        try:
            self._send(response)
        except ConnectionClosed:
            pass

    def _serve(self, message: Message) -> None:
        """A request from the server (legacy era): answer it through the handlers."""
        params = message.get("params") or {}
        try:
            result = self._handle(message["method"], params)
            response = result_response(message["id"], result)
        except MCPError as exc:
            response = error_response(message["id"], exc)
        except Exception as exc:  # a handler's bug: the server gets an error, never a traceback
            _client_log.exception("handler for %s raised", message["method"])
            response = error_response(message["id"], MCPError(INTERNAL_ERROR, "Client error: %s" % type(exc).__name__))
        self._reply(response)

    def _handle(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        if method == "ping":
            return {}
        if method == "sampling/createMessage" and self.sampling is not None:
            return self.sampling(params)
        if method == "elicitation/create" and self.elicitation is not None:
            return self.elicitation(params)
        if method == "roots/list" and self.roots is not None:
            roots = self.roots() if callable(self.roots) else self.roots
            return {"roots": list(roots)}
        raise MCPError(METHOD_NOT_FOUND, "Method not found: %s (this client declared no such capability)" % method)

    def _answer_input(self, entry: Any) -> Dict[str, Any]:
        """One 2026-07-28 input request, answered through the same handlers."""
        if not isinstance(entry, dict) or not isinstance(entry.get("method"), str):
            raise ProtocolError("the server sent a malformed input request: %r" % (entry,))
        params = entry.get("params") if isinstance(entry.get("params"), dict) else {}
        return self._handle(entry["method"], params)

    def _callback(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run a user's callback on the events thread, in arrival order."""
        with self._events_cond:
            self._queued_seq += 1
            seq = self._queued_seq

        def job() -> None:
            _on_event_thread.active = True
            try:
                fn(*args)
            except Exception:
                _client_log.exception("a client callback raised")
            finally:
                with self._events_cond:
                    self._done_seq = seq
                    self._events_cond.notify_all()
        if not self._events.submit(job):
            job()  # (closed, or 1024 callbacks behind: run it here rather than lose it)

    def _notification(self, message: Message) -> None:
        method = message["method"]
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        try:
            if method == "notifications/progress":
                with self._lock:
                    waiter = self._waiters.get(params.get("progressToken"))
                if waiter is not None:
                    waiter.deadline = time.monotonic() + waiter.timeout
                    if waiter.progress is not None:
                        self._callback(waiter.progress, params.get("progress"), params.get("total"),
                                       params.get("message"))
            elif method == "notifications/subscriptions/acknowledged":
                meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
                with self._lock:
                    listen_id, event = self._acknowledged
                if listen_id is not None and meta.get(META_SUBSCRIPTION_ID) == listen_id:
                    event.set()
            elif method == "notifications/message":
                if self.on_log is not None:
                    self._callback(self.on_log, params)
            elif method == "notifications/resources/updated":
                if self.on_resource_updated is not None and isinstance(params.get("uri"), str):
                    self._callback(self.on_resource_updated, params["uri"])
            elif method.endswith("/list_changed") and method.count("/") == 2:
                kind = method.split("/")[1]
                if self.on_list_changed is not None and kind in ("tools", "prompts", "resources"):
                    self._callback(self.on_list_changed, kind)
        except Exception:
            _client_log.exception("handler for %s raised", method)

    # -- 2026-07-28 subscriptions --------------------------------------------------------

    def _relisten(self, timeout: Optional[float]) -> None:
        """Replace the ``subscriptions/listen`` stream by one with the current filter."""
        with self._lock:
            old = self._listen
            uris = sorted(self._subscriptions)
        if old is not None:
            self._outgoing.forget(old)
            self._send(notification("notifications/cancelled", {"requestId": old, "reason": "new filter"}))
        wanted = {}  # type: Dict[str, Any]
        if self.on_list_changed is not None:
            wanted.update(toolsListChanged=True, promptsListChanged=True, resourcesListChanged=True)
        if uris:
            wanted["resourceSubscriptions"] = uris
        if not wanted:
            with self._lock:
                self._listen = None
            return
        message, pending = self._outgoing.new("subscriptions/listen", None)
        message["params"] = self._envelope({"notifications": wanted}, None)
        acknowledged = threading.Event()
        with self._lock:
            self._listen = pending.id
            self._acknowledged = (pending.id, acknowledged)
        self._send(message)
        limit = timeout if timeout is not None else self.timeout
        deadline = time.monotonic() + limit
        # "The server MUST send notifications/subscriptions/acknowledged as the first
        # message"; an error response instead ends the wait at once.
        while not acknowledged.wait(0.02):
            if pending.done:
                pending.wait(0)  # raises the server's error
                raise ProtocolError("subscriptions/listen ended before it was acknowledged")
            if time.monotonic() > deadline:
                self._outgoing.forget(pending.id)
                raise RequestTimeout("subscriptions/listen", limit)
