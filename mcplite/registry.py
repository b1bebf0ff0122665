"""What a server offers: its tools, resources, resource templates, prompts and completions,
as registered, and who hears of changes to them.

A registered function becomes a handler with what registration learned about it (its
schemas, its compiled validators, how to call it); ``describe(version)`` is its entry in a
list result for that protocol version. Nothing here runs a request (dispatch.py does) or
touches a transport.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from .calls import Call
from .context import Context
from .errors import Cancelled, MCPError
from .jsonrpc import INVALID_PARAMS, Message, notification
from .ports import ChangeListener
from .protocol import (MCP_NOTIFICATIONS, MCP_REQUEST_METHODS, META_SUBSCRIPTION_ID, TASK_SUPPORT, check_cache_hints,
                       supports)
from .schema import (
    FunctionShape, compile_schema, describe_function, header_parameters, output_schema_for,
)

# A pattern: re compiles and caches it on first use. \Z, not $: $ matches before a final newline.
_TOOL_NAME = r"^[A-Za-z0-9_.-]{1,128}\Z"

# The requests that run the application's handlers (as against lists, answered from the registry).
_APPLICATION_METHODS = frozenset(("tools/call", "prompts/get", "resources/read"))


def put_given(entry: Dict[str, Any], key: str, value: Any) -> None:
    """``entry[key] = value``, unless ``value`` is None (an optional field left out)."""
    if value is not None:
        entry[key] = value


_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect
_CO_ASYNC_GENERATOR = 0x200


def is_async_function(fn: Any) -> bool:
    """Whether ``fn`` is an ``async def`` function (or a method or partial of one). Raises
    TypeError for an async generator, which has no one value to return."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None:
        import inspect  # (a partial, a callable object: rare enough to pay for inspect)
        if inspect.isasyncgenfunction(fn):
            raise TypeError("%r is an async generator: a handler returns one value" % (fn,))
        return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))
    if code.co_flags & _CO_ASYNC_GENERATOR:
        raise TypeError("%s is an async generator: a handler returns one value" % getattr(fn, "__name__", fn))
    return bool(code.co_flags & _CO_COROUTINE)


def run_coroutine(coroutine: Any, call: Call) -> Any:
    """Run an ``async def`` handler's coroutine to its end on this (worker) thread, in an
    event loop of its own, and return its value. mcplite stays synchronous: asyncio is
    imported only when such a handler runs. The call's cancellation reaches the coroutine
    (``asyncio.CancelledError`` inside it), looked for every 50 ms."""
    import asyncio

    async def watched() -> Any:
        task = asyncio.ensure_future(coroutine)
        while not task.done():
            if call.cancelled:
                task.cancel()
            await asyncio.wait([task], timeout=0.05)
        return task.result()

    try:
        return asyncio.run(watched())
    except asyncio.CancelledError:
        raise Cancelled("request %r was cancelled" % (call.request.id,))


class Handler:
    """A registered function and what registration learned about it (an ``async def``
    function runs to its end in the worker thread: see ``run_coroutine``)."""

    # 2026-07-28 caching hints given at registration (``cache_ttl_ms=``, ``cache_scope=``):
    # None leaves the server's defaults. For a tool or prompt they qualify the list that
    # holds it; for a resource or template, the ``resources/read`` results it makes.
    cache_ttl_ms = None  # type: Optional[int]
    cache_scope = None  # type: Optional[str]

    def __init__(self, fn: Callable[..., Any], shape: FunctionShape) -> None:
        self.fn = fn
        self.shape = shape
        self.needs_context = bool(shape.context_params)
        self.is_async = is_async_function(fn)
        # Decided once, here: whether a call passes the validated arguments straight as
        # keywords (the common function: no Context, nothing to convert, nothing positional).
        self._plain = not (self.needs_context or shape.has_positional_only or shape.params_need_conversion
                           or shape.var_keyword)
        self._int_params = shape.int_params

    def invoke(self, arguments: Dict[str, Any], call: Call) -> Any:
        # (The plain function's call made here, not in _invoke: a Python call less per call.)
        if self._plain:
            for name in self._int_params:  # validated: an integral float at most
                if type(arguments.get(name)) is float:
                    arguments = dict(arguments)
                    arguments[name] = int(arguments[name])
            value = self.fn(**arguments)
        else:
            value = self._invoke(arguments, call)
        if self.is_async:  # (the call made a coroutine: run it to its end here)
            return run_coroutine(value, call)
        return value

    def _invoke(self, arguments: Dict[str, Any], call: Call) -> Any:
        """Call the function of a handler that is not plain (``_plain``)."""
        args, kwargs = self.shape.bind(arguments, Context(call) if self.needs_context else None)
        return self.fn(*args, **kwargs)


class Tool(Handler):
    def __init__(self, fn: Callable[..., Any], shape: FunctionShape, *, name: str, title: Optional[str] = None,
                 description: Optional[str] = None, annotations: Optional[Dict[str, Any]] = None,
                 output_schema: Optional[Dict[str, Any]] = None, wrap_output: bool = False,
                 icons: Optional[List[Dict[str, Any]]] = None, meta: Optional[Dict[str, Any]] = None,
                 input_schema: Optional[Dict[str, Any]] = None, task: Optional[str] = None,
                 task_start: str = "call", inline: bool = False) -> None:
        super().__init__(fn, shape)
        self.name = name
        # Served on the thread that read the request (stdio's reading thread), not handed to
        # the worker pool: declared by the application, which alone knows the tool is quick.
        self.inline = inline
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
        # The validators are compiled on the tool's first call (check_input, check_output):
        # compiled at registration, 10,000 tools held ~100 MiB of closures, most of them for
        # tools a client may never call. add_tool compiles a schema the caller wrote at once,
        # so a mistake in it is still reported at registration.
        # Checked over 2026-07-28 HTTP against the Mcp-Param-* headers of each call.
        # () when there are none (most tools): an empty list kept per tool is one more object
        # for every later garbage-collection pass to visit.
        self.header_params = header_parameters(self.input_schema) or ()  # type: Sequence[Tuple[Tuple[str, ...], str, str]]
        self._coercer = None  # type: Optional[Callable[[Any], Any]]

    # ``check_input(arguments)`` and ``check_output(value)`` (with an output schema only): the
    # first problem found, or None. The first call compiles the validator and leaves it in
    # the instance's attribute of the same name, which every later lookup finds before the
    # method (a function is a non-data descriptor): no Python call on the way to it, as a
    # property would make on every tools/call. (Two threads may compile the same schema at
    # once on a first call: both results are the same validator, and either may stay.)
    def check_input(self, arguments: Any) -> Optional[str]:
        self.compile_checks(True, False)
        return self.check_input(arguments)  # (the compiled validator, from now on)

    def check_output(self, value: Any) -> Optional[str]:
        self.compile_checks(False, True)
        return self.check_output(value)  # (the compiled validator, from now on)

    def compile_checks(self, inputs: bool, outputs: bool) -> None:
        """Compile the input validator, the output one or both now, each kept as the
        instance's ``check_input`` / ``check_output`` (add_tool: those of the schemas the
        caller wrote, whose mistakes are reported at registration)."""
        # (setattr: mypy refuses an assignment to a method.)
        if inputs:
            setattr(self, "check_input", compile_schema(self.input_schema))
        if outputs:
            setattr(self, "check_output", compile_schema(self.output_schema))

    def coerce(self, arguments: Dict[str, Any]) -> Dict[str, Any]:
        """``arguments`` with the lossless string conversions of ``Server(coerce_arguments=True)``
        ("3" for an integer, "true" for a boolean), or ``arguments`` itself when there is none
        to make. Compiled on first use: only calls that fail validation need it."""
        coercer = self._coercer
        if coercer is None:
            from .coercion import compile_coercer  # only a refused call gets here
            coercer = self._coercer = compile_coercer(self.input_schema)
        return coercer(arguments)  # type: ignore[no-any-return]

    def describe(self, version: str) -> Dict[str, Any]:
        entry = {"name": self.name}  # type: Dict[str, Any]
        if supports(version, "titles"):
            put_given(entry, "title", self.title)
        put_given(entry, "description", self.description)
        entry["inputSchema"] = self.input_schema
        if supports(version, "structured_content"):
            put_given(entry, "outputSchema", self.output_schema)
        if supports(version, "tool_annotations"):
            put_given(entry, "annotations", self.annotations)
        if supports(version, "icons"):
            put_given(entry, "icons", self.icons)
        if supports(version, "list_meta"):
            put_given(entry, "_meta", self.meta)
        return entry


class Resource(Handler):
    def __init__(self, fn: Callable[..., Any], shape: FunctionShape, *, uri: str, name: str,
                 title: Optional[str] = None, description: Optional[str] = None, mime_type: Optional[str] = None,
                 size: Optional[int] = None, annotations: Optional[Dict[str, Any]] = None,
                 icons: Optional[List[Dict[str, Any]]] = None, meta: Optional[Dict[str, Any]] = None) -> None:
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
        put_given(entry, "size", self.size)
        return entry


class ResourceTemplate(Handler):
    def __init__(self, fn: Callable[..., Any], shape: FunctionShape, *, uri_template: str, name: str,
                 title: Optional[str] = None, description: Optional[str] = None, mime_type: Optional[str] = None,
                 annotations: Optional[Dict[str, Any]] = None, icons: Optional[List[Dict[str, Any]]] = None,
                 meta: Optional[Dict[str, Any]] = None) -> None:
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
    if supports(version, "titles"):
        put_given(entry, "title", item.title)
    put_given(entry, "description", item.description)
    put_given(entry, "mimeType", item.mime_type)
    put_given(entry, "annotations", item.annotations)
    if supports(version, "icons"):
        put_given(entry, "icons", item.icons)
    if supports(version, "list_meta"):
        put_given(entry, "_meta", item.meta)


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


class Prompt(Handler):
    def __init__(self, fn: Callable[..., Any], shape: FunctionShape, *, name: str, title: Optional[str] = None,
                 description: Optional[str] = None, icons: Optional[List[Dict[str, Any]]] = None,
                 meta: Optional[Dict[str, Any]] = None) -> None:
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
            put_given(arg, "description", prop.get("description"))
            arg["required"] = param.required
            self.arguments.append(arg)
            self.parsers[param.name] = _string_argument_parser(param.name, prop)

    def describe(self, version: str) -> Dict[str, Any]:
        entry = {"name": self.name}  # type: Dict[str, Any]
        if supports(version, "titles"):
            put_given(entry, "title", self.title)
        put_given(entry, "description", self.description)
        if self.arguments:
            entry["arguments"] = self.arguments
        if supports(version, "icons"):
            put_given(entry, "icons", self.icons)
        if supports(version, "list_meta"):
            put_given(entry, "_meta", self.meta)
        return entry


class MethodHandler(Handler):
    """An application's own request method (``@app.method``): its function gets the request's
    params (without ``_meta``: that is ``ctx.meta``) and a Context if it asks for one, and
    returns the result object."""

    def __init__(self, fn: Callable[..., Any], shape: FunctionShape, *, name: str,
                 params_parameter: Optional[Tuple[str, bool]],
                 params_schema: Optional[Dict[str, Any]] = None, quick: bool = False) -> None:
        super().__init__(fn, shape)
        self._plain = False  # (its function gets the params whole: always _invoke's call)
        self.name = name
        # Declared by whoever registered it (``quick=True``): it answers at once from what the
        # server holds, as a list does, and never asks or tells the client anything - so a
        # transport may serve it on the thread that read it, its Context is for reading the
        # request only, and no input_required rounds run around it (an ``inputResponses`` in
        # its params is its own, as in the tasks extension's tasks/update).
        self.quick = quick
        # (name, positional only) of the parameter that receives the params; None: none does.
        self.params_parameter = params_parameter
        self.params_schema = params_schema
        self.check_params = compile_schema(params_schema) if params_schema is not None else None

    def _invoke(self, arguments: Dict[str, Any], call: Call) -> Any:
        args = []  # type: List[Any]
        kwargs = {}  # type: Dict[str, Any]
        if self.params_parameter is not None:
            name, positional = self.params_parameter
            if positional:
                args.append(arguments)
            else:
                kwargs[name] = arguments
        if self.needs_context:
            context = Context(call)
            for name in self.shape.context_params:
                kwargs[name] = context
        return self.fn(*args, **kwargs)


def _custom_method_name(method: Any, kind: str) -> str:
    """``method`` if an application may register it as its own ``kind`` ("method" or
    "notification"), else ValueError saying why."""
    if not isinstance(method, str) or not method.strip() or method != method.strip():
        raise ValueError("a %s name is a non-empty string without surrounding spaces, not %r" % (kind, method))
    if method in MCP_REQUEST_METHODS or method in MCP_NOTIFICATIONS:
        # What MCP itself defines keeps its meaning: an extension adds methods, it does not
        # replace the protocol's (use @app.middleware to act around a built-in method).
        raise ValueError("%r is a built-in MCP method and cannot be registered or overridden "
                         "(wrap it with @app.middleware instead)" % method)
    if method.startswith("rpc."):
        # JSON-RPC 2.0: "Method names that begin with the word rpc followed by a period
        # character ... are reserved for rpc-internal methods".
        raise ValueError("%r: names beginning with 'rpc.' are reserved by JSON-RPC" % method)
    if "/" not in method.strip("/"):
        raise ValueError("%r: a custom %s needs a namespace, 'namespace/name' (for an extension, its vendor "
                         "prefix: 'com.example/search')" % (method, kind))
    if kind == "method" and method.startswith("notifications/"):
        raise ValueError("%r: the notifications/ namespace is for notifications (@app.notification)" % method)
    return method


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


class SubscriptionListener(ChangeListener):
    """One 2026-07-28 ``subscriptions/listen`` stream: the notifications its client opted
    in to ("The server MUST NOT send notification types the client has not explicitly
    requested"), each tagged with the subscription's id (the listen request's id)."""

    _FLAGS = {"tools": "toolsListChanged", "prompts": "promptsListChanged", "resources": "resourcesListChanged"}

    def __init__(self, subscription_id: Any, params: Dict[str, Any], emit: Callable[[Message], Any],
                 client: str = "") -> None:
        wanted = params.get("notifications", {})
        if not isinstance(wanted, dict):
            raise MCPError(INVALID_PARAMS, "Invalid params: notifications must be an object")
        self.subscription_id = subscription_id
        self.emit = emit
        self.client = client  # whom per-client bounds count it for (the Port's client)
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

    def withhold(self, uris: Any) -> None:
        """Not honoured after all (before ``acknowledge``): ``uris`` leave the filter, and the
        acknowledgment, which "reflects the subset the server agreed to honor"."""
        self.uris = self.uris.difference(uris)
        if "resourceSubscriptions" in self.accepted:
            kept = [uri for uri in self.accepted["resourceSubscriptions"] if uri in self.uris]
            if kept:
                self.accepted["resourceSubscriptions"] = kept
            else:
                del self.accepted["resourceSubscriptions"]

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


def _set_cache_hints(handler: Handler, what: str, ttl_ms: Optional[int], scope: Optional[str]) -> None:
    check_cache_hints(what, ttl_ms, scope)
    if ttl_ms is not None:
        handler.cache_ttl_ms = ttl_ms
    if scope is not None:
        handler.cache_scope = scope


class Registry:
    """Everything a server has registered, by name or URI, and the listeners that hear of
    changes to it. Thread-safe: registering at run time (``add_tool`` while serving) is fine."""

    def __init__(self) -> None:
        self.tools = {}  # type: Dict[str, Tool]
        # How many of them are inline=True: while none is, a transport skips its checks for
        # one on every tools/call (ServerConnection.receive_data, on_request).
        self.inline_tools = 0
        self.resources = {}  # type: Dict[str, Resource]
        self.templates = {}  # type: Dict[str, ResourceTemplate]
        self.prompts = {}  # type: Dict[str, Prompt]
        # completion functions by (ref type, prompt name or template URI, argument)
        self.completions = {}  # type: Dict[Tuple[str, Optional[str], str], Callable[..., Any]]
        # Request methods served from this table (an application's own, and those of the
        # protocol's extensions: add_protocol_method) and notification handlers, by method name.
        self.methods = {}  # type: Dict[str, MethodHandler]
        self.notifications = {}  # type: Dict[str, Callable[[Dict[str, Any]], Any]]
        self.lock = threading.Lock()
        self.listeners = []  # type: List[ChangeListener]

    def add_tool(self, fn: Callable[..., Any], name: Optional[str] = None, *, title: Optional[str] = None,
                 description: Optional[str] = None, annotations: Optional[Dict[str, Any]] = None,
                 output_schema: Optional[Dict[str, Any]] = None, structured_output: Optional[bool] = None,
                 icons: Optional[List[Dict[str, Any]]] = None, meta: Optional[Dict[str, Any]] = None,
                 input_schema: Optional[Dict[str, Any]] = None, task: Optional[str] = None,
                 task_start: str = "call", cache_ttl_ms: Optional[int] = None,
                 cache_scope: Optional[str] = None, inline: bool = False) -> Tool:
        tool_name = name or getattr(fn, "__name__", None)
        if not tool_name or not re.match(_TOOL_NAME, tool_name):
            # 2025-11-25: tool names SHOULD be 1-128 characters of A-Z a-z 0-9 _ - .
            raise ValueError("invalid tool name %r: use 1-128 characters from A-Z a-z 0-9 _ - ." % (tool_name,))
        shape = describe_function(fn, "tool", (Context,))
        given_output_schema = output_schema is not None
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
        if inline:
            # Served where the requests are read: a handler there must never wait for the
            # client (an answer to ctx.elicit could only be read by the thread it blocks),
            # nor outlive its response (a task), nor bring up an event loop per call.
            if shape.context_params:
                raise TypeError("tool %r: inline=True is for a handler without a Context parameter" % tool_name)
            if task is not None:
                raise TypeError("tool %r: inline=True cannot be combined with task=" % tool_name)
            if is_async_function(fn):
                raise TypeError("tool %r: inline=True is for a plain function, not async def" % tool_name)
        if description is None:
            description = shape.description or None
        tool = Tool(fn, shape, name=tool_name, title=title, description=description, annotations=annotations,
                    output_schema=output_schema, wrap_output=wrap, icons=icons, meta=meta, input_schema=input_schema,
                    task=task, task_start=task_start, inline=bool(inline))
        _set_cache_hints(tool, "tool %r" % tool_name, cache_ttl_ms, cache_scope)
        # A schema the caller wrote: its mistakes reported now, not at a call.
        if input_schema is not None or given_output_schema:
            tool.compile_checks(input_schema is not None, given_output_schema)
        with self.lock:
            if tool_name in self.tools:
                raise ValueError("a tool named %r is already registered" % tool_name)
            self.tools[tool_name] = tool
            if tool.inline:
                self.inline_tools += 1
        self.notify_list_changed("tools")
        return tool

    def remove_tool(self, name: str) -> None:
        """Unregister a tool; connected clients that asked to hear of it get
        ``notifications/tools/list_changed``. KeyError if there is no such tool."""
        with self.lock:
            if name not in self.tools:
                raise KeyError("no tool named %r" % (name,))
            if self.tools.pop(name).inline:
                self.inline_tools -= 1
        self.notify_list_changed("tools")

    def add_resource(self, fn: Callable[..., Any], uri: str, *, name: Optional[str] = None,
                     title: Optional[str] = None, description: Optional[str] = None,
                     mime_type: Optional[str] = None, size: Optional[int] = None,
                     annotations: Optional[Dict[str, Any]] = None, icons: Optional[List[Dict[str, Any]]] = None,
                     meta: Optional[Dict[str, Any]] = None, cache_ttl_ms: Optional[int] = None,
                     cache_scope: Optional[str] = None) -> Union[Resource, ResourceTemplate]:
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
            template = ResourceTemplate(fn, shape, uri_template=uri, name=label, title=title, description=desc,
                                        mime_type=mime_type, annotations=annotations, icons=icons, meta=meta)
            _set_cache_hints(template, "resource template %r" % uri, cache_ttl_ms, cache_scope)
            template.arg_parsers = {v: _string_argument_parser(v, shape.input_schema.get("properties", {}).get(v, {}))
                                    for v in variables if v in params}
            with self.lock:
                if uri in self.templates:
                    raise ValueError("a resource template %r is already registered" % uri)
                self.templates[uri] = template
            self.notify_list_changed("resources")
            return template
        required = [p.name for p in shape.params if p.required]
        if required:
            raise TypeError("resource %r: a resource without {variables} in its URI takes no arguments, "
                            "but the function requires %s" % (uri, ", ".join(repr(p) for p in required)))
        resource = Resource(fn, shape, uri=uri, name=label, title=title, description=desc, mime_type=mime_type,
                            size=size, annotations=annotations, icons=icons, meta=meta)
        _set_cache_hints(resource, "resource %r" % uri, cache_ttl_ms, cache_scope)
        with self.lock:
            if uri in self.resources:
                raise ValueError("a resource %r is already registered" % uri)
            self.resources[uri] = resource
        self.notify_list_changed("resources")
        return resource

    def remove_resource(self, uri: str) -> None:
        """Unregister a resource or resource template (by the URI it was registered with)
        and notify ``resources/list_changed``. KeyError if there is none."""
        with self.lock:
            if uri in self.resources:
                del self.resources[uri]
            elif uri in self.templates:
                del self.templates[uri]
                for ref in [r for r in self.completions if r[0] == "ref/resource" and r[1] == uri]:
                    del self.completions[ref]
            else:
                raise KeyError("no resource or template %r" % (uri,))
        self.notify_list_changed("resources")

    def add_prompt(self, fn: Callable[..., Any], name: Optional[str] = None, *, title: Optional[str] = None,
                   description: Optional[str] = None, icons: Optional[List[Dict[str, Any]]] = None,
                   meta: Optional[Dict[str, Any]] = None, cache_ttl_ms: Optional[int] = None,
                   cache_scope: Optional[str] = None) -> Prompt:
        prompt_name = name or getattr(fn, "__name__", None)
        if not prompt_name:
            raise ValueError("a prompt needs a name")
        shape = describe_function(fn, "prompt", (Context,))
        if description is None:
            description = shape.description or None
        prompt = Prompt(fn, shape, name=prompt_name, title=title, description=description, icons=icons, meta=meta)
        _set_cache_hints(prompt, "prompt %r" % prompt_name, cache_ttl_ms, cache_scope)
        with self.lock:
            if prompt_name in self.prompts:
                raise ValueError("a prompt named %r is already registered" % prompt_name)
            self.prompts[prompt_name] = prompt
        self.notify_list_changed("prompts")
        return prompt

    def remove_prompt(self, name: str) -> None:
        """Unregister a prompt and notify ``prompts/list_changed``. KeyError if there is none."""
        with self.lock:
            if name not in self.prompts:
                raise KeyError("no prompt named %r" % (name,))
            del self.prompts[name]
            for ref in [r for r in self.completions if r[0] == "ref/prompt" and r[1] == name]:
                del self.completions[ref]
        self.notify_list_changed("prompts")

    def add_completion(self, fn: Callable[..., Any], argument: str, *, prompt: Optional[str] = None,
                       template: Optional[str] = None) -> None:
        if (prompt is None) == (template is None):
            raise TypeError("give exactly one of prompt= or template=")
        import inspect
        params = list(inspect.signature(fn).parameters.values())
        takes_context = any(p.kind == p.VAR_POSITIONAL for p in params) or len(
            [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) >= 2
        ref = ("ref/prompt", prompt, argument) if prompt is not None else ("ref/resource", template, argument)
        with self.lock:
            self.completions[ref] = (lambda value, others: fn(value, others)) if takes_context else (
                lambda value, others: fn(value))

    def add_method(self, fn: Callable[..., Any], method: str,
                   params_schema: Optional[Dict[str, Any]] = None, quick: bool = False) -> MethodHandler:
        _custom_method_name(method, "method")
        return self._add_method_handler(fn, method, params_schema, quick)

    def add_protocol_method(self, fn: Callable[..., Any], method: str, quick: bool = False) -> MethodHandler:
        """A request method MCP itself names, served through the same table as an
        application's own (``add_method``) by the extension of the protocol that defines it
        (the tasks extension's ``tasks/get``...). Not for applications: ``add_method`` keeps
        refusing these names, so what MCP defines keeps its meaning."""
        if method not in MCP_REQUEST_METHODS:
            raise ValueError("%r is not a request method of MCP's: register it with add_method" % (method,))
        return self._add_method_handler(fn, method, None, quick)

    def _add_method_handler(self, fn: Callable[..., Any], method: str, params_schema: Optional[Dict[str, Any]],
                            quick: bool) -> MethodHandler:
        if params_schema is not None and (not isinstance(params_schema, dict)
                                          or params_schema.get("type") != "object"):
            raise ValueError("method %r: a params schema's root must be {\"type\": \"object\"}" % method)
        import inspect  # (registration only)
        parameters = list(inspect.signature(fn).parameters.values())
        shape = describe_function(fn, "method", (Context,), skip=[p.name for p in parameters])
        plain = [p for p in parameters if p.name not in shape.context_params
                 and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if len(plain) > 1 and any(p.default is p.empty for p in plain[1:]):
            raise TypeError("method %r: the function takes the request's params (one parameter) and "
                            "optionally a Context, not %s" % (method, ", ".join(p.name for p in plain)))
        taker = (plain[0].name, plain[0].kind is plain[0].POSITIONAL_ONLY) if plain else None
        handler = MethodHandler(fn, shape, name=method, params_parameter=taker, params_schema=params_schema,
                                quick=bool(quick))
        with self.lock:
            if method in self.methods:
                raise ValueError("a method %r is already registered" % method)
            self.methods[method] = handler
        return handler

    def add_notification(self, fn: Callable[..., Any], method: str) -> None:
        _custom_method_name(method, "notification")
        if is_async_function(fn):
            # A notification has no request to run a coroutine for, nor anyone to wait on it.
            raise TypeError("notification %r: the handler must be a plain function, not async def" % method)
        with self.lock:
            if method in self.notifications:
                raise ValueError("a notification handler for %r is already registered" % method)
            self.notifications[method] = fn

    def uses_context(self) -> bool:
        """Whether any registered handler takes a Context (and so might send a log message)."""
        for table in (self.tools, self.resources, self.templates, self.prompts):
            if any(handler.needs_context for handler in list(table.values())):  # type: ignore[attr-defined]
                return True
        # A quick method's Context only reads the request: it sends no log message.
        return any(handler.needs_context and not handler.quick for handler in list(self.methods.values()))

    def needs_context(self, call: Call) -> bool:
        """Whether serving ``call`` runs a handler that takes a Context - one that may send
        progress or logs, or watch for cancellation while it runs. Transports run the other
        requests on the thread they arrived on when they can afford to (HTTP): nothing can
        happen between such a request and its response."""
        method = call.request.method
        if self.methods and method in self.methods:
            own = self.methods.get(method)  # (gone meanwhile: refused before it runs)
            return own is not None and own.needs_context and not own.quick
        key = call.request.params.get("uri" if method == "resources/read" else "name")
        if not isinstance(key, str):
            return False  # refused before any handler runs
        if method == "tools/call":
            handler = self.tools.get(key)  # type: Optional[Handler]
        elif method == "prompts/get":
            handler = self.prompts.get(key)
        elif method == "resources/read":
            handler = self.resources.get(key)
            if handler is None and any(t.needs_context for t in list(self.templates.values())):
                return True  # which template matches is decided while serving
        else:
            return False
        return handler is not None and handler.needs_context

    def runs_application_code(self, call: Call) -> bool:
        """Whether serving ``call`` runs a handler of the application's (a tool, a prompt, a
        resource, a method of its own but a quick one): code that may take any time, unlike a
        list."""
        method = call.request.method
        if method in _APPLICATION_METHODS:
            return True
        handler = self.methods.get(method) if self.methods else None
        return handler is not None and not handler.quick

    def runs_inline(self, call: Call) -> bool:
        """Whether ``call`` is a ``tools/call`` of a tool registered with ``inline=True``."""
        if call.request.method != "tools/call":
            return False
        name = call.request.params.get("name")
        tool = self.tools.get(name) if isinstance(name, str) else None
        return tool is not None and tool.inline

    def find_tool(self, name: Any) -> Optional[Tool]:
        return self.tools.get(name) if isinstance(name, str) else None

    # -- change notifications --------------------------------------------------

    def add_listener(self, listener: ChangeListener) -> None:
        with self.lock:
            self.listeners.append(listener)

    def remove_listener(self, listener: ChangeListener) -> None:
        with self.lock:
            if listener in self.listeners:
                self.listeners.remove(listener)

    def notify_list_changed(self, kind: str) -> None:
        """Tell every listener that the list of ``kind`` ("tools", "prompts" or
        "resources") changed; each gets ``notifications/<kind>/list_changed`` if it asked."""
        if kind not in ("tools", "prompts", "resources"):
            raise ValueError("kind must be 'tools', 'prompts' or 'resources'")
        with self.lock:
            listeners = list(self.listeners)
        for listener in listeners:
            listener.list_changed(kind)

    def notify_resource_updated(self, uri: str) -> None:
        """Tell the listeners subscribed to ``uri`` that the resource changed."""
        with self.lock:
            listeners = list(self.listeners)
        for listener in listeners:
            listener.resource_updated(uri)
