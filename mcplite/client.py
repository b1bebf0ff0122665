"""The MCP client: a synchronous API over a transport, in both protocol eras.

    with Client.stdio(["python3", "server.py"]) as client:
        client.list_tools()                              # every tool, all pages
        client.call_tool("add", {"a": 1, "b": 2})        # the CallToolResult dict

One reader thread per connection matches responses to the requests waiting for them, so
one ``Client`` may be used from many threads at once. Requests the server sends us
(sampling, elicitation, roots) run on a small pool, never on the reader. Results are the
wire dicts; a JSON-RPC error raises ``MCPError`` with its code, message and data.

Eras (``era=``): "auto" (default) probes with ``server/discover`` and falls back to
``initialize`` on any answer that is not a recognised modern one, or none in
``probe_timeout`` seconds, as the 2026-07-28 stdio binding says; "modern" and "legacy"
force one. ``protocol_version=`` asks for one version exactly. A server that speaks no
version we do (of the era forced, if one is) fails the connection with ``VersionMismatch``,
which names the versions it offered.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from .channels import StdioChannel
from .clientcache import CACHED_METHODS, ResultCache, cache_option, cache_params_key
from .clientsession import ClientSession
from .errors import MCPError, ProtocolError, RequestTimeout, SessionLost, TransportError
from .jsonrpc import INVALID_PARAMS, notification
from .protocol import (
    ERA_LEGACY, ERA_MODERN, LEGACY_VERSIONS, LOG_LEVELS, MCP_REQUEST_METHODS, META_CLIENT_CAPABILITIES, MODERN_VERSIONS,
    supports,
)
from .ports import ClientChannel

# Requests of 2026-07-28 that may end a round with input_required.
_ROUND_TRIP_METHODS = frozenset(("tools/call", "prompts/get", "resources/read"))
# MCP's other requests never do; any other method may be a server's own (@app.method), which
# may ask in rounds as tools do.
_NO_ROUND_METHODS = MCP_REQUEST_METHODS - _ROUND_TRIP_METHODS
_MAX_PAGES = 10000  # a server whose cursors never end is a broken one
_MIN_CLOSE = 0.25  # the least a server that failed to connect is given to exit, s


class Client(ClientSession):
    """A connection to one MCP server. Build it with ``Client.stdio(argv)`` or
    ``Client(app)`` (an in-memory ``Server``, for tests); use it as a context manager, or
    call ``close()``.

    Handlers (each optional; the capabilities declared follow what is given):
    ``sampling(params) -> CreateMessageResult dict``, ``elicitation(params) -> ElicitResult
    dict``, ``roots``: a list of ``{"uri", "name"?}`` or a function returning one,
    ``on_log(params)``, ``on_resource_updated(uri)``, ``on_list_changed(kind)``,
    ``on_elicitation_complete(elicitation_id)`` (a 2025-11-25 server telling that the
    interaction a URL elicitation sent the user to is finished: a call it refused with
    -32042 may be tried again). ``capabilities`` adds to what is declared (``{"sampling": {"tools": {}}}``, say), and
    ``extensions`` declares client extensions (SEP-2133): ``{"com.example/search": {}}``
    goes under ``capabilities.extensions``. A server's own methods are called with
    ``request(method, params)`` and its notifications sent with ``notify``.
    A handler raising ``MCPError`` answers with that error.

    ``cache=True`` keeps list and read results (``tools/list``, ``prompts/list``,
    ``resources/list``, ``resources/templates/list``, ``resources/read``) for as long as
    their 2026-07-28 caching hints say (``ttlMs``; nothing is kept from a server that sends
    none, or in an earlier version), dropped at once by the matching ``list_changed`` or
    ``resources/updated`` notification; a ``ResultCache`` instead sets its bounds or is
    shared with other clients (only results marked ``cacheScope: "public"`` are shared).
    Default False: every call goes to the server.

    ``timeout`` is the default for every call; progress notifications push a call's
    deadline ``timeout`` further, up to ``max_timeout`` in all.

    ``trace=True`` shows every message on stderr as it crosses (over HTTP with the
    request, status, headers and SSE framing); ``trace="explain"`` adds a plain-English
    note to each; a ``Tracer`` writes where it was told (see tracing.py).

    W3C trace context (not the same thing as ``trace=``): each request carries the current
    trace in ``_meta.traceparent`` (``tracestate``, ``baggage``): inside a server's handler,
    that request's own trace, so a call to a second server continues it; elsewhere what
    ``with use_trace(...)`` set. With ``opentelemetry-api`` importable, each request also gets
    a CLIENT span (see tracecontext.py).
    """

    def __init__(self, app: Any = None, *, timeout: float = 30.0, max_timeout: Optional[float] = None,
                 era: str = "auto", protocol_version: Optional[str] = None,
                 client_info: Optional[Dict[str, Any]] = None,
                 sampling: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
                 elicitation: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None,
                 roots: Any = None, on_log: Optional[Callable[[Dict[str, Any]], Any]] = None,
                 on_resource_updated: Optional[Callable[[str], Any]] = None,
                 on_list_changed: Optional[Callable[[str], Any]] = None,
                 on_elicitation_complete: Optional[Callable[[str], Any]] = None,
                 capabilities: Optional[Dict[str, Any]] = None, probe_timeout: float = 5.0,
                 max_rounds: int = 10, tasks: bool = False, trace: Any = None,
                 extensions: Optional[Dict[str, Dict[str, Any]]] = None, cache: Any = False,
                 _channel: Optional[ClientChannel] = None, _connect_within: Optional[float] = None) -> None:
        if era not in ("auto", ERA_MODERN, ERA_LEGACY):
            raise ValueError("era must be 'auto', 'modern' or 'legacy'")
        if protocol_version is not None:
            if protocol_version in MODERN_VERSIONS:
                era = ERA_MODERN
            elif protocol_version in LEGACY_VERSIONS:
                era = ERA_LEGACY
            else:
                raise ValueError("unknown protocol version %r" % (protocol_version,))
        if extensions:
            if not isinstance(extensions, dict) or not all(
                    isinstance(name, str) and isinstance(settings, dict) for name, settings in extensions.items()):
                raise TypeError("extensions maps extension identifiers to settings dicts: {'com.example/x': {}}")
            capabilities = dict(capabilities or {})
            capabilities["extensions"] = dict(capabilities.get("extensions") or {}, **extensions)
        cache = cache_option(cache)
        tracer = None
        if trace is not None and trace is not False:
            from .tracing import make_tracer  # only a traced client pays for it
            tracer = make_tracer(trace)
        if _channel is None:
            if app is None:
                raise TypeError("Client(app) needs a Server; use Client.stdio(argv) for a server process")
            from .memory import MemoryChannel  # (only a client of a Server in this process loads the server side)
            _channel = MemoryChannel(app)
        _channel.tracer = tracer
        self.max_rounds = max_rounds
        self.cache = cache
        # Whose private results these are: this client's alone, even in a shared cache.
        self._cache_principal = object()
        super().__init__(_channel, timeout=timeout, max_timeout=max_timeout, probe_timeout=probe_timeout,
                         client_info=client_info, sampling=sampling, elicitation=elicitation, roots=roots,
                         on_log=on_log, on_resource_updated=on_resource_updated, on_list_changed=on_list_changed,
                         capabilities=capabilities, tasks=tasks)
        self.on_elicitation_complete = on_elicitation_complete
        # ``_connect_within`` (the gateway's): connecting as a whole - the probe, initialize,
        # and stopping a server that failed them - takes about that long at most, not each
        # step its own full timeout one after the other.
        started = time.monotonic()
        try:
            self._connect(era, protocol_version, _connect_within)
        except BaseException as exc:
            channel = self._channel
            garbage = channel.garbage
            if isinstance(exc, RequestTimeout) and garbage is not None:
                # The likely reason it never answered: it is no MCP server on stdio.
                exc.message += ("; the server wrote lines that are not JSON on its stdout, which a stdio server MUST "
                                "NOT (the last: %r)" % garbage.decode("utf-8", "replace").rstrip("\r\n"))
                exc.args = (exc.message,)
            grace = channel.close_timeout
            if _connect_within is not None and grace is not None:
                # What is left of the time, for a server that ignores its closed stdin to
                # exit in before SIGTERM (and as long again before SIGKILL).
                left = _connect_within - (time.monotonic() - started)
                channel.close_timeout = max(_MIN_CLOSE, min(grace, left))
            self.close()
            raise

    @classmethod
    def stdio(cls, argv: Sequence[str], env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None, *,
              capture_stderr: bool = False, max_message_bytes: int = 16 * 1024 * 1024,
              close_timeout: float = 2.0, **options: Any) -> "Client":
        """Start ``argv`` and talk to it over its stdin and stdout. ``env`` adds to this
        process's environment. On close: stdin closed, then SIGTERM, then SIGKILL, each
        after ``close_timeout`` seconds."""
        if isinstance(argv, str):
            raise TypeError("argv is a list: ['python3', 'server.py'], not a command line string")
        return cls._over(StdioChannel(argv, env, cwd, capture_stderr, max_message_bytes, close_timeout), options)

    @classmethod
    def _over(cls, channel: ClientChannel, options: Dict[str, Any]) -> "Client":
        """A client over ``channel``; the channel is closed if that fails (a mistyped
        option must not leave a server process running)."""
        try:
            return cls(_channel=channel, **options)
        except BaseException:
            channel.close()
            raise

    @classmethod
    def http(cls, url: str, headers: Optional[Dict[str, str]] = None, *, auth: Any = None,
             ssl_context: Any = None, ca_file: Optional[str] = None, proxy: Optional[str] = None,
             connect_timeout: float = 30.0, max_concurrent_requests: int = 32, **options: Any) -> "Client":
        """Talk to a Streamable HTTP endpoint (``http://127.0.0.1:8000/mcp``, say).
        ``headers`` go on every request; ``auth`` is an ``OAuth`` for a server that
        answers 401 (a fixed token can go in ``headers`` instead). ``ssl_context`` is an
        ``ssl.SSLContext`` for https (default: the system's CAs), or ``ca_file`` the CA
        bundle to trust instead. ``proxy``: an http:// proxy URL, "" for none; by
        default the environment's (``https_proxy``, ``no_proxy``, ...). ``connect_timeout``
        bounds connecting and writing a request (and sending a notification); the wait for an
        answer is the call's ``timeout``. ``max_concurrent_requests``: how many requests
        are carried at once, each on its own connection (default 32); a call beyond that,
        from another thread, waits for one to end (its ``timeout`` counts meanwhile) -
        the session's GET stream is not one of them."""
        if (isinstance(max_concurrent_requests, bool) or not isinstance(max_concurrent_requests, int)
                or max_concurrent_requests < 1):
            raise ValueError("max_concurrent_requests must be a positive int, not %r" % (max_concurrent_requests,))
        from .httpclient import HttpChannel, LegacySseChannel  # only a client of HTTP pays for http.client
        if ca_file is not None:
            if ssl_context is not None:
                raise ValueError("give ssl_context or ca_file, not both")
            import ssl
            ssl_context = ssl.create_default_context(cafile=ca_file)
        channel = HttpChannel(url, headers, ssl_context, connect_timeout, max_concurrent_requests, proxy=proxy,
                              auth=auth)
        try:
            return cls._over(channel, options)
        except (MCPError, TransportError):
            if channel.initialize_refused is None or options.get("era") == ERA_MODERN:
                raise
        # The server refused initialize with 400/404/405: an old HTTP+SSE server, maybe.
        return cls._over(LegacySseChannel(url, headers, ssl_context, connect_timeout, proxy=proxy, auth=auth,
                                          max_streams=max_concurrent_requests), dict(options, era=ERA_LEGACY))

    # -- context manager ------------------------------------------------------------

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the API ----------------------------------------------------------------------

    def list_tools(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        return self._channel.usable_tools(self._list_all("tools/list", "tools", timeout))

    def call_tool(self, name: str, arguments: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None,
                  progress: Optional[Callable[[float, Optional[float], Optional[str]], Any]] = None,
                  wait: bool = True, task: Optional[bool] = None) -> Dict[str, Any]:
        """The ``CallToolResult`` (an ``isError`` result is returned, not raised).
        ``progress(progress, total, message)`` is called for each progress notification.
        A tool the server runs as a task (2026-07-28, with ``Client(tasks=True)`` or
        ``task=True`` for this call alone) is waited for, unless ``wait=False``: then its
        CreateTaskResult is returned, for ``wait_task(taskId)`` or ``cancel_task(taskId)``."""
        params = {"name": name}  # type: Dict[str, Any]
        if arguments is not None:
            params["arguments"] = arguments
        if task is not None and task != self.tasks and self.era == ERA_MODERN:
            # The extension is declared request by request: "regardless of prior declarations".
            params["_meta"] = {META_CLIENT_CAPABILITIES: self.capabilities_with_tasks(task)}
        return self.request("tools/call", params, timeout=timeout, progress=progress, wait=wait)

    def wait_task(self, task_id: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Wait for a task to end and return the tool's result: polls ``tasks/get``,
        answers its questions through the handlers, gives up (``tasks/cancel``, then
        ``RequestTimeout``) after ``timeout`` seconds in which the task did not change.
        A task that failed raises its error, one that was cancelled ``TaskCancelled``."""
        from .taskwait import await_task
        return await_task(self, {"taskId": task_id, "status": "working"}, timeout)

    def cancel_task(self, task_id: str, timeout: Optional[float] = None) -> None:
        """Ask the server to cancel a task (``tasks/cancel``; the task may still end
        otherwise if it was about to)."""
        from .taskwait import cancel_task
        cancel_task(self, task_id, timeout, quiet=False)

    def list_resources(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        return self._list_all("resources/list", "resources", timeout)

    def list_resource_templates(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        return self._list_all("resources/templates/list", "resourceTemplates", timeout)

    def read_resource(self, uri: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        return self.request("resources/read", {"uri": uri}, timeout=timeout)

    def list_skills(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """The skill entries of a server that declares the Skills extension (SEP-2640): each
        ``{"uri", "frontmatter", "resources"}``, every page. Nothing is fetched beyond the
        listing ("Hosts MUST NOT retrieve a skill's files ahead of need"): ``load_skill``
        fetches one. ProtocolError if the server does not declare the extension."""
        self._require_skills()
        return self._list_all("skills/list", "skills", timeout)

    def get_skill(self, uri: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """The entry of the skill whose SKILL.md is ``uri`` (``skills/get``); MCPError
        -32602 when the server serves no such skill."""
        self._require_skills()
        skill = self.request("skills/get", {"uri": uri}, timeout=timeout).get("skill")
        if not isinstance(skill, dict) or skill.get("uri") != uri:
            raise ProtocolError("the server's skills/get result has no skill entry for %s" % uri)
        return skill

    def load_skill(self, skill: Any, allow_unverified: bool = False, timeout: Optional[float] = None) -> Any:
        """Load a skill: ``skill`` is an entry from ``list_skills`` / ``get_skill``, or a
        SKILL.md URI (its entry is fetched with ``skills/get``). Its SKILL.md is read and
        verified against the entry - size, sha256 digest, and the frontmatter field by field
        - and a ``Skill`` returned, whose ``read(path)`` reads the skill's other files on
        demand, each verified the same way. Any mismatch, or a file the entry does not
        list, raises ``SkillVerificationError`` (a ProtocolError) and the content is not
        used. An entry without digests (``"resources": "dynamic"``) is refused unless
        ``allow_unverified=True``."""
        from .skills import load_skill
        entry = self.get_skill(skill, timeout) if isinstance(skill, str) else skill
        return load_skill(self, entry, allow_unverified=allow_unverified, timeout=timeout)

    def read_directory(self, uri: str, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """The children of a directory resource (``resources/directory/read`` of the Skills
        extension, every page): files as Resource objects, subdirectories with mimeType
        ``inode/directory``. ProtocolError unless the server declares ``directoryRead``."""
        from .skills import read_directory
        return read_directory(self, uri, timeout)

    def _require_skills(self) -> None:
        from .skills import SKILLS_EXTENSION
        if SKILLS_EXTENSION not in (self.server_capabilities.get("extensions") or {}):
            # The methods are the extension's: a server that does not declare it has made no
            # promise to answer them.
            raise ProtocolError("the server does not declare the %s extension" % SKILLS_EXTENSION)

    def list_prompts(self, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        return self._list_all("prompts/list", "prompts", timeout)

    def get_prompt(self, name: str, arguments: Optional[Dict[str, str]] = None,
                   timeout: Optional[float] = None) -> Dict[str, Any]:
        params = {"name": name}  # type: Dict[str, Any]
        if arguments is not None:
            params["arguments"] = arguments
        return self.request("prompts/get", params, timeout=timeout)

    def complete(self, ref: Dict[str, Any], argument: str, value: str,
                 arguments: Optional[Dict[str, str]] = None, timeout: Optional[float] = None) -> Dict[str, Any]:
        """``completion/complete`` for one argument of ``ref`` (``{"type": "ref/prompt",
        "name": ...}`` or ``{"type": "ref/resource", "uri": ...}``); the ``completion``
        object (``values``, ``total``?, ``hasMore``?)."""
        params = {"ref": ref, "argument": {"name": argument, "value": value}}  # type: Dict[str, Any]
        if arguments:
            params["context"] = {"arguments": arguments}
        return self.request("completion/complete", params, timeout=timeout)["completion"]

    def ping(self, timeout: Optional[float] = None) -> None:
        """Check the server answers: ``ping`` in a session; 2026-07-28 has no ping, so a
        ``server/discover`` stands in."""
        if self.era == ERA_MODERN:
            self.request("server/discover", {}, timeout=timeout)
        else:
            self.request("ping", None, timeout=timeout)

    def set_log_level(self, level: str, timeout: Optional[float] = None) -> None:
        """The lowest level of ``notifications/message`` wanted (to ``on_log``): in a
        session ``logging/setLevel``; in 2026-07-28 part of every later request."""
        if level not in LOG_LEVELS:
            raise ValueError("unknown log level %r; use one of %s" % (level, ", ".join(LOG_LEVELS)))
        if self.era == ERA_MODERN:
            self.log_level = level
        else:
            self.request("logging/setLevel", {"level": level}, timeout=timeout)
            self.log_level = level

    def subscribe(self, uri: str, timeout: Optional[float] = None) -> None:
        """Hear of changes to ``uri`` (``on_resource_updated``): ``resources/subscribe`` in
        a session, a ``subscriptions/listen`` stream in 2026-07-28."""
        if self.era == ERA_MODERN:
            with self._lock:
                self._subscriptions.add(uri)
            self._relisten(timeout)
        else:
            self.request("resources/subscribe", {"uri": uri}, timeout=timeout)
            with self._lock:
                self._subscriptions.add(uri)

    def unsubscribe(self, uri: str, timeout: Optional[float] = None) -> None:
        if self.era == ERA_MODERN:
            with self._lock:
                self._subscriptions.discard(uri)
            self._relisten(timeout)
        else:
            self.request("resources/unsubscribe", {"uri": uri}, timeout=timeout)
            with self._lock:
                self._subscriptions.discard(uri)

    def notify_roots_changed(self) -> None:
        """Tell a session's server the roots changed (2026-07-28 servers ask each time)."""
        if self.era == ERA_LEGACY:
            self._send(notification("notifications/roots/list_changed"))

    def notify(self, method: str, params: Optional[Dict[str, Any]] = None) -> None:
        """Send a notification (one of an extension's: a server handles it with
        ``@app.notification``). Nothing comes back, not even an error."""
        self._send(notification(method, dict(params) if params is not None else None))

    def request(self, method: str, params: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None,
                progress: Optional[Callable[..., Any]] = None, wait: bool = True) -> Dict[str, Any]:
        """Send any request and return its result. In 2026-07-28 the ``_meta`` envelope is
        added, ``input_required`` rounds are answered through the handlers and retried
        (at most ``max_rounds`` times), and a task the server created is waited for
        (unless ``wait=False``; see ``wait_task``). With ``Client(cache=...)``, a list or
        read request may be answered from the cache."""
        params = dict(params) if params else {}
        cache = self.cache
        if (cache is not None and method in CACHED_METHODS and self.protocol_version is not None
                and supports(self.protocol_version, "cache_hints")):
            params_key = cache_params_key(method, params)
            if params_key is not None:
                return self._cached(cache, method, params, params_key, timeout, progress, wait)
        return self._request(method, params, timeout, progress, wait)

    def _cached(self, cache: ResultCache, method: str, params: Dict[str, Any], params_key: str,
                timeout: Optional[float], progress: Optional[Callable[..., Any]], wait: bool) -> Dict[str, Any]:
        """``request`` through the cache: a fresh result kept, else the server's, kept if
        its hints say so and it came in one round."""
        origin = self._channel.cache_origin()
        result = cache.get(origin, self._cache_principal, method, params_key)
        if result is not None:
            return result
        generation = cache.generation(origin)
        # Freshness counts from the request's sending, a little before "t_received": never
        # fresh for longer than the server said.
        sent = cache.now()
        rounds = []  # type: List[int]
        result = self._request(method, params, timeout, progress, wait, rounds)
        # A result that took rounds answered a request "carrying inputResponses or
        # requestState", and those "MUST NOT be cached".
        if not rounds:
            cache.put(origin, self._cache_principal, method, params_key, result, generation, sent)
        return result

    def _request(self, method: str, params: Dict[str, Any], timeout: Optional[float],
                 progress: Optional[Callable[..., Any]], wait: bool,
                 rounds_taken: Optional[List[int]] = None) -> Dict[str, Any]:
        if self.era != ERA_MODERN:
            try:
                return self._call(method, params, timeout, progress)
            except SessionLost as lost:
                # Only this request's own loss: the server never ran it, so it is sent again
                # in a new session (one that another thread may have started already).
                self._renew_session(lost.generation)
                return self._call(method, params, timeout, progress)
        if method in _NO_ROUND_METHODS:
            return self._call(method, params, timeout, progress)
        for rounds in range(self.max_rounds + 1):
            result = self._call(method, params, timeout, progress)
            if result.get("resultType") == "task" and wait:
                from .taskwait import await_task
                return await_task(self, result, timeout)
            if result.get("resultType") != "input_required":
                return result
            if rounds == self.max_rounds:
                break  # no question is asked whose answer would never be sent
            if rounds_taken is not None:
                rounds_taken.append(rounds)
            params = dict(params)
            requests = result.get("inputRequests") or {}
            if not isinstance(requests, dict):
                raise ProtocolError("the server sent inputRequests that are not an object")
            params["inputResponses"] = {key: self._answer_input(entry) for key, entry in requests.items()}
            if "requestState" in result:
                params["requestState"] = result["requestState"]
            else:
                params.pop("requestState", None)
        raise ProtocolError("%s still needed input after %d rounds" % (method, self.max_rounds))

    def _list_all(self, method: str, key: str, timeout: Optional[float]) -> List[Dict[str, Any]]:
        items = []  # type: List[Dict[str, Any]]
        params = {}  # type: Dict[str, Any]
        seen = set()  # type: set
        restarted = False
        for _ in range(_MAX_PAGES):
            try:
                result = self.request(method, params, timeout=timeout)
            except MCPError as exc:
                # A cursor from a cached page the server no longer takes: "the client SHOULD
                # discard all cached pages and re-fetch from the beginning" (once).
                if self.cache is None or restarted or "cursor" not in params or exc.code != INVALID_PARAMS:
                    raise
                self.cache.drop_method(self._channel.cache_origin(), method)
                restarted = True
                items, params, seen = [], {}, set()
                continue
            page = result.get(key)
            if not isinstance(page, list):
                raise ProtocolError("the server's %s result has no %r list" % (method, key))
            items.extend(page)
            cursor = result.get("nextCursor")
            if cursor is None:
                return items
            if not isinstance(cursor, str) or cursor in seen:
                raise ProtocolError("the server's %s cursors loop or are not strings" % method)
            seen.add(cursor)
            params = {"cursor": cursor}
        raise ProtocolError("the server's %s never ends (more than %d pages)" % (method, _MAX_PAGES))
