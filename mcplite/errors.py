"""Every exception mcplite raises, in one leaf module (it imports nothing of the package).

Two families, kept apart so that an ``except`` says which one it means:

* ``MCPError`` is a JSON-RPC error object: on a client, the peer answered a request with it;
  on a server, a handler raises one to answer with it. Its ``code`` is always a code that
  crossed, or will cross, the wire.
* ``TransportError`` is a failure on this side of the wire: the connection closed, no answer
  came in time, the HTTP server answered with a status instead of JSON-RPC, the session
  was lost, authorization could not be obtained, the peer broke the protocol, or it speaks
  no protocol version we do. It has no JSON-RPC code: no JSON-RPC error was sent, or (a
  -32022 naming only versions we cannot speak) the one sent is its ``__cause__``.

A client call may also raise ``TaskCancelled`` (the task it waited for ended cancelled).
The server-side flow exceptions (``ToolError``, ``Cancelled``, ``ArgumentError``, and the two
that unwind a handler, ``InputRequired`` and ``TaskStart``) live here too, and so do those of
one feature (``StoreUnavailable`` and ``StoreSchemaError`` of the shared stores,
``SkillVerificationError`` of Skills, ``JWTError`` of JWT access tokens): the module that
raises one imports it from here, and still offers it under its old name
(``from mcplite.stores import StoreUnavailable``).

Three kinds stay where they are raised (tests/test_layers.py checks that no other public one
does): the command line's ``CliFailure`` and the builder's ``VendorError``, which only the
tools layer raises and catches (the builder is in no one-file build, the command line only
in those with the cli part); ``ConfigWarning``, a warning category the host configuration
issues rather than raises; and private control flow that never leaves its module
(``_BridgeStop``, ``_CfgProblem``, ``_ProbeUnreachable``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

_NO_DATA = object()

# The JSON-RPC codes the classes below need (the full table is in jsonrpc.py).
_INTERNAL_ERROR = -32603
_URL_ELICITATION_REQUIRED = -32042


class MCPError(Exception):
    """A JSON-RPC error: raised by handlers to answer with an error, raised by clients when
    the peer answered with one.

    ``code`` is an integer, ``message`` one short sentence, ``data`` anything JSON (omitted
    from the wire when not given; then ``data`` is None and ``has_data`` False, while an
    explicit ``"data": null`` has ``has_data`` True).
    """

    def __init__(self, code: int, message: str, data: Any = _NO_DATA) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.has_data = data is not _NO_DATA
        self.data = data if self.has_data else None

    def to_error(self) -> Dict[str, Any]:
        """The ``error`` member of a JSON-RPC error response."""
        error = {"code": self.code, "message": self.message}  # type: Dict[str, Any]
        if self.has_data:
            error["data"] = self.data
        return error

    @classmethod
    def from_error(cls, error: Any) -> "MCPError":
        """Build from a received ``error`` member, tolerating malformed ones."""
        if not isinstance(error, dict):
            return cls(_INTERNAL_ERROR, "malformed error response: %r" % (error,))
        code = error.get("code")
        if not isinstance(code, int) or isinstance(code, bool):
            code = _INTERNAL_ERROR
        message = error.get("message")
        if not isinstance(message, str):
            message = str(message)
        if "data" in error:
            return cls(code, message, error["data"])
        return cls(code, message)

    def __repr__(self) -> str:
        if not self.has_data:
            return "MCPError(%d, %r)" % (self.code, self.message)
        return "MCPError(%d, %r, %r)" % (self.code, self.message, self.data)

    def __str__(self) -> str:
        return "%s (code %d)" % (self.message, self.code)


class UrlElicitationRequired(MCPError):
    """Raise in a handler that cannot go on until the user completes an interaction at a
    URL (sign-in, payment...). 2025-11-25 sessions get error -32042 listing the URL; a
    2026-07-28 request gets an ``input_required`` result asking the same."""

    def __init__(self, message: str, url: str, elicitation_id: Optional[str] = None) -> None:
        import os
        self.elicitation_id = elicitation_id or os.urandom(12).hex()
        self.url = url
        self.prompt = message
        super().__init__(_URL_ELICITATION_REQUIRED, "URL elicitation required: %s" % message, {"elicitations": [
            {"mode": "url", "message": message, "url": url, "elicitationId": self.elicitation_id}]})


class StoreUnavailable(MCPError):
    """The shared store could not be used (unreachable, locked too long, failing): the request
    is answered with this error (-32603 "Server busy"), the cause logged on the server."""

    def __init__(self, what: str = "") -> None:
        MCPError.__init__(self, _INTERNAL_ERROR, "Server busy: the shared store is unavailable%s; try again"
                          % (" (" + what + ")" if what else ""))


# --- failures on this side of the wire ----------------------------------------------------------

class TransportError(Exception):
    """A request could not be completed with the peer, for a reason on this side of the wire
    (no JSON-RPC error was received): the subclasses say which. ``message`` is the sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConnectionClosed(TransportError):
    """The connection ended (or could not be made) while we waited for the peer."""

    def __init__(self, message: str = "Connection closed") -> None:
        super().__init__(message)


class RequestTimeout(TransportError):
    """No response in time. The request was cancelled (``notifications/cancelled``)."""

    def __init__(self, method: str, timeout: float) -> None:
        super().__init__("No response to %s within %g s" % (method, timeout))
        self.method = method
        self.timeout = timeout


class HttpError(TransportError):
    """The server answered a request with an HTTP error status rather than a JSON-RPC
    response: ``status``, the ``www_authenticate`` challenge (or None) and the start of
    the ``body``."""

    def __init__(self, status: int, message: str, www_authenticate: Optional[str] = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.www_authenticate = www_authenticate
        self.body = body


class SessionLost(TransportError):
    """The server ended the session a request was sent in (HTTP 404 for its
    ``Mcp-Session-Id``), so the request never ran: the ``Client`` starts a new session and
    sends it again there. ``generation`` names the session that was lost (a channel's count
    of the sessions it has had), so that many requests lost with one session renew it once."""

    def __init__(self, message: str, generation: int = 0) -> None:
        super().__init__(message)
        self.generation = generation


class AuthorizationError(TransportError):
    """Getting a token failed, or was refused for the user's safety (metadata naming
    another server, an issuer mismatch, a wrong ``state`` or ``iss``, no PKCE, too many
    attempts). ``status`` is the HTTP status (401 or 403) that started it; ``oauth_error``
    the ``error`` of the authorization server's answer, when it gave one (``invalid_grant``)."""

    def __init__(self, message: str, status: int = 401, oauth_error: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.oauth_error = oauth_error


class ProtocolError(TransportError):
    """The peer's messages break the protocol where a call depends on them (a result that is
    not an object, questions that never end, cursors that loop), so the call cannot finish."""


class VersionMismatch(TransportError):
    """The server speaks no protocol version this client does (with ``era="modern"``: no
    2026-07-28 one), so no connection was made. ``offered`` lists the versions it named: the
    ``supportedVersions`` of its ``server/discover`` result, the ``supported`` of its -32022
    error (then that ``MCPError`` is the ``__cause__``), or the one it answered ``initialize``
    with (none when that was not a string)."""

    def __init__(self, message: str, offered: List[str]) -> None:
        super().__init__(message)
        self.offered = list(offered)


class SkillVerificationError(ProtocolError):
    """What a server sent for a skill is not what its entry promised (size, digest,
    frontmatter, an unlisted file): the content was not used."""


# --- the outcome of a task ----------------------------------------------------------------------

class TaskCancelled(Exception):
    """The task a call waited for ended ``cancelled`` (by us, another client, or the server)."""

    def __init__(self, task_id: str, message: Optional[str] = None) -> None:
        super().__init__(message or "task %s was cancelled" % task_id)
        self.task_id = task_id
        self.message = str(self)


# --- the server side: what handlers raise, and what unwinds them --------------------------------

class ToolError(Exception):
    """Raise in a tool to return an ``isError`` result whose text is exactly the message."""


class Cancelled(Exception):
    """Raised by ``Context.check_cancelled`` once the client has cancelled the request (and
    by the questions a cancelled request was waiting on)."""


class ArgumentError(ValueError):
    """An argument its schema let through but its parameter's type refuses: a "date-time"
    string that is no date, say (JSON Schema's "format" only annotates, so the validator
    passes it). Raised while arguments are bound, and reported as an invalid argument - the
    caller's mistake - not as the handler failing."""


class InputRequired(BaseException):
    """Unwinds a 2026-07-28 handler that needs answers the client has not given yet.

    A BaseException, so that a handler's ``except Exception`` does not swallow it (the
    same reason ``KeyboardInterrupt`` is one). ``requests`` maps keys to input requests.
    """

    def __init__(self, requests: Dict[str, Dict[str, Any]]) -> None:
        super().__init__(", ".join(requests))
        self.requests = requests


class TaskStart(BaseException):
    """Unwinds a handler that called ``ctx.start_task()`` before its call became a task; the
    task runs the handler again from the top. A BaseException, so that a handler's
    ``except Exception`` does not swallow it (as ``InputRequired``)."""


# --- what the server's own checks refuse: a bearer token, a store's tables ----------------------

class JWTError(ValueError):
    """A token that is refused, and why (for logs; never sent to the client)."""


class StoreSchemaError(RuntimeError):
    """The store's tables were made by another version of mcplite."""


# What a client call may raise, for an ``except`` that handles any failure of one.
CALL_ERRORS = (MCPError, TransportError, TaskCancelled)
