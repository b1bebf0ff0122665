"""JSON-RPC 2.0 with no I/O: envelopes, error codes, and matching responses to requests.

Everything here works on plain dicts exactly as they appear on the wire. Transports hand
this module bytes or decoded messages and get messages back; nothing here touches a pipe
or a socket, so every transport and every test drives the same code.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any, Callable, Dict, Optional, Tuple, Union

from .errors import MCPError

# Standard JSON-RPC 2.0 codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# MCP codes. -32002 is the legacy "resource not found" (2025-11-25 and earlier; 2026-07-28
# answers -32602 instead), -32042 is 2025-11-25's URL elicitation required, and -32020..-32022
# are the codes 2026-07-28 defines.
RESOURCE_NOT_FOUND = -32002
REQUEST_TIMEOUT = -32001  # no answer in time (the code the official SDKs use)
URL_ELICITATION_REQUIRED = -32042
HEADER_MISMATCH = -32020
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022

JSON = Any
Message = Dict[str, Any]
RequestId = Union[str, int]

# ---------------------------------------------------------------------------
# Encoding and decoding

# allow_nan=False: NaN and Infinity are not JSON, and a strict peer (JSON.parse) would
# reject the whole line. Such a value makes encoding fail instead (see encode_outgoing).
_dumps_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_dumps_ascii = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode


def encode(message: Any) -> bytes:
    """One message as compact UTF-8 JSON, without a trailing newline.

    JSON escapes control characters inside strings, so the result never contains a raw
    newline: stdio's "MUST NOT contain embedded newlines" holds by construction.
    """
    try:
        return _dumps_compact(message).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (say, from a peer's "\\ud800") cannot be UTF-8: escape it instead.
        return _dumps_ascii(message).encode("ascii")


def encode_outgoing(message: Any) -> bytes:
    """``encode`` for what a peer sends: a response whose result cannot be JSON (a handler
    put a datetime or a set in it, say) becomes an internal error, so the request still gets
    its one response. Anything else that cannot be encoded raises TypeError or ValueError."""
    try:
        return encode(message)
    except (TypeError, ValueError, RecursionError) as exc:
        if isinstance(message, dict) and "result" in message and is_valid_id(message.get("id")):
            return encode(error_response(message["id"], MCPError(
                INTERNAL_ERROR, "Internal error: the result is not JSON serializable (%s)" % (exc,))))
        if isinstance(message, list):
            return b"[" + b",".join(encode_outgoing(item) for item in message) + b"]"
        raise


# How deep a message may nest (arrays and objects): deeper is a parse error, on every Python.
# The interpreter's own limit is not one: json recurses per level and hits the recursion limit
# near depth 1,000 up to 3.13, while 3.14 measures the C stack instead and parses 100,000
# levels. A fixed bound answers the same everywhere, keeps every later walk over a message
# (validation, encoding, tracing) far from any recursion limit, and is generous: MCP's deepest
# real messages (a JSON Schema inside a tool inside a list) nest about a dozen levels.
MAX_JSON_DEPTH = 128


def decode(data: Union[bytes, str]) -> Any:
    """Parse one JSON text. Raises MCPError(PARSE_ERROR) for bad UTF-8, bad JSON, or JSON
    nested deeper than ``MAX_JSON_DEPTH``."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            # "JSON-RPC messages MUST be UTF-8 encoded."
            raise MCPError(PARSE_ERROR, "Parse error: message is not valid UTF-8")
    try:
        # A text that is one value and nothing else (what a peer writes) is scanned by the
        # decoder's C scanner directly, without the two Python layers of JSONDecoder.decode
        # around it (~2 of a stdio tools/call's 30 Python calls); any other text, a bad one
        # included, goes through decode, which skips surrounding whitespace and words the
        # error.
        try:
            value, end = _scan_json(data, 0)
        except (StopIteration, ValueError):
            end = -1
        if end != len(data):
            value = _decode_json(data)
    except ValueError as exc:
        raise MCPError(PARSE_ERROR, "Parse error: %s" % (exc,))
    except RecursionError:
        raise MCPError(PARSE_ERROR, _TOO_DEEP)
    # Nesting needs an opening bracket per level, so a text with few of them (nearly every
    # message) skips the walk; the two counts run at C speed, and a text too short to hold
    # that many brackets (a typical tools/call) skips them too.
    if (len(data) > MAX_JSON_DEPTH and data.count("[") + data.count("{") > MAX_JSON_DEPTH
            and _nests_deeper(value, MAX_JSON_DEPTH)):
        raise MCPError(PARSE_ERROR, _TOO_DEEP)
    return value


_TOO_DEEP = "Parse error: nested deeper than %d levels" % MAX_JSON_DEPTH


def _nests_deeper(value: Any, limit: int) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` levels. A walk level by
    level, never a recursion: the point is to bound depth without depending on the stack."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below = []
        for item in level:
            for child in (item.values() if isinstance(item, dict) else item):
                if isinstance(child, (dict, list)):
                    below.append(child)
        level = below
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError("%s is not valid JSON" % name)


# Built once: json.loads with an option builds a new decoder on every call.
_json_decoder = json.JSONDecoder(parse_constant=_refuse_constant)
_decode_json = _json_decoder.decode
# (What JSONDecoder.decode calls: the C scanner, or json's pure-Python one where there is no C.)
_scan_json = _json_decoder.scan_once  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# Building messages

def request(id: RequestId, method: str, params: Optional[Dict[str, Any]] = None) -> Message:
    msg = {"jsonrpc": "2.0", "id": id, "method": method}  # type: Message
    if params is not None:
        msg["params"] = params
    return msg


def notification(method: str, params: Optional[Dict[str, Any]] = None) -> Message:
    msg = {"jsonrpc": "2.0", "method": method}  # type: Message
    if params is not None:
        msg["params"] = params
    return msg


def result_response(id: RequestId, result: Dict[str, Any]) -> Message:
    return {"jsonrpc": "2.0", "id": id, "result": result}


def error_response(id: Optional[RequestId], error: MCPError) -> Message:
    # JSON-RPC 2.0: when the id could not be read (parse error, unreadable envelope) the
    # response carries "id": null.
    return {"jsonrpc": "2.0", "id": id, "error": error.to_error()}


def object_member(container: Any, key: str) -> Dict[str, Any]:
    """``container[key]`` when that is a JSON object, else {}: a peer's ``params``,
    ``_meta``... read without trusting their shape."""
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------------------
# Classifying received messages

REQUEST = "request"
NOTIFICATION = "notification"
RESPONSE = "response"


def is_valid_id(value: Any) -> bool:
    """MCP ids are strings or integers, never null ("Unlike base JSON-RPC, the ID MUST NOT be null")."""
    if isinstance(value, str):
        return True
    return isinstance(value, int) and not isinstance(value, bool)


def readable_id(message: Any) -> Optional[RequestId]:
    """The id to echo in an error about ``message``, or None when it cannot be read."""
    if isinstance(message, dict):
        value = message.get("id")
        if is_valid_id(value):
            return value
    return None


def classify(message: Any) -> str:
    """Say what a decoded message is, or raise MCPError(INVALID_REQUEST).

    Returns REQUEST, NOTIFICATION or RESPONSE (a result or an error). The caller answers
    an invalid request using ``readable_id(message)``.
    """
    if not isinstance(message, dict):
        raise MCPError(INVALID_REQUEST, "Invalid Request: a message must be a JSON object")
    if message.get("jsonrpc") != "2.0":
        raise MCPError(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"')
    if "method" in message:
        method = message["method"]
        if not isinstance(method, str) or not method:
            raise MCPError(INVALID_REQUEST, 'Invalid Request: "method" must be a non-empty string')
        if "params" in message and not isinstance(message["params"], dict):
            # JSON-RPC allows by-position arrays; every MCP method takes an object.
            raise MCPError(INVALID_REQUEST, 'Invalid Request: "params" must be an object')
        if "id" not in message:
            return NOTIFICATION
        if not is_valid_id(message["id"]):
            raise MCPError(INVALID_REQUEST, 'Invalid Request: "id" must be a string or an integer')
        if "result" in message or "error" in message:
            raise MCPError(INVALID_REQUEST, "Invalid Request: a request cannot carry a result or an error")
        return REQUEST
    has_result = "result" in message
    has_error = "error" in message
    if has_result == has_error:
        raise MCPError(INVALID_REQUEST, 'Invalid Request: expected "method", "result" or "error"')
    if has_error:
        if not isinstance(message["error"], dict):
            raise MCPError(INVALID_REQUEST, 'Invalid Request: "error" must be an object')
        # Error responses to unreadable requests carry a null (or no) id.
        if "id" in message and message["id"] is not None and not is_valid_id(message["id"]):
            raise MCPError(INVALID_REQUEST, 'Invalid Request: bad "id" in error response')
        return RESPONSE
    if not is_valid_id(message.get("id")):
        raise MCPError(INVALID_REQUEST, 'Invalid Request: a result needs a string or integer "id"')
    return RESPONSE


# ---------------------------------------------------------------------------
# Matching responses to the requests we sent

class Pending:
    """A request we sent, waiting for its response (a minimal future).

    A plain lock, held from the start and released once settled, rather than an Event:
    an Event is a Condition and a Lock, and this is made for every request a client sends.
    """

    __slots__ = ("id", "method", "_lock", "_result", "_error", "done")

    def __init__(self, id: RequestId, method: str) -> None:
        self.id = id
        self.method = method
        self._lock = threading.Lock()
        self._lock.acquire()
        self._result = None  # type: Any
        self._error = None  # type: Optional[BaseException]
        self.done = False

    def _settle(self) -> None:
        if not self.done:
            self.done = True
            try:
                self._lock.release()
            except RuntimeError:
                pass  # settled twice at once (a response racing a cancellation): once is enough

    def resolve(self, result: Any) -> None:
        if not self.done:
            self._result = result
            self._settle()

    def fail(self, error: BaseException) -> None:
        if not self.done:
            self._error = error
            self._settle()

    def wait(self, timeout: Optional[float] = None) -> Any:
        """The result; raises the peer's MCPError, or TimeoutError when ``timeout`` passes."""
        if not self.done:
            if not self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
                raise TimeoutError("no response to %r (id %r) within %s s" % (self.method, self.id, timeout))
            self._lock.release()  # for any later wait
        if self._error is not None:
            raise self._error
        return self._result


class PendingRequests:
    """Ids for outgoing requests and the table that matches responses to them.

    Both peers number their own requests independently, so a response is matched only
    against requests *we* sent (never against ids the peer used for its requests).
    """

    def __init__(self, prefix: str = "") -> None:
        self._counter = itertools.count(1)
        self._prefix = prefix
        self._lock = threading.Lock()
        self._table = {}  # type: Dict[RequestId, Pending]

    def new(self, method: str, params: Optional[Dict[str, Any]] = None) -> Tuple[Message, Pending]:
        """Allocate an id and return (the request message, its Pending)."""
        n = next(self._counter)
        rid = ("%s%d" % (self._prefix, n)) if self._prefix else n  # type: RequestId
        pending = Pending(rid, method)
        with self._lock:
            self._table[rid] = pending
        return request(rid, method, params), pending

    def resolve(self, message: Message) -> bool:
        """Deliver a response message; False when it matches nothing we are waiting for."""
        rid = message.get("id")
        if not is_valid_id(rid):
            return False
        with self._lock:
            pending = self._table.pop(rid, None)  # type: ignore[arg-type]  # checked just above
        if pending is None:
            return False
        if "error" in message:
            pending.fail(MCPError.from_error(message["error"]))
        else:
            pending.resolve(message.get("result"))
        return True

    def forget(self, rid: RequestId) -> Optional[Pending]:
        """Stop waiting for ``rid`` (timeout, cancellation); a late response is then ignored."""
        with self._lock:
            return self._table.pop(rid, None)

    def fail(self, rid: RequestId, error: BaseException) -> bool:
        """Fail one request with a local error (its transport knows the peer will never
        answer it); False when nothing waits for ``rid``."""
        pending = self.forget(rid)
        if pending is None:
            return False
        pending.fail(error)
        return True

    def fail_all(self, error: BaseException) -> None:
        """The connection is gone: wake every waiter with ``error``."""
        with self._lock:
            pendings = list(self._table.values())
            self._table.clear()
        for pending in pendings:
            pending.fail(error)

    def __len__(self) -> int:
        return len(self._table)


# ---------------------------------------------------------------------------
# One side of a connection

Reply = Callable[[Any], None]  # a response to send, or None when a message gets none


def _send_nothing(response: Any) -> None:
    pass


class Endpoint:
    """One side of a JSON-RPC connection, without I/O, the same for a server and a client:
    ``route`` takes one decoded message from the peer and hands it on by kind - a request
    to ``on_request``, a notification to ``on_notification``, a response to ``on_response``
    (which settles the request of ours it answers: ``outgoing`` numbers and matches those),
    anything else to ``on_invalid``. ``reply`` gets the answer to send for the message, or None.

    Subclasses override the ``on_*`` steps they serve; the defaults answer an unknown
    request with -32601, an invalid message with -32600, and ignore notifications and
    responses that match nothing. ``context`` is whatever the transport passes along with
    the message (an HTTP request's headers, say): handed to ``on_request`` as it is.
    """

    def __init__(self, prefix: str = "") -> None:
        self.outgoing = PendingRequests(prefix)

    def route(self, message: Any, reply: Reply = _send_nothing, context: Any = None) -> None:
        try:
            kind = classify(message)
        except MCPError as exc:
            self.on_invalid(message, exc, reply)
            return
        if kind is REQUEST:
            self.on_request(message, reply, context)
        elif kind is NOTIFICATION:
            self.on_notification(message)
            reply(None)
        else:
            self.on_response(message)
            reply(None)

    def on_invalid(self, message: Any, error: MCPError, reply: Reply) -> None:
        """Not a JSON-RPC message: answered with ``error``, naming its id where it can be read."""
        reply(error_response(readable_id(message), error))

    def on_request(self, message: Message, reply: Reply, context: Any) -> None:
        reply(error_response(message["id"], MCPError(METHOD_NOT_FOUND, "Method not found: %s" % message["method"])))

    def on_notification(self, message: Message) -> None:
        """A notification never gets a response, not even an error."""

    def on_response(self, message: Message) -> None:
        """A response (result or error): it settles the request of ours it answers."""
        if not self.outgoing.resolve(message):
            self.on_unmatched(message)

    def on_unmatched(self, message: Message) -> None:
        """A response to no request we are waiting for (late, or unknown): ignored."""
