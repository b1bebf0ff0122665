"""``check TARGET``: a quick compliance probe of a server, in both protocol eras.

The probe drives the wire itself - a child process with pipes for stdio, ``http.client``
for HTTP - because it must send what no well-behaved client would (a line that is not
JSON, a request without its ``_meta``, headers that disagree with the body) and look at
the exact answer. Each era runs on a fresh connection: a fresh process on stdio (a
dual-era server fixes a process's era with the first request it accepts), fresh
sessions over HTTP.

Every check is one line, PASS / FAIL (a MUST is broken) / WARN (a SHOULD, or a rule
the spec leaves soft) / SKIP (not applicable, with the reason). The list of checks of an
era and transport is fixed, so ``--json`` documents always carry the same ids:

2026-07-28 (``modern``): ``discover`` (server/discover answered with supportedVersions,
capabilities, resultType, ttlMs, cacheScope), ``server-info`` (the serverInfo ``_meta``
a result SHOULD carry), ``unsupported-version`` (-32022 with the supported versions),
``missing-meta`` (-32602 for a request without its required ``_meta`` field),
``unknown-method`` (-32601), ``notification`` (never answered), ``parse-error`` (-32700,
id null, and the server keeps serving); on stdio ``stdout-clean`` (nothing but messages on
stdout) and ``stdin-closed`` (the server exits when its stdin closes); over HTTP the
header rules (``header-version-missing``, ``header-version-mismatch``,
``header-method-missing``, ``header-method-mismatch``, ``header-name-missing``,
``header-name-mismatch``: 400 with -32020), ``origin`` (403) and ``get`` / ``delete`` (405).

legacy (``initialize``): ``initialize`` (protocolVersion, capabilities, serverInfo),
``initialize-refusal`` (a server that refuses it names its versions), ``version-negotiation``
(an unknown version is answered with a supported one), ``initialized`` (the notification
gets no answer; 202 over HTTP), ``ping`` (``{}``), ``unknown-method``, ``parse-error``; on
stdio ``stdout-clean``; over HTTP ``session-id``, ``session-required`` (400),
``session-unknown`` (404), ``protocol-version-header`` (400), ``origin`` (403) and
``delete`` (DELETE ends the session: 404 after).

Exit status: 0 when nothing failed, 1 when a check failed, 2 for a bad command line, 3
when the target cannot be reached or speaks neither era (it does not start, refuses the
connection, exits, stays silent, or refuses both server/discover and initialize).
"""

from __future__ import annotations

import json
import queue
import re
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .cli import (
    CLI_EXIT_CONNECTION, CLI_EXIT_FAILED, CLI_EXIT_OK, CLI_EXIT_USAGE, CliFailure, CliTarget, cli_authorization,
    cli_connection_text, cli_error_text, cli_headers, cli_refusal_text, cli_resolve_target, cli_target_label,
    cli_tracer,
)
from .protocol import (
    LATEST_LEGACY_VERSION, LATEST_VERSION, META_CLIENT_CAPABILITIES, META_CLIENT_INFO, META_PROTOCOL_VERSION,
    META_SERVER_INFO, supports,
)

_MODERN = "modern"
_PROBE_LEGACY = "legacy"
# The spec's own example of a version no server supports (versioning.mdx, "requested":
# "1900-01-01").
_BOGUS_VERSION = "1900-01-01"
_CLIENT_INFO = {"name": "mcplite-check", "version": "1.0"}
_NO_METHOD = "mcplite/no-such-method"
_NO_TOOL = "mcplite-check-no-such-tool"
_NOTIFICATION = "notifications/mcplite/check"
# JSON-RPC 2.0's own example of "an rpc call with invalid JSON".
_GARBAGE = b'{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'
_BAD_ORIGIN = "http://evil.example"
_NO_SESSION = "mcplite-check-no-such-session"
_VERSION_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PROBE_MAX_LINE = 16 * 1024 * 1024
_PROBE_MAX_BODY = 4 * 1024 * 1024
_MAX_DETAIL = 160
# The "recognized modern JSON-RPC errors" (streamable-http.mdx, "Backward Compatibility":
# unsupported version, missing client capability, header validation): a server refusing
# server/discover with one of them still speaks 2026-07-28.
_MODERN_CODES = (-32020, -32021, -32022)
# How a stdio server's last words follow a problem (the form cli_connection_text reads).
_STDERR_MARK = "; its stderr ends with:\n"
_PASS, _FAIL, _WARN, _SKIP = "pass", "fail", "warn", "skip"

# The checks of each (era, transport), in the order they run and are shown.
_CHECKS = {
    (_MODERN, "stdio"): (
        "discover", "server-info", "unsupported-version", "missing-meta", "unknown-method", "notification",
        "parse-error", "stdout-clean", "stdin-closed"),
    (_MODERN, "http"): (
        "discover", "server-info", "unsupported-version", "missing-meta", "unknown-method", "notification",
        "parse-error", "header-version-missing", "header-version-mismatch", "header-method-missing",
        "header-method-mismatch", "header-name-missing", "header-name-mismatch", "origin", "get", "delete"),
    (_PROBE_LEGACY, "stdio"): (
        "initialize", "initialize-refusal", "initialized", "ping", "unknown-method", "parse-error",
        "version-negotiation", "stdout-clean"),
    (_PROBE_LEGACY, "http"): (
        "initialize", "initialize-refusal", "session-id", "initialized", "ping", "unknown-method", "parse-error",
        "session-required", "session-unknown", "protocol-version-header", "origin", "version-negotiation",
        "delete"),
}


def add_probe_commands(commands: Any, common: Any) -> None:
    """Add the ``check`` command to the command line's sub-parsers."""
    check = commands.add_parser(
        "check", parents=[common], help="a quick compliance probe of a server, both eras",
        description="Probe a server against the MCP rules that are cheap to test from outside, in the "
                    "2026-07-28 era (server/discover, per-request _meta) and the legacy era (initialize), "
                    "each on a fresh connection: a fresh process for stdio, fresh sessions over HTTP. One "
                    "line per check - PASS, FAIL (a MUST broken), WARN (a SHOULD), SKIP - then a summary. "
                    "The probe sends deliberately bad input (a line that is not JSON, wrong headers); it "
                    "never calls a tool.",
        epilog="Exit status: 0 nothing failed, 1 a check failed, 2 usage, 3 the target cannot be reached or "
               "speaks neither era. --era limits the probe to one era; --protocol-version picks the version "
               "asked for (and so the era).")
    check.add_argument("target", metavar="TARGET",
                       help="an http(s):// URL, a server file (server.py[:app]) or a stdio command")
    check.set_defaults(run=_command)


# --- the command ------------------------------------------------------------------------------


class _ProbeUnreachable(Exception):
    """The target cannot be talked to at all (it does not start, refuses the connection)."""


class _Settings:
    """What one run needs: the target and the common options, read once."""

    def __init__(self, target: CliTarget, timeout: float, tracer: Any, headers: Dict[str, str],
                 pass_stderr: bool, modern_version: str, legacy_version: str) -> None:
        self.target = target
        self.timeout = timeout
        self.tracer = tracer
        self.headers = headers
        self.pass_stderr = pass_stderr
        self.modern_version = modern_version
        self.legacy_version = legacy_version
        self.legacy_answered = None  # type: Optional[str]   # the version initialize was answered with
        self.auth = None  # type: Any   # the OAuth of the signing-in options, if any

    def meta(self, version: Optional[str] = None, capabilities: bool = True) -> Dict[str, Any]:
        """The per-request ``_meta`` of 2026-07-28: "fields marked as required MUST be
        included on every request" (protocolVersion, clientCapabilities)."""
        meta = {META_PROTOCOL_VERSION: version or self.modern_version}  # type: Dict[str, Any]
        if capabilities:
            meta[META_CLIENT_CAPABILITIES] = {}
        meta[META_CLIENT_INFO] = dict(_CLIENT_INFO)
        return meta

    def initialize(self, rid: Any, version: Optional[str] = None) -> Dict[str, Any]:
        return {"jsonrpc": "2.0", "id": rid, "method": "initialize", "params": {
            "protocolVersion": version or self.legacy_version, "capabilities": {},
            "clientInfo": dict(_CLIENT_INFO)}}


def _command(args: Any) -> int:
    target = cli_resolve_target(args.target)
    timeout = float(args.timeout)
    if not 0 < timeout < 1e6:  # (nan and inf too: a wait needs a finite bound)
        raise CliFailure(CLI_EXIT_USAGE, "--timeout must be a positive number of seconds")
    eras = [_MODERN, _PROBE_LEGACY] if args.era == "auto" else [args.era]
    modern_version, legacy_version = LATEST_VERSION, LATEST_LEGACY_VERSION
    if args.protocol_version:
        version = args.protocol_version.strip()
        if not _VERSION_SHAPE.match(version):
            raise CliFailure(CLI_EXIT_USAGE, "a protocol version is a date such as %s, not %r"
                             % (LATEST_VERSION, version))
        era = _MODERN if version >= LATEST_VERSION else _PROBE_LEGACY
        if args.era not in ("auto", era):
            raise CliFailure(CLI_EXIT_USAGE, "--protocol-version %s belongs to the %s era, and --era says %s"
                             % (version, era, args.era))
        eras = [era]
        if era == _MODERN:
            modern_version = version
        else:
            legacy_version = version
    headers = cli_headers(args)
    if headers and target.kind != "http":
        raise CliFailure(CLI_EXIT_USAGE, "--header is for HTTP targets")
    auth, auth_headers = cli_authorization(args, target)
    headers.update(auth_headers)
    settings = _Settings(target, timeout, cli_tracer(args), headers, bool(args.server_stderr),
                              modern_version, legacy_version)
    settings.auth = auth
    report = _Report(settings.tracer)
    openings = []  # type: List[str]   # why an era could not be spoken, for the exit-3 line
    tail = ""
    for era in eras:
        board = report.era(era, target.kind)
        if settings.tracer is not None:
            settings.tracer.note("check: the %s era, on a fresh %s" % (
                _era_title(era, settings), "process" if target.kind == "stdio" else "connection"))
        try:
            if target.kind == "stdio":
                runner = _stdio_modern if era == _MODERN else _stdio_legacy
            else:
                runner = _http_modern if era == _MODERN else _http_legacy
            runner(settings, board)
        except _ProbeUnreachable as exc:
            # It does not start, or refuses connections: the other era would fare no better.
            raise CliFailure(CLI_EXIT_CONNECTION, cli_connection_text(target, exc))
        board.finish(board.rest)
        if not board.spoken:
            openings.append(board.opening)
            tail = board.stderr_tail or tail
    if len(openings) == len(eras):
        # "not an MCP server at all": neither era's opening request got a result.
        text = "; ".join(openings) + (_STDERR_MARK + tail if tail else "")
        raise CliFailure(CLI_EXIT_CONNECTION, cli_connection_text(target, _ProbeUnreachable(text)))
    if args.json:
        sys.stdout.write(json.dumps(report.document(settings), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.text(settings))
    sys.stdout.flush()
    return CLI_EXIT_FAILED if report.count(_FAIL) else CLI_EXIT_OK


def _era_title(era: str, settings: _Settings) -> str:
    if era == _MODERN:
        return "%s (modern: server/discover, per-request _meta)" % settings.modern_version
    return "legacy (initialize, %s)" % settings.legacy_version


# --- results ----------------------------------------------------------------------------------


class _ProbeBoard:
    """The results of one era: every check of its list gets exactly one."""

    def __init__(self, era: str, ids: Sequence[str], tracer: Any) -> None:
        self.era = era
        self.ids = list(ids)
        self.results = {}  # type: Dict[str, Tuple[str, str]]
        self.tracer = tracer
        self.spoken = False  # the era's opening request got a result
        self.opening = ""  # what the opening request got, when it was not a result
        self.rest = "not run"  # why the checks left without a verdict are skipped
        self.stderr_tail = ""  # what a stdio server said last, when it exited before answering

    def open_failed(self, what: str, problem: Optional[str]) -> None:
        head, _, tail = (problem or "no answer").partition(_STDERR_MARK)
        self.opening = "%s: %s" % (what, head)
        self.stderr_tail = tail

    def set(self, check: str, status: str, detail: str) -> None:
        assert check in self.ids, check
        if check in self.results:
            return  # the first verdict stands
        detail = " ".join(str(detail).split())
        self.results[check] = (status, detail)
        if self.tracer is not None:
            self.tracer.note("check %s %s %s: %s" % (self.era, check, status.upper(), detail))

    def passed(self, check: str, detail: str) -> None:
        self.set(check, _PASS, detail)

    def failed(self, check: str, detail: str) -> None:
        self.set(check, _FAIL, detail)

    def warned(self, check: str, detail: str) -> None:
        self.set(check, _WARN, detail)

    def skipped(self, check: str, detail: str) -> None:
        self.set(check, _SKIP, detail)

    def has(self, check: str) -> bool:
        return check in self.ids

    def finish(self, reason: str) -> None:
        for check in self.ids:
            if check not in self.results:
                self.set(check, _SKIP, reason)


class _Report:
    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        self.boards = []  # type: List[_ProbeBoard]

    def era(self, era: str, transport: str) -> _ProbeBoard:
        board = _ProbeBoard(era, _CHECKS[(era, transport)], self.tracer)
        self.boards.append(board)
        return board

    def count(self, status: str) -> int:
        return sum(1 for board in self.boards for s, _ in board.results.values() if s == status)

    def summary(self) -> Dict[str, int]:
        return {"passed": self.count(_PASS), "failed": self.count(_FAIL),
                "warnings": self.count(_WARN), "skipped": self.count(_SKIP)}

    def document(self, settings: _Settings) -> Dict[str, Any]:
        results = []
        for board in self.boards:
            for check in board.ids:
                status, detail = board.results[check]
                results.append({"id": check, "era": board.era, "status": status, "detail": detail})
        return {"target": settings.target.text, "transport": settings.target.kind,
                "versions": {_MODERN: settings.modern_version, _PROBE_LEGACY: settings.legacy_version},
                "results": results, "summary": self.summary(), "ok": self.count(_FAIL) == 0}

    def text(self, settings: _Settings) -> str:
        lines = []
        width = max(len(check) for board in self.boards for check in board.ids)
        for board in self.boards:
            lines.append("%s, %s" % (_era_title(board.era, settings), settings.target.kind))
            for check in board.ids:
                status, detail = board.results[check]
                lines.append("  %s  %s  %s" % (status.upper(), check.ljust(width), detail))
        summary = self.summary()
        lines.append("%d checks: %d passed, %d failed, %d warning%s, %d skipped" % (
            sum(summary.values()), summary["passed"], summary["failed"], summary["warnings"],
            "" if summary["warnings"] == 1 else "s", summary["skipped"]))
        return "\n".join(lines) + "\n"


# --- reading answers --------------------------------------------------------------------------


def _short(value: Any, limit: int = _MAX_DETAIL) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _problem(problem: Optional[str]) -> str:
    """A problem without the stdio server's last words (the exit-3 line shows them)."""
    return (problem or "no answer").partition(_STDERR_MARK)[0]


def _probe_error(message: Any) -> Optional[Dict[str, Any]]:
    """The ``error`` member of an error response (None for anything else)."""
    if isinstance(message, dict) and isinstance(message.get("error"), dict) and "method" not in message:
        return message["error"]
    return None


def _is_response(message: Any) -> bool:
    return isinstance(message, dict) and "method" not in message and ("result" in message or "error" in message)


def _describe(message: Any) -> str:
    """An answer in a few words: "error -32601 (Method not found)", "a result"..."""
    if message is None:
        return "no answer"
    error = _probe_error(message)
    if error is not None:
        return "error %s (%s)" % (error.get("code"), _short(error.get("message", ""), 80))
    if isinstance(message, dict) and "result" in message:
        return "a result"
    return "a message that is not a response: %s" % _short(message, 80)


def _code(message: Any) -> Any:
    error = _probe_error(message)
    return error.get("code") if error is not None else None


def _names_versions(text: str) -> bool:
    return re.search(r"\d{4}-\d{2}-\d{2}", text) is not None


def _json_lines(raw: bytes) -> Tuple[List[Any], bool]:
    """The messages in one stdio line (a batch gives several), and whether the line is a
    valid message at all: "The server MUST NOT write anything to its stdout that is not a
    valid MCP message"."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return [], False
    items = value if isinstance(value, list) and value else [value]
    ok = all(isinstance(item, dict) and item.get("jsonrpc") == "2.0" for item in items)
    return ([item for item in items if isinstance(item, dict)], ok)


class _Outcome:
    """What came back for one exchange: the response to our request (or None), every
    other message that arrived meanwhile, and why there was no response (``problem``)."""

    def __init__(self) -> None:
        self.response = None  # type: Any
        self.others = []  # type: List[Any]
        self.problem = None  # type: Optional[str]

    def stray_answers(self) -> List[Any]:
        """Responses among the other messages: answers to something that was no request."""
        return [m for m in self.others if _is_response(m)]


# --- stdio ------------------------------------------------------------------------------------


class _Stdio:
    """One server process: lines to its stdin, lines from its stdout (read by a thread,
    traced as they come), its stderr kept (the last lines) unless passed through."""

    def __init__(self, settings: _Settings) -> None:
        from .processes import ChildProcess

        self.settings = settings
        self.tracer = settings.tracer
        self.timeout = settings.timeout
        self.junk = []  # type: List[bytes]   # lines that were not MCP messages
        self.exited = False
        self._queue = queue.Queue()  # type: queue.Queue
        try:
            # A process group of its own, stopped whole: what a wrapper such as npx starts
            # goes with it.
            self.child = ChildProcess(settings.target.argv, capture_stderr=not settings.pass_stderr)
        except OSError as exc:
            raise _ProbeUnreachable("cannot start it: %s" % (exc.strerror or exc))
        self.proc = self.child.process
        if self.tracer is not None:
            self.tracer.note("started %s (pid %d)" % (cli_target_label(settings.target), self.proc.pid))
        self._reader = threading.Thread(target=self._read, name="mcplite-check-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        while True:
            try:
                line = stdout.readline(_PROBE_MAX_LINE)
            except (OSError, ValueError):
                line = b""
            if not line:
                self._queue.put(None)
                return
            messages, ok = _json_lines(line)
            if self.tracer is not None:
                self.tracer.message("<-", messages[0] if ok and len(messages) == 1 else (
                    messages if ok else None), line)
            if not ok:
                self.junk.append(line)
            for message in messages:
                self._queue.put(message)

    def stderr_tail(self) -> str:
        return "\n".join(self.child.stderr_lines(20, wait=1.0))

    def gone(self) -> str:
        """Why the server stopped answering: it exited (with its status, and the last
        thing it said on stderr) or closed its stdout."""
        try:
            status = self.proc.wait(2.0)
        except Exception:
            return "the server closed its stdout"
        tail = self.stderr_tail()
        text = "the server exited (status %s)" % status
        return text + (_STDERR_MARK + tail if tail else "")

    def write(self, raw: bytes, message: Any = None) -> bool:
        """One line to the server; False when it no longer reads."""
        if self.tracer is not None:
            self.tracer.message("->", message, raw)
        try:
            stdin = self.proc.stdin
            assert stdin is not None
            stdin.write(raw + b"\n")
            stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def send(self, message: Any) -> bool:
        return self.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), message)

    def exchange(self, lines: Sequence[Any], rid: Any, null_is_answer: bool = True) -> _Outcome:
        """Send ``lines`` (messages, or raw bytes), then wait for the response with id
        ``rid``, collecting every other message until it comes. With ``null_is_answer``
        an error with a null (or no) id is taken for it too: the id was readable, so the
        server should have echoed it, but a missing id is no reason to wait for nothing."""
        outcome = _Outcome()
        for line in lines:
            sent = self.write(line) if isinstance(line, bytes) else self.send(line)
            if not sent:
                break  # (what the server said before it went is still read below)
        if self.exited:
            outcome.problem = "the server is gone"
            return outcome
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=max(left, 0.0)) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                outcome.problem = "no answer within %gs" % self.timeout
                return outcome
            if item is None:
                self.exited = True
                outcome.problem = self.gone()
                return outcome
            if _is_response(item) and item.get("id") == rid and type(item.get("id")) is type(rid):
                outcome.response = item
                return outcome
            if null_is_answer and _probe_error(item) is not None and item.get("id") is None:
                outcome.response = item
                return outcome
            outcome.others.append(item)
            if isinstance(item, dict) and isinstance(item.get("method"), str) and "id" in item:
                self._answer_request(item)

    def _answer_request(self, message: Dict[str, Any]) -> None:
        """A request from the server (a legacy server may ask for roots, say): a ping gets
        its empty result, anything else an error - the probe has nothing to offer."""
        if message["method"] == "ping":
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
        else:
            self.send({"jsonrpc": "2.0", "id": message["id"], "error": {
                "code": -32601, "message": "Method not found: mcplite check answers no requests"}})

    def close(self, grace: float) -> bool:
        """Close stdin and wait for the server to exit: True when it did within ``grace``
        seconds; otherwise it is stopped (SIGTERM, then SIGKILL, to its process group)."""
        import subprocess

        from .processes import stop_process

        self.child.close_stdin()
        exited = True
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            exited = False
        stop_process(self.proc, 3.0, group=True)  # (at once if it exited: then only what it left)
        if self.tracer is not None:
            self.tracer.note("the server (pid %d) %s" % (self.proc.pid, "exited (status %s)" % self.proc.returncode
                                                         if exited else "was stopped"))
        self._reader.join(2.0)
        if self.child.stderr_reader is not None:
            self.child.stderr_reader.join(2.0)
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        return exited


def _stdout_clean(board: _ProbeBoard, peer: _Stdio) -> None:
    # stdio: "The server MUST NOT write anything to its stdout that is not a valid MCP message."
    if peer.junk:
        board.failed("stdout-clean", "%d line%s on stdout that %s not a JSON-RPC message, the first: %s" % (
            len(peer.junk), "" if len(peer.junk) == 1 else "s", "is" if len(peer.junk) == 1 else "are",
            _short(peer.junk[0].decode("utf-8", "backslashreplace").rstrip("\r\n") or "(an empty line)", 80)))
    else:
        board.passed("stdout-clean", "nothing but JSON-RPC messages on stdout")


def _stdio_modern(settings: _Settings, board: _ProbeBoard) -> None:
    peer = _Stdio(settings)
    exited_before = True
    try:
        _stdio_modern_checks(settings, board, peer)
        exited_before = peer.proc.poll() is not None
    finally:
        closed_alone = peer.close(min(settings.timeout, 5.0))
    if board.spoken and "stdin-closed" not in board.results:
        # 2026-07-28 stdio: servers "SHOULD exit promptly when their standard input is closed".
        if exited_before:
            board.skipped("stdin-closed", "the server had exited already")
        elif closed_alone:
            board.passed("stdin-closed", "the server exited when its stdin closed")
        else:
            board.warned("stdin-closed", "the server was still running %gs after its stdin closed (it SHOULD "
                                         "exit promptly)" % min(settings.timeout, 5.0))


def _stdio_modern_checks(settings: _Settings, board: _ProbeBoard, peer: _Stdio) -> None:
    outcome = peer.exchange([_discover(1, settings.meta())], 1)
    if not _modern_opening(settings, board, outcome):
        board.rest = "the server does not speak %s" % settings.modern_version
        if peer.junk:
            _stdout_clean(board, peer)
        return
    _modern_unsupported(board, peer.exchange([_discover(2, settings.meta(_BOGUS_VERSION))], 2),
                              None)
    _modern_missing_meta(board, peer.exchange([_discover(3, settings.meta(capabilities=False))], 3),
                               None)
    unknown = {"jsonrpc": "2.0", "id": "mcplite-check-4", "method": _NO_METHOD,
               "params": {"_meta": settings.meta()}}
    _unknown_method(board, peer.exchange([unknown], "mcplite-check-4"), None, 404)
    # "Notifications: The receiver MUST NOT send a response." A notification the server
    # does not know is the case servers get wrong (answering it with -32601).
    note = {"jsonrpc": "2.0", "method": _NOTIFICATION, "params": {"_meta": settings.meta()}}
    outcome = peer.exchange([note, _discover(5, settings.meta())], 5, null_is_answer=False)
    _stdio_silence(board, "notification", outcome, "%s (a notification it does not know)"
                         % _NOTIFICATION, "server/discover")
    outcome = peer.exchange([_GARBAGE, _discover(6, settings.meta())], 6, null_is_answer=False)
    _stdio_parse_error(board, outcome, "server/discover")
    _stdout_clean(board, peer)
    if peer.exited:
        board.rest = "the server is gone"


def _discover(rid: Any, meta: Dict[str, Any]) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "method": "server/discover", "params": {"_meta": meta}}


def _modern_opening(settings: _Settings, board: _ProbeBoard, outcome: Any,
                          status: Optional[int] = None) -> bool:
    """The ``discover`` and ``server-info`` checks, from the answer to server/discover.
    True when the era goes on: the server answered with a result, or with an error only
    a 2026-07-28 server gives (then ``discover`` fails, the rest is still worth probing)."""
    response = outcome.response
    if response is None:
        board.open_failed("server/discover", outcome.problem)
        if outcome.problem and outcome.problem.startswith("the server exited"):
            # A crash is no way to answer a request ("every request gets a response").
            board.failed("discover", "%s on server/discover" % _problem(outcome.problem))
            return False
        board.skipped("discover", "the server does not speak %s: %s to server/discover" % (
            settings.modern_version, outcome.problem or "no answer"))
        return False
    error = _probe_error(response)
    if error is not None:
        board.opening = "server/discover: %s" % _describe(response)
        data = error.get("data") if isinstance(error.get("data"), dict) else {}
        supported = data.get("supported") if isinstance(data.get("supported"), list) else None
        if error.get("code") in _MODERN_CODES and not (
                error.get("code") == -32022 and supported is not None and settings.modern_version not in supported):
            # "Servers MUST implement server/discover", and the request was well formed.
            board.spoken = True
            board.failed("discover", "a correct server/discover was refused: %s" % _describe(response))
            board.skipped("server-info", "no result to look at")
            return True
        board.skipped("discover", "the server does not speak %s: server/discover answered %s%s" % (
            settings.modern_version, _describe(response),
            "" if status is None else " (HTTP %d)" % status))
        return False
    board.spoken = True
    result = response.get("result")
    if not isinstance(result, dict):
        board.failed("discover", "the result is not an object: %s" % _short(result, 80))
        board.skipped("server-info", "no result object to look at")
        return True
    problems = []
    versions = result.get("supportedVersions")
    if not (isinstance(versions, list) and versions and all(isinstance(v, str) for v in versions)):
        problems.append("supportedVersions is not a list of versions")
    elif settings.modern_version not in versions:
        problems.append("supportedVersions %s lacks %s, which it just served" % (
            _short(versions, 60), settings.modern_version))
    if not isinstance(result.get("capabilities"), dict):
        problems.append("capabilities is missing")
    # "The result MUST include a resultType field"; a discover that answers is complete.
    if result.get("resultType") != "complete":
        problems.append("resultType is %s, not \"complete\"" % _short(result.get("resultType", "missing"), 40))
    # The schema requires both cache hints on DiscoverResult.
    ttl = result.get("ttlMs")
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl < 0:
        problems.append("ttlMs is %s" % ("missing" if ttl is None else "not a number of milliseconds"))
    if result.get("cacheScope") not in ("public", "private"):
        problems.append("cacheScope is %s" % ("missing" if "cacheScope" not in result else "not public or private"))
    if problems:
        board.failed("discover", "; ".join(problems))
    else:
        board.passed("discover", "versions %s; capabilities: %s" % (
            ", ".join(versions), ", ".join(sorted(result["capabilities"])) or "none"))
    # Servers "SHOULD include ... io.modelcontextprotocol/serverInfo" in every result's _meta.
    meta = result.get("_meta") if isinstance(result.get("_meta"), dict) else {}
    info = meta.get(META_SERVER_INFO)
    if isinstance(info, dict) and isinstance(info.get("name"), str):
        board.passed("server-info", "%s %s" % (info["name"], info.get("version", "")))
    else:
        board.warned("server-info", "the result's _meta has no %s (a server SHOULD name itself in every "
                                    "result)" % META_SERVER_INFO)
    return True


def _status_note(status: Optional[int]) -> str:
    return "" if status is None else " (HTTP %d)" % status


def _modern_unsupported(board: _ProbeBoard, outcome: _Outcome, status: Optional[int]) -> None:
    # "If the server does not implement the requested version ... it MUST respond with an
    # UnsupportedProtocolVersionError listing the versions it does support"; on HTTP
    # "400 Bad Request".
    check = "unsupported-version"
    response = outcome.response
    if response is None:
        board.failed(check, "version %s: %s" % (_BOGUS_VERSION, outcome.problem or "no answer"))
        return
    error = _probe_error(response)
    if error is None or error.get("code") != -32022:
        board.failed(check, "version %s was answered with %s%s, not error -32022" % (
            _BOGUS_VERSION, _describe(response), _status_note(status)))
        return
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    supported = data.get("supported")
    if not (isinstance(supported, list) and supported and all(isinstance(v, str) for v in supported)):
        board.failed(check, "error -32022 without data.supported, the list of versions it speaks")
        return
    if status is not None and status != 400:
        board.failed(check, "error -32022 with HTTP %d, not 400" % status)
        return
    if data.get("requested") != _BOGUS_VERSION:
        board.warned(check, "error -32022 lists %s, but data.requested is not %s (the schema requires it)"
                     % (", ".join(supported), _BOGUS_VERSION))
        return
    board.passed(check, "error -32022%s, supported: %s" % (_status_note(status), ", ".join(supported)))


def _modern_missing_meta(board: _ProbeBoard, outcome: _Outcome, status: Optional[int]) -> None:
    # "A request missing any required field is malformed; the server MUST reject it with
    # JSON-RPC error code -32602 (Invalid params). On HTTP, the response status MUST be 400."
    check = "missing-meta"
    response = outcome.response
    what = "a request without %s" % META_CLIENT_CAPABILITIES
    if response is None:
        board.failed(check, "%s: %s" % (what, outcome.problem or "no answer"))
    elif _code(response) != -32602:
        board.failed(check, "%s was answered with %s%s, not error -32602" % (
            what, _describe(response), _status_note(status)))
    elif status is not None and status != 400:
        board.failed(check, "error -32602 with HTTP %d, not 400" % status)
    else:
        board.passed(check, "error -32602%s for %s" % (_status_note(status), what))


def _unknown_method(board: _ProbeBoard, outcome: _Outcome, status: Optional[int],
                          wanted_status: Optional[int]) -> None:
    # JSON-RPC: an unknown method is -32601; 2026-07-28 over HTTP: "If the server does not
    # implement the requested RPC method, it MUST respond with 404 Not Found and a JSON-RPC
    # error with code -32601".
    check = "unknown-method"
    response = outcome.response
    if response is None:
        board.failed(check, "%s: %s" % (_NO_METHOD, outcome.problem or "no answer"))
    elif _code(response) != -32601:
        board.failed(check, "%s was answered with %s%s, not error -32601" % (
            _NO_METHOD, _describe(response), _status_note(status)))
    elif status is not None and wanted_status is not None and status != wanted_status:
        board.failed(check, "error -32601 with HTTP %d, not %d" % (status, wanted_status))
    else:
        board.passed(check, "error -32601%s" % _status_note(status))


def _stdio_silence(board: _ProbeBoard, check: str, outcome: _Outcome, what: str, follow: str) -> None:
    """A notification then a request: nothing may answer the notification ("The
    receiver MUST NOT send a response")."""
    stray = outcome.stray_answers()
    if stray:
        board.failed(check, "%s was answered: %s" % (what, _short(stray[0], 100)))
    elif outcome.response is None:
        board.skipped(check, "cannot tell: the %s sent after it got %s" % (follow, outcome.problem or "no answer"))
    else:
        board.passed(check, "no answer to %s" % what)


def _parse_answer(stray: List[Any]) -> Tuple[Optional[str], Optional[str]]:
    """Among the answers to a line that was not JSON: (verdict, detail) - verdict None
    when there was none."""
    if not stray:
        return None, None
    first = stray[0]
    if _code(first) != -32700:
        return _FAIL, "a line that is not JSON was answered with %s, not error -32700" % _describe(first)
    # "Error responses MUST include the same ID as the request ... (except in error cases
    # where the ID could not be read due a malformed request)": JSON-RPC says null there,
    # the 2025-11-25 and later schemas leave it out - either will do.
    if first.get("id") is not None:
        return _FAIL, "error -32700 with id %s (no id could be read: it must be null or absent)" % (
            json.dumps(first.get("id")))
    return _PASS, "error -32700 with id %s" % ("null" if "id" in first else "absent")


def _stdio_parse_error(board: _ProbeBoard, outcome: _Outcome, follow: str) -> None:
    check = "parse-error"
    verdict, detail = _parse_answer(outcome.stray_answers())
    if outcome.response is None:
        board.failed(check, "after a line that is not JSON the server stopped serving: %s got %s" % (
            follow, _problem(outcome.problem)))
    elif verdict is None:
        # JSON-RPC 2.0 answers invalid JSON with -32700; MCP's stdio transport forbids the
        # client to send it at all, so a server that stays silent breaks no MCP MUST.
        board.warned(check, "a line that is not JSON got no answer (JSON-RPC answers it with -32700); the "
                            "server kept serving")
    else:
        board.set(check, verdict, detail + ("; the server kept serving" if verdict == _PASS else ""))


def _stdio_legacy(settings: _Settings, board: _ProbeBoard) -> None:
    peer = _Stdio(settings)
    try:
        _stdio_legacy_checks(settings, board, peer)
    finally:
        peer.close(2.0)
    if board.spoken:
        # A fresh process: the version rule needs an initialize of its own.
        try:
            peer = _Stdio(settings)
        except _ProbeUnreachable as exc:
            board.failed("version-negotiation", "the server did not start again: %s" % exc)
            return
        try:
            outcome = peer.exchange([settings.initialize(1, _BOGUS_VERSION)], 1)
            _version_negotiation(board, outcome, None)
        finally:
            peer.close(2.0)


def _stdio_legacy_checks(settings: _Settings, board: _ProbeBoard, peer: _Stdio) -> None:
    outcome = peer.exchange([settings.initialize(1)], 1)
    if not _legacy_opening(settings, board, outcome, "", ""):
        board.rest = "the server does not speak the legacy era"
        if peer.junk:
            _stdout_clean(board, peer)
        return
    # "After successful initialization, the client MUST send an initialized notification";
    # the server MUST NOT answer it (a notification).
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    outcome = peer.exchange([initialized, {"jsonrpc": "2.0", "id": 2, "method": "ping"}], 2, null_is_answer=False)
    _stdio_silence(board, "initialized", outcome, "notifications/initialized", "ping")
    _ping(board, outcome, None)
    outcome = peer.exchange([{"jsonrpc": "2.0", "id": "mcplite-check-3", "method": _NO_METHOD,
                              "params": {}}], "mcplite-check-3")
    _unknown_method(board, outcome, None, None)
    outcome = peer.exchange([_GARBAGE, {"jsonrpc": "2.0", "id": 4, "method": "ping"}], 4, null_is_answer=False)
    _stdio_parse_error(board, outcome, "ping")
    _stdout_clean(board, peer)
    if peer.exited:
        board.rest = "the server is gone"


def _legacy_opening(settings: _Settings, board: _ProbeBoard, outcome: Any, status_note: str,
                          body_text: str) -> bool:
    """The ``initialize`` (and ``initialize-refusal``) checks; True when a session is open."""
    response = outcome.response
    if response is None:
        board.open_failed("initialize", outcome.problem)
        # Even a modern-only server answers initialize: "the server rejects initialize with
        # a JSON-RPC error" (versioning.mdx, compatibility matrix).
        board.failed("initialize", "%s%s" % (_problem(outcome.problem), status_note or ""))
        board.skipped("initialize-refusal", "no answer to look at")
        return False
    error = _probe_error(response)
    if error is not None:
        board.opening = "initialize: %s%s" % (_describe(response), status_note or "")
        board.skipped("initialize", "the server does not speak the legacy era: initialize answered %s%s" % (
            _describe(response), status_note or ""))
        _refusal_names_versions(board, json.dumps(error, ensure_ascii=False) + " " + body_text)
        return False
    board.spoken = True
    result = response.get("result")
    # The server "MUST respond with its own capabilities and information".
    problems = []
    if not isinstance(result, dict):
        board.failed("initialize", "the result is not an object: %s" % _short(result, 80))
        board.skipped("initialize-refusal", "the server answered initialize")
        return True
    version = result.get("protocolVersion")
    if not isinstance(version, str) or not version:
        problems.append("protocolVersion is missing")
    elif version >= LATEST_VERSION and _VERSION_SHAPE.match(version):
        problems.append("protocolVersion %s has no initialize handshake" % version)
    if not isinstance(result.get("capabilities"), dict):
        problems.append("capabilities is missing")
    info = result.get("serverInfo")
    if not (isinstance(info, dict) and isinstance(info.get("name"), str) and isinstance(info.get("version"), str)):
        problems.append("serverInfo (name and version) is missing")
    if problems:
        board.failed("initialize", "; ".join(problems))
        board.skipped("initialize-refusal", "the server answered initialize")
        return True
    # "If the server supports the requested protocol version, it MUST respond with the same
    # version. Otherwise ... another protocol version it supports": either is fine here.
    board.passed("initialize", "%s %s, version %s%s; capabilities: %s" % (
        info["name"], info["version"], version, "" if version == settings.legacy_version else
        " (asked for %s)" % settings.legacy_version, ", ".join(sorted(result["capabilities"])) or "none"))
    board.skipped("initialize-refusal", "the server answered initialize")
    settings.legacy_answered = version
    return True


def _refusal_names_versions(board: _ProbeBoard, said: str) -> None:
    # "A server that supports only modern versions SHOULD name the protocol versions it
    # supports in any error it returns to an initialize request, on any transport."
    if _names_versions(said):
        board.passed("initialize-refusal", "the refusal names the versions it speaks")
    else:
        board.warned("initialize-refusal", "the refusal does not name the versions the server speaks (it SHOULD, "
                                           "for legacy clients' sake)")


def _version_negotiation(board: _ProbeBoard, outcome: _Outcome, status: Optional[int]) -> None:
    # "If the server supports the requested protocol version, it MUST respond with the same
    # version. Otherwise, the server MUST respond with another protocol version it supports."
    # Not an error: the spec's error-handling example (-32602) is an example, this a MUST.
    check = "version-negotiation"
    response = outcome.response
    if response is None:
        board.failed(check, "initialize %s: %s" % (_BOGUS_VERSION, _problem(outcome.problem)))
        return
    result = response.get("result") if isinstance(response, dict) else None
    if not isinstance(result, dict):
        board.failed(check, "initialize %s was answered with %s%s: the server MUST answer with a version it "
                            "supports" % (_BOGUS_VERSION, _describe(response),
                                          _status_note(status)))
        return
    version = result.get("protocolVersion")
    if not isinstance(version, str) or version == _BOGUS_VERSION:
        board.failed(check, "initialize %s was answered with protocolVersion %s" % (
            _BOGUS_VERSION, json.dumps(version)))
        return
    board.passed(check, "initialize %s was answered with %s" % (_BOGUS_VERSION, version))


def _ping(board: _ProbeBoard, outcome: _Outcome, status: Optional[int]) -> None:
    # ping: "The receiver MUST respond promptly with an empty response".
    response = outcome.response
    if response is None:
        board.failed("ping", _problem(outcome.problem))
        return
    result = response.get("result")
    if isinstance(result, dict) and not [key for key in result if key != "_meta"]:
        board.passed("ping", "an empty result%s" % _status_note(status))
    else:
        board.failed("ping", "answered with %s, not an empty result" % (
            _short(result, 80) if "result" in response else _describe(response)))


# --- HTTP -------------------------------------------------------------------------------------


class _HttpAnswer(_Outcome):
    """An HTTP exchange: the status (None when the server could not be reached or did not
    answer), lower-case headers, the body read whole (not for SSE), and the JSON-RPC
    messages in it."""

    def __init__(self) -> None:
        super().__init__()
        self.status = None  # type: Optional[int]
        self.headers = {}  # type: Dict[str, str]
        self.body = b""
        self.content_type = ""
        self.messages = []  # type: List[Any]
        self.refused = False  # the connection itself failed

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def first_error(self) -> Any:
        for message in self.messages:
            if _probe_error(message) is not None:
                return message
        return None

    def head(self) -> str:
        """"HTTP 400 with error -32020 (...)" - what a check's detail says about it."""
        if self.status is None:
            return self.problem or "no answer"
        text = "HTTP %d" % self.status
        error = self.first_error()
        if error is not None:
            return text + " with " + _describe(error)
        if self.response is not None:
            return text + " with a result"
        body = " ".join(self.text().split())
        return text + (" with body %s" % _short(body, 60) if body else " with no body")


class _Http:
    """Requests to one MCP endpoint, each on a connection of its own, traced."""

    def __init__(self, settings: _Settings) -> None:
        from .httpclient import _Endpoint

        self.settings = settings
        self.tracer = settings.tracer
        try:
            self.endpoint = _Endpoint(settings.target.url or "", settings.headers, None, settings.timeout)
        except ValueError as exc:
            raise CliFailure(CLI_EXIT_USAGE, str(exc))
        self.auth = settings.auth
        if self.auth is not None:
            from .httpclient import http_exchange
            self.auth.bind(settings.target.url or "", http_exchange)

    def post(self, body: Any, headers: Optional[Dict[str, str]] = None, rid: Any = None) -> _HttpAnswer:
        """POST a message (or raw bytes) with the usual Content-Type and Accept, plus
        ``headers``; read the answer until the response with id ``rid``."""
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode("utf-8")
        all_headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        all_headers.update(headers or {})
        return self.send("POST", data, all_headers, rid)

    def send(self, method: str, body: Optional[bytes], headers: Dict[str, str], rid: Any = None) -> _HttpAnswer:
        import http.client
        import socket

        answer = _HttpAnswer()
        attempt = 0
        while True:
            sent = dict(self.endpoint.headers)  # the user's --header first; the probe's own win
            sent.update(headers)
            generation = self._authorize(method, sent)
            if self.tracer is not None:
                self.tracer.http_request(method, self.endpoint.target, sent, body)
            conn = self.endpoint.connect()
            try:
                conn.request(method, self.endpoint.target, body, sent)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                answer.refused = True
                answer.problem = "cannot connect: %s" % (getattr(exc, "strerror", None) or exc)
                return answer
            try:
                response = conn.getresponse()
            except (socket.timeout, TimeoutError, OSError, http.client.HTTPException) as exc:
                conn.close()
                if isinstance(exc, (socket.timeout, TimeoutError)):
                    answer.problem = "no answer within %gs" % self.settings.timeout
                else:
                    answer.problem = "the connection failed: %s" % (getattr(exc, "strerror", None) or exc)
                return answer
            if not self._authorized_again(response, generation, attempt):
                break
            conn.close()
            attempt += 1
        try:
            answer.status = response.status
            answer.headers = {name.lower(): value for name, value in response.getheaders()}
            answer.content_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
            if self.tracer is not None:
                self.tracer.http_response(response.status, response.reason, response.getheaders())
            if answer.content_type == "text/event-stream":
                if method == "POST":
                    self._read_events(response, answer, rid)
                # (a GET stream is not read: its status is the answer)
            else:
                answer.body = response.read(_PROBE_MAX_BODY)
                if answer.body:
                    try:
                        message = json.loads(answer.body.decode("utf-8"))
                    except (UnicodeDecodeError, ValueError):
                        message = None
                    if self.tracer is not None:
                        self.tracer.message("<-", message, answer.body)
                    if message is not None:
                        answer.messages.extend(message if isinstance(message, list) else [message])
        except (socket.timeout, TimeoutError):
            answer.problem = "no answer within %gs" % self.settings.timeout
        except (OSError, http.client.HTTPException) as exc:
            answer.problem = "the connection failed: %s" % (getattr(exc, "strerror", None) or exc)
        finally:
            conn.close()
        for message in answer.messages:
            if (answer.response is None and rid is not None and _is_response(message)
                    and message.get("id") == rid and type(message.get("id")) is type(rid)):
                answer.response = message
            else:
                answer.others.append(message)
        if answer.response is None and rid is not None:
            # An error the server did not tie to the request's id ("Session not found" with
            # a null id, say) is its answer all the same.
            for message in answer.others:
                if _probe_error(message) is not None and message.get("id") is None:
                    answer.response = message
                    answer.others.remove(message)
                    break
        if answer.response is None and answer.problem is None and answer.status is not None:
            answer.problem = answer.head()
        return answer

    def _authorize(self, method: str, headers: Dict[str, str]) -> Any:
        """The signing-in options' token on a request (their OAuth's headers); what
        ``_authorized_again`` hands back to it."""
        if self.auth is None:
            return 0
        from .errors import TransportError
        from .httpclient import _auth_headers
        try:
            generation, extra = _auth_headers(self.auth, method, self.endpoint.url)
        except TransportError as exc:
            raise CliFailure(CLI_EXIT_CONNECTION, "%s: %s" % (self.settings.target.url, cli_error_text(exc)))
        headers.update(extra)
        return generation

    def _authorized_again(self, response: Any, generation: Any, attempt: int) -> bool:
        """After a 401 or 403, the OAuth's turn, as a client's: True when it got a token and
        the request is to be sent again (its answer read and dropped)."""
        if self.auth is None or response.status not in (401, 403):
            return False
        from .errors import TransportError
        from .httpclient import _note_dpop_nonce
        _note_dpop_nonce(self.auth, self.endpoint.url, response)
        try:
            again = bool(self.auth.recover(response.status, response.getheader("WWW-Authenticate"), generation,
                                           attempt))
        except TransportError as exc:  # signing in failed: nothing can be probed
            raise CliFailure(CLI_EXIT_CONNECTION, "%s: %s" % (self.settings.target.url, cli_error_text(exc)))
        if again:
            if self.tracer is not None:
                self.tracer.note("check: signed in; the request goes again with the token")
            response.read()
        return again

    def _read_events(self, response: Any, answer: _HttpAnswer, rid: Any) -> None:
        """Server-sent events until the response to ``rid`` (the stream SHOULD end there)."""
        event, data, event_id, retry = "message", [], None, None  # type: Tuple[str, List[str], Any, Any]
        while True:
            raw = response.readline(_PROBE_MAX_LINE)
            if not raw:
                if self.tracer is not None:
                    self.tracer.note("the stream ended")
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith(":"):
                continue  # a comment (keep-alive)
            if line:
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    data.append(value)
                elif name == "event":
                    event = value
                elif name == "id":
                    event_id = value
                elif name == "retry" and value.isdigit():
                    retry = int(value)
                continue
            text = "\n".join(data)
            if self.tracer is not None and (data or event_id is not None or retry is not None):
                self.tracer.sse_event(event, text, event_id, retry)
            done = False
            if event == "message" and text.strip():
                try:
                    message = json.loads(text)
                except ValueError:
                    message = None
                if message is not None:
                    answer.messages.extend(message if isinstance(message, list) else [message])
                    done = rid is not None and any(_is_response(m) and m.get("id") == rid
                                                   for m in (message if isinstance(message, list) else [message])
                                                   if isinstance(m, dict))
            if done:
                return
            event, data, event_id, retry = "message", [], None, None


def _modern_headers(settings: _Settings, method: str, name: Optional[str] = None,
                          version: Optional[str] = None) -> Dict[str, str]:
    """The request metadata headers of 2026-07-28: "Every POST request to the MCP endpoint
    MUST include an MCP-Protocol-Version header", Mcp-Method always, Mcp-Name for
    tools/call, resources/read and prompts/get."""
    headers = {"MCP-Protocol-Version": version or settings.modern_version, "Mcp-Method": method}
    if name is not None:
        headers["Mcp-Name"] = name
    return headers


def _http_status_check(board: _ProbeBoard, check: str, answer: _HttpAnswer, what: str,
                             codes: Sequence[int], soft: bool = False) -> None:
    """A request that must be refused with 400 and one of ``codes`` (the 2026-07-28 header
    rules: "servers MUST return HTTP status 400 Bad Request and MUST include a JSON-RPC
    error response" with -32020)."""
    if answer.status is None:
        board.failed(check, "%s: %s" % (what, answer.problem))
        return
    code = _code(answer.first_error())
    wanted = " or ".join(str(c) for c in codes)
    if answer.status == 400 and code in codes:
        board.passed(check, "%s: HTTP 400 with error %s" % (what, code))
    elif 200 <= answer.status < 300:
        board.failed(check, "%s got %s (MUST be HTTP 400 with error %s)" % (what, answer.head(), wanted))
    elif soft and answer.status == 400:
        board.passed(check, "%s: %s (taken for a legacy request: allowed)" % (what, answer.head()))
    else:
        board.failed(check, "%s: %s, not HTTP 400 with error %s" % (what, answer.head(), wanted))


def _http_connect_first(settings: _Settings, answer: _HttpAnswer) -> None:
    if answer.refused:
        raise _ProbeUnreachable(answer.problem or "cannot connect")
    if answer.status == 401:
        # Nothing can be probed without a token: say which option gets one.
        raise CliFailure(CLI_EXIT_CONNECTION, cli_refusal_text(settings.target.url, 401,
                                                               answer.headers.get("www-authenticate"), answer.body))


def _http_modern(settings: _Settings, board: _ProbeBoard) -> None:
    http = _Http(settings)
    meta = settings.meta()
    answer = http.post(_discover(1, meta), _modern_headers(settings, "server/discover"), 1)
    _http_connect_first(settings, answer)
    if answer.response is not None and "result" in answer.response and answer.status != 200:
        board.failed("discover", "a result with HTTP %s, not 200" % answer.status)
    if not _modern_opening(settings, board, answer, answer.status):
        board.rest = "the server does not speak %s" % settings.modern_version
        return
    # Unsupported version: header and body agree on a version nobody speaks.
    answer = http.post(_discover(2, settings.meta(_BOGUS_VERSION)),
                       _modern_headers(settings, "server/discover", version=_BOGUS_VERSION), 2)
    _modern_unsupported(board, answer, answer.status)
    answer = http.post(_discover(3, settings.meta(capabilities=False)),
                       _modern_headers(settings, "server/discover"), 3)
    _modern_missing_meta(board, answer, answer.status)
    unknown = {"jsonrpc": "2.0", "id": "mcplite-check-4", "method": _NO_METHOD, "params": {"_meta": meta}}
    answer = http.post(unknown, _modern_headers(settings, _NO_METHOD), "mcplite-check-4")
    _unknown_method(board, answer, answer.status, 404)
    # A notification: "If the server accepts it, the server MUST return HTTP status code 202
    # Accepted with no body. If the server cannot accept it, it MUST return an HTTP error".
    answer = http.post({"jsonrpc": "2.0", "method": _NOTIFICATION, "params": {"_meta": meta}},
                       _modern_headers(settings, _NOTIFICATION))
    _http_notification(board, "notification", answer, _NOTIFICATION, strict=False)
    answer = http.post(_GARBAGE, _modern_headers(settings, "server/discover"))
    _http_parse_error(board, answer)
    # The header rules (streamable-http.mdx "Server Validation"): "Validation failure
    # conditions include: A required standard header (MCP-Protocol-Version, Mcp-Method,
    # Mcp-Name) is missing. A header value does not match the corresponding request body value."
    headers = _modern_headers(settings, "server/discover")
    del headers["MCP-Protocol-Version"]
    answer = http.post(_discover(7, meta), headers, 7)
    # "A server that supports clients implementing protocol versions earlier than 2025-06-18
    # ... MAY treat a request that omits the header as protocol version 2025-03-26": then a
    # legacy refusal (a missing session, say) is as good as -32020.
    _http_status_check(board, "header-version-missing", answer, "no MCP-Protocol-Version header", (-32020,),
                             soft=True)
    answer = http.post(_discover(8, settings.meta(LATEST_LEGACY_VERSION)),
                       _modern_headers(settings, "server/discover"), 8)
    # "The header value MUST match the io.modelcontextprotocol/protocolVersion field ... If
    # the values do not match, the server MUST reject the request with 400 Bad Request and a
    # HeaderMismatch JSON-RPC error" (-32022 too: the body names a version it does not serve so).
    _http_status_check(board, "header-version-mismatch", answer, "MCP-Protocol-Version %s with %s in _meta"
                             % (settings.modern_version, LATEST_LEGACY_VERSION), (-32020, -32022))
    headers = _modern_headers(settings, "server/discover")
    del headers["Mcp-Method"]
    answer = http.post(_discover(9, meta), headers, 9)
    _http_status_check(board, "header-method-missing", answer, "no Mcp-Method header", (-32020,))
    answer = http.post(_discover(10, meta), _modern_headers(settings, "tools/list"), 10)
    _http_status_check(board, "header-method-mismatch", answer, "Mcp-Method tools/list for server/discover",
                             (-32020,))
    # Mcp-Name, required for tools/call. The body names a tool that does not exist, so a
    # server that ignores the header answers "unknown tool" and no tool ever runs.
    call = {"jsonrpc": "2.0", "id": 11, "method": "tools/call",
            "params": {"name": _NO_TOOL, "arguments": {}, "_meta": meta}}
    answer = http.post(call, _modern_headers(settings, "tools/call"), 11)
    _http_status_check(board, "header-name-missing", answer, "tools/call without Mcp-Name", (-32020,))
    call = dict(call, id=12)
    answer = http.post(call, _modern_headers(settings, "tools/call", name=_NO_TOOL + "-other"), 12)
    _http_status_check(board, "header-name-mismatch", answer, "Mcp-Name naming another tool than the body",
                             (-32020,))
    headers = _modern_headers(settings, "server/discover")
    headers["Origin"] = _BAD_ORIGIN
    answer = http.post(_discover(13, meta), headers, 13)
    _http_origin(board, answer, True)
    # "A server that supports only this revision ... SHOULD respond as follows: HTTP GET or
    # DELETE to the MCP endpoint: respond with 405 Method Not Allowed."
    for check, method in (("get", "GET"), ("delete", "DELETE")):
        headers = {"MCP-Protocol-Version": settings.modern_version}
        if method == "GET":
            headers["Accept"] = "text/event-stream"
        answer = http.send(method, None, headers)
        if answer.status is None:
            board.failed(check, "%s: %s" % (method, answer.problem))
        elif answer.status == 405:
            board.passed(check, "%s: HTTP 405" % method)
        else:
            board.warned(check, "%s with MCP-Protocol-Version %s: %s (a 2026-07-28 server SHOULD answer 405)" % (
                method, settings.modern_version, answer.head()))


def _http_notification(board: _ProbeBoard, check: str, answer: _HttpAnswer, what: str,
                             strict: bool) -> None:
    if answer.status is None:
        board.failed(check, "%s: %s" % (what, answer.problem))
    elif answer.status == 202 and not answer.body.strip() and not answer.messages:
        board.passed(check, "%s: HTTP 202, no body" % what)
    elif answer.status == 202:
        board.failed(check, "%s: HTTP 202 with a body (MUST have none): %s" % (what, _short(answer.text(), 80)))
    elif 400 <= answer.status < 500 and not strict:
        board.warned(check, "%s was refused: %s (allowed for a notification it cannot accept)"
                     % (what, answer.head()))
    else:
        board.failed(check, "%s: %s, not HTTP 202 with no body" % (what, answer.head()))


def _http_parse_error(board: _ProbeBoard, answer: _HttpAnswer) -> None:
    # A body that is not JSON cannot be accepted: "it MUST return an HTTP error status code
    # (e.g., 400 Bad Request)"; JSON-RPC's answer is -32700 with a null id.
    check = "parse-error"
    if answer.status is None:
        board.failed(check, "a body that is not JSON: %s" % answer.problem)
        return
    if not 400 <= answer.status < 500:
        board.failed(check, "a body that is not JSON got HTTP %d, not an HTTP error (400)" % answer.status)
        return
    verdict, detail = _parse_answer([m for m in answer.messages if _is_response(m)])
    if verdict is None:
        board.warned(check, "a body that is not JSON got %s, without the JSON-RPC error -32700" % answer.head())
    else:
        board.set(check, verdict, "HTTP %d, %s" % (answer.status, detail))


def _http_origin(board: _ProbeBoard, answer: _HttpAnswer, strict: bool) -> None:
    # "If the Origin header is present and invalid, servers MUST respond with HTTP 403
    # Forbidden" (2025-11-25 and 2026-07-28; before, only "MUST validate the Origin header").
    check = "origin"
    what = "Origin: %s" % _BAD_ORIGIN
    if answer.status is None:
        board.failed(check, "%s: %s" % (what, answer.problem))
    elif answer.status == 403:
        board.passed(check, "%s: HTTP 403" % what)
    elif 400 <= answer.status < 500 and not strict:
        board.passed(check, "%s: %s (403 only from 2025-11-25 on)" % (what, answer.head()))
    else:
        board.failed(check, "%s: %s, not HTTP 403" % (what, answer.head()))


def _http_legacy(settings: _Settings, board: _ProbeBoard) -> None:
    http = _Http(settings)
    # The initialize POST carries no MCP-Protocol-Version (it comes "on all subsequent
    # requests") and no session id.
    answer = http.post(settings.initialize(1), {}, 1)
    _http_connect_first(settings, answer)
    if answer.response is None and answer.status is not None:
        # An HTTP refusal without JSON-RPC (the old HTTP+SSE transport's 405, say): the
        # server does not speak the era over Streamable HTTP, rather than breaking it.
        board.opening = "initialize: %s" % answer.head()
        board.rest = "the server does not speak the legacy era"
        board.skipped("initialize", "the server does not speak the legacy era over Streamable HTTP: "
                                    "initialize got %s" % answer.head())
        _refusal_names_versions(board, answer.text())
        return
    if not _legacy_opening(settings, board, answer, " (HTTP %d)" % answer.status if answer.status else "",
                                 answer.text()):
        board.rest = "the server does not speak the legacy era"
        return
    version = settings.legacy_answered or settings.legacy_version
    session = answer.headers.get("mcp-session-id")
    sessions = []  # type: List[str]   # to DELETE at the end, whatever happens
    try:
        _http_legacy_checks(settings, board, http, version, session, sessions)
    finally:
        for extra in sessions:
            http.send("DELETE", None, {"Mcp-Session-Id": extra, "MCP-Protocol-Version": version})


def _http_legacy_checks(settings: _Settings, board: _ProbeBoard, http: _Http, version: str,
                              session: Optional[str], sessions: List[str]) -> None:
    if session is None:
        # "A server using the Streamable HTTP transport MAY assign a session ID".
        board.skipped("session-id", "no Mcp-Session-Id: the server keeps no sessions (allowed)")
        for check in ("session-required", "session-unknown", "delete"):
            board.skipped(check, "the server issued no session id")
    elif session and all(0x21 <= ord(ch) <= 0x7E for ch in session):
        # "The session ID MUST only contain visible ASCII characters (ranging from 0x21 to 0x7E)."
        board.passed("session-id", "Mcp-Session-Id issued (%d characters)" % len(session))
        sessions.append(session)
    else:
        board.failed("session-id", "Mcp-Session-Id %r has characters outside 0x21-0x7E" % session)
        sessions.append(session)

    def headers(with_session: bool = True) -> Dict[str, str]:
        out = {"MCP-Protocol-Version": version}
        if session is not None and with_session:
            out["Mcp-Session-Id"] = session
        return out

    answer = http.post({"jsonrpc": "2.0", "method": "notifications/initialized"}, headers())
    # "If the input is a JSON-RPC response or notification: If the server accepts the
    # input, the server MUST return HTTP status code 202 Accepted with no body."
    _http_notification(board, "initialized", answer, "notifications/initialized", strict=True)
    answer = http.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers(), 2)
    _ping(board, answer, answer.status)
    answer = http.post({"jsonrpc": "2.0", "id": "mcplite-check-3", "method": _NO_METHOD, "params": {}},
                       headers(), "mcplite-check-3")
    _unknown_method(board, answer, answer.status, None)
    answer = http.post(_GARBAGE, headers())
    _http_parse_error(board, answer)
    if session is not None:
        # "Servers that require a session ID SHOULD respond to requests without an
        # MCP-Session-Id header (other than initialization) with HTTP 400 Bad Request."
        answer = http.post({"jsonrpc": "2.0", "id": 5, "method": "ping"}, headers(False), 5)
        if answer.status == 400:
            board.passed("session-required", "a request without Mcp-Session-Id: HTTP 400")
        elif answer.status is not None and 200 <= answer.status < 300:
            board.passed("session-required", "a request without Mcp-Session-Id was served: the server does not "
                                              "require the session id")
        elif answer.status is None:
            board.failed("session-required", answer.problem or "no answer")
        else:
            board.warned("session-required", "a request without Mcp-Session-Id got %s (SHOULD be 400)"
                         % answer.head())
        answer = http.post({"jsonrpc": "2.0", "id": 6, "method": "ping"},
                           {"MCP-Protocol-Version": version, "Mcp-Session-Id": _NO_SESSION}, 6)
        # A session the server does not have is as good as one it ended: "it MUST respond to
        # requests containing that session ID with HTTP 404 Not Found".
        if answer.status == 404:
            board.passed("session-unknown", "an unknown Mcp-Session-Id: HTTP 404")
        elif answer.status is None:
            board.failed("session-unknown", answer.problem or "no answer")
        else:
            board.warned("session-unknown", "an unknown Mcp-Session-Id got %s (a client re-initializes on 404 "
                                            "only)" % answer.head())
    if not supports(version, "protocol_version_header"):
        board.skipped("protocol-version-header", "the session's version %s has no MCP-Protocol-Version header"
                      % version)
    else:
        # "If the server receives a request with an invalid or unsupported
        # MCP-Protocol-Version, it MUST respond with 400 Bad Request."
        bad = headers()
        bad["MCP-Protocol-Version"] = _BOGUS_VERSION
        answer = http.post({"jsonrpc": "2.0", "id": 7, "method": "ping"}, bad, 7)
        if answer.status == 400:
            board.passed("protocol-version-header", "MCP-Protocol-Version %s: HTTP 400" % _BOGUS_VERSION)
        else:
            board.failed("protocol-version-header", "MCP-Protocol-Version %s: %s, not HTTP 400" % (
                _BOGUS_VERSION, answer.head()))
    answer = http.post(settings.initialize(8), {"Origin": _BAD_ORIGIN}, 8)
    if answer.headers.get("mcp-session-id"):
        sessions.append(answer.headers["mcp-session-id"])
    _http_origin(board, answer, supports(settings.legacy_version, "origin_403"))
    answer = http.post(settings.initialize(9, _BOGUS_VERSION), {}, 9)
    if answer.headers.get("mcp-session-id"):
        sessions.append(answer.headers["mcp-session-id"])
    _version_negotiation(board, answer, answer.status)
    if session is not None:
        # "Clients that no longer need a particular session ... SHOULD send an HTTP DELETE";
        # "The server MAY respond to this request with HTTP 405"; once a session is over the
        # server "MUST respond to requests containing that session ID with HTTP 404".
        answer = http.send("DELETE", None, headers())
        if session in sessions:
            sessions.remove(session)  # (once is enough, whatever the answer)
        if answer.status == 405:
            board.skipped("delete", "DELETE: HTTP 405 - the server does not let clients end sessions (allowed)")
        elif answer.status is not None and 200 <= answer.status < 300:
            after = http.post({"jsonrpc": "2.0", "id": 10, "method": "ping"}, headers(), 10)
            if after.status == 404:
                board.passed("delete", "DELETE: HTTP %d; the session is gone after (HTTP 404)" % answer.status)
            else:
                board.failed("delete", "DELETE: HTTP %d, but a request in that session then got %s, not HTTP 404"
                             % (answer.status, after.head()))
        else:
            board.failed("delete", "DELETE: %s, not a success or 405" % answer.head())
