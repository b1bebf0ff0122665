"""The inspector: ``python -m mcplite inspect [TARGET]`` (or ``mcplite.inspect(target)``) serves
a page on 127.0.0.1 that connects to an MCP server and shows every message both ways, with
the ``--trace=explain`` note on each, and lets a person call everything and answer the
server's questions (elicitation, sampling, roots) by hand.

    python -m mcplite inspect "python3 server.py"
    mcplite inspector: http://127.0.0.1:51234/?token=...

The page (inspectpage.py) is one HTML document with its CSS and JavaScript inline, served
by ``http.server`` from the standard library, live by server-sent events. Only this machine
may use it: the server binds 127.0.0.1, every request must carry the random token of the URL
printed (``?token=`` or ``Authorization: Bearer``), its Host must be 127.0.0.1:PORT or
localhost:PORT (a DNS rebinding page names its own host) and an Origin, when sent, the same
(another site's page in the same browser sends its own). A token is needed because the page
can start any command as a stdio server: without it any page could (the lesson of the Node
inspector's proxy).

The JSON API (token on each request): ``GET /`` the page; ``GET /events`` the feed (one
``message`` event per timeline entry, an ``update`` when the HTTP answer to a message
sent comes; ``state``, ``progress``, ``result``, ``ask``, ``signin``, ``changed`` events);
``POST /api/connect`` {target, era, protocolVersion?, headers?, oauth?};
``POST /api/disconnect``; ``GET /api/state``; ``POST /api/request`` {method, params} ->
{id}, run in a thread, whose result comes as ``GET /api/result/<id>`` and a ``result``
event; ``POST /api/cancel`` {id}; ``POST /api/answer`` {askId, result}; ``POST /api/roots``
{roots}; ``GET /api/export``, the timeline as JSON lines in ``record``'s format (``replay``
and ``diff`` read it); ``--replay FILE.jsonl`` opens such a file offline, to browse and step.

A timeline entry: {"seq", "dir": "out" (client to server) | "in", "time" (epoch seconds),
"message" (as on the wire; null for a line that was not JSON, then "text"), "method",
"pairedSeq" (a response's request), "latencyMs", "note", "http": {request?, status,
headers, sse} over HTTP, else null}.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .cli import CLI_EXIT_OK, CLI_EXIT_USAGE, CliFailure, CliTarget, cli_connect, cli_error_text, cli_resolve_target
from .tracing import Tracer, trace_header_lines, trace_target

INSPECT_ERAS = {"auto": "auto", "2026-07-28": "modern", "session": "legacy", "modern": "modern",
                "legacy": "legacy"}
_INSP_MAX_BODY = 1024 * 1024  # a request body larger than this is refused (413)
_MAX_ENTRIES = 200000  # timeline entries kept (the oldest go first)
_MAX_RESULTS = 1000  # finished requests whose results /api/result still has
_KEEPALIVE = 15.0  # seconds between SSE comments on a quiet feed
_ASK_TIMEOUT = 300.0  # how long a server's question waits for the person
_LIST_KEYS = {"tools/list": "tools", "resources/list": "resources",
                   "resources/templates/list": "resourceTemplates", "prompts/list": "prompts"}
_UNSET = object()


class _Hub:
    """The timeline and the event feed: appended to by the tracer and the driver, read by
    every ``/events`` stream. Thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.entries = []  # type: List[Dict[str, Any]]
        self._events = []  # type: List[Tuple[int, str, str]]   # (id, kind, JSON data)
        self._next_event = 1
        self._next_seq = 1
        # (the direction a request went, its id) -> (its seq, its time), for pairing answers
        self._open = {}  # type: Dict[Tuple[str, Any], Tuple[int, float]]
        self.closed = False

    def add_message(self, direction: str, message: Any, text: Optional[str], note: Optional[str],
                    http: Optional[Dict[str, Any]], when: Optional[float] = None) -> Dict[str, Any]:
        now = time.time() if when is None else when
        method = message.get("method") if isinstance(message, dict) and isinstance(message.get("method"), str) \
            else None
        entry = {"seq": 0, "dir": direction, "time": now, "message": message, "method": method, "pairedSeq": None,
                 "latencyMs": None, "note": note, "http": http}  # type: Dict[str, Any]
        if text is not None:
            entry["text"] = text
        with self._cond:
            entry["seq"] = self._next_seq
            self._next_seq += 1
            if isinstance(message, dict) and "id" in message:
                key = (direction, _insp_key(message.get("id")))
                if method is not None:
                    if len(self._open) < 100000:
                        self._open[key] = (entry["seq"], now)
                else:
                    asked = self._open.pop(("in" if direction == "out" else "out", _insp_key(message.get("id"))),
                                           None)
                    if asked is not None:
                        entry["pairedSeq"] = asked[0]
                        entry["latencyMs"] = round((now - asked[1]) * 1000.0, 3)
                        request = self._find(asked[0])
                        if request is not None:
                            entry["method"] = request.get("method")
            self.entries.append(entry)
            if len(self.entries) > _MAX_ENTRIES:
                del self.entries[:len(self.entries) - _MAX_ENTRIES]
            self._append("message", entry)
        return entry

    def update_http(self, seq: int, fields: Dict[str, Any]) -> None:
        """Add to the ``http`` of entry ``seq`` (what its exchange's answer said), and tell the
        pages (an ``update`` event)."""
        with self._cond:
            entry = self._find(seq)
            if entry is None or entry.get("http") is None:
                return
            entry["http"] = dict(entry["http"], **fields)  # (replaced, never changed in place)
            self._append("update", {"seq": seq, "http": entry["http"]})

    def _find(self, seq: int) -> Optional[Dict[str, Any]]:
        if not self.entries:
            return None
        index = seq - self.entries[0]["seq"]
        if 0 <= index < len(self.entries) and self.entries[index]["seq"] == seq:
            return self.entries[index]
        return None

    def event(self, kind: str, data: Any) -> None:
        with self._cond:
            self._append(kind, data)

    def _append(self, kind: str, data: Any) -> None:
        self._events.append((self._next_event, kind, json.dumps(data, ensure_ascii=False, default=repr)))
        self._next_event += 1
        if len(self._events) > 2 * _MAX_ENTRIES:
            del self._events[:_MAX_ENTRIES]
        self._cond.notify_all()

    def events_after(self, last: int, timeout: float) -> List[Tuple[int, str, str]]:
        """The events after the one numbered ``last``, waiting up to ``timeout`` for one."""
        with self._cond:
            if not self.closed and (not self._events or self._events[-1][0] <= last):
                self._cond.wait(timeout)
            if not self._events or self._events[-1][0] <= last:
                return []
            first = self._events[0][0]
            return self._events[max(last + 1 - first, 0):]

    def last_event(self) -> int:
        with self._cond:
            return self._next_event - 1

    def snapshot(self) -> List[Dict[str, Any]]:
        with self._cond:
            return list(self.entries)

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def _insp_key(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else (type(value).__name__, value)


class _Tracer(Tracer):
    """A ``Tracer`` whose lines become timeline entries instead of text: the same notes
    (``explain``), and over HTTP the request line, status, headers and SSE framing of the
    exchange each message crossed in (kept per thread: a channel reads each answer on the
    thread that sent its request, or on its stream's reader)."""

    def __init__(self, hub: _Hub) -> None:
        super().__init__(explain=True, max_line=None)
        self.hub = hub
        self._context = threading.local()

    def message(self, direction: str, message: Any, raw: Optional[bytes] = None) -> None:
        text = None
        if message is None and raw is not None:
            text = bytes(raw).rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        note = self.message_note(direction, message)
        http = None
        exchange = getattr(self._context, "http", None)
        if exchange is not None and exchange.get("dir") == direction:
            http = {key: value for key, value in exchange.items() if key != "dir"}
            sse = getattr(self._context, "sse", None)
            http["sse"] = sse
        entry = self.hub.add_message("out" if direction == "->" else "in", message, text, note, http)
        if http is not None and direction == "->":
            self._context.sent = entry["seq"]

    def http_request(self, method: str, target: str, headers: Any, body: Optional[bytes] = None) -> None:
        self._context.http = {"dir": "->", "request": "%s %s" % (method, trace_target(target)), "status": None,
                              "headers": _header_map(headers), "note": self.request_note(method, headers)}
        self._context.sent = None
        try:
            if body:
                self.body("->", body)
        finally:
            self._context.http = None

    def http_response(self, status: int, reason: str, headers: Any, body: Optional[bytes] = None,
                      method: Optional[str] = None) -> None:
        note = self.response_note(status, headers, method)
        # The POST this answers gets its status (a notification's 202 has no message of its own).
        sent = getattr(self._context, "sent", None)
        if sent is not None:
            self._context.sent = None
            self.hub.update_http(sent, {"status": status, "answer": note})
        # Kept for what follows on this thread: the body, or the stream's events.
        self._context.http = {"dir": "<-", "status": status, "headers": _header_map(headers), "note": note}
        if body:
            self.body("<-", body)

    def sse_event(self, event: str, data: str, event_id: Optional[str] = None, retry: Optional[int] = None,
                  direction: str = "<-") -> None:
        fields = ["event: %s" % (event or "message")]
        if event_id is not None:
            fields.insert(0, "id: %s" % event_id)
        if retry is not None:
            fields.append("retry: %d" % retry)
        self._context.sse = "  ".join(fields)
        try:
            super().sse_event(event, data, event_id, retry, direction)
        finally:
            self._context.sse = None

    def _write(self, direction: str, lines: Any, note: Optional[str]) -> None:
        pass  # (the text lines of a trace: the timeline has the messages themselves)


def _header_map(headers: Any) -> Dict[str, str]:
    shown = {}  # type: Dict[str, str]
    for line in trace_header_lines(headers):
        name, _, value = line.partition(": ")
        shown[name] = value
    return shown


class _Args:
    """What ``cli_connect`` reads of a command line's options."""

    def __init__(self, timeout: float, era: str, protocol_version: Optional[str], headers: List[str],
                 oauth: bool = False) -> None:
        self.timeout = timeout
        self.era = era
        self.protocol_version = protocol_version
        self.headers = headers
        self.trace = None
        self.oauth = oauth  # (the tokens kept in the command line's token file, as with --oauth)
        self.client_id = None
        self.client_secret = None
        self.token_file = None
        self.bearer = None
        self.server_stderr = False


class Inspector:
    """The inspector's state and its web server; ``inspect()`` makes and runs one. ``url``
    (with the token) once ``start()`` has returned; ``close()`` stops the server and
    disconnects."""

    def __init__(self, target: Any = None, *, port: int = 0, replay: Optional[str] = None,
                 era: str = "auto", protocol_version: Optional[str] = None,
                 headers: Optional[Dict[str, str]] = None, timeout: float = 30.0,
                 ask_timeout: float = _ASK_TIMEOUT, oauth: bool = False) -> None:
        import secrets
        if era not in INSPECT_ERAS:
            raise ValueError("era is one of auto, 2026-07-28, session (not %r)" % (era,))
        self._given = target  # type: Any
        self.target = target.text if isinstance(target, CliTarget) else target  # type: Optional[str]
        self.era = era
        self.protocol_version = protocol_version
        self.headers = dict(headers or {})
        self.oauth = oauth
        self.timeout = timeout
        self.ask_timeout = ask_timeout
        self.port = port
        self.token = secrets.token_urlsafe(24)
        self.hub = _Hub()
        self.url = None  # type: Optional[str]
        self._lock = threading.RLock()
        self._client = None  # type: Any
        self._generation = 0  # connects and disconnects so far
        self._status = "idle"  # idle | connecting | connected | error
        self._error = None  # type: Optional[str]
        self._connected_to = None  # type: Optional[Dict[str, Any]]
        self._sign_in_url = None  # type: Optional[str]
        self._asks = {}  # type: Dict[str, Dict[str, Any]]
        self._results = {}  # type: Dict[str, Dict[str, Any]]
        self._cancels = {}  # type: Dict[str, threading.Event]
        self._counter = 0
        self.roots = []  # type: List[Dict[str, Any]]
        self.replay = None  # type: Optional[Dict[str, Any]]
        self._server = None  # type: Any
        self._thread = None  # type: Optional[threading.Thread]
        if replay is not None:
            self._load_replay(replay)

    # --- the web server ---

    def start(self) -> str:
        """Listen on 127.0.0.1 (``port``, 0 for any free one), serve in a thread, connect to
        ``target`` (if given) in another; returns the URL."""
        from .inspectpage import INSPECT_PAGE
        self._server = _make_server(self, INSPECT_PAGE.encode("utf-8"))
        self.port = self._server.server_address[1]
        self.url = "http://127.0.0.1:%d/?token=%s" % (self.port, self.token)
        self._thread = threading.Thread(target=self._server.serve_forever, name="mcplite-inspector", daemon=True)
        self._thread.start()
        if self.target:
            with self._lock:
                self._status = "connecting"  # (from the start: the page never sees "idle" first)
            threading.Thread(target=self._connect_quietly, daemon=True, name="mcplite-inspector-connect").start()
        return self.url

    def _connect_quietly(self) -> None:
        try:
            self.connect(self._given, self.era, self.protocol_version, self.headers, self.oauth)
        except Exception:
            pass  # (the state says what went wrong)

    def close(self) -> None:
        self.disconnect()
        self.hub.close()
        server = self._server
        if server is not None:
            server.shutdown()
            server.server_close()
            self._server = None

    # --- connecting ---

    def state(self) -> Dict[str, Any]:
        with self._lock:
            return {"status": self._status, "error": self._error, "target": self.target, "era": self.era,
                    "server": self._connected_to, "asks": list(self._asks.values()),
                    "running": sorted(self._cancels), "roots": self.roots, "replay": self.replay,
                    "signIn": self._sign_in_url}

    def _changed(self) -> None:
        self.hub.event("state", self.state())

    def connect(self, target: Any, era: str = "auto", protocol_version: Optional[str] = None,
                headers: Optional[Dict[str, str]] = None, oauth: bool = False) -> Dict[str, Any]:
        """Connect to ``target`` (anything the command line takes); the state afterwards.
        Raises ``CliFailure`` when it cannot, with the reason (also in the state).
        ``oauth``: sign in when an HTTP server asks (the URL to open is shown in the page)."""
        if era not in INSPECT_ERAS:
            raise CliFailure(CLI_EXIT_USAGE, "era is one of auto, 2026-07-28, session (not %r)" % (era,))
        self.disconnect()
        with self._lock:
            # A later connect or a disconnect makes this one stale: its client is closed, unused.
            self._generation += 1
            mine = self._generation
            # (a server of a configuration file comes as the CliTarget it was read into)
            self._given = target
            self.target = target.text if isinstance(target, CliTarget) else target
            self.era, self.protocol_version = era, protocol_version or None
            self.headers = dict(headers or {})
            self._status, self._error = "connecting", None
        self._changed()
        try:
            resolved = cli_resolve_target(target)
            tracer = _Tracer(self.hub)
            args = _Args(self.timeout, INSPECT_ERAS[era], protocol_version or None,
                             ["%s: %s" % item for item in self.headers.items()], oauth)
            client = cli_connect(args, resolved, authorizer=self._authorizer if oauth else None,
                                 trace=tracer, sampling=self._sampling,
                                 elicitation=self._elicitation, roots=self._roots,
                                 capabilities={"elicitation": {"form": {}, "url": {}}},
                                 on_list_changed=lambda kind: self.hub.event("changed", {"kind": kind}),
                                 on_resource_updated=lambda uri: self.hub.event("changed", {"uri": uri}))
        except CliFailure as failure:
            self._failed(failure.message, mine)
            raise
        except Exception as exc:  # a bug of ours, or of the transport: said, not raised to a peer
            self._failed("%s: %s" % (type(exc).__name__, exc), mine)
            raise CliFailure(1, "%s: %s" % (type(exc).__name__, exc))
        info = {"protocolVersion": client.protocol_version, "era": client.era,
                "serverInfo": client.server_info, "capabilities": client.server_capabilities,
                "instructions": client.instructions}
        with self._lock:
            stale = self._generation != mine
            if not stale:
                self._client, self._status, self._connected_to = client, "connected", info
        if stale:
            client.close()
            raise CliFailure(1, "disconnected before the connection was made")
        self._changed()
        return self.state()

    def _authorizer(self, port: int, open_browser: bool, timeout: float) -> Any:
        """The OAuth sign-in's browser step: ``TerminalAuthorizer``'s, its URL shown in the
        page (a link to open) rather than opened from here."""
        from .oauth import TerminalAuthorizer
        inspector = self

        class PageAuthorizer(TerminalAuthorizer):
            def __call__(self, url: str) -> str:
                # Listening before the link is shown: a person (or a test) quick to open it
                # would otherwise be sent back to a port nothing listens on yet.
                self._listen()
                inspector._sign_in(url)
                try:
                    return super().__call__(url)
                finally:
                    inspector._sign_in(None)

        return PageAuthorizer(port=port, open_browser=False, timeout=timeout)

    def _sign_in(self, url: Optional[str]) -> None:
        with self._lock:
            self._sign_in_url = url
        if url is not None:
            self.hub.event("signin", {"url": url})
        self._changed()

    def _failed(self, message: str, generation: int) -> None:
        with self._lock:
            if self._generation != generation:
                return  # (a later connect or a disconnect has the say)
            self._status, self._error = "error", message
        self._changed()

    def disconnect(self) -> None:
        with self._lock:
            self._generation += 1
            client, self._client = self._client, None
            asks = list(self._asks.values())
            for event in self._cancels.values():
                event.set()
            was = self._status
            if was in ("connected", "connecting"):
                self._status = "idle"
            self._connected_to = None
        for ask in asks:  # a question nobody will answer now: cancelled
            ask["_queue"].put(None)
        if client is not None:
            try:
                client.close()
            except Exception:
                pass
        if was == "connected":
            self._changed()

    # --- requests ---

    def request(self, method: str, params: Optional[Dict[str, Any]]) -> str:
        """Send ``method`` in a thread of its own; its id (for ``result`` and ``cancel``)."""
        from .clientsession import cancel_when
        with self._lock:
            client = self._client
            if client is None:
                raise CliFailure(1, "not connected")
            self._counter += 1
            rid = "r%d" % self._counter
            cancel = threading.Event()
            self._cancels[rid] = cancel
            self._results[rid] = {"id": rid, "method": method, "status": "running"}
            while len(self._results) > _MAX_RESULTS:
                del self._results[next(iter(self._results))]

        def progress(value: Any, total: Any = None, message: Any = None) -> None:
            self.hub.event("progress", {"id": rid, "progress": value, "total": total, "message": message})

        def run() -> None:
            from .errors import Cancelled, MCPError
            outcome = {"id": rid, "method": method}  # type: Dict[str, Any]
            try:
                with cancel_when(cancel.is_set):
                    outcome["result"] = _insp_send(client, method, dict(params or {}), progress)
                outcome["status"] = "done"
            except Cancelled:
                outcome["status"] = "cancelled"
            except MCPError as exc:
                outcome["status"] = "error"
                outcome["error"] = {"code": exc.code, "message": exc.message, "data": exc.data}
            except Exception as exc:
                outcome["status"] = "error"
                outcome["error"] = {"message": cli_error_text(exc) or type(exc).__name__}
            with self._lock:
                self._cancels.pop(rid, None)
                self._results[rid] = outcome
            self.hub.event("result", outcome)
            self._changed()

        threading.Thread(target=run, daemon=True, name="mcplite-inspector-" + rid).start()
        self._changed()
        return rid

    def result(self, rid: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            return self._results.get(rid)

    def cancel(self, rid: str) -> bool:
        with self._lock:
            event = self._cancels.get(rid)
        if event is None:
            return False
        event.set()
        return True

    # --- the server's questions ---

    def _ask(self, method: str, params: Dict[str, Any]) -> Any:
        import queue
        with self._lock:
            self._counter += 1
            ask_id = "a%d" % self._counter
            ask = {"askId": ask_id, "method": method, "params": params,
                   "_queue": queue.Queue(1)}  # type: Dict[str, Any]
            self._asks[ask_id] = ask
        self.hub.event("ask", _public(ask))
        self._changed()
        try:
            return ask["_queue"].get(timeout=self.ask_timeout)
        except queue.Empty:
            return None
        finally:
            with self._lock:
                self._asks.pop(ask_id, None)
            self._changed()

    def answer(self, ask_id: str, result: Any) -> bool:
        with self._lock:
            ask = self._asks.get(ask_id)
        if ask is None:
            return False
        try:
            ask["_queue"].put_nowait(result)
        except Exception:
            return False  # answered already
        return True

    def _elicitation(self, params: Dict[str, Any]) -> Dict[str, Any]:
        answer = self._ask("elicitation/create", params)
        if not isinstance(answer, dict) or answer.get("action") not in ("accept", "decline", "cancel"):
            return {"action": "cancel"}
        return answer

    def _sampling(self, params: Dict[str, Any]) -> Dict[str, Any]:
        from .errors import MCPError
        answer = self._ask("sampling/createMessage", params)
        if not isinstance(answer, dict) or answer.get("action") in ("decline", "cancel"):
            # "-1: User rejected sampling request" (the spec's example error)
            raise MCPError(-1, "User rejected sampling request")
        if "content" not in answer:
            answer = {"role": "assistant", "content": {"type": "text", "text": str(answer.get("text", ""))},
                      "model": "a person, in the mcplite inspector", "stopReason": "endTurn"}
        return answer

    def _roots(self) -> List[Dict[str, Any]]:
        answer = self._ask("roots/list", {})
        if isinstance(answer, dict) and isinstance(answer.get("roots"), list):
            self.set_roots(answer["roots"], notify=False)
        with self._lock:
            return list(self.roots)

    def set_roots(self, roots: List[Any], notify: bool = True) -> None:
        clean = []
        for root in roots:
            if isinstance(root, str) and root.strip():
                clean.append({"uri": root.strip()})
            elif isinstance(root, dict) and isinstance(root.get("uri"), str):
                clean.append({key: root[key] for key in ("uri", "name") if isinstance(root.get(key), str)})
        with self._lock:
            self.roots = clean
            client = self._client
        if notify and client is not None:
            try:
                client.notify_roots_changed()
            except Exception:
                pass
        self._changed()

    # --- recordings ---

    def _load_replay(self, path: str) -> None:
        from .recording import rec_load
        header, entries = rec_load(path)  # CliFailure (usage) for a file that is not one
        started = _parse_time(header.get("started")) if isinstance(header, dict) else None
        base = started if started is not None else time.time()
        notes = Tracer(explain=True)
        with open(path, "rb") as f:
            times = _times(f.read())
        for entry in entries:
            direction = entry.dir
            message = entry.message
            note = notes.message_note(direction, message) if message is not None or entry.text is None else None
            if entry.text is not None:
                note = notes.message_note(direction, None)
            self.hub.add_message("out" if direction == "->" else "in", message, entry.text, note, None,
                                 when=base + times.get(entry.line, 0.0))
        self.replay = {"file": os.path.basename(path), "count": len(entries), "header": header}

    def export(self) -> str:
        """The timeline as JSON lines in ``record``'s format."""
        from .recording import REC_FORMAT
        entries = self.hub.snapshot()
        started = entries[0]["time"] if entries else time.time()
        command = []  # type: List[str]
        if self.target:
            try:
                resolved = cli_resolve_target(self._given)
                command = resolved.argv if resolved.kind == "stdio" else [resolved.url or str(self.target)]
            except CliFailure:
                command = [str(self.target)]
        header = {"format": REC_FORMAT, "command": command, "cwd": os.getcwd(),
                  "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started))
                  + ".%03dZ" % (int(started * 1000) % 1000), "source": "mcplite inspect"}
        lines = [json.dumps(header, ensure_ascii=False)]
        for entry in entries:
            line = {"t": round(max(entry["time"] - started, 0.0), 6), "dir": "->" if entry["dir"] == "out" else "<-"}
            if entry.get("message") is None and "text" in entry:
                line["text"] = entry["text"]
            else:
                line["message"] = entry["message"]
            lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        return "\n".join(lines) + "\n"


def _public(ask: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in ask.items() if not key.startswith("_")}


def _insp_send(client: Any, method: str, params: Dict[str, Any], progress: Callable[..., Any]) -> Any:
    """One request through the Client's own API where it has one (every page of a list; the
    2026-07-28 forms of logging and subscriptions), else ``request``."""
    key = _LIST_KEYS.get(method)
    if key is not None and not params.get("cursor"):
        fetch = {"tools/list": client.list_tools, "resources/list": client.list_resources,
                 "resources/templates/list": client.list_resource_templates,
                 "prompts/list": client.list_prompts}[method]
        return {key: fetch()}
    if method == "logging/setLevel":
        client.set_log_level(str(params.get("level")))
        return {}
    if method == "resources/subscribe":
        client.subscribe(str(params.get("uri")))
        return {}
    if method == "resources/unsubscribe":
        client.unsubscribe(str(params.get("uri")))
        return {}
    return client.request(method, params, progress=progress)


def _times(data: bytes) -> Dict[int, float]:
    """Line number -> ``t`` of a recording's lines (rec_load keeps no times)."""
    times = {}  # type: Dict[int, float]
    for number, raw in enumerate(data.split(b"\n"), 1):
        if b'"t"' not in raw:
            continue
        try:
            item = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            continue
        if isinstance(item, dict) and isinstance(item.get("t"), (int, float)):
            times[number] = float(item["t"])
    return times


def _parse_time(text: Any) -> Optional[float]:
    if not isinstance(text, str):
        return None
    import calendar
    try:
        whole, _, fraction = text.rstrip("Z").partition(".")
        seconds = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
        return seconds + (float("0." + fraction) if fraction.isdigit() else 0.0)
    except ValueError:
        return None


# --- HTTP ---

def _make_server(inspector: Inspector, page: bytes) -> Any:
    import hmac
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    class Handler(BaseHTTPRequestHandler):
        server_version = "mcplite-inspector"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass  # (stdout is the URL line's; stderr is not a web server's log either)

        def _send(self, status: int, body: bytes, kind: str = "application/json",
                  extra: Optional[Dict[str, str]] = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            # The URL carries the token: no page it links to may learn it.
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, value: Any) -> None:
            self._send(status, json.dumps(value, ensure_ascii=False, default=repr).encode("utf-8"))

        def _refused(self) -> Optional[Tuple[int, str]]:
            port = inspector.port
            host = (self.headers.get("Host") or "").strip().lower()
            # A DNS rebinding page reaches 127.0.0.1 under its own name: only ours are answered.
            if host not in ("127.0.0.1:%d" % port, "localhost:%d" % port):
                return 403, "this inspector answers to 127.0.0.1:%d and localhost:%d only" % (port, port)
            origin = self.headers.get("Origin")
            # Another site's page in the same browser sends its own Origin: refused.
            if origin is not None and origin.strip().lower().rstrip("/") not in (
                    "http://127.0.0.1:%d" % port, "http://localhost:%d" % port):
                return 403, "requests from other origins are refused"
            given = None
            authorization = self.headers.get("Authorization") or ""
            if authorization[:7].lower() == "bearer ":
                given = authorization[7:].strip()
            else:
                values = parse_qs(urlsplit(self.path).query).get("token")
                given = values[0] if values else None
            if not given or not hmac.compare_digest(given.encode("utf-8"), inspector.token.encode("utf-8")):
                return 403, "a token is needed: open the URL that mcplite inspect printed"
            return None

        def _check(self) -> bool:
            refusal = self._refused()
            if refusal is not None:
                self._send(refusal[0], (refusal[1] + "\n").encode("utf-8"), "text/plain; charset=utf-8")
                return False
            return True

        def do_GET(self) -> None:
            if not self._check():
                return
            path = urlsplit(self.path).path
            try:
                if path == "/":
                    self._send(200, page, "text/html; charset=utf-8", {
                        "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
                        "style-src 'unsafe-inline'; img-src data:; media-src data:; connect-src 'self'; "
                        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"})
                elif path == "/events":
                    self._events()
                elif path == "/api/state":
                    self._json(200, inspector.state())
                elif path.startswith("/api/result/"):
                    found = inspector.result(path[len("/api/result/"):])
                    self._json(200 if found is not None else 404, found or {"error": "no such request"})
                elif path == "/api/export":
                    self._send(200, inspector.export().encode("utf-8"), "application/x-ndjson; charset=utf-8",
                               {"Content-Disposition": 'attachment; filename="mcplite-session.jsonl"'})
                else:
                    self._json(404, {"error": "not found"})
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_HEAD = do_GET

        def do_POST(self) -> None:
            if not self._check():
                return
            path = urlsplit(self.path).path
            length = self.headers.get("Content-Length")
            if length is None or not length.strip().isdigit():
                self._json(411, {"error": "Content-Length is needed"})
                return
            if int(length) > _INSP_MAX_BODY:
                self._json(413, {"error": "the body is larger than %d bytes" % _INSP_MAX_BODY})
                self.close_connection = True
                return
            kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if kind != "application/json":
                # (also what keeps a plain HTML form, which cannot send JSON, out)
                self._json(415, {"error": "the body must be application/json"})
                return
            try:
                body = json.loads(self.rfile.read(int(length)).decode("utf-8") or "{}")
            except (UnicodeDecodeError, ValueError, RecursionError):
                self._json(400, {"error": "the body is not JSON"})
                return
            if not isinstance(body, dict):
                self._json(400, {"error": "the body must be a JSON object"})
                return
            try:
                self._post(path, body)
            except CliFailure as failure:
                self._json(400 if failure.status == CLI_EXIT_USAGE else 502, {"error": failure.message})
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _post(self, path: str, body: Dict[str, Any]) -> None:
            if path == "/api/connect":
                target = body.get("target")
                if not isinstance(target, str) or not target.strip():
                    self._json(400, {"error": "target is needed: a command, a server file or a URL"})
                    return
                given = body.get("headers")
                headers = given if isinstance(given, dict) else {}  # type: Dict[str, Any]
                self._json(200, inspector.connect(target, str(body.get("era") or "auto"),
                                                  body.get("protocolVersion") or None,
                                                  {str(k): str(v) for k, v in headers.items()},
                                                  oauth=body.get("oauth") is True))
            elif path == "/api/disconnect":
                inspector.disconnect()
                self._json(200, inspector.state())
            elif path == "/api/request":
                method = body.get("method")
                params = body.get("params")
                if not isinstance(method, str) or (params is not None and not isinstance(params, dict)):
                    self._json(400, {"error": "method is a string and params an object"})
                    return
                self._json(200, {"id": inspector.request(method, params)})
            elif path == "/api/cancel":
                self._json(200 if inspector.cancel(str(body.get("id"))) else 404, {"id": body.get("id")})
            elif path == "/api/answer":
                found = inspector.answer(str(body.get("askId")), body.get("result"))
                self._json(200 if found else 404, {"askId": body.get("askId"), "answered": found})
            elif path == "/api/roots":
                roots = body.get("roots")
                if not isinstance(roots, list):
                    self._json(400, {"error": "roots is a list"})
                    return
                inspector.set_roots(roots)
                self._json(200, inspector.state())
            else:
                self._json(404, {"error": "not found"})

        def _events(self) -> None:
            last = self.headers.get("Last-Event-ID") or ""
            cursor = int(last) if last.strip().isdigit() else 0
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.close_connection = True
            # A new page gets the state as it is now, then the whole timeline; the state,
            # progress and questions of the past would only be undone by later ones.
            past = inspector.hub.last_event() if cursor == 0 else cursor
            self.wfile.write(("retry: 1000\nevent: state\ndata: %s\n\n" % json.dumps(
                inspector.state(), ensure_ascii=False, default=repr)).encode("utf-8"))
            self.wfile.flush()
            while not inspector.hub.closed:
                batch = inspector.hub.events_after(cursor, _KEEPALIVE)
                if not batch:
                    self.wfile.write(b": keep-alive\n\n")
                else:
                    chunks = []
                    for number, kind, data in batch:
                        if number > past or kind in ("message", "update"):
                            chunks.append("id: %d\nevent: %s\ndata: %s\n\n" % (number, kind, data))
                        cursor = number
                    self.wfile.write("".join(chunks).encode("utf-8"))
                self.wfile.flush()

        def do_PUT(self) -> None:
            if self._check():
                self._json(405, {"error": "method not allowed"})

        do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    class Listener(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = os.name != "nt"

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A page closed or reloaded mid-answer is no error to print; anything else is.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    # 127.0.0.1 only, whatever is asked: the page can start any command.
    return Listener(("127.0.0.1", inspector.port), Handler)


# --- the entry points ---

def inspect(target: Any = None, *, port: int = 0, open_browser: bool = True,
            replay: Optional[str] = None, era: str = "auto", protocol_version: Optional[str] = None,
            headers: Optional[Dict[str, str]] = None, timeout: float = 30.0, oauth: bool = False,
            block: bool = True, announce: Any = _UNSET) -> Inspector:
    """Start the inspector on 127.0.0.1 and print ``mcplite inspector: URL`` (to ``announce``,
    default stdout; None: not printed); open the URL in a browser unless ``open_browser`` is
    False. ``target``: what to connect to at once (a command line, a server file, a URL);
    without one the page asks. ``oauth``: sign in when an HTTP server asks (the page shows
    the link). ``replay``: a recording to browse. ``block``: serve until
    interrupted (Ctrl-C, SIGTERM), then stop; else return the running ``Inspector`` (its
    ``url``; ``close()`` stops it)."""
    import signal
    inspector = Inspector(target, port=port, replay=replay, era=era, protocol_version=protocol_version,
                          headers=headers, timeout=timeout, oauth=oauth)
    stop = threading.Event()
    previous = None
    if block and threading.current_thread() is threading.main_thread():
        # Before the URL line: whoever read it may send SIGTERM at once, and must get exit 0.
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        url = inspector.start()
        stream = sys.stdout if announce is _UNSET else announce
        if stream is not None:
            stream.write("mcplite inspector: %s\n" % url)
            stream.flush()
        if open_browser:
            import webbrowser
            try:
                webbrowser.open(url)
            except Exception:
                pass  # (no browser here: the URL is printed)
        if not block:
            return inspector
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        inspector.close()
        return inspector
    except BaseException:
        inspector.close()
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def add_inspect_command(commands: Any, common: Any) -> None:
    """Add ``inspect`` to the command line's sub-parsers."""
    from .cli import cli_seconds
    parser = commands.add_parser(
        "inspect", help="a page in the browser to see every message, call everything, answer the server",
        description="Serve the inspector on 127.0.0.1 (a random port unless --port) and open it in a "
                    "browser: a page that connects to TARGET (or one typed in), shows every message both "
                    "ways with its explanation, calls tools, reads resources, gets prompts, answers the "
                    "server's questions, and exports the session as a recording. The URL printed carries "
                    "a token; nothing without it is answered.")
    parser.add_argument("target", metavar="TARGET", nargs="?", default=None,
                        help="what to connect to at once: a command line in one string, a server file, a URL")
    parser.add_argument("--port", type=int, default=0, help="the port to listen on (default: any free one)")
    parser.add_argument("--no-open", dest="open_browser", action="store_false",
                        help="do not open a browser (the URL is printed either way)")
    parser.add_argument("--replay", metavar="FILE.jsonl", default=None,
                        help="open a recording (made by record, or exported by the page) to browse and step through")
    # modern and legacy too: they are what --era says for every other command (call, ls, ...).
    parser.add_argument("--era", dest="era", choices=("auto", "2026-07-28", "session", "modern", "legacy"),
                        default="auto", help="protocol era: probe (auto), 2026-07-28 (or modern), or a session "
                                             "(initialize; session or legacy)")
    parser.add_argument("--protocol-version", dest="protocol_version", metavar="VERSION", default=None,
                        help="ask for exactly this protocol version")
    parser.add_argument("-H", "--header", dest="headers", action="append", metavar="'NAME: VALUE'", default=[],
                        help="an HTTP header for every request to an HTTP target (repeatable)")
    parser.add_argument("--server", dest="config_server", metavar="NAME", default=None,
                        help="with a configuration file (mcp.json) as TARGET: the server of it to talk to")
    parser.add_argument("--oauth", dest="oauth", action="store_true",
                        help="sign in when an HTTP server asks (OAuth; the page shows the link to open; the "
                             "tokens are kept as the other commands' --oauth keeps them)")
    parser.add_argument("--timeout", dest="timeout", type=cli_seconds, default=30.0, metavar="SECONDS",
                        help="wait at most this long for each answer (default 30)")
    parser.set_defaults(run=_insp_run)


def _insp_run(args: Any) -> int:
    from .cli import cli_headers
    headers = cli_headers(args)
    if not 0 <= args.port < 65536:
        raise CliFailure(CLI_EXIT_USAGE, "--port must be 0 to 65535")
    try:
        # (the page's own names for the era, which its menu shows)
        era = {"modern": "2026-07-28", "legacy": "session"}.get(args.era, args.era)
        inspect(args.target, port=args.port, open_browser=args.open_browser, replay=args.replay, era=era,
                protocol_version=args.protocol_version, headers=headers, timeout=args.timeout, oauth=args.oauth)
    except OSError as exc:
        raise CliFailure(1, "cannot listen on 127.0.0.1:%d: %s" % (args.port, exc.strerror or exc))
    return CLI_EXIT_OK
