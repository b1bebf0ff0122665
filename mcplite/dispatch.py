"""One handler per MCP method, and the checks every request gets on its way in and out.

``Dispatcher.begin_call`` turns a request message into a ``Call`` (or the error that refuses
it: a method not in its era, malformed ``_meta``, an unsupported version);
``handle_request`` runs it and returns its one response. The registrations it serves are a
``Registry``; what the server says about itself (``server_info``, ``capabilities``) and its
settings come from the ``Server`` it works for. Transport-free: the transports hand it
calls, with their ``Port``.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .calls import Call, LegacySession, Request, principal_key, progress_token_of
from .context import LOG_RANK, Context
from .errors import (
    ArgumentError, Cancelled, ConnectionClosed, InputRequired, MCPError, TaskStart, ToolError, UrlElicitationRequired,
)
from .jsonrpc import (
    INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND,
    RESOURCE_NOT_FOUND, UNSUPPORTED_PROTOCOL_VERSION, Message, error_response, result_response,
)
from .logs import LazyLogger
from .ports import Port
from .protocol import (
    LATEST_LEGACY_VERSION, LEGACY_ONLY_METHODS, LEGACY_VERSIONS, LOG_LEVELS, META_CLIENT_CAPABILITIES,
    META_CLIENT_INFO, META_LOG_LEVEL, META_PROTOCOL_VERSION, META_SERVER_INFO, MODERN_ONLY_METHODS, MODERN_VERSIONS,
    SUPPORTED_VERSIONS, declares_tasks, supports,
)
from .registry import Handler, Registry, Tool, put_given, run_coroutine
from .results import completion_result, prompt_messages, resource_contents_of, tool_error, tool_result

_dispatch_log = LazyLogger("mcplite.server")
# Loaded where first needed, not at import (a server that is never asked for them pays for
# neither): asking (questions to the client, answers in inputResponses) and tracecontext
# (a traceparent received, or OpenTelemetry in use).
_MODULES = sys.modules


def _otel() -> Any:
    """``tracecontext.load_otel()``: ``opentelemetry.trace`` when the application uses it,
    else False; tracecontext is not loaded while OpenTelemetry is not even imported."""
    if "opentelemetry.trace" not in _MODULES:
        return False
    from .tracecontext import load_otel
    return load_otel()


def _modern_alternative(offered: Sequence[str]) -> str:
    """The other way to talk to a server that offers 2026-07-28 too: one request, no
    session (named in the refusal a hand-written first request meets)."""
    modern = [version for version in offered if version in MODERN_VERSIONS]
    if not modern:
        return ""
    return (", or make it a %s request: {%s: %s, %s: {}} in params._meta"
            % (modern[-1], json.dumps(META_PROTOCOL_VERSION), json.dumps(modern[-1]),
               json.dumps(META_CLIENT_CAPABILITIES)))


def _modern_meta_acceptable(meta: Any) -> bool:
    """Whether a 2026-07-28 request's ``_meta`` is one ``Dispatcher._modern_request`` accepts:
    an object with a 2026-07-28 version, the client's capabilities (an object) and, if any, a
    known log level. The one statement of these rules, asked by the general path and by the
    stdio fast path of inline tools (``Dispatcher.inline_tool_response``), so that the two
    cannot part; what each refusal says is ``_refuse_modern_meta``'s. Exact types (what JSON
    decodes to), the cheaper test: a subclass (from Python, not the wire) is left to
    ``_refuse_modern_meta``, which lets it through."""
    if type(meta) is not dict:
        return False
    level = meta.get(META_LOG_LEVEL)
    # (A tuple: ``in`` compares, so an unhashable version is an unsupported one, not a TypeError.)
    return (meta.get(META_PROTOCOL_VERSION) in MODERN_VERSIONS
            and type(meta.get(META_CLIENT_CAPABILITIES)) is dict
            and (level is None or (type(level) is str and level in LOG_RANK)))


def _refuse_modern_meta(meta: Any, offered: Sequence[str]) -> None:
    """Raise the error that says what is wrong with a 2026-07-28 request's ``_meta``, one
    ``_modern_meta_acceptable`` said no to; returns only for dict or str subclasses that the
    predicate's exact-type test refused, which are acceptable."""
    if not isinstance(meta, dict) or META_PROTOCOL_VERSION not in meta:
        # "A request missing any required field is malformed; the server MUST
        # reject it with JSON-RPC error code -32602 (Invalid params)."
        # The message says what to send: the first request a newcomer writes by hand.
        raise MCPError(INVALID_PARAMS, "Invalid params: _meta[%r] is required (a %s request carries "
                                       "{%s: %s, %s: {}} in params._meta; or send initialize first for a session)"
                       % (META_PROTOCOL_VERSION, MODERN_VERSIONS[-1], json.dumps(META_PROTOCOL_VERSION),
                          json.dumps(MODERN_VERSIONS[-1]), json.dumps(META_CLIENT_CAPABILITIES)))
    version = meta[META_PROTOCOL_VERSION]
    if version not in MODERN_VERSIONS:
        raise MCPError(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version",
                       {"supported": list(offered), "requested": version
                        if isinstance(version, str) else json.dumps(version)})
    if not isinstance(meta.get(META_CLIENT_CAPABILITIES), dict):
        raise MCPError(INVALID_PARAMS, "Invalid params: _meta[%r] is required and must be an object"
                       % META_CLIENT_CAPABILITIES)
    level = meta.get(META_LOG_LEVEL)
    if level is not None and (not isinstance(level, str) or level not in LOG_RANK):
        raise MCPError(INVALID_PARAMS, "Invalid params: unknown log level %r" % (level,))


# Results 2026-07-28 puts caching hints on (``ttlMs``, ``cacheScope``).
_CACHEABLE = frozenset((
    "server/discover", "tools/list", "prompts/list", "resources/list", "resources/templates/list",
    "resources/read",
))


def _stricter_cache_hints(result: Dict[str, Any], ttl: int, scope: str) -> Tuple[int, str]:
    """The stricter of the hints a middleware (or handler) already put on ``result`` and
    the server's own (``ttl``, ``scope``): the shorter ttlMs, "private" over "public". The
    server's are worked out after the middleware ran, so overwriting its would let a
    result it marked private be shared by other clients' caches. A value there that is not
    a valid hint (a ttlMs that is not an int >= 0, a cacheScope neither "public" nor
    "private") is the application's bug: the server's own takes its place, since "Servers
    MUST provide a ttlMs value that is >= 0" and an unknown scope cannot be sent."""
    given = result.get("ttlMs")
    if type(given) is int and 0 <= given < ttl:
        ttl = given
    if result.get("cacheScope") == "private":
        scope = "private"
    return ttl, scope


_LISTED = {"tools/list": "tools", "prompts/list": "prompts", "resources/list": "resources",
           "resources/templates/list": "templates"}


class Dispatcher:
    """Serves the requests of one ``Server``: see the module's text."""

    def cache_hints(self, call: Call) -> Tuple[int, str]:
        """(``ttlMs``, ``cacheScope``) for a complete result of a cacheable method.

        A list is no fresher than its most changeable entry, and private if any entry is,
        taken over the whole list, never the page: "Servers MUST apply the same cacheScope
        to all response pages for a given list request". A read takes the hints of the
        resource or template that served it."""
        server = self._server
        method = call.request.method
        if method in _LISTED:
            ttl = server.list_cache_ttl_ms if server.list_cache_ttl_ms is not None else server.cache_ttl_ms
            scope = server.list_cache_scope if server.list_cache_scope is not None else server.cache_scope
            if method in ("tools/list", "prompts/list"):
                entries = list(getattr(self._registry, _LISTED[method]).values())
                if entries:
                    ttl = min(ttl if e.cache_ttl_ms is None else e.cache_ttl_ms for e in entries)
                    scopes = set(scope if e.cache_scope is None else e.cache_scope for e in entries)
                    scope = "private" if "private" in scopes else "public"
            return ttl, scope
        ttl, scope = server.cache_ttl_ms, server.cache_scope
        if method == "resources/read":
            handler = self._resource_handler(call.request.params.get("uri"))
            if handler is not None:
                if handler.cache_ttl_ms is not None:
                    ttl = handler.cache_ttl_ms
                if handler.cache_scope is not None:
                    scope = handler.cache_scope
        if call.hints is not None:
            ttl = ttl if call.hints[0] is None else call.hints[0]
            scope = scope if call.hints[1] is None else call.hints[1]
        return ttl, scope

    def _resource_handler(self, uri: Any) -> Optional[Handler]:
        """The resource, or else the first template, that serves ``uri`` (as in
        ``read_resource_for``)."""
        if not isinstance(uri, str):
            return None
        resource = self._registry.resources.get(uri)
        if resource is not None:
            return resource
        for template in list(self._registry.templates.values()):
            if template.match(uri) is not None:
                return template
        return None

    def __init__(self, server: Any, registry: Registry) -> None:
        self._server = server
        self._registry = registry
        self._methods = {
            "initialize": self._initialize,
            "ping": self._ping,
            "server/discover": self._discover,
            "logging/setLevel": self._set_level,
            "tools/list": self._list_tools,
            "tools/call": self._call_tool,
            "resources/list": self._list_resources,
            "resources/templates/list": self._list_templates,
            "resources/read": self._read_resource,
            "prompts/list": self._list_prompts,
            "prompts/get": self._get_prompt,
            "subscriptions/listen": self._listen,
            "resources/subscribe": self._subscribe,
            "resources/unsubscribe": self._unsubscribe,
            "completion/complete": self._complete,
        }  # type: Dict[str, Callable[[Call], Dict[str, Any]]]
        # @app.middleware functions, outermost first; a tuple, replaced whole when one is
        # added, so a request never sees a list change under it. Empty: no cost at all.
        self.middleware = ()  # type: Tuple[Callable[..., Any], ...]
        self._custom = self._custom_method  # bound once: looked up on every request

    def methods(self) -> Any:
        """The names of the methods served (either era)."""
        return self._methods.keys()

    def begin_call(self, message: Message, port: Port, session: Optional[LegacySession] = None,
                   modern: bool = False, offered: Sequence[str] = SUPPORTED_VERSIONS,
                   headers: Optional[Dict[str, str]] = None, principal: Any = None,
                   listed: Optional[Sequence[str]] = None) -> Call:
        """Check a request against its era and build its Call, served through ``port``;
        raises MCPError when it cannot be served (bad ``_meta``, unsupported version, method
        not in this era). ``offered`` is what an unsupported version is answered with, and
        ``listed`` what server/discover lists (default: ``offered``); ``headers`` and
        ``principal`` are the HTTP request's."""
        method = message["method"]
        params = message.get("params")
        if params is None:
            params = {}
        if modern:
            request = self._modern_request(message["id"], method, params, offered, listed, headers, principal)
        else:
            request = self._legacy_request(message["id"], method, params, session, offered, headers, principal)
        return Call(self._server, request, port)

    def _modern_request(self, rid: Any, method: str, params: Dict[str, Any], offered: Sequence[str],
                        listed: Optional[Sequence[str]], headers: Optional[Dict[str, str]], principal: Any) -> Request:
        """A 2026-07-28 request: everything it needs is in its own ``_meta``."""
        meta = params.get("_meta")  # type: Any
        if not _modern_meta_acceptable(meta):
            _refuse_modern_meta(meta, offered)  # (returns for dict or str subclasses, never decoded JSON)
        version = meta[META_PROTOCOL_VERSION]
        capabilities = meta[META_CLIENT_CAPABILITIES]
        info = meta.get(META_CLIENT_INFO)
        level = meta.get(META_LOG_LEVEL)
        if method in LEGACY_ONLY_METHODS or (method not in self._methods and method not in self._registry.methods):
            raise MCPError(METHOD_NOT_FOUND, "Method not found: %s" % method)
        # (Most requests ask for no progress: no call to read a token.)
        token = progress_token_of(params) if "progressToken" in meta else None
        return Request(rid, method, params, version, True, None, capabilities, info if isinstance(info, dict) else {},
                       level, token, headers, principal, offered if listed is None else listed)

    def _legacy_request(self, rid: Any, method: str, params: Dict[str, Any], session: Optional[LegacySession],
                        offered: Sequence[str], headers: Optional[Dict[str, str]], principal: Any) -> Request:
        """A request of an ``initialize`` session: its version and the client's declarations
        are the session's."""
        if method in MODERN_ONLY_METHODS or (method not in self._methods and method not in self._registry.methods):
            raise MCPError(METHOD_NOT_FOUND, "Method not found: %s" % method)
        # (Most of a session's requests have no _meta, so no progress token: not even a call.)
        token = progress_token_of(params) if "_meta" in params else None
        if session is None or session.protocol_version is None:
            if method not in ("initialize", "ping"):
                raise MCPError(INVALID_REQUEST, "Invalid request: the session is not initialized; send initialize "
                                                "first" + _modern_alternative(offered))
            return Request(rid, method, params, LATEST_LEGACY_VERSION, False, session, {}, {}, None,
                           token, headers, principal, offered)
        return Request(rid, method, params, session.protocol_version, False, session, session.client_capabilities,
                       session.client_info, None, token, headers, principal, offered)

    def handle_request(self, call: Call) -> Optional[Message]:
        """Run one request; the response message, or None when the request was cancelled."""
        # W3C trace context (SEP-414): only a request that carries a traceparent, or a process
        # whose application uses OpenTelemetry, pays more than these lookups.
        otel = _otel()
        meta = call.request.params.get("_meta")
        if otel is not False or (isinstance(meta, dict) and "traceparent" in meta):
            from .tracecontext import serve_traced
            return serve_traced(call, meta, otel, self._handle_request)
        return self._handle_request(call)

    def _handle_request(self, call: Call) -> Optional[Message]:
        try:
            if call.request.modern:
                try:
                    params = call.request.params
                    if "inputResponses" in params or "requestState" in params:
                        # (Only these: load_answers does nothing for a request with neither.)
                        from .asking import load_answers
                        load_answers(call)
                    result = self._serve(call) if self.middleware else self._methods.get(
                        call.request.method, self._custom)(call)
                except InputRequired as needed:
                    # The handler asked what the client has not answered yet: this round
                    # ends here (see the asking module).
                    from .asking import input_required_result
                    result = input_required_result(call, needed.requests)
                except UrlElicitationRequired as exc:
                    from .asking import url_elicitation_round
                    result = url_elicitation_round(call, exc)
                kind = self._stamp_modern(result, call.request.version)
                # "Servers MUST include caching hints on results with resultType: "complete"
                # returned by" these; interim input_required ones "carry no caching hints".
                if (kind == "complete" and call.request.method in _CACHEABLE
                        and supports(call.request.version, "cache_hints")):
                    result["ttlMs"], result["cacheScope"] = _stricter_cache_hints(result, *self.cache_hints(call))
            else:
                result = self._serve(call) if self.middleware else self._methods.get(
                    call.request.method, self._custom)(call)
            response = result_response(call.request.id, result)
        except (Exception, SystemExit) as exc:
            # SystemExit too: argparse in a handler calls sys.exit(), and the request
            # still needs its one response.
            response = self._failure_response(call.request.id, call.request.method, exc)
        finally:
            call.finished = True
        if call.cancelled:
            return None
        return response

    def _stamp_modern(self, result: Dict[str, Any], version: str) -> str:
        """What every 2026-07-28 result carries (its resultType, the server's info in
        ``_meta``), added to ``result``; its resultType."""
        kind = result.setdefault("resultType", "complete")
        meta = result.get("_meta")
        if meta is None:
            meta = result["_meta"] = {}
        meta[META_SERVER_INFO] = self._server.server_info(version)
        return kind  # type: ignore[no-any-return]

    def _failure_response(self, rid: Any, method: str, exc: BaseException) -> Message:
        """The error response of a request whose serving raised ``exc`` (called in the except
        block, so that the log has the traceback)."""
        if isinstance(exc, MCPError):
            return error_response(rid, exc)
        if isinstance(exc, ConnectionClosed):
            # The client went while a handler asked it something: nobody is left to read
            # this answer, and nothing went wrong here.
            return error_response(rid, MCPError(INTERNAL_ERROR, "Internal error: the connection closed"))
        _dispatch_log.exception("internal error while handling %s (id %r)", method, rid)
        return error_response(rid, MCPError(INTERNAL_ERROR, "Internal error"))

    def inline_tool_response(self, rid: Any, params: Dict[str, Any], tool: Tool,
                             session_version: Optional[str], port: Port) -> Optional[Message]:
        """The response to a ``tools/call`` of ``tool``, an ``inline=True`` tool (the one
        ``params`` names), in its common shape,
        made without the layers it cannot use: no Request or Call (the tool takes no
        Context, so nothing else reads them), no middleware (there is none), no trace
        context (none sent, OpenTelemetry not in use). Half the Python calls of the
        general path, on the stdio reading thread.

        ``session_version``: the legacy session's protocol version, or None for a
        2026-07-28 request (its version is in its ``_meta``). None is returned for anything
        else: a request the general path would refuse, arguments that fail validation, a
        progress token, answers to questions... The general path serves those, so each
        error is made by one piece of code. What is returned is what the general path
        would answer, byte for byte (tests/test_inline_tools.py compares them). ``port`` is
        the connection's, for the Call a 2026-07-28 question needs (below)."""
        if self.middleware or _otel() is not False:
            return None
        meta = params.get("_meta")  # type: Any
        if session_version is None:
            # What _modern_request accepts (the one predicate it asks too), and nothing for
            # load_answers or serve_traced.
            if (not _modern_meta_acceptable(meta) or "progressToken" in meta or "traceparent" in meta
                    or "inputResponses" in params or "requestState" in params):
                return None
            version = meta[META_PROTOCOL_VERSION]
        elif meta is not None:
            return None
        else:
            version = session_version
        arguments = params.get("arguments")
        if arguments is None:
            arguments = {}  # (validated too: a tool with required parameters refuses it)
        elif type(arguments) is not dict:
            return None
        if tool.check_input(arguments) is not None:
            return None
        try:
            try:
                # (No Call: an inline tool is a plain function, which Tool.invoke calls without one.)
                result = self._run_tool(tool, arguments, None, version)
            except (InputRequired, UrlElicitationRequired) as needed:
                if session_version is not None:
                    raise  # (a session's -32042 error, as the general path answers it)
                # The rare 2026-07-28 question a tool raises by itself: its round needs the
                # request's Call (its capabilities, the sealed requestState's binding).
                call = Call(self._server, self._modern_request(rid, "tools/call", params, MODERN_VERSIONS, None,
                                                               None, None), port)
                from .asking import input_required_result, url_elicitation_round
                if isinstance(needed, InputRequired):
                    result = input_required_result(call, needed.requests)
                else:
                    result = url_elicitation_round(call, needed)
            if session_version is None:
                self._stamp_modern(result, version)
        except (Exception, SystemExit, InputRequired) as exc:
            # (InputRequired in a session: a handler's misuse, answered as an internal error
            # rather than left to end the reading loop.)
            return self._failure_response(rid, "tools/call", exc)
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    # -- middleware and an application's own methods ------------------------------

    def add_middleware(self, fn: Callable[..., Any]) -> None:
        self.middleware = self.middleware + (fn,)

    def _serve(self, call: Call) -> Dict[str, Any]:
        """Run ``call`` through the middleware, the first registered outermost, to its method."""
        chain = self.middleware
        method = call.request.method
        serve = self._methods.get(method, self._custom)
        context = Context(call)

        # (Type comment, not annotations: a nested def's annotations are evaluated at each
        # call of _serve, and Optional[Dict[str, Any]] is a dozen Python calls into typing.)
        def step(index, params):  # type: (int, Optional[Dict[str, Any]]) -> Dict[str, Any]
            if params is not None and params is not call.request.params:
                if not isinstance(params, dict):
                    raise TypeError("middleware passed call_next params that are not a dict: %r" % (params,))
                call.request = call.request._replace(params=params)
            if index == len(chain):
                return serve(call)
            result = chain[index](method, call.request.params, context,
                                  lambda params=None: step(index + 1, params))
            if not isinstance(result, dict):
                # The response needs a result object; a middleware that forgot to return
                # call_next's is a bug of the server's, reported as one.
                raise TypeError("middleware %s returned %r, not the result dict"
                                % (getattr(chain[index], "__name__", chain[index]), type(result).__name__))
            return result
        return step(0, None)

    def _custom_method(self, call: Call) -> Dict[str, Any]:
        """A request for one of the application's own methods (``@app.method``)."""
        handler = self._registry.methods[call.request.method]
        params = call.request.params
        if "_meta" in params:
            params = {key: value for key, value in params.items() if key != "_meta"}
        if handler.check_params is not None:
            problem = handler.check_params(params)
            if problem is not None:
                raise MCPError(INVALID_PARAMS, "Invalid params for %s: %s" % (call.request.method, problem))
        try:
            value = handler.invoke(params, call)
        except Cancelled:
            # Its response is dropped anyway ("SHOULD ... Not send a response"); no traceback
            # in the log for a client's change of mind.
            raise MCPError(INTERNAL_ERROR, "Request cancelled")
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise TypeError("method %s returned %s, not a dict (the JSON-RPC result object)"
                            % (call.request.method, type(value).__name__))
        # A copy: fields added on the way out (resultType, _meta) stay out of the caller's dict.
        return dict(value)

    def handle_notification(self, method: str, params: Any) -> bool:
        """Run the application's handler for notification ``method``, if there is one; whether
        there was. Never raises: a notification gets no answer, so a failure is only logged."""
        handler = self._registry.notifications.get(method) if self._registry.notifications else None
        if handler is None:
            return False
        if not isinstance(params, dict):
            params = {}
        elif "_meta" in params:
            params = {key: value for key, value in params.items() if key != "_meta"}
        try:
            handler(params)
        except (Exception, SystemExit):
            _dispatch_log.exception("the handler of notification %s raised", method)
        return True

    # -- method handlers -------------------------------------------------------

    def _initialize(self, call: Call) -> Dict[str, Any]:
        session = call.request.session
        if session is None:
            raise MCPError(INTERNAL_ERROR, "initialize needs a session")
        if session.protocol_version is not None:
            raise MCPError(INVALID_REQUEST, "Invalid request: the session is already initialized")
        params = call.request.params
        requested = params.get("protocolVersion")
        # "If the server supports the requested protocol version, it MUST respond with the
        # same version. Otherwise, the server MUST respond with another protocol version it
        # supports. This SHOULD be the latest version supported by the server."
        version = requested if requested in LEGACY_VERSIONS else LATEST_LEGACY_VERSION
        capabilities = params.get("capabilities")
        info = params.get("clientInfo")
        session.client_capabilities = capabilities if isinstance(capabilities, dict) else {}
        session.client_info = info if isinstance(info, dict) else {}
        session.protocol_version = version
        result = {
            "protocolVersion": version,
            "capabilities": self._server.capabilities(version, _stateful(call)),
            "serverInfo": self._server.server_info(version),
        }  # type: Dict[str, Any]
        put_given(result, "instructions", self._server.instructions)
        return result

    def _ping(self, call: Call) -> Dict[str, Any]:
        return {}

    def _discover(self, call: Call) -> Dict[str, Any]:
        result = {
            "supportedVersions": list(call.request.offered_versions),
            "capabilities": self._server.capabilities(call.request.version),
        }  # type: Dict[str, Any]
        put_given(result, "instructions", self._server.instructions)
        return result

    def _listen(self, call: Call) -> Dict[str, Any]:
        # The transports serve subscriptions/listen themselves, as a stream that outlives
        # any handler; reaching this means one that cannot.
        raise MCPError(METHOD_NOT_FOUND, "Method not found: subscriptions/listen is not available on this transport")

    def _set_level(self, call: Call) -> Dict[str, Any]:
        self._require(self._server.logging is not False, "logging", call.request.method)
        level = call.request.params.get("level")
        if not isinstance(level, str) or level not in LOG_RANK:
            raise MCPError(INVALID_PARAMS, "Invalid params: unknown log level %r; expected one of %s"
                           % (level, ", ".join(LOG_LEVELS)))
        if not _stateful(call):
            raise MCPError(INVALID_REQUEST, "Invalid Request: logging/setLevel cannot last on a stateless server "
                                            "(every request is a session of its own); log messages are not filtered")
        if call.request.session is not None:
            call.request.session.log_level = level
        return {}

    def _require(self, present: Any, what: str, method: str) -> None:
        if not present:
            # "Answer methods for undeclared capabilities with -32601."
            raise MCPError(METHOD_NOT_FOUND, "Method not found: %s (this server has no %s)" % (method, what))

    def _page(self, call: Call, key: str, items: Dict[str, Any]) -> Dict[str, Any]:
        """One page of a list result. A cursor is a sealed (list, offset) pair, so the
        server remembers nothing between pages and a made-up cursor is refused."""
        entries = list(items.values())
        start = 0
        if "cursor" in call.request.params:
            cursor = self._server.sealer.open(call.request.params["cursor"])
            if not (isinstance(cursor, list) and len(cursor) == 2 and cursor[0] == key
                    and type(cursor[1]) is int and cursor[1] >= 0):
                # "Invalid cursors SHOULD result in an error with code -32602 (Invalid params)."
                raise MCPError(INVALID_PARAMS, "Invalid params: invalid cursor %r" % (call.request.params["cursor"],))
            start = cursor[1]
        end = len(entries) if self._server.page_size is None else start + self._server.page_size
        result = {key: [entry.describe(call.request.version) for entry in entries[start:end]]}  # type: Dict[str, Any]
        if end < len(entries):
            result["nextCursor"] = self._server.sealer.seal([key, end])
        return result

    def _list_tools(self, call: Call) -> Dict[str, Any]:
        self._require(self._registry.tools, "tools", call.request.method)
        return self._page(call, "tools", self._registry.tools)

    def _list_resources(self, call: Call) -> Dict[str, Any]:
        self._require(self._registry.resources or self._registry.templates, "resources", call.request.method)
        return self._page(call, "resources", self._registry.resources)

    def _list_templates(self, call: Call) -> Dict[str, Any]:
        self._require(self._registry.resources or self._registry.templates, "resources", call.request.method)
        return self._page(call, "resourceTemplates", self._registry.templates)

    def _list_prompts(self, call: Call) -> Dict[str, Any]:
        self._require(self._registry.prompts, "prompts", call.request.method)
        return self._page(call, "prompts", self._registry.prompts)

    def _uri_param(self, call: Call) -> str:
        self._require(self._registry.resources or self._registry.templates, "resources", call.request.method)
        uri = call.request.params.get("uri")
        if not isinstance(uri, str):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"uri\" must be a string")
        return uri

    def _subscribe(self, call: Call) -> Dict[str, Any]:
        if not _stateful(call):
            raise MCPError(METHOD_NOT_FOUND, "Method not found: resources/subscribe (a stateless server has no "
                                             "session to deliver updates to)")
        uri = self._uri_param(call)
        templates = list(self._registry.templates.values())
        if uri not in self._registry.resources and not any(t.match(uri) is not None for t in templates):
            raise MCPError(RESOURCE_NOT_FOUND, "Resource not found: %s" % uri, {"uri": uri})
        session = call.request.session
        if session is not None:
            with self._registry.lock:
                if uri not in session.subscriptions and len(session.subscriptions) >= self._server.max_subscriptions:
                    raise MCPError(INVALID_PARAMS, "Invalid params: this session already has %d subscriptions "
                                                   "(the limit)" % self._server.max_subscriptions)
                session.subscriptions.add(uri)
        return {}

    def _unsubscribe(self, call: Call) -> Dict[str, Any]:
        uri = self._uri_param(call)
        if call.request.session is not None:
            with self._registry.lock:
                call.request.session.subscriptions.discard(uri)  # not subscribed: nothing to undo
        return {}

    def _complete(self, call: Call) -> Dict[str, Any]:
        self._require(self._registry.completions, "completions", call.request.method)
        params = call.request.params
        ref = params.get("ref")
        argument = params.get("argument")
        if not isinstance(ref, dict) or ref.get("type") not in ("ref/prompt", "ref/resource"):
            raise MCPError(INVALID_PARAMS, "Invalid params: ref must be {\"type\": \"ref/prompt\", \"name\"} or "
                                           "{\"type\": \"ref/resource\", \"uri\"}")
        if not (isinstance(argument, dict) and isinstance(argument.get("name"), str)
                and isinstance(argument.get("value"), str)):
            raise MCPError(INVALID_PARAMS, "Invalid params: argument must be {\"name\": string, \"value\": string}")
        name = argument["name"]
        if ref["type"] == "ref/prompt":
            target = ref.get("name")
            prompt = self._registry.prompts.get(target) if isinstance(target, str) else None
            if prompt is None:
                raise MCPError(INVALID_PARAMS, "Unknown prompt: %s" % (target,))
            if name not in prompt.parsers and not prompt.shape.var_keyword:
                raise MCPError(INVALID_PARAMS, "Prompt %s has no argument %r" % (target, name))
        else:
            target = ref.get("uri")
            template = self._registry.templates.get(target) if isinstance(target, str) else None
            if template is None:
                raise MCPError(INVALID_PARAMS, "Unknown resource template: %s" % (target,))
            if name not in template.variables:
                raise MCPError(INVALID_PARAMS, "Resource template %s has no variable %r" % (target, name))
        complete = self._registry.completions.get((ref["type"], target, name))
        if complete is None:
            return {"completion": {"values": [], "total": 0, "hasMore": False}}
        context = params.get("context")
        others = context.get("arguments") if isinstance(context, dict) else None
        try:
            value = complete(argument["value"], dict(others) if isinstance(others, dict) else {})
            if hasattr(value, "__await__"):  # an async def completion function
                value = run_coroutine(value, call)
        except MCPError:
            raise
        except (Exception, SystemExit) as exc:
            _dispatch_log.exception("completion of %s %r raised", target, name)
            raise MCPError(INTERNAL_ERROR, "Error in the completion of %r: %s" % (name, exc))
        return {"completion": completion_result(value)}

    def _call_tool(self, call: Call) -> Dict[str, Any]:
        self._require(self._registry.tools, "tools", call.request.method)
        params = call.request.params
        name = params.get("name")
        if not isinstance(name, str):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"name\" must be a string")
        tool = self._registry.tools.get(name)
        if tool is None:
            raise MCPError(INVALID_PARAMS, "Unknown tool: %s" % name)
        arguments = params.get("arguments")
        if arguments is None:
            arguments = {}
        elif not isinstance(arguments, dict):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"arguments\" must be an object")
        problem = tool.check_input(arguments)
        if problem is not None:
            # Strings standing for numbers or booleans ("3", "true"), which models often send:
            # converted when the server allows it, else named as what it would take.
            coerced = tool.coerce(arguments)
            if coerced is not arguments:
                coerced_problem = tool.check_input(coerced)
                if self._server.coerce_arguments:
                    arguments, problem = coerced, coerced_problem
                elif coerced_problem is None:
                    problem += (" (a Server(coerce_arguments=True) accepts numeric strings and \"true\"/\"false\" "
                                "for booleans)")
        if problem is not None:
            # 2025-11-25: input validation errors are tool execution errors (isError), so
            # the model can read them and correct its call.
            return tool_error("Invalid arguments for tool %s: %s" % (name, problem))
        if tool.task is not None and call.task is None:
            if call.request.modern and declares_tasks(call.request.client_capabilities):
                if tool.task_start == "call":
                    return self._start_task(tool, arguments, call)
                call.task_startable = True
                try:
                    return self._run_tool(tool, arguments, call, call.request.version)
                except TaskStart:
                    return self._start_task(tool, arguments, call)
                finally:
                    call.task_startable = False
            if tool.task == "required":
                # "If a server is unable to service a request to a client that does not
                # declare this extension capability without returning CreateTaskResult, the
                # server MUST return an error with the code -32021".
                from .asking import missing_tasks_capability
                raise missing_tasks_capability("tool %s" % name)
        return self._run_tool(tool, arguments, call, call.request.version)

    def _run_tool(self, tool: Tool, arguments: Dict[str, Any], call: Any, version: str) -> Dict[str, Any]:
        """Run a tool's function; its result for protocol ``version``, or MCPError for a
        JSON-RPC error. ``call`` is None for an inline tool (see ``inline_tool_response``)."""
        name = tool.name
        try:
            value = tool.invoke(arguments, call)
        except (MCPError, ConnectionClosed):
            raise
        except ArgumentError as exc:  # a value the parameter's type refuses (an impossible date...)
            return tool_error("Invalid arguments for tool %s: %s" % (name, exc))
        except ToolError as exc:
            return tool_error(str(exc) or "tool %s failed" % name)
        except Cancelled:
            return tool_error("cancelled")
        except (Exception, SystemExit) as exc:
            # The traceback stays in the server's log; the model reads the message only.
            _dispatch_log.exception("tool %s raised", name)
            message = str(exc)
            return tool_error("%s: %s" % (type(exc).__name__, message) if message
                                    else type(exc).__name__)
        try:
            return tool_result(tool, value, version)
        except (TypeError, ValueError) as exc:
            _dispatch_log.exception("tool %s returned a value that cannot be sent", name)
            return tool_error("Tool %s returned a value that cannot be sent as JSON: %s" % (name, exc))

    # -- a call that becomes a task (the tasks extension; the requests that poll, answer and
    # cancel a task are the extension's own methods, tasks.py, served like @app.method ones) --

    def _start_task(self, tool: Tool, arguments: Dict[str, Any], call: Call) -> Dict[str, Any]:
        """Answer ``call`` with a task, and run the tool in it on a thread of its own."""
        task_call = call.for_task()
        task = self._server.tasks.create(task_call, principal_key(call.request.principal), call.port.client)
        task_call.task = task
        if call.rounds is not None and call.rounds.answers:
            # Answers from input_required rounds before the task (task_start="handler") stand.
            task.answers.update(call.rounds.answers)
        # The seed state, taken before the handler can move the task on.
        created = self._server.tasks.created_result(task)
        thread = threading.Thread(target=self._run_task, args=(tool, arguments, task),
                                  name="mcplite-task-" + task.id[:8])
        thread.daemon = True
        try:
            thread.start()
        except RuntimeError:  # "can't start new thread": the task fails rather than hangs
            _dispatch_log.exception("no thread for task %s of tool %s", task.id, tool.name)
            self._server.tasks.finish(task, error=MCPError(INTERNAL_ERROR, "Server busy: no thread to run the task"))
        return created

    def _run_task(self, tool: Tool, arguments: Dict[str, Any], task: Any) -> None:
        call = task.call
        try:
            if call.trace is not None:
                from .tracecontext import use_trace
                with use_trace(call.trace):  # this thread's requests continue the trace too
                    result = self._run_tool(tool, arguments, call, call.request.version)
            else:
                result = self._run_tool(tool, arguments, call, call.request.version)
        except MCPError as exc:
            # "When the underlying request encounters a JSON-RPC protocol error during
            # execution, the task moves to the failed status" with that error.
            self._server.tasks.finish(task, error=exc)
        except (Exception, SystemExit, InputRequired, TaskStart):
            _dispatch_log.exception("task %s of tool %s failed", task.id, tool.name)
            self._server.tasks.finish(task, error=MCPError(INTERNAL_ERROR, "Internal error"))
        else:
            # A tool error (isError) is a result: "This status MUST NOT be used for
            # non-JSON-RPC errors, such as a tool result that completed with isError: true."
            self._server.tasks.finish(task, result)
        finally:
            call.finished = True

    def _read_resource(self, call: Call) -> Dict[str, Any]:
        return {"contents": self.read_resource_for(call, self._uri_param(call))}

    def read_resource_for(self, call: Call, uri: str) -> List[Dict[str, Any]]:
        """The contents of resource ``uri``, read on behalf of ``call`` (the
        ``resources/read`` being served, or a handler's ``ctx.read_resource``)."""
        if not isinstance(uri, str):
            raise TypeError("a resource URI is a str")
        resource = self._registry.resources.get(uri)
        if resource is not None:
            value = self._run_handler(resource, {}, call, "resource " + uri)
            if value is not None:
                return resource_contents_of(uri, value, resource.mime_type)
        else:
            for template in list(self._registry.templates.values()):
                variables = template.match(uri)
                if variables is not None:
                    arguments = {k: template.arg_parsers[k](v) if k in template.arg_parsers else v
                                 for k, v in variables.items()}
                    value = self._run_handler(template, arguments, call, "resource " + uri)
                    # A handler returns None for "no such resource" (a template matches
                    # URIs of things that may not exist).
                    if value is not None:
                        return resource_contents_of(uri, value, template.mime_type)
                    break
        if call.request.modern:
            # 2026-07-28 retires -32002: "Resource-not-found becomes -32602".
            raise MCPError(INVALID_PARAMS, "Resource not found: %s" % uri, {"uri": uri})
        raise MCPError(RESOURCE_NOT_FOUND, "Resource not found: %s" % uri, {"uri": uri})

    def _run_handler(self, handler: Handler, arguments: Dict[str, Any], call: Call, what: str) -> Any:
        try:
            return handler.invoke(arguments, call)
        except (MCPError, ConnectionClosed):
            raise
        except ArgumentError as exc:
            raise MCPError(INVALID_PARAMS, "Invalid arguments for %s: %s" % (what, exc))
        except (Exception, SystemExit) as exc:
            _dispatch_log.exception("%s raised", what)
            raise MCPError(INTERNAL_ERROR, "Error in %s: %s" % (what, exc) if str(exc)
                           else "Error in %s: %s" % (what, type(exc).__name__))

    def _get_prompt(self, call: Call) -> Dict[str, Any]:
        self._require(self._registry.prompts, "prompts", call.request.method)
        name = call.request.params.get("name")
        if not isinstance(name, str):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"name\" must be a string")
        prompt = self._registry.prompts.get(name)
        if prompt is None:
            raise MCPError(INVALID_PARAMS, "Unknown prompt: %s" % name)
        given = call.request.params.get("arguments")
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"arguments\" must be an object")
        arguments = {}
        for param in prompt.shape.params:
            if param.name in given:
                value = given[param.name]
                if not isinstance(value, str):
                    raise MCPError(INVALID_PARAMS, "Invalid argument %r: prompt arguments are strings" % param.name)
                arguments[param.name] = prompt.parsers[param.name](value)
            elif param.required:
                raise MCPError(INVALID_PARAMS, "Missing required argument %r for prompt %s" % (param.name, name))
        if prompt.shape.var_keyword:
            for key, value in given.items():
                arguments.setdefault(key, value)
        else:
            unknown = [k for k in given if k not in prompt.parsers]
            if unknown:
                raise MCPError(INVALID_PARAMS, "Unknown argument %r for prompt %s" % (unknown[0], name))
        value = self._run_handler(prompt, arguments, call, "prompt " + name)
        result = {"messages": prompt_messages(value, call.request.version)}  # type: Dict[str, Any]
        put_given(result, "description", prompt.description)
        return result


def _stateful(call: Call) -> bool:
    """Whether the session of ``call`` outlives it (not over stateless HTTP)."""
    return call.port.stateful
