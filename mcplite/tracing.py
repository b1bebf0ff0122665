"""Tracing: every message as it crosses, one line each, for people learning the wire.

    09:52:31.120 -> {"jsonrpc":"2.0","id":1,"method":"server/discover","params":{...}}
    09:52:31.124 <- {"jsonrpc":"2.0","id":1,"result":{...}}

``->`` is always client to server and ``<-`` server to client, whichever side prints the
trace. A stdio message is shown exactly as the line that crossed the pipe; over HTTP the
request line and the headers that matter to MCP come first, then the body, the status of
the answer, and each SSE event's framing (``id``, ``event``, ``retry``) above its data.
Credentials are never shown: ``Authorization`` and the like keep their first word only.

With ``explain=True`` each line gets a note below it, ``#`` first, in plain English: what
the message is, whether an answer is expected, and the rule it follows.

``Client(..., trace=True)`` (or ``"explain"``, or a ``Tracer``) and ``Server.run(trace=...)``
take one; the command line's ``--trace`` makes one on stderr. Transports call its methods;
they do nothing else with it, and nothing at all when there is none.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

# Headers a trace leaves out: transport bookkeeping, not MCP.
_NOISE_HEADERS = frozenset((
    "host", "content-length", "accept-encoding", "user-agent", "connection", "date", "server",
    "transfer-encoding", "cache-control", "keep-alive", "x-accel-buffering", "vary",
))
# Headers shown with their values: MCP's own and the HTTP ones that explain the exchange.
# Any other value is hidden (a header given with -H may well be a key); Authorization and
# the like keep their scheme ("Bearer <hidden>").
_SHOWN_HEADERS = frozenset((
    "content-type", "accept", "mcp-protocol-version", "mcp-method", "mcp-name", "mcp-session-id",
    "last-event-id", "www-authenticate", "location", "retry-after", "origin", "allow",
))
_SCHEME_HEADERS = frozenset(("authorization", "proxy-authorization"))
_MAX_REMEMBERED = 4096  # requests whose answers a trace still waits for, per direction
_INDENT = " " * 16  # under the text of a line: "HH:MM:SS.mmm -> "

_METHOD_NOTES = {
    "initialize": "opens a session (the legacy era, up to 2025-11-25): the client proposes a protocol version "
                  "and says what it can do",
    "notifications/initialized": "ends the handshake (the client MUST send it after initialize's answer); "
                                 "before it the server should send nothing but pings and log messages",
    "server/discover": "asks what the server supports: protocol versions, capabilities, instructions "
                       "(2026-07-28: no handshake, no session)",
    "ping": "are you still there? The answer is an empty result (sessions only: 2026-07-28 has no ping)",
    "tools/list": "asks for the tools: names, descriptions, input schemas",
    "tools/call": "runs a tool",
    "resources/list": "asks for the resources",
    "resources/templates/list": "asks for the resource templates (URI patterns with {variables})",
    "resources/read": "reads a resource by its URI",
    "resources/subscribe": "asks to hear (notifications/resources/updated) when a resource changes",
    "resources/unsubscribe": "stops hearing about a resource",
    "prompts/list": "asks for the prompts",
    "prompts/get": "renders a prompt, with its arguments, into messages",
    "completion/complete": "asks for suggested values of an argument",
    "logging/setLevel": "sets the least severe log level the server sends (a session's setting)",
    "subscriptions/listen": "opens a long-lived stream of change notifications (2026-07-28)",
    "sampling/createMessage": "the server asks the client's model for a completion",
    "elicitation/create": "the server asks the user a question",
    "roots/list": "the server asks which directories or files (roots) it may work with",
    "notifications/cancelled": "asks the other side to stop a request; it should not answer it, and an "
                               "answer that comes anyway is ignored",
    "notifications/progress": "progress of a request that asked for it with a progressToken",
    "notifications/message": "a log message (sent at or above the level the client set)",
    "notifications/tools/list_changed": "the tools changed: the client may list them again",
    "notifications/prompts/list_changed": "the prompts changed: the client may list them again",
    "notifications/resources/list_changed": "the resources changed: the client may list them again",
    "notifications/resources/updated": "a resource the client subscribed to changed: read it again",
    "notifications/roots/list_changed": "the client's roots changed: the server may ask for them again",
    "notifications/subscriptions/acknowledged": "the server accepted subscriptions/listen: its notifications "
                                                "follow on this stream",
    "notifications/elicitation/complete": "the user finished what a URL elicitation asked for",
}
_ERROR_NOTES = {
    -32700: "parse error: what arrived was not JSON",
    -32600: "invalid request: not a valid JSON-RPC message, or (over HTTP) one the transport refuses",
    -32601: "method not found: the receiver has no such method",
    -32602: "invalid params (also an unknown tool or prompt, and in 2026-07-28 an unknown resource)",
    -32603: "internal error",
    -32002: "resource not found",
    -32001: "request timeout (a code the SDKs use; the spec defines none for it)",
    -32042: "URL elicitation required: the user must visit a URL first",
    -32020: "header mismatch: an Mcp-* header disagrees with the body",
    -32021: "missing required client capability",
    -32022: "unsupported protocol version: data lists the versions the server speaks",
}


class Tracer:
    """Writes a trace to ``stream`` (default: stderr). Thread-safe; one per connection is
    best (it remembers which request each answer is for, to say so), though sharing one
    only costs some of the notes."""

    def __init__(self, stream: Any = None, explain: bool = False, max_line: Optional[int] = 4000,
                 clock: Any = None) -> None:
        self.stream = stream
        self.explain = explain
        self.max_line = max_line
        self._clock = clock or time.time
        self._lock = threading.Lock()
        # (direction the request went, its id) -> its method
        self._pending = {}  # type: Dict[Tuple[str, Any], str]
        self._sessions = set()  # type: set   # session ids already explained

    # --- what transports call ---

    def message(self, direction: str, message: Any, raw: Optional[bytes] = None) -> None:
        """One JSON-RPC message (``direction`` "->" or "<-"). ``raw``: the bytes exactly as
        they crossed (a stdio line), shown instead of ``message`` re-encoded; ``message`` is
        None for bytes that were not JSON."""
        if raw is not None:
            shown = bytes(raw).rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        else:
            try:
                shown = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
            except (TypeError, ValueError):
                shown = repr(message)
        note = self.message_note(direction, message) if self.explain else None
        self._write(direction, [shown], note)

    def http_request(self, method: str, target: str, headers: Any, body: Optional[bytes] = None) -> None:
        """An HTTP request the client sends: its line, the headers that matter, and the body
        (one message, or a batch)."""
        lines = ["%s %s" % (method, trace_target(target))] + [
            _INDENT + line for line in trace_header_lines(headers)]
        note = self.request_note(method, headers) if self.explain else None
        self._write("->", lines, note)
        if body:
            self.body("->", body)

    def http_response(self, status: int, reason: str, headers: Any, body: Optional[bytes] = None,
                      method: Optional[str] = None) -> None:
        """The status and headers of an answer (and its body, if it is read whole);
        ``method``: the request's (POST, GET, DELETE), for the note."""
        lines = ["HTTP %d %s" % (status, reason or "")] + [_INDENT + line for line in trace_header_lines(headers)]
        note = self.response_note(status, headers, method) if self.explain else None
        self._write("<-", lines, note)
        if body:
            self.body("<-", body)

    def sse_event(self, event: str, data: str, event_id: Optional[str] = None, retry: Optional[int] = None,
                  direction: str = "<-") -> None:
        """One server-sent event: its framing, then its data as a message."""
        fields = []
        if event_id is not None:
            fields.append("id: %s" % event_id)
        fields.append("event: %s" % (event or "message"))
        if retry is not None:
            fields.append("retry: %d" % retry)
        framing = "SSE " + "  ".join(fields)
        if not data.strip():
            note = None
            if self.explain:
                note = ("an event with an id and empty data: it primes the client to resume with Last-Event-ID"
                        if event_id is not None else "an event with no data")
                if retry is not None:
                    note += "; after a disconnection the client waits %d ms (retry) before reconnecting" % retry
            self._write(direction, [framing + "  (no data)"], note)
            return
        explain_framing = None
        if self.explain and event not in ("message", ""):
            explain_framing = ("the endpoint event of the old HTTP+SSE transport: the URL to POST messages to"
                               if event == "endpoint" else "an event type MCP does not use; clients skip it")
        self._write(direction, [framing], explain_framing)
        if event in ("message", ""):
            try:
                message = json.loads(data)
            except ValueError:
                message = None
            self.message(direction, message, data.encode("utf-8"))
        else:
            self._write(direction, [data], None)

    def sse_bytes(self, data: bytes, direction: str = "<-") -> None:
        """Whole SSE events in their wire format (what a server writes): each one traced as
        by ``sse_event``; comment lines (keep-alives) are skipped."""
        for block in data.replace(b"\r\n", b"\n").split(b"\n\n"):
            fields = {}  # type: Dict[str, Any]
            lines = []  # type: List[str]
            for raw in block.split(b"\n"):
                line = raw.decode("utf-8", "replace")
                if not line or line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    lines.append(value)
                elif name == "retry" and value.isdigit():
                    fields["retry"] = int(value)
                elif name in ("id", "event"):
                    fields[name] = value
            if fields or lines:
                self.sse_event(fields.get("event", "message"), "\n".join(lines), fields.get("id"),
                               fields.get("retry"), direction)

    def note(self, text: str) -> None:
        """Something that is not a message (a stream ended, a reconnection)."""
        self._write("..", [text], None)

    def body(self, direction: str, body: bytes) -> None:
        """An HTTP body: one message, a batch, or text that is not JSON."""
        try:
            message = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            message = None
        self.message(direction, message, body)

    # --- writing ---

    def _write(self, direction: str, lines: Sequence[str], note: Optional[str]) -> None:
        now = self._clock()
        stamp = time.strftime("%H:%M:%S", time.localtime(now)) + ".%03d" % (int(now * 1000) % 1000)
        out = []  # type: List[str]
        for index, line in enumerate(lines):
            if self.max_line is not None and len(line) > self.max_line:
                line = line[:self.max_line] + " ... (%d characters in all)" % len(line)
            out.append(("%s %s %s" % (stamp, direction, line)) if index == 0 else line)
        if note:
            out.append(_INDENT + "# " + note)
        text = "\n".join(out) + "\n"
        stream = self.stream if self.stream is not None else sys.stderr
        with self._lock:
            try:
                stream.write(text)
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed stream: the trace is lost, not the connection

    # --- notes ---

    def message_note(self, direction: str, message: Any) -> str:
        other = "server" if direction == "->" else "client"
        if message is None:
            return ("not JSON: a peer MUST NOT write anything but MCP messages"
                    + (" to its stdout" if direction == "<-" else ""))
        if isinstance(message, list):
            return ("a JSON-RPC batch of %d messages (allowed in 2025-03-26 only; every request in it gets "
                    "its own answer)" % len(message))
        if not isinstance(message, dict):
            return "not a JSON-RPC message (it must be an object)"
        method = message.get("method")
        params = message.get("params") if isinstance(message.get("params"), dict) else {}
        if isinstance(method, str):
            if method in _METHOD_NOTES:
                what = _METHOD_NOTES[method]
                what = what[0].upper() + what[1:]
            elif method.startswith("notifications/"):
                what = "A notification MCP does not define: the %s ignores it" % other
            else:
                what = "A method MCP does not define (%s)" % method
            if "id" not in message:
                return what + ". A notification: no id, and never an answer."
            with self._lock:
                if len(self._pending) < _MAX_REMEMBERED:
                    self._pending[(direction, _key(message.get("id")))] = method
            parts = [what + ". A request: the %s must answer with id %s." % (
                other, json.dumps(message.get("id")))]
            meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
            version = meta.get("io.modelcontextprotocol/protocolVersion")
            if version is not None:
                parts.append("Its _meta names version %s and the client's capabilities (2026-07-28: every "
                             "request carries them)." % version)
            if method == "initialize":
                parts.append("Proposed version: %s." % params.get("protocolVersion"))
            if "progressToken" in meta:
                parts.append("It asks for progress, token %s." % json.dumps(meta["progressToken"]))
            if "requestState" in params or "inputResponses" in params:
                parts.append("A retry carrying the answers (inputResponses) and the server's requestState.")
            return " ".join(parts)
        if "result" in message or "error" in message:
            back = "<-" if direction == "->" else "->"
            with self._lock:
                asked = self._pending.pop((back, _key(message.get("id"))), None)
            head = ("The answer to %s (id %s)." % (asked, json.dumps(message.get("id"))) if asked
                    else "An answer (id %s)." % json.dumps(message.get("id")))
            if "error" in message:
                error = message.get("error") if isinstance(message.get("error"), dict) else {}
                code = error.get("code")
                detail = _ERROR_NOTES.get(code, "an error of the application's own") \
                    if isinstance(code, int) else "an error without an integer code"
                extra = " The id is null: the request's id could not be read." if message.get("id") is None else ""
                return "%s An error, %s: %s.%s" % (head, code, detail, extra)
            return head + _result_note(asked, message.get("result"))
        return "not a request, a notification or an answer"

    def request_note(self, method: str, headers: Any) -> str:
        names = {name.lower(): value for name, value in _items(headers)}
        if method == "GET" and "last-event-id" in names:
            return "resumes a broken stream after event %s (legacy sessions)" % names["last-event-id"]
        if method == "GET":
            return ("opens a stream for what the server sends outside any request (the session's stream, "
                    "or the old HTTP+SSE transport's)")
        if method == "DELETE":
            return "ends the session: the client is done with it"
        parts = ["every client message is a POST of its own to the MCP endpoint"]
        if "mcp-method" in names:
            parts.append("Mcp-Method and Mcp-Name repeat the body's method and name for proxies (2026-07-28); "
                         "they must match it")
        elif "mcp-session-id" in names:
            parts.append("Mcp-Session-Id and MCP-Protocol-Version go on every request after initialize")
        return "; ".join(parts)

    def response_note(self, status: int, headers: Any, method: Optional[str]) -> str:
        names = {name.lower(): value for name, value in _items(headers)}
        kind = names.get("content-type", "").split(";")[0].strip().lower()
        if status == 202:
            return "202 Accepted: a notification or an answer needs no reply; no body"
        if status == 200 and kind == "text/event-stream" and method == "GET":
            note = "a stream of server-sent events, open until one side closes it"
        elif status == 200 and kind == "text/event-stream":
            note = ("the answer comes as server-sent events: messages about the request (progress, logs, "
                    "questions) may come before its response")
        elif status == 200 and kind == "application/json":
            note = "the answer in one JSON body"
        elif status == 200:
            note = "OK"
        else:
            note = {
                400: "a bad request: a missing session or a bad header (the body may say more)",
                401: "authentication needed: the WWW-Authenticate header says where to get a token",
                403: "forbidden: a bad Origin, or a token without the scope needed",
                404: "not found: an unknown or ended session (the client MUST start a new one), or an "
                     "unknown method (2026-07-28)",
                405: "method not allowed: this endpoint offers no such thing (a GET stream, DELETE)",
                406: "not acceptable: the Accept header must list application/json and text/event-stream",
                415: "unsupported media type: the body must be application/json",
            }.get(status, "an HTTP error")
        session = names.get("mcp-session-id")
        if session is not None:
            with self._lock:
                first = session not in self._sessions
                if first and len(self._sessions) < _MAX_REMEMBERED:
                    self._sessions.add(session)
            if first:
                note += "; Mcp-Session-Id names the new session: the client sends it on every later request"
        return note


def _key(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else (type(value).__name__, value)


def _result_note(method: Optional[str], result: Any) -> str:
    if not isinstance(result, dict):
        return " Its result is not an object (it must be)."
    if result.get("resultType") == "input_required":
        requests = result.get("inputRequests") if isinstance(result.get("inputRequests"), dict) else {}
        return (" Not done yet: the server needs %d answer%s (inputRequests); the client gets them and sends "
                "the request again, under a new id, with inputResponses and requestState."
                % (len(requests), "" if len(requests) == 1 else "s"))
    if method == "initialize":
        return (" The server chose version %s; next the client sends notifications/initialized."
                % result.get("protocolVersion"))
    if method == "server/discover":
        return " The server speaks %s." % ", ".join(str(v) for v in result.get("supportedVersions") or [])
    if method == "tools/call" and result.get("isError"):
        return (" The tool failed: a result with isError, for the model to read and correct itself "
                "(not a protocol error).")
    for key in ("tools", "resources", "resourceTemplates", "prompts"):
        if isinstance(result.get(key), list):
            count = len(result[key])
            text = " %d %s." % (count, key if count != 1 else key[:-1])
            if result.get("nextCursor") is not None:
                text += " More to come: the client asks again with nextCursor."
            return text
    return ""


def _items(headers: Any) -> List[Tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    return [(str(name), str(value)) for name, value in items]


def trace_header_lines(headers: Any) -> List[str]:
    """``Name: value`` for the headers a reader of MCP cares about; the values of any
    others (credentials, keys, cookies) hidden."""
    lines = []
    for name, value in _items(headers):
        lowered = name.lower()
        if lowered in _NOISE_HEADERS:
            continue
        if lowered in _SCHEME_HEADERS and " " in value:
            value = value.split(" ", 1)[0] + " <hidden>"
        elif lowered not in _SHOWN_HEADERS and not lowered.startswith("mcp-param-"):
            value = "<hidden>"
        lines.append("%s: %s" % (name, value))
    return lines


def trace_target(target: str) -> str:
    """A request target with its query's values hidden (``?token=...`` is a credential
    often enough, and so is the old transport's ``session_id``)."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    hidden = []
    for pair in query.split("&"):
        name, eq, _ = pair.partition("=")
        hidden.append(name + ("=<hidden>" if eq else ""))
    return path + "?" + "&".join(hidden)


def make_tracer(trace: Any) -> Optional[Tracer]:
    """A ``trace=`` option as a Tracer: None/False for none, True for stderr, "explain"
    for stderr with notes, or a Tracer as it is."""
    if trace is None or trace is False:
        return None
    if trace is True or trace == "on":
        return Tracer()
    if trace == "explain":
        return Tracer(explain=True)
    if isinstance(trace, Tracer) or all(hasattr(trace, name) for name in ("message", "http_request", "note")):
        return trace
    raise ValueError("trace= takes True, 'explain' or a Tracer, not %r" % (trace,))
