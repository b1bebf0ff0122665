"""Mounting: another MCP server's tools, prompts and resources served by this ``Server``.

    app = Server("front")
    app.mount("notes", {"command": "python3", "args": ["notes_server.py"]})
    app.mount("search", Client.http("https://search.example/mcp"))

The upstream's tools and prompts appear as ``<prefix>__<name>`` (the host catalog's naming;
the prefix "" keeps the upstream's own names, for a gateway in front of one server; a tool
name the front cannot serve, outside 1-128 characters of A-Z a-z 0-9 _ - . once prefixed, is
served as ``<prefix>__<name made valid>_<first 8 hex digits of its SHA-256>``, calls going
upstream by its own name),
described exactly as the upstream describes them (input and output schemas, annotations,
``_meta``: nothing is derived again here); resources and resource templates keep their URIs.
A call is forwarded with the upstream ``Client`` and its result passed back as it came
(``content``, ``structuredContent``, ``isError``); progress the upstream reports reaches the
caller's progress token, and the caller's cancellation cancels the upstream call. An upstream
that died, hung or answered garbage gives that call an error result (a tool) or an error (a
prompt or a read), and never takes the front server down. When the upstream says a list
changed, it is listed again and the front's registrations follow, so the front's own clients
hear ``list_changed`` in turn.

Everything else passes through too. The upstream's questions (elicitation in form and URL
mode, sampling, roots) are put to the client in front of the call they came from, and the
answers go back: to a session-era client as requests, to a 2026-07-28 client as
``input_required`` rounds. A session-era upstream asks while its call waits; a 2026-07-28 client
in front cannot be asked that way, so the gateway keeps the upstream call waiting between the
rounds (keys ``gw.<token>.<n>`` name it). The upstream's log messages go to the call they came
with at the level the client in front asked for (``logging/setLevel`` is passed on too, and
``notifications/roots/list_changed`` to session-era upstreams);
``resources/subscribe`` and resource updates, and ``completion/complete`` (by the prompt's
prefixed name or the template's URI) are routed to the upstream that owns the name. The
upstream's listed resources are subscribed to while listed; a resource of one of its templates
while a client in front holds a subscription to it (a session's ``resources/subscribe``, a
``subscriptions/listen`` stream naming it), and unsubscribed once the last lets go
(``resources/unsubscribe``, its session ended, its stream closed). One client in front holds
at most its share of the mount's places (``subscriptions_per_client``); beyond it, a
``resources/subscribe`` is refused (-32602) and a listen stream's acknowledgment leaves the
resource out. A
2026-07-28 upstream gets the capabilities of the client in front with each request; where it
answers with a task (tasks extension), the front answers with a task of its own and waits for
the upstream's.

Which call a question or log message belongs to: the one whose thread receives it (a
2026-07-28 upstream's rounds), else the mount's only call in flight; a question that cannot be
matched (a session-era upstream over stdio with several calls in flight) is refused with an
error saying so, never put to another caller's client.

An upstream the mount started itself (a config entry) is watched: when its process or
connection is gone, its tools, prompts and resources vanish from the front (``list_changed``),
and it is started again (stdio) or reconnected (HTTP) with exponential backoff, 0.25 s doubling
to at most 30 s; once back it is listed again and they reappear. ``restart=False`` leaves it
down (its calls fail with an error naming the mount). A ``Client`` handed over is never
restarted: its owner decides.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import re
import threading
import time
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

from .asking import ask, gather
from .client import Client
from .clientsession import cancel_when, received_on
from .connection import SessionNotifier
from .context import Context
from .errors import Cancelled, MCPError, ProtocolError, RequestTimeout, TransportError, UrlElicitationRequired
from .jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, REQUEST_TIMEOUT, URL_ELICITATION_REQUIRED
from .protocol import (
    ERA_MODERN, LOG_LEVELS, META_CLIENT_CAPABILITIES, META_LOG_LEVEL, META_SERVER_INFO, TASKS_EXTENSION,
)
from .registry import ResourceTemplate, SubscriptionListener
from .results import tool_error
from .skills import SKILL_SCHEME, SKILLS_EXTENSION
from .taskwait import _poll_interval as task_poll_interval, _request as task_request, cancel_task, task_outcome

_gateway_log = logging.getLogger("mcplite.gateway")

# The prefix becomes part of a tool name, and model APIs take tool names of A-Z a-z 0-9 _ -
# (hostformats' rule): a prefix outside that would make names some hosts cannot offer.
_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# The separator the host catalog uses between a server's name and its tool's.
GATEWAY_SEPARATOR = "__"
# The front's rule for a tool name (the registry's): 2025-11-25 "Tool names SHOULD be between 1
# and 128 characters in length" of A-Z a-z 0-9 _ - and dot. An upstream's name outside it, once
# prefixed, is served under a name derived from it (see Mount._tool_names).
_GATEWAY_TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}\Z")
_TOOL_NAME_BAD_CHAR = re.compile(r"[^A-Za-z0-9_.-]")
_TOOL_NAME_MAX = 128
_GATEWAY_HASH_LENGTHS = (8, 16, 32)  # hex digits; a longer one only when a shorter one's name is taken
# Upstream failures that are the upstream's, not the caller's: a closed process or
# connection, a timeout, garbage (ProtocolError is a TransportError).
_UPSTREAM_FAILURES = (TransportError, OSError, ValueError)
# What a mount's client declares it can answer: whatever the upstream asks goes to the client
# in front, which answers or refuses.
_ASKS = {"elicitation": {"form": {}, "url": {}},
                 "sampling": {"tools": {}, "context": {}}}  # type: Dict[str, Dict[str, Any]]
# The requests of 2026-07-28 that may take input_required rounds (and tools/call a task).
_ROUND_METHODS = frozenset(("tools/call", "prompts/get", "resources/read"))
_ASK_KINDS = {"elicitation/create": "elicit", "sampling/createMessage": "sample", "roots/list": "roots"}
_GATEWAY_CANCEL_POLL = 0.05  # how often a wait for an upstream task looks for a cancellation, s
_WATCH_INTERVAL = 0.1  # how often a mount looks whether its upstream is still there, s
_PING_TIMEOUT = 5.0  # the ping after a failed call, s (at most the mount's timeout)
_FIRST_BACKOFF = 0.25  # the first restart's delay, doubled each failed attempt...
_MAX_BACKOFF = 30.0  # ...up to this, s
_STABLE = 30.0  # an upstream up this long starts the next backoff from the first delay, s
_MAX_SUBSCRIPTIONS = 256  # upstream resources subscribed to at once, per mount
_MAX_CONVERSATIONS = 1000  # upstream calls waiting for a 2026-07-28 client's answers
# The Clients handed to a mount, while mounted (client -> the mount's prefix): one client's
# handlers can answer for one mount only, so a second mount of it is refused.
_handed = None  # type: Any   # a weakref.WeakKeyDictionary, made at the first mount
_handed_lock = threading.Lock()
_MAX_URL_ELICITATIONS = 256  # URL elicitations whose completion may still be relayed, per mount
_PY_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "notice": logging.INFO,
                      "warning": logging.WARNING, "error": logging.ERROR, "critical": logging.CRITICAL,
                      "alert": logging.CRITICAL, "emergency": logging.CRITICAL}


def gateway_client(upstream: Any, on_list_changed: Callable[[str], Any], timeout: float,
                   **handlers: Any) -> Client:
    """A connected ``Client`` for a config entry (``{"command": ...}`` / ``{"url": ...}``),
    parsed as the host parses one (variables expanded, the same checks), or for one server
    of a configuration ``load_config`` read (a ``ServerConfig``). ``handlers`` are more
    ``Client`` options (``sampling=``, ``elicitation=``, ``on_log=``...)."""
    from .hostconfig import ServerConfig, load_config
    config = (upstream if isinstance(upstream, ServerConfig)
              else load_config({"mcpServers": {"upstream": upstream}}, stacklevel=3).servers[0])
    if config.problem is not None:
        raise ValueError("the upstream entry cannot start: %s" % config.problem)
    # Connecting as a whole within the timeout: a server that never answers (one writing
    # garbage on stdout, say) fails the mount within about it, not after the probe's wait,
    # initialize's and the stop's one after the other.
    within = config.timeout or timeout
    options = dict(handlers, timeout=within, on_list_changed=on_list_changed, _connect_within=within)
    if config.transport == "stdio":
        return Client.stdio(config.argv, config.env, config.cwd, **options)
    return Client.http(config.url or "", config.headers, **options)


class Mount:
    """One upstream mounted on a ``Server`` under ``prefix`` (made by ``Server.mount``).
    ``close()`` removes its registrations and, if the mount started the client (a config
    entry), stops it."""

    def __init__(self, app: Any, prefix: str, upstream: Any, timeout: float = 30.0, restart: bool = True,
                 subscriptions_per_client: Optional[int] = None) -> None:
        if not isinstance(prefix, str) or not (prefix == "" or _PREFIX.match(prefix)):
            raise ValueError("a mount prefix is 1-64 characters from A-Z a-z 0-9 _ -, or \"\" for the "
                             "upstream's own names: %r" % (prefix,))
        if subscriptions_per_client is not None and (not isinstance(subscriptions_per_client, int)
                                                     or isinstance(subscriptions_per_client, bool)
                                                     or subscriptions_per_client < 1):
            raise ValueError("subscriptions_per_client must be None or an integer >= 1")
        self.subscriptions_per_client = subscriptions_per_client
        self.app = app
        self.prefix = prefix
        self._lock = threading.RLock()
        # What this mount registered on the app, by the app's name or URI: the upstream's
        # entry it was made from (a changed entry is registered again).
        self._tools = {}  # type: Dict[str, Dict[str, Any]]
        self._prompts = {}  # type: Dict[str, Dict[str, Any]]
        self._resources = {}  # type: Dict[str, Dict[str, Any]]
        # What the app refused to register (a name another mount has, say), by the table it
        # was for (id of _tools, _prompts or _resources): the upstream's entries.
        self._refused = {}  # type: Dict[int, Dict[str, Dict[str, Any]]]
        self._subscribed = set()  # type: set   # URIs the upstream was asked to tell us about
        # The resources of templates (not listed: subscribed upstream only on a client's
        # behalf) by the holders in front that want them: a legacy session (its LegacySession)
        # or a listen stream (its listener), by id: (the holder, its client). Released
        # upstream when none is left.
        self._held = {}  # type: Dict[str, Dict[int, Tuple[Any, str]]]
        # The same by client in front (a Port's client: the token's holder or the address over
        # HTTP, the one at the other end of a stdio connection): client -> URI -> how many of
        # its holders hold it. A client holds at most share() URIs (see hold).
        self._client_holds = {}  # type: Dict[str, Dict[str, int]]
        # Both under this lock, never _lock: the front's own thread holds and screens listen
        # streams, and must not wait for a listing (which holds _lock while the upstream answers).
        self._shares_lock = threading.Lock()
        # Lists the upstream said changed, to list again (on the relister thread, if one runs).
        self._stale = set()  # type: set
        # Kinds whose list the upstream answered with an error: listed again at its next
        # list_changed (of any kind), or when it is started again. (Under _stale_lock, never
        # self._lock: _list_changed runs on the upstream client's callback thread.)
        self._unlisted = set()  # type: set
        self._stale_lock = threading.Lock()
        self._relister = None  # type: Optional[threading.Thread]
        self._closed = False
        self.timeout = timeout
        self.restarts = 0  # how many times the upstream was restarted (stdio) or reconnected (HTTP)
        self.down = None  # type: Optional[str]   # why the upstream is down, while it is
        self._stop = threading.Event()
        self._suspect = threading.Event()  # a call failed: is the upstream still there?
        self._watcher = None  # type: Optional[threading.Thread]
        # The calls forwarded now, for matching what the upstream sends (questions, log
        # messages) to the call it came with.
        self._origins = []  # type: List[_GatewayOrigin]
        self._origins_lock = threading.Lock()
        # Session-era upstream calls kept waiting between a 2026-07-28 client's rounds.
        self._conversations = {}  # type: Dict[str, _GatewayConversation]
        # The upstream's URL elicitations put to a session in front, by elicitationId: who
        # is told when the upstream says it is complete (oldest forgotten past the bound:
        # one the user never finished is never completed).
        self._url_elicitations = {}  # type: Dict[str, Context]
        # An upstream task on its way to becoming the front's task (by the request's params).
        self._task_stash = {}  # type: Dict[int, Tuple[Any, Dict[str, Any]]]
        # The handlers this mount gave a Client handed to it, taken back on close (the
        # client may be mounted again, and the next mount's must take their place).
        self._lent = {}  # type: Dict[str, Any]
        # The log level a session-era upstream was asked for (set_level), asked again of one
        # started again.
        self._level = None  # type: Optional[str]
        self._level_lock = threading.Lock()
        relays = {"sampling": lambda params: self._relay("sampling/createMessage", "sample", params),
                  "elicitation": lambda params: self._relay("elicitation/create", "elicit", params),
                  "roots": lambda: self._relay("roots/list", "roots", {})["roots"],
                  "on_log": self._relay_log,
                  "on_resource_updated": self._resource_updated,
                  "on_elicitation_complete": self._elicitation_complete}  # type: Dict[str, Any]
        from .hostconfig import ServerConfig
        from .server import Server
        if isinstance(upstream, Client):
            _hand_over(upstream, prefix)
            self.client = upstream
            self.owned = False
            earlier = upstream.on_list_changed

            def chained(kind: str) -> None:
                if earlier is not None:
                    earlier(kind)
                self._list_changed(kind)
            upstream.on_list_changed = chained
            # What the given client declared it can answer, the client in front answers;
            # its own handlers, if it has them, stay.
            for name in ("sampling", "elicitation", "roots", "on_log", "on_resource_updated",
                         "on_elicitation_complete"):
                if getattr(upstream, name) is None:
                    setattr(upstream, name, relays[name])
                    self._lent[name] = relays[name]
            self._lent["on_list_changed"] = (chained, earlier)
            if upstream.era == ERA_MODERN and earlier is None and upstream.cache is None:
                # 2026-07-28 tells of list changes only on a subscriptions/listen stream, which a
                # client connected without on_list_changed did not open.
                try:
                    upstream._relisten(None)
                except MCPError as exc:
                    _gateway_log.warning("mount %s: no list changes from the upstream: %s", prefix, exc)
        elif isinstance(upstream, (dict, ServerConfig)):
            self._entry = upstream
            self._relays = relays
            self.client = self._connect()
            self.owned = True
        elif isinstance(upstream, Server):
            if upstream is app:
                raise ValueError("a server cannot mount itself")
            # In this process: an in-memory client, which nothing can take down (no restarts).
            self.client = Client(upstream, timeout=timeout, on_list_changed=self._list_changed,
                                 capabilities=_ASKS, **relays)
            self.owned = True
            restart = False
        else:
            raise TypeError("mount an upstream Client, a Server or a config entry ({\"command\": ...} or "
                            "{\"url\": ...}), not %s" % type(upstream).__name__)
        _gateway_install(app, self)
        try:
            self.refresh()
        except BaseException:
            self.close()
            raise
        if self.owned and restart:
            self._watcher = threading.Thread(target=self._watch, name="mcplite-gateway-watch-" + prefix, daemon=True)
            self._watcher.start()

    def _connect(self) -> Client:
        # Every question the upstream may ask is declared: the client in front is asked in
        # turn, and one that cannot answer gets the upstream a -32021 error naming what it
        # lacks.
        return gateway_client(self._entry, self._list_changed, self.timeout, capabilities=_ASKS,
                              **self._relays)

    # -- an upstream that failed: restarted (stdio) or reconnected (HTTP) ----------------

    def _watch(self) -> None:
        """A mount's own upstream, watched: once its process or connection is gone (or a
        call failed and a ping gets no answer either), its tools, prompts and resources
        are unregistered (the front's clients hear list_changed), and it is started again
        after a delay that doubles from 0.25 s up to 30 s until it comes back; then listed
        again (list_changed once more). The delay starts over once an upstream stayed up
        for 30 s, so one that dies at once is not restarted in a tight loop."""
        delay = _FIRST_BACKOFF
        up_since = time.monotonic()
        while not self._stop.wait(_WATCH_INTERVAL):
            client = self.client
            if client._closed is None:
                if not self._suspect.is_set():
                    continue
                self._suspect.clear()
                try:
                    client.ping(timeout=min(self.timeout, _PING_TIMEOUT))
                    continue
                except MCPError:
                    continue  # an answer, if not to ping: it is there
                except _UPSTREAM_FAILURES:
                    pass
            if time.monotonic() - up_since > _STABLE:
                delay = _FIRST_BACKOFF
            self.down = str(client._closed or "it answered no ping")
            _gateway_log.warning("mount %s: the upstream is down (%s); starting it again in %g s", self.prefix,
                                 self.down, delay)
            self._unregister_all()
            client.close()
            while True:
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, _MAX_BACKOFF)
                try:
                    client = self._connect()
                except (MCPError,) + _UPSTREAM_FAILURES as exc:
                    _gateway_log.warning("mount %s: the upstream did not come back (%s); again in %g s", self.prefix,
                                         exc, delay)
                    continue
                break
            with self._lock:
                if self._closed:
                    client.close()
                    return
                self.client = client
                # What the upstream that went down was asked to tell of, the new one is
                # asked again: the listed resources by refresh, the rest (a resource of a
                # template a client in front subscribed to) after it.
                before, self._subscribed = self._subscribed, set()
                self.down = None
                self.restarts += 1
            up_since = time.monotonic()
            _gateway_log.warning("mount %s: the upstream is back", self.prefix)
            try:
                with self._level_lock:
                    self._send_level()  # a new session upstream: at the level asked of the last
                self.refresh()
                caps = client.server_capabilities or {}
                resources = caps.get("resources")
                if isinstance(resources, dict) and resources.get("subscribe"):
                    self._subscribe_upstream([uri for uri in before if self.owns(uri)])
            except (MCPError,) + _UPSTREAM_FAILURES as exc:
                self._suspect.set()
                _gateway_log.warning("mount %s: listing the upstream again failed: %s", self.prefix, exc)

    @property
    def process_id(self) -> Optional[int]:
        """The upstream's process id when it runs on stdio, else None."""
        process = self.client._channel.process
        return process.pid if process is not None else None

    # -- keeping the registrations in step with the upstream ----------------------------

    def refresh(self, kinds: Any = ("tools", "prompts", "resources")) -> None:
        """List the upstream again and bring the app's registrations in line. A list the
        upstream answers with an error leaves that kind's registrations as they were (none,
        at the first listing) and the others listed; it is logged, and listed again at the
        upstream's next list_changed (of any kind) or restart. A failure of the upstream
        itself (gone, hung, garbage) is raised."""
        with self._lock:
            if self._closed:
                return
            caps = self.client.server_capabilities or {}
            if "tools" in kinds:
                # (What the upstream did not declare is not asked for: no list at all.)
                listed = self._listed("tools", "tools/list", self.client.list_tools) if "tools" in caps else []
                if listed is not None:
                    self._sync(self._tools, self._tool_names(listed), self._add_tool, self.app.remove_tool)
            if "prompts" in kinds:
                listed = self._listed("prompts", "prompts/list", self.client.list_prompts) if "prompts" in caps else []
                if listed is not None:
                    self._sync(self._prompts, {self._name(p.get("name")): p for p in listed}, self._add_prompt,
                               self.app.remove_prompt)
            if "resources" in kinds:
                entries = {}  # type: Dict[str, Dict[str, Any]]
                if "resources" in caps:
                    # Each list on its own: one that failed keeps what it had registered.
                    plain = self._listed("resources", "resources/list", self.client.list_resources)
                    templates = self._listed("resources", "resources/templates/list", self._resource_templates,
                                             failed=plain is None)
                    for entry in plain if plain is not None else [e for e in self._resources.values() if "uri" in e]:
                        if isinstance(entry.get("uri"), str):
                            entries[entry["uri"]] = entry
                    for entry in (templates if templates is not None
                                  else [e for e in self._resources.values() if "uriTemplate" in e]):
                        if isinstance(entry.get("uriTemplate"), str):
                            entries[entry["uriTemplate"]] = entry
                resources = caps.get("resources")
                subscribes = isinstance(resources, dict) and bool(resources.get("subscribe"))
                if subscribes:
                    # Subscribed upstream before the front lists them: a client that sees a
                    # resource listed and subscribes at once must hear of its next update.
                    self._subscribe_upstream([uri for uri, entry in entries.items() if "uri" in entry])
                self._sync(self._resources, entries, self._add_resource, self.app.remove_resource)
                if _skills_of(self) is not None:
                    _install_skills(self.app)
                if subscribes:
                    # A 2026-07-28 client in front subscribes on its subscriptions/listen
                    # stream, which no handler here sees: so the upstream is asked at once
                    # about every resource it lists (bounded), and the front passes the
                    # updates on to whoever subscribed. A resource the upstream no longer
                    # serves is let go of, or those gone would fill the bound and the
                    # upstream's resources of later would never be heard of.
                    gone = [uri for uri in self._subscribed if uri not in entries
                            and not (uri in self._held and self.owns(uri))]
                    self._subscribe_upstream([uri for uri, entry in entries.items() if "uri" in entry], gone)

    def _listed(self, kind: str, method: str, listing: Callable[[], List[Dict[str, Any]]],
                failed: bool = False) -> Optional[List[Dict[str, Any]]]:
        """``listing()``, or None when the upstream answered it with an error (logged, and
        ``kind`` marked to be listed again). ``failed``: another list of ``kind`` failed in
        this same listing (it stays marked)."""
        try:
            listed = listing()
        except MCPError as exc:
            _gateway_log.warning("mount %s: %s failed (%s); its %s are listed again at the upstream's next "
                                 "list_changed or restart", self.prefix, method, exc, kind)
            with self._stale_lock:
                self._unlisted.add(kind)
            return None
        if not failed:
            with self._stale_lock:
                self._unlisted.discard(kind)
        return listed

    def _resource_templates(self) -> List[Dict[str, Any]]:
        try:
            return self.client.list_resource_templates()
        except MCPError as exc:
            if exc.code != METHOD_NOT_FOUND:
                raise
            # Servers that implement resources/list alone exist (the Python SDK's low-level
            # server answers what it has no handler for so): their resources are served.
            return []

    def _tool_names(self, listed: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
        """The upstream's tools by the names the front serves them under. A name valid on the
        front once prefixed is kept; any other (characters outside A-Z a-z 0-9 _ - ., or over
        128 characters with the prefix) is served as ``<prefix>__<name>_<h>``: the name with
        every other character made ``_``, cut to fit 128, and ``h`` the first 8 hex digits of
        the SHA-256 of the upstream's name (UTF-8), so the same upstream name is always served
        under the same front name; a call goes upstream by the real name (the entry's). Should
        that name be another tool's, 16 digits, then 32."""
        names = {}  # type: Dict[str, Dict[str, Any]]
        odd = []  # type: List[Tuple[str, Dict[str, Any]]]
        for entry in listed:
            name = entry.get("name")
            if not isinstance(name, str):
                _gateway_log.warning("mount %s: a tool without a name (a string) not served: %r", self.prefix, name)
                continue
            front_name = self._name(name)
            if _GATEWAY_TOOL_NAME.match(front_name):
                names[front_name] = entry
            else:
                odd.append((name, entry))
        # (Sorted: the names taken first do not depend on the upstream's order.)
        for name, entry in sorted(odd, key=lambda pair: pair[0]):
            for length in _GATEWAY_HASH_LENGTHS:
                derived = self._derived_tool_name(name, length)
                if derived not in names:
                    names[derived] = entry
                    break
            else:
                _gateway_log.warning("mount %s: tool %r not served: its derived names are taken", self.prefix, name)
        return names

    def _derived_tool_name(self, name: str, length: int) -> str:
        head = self.prefix + GATEWAY_SEPARATOR if self.prefix else ""
        suffix = "_" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:length]
        room = _TOOL_NAME_MAX - len(head) - len(suffix)  # (a prefix is at most 64: room >= 29)
        return head + _TOOL_NAME_BAD_CHAR.sub("_", name)[:room] + suffix

    def _name(self, name: Any) -> str:
        if not self.prefix:
            return str(name)  # one upstream in front of which the gateway stands as itself
        return "%s%s%s" % (self.prefix, GATEWAY_SEPARATOR, name)

    def _sync(self, mine: Dict[str, Dict[str, Any]], wanted: Dict[str, Dict[str, Any]],
              add: Callable[[str, Dict[str, Any]], None], remove: Callable[[str], None]) -> None:
        refused = self._refused.setdefault(id(mine), {})
        removed = False
        for key in [k for k in mine if mine[k] != wanted.get(k)]:
            del mine[key]
            removed = True
            try:
                remove(key)
            except KeyError:
                pass  # the application removed it itself
        for key in [k for k in refused if k not in wanted]:
            del refused[key]
        for key, entry in wanted.items():
            if key in mine:
                continue
            try:
                add(key, entry)
            except (TypeError, ValueError) as exc:
                # One entry the app cannot take (a name clash, a schema it cannot compile)
                # leaves the others served; it is tried again when another mount lets go of
                # a name (the clash may have been with it).
                if refused.get(key) != entry:
                    _gateway_log.warning("mount %s: %s not served: %s", self.prefix, key, exc)
                refused[key] = entry
                continue
            refused.pop(key, None)
            mine[key] = entry
        if removed:
            _gateway_retry_refused(self.app, self)

    def _retry_refused(self) -> None:
        """Register again what the app refused (see _sync): another mount let go of names."""
        with self._lock:
            if self._closed:
                return
            for mine, add in ((self._tools, self._add_tool), (self._prompts, self._add_prompt),
                              (self._resources, self._add_resource)):
                refused = self._refused.get(id(mine), {})
                for key, entry in list(refused.items()):
                    if key in mine:
                        continue
                    try:
                        add(key, entry)
                    except (TypeError, ValueError):
                        continue
                    del refused[key]
                    mine[key] = entry

    def _subscribe_upstream(self, uris: List[str], gone: Any = (), held: bool = False) -> None:
        """Subscribe upstream to ``uris`` (those it is not yet, within the bound) and from
        ``gone``. ``held``: they are holders' (hold, release), decided before this lock was
        taken: only those still held are subscribed, only those no longer held let go of."""
        with self._lock:
            if held:
                uris = [uri for uri in uris if uri in self._held]
                gone = [uri for uri in gone if uri not in self._held]
            gone = [uri for uri in gone if uri in self._subscribed]
            self._subscribed.difference_update(gone)
            wanted = [uri for uri in uris if uri not in self._subscribed]
            new = wanted[:max(0, _MAX_SUBSCRIPTIONS - len(self._subscribed))]
            if len(new) < len(wanted):
                _gateway_log.warning("mount %s: %d upstream subscriptions already (the limit); not subscribed: %s",
                                     self.prefix, _MAX_SUBSCRIPTIONS, ", ".join(wanted[len(new):]))
            if not new and not gone:
                return
            self._subscribed.update(new)
        if self.client.era == ERA_MODERN:
            try:
                # One new listen stream for them all, not one per URI.
                with self.client._lock:
                    self.client._subscriptions.difference_update(gone)
                    self.client._subscriptions.update(new)
                self.client._relisten(None)
            except (MCPError,) + _UPSTREAM_FAILURES as exc:
                _gateway_log.warning("mount %s: subscribing to the upstream's resources failed: %s", self.prefix, exc)
            return
        try:
            for change, each in [(self.client.unsubscribe, gone), (self.client.subscribe, new)]:
                for uri in each:
                    try:
                        change(uri)
                    except MCPError as exc:
                        # (An upstream may refuse to unsubscribe from what it no longer has.)
                        _gateway_log.warning("mount %s: %s %s upstream: %s", self.prefix, change.__name__, uri, exc)
        except _UPSTREAM_FAILURES as exc:
            _gateway_log.warning("mount %s: subscribing to the upstream's resources failed: %s", self.prefix, exc)

    def share(self) -> int:
        """How many resources of this mount's templates one client in front may hold at once:
        ``subscriptions_per_client``, else a quarter of the places (at least 2, at most all)."""
        # Issue 22, "a bound must never let one client deny service to the others": one
        # client's subscriptions cannot take every place and leave the others' unheard of.
        # (A quarter, at least 2, as the front's per-client session bound.)
        if self.subscriptions_per_client is not None:
            return self.subscriptions_per_client
        return min(_MAX_SUBSCRIPTIONS, max(2, _MAX_SUBSCRIPTIONS // 4))

    def _beyond_share(self, client: str, uris: List[str]) -> List[str]:
        """Those of ``uris`` that ``client`` could not hold on top of what it holds (under
        _shares_lock): one it holds already takes no more of its share."""
        mine = self._client_holds.get(client, {})
        room = self.share() - len(mine)
        beyond = []
        for uri in dict.fromkeys(uris):
            if uri in mine:
                continue
            if room > 0:
                room -= 1
            else:
                beyond.append(uri)
        return beyond

    def templated(self, uris: Any) -> List[str]:
        """Those of ``uris`` that are resources of this mount's templates (not listed ones).
        Takes no lock a listing holds (unlike ``owns``): the front's thread, which reads its
        client's messages, asks."""
        # (list() of a dict is one step, taken whole, against a listing changing it.)
        entries = list(self._resources.items())
        listed = {key for key, entry in entries if "uri" in entry}
        registered = self.app.registry.templates
        # (.get, one step: a template removed meanwhile is no KeyError, only not one of ours.)
        found = [registered.get(key) for key, entry in entries if "uriTemplate" in entry]
        templates = [template for template in found if template is not None]
        return [uri for uri in uris if uri not in listed and any(t.match(uri) is not None for t in templates)]

    def hold(self, holder: Any, uris: List[str], alive: Callable[[], bool], client: str = "",
             upstream: Optional[Callable[[Callable[[], None]], None]] = None) -> List[str]:
        """``holder`` in front (a session, a listen stream) of ``client`` subscribed to ``uris``
        of this mount's templates: held, and the upstream subscribed to those it is not yet
        (by ``upstream(subscribe)`` when given: on a thread of the caller's). Those beyond the
        client's share (``share()``) are not held, and returned (the caller refuses them); a
        warning is logged. ``alive()`` (asked under the lock that ``release`` takes) says
        whether the holder is still there: one that ended meanwhile holds nothing. Takes no
        lock a listing holds."""
        with self._shares_lock:
            if not alive():
                return []
            taken = [uri for uri in uris if id(holder) in self._held.get(uri, {})]
            refused = self._beyond_share(client, [uri for uri in uris if uri not in taken])
            for uri in dict.fromkeys(uris):
                if uri in taken or uri in refused:
                    continue
                self._held.setdefault(uri, {})[id(holder)] = (holder, client)
                counts = self._client_holds.setdefault(client, {})
                counts[uri] = counts.get(uri, 0) + 1
            # Every one held, not only those not subscribed upstream yet: whether one is, is
            # for _subscribe_upstream to say, under _lock (not taken here). Seen here, a
            # refresh or release could unsubscribe it just after, and this holder would hold
            # what nobody subscribed upstream.
            new = [uri for uri in dict.fromkeys(uris) if uri not in refused]
        if refused:
            _gateway_log.warning("mount %s: a client in front (%s) holds its share of the upstream subscriptions "
                                 "(%d of %d); refused: %s", self.prefix, client or "?", self.share(),
                                 _MAX_SUBSCRIPTIONS, ", ".join(refused))
        if new:
            def subscribe() -> None:
                self._subscribe_upstream(new, held=True)
            if upstream is None:
                subscribe()
            else:
                upstream(subscribe)
        return refused

    def release(self, holder: Any, uris: Any = None,
                upstream: Optional[Callable[[Callable[[], None]], None]] = None) -> None:
        """``holder`` lets go of ``uris`` (all it holds when None): each nobody else in front
        holds, and the upstream does not list (those are subscribed whoever wants them), is
        unsubscribed upstream (by ``upstream(unsubscribe)`` when given: on a thread of the
        caller's), which frees its place under the bound; its client's count goes down with
        it, before this returns. Takes no lock a listing holds."""
        with self._shares_lock:
            gone = []
            for uri in list(self._held) if uris is None else uris:
                holders = self._held.get(uri)
                taken = holders.pop(id(holder), None) if holders is not None else None
                if taken is None:
                    continue
                # (To none: a client that holds nothing is not kept.)
                counts = self._client_holds.get(taken[1], {})
                if counts.get(uri, 0) > 1:
                    counts[uri] -= 1
                else:
                    counts.pop(uri, None)
                    if not counts:
                        self._client_holds.pop(taken[1], None)
                if holders:
                    continue
                del self._held[uri]
                if "uri" not in self._resources.get(uri, {}):
                    gone.append(uri)
        if gone:
            def unsubscribe() -> None:
                self._subscribe_upstream([], gone, held=True)
            if upstream is None:
                unsubscribe()
            else:
                upstream(unsubscribe)

    def _resource_updated(self, uri: str) -> None:
        self.app.notify_resource_updated(uri)

    def owns(self, uri: str) -> bool:
        """Whether ``uri`` is one of this mount's resources, or matches one of its templates."""
        with self._lock:
            if uri in self._resources:
                return "uri" in self._resources[uri]
            templates = [key for key, entry in self._resources.items() if "uriTemplate" in entry]
        registered = self.app.registry.templates
        return any(key in registered and registered[key].match(uri) is not None for key in templates)

    def roots_changed(self) -> None:
        """A client in front said its roots changed: a session-era upstream that may ask for
        them (it was told the gateway has roots) hears so too; a 2026-07-28 one asks for
        them with each request anyway."""
        if self.client.era == ERA_MODERN or self.client.roots is None:
            return
        try:
            self.client.notify_roots_changed()
        except _UPSTREAM_FAILURES as exc:
            _gateway_log.warning("mount %s: roots/list_changed upstream failed: %s", self.prefix, exc)

    def set_level(self, level: str) -> None:
        """Pass a session-era client's ``logging/setLevel`` on to a session-era upstream (a
        2026-07-28 one gets each call's level with the call). The upstream's one session
        serves every client in front, each of which may want another level: it is asked for
        the most verbose any of them asked for (never a less verbose one after it), and the
        front filters each call's messages at its own client's level."""
        with self._level_lock:
            if self._level is not None and LOG_LEVELS.index(level) >= LOG_LEVELS.index(self._level):
                return
            self._level = level
            self._send_level()

    def _send_level(self) -> None:
        caps = self.client.server_capabilities or {}
        if self._level is None or self.client.era == ERA_MODERN or "logging" not in caps:
            return
        try:
            self.client.set_log_level(self._level)
        except (MCPError,) + _UPSTREAM_FAILURES as exc:
            _gateway_log.warning("mount %s: logging/setLevel upstream failed: %s", self.prefix, exc)

    def _list_changed(self, kind: str) -> None:
        """The upstream says a list changed: listed again on a thread of the mount's. Not
        here, on the upstream client's callback thread: a refresh on another thread (the
        mount's first listing, say) holds the lock while each of its requests waits for that
        thread's earlier callbacks to have run, so waiting for the lock here would stall
        both until the request's timeout, request after request."""
        if kind not in ("tools", "prompts", "resources"):
            return
        with self._stale_lock:
            self._stale.add(kind)
            self._stale.update(self._unlisted)
            if self._relister is not None:
                return  # the relister running picks it up
            self._relister = relister = threading.Thread(target=self._relist_stale, daemon=True,
                                                         name="mcplite-gateway-relist-" + self.prefix)
        relister.start()

    def _relist_stale(self) -> None:
        while True:
            with self._stale_lock:
                if not self._stale:
                    self._relister = None
                    return
                kinds = sorted(self._stale)
                self._stale.clear()
            for kind in kinds:
                self._relist(kind)

    def _relist(self, kind: str) -> None:
        mine = {"tools": self._tools, "prompts": self._prompts, "resources": self._resources}[kind]
        with self._lock:
            before = dict(mine)
        try:
            self.refresh((kind,))
        except (MCPError,) + _UPSTREAM_FAILURES as exc:
            _gateway_log.warning("mount %s: listing the upstream's %s again failed: %s", self.prefix, kind, exc)
            return
        with self._lock:
            unchanged = before == mine
        if unchanged:
            # Nothing here changed that the front can see, but the upstream said its list
            # did: passed on as it came (a client may list again for its own reasons).
            self.app.notify_list_changed(kind)

    # -- the registrations --------------------------------------------------------------

    def _add_tool(self, name: str, entry: Dict[str, Any]) -> None:
        upstream_name = entry["name"]
        schema = entry.get("inputSchema")
        properties = schema.get("properties") if isinstance(schema, dict) else None
        forward = _handler(properties if isinstance(properties, dict) else (),
                                   lambda ctx, arguments: self.call_tool(upstream_name, arguments, ctx))
        # The upstream's CallToolResult goes back as it came (results.tool_result reads this).
        forward._mcplite_forwarded = True  # type: ignore[attr-defined]
        extensions = (self.client.server_capabilities or {}).get("extensions")
        tasks = {}  # type: Dict[str, Any]
        if self.client.era == ERA_MODERN and isinstance(extensions, dict) and TASKS_EXTENSION in extensions:
            # The upstream may answer a call with a task (its tool list does not say which):
            # the front does so when - and only when - the upstream did (see _rounds).
            tasks = {"task": "optional", "task_start": "handler"}
        self.app.add_tool(forward, name=name, title=entry.get("title"), description=entry.get("description"),
                          annotations=entry.get("annotations"), output_schema=entry.get("outputSchema"),
                          icons=entry.get("icons"), meta=entry.get("_meta"),
                          input_schema=schema if isinstance(schema, dict) else {"type": "object"}, **tasks)

    def _add_prompt(self, name: str, entry: Dict[str, Any]) -> None:
        upstream_name = entry["name"]
        arguments = entry.get("arguments")
        declared = [argument["name"] for argument in arguments if isinstance(argument, dict)
                    and isinstance(argument.get("name"), str)] if isinstance(arguments, list) else []

        def get(ctx: Context, given: Dict[str, Any]) -> Any:
            return self._forward(ctx, "prompt " + name, "prompts/get",
                                 {"name": upstream_name, "arguments": given})["messages"]
        forward = _handler(declared, get)
        prompt = self.app.add_prompt(forward, name=name, title=entry.get("title"),
                                     description=entry.get("description"), icons=entry.get("icons"),
                                     meta=entry.get("_meta"))
        # Its arguments as the upstream declares them; the values go upstream unparsed (the
        # upstream checks them).
        prompt.arguments = list(arguments) if isinstance(arguments, list) else []
        for argument in prompt.arguments:
            if isinstance(argument, dict) and isinstance(argument.get("name"), str):
                self._add_completion({"type": "ref/prompt", "name": upstream_name}, argument["name"], prompt=name)

    def _add_completion(self, ref: Dict[str, Any], argument: str, **target: Any) -> None:
        """Completion of one argument, asked of the upstream (if it completes at all)."""
        if "completions" not in (self.client.server_capabilities or {}):
            return

        def complete(value: str, others: Dict[str, Any]) -> Any:
            try:
                return self.client.complete(ref, argument, value, others or None)
            except _UPSTREAM_FAILURES as exc:
                raise MCPError(INTERNAL_ERROR, "completion of %r: %s" % (argument, self._failure(exc)))
        self.app.add_completion(complete, argument, **target)

    def _add_resource(self, uri: str, entry: Dict[str, Any]) -> None:
        options = dict(name=entry.get("name"), title=entry.get("title"), description=entry.get("description"),
                       mime_type=entry.get("mimeType"), annotations=entry.get("annotations"),
                       icons=entry.get("icons"), meta=entry.get("_meta"))
        if "uriTemplate" in entry:
            def read_template(ctx: Context, variables: Dict[str, Any]) -> Any:
                # The URI the client asked for, exactly: the variables are decoded (%XX), so
                # made into a URI again they may spell another one ("a@b" as "a%40b"), which
                # an upstream that keys its resources by URI does not know. Made from the
                # variables only for a read that is not this request's (ctx.read_resource).
                request = ctx._call.request
                asked = request.params.get("uri") if request.method == "resources/read" else None
                registered = self.app.registry.templates.get(uri)
                if isinstance(asked, str) and registered is not None and registered.match(asked) == variables:
                    target = asked
                else:
                    target = _gateway_expand(uri, variables)
                return self._forward(ctx, "resource " + target, "resources/read", {"uri": target})["contents"]
            template = self.app.add_resource(_handler(_template_variables(uri), read_template), uri,
                                             **options)
            # (A "template" with no {variables} is registered as a plain resource.)
            for variable in template.variables if isinstance(template, ResourceTemplate) else ():
                self._add_completion({"type": "ref/resource", "uri": uri}, variable, template=uri)
            return

        def read(ctx: Context) -> Any:
            return self._forward(ctx, "resource " + uri, "resources/read", {"uri": uri})["contents"]
        self.app.add_resource(read, uri, size=entry.get("size"), **options)

    # -- forwarding ---------------------------------------------------------------------

    def call_tool(self, name: str, arguments: Dict[str, Any], ctx: Optional[Context] = None) -> Dict[str, Any]:
        """Call the upstream's tool ``name``: its ``CallToolResult``, or an error result
        naming the mount when the upstream failed. A JSON-RPC error the upstream answered
        with is raised (``MCPError``), so the caller gets that same error."""
        try:
            return _own_result(self._upstream(ctx, "tools/call", {"name": name, "arguments": arguments}))
        except MCPError as exc:
            raise self._translated(ctx, exc)
        except _UPSTREAM_FAILURES as exc:
            return tool_error(self._failure(exc))

    def _forward(self, ctx: Context, what: str, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        try:
            return self._upstream(ctx, method, params)
        except MCPError as exc:
            raise self._translated(ctx, exc)
        except _UPSTREAM_FAILURES as exc:
            raise MCPError(INTERNAL_ERROR, "%s: %s" % (what, self._failure(exc)))

    def _upstream(self, ctx: Optional[Context], method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """Send ``method`` upstream on behalf of the call ``ctx`` serves: the upstream's
        result; its error or the upstream's failure raised."""
        if ctx is None:
            return self.client.request(method, params)
        call = ctx._call
        upstream_modern = self.client.era == ERA_MODERN
        if upstream_modern:
            # 2026-07-28 declares the client's capabilities with each request: the client in
            # front's, since it answers the questions ("A server MUST NOT rely on
            # capabilities the client has not declared") - and it creates a task exactly
            # where the server itself would for this client. Logs come only at a level the
            # request names: the one the client in front wants.
            meta = {META_CLIENT_CAPABILITIES: dict(call.request.client_capabilities or {})}  # type: Dict[str, Any]
            level = _gateway_level(call)
            if level is not None:
                meta[META_LOG_LEVEL] = level
            params = dict(params, _meta=meta)
        origin = _GatewayOrigin(ctx)
        progress = None
        if ctx.meta.get("progressToken") is not None:
            def progress(value: float, total: Optional[float], message: Optional[str]) -> None:
                origin.ctx.progress(value, total, message)
        if call.request.modern and call.task is None and not upstream_modern:
            return self._converse(origin, method, params, progress)
        origin.thread = threading.get_ident()
        self._enter(origin)
        try:
            # The caller's cancellation cancels the upstream call ("notifications/cancelled").
            with cancel_when(lambda: ctx.cancelled):
                if upstream_modern and method in _ROUND_METHODS:
                    return self._rounds(origin, method, params, progress)
                return self.client.request(method, params, progress=progress)
        finally:
            self._leave(origin)

    def _rounds(self, origin: "_GatewayOrigin", method: str, params: Dict[str, Any],
                progress: Optional[Callable[..., Any]]) -> Dict[str, Any]:
        """A 2026-07-28 upstream's request, round by round: its questions go to the client
        in front under the upstream's own keys (all of a round's at once), and a task the
        upstream created becomes the front's task (the client in front declared tasks)."""
        ctx = origin.ctx
        call = ctx._call
        created = self._stashed_task(call) if call.task is not None else None  # (a front's task only)
        if created is not None:
            return self._await_task(origin, created)  # the front's task, run again from the top
        for _ in range(self.client.max_rounds + 1):
            result = self.client._call(method, params, None, progress)
            kind = result.get("resultType")
            if kind == "task":
                if call.task is None and call.task_startable:
                    # The front answers with a task of its own, whose handler (this one, run
                    # again) finds the upstream's task here and waits for it.
                    with self._origins_lock:
                        self._task_stash[id(call.request.params)] = (call.request.params, result)
                    ctx.start_task()
                return self._await_task(origin, result)
            if kind != "input_required":
                return result
            requests = result.get("inputRequests")
            answers = self._ask_all(origin, requests if isinstance(requests, dict) else {})
            params = dict(params, inputResponses=answers)
            if "requestState" in result:
                params["requestState"] = result["requestState"]
            else:
                params.pop("requestState", None)
        raise ProtocolError("%s still needed input after %d rounds" % (method, self.client.max_rounds))

    def _stashed_task(self, call: Any) -> Optional[Dict[str, Any]]:
        if call.task is None:
            return None
        with self._origins_lock:
            found = self._task_stash.pop(id(call.request.params), None)
        # (the same params object: the task's call is the request's, _replaced)
        return found[1] if found is not None and found[0] is call.request.params else None

    def _ask_all(self, origin: "_GatewayOrigin", requests: Dict[str, Any]) -> Dict[str, Any]:
        """The answers of the client in front to ``requests`` (an upstream's inputRequests),
        asked together (one round, or one input_required status of a task)."""
        questions = []  # type: List[Callable[[], Any]]
        for key, entry in requests.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("method"), str):
                raise ProtocolError("the upstream sent a malformed input request: %r" % (entry,))
            params = entry.get("params")
            questions.append(self._question(origin, entry["method"], params if isinstance(params, dict) else {}, key))
        return dict(zip(list(requests), gather(origin.ctx._call, questions)))

    def _question(self, origin: "_GatewayOrigin", method: str, params: Dict[str, Any],
                  key: str) -> Callable[[], Dict[str, Any]]:
        return lambda: self._ask_front(origin, method, params, key)

    def _await_task(self, origin: "_GatewayOrigin", created: Dict[str, Any]) -> Dict[str, Any]:
        """Wait for the upstream's task (its questions to the client in front, all of a
        status at once); cancelled upstream when the front's call or task is."""
        task_id = created.get("taskId")
        if not isinstance(task_id, str) or not task_id:
            raise ProtocolError("the upstream created a task with no taskId")
        ctx = origin.ctx
        answered = set()  # type: set
        task = created
        seen = None  # type: Any
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                status = task.get("status")
                if task is not created and status in ("completed", "failed", "cancelled"):
                    return task_outcome(task)
                mark = (status, task.get("statusMessage"), task.get("lastUpdatedAt"))
                if mark != seen:  # a change: it is alive, so another `timeout` for it
                    seen, deadline = mark, time.monotonic() + self.timeout
                requests = task.get("inputRequests")
                fresh = ({key: entry for key, entry in requests.items() if key not in answered}
                         if task is not created and status == "input_required" and isinstance(requests, dict) else {})
                if fresh:
                    responses = self._ask_all(origin, fresh)
                    task_request(self.client, "tasks/update", {"taskId": task_id, "inputResponses": responses}, None)
                    answered.update(fresh)
                else:
                    pause_until = time.monotonic() + task_poll_interval(task)
                    while time.monotonic() < pause_until:
                        if ctx.cancelled:
                            raise Cancelled("the task was cancelled")
                        time.sleep(min(_GATEWAY_CANCEL_POLL, max(pause_until - time.monotonic(), 0.0)))
                if time.monotonic() > deadline:
                    raise RequestTimeout("task %s" % task_id, self.timeout)
                task = task_request(self.client, "tasks/get", {"taskId": task_id}, None)
        except BaseException as exc:
            if not isinstance(exc, MCPError):
                # Nobody waits for it any more: the upstream may stop working on it.
                cancel_task(self.client, task_id)
            raise

    # -- what the upstream sends: matched to the call it belongs to ----------------------

    def _enter(self, origin: "_GatewayOrigin") -> None:
        with self._origins_lock:
            self._origins.append(origin)

    def _leave(self, origin: "_GatewayOrigin") -> None:
        with self._origins_lock:
            if origin in self._origins:
                self._origins.remove(origin)

    def _origin_here(self) -> "Optional[_GatewayOrigin]":
        """The call what the upstream sent now belongs to: the one this thread forwards
        (a 2026-07-28 upstream's rounds are answered on the calling thread), or the one whose
        thread read it (over Streamable HTTP a request's stream is read by the thread waiting
        for it), else the only one in flight; None when that cannot be told."""
        me = threading.get_ident()
        source = received_on()
        with self._origins_lock:
            for origin in self._origins:
                if origin.thread == me or (source is not None and origin.thread == source):
                    return origin
            return self._origins[0] if len(self._origins) == 1 else None

    def _relay(self, method: str, kind: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """The upstream asks (elicitation, sampling, roots): the client in front is asked
        in turn, for the call the question came with, and its answer is the upstream's."""
        origin = self._origin_here()
        if origin is None:
            with self._origins_lock:
                flying = len(self._origins)
            # Never put to a client whose call it may not be.
            raise MCPError(INTERNAL_ERROR, "The gateway cannot tell which call %s belongs to (%d calls in flight to "
                                           "the upstream mounted as %r); it was put to no client"
                           % (method, flying, self.prefix))
        if origin.conversation is not None and origin.thread != threading.get_ident():
            return origin.conversation.ask(kind, method, _gateway_question(origin.ctx._call, method, params))
        return self._ask_front(origin, method, params, None)

    def _ask_front(self, origin: "_GatewayOrigin", method: str, params: Dict[str, Any],
                   key: Optional[str]) -> Dict[str, Any]:
        """Ask the client in front of ``origin``'s call (a request in a session, an
        input request under ``key`` in 2026-07-28, a task's input request in a task)."""
        call = origin.ctx._call
        question = _gateway_question(call, method, params)
        if (method == "elicitation/create" and isinstance(params.get("elicitationId"), str)
                and question.get("elicitationId") == params["elicitationId"]):
            self._await_completion(origin.ctx, params["elicitationId"])
        return ask(call, _ASK_KINDS.get(method, "ask"), method, question, key, None)

    def _translated(self, ctx: Optional[Context], error: MCPError) -> MCPError:
        """The upstream's error as the front raises it (``_gateway_translated``); a URL
        elicitation the upstream named, put to a session in front, is awaited."""
        translated = _gateway_translated(error)
        if ctx is not None and isinstance(translated, UrlElicitationRequired) and not ctx._call.request.modern:
            # (_gateway_translated made it of the error's first elicitation, a dict.)
            first = error.data["elicitations"][0] if isinstance(error.data, dict) else {}
            if first.get("elicitationId") == translated.elicitation_id:  # (not one the front made up)
                self._await_completion(ctx, translated.elicitation_id)
        return translated

    def _await_completion(self, ctx: Context, elicitation_id: str) -> None:
        """A URL elicitation of the upstream's went to the session in front of ``ctx``: the
        upstream's ``notifications/elicitation/complete`` for it is passed on to it."""
        with self._lock:
            self._url_elicitations.pop(elicitation_id, None)
            self._url_elicitations[elicitation_id] = ctx
            while len(self._url_elicitations) > _MAX_URL_ELICITATIONS:
                del self._url_elicitations[next(iter(self._url_elicitations))]

    def _elicitation_complete(self, elicitation_id: str) -> None:
        with self._lock:
            ctx = self._url_elicitations.pop(elicitation_id, None)
        if ctx is not None:
            # (Sent only to a 2025-11-25 session that declared URL mode: the Context checks.)
            ctx.notify_elicitation_complete(elicitation_id)

    def _relay_log(self, params: Dict[str, Any]) -> None:
        level = params.get("level")
        level = level if level in LOG_LEVELS else "info"
        origin = self._origin_here()
        if origin is not None:
            origin.ctx.log(level, params.get("data"), params.get("logger"))
            return
        # A message of no call the gateway can name (a session-era upstream logging between
        # calls, or with several in flight): the gateway's own log has it.
        _gateway_log.log(_PY_LEVELS.get(level, logging.INFO), "mount %s: %s: %r", self.prefix,
                         params.get("logger") or "upstream", params.get("data"))

    # -- a session-era upstream's questions, for a 2026-07-28 client in front -----------

    def _converse(self, origin: "_GatewayOrigin", method: str, params: Dict[str, Any],
                  progress: Optional[Callable[..., Any]]) -> Dict[str, Any]:
        """The upstream call runs on a thread of its own and stays waiting while the client
        in front answers its questions in ``input_required`` rounds; each retry of the call
        (its ``inputResponses`` keys name the waiting call) finds it again."""
        ctx = origin.ctx
        answers = ctx._call.rounds_state().answers or {}
        token = next((key.split(".")[1] for key in answers
                      if isinstance(key, str) and key.startswith("gw.") and key.count(".") == 2), None)
        if token is not None:
            with self._origins_lock:
                conversation = self._conversations.get(token)
            if conversation is None:
                raise MCPError(INVALID_PARAMS, "Invalid params: the upstream call these inputResponses answer is no "
                                               "longer waiting (it ended or timed out); send the request again "
                                               "without inputResponses and requestState")
            conversation.origin.ctx = ctx  # progress and logs to this round's request
        else:
            conversation = self._start_conversation(origin, method, params, progress)
        return conversation.serve(ctx, self._conversations, self._origins_lock)

    def _start_conversation(self, origin: "_GatewayOrigin", method: str, params: Dict[str, Any],
                            progress: Optional[Callable[..., Any]]) -> "_GatewayConversation":
        timeout = float(self.app.client_request_timeout)
        conversation = _GatewayConversation(os.urandom(12).hex(), origin, timeout)
        origin.conversation = conversation
        now = time.monotonic()
        with self._origins_lock:
            for token in [t for t, c in self._conversations.items() if c.stale(now)]:
                del self._conversations[token]
            if len(self._conversations) >= _MAX_CONVERSATIONS:
                raise MCPError(INTERNAL_ERROR, "The gateway has too many upstream calls waiting for answers")
            self._conversations[conversation.token] = conversation

        def run() -> None:
            origin.thread = threading.get_ident()
            self._enter(origin)
            try:
                with cancel_when(lambda: conversation.cancelled):
                    outcome = (True, self.client.request(method, params, progress=progress))  # type: Tuple[bool, Any]
            except BaseException as exc:  # handed to the handler, which raises it
                outcome = (False, exc)
            finally:
                self._leave(origin)
            conversation.finish(outcome)
        # In the caller's context: the upstream call continues its trace (a contextvar).
        threading.Thread(target=contextvars.copy_context().run, args=(run,), name="mcplite-gateway-call",
                         daemon=True).start()
        return conversation

    def _failure(self, exc: BaseException) -> str:
        # The message, not a traceback: it goes to a peer.
        _gateway_log.warning("mount %s: the upstream failed: %r", self.prefix, exc)
        self._suspect.set()
        return "the upstream server mounted as %r failed: %s" % (self.prefix, str(exc) or type(exc).__name__)

    def close(self) -> None:
        """Unregister everything this mount added, and stop a client the mount started."""
        mounts = self.app._gateway_mounts
        if mounts is not None and self in mounts:
            mounts.remove(self)
        with self._lock:
            self._closed = True
        self._stop.set()
        self._unregister_all()
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            # Bounded: a restart under way ends with its client closed (it sees _closed).
            watcher.join(self.timeout + _PING_TIMEOUT)
        if self.owned:
            self.client.close()
        else:
            self._take_back()

    def _take_back(self) -> None:
        """Give a handed-over client its handlers back as they were before the mount (those
        still the mount's): a later mount of it installs its own, and a closed mount answers
        no question, so left in place they would refuse every one."""
        client = self.client
        with _handed_lock:
            _handed.pop(client, None)
        lent, self._lent = self._lent, {}
        for name, relay in lent.items():
            if name == "on_list_changed":
                chained, earlier = relay
                if client.on_list_changed is chained:
                    client.on_list_changed = earlier
            elif getattr(client, name) is relay:
                setattr(client, name, None)

    def _unregister_all(self) -> None:
        with self._lock:
            removed = False
            for mine, remove in ((self._tools, self.app.remove_tool), (self._prompts, self.app.remove_prompt),
                                 (self._resources, self.app.remove_resource)):
                for key in list(mine):
                    del mine[key]
                    removed = True
                    try:
                        remove(key)
                    except KeyError:
                        pass
        if removed:
            _gateway_retry_refused(self.app, self)


class _GatewayOrigin:
    """One call forwarded upstream: the front's ``Context`` of it (replaced by each round's
    for a conversation), the thread waiting for the upstream, and its conversation if any."""

    __slots__ = ("ctx", "thread", "conversation")

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.thread = None  # type: Optional[int]
        self.conversation = None  # type: Optional[_GatewayConversation]


class _GatewayConversation:
    """A session-era upstream call kept waiting while a 2026-07-28 client in front answers
    its questions round by round. The upstream's reader asks (``ask``, blocking up to
    ``timeout``); the front's handler, run once per round, hands over the answer the round
    brought and waits for the next question or the result (``serve``)."""

    def __init__(self, token: str, origin: _GatewayOrigin, timeout: float) -> None:
        self.token = token
        self.origin = origin
        self.timeout = timeout
        self.cond = threading.Condition()
        self.asked = 0
        self.question = None  # type: Optional[Tuple[int, str, str, Dict[str, Any]]]
        self.answer = None  # type: Optional[Dict[str, Any]]
        self.outcome = None  # type: Optional[Tuple[bool, Any]]
        self.cancelled = False
        self.touched = time.monotonic()

    def stale(self, now: float) -> bool:
        # Nobody came back for it: its question timed out and its result is nobody's.
        return now - self.touched > 2 * self.timeout + 60

    def ask(self, kind: str, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        with self.cond:
            self.asked += 1
            self.question = (self.asked, kind, method, params)
            self.answer = None
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.answer is not None or self.cancelled, self.timeout)
            answer, self.answer, self.question = self.answer, None, None
        if answer is None:
            raise MCPError(REQUEST_TIMEOUT, "The client in front of the gateway did not answer %s within %g s"
                           % (method, self.timeout))
        return answer

    def finish(self, outcome: Tuple[bool, Any]) -> None:
        with self.cond:
            self.outcome = outcome
            self.touched = time.monotonic()
            self.cond.notify_all()

    def serve(self, ctx: Context, registry: Dict[str, "_GatewayConversation"], lock: Any) -> Dict[str, Any]:
        call = ctx._call
        while True:
            with self.cond:
                self.touched = time.monotonic()
                while self.outcome is None and (self.question is None or self.answer is not None):
                    if ctx.cancelled:
                        self.cancelled = True  # the upstream call is cancelled in turn
                        self.cond.notify_all()
                        break
                    self.cond.wait(0.05)
                cancelled = self.cancelled
                outcome, question = self.outcome, self.question
            if cancelled:
                # Nobody comes back for a cancelled call: it is not kept waiting either.
                with lock:
                    registry.pop(self.token, None)
                raise Cancelled("request %r was cancelled" % (call.request.id,))
            if outcome is not None:
                with lock:
                    registry.pop(self.token, None)
                if not outcome[0]:
                    raise outcome[1]
                return outcome[1]
            assert question is not None
            number, kind, method, params = question
            # Answered from this round's inputResponses, or InputRequired: the round ends
            # here, the upstream call goes on waiting, and the retry finds it by the key.
            answer = ask(call, kind, method, params, "gw.%s.%d" % (self.token, number), None)
            with self.cond:
                if self.question is not None and self.question[0] == number:
                    self.answer = answer
                    self.cond.notify_all()


def _handler(taken: Any, body: Callable[[Context, Dict[str, Any]], Any]) -> Callable[..., Any]:
    """A handler for a forwarded tool or prompt: every argument (``**``) and the front's
    Context, under a parameter name none of the upstream's arguments in ``taken`` has. The
    registry passes the Context by its parameter's name, over an argument of that name: a
    handler written ``def forward(ctx, **arguments)`` would lose an upstream argument called
    ``ctx``."""
    import inspect  # (registration only)
    # A name no schema is likely to have (an argument its schema does not name may still
    # come, where it allows more), made longer until none of ``taken`` is it.
    context_name = "mcplite_gateway_context"
    while context_name in taken:
        context_name = "_" + context_name

    def handler(**arguments: Any) -> Any:
        ctx = arguments.pop(context_name)
        return body(ctx, arguments)
    handler.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(context_name, inspect.Parameter.KEYWORD_ONLY, annotation=Context),
        inspect.Parameter("arguments", inspect.Parameter.VAR_KEYWORD, annotation=Any)])
    handler.__annotations__ = {context_name: Context, "arguments": Any, "return": Any}
    return handler


def _hand_over(client: Client, prefix: str) -> None:
    """``client`` is mounted under ``prefix``, unless it is mounted already: its handlers
    (the questions, log messages and updates its server sends) would answer for the first
    mount only, and the second one's callers would get nothing or an error."""
    global _handed
    import weakref  # (the first mount of a Client only)
    with _handed_lock:
        if _handed is None:
            _handed = weakref.WeakKeyDictionary()
        if client in _handed:
            raise ValueError("this Client is mounted already (as %r): a Client answers for one mount; mount a "
                             "config entry ({\"command\": ...} or {\"url\": ...}) to have each mount start its own"
                             % (_handed[client],))
        _handed[client] = prefix


def _gateway_retry_refused(app: Any, source: Mount) -> None:
    """``source`` let go of names: the app's other mounts register again what it refused
    them (on a thread of its own: ``source`` may hold its lock, and each takes its own)."""
    others = [each for each in list(app._gateway_mounts or ()) if each is not source
              and any(each._refused.values())]
    if others:
        threading.Thread(target=lambda: [each._retry_refused() for each in others], daemon=True,
                         name="mcplite-gateway-retry").start()


def _gateway_question(call: Any, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
    """An upstream's question in the shape of the era of the client in front."""
    if method == "elicitation/create" and params.get("mode") == "url":
        params = dict(params)
        if call.request.modern:
            params.pop("elicitationId", None)  # 2026-07-28 has none
        else:
            params.setdefault("elicitationId", os.urandom(12).hex())
    return params


def _gateway_translated(error: MCPError) -> MCPError:
    """The upstream's error as the front raises it. A 2025-11-25 upstream's -32042 (URL
    elicitation required) becomes ``UrlElicitationRequired``, which the front answers in its
    client's era: -32042 again in a session, an ``input_required`` round asking for the URL
    in 2026-07-28 (which has no such error); its retry calls the upstream again."""
    if error.code == URL_ELICITATION_REQUIRED and error.has_data and isinstance(error.data, dict):
        elicitations = error.data.get("elicitations")
        first = elicitations[0] if isinstance(elicitations, list) and elicitations else None
        if isinstance(first, dict) and isinstance(first.get("url"), str):
            message = first.get("message")
            elicitation_id = first.get("elicitationId")
            return UrlElicitationRequired(message if isinstance(message, str) else error.message, first["url"],
                                          elicitation_id if isinstance(elicitation_id, str) else None)
    return error


def _gateway_level(call: Any) -> Optional[str]:
    """The log level the client in front asked for this call, for the upstream call."""
    if call.server.logging is False:
        return None
    request = call.request
    if request.modern:
        return request.log_level
    level = request.session.log_level if request.session is not None else None
    # A session that set no level gets every message the front's ctx.log would send.
    return level or LOG_LEVELS[0]


def _gateway_install(app: Any, mount: Mount) -> None:
    """Add ``mount`` to the app's mounts; the first one installs the middleware that passes
    ``logging/setLevel`` and ``resources/subscribe`` on to the upstreams."""
    mounts = app._gateway_mounts
    if mounts is not None:
        mounts.append(mount)
        return
    mounts = app._gateway_mounts = [mount]

    def roots_changed(params: Dict[str, Any]) -> None:
        for each in list(mounts):
            each.roots_changed()
    with app.registry.lock:
        # Straight into the table, past add_notification's refusal of MCP's own names (which
        # keeps applications from redefining the protocol): passing a client's roots change
        # on to the upstreams is the gateway's part of the protocol.
        app.registry.notifications.setdefault("notifications/roots/list_changed", roots_changed)

    # Listen streams ended (weakly: one gone is forgotten): a stream ended before it was
    # screened (its connection closed meanwhile) must hold nothing, for nothing would
    # release it.
    ended_streams = weakref.WeakSet()  # type: Any

    def on_thread(work: Callable[[], None]) -> None:
        # An upstream (un)subscribe may take a while, and the front screens and removes
        # listeners on its own threads (a stdio front: the one that reads its client's
        # messages).
        threading.Thread(target=work, name="mcplite-gateway-subscribe", daemon=True).start()

    def screening(listener: SubscriptionListener) -> None:
        # A 2026-07-28 client's subscriptions/listen stream names its resources in its
        # params, which no middleware sees. Before it is acknowledged, those of a mount's
        # templates (the listed ones are subscribed to already) are held - reserved in the
        # same step as the share is counted, so two streams of one client opened at once
        # cannot both be promised the last place - and subscribed to upstream on a thread.
        # Those beyond its client's share are withheld: "The `notifications` field in the
        # acknowledgment reflects the subset the server agreed to honor", so the client
        # learns there, not by never hearing of them. (In order: which are beyond the share
        # does not depend on a set's.) A stream that ends from here on is released by
        # `ended`, added to the listeners or not.
        uris = sorted(uri for uri in listener.uris if isinstance(uri, str))
        client = listener.client
        for each in list(mounts) if uris else ():
            mine = each.templated(uris)
            beyond = each.hold(listener, mine, lambda: listener not in ended_streams, client,
                               on_thread) if mine else []
            if beyond:
                # (hold logged them.)
                listener.withhold(beyond)
                uris = [uri for uri in uris if uri not in beyond]
    app._listener_screens.append(screening)

    def ended(listener: Any) -> None:
        # A listen stream closed, or a legacy session ended (its notifier removed): what it
        # held is released. The counts at once - a client that closes a stream and opens
        # another has the places back for it - and upstream on a thread.
        ended_streams.add(listener)
        holder = _holder_of(listener)
        for each in list(mounts):
            each.release(holder, None, on_thread)
    app._listener_end_hooks.append(ended)

    def gateway_middleware(method: str, params: Dict[str, Any], ctx: Context, call_next: Callable[..., Any]) -> Any:
        if method == "resources/read" and app._gateway_skills:
            uri = params.get("uri")
            if (isinstance(uri, str) and uri.startswith(SKILL_SCHEME) and uri not in app.registry.resources
                    and not any(each.owns(uri) for each in list(mounts))):
                found = _read_skill_file(app, uri)
                if found is not None:
                    return found
        if method not in ("logging/setLevel", "resources/subscribe", "resources/unsubscribe"):
            return call_next()
        session = ctx._call.request.session
        subscribed_before = session is not None and params.get("uri") in session.subscriptions
        result = call_next()  # the front's own bookkeeping (and checks) first
        if method == "logging/setLevel":
            for each in list(mounts):
                each.set_level(params["level"])
            return result
        if session is None:
            return result  # (no session: nothing to hold it for; the front refused it anyway)
        uri = params["uri"]
        for each in list(mounts):
            if method == "resources/unsubscribe":
                each.release(session, [uri])
            elif each.templated([uri]):
                # Held while the session subscribes to it (an ended session holds nothing:
                # its notifier is gone from the listeners). Only a resource of a template:
                # a listed one is subscribed upstream whoever wants it, and takes no place
                # of anyone's share (as for a listen stream).
                if each.hold(session, [uri], lambda: any(_holder_of(listener) is session
                                                         for listener in list(app.registry.listeners)),
                             ctx._call.port.client):
                    # Beyond its client's share: refused, never subscribed in silence to what
                    # it would not hear of. Not the session's subscription either (it had none:
                    # one it had is held already, which takes no more of the share).
                    with app.registry.lock:
                        if not subscribed_before:
                            session.subscriptions.discard(uri)
                    # -32602, as the front's own per-session bound: the spec names no code for
                    # a limit, the resource exists (not -32002), nothing failed here (not
                    # -32603); what helps is the client's own resources/unsubscribe.
                    share = each.share()
                    raise MCPError(INVALID_PARAMS, "Invalid params: this client already holds its share of the "
                                                   "upstream subscriptions of mount %r (%d of %d); unsubscribe from "
                                                   "one first" % (each.prefix, share, _MAX_SUBSCRIPTIONS),
                                   {"uri": uri, "limit": share})
        return result
    app.middleware(gateway_middleware)


def _holder_of(listener: Any) -> Any:
    """Who holds subscriptions for a listener of the front: a legacy session's notifier
    stands for its session (whose resources/subscribe the middleware saw), a listen stream
    for itself."""
    return listener.connection.session if isinstance(listener, SessionNotifier) else listener


def _own_result(result: Dict[str, Any]) -> Dict[str, Any]:
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


def _template_variables(template: str) -> List[str]:
    return [match.group(2) for match in _GATEWAY_TEMPLATE_VAR.finditer(template)]


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



# -- skills (SEP-2640) through the gateway ---------------------------------------------------

_SKILL_METHODS = ("skills/list", "skills/get", "resources/directory/read")


def _skills_of(mount: Mount) -> Optional[Dict[str, Any]]:
    """The skills extension's settings the mount's upstream declared, or None."""
    extensions = (mount.client.server_capabilities or {}).get("extensions")
    if isinstance(extensions, dict) and isinstance(extensions.get(SKILLS_EXTENSION), dict):
        return extensions[SKILLS_EXTENSION]
    return None


def _install_skills(app: Any) -> None:
    """Serve the upstreams' skills from the front (once, when the first mount whose upstream
    declares the Skills extension is listed): the front declares the extension, ``skills/list``
    joins the front's own skills and every such upstream's, ``skills/get`` and
    ``resources/directory/read`` go to whichever serves the URI. The skills' files are
    resources: mounted with the upstream's other resources, or read through the upstream
    when it serves them unlisted."""
    from .skills import SkillCatalog
    if app._gateway_skills:
        return
    app._gateway_skills = True
    if app._skill_catalog is None:
        # The front's own skills, if it is given any later, join this catalog (Server.skill
        # registers the methods only with the first catalog).
        app._skill_catalog = SkillCatalog(app)
    catalog = app._skill_catalog
    mounts = app._gateway_mounts

    def skill_mounts() -> List[Mount]:
        return [mount for mount in list(mounts) if mount.down is None and _skills_of(mount) is not None]

    def list_skills(params: dict, ctx: Context) -> dict:
        entries = [bundle.entry() for bundle in catalog.skills.values()]
        seen = {entry["uri"] for entry in entries}
        for mount in skill_mounts():
            try:
                listed = mount.client.list_skills()
            except (MCPError,) + _UPSTREAM_FAILURES as exc:
                # One upstream's failure leaves the others' skills listed.
                _gateway_log.warning("mount %s: skills/list failed: %s", mount.prefix, exc)
                continue
            for entry in listed:
                if isinstance(entry, dict) and isinstance(entry.get("uri"), str) and entry["uri"] not in seen:
                    seen.add(entry["uri"])
                    entries.append(entry)
        return catalog.page(entries, params, ctx)

    def upstream_answer(method: str, params: dict, why: str) -> dict:
        """The answer of the first upstream that serves the URI: -32602 from one means
        "not mine", so the next is asked."""
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"uri\" must be a string")
        for mount in skill_mounts():
            if method == "resources/directory/read" and not (_skills_of(mount) or {}).get("directoryRead"):
                continue
            try:
                return _own_result(mount.client.request(method, {"uri": uri}))
            except MCPError as exc:
                if exc.code != INVALID_PARAMS:
                    raise _gateway_translated(exc)
            except _UPSTREAM_FAILURES as exc:
                raise MCPError(INTERNAL_ERROR, "%s: %s" % (uri, mount._failure(exc)))
        # "If the URI does not identify a skill the server serves, the server MUST return
        # error -32602 (Invalid params)" (and the same for a directory).
        raise MCPError(INVALID_PARAMS, "%s: %s" % (why, uri), {"uri": uri})

    def get_skill(params: dict, ctx: Context) -> dict:
        if params.get("uri") in catalog.skills:
            return catalog.get_skill(params, ctx)
        result = upstream_answer("skills/get", params, "Unknown skill")
        catalog._cache_fields(result, ctx)
        return result

    def read_directory(params: dict, ctx: Context) -> dict:
        uri = params.get("uri")
        if isinstance(uri, str) and catalog.directory_children(uri, ctx.protocol_version) is not None:
            return catalog.read_directory(params, ctx)
        return upstream_answer("resources/directory/read", params, "Not a directory")

    with app.registry.lock:
        for method in _SKILL_METHODS:
            app.registry.methods.pop(method, None)  # the front's own catalog's: joined above
    app.add_method(list_skills, "skills/list")
    app.add_method(get_skill, "skills/get")
    app.add_method(read_directory, "resources/directory/read")
    app.add_extension(SKILLS_EXTENSION, {"directoryRead": True})


def _read_skill_file(app: Any, uri: str) -> Optional[Dict[str, Any]]:
    """A skill's file the front has no resource for (an upstream may serve its skills'
    files without listing them): read from the upstream that serves it, or None."""
    for mount in list(app._gateway_mounts or ()):
        if mount.down is not None or _skills_of(mount) is None:
            continue
        try:
            return _own_result(mount.client.request("resources/read", {"uri": uri}))
        except MCPError:
            continue  # not this upstream's
        except _UPSTREAM_FAILURES as exc:
            mount._failure(exc)
    return None
