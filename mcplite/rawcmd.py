"""``raw TARGET``: send JSON-RPC messages exactly as typed or piped in, print exactly what
comes back. No handshake, no ids made up, nothing added: the way to see what a server
does with any message, well-formed or not.

    $ printf '%s\\n' '{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{...}}' \\
        | python -m mcplite raw "python3 server.py"

Over stdio every input line goes to the server as it is (a line that is not JSON too: that
is how a parse error is seen), and every line the server writes is printed as it is. Over
HTTP each message is POSTed with the headers the transport requires, worked out from the
message as a client would (the session id the ``initialize`` answer set,
``MCP-Protocol-Version``, the 2026-07-28 ``Mcp-Method``/``Mcp-Name``); each message that
comes back (a JSON body or an SSE event) is printed on a line (``--trace`` shows the HTTP
itself). Each request's answer is awaited before the next message goes: an HTTP
conversation is a series of exchanges, and so the answers print in order. Lines that are empty or start with ``#`` are skipped, so a file of messages may
have comments.

After the input ends, ``raw`` waits (up to ``--timeout``) for the answers to the requests
it sent, then closes the connection. Exit status: 0 every request answered, 4 some were
not in time, 3 the server went away first.
"""

import json
import subprocess
import sys
import threading
import time
from typing import Any, Optional, Set

from .cli import (
    CLI_EXIT_CONNECTION, CLI_EXIT_OK, CLI_EXIT_PROTOCOL, CLI_EXIT_USAGE, CliFailure, cli_headers,
    cli_resolve_target, cli_target_label, cli_tracer,
)


def add_raw_command(commands: Any, common: Any) -> None:
    raw = commands.add_parser(
        "raw", parents=[common], help="send JSON-RPC messages typed or piped in, print what comes back",
        description="Send each message (one JSON text per line, from the arguments or else from stdin) to the "
                    "server exactly as given, and print exactly what comes back. Nothing is added: no "
                    "handshake, no ids. After the input ends, waits up to --timeout for the answers.")
    raw.add_argument("target", metavar="TARGET")
    raw.add_argument("messages", metavar="JSON", nargs="*",
                     help="messages to send, in order (default: read them from stdin, one per line)")
    raw.set_defaults(run=_raw_run)


class _RawState:
    """What the session is waiting for: the ids of requests sent and not yet answered."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.waiting = set()  # type: Set[str]
        self.gone = None  # type: Optional[str]   # why the server went away, once it has

    def sent(self, message: Any) -> None:
        if isinstance(message, dict) and "method" in message and "id" in message:
            with self.cond:
                self.waiting.add(json.dumps(message["id"]))

    def received(self, message: Any) -> None:
        messages = message if isinstance(message, list) else [message]
        with self.cond:
            for item in messages:
                if isinstance(item, dict) and "method" not in item and "id" in item:
                    self.waiting.discard(json.dumps(item["id"]))
            self.cond.notify_all()

    def end(self, why: str) -> None:
        with self.cond:
            if self.gone is None:
                self.gone = why
            self.cond.notify_all()

    def wait_for(self, rid: Any, timeout: float) -> None:
        """Until request ``rid`` is answered, the server has gone, or ``timeout``."""
        key = json.dumps(rid)
        deadline = time.monotonic() + timeout
        with self.cond:
            while key in self.waiting and self.gone is None and time.monotonic() < deadline:
                self.cond.wait(max(0.0, deadline - time.monotonic()))

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.waiting and self.gone is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.cond.wait(remaining)
            if not self.waiting:
                return CLI_EXIT_OK
            ids = ", ".join(sorted(self.waiting))
            if self.gone is not None:
                raise CliFailure(CLI_EXIT_CONNECTION, "%s before answering request %s" % (self.gone, ids))
            raise CliFailure(CLI_EXIT_PROTOCOL, "no answer to request %s within %g s" % (ids, timeout))


def _raw_messages(args: Any) -> Any:
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


def _raw_run(args: Any) -> int:
    target = cli_resolve_target(args.target)
    tracer = cli_tracer(args)
    state = _RawState()
    if target.kind == "http":
        return _raw_http(args, target, tracer, state)
    if args.headers:
        raise CliFailure(CLI_EXIT_USAGE, "--header is for HTTP targets")
    return _raw_stdio(args, target, tracer, state)


def _raw_print(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- stdio ----------------------------------------------------------------------------------------

def _raw_stdio(args: Any, target: Any, tracer: Any, state: _RawState) -> int:
    try:
        process = subprocess.Popen(target.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=None if args.server_stderr else subprocess.PIPE, bufsize=0)
    except OSError as exc:
        raise CliFailure(CLI_EXIT_CONNECTION, "cannot start %s: %s" % (cli_target_label(target),
                                                                       exc.strerror or exc))
    stderr_tail = bytearray()

    def read_stderr() -> None:
        for chunk in iter(lambda: process.stderr.read(4096), b""):  # type: ignore[union-attr]
            stderr_tail.extend(chunk)
            del stderr_tail[:-4096]

    def read_stdout() -> None:
        for line in iter(process.stdout.readline, b""):  # type: ignore[union-attr]
            try:
                message = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                message = None
            if tracer is not None:
                tracer.message("<-", message, line)
            _raw_print(line.rstrip(b"\r\n").decode("utf-8", "backslashreplace"))
            state.received(message)
        if process.stderr is not None:
            err_thread.join(2.0)
        last = [l for l in bytes(stderr_tail).decode("utf-8", "replace").splitlines() if l.strip()]
        state.end("the server closed its stdout" + (" (it said: %s)" % last[-1].strip() if last else ""))

    err_thread = threading.Thread(target=read_stderr, daemon=True)
    out_thread = threading.Thread(target=read_stdout, daemon=True)
    if process.stderr is not None:
        err_thread.start()
    out_thread.start()
    try:
        for line, message in _raw_messages(args):
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
        _raw_stop(process)
        out_thread.join(2.0)


def _raw_stop(process: Any) -> None:
    """Close stdin, wait, then SIGTERM, then SIGKILL: never an orphan."""
    from .client import stop_process
    try:
        process.stdin.close()
    except OSError:
        pass
    stop_process(process, 2.0)


# --- HTTP -----------------------------------------------------------------------------------------

def _raw_http(args: Any, target: Any, tracer: Any, state: _RawState) -> int:
    from .httpclient import HttpChannel, _send_request
    from .jsonrpc import ConnectionClosed

    try:
        channel = HttpChannel(target.url, cli_headers(args))
    except ValueError as exc:
        raise CliFailure(CLI_EXIT_USAGE, str(exc))
    channel.tracer = tracer
    # Refused or unreachable: say so now (a request's failure would look like an answer).
    probe = channel._connect()
    try:
        probe.connect()
    except OSError as exc:
        raise CliFailure(CLI_EXIT_CONNECTION, "cannot reach %s: %s" % (target.url, exc.strerror or exc))
    finally:
        probe.close()
    initialize_ids = set()  # type: Set[str]

    def on_message(message: Any) -> None:
        if (isinstance(message, dict) and json.dumps(message.get("id")) in initialize_ids
                and isinstance(message.get("result"), dict)):
            # The session's version from here on, as a client would (MCP-Protocol-Version).
            channel.negotiated("legacy", str(message["result"].get("protocolVersion")))
        _raw_print(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        state.received(message)

    channel.start(on_message, lambda error: state.end(str(error)))
    try:
        for line, message in _raw_messages(args):
            if message is None:  # not JSON: sent all the same, to see what the server says
                _raw_post_bytes(channel, line.encode("utf-8"), tracer, _send_request)
                continue
            if isinstance(message, dict) and message.get("method") == "initialize" and "id" in message:
                initialize_ids.add(json.dumps(message["id"]))
            state.sent(message)
            try:
                channel.send(message)
            except ConnectionClosed as exc:
                raise CliFailure(CLI_EXIT_CONNECTION, "%s: %s" % (target.url, exc))
            if isinstance(message, dict) and "method" in message and "id" in message:
                # One exchange at a time, so answers print in the order of the questions
                # (and initialize's answer brings the session id what follows needs).
                state.wait_for(message["id"], args.timeout)
            if isinstance(message, dict) and message.get("method") == "notifications/initialized":
                channel.ready()  # a session's client opens its GET stream now
        return state.wait(args.timeout)
    finally:
        channel.close()


def _raw_post_bytes(channel: Any, body: bytes, tracer: Any, send_request: Any) -> None:
    """POST bytes that are not JSON (to see the server's parse error) and print the answer."""
    headers = channel._request_headers({})
    conn = channel._connect()
    try:
        response = send_request(conn, "POST", channel._path, body, headers, tracer)
        data = response.read(64 * 1024)
        if tracer is not None and data:
            tracer.body("<-", data)
    except OSError as exc:
        raise CliFailure(CLI_EXIT_CONNECTION, "%s: %s" % (channel.url, exc))
    finally:
        conn.close()
    text = data.decode("utf-8", "replace").strip()
    _raw_print(text if text.startswith(("{", "[")) else "HTTP %d %s" % (response.status, text[:200]))
