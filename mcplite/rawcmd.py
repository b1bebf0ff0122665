"""``raw TARGET``: send JSON-RPC messages exactly as typed or piped in, print exactly what
comes back. No handshake, no ids made up, nothing added: the way to see what a server
does with any message, well-formed or not.

    $ printf '%s\\n' '{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{...}}' \\
        | python -m mcplite raw "python3 server.py"

Over stdio every input line goes to the server as it is (a line that is not JSON too: that
is how a parse error is seen), and every line the server writes is printed as it is. Over
HTTP each message is POSTed as it is, with the headers the transport requires, worked out
from the message as a client would (the session id the ``initialize`` answer set,
``MCP-Protocol-Version``, the 2026-07-28 ``Mcp-Method``/``Mcp-Name``); each message that
comes back (a JSON body, or an SSE event's data) is printed as it came, on a line of its
own; an answer that is not JSON-RPC (an HTML error page) is said on stderr, never printed as
if it were one. ``--trace`` shows the HTTP itself. Each request's answer is awaited before
the next message goes (unless the server asks something first): an HTTP conversation is a
series of exchanges, and so the answers print in order. Nothing is added: no GET stream, no
DELETE of the session at the end. Lines that are empty or start with ``#`` are skipped, so a file of messages may
have comments.

After the input ends, ``raw`` waits (up to ``--timeout``) for the answers to the requests
it sent (those in a batch too), then closes the connection. A request the input cancels
(``notifications/cancelled`` naming its id) is not waited for any more: the receiver
"SHOULD NOT send a response" - one that comes all the same is printed. Exit status: 0 every
request answered (or cancelled), 4 some were not in time, 3 the server went away first, an
HTTP answer was not JSON-RPC, or the server wants authorization (401: the signing-in options
say how; with them, the token is got as a client would, outside the wait, and the message
sent again).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Set

from .cli import (
    CLI_EXIT_CONNECTION, CLI_EXIT_OK, CLI_EXIT_PROTOCOL, CLI_EXIT_USAGE, CliFailure, cli_authorization, cli_error_text,
    cli_headers, cli_refusal_text, cli_resolve_target, cli_target_label, cli_tracer,
)
from .errors import ConnectionClosed, TransportError


def add_raw_command(commands: Any, common: Any) -> None:
    raw = commands.add_parser(
        "raw", parents=[common], help="send JSON-RPC messages typed or piped in, print what comes back",
        description="Send each message (one JSON text per line, from the arguments or else from stdin) to the "
                    "server exactly as given, and print exactly what comes back. Nothing is added: no "
                    "handshake, no ids. After the input ends, waits up to --timeout for the answers (not for "
                    "a request the input cancelled with notifications/cancelled).")
    raw.add_argument("target", metavar="TARGET")
    # (default None: a fresh [] each parse, and JSON not named among the required arguments)
    raw.add_argument("messages", metavar="JSON", nargs="*", default=None,
                     help="messages to send, in order (default: read them from stdin, one per line)")
    raw.set_defaults(run=_run)


def _raw_request_ids(message: Any) -> List[str]:
    """The ids of the requests in a message or a batch, as keys."""
    items = message if isinstance(message, list) else [message]
    return [json.dumps(item["id"]) for item in items
            if isinstance(item, dict) and isinstance(item.get("method"), str) and "id" in item]


def _raw_cancelled_ids(message: Any) -> List[str]:
    """The ids of the requests a message (or a batch) cancels, as keys."""
    items = message if isinstance(message, list) else [message]
    keys = []  # type: List[str]
    for item in items:
        if not isinstance(item, dict):
            continue
        params = item.get("params")
        if (item.get("method") == "notifications/cancelled" and "id" not in item
                and isinstance(params, dict) and "requestId" in params):
            keys.append(json.dumps(params["requestId"]))
    return keys


class _RawState:
    """What the session is waiting for: the ids of requests sent and not yet answered."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.waiting = set()  # type: Set[str]
        self.expired = set()  # type: Set[str]   # waited for in vain (an HTTP exchange timed out)
        self.gone = None  # type: Optional[str]   # why the server went away, once it has
        self.refused = None  # type: Optional[str]   # an HTTP answer that was not JSON-RPC
        self.asked = 0  # requests the server sent us (the person may want to answer them)
        self.reader_left = False  # our stdout was closed (`| head`): stop, quietly
        # Messages read ahead (HTTP: the input is read while an answer is awaited, so that a
        # cancellation typed meanwhile ends the wait), and whether the input has ended.
        self.ahead = []  # type: List[Any]
        self.input_ended = False
        # Signing in (the person at the browser): no wait runs out meanwhile, and each starts
        # again from when the last sign-in ended.
        self.signing_in = 0
        self.signed_in_at = 0.0

    def sent(self, message: Any) -> None:
        with self.cond:
            self.waiting.update(_raw_request_ids(message))
            # "The receiver of a cancellation notification ... SHOULD NOT send a response for
            # the cancelled request": it is not waited for (one that comes is printed).
            self.waiting.difference_update(_raw_cancelled_ids(message))
            self.cond.notify_all()

    def received(self, message: Any) -> None:
        messages = message if isinstance(message, list) else [message]
        with self.cond:
            for item in messages:
                if isinstance(item, dict) and "method" not in item and "id" in item:
                    self.waiting.discard(json.dumps(item["id"]))
                elif isinstance(item, dict) and "method" in item and "id" in item:
                    self.asked += 1
            self.cond.notify_all()

    def settled(self, keys: List[str], refused: Optional[str] = None) -> None:
        """An HTTP exchange is over: nothing more can answer its requests."""
        with self.cond:
            self.waiting.difference_update(keys)
            if refused is not None and self.refused is None:
                self.refused = refused
            self.cond.notify_all()

    def expire(self, keys: List[str]) -> None:
        """An HTTP exchange gave up waiting (``--timeout``): its requests stay unanswered,
        and nothing more is waited for them."""
        with self.cond:
            self.expired.update(keys)
            self.cond.notify_all()

    def end(self, why: str) -> None:
        with self.cond:
            if self.gone is None:
                self.gone = why
            self.cond.notify_all()

    def _remaining(self, deadline: float, timeout: float) -> Optional[float]:
        """How long a wait that started with ``deadline`` has left (None: no limit now, a
        sign-in is under way). Called with the lock held."""
        if self.signing_in:
            return None
        return max(deadline, self.signed_in_at + timeout) - time.monotonic()

    def signing(self, started: bool) -> None:
        with self.cond:
            self.signing_in += 1 if started else -1
            if not started:
                self.signed_in_at = time.monotonic()
            self.cond.notify_all()

    def _cancel_ahead(self, keys: List[str]) -> bool:
        return any(set(_raw_cancelled_ids(message)).intersection(keys) for _, message in self.ahead)

    def wait_for(self, keys: List[str], timeout: float) -> None:
        """Until these requests are answered or cancelled (a cancellation is next in the
        input), the server asks something (the person may have to answer first), it has
        gone, or ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.cond:
            asked = self.asked
            while (self.waiting.intersection(keys) and self.gone is None and self.asked == asked
                   and not self._cancel_ahead(keys)):
                remaining = self._remaining(deadline, timeout)
                if remaining is not None and remaining <= 0:
                    break
                self.cond.wait(1.0 if remaining is None else remaining)

    def join(self, worker: threading.Thread, timeout: float) -> None:
        """Until the exchange of a message that is not a request is over, or ``timeout``
        (a sign-in under way not counted)."""
        deadline = time.monotonic() + timeout
        while worker.is_alive():
            with self.cond:
                remaining = self._remaining(deadline, timeout)
            if remaining is not None and remaining <= 0:
                return
            worker.join(0.5 if remaining is None else min(0.5, remaining))

    def read_ahead(self, messages: Any) -> None:
        """The input, read in a thread of its own into ``ahead``."""
        try:
            for item in messages:
                with self.cond:
                    self.ahead.append(item)
                    self.cond.notify_all()
        finally:
            with self.cond:
                self.input_ended = True
                self.cond.notify_all()

    def next_input(self) -> Any:
        """The next message read ahead (line, JSON or None), or None at the end of the input
        or once the server has gone."""
        with self.cond:
            while not self.ahead and not self.input_ended and self.gone is None:
                self.cond.wait()
            if self.gone is not None or not self.ahead:
                return None
            return self.ahead.pop(0)

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.waiting - self.expired and self.gone is None:
                remaining = self._remaining(deadline, timeout)
                if remaining is not None and remaining <= 0:
                    break
                self.cond.wait(1.0 if remaining is None else remaining)
            if self.reader_left:
                return CLI_EXIT_OK  # as for any command whose reader left (see cli_main)
            if self.refused is not None:
                raise CliFailure(CLI_EXIT_CONNECTION, self.refused)
            if not self.waiting:
                return CLI_EXIT_OK
            ids = ", ".join(sorted(self.waiting))
            if self.gone is not None:
                raise CliFailure(CLI_EXIT_CONNECTION, "%s before answering request %s" % (self.gone, ids))
            raise CliFailure(CLI_EXIT_PROTOCOL, "no answer to request %s within %g s" % (ids, timeout))


def _messages(args: Any) -> Any:
    """The messages to send, as (the line, its JSON or None): the arguments, or stdin's lines
    as they come, without blank lines and ``#`` comments."""
    def lines() -> Any:
        if args.messages:
            for text in args.messages:
                yield text
            return
        if sys.stdin.isatty():
            sys.stderr.write("Type one JSON-RPC message per line; Ctrl-D ends.\n")
            sys.stderr.flush()
        for text in iter(sys.stdin.readline, ""):
            yield text

    for text in lines():
        line = text.strip()
        if not line or line.startswith("#"):
            continue
        try:
            yield line, json.loads(line)
        except ValueError:
            yield line, None


def _run(args: Any) -> int:
    target = cli_resolve_target(args.target)
    auth, auth_headers = cli_authorization(args, target)  # (a usage error for a stdio target)
    tracer = cli_tracer(args)
    state = _RawState()
    if target.kind == "http":
        return _http(args, target, tracer, state, auth, auth_headers)
    if args.headers:
        raise CliFailure(CLI_EXIT_USAGE, "--header is for HTTP targets")
    return _stdio(args, target, tracer, state)


def _print(text: str, state: _RawState) -> None:
    """One line on stdout; a reader that has gone ends the session (as `| head` would)."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        state.reader_left = True
        state.end("stdout was closed")


# --- stdio ----------------------------------------------------------------------------------------

def _stdio(args: Any, target: Any, tracer: Any, state: _RawState) -> int:
    from .processes import ChildProcess
    try:
        child = ChildProcess(target.argv, capture_stderr=not args.server_stderr, keep=4096)
    except OSError as exc:
        raise CliFailure(CLI_EXIT_CONNECTION, "cannot start %s: %s" % (cli_target_label(target),
                                                                       exc.strerror or exc))
    process = child.process

    def read_stdout() -> None:
        for line in iter(process.stdout.readline, b""):  # type: ignore[union-attr]
            try:
                message = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                message = None
            if tracer is not None:
                tracer.message("<-", message, line)
            _print(line.rstrip(b"\r\n").decode("utf-8", "backslashreplace"), state)
            state.received(message)
        last = child.stderr_lines(1, wait=2.0)
        state.end("the server closed its stdout" + (" (it said: %s)" % last[-1].strip() if last else ""))

    out_thread = threading.Thread(target=read_stdout, daemon=True)
    out_thread.start()
    try:
        for line, message in _messages(args):
            if tracer is not None:
                tracer.message("->", message, line.encode("utf-8"))
            state.sent(message)
            try:
                process.stdin.write(line.encode("utf-8") + b"\n")  # type: ignore[union-attr]
            except OSError:
                state.end("the server stopped reading")
                break
        return state.wait(args.timeout)
    finally:
        child.stop(2.0)  # stdin closed, a wait, then SIGTERM, then SIGKILL: never an orphan
        out_thread.join(2.0)


# --- HTTP ---------------------------------------------------------------------------------------

def _http(args: Any, target: Any, tracer: Any, state: _RawState, auth: Any = None,
          auth_headers: Optional[Dict[str, str]] = None) -> int:
    """Each message a POST of its own, its answer read here, byte for byte: a JSON body
    printed as it came, each SSE event's data likewise; an answer that is not JSON-RPC is
    said on stderr (and ends the run with status 3). The channel only supplies what a
    client works out: connections (TLS, proxies), the headers for each message, and the
    token of the signing-in options (``auth``, an OAuth, which gets it on a 401)."""
    from .httpclient import HttpChannel

    headers = cli_headers(args)
    headers.update(auth_headers or {})
    try:
        channel = HttpChannel(target.url, headers, auth=auth)
    except ValueError as exc:
        raise CliFailure(CLI_EXIT_USAGE, str(exc))
    # Refused or unreachable: say so now, once.
    probe = channel._connect()
    try:
        probe.connect()
    except OSError as exc:
        raise CliFailure(CLI_EXIT_CONNECTION, "cannot reach %s: %s" % (target.url, exc.strerror or exc))
    finally:
        probe.close()
    workers = []  # type: List[threading.Thread]
    reader = threading.Thread(target=state.read_ahead, args=(_messages(args),), name="mcplite-raw-input",
                              daemon=True)
    reader.start()
    while True:
        item = state.next_input()
        if item is None:
            break
        line, message = item
        keys = _raw_request_ids(message)
        state.sent(message)
        headers = channel._request_headers(message if isinstance(message, dict) else {})
        worker = threading.Thread(target=_exchange, args=(channel, line.encode("utf-8"), headers, keys, tracer,
                                                              state, args.timeout), daemon=True)
        worker.start()
        workers.append(worker)
        # One exchange at a time, so answers print in the order of the questions (and the
        # initialize answer brings the session id what follows needs) - unless the server
        # asks something first, which the person may have to answer.
        if keys:
            state.wait_for(keys, args.timeout)
        else:
            state.join(worker, args.timeout)
        if state.gone is not None:
            break
    try:
        return state.wait(args.timeout)
    finally:
        channel.session_id = None  # nothing added: no DELETE of the session on the way out
        try:
            channel.close()
        except ConnectionClosed:
            pass


def _exchange(channel: Any, body: bytes, headers: Dict[str, str], keys: List[str], tracer: Any,
              state: _RawState, timeout: float) -> None:
    import http.client
    import socket

    from .httpclient import _MAX_HTTP_MESSAGE, _send_request, _sse_iter, read_body

    refused = None  # type: Optional[str]
    timed_out = False
    conn = None  # type: Any
    try:
        attempt = 0
        data = None  # type: Optional[bytes]   # the body, once read
        while True:
            conn = channel._connect()
            conn.timeout = timeout
            sent = dict(headers)
            generation = channel._authorize(sent)  # the token, if there is one (a TransportError if it cannot)
            response = _send_request(conn, "POST", channel._path, body, sent, tracer)
            channel._note_nonce(response)
            if response.status not in (401, 403) or channel._auth is None:
                break
            # Refused, with signing-in options: get a token as a client would (a person may be
            # at the browser: no wait runs out meanwhile), then send the message again.
            data = read_body(response, _MAX_HTTP_MESSAGE)
            if tracer is not None and data:
                tracer.body("<-", data)
            state.signing(True)
            try:
                again = channel._auth.recover(response.status, response.getheader("WWW-Authenticate"), generation,
                                              attempt)
            finally:
                state.signing(False)
            if not again:
                break  # a 403 more scope would not help: it is the answer
            conn.close()
            attempt += 1
            data = None
        session = response.getheader("Mcp-Session-Id")
        if session and channel.session_id is None:
            channel.session_id = session  # every later request carries it, as a client's would
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        challenge = response.getheader("WWW-Authenticate")
        authorization = response.status == 401 or (response.status == 403 and challenge is not None)
        if kind == "text/event-stream" and not authorization:
            for event, events_data, _ in _sse_iter(response, None, tracer):
                if event == "message" and events_data.strip():
                    _took(channel, events_data, state)
            return
        if data is None:
            data = read_body(response, _MAX_HTTP_MESSAGE)
            if tracer is not None and data:
                tracer.body("<-", data)
        text = data.decode("utf-8", "replace").strip()
        if authorization:
            # Not an answer to the message, whatever the body: the server wants a token (or
            # another one). Said on stderr, with the option to use.
            refused = cli_refusal_text(channel.url, response.status, challenge, text)
            return
        if text[:1] in ("{", "[") and _took(channel, text, state):
            return
        if response.status >= 300 or text:
            # Not JSON-RPC: said on stderr, never dressed up as an answer.
            shown = " ".join(text.split())
            refused = "%s answered HTTP %d %s%s: not a JSON-RPC answer" % (
                channel.url, response.status, response.reason, " (%s)" % (shown[:80] + "..." if len(shown) > 80
                                                                           else shown) if shown else "")
    except TransportError as exc:  # signing in failed, or a request http.client would not write
        refused = "%s: %s" % (channel.url, cli_error_text(exc))
    except socket.timeout:  # (the answer took longer than --timeout: not the server going away)
        timed_out = True
    except (OSError, http.client.HTTPException, ValueError) as exc:
        state.end("the exchange with %s broke off (%s)" % (channel.url, exc))
    finally:
        if conn is not None:
            conn.close()
        if timed_out:
            state.expire(keys)
        else:
            state.settled(keys, refused)


def _took(channel: Any, text: str, state: _RawState) -> bool:
    """Print a JSON-RPC message that came back (exactly as it came) and note what it
    answers; False for JSON that is not JSON-RPC."""
    try:
        message = json.loads(text)
    except ValueError:
        return False
    items = message if isinstance(message, list) else [message]
    if not items or not all(isinstance(item, dict) and item.get("jsonrpc") == "2.0" for item in items):
        return False
    _print(text, state)
    for item in items:
        result = item.get("result")
        if isinstance(result, dict) and isinstance(result.get("protocolVersion"), str) and "serverInfo" in result:
            # The initialize answer: its version goes in MCP-Protocol-Version from now on.
            channel.negotiated("legacy", result["protocolVersion"])
    state.received(message)
    return True

