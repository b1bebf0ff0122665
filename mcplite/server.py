"""The MCP server: what a program builds and runs - ``Server``, its decorators and settings.

A ``Server`` keeps its registrations in a ``Registry`` (registry.py) and serves requests
through a ``Dispatcher`` (dispatch.py), one handler per MCP method; what handlers return
becomes wire results in results.py. Transport-free: a transport hands ``begin_call`` a
request message with its ``Port`` and ``handle_request`` the call, and gets the response;
``connection.ServerConnection`` adds what every message-stream transport needs on top (parse
errors, the era decision, cancellation, batches, the worker pool).
"""

from __future__ import annotations

import re
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from .calls import Call, LegacySession
from .context import Context
from .dispatch import Dispatcher
from .errors import MCPError
from .jsonrpc import Message
from .logs import LazyLogger
from .ports import ChangeListener, Port
from .protocol import (
    EXTENSION_ID, FEATURES_OF, MODERN_VERSIONS, SUPPORTED_VERSIONS, TASKS_EXTENSION, check_cache_hints, supports,
)
from .registry import (Prompt, Registry, Resource, ResourceTemplate, Tool, is_async_function,
                       put_given)

_server_log = LazyLogger("mcplite.server")


class _StoreRelay(ChangeListener):
    """Publishes the changes made in this process to a shared store, for the listeners held
    by the other workers."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def list_changed(self, kind: str) -> None:
        self._publish("list", kind)

    def resource_updated(self, uri: str) -> None:
        self._publish("resource", uri)

    def _publish(self, kind: str, detail: str) -> None:
        try:
            self.store.publish(kind, detail, self.store.worker)
        except MCPError:
            # (The store logged why.) The change stands here; the other workers miss it.
            _server_log.error("mcplite: a change (%s %s) could not be told to the other workers", kind, detail)


class Server:
    """An MCP server: register tools, resources and prompts, then ``run()`` it.

    ``cache_ttl_ms`` and ``cache_scope`` are the caching hints 2026-07-28 puts on list,
    read and discover results (``ttlMs``, ``cacheScope``). The default, 0 ms and
    "private", promises nothing a server with changing or per-user data would break.
    ``list_cache_ttl_ms`` and ``list_cache_scope`` (None: the same as those) are the defaults
    of the four list results alone, whose contents often change less than what a resource
    reads. A tool, prompt, resource or template may give its own (``cache_ttl_ms=``,
    ``cache_scope=`` on its decorator): a tool's or prompt's qualifies the list that holds it
    (the list's ``ttlMs`` is the shortest of its entries', its ``cacheScope`` "private" if
    any entry's is), a resource's or template's the ``resources/read`` results it makes.
    Sent in 2026-07-28 only: no earlier version defines these fields. A middleware may put
    stricter ones on a result itself (a smaller ``ttlMs``, ``cacheScope`` "private"): the
    stricter of its and the server's are sent.

    ``page_size`` splits the four list results into pages of that many items with opaque
    cursors (default None: one page; some clients never follow cursors).
    ``client_request_timeout`` (seconds) bounds how long a legacy-era handler waits for
    the client's answer to ``ctx.elicit``/``sample``/``roots``. ``state_secret`` (bytes)
    keys the seals on 2026-07-28 ``requestState`` values and on cursors (default: random
    per process; give every process behind one endpoint the same one), and
    ``input_state_ttl`` is how many seconds a ``requestState`` stays good. ``state_keys`` is
    a key ring instead of the one secret: ``[newest, older, ...]``, sealing with the first
    and opening with any, so a key rotates without breaking the cursors and
    ``requestState`` values in flight (put the new key first; drop the old one once
    ``input_state_ttl`` has passed).

    ``store``: the state several worker processes behind one endpoint share (stores.py:
    ``SqliteStore(path)`` on one machine, ``SqlStore(connect)`` over any DB-API driver):
    tasks, created on one worker and polled, answered or cancelled on any, and change
    notifications, a tool added or a resource updated on one worker reaching the streams
    held by the others. Default None: this process's memory, as fast as ever.

    The tasks extension (tools registered with ``task=``): at most ``max_tasks`` tasks are
    kept at once (one more is refused with -32603 "Server busy"), each for ``task_ttl``
    seconds from its creation - its ``ttlMs`` - finished or not: a task still running then
    is cancelled, and every task is forgotten (never earlier). ``task_poll_interval_ms`` is
    the ``pollIntervalMs`` suggested to clients (None: none). ``max_tasks_per_client``
    (default: a quarter of ``max_tasks``, at least 2) bounds one client's (an HTTP client's
    address or token holder, a stdio client): at it, its own task whose end was delivered
    longest ago makes room, else it is refused, so no client can fill the store.

    Tool arguments are validated strictly against the input schema. ``coerce_arguments=True``
    also accepts, for an argument the schema refuses, a string that spells the integer,
    number or boolean wanted exactly as JSON would ("3", "-2.5", "true"; not "3.5" for an
    integer, "1e400", " 3" or "True") and passes the function the converted value.

    ``logging`` says whether the ``logging`` capability is declared, which 2026-07-28
    deprecates ("New implementations SHOULD NOT adopt it"). None (the default): always in
    the ``initialize`` era, as before, and in ``server/discover`` only while some handler
    or middleware takes a Context (the only way to send a log message). True: always.
    False: never, and ``ctx.log`` then sends nothing (and ``logging/setLevel`` is answered
    -32601): "Servers that emit log message notifications MUST declare the logging
    capability".
    """

    def __init__(self, name: str, version: str = "0.1.0", instructions: Optional[str] = None, *,
                 title: Optional[str] = None, description: Optional[str] = None,
                 website_url: Optional[str] = None, icons: Optional[List[Dict[str, Any]]] = None,
                 cache_ttl_ms: int = 0, cache_scope: str = "private",
                 list_cache_ttl_ms: Optional[int] = None, list_cache_scope: Optional[str] = None,
                 max_workers: int = 16,
                 page_size: Optional[int] = None, client_request_timeout: float = 300.0,
                 state_secret: Optional[bytes] = None, input_state_ttl: int = 600,
                 max_subscriptions: int = 1000, max_tasks: int = 1000, task_ttl: float = 3600.0,
                 task_poll_interval_ms: Optional[int] = 1000, max_tasks_per_client: Optional[int] = None,
                 coerce_arguments: bool = False, logging: Optional[bool] = None,
                 state_keys: Optional[Sequence[bytes]] = None, store: Any = None) -> None:
        if cache_scope not in ("public", "private"):
            raise ValueError("cache_scope must be 'public' or 'private'")
        if not isinstance(cache_ttl_ms, int) or cache_ttl_ms < 0:
            raise ValueError("cache_ttl_ms must be an integer >= 0")
        check_cache_hints("Server", list_cache_ttl_ms, list_cache_scope)
        if page_size is not None and (not isinstance(page_size, int) or page_size < 1):
            raise ValueError("page_size must be None or an integer >= 1")
        if not client_request_timeout > 0:
            raise ValueError("client_request_timeout must be > 0")
        if not isinstance(max_tasks, int) or max_tasks < 1:
            raise ValueError("max_tasks must be an integer >= 1")
        if not task_ttl >= 0.001:
            raise ValueError("task_ttl must be at least 0.001 (seconds)")
        if task_poll_interval_ms is not None and (not isinstance(task_poll_interval_ms, int)
                                                  or task_poll_interval_ms < 1):
            raise ValueError("task_poll_interval_ms must be None or an integer >= 1")
        # The tasks extension's store: one per server, since 2026-07-28 requests share nothing;
        # made when first needed (a server that runs no task never loads tasks.py).
        if max_tasks_per_client is not None and (not isinstance(max_tasks_per_client, int)
                                                 or max_tasks_per_client < 1):
            raise ValueError("max_tasks_per_client must be None or an integer >= 1")
        self._task_settings = (max_tasks, task_ttl, task_poll_interval_ms, max_tasks_per_client)
        self._task_store = None  # type: Any   # a tasks.TaskStore, once made
        self._task_lock = threading.Lock()
        self.page_size = page_size
        self.client_request_timeout = client_request_timeout
        # What seals cursors and requestState: made here when keys are given (checked here),
        # else on first use with a key drawn then, so that a server that pages nothing and
        # asks no 2026-07-28 question never loads the sealing module.
        self._sealer = None  # type: Any   # a sealing.Sealer, once made
        self._sealer_lock = threading.Lock()
        if state_secret is not None or state_keys is not None:
            from .sealing import Sealer
            self._sealer = Sealer(state_secret, state_keys)
        if store is not None:
            from .stores import Store
            if not isinstance(store, Store):
                raise TypeError("store must be a Store (MemoryStore, SqliteStore, SqlStore)")
        # The state several worker processes share (stores.py); None: this process's memory.
        self.store = store  # type: Any
        self._sharing = False
        # Shown each listen stream before it is acknowledged (a mount's: the resources of its
        # templates it names are held, within its client's share of the upstream
        # subscriptions, and those beyond it withheld from the acknowledgment). A stream
        # screened is removed (remove_listener) whatever happens next.
        self._listener_screens = []  # type: List[Callable[[Any], None]]
        # Told of each listener removed (a session or listen stream ended: a mount releases the
        # upstream subscriptions it held for it).
        self._listener_end_hooks = []  # type: List[Callable[[ChangeListener], None]]
        # The gateway's (gateway.py, the layer above, fills them: Server.mount): the mounts
        # (None until the first, which installs the gateway's middleware), and whether the
        # mounts' skills are served here.
        self._gateway_mounts = None  # type: Optional[List[Any]]
        self._gateway_skills = False
        self.input_state_ttl = input_state_ttl
        self.max_subscriptions = max_subscriptions
        self.coerce_arguments = bool(coerce_arguments)  # read by Dispatcher._call_tool
        if logging not in (None, True, False):
            raise ValueError("logging must be None, True or False")
        self.logging = logging  # type: Optional[bool]
        self._extensions = {}  # type: Dict[str, Dict[str, Any]]   # add_extension's, by identifier
        self._skill_catalog = None  # type: Any   # a skills.SkillCatalog, from the first skill served
        self.name = name
        self.version = version
        self.instructions = instructions
        self.title = title
        self.description = description
        self.website_url = website_url
        self.icons = icons
        self.cache_ttl_ms = cache_ttl_ms
        self.cache_scope = cache_scope
        self.list_cache_ttl_ms = list_cache_ttl_ms
        self.list_cache_scope = list_cache_scope
        self.max_workers = max_workers
        self.registry = Registry()
        self._dispatcher = Dispatcher(self, self.registry)
        # What a transport calls for every request goes straight to the dispatcher's method,
        # bound once here: the facade's method of that name only calls through, a Python call
        # more per request. A subclass that overrides one keeps its override, and so does a
        # patch of the class made before the server is built (compared with the functions
        # this module defined, not with whatever Server holds now).
        own = _OWN_METHODS
        for name in ("begin_call", "handle_request", "inline_tool_response"):
            if getattr(type(self), name) is own[name]:
                setattr(self, name, getattr(self._dispatcher, name))
        # Whether a transport must ask runs_inline about every tools/call: only while an
        # inline=True tool is registered (Registry.inline_tools), unless the application's
        # own rule replaces the method (a subclass, or a patch of the class).
        self.inline_rule_own = type(self).runs_inline is not own["runs_inline"]  # type: bool

    # -- registration ------------------------------------------------------

    def tool(self, name: Optional[str] = None, *, title: Optional[str] = None,
             description: Optional[str] = None, annotations: Optional[Dict[str, Any]] = None,
             output_schema: Optional[Dict[str, Any]] = None, structured_output: Optional[bool] = None,
             icons: Optional[List[Dict[str, Any]]] = None, meta: Optional[Dict[str, Any]] = None,
             input_schema: Optional[Dict[str, Any]] = None, task: Optional[str] = None,
             task_start: str = "call", cache_ttl_ms: Optional[int] = None,
             cache_scope: Optional[str] = None, inline: bool = False,
             ui: Union[None, str, Dict[str, Any]] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a tool. The name defaults to the function's, the description to its
        docstring; the input schema comes from the parameters' type hints (or is given
        whole as ``input_schema``, then published exactly as written) and the output schema
        from the return annotation (``structured_output=False`` turns that off).

        ``task`` opts the tool in to the tasks extension (2026-07-28): ``"optional"`` - a
        call from a client that declared the extension is answered with a task at once and
        the function runs on a thread of its own, others are served as usual;
        ``"required"`` - as optional, but a client without the extension gets error
        -32021. ``task_start="handler"`` lets the function decide instead: the call stays
        an ordinary request until it calls ``ctx.start_task()``.

        ``cache_ttl_ms`` / ``cache_scope``: this tool's part in the ``tools/list`` caching
        hints (see ``Server``); a call's result is never cacheable.

        ``inline=True`` declares the tool quick: over stdio its calls are served on the
        thread that reads the requests instead of being handed to a worker thread (about
        1.5x the calls/s of a sequential client). While it runs nothing else is read -
        not ``ping``, not a cancellation, not an answer another handler awaits - so it is
        for a tool that returns in well under a millisecond and never blocks (no I/O, no
        locks held by others). Only for a plain function without a Context parameter and
        without ``task``: TypeError otherwise. With middleware registered the calls go to
        the worker pool all the same (a middleware may wait).

        ``ui`` links the tool to an MCP Apps view (``io.modelcontextprotocol/ui``): a
        ``ui://`` URI registered with ``ui_resource``, or the whole ``_meta.ui`` object
        (``{"resourceUri": "ui://...", "visibility": ["app"]}``). It goes in the tool's
        ``_meta`` (protocol versions from 2025-06-18, which have ``_meta`` on tools), and
        the server declares the extension."""
        if callable(name):
            raise TypeError("use @app.tool() with parentheses")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.add_tool(fn, name=name, title=title, description=description, annotations=annotations,
                          output_schema=output_schema, structured_output=structured_output,
                          icons=icons, meta=meta, input_schema=input_schema, task=task, task_start=task_start,
                          cache_ttl_ms=cache_ttl_ms, cache_scope=cache_scope, inline=inline, ui=ui)
            return fn
        return register

    def resource(self, uri: str, *, name: Optional[str] = None, title: Optional[str] = None,
                 description: Optional[str] = None, mime_type: Optional[str] = None,
                 size: Optional[int] = None, annotations: Optional[Dict[str, Any]] = None,
                 icons: Optional[List[Dict[str, Any]]] = None, meta: Optional[Dict[str, Any]] = None,
                 cache_ttl_ms: Optional[int] = None,
                 cache_scope: Optional[str] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a resource. A URI with ``{variables}`` registers a resource template
        whose variables are passed to the function by name. ``cache_ttl_ms`` /
        ``cache_scope``: the caching hints of the ``resources/read`` results it makes
        (default: the server's)."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.registry.add_resource(fn, uri, name=name, title=title, description=description,
                              mime_type=mime_type, size=size, annotations=annotations, icons=icons, meta=meta,
                              cache_ttl_ms=cache_ttl_ms, cache_scope=cache_scope)
            return fn
        return register

    def prompt(self, name: Optional[str] = None, *, title: Optional[str] = None,
               description: Optional[str] = None, icons: Optional[List[Dict[str, Any]]] = None,
               meta: Optional[Dict[str, Any]] = None, cache_ttl_ms: Optional[int] = None,
               cache_scope: Optional[str] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a prompt; its parameters become the prompt's arguments.
        ``cache_ttl_ms`` / ``cache_scope``: its part in the ``prompts/list`` caching hints."""
        if callable(name):
            raise TypeError("use @app.prompt() with parentheses")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.registry.add_prompt(fn, name=name, title=title, description=description, icons=icons, meta=meta,
                                     cache_ttl_ms=cache_ttl_ms, cache_scope=cache_scope)
            return fn
        return register

    def completion(self, argument: str, *, prompt: Optional[str] = None,
                   template: Optional[str] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the completions of one prompt argument or resource template variable::

            @app.completion("language", prompt="review")
            def languages(value: str) -> list:
                return [name for name in LANGUAGES if name.startswith(value)]

        The function gets the partial ``value`` (and, if it takes a second parameter, a
        dict of the other arguments already chosen) and returns a list of strings - at
        most 100 are sent, with ``total`` and ``hasMore`` - or a dict with ``values``
        (and optionally ``total``, ``hasMore``) sent as it is."""
        if (prompt is None) == (template is None):
            raise TypeError("give exactly one of prompt= or template=")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.registry.add_completion(fn, argument, prompt=prompt, template=template)
            return fn
        return register

    def method(self, name: str, *, params_schema: Optional[Dict[str, Any]] = None, quick: bool = False
               ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a request method of the application's own (an extension's)::

            @app.method("com.example/search")
            def search(params: dict, ctx: Context) -> dict:
                return {"hits": find(params["query"])}

        The function gets the request's ``params`` (without ``_meta``, which is
        ``ctx.meta``) and, when it has a parameter annotated ``Context``, the Context; it
        returns the result object (a dict; None is ``{}``). It is served like a built-in
        method, in both protocol eras and on every transport: the same envelope checks,
        cancellation, middleware and 2026-07-28 ``input_required`` rounds; ``MCPError``
        becomes that JSON-RPC error, anything else -32603 "Internal error" (the traceback
        stays in the server's log). ``params_schema`` (a JSON Schema object) is checked
        first: params it refuses get -32602.

        The name needs a namespace ("namespace/name"; an extension's vendor prefix is the
        safe choice: "com.example/search"); MCP's own methods and notifications, the
        ``notifications/`` namespace and JSON-RPC's ``rpc.`` names are refused (ValueError).

        ``quick=True`` declares a method that answers at once from what the server holds, as
        a list does (a lookup in the application's own tables): an HTTP transport serves it
        on the connection's thread, without the hand-off to a worker. Its Context, if it
        takes one, is for reading the request (``protocol_version``, ``client_capabilities``,
        ``principal``, ``server``...), never for sending or asking anything (no log,
        progress, elicitation), and no ``input_required`` rounds run around it: an
        ``inputResponses`` in its params is its own. The tasks extension's methods are
        registered so."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.registry.add_method(fn, name, params_schema, quick)
            return fn
        return register

    def notification(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the handler of a notification of the application's own: ``fn(params)``,
        called with the notification's ``params`` (without ``_meta``) on the thread that
        read it, in the order they arrive - keep it quick. Its exceptions are logged, never
        answered (a notification has no response). Names as for ``method``."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.registry.add_notification(fn, name)
            return fn
        return register

    def middleware(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Register a function around every request the server serves (built-in and
        ``@app.method`` ones, in both eras)::

            @app.middleware
            def timed(method: str, params: dict, ctx: Context, call_next) -> dict:
                start = time.monotonic()
                try:
                    return call_next()
                finally:
                    log.info("%s took %.3fs", method, time.monotonic() - start)

        ``call_next()`` runs the rest of the chain and the method and returns its result
        dict; ``call_next(new_params)`` runs them with other params. A middleware returns
        the result dict (call_next's, or another), or raises ``MCPError`` to refuse the
        request with that error; an exception from further in comes out of ``call_next``
        (a tool's own failure is a result with ``isError``, not an exception). The first
        registered is the outermost. It runs on the thread serving the request (for
        ``ping``, ``initialize`` and ``server/discover`` the reading thread: no waiting).

        Not through middleware: requests refused before they reach a method (unknown
        method, bad ``_meta``, wrong era), notifications, ``subscriptions/listen`` streams
        and the work of a task after its creation. With none registered, requests pay
        nothing for the feature."""
        if not callable(fn):
            raise TypeError("@app.middleware decorates a function (method, params, ctx, call_next)")
        self._dispatcher.add_middleware(fn)
        return fn

    def add_method(self, fn: Callable[..., Any], name: str, *, params_schema: Optional[Dict[str, Any]] = None,
                   quick: bool = False) -> None:
        """``@app.method(name)`` without the decorator."""
        self.registry.add_method(fn, name, params_schema, quick)

    def add_notification(self, fn: Callable[..., Any], name: str) -> None:
        """``@app.notification(name)`` without the decorator."""
        self.registry.add_notification(fn, name)

    def add_extension(self, name: str, settings: Optional[Dict[str, Any]] = None) -> None:
        """Declare extension ``name`` (SEP-2133: "{vendor-prefix}/{extension-name}", say
        "com.example/search") with its ``settings`` object (default ``{}``: "an empty
        object indicates no settings") under ``capabilities.extensions``, in the
        ``initialize`` result and in ``server/discover``. Declaring it again replaces its
        settings. The tasks extension is declared by the server itself while a tool has
        ``task=``: ValueError here."""
        # fullmatch: the pattern's "$" alone would take a final line break.
        if not isinstance(name, str) or not re.fullmatch(EXTENSION_ID, name):
            raise ValueError("invalid extension identifier %r: use '{vendor-prefix}/{extension-name}', e.g. "
                             "'com.example/my-extension'" % (name,))
        if name == TASKS_EXTENSION:
            raise ValueError("%s is declared by the server itself while a tool is registered with task=" % name)
        if settings is None:
            settings = {}
        if not isinstance(settings, dict):
            raise TypeError("an extension's settings are a dict (a JSON object), not %r" % (type(settings).__name__,))
        self._extensions[name] = dict(settings)

    def remove_extension(self, name: str) -> None:
        """Stop declaring extension ``name``. KeyError if it was not declared."""
        del self._extensions[name]

    @property
    def extensions(self) -> Dict[str, Dict[str, Any]]:
        """The extensions declared with ``add_extension`` (a copy), by identifier."""
        return dict(self._extensions)

    def skill(self, path: str, *, prefix: Optional[str] = None) -> Any:
        """Serve the Agent Skill in directory ``path`` (a ``SKILL.md`` with YAML frontmatter at
        its root, and any other files) by the Skills extension (SEP-2640,
        ``io.modelcontextprotocol/skills``): every file (but those with a name starting with
        ``.``, at any depth, and what is under such a directory) becomes a resource
        ``skill://[<prefix>/]<name>/<file>``, and ``skills/list`` / ``skills/get`` list it with
        each file's digest and size; ``resources/directory/read`` lists a skill directory's
        children (the extension is declared with ``directoryRead``). The directory is read
        now, once (at most 512 files and 16 MiB, the spec's limits): what is served is what
        was digested. The first skill
        declares the extension. Returns the skill read (``.uri``, ``.frontmatter``,
        ``.entry()``); ValueError when the directory is not a skill this can serve."""
        from .skills import SKILLS_EXTENSION, SkillCatalog, read_skill_directory
        bundle = read_skill_directory(path, prefix)
        if self._skill_catalog is not None:
            self._skill_catalog.add(bundle)
            return bundle
        catalog = SkillCatalog(self)
        catalog.add(bundle)

        def list_skills(params: dict, ctx: Context) -> dict:
            return catalog.list_skills(params, ctx)

        def get_skill(params: dict, ctx: Context) -> dict:
            return catalog.get_skill(params, ctx)

        def read_directory(params: dict, ctx: Context) -> dict:
            return catalog.read_directory(params, ctx)
        # "Declaring the extension itself commits the server to skills/list and skills/get."
        self.add_method(list_skills, "skills/list")
        self.add_method(get_skill, "skills/get")
        # And directoryRead to resources/directory/read "for every directory within the
        # skill namespaces it serves as individual files", which is all of them here.
        self.add_method(read_directory, "resources/directory/read")
        self.add_extension(SKILLS_EXTENSION, {"directoryRead": True})
        self._skill_catalog = catalog
        return bundle

    def add_tool(self, fn: Callable[..., Any], name: Optional[str] = None, **options: Any) -> Tool:
        """``@app.tool()`` without the decorator (the same options)."""
        ui = options.pop("ui", None)
        if ui is not None:
            from .apps import UI_EXTENSION, tool_ui_meta
            meta = dict(options.get("meta") or {})
            linked = tool_ui_meta(ui)
            meta["ui"] = linked
            # The stable spec still lists the flat key (deprecated, "removed before GA"):
            # hosts built before the nested form read only it.
            meta["ui/resourceUri"] = linked["resourceUri"]
            options["meta"] = meta
        if options.get("task") is not None:
            self.tasks  # noqa: B018 - the store, made now: a build without the tasks part fails here, not later
        tool = self.registry.add_tool(fn, name, **options)
        if ui is not None and UI_EXTENSION not in self._extensions:
            self.add_extension(UI_EXTENSION, {})
        return tool

    def ui_resource(self, uri: str, html: Optional[str] = None, *, name: Optional[str] = None,
                    title: Optional[str] = None, description: Optional[str] = None,
                    csp: Optional[Dict[str, Any]] = None, permissions: Any = None, domain: Optional[str] = None,
                    prefers_border: Optional[bool] = None, meta: Optional[Dict[str, Any]] = None) -> Any:
        """Register an MCP Apps view (``io.modelcontextprotocol/ui``): a ``ui://`` resource
        whose content is an HTML document, served as ``text/html;profile=mcp-app``::

            app.ui_resource("ui://weather/view", html=PAGE, csp={"connectDomains": []})

            @app.ui_resource("ui://weather/live")       # no html: the function returns it
            def live() -> str: ...

        ``csp`` (``connectDomains``, ``resourceDomains``, ``frameDomains``,
        ``baseUriDomains``: lists of origins; omitted, the host allows no outside origin),
        ``permissions`` (names among camera, microphone, geolocation, clipboardWrite),
        ``domain`` and ``prefers_border`` become the view's ``_meta.ui``, on its
        ``resources/list`` entry and on what ``resources/read`` returns. The server declares
        the extension. Returns the Resource (or, without ``html``, the decorator)."""
        from .apps import APP_MIME_TYPE, UI_EXTENSION, check_ui_uri, view_meta
        check_ui_uri(uri)
        if "{" in uri:
            raise ValueError("a UI resource is one document, not a template: %r" % (uri,))
        ui = view_meta(csp, permissions, domain, prefers_border)
        full_meta = dict(meta or {})
        if ui:
            full_meta["ui"] = ui

        def register(fn: Callable[..., Any]) -> Any:
            if is_async_function(fn):
                raise TypeError("UI resource %s: the function must be a plain function, not async def" % uri)

            def read(ctx: Context) -> Dict[str, Any]:
                page = fn()
                if isinstance(page, bytes):
                    page = page.decode("utf-8")
                if not isinstance(page, str):
                    raise TypeError("UI resource %s: the function returned %s, not the HTML (a str)"
                                    % (uri, type(page).__name__))
                contents = {"uri": uri, "mimeType": APP_MIME_TYPE, "text": page}  # type: Dict[str, Any]
                if full_meta and supports(ctx.protocol_version, "list_meta"):
                    # (2025-03-26's resource contents have no _meta)
                    contents["_meta"] = dict(full_meta)
                return contents
            resource = self.registry.add_resource(
                read, uri, name=name or getattr(fn, "__name__", None) or uri, title=title,
                description=description, mime_type=APP_MIME_TYPE, meta=full_meta or None)
            if UI_EXTENSION not in self._extensions:
                self.add_extension(UI_EXTENSION, {})
            return resource

        if html is None:
            def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
                register(fn)
                return fn
            return decorator
        if not isinstance(html, str):
            raise TypeError("html is the document's text (a str)")
        return register(lambda: html)

    @property
    def tasks(self) -> Any:
        """The store of the tasks this server runs (the tasks extension): a ``TaskStore``."""
        store = self._task_store
        if store is None:
            with self._task_lock:
                if self._task_store is None:
                    from .tasks import SharedTaskStore, TaskStore, task_methods
                    made = (SharedTaskStore(self.store, *self._task_settings) if self.store is not None
                            else TaskStore(*self._task_settings))
                    # The extension's requests (tasks/get...) exist from now on, served from
                    # the method table: before, they are unknown methods (-32601). Put there
                    # before the store is seen (read without the lock above), so that no
                    # thread finds a store whose methods are not served yet.
                    task_methods(self.registry)
                    self._task_store = made
                store = self._task_store
        return store

    def remove_tool(self, name: str) -> None:
        """Unregister a tool; connected clients that asked to hear of it get
        ``notifications/tools/list_changed``. KeyError if there is no such tool."""
        self.registry.remove_tool(name)

    def add_resource(self, fn: Callable[..., Any], uri: str, **options: Any) -> Union[Resource, ResourceTemplate]:
        """``@app.resource(uri)`` without the decorator (the same options)."""
        return self.registry.add_resource(fn, uri, **options)

    def remove_resource(self, uri: str) -> None:
        """Unregister a resource or resource template (by the URI it was registered with)
        and notify ``resources/list_changed``. KeyError if there is none."""
        self.registry.remove_resource(uri)

    def add_prompt(self, fn: Callable[..., Any], name: Optional[str] = None, **options: Any) -> Prompt:
        """``@app.prompt()`` without the decorator (the same options)."""
        return self.registry.add_prompt(fn, name, **options)

    def remove_prompt(self, name: str) -> None:
        """Unregister a prompt and notify ``prompts/list_changed``. KeyError if there is none."""
        self.registry.remove_prompt(name)

    def add_completion(self, fn: Callable[..., Any], argument: str, *, prompt: Optional[str] = None,
                       template: Optional[str] = None) -> None:
        """``@app.completion(argument, ...)`` without the decorator."""
        self.registry.add_completion(fn, argument, prompt=prompt, template=template)

    def mount(self, prefix: str, upstream: Any, *, timeout: float = 30.0, restart: bool = True,
              subscriptions_per_client: Optional[int] = None) -> Any:
        """Serve another MCP server's tools and prompts here as ``<prefix>__<name>``, and its
        resources and resource templates under their own URIs, each call forwarded to it.
        ``upstream`` is a connected ``Client``, a ``Server`` of this process (reached in
        memory), or a config entry as in ``mcpServers`` (``{"command", "args", "env"}`` or
        ``{"url", "headers"}``: the mount starts that client, with ``timeout`` for its calls,
        and stops it on ``close()``; it also starts it again when it fails, unless
        ``restart=False``). ``subscriptions_per_client``: how many resources of the upstream's
        templates one client here may be subscribed to through it at once (default a quarter
        of the mount's 256 upstream subscriptions); beyond it ``resources/subscribe`` is refused
        (-32602) and a listen stream's acknowledgment leaves the resource out. Returns the
        ``Mount`` (see gateway.py)."""
        from .gateway import Mount
        return Mount(self, prefix, upstream, timeout, restart, subscriptions_per_client)

    # -- change notifications --------------------------------------------------

    def notify_list_changed(self, kind: str) -> None:
        """Tell every listener that the list of ``kind`` ("tools", "prompts" or
        "resources") changed; each gets ``notifications/<kind>/list_changed`` if it asked."""
        self.registry.notify_list_changed(kind)

    def notify_resource_updated(self, uri: str) -> None:
        """Tell the listeners subscribed to ``uri`` that the resource changed."""
        self.registry.notify_resource_updated(uri)

    def screen_listener(self, listener: Any) -> None:
        """A ``subscriptions/listen`` stream about to be acknowledged: what this server will not
        honour of its filter is withheld first, and what it will may be reserved for it
        (transports call it before ``acknowledge``, and ``remove_listener`` for it if that,
        or ``add_listener``, fails: what was reserved is given back)."""
        for hook in self._listener_screens:
            hook(listener)

    def add_listener(self, listener: ChangeListener) -> None:
        self.registry.add_listener(listener)
        if self._sharing:
            # Someone here listens now: look for other workers' changes from now on.
            self.store.watch().ensure_started()

    def share_changes(self) -> None:
        """With a shared ``store``, from now on tell the other workers of every change made
        here (a tool added, ``notify_resource_updated``...) and tell the listeners here of
        theirs. Transports call it when they start serving, so the registrations a program
        makes as it starts are not broadcast one by one."""
        store = self.store
        if store is None or not store.shared or self._sharing:
            return
        with self._task_lock:
            if self._sharing:
                return
            self._sharing = True
        self.registry.add_listener(_StoreRelay(store))
        store.watch().listeners.append(self._store_event)
        with self.registry.lock:
            listening = any(not isinstance(listener, _StoreRelay) for listener in self.registry.listeners)
        if listening:
            store.watch().ensure_started()

    def _store_event(self, kind: str, detail: str) -> None:
        """A change another worker published: told to the listeners here (not relayed back)."""
        with self.registry.lock:
            listeners = [listener for listener in self.registry.listeners if not isinstance(listener, _StoreRelay)]
        for listener in listeners:
            if kind == "list" and detail in ("tools", "prompts", "resources"):
                listener.list_changed(detail)
            elif kind == "resource":
                listener.resource_updated(detail)

    @property
    def sealer(self) -> Any:
        """The ``sealing.Sealer`` of this server's cursors and ``requestState`` tokens."""
        sealer = self._sealer
        if sealer is None:
            with self._sealer_lock:
                if self._sealer is None:
                    from .sealing import Sealer
                    self._sealer = Sealer()  # (a key drawn at random: good for this process only)
                sealer = self._sealer
        return sealer

    @sealer.setter
    def sealer(self, sealer: Any) -> None:
        self._sealer = sealer

    def multiprocess_problem(self) -> Optional[str]:
        """Why this server cannot be served by several worker processes as it is configured
        (None: it can). A key drawn at random per process would make every cursor and
        ``requestState`` sealed by one worker a forgery to the others, and tasks kept in one
        worker's memory unknown to them: failures that would come later, one request in
        two, so a front end refuses to start on them instead."""
        problems = []
        if self._sealer is None or not self._sealer.configured:
            problems.append("no sealing key is configured, so a cursor or requestState sealed by one worker is "
                            "refused by the others: give every worker the same key ring, "
                            "Server(..., state_keys=[key]) with a key of 32 random bytes (e.g. from an "
                            "environment variable; the newest key first when rotating)")
        if (self.store is None or not self.store.shared) and any(
                tool.task is not None for tool in list(self.registry.tools.values())):
            problems.append("tools run as tasks, which one worker's memory keeps from the others: give every "
                            "worker the same shared store, Server(..., store=SqliteStore('/path/to/state.db'))")
        if not problems:
            return None
        return ("mcplite: several worker processes serve this endpoint, but " + "; and ".join(problems)
                + ". (Or run one worker process with threads.)")

    def remove_listener(self, listener: ChangeListener) -> None:
        self.registry.remove_listener(listener)
        for hook in self._listener_end_hooks:
            hook(listener)

    # -- running -------------------------------------------------------------

    def run(self, transport: str = "stdio", **options: Any) -> None:
        """Serve until the client goes away (stdio) or until interrupted (HTTP).

        ``"stdio"`` (the default) reads requests from stdin and writes responses to
        stdout, until stdin ends or the parent process dies (``watch_parent=False``: only
        when stdin ends). ``"http"`` serves Streamable HTTP at ``http://host:port/path``
        (defaults 127.0.0.1, 8000, "/mcp"), both protocol eras, and the 2024-11-05
        HTTP+SSE transport at /sse and /messages.
        """
        if transport == "stdio":
            from .stdio import serve_stdio
            serve_stdio(self, **options)
        elif transport in ("http", "streamable-http"):
            from .httpserver import serve_http
            serve_http(self, **options)
        else:
            raise ValueError("unknown transport %r (available: 'stdio', 'http')" % (transport,))

    def run_in_thread(self, transport: str = "http", **options: Any) -> Any:
        """Serve HTTP on a background thread and return a handle with ``url``, ``port`` and
        ``stop()`` (a context manager too). ``port=0`` picks a free port."""
        if transport not in ("http", "streamable-http"):
            raise ValueError("run_in_thread serves 'http' only")
        from .httpserver import start_http
        options.setdefault("port", 0)
        return start_http(self, **options)

    def wsgi(self, **options: Any) -> Any:
        """A WSGI (PEP 3333) application serving this server's Streamable HTTP endpoint (both
        eras, and the 2024-11-05 HTTP+SSE transport), for a production WSGI server:
        ``application = app.wsgi()`` in ``myserver.py``, then
        ``gunicorn -k gthread --threads 16 myserver:application`` (a thread per open SSE
        stream; gunicorn's default ``sync`` worker is refused) or
        ``waitress-serve --threads 16 --channel-request-lookahead 1 myserver:application``.
        The options are ``start_http``'s but the address ones (the WSGI server binds), plus
        ``keepalive_interval``; see ``wsgi.WsgiApp``."""
        from .wsgi import WsgiApp
        return WsgiApp(self, **options)

    # -- what transports call ------------------------------------------------
    # (begin_call, handle_request and inline_tool_response are the dispatcher's own on an
    # instance, bound by __init__; the methods below serve a subclass's super() calls.)

    def begin_call(self, message: Message, port: Port, session: Optional[LegacySession] = None,
                   modern: bool = False, offered: Sequence[str] = SUPPORTED_VERSIONS,
                   headers: Optional[Dict[str, str]] = None, principal: Any = None,
                   listed: Optional[Sequence[str]] = None) -> Call:
        """A request message as a ``Call`` served through ``port``, or the MCPError that
        refuses it (see ``Dispatcher.begin_call``)."""
        return self._dispatcher.begin_call(message, port, session, modern, offered, headers, principal, listed)

    def handle_request(self, call: Call) -> Optional[Message]:
        """Run one request; the response message, or None when the request was cancelled."""
        return self._dispatcher.handle_request(call)

    def inline_tool_response(self, rid: Any, params: Dict[str, Any], tool: Tool,
                             session_version: Optional[str], port: Port) -> Optional[Message]:
        """The response to a ``tools/call`` of ``tool``, an ``inline=True`` tool, in its common
        shape, or None: serve it with ``begin_call`` and ``handle_request`` (see
        ``Dispatcher.inline_tool_response``)."""
        return self._dispatcher.inline_tool_response(rid, params, tool, session_version, port)

    def handle_notification(self, method: str, params: Any) -> bool:
        """Run the ``@app.notification`` handler of ``method``, if any (whether there was one)."""
        return self._dispatcher.handle_notification(method, params)

    def needs_context(self, call: Call) -> bool:
        """Whether serving ``call`` runs a handler that takes a Context (see ``Registry``)."""
        return self.registry.needs_context(call)

    def answers_at_once(self, call: Call) -> bool:
        """Whether an HTTP transport may serve ``call`` on the connection's own thread: it runs
        no handler of the application's (a list, ``ping``), or a tool declared quick
        (``inline=True``). Never decided from the absence of a Context alone: while a slow tool
        without one ran there, nothing could be written to the connection (the keep-alive
        comments a proxy's read timeout needs) and nothing could see the client hang up."""
        return self.runs_inline(call) or not (self.needs_context(call) or self.registry.runs_application_code(call))

    def runs_application_code(self, call: Call) -> bool:
        """Whether serving ``call`` runs a handler of the application's (not a list or ``ping``)."""
        return self.registry.runs_application_code(call)

    def reaches_context(self, call: Call) -> bool:
        """Whether serving ``call`` hands the application a Context (its handler takes one, or
        middleware runs around it): only then can something be sent about the call before
        its response (progress, a log message) or its cancellation be looked at."""
        return bool(self._dispatcher.middleware) or self.needs_context(call)

    def sends_before_answer(self, call: Call) -> bool:
        """Whether serving ``call`` may send something about it before its response. Only a
        handler or middleware with a Context can (``reaches_context``); of a 2026-07-28
        request, only what the request asked for: progress needs its ``progressToken``, and
        a log message its log level ("If absent, the server MUST NOT send any
        notifications/message notifications for this request"); its questions are
        ``input_required`` results, the response itself. A session's handler may ask the
        client, or log at the session's level, whatever the request."""
        if not self.reaches_context(call):
            return False
        request = call.request
        return not request.modern or request.progress_token is not None or request.log_level is not None

    def serves_watched(self, call: Call) -> bool:
        """Whether an HTTP front that can watch a call on its connection's thread
        (``HttpRequest.watch``) serves ``call`` there, rather than handing it to the worker
        pool and waiting: it runs a handler of the application's (what does not is answered at
        once, ``answers_at_once``) and can send nothing about it before its response
        (``sends_before_answer``), so the front only has to keep a quiet answer alive and see
        a hang-up, which its watcher thread does. The one rule for both eras: a 2026-07-28
        request (``McpHttpApp._modern_post``) and a session's single request
        (``ServerConnection.on_request``, after its own inline rules)."""
        return self.registry.runs_application_code(call) and not self.sends_before_answer(call)

    def runs_inline(self, call: Call) -> bool:
        """Whether ``call`` may be served on the thread that read it although a transport
        with one reading thread (stdio) could be kept from reading meanwhile: a tool
        registered with ``inline=True``, and no middleware (which may wait) around it."""
        return not self._dispatcher.middleware and self.registry.runs_inline(call)

    def find_tool(self, name: Any) -> Optional[Tool]:
        return self.registry.find_tool(name)

    def read_resource_for(self, call: Call, uri: str) -> List[Dict[str, Any]]:
        """The contents of resource ``uri``, read on behalf of ``call`` (the
        ``resources/read`` being served, or a handler's ``ctx.read_resource``)."""
        return self._dispatcher.read_resource_for(call, uri)

    # -- what the server says about itself -------------------------------------

    def server_info(self, version: str) -> Dict[str, Any]:
        info = {"name": self.name, "version": self.version}  # type: Dict[str, Any]
        features = FEATURES_OF[version]  # (every 2026-07-28 result carries this: no call)
        if "titles" in features:
            put_given(info, "title", self.title)
        if "implementation_details" in features:
            put_given(info, "description", self.description)
            put_given(info, "websiteUrl", self.website_url)
            put_given(info, "icons", self.icons)
        return info

    def capabilities(self, version: str, stateful: bool = True) -> Dict[str, Any]:
        """Capabilities follow what is registered: a server without prompts does not claim
        them. A legacy session that ends with its request (stateless HTTP) can hear of no
        change, so it is promised none."""
        caps = {}  # type: Dict[str, Any]
        if self.advertises_logging(version):
            caps["logging"] = {}
        if self.registry.completions and supports(version, "completions_capability"):
            caps["completions"] = {}  # 2024-11-05 had completion/complete but no capability for it
        # Registrations can change at run time (add_tool, remove_tool...), and every session
        # hears of it: legacy ones by notifications, 2026-07-28 ones on subscriptions/listen.
        if self.registry.tools:
            caps["tools"] = {"listChanged": True} if stateful else {}
        if self.registry.resources or self.registry.templates:
            caps["resources"] = {"subscribe": True, "listChanged": True} if stateful else {}
        if self.registry.prompts:
            caps["prompts"] = {"listChanged": True} if stateful else {}
        extensions = self.extensions_for(version)
        if extensions:
            caps["extensions"] = extensions
        return caps

    def extensions_for(self, version: str) -> Dict[str, Dict[str, Any]]:
        """The ``capabilities.extensions`` of ``version``: those added with ``add_extension``
        (SEP-2133 shows them in ``initialize`` results too), and the tasks extension."""
        extensions = {name: dict(settings) for name, settings in self._extensions.items()}
        if version in MODERN_VERSIONS and self.serves_tasks():
            # SEP-2663: advertised "in your server/discover capabilities" under extensions,
            # never as the 2025-11-25 capabilities.tasks ("MUST NOT continue to advertise the
            # legacy capabilities under any protocol version that includes this extension").
            # Only while a tool can run as a task, as the other capabilities follow what is
            # registered.
            extensions[TASKS_EXTENSION] = {}
        return extensions

    def advertises_logging(self, version: str) -> bool:
        """Whether the ``logging`` capability is declared in ``version`` (see ``logging``)."""
        if self.logging is not None:
            return self.logging
        if version not in MODERN_VERSIONS:
            return True
        # 2026-07-28 deprecates logging ("New implementations SHOULD NOT adopt it"), yet
        # "Servers that emit log message notifications MUST declare the logging capability":
        # declared while anything could emit one - a handler or middleware given a Context.
        return bool(self._dispatcher.middleware) or self.registry.uses_context()

    def serves_tasks(self) -> bool:
        """Whether a tool can run as a task now, or a task is still kept."""
        if any(tool.task is not None for tool in list(self.registry.tools.values())):
            return True
        return self._task_store is not None and self._task_store.count() > 0


# The functions Server itself defines for what __init__ binds straight to its dispatcher and
# for runs_inline, taken once the class exists: what an instance's class holds instead is an
# override (a subclass's, or a patch of the class) to be kept and asked.
_OWN_METHODS = {name: Server.__dict__[name] for name in (
    "begin_call", "handle_request", "inline_tool_response", "runs_inline")}  # type: Dict[str, Any]
