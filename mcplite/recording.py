"""``record``, ``replay`` and ``diff``: stdio sessions as JSON lines.

    python -m mcplite record session.jsonl -- python3 server.py   # between a client and a server
    python -m mcplite replay session.jsonl                        # a fake server answering from it
    python -m mcplite diff before.jsonl after.jsonl               # what changed, message by message

**record OUT.jsonl -- COMMAND [ARG ...]** starts COMMAND and sits between it and whoever
started us (a real MCP client: put it in front of the server's command in a client's
configuration). Our stdin is copied to COMMAND's stdin and its stdout to our stdout, one line
at a time, byte for byte and as soon as each line is complete; its stderr is ours. Every line,
both ways, is also appended to OUT.jsonl and flushed before the line is passed on, so the file
has a request before its response and a killed proxy leaves a readable file. When our stdin
ends, COMMAND's stdin is closed; it gets 3 s to exit, then SIGTERM, then 2 s more, then
SIGKILL (never an orphan). When COMMAND exits (or closes its stdout) we exit too. Our exit
status is COMMAND's (128+N when a signal N ended it); our own failures are 2 (usage: no
``--``, no COMMAND), 3 (COMMAND cannot start) and 1 (OUT.jsonl cannot be written). SIGTERM
or SIGHUP to the proxy, even while it waits for COMMAND to exit, closes COMMAND's stdin and
sends it SIGTERM at once (SIGKILL 2 s later); the proxy then exits 128+N. A proxy killed
with SIGKILL cannot do that: COMMAND sees the end of its input, as when any client dies.
OUT.jsonl is replaced if it exists. ``--trace`` shows every line on stderr too. A write
error on OUT.jsonl is reported once on stderr and the session goes on unrecorded.

The file, one JSON object per line (UTF-8):

    {"format":"mcplite-recording/1","command":["python3","server.py"],"cwd":"/srv","started":"2026-11-21T09:52:31.120Z"}
    {"t":0.012031,"dir":"->","message":{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{...}}}
    {"t":0.015478,"dir":"<-","message":{"jsonrpc":"2.0","id":1,"result":{...}}}
    {"t":0.016002,"dir":"<-","text":"a line that is not JSON"}
    {"t":4.210377,"end":"the client closed stdin","status":0}

- the header names the command, its working directory and the start time (UTC);
- ``t`` is seconds since ``started``; ``dir`` is ``->`` for client to server and ``<-`` for
  server to client, as in ``--trace``;
- ``message`` is the line's own JSON text, exactly as it crossed (key order, number
  formats); a line that is not JSON is kept as ``text`` instead (bytes that are not UTF-8
  as ``\\xNN``); a line longer than 16 MiB is passed on whole but kept as ``text`` (its first
  1000 characters), ``"truncated": true`` and its length in ``bytes``; blank lines are passed
  on and not kept;
- the last line says why the session ended (``the client closed stdin``, ``the server
  exited``, ``the server closed stdout``, ``interrupted``, ``signal N``) and the server's
  exit status (negative: the signal that ended it); a killed proxy leaves none.

Readers (``replay``, ``diff``) use the lines that have ``dir`` and skip the others, so a
file written by hand needs nothing else; a last line cut short (a killed proxy) is ignored.

**replay FILE.jsonl** is a stdio server that answers from a recording. Each request that
arrives is matched to a recorded client request: first the earliest unused one with the same
method and params (ignoring the id and, in ``_meta``, ``progressToken`` and the
``io.modelcontextprotocol/*`` keys a 2026-07-28 client sends with every request); else the
earliest unused one with the same method (for ``tools/call`` and ``prompts/get`` the same
``name``, for ``resources/read``, ``resources/subscribe`` and ``resources/unsubscribe`` the
same ``uri``: the answer about another tool would mislead), which is said on stderr, and
which ``--strict`` forbids; else, again, the first one with the same method and params (a
second ``tools/list`` gets the same answer). What the server
sent while the recorded request was open (progress, log messages, its own requests) is sent
first, then the recorded response with the live id, then what the server sent after the
response and before the next request. Progress tokens are mapped to the live request's (and
progress is dropped when the live request asked for none); a 2026-07-28 subscription's id
too. A request the server made of the client (legacy: elicitation, sampling, roots) goes out
with an id of our own, and the rest waits for the client's answer. A recorded request that
was never answered (a ``subscriptions/listen`` stream, a cancelled call) gets no answer now
either. Notifications get no answer. A request with nothing recorded for it gets a JSON-RPC
error saying it is not in the recording: -32601 when the recording has no request of that
method at all, -32602 when it has others. ``ping`` is answered ``{}`` even when the
recording has none.

Eras: a client that probes (``server/discover`` first, then ``initialize``) is led to the
recorded era. A 2026-07-28 recording has a ``server/discover``, and its answer says modern; a
legacy recording has none, so the probe is answered with -32601 "Method not found", what a
legacy server says, and the client falls back to ``initialize``, which is in the recording.

Bad input (no such file, not JSON lines, no messages, no request to answer) is one line on
stderr and exit status 2, for ``replay`` and ``diff`` alike (as diff(1)'s "trouble").

**diff A.jsonl B.jsonl** compares two recordings as conversations: one line per message,
its direction and its JSON with keys sorted, in recorded order, as a unified diff (the
``@@`` numbers count messages). Exit status 0 when they match, 1 when they differ (as
diff(1)); ``--json`` prints the differences as a JSON list instead (``[]`` when none).
Normalised, so that two runs of the same session compare equal: timestamps and the header
are left out; request ids are renumbered per recording in order of appearance (the client's
1, 2, 3...; the server's "s1", "s2"...), in responses, in ``notifications/cancelled`` and in
a subscription's ``_meta`` too; the values of ``progressToken``, ``requestState``,
``cursor``/``nextCursor`` and ``sessionId`` (opaque, sealed with a key of the run, or
chosen by the client) become ``<requestState 1>``, ``<cursor 2>``... numbered by first
appearance, so the same value used twice still reads as the same. ``--ignore KEY``
(repeatable) drops a key wherever it appears (``--ignore _meta``, ``--ignore timestamp``).

In the one-file build every module-level name here shares one namespace with the rest of the
package, hence the ``_rec`` prefixes.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .cli import CLI_EXIT_CONNECTION, CLI_EXIT_FAILED, CLI_EXIT_OK, CLI_EXIT_USAGE, CliFailure, cli_error, cli_tracer
from .jsonrpc import (
    INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, Endpoint, Message, Reply, decode,
    encode, error_response, result_response,
)
from .errors import MCPError
from .protocol import META_SUBSCRIPTION_ID

REC_FORMAT = "mcplite-recording/1"
_REC_MAX_LINE = 16 * 1024 * 1024  # kept whole up to this; a longer line is passed on but kept cut short
_CUT_TO = 1000  # characters kept of a line longer than that
_EXIT_WAIT = 3.0  # after closing the server's stdin, before SIGTERM
_KILL_WAIT = 2.0  # after SIGTERM, before SIGKILL (and after SIGKILL, before giving up)
_DRAIN_WAIT = 2.0  # for the rest of the server's output once it has exited
_CHUNK = 65536
# _meta keys a client sets per request without changing what it asks: a replay ignores them.
_META_PREFIX = "io.modelcontextprotocol/"
# The parameter that says what a request is about, for the fallback match (same method, same this).
_SUBJECT = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri",
                "resources/subscribe": "uri", "resources/unsubscribe": "uri"}
# Values that differ every run (sealed with a per-process key, or chosen by the client), by
# key; keys in one group share a numbering (the cursor sent back is the nextCursor received).
_OPAQUE = {"progressToken": "progressToken", "requestState": "requestState", "cursor": "cursor",
               "nextCursor": "cursor", "sessionId": "sessionId"}


def add_recording_commands(commands: Any, common: Any) -> None:
    """Add ``record``, ``replay`` and ``diff`` to the command line's sub-parsers."""
    import argparse

    record = commands.add_parser(
        "record", help="a stdio proxy writing every message both ways to OUT.jsonl",
        usage="%(prog)s [--trace] OUT.jsonl -- COMMAND [ARG ...]",
        description="Start COMMAND (a stdio MCP server) and pass our stdin to it and its stdout back, "
                    "line by line and unchanged, writing every line both ways to OUT.jsonl (replaced if "
                    "it exists) as it goes, one JSON object per line: {\"t\": seconds since the start, "
                    "\"dir\": \"->\" (client to server) or \"<-\", \"message\": the message} (\"text\" "
                    "instead of \"message\" for a line that is not JSON), after a header line naming "
                    "the command and the start time. Its stderr is ours. When our stdin ends its "
                    "stdin is closed (then SIGTERM after 3 s, SIGKILL after 2 s more); when it exits, so "
                    "do we, with its exit status. Put it in front of a server's command in a client's "
                    "configuration to see what they say to each other.",
        epilog="Exit status: the server's; 2 usage, 3 the command cannot start, 1 OUT.jsonl cannot be "
               "written.")
    _trace_options(record)
    record.add_argument("words", nargs=argparse.REMAINDER, metavar="OUT.jsonl -- COMMAND ...",
                        help="where to write, then -- and the server's command line")
    record.set_defaults(run=_record)

    replay = commands.add_parser(
        "replay", help="serve a recording as a fake stdio server",
        description="Answer a client over stdio from a recording: each request gets the recorded "
                    "response to the same request (same method and params, ids and per-request _meta "
                    "aside; else the next unused one of the same method, and for tools/call and "
                    "prompts/get the same name), with what the server sent before it (progress, logs) "
                    "first. A request that is not in the recording gets a JSON-RPC error saying so. A "
                    "client probing for the era is led to the recorded one. Use it as a target: "
                    "python -m mcplite ls \"python -m mcplite replay FILE.jsonl\".",
        epilog="Exit status: 0 at the end of input; 2 when FILE.jsonl is not a usable recording.")
    _trace_options(replay)
    replay.add_argument("file", metavar="FILE.jsonl", help="a recording made by record")
    replay.add_argument("--strict", action="store_true",
                        help="answer only requests recorded with the same params (no fallback to another "
                             "one of the same method); without it, each fallback is said on stderr")
    replay.set_defaults(run=_replay)

    diff = commands.add_parser(
        "diff", help="compare two recordings",
        description="Compare two recordings as conversations: one line per message (direction and JSON "
                    "with keys sorted), as a unified diff whose @@ numbers count messages. Normalised: "
                    "timestamps and the header are left out; request ids are renumbered in order of "
                    "appearance (the client's 1, 2...; the server's s1, s2...), in responses, "
                    "notifications/cancelled and subscription ids too; the values of progressToken, "
                    "requestState, cursor/nextCursor and sessionId (opaque, different every run) become "
                    "<requestState 1>, <cursor 1>... numbered by first appearance.",
        epilog="Exit status: 0 the same, 1 different, 2 a file is not a usable recording.")
    diff.add_argument("--json", dest="json", action="store_true", default=argparse.SUPPRESS,
                      help="print the differences as a JSON list (empty when none), nothing else")
    diff.add_argument("--ignore", dest="ignore", action="append", metavar="KEY", default=[],
                      help="leave out this key wherever it appears in a message (repeatable)")
    diff.add_argument("a", metavar="A.jsonl")
    diff.add_argument("b", metavar="B.jsonl")
    diff.set_defaults(run=_diff)


def _trace_options(parser: Any) -> None:
    import argparse

    # SUPPRESS: a --trace given before the command name must survive the sub-parser.
    parser.add_argument("--trace", dest="trace", action="store_const", const="on", default=argparse.SUPPRESS,
                        help="show every message on stderr as it crosses (--trace=explain: with a note on each)")
    parser.add_argument("--trace-explain", dest="trace", action="store_const", const="explain",
                        default=argparse.SUPPRESS, help=argparse.SUPPRESS)


# --- the recording file ----------------------------------------------------------------------------

class _RecEntry:
    """One message line of a recording: ``message`` (any JSON) or ``text`` (not JSON)."""

    __slots__ = ("line", "dir", "message", "text")

    def __init__(self, line: int, direction: str, message: Any, text: Optional[str]) -> None:
        self.line = line
        self.dir = direction
        self.message = message
        self.text = text


def rec_load(path: str) -> Tuple[Dict[str, Any], List[_RecEntry]]:
    """The header (``{}`` when there is none) and the message lines of the recording at
    ``path``; ``CliFailure`` (usage) with one line saying what is wrong with it."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise CliFailure(CLI_EXIT_USAGE, "cannot read %s: %s" % (path, exc.strerror or exc))
    lines = data.split(b"\n")
    # A last line without its newline is the one a killed proxy may have been writing: used
    # when it is whole, ignored when it is cut short.
    last_is_partial = bool(lines) and lines[-1] != b""
    header = {}  # type: Dict[str, Any]
    entries = []  # type: List[_RecEntry]
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            if number == len(lines) and last_is_partial:
                if entries:
                    break
                raise CliFailure(CLI_EXIT_USAGE, "%s has no messages: its only one is cut short (line %d)"
                                 % (path, number))
            raise CliFailure(CLI_EXIT_USAGE, "%s is not a recording (JSON lines written by record): line %d is "
                                             "not JSON" % (path, number))
        if not isinstance(item, dict):
            raise CliFailure(CLI_EXIT_USAGE, "%s is not a recording: line %d is not a JSON object"
                             % (path, number))
        if "dir" not in item:
            if not entries and not header and "format" in item:
                header = item
            continue  # the header, the end line, or something newer than this reader
        direction = item.get("dir")
        if direction not in ("->", "<-"):
            raise CliFailure(CLI_EXIT_USAGE, "%s line %d: \"dir\" must be \"->\" or \"<-\", not %s"
                             % (path, number, json.dumps(item.get("dir"))))
        if "message" in item:
            entries.append(_RecEntry(number, direction, item["message"], None))
        elif isinstance(item.get("text"), str):
            entries.append(_RecEntry(number, direction, None, item["text"]))
        else:
            raise CliFailure(CLI_EXIT_USAGE, "%s line %d has neither \"message\" nor \"text\"" % (path, number))
    if not entries:
        what = "is empty" if not data.strip() else "has no messages (lines with \"dir\")"
        raise CliFailure(CLI_EXIT_USAGE, "%s %s: is it a recording made by record?" % (path, what))
    return header, entries


class _Journal:
    """The recording being written. Lines from both directions are written under one lock
    and flushed at once, so the file's order is the order the proxy saw and a killed proxy
    loses nothing it had passed on."""

    def __init__(self, stream: Any, path: str, tracer: Any) -> None:
        self._stream = stream
        self._path = path
        self._tracer = tracer
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self.started = time.time()
        self._failed = False
        self._closed = False

    def _write(self, data: bytes) -> None:
        # (called with the lock held)
        if self._failed or self._closed:
            return  # (closed: a server still writing after we gave up waiting for it)
        try:
            self._stream.write(data)
            self._stream.flush()
        except (OSError, ValueError) as exc:
            # The session matters more than its recording: say so once and carry on proxying.
            self._failed = True
            cli_error("record", "cannot write %s any more (%s); still passing messages on"
                      % (self._path, getattr(exc, "strerror", None) or exc))

    def _stamp(self) -> bytes:
        return b"%.6f" % (time.monotonic() - self._start)

    def _entry(self, fields: Dict[str, Any]) -> bytes:
        """A line of the file: ``t`` first, then ``fields``."""
        return b'{"t":' + self._stamp() + b"," + encode(fields)[1:] + b"\n"

    def header(self, command: Sequence[str]) -> None:
        started = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(self.started))
        started += ".%03dZ" % (int(self.started * 1000) % 1000)
        with self._lock:
            self._write(encode({"format": REC_FORMAT, "command": list(command), "cwd": os.getcwd(),
                                "started": started}) + b"\n")

    def line(self, direction: str, raw: bytes) -> None:
        """One whole line that crossed in ``direction``, with its line end."""
        body = raw.rstrip(b"\r\n")
        if not body.strip():
            return
        try:
            message = decode(body)
        except MCPError:
            message = None
        with self._lock:
            if self._tracer is not None:
                self._tracer.message(direction, message, raw=body)
            if message is not None:
                # The line's own JSON text, as it crossed. Inside a line a "\r" can only be
                # whitespace between tokens (JSON strings cannot hold one raw), and it must not
                # make a reader that also splits at "\r" see two lines.
                entry = b"".join((b'{"t":', self._stamp(), b',"dir":"', direction.encode("ascii"),
                                  b'","message":', body.replace(b"\r", b" "), b"}\n"))
            else:
                entry = self._entry({"dir": direction, "text": body.decode("utf-8", "backslashreplace")})
            self._write(entry)

    def oversized(self, direction: str, head: bytes, size: int) -> None:
        """A line longer than ``_REC_MAX_LINE``, passed on whole: its start and its length."""
        text = head.decode("utf-8", "replace")[:_CUT_TO]
        with self._lock:
            if self._tracer is not None:
                self._tracer.message(direction, None, raw=head[:_CUT_TO] + b" ... (%d bytes)" % size)
            self._write(self._entry({"dir": direction, "text": text, "truncated": True, "bytes": size}))

    def end(self, reason: str, status: Optional[int]) -> None:
        with self._lock:
            self._write(self._entry({"end": reason, "status": status}))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            try:
                self._stream.close()
            except OSError:
                pass


class _Sink:
    """Where one direction's lines go: a file descriptor, written a whole line at a time.
    After a write fails (the reader went away) it stays failed: lines are still recorded,
    just not passed on."""

    def __init__(self, fd: int, closer: Optional[Callable[[], None]] = None) -> None:
        self.fd = fd
        self._closer = closer
        self._lock = threading.Lock()
        self.open = True

    def write(self, data: bytes) -> None:
        with self._lock:
            if not self.open:
                return
            view = memoryview(data)
            try:
                while view:
                    try:
                        view = view[os.write(self.fd, view):]
                    except BlockingIOError:
                        # A host's non-blocking pipe that is full: waited on (see _rec_read).
                        select.select([], [self.fd], [], 1.0)
            except OSError:
                self.open = False

    def close(self, timeout: float = -1) -> None:
        """Close the descriptor, unless a write has held it for ``timeout`` seconds (a server
        that does not read): never close what another thread is writing to."""
        if not self._lock.acquire(timeout=timeout):
            return
        try:
            if self.open and self._closer is not None:
                self.open = False
                try:
                    self._closer()
                except OSError:
                    pass
            self.open = False
        finally:
            self._lock.release()


def _rec_read(fd: int) -> bytes:
    """What ``fd`` has, waiting for it. A host may hand over a pipe whose description it made
    non-blocking (a Node.js host's libuv; the flag is shared, not ours to change): nothing
    there yet (EAGAIN) is not the end of input."""
    while True:
        try:
            return os.read(fd, _CHUNK)
        except BlockingIOError:
            select.select([fd], [], [])


def _pump(source: int, sink: _Sink, direction: str, journal: _Journal) -> None:
    """Copy lines from the descriptor ``source`` to ``sink`` until end of file, recording
    each one before it is passed on (so a response is never recorded before its request).
    Raw ``os.read``: a daemon thread blocked here holds no lock the interpreter's exit needs."""
    pending = bytearray()
    passed = 0  # bytes of an over-long line already passed on
    head = b""  # its start, for the recording
    while True:
        try:
            chunk = _rec_read(source)
        except OSError:
            chunk = b""
        if not chunk:
            break
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                break
            piece = chunk[start:end + 1]
            start = end + 1
            if passed:
                sink.write(piece)
                journal.oversized(direction, head, passed + len(piece))
                passed, head = 0, b""
                continue
            if pending:
                piece = bytes(pending) + piece
                pending.clear()
            journal.line(direction, piece)
            sink.write(piece)
        rest = chunk[start:]
        if passed:
            sink.write(rest)
            passed += len(rest)
        else:
            pending += rest
            if len(pending) > _REC_MAX_LINE:
                head = bytes(pending[:4 * _CUT_TO])
                sink.write(bytes(pending))
                passed = len(pending)
                pending.clear()
    if passed:
        journal.oversized(direction, head, passed)
    elif pending:  # a last line without its newline
        journal.line(direction, bytes(pending))
        sink.write(bytes(pending))


# --- record ----------------------------------------------------------------------------------------

def _command_line(args: Any) -> Tuple[str, List[str]]:
    """OUT.jsonl and the server's argv from ``record``'s words (``OUT [--trace] -- CMD ...``).
    Parsed here, not by argparse: argparse drops the ``--`` that must separate them."""
    words = list(args.words)
    if "--" not in words:
        if not words:
            raise CliFailure(CLI_EXIT_USAGE, "give OUT.jsonl, then -- and the server's command "
                                             "(record OUT.jsonl -- COMMAND [ARG ...])")
        raise CliFailure(CLI_EXIT_USAGE, "put -- between OUT.jsonl and the server's command "
                                         "(record OUT.jsonl -- COMMAND [ARG ...])")
    split = words.index("--")
    head, command = words[:split], words[split + 1:]
    names = []  # type: List[str]
    for word in head:
        if word in ("--trace", "--trace=on"):
            args.trace = "on"
        elif word in ("--trace-explain", "--trace=explain"):
            args.trace = "explain"
        elif word.startswith("-") and word != "-":
            raise CliFailure(CLI_EXIT_USAGE, "unknown option %s (record [--trace] OUT.jsonl -- COMMAND ...)" % word)
        else:
            names.append(word)
    if len(names) != 1:
        raise CliFailure(CLI_EXIT_USAGE, "give one OUT.jsonl before --, not %s"
                         % (" ".join(names) if names else "none"))
    if names[0] == "-":
        raise CliFailure(CLI_EXIT_USAGE, "OUT.jsonl cannot be stdout (-): stdout carries the protocol")
    if not command:
        raise CliFailure(CLI_EXIT_USAGE, "no command after --: give the server's command line")
    return names[0], command


def _record(args: Any) -> int:
    import signal

    from .processes import ChildProcess

    out_path, command = _command_line(args)
    tracer = cli_tracer(args)
    try:
        # A process group of its own, as the client's servers have: what the server starts
        # is stopped with it (never an orphan), and the terminal's Ctrl-C reaches the proxy
        # only, which then stops the server itself (and records that it did).
        child = ChildProcess(command, capture_stderr=False)
    except (OSError, ValueError) as exc:
        raise CliFailure(CLI_EXIT_CONNECTION, "cannot start %s: %s" % (command[0], getattr(exc, "strerror", None)
                                                                       or exc))
    process = child.process
    # The server starts first, so that a mistyped command leaves an older OUT.jsonl alone.
    assert process.stdin is not None and process.stdout is not None
    server_in = _Sink(process.stdin.fileno(), process.stdin.close)
    try:
        stream = open(out_path, "wb")
    except OSError as exc:
        _stop(process, server_in, _EXIT_WAIT)
        raise CliFailure(CLI_EXIT_FAILED, "cannot write %s: %s" % (out_path, exc.strerror or exc))
    journal = _Journal(stream, out_path, tracer)
    journal.header(command)

    wake = threading.Event()
    hurry = threading.Event()  # a signal: stop the server now, even if already waiting for it
    reasons = []  # type: List[str]

    def finish(reason: str) -> None:
        reasons.append(reason)
        wake.set()

    def on_signal(signum: int, frame: Any) -> None:
        hurry.set()
        finish("signal %d" % signum)

    def client_to_server() -> None:
        _pump(0, server_in, "->", journal)
        # The reason first: closing the server's input makes it exit, and its exit, seen by
        # the other threads before this one runs again, is not why the session ended.
        finish("the client closed stdin")
        server_in.close()  # "the client SHOULD ... close the input stream to the server"

    def server_to_client() -> None:
        _pump(process.stdout.fileno(), _Sink(1), "<-", journal)  # type: ignore[union-attr]
        finish("the server closed stdout")

    def watch() -> None:
        process.wait()
        finish("the server exited")

    threads = [threading.Thread(target=target, name="mcplite-record-" + name, daemon=True)
               for target, name in ((client_to_server, "in"), (server_to_client, "out"), (watch, "wait"))]
    previous = {}  # type: Dict[int, Any]
    signals = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    for number in signals:
        try:
            previous[number] = signal.signal(number, on_signal)
        except (ValueError, OSError):  # not the main thread: the caller handles signals
            pass
    status = CLI_EXIT_FAILED
    try:
        for thread in threads:
            thread.start()
        try:
            while not wake.wait(1.0):
                pass
        except KeyboardInterrupt:
            reasons.insert(0, "interrupted")
        reason = reasons[0]
        if reason == "the server closed stdout":
            # Usually because it is exiting: the end of its output comes before its exit status.
            if child.exit_status(1.0) is not None:
                reason = "the server exited"
        if reason.startswith("signal") or reason == "interrupted":
            hurry.set()  # asked to stop: the server is stopped now, not after a grace period
        _stop(process, server_in, _EXIT_WAIT, hurry)
        threads[1].join(_DRAIN_WAIT)  # what the server wrote before it ended goes out too
        code = process.returncode
        journal.end(reason, code)
        if reason.startswith("signal"):
            status = 128 + int(reason.split()[1])
        elif reason == "interrupted":
            status = 130
        elif code is None:
            status = CLI_EXIT_FAILED
        else:
            status = 128 - code if code < 0 else code
    finally:
        for number, handler in previous.items():
            try:
                signal.signal(number, handler)
            except (ValueError, OSError):
                pass
        journal.close()
    return status


def _stop(process: Any, server_in: _Sink, wait: float, hurry: Optional[threading.Event] = None) -> None:
    """Close the server's stdin, give it ``wait`` seconds to exit (cut short once ``hurry``
    is set), then SIGTERM, then SIGKILL, its whole process group: never an orphan."""
    from .processes import stop_process
    server_in.close(timeout=0.5)
    stop_process(process, wait, group=True, signal_wait=_KILL_WAIT, hurry=hurry)


# --- replay ----------------------------------------------------------------------------------------

def _id_key(value: Any) -> Tuple[str, str]:
    # 1 and "1" are different ids.
    return (type(value).__name__, json.dumps(value, sort_keys=True))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _params(message: Dict[str, Any]) -> Dict[str, Any]:
    params = message.get("params")
    return params if isinstance(params, dict) else {}


def _rec_meta(params: Dict[str, Any]) -> Dict[str, Any]:
    meta = params.get("_meta")
    return meta if isinstance(meta, dict) else {}


def _match_key(method: str, params: Dict[str, Any]) -> str:
    """What must be equal for an exact match: the method and the params, without what a
    client sets per request (progressToken, the 2026-07-28 protocol fields of _meta) and
    what says who the client is (initialize's clientInfo and capabilities: the 2026-07-28
    equivalents are among those _meta fields)."""
    stripped = dict(params)
    if method == "initialize":
        stripped.pop("clientInfo", None)
        stripped.pop("capabilities", None)
    meta = {k: v for k, v in _rec_meta(params).items()
            if k != "progressToken" and not k.startswith(_META_PREFIX)}
    stripped.pop("_meta", None)
    if meta:
        stripped["_meta"] = meta
    return _canonical([method, stripped])


def _subject_key(method: str, params: Dict[str, Any]) -> str:
    field = _SUBJECT.get(method)
    return _canonical([method, params.get(field) if field else None])


class _RecExchange:
    """A recorded client request, its response (None: never answered) and what the server
    sent while it was open (``before``) and after it, before the next request (``after``)."""

    def __init__(self, message: Dict[str, Any]) -> None:
        self.id = message.get("id")
        self.method = message["method"]
        params = _params(message)
        self.token = _rec_meta(params).get("progressToken")
        self.key = _match_key(self.method, params)
        self.subject = _subject_key(self.method, params)
        self.subject_value = params.get(_SUBJECT.get(self.method, ""))
        self.response = None  # type: Optional[Dict[str, Any]]
        self.before = []  # type: List[Dict[str, Any]]
        self.after = []  # type: List[Dict[str, Any]]
        self.used = False


def rec_exchanges(entries: Sequence[_RecEntry]) -> Tuple[List[Dict[str, Any]], List["_RecExchange"]]:
    """The recording as exchanges: (what the server sent before any request, the client's
    requests in order with what answered them)."""
    preamble = []  # type: List[Dict[str, Any]]
    exchanges = []  # type: List[_RecExchange]
    waiting = []  # type: List[_RecExchange]   # unanswered, oldest first
    by_id = {}  # type: Dict[Tuple[str, str], _RecExchange]
    last = None  # type: Optional[_RecExchange]
    for entry in entries:
        items = entry.message if isinstance(entry.message, list) else [entry.message]
        for item in items:
            if not isinstance(item, dict):
                continue
            method = item.get("method")
            if entry.dir == "->":
                if isinstance(method, str) and "id" in item:
                    exchange = _RecExchange(item)
                    exchanges.append(exchange)
                    waiting.append(exchange)
                    by_id[_id_key(exchange.id)] = exchange
                continue  # the client's notifications and answers are the live client's to send
            if not isinstance(method, str):  # a response
                exchange = by_id.get(_id_key(item.get("id")))
                if exchange is not None and exchange.response is None and ("result" in item or "error" in item):
                    exchange.response = item
                    waiting.remove(exchange)
                    last = exchange
                continue
            owner = _owner(item, waiting)
            if owner is not None:
                owner.before.append(item)
            elif last is not None:
                last.after.append(item)
            else:
                preamble.append(item)
    return preamble, exchanges


def _owner(message: Dict[str, Any], waiting: List[_RecExchange]) -> Optional[_RecExchange]:
    """The open request a server message belongs to: the one its progress token or
    subscription id names, else the latest one sent (on one pipe nothing says better)."""
    params = _params(message)
    if message.get("method") == "notifications/progress" and params.get("progressToken") is not None:
        token = _id_key(params.get("progressToken"))
        for exchange in reversed(waiting):
            if exchange.token is not None and _id_key(exchange.token) == token:
                return exchange
    subscription = _rec_meta(params).get(META_SUBSCRIPTION_ID)
    if subscription is not None:
        for exchange in reversed(waiting):
            if _id_key(exchange.id) == _id_key(subscription):
                return exchange
    return waiting[-1] if waiting else None


class _RecPlay:
    """One live request being answered from an exchange: what is left to send, and the ids
    and tokens to rewrite on the way."""

    def __init__(self, exchange: _RecExchange, live_id: Any, live_token: Any) -> None:
        self.exchange = exchange
        self.live_id = live_id
        self.live_token = live_token
        script = list(exchange.before)
        if exchange.response is not None:
            script.append(exchange.response)
        self.script = script + list(exchange.after)


class RecReplayer(Endpoint):
    """The replaying server, with no I/O: ``receive`` takes each decoded message the client
    sent and calls ``send`` with each message to write back."""

    def __init__(self, exchanges: List[_RecExchange], send: Callable[[Any], None], strict: bool = False,
                 warn: Optional[Callable[[str], None]] = None) -> None:
        Endpoint.__init__(self)
        self.exchanges = exchanges
        self.send = send
        self.strict = strict  # only exact matches
        self.warn = warn  # told of each answer recorded for other params
        self._asked = {}  # type: Dict[Tuple[str, str], _RecPlay]   # our request id -> the play it pauses
        self._asked_count = 0
        methods = [exchange.method for exchange in exchanges]
        self.legacy = "initialize" in methods and "server/discover" not in methods
        self.modern = "server/discover" in methods and "initialize" not in methods

    def receive(self, message: Any) -> None:
        if isinstance(message, list):
            if not message:
                self.send(error_response(None, MCPError(INVALID_REQUEST, "Invalid Request: an empty batch")))
            answers = []  # type: List[Any]
            for item in message:
                self.route(item, answers.append)
            answers = [answer for answer in answers if answer is not None]
            if answers:
                self.send(answers)
            return
        self.route(message, self._send_answer)

    def _send_answer(self, answer: Any) -> None:
        if answer is not None:
            self.send(answer)

    def on_request(self, message: Message, reply: Reply, context: Any) -> None:
        self._request(message, reply)

    def on_notification(self, message: Message) -> None:
        if message["method"] == "notifications/cancelled":
            # The client gave up on a request that waits for its answer to ours: drop the rest.
            request_id = _params(message).get("requestId")
            for key, play in list(self._asked.items()):
                if _id_key(play.live_id) == _id_key(request_id):
                    del self._asked[key]

    def on_response(self, message: Message) -> None:
        # The client's answer to a request of ours: the play it paused goes on.
        play = self._asked.pop(_id_key(message.get("id")), None)
        if play is not None:
            self._play(play, self.send)

    def _request(self, message: Dict[str, Any], answer: Callable[[Any], None]) -> None:
        method = message["method"]
        params = _params(message)
        exchange = self._match(method, params)
        if exchange is not None and exchange.key != _match_key(method, params) and self.warn is not None:
            # Not what was asked: say so (a test replaying against a recording could
            # otherwise pass on an answer to another question).
            self.warn("%s was answered with the recording of a request with other params" % method)
        if exchange is None:
            if method == "ping":  # nothing to record in an empty answer: always there
                answer(result_response(message["id"], {}))
                return
            answer(error_response(message["id"], self._not_recorded(method, params)))
            return
        exchange.used = True
        play = _RecPlay(exchange, message["id"], _rec_meta(params).get("progressToken"))
        # The response goes through ``answer`` (a batch's array); the rest straight out.
        self._play(play, answer)

    def _match(self, method: str, params: Dict[str, Any]) -> Optional[_RecExchange]:
        key = _match_key(method, params)
        subject = _subject_key(method, params)
        tests = [lambda e: not e.used and e.key == key, lambda e: e.key == key]  # type: List[Callable[[Any], bool]]
        if not self.strict:
            tests.insert(1, lambda e: not e.used and e.subject == subject)
        for test in tests:
            for exchange in self.exchanges:
                if exchange.method == method and test(exchange):
                    return exchange
        return None

    def _not_recorded(self, method: str, params: Dict[str, Any]) -> MCPError:
        same = [e for e in self.exchanges if e.method == method]
        if method == "server/discover" and self.legacy:
            # What a legacy server answers: a probing client then falls back to initialize,
            # which is in the recording.
            return MCPError(METHOD_NOT_FOUND, "Method not found: server/discover (not in the recording, "
                                              "which holds a legacy session: initialize)")
        if method == "initialize" and self.modern:
            return MCPError(METHOD_NOT_FOUND, "Method not found: initialize (not in the recording, which "
                                              "holds a 2026-07-28 session: server/discover)")
        if not same:
            return MCPError(METHOD_NOT_FOUND, "Method not found: %s is not in the recording" % method)
        field = _SUBJECT.get(method)
        if field is not None:
            recorded = sorted(set(str(e.subject_value) for e in same))
            return MCPError(INVALID_PARAMS, "Not in the recording: no %s with %s %s (recorded: %s)"
                            % (method, field, json.dumps(params.get(field), ensure_ascii=False),
                               ", ".join(recorded)))
        return MCPError(INVALID_PARAMS, "Not in the recording: no %s with these params" % method)

    def _play(self, play: _RecPlay, answer: Callable[[Any], None]) -> None:
        exchange = play.exchange
        while play.script:
            item = play.script.pop(0)
            if item is exchange.response:
                answer(dict(item, id=play.live_id))
                continue
            out = self._rewrite(item, play)
            if out is None:
                continue
            if "id" in out and isinstance(out.get("method"), str):
                # The server asked the client something: ask again with an id of ours, and
                # go on when the answer comes.
                self._asked_count += 1
                asked_id = "replay-%d" % self._asked_count
                self._asked[_id_key(asked_id)] = play
                self.send(dict(out, id=asked_id))
                return
            self.send(out)

    def _rewrite(self, item: Dict[str, Any], play: _RecPlay) -> Optional[Dict[str, Any]]:
        """A server message of the recording for the live request: its progress token and
        subscription id become the live ones; progress the live request did not ask for is
        dropped."""
        exchange = play.exchange
        params = _params(item)
        if item.get("method") == "notifications/progress" and exchange.token is not None \
                and _id_key(params.get("progressToken")) == _id_key(exchange.token):
            if play.live_token is None:
                return None
            return dict(item, params=dict(params, progressToken=play.live_token))
        meta = _rec_meta(params)
        if META_SUBSCRIPTION_ID in meta and _id_key(meta[META_SUBSCRIPTION_ID]) == _id_key(exchange.id):
            return dict(item, params=dict(params, _meta=dict(meta, **{META_SUBSCRIPTION_ID: play.live_id})))
        return item


def _replay(args: Any) -> int:
    from .stdio import DEFAULT_MAX_MESSAGE_BYTES, _discard_rest_of_line, _protect_standard_streams, write_whole

    _, entries = rec_load(args.file)
    preamble, exchanges = rec_exchanges(entries)
    if not exchanges:
        raise CliFailure(CLI_EXIT_USAGE, "%s has no requests from a client to answer" % args.file)
    tracer = cli_tracer(args)
    # Nothing but protocol on stdout, whatever prints (see stdio.py).
    reader, writer = _protect_standard_streams()
    broken = []  # type: List[bool]

    def send(message: Any) -> None:
        if broken:
            return
        data = encode(message)
        if tracer is not None:
            tracer.message("<-", message, raw=data)
        try:
            write_whole(writer, data + b"\n")  # (one raw write may take only part of it)
        except (OSError, ValueError):
            broken.append(True)  # the client has gone; the reader sees end of file next

    def warn(text: str) -> None:
        try:
            sys.stderr.write("replay: %s\n" % text)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass

    replayer = RecReplayer(exchanges, send, strict=args.strict, warn=warn)
    for message in preamble:
        send(message)
    limit = DEFAULT_MAX_MESSAGE_BYTES
    try:
        while not broken:
            line = reader.readline(limit + 1)
            if not line:
                break
            if len(line) > limit and not line.endswith(b"\n"):
                _discard_rest_of_line(reader)
                send(error_response(None, MCPError(INVALID_REQUEST, "Invalid Request: message larger than %d "
                                                                    "bytes" % limit)))
                continue
            body = line.rstrip(b"\r\n")
            if not body.strip():
                continue
            try:
                message = decode(body)
            except MCPError as exc:
                if tracer is not None:
                    tracer.message("->", None, raw=body)
                send(error_response(None, MCPError(PARSE_ERROR, exc.message)))
                continue
            if tracer is not None:
                tracer.message("->", message, raw=body)
            replayer.receive(message)
    except KeyboardInterrupt:
        pass
    return CLI_EXIT_OK


# --- diff ------------------------------------------------------------------------------------------

class RecNormaliser:
    """One recording's messages with what differs every run made comparable (see the module
    docstring). One per recording: numbering starts again for each."""

    def __init__(self, ignore: Sequence[str] = ()) -> None:
        self.ignore = frozenset(ignore)
        self._ids = {"client": {}, "server": {}}  # type: Dict[str, Dict[Tuple[str, str], int]]
        self._opaque = {}  # type: Dict[str, Dict[Tuple[str, str], int]]

    def _id(self, side: str, value: Any) -> Any:
        table = self._ids[side]
        number = table.setdefault(_id_key(value), len(table) + 1)
        return number if side == "client" else "s%d" % number

    def _value(self, value: Any) -> Any:
        if isinstance(value, dict):
            out = {}  # type: Dict[str, Any]
            for key, item in value.items():
                if key in self.ignore:
                    continue
                group = _OPAQUE.get(key)
                if group is not None and isinstance(item, (str, int)) and not isinstance(item, bool):
                    table = self._opaque.setdefault(group, {})
                    out[key] = "<%s %d>" % (group, table.setdefault(_id_key(item), len(table) + 1))
                else:
                    out[key] = self._value(item)
            return out
        if isinstance(value, list):
            return [self._value(item) for item in value]
        return value

    def message(self, direction: str, message: Any) -> Any:
        if isinstance(message, list):
            return [self.message(direction, item) for item in message]
        out = self._value(message)
        if not isinstance(message, dict) or not isinstance(out, dict):
            return out
        sender, receiver = ("client", "server") if direction == "->" else ("server", "client")
        method = message.get("method")
        if "id" in out and message.get("id") is not None:
            # A request is numbered on its sender's side; a response answers the other side's.
            out["id"] = self._id(sender if isinstance(method, str) else receiver, message["id"])
        params = out.get("params")
        if isinstance(params, dict):
            if method == "notifications/cancelled" and "requestId" in params:
                out["params"] = params = dict(params, requestId=self._id(sender, params["requestId"]))
            meta = params.get("_meta")
            if isinstance(meta, dict) and META_SUBSCRIPTION_ID in meta:
                meta = dict(meta)
                meta[META_SUBSCRIPTION_ID] = self._id(receiver, meta[META_SUBSCRIPTION_ID])
                out["params"] = dict(params, _meta=meta)
        return out


def rec_conversation(entries: Sequence[_RecEntry], ignore: Sequence[str] = ()) -> List[Tuple[_RecEntry, Any, str]]:
    """Each message as (entry, normalised message, its line in the diff)."""
    normaliser = RecNormaliser(ignore)
    out = []  # type: List[Tuple[_RecEntry, Any, str]]
    for entry in entries:
        if entry.text is not None:
            out.append((entry, None, "%s (not JSON) %s" % (entry.dir, entry.text)))
            continue
        normal = normaliser.message(entry.dir, entry.message)
        out.append((entry, normal, "%s %s" % (entry.dir, _canonical(normal))))
    return out


def _diff(args: Any) -> int:
    import difflib

    sides = []
    for path in (args.a, args.b):
        _, entries = rec_load(path)
        sides.append(rec_conversation(entries, args.ignore or ()))
    a, b = sides
    a_lines = [line for _, _, line in a]
    b_lines = [line for _, _, line in b]
    if args.json:
        changes = []  # type: List[Dict[str, Any]]
        matcher = difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False)
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op != "equal":
                changes.append({"op": op, "a": [_diff_item(n, a[n]) for n in range(a1, a2)],
                                "b": [_diff_item(n, b[n]) for n in range(b1, b2)]})
        sys.stdout.write(json.dumps(changes, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return CLI_EXIT_FAILED if changes else CLI_EXIT_OK
    if a_lines == b_lines:
        return CLI_EXIT_OK
    for line in difflib.unified_diff(a_lines, b_lines, fromfile=args.a, tofile=args.b, lineterm=""):
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return CLI_EXIT_FAILED


def _diff_item(index: int, item: Tuple[_RecEntry, Any, str]) -> Dict[str, Any]:
    """One side of a difference: its message number (as in the unified diff's @@), its line
    in the file, its direction, and the normalised message (or the text of a non-JSON line)."""
    entry, normal, _ = item
    out = {"n": index + 1, "line": entry.line, "dir": entry.dir}  # type: Dict[str, Any]
    if entry.text is not None:
        out["text"] = entry.text
    else:
        out["message"] = normal
    return out
