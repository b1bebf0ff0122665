#!/usr/bin/env python3
"""The abuse suite: mcplite (and the official Python SDK as a reference) under hostile input,
load, resource exhaustion and faults. Figures, not timed tests.

    python3 bench/abuse.py                       # both targets when the SDK is installed
    python3 bench/abuse.py --target mcplite      # mcplite alone
    python3 bench/abuse.py --quick --target mcplite   # the CI run (well under 90 s)
    python3 bench/abuse.py --seed 7 --json       # another seed; the report as JSON on stdout
    python3 bench/abuse.py --only stdio,faults   # some sections (stdio, http, load, exhaustion, faults)

Every server under test is a real subprocess started from ``bench/abuse_servers/``
(``mcplite_server.py`` on this interpreter with the checkout on ``PYTHONPATH``;
``sdk_server.py`` on the SDK's interpreter: ``--sdk-python``, else ``$MCPLITE_SDK_PYTHON``,
else ``.cache/sdk-venv/bin/python`` as ``bash scripts/test`` makes it, else
``~/.cache/mcp-peers/venv/bin/python``). Both serve the same tools: ``echo``, ``add``,
``slow`` (progress, then sleep), ``nap`` (a plain sleep), ``hang`` (never returns), ``fd1``
(writes to fd 1); a resource and a prompt. Servers run with their defaults, over stdio pipes or on 127.0.0.1
at a free port; every process is stopped by its PID (terminate, wait, kill), every wait
has a timeout, and nothing listens beyond loopback.

Sections:

1. **stdio fuzz**: generated cases (``abuse_cases.py``; 3,000+ per transport, ``--quick``
   300) in three lanes, each its own server process: a 2025-11-25 session, a 2025-03-26
   session (the version with batches) and 2026-07-28 without a session. Every request with
   a usable id (defined in ``abuse_cases.py``) must be answered exactly once; no reply may
   carry a traceback; stdout must carry JSON-RPC messages only; the server must stay up and
   answer a normal call at the end, and exit once its stdin closes. Cases go in chunks of
   16, each followed by a ``ping`` as a barrier, so a stall is seen where it happens.
2. **HTTP fuzz**: the same generator, one POST per case, in six lanes on one server: a
   2025-11-25 session, a 2025-03-26 session, 2026-07-28 (headers derived from the body),
   no or a bogus session, mutated headers and methods, and raw malformed HTTP on fresh
   connections. Owed requests must get exactly one JSON-RPC response with their id in the
   body (any status); no 500/503, no traceback; the server must answer a normal call after.
3. **load**: 64 and 256 concurrent clients (``--quick``: 64 for 3 s). Each client is a
   thread with one keep-alive connection (as ``bench_http.py`` drives) and its own
   2025-11-25 session, bound to one of 8 loopback source addresses (127.0.0.1-8: distinct
   clients, as on a network; mcplite bounds sessions per client address), calling ``add``
   in a loop for the duration, then ending its session with DELETE. Calls/s, p50/p99,
   errors by kind, and the server's RSS and threads (``/proc/PID/status``) before, at peak
   and after a settle period; the kernel's listen-queue overflows (``TcpExtListenOverflows``
   in ``/proc/net/netstat``, machine-wide) during the run.
4. **exhaustion**: idle connections plus slowloris senders (a header byte a second) held
   from 127.0.0.3, then a new client's call from 127.0.0.2; in the full run the slowloris
   senders go on for 35 s, and those the server has not closed by then are counted; GET SSE
   streams held, then a call; a flood of ``initialize`` without DELETE from one address,
   then a client from 127.0.0.2 (RSS growth reported); a 100 MB declared body and an
   endless chunked body. The new client must be served within 10 s (that is what "no
   lockout" means here), and the server must recover its threads.
5. **faults**: HTTP clients SIGKILLed while reading an SSE stream (both eras); the parent
   of a stdio server SIGKILLed (idle, with a call running, with a hung tool): the server
   must exit by itself; stdout closed by the client; a tool that never returns (cancelled;
   then 20 of them); a tool writing to fd 1.

Before a baseline of RSS and threads, each HTTP server is warmed up (20 concurrent ``slow``
and 40 concurrent ``nap`` calls), so that the worker pools both servers keep (mcplite's 16
threads, the SDK's anyio pool of up to 40) are counted in it: "back to baseline" means at
most THREADS_TOL threads and max(RSS_TOL_MIB, RSS_TOL_FRAC of the baseline) above it.

The report is a table per section, then a markdown table with the targets side by side
for the README's "Under abuse" section. Exit status: 1 when mcplite fails a correctness
expectation (listed as FAIL lines: unanswered or twice-answered requests, a 500/503 or a
traceback in a reply, stray bytes on stdout, a dead server, a lockout, threads or RSS not
returning within tolerance, a server that does not exit or that spins) or a section cannot
run against it (ERROR lines), 2 on bad usage or when the SDK was asked for and is missing,
else 0. The SDK's misses are reported as NOTE lines, never fatal; figures alone never fail.
"""
import argparse
import base64
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if HERE not in sys.path:  # run as a script under -I / PYTHONSAFEPATH too
    sys.path.insert(0, HERE)

import abuse_cases as ac  # noqa: E402

HOST = "127.0.0.1"
PATH = "/mcp"
ACCEPT = "application/json, text/event-stream"
SERVERS = {"mcplite": os.path.join(HERE, "abuse_servers", "mcplite_server.py"),
           "sdk": os.path.join(HERE, "abuse_servers", "sdk_server.py")}
LABELS = {"mcplite": "mcplite", "sdk": "official SDK"}

# Sizes of a run. Fuzz lanes: stdio (legacy, batch, modern); HTTP (session, batch, modern,
# no session, headers, raw).
QUICK: Dict[str, Any] = {
    "stdio_lanes": {"legacy": 120, "batch": 80, "modern": 100},
    "http_lanes": {"session": 90, "batch": 45, "modern": 75, "nosession": 25, "headers": 35, "raw": 30},
    "loads": (64,), "load_seconds": 3.0, "idle": 50, "slowloris": 5, "slowloris_hold": 0, "streams": 10, "inits": 500,
    "killed": 3, "many_hangs": 20,
}
FULL: Dict[str, Any] = {
    "stdio_lanes": {"legacy": 1300, "batch": 750, "modern": 1050},
    "http_lanes": {"session": 900, "batch": 450, "modern": 750, "nosession": 250, "headers": 350, "raw": 300},
    "loads": (64, 256), "load_seconds": 10.0, "idle": 300, "slowloris": 20, "slowloris_hold": 35.0, "streams": 50,
    "inits": 5000, "killed": 10, "many_hangs": 20,
}

CHUNK = 16  # stdio cases between two barrier pings
WAIT_S = 15.0  # for a chunk's answers, one HTTP exchange, a server's start...
NEW_CLIENT_S = 10.0  # a new client must be served within this while the server is under siege
THREADS_TOL = 2  # "back to baseline": at most this many threads above it
RSS_TOL_MIB = 8.0  # ... and RSS at most this much, or RSS_TOL_FRAC of the baseline, above it
RSS_TOL_FRAC = 0.25
SETTLE_S = 15.0  # how long threads may take to come back (the SDK's worker threads idle out in 10 s)
EXIT_S = 5.0  # a stdio server whose input has ended must be gone within this
SOURCES = ["127.0.0.%d" % i for i in range(1, 9)]
NEW_CLIENT_SOURCE = "127.0.0.2"
SIEGE_SOURCE = "127.0.0.3"


def log(msg: str) -> None:
    sys.stderr.write("abuse: %s\n" % msg)
    sys.stderr.flush()


# --------------------------------------------------------------------------- processes

_PROCS = {}  # type: Dict[int, subprocess.Popen]
_ORPHANS = {}  # type: Dict[int, str]   # pids we caused but did not start (a killed parent's server): marker


def spawn(argv: List[str], **kw: Any) -> subprocess.Popen:
    proc = subprocess.Popen(argv, **kw)
    _PROCS[proc.pid] = proc
    return proc


def stop(proc: Optional[subprocess.Popen], grace: float = 3.0) -> Optional[int]:
    """Terminate ``proc`` by its PID, wait, kill if it lingers; its exit status."""
    if proc is None:
        return None
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    except OSError:
        pass
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    _PROCS.pop(proc.pid, None)
    return proc.returncode


def pid_state(pid: int) -> Optional[str]:
    """The state letter of ``pid`` (R, S, Z...), or None when it is gone (reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def pid_has(pid: int, marker: str) -> bool:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return marker.encode() in f.read()
    except OSError:
        return False


def kill_orphan(pid: int) -> None:
    marker = _ORPHANS.pop(pid, "")
    if marker and pid_state(pid) not in (None, "Z") and pid_has(pid, marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    reap(pid)


def reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def stop_all() -> None:
    for proc in list(_PROCS.values()):
        stop(proc, 1.0)
    for pid in list(_ORPHANS):
        kill_orphan(pid)


def become_subreaper() -> bool:
    """Have orphaned descendants (the server of a killed stdio parent) reparented to us, so
    their exit is seen at once and they are reaped (Linux; else /proc is polled)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError, ImportError):
        return False


def proc_status(pid: int) -> Tuple[Optional[float], Optional[int]]:
    """(RSS in MiB, threads) of ``pid`` from /proc/PID/status, or (None, None)."""
    rss = threads = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024.0
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, threads


def proc_cpu_s(pid: int) -> Optional[float]:
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def listen_overflows() -> Optional[int]:
    """The machine's TcpExt ListenOverflows counter (what ``nstat -az TcpExtListenOverflows``
    shows), or None."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for head, values in zip(lines[::2], lines[1::2]):
        if head.startswith("TcpExt:"):
            names = head.split()[1:]
            numbers = values.split()[1:]
            if "ListenOverflows" in names:
                return int(numbers[names.index("ListenOverflows")])
    return None


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Target:
    """A server implementation under test: its interpreter, script and environment."""

    def __init__(self, name: str, python: str) -> None:
        self.name = name
        self.label = LABELS[name]
        self.python = python
        self.script = SERVERS[name]
        env = dict(os.environ)
        env.pop("PYTHONUNBUFFERED", None)
        if name == "mcplite":
            env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        else:
            env.pop("PYTHONPATH", None)  # the SDK server never sees the checkout
        self.env = env

    def argv(self, *args: str) -> List[str]:
        return [self.python, self.script] + list(args)


class HttpServer:
    """A target serving Streamable HTTP on 127.0.0.1 at a free port, stdout and stderr
    kept in temporary files."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.proc = None  # type: Optional[subprocess.Popen]
        self.port = 0
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()

    def start(self) -> "HttpServer":
        for _ in range(3):
            self.port = free_port()
            self.out.seek(0)
            self.out.truncate()
            self.err.seek(0)
            self.err.truncate()
            self.proc = spawn(self.target.argv("http", str(self.port)), stdin=subprocess.DEVNULL, stdout=self.out,
                              stderr=self.err, env=self.target.env, cwd=REPO)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection((HOST, self.port), 1.0).close()
                    return self
                except OSError:
                    time.sleep(0.05)
            stop(self.proc)
        raise RuntimeError("%s HTTP server did not start: %s" % (self.target.label, self.stderr_text()[-1500:]))

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else -1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def status(self) -> Tuple[Optional[float], Optional[int]]:
        return proc_status(self.pid)

    def stderr_text(self) -> str:
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def stdout_bytes(self) -> int:
        self.out.seek(0, os.SEEK_END)
        return self.out.tell()

    def stop(self) -> None:
        stop(self.proc)
        self.out.close()
        self.err.close()

    def __enter__(self) -> "HttpServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --------------------------------------------------------------------------- an HTTP/1.1 client

class HttpError(Exception):
    pass


class Reply:
    __slots__ = ("status", "headers", "body", "closed", "elapsed")

    def __init__(self, status: int, headers: Dict[str, str], body: bytes, closed: bool, elapsed: float) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.closed = closed
        self.elapsed = elapsed


class Http:
    """A minimal HTTP/1.1 client on one keep-alive socket: any bytes can be sent (no
    header validation, unlike ``http.client``), and the parse is just strict enough to
    find where a response ends (Content-Length, chunked, or the connection's close)."""

    MAX_BODY = 64 << 20

    def __init__(self, port: int, source: Optional[str] = None, timeout: float = WAIT_S) -> None:
        self.port = port
        self.source = source
        self.timeout = timeout
        self.sock = None  # type: Optional[socket.socket]
        self.buf = b""

    def connect(self) -> None:
        self.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            if self.source:
                sock.bind((self.source, 0))
            sock.connect((HOST, self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.buf = b""

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""

    def request(self, method: str, headers: List[Tuple[str, Any]], body: bytes = b"", path: str = PATH,
                timeout: Optional[float] = None) -> Reply:
        return self.raw(self.build(method, headers, body, path), method == "HEAD", timeout)

    def build(self, method: str, headers: List[Tuple[str, Any]], body: bytes = b"", path: str = PATH) -> bytes:
        lines = [("%s %s HTTP/1.1\r\n" % (method, path)).encode("latin-1")]
        names = set()
        for name, value in headers:
            names.add(name.lower())
            if not isinstance(value, bytes):
                value = str(value).encode("latin-1", "replace")
            lines.append(name.encode("latin-1") + b": " + value + b"\r\n")
        if "host" not in names:
            lines.insert(1, ("Host: 127.0.0.1:%d\r\n" % self.port).encode())
        if "content-length" not in names and "transfer-encoding" not in names and (body or method == "POST"):
            lines.append(b"Content-Length: %d\r\n" % len(body))
        return b"".join(lines) + b"\r\n" + body

    def raw(self, data: bytes, head: bool = False, timeout: Optional[float] = None) -> Reply:
        if self.sock is None:
            self.connect()
        started = time.monotonic()
        deadline = started + (timeout or self.timeout)
        try:
            assert self.sock is not None
            self.sock.sendall(data)
            return self.read_response(head, deadline, started)
        except BaseException:
            self.close()
            raise

    def _recv(self, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline")
        assert self.sock is not None
        self.sock.settimeout(remaining)
        return self.sock.recv(262144)

    def _until(self, marker: bytes, deadline: float, limit: int = 1 << 20) -> bytes:
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(marker):]
                return out
            if len(self.buf) > limit:
                raise HttpError("no %r within %d bytes" % (marker, limit))
            chunk = self._recv(deadline)
            if not chunk:
                raise HttpError("connection closed")
            self.buf += chunk

    def _exactly(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            chunk = self._recv(deadline)
            if not chunk:
                raise HttpError("connection closed mid-body")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_head(self, deadline: float) -> Tuple[int, Dict[str, str]]:
        head = self._until(b"\r\n\r\n", deadline)
        lines = head.split(b"\r\n")
        parts = lines[0].split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise HttpError("bad status line %r" % lines[0][:80])
        status = int(parts[1])
        headers = {}  # type: Dict[str, str]
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            key = name.strip().lower()
            headers[key] = (headers[key] + ", " if key in headers else "") + value.strip()
        return status, headers

    def read_response(self, head: bool, deadline: float, started: float) -> Reply:
        status, headers = self.read_head(deadline)
        while 100 <= status < 200:
            status, headers = self.read_head(deadline)
        closed = "close" in headers.get("connection", "").lower()
        if head or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            total = 0
            while True:
                size_line = self._until(b"\r\n", deadline)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self._until(b"\r\n", deadline):
                        pass  # trailers
                    break
                parts.append(self._exactly(size, deadline))
                self._exactly(2, deadline)
                total += size
                if total > self.MAX_BODY:
                    raise HttpError("body over %d bytes" % self.MAX_BODY)
            body = b"".join(parts)
        elif "content-length" in headers:
            body = self._exactly(int(headers["content-length"].split(",")[0]), deadline)
        else:
            while True:
                chunk = self._recv(deadline)
                if not chunk:
                    break
                self.buf += chunk
                if len(self.buf) > self.MAX_BODY:
                    raise HttpError("body over %d bytes" % self.MAX_BODY)
            body, self.buf = self.buf, b""
            closed = True
        if closed:
            self.close()
        return Reply(status, headers, body, closed, time.monotonic() - started)


def sse_messages(body: bytes) -> List[Any]:
    """The JSON messages in an SSE body (events' data lines joined), empty data skipped."""
    out = []
    for block in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = [line[5:].lstrip(b" ") if line.startswith(b"data:") else None for line in block.split(b"\n")]
        payload = b"\n".join(d for d in data if d is not None)
        if payload.strip():
            out.append(json.loads(payload.decode("utf-8")))
    return out


def rpc_messages(reply: Reply) -> List[Any]:
    """The JSON-RPC messages a response carries (batches flattened); raises ValueError on a
    body that claims JSON or SSE and is not."""
    ctype = reply.headers.get("content-type", "").lower()
    if "text/event-stream" in ctype:
        values = sse_messages(reply.body)
    elif reply.body.strip()[:1] in (b"{", b"[") or "json" in ctype:
        values = [json.loads(reply.body.decode("utf-8"))] if reply.body.strip() else []
    else:
        return []
    out = []
    for value in values:
        out.extend(value if isinstance(value, list) else [value])
    return out


def has_traceback(data: bytes) -> bool:
    return b"Traceback" in data or b'File "' in data


def init_body(version: str, rid: Any = "init") -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "abuse", "version": "1"}}}).encode()


INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'


def call_body(rid: Any, name: str, arguments: Dict[str, Any], modern: bool = False,
              progress: Any = None) -> bytes:
    params = {"name": name, "arguments": arguments}  # type: Dict[str, Any]
    meta = {}  # type: Dict[str, Any]
    if modern:
        meta.update({ac.META_VERSION: ac.MODERN_VERSION, ac.META_CAPS: {}})
    if progress is not None:
        meta["progressToken"] = progress
    if meta:
        params["_meta"] = meta
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}).encode()


def base_headers(session: Optional[str] = None, version: Optional[str] = None) -> List[Tuple[str, Any]]:
    headers = [("Content-Type", "application/json"), ("Accept", ACCEPT)]  # type: List[Tuple[str, Any]]
    if session:
        headers.append(("Mcp-Session-Id", session))
    if version:
        headers.append(("MCP-Protocol-Version", version))
    return headers


def modern_call_headers(name: str) -> List[Tuple[str, Any]]:
    return base_headers(None, ac.MODERN_VERSION) + [("Mcp-Method", "tools/call"), ("Mcp-Name", name)]


def sum_ok(message: Any, expected: int) -> bool:
    result = message.get("result") if isinstance(message, dict) else None
    if not isinstance(result, dict) or result.get("isError"):
        return False
    structured = result.get("structuredContent")
    if structured is not None:
        return structured in ({"result": expected}, expected)
    content = result.get("content")
    return (isinstance(content, list) and bool(content) and isinstance(content[0], dict)
            and str(content[0].get("text", "")).strip() == str(expected))


class Session:
    """A 2025-11-25 session on one keep-alive connection."""

    def __init__(self, port: int, source: Optional[str] = None, timeout: float = WAIT_S,
                 version: str = ac.LEGACY_VERSION) -> None:
        self.http = Http(port, source, timeout)
        self.version = version
        self.id = None  # type: Optional[str]
        self.n = 0

    def open(self) -> Reply:
        reply = self.http.request("POST", base_headers(), init_body(self.version))
        if reply.status != 200:
            raise HttpError("HTTP %d to initialize" % reply.status)
        self.id = reply.headers.get("mcp-session-id")
        if not self.id:
            raise HttpError("initialize: no Mcp-Session-Id")
        rpc_messages(reply)
        done = self.http.request("POST", self.headers(), INITIALIZED)
        if done.status not in (200, 202):
            raise HttpError("notifications/initialized: HTTP %d" % done.status)
        return reply

    def headers(self) -> List[Tuple[str, Any]]:
        return base_headers(self.id, self.version if self.version != ac.BATCH_VERSION else None)

    def add(self, a: int, b: int) -> Tuple[int, bool]:
        """(HTTP status, whether the answer was a + b)."""
        self.n += 1
        reply = self.http.request("POST", self.headers(), call_body(self.n, "add", {"a": a, "b": b}))
        if reply.status != 200:
            return reply.status, False
        messages = [m for m in rpc_messages(reply) if isinstance(m, dict) and m.get("id") == self.n]
        return reply.status, len(messages) == 1 and sum_ok(messages[0], a + b)

    def delete(self) -> None:
        try:
            if self.id:
                self.http.request("DELETE", self.headers(), timeout=5.0)
        except (OSError, HttpError, ValueError):
            pass

    def close(self) -> None:
        self.http.close()


def normal_call(port: int, source: Optional[str] = None, deadline_s: float = NEW_CLIENT_S) -> Dict[str, Any]:
    """A new client's first call: connect, initialize, ``add``; retried on 503/429 (after
    Retry-After, at most 1 s) and on connection errors until ``deadline_s``. Reports whether
    it was served, the seconds until it was, the attempts and the first refusal seen."""
    started = time.monotonic()
    attempts = 0
    first_refusal = None  # type: Optional[str]
    while True:
        attempts += 1
        session = Session(port, source, timeout=max(1.0, deadline_s))
        try:
            session.open()
            status, ok = session.add(2, 3)
            if ok:
                session.delete()
                return {"served": True, "seconds": round(time.monotonic() - started, 3), "attempts": attempts,
                        "first_refusal": first_refusal}
            refusal = "HTTP %d" % status
        except HttpError as exc:
            refusal = str(exc)[:80]
        except (OSError, ValueError) as exc:
            refusal = type(exc).__name__
        finally:
            session.close()
        if first_refusal is None:
            first_refusal = refusal
        if time.monotonic() - started > deadline_s:
            return {"served": False, "seconds": round(time.monotonic() - started, 3), "attempts": attempts,
                    "first_refusal": first_refusal}
        time.sleep(0.25 if "503" in refusal or "429" in refusal else 0.1)


def settle_threads(server: HttpServer, baseline: Optional[int], limit: float = SETTLE_S) -> Tuple[Optional[int], float]:
    """Wait until the server's threads are back to ``baseline`` (at most two seconds more once
    within THREADS_TOL of it, at most ``limit`` seconds in all); (threads then, seconds waited)."""
    started = time.monotonic()
    threads = server.status()[1]
    while baseline is not None and threads is not None and threads > baseline:
        waited = time.monotonic() - started
        # Within the tolerance, two more seconds for the last ones; beyond it, up to ``limit``.
        if waited >= limit or (threads <= baseline + THREADS_TOL and waited >= 2.0):
            break
        time.sleep(0.2)
        threads = server.status()[1]
    return threads, round(time.monotonic() - started, 1)


def rss_back(before: Optional[float], after: Optional[float]) -> bool:
    if before is None or after is None:
        return True
    return after <= before + max(RSS_TOL_MIB, RSS_TOL_FRAC * before)


def threads_back(before: Optional[int], after: Optional[int]) -> bool:
    if before is None or after is None:
        return True
    return after <= before + THREADS_TOL


# --------------------------------------------------------------------------- fuzz tallies

class Tally:
    """Replies counted by id for one lane's cases (across server restarts)."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.counts = {}  # type: Dict[Any, int]
        self.null_errors = 0
        self.other_ids = 0  # replies whose id is no usable id (bool, float...) but not null
        self.server_messages = 0  # notifications and requests from the server
        self.strays = 0  # stdout lines that are not JSON-RPC
        self.stray_samples = []  # type: List[str]
        self.tracebacks = 0
        self.traceback_samples = []  # type: List[str]

    def take(self, message: Any) -> None:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            self.stray("not a JSON-RPC message: %r" % (json.dumps(message)[:120],))
            return
        if "method" in message:
            self.server_messages += 1
            return
        if "result" not in message and "error" not in message:
            self.stray("neither result nor error: %r" % (json.dumps(message)[:120],))
            return
        rid = message.get("id")
        if rid is None:
            self.null_errors += 1
            return
        key = ac.id_key(rid)
        if key is None:
            self.other_ids += 1
            return
        self.counts[key] = self.counts.get(key, 0) + 1

    def stray(self, what: str) -> None:
        self.strays += 1
        if len(self.stray_samples) < 3:
            self.stray_samples.append(what)

    def traceback(self, data: bytes) -> None:
        self.tracebacks += 1
        if len(self.traceback_samples) < 2:
            self.traceback_samples.append(data[:300].decode("utf-8", "replace"))

    def answered(self, keys: List[Any]) -> bool:
        return all(self.counts.get(k, 0) >= 1 for k in keys)


def score(cases: List[ac.Case], tally: Tally, control: set) -> Dict[str, Any]:
    """Each case's ids against the replies counted."""
    owed = once = unanswered = twice = extra = 0
    planted = set()
    samples = []  # type: List[str]
    by_category = {}  # type: Dict[str, int]
    for case in cases:
        planted.update(case.planted)
        for key in case.owed:
            owed += 1
            count = tally.counts.get(key, 0)
            if count == 1:
                once += 1
            elif count == 0:
                unanswered += 1
                by_category[case.category] = by_category.get(case.category, 0) + 1
                if len(samples) < 4:
                    samples.append("unanswered %s: %r" % (case.category, case.data[:150]))
            else:
                twice += 1
                if len(samples) < 4:
                    samples.append("answered %d times %s: %r" % (count, case.category, case.data[:150]))
        for key in case.planted:
            if key in case.owed:
                continue
            count = tally.counts.get(key, 0)
            if count >= 2:
                twice += 1
                if len(samples) < 4:
                    samples.append("answered %d times %s: %r" % (count, case.category, case.data[:150]))
            elif count == 1:
                extra += 1
    unknown = sum(c for key, c in tally.counts.items() if key not in planted and key not in control)
    return {"cases": len(cases), "owed": owed, "answered_once": once, "unanswered": unanswered, "answered_twice": twice,
            "answered_not_owed": extra, "replies_unknown_id": unknown, "replies_other_id_type": tally.other_ids,
            "null_id_errors": tally.null_errors, "unanswered_by_category": by_category, "samples": samples}


def merge_scores(parts: List[Dict[str, Any]]) -> Dict[str, Any]:
    out = {}  # type: Dict[str, Any]
    for part in parts:
        for key, value in part.items():
            if isinstance(value, bool):
                out[key] = out.get(key, True) and value
            elif isinstance(value, (int, float)):
                out[key] = out.get(key, 0) + value
            elif isinstance(value, list):
                out[key] = (out.get(key, []) + value)[:6]
            elif isinstance(value, dict) and key == "unanswered_by_category":
                merged = out.setdefault(key, {})
                for k, v in value.items():
                    merged[k] = merged.get(k, 0) + v
    return out


# --------------------------------------------------------------------------- stdio fuzz

class StdioPeer:
    """A target's stdio server with a reader thread counting its output into a Tally."""

    def __init__(self, target: Target, tally: Tally, argv: Optional[List[str]] = None) -> None:
        self.target = target
        self.tally = tally
        self.err = tempfile.TemporaryFile()
        self.proc = spawn(argv or target.argv("stdio"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=self.err, env=target.env, cwd=REPO)
        self.eof = False
        self.replies = {}  # type: Dict[Any, Any]   # control ids -> their reply
        self.thread = threading.Thread(target=self._read, name="stdio-reader", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        tally = self.tally
        try:
            for line in iter(self.proc.stdout.readline, b""):
                with tally.lock:
                    if has_traceback(line):
                        tally.traceback(line)
                    try:
                        message = json.loads(line.decode("utf-8"))
                    except ValueError:
                        tally.stray("not JSON: %r" % line[:120])
                        tally.lock.notify_all()
                        continue
                    items = message if isinstance(message, list) else [message]
                    if not items:
                        tally.stray("an empty array")
                    for item in items:
                        tally.take(item)
                        if isinstance(item, dict) and isinstance(item.get("id"), str) \
                                and item["id"].startswith("ctl-"):
                            self.replies[item["id"]] = item
                    tally.lock.notify_all()
        except (OSError, ValueError):
            pass
        with tally.lock:
            self.eof = True
            tally.lock.notify_all()

    def send(self, data: bytes) -> bool:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(data + b"\n")
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def send_json(self, message: Any) -> bool:
        return self.send(json.dumps(message).encode())

    def wait(self, keys: List[Any], timeout: float) -> bool:
        with self.tally.lock:
            return self.tally.lock.wait_for(lambda: self.tally.answered(keys) or self.eof, timeout) \
                and self.tally.answered(keys)

    def request(self, rid: str, method: str, params: Optional[Dict[str, Any]] = None,
                timeout: float = WAIT_S) -> Optional[Any]:
        """Send a control request (id ``ctl-...``) and wait for its reply."""
        message = {"jsonrpc": "2.0", "id": rid, "method": method}  # type: Dict[str, Any]
        if params is not None:
            message["params"] = params
        if not self.send_json(message):
            return None
        self.wait([("s", rid)], timeout)
        return self.replies.get(rid)

    def setup(self, lane: ac.Lane) -> bool:
        if lane.modern:
            reply = self.request("ctl-discover", "server/discover", {"_meta": {
                ac.META_VERSION: ac.MODERN_VERSION, ac.META_CAPS: {}}}, timeout=60)
            return reply is not None and "result" in reply
        reply = self.request("ctl-init", "initialize", json.loads(init_body(lane.version))["params"], timeout=60)
        ok = reply is not None and "result" in reply
        self.send(INITIALIZED)
        return ok

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close_input(self, limit: float = 10.0) -> Optional[float]:
        """Close the server's stdin; seconds until it exited, or None if it did not within
        ``limit`` (it is then killed)."""
        started = time.monotonic()
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(limit)
            return round(time.monotonic() - started, 2)
        except subprocess.TimeoutExpired:
            return None

    def stderr_text(self) -> str:
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def stop(self) -> None:
        stop(self.proc)
        self.thread.join(2)
        self.err.close()


def add_params(a: int, b: int, modern: bool) -> Dict[str, Any]:
    params = {"name": "add", "arguments": {"a": a, "b": b}}  # type: Dict[str, Any]
    if modern:
        params["_meta"] = {ac.META_VERSION: ac.MODERN_VERSION, ac.META_CAPS: {}}
    return params


def stdio_lane(target: Target, lane: ac.Lane, cases: List[ac.Case]) -> Dict[str, Any]:
    tally = Tally()
    control = set()
    peer = StdioPeer(target, tally)
    deaths = stalls = 0
    stderr_tracebacks = 0
    first_death = None  # type: Optional[str]
    try:
        if not peer.setup(lane):
            raise RuntimeError("%s stdio server did not answer its handshake: %s"
                               % (target.label, peer.stderr_text()[-800:]))
        for start in range(0, len(cases), CHUNK):
            if not peer.alive():
                deaths += 1
                if first_death is None:
                    first_death = "exit %s before case %d: %s" % (peer.proc.returncode, start,
                                                                  peer.stderr_text()[-300:].strip())
                stderr_tracebacks += peer.stderr_text().count("Traceback")
                peer.stop()
                peer = StdioPeer(target, tally)
                if not peer.setup(lane):
                    break
            chunk = cases[start:start + CHUNK]
            keys = []  # type: List[Any]
            for case in chunk:
                if not peer.send(case.data):
                    break
                keys.extend(case.owed)
            barrier = "ctl-barrier-%d" % start
            control.add(("s", barrier))
            peer.send_json({"jsonrpc": "2.0", "id": barrier, "method": "ping"})
            # The barrier's answer says the server has read the chunk; its requests then get a
            # short grace (they may run on workers). Late answers are still counted: the reader
            # tallies everything until the lane ends.
            if not peer.wait([("s", barrier)], WAIT_S):
                stalls += 1
            peer.wait(keys, 1.0)
        peer.wait([k for c in cases for k in c.owed], 3.0)
        alive = peer.alive()
        reply = peer.request("ctl-final", "tools/call", add_params(2, 3, lane.modern))
        normal = reply is not None and sum_ok(reply, 5)
        time.sleep(0.2)  # anything late still lands in the tally
        exit_s = peer.close_input()
        stderr = peer.stderr_text()
        stderr_tracebacks += stderr.count("Traceback")
        peer.thread.join(2)
    finally:
        peer.stop()
    for rid in ("ctl-init", "ctl-discover", "ctl-final"):
        control.add(("s", rid))
    out = score(cases, tally, control)
    out.update({"reply_tracebacks": tally.tracebacks, "stray_lines": tally.strays, "deaths": deaths,
                "stalls": stalls, "alive_after": alive and deaths == 0, "normal_after": normal,
                "exit_s": exit_s if exit_s is not None else -1.0, "stderr_tracebacks": stderr_tracebacks})
    out["samples"] = out["samples"] + tally.stray_samples + tally.traceback_samples
    if first_death:
        out["samples"].append("died: " + first_death)
    return out


def run_stdio_fuzz(target: Target, sizes: Dict[str, int], seed: int) -> Dict[str, Any]:
    lanes = {}
    started = time.monotonic()
    for name, count in sizes.items():
        lane = ac.LANES[name]
        cases = ac.generate(seed, lane, "stdio", count)
        t0 = time.monotonic()
        lanes[name] = stdio_lane(target, lane, cases)
        lanes[name]["seconds"] = round(time.monotonic() - t0, 1)
        log("  stdio %s lane: %d cases in %.1f s" % (name, len(cases), lanes[name]["seconds"]))
    total = merge_scores(list(lanes.values()))
    exits = [v["exit_s"] for v in lanes.values()]
    total["exit_s"] = -1.0 if min(exits) < 0 else max(exits)  # -1: a lane's server did not exit
    total["seconds"] = round(time.monotonic() - started, 1)
    total["lanes"] = lanes
    return total


# --------------------------------------------------------------------------- HTTP fuzz

def _header_safe(value: str) -> bool:
    return (bool(value) and value == value.strip(" \t") and len(value) <= 4000
            and all(" " <= ch <= "~" for ch in value))


def modern_headers(case: ac.Case) -> Tuple[List[Tuple[str, Any]], bool]:
    """2026-07-28 headers derived from the body, and whether they agree with it exactly
    (when they cannot, the server refuses the POST and need not name the id)."""
    headers = base_headers(None, ac.MODERN_VERSION)
    try:
        message = ac.strict_parse(case.data)
    except ValueError:
        headers.append(("Mcp-Method", "tools/call"))
        return headers, False
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        headers.append(("Mcp-Method", "tools/call"))
        return headers, False
    method = message["method"]
    consistent = _header_safe(method)
    headers.append(("Mcp-Method", method.encode("utf-8", "surrogatepass")))
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    if isinstance(meta, dict) and meta.get(ac.META_VERSION, ac.MODERN_VERSION) != ac.MODERN_VERSION:
        consistent = False
    key = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri", "tasks/get": "taskId",
           "tasks/update": "taskId", "tasks/cancel": "taskId"}.get(method)
    if key is not None:
        value = params.get(key) if isinstance(params, dict) else None
        if not isinstance(value, str):
            consistent = False
        elif _header_safe(value):
            headers.append(("Mcp-Name", value))
        else:
            try:
                encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
                headers.append(("Mcp-Name", "=?base64?%s?=" % encoded))
            except UnicodeEncodeError:
                consistent = False  # a lone surrogate has no UTF-8 form to encode
    return headers, consistent


HEADER_MUTATIONS = (
    ("content-type", None), ("content-type", "text/plain"), ("content-type", "application/json; charset=utf-8"),
    ("content-type", "APPLICATION/JSON"), ("content-type", "application/jsonx"), ("content-type", ""),
    ("accept", None), ("accept", "application/json"), ("accept", "text/event-stream"), ("accept", "*/*"),
    ("accept", "garbage;;;q=x"), ("host", None), ("host", "evil.example"), ("host", "127.0.0.1:1"),
    ("host", "localhost"), ("host", "[::1]"), ("host", ""), ("origin", "http://evil.example"),
    ("origin", "http://localhost"), ("origin", "null"), ("origin", "x"), ("mcp-protocol-version", "garbage"),
    ("mcp-protocol-version", "1999-01-01"), ("mcp-protocol-version", ac.MODERN_VERSION),
    ("mcp-protocol-version", ""), ("mcp-session-id", "x" * 5000), ("mcp-session-id", ""),
    ("mcp-session-id", "not-a-session"), ("mcp-session-id", "\u00ff\u00fe"), ("last-event-id", "9.9"),
    ("content-length", "0"), ("x-long", "v" * 60000), ("transfer-encoding", "identity"),
    ("authorization", "Bearer x"), ("expect", "100-continue"), ("connection", "close"),
)
METHOD_MUTATIONS = ("GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FOO", "post", "CONNECT")
PATH_MUTATIONS = ("/mcp/", "/MCP", "/mcp?x=1", "/mcp%00", "/mcp/../mcp", "/", "/sse", "/messages",
                  "/messages?session_id=nope", "/.well-known/oauth-protected-resource/mcp", "/" + "a" * 9000,
                  "*", "http://127.0.0.1/mcp", "/mcp#frag")


def header_cases(rng: random.Random, count: int) -> List[Tuple[str, str, List[Tuple[str, Any]], bytes, str]]:
    """(method, path, header edits, body, label) for the headers lane; the session's own
    headers are filled in when sent."""
    bodies = [b'{"jsonrpc":"2.0","id":%d,"method":"ping"}', b'{"jsonrpc":"2.0","id":%d,"method":"tools/list"}',
              b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}']
    out = []
    for i in range(count):
        body = rng.choice(bodies) % (900000 + i)
        pick = rng.random()
        if pick < 0.6:
            name, value = HEADER_MUTATIONS[i % len(HEADER_MUTATIONS)]
            out.append(("POST", PATH, [(name, value)], body, "header %s=%r" % (name, (value or "")[:20])))
        elif pick < 0.8:
            method = METHOD_MUTATIONS[i % len(METHOD_MUTATIONS)]
            out.append((method, PATH, [], body if rng.random() < 0.5 else b"", "method " + method))
        else:
            path = PATH_MUTATIONS[i % len(PATH_MUTATIONS)]
            out.append(("POST", path, [], body, "path " + path[:30]))
    return out


def raw_cases(rng: random.Random, count: int, port: int) -> List[Tuple[bytes, str]]:
    """Malformed HTTP, each sent on a fresh connection then half-closed."""
    host = b"Host: 127.0.0.1:%d\r\n" % port
    ok_body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
    ct = b"Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
    fixed = [
        (b"GET / HTTP/1.1\r\n\r\n", "no Host"),
        (b"POST /mcp HTTP/9.9\r\n" + host + b"\r\n", "HTTP/9.9"),
        (b"POST /mcp\r\n\r\n", "HTTP/0.9 form"),
        (b"POST  /mcp  HTTP/1.1\r\n" + host + b"\r\n", "double spaces"),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/2 preface"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40, "TLS hello"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: -1\r\n\r\n" + ok_body, "Content-Length -1"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: abc\r\n\r\n" + ok_body, "Content-Length abc"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: 1e3\r\n\r\n" + ok_body, "Content-Length 1e3"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: 99999999999999999999999\r\n\r\n" + ok_body,
         "Content-Length huge"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: 5\r\nContent-Length: 40\r\n\r\n" + ok_body,
         "two Content-Lengths"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"28\r\n" + ok_body + b"\r\n0\r\n\r\n", "Content-Length and chunked"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
         "bad chunk size"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: 500\r\n\r\n" + ok_body,
         "body shorter than declared"),
        (b"POST /mcp HTTP/1.1\r\n" + host + b"NoColonHere\r\n\r\n", "header without colon"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"X-Fold: a\r\n  folded\r\nContent-Length: 40\r\n\r\n" + ok_body,
         "obs-fold"),
        (b"POST /mcp HTTP/1.1\r\n" + host + b"X-Nul: a\x00b\r\n\r\n", "NUL in a header"),
        (b"POST /mcp HTTP/1.1\r\n" + host + b"Bad Name: x\r\n\r\n", "space in a header name"),
        (b"POST /mcp HTTP/1.1\r\n" + host + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n",
         "150 headers"),
        (b"POST /mcp HTTP/1.1\r\n" + host + b"X-Big: " + b"v" * 70000 + b"\r\n\r\n", "70 KB header line"),
        (b"POST /" + b"a" * 70000 + b" HTTP/1.1\r\n" + host + b"\r\n", "70 KB request line"),
        (b"POST /mcp HTTP/1.0\r\n" + ct + b"Content-Length: 40\r\n\r\n" + ok_body, "HTTP/1.0 without Host"),
        (b"POST http://127.0.0.1/mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: 40\r\n\r\n" + ok_body,
         "absolute-form target"),
        (b"post /mcp HTTP/1.1\r\n" + host + b"\r\n", "lower-case method"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Expect: 100-continue\r\nContent-Length: 40\r\n\r\n" + ok_body,
         "Expect: 100-continue"),
        (b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: 40\r\n\r\n" + ok_body
         + b"POST /mcp HTTP/1.1\r\n" + host + ct + b"Content-Length: 40\r\n\r\n" + ok_body, "two pipelined requests"),
        (b"\r\n\r\n\r\n", "empty lines"),
        (b"GET /mcp HTTP/1.1\r\n" + host + b"Accept: text/event-stream\r\nMcp-Session-Id: nope\r\n\r\n",
         "GET with a bogus session"),
        (b"POST /mcp HTTP/1.1\r\n" + host + b"Content-Type: application/json\r\n\xff\xfe: \xff\r\n\r\n",
         "non-ASCII header bytes"),
    ]
    out = []
    for i in range(count):
        if i % 4 == 3:
            n = rng.choice((1, 16, 200, 2000))
            junk = bytes(rng.getrandbits(8) for _ in range(n))
            out.append((junk + (b"\r\n\r\n" if rng.random() < 0.5 else b""), "random bytes"))
        else:
            out.append(fixed[(i - i // 4) % len(fixed)])
    return out


def http_exchange(http: Http, method: str, headers: List[Tuple[str, Any]], body: bytes, path: str = PATH,
                  timeout: float = WAIT_S) -> Tuple[Optional[Reply], str]:
    """One request; (the reply, or None and why)."""
    for attempt in range(2):
        try:
            return http.request(method, headers, body, path, timeout), ""
        except socket.timeout:
            http.close()
            return None, "timeout"
        except (HttpError, OSError, ValueError) as exc:
            http.close()
            if attempt == 0 and isinstance(exc, (BrokenPipeError, ConnectionResetError)):
                continue  # the server closed the keep-alive connection before this request
            return None, type(exc).__name__ + ": " + str(exc)[:60]
    return None, "failed"


class HttpFuzzStats:
    def __init__(self) -> None:
        self.statuses = {}  # type: Dict[str, int]
        self.server_errors = 0  # 500 and 503: an internal error, or a "busy" no sequential client should see
        self.other_5xx = 0
        self.tracebacks = 0
        self.timeouts = 0
        self.no_answer = 0  # connection closed without a response
        self.bad_bodies = 0  # a JSON or SSE body that does not parse
        self.samples = []  # type: List[str]
        self.sessions_lost = 0

    def record(self, reply: Optional[Reply], why: str, label: str) -> None:
        if reply is None:
            if why == "timeout":
                self.timeouts += 1
            else:
                self.no_answer += 1
            key = "none"
        else:
            key = str(reply.status)
            if reply.status in (500, 503):
                self.server_errors += 1
                self.sample("HTTP %d for %s: %r" % (reply.status, label, reply.body[:160]))
            elif reply.status >= 500:
                self.other_5xx += 1
            if has_traceback(reply.body):
                self.tracebacks += 1
                self.sample("traceback for %s: %r" % (label, reply.body[:200]))
        self.statuses[key] = self.statuses.get(key, 0) + 1

    def sample(self, what: str) -> None:
        if len(self.samples) < 6:
            self.samples.append(what)


def run_http_fuzz(target: Target, sizes: Dict[str, int], seed: int) -> Dict[str, Any]:
    started = time.monotonic()
    stats = HttpFuzzStats()
    scores = {}
    with HttpServer(target) as server:
        port = server.port
        # Body lanes: a session (2025-11-25), a 2025-03-26 session, 2026-07-28, no session.
        for name in ("session", "batch", "modern", "nosession"):
            count = sizes.get(name, 0)
            if not count:
                continue
            lane = ac.LANES["batch" if name == "batch" else "modern" if name == "modern" else "legacy"]
            session = None  # type: Optional[Session]
            if name in ("session", "batch"):
                session = Session(port, version=lane.version)
                session.open()

            def headers_for(case: ac.Case, name: str = name) -> Tuple[List[Tuple[str, Any]], bool]:
                if name == "modern":
                    return modern_headers(case)
                if name == "nosession":
                    return base_headers("bogus-session" if len(case.data) % 2 else None), False
                return [], True  # filled in below with the live session's id
            cases = ac.generate(seed, lane, "http", count, http_headers=headers_for)
            tally = Tally()
            http = session.http if session is not None else Http(port)
            for case in cases:
                headers = case.headers
                if session is not None:
                    headers = session.headers()
                listen = b"subscriptions/listen" in case.data
                reply, why = http_exchange(http, "POST", headers, case.data,
                                       timeout=1.0 if listen else WAIT_S)  # type: Tuple[Optional[Reply], str]
                if listen and reply is None:
                    why = "held"  # a listen stream stays open: that is its point
                if why != "held":
                    stats.record(reply, why, "%s/%s" % (name, case.category))
                if reply is None:
                    continue
                if reply.status == 404 and session is not None and b"ession" in reply.body:
                    stats.sessions_lost += 1
                    session.close()
                    session.open()
                    http = session.http
                try:
                    for message in rpc_messages(reply):
                        tally.take(message)
                except ValueError:
                    stats.bad_bodies += 1
                    stats.sample("unparsable %s body for %s: %r" % (reply.headers.get("content-type"), case.category,
                                                                    reply.body[:120]))
            scores[name] = score(cases, tally, set())
            if session is not None:
                session.delete()
                session.close()
            else:
                http.close()
        # Mutated headers, methods and paths, in a session of their own.
        rng = random.Random("abuse/%s/http-headers" % seed)
        session = Session(port)
        session.open()
        for method, path, edits, body, label in header_cases(rng, sizes.get("headers", 0)):
            headers = {k.lower(): (k, v) for k, v in session.headers()}
            for name, value in edits:
                if value is None:
                    headers.pop(name, None)
                else:
                    headers[name] = (name, value.encode("utf-8") if isinstance(value, str) else value)
            # A connection per case: a lying Content-Length leaves bytes that the server reads
            # as the next request, which would answer this client's next case.
            http = Http(port, timeout=5.0)
            if method == "GET":
                # A GET opens a stream that stays open: its status is the answer.
                try:
                    http.connect()
                    assert http.sock is not None
                    http.sock.sendall(http.build(method, list(headers.values()), body, path))
                    status, got = http.read_head(time.monotonic() + 5.0)
                    reply, why = Reply(status, got, b"", True, 0.0), ""
                except socket.timeout:
                    reply, why = None, "timeout"
                except (HttpError, OSError, ValueError) as exc:
                    reply, why = None, str(exc)
            else:
                reply, why = http_exchange(http, method, list(headers.values()), body, path, timeout=5.0)
            http.close()
            stats.record(reply, why, label)
            if method == "DELETE" and reply is not None and reply.status == 200:
                session.close()
                session = Session(port)
                session.open()
        session.close()
        # Raw malformed HTTP, each on its own connection, half-closed after sending.
        rng = random.Random("abuse/%s/http-raw" % seed)
        for data, label in raw_cases(rng, sizes.get("raw", 0), port):
            http = Http(port, timeout=5.0)
            try:
                http.connect()
                assert http.sock is not None
                http.sock.sendall(data)
                http.sock.shutdown(socket.SHUT_WR)
                reply = http.read_response(False, time.monotonic() + 5.0, time.monotonic())
                why = ""
            except socket.timeout:
                reply, why = None, "timeout"
            except (HttpError, OSError, ValueError) as exc:
                reply, why = None, str(exc)
            finally:
                http.close()
            stats.record(reply, why, "raw " + label)
        alive = server.alive()
        normal = normal_call(port)["served"]
        stderr = server.stderr_text()
        stdout_bytes = server.stdout_bytes()
    total = merge_scores(list(scores.values()))
    total.update({
        "lanes": scores, "statuses": stats.statuses, "server_errors": stats.server_errors,
        "other_5xx": stats.other_5xx, "reply_tracebacks": stats.tracebacks, "timeouts": stats.timeouts,
        "closed_without_answer": stats.no_answer, "bad_bodies": stats.bad_bodies,
        "sessions_lost": stats.sessions_lost, "alive_after": alive, "normal_after": normal,
        "stderr_tracebacks": stderr.count("Traceback"), "stdout_bytes": stdout_bytes,
        "requests": sum(stats.statuses.values()), "seconds": round(time.monotonic() - started, 1)})
    total["samples"] = (total.get("samples", []) + stats.samples)[:10]
    return total


# --------------------------------------------------------------------------- load

class Monitor(threading.Thread):
    """Samples a server's RSS and threads every 100 ms; keeps the peaks."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="monitor", daemon=True)
        self.pid = pid
        self.peak_rss = 0.0
        self.peak_threads = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            rss, threads = proc_status(self.pid)
            if rss is not None:
                self.peak_rss = max(self.peak_rss, rss)
            if threads is not None:
                self.peak_threads = max(self.peak_threads, threads)
            self.halt.wait(0.1)

    def stop(self) -> None:
        self.halt.set()
        self.join(2)


def slow_call(port: int, session: Optional[str], rid: int, seconds: float) -> None:
    http = Http(port, timeout=seconds + WAIT_S)
    try:
        http.request("POST", base_headers(session, ac.LEGACY_VERSION),
                     call_body(rid, "slow", {"seconds": seconds}, progress="w%d" % rid))
    except (OSError, HttpError, ValueError):
        pass
    finally:
        http.close()


def nap_call(port: int, session: Optional[str], rid: int, seconds: float) -> None:
    http = Http(port, timeout=seconds + WAIT_S)
    try:
        http.request("POST", base_headers(session, ac.LEGACY_VERSION), call_body(rid, "nap", {"seconds": seconds}))
    except (OSError, HttpError, ValueError):
        pass
    finally:
        http.close()


def warm_up(server: HttpServer) -> Tuple[Optional[float], Optional[int]]:
    """Bring the server to its working size before a baseline: a session, 20 concurrent
    ``slow`` calls (mcplite's worker pool then has its 16 threads, which it keeps, as after
    any busy moment) and 40 concurrent ``nap`` calls; then (RSS, threads) once settled."""
    session = Session(server.port)
    session.open()
    threads = [threading.Thread(target=slow_call, args=(server.port, session.id, i, 0.3)) for i in range(20)]
    # ... and 40 concurrent ``nap`` calls: the SDK runs a synchronous tool on a thread of its
    # own worker pool (anyio's, at most 40), which it keeps as well. Both baselines then hold
    # their server's pools at full size: what a load leaves behind is what it added.
    threads += [threading.Thread(target=nap_call, args=(server.port, session.id, 100 + i, 0.3)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S + 5)
    session.delete()
    session.close()
    time.sleep(1.0)
    return server.status()


def percentile(values: List[float], p: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


def run_load(target: Target, clients: int, seconds: float) -> Dict[str, Any]:
    with HttpServer(target) as server:
        port = server.port
        rss0, threads0 = warm_up(server)
        overflows0 = listen_overflows()
        monitor = Monitor(server.pid)
        monitor.start()
        lock = threading.Lock()
        ready = [0]
        go = threading.Event()
        stop_at = [0.0]
        records = []  # type: List[Dict[str, Any]]

        def client(k: int) -> None:
            record = {"lat": [], "errors": {}, "reopened": 0}  # type: Dict[str, Any]
            errors = record["errors"]
            with lock:
                records.append(record)
            session = Session(port, SOURCES[k % len(SOURCES)], timeout=WAIT_S)
            try:
                session.open()
            except (OSError, HttpError, ValueError) as exc:
                errors["handshake " + type(exc).__name__] = 1
                session.close()
                return
            finally:
                with lock:
                    ready[0] += 1
            go.wait(180)
            i = 0
            while time.monotonic() < stop_at[0]:
                i += 1
                t0 = time.perf_counter()
                try:
                    status, ok = session.add(i, k)
                except socket.timeout:
                    errors["timeout"] = errors.get("timeout", 0) + 1
                    session.http.close()
                    continue
                except (OSError, HttpError, ValueError) as exc:
                    name = type(exc).__name__
                    errors[name] = errors.get(name, 0) + 1
                    session.http.close()
                    time.sleep(0.05)
                    continue
                if ok:
                    record["lat"].append(time.perf_counter() - t0)
                    continue
                what = "HTTP %d" % status if status != 200 else "wrong answer"
                errors[what] = errors.get(what, 0) + 1
                if status == 404:
                    # The session ended (evicted to make room): a real client starts another.
                    record["reopened"] += 1
                    try:
                        session.close()
                        session.open()
                    except (OSError, HttpError, ValueError):
                        time.sleep(0.1)
                elif status in (429, 503):
                    time.sleep(0.1)
            session.delete()
            session.close()

        workers = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 180
        while ready[0] < clients and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        stop_at[0] = started + seconds
        go.set()
        for w in workers:
            w.join(max(1.0, stop_at[0] + 2 * WAIT_S - time.monotonic()))
        elapsed = time.monotonic() - started
        monitor.stop()
        overflows1 = listen_overflows()
        threads1, settle_s = settle_threads(server, threads0)
        time.sleep(0.5)
        rss1 = server.status()[0]
        alive = server.alive()
        normal = normal_call(port)["served"]
    latencies = [x for r in records for x in r["lat"]]
    errors = {}  # type: Dict[str, int]
    for r in records:
        for key, n in r["errors"].items():
            errors[key] = errors.get(key, 0) + n
    p50 = percentile(latencies, 50)
    p99 = percentile(latencies, 99)
    return {
        "clients": clients, "seconds": round(elapsed, 1), "calls": len(latencies),
        "calls_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0,
        "p50_ms": round(p50 * 1000, 2) if p50 is not None else None,
        "p99_ms": round(p99 * 1000, 2) if p99 is not None else None,
        "errors": sum(errors.values()), "error_kinds": errors,
        "wrong_answers": errors.get("wrong answer", 0), "sessions_reopened": sum(r["reopened"] for r in records),
        "rss_before": rss0, "rss_peak": monitor.peak_rss or None, "rss_after": rss1,
        "threads_before": threads0, "threads_peak": monitor.peak_threads or None, "threads_after": threads1,
        "settle_s": settle_s,
        "listen_overflows": (overflows1 - overflows0) if overflows0 is not None and overflows1 is not None else None,
        "alive_after": alive, "normal_after": normal,
    }


# --------------------------------------------------------------------------- exhaustion

def open_sockets(port: int, count: int, source: str) -> List[socket.socket]:
    out = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5.0)
        try:
            s.bind((source, 0))
            s.connect((HOST, port))
            out.append(s)
        except OSError:
            s.close()
    return out


def close_sockets(socks: List[socket.socket]) -> None:
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def refused_count(socks: List[socket.socket]) -> int:
    """How many held sockets the server has answered (503) or closed by now."""
    n = 0
    for s in socks:
        try:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                n += 1
        except (OSError, ValueError):
            n += 1
    return n


def baseline(server: HttpServer) -> Tuple[Optional[float], Optional[int]]:
    normal_call(server.port)
    time.sleep(0.5)
    return server.status()


def siege_idle(target: Target, idle: int, slowloris: int, hold: float) -> Dict[str, Any]:
    """Idle connections and slowloris senders held from one address, then a new client.
    With ``hold``, the slowloris senders go on dripping (a byte a second) until that many
    seconds have passed, then how many the server has closed is counted: whether a request
    whose headers never end is bounded in time, or only each wait for a byte."""
    with HttpServer(target) as server:
        rss0, threads0 = baseline(server)
        opened = time.monotonic()
        # The slowloris senders first, so that they are accepted, whatever the connection bound.
        slow = open_sockets(server.port, slowloris, SIEGE_SOURCE)
        quiet = open_sockets(server.port, idle, SIEGE_SOURCE)
        halt = threading.Event()

        for s in slow:
            try:
                s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % server.port)
            except OSError:
                pass

        def drip() -> None:
            while not halt.wait(1.0):
                for s in slow:
                    try:
                        s.send(b"a")
                    except OSError:
                        pass
        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        time.sleep(1.5)
        refused = refused_count(quiet + slow)
        rss1, threads1 = server.status()
        new = normal_call(server.port, NEW_CLIENT_SOURCE)
        close_sockets(quiet)
        slow_open = None
        if hold:
            while time.monotonic() - opened < hold:
                time.sleep(0.25)
            slow_open = len(slow) - refused_count(slow)
        halt.set()
        dripper.join(3)
        close_sockets(slow)
        threads2, settle_s = settle_threads(server, threads0)
        rss2 = server.status()[0]
        alive = server.alive()
        normal = normal_call(server.port)["served"]
    return {"idle": len(quiet), "slowloris": len(slow), "refused_or_closed": refused, "new_client": new,
            "slowloris_hold_s": hold, "slowloris_still_open": slow_open,
            "rss_before": rss0, "rss_during": rss1, "rss_after": rss2, "threads_before": threads0,
            "threads_during": threads1, "threads_after": threads2, "settle_s": settle_s,
            "alive_after": alive, "normal_after": normal}


def siege_streams(target: Target, streams: int) -> Dict[str, Any]:
    """GET SSE streams held open (a session each), then a new client."""
    with HttpServer(target) as server:
        port = server.port
        rss0, threads0 = baseline(server)
        sessions = []
        opener = Http(port, SIEGE_SOURCE)
        for i in range(streams):
            try:
                reply = opener.request("POST", base_headers(), init_body(ac.LEGACY_VERSION, i))
                sid = reply.headers.get("mcp-session-id")
                if reply.status == 200 and sid:
                    opener.request("POST", base_headers(sid, ac.LEGACY_VERSION), INITIALIZED)
                    sessions.append(sid)
            except (OSError, HttpError, ValueError):
                opener.close()
        opener.close()
        held = []
        refused = 0
        for sid in sessions:
            http = Http(port, SIEGE_SOURCE, timeout=5.0)
            try:
                http.connect()
                assert http.sock is not None
                http.sock.sendall(http.build("GET", [("Accept", "text/event-stream"), ("Mcp-Session-Id", sid),
                                                     ("MCP-Protocol-Version", ac.LEGACY_VERSION)]))
                status, _ = http.read_head(time.monotonic() + 5.0)
                if status == 200:
                    held.append(http)
                    continue
                refused += 1
            except (OSError, HttpError, ValueError):
                refused += 1
            http.close()
        time.sleep(0.5)
        rss1, threads1 = server.status()
        new = normal_call(port, NEW_CLIENT_SOURCE)
        for http in held:
            http.close()
        threads2, settle_s = settle_threads(server, threads0)
        rss2 = server.status()[0]
        alive = server.alive()
        normal = normal_call(port)["served"]
    return {"streams": len(held), "refused": refused, "new_client": new, "rss_before": rss0, "rss_during": rss1,
            "rss_after": rss2, "threads_before": threads0, "threads_during": threads1, "threads_after": threads2,
            "settle_s": settle_s, "alive_after": alive, "normal_after": normal}


def flood_sessions(target: Target, count: int) -> Dict[str, Any]:
    """``count`` initialize requests from 127.0.0.1 without DELETE, then a client from
    127.0.0.2, and a call in the flood's newest session."""
    with HttpServer(target) as server:
        port = server.port
        rss0, threads0 = baseline(server)
        http = Http(port, "127.0.0.1")
        statuses = {}  # type: Dict[str, int]
        newest = None
        started = time.monotonic()
        for i in range(count):
            try:
                reply = http.request("POST", base_headers(), init_body(ac.LEGACY_VERSION, i))
                key = str(reply.status)
                if reply.status == 200 and reply.headers.get("mcp-session-id"):
                    newest = reply.headers["mcp-session-id"]
            except (OSError, HttpError, ValueError) as exc:
                key = type(exc).__name__
                http.close()
            statuses[key] = statuses.get(key, 0) + 1
        elapsed = time.monotonic() - started
        http.close()
        time.sleep(0.5)
        rss1, threads1 = server.status()
        newest_ok = False
        if newest:
            session = Session(port, "127.0.0.1")
            session.id = newest
            try:
                session.http.request("POST", session.headers(), INITIALIZED)
                newest_ok = session.add(20, 22)[1]
            except (OSError, HttpError, ValueError):
                pass
            session.close()
        new = normal_call(port, NEW_CLIENT_SOURCE)
        alive = server.alive()
    return {"initialize": count, "seconds": round(elapsed, 1), "statuses": statuses, "rss_before": rss0,
            "rss_after": rss1, "rss_growth": round(rss1 - rss0, 1) if rss0 is not None and rss1 is not None else None,
            "threads_before": threads0, "threads_after": threads1, "newest_session_works": newest_ok,
            "new_client": new, "alive_after": alive}


def send_big_body(port: int, session: Optional[str], chunked: bool, total: int = 100 * 1000 * 1000,
                  limit_s: float = 15.0) -> Dict[str, Any]:
    """Stream a body of ``total`` bytes (declared, or chunked with no end) while watching for
    the server's answer; how soon it reacted and how much had been sent by then."""
    sock = socket.create_connection((HOST, port), 5.0)
    head = [b"POST /mcp HTTP/1.1", b"Host: 127.0.0.1:%d" % port, b"Content-Type: application/json",
            b"Accept: application/json, text/event-stream", b"MCP-Protocol-Version: " + ac.LEGACY_VERSION.encode()]
    if session:
        head.append(b"Mcp-Session-Id: " + session.encode())
    head.append(b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % total)
    piece = b"x" * 65536
    frame = (b"%x\r\n" % len(piece)) + piece + b"\r\n" if chunked else piece
    started = time.monotonic()
    sent = 0
    reacted = None  # type: Optional[float]
    how = "nothing"
    try:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n")
        sock.setblocking(False)
        while sent < total and time.monotonic() - started < limit_s:
            readable, writable, _ = select.select([sock], [sock], [], 0.5)
            if readable:
                reacted = time.monotonic() - started
                how = "answered"
                break
            if writable:
                try:
                    sent += sock.send(frame)
                except (BlockingIOError, InterruptedError):
                    pass
    except (BrokenPipeError, ConnectionResetError):
        reacted = time.monotonic() - started
        how = "reset"
    except OSError as exc:
        reacted = time.monotonic() - started
        how = type(exc).__name__
    status = None
    try:
        sock.setblocking(True)
        sock.settimeout(3.0)
        data = sock.recv(4096)
        if data.startswith(b"HTTP/"):
            status = int(data.split()[1])
        elif reacted is not None and not data:
            how = "closed"
    except (OSError, ValueError, IndexError):
        pass
    finally:
        sock.close()
    return {"status": status, "how": how, "seconds": round(reacted, 3) if reacted is not None else None,
            "mib_sent": round(sent / 1048576.0, 1),
            "rejected": reacted is not None and (status is None or 400 <= status < 500)}


def big_bodies(target: Target) -> Dict[str, Any]:
    with HttpServer(target) as server:
        session = Session(server.port)
        session.open()
        declared = send_big_body(server.port, session.id, chunked=False)
        endless = send_big_body(server.port, session.id, chunked=True)
        alive = server.alive()
        normal = normal_call(server.port)["served"]
        session.delete()
        session.close()
    return {"declared_100mb": declared, "endless_chunked": endless, "alive_after": alive, "normal_after": normal}


def run_exhaustion(target: Target, size: Dict[str, Any]) -> Dict[str, Any]:
    out = {}
    log("  exhaustion: %d idle + %d slowloris connections" % (size["idle"], size["slowloris"]))
    out["idle"] = siege_idle(target, size["idle"], size["slowloris"], size["slowloris_hold"])
    log("  exhaustion: %d GET streams" % size["streams"])
    out["streams"] = siege_streams(target, size["streams"])
    log("  exhaustion: %d initialize without DELETE" % size["inits"])
    out["sessions"] = flood_sessions(target, size["inits"])
    log("  exhaustion: oversized and endless bodies")
    out["bodies"] = big_bodies(target)
    return out


# --------------------------------------------------------------------------- faults

# A client process that starts a slow call's SSE stream, says so, and waits to be killed.
CHILD_CLIENT = r'''
import json, socket, sys, time
port, session, modern = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
meta = {"progressToken": "p"}
headers = ["Host: 127.0.0.1:%d" % port, "Content-Type: application/json",
           "Accept: application/json, text/event-stream"]
if modern:
    meta.update({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                 "io.modelcontextprotocol/clientCapabilities": {}})
    headers += ["MCP-Protocol-Version: 2026-07-28", "Mcp-Method: tools/call", "Mcp-Name: slow"]
else:
    headers += ["Mcp-Session-Id: " + session, "MCP-Protocol-Version: 2025-11-25"]
body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                   "params": {"name": "slow", "arguments": {"seconds": 3}, "_meta": meta}}).encode()
headers.append("Content-Length: %d" % len(body))
s = socket.create_connection(("127.0.0.1", port), 10)
s.sendall(("POST /mcp HTTP/1.1\r\n" + "\r\n".join(headers) + "\r\n\r\n").encode() + body)
buf = b""
while b"progress" not in buf:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
sys.stdout.write("streaming\n" if b"progress" in buf else "no stream: %r\n" % buf[:200])
sys.stdout.flush()
time.sleep(120)
'''

# A parent that starts a stdio server with pipes, says the server's PID, and waits to be killed.
PARENT = r'''
import json, subprocess, sys, time
mode, argv = sys.argv[1], sys.argv[2:]
p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def send(m):
    p.stdin.write((json.dumps(m) + "\n").encode())
    p.stdin.flush()
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
      "capabilities": {}, "clientInfo": {"name": "abuse-parent", "version": "1"}}})
p.stdout.readline()
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
if mode == "busy":
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "slow", "arguments": {"seconds": 30}}})
elif mode == "hung":
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "hang", "arguments": {}}})
time.sleep(0.5)
sys.stdout.write("%d\n" % p.pid)
sys.stdout.flush()
time.sleep(3600)
'''


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf and time.monotonic() < deadline:
        readable, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode("utf-8", "replace").strip()


def killed_clients(target: Target, count: int) -> Dict[str, Any]:
    """HTTP clients SIGKILLed while reading a slow call's SSE stream, both eras."""
    with HttpServer(target) as server:
        rss0, threads0 = warm_up(server)
        session = Session(server.port)
        session.open()
        streamed = 0
        killed = 0
        for modern in ("0", "1"):
            children = [spawn([sys.executable, "-c", CHILD_CLIENT, str(server.port), session.id or "", modern],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                        for _ in range(count)]
            for child in children:
                if read_line(child, 30.0) == "streaming":
                    streamed += 1
            for child in children:
                try:
                    os.kill(child.pid, signal.SIGKILL)
                    killed += 1
                except OSError:
                    pass
                stop(child)
        session.delete()
        session.close()  # (its keep-alive connection has a thread too)
        # The slow calls take 3 s: legacy ones run on (a disconnection is no cancellation
        # there), 2026-07-28 ones are cancelled; the threads must come back either way.
        threads1, settle_s = settle_threads(server, threads0, 3.0 + SETTLE_S)
        rss1 = server.status()[0]
        alive = server.alive()
        normal = normal_call(server.port)["served"]
    return {"killed": killed, "streamed_first": streamed, "threads_before": threads0, "threads_after": threads1,
            "settle_s": settle_s, "rss_before": rss0, "rss_after": rss1, "alive_after": alive,
            "normal_after": normal}


def parent_killed(target: Target, mode: str) -> Dict[str, Any]:
    """A stdio server's parent SIGKILLed: the server's stdin ends; seconds until it exits."""
    parent = spawn([sys.executable, "-c", PARENT, mode] + target.argv("stdio"), stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=target.env, cwd=REPO)
    line = read_line(parent, 60.0)
    if not line.isdigit():
        stop(parent)
        return {"exited": False, "seconds": None, "error": "no server pid from the parent: %r" % line}
    pid = int(line)
    _ORPHANS[pid] = os.path.basename(target.script)
    os.kill(parent.pid, signal.SIGKILL)
    stop(parent)
    started = time.monotonic()
    while time.monotonic() - started < 15.0:
        if pid_state(pid) in (None, "Z"):
            seconds = round(time.monotonic() - started, 2)
            reap(pid)
            _ORPHANS.pop(pid, None)
            return {"exited": True, "seconds": seconds}
        time.sleep(0.02)
    kill_orphan(pid)
    return {"exited": False, "seconds": None}


def stdout_closed(target: Target) -> Dict[str, Any]:
    """The client closes its end of the server's stdout, then sends requests: the server
    must notice (a write fails) and exit, not spin."""
    err = tempfile.TemporaryFile()
    proc = spawn(target.argv("stdio"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=target.env,
                 cwd=REPO)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(init_body(ac.LEGACY_VERSION, 1) + b"\n" + INITIALIZED + b"\n")
        proc.stdin.flush()
        read_line(proc, 60.0)
        proc.stdout.close()
        cpu0 = proc_cpu_s(proc.pid) or 0.0
        cpu = cpu0
        started = time.monotonic()
        try:
            for i in range(3):
                proc.stdin.write(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n' % (10 + i))
                proc.stdin.write(call_body(20 + i, "add", {"a": 1, "b": 2}) + b"\n")
                proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        exited = None
        while time.monotonic() - started < EXIT_S:
            if proc.poll() is not None:
                exited = round(time.monotonic() - started, 2)
                break
            cpu = proc_cpu_s(proc.pid) or cpu
            time.sleep(0.05)
        after_eof = None
        if exited is None:
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(10)
                after_eof = round(time.monotonic() - started, 2)
            except subprocess.TimeoutExpired:
                pass
        return {"exited_s": exited, "exited_after_stdin_closed_s": after_eof, "cpu_s": round(cpu - cpu0, 2),
                "returncode": proc.returncode}
    finally:
        stop(proc)
        err.close()


def hung_tool_stdio(target: Target, many: int) -> Dict[str, Any]:
    tally = Tally()
    peer = StdioPeer(target, tally)
    try:
        peer.setup(ac.LANES["legacy"])
        hang = {"name": "hang", "arguments": {}}
        peer.send_json({"jsonrpc": "2.0", "id": "ctl-hang-1", "method": "tools/call", "params": hang})
        time.sleep(0.3)
        peer.send_json({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "ctl-hang-1"}})
        t0 = time.monotonic()
        after = peer.request("ctl-after-hang", "tools/call", add_params(2, 3, False), timeout=5.0)
        after_s = round(time.monotonic() - t0, 3)
        ping = peer.request("ctl-ping-1", "ping", timeout=5.0)
        for i in range(many):
            peer.send_json({"jsonrpc": "2.0", "id": "ctl-hang-m%d" % i, "method": "tools/call", "params": hang})
        time.sleep(0.3)
        for i in range(many):
            peer.send_json({"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": "ctl-hang-m%d" % i}})
        ping2 = peer.request("ctl-ping-2", "ping", timeout=5.0)
        after2 = peer.request("ctl-after-many", "tools/call", add_params(4, 5, False), timeout=5.0)
        hung_replies = sum(n for k, n in tally.counts.items() if k[0] == "s" and k[1].startswith("ctl-hang"))
        exit_s = peer.close_input(15.0)
    finally:
        peer.stop()
    return {"call_after_cancel": after is not None and sum_ok(after, 5), "call_after_cancel_s": after_s,
            "ping": ping is not None and "result" in ping, "many": many,
            "ping_after_many": ping2 is not None and "result" in ping2,
            "call_after_many": after2 is not None and sum_ok(after2, 9),
            "replies_to_hung_calls": hung_replies, "exit_s": exit_s}


def hung_tool_http(target: Target) -> Dict[str, Any]:
    with HttpServer(target) as server:
        rss0, threads0 = warm_up(server)
        session = Session(server.port)
        session.open()
        hold = Http(server.port)
        hold.connect()
        assert hold.sock is not None
        hold.sock.sendall(hold.build("POST", session.headers(), call_body(1, "hang", {})))
        time.sleep(0.5)
        new = normal_call(server.port, deadline_s=5.0)
        hold.close()
        session.delete()
        session.close()
        time.sleep(1.0)
        threads1 = server.status()[1]  # the hung call's thread stays: nothing can end it
        alive = server.alive()
    return {"new_client": new, "threads_before": threads0, "threads_after_client_left": threads1,
            "alive_after": alive}


def fd1_stdio(target: Target) -> Dict[str, Any]:
    tally = Tally()
    peer = StdioPeer(target, tally)
    answered = 0
    try:
        peer.setup(ac.LANES["legacy"])
        for i in range(3):
            reply = peer.request("ctl-fd1-%d" % i, "tools/call", {"name": "fd1", "arguments": {}}, timeout=10.0)
            answered += reply is not None and "result" in reply
            reply = peer.request("ctl-add-%d" % i, "tools/call", add_params(i, i, False), timeout=10.0)
            answered += reply is not None and sum_ok(reply, 2 * i)
        time.sleep(0.3)
    finally:
        peer.stop()
    return {"calls": 6, "answered": answered, "stray_lines": tally.strays, "samples": tally.stray_samples}


def run_faults(target: Target, size: Dict[str, Any]) -> Dict[str, Any]:
    out = {}  # type: Dict[str, Any]
    log("  faults: %d HTTP clients killed mid-stream per era" % size["killed"])
    out["killed_clients"] = killed_clients(target, size["killed"])
    log("  faults: stdio parent SIGKILLed")
    out["parent_killed"] = {mode: parent_killed(target, mode) for mode in ("idle", "busy", "hung")}
    log("  faults: stdout closed, hung tools, fd 1")
    out["stdout_closed"] = stdout_closed(target)
    out["hung_stdio"] = hung_tool_stdio(target, size["many_hangs"])
    out["hung_http"] = hung_tool_http(target)
    out["fd1"] = fd1_stdio(target)
    return out


# --------------------------------------------------------------------------- expectations

def expectations(res: Dict[str, Any]) -> List[str]:
    """What a target failed among the suite's correctness expectations (figures aside)."""
    v = []  # type: List[str]

    def need(ok: Any, what: str) -> None:
        if not ok:
            v.append(what)
    for section, label in (("stdio_fuzz", "stdio fuzz"), ("http_fuzz", "HTTP fuzz")):
        f = res.get(section)
        if not f:
            continue
        need(f["unanswered"] == 0, "%s: %d of %d owed requests unanswered" % (label, f["unanswered"], f["owed"]))
        need(f["answered_twice"] == 0, "%s: %d ids answered more than once" % (label, f["answered_twice"]))
        need(f["reply_tracebacks"] == 0, "%s: %d replies carry a traceback" % (label, f["reply_tracebacks"]))
        need(f["alive_after"], "%s: the server died (%s)" % (label, f.get("deaths", "")))
        need(f["normal_after"], "%s: no answer to a normal call afterwards" % label)
    f = res.get("stdio_fuzz")
    if f:
        need(f["stray_lines"] == 0, "stdio fuzz: %d stdout lines are not JSON-RPC" % f["stray_lines"])
        need(0 <= f["exit_s"] <= EXIT_S, "stdio fuzz: a server did not exit within %.0f s of its stdin closing "
             "(%.1f)" % (EXIT_S, f["exit_s"]))
    f = res.get("http_fuzz")
    if f:
        need(f["server_errors"] == 0, "HTTP fuzz: %d answers were 500 or 503" % f["server_errors"])
    for load in res.get("load", {}).values():
        tag = "load %d clients" % load["clients"]
        need(load["wrong_answers"] == 0, "%s: %d wrong answers" % (tag, load["wrong_answers"]))
        need(load["alive_after"] and load["normal_after"], "%s: server dead or not answering after" % tag)
        need(threads_back(load["threads_before"], load["threads_after"]),
             "%s: threads %s before, %s after %.0f s" % (tag, load["threads_before"], load["threads_after"],
                                                        load["settle_s"]))
        need(rss_back(load["rss_before"], load["rss_after"]),
             "%s: RSS %.1f MiB before, %.1f MiB after" % (tag, load["rss_before"], load["rss_after"]))
    ex = res.get("exhaustion")
    if ex:
        for key, label in (("idle", "idle + slowloris connections"), ("streams", "GET streams held"),
                           ("sessions", "initialize flood")):
            part = ex[key]
            need(part["new_client"]["served"], "%s: a new client was not served within %.0f s (first: %s)"
                 % (label, NEW_CLIENT_S, part["new_client"]["first_refusal"]))
            need(part["alive_after"], "%s: the server died" % label)
            if "threads_after" in part and key != "sessions":
                need(part["normal_after"], "%s: no answer to a normal call afterwards" % label)
                need(threads_back(part["threads_before"], part["threads_after"]),
                     "%s: threads %s before, %s after" % (label, part["threads_before"], part["threads_after"]))
        bodies = ex["bodies"]
        for key, label in (("declared_100mb", "100 MB declared body"), ("endless_chunked", "endless chunked body")):
            part = bodies[key]
            need(part["rejected"] and part["seconds"] is not None and part["seconds"] <= 5.0,
                 "%s: not rejected within 5 s (%s)" % (label, part))
        need(bodies["alive_after"] and bodies["normal_after"], "big bodies: server dead or not answering after")
    fa = res.get("faults")
    if fa:
        k = fa["killed_clients"]
        need(k["alive_after"] and k["normal_after"], "killed clients: server dead or not answering after")
        need(threads_back(k["threads_before"], k["threads_after"]),
             "killed clients: threads %s before, %s after" % (k["threads_before"], k["threads_after"]))
        for mode, part in fa["parent_killed"].items():
            need(part["exited"] and part["seconds"] <= EXIT_S,
                 "stdio parent killed (%s): the server did not exit within %.0f s" % (mode, EXIT_S))
        sc = fa["stdout_closed"]
        need(sc["exited_s"] is not None, "stdout closed: the server did not exit within %.0f s" % EXIT_S)
        need(sc["cpu_s"] < 1.0, "stdout closed: the server spun (%.2f s CPU)" % sc["cpu_s"])
        h = fa["hung_stdio"]
        need(h["call_after_cancel"] and h["ping"], "hung tool (stdio): no answer to the next call or ping")
        need(h["replies_to_hung_calls"] == 0, "hung tool (stdio): a cancelled call was answered")
        need(h["exit_s"] is not None and h["exit_s"] <= EXIT_S,
             "hung tool (stdio): the server did not exit within %.0f s of its stdin closing" % EXIT_S)
        need(fa["hung_http"]["new_client"]["served"], "hung tool (HTTP): the next client was not served")
        fd = fa["fd1"]
        need(fd["stray_lines"] == 0, "fd 1 writes: %d stray lines on stdout" % fd["stray_lines"])
        need(fd["answered"] == fd["calls"], "fd 1 writes: %d of %d calls answered" % (fd["answered"], fd["calls"]))
    return v


# --------------------------------------------------------------------------- report

def n(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return "{:,.1f}".format(x)
    return "{:,}".format(x)


def yes(x: Any) -> str:
    return "\u2713" if x else "\u2717"


def secs(x: Any, nd: int = 2) -> str:
    return "-" if x is None else ("%." + str(nd) + "f s") % x


def mib(x: Any) -> str:
    return "-" if x is None else "%.1f" % x


def owed_cell(f: Dict[str, Any]) -> str:
    owed = f["owed"]
    pct = 100.0 * f["answered_once"] / owed if owed else 100.0
    out = "%s / %s (%s %%)" % (n(f["answered_once"]), n(owed), ("%.1f" % pct).rstrip("0").rstrip("."))
    extra = []
    if f["unanswered"]:
        top = sorted((f.get("unanswered_by_category") or {}).items(), key=lambda kv: -kv[1])[:2]
        extra.append("%s unanswered%s" % (n(f["unanswered"]), " (%s)" % ", ".join(
            "%s %s" % (v, k) for k, v in top) if top else ""))
    if f["answered_twice"]:
        extra.append("%s twice" % n(f["answered_twice"]))
    return out + (": " + ", ".join(extra) if extra else "")


def client_cell(c: Dict[str, Any]) -> str:
    if c["served"]:
        return "served in %s" % secs(c["seconds"])
    return "not served in %.0f s (%s)" % (c["seconds"], c["first_refusal"])


def body_cell(b: Dict[str, Any]) -> str:
    if not b["rejected"]:
        return "not rejected: %s MiB taken in %s" % (b["mib_sent"], secs(b["seconds"]))
    what = "HTTP %d" % b["status"] if b["status"] else b["how"]
    return "%s after %s (%s MiB sent)" % (what, secs(b["seconds"]), b["mib_sent"])


def load_rows(clients: int) -> List[Tuple[str, Any]]:
    def get(res: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        return res.get("load", {}).get(str(clients))

    def perf(res: Dict[str, Any]) -> str:
        lr = get(res)
        if not lr:
            return "-"
        return "%s \u00b7 %s / %s ms \u00b7 %s" % (n(int(lr["calls_per_s"])), lr["p50_ms"], lr["p99_ms"],
                                                     n(lr["errors"]))

    def rss(res: Dict[str, Any]) -> str:
        lr = get(res)
        return "-" if not lr else "%s \u2192 %s \u2192 %s MiB" % (mib(lr["rss_before"]), mib(lr["rss_peak"]),
                                                                  mib(lr["rss_after"]))

    def threads(res: Dict[str, Any]) -> str:
        lr = get(res)
        return "-" if not lr else "%s \u2192 %s \u2192 %s" % (lr["threads_before"], lr["threads_peak"],
                                                              lr["threads_after"])
    return [("%d clients: calls/s \u00b7 p50 / p99 \u00b7 errors" % clients, perf),
            ("%d clients: RSS before \u2192 peak \u2192 after" % clients, rss),
            ("%d clients: threads before \u2192 peak \u2192 after" % clients, threads)]


def readme_rows(size: Dict[str, Any]) -> List[Tuple[str, Any]]:
    """The README's "Under abuse" table: (row label, cell of a target's results)."""
    def sf(res: Dict[str, Any]) -> Dict[str, Any]:
        return res.get("stdio_fuzz") or {}

    def hf(res: Dict[str, Any]) -> Dict[str, Any]:
        return res.get("http_fuzz") or {}

    def ex(res: Dict[str, Any], key: str) -> Dict[str, Any]:
        return (res.get("exhaustion") or {}).get(key) or {}

    def fa(res: Dict[str, Any], key: str) -> Dict[str, Any]:
        return (res.get("faults") or {}).get(key) or {}

    def guard(fn: Any) -> Any:
        def cell(res: Dict[str, Any]) -> str:
            try:
                return fn(res)
            except (KeyError, TypeError, ValueError):
                return "-"
        return cell

    def stdio_up(res: Dict[str, Any]) -> str:
        f = sf(res)
        up = yes(f["alive_after"] and f["normal_after"])
        if f["deaths"]:
            up += " (died %d times)" % f["deaths"]
        return "%s \u00b7 %s" % (up, secs(f["exit_s"], 1) if f["exit_s"] >= 0 else "did not exit")

    def parents(res: Dict[str, Any]) -> str:
        p = fa(res, "parent_killed")
        return " / ".join(secs(p[m]["seconds"], 1) if p[m]["exited"] else "still running"
                          for m in ("idle", "busy", "hung"))

    def closed(res: Dict[str, Any]) -> str:
        c = fa(res, "stdout_closed")
        when = secs(c["exited_s"]) if c["exited_s"] is not None else (
            "only at end of input (%s)" % secs(c["exited_after_stdin_closed_s"])
            if c["exited_after_stdin_closed_s"] is not None else "never")
        return "%s \u00b7 %.2f s CPU" % (when, c["cpu_s"])

    def hung(res: Dict[str, Any]) -> str:
        h = fa(res, "hung_stdio")
        http = fa(res, "hung_http")
        return "%s %s \u00b7 HTTP %s \u00b7 %d hung: ping %s, call %s" % (
            yes(h["call_after_cancel"]), secs(h["call_after_cancel_s"], 3), yes(http["new_client"]["served"]),
            h["many"], yes(h["ping_after_many"]), yes(h["call_after_many"]))

    def killed(res: Dict[str, Any]) -> str:
        k = fa(res, "killed_clients")
        return "%s %s \u2192 %s in %s \u00b7 up %s" % (
            yes(threads_back(k["threads_before"], k["threads_after"])), k["threads_before"], k["threads_after"],
            secs(k["settle_s"], 1), yes(k["alive_after"] and k["normal_after"]))

    def slowloris(res: Dict[str, Any]) -> str:
        i = ex(res, "idle")
        return "-" if i.get("slowloris_still_open") is None else "%d / %d" % (i["slowloris_still_open"],
                                                                             i["slowloris"])

    def flood(res: Dict[str, Any]) -> str:
        s = ex(res, "sessions")
        growth = s["rss_growth"]
        return "%s MiB \u00b7 %s" % ("%+.1f" % growth if growth is not None else "-", client_cell(s["new_client"]))

    rows = [
        ("stdio fuzz: cases \u00b7 requests owed an answer", lambda r: "%s \u00b7 %s" % (n(sf(r)["cases"]),
                                                                                      n(sf(r)["owed"]))),
        ("stdio: owed requests answered exactly once", lambda r: owed_cell(sf(r))),
        ("stdio: replies with a traceback \u00b7 stdout lines not JSON-RPC",
         lambda r: "%s \u00b7 %s" % (n(sf(r)["reply_tracebacks"]), n(sf(r)["stray_lines"]))),
        ("stdio: up and answering after \u00b7 exit once stdin closes", stdio_up),
        ("HTTP fuzz: requests \u00b7 owed an answer", lambda r: "%s \u00b7 %s" % (n(hf(r)["requests"]),
                                                                               n(hf(r)["owed"]))),
        ("HTTP: owed requests answered exactly once", lambda r: owed_cell(hf(r))),
        ("HTTP: 500/503 answers \u00b7 replies with a traceback",
         lambda r: "%s \u00b7 %s" % (n(hf(r)["server_errors"]), n(hf(r)["reply_tracebacks"]))),
        ("HTTP: up and answering after", lambda r: yes(hf(r)["alive_after"] and hf(r)["normal_after"])),
    ]
    for clients in size["loads"]:
        rows.extend(load_rows(clients))
    rows.extend([
        ("%d idle + %d slowloris connections: a new client's call" % (size["idle"], size["slowloris"]),
         lambda r: client_cell(ex(r, "idle")["new_client"])),
        ("%d GET streams held: a new client's call" % size["streams"],
         lambda r: client_cell(ex(r, "streams")["new_client"])),
    ] + ([
        ("%d slowloris senders (a header byte a second): still connected after %.0f s" % (
            size["slowloris"], size["slowloris_hold"]), slowloris),
    ] if size["slowloris_hold"] else []) + [
        ("%s initialize without DELETE: RSS growth \u00b7 a client from 127.0.0.2" % n(size["inits"]), flood),
        ("100 MB declared body", lambda r: body_cell(ex(r, "bodies")["declared_100mb"])),
        ("endless chunked body", lambda r: body_cell(ex(r, "bodies")["endless_chunked"])),
        ("%d clients SIGKILLed mid-stream: threads back \u00b7 up" % (2 * size["killed"]), killed),
        ("stdio parent SIGKILLed: server gone after (idle / call running / tool hung)", parents),
        ("stdout closed by the client: server gone after", closed),
        ("tool that never returns, cancelled: next call", hung),
        ("tool writing to fd 1: stdout lines not JSON-RPC",
         lambda r: n(fa(r, "fd1")["stray_lines"]) + ("" if fa(r, "fd1")["answered"] == fa(r, "fd1")["calls"]
                                                   else " (calls unanswered)")),
    ])
    return [(label, guard(fn)) for label, fn in rows]


def render(headers: List[str], rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers] + rows) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def section_rows(section: str) -> List[Tuple[str, Any]]:
    """Every figure of a section, for the per-section tables."""
    def get(path: str) -> Any:
        def cell(res: Dict[str, Any]) -> str:
            node = res.get(section)  # type: Any
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    return "-"
                node = node[part]
            if isinstance(node, bool):
                return yes(node)
            if isinstance(node, dict):
                return ", ".join("%s: %s" % (k, v) for k, v in sorted(node.items(), key=lambda kv: str(kv[0])))
            return n(node) if isinstance(node, (int, float)) else str(node)
        return cell
    fuzz = ["cases", "owed", "answered_once", "unanswered", "unanswered_by_category", "answered_twice",
            "answered_not_owed",
            "replies_unknown_id", "replies_other_id_type", "null_id_errors", "reply_tracebacks"]
    if section == "stdio_fuzz":
        keys = fuzz + ["stray_lines", "deaths", "stalls", "alive_after", "normal_after", "exit_s",
                       "stderr_tracebacks", "seconds"]
    elif section == "http_fuzz":
        keys = ["requests"] + fuzz + ["server_errors", "other_5xx", "timeouts", "closed_without_answer",
                                      "bad_bodies", "sessions_lost", "statuses", "alive_after", "normal_after",
                                      "stderr_tracebacks", "stdout_bytes", "seconds"]
    elif section == "load":
        keys = []
        for c in ("64", "256"):
            keys += ["%s.%s" % (c, k) for k in ("calls", "calls_per_s", "p50_ms", "p99_ms", "errors", "error_kinds",
                                                "sessions_reopened", "rss_before", "rss_peak", "rss_after",
                                                "threads_before", "threads_peak", "threads_after", "settle_s",
                                                "listen_overflows", "alive_after", "normal_after")]
    elif section == "exhaustion":
        keys = ["idle.idle", "idle.slowloris", "idle.refused_or_closed", "idle.new_client", "idle.slowloris_hold_s",
                "idle.slowloris_still_open", "idle.rss_before",
                "idle.rss_during", "idle.rss_after", "idle.threads_before", "idle.threads_during",
                "idle.threads_after", "idle.settle_s", "idle.alive_after", "idle.normal_after",
                "streams.streams", "streams.refused", "streams.new_client", "streams.rss_during",
                "streams.threads_before", "streams.threads_during", "streams.threads_after", "streams.alive_after",
                "sessions.initialize", "sessions.seconds", "sessions.statuses", "sessions.rss_before",
                "sessions.rss_after", "sessions.threads_after", "sessions.newest_session_works",
                "sessions.new_client", "bodies.declared_100mb", "bodies.endless_chunked", "bodies.alive_after",
                "bodies.normal_after"]
    else:
        keys = ["killed_clients.streamed_first", "killed_clients.threads_before", "killed_clients.threads_after",
                "killed_clients.settle_s", "killed_clients.rss_before", "killed_clients.rss_after",
                "killed_clients.alive_after", "parent_killed.idle", "parent_killed.busy", "parent_killed.hung",
                "stdout_closed", "hung_stdio", "hung_http.new_client", "hung_http.threads_before",
                "hung_http.threads_after_client_left", "fd1.answered", "fd1.stray_lines"]
    return [(k, get(k)) for k in keys]


COUNTERS = ("statuses", "error_kinds", "unanswered_by_category")  # dicts shown on one line


def expand_rows(section: str, results: List[Dict[str, Any]]) -> List[Tuple[str, Any]]:
    """``section_rows``, with each figure that is a dict of figures (a new client's call, a
    body's rejection...) split into a row per field."""
    def node_at(res: Dict[str, Any], path: str) -> Any:
        node = res.get(section)  # type: Any
        for part in path.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(part)
        return node
    rows = []  # type: List[Tuple[str, Any]]
    simple = dict(section_rows(section))
    for key, cell in section_rows(section):
        fields = []  # type: List[str]
        if key.rsplit(".", 1)[-1] not in COUNTERS:
            for res in results:
                node = node_at(res, key)
                if isinstance(node, dict):
                    fields += [f for f in node if f not in fields and not isinstance(node[f], (dict, list))]
        if not fields:
            rows.append((key, simple[key]))
            continue
        for field in fields:
            sub = key + "." + field

            def cell_of(res: Dict[str, Any], sub: str = sub) -> str:
                value = node_at(res, sub)
                if value is None:
                    return "-"
                if isinstance(value, bool):
                    return yes(value)
                return n(value) if isinstance(value, (int, float)) else str(value)
            rows.append((sub, cell_of))
    return rows


TITLES = (("stdio_fuzz", "stdio fuzz"), ("http_fuzz", "HTTP fuzz"), ("load", "load"),
          ("exhaustion", "exhaustion"), ("faults", "faults"))


def print_report(rep: Dict[str, Any], size: Dict[str, Any]) -> None:
    names = list(rep["targets"])
    labels = [LABELS[t] for t in names]
    out = sys.stdout
    out.write("mcplite abuse suite: %s, seed %d, %s\n" % ("quick" if rep["quick"] else "full", rep["seed"],
                                                        rep["date"]))
    for name in names:
        out.write("  %s: %s\n" % (LABELS[name], rep["interpreters"][name]))
    out.write("  machine: %s CPUs, load average %s at the start\n" % (rep["cpus"], rep["loadavg"]))
    for section, title in TITLES:
        if not any(section in rep["targets"][t] for t in names):
            continue
        results = [rep["targets"][t] for t in names]
        rows = [[label] + [fn(res) for res in results] for label, fn in expand_rows(section, results)]
        rows = [r for r in rows if any(c != "-" for c in r[1:])]
        out.write("\n== %s ==\n%s\n" % (title, render([""] + labels, rows)))
        for t in names:
            samples = (rep["targets"][t].get(section) or {}).get("samples") or []
            for s in samples[:6]:
                out.write("  %s: %s\n" % (LABELS[t], s[:240]))
    out.write("\n== Under abuse (markdown, for the README) ==\n\n")
    out.write("| | %s |\n|---|%s\n" % (" | ".join(labels), "---|" * len(labels)))
    for label, fn in readme_rows(size):
        out.write("| %s | %s |\n" % (label, " | ".join(fn(rep["targets"][t]) for t in names)))
    out.write("\n")
    for t in names:
        misses = rep["expectations"].get(t, [])
        for m in misses:
            out.write("%s %s: %s\n" % ("FAIL" if t == "mcplite" else "NOTE", LABELS[t], m))
        if not misses:
            out.write("PASS %s: every expectation met\n" % LABELS[t])
    for e in rep["errors"]:
        out.write("ERROR %s\n" % e)
    out.write("total: %.0f s\n" % rep["seconds"])
    out.flush()


# --------------------------------------------------------------------------- main

def resolve_sdk_python(arg: Optional[str]) -> Tuple[Optional[str], str]:
    """The SDK's interpreter, the way the other benchmarks find it, and whether it works."""
    candidates = [arg, os.environ.get("MCPLITE_SDK_PYTHON"), os.path.join(REPO, ".cache", "sdk-venv", "bin", "python"),
                  os.path.expanduser("~/.cache/mcp-peers/venv/bin/python")]
    for path in candidates:
        if not path:
            continue
        if not os.path.exists(path):
            if path is arg:
                return None, "--sdk-python %s does not exist" % path
            continue
        try:
            done = subprocess.run([path, "-c", "import mcp.server.mcpserver, importlib.metadata as m; "
                                   "print(m.version('mcp'))"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, "%s does not run: %s" % (path, exc)
        if done.returncode != 0:
            return None, "%s cannot import mcp.server.mcpserver" % path
        return path, "mcp %s on %s" % (done.stdout.decode().strip(), path)
    return None, "no SDK interpreter (--sdk-python, $MCPLITE_SDK_PYTHON, .cache/sdk-venv from `bash scripts/test`)"


def interpreter(python: str) -> str:
    try:
        out = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             stdout=subprocess.PIPE, timeout=60).stdout.decode().strip()
    except (OSError, subprocess.TimeoutExpired):
        out = "?"
    return "Python %s (%s)" % (out, python)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="mcplite's abuse suite (see the module docstring)")
    ap.add_argument("--target", choices=("mcplite", "sdk", "both"), default=None,
                    help="what to run against (default: both when the SDK is available, else mcplite)")
    ap.add_argument("--quick", action="store_true", help="the short CI run (mcplite alone: under 90 s)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the generated cases (default 1)")
    ap.add_argument("--json", action="store_true", help="print the report as one JSON object on stdout")
    ap.add_argument("--sdk-python", default=None, help="the interpreter with mcp==2.3.0 installed")
    ap.add_argument("--only", default="", help="comma-separated sections: stdio,http,load,exhaustion,faults")
    return ap.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    size = QUICK if args.quick else FULL
    sections = [s for s in args.only.split(",") if s] or ["stdio", "http", "load", "exhaustion", "faults"]
    unknown = set(sections) - {"stdio", "http", "load", "exhaustion", "faults"}
    if unknown:
        log("unknown section(s): %s" % ", ".join(sorted(unknown)))
        return 2
    names = ["mcplite"]
    sdk_python = None
    if args.target != "mcplite":
        sdk_python, why = resolve_sdk_python(args.sdk_python)
        if sdk_python is None:
            if args.target in ("sdk", "both"):
                log("the SDK is not available: %s" % why)
                return 2
            log("note: the SDK is not available (%s); running mcplite only" % why)
        else:
            log("SDK: %s" % why)
            names = ["sdk"] if args.target == "sdk" else ["mcplite", "sdk"]
    targets = {name: Target(name, sys.executable if name == "mcplite" else sdk_python or "") for name in names}
    become_subreaper()
    def on_term(signum: int, frame: Any) -> None:
        stop_all()
        sys.exit(143)
    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    rep = {"quick": args.quick, "seed": args.seed, "date": time.strftime("%Y-%m-%d %H:%M"),
           "cpus": os.cpu_count(), "loadavg": " ".join(open("/proc/loadavg").read().split()[:3])
           if os.path.exists("/proc/loadavg") else "?",
           "interpreters": {name: interpreter(t.python) for name, t in targets.items()},
           "targets": {name: {} for name in names}, "errors": [], "expectations": {}}  # type: Dict[str, Any]
    runs = [
        ("stdio", "stdio_fuzz", lambda t: run_stdio_fuzz(t, size["stdio_lanes"], args.seed)),
        ("http", "http_fuzz", lambda t: run_http_fuzz(t, size["http_lanes"], args.seed)),
        ("load", "load", lambda t: {str(c): run_load(t, c, size["load_seconds"]) for c in size["loads"]}),
        ("exhaustion", "exhaustion", lambda t: run_exhaustion(t, size)),
        ("faults", "faults", lambda t: run_faults(t, size)),
    ]
    try:
        for key, section, run in runs:
            if key not in sections:
                continue
            for name, target in targets.items():
                log("%s: %s" % (target.label, section.replace("_", " ")))
                t0 = time.monotonic()
                try:
                    rep["targets"][name][section] = run(target)
                except Exception as exc:  # a section that cannot run is reported, and counts as failed
                    rep["errors"].append("%s %s: %s: %s" % (target.label, section, type(exc).__name__, exc))
                    log("  %s" % rep["errors"][-1])
                log("  %s done in %.1f s" % (section, time.monotonic() - t0))
    finally:
        stop_all()
    rep["seconds"] = round(time.monotonic() - started, 1)
    for name in names:
        rep["expectations"][name] = expectations(rep["targets"][name])
    if args.json:
        sys.stdout.write(json.dumps(rep, indent=1, default=str) + "\n")
    else:
        print_report(rep, size)
    mcplite_failed = bool(rep["expectations"].get("mcplite")) or any(
        e.startswith(LABELS["mcplite"] + " ") for e in rep["errors"])
    return 1 if mcplite_failed else 0


if __name__ == "__main__":
    sys.exit(main())
