"""The host: many servers at once behind one catalog, the model's tool calls routed to them, and
the safety a host owes its user (approval, pinned tool definitions, an audit trail).

    with Host.from_config("mcp.json", approve=ask_user, pins="~/.mcp-pins.json") as host:
        tools = host.tools("openai")               # every server's tools, as the API wants them
        ...                                        # the model answers with tool calls
        reply = host.call(tool_call)               # routed, and in the shape the API accepts

One ``Client`` per server (see hostconfig.py for the configuration); the servers start
concurrently, and one that cannot start is in ``host.failures`` while the rest work. Each tool
gets a host-wide name ``<server>__<tool>`` (hostformats.py makes it valid for every provider
and settles collisions); ``host.resolve(name)`` gives ``(server, tool)`` back. The catalog
follows each server's ``list_changed`` notifications; a name once given keeps its tool for the
host's life (a tool added later that would take it is given the hashed form instead).

``host.call`` never raises for what a model can get wrong: a call it cannot parse, an unknown
or removed tool, arguments the server refuses, a refusal by ``approve``, a changed (unpinned)
tool, a timeout, a server error or a server that went away all come back as an error result
the model can read (``isError``, in the provider's shape). What is the host's own business
(a KeyboardInterrupt, a bug in a callback of ``audit``) is not turned into a result: an
interrupt cancels the call at the server and propagates; an ``approve`` that raises refuses.

Threads: a ``Host`` may be used from many threads at once; its catalog is swapped whole under
a lock, and each ``Client`` is thread-safe. ``list_changed`` refreshes run on the client's
callback thread.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import tempfile
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

from .appview import tool_visible_to
from .channels import StdioChannel
from .client import Client
from .clientcache import cache_option
from .clientsession import progress_ceiling
from .errors import ConnectionClosed, MCPError, RequestTimeout, TransportError
from .hostconfig import HostConfig, ServerConfig, load_config, tool_permitted
from .hostformats import PROVIDERS, host_tool_names, parse_tool_call, provider_error, provider_result
from .hostformats import provider_tools, server_arguments
from .logs import LazyLogger

_host_log = LazyLogger("mcplite.host")

# The two tools of the search mode. Host-wide names of servers' tools always hold "__",
# so these two never collide with one.
FIND_TOOLS = "find_tools"
CALL_TOOL = "call_tool"
_SEARCH_TOOLS = [
    {"name": FIND_TOOLS,
     "description": "Search the available tools by keywords; returns the matching tools' names, descriptions "
                    "and input schemas. Call a tool found here with call_tool.",
     "inputSchema": {"type": "object", "properties": {
         "query": {"type": "string", "description": "Keywords: what the tool should do, or part of its name."},
         "limit": {"type": "integer", "description": "At most this many tools (default 8)."}},
         "required": ["query"]}},
    {"name": CALL_TOOL,
     "description": "Call a tool that find_tools returned, by its exact name, with arguments matching its "
                    "input schema.",
     "inputSchema": {"type": "object", "properties": {
         "name": {"type": "string", "description": "The tool's name, as find_tools gave it."},
         "arguments": {"type": "object", "description": "The tool's arguments."}},
         "required": ["name"]}},
]  # type: List[Dict[str, Any]]
_SEARCH_LIMIT = 8
_SEARCH_MAX = 50
# An estimate, stated wherever it is shown: about four characters of JSON per token (for
# English text and schemas with the common tokenizers; the real count depends on the model).
CHARS_PER_TOKEN = 4
# How much longer than its timeout a call that keeps reporting progress may run.
_PROGRESS_FACTOR = 10
# What the keys of a tool's definition pinned are: what the model is shown.
_PINNED_KEYS = ("name", "description", "inputSchema", "outputSchema", "annotations")
_PINS_VERSION = 1

# Hosts not closed yet, stopped at interpreter exit (also after an uncaught KeyboardInterrupt):
# no server process outlives the program that started it. Registered on the first Host.
_host_open = set()  # type: set
_host_open_lock = threading.Lock()
_atexit = []  # type: List[bool]


class ServerFailure(NamedTuple):
    """A server that could not start or went away: its ``name``, the ``reason`` in a
    sentence, and the end of what it wrote to its ``stderr`` ("" over HTTP)."""
    name: str
    reason: str
    stderr: str


class ApprovalRequest(NamedTuple):
    """What ``approve(request)`` is asked about, before every call: the ``server``, its
    ``tool`` (the server's own name for it), ``name`` (the host-wide name the model used),
    the ``arguments`` the server would get and the tool's ``annotations`` (its hints, as the
    server declared them: untrusted unless the server is). ``read_only``, ``destructive``,
    ``open_world`` are the hints with the protocol's defaults applied (false, true, true)."""
    server: str
    tool: str
    name: str
    arguments: Dict[str, Any]
    annotations: Dict[str, Any]

    @property
    def read_only(self) -> bool:
        return self.annotations.get("readOnlyHint") is True

    @property
    def destructive(self) -> bool:
        return not self.read_only and self.annotations.get("destructiveHint") is not False

    @property
    def open_world(self) -> bool:
        return self.annotations.get("openWorldHint") is not False


class PinChange(NamedTuple):
    """A tool whose definition is not the one pinned: ``name`` (host-wide), ``server``,
    ``tool``, the ``pinned`` and ``current`` definitions, and ``diff``, a unified diff of
    the two as indented JSON. ``sha256`` is the digest of ``current``: what
    ``approve_changes([change])`` pins, and only that."""
    name: str
    server: str
    tool: str
    pinned: Dict[str, Any]
    current: Dict[str, Any]
    diff: str

    @property
    def sha256(self) -> str:
        # (current is already tool_definition(tool), which gives itself back: the digest is
        # the one definition_hash gives the tool while it has this definition.)
        return definition_hash(self.current)


def arguments_digest(arguments: Any) -> str:
    """The SHA-256 (hex) of ``arguments`` as canonical JSON (keys sorted, no spaces, UTF-8):
    what an audit record holds instead of the arguments themselves."""
    text = json.dumps(arguments if arguments is not None else {}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def tool_definition(tool: Dict[str, Any]) -> Dict[str, Any]:
    """The part of a tool's definition that is pinned (what the model sees of it): also its
    ``title`` when it has no description, since the model is then described the tool by its
    title (hostformats.py); with a description, the title is left out, so that pins made
    without it stay valid."""
    definition = {key: tool[key] for key in _PINNED_KEYS if key in tool}
    description = tool.get("description")
    if "title" in tool and not (isinstance(description, str) and description):
        definition["title"] = tool["title"]
    return definition


def definition_hash(tool: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(tool_definition(tool), sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode("utf-8")).hexdigest()


def _host_tokens(chars: int) -> int:
    return int(math.ceil(chars / float(CHARS_PER_TOKEN)))


# --- pins ------------------------------------------------------------------------------------


class _Pins:
    """The pin file: ``{"version": 1, "servers": {server: {tool: {"sha256", "definition"}}}}``.
    A file that cannot be read or is not that shape is left as it is (the person may want to
    look at it): the pins are then kept in memory for this run only, and ``problem`` says
    why. Written whole, to a temporary file renamed over the old one."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = os.path.expanduser(path) if path else None
        self.pins = {}  # type: Dict[str, Dict[str, Dict[str, Any]]]
        self.problem = None  # type: Optional[str]
        self.writable = self.path is not None
        self.dirty = False
        if self.path is not None:
            self._load(self.path)

    def _load(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8-sig") as f:  # (-sig: a byte order mark a Windows editor added)
                text = f.read()
        except FileNotFoundError:
            return
        except OSError as exc:
            self._refuse("cannot read the pin file %s: %s" % (path, exc))
            return
        try:
            data = json.loads(text)
        except ValueError as exc:
            self._refuse("the pin file %s is not JSON (%s)" % (path, exc))
            return
        servers = data.get("servers") if isinstance(data, dict) else None
        if not isinstance(servers, dict) or not all(
                isinstance(tools, dict) and all(isinstance(pin, dict) and isinstance(pin.get("sha256"), str)
                                                for pin in tools.values()) for tools in servers.values()):
            self._refuse("the pin file %s is not a pin file (no \"servers\" of tool pins)" % path)
            return
        self.pins = servers

    def _refuse(self, why: str) -> None:
        self.problem = (why + "; it is left untouched, and tools are pinned in memory for this run only "
                        "(repair or delete it to pin across runs)")
        self.writable = False
        _host_log.warning("%s", self.problem)

    def status(self, server: str, tool: Dict[str, Any]) -> str:
        """"pinned" (as approved), "changed", or "new" (now pinned)."""
        digest = definition_hash(tool)
        pinned = self.pins.get(server, {}).get(tool["name"])
        if pinned is None:
            self.pin(server, tool)
            return "new"
        return "pinned" if pinned["sha256"] == digest else "changed"

    def pin(self, server: str, tool: Dict[str, Any]) -> None:
        self.pins.setdefault(server, {})[tool["name"]] = {"sha256": definition_hash(tool),
                                                          "definition": tool_definition(tool)}
        self.dirty = True

    def pinned(self, server: str, tool: str) -> Dict[str, Any]:
        return dict(self.pins.get(server, {}).get(tool, {}).get("definition") or {})

    def save(self) -> None:
        if not self.dirty or not self.writable or self.path is None:
            return
        self.dirty = False
        directory = os.path.dirname(os.path.abspath(self.path))
        text = json.dumps({"version": _PINS_VERSION, "servers": self.pins}, indent=2, sort_keys=True,
                          ensure_ascii=False) + "\n"
        temporary = None  # type: Optional[str]
        try:
            fd, temporary = tempfile.mkstemp(prefix=".pins-", suffix=".tmp", dir=directory)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)
            temporary = None
        except OSError as exc:
            self.problem = ("cannot write the pin file %s: %s; tools are pinned in memory for this run only"
                            % (self.path, exc))
            self.writable = False
            _host_log.warning("%s", self.problem)
        finally:
            if temporary is not None:
                try:
                    os.remove(temporary)
                except OSError:
                    pass


# --- one server ------------------------------------------------------------------------------


class _HostServer:
    """One configured server: its client once started, and what it offers."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.name = config.name
        self.client = None  # type: Optional[Client]
        self.channel = None  # type: Optional[StdioChannel]
        self.tools = []  # type: List[Dict[str, Any]]
        self.resources = []  # type: List[Dict[str, Any]]
        self.prompts = []  # type: List[Dict[str, Any]]
        self.error = None  # type: Optional[BaseException]
        self.ready = False
        self.stale = set()  # type: set  # lists a server said changed while it started (under lock)
        self.abandoned = False  # the host gave up waiting for it (or closed)
        self.failed = False
        self.lock = threading.Lock()
        self.refresh_lock = threading.Lock()
        self.done = threading.Event()

    def stderr_tail(self, limit: int = 2000) -> str:
        channel = self.channel
        return channel.child.stderr_tail(limit, wait=0.2) if channel is not None else ""


# --- the host --------------------------------------------------------------------------------


class Host:
    """Many MCP servers behind one tool catalog; see the module's text.

    ``Host.from_config(config, approve=None, pins=None, audit=None)``: ``config`` is a dict
    or the path of a JSON file (hostconfig.py). ``approve(ApprovalRequest) -> bool`` is asked
    before every call (None: every call allowed). ``pins`` is the path of a JSON file of
    each tool's definition hash. ``audit(record)`` receives a dict for every call: ``time``
    (seconds since the epoch, when it started), ``server``, ``tool``, ``name`` (host-wide),
    ``call_id``, ``arguments_sha256`` (``arguments_digest``), ``outcome`` (one of "ok",
    "error": the tool's own isError result, "invalid": a call that could not be parsed,
    "unknown": no such tool, "changed": its definition is not the one pinned, "refused": by
    ``approve``, "timeout", "failed": a server error or a server that went away), ``message``
    (for any outcome but "ok") and ``duration`` (seconds). ``timeout`` is the default for every
    call (a server's ``timeout`` and a tool's override it), ``start_timeout`` bounds the
    start of all servers together. ``cache``: False (the default) or True, one ``ResultCache``
    for every server's client (``Client(cache=...)``: list and read results kept as long as
    their 2026-07-28 caching hints say, private ones per server), or a ``ResultCache`` of
    your own (its bounds, shared with other hosts or clients).
    """

    def __init__(self, config: Any, *, approve: Optional[Callable[[ApprovalRequest], Any]] = None,
                 pins: Optional[str] = None, audit: Optional[Callable[[Dict[str, Any]], Any]] = None,
                 timeout: float = 30.0, start_timeout: float = 30.0,
                 environ: Optional[Dict[str, str]] = None, cache: Any = False) -> None:
        # One cache for all: its keys carry each server's origin, and private results also
        # the client that fetched them, so sharing it mixes nothing up.
        self.cache = cache_option(cache)
        # (The warnings of a configuration point at the line that gave it.)
        parsed = config if isinstance(config, HostConfig) else load_config(config, environ, stacklevel=2)
        self.approve = approve
        self.audit = audit
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.config = parsed
        self.warnings = list(parsed.warnings)  # type: List[str]
        self.disabled = list(parsed.disabled)  # type: List[str]
        self.failures = []  # type: List[ServerFailure]
        self._pins = _Pins(pins)
        self._lock = threading.RLock()
        self._closed = False
        self._servers = [_HostServer(server) for server in parsed.servers]
        self._by_name = {server.name: server for server in self._servers}
        # The catalog, rebuilt whole after every change: host name -> (server, tool dict, status).
        self._tools = {}  # type: Dict[str, Tuple[_HostServer, Dict[str, Any], str]]
        # The names handed out, for the host's life: (server, name there) -> host-wide name.
        # A model calls a tool by the name it was given a turn before; were the names settled
        # from each new catalog alone, a server adding a tool could move a name to another
        # server's tool (a real "a_b" adding "c" takes "a_b__c" from server "a.b"'s "c").
        self._tool_names = {}  # type: Dict[Tuple[str, str], str]
        self._resource_names = {}  # type: Dict[Tuple[str, str], str]
        self._prompt_names = {}  # type: Dict[Tuple[str, str], str]
        self._resources = {}  # type: Dict[str, Tuple[_HostServer, Dict[str, Any]]]
        self._prompts = {}  # type: Dict[str, Tuple[_HostServer, Dict[str, Any]]]
        self._retired = {}  # type: Dict[str, Tuple[str, str]]   # host names no longer offered
        _host_register(self)
        try:
            self._start_all()
            with self._lock:
                # Names are handed out from here on. A list_changed while the servers started
                # named a part of the catalog that no one was shown: forgotten, so that a new
                # host names its whole catalog by the rule alone (the same servers and tools,
                # the same names), whichever server was ready first.
                for given in (self._tool_names, self._resource_names, self._prompt_names):
                    given.clear()
                self._rebuild()
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_config(cls, config: Any, *, approve: Optional[Callable[[ApprovalRequest], Any]] = None,
                    pins: Optional[str] = None, audit: Optional[Callable[[Dict[str, Any]], Any]] = None,
                    **options: Any) -> "Host":
        """Start every server of ``config`` (see the class's text)."""
        if not isinstance(config, HostConfig):
            config = load_config(config, options.pop("environ", None), stacklevel=2)
        return cls(config, approve=approve, pins=pins, audit=audit, **options)

    # -- context manager ------------------------------------------------------------------

    def __enter__(self) -> "Host":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- starting and stopping ------------------------------------------------------------

    def _start_all(self) -> None:
        """Every server at once, each in a thread; the ones not connected and listed within
        ``start_timeout`` are abandoned (their process stopped)."""
        threads = []
        for server in self._servers:
            if server.config.problem is not None:
                self._fail(server, server.config.problem)
                server.done.set()
                continue
            thread = threading.Thread(target=self._start_one, args=(server,), name="mcplite-host-start-%s"
                                      % server.name, daemon=True)
            thread.start()
            threads.append((server, thread))
        deadline = time.monotonic() + self.start_timeout
        for server, thread in threads:
            server.done.wait(max(0.0, deadline - time.monotonic()))
            if server.done.is_set():
                thread.join(1.0)
        for server, _ in threads:
            if not server.done.is_set():
                with server.lock:
                    server.abandoned = True
                    channel = server.channel
                reason = "did not start within %g s" % self.start_timeout
                garbage = channel.garbage if channel is not None else None
                if garbage:
                    reason += "; it wrote to stdout what is not JSON-RPC: %r" % garbage.decode(
                        "utf-8", "replace").rstrip("\r\n")
                self._fail(server, reason)
                if channel is not None:
                    channel.close()  # the process (and its group) goes; the start thread ends
            elif server.error is not None:
                self._fail(server, _host_reason(server.error, server))

    def _start_one(self, server: _HostServer) -> None:
        config = server.config
        options = {"timeout": self.start_timeout, "probe_timeout": min(5.0, self.start_timeout),
                   "on_list_changed": lambda kind: self._list_changed(server, kind),
                   "cache": self.cache if self.cache is not None else False}  # type: Dict[str, Any]
        try:
            if config.transport == "stdio":
                channel = StdioChannel(config.argv, config.env, config.cwd, True, 16 * 1024 * 1024, 2.0)
                with server.lock:
                    server.channel = channel
                    abandoned = server.abandoned
                if abandoned:
                    channel.close()
                    return
                client = Client._over(channel, options)
            else:
                client = Client.http(config.url or "", config.headers, **options)
            with server.lock:
                server.client = client
                abandoned = server.abandoned
            if abandoned:
                client.close()
                return
            for kind in ("tools", "resources", "prompts"):
                self._list(server, client, kind)
            longest = max([self._timeout_for(server, None)] + list(config.tool_timeouts.values()))
            client.timeout = self._timeout_for(server, None)
            client.max_timeout = longest * _PROGRESS_FACTOR
            client._channel.set_write_timeout(client.timeout)
            with server.lock:
                server.ready = True
                stale, server.stale = server.stale, set()
            # A list_changed heard while the lists were read may be about a list read before
            # it: that list is read again (later ones go through _list_changed).
            for kind in ("tools", "resources", "prompts"):
                if kind in stale:
                    with server.refresh_lock:
                        self._list(server, client, kind)
        except BaseException as exc:  # reported by the thread waiting for it (KeyboardInterrupt lands there)
            server.error = exc
        finally:
            server.done.set()

    def _list(self, server: _HostServer, client: Client, kind: str) -> None:
        """Read one list of ``server`` (only what its capabilities offer). A failure to
        list resources or prompts is logged: its tools still work."""
        if kind not in client.server_capabilities:
            return
        try:
            if kind == "tools":
                items = client.list_tools()
            elif kind == "resources":
                items = client.list_resources()
            else:
                items = client.list_prompts()
        except MCPError as exc:
            if kind == "tools":
                raise
            _host_log.warning("server %r: cannot list its %s: %s", server.name, kind, exc)
            return
        setattr(server, kind, [item for item in items if isinstance(item, dict) and isinstance(
            item.get("name" if kind != "resources" else "uri"), str)])

    def _list_changed(self, server: _HostServer, kind: str) -> None:
        """A server's ``notifications/<kind>/list_changed``: read that list again (on the
        client's callback thread) and rebuild the catalog."""
        client = server.client
        if client is None or self._closed:
            return  # (before it is connected: the lists are read once it is)
        with server.lock:
            if not server.ready:  # (while its lists are read: read again when they are)
                server.stale.add(kind)
                return
        with server.refresh_lock:
            try:
                self._list(server, client, kind)
            except (MCPError, TransportError) as exc:
                _host_log.warning("server %r: cannot list its %s again after a change: %s", server.name, kind, exc)
                return
        with self._lock:
            self._rebuild()

    def _fail(self, server: _HostServer, reason: str) -> None:
        with self._lock:
            if server.failed:
                return
            server.failed = True
            self.failures.append(ServerFailure(server.name, reason, server.stderr_tail()))
        _host_log.warning("server %r: %s", server.name, reason)

    def close(self) -> None:
        """Stop every server (stdio: stdin closed, then SIGTERM, then SIGKILL to its process
        group) and end every HTTP session; calls still waiting end with an error result."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        stoppers = []
        for server in self._servers:
            with server.lock:
                server.abandoned = True
                client, channel = server.client, server.channel
            target = client.close if client is not None else (channel.close if channel is not None else None)
            if target is not None:
                thread = threading.Thread(target=target, name="mcplite-host-stop", daemon=True)
                try:
                    thread.start()
                except RuntimeError:
                    # Python 3.12 starts no thread once the interpreter is shutting down, which
                    # is when the at-exit hook closes a Host left open: stopped here, in turn.
                    target()
                    continue
                stoppers.append(thread)
        try:
            for thread in stoppers:
                thread.join(10.0)
        finally:
            with _host_open_lock:
                _host_open.discard(self)

    # -- the catalog ----------------------------------------------------------------------

    def _rebuild(self) -> None:
        """The catalog from every live server's lists (under ``self._lock``)."""
        live = [server for server in self._servers if server.ready and not server.failed]
        tools = []  # type: List[Tuple[_HostServer, Dict[str, Any]]]
        for server in live:
            tools.extend((server, tool) for tool in server.tools
                         if tool_permitted(server.config, tool["name"]) and tool_visible_to(tool, "model"))
        names = host_tool_names([(server.name, tool["name"]) for server, tool in tools], self._tool_names)
        catalog = {}  # type: Dict[str, Tuple[_HostServer, Dict[str, Any], str]]
        for server, tool in tools:
            status = self._pins.status(server.name, tool) if self._pins.path is not None else "pinned"
            catalog[names[(server.name, tool["name"])]] = (server, tool, status)
        for name, (server, tool, _) in self._tools.items():
            if name not in catalog:
                self._retired[name] = (server.name, tool["name"])
        for name in catalog:
            self._retired.pop(name, None)
        self._tools = catalog
        _remember(self._tool_names, names)
        self._resources = self._named(live, "resources", self._resource_names)
        self._prompts = self._named(live, "prompts", self._prompt_names)
        self._pins.save()

    @staticmethod
    def _named(live: Sequence[_HostServer], kind: str,
               given: Dict[Tuple[str, str], str]) -> Dict[str, Tuple[_HostServer, Dict[str, Any]]]:
        """Host-wide names of resources or prompts, by the rule of the tools' names (and, as
        theirs, kept once ``given``). A resource is named by its ``name`` unless two of one
        server share it (then by URI)."""
        pairs = []  # type: List[Tuple[_HostServer, str, Dict[str, Any]]]
        for server in live:
            items = getattr(server, kind)
            if kind == "resources":
                counts = {}  # type: Dict[str, int]
                for item in items:
                    counts[str(item.get("name"))] = counts.get(str(item.get("name")), 0) + 1
                keys = [item["name"] if isinstance(item.get("name"), str) and counts[item["name"]] == 1
                        else item["uri"] for item in items]
            else:
                keys = [item["name"] for item in items]
            seen = set()  # type: set
            for key, item in zip(keys, items):
                if key not in seen:
                    seen.add(key)
                    pairs.append((server, key, item))
        names = host_tool_names([(server.name, key) for server, key, _ in pairs], given)
        _remember(given, names)
        return {names[(server.name, key)]: (server, item) for server, key, item in pairs}

    def tools(self, provider: Optional[str] = None, mode: Optional[str] = None) -> List[Dict[str, Any]]:
        """The catalog in ``provider``'s format (one of ``PROVIDERS``; None: MCP tool dicts,
        each under its host-wide name). A tool whose definition changed since it was pinned
        is left out until ``approve_changes``. ``mode="search"`` gives just ``find_tools``
        and ``call_tool`` (for catalogs too big to send whole)."""
        _host_check_provider(provider)
        if mode not in (None, "all", "search"):
            raise ValueError("mode must be None (every tool) or 'search'")
        if mode == "search":
            return provider_tools([(tool["name"], tool) for tool in _SEARCH_TOOLS], provider)
        return provider_tools(self._entries(), provider)

    def _entries(self) -> List[Tuple[str, Dict[str, Any]]]:
        with self._lock:
            return [(name, tool) for name, (_, tool, status) in self._tools.items() if status != "changed"]

    def resources(self) -> List[Dict[str, Any]]:
        """Every server's resources, each a copy of its dict with ``name`` the host-wide name
        and ``server`` added (``read_resource(name)`` reads one)."""
        with self._lock:
            return [dict(item, name=name, server=server.name) for name, (server, item) in self._resources.items()]

    def prompts(self) -> List[Dict[str, Any]]:
        """Every server's prompts, likewise (``get_prompt(name, arguments)``)."""
        with self._lock:
            return [dict(item, name=name, server=server.name) for name, (server, item) in self._prompts.items()]

    def resolve(self, name: str, kind: str = "tool") -> Tuple[str, str]:
        """``(server, the server's name)`` of a host-wide name (``kind``: "tool", "prompt",
        or "resource", for which the second is the URI). KeyError when there is none."""
        with self._lock:
            if kind == "tool":
                if name in self._tools:
                    server, tool, _ = self._tools[name]
                    return server.name, tool["name"]
            elif kind in ("prompt", "resource"):
                table = self._prompts if kind == "prompt" else self._resources
                if name in table:
                    server, item = table[name]
                    return server.name, item["name" if kind == "prompt" else "uri"]
            else:
                raise ValueError("kind must be 'tool', 'prompt' or 'resource'")
        raise KeyError("no %s is named %r" % (kind, name))

    def read_resource(self, name: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """``resources/read`` of a resource by its host-wide name (``resources()``)."""
        server, uri = self.resolve(name, "resource")
        return self.client(server).read_resource(uri, timeout=timeout)

    def get_prompt(self, name: str, arguments: Optional[Dict[str, str]] = None,
                   timeout: Optional[float] = None) -> Dict[str, Any]:
        """``prompts/get`` of a prompt by its host-wide name (``prompts()``)."""
        server, prompt = self.resolve(name, "prompt")
        return self.client(server).get_prompt(prompt, arguments, timeout=timeout)

    @property
    def servers(self) -> List[str]:
        """The names of the servers running."""
        with self._lock:
            return [server.name for server in self._servers if server.ready and not server.failed]

    def client(self, server: str) -> Client:
        """The ``Client`` of a running server (for what the host does not wrap)."""
        entry = self._by_name.get(server)
        if entry is None or entry.client is None or not entry.ready or entry.failed:
            raise KeyError("no server %r is running" % (server,))
        return entry.client

    def processes(self) -> Dict[str, int]:
        """The process id of each stdio server started (running or not)."""
        return {server.name: server.channel.process.pid for server in self._servers if server.channel is not None}

    def stderr(self, server: str, limit: int = 2000) -> str:
        """The end (at most ``limit`` characters) of what a stdio server wrote to its stderr
        (kept, 64 KiB at most, rather than mixed into the host's own)."""
        entry = self._by_name.get(server)
        if entry is None:
            raise KeyError("no server %r in the configuration" % (server,))
        return entry.stderr_tail(limit)

    # -- pins -----------------------------------------------------------------------------

    @property
    def pin_problem(self) -> Optional[str]:
        """Why the pin file is not used (unreadable, corrupt, unwritable), or None."""
        return self._pins.problem

    def pin_changes(self) -> List[PinChange]:
        """The tools whose definition differs from the one pinned, each with a diff."""
        changes = []
        with self._lock:
            for name, (server, tool, status) in self._tools.items():
                if status != "changed":
                    continue
                pinned = self._pins.pinned(server.name, tool["name"])
                current = tool_definition(tool)
                diff = "".join(difflib.unified_diff(
                    _lines(pinned), _lines(current), "%s (pinned)" % name, "%s (now)" % name))
                changes.append(PinChange(name, server.name, tool["name"], pinned, current, diff))
        return changes

    def approve_changes(self, names: Optional[Iterable[Union[PinChange, str, Tuple[str, str]]]] = None
                        ) -> List[str]:
        """Accept changed definitions: they are pinned, and offered again. Returns the
        host-wide names approved.

        ``names``: the ``PinChange`` entries of ``pin_changes()`` that the user approved (the
        safe form): each pins the definition that entry showed, and only that. A server may
        change a tool again between the review and this call; such an entry is not approved
        (not in the list returned, logged), and the tool stays refused and in
        ``pin_changes()``, with a diff of its newest definition to review. Host-wide names or
        ``(server, tool)`` pairs, or None (every change), approve whatever definition each
        tool has at the moment of this call, reviewed or not."""
        approved = []
        with self._lock:
            wanted = None  # type: Optional[set]
            reviewed = {}  # type: Dict[Tuple[str, str], str]  # (server, tool) -> the digest shown
            if names is not None:
                wanted = set()
                for item in names:
                    if isinstance(item, PinChange):
                        reviewed[(item.server, item.tool)] = item.sha256
                    else:
                        wanted.add(tuple(item) if isinstance(item, list) else item)
            for name, (server, tool, status) in self._tools.items():
                if status != "changed":
                    continue
                pair = (server.name, tool["name"])
                if wanted is not None and pair not in reviewed and name not in wanted and pair not in wanted:
                    continue
                # (Under self._lock, which every catalog rebuild holds: the definition checked
                # is the one pinned.)
                if pair in reviewed and reviewed[pair] != definition_hash(tool):
                    _host_log.warning("tool %r of server %r not approved: its definition changed again after "
                                      "the change approved was shown", tool["name"], server.name)
                    continue
                self._pins.pin(server.name, tool)
                self._tools[name] = (server, tool, "pinned")
                approved.append(name)
            self._pins.save()
        return approved

    # -- context cost -----------------------------------------------------------------------

    def catalog_size(self, provider: Optional[str] = None) -> Dict[str, Any]:
        """The size of ``tools(provider)``: ``{"provider", "chars", "tokens", "search_chars",
        "search_tokens", "servers": {server: {"chars", "tokens", "tools": {name: {"chars",
        "tokens"}}}}}``. Characters of compact JSON (``separators=(",", ":")``, UTF-8 text
        not escaped), as an API request carries it; tokens estimated as characters / 4, rounded
        up (an estimate: the real count depends on the model's tokenizer). ``search_*``: the
        two tools of ``mode="search"`` instead."""
        _host_check_provider(provider)
        with self._lock:
            rows = [(server.name, name, tool) for name, (server, tool, status) in self._tools.items()
                    if status != "changed"]
        servers = {}  # type: Dict[str, Dict[str, Any]]
        total = 0
        for server_name, name, tool in rows:
            chars = _json_size(provider_tools([(name, tool)], provider)[0])
            entry = servers.setdefault(server_name, {"chars": 0, "tokens": 0, "tools": {}})
            entry["tools"][name] = {"chars": chars, "tokens": _host_tokens(chars)}
            entry["chars"] += chars
            total += chars
        for entry in servers.values():
            entry["tokens"] = _host_tokens(entry["chars"])
        search = sum(_json_size(tool) for tool in self.tools(provider, mode="search"))
        return {"provider": provider, "chars": total, "tokens": _host_tokens(total), "search_chars": search,
                "search_tokens": _host_tokens(search), "servers": servers}

    # -- calls ----------------------------------------------------------------------------

    def call(self, tool_call: Any, timeout: Optional[float] = None,
             progress: Optional[Callable[[float, Optional[float], Optional[str]], Any]] = None) -> Any:
        """Route the model's ``tool_call`` (any provider's shape, or ``(name, arguments)``)
        to its server and return the result in the same provider's shape (an MCP
        ``CallToolResult`` dict for a plain pair). Never raises for the model's mistakes or a
        server's failure: those are error results (see the module's text). ``timeout``
        overrides the configured one; ``progress(progress, total, message)`` hears the
        server's progress, which also pushes the deadline further (up to 10 times the
        call's timeout, wherever it came from). Raises ``TypeError``/``ValueError`` only for what is no tool call in any
        shape (a bug of the loop around the model, not the model's mistake)."""
        started, wall = time.monotonic(), time.time()
        call = parse_tool_call(tool_call)
        # (The arguments' digest is made in _audit, only when there is an audit to hear it:
        # it was the largest part of what routing cost.)
        record = {"time": wall, "server": None, "tool": None, "name": call.name, "call_id": call.call_id,
                  "_arguments": call.arguments}  # type: Dict[str, Any]

        def refuse(outcome: str, message: str) -> Any:
            self._audit(record, outcome, started, message)
            return provider_error(call, message)

        if call.problem is not None:
            with self._lock:
                known = self._tools.get(call.name)
            if known is not None:
                record["server"], record["tool"] = known[0].name, known[1]["name"]
            return refuse("invalid", call.problem)
        name, arguments = call.name, call.arguments
        shown = True  # the arguments name the tool's properties as provider_tools showed them
        if name == FIND_TOOLS:
            record["server"], record["tool"] = None, FIND_TOOLS
            result = self._find_tools(arguments or {})
            self._audit(record, "error" if result.get("isError") else "ok", started, None)
            return provider_result(call, result)
        if name == CALL_TOOL:
            inner = arguments or {}
            inner_name = inner.get("name")  # type: Any
            arguments = inner.get("arguments")
            if isinstance(arguments, str):  # a model that wrote the inner arguments as JSON text
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    pass
            record["name"] = inner_name
            record["_arguments"] = arguments
            if not isinstance(inner_name, str) or not inner_name:
                return refuse("invalid", "call_tool needs \"name\": the name of a tool that find_tools returned")
            name = inner_name
            shown = False  # (find_tools showed the server's own input schema)
            if arguments is not None and not isinstance(arguments, dict):
                return refuse("invalid", "call_tool's \"arguments\" must be an object of the tool's arguments")
        with self._lock:
            entry = self._tools.get(name)
            retired = self._retired.get(name)
        if entry is None:
            if retired is not None:
                record["server"], record["tool"] = retired
                return refuse("unknown", "The tool %r is no longer available (its server removed it or went "
                                         "away); do not call it again." % name)
            return refuse("unknown", "There is no tool named %r. %s" % (name, self._available_hint()))
        server, tool, status = entry
        record["server"], record["tool"] = server.name, tool["name"]
        if status == "changed":
            return refuse("changed", "The tool %r was refused: its definition changed since the user approved it, "
                                     "and it must be approved again before it can be used." % name)
        arguments = dict(arguments or {})
        if shown:  # (properties renamed for the provider get the server's names back)
            arguments = server_arguments(call.provider, tool, arguments)
            record["_arguments"] = arguments
        if self.approve is not None:
            annotations = tool.get("annotations")
            # (Annotations that are no object, a server's mistake, are none: the protocol's defaults.)
            request = ApprovalRequest(server.name, tool["name"], name, arguments,
                                      dict(annotations) if isinstance(annotations, dict) else {})
            try:
                allowed = self.approve(request)
            except Exception as exc:  # a failing approval is a refusal, never an approval
                _host_log.exception("approve() raised; the call is refused")
                allowed, why = False, " (the approval failed: %s)" % type(exc).__name__
            else:
                why = ""
            if not allowed:
                return refuse("refused", "The user declined this call of %r%s. Do not retry it unchanged; ask the "
                                         "user or try another way." % (name, why))
        client = server.client
        assert client is not None
        limit = timeout if timeout is not None else self._timeout_for(server, tool["name"])
        try:
            # Progress extends the call up to 10 times its own timeout, whichever gave it
            # (the call, the tool, the server, the host): not the client's max_timeout,
            # made of the configured timeouts alone.
            with progress_ceiling(limit * _PROGRESS_FACTOR):
                result = client.call_tool(tool["name"], arguments, timeout=limit,
                                          progress=progress if progress is not None else _no_progress)
        except KeyboardInterrupt:
            # (The client told the server the call is cancelled.)
            self._audit(record, "failed", started, "interrupted")
            raise
        except RequestTimeout:
            return refuse("timeout", "The tool %r did not finish within %g s and was cancelled." % (name, limit))
        except MCPError as exc:
            return refuse("failed", "The tool %r failed: %s" % (name, exc.message))
        except ConnectionClosed as exc:
            if client._closed is not None and not self._closed:  # the server went away
                self._fail(server, _host_reason(exc, server))
                with self._lock:
                    self._rebuild()
            return refuse("failed", "The server of %r is not available: %s" % (name, str(exc).split("\n")[0]))
        except TransportError as exc:
            return refuse("failed", "The server of %r could not be reached: %s" % (name, str(exc).split("\n")[0]))
        if not isinstance(result.get("content"), list):
            result = dict(result, content=[])
        outcome = "error" if result.get("isError") else "ok"
        self._audit(record, outcome, started, _result_text(result) if outcome == "error" else None)
        return provider_result(call, result)

    def _timeout_for(self, server: _HostServer, tool: Optional[str]) -> float:
        if tool is not None and tool in server.config.tool_timeouts:
            return server.config.tool_timeouts[tool]
        return server.config.timeout if server.config.timeout is not None else self.timeout

    def _available_hint(self) -> str:
        names = [name for name, _ in self._entries()]
        if not names:
            return "No tools are available."
        shown = ", ".join(sorted(names)[:20])
        more = " (and %d more; find_tools searches them)" % (len(names) - 20) if len(names) > 20 else ""
        return "The tools available: %s%s." % (shown, more)

    def _audit(self, record: Dict[str, Any], outcome: str, started: float, message: Optional[str]) -> None:
        if self.audit is None:
            return
        record = dict(record, outcome=outcome, duration=time.monotonic() - started)
        record["arguments_sha256"] = arguments_digest(record.pop("_arguments"))
        if message is not None:
            record["message"] = message
        try:
            self.audit(record)
        except Exception:  # the call happened: a broken audit sink is logged, not the model's problem
            _host_log.exception("audit() raised for a call of %r", record.get("name"))

    def _find_tools(self, arguments: Dict[str, Any]) -> Dict[str, Any]:
        query = arguments.get("query", "")
        limit = arguments.get("limit", _SEARCH_LIMIT)
        if not isinstance(query, str):
            return _error_result("find_tools needs \"query\": a string of keywords")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            limit = _SEARCH_LIMIT
        found = search_tools(self._entries(), query, min(limit, _SEARCH_MAX))
        listing = [{"name": name, "description": tool.get("description", ""),
                    "inputSchema": tool.get("inputSchema", {"type": "object"})} for name, tool in found]
        if not listing:
            text = "No tool matches %r. Try other keywords." % query
        else:
            text = json.dumps(listing, ensure_ascii=False)
        return {"content": [{"type": "text", "text": text}], "structuredContent": {"tools": listing}}


def search_tools(entries: Sequence[Tuple[str, Dict[str, Any]]], query: str,
                 limit: int) -> List[Tuple[str, Dict[str, Any]]]:
    """The ``limit`` entries (host name, tool) that best match ``query``: each word of it
    found in the name counts 3, in the title or description 2, in a parameter's name or
    description 1; ties by name. An empty query matches every tool."""
    words = re.findall(r"[a-z0-9]+", query.lower())
    scored = []
    for name, tool in entries:
        if not words:
            scored.append((0, name, tool))
            continue
        schema = tool.get("inputSchema")
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict):
            properties = {}
        parameters = " ".join(str(key) + " " + str(value.get("description", "") if isinstance(value, dict) else "")
                              for key, value in properties.items()).lower()
        described = (str(tool.get("title", "")) + " " + str(tool.get("description", ""))).lower()
        lowered = name.lower()
        score = sum(3 * (word in lowered) + 2 * (word in described) + (word in parameters) for word in words)
        if score:
            scored.append((-score, name, tool))
    scored.sort(key=lambda row: (row[0], row[1]))
    return [(name, tool) for _, name, tool in scored[:limit]]


# --- helpers ---------------------------------------------------------------------------------


def _no_progress(progress: Any, total: Any, message: Any) -> None:
    """Given when the caller gave none: a progress token makes the server's progress push
    the call's deadline further."""


def _host_check_provider(provider: Optional[str]) -> None:
    if provider is not None and provider not in PROVIDERS:
        raise ValueError("unknown provider %r; use one of %s, or None for MCP tool dicts"
                         % (provider, ", ".join(PROVIDERS)))


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _lines(value: Dict[str, Any]) -> List[str]:
    return [line + "\n" for line in json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).split("\n")]


def _error_result(message: str) -> Dict[str, Any]:
    return {"content": [{"type": "text", "text": message}], "isError": True}


def _result_text(result: Dict[str, Any]) -> str:
    texts = [block.get("text", "") for block in result.get("content", [])
             if isinstance(block, dict) and block.get("type") == "text"]
    return " ".join(str(text) for text in texts)[:500]


def _host_reason(error: BaseException, server: _HostServer) -> str:
    """One sentence on why a server failed (its stderr goes in the failure's own field)."""
    text = str(error).split("; its stderr ends with:")[0].strip()
    if isinstance(error, MCPError):
        text = "it answered with an error: %s" % error.message
    elif not text:
        text = type(error).__name__
    tail = [line for line in server.stderr_tail().splitlines() if line.strip()]
    if tail and isinstance(error, ConnectionClosed):
        text += "; the last line of its stderr: %s" % tail[-1].strip()
    status = getattr(error, "status", None)
    if status in (401, 403):
        text += " (the server wants authorization: give \"headers\" such as {\"Authorization\": \"Bearer ...\"})"
    return text


def _remember(given: Dict[Tuple[str, str], str], names: Dict[Tuple[str, str], str]) -> None:
    """Add a catalog's ``names`` to those ``given`` before (in place). A pair no longer
    offered is remembered, to get its name back should it return, unless another pair now
    holds that name (each name is then held by one pair only, as ``host_tool_names`` wants)."""
    held = set(names.values())
    for pair in [pair for pair, name in given.items() if pair not in names and name in held]:
        del given[pair]
    given.update(names)


def _host_register(host: Host) -> None:
    with _host_open_lock:
        _host_open.add(host)
        if not _atexit:
            import atexit
            atexit.register(_close_all)
            _atexit.append(True)


def _close_all() -> None:
    with _host_open_lock:
        hosts = list(_host_open)
    for host in hosts:
        try:
            host.close()
        except Exception:
            pass

