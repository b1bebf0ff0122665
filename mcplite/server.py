"""The MCP server: registry, decorators, one handler per method.

Transport-free. A transport hands ``Server.handle_request`` one decoded request together
with the session it belongs to (legacy era) or nothing (modern era) and a function for
the messages the request emits on its way (progress, logs); it gets the response back.
``connection.ServerConnection`` adds what every message-stream transport needs on top:
parse errors, the era decision, cancellation, batches, the worker pool.
"""

import base64
import json
import re
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from .jsonrpc import (
    INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, RESOURCE_NOT_FOUND,
    UNSUPPORTED_PROTOCOL_VERSION, Message, error_response, notification, result_response,
)
from .errors import (
    Cancelled, ConnectionClosed, InputRequired, MCPError, TaskStart, ToolError, UrlElicitationRequired,
)
from .asking import input_required_result, load_answers, url_elicitation_round
from .tasks import TASK_SUPPORT, TASKS_EXTENSION, TaskStore, declares_tasks, missing_tasks_capability
from .auth import principal_identity
from .calls import Call, LegacySession, Request, progress_token_of
from .context import LOG_RANK, Context
from .ports import ChangeListener, Port
from .logs import LazyLogger
from .sealing import Sealer
from .protocol import (
    LATEST_LEGACY_VERSION, LEGACY_ONLY_METHODS, LEGACY_VERSIONS, LOG_LEVELS, META_CLIENT_CAPABILITIES,
    META_CLIENT_INFO, META_LOG_LEVEL, META_PROTOCOL_VERSION, META_SERVER_INFO, META_SUBSCRIPTION_ID,
    MODERN_ONLY_METHODS, MODERN_VERSIONS, SUPPORTED_VERSIONS, content_for_version, is_content_block,
    resource_contents, text,
)
from .schema import (
    FunctionShape, compile_schema, describe_function, header_parameters, output_schema_for, to_json,
)

_server_log = LazyLogger("mcplite.server")


_TOOL_NAME = r"^[A-Za-z0-9_.-]{1,128}$"  # a pattern: re compiles and caches it on first use
_CACHEABLE = frozenset((
    "server/discover", "tools/list", "prompts/list", "resources/list", "resources/templates/list",
    "resources/read",
))


# ---------------------------------------------------------------------------
# Registered things

def _set(entry: Dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        entry[key] = value


class _Handler:
    """A registered function and what registration learned about it."""

    def __init__(self, fn: Callable[..., Any], shape: FunctionShape) -> None:
        self.fn = fn
        self.shape = shape
        self.needs_context = bool(shape.context_params)

    def invoke(self, arguments: Dict[str, Any], call: Call) -> Any:
        shape = self.shape
        if not (self.needs_context or shape.has_positional_only or shape.params_need_conversion
                or shape.var_keyword):
            for name in shape.int_params:  # validated: an integral float at most
                if type(arguments.get(name)) is float:
                    arguments = dict(arguments)
                    arguments[name] = int(arguments[name])
            return self.fn(**arguments)
        args, kwargs = shape.bind(arguments, Context(call) if self.needs_context else None)
        return self.fn(*args, **kwargs)


class Tool(_Handler):
    def __init__(self, fn: Callable[..., Any], shape: FunctionShape, name: str, title: Optional[str],
                 description: Optional[str], annotations: Optional[Dict[str, Any]],
                 output_schema: Optional[Dict[str, Any]], wrap_output: bool,
                 icons: Optional[List[Dict[str, Any]]], meta: Optional[Dict[str, Any]],
                 input_schema: Optional[Dict[str, Any]] = None, task: Optional[str] = None,
                 task_start: str = "call") -> None:
        super().__init__(fn, shape)
        self.name = name
        self.task = task  # None, "optional" or "required": whether a call may become a task
        self.task_start = task_start
        self.title = title
        self.description = description
        self.annotations = annotations
        self.input_schema = input_schema if input_schema is not None else shape.input_schema
        self.output_schema = output_schema
        self.wrap_output = wrap_output
        self.icons = icons
        self.meta = meta
        self.check_input = compile_schema(self.input_schema)
        # Checked over 2026-07-28 HTTP against the Mcp-Param-* headers of each call.
        self.header_params = header_parameters(self.input_schema)
        self.check_output = compile_schema(output_schema) if output_schema is not None else None

    def describe(self, version: str) -> Dict[str, Any]:
        entry = {"name": self.name}  # type: Dict[str, Any]
        if version >= "2025-06-18":
            _set(entry, "title", self.title)
        _set(entry, "description", self.description)
        entry["inputSchema"] = self.input_schema
        if version >= "2025-06-18":
            _set(entry, "outputSchema", self.output_schema)
        if version >= "2025-03-26":
            _set(entry, "annotations", self.annotations)
        if version >= "2025-11-25":
            _set(entry, "icons", self.icons)
        if version >= "2025-06-18":
            _set(entry, "_meta", self.meta)
        return entry


class Resource(_Handler):
    def __init__(self, fn: Callable[..., Any], shape: FunctionShape, uri: str, name: str,
                 title: Optional[str], description: Optional[str], mime_type: Optional[str],
                 size: Optional[int], annotations: Optional[Dict[str, Any]],
                 icons: Optional[List[Dict[str, Any]]], meta: Optional[Dict[str, Any]]) -> None:
        super().__init__(fn, shape)
        self.uri = uri
        self.name = name
        self.title = title
        self.description = description
        self.mime_type = mime_type
        self.size = size
        self.annotations = annotations
        self.icons = icons
        self.meta = meta

    def describe(self, version: str) -> Dict[str, Any]:
        entry = {"uri": self.uri, "name": self.name}  # type: Dict[str, Any]
        _common_fields(entry, self, version)
        _set(entry, "size", self.size)
        return entry


class ResourceTemplate(_Handler):
    def __init__(self, fn: Callable[..., Any], shape: FunctionShape, uri_template: str, name: str,
                 title: Optional[str], description: Optional[str], mime_type: Optional[str],
                 annotations: Optional[Dict[str, Any]], icons: Optional[List[Dict[str, Any]]],
                 meta: Optional[Dict[str, Any]]) -> None:
        super().__init__(fn, shape)
        self.uri_template = uri_template
        self.name = name
        self.title = title
        self.description = description
        self.mime_type = mime_type
        self.annotations = annotations
        self.icons = icons
        self.meta = meta
        self.pattern, self.variables = _template_pattern(uri_template)
        self.arg_parsers = {}  # type: Dict[str, Callable[[str], Any]]

    def match(self, uri: str) -> Optional[Dict[str, str]]:
        m = self.pattern.match(uri)
        if m is None:
            return None
        from urllib.parse import unquote  # only when a template is actually read
        return {k: unquote(v) for k, v in m.groupdict().items()}

    def describe(self, version: str) -> Dict[str, Any]:
        entry = {"uriTemplate": self.uri_template, "name": self.name}  # type: Dict[str, Any]
        _common_fields(entry, self, version)
        return entry


def _common_fields(entry: Dict[str, Any], item: Any, version: str) -> None:
    if version >= "2025-06-18":
        _set(entry, "title", item.title)
    _set(entry, "description", item.description)
    _set(entry, "mimeType", item.mime_type)
    _set(entry, "annotations", item.annotations)
    if version >= "2025-11-25":
        _set(entry, "icons", item.icons)
    if version >= "2025-06-18":
        _set(entry, "_meta", item.meta)


_TEMPLATE_VAR = r"\{([+#]?)([A-Za-z_][A-Za-z0-9_]*)(\*?)\}"


def _template_pattern(template: str) -> Tuple["re.Pattern[str]", List[str]]:
    """A regex for an RFC 6570 level 1/2 template: ``{var}`` matches one path segment,
    ``{+var}`` (reserved expansion) and ``{var*}`` match across slashes."""
    parts = []
    names = []  # type: List[str]
    pos = 0
    for m in re.finditer(_TEMPLATE_VAR, template):
        parts.append(re.escape(template[pos:m.start()]))
        operator, name, explode = m.groups()
        if name in names:
            raise ValueError("URI template %r repeats the variable %r" % (template, name))
        names.append(name)
        parts.append("(?P<%s>.+?)" % name if operator or explode else "(?P<%s>[^/?#]+)" % name)
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(parts) + "$", re.DOTALL), names


def is_template(uri: str) -> bool:
    return "{" in uri and re.search(_TEMPLATE_VAR, uri) is not None


class Prompt(_Handler):
    def __init__(self, fn: Callable[..., Any], shape: FunctionShape, name: str, title: Optional[str],
                 description: Optional[str], icons: Optional[List[Dict[str, Any]]],
                 meta: Optional[Dict[str, Any]]) -> None:
        super().__init__(fn, shape)
        self.name = name
        self.title = title
        self.description = description
        self.icons = icons
        self.meta = meta
        self.arguments = []  # type: List[Dict[str, Any]]
        self.parsers = {}  # type: Dict[str, Callable[[str], Any]]
        props = shape.input_schema.get("properties", {})
        for param in shape.params:
            prop = props.get(param.name, {})
            arg = {"name": param.name}  # type: Dict[str, Any]
            _set(arg, "description", prop.get("description"))
            arg["required"] = param.required
            self.arguments.append(arg)
            self.parsers[param.name] = _string_argument_parser(param.name, prop)

    def describe(self, version: str) -> Dict[str, Any]:
        entry = {"name": self.name}  # type: Dict[str, Any]
        if version >= "2025-06-18":
            _set(entry, "title", self.title)
        _set(entry, "description", self.description)
        if self.arguments:
            entry["arguments"] = self.arguments
        if version >= "2025-11-25":
            _set(entry, "icons", self.icons)
        if version >= "2025-06-18":
            _set(entry, "_meta", self.meta)
        return entry


def _string_argument_parser(name: str, prop: Dict[str, Any]) -> Callable[[str], Any]:
    """Prompt arguments (and URI template variables) are strings on the wire. A string the
    parameter's schema accepts is passed as is; otherwise it is read as JSON (so "3" can be
    an int) and checked again."""
    if prop.get("type") == "string" or prop == {}:
        return lambda value: value
    check = compile_schema(prop)

    def parse(value: str) -> Any:
        if check(value) is None:
            return value
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        error = check(parsed)
        if error is not None:
            raise MCPError(INVALID_PARAMS, "Invalid argument %r: %s" % (name, error.replace("the value: ", "")))
        return parsed
    return parse


# ---------------------------------------------------------------------------
# The server

_BLOB_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image", "image/png"),
    (b"\xff\xd8\xff", "image", "image/jpeg"),
    (b"GIF87a", "image", "image/gif"),
    (b"GIF89a", "image", "image/gif"),
    (b"OggS", "audio", "audio/ogg"),
    (b"ID3", "audio", "audio/mpeg"),
    (b"fLaC", "audio", "audio/flac"),
)


def _blob_block(data: bytes, tool_name: str) -> Dict[str, Any]:
    """bytes returned by a tool: an image or audio block when the bytes say which, else an
    embedded binary resource."""
    encoded = base64.b64encode(data).decode("ascii")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return {"type": "image", "data": encoded, "mimeType": "image/webp"}
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return {"type": "audio", "data": encoded, "mimeType": "audio/wav"}
    for signature, kind, mime in _BLOB_SIGNATURES:
        if data.startswith(signature):
            return {"type": kind, "data": encoded, "mimeType": mime}
    return {"type": "resource", "resource": {
        "uri": "mcplite://result/%s" % tool_name, "mimeType": "application/octet-stream", "blob": encoded}}


# One encoder, built once (json.dumps with options builds a new one per call). The text
# copy of structured results reads like Python's default json.dumps output.
_text_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _json_text(value: Any) -> str:
    return _text_encoder.encode(value)


class SubscriptionListener(ChangeListener):
    """One 2026-07-28 ``subscriptions/listen`` stream: the notifications its client opted
    in to ("The server MUST NOT send notification types the client has not explicitly
    requested"), each tagged with the subscription's id (the listen request's id)."""

    _FLAGS = {"tools": "toolsListChanged", "prompts": "promptsListChanged", "resources": "resourcesListChanged"}

    def __init__(self, subscription_id: Any, params: Dict[str, Any], emit: Callable[[Message], Any]) -> None:
        wanted = params.get("notifications", {})
        if not isinstance(wanted, dict):
            raise MCPError(INVALID_PARAMS, "Invalid params: notifications must be an object")
        self.subscription_id = subscription_id
        self.emit = emit
        self.kinds = set()  # type: set
        accepted = {}  # type: Dict[str, Any]
        for kind, flag in self._FLAGS.items():
            value = wanted.get(flag)
            if value is not None and not isinstance(value, bool):
                raise MCPError(INVALID_PARAMS, "Invalid params: notifications.%s must be a boolean" % flag)
            if value:
                self.kinds.add(kind)
                accepted[flag] = True
        uris = wanted.get("resourceSubscriptions")
        if uris is not None and (not isinstance(uris, list) or not all(isinstance(u, str) for u in uris)):
            raise MCPError(INVALID_PARAMS, "Invalid params: notifications.resourceSubscriptions must be a list of URIs")
        self.uris = frozenset(uris or ())
        if uris:
            accepted["resourceSubscriptions"] = list(uris)
        self.accepted = accepted

    def _send(self, method: str, params: Dict[str, Any]) -> None:
        params["_meta"] = {META_SUBSCRIPTION_ID: self.subscription_id}
        self.emit(notification(method, params))

    def acknowledge(self) -> None:
        """"The server MUST send notifications/subscriptions/acknowledged as the first
        message", with the subset of the filter it will honour."""
        self._send("notifications/subscriptions/acknowledged", {"notifications": dict(self.accepted)})

    def list_changed(self, kind: str) -> None:
        if kind in self.kinds:
            self._send("notifications/%s/list_changed" % kind, {})

    def resource_updated(self, uri: str) -> None:
        if uri in self.uris:
            self._send("notifications/resources/updated", {"uri": uri})


class Server:
    """An MCP server: register tools, resources and prompts, then ``run()`` it.

    ``cache_ttl_ms`` and ``cache_scope`` are the caching hints 2026-07-28 puts on list,
    read and discover results (``ttlMs``, ``cacheScope``). The default, 0 ms and
    "private", promises nothing a server with changing or per-user data would break.

    ``page_size`` splits the four list results into pages of that many items with opaque
    cursors (default None: one page; some clients never follow cursors).
    ``client_request_timeout`` (seconds) bounds how long a legacy-era handler waits for
    the client's answer to ``ctx.elicit``/``sample``/``roots``. ``state_secret`` (bytes)
    keys the seals on 2026-07-28 ``requestState`` values and on cursors (default: random
    per process; give every process behind one endpoint the same one), and
    ``input_state_ttl`` is how many seconds a ``requestState`` stays good.

    The tasks extension (tools registered with ``task=``): at most ``max_tasks`` tasks are
    kept at once (one more is refused with -32603 "Server busy"), each for ``task_ttl``
    seconds from its creation - its ``ttlMs`` - finished or not: a task still running then
    is cancelled, and every task is forgotten (never earlier). ``task_poll_interval_ms`` is
    the ``pollIntervalMs`` suggested to clients (None: none).
    """

    def __init__(self, name: str, version: str = "0.1.0", instructions: Optional[str] = None, *,
                 title: Optional[str] = None, description: Optional[str] = None,
                 website_url: Optional[str] = None, icons: Optional[List[Dict[str, Any]]] = None,
                 cache_ttl_ms: int = 0, cache_scope: str = "private", max_workers: int = 16,
                 page_size: Optional[int] = None, client_request_timeout: float = 300.0,
                 state_secret: Optional[bytes] = None, input_state_ttl: int = 600,
                 max_subscriptions: int = 1000, max_tasks: int = 1000, task_ttl: float = 3600.0,
                 task_poll_interval_ms: Optional[int] = 1000) -> None:
        if cache_scope not in ("public", "private"):
            raise ValueError("cache_scope must be 'public' or 'private'")
        if not isinstance(cache_ttl_ms, int) or cache_ttl_ms < 0:
            raise ValueError("cache_ttl_ms must be an integer >= 0")
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
        # The tasks extension's store: one per server, since 2026-07-28 requests share nothing.
        self.tasks = TaskStore(max_tasks, task_ttl, task_poll_interval_ms)
        self.page_size = page_size
        self.client_request_timeout = client_request_timeout
        self.sealer = Sealer(state_secret)
        self.input_state_ttl = input_state_ttl
        self.max_subscriptions = max_subscriptions
        self.name = name
        self.version = version
        self.instructions = instructions
        self.title = title
        self.description = description
        self.website_url = website_url
        self.icons = icons
        self.cache_ttl_ms = cache_ttl_ms
        self.cache_scope = cache_scope
        self.max_workers = max_workers
        self._tools = {}  # type: Dict[str, Tool]
        self._resources = {}  # type: Dict[str, Resource]
        self._templates = {}  # type: Dict[str, ResourceTemplate]
        self._prompts = {}  # type: Dict[str, Prompt]
        # completion functions by (ref type, prompt name or template URI, argument)
        self._completions = {}  # type: Dict[Tuple[str, str, str], Callable[..., Any]]
        self._lock = threading.Lock()
        self._listeners = []  # type: List[ChangeListener]
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
            "tasks/get": self._get_task,
            "tasks/update": self._update_task,
            "tasks/cancel": self._cancel_task,
        }  # type: Dict[str, Callable[[Call], Dict[str, Any]]]

    # -- registration ------------------------------------------------------

    def tool(self, name: Optional[str] = None, *, title: Optional[str] = None,
             description: Optional[str] = None, annotations: Optional[Dict[str, Any]] = None,
             output_schema: Optional[Dict[str, Any]] = None, structured_output: Optional[bool] = None,
             icons: Optional[List[Dict[str, Any]]] = None, meta: Optional[Dict[str, Any]] = None,
             input_schema: Optional[Dict[str, Any]] = None, task: Optional[str] = None,
             task_start: str = "call") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a tool. The name defaults to the function's, the description to its
        docstring; the input schema comes from the parameters' type hints (or is given
        whole as ``input_schema``, then published exactly as written) and the output schema
        from the return annotation (``structured_output=False`` turns that off).

        ``task`` opts the tool in to the tasks extension (2026-07-28): ``"optional"`` - a
        call from a client that declared the extension is answered with a task at once and
        the function runs on a thread of its own, others are served as usual;
        ``"required"`` - as optional, but a client without the extension gets error
        -32021. ``task_start="handler"`` lets the function decide instead: the call stays
        an ordinary request until it calls ``ctx.start_task()``."""
        if callable(name):
            raise TypeError("use @app.tool() with parentheses")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.add_tool(fn, name=name, title=title, description=description, annotations=annotations,
                          output_schema=output_schema, structured_output=structured_output,
                          icons=icons, meta=meta, input_schema=input_schema, task=task, task_start=task_start)
            return fn
        return register

    def add_tool(self, fn: Callable[..., Any], name: Optional[str] = None, *, title: Optional[str] = None,
                 description: Optional[str] = None, annotations: Optional[Dict[str, Any]] = None,
                 output_schema: Optional[Dict[str, Any]] = None, structured_output: Optional[bool] = None,
                 icons: Optional[List[Dict[str, Any]]] = None, meta: Optional[Dict[str, Any]] = None,
                 input_schema: Optional[Dict[str, Any]] = None, task: Optional[str] = None,
                 task_start: str = "call") -> Tool:
        tool_name = name or getattr(fn, "__name__", None)
        if not tool_name or not re.match(_TOOL_NAME, tool_name):
            # 2025-11-25: tool names SHOULD be 1-128 characters of A-Z a-z 0-9 _ - .
            raise ValueError("invalid tool name %r: use 1-128 characters from A-Z a-z 0-9 _ - ." % (tool_name,))
        shape = describe_function(fn, "tool", (Context,))
        wrap = False
        if output_schema is None and structured_output is not False:
            try:
                output_schema, wrap = output_schema_for(shape.return_annotation)
            except TypeError as exc:
                raise TypeError("tool %r, return annotation: %s" % (tool_name, exc))
            if structured_output and output_schema is None:
                raise TypeError("tool %r: structured_output=True needs a return annotation with a JSON Schema"
                                % tool_name)
        elif output_schema is not None and output_schema.get("type") != "object":
            raise ValueError("tool %r: an output schema's root must be {\"type\": \"object\"}" % tool_name)
        if input_schema is not None and (not isinstance(input_schema, dict) or input_schema.get("type") != "object"):
            raise ValueError("tool %r: an input schema's root must be {\"type\": \"object\"}" % tool_name)
        if task is not None and task not in TASK_SUPPORT:
            raise ValueError("tool %r: task must be None, 'optional' or 'required', not %r" % (tool_name, task))
        if task_start not in ("call", "handler"):
            raise ValueError("tool %r: task_start must be 'call' or 'handler', not %r" % (tool_name, task_start))
        tool = Tool(fn, shape, tool_name, title, description if description is not None else (shape.description or None),
                    annotations, output_schema, wrap, icons, meta, input_schema, task, task_start)
        with self._lock:
            if tool_name in self._tools:
                raise ValueError("a tool named %r is already registered" % tool_name)
            self._tools[tool_name] = tool
        self.notify_list_changed("tools")
        return tool

    def remove_tool(self, name: str) -> None:
        """Unregister a tool; connected clients that asked to hear of it get
        ``notifications/tools/list_changed``. KeyError if there is no such tool."""
        with self._lock:
            if name not in self._tools:
                raise KeyError("no tool named %r" % (name,))
            del self._tools[name]
        self.notify_list_changed("tools")

    def resource(self, uri: str, *, name: Optional[str] = None, title: Optional[str] = None,
                 description: Optional[str] = None, mime_type: Optional[str] = None,
                 size: Optional[int] = None, annotations: Optional[Dict[str, Any]] = None,
                 icons: Optional[List[Dict[str, Any]]] = None,
                 meta: Optional[Dict[str, Any]] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a resource. A URI with ``{variables}`` registers a resource template
        whose variables are passed to the function by name."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.add_resource(fn, uri, name=name, title=title, description=description,
                              mime_type=mime_type, size=size, annotations=annotations, icons=icons, meta=meta)
            return fn
        return register

    def add_resource(self, fn: Callable[..., Any], uri: str, *, name: Optional[str] = None,
                     title: Optional[str] = None, description: Optional[str] = None,
                     mime_type: Optional[str] = None, size: Optional[int] = None,
                     annotations: Optional[Dict[str, Any]] = None, icons: Optional[List[Dict[str, Any]]] = None,
                     meta: Optional[Dict[str, Any]] = None) -> Union[Resource, ResourceTemplate]:
        if not isinstance(uri, str) or not uri:
            raise ValueError("a resource needs a URI")
        shape = describe_function(fn, "resource", (Context,))
        label = name or getattr(fn, "__name__", None) or uri
        desc = description if description is not None else (shape.description or None)
        if is_template(uri):
            pattern, variables = _template_pattern(uri)
            params = {p.name: p for p in shape.params}
            missing = [v for v in variables if v not in params and not shape.var_keyword]
            if missing:
                raise TypeError("resource template %r: function %r has no parameter for %s"
                                % (uri, getattr(fn, "__name__", fn), ", ".join(repr(v) for v in missing)))
            extra = [p.name for p in shape.params if p.required and p.name not in variables]
            if extra:
                raise TypeError("resource template %r: parameters %s are not template variables and have no default"
                                % (uri, ", ".join(repr(p) for p in extra)))
            template = ResourceTemplate(fn, shape, uri, label, title, desc, mime_type, annotations, icons, meta)
            template.arg_parsers = {v: _string_argument_parser(v, shape.input_schema.get("properties", {}).get(v, {}))
                                    for v in variables if v in params}
            with self._lock:
                if uri in self._templates:
                    raise ValueError("a resource template %r is already registered" % uri)
                self._templates[uri] = template
            self.notify_list_changed("resources")
            return template
        required = [p.name for p in shape.params if p.required]
        if required:
            raise TypeError("resource %r: a resource without {variables} in its URI takes no arguments, "
                            "but the function requires %s" % (uri, ", ".join(repr(p) for p in required)))
        resource = Resource(fn, shape, uri, label, title, desc, mime_type, size, annotations, icons, meta)
        with self._lock:
            if uri in self._resources:
                raise ValueError("a resource %r is already registered" % uri)
            self._resources[uri] = resource
        self.notify_list_changed("resources")
        return resource

    def remove_resource(self, uri: str) -> None:
        """Unregister a resource or resource template (by the URI it was registered with)
        and notify ``resources/list_changed``. KeyError if there is none."""
        with self._lock:
            if uri in self._resources:
                del self._resources[uri]
            elif uri in self._templates:
                del self._templates[uri]
                for ref in [r for r in self._completions if r[0] == "ref/resource" and r[1] == uri]:
                    del self._completions[ref]
            else:
                raise KeyError("no resource or template %r" % (uri,))
        self.notify_list_changed("resources")

    def prompt(self, name: Optional[str] = None, *, title: Optional[str] = None,
               description: Optional[str] = None, icons: Optional[List[Dict[str, Any]]] = None,
               meta: Optional[Dict[str, Any]] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a prompt; its parameters become the prompt's arguments."""
        if callable(name):
            raise TypeError("use @app.prompt() with parentheses")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.add_prompt(fn, name=name, title=title, description=description, icons=icons, meta=meta)
            return fn
        return register

    def add_prompt(self, fn: Callable[..., Any], name: Optional[str] = None, *, title: Optional[str] = None,
                   description: Optional[str] = None, icons: Optional[List[Dict[str, Any]]] = None,
                   meta: Optional[Dict[str, Any]] = None) -> Prompt:
        prompt_name = name or getattr(fn, "__name__", None)
        if not prompt_name:
            raise ValueError("a prompt needs a name")
        shape = describe_function(fn, "prompt", (Context,))
        prompt = Prompt(fn, shape, prompt_name, title,
                        description if description is not None else (shape.description or None), icons, meta)
        with self._lock:
            if prompt_name in self._prompts:
                raise ValueError("a prompt named %r is already registered" % prompt_name)
            self._prompts[prompt_name] = prompt
        self.notify_list_changed("prompts")
        return prompt

    def remove_prompt(self, name: str) -> None:
        """Unregister a prompt and notify ``prompts/list_changed``. KeyError if there is none."""
        with self._lock:
            if name not in self._prompts:
                raise KeyError("no prompt named %r" % (name,))
            del self._prompts[name]
            for ref in [r for r in self._completions if r[0] == "ref/prompt" and r[1] == name]:
                del self._completions[ref]
        self.notify_list_changed("prompts")

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
            self.add_completion(fn, argument, prompt=prompt, template=template)
            return fn
        return register

    def add_completion(self, fn: Callable[..., Any], argument: str, *, prompt: Optional[str] = None,
                       template: Optional[str] = None) -> None:
        if (prompt is None) == (template is None):
            raise TypeError("give exactly one of prompt= or template=")
        import inspect
        params = list(inspect.signature(fn).parameters.values())
        takes_context = any(p.kind == p.VAR_POSITIONAL for p in params) or len(
            [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) >= 2
        ref = ("ref/prompt", prompt, argument) if prompt is not None else ("ref/resource", template, argument)
        with self._lock:
            self._completions[ref] = (lambda value, others: fn(value, others)) if takes_context else (
                lambda value, others: fn(value))

    # -- running -------------------------------------------------------------

    def run(self, transport: str = "stdio", **options: Any) -> None:
        """Serve until the client goes away (stdio) or until interrupted (HTTP).

        ``"stdio"`` (the default) reads requests from stdin and writes responses to
        stdout. ``"http"`` serves Streamable HTTP at ``http://host:port/path``
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

    def needs_context(self, call: Call) -> bool:
        """Whether serving ``call`` runs a handler that takes a Context - one that may send
        progress or logs, or watch for cancellation while it runs. Transports run the other
        requests on the thread they arrived on when they can afford to (HTTP): nothing can
        happen between such a request and its response."""
        params = call.request.params
        method = call.request.method
        if method == "tools/call":
            handler = self._tools.get(params.get("name"))  # type: Any
        elif method == "prompts/get":
            handler = self._prompts.get(params.get("name"))
        elif method == "resources/read":
            uri = params.get("uri")
            handler = self._resources.get(uri)
            if handler is None and isinstance(uri, str):
                if any(t.needs_context for t in list(self._templates.values())):
                    return True  # which template matches is decided while serving
        else:
            return False
        return handler is not None and handler.needs_context

    def find_tool(self, name: Any) -> Optional[Tool]:
        return self._tools.get(name) if isinstance(name, str) else None

    # -- change notifications --------------------------------------------------

    def add_listener(self, listener: ChangeListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: ChangeListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def notify_list_changed(self, kind: str) -> None:
        """Tell every listener that the list of ``kind`` ("tools", "prompts" or
        "resources") changed; each gets ``notifications/<kind>/list_changed`` if it asked."""
        if kind not in ("tools", "prompts", "resources"):
            raise ValueError("kind must be 'tools', 'prompts' or 'resources'")
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.list_changed(kind)

    def notify_resource_updated(self, uri: str) -> None:
        """Tell the listeners subscribed to ``uri`` that the resource changed."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.resource_updated(uri)

    # -- protocol ------------------------------------------------------------

    def server_info(self, version: str) -> Dict[str, Any]:
        info = {"name": self.name, "version": self.version}  # type: Dict[str, Any]
        if version >= "2025-06-18":
            _set(info, "title", self.title)
        if version >= "2025-11-25":
            _set(info, "description", self.description)
            _set(info, "websiteUrl", self.website_url)
            _set(info, "icons", self.icons)
        return info

    def capabilities(self, version: str, stateful: bool = True) -> Dict[str, Any]:
        """Capabilities follow what is registered: a server without prompts does not claim
        them. A legacy session that ends with its request (stateless HTTP) can hear of no
        change, so it is promised none."""
        caps = {"logging": {}}  # type: Dict[str, Any]
        if self._completions and version >= "2025-03-26":
            caps["completions"] = {}  # 2024-11-05 had completion/complete but no capability for it
        # Registrations can change at run time (add_tool, remove_tool...), and every session
        # hears of it: legacy ones by notifications, 2026-07-28 ones on subscriptions/listen.
        if self._tools:
            caps["tools"] = {"listChanged": True} if stateful else {}
        if self._resources or self._templates:
            caps["resources"] = {"subscribe": True, "listChanged": True} if stateful else {}
        if self._prompts:
            caps["prompts"] = {"listChanged": True} if stateful else {}
        if version >= MODERN_VERSIONS[0] and self._serves_tasks():
            # SEP-2663: advertised "in your server/discover capabilities" under extensions,
            # never as the 2025-11-25 capabilities.tasks ("MUST NOT continue to advertise the
            # legacy capabilities under any protocol version that includes this extension").
            # Only while a tool can run as a task, as the other capabilities follow what is
            # registered.
            caps["extensions"] = {TASKS_EXTENSION: {}}
        return caps

    def _serves_tasks(self) -> bool:
        return any(tool.task is not None for tool in list(self._tools.values())) or self.tasks.count() > 0

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
        return Call(self, request, port)

    def _modern_request(self, rid: Any, method: str, params: Dict[str, Any], offered: Sequence[str],
                        listed: Optional[Sequence[str]], headers: Optional[Dict[str, str]], principal: Any) -> Request:
        """A 2026-07-28 request: everything it needs is in its own ``_meta``."""
        meta = params.get("_meta")
        if not isinstance(meta, dict) or META_PROTOCOL_VERSION not in meta:
            # "A request missing any required field is malformed; the server MUST
            # reject it with JSON-RPC error code -32602 (Invalid params)."
            raise MCPError(INVALID_PARAMS, "Invalid params: _meta[%r] is required" % META_PROTOCOL_VERSION)
        version = meta[META_PROTOCOL_VERSION]
        if version not in MODERN_VERSIONS:
            raise MCPError(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version",
                           {"supported": list(offered), "requested": version
                            if isinstance(version, str) else json.dumps(version)})
        capabilities = meta.get(META_CLIENT_CAPABILITIES)
        if not isinstance(capabilities, dict):
            raise MCPError(INVALID_PARAMS, "Invalid params: _meta[%r] is required and must be an object"
                           % META_CLIENT_CAPABILITIES)
        info = meta.get(META_CLIENT_INFO)
        level = meta.get(META_LOG_LEVEL)
        if level is not None and (not isinstance(level, str) or level not in LOG_RANK):
            raise MCPError(INVALID_PARAMS, "Invalid params: unknown log level %r" % (level,))
        if method in LEGACY_ONLY_METHODS or method not in self._methods:
            raise MCPError(METHOD_NOT_FOUND, "Method not found: %s" % method)
        return Request(rid, method, params, version, True, None, capabilities, info if isinstance(info, dict) else {},
                       level, progress_token_of(params), headers, principal, offered if listed is None else listed)

    def _legacy_request(self, rid: Any, method: str, params: Dict[str, Any], session: Optional[LegacySession],
                        offered: Sequence[str], headers: Optional[Dict[str, str]], principal: Any) -> Request:
        """A request of an ``initialize`` session: its version and the client's declarations
        are the session's."""
        if method in MODERN_ONLY_METHODS or method not in self._methods:
            raise MCPError(METHOD_NOT_FOUND, "Method not found: %s" % method)
        if session is None or session.protocol_version is None:
            if method not in ("initialize", "ping"):
                raise MCPError(INVALID_REQUEST, "Invalid request: the session is not initialized; "
                                                "send initialize first")
            return Request(rid, method, params, LATEST_LEGACY_VERSION, False, session, {}, {}, None,
                           progress_token_of(params), headers, principal, offered)
        return Request(rid, method, params, session.protocol_version, False, session, session.client_capabilities,
                       session.client_info, None, progress_token_of(params), headers, principal, offered)

    def handle_request(self, call: Call) -> Optional[Message]:
        """Run one request; the response message, or None when the request was cancelled."""
        try:
            if call.request.modern:
                try:
                    load_answers(call)
                    result = self._methods[call.request.method](call)
                except InputRequired as needed:
                    # The handler asked what the client has not answered yet: this round
                    # ends here (see the asking module).
                    result = input_required_result(call, needed.requests)
                except UrlElicitationRequired as exc:
                    result = url_elicitation_round(call, exc)
                kind = result.setdefault("resultType", "complete")
                meta = result.get("_meta")
                if meta is None:
                    meta = result["_meta"] = {}
                meta[META_SERVER_INFO] = self.server_info(call.request.version)
                if kind == "complete" and call.request.method in _CACHEABLE:
                    result["ttlMs"] = self.cache_ttl_ms
                    result["cacheScope"] = self.cache_scope
            else:
                result = self._methods[call.request.method](call)
            response = result_response(call.request.id, result)
        except MCPError as exc:
            response = error_response(call.request.id, exc)
        except ConnectionClosed:
            # The client went while a handler asked it something: nobody is left to read
            # this answer, and nothing went wrong here.
            response = error_response(call.request.id, MCPError(INTERNAL_ERROR, "Internal error: the connection closed"))
        except (Exception, SystemExit):
            # SystemExit too: argparse in a handler calls sys.exit(), and the request
            # still needs its one response.
            _server_log.exception("internal error while handling %s (id %r)", call.request.method, call.request.id)
            response = error_response(call.request.id, MCPError(INTERNAL_ERROR, "Internal error"))
        finally:
            call.finished = True
        if call.cancelled:
            return None
        return response

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
            "capabilities": self.capabilities(version, _stateful(call)),
            "serverInfo": self.server_info(version),
        }  # type: Dict[str, Any]
        _set(result, "instructions", self.instructions)
        return result

    def _ping(self, call: Call) -> Dict[str, Any]:
        return {}

    def _discover(self, call: Call) -> Dict[str, Any]:
        result = {
            "supportedVersions": list(call.request.offered_versions),
            "capabilities": self.capabilities(call.request.version),
        }  # type: Dict[str, Any]
        _set(result, "instructions", self.instructions)
        return result

    def _listen(self, call: Call) -> Dict[str, Any]:
        # The transports serve subscriptions/listen themselves, as a stream that outlives
        # any handler; reaching this means one that cannot.
        raise MCPError(METHOD_NOT_FOUND, "Method not found: subscriptions/listen is not available on this transport")

    def _set_level(self, call: Call) -> Dict[str, Any]:
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
            cursor = self.sealer.open(call.request.params["cursor"])
            if not (isinstance(cursor, list) and len(cursor) == 2 and cursor[0] == key
                    and type(cursor[1]) is int and cursor[1] >= 0):
                # "Invalid cursors SHOULD result in an error with code -32602 (Invalid params)."
                raise MCPError(INVALID_PARAMS, "Invalid params: invalid cursor %r" % (call.request.params["cursor"],))
            start = cursor[1]
        end = len(entries) if self.page_size is None else start + self.page_size
        result = {key: [entry.describe(call.request.version) for entry in entries[start:end]]}  # type: Dict[str, Any]
        if end < len(entries):
            result["nextCursor"] = self.sealer.seal([key, end])
        return result

    def _list_tools(self, call: Call) -> Dict[str, Any]:
        self._require(self._tools, "tools", call.request.method)
        return self._page(call, "tools", self._tools)

    def _list_resources(self, call: Call) -> Dict[str, Any]:
        self._require(self._resources or self._templates, "resources", call.request.method)
        return self._page(call, "resources", self._resources)

    def _list_templates(self, call: Call) -> Dict[str, Any]:
        self._require(self._resources or self._templates, "resources", call.request.method)
        return self._page(call, "resourceTemplates", self._templates)

    def _list_prompts(self, call: Call) -> Dict[str, Any]:
        self._require(self._prompts, "prompts", call.request.method)
        return self._page(call, "prompts", self._prompts)

    def _uri_param(self, call: Call) -> str:
        self._require(self._resources or self._templates, "resources", call.request.method)
        uri = call.request.params.get("uri")
        if not isinstance(uri, str):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"uri\" must be a string")
        return uri

    def _subscribe(self, call: Call) -> Dict[str, Any]:
        if not _stateful(call):
            raise MCPError(METHOD_NOT_FOUND, "Method not found: resources/subscribe (a stateless server has no "
                                             "session to deliver updates to)")
        uri = self._uri_param(call)
        if uri not in self._resources and not any(t.match(uri) is not None for t in list(self._templates.values())):
            raise MCPError(RESOURCE_NOT_FOUND, "Resource not found: %s" % uri, {"uri": uri})
        session = call.request.session
        if session is not None:
            with self._lock:
                if uri not in session.subscriptions and len(session.subscriptions) >= self.max_subscriptions:
                    raise MCPError(INVALID_PARAMS, "Invalid params: this session already has %d subscriptions "
                                                   "(the limit)" % self.max_subscriptions)
                session.subscriptions.add(uri)
        return {}

    def _unsubscribe(self, call: Call) -> Dict[str, Any]:
        uri = self._uri_param(call)
        if call.request.session is not None:
            with self._lock:
                call.request.session.subscriptions.discard(uri)  # not subscribed: nothing to undo
        return {}

    def _complete(self, call: Call) -> Dict[str, Any]:
        self._require(self._completions, "completions", call.request.method)
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
            prompt = self._prompts.get(target) if isinstance(target, str) else None
            if prompt is None:
                raise MCPError(INVALID_PARAMS, "Unknown prompt: %s" % (target,))
            if name not in prompt.parsers and not prompt.shape.var_keyword:
                raise MCPError(INVALID_PARAMS, "Prompt %s has no argument %r" % (target, name))
        else:
            target = ref.get("uri")
            template = self._templates.get(target) if isinstance(target, str) else None
            if template is None:
                raise MCPError(INVALID_PARAMS, "Unknown resource template: %s" % (target,))
            if name not in template.variables:
                raise MCPError(INVALID_PARAMS, "Resource template %s has no variable %r" % (target, name))
        complete = self._completions.get((ref["type"], target, name))
        if complete is None:
            return {"completion": {"values": [], "total": 0, "hasMore": False}}
        context = params.get("context")
        others = context.get("arguments") if isinstance(context, dict) else None
        try:
            value = complete(argument["value"], dict(others) if isinstance(others, dict) else {})
        except MCPError:
            raise
        except (Exception, SystemExit) as exc:
            _server_log.exception("completion of %s %r raised", target, name)
            raise MCPError(INTERNAL_ERROR, "Error in the completion of %r: %s" % (name, exc))
        return {"completion": _completion(value)}

    def _call_tool(self, call: Call) -> Dict[str, Any]:
        self._require(self._tools, "tools", call.request.method)
        params = call.request.params
        name = params.get("name")
        if not isinstance(name, str):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"name\" must be a string")
        tool = self._tools.get(name)
        if tool is None:
            raise MCPError(INVALID_PARAMS, "Unknown tool: %s" % name)
        arguments = params.get("arguments")
        if arguments is None:
            arguments = {}
        elif not isinstance(arguments, dict):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"arguments\" must be an object")
        problem = tool.check_input(arguments)
        if problem is not None:
            # 2025-11-25: input validation errors are tool execution errors (isError), so
            # the model can read them and correct its call.
            return _tool_error("Invalid arguments for tool %s: %s" % (name, problem))
        if tool.task is not None and call.task is None:
            if call.request.modern and declares_tasks(call.request.client_capabilities):
                if tool.task_start == "call":
                    return self._start_task(tool, arguments, call)
                call.task_startable = True
                try:
                    return self._run_tool(tool, arguments, call)
                except TaskStart:
                    return self._start_task(tool, arguments, call)
                finally:
                    call.task_startable = False
            if tool.task == "required":
                # "If a server is unable to service a request to a client that does not
                # declare this extension capability without returning CreateTaskResult, the
                # server MUST return an error with the code -32021".
                raise missing_tasks_capability("tool %s" % name)
        return self._run_tool(tool, arguments, call)

    def _run_tool(self, tool: Tool, arguments: Dict[str, Any], call: Call) -> Dict[str, Any]:
        """Run a tool's function; its result, or MCPError for a JSON-RPC error."""
        name = tool.name
        try:
            value = tool.invoke(arguments, call)
        except (MCPError, ConnectionClosed):
            raise
        except ToolError as exc:
            return _tool_error(str(exc) or "tool %s failed" % name)
        except Cancelled:
            return _tool_error("cancelled")
        except (Exception, SystemExit) as exc:
            # The traceback stays in the server's log; the model reads the message only.
            _server_log.exception("tool %s raised", name)
            message = str(exc)
            return _tool_error("%s: %s" % (type(exc).__name__, message) if message
                                    else type(exc).__name__)
        try:
            return self._tool_result(tool, value, call)
        except (TypeError, ValueError) as exc:
            _server_log.exception("tool %s returned a value that cannot be sent", name)
            return _tool_error("Tool %s returned a value that cannot be sent as JSON: %s" % (name, exc))

    # -- the tasks extension ----------------------------------------------------------

    def _start_task(self, tool: Tool, arguments: Dict[str, Any], call: Call) -> Dict[str, Any]:
        """Answer ``call`` with a task, and run the tool in it on a thread of its own."""
        task_call = call.for_task()
        task = self.tasks.create(task_call, _principal_key(call.request.principal))
        task_call.task = task
        if call.rounds is not None and call.rounds.answers:
            # Answers from input_required rounds before the task (task_start="handler") stand.
            task.answers.update(call.rounds.answers)
        # The seed state, taken before the handler can move the task on.
        created = self.tasks.created_result(task)
        thread = threading.Thread(target=self._run_task, args=(tool, arguments, task),
                                  name="mcplite-task-" + task.id[:8])
        thread.daemon = True
        try:
            thread.start()
        except RuntimeError:  # "can't start new thread": the task fails rather than hangs
            _server_log.exception("no thread for task %s of tool %s", task.id, tool.name)
            self.tasks.finish(task, error=MCPError(INTERNAL_ERROR, "Server busy: no thread to run the task"))
        return created

    def _run_task(self, tool: Tool, arguments: Dict[str, Any], task: Any) -> None:
        call = task.call
        try:
            result = self._run_tool(tool, arguments, call)
        except MCPError as exc:
            # "When the underlying request encounters a JSON-RPC protocol error during
            # execution, the task moves to the failed status" with that error.
            self.tasks.finish(task, error=exc)
        except (Exception, SystemExit, InputRequired, TaskStart):
            _server_log.exception("task %s of tool %s failed", task.id, tool.name)
            self.tasks.finish(task, error=MCPError(INTERNAL_ERROR, "Internal error"))
        else:
            # A tool error (isError) is a result: "This status MUST NOT be used for
            # non-JSON-RPC errors, such as a tool result that completed with isError: true."
            self.tasks.finish(task, result)
        finally:
            call.finished = True

    def _task_param(self, call: Call) -> Any:
        """The task a tasks/* request names, after the checks every one of them gets."""
        if not call.request.modern or not self._serves_tasks():
            # Legacy sessions keep 2025-11-25's experimental tasks unimplemented (-32601),
            # as does a server none of whose tools runs as a task.
            raise MCPError(METHOD_NOT_FOUND, "Method not found: %s" % call.request.method)
        if not declares_tasks(call.request.client_capabilities):
            # "Servers MUST return this error for non-declaring clients issuing tasks/get,
            # tasks/update, and tasks/cancel requests."
            raise missing_tasks_capability(call.request.method)
        return self.tasks.find(call.request.params.get("taskId"), _principal_key(call.request.principal))

    def _get_task(self, call: Call) -> Dict[str, Any]:
        return self.tasks.detailed(self._task_param(call))

    def _update_task(self, call: Call) -> Dict[str, Any]:
        task = self._task_param(call)
        responses = call.request.params.get("inputResponses")
        if not isinstance(responses, dict):
            raise MCPError(INVALID_PARAMS, "Invalid params: inputResponses must be an object")
        self.tasks.answer(task, responses)
        # "On success, the server MUST acknowledge the request with an empty result."
        return {}

    def _cancel_task(self, call: Call) -> Dict[str, Any]:
        self.tasks.cancel(self._task_param(call))
        # "The server MUST acknowledge the request with an empty result."
        return {}

    def _tool_result(self, tool: Tool, value: Any, call: Call) -> Dict[str, Any]:
        version = call.request.version
        if tool.output_schema is not None:
            data = to_json(value)
            structured = {"result": data} if tool.wrap_output else data
            problem = tool.check_output(structured) if tool.check_output else None
            if problem is not None:
                _server_log.error("tool %s returned a value that does not match its output schema: %s",
                                  tool.name, problem)
                # "Servers MUST provide structured results that conform to this schema."
                return _tool_error("Tool %s returned a result that does not match its output schema: %s"
                                        % (tool.name, problem))
            result = {"content": [text(_json_text(data))]}  # type: Dict[str, Any]
            if version >= "2025-06-18":
                result["structuredContent"] = structured
            return result
        content, structured = _content_from_value(value, tool.name)
        result = {"content": content_for_version(content, version)}
        if structured is not None and version >= "2025-06-18":
            result["structuredContent"] = structured
        return result

    def _read_resource(self, call: Call) -> Dict[str, Any]:
        return {"contents": self.read_resource_for(call, self._uri_param(call))}

    def read_resource_for(self, call: Call, uri: str) -> List[Dict[str, Any]]:
        """The contents of resource ``uri``, read on behalf of ``call`` (the
        ``resources/read`` being served, or a handler's ``ctx.read_resource``)."""
        if not isinstance(uri, str):
            raise TypeError("a resource URI is a str")
        resource = self._resources.get(uri)
        if resource is not None:
            value = self._run_handler(resource, {}, call, "resource " + uri)
            if value is not None:
                return _resource_contents(uri, value, resource.mime_type)
        else:
            for template in list(self._templates.values()):
                variables = template.match(uri)
                if variables is not None:
                    arguments = {k: template.arg_parsers[k](v) if k in template.arg_parsers else v
                                 for k, v in variables.items()}
                    value = self._run_handler(template, arguments, call, "resource " + uri)
                    # A handler returns None for "no such resource" (a template matches
                    # URIs of things that may not exist).
                    if value is not None:
                        return _resource_contents(uri, value, template.mime_type)
                    break
        if call.request.modern:
            # 2026-07-28 retires -32002: "Resource-not-found becomes -32602".
            raise MCPError(INVALID_PARAMS, "Resource not found: %s" % uri, {"uri": uri})
        raise MCPError(RESOURCE_NOT_FOUND, "Resource not found: %s" % uri, {"uri": uri})

    def _run_handler(self, handler: _Handler, arguments: Dict[str, Any], call: Call, what: str) -> Any:
        try:
            return handler.invoke(arguments, call)
        except (MCPError, ConnectionClosed):
            raise
        except (Exception, SystemExit) as exc:
            _server_log.exception("%s raised", what)
            raise MCPError(INTERNAL_ERROR, "Error in %s: %s" % (what, exc) if str(exc)
                           else "Error in %s: %s" % (what, type(exc).__name__))

    def _get_prompt(self, call: Call) -> Dict[str, Any]:
        self._require(self._prompts, "prompts", call.request.method)
        name = call.request.params.get("name")
        if not isinstance(name, str):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"name\" must be a string")
        prompt = self._prompts.get(name)
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
        result = {"messages": _prompt_messages(value, call.request.version)}  # type: Dict[str, Any]
        _set(result, "description", prompt.description)
        return result


# ---------------------------------------------------------------------------
# Turning return values into wire results

def _principal_key(principal: Any) -> Any:
    """Whom a task belongs to: the bearer token's subject (or client id) over protected
    HTTP, nobody in particular elsewhere."""
    identity = principal_identity(principal)
    # A principal that names no one is kept apart from every other one.
    return identity if identity is not None or principal is None else repr(principal)


def _stateful(call: Call) -> bool:
    """Whether the session of ``call`` outlives it (not over stateless HTTP)."""
    return call.port.stateful


def _completion(value: Any) -> Dict[str, Any]:
    """A completion function's return value as a ``completion`` object: "values" holds
    "Maximum 100 items per response"; ``total`` and ``hasMore`` tell what was cut."""
    total = has_more = None
    if isinstance(value, dict):
        total = value.get("total")
        has_more = value.get("hasMore")
        value = value.get("values")
    values = list(value) if value is not None else []
    if not all(isinstance(v, str) for v in values):
        raise MCPError(INTERNAL_ERROR, "a completion function must return strings")
    if total is None:
        total = len(values)
    if has_more is None:
        has_more = total > min(len(values), 100)
    return {"values": values[:100], "total": total, "hasMore": bool(has_more)}


def _tool_error(message: str) -> Dict[str, Any]:
    """A tool execution error: a result the model can read, not a protocol error."""
    return {"content": [text(message)], "isError": True}


def _content_from_value(value: Any, tool_name: str) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """(content blocks, structuredContent) for a tool without an output schema."""
    if value is None:
        return [], None
    if isinstance(value, str):
        return [text(value)], None
    if isinstance(value, (bytes, bytearray)):
        return [_blob_block(bytes(value), tool_name)], None
    if is_content_block(value):
        return [value], None
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (str, bytes, bytearray)) or is_content_block(v) for v in value):
        blocks = []
        for item in value:
            if isinstance(item, str):
                blocks.append(text(item))
            elif isinstance(item, (bytes, bytearray)):
                blocks.append(_blob_block(bytes(item), tool_name))
            else:
                blocks.append(item)
        return blocks, None
    data = to_json(value)
    # structuredContent must be an object before 2026-07-28; any other value is wrapped.
    structured = data if isinstance(data, dict) else {"result": data}
    return [text(_json_text(data))], structured


def _is_contents(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("uri"), str)
            and ("text" in value or "blob" in value)
            and set(value) <= {"uri", "mimeType", "text", "blob", "_meta"})


def _resource_contents(uri: str, value: Any, mime_type: Optional[str]) -> List[Dict[str, Any]]:
    if _is_contents(value):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(_is_contents(v) for v in value):
        return list(value)
    if isinstance(value, str):
        return [resource_contents(uri, value, mime_type or "text/plain")]
    if isinstance(value, (bytes, bytearray)):
        return [resource_contents(uri, bytes(value), mime_type or "application/octet-stream")]
    return [resource_contents(uri, _json_text(to_json(value)), mime_type or "application/json")]


def _prompt_messages(value: Any, version: str) -> List[Dict[str, Any]]:
    items = value if isinstance(value, (list, tuple)) else [value]
    messages = []  # type: List[Dict[str, Any]]
    for item in items:
        if isinstance(item, str):
            messages.append({"role": "user", "content": text(item)})
        elif is_content_block(item):
            messages.append({"role": "user", "content": item})
        elif isinstance(item, dict) and item.get("role") in ("user", "assistant") and "content" in item:
            content = item["content"]
            if isinstance(content, str):
                content = text(content)
            elif not is_content_block(content):
                raise MCPError(INTERNAL_ERROR, "prompt returned a message whose content is not a content block")
            messages.append({"role": item["role"], "content": content})
        else:
            raise MCPError(INTERNAL_ERROR, "prompt returned %s; expected a str, a message "
                                           "{'role', 'content'} or a list of them" % type(item).__name__)
    for message in messages:
        message["content"] = content_for_version([message["content"]], version)[0]
    return messages
