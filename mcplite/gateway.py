"""Mounting: another MCP server's tools, prompts and resources served by this ``Server``.

    app = Server("front")
    app.mount("notes", {"command": "python3", "args": ["notes_server.py"]})
    app.mount("search", Client.http("https://search.example/mcp"))

The upstream's tools and prompts appear as ``<prefix>__<name>`` (the host catalog's naming),
described exactly as the upstream describes them (input and output schemas, annotations,
``_meta``: nothing is derived again here); resources and resource templates keep their URIs.
A call is forwarded with the upstream ``Client`` and its result passed back as it came
(``content``, ``structuredContent``, ``isError``); progress the upstream reports reaches the
caller's progress token, and the caller's cancellation cancels the upstream call. An upstream
that died, hung or answered garbage gives that call an error result (a tool) or an error (a
prompt or a read), and never takes the front server down. When the upstream says a list
changed, it is listed again and the front's registrations follow, so the front's own clients
hear ``list_changed`` in turn.

Not here yet (issue 17): logging, subscriptions, completions, the server's questions
(elicitation, sampling, roots), restarts, era translation beyond what ``Server`` and ``Client``
each do on their own side.
"""

import logging
import re
import threading
from typing import Any, Callable, Dict, List, Optional

from .client import Client
from .clientsession import cancel_when
from .context import Context
from .errors import MCPError, TransportError
from .jsonrpc import INTERNAL_ERROR
from .protocol import ERA_MODERN, META_SERVER_INFO
from .results import tool_error

_gateway_log = logging.getLogger("mcplite.gateway")

# The prefix becomes part of a tool name, and model APIs take tool names of A-Z a-z 0-9 _ -
# (hostformats' rule): a prefix outside that would make names some hosts cannot offer.
_GATEWAY_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# The separator the host catalog uses between a server's name and its tool's.
GATEWAY_SEPARATOR = "__"
# Upstream failures that are the upstream's, not the caller's: a closed process or
# connection, a timeout, garbage (ProtocolError is a TransportError).
_GATEWAY_UPSTREAM_FAILURES = (TransportError, OSError, ValueError)


def gateway_client(upstream: Any, on_list_changed: Callable[[str], Any], timeout: float) -> Client:
    """A connected ``Client`` for a config entry (``{"command": ...}`` / ``{"url": ...}``),
    parsed as the host parses one (variables expanded, the same checks), or for one server
    of a configuration ``load_config`` read (a ``ServerConfig``)."""
    from .hostconfig import ServerConfig, load_config
    config = (upstream if isinstance(upstream, ServerConfig)
              else load_config({"mcpServers": {"upstream": upstream}}, stacklevel=3).servers[0])
    if config.problem is not None:
        raise ValueError("the upstream entry cannot start: %s" % config.problem)
    options = {"timeout": config.timeout or timeout,
               "on_list_changed": on_list_changed}  # type: Dict[str, Any]
    if config.transport == "stdio":
        return Client.stdio(config.argv, config.env, config.cwd, **options)
    return Client.http(config.url or "", config.headers, **options)


class Mount:
    """One upstream mounted on a ``Server`` under ``prefix`` (made by ``Server.mount``).
    ``close()`` removes its registrations and, if the mount started the client (a config
    entry), stops it."""

    def __init__(self, app: Any, prefix: str, upstream: Any, timeout: float = 30.0) -> None:
        if not isinstance(prefix, str) or not _GATEWAY_PREFIX.match(prefix):
            raise ValueError("a mount prefix is 1-64 characters from A-Z a-z 0-9 _ -: %r" % (prefix,))
        self.app = app
        self.prefix = prefix
        self._lock = threading.RLock()
        # What this mount registered on the app, by the app's name or URI: the upstream's
        # entry it was made from (a changed entry is registered again).
        self._tools = {}  # type: Dict[str, Dict[str, Any]]
        self._prompts = {}  # type: Dict[str, Dict[str, Any]]
        self._resources = {}  # type: Dict[str, Dict[str, Any]]
        self._closed = False
        from .hostconfig import ServerConfig
        if isinstance(upstream, Client):
            self.client = upstream
            self.owned = False
            earlier = upstream.on_list_changed

            def chained(kind: str) -> None:
                if earlier is not None:
                    earlier(kind)
                self._list_changed(kind)
            upstream.on_list_changed = chained
            if upstream.era == ERA_MODERN and earlier is None and upstream.cache is None:
                # 2026-07-28 tells of list changes only on a subscriptions/listen stream, which a
                # client connected without on_list_changed did not open.
                try:
                    upstream._relisten(None)
                except MCPError as exc:
                    _gateway_log.warning("mount %s: no list changes from the upstream: %s", prefix, exc)
        elif isinstance(upstream, (dict, ServerConfig)):
            self.client = gateway_client(upstream, self._list_changed, timeout)
            self.owned = True
        else:
            raise TypeError("mount an upstream Client or a config entry ({\"command\": ...} or {\"url\": ...}), "
                            "not %s" % type(upstream).__name__)
        try:
            self.refresh()
        except BaseException:
            self.close()
            raise

    @property
    def process_id(self) -> Optional[int]:
        """The upstream's process id when it runs on stdio, else None."""
        process = getattr(self.client._channel, "process", None)
        return getattr(process, "pid", None)

    # -- keeping the registrations in step with the upstream ----------------------------

    def refresh(self, kinds: Any = ("tools", "prompts", "resources")) -> None:
        """List the upstream again and bring the app's registrations in line."""
        with self._lock:
            if self._closed:
                return
            caps = self.client.server_capabilities or {}
            if "tools" in kinds:
                listed = self.client.list_tools() if "tools" in caps else []
                self._sync(self._tools, {self._name(t.get("name")): t for t in listed}, self._add_tool,
                           self.app.remove_tool)
            if "prompts" in kinds:
                listed = self.client.list_prompts() if "prompts" in caps else []
                self._sync(self._prompts, {self._name(p.get("name")): p for p in listed}, self._add_prompt,
                           self.app.remove_prompt)
            if "resources" in kinds:
                entries = {}  # type: Dict[str, Dict[str, Any]]
                if "resources" in caps:
                    for entry in self.client.list_resources():
                        if isinstance(entry.get("uri"), str):
                            entries[entry["uri"]] = entry
                    for entry in self.client.list_resource_templates():
                        if isinstance(entry.get("uriTemplate"), str):
                            entries[entry["uriTemplate"]] = entry
                self._sync(self._resources, entries, self._add_resource, self.app.remove_resource)

    def _name(self, name: Any) -> str:
        return "%s%s%s" % (self.prefix, GATEWAY_SEPARATOR, name)

    def _sync(self, mine: Dict[str, Dict[str, Any]], wanted: Dict[str, Dict[str, Any]],
              add: Callable[[str, Dict[str, Any]], None], remove: Callable[[str], None]) -> None:
        for key in [k for k in mine if mine[k] != wanted.get(k)]:
            del mine[key]
            try:
                remove(key)
            except KeyError:
                pass  # the application removed it itself
        for key, entry in wanted.items():
            if key in mine:
                continue
            try:
                add(key, entry)
            except (TypeError, ValueError) as exc:
                # One entry the app cannot take (a name clash, a schema it cannot compile)
                # leaves the others served.
                _gateway_log.warning("mount %s: %s not served: %s", self.prefix, key, exc)
                continue
            mine[key] = entry

    def _list_changed(self, kind: str) -> None:
        try:
            self.refresh((kind,))
        except (MCPError,) + _GATEWAY_UPSTREAM_FAILURES as exc:
            _gateway_log.warning("mount %s: listing the upstream's %s again failed: %s", self.prefix, kind, exc)

    # -- the registrations --------------------------------------------------------------

    def _add_tool(self, name: str, entry: Dict[str, Any]) -> None:
        upstream_name = entry["name"]

        def forward(ctx: Context, **arguments: Any) -> Any:
            return self.call_tool(upstream_name, arguments, ctx)
        # The upstream's CallToolResult goes back as it came (results.tool_result reads this).
        forward._mcplite_forwarded = True  # type: ignore[attr-defined]
        schema = entry.get("inputSchema")
        self.app.add_tool(forward, name=name, title=entry.get("title"), description=entry.get("description"),
                          annotations=entry.get("annotations"), output_schema=entry.get("outputSchema"),
                          icons=entry.get("icons"), meta=entry.get("_meta"),
                          input_schema=schema if isinstance(schema, dict) else {"type": "object"})

    def _add_prompt(self, name: str, entry: Dict[str, Any]) -> None:
        upstream_name = entry["name"]

        def forward(ctx: Context, **arguments: Any) -> Any:
            return self._forward(ctx, "prompt " + name,
                                 lambda: self.client.get_prompt(upstream_name, arguments))["messages"]
        prompt = self.app.add_prompt(forward, name=name, title=entry.get("title"),
                                     description=entry.get("description"), icons=entry.get("icons"),
                                     meta=entry.get("_meta"))
        # Its arguments as the upstream declares them; the values go upstream unparsed (the
        # upstream checks them).
        arguments = entry.get("arguments")
        prompt.arguments = list(arguments) if isinstance(arguments, list) else []

    def _add_resource(self, uri: str, entry: Dict[str, Any]) -> None:
        options = dict(name=entry.get("name"), title=entry.get("title"), description=entry.get("description"),
                       mime_type=entry.get("mimeType"), annotations=entry.get("annotations"),
                       icons=entry.get("icons"), meta=entry.get("_meta"))
        if "uriTemplate" in entry:
            def read_template(ctx: Context, **variables: Any) -> Any:
                target = _gateway_expand(uri, variables)
                return self._forward(ctx, "resource " + target,
                                     lambda: self.client.read_resource(target))["contents"]
            self.app.add_resource(read_template, uri, **options)
            return

        def read(ctx: Context) -> Any:
            return self._forward(ctx, "resource " + uri, lambda: self.client.read_resource(uri))["contents"]
        self.app.add_resource(read, uri, size=entry.get("size"), **options)

    # -- forwarding ---------------------------------------------------------------------

    def call_tool(self, name: str, arguments: Dict[str, Any], ctx: Optional[Context] = None) -> Dict[str, Any]:
        """Call the upstream's tool ``name``: its ``CallToolResult``, or an error result
        naming the mount when the upstream failed. A JSON-RPC error the upstream answered
        with is raised (``MCPError``), so the caller gets that same error."""
        progress = None
        if ctx is not None and ctx.meta.get("progressToken") is not None:
            def progress(value: float, total: Optional[float], message: Optional[str]) -> None:
                ctx.progress(value, total, message)
        try:
            if ctx is None:
                return _gateway_own_result(self.client.call_tool(name, arguments, progress=progress))
            # The caller's cancellation cancels the upstream call ("notifications/cancelled").
            with cancel_when(lambda: ctx.cancelled):
                return _gateway_own_result(self.client.call_tool(name, arguments, progress=progress))
        except MCPError:
            raise
        except _GATEWAY_UPSTREAM_FAILURES as exc:
            return tool_error(self._failure(exc))

    def _forward(self, ctx: Context, what: str, send: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
        try:
            with cancel_when(lambda: ctx.cancelled):
                return send()
        except MCPError:
            raise
        except _GATEWAY_UPSTREAM_FAILURES as exc:
            raise MCPError(INTERNAL_ERROR, "%s: %s" % (what, self._failure(exc)))

    def _failure(self, exc: BaseException) -> str:
        # The message, not a traceback: it goes to a peer.
        _gateway_log.warning("mount %s: the upstream failed: %r", self.prefix, exc)
        return "the upstream server mounted as %r failed: %s" % (self.prefix, str(exc) or type(exc).__name__)

    def close(self) -> None:
        """Unregister everything this mount added, and stop a client the mount started."""
        with self._lock:
            self._closed = True
            for mine, remove in ((self._tools, self.app.remove_tool), (self._prompts, self.app.remove_prompt),
                                 (self._resources, self.app.remove_resource)):
                for key in list(mine):
                    del mine[key]
                    try:
                        remove(key)
                    except KeyError:
                        pass
        if self.owned:
            self.client.close()


def _gateway_own_result(result: Dict[str, Any]) -> Dict[str, Any]:
    """The upstream's result without what belongs to the upstream's envelope, which the front
    writes for its own era: ``resultType`` (2026-07-28) and the upstream's ``serverInfo``."""
    result = dict(result)
    result.pop("resultType", None)
    meta = result.get("_meta")
    if isinstance(meta, dict) and META_SERVER_INFO in meta:
        meta = dict(meta)
        del meta[META_SERVER_INFO]
        if meta:
            result["_meta"] = meta
        else:
            del result["_meta"]
    return result


_GATEWAY_TEMPLATE_VAR = re.compile(r"\{([+#]?)([A-Za-z_][A-Za-z0-9_]*)(\*?)\}")


def _gateway_expand(template: str, variables: Dict[str, Any]) -> str:
    """The URI ``template`` made with ``variables`` (RFC 6570 levels 1 and 2, as the
    registry matches them): the URI the client asked for, to ask the upstream for."""
    from urllib.parse import quote

    def expand(match: "re.Match[str]") -> str:
        operator, name, _ = match.groups()
        value = str(variables.get(name, ""))
        if operator:
            return quote(value, safe=":/?#[]@!$&'()*+,;=-._~%")
        return quote(value, safe="-._~")
    return _GATEWAY_TEMPLATE_VAR.sub(expand, template)

