"""The client's result cache (``Client(cache=True)``): the caching hints of 2026-07-28
(SEP-2549, server/utilities/caching) honoured for list and read results.

A result is kept for its ``ttlMs`` ("the client SHOULD consider the result fresh for that
many milliseconds after receiving the response"); absent, zero or negative, it is not kept
at all ("SHOULD assume a default of 0 (immediately stale)"). The key is the server, the
method and its params without ``_meta``: "Clients MUST NOT serve a cached response for a
request whose method or parameters differ from the request that produced it". A
``cacheScope`` of "public" may be shared by every client of that server that shares the
cache; anything else is kept for the one client that fetched it: "Caches MUST NOT be shared
across authorization contexts". A ``list_changed`` notification drops the lists of its
kind, ``resources/updated`` the reads of its URI ("the notification invalidates the cached
response").

Bounded: at most ``max_entries`` results and ``max_bytes`` of their JSON; past either, the
least recently used go first. Results are stored as JSON text and parsed again for each
hit, so no caller can change what another gets. Thread-safe (one lock).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, Hashable, Optional, Tuple

# The results a client may cache: 2026-07-28's cacheable methods but server/discover, which
# is what ``Client.ping`` sends (a ping answered from a cache would prove nothing).
CACHED_METHODS = frozenset(("tools/list", "prompts/list", "resources/list", "resources/templates/list",
                            "resources/read"))
# What each list_changed notification's kind makes stale.
_STALE_LISTS = {"tools": ("tools/list",), "prompts": ("prompts/list",),
                "resources": ("resources/list", "resources/templates/list")}
# Params that mark a retried round: "requests carrying inputResponses or requestState - MUST
# NOT be cached, as they depend on inputs that are not part of the cache key".
_ROUND_PARAMS = ("inputResponses", "requestState")

_CacheKey = Tuple[Hashable, Hashable, str, str]   # (server, principal or None, method, params)


def cache_params_key(method: str, params: Dict[str, Any]) -> Optional[str]:
    """The params part of a cache key, or None when this request must not be cached."""
    if method not in CACHED_METHODS or any(name in params for name in _ROUND_PARAMS):
        return None
    try:
        return json.dumps({k: v for k, v in params.items() if k != "_meta"}, sort_keys=True,
                          separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def _ttl_seconds(value: Any) -> float:
    """A result's ``ttlMs`` in seconds; 0 for one that is absent, negative ("clients SHOULD
    ignore it and treat it as 0") or not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return 0.0
    return min(float(value), 1e15) / 1000.0  # (a float: an absurd integer must not overflow)


def cache_option(cache: Any) -> "Optional[ResultCache]":
    """The cache a ``cache=`` option asks for: True a new ``ResultCache``, False or None
    none, a ``ResultCache`` itself; TypeError for anything else."""
    if cache is True:
        return ResultCache()
    if cache is False or cache is None:
        return None
    if not isinstance(cache, ResultCache):
        raise TypeError("cache is True, False or a ResultCache")
    return cache


class ResultCache:
    """The cache ``Client(cache=True)`` makes for itself; make one to set its bounds, or to
    share one between clients (``Client(cache=shared)``): public results of the same server
    are then shared, private ones never. ``clock`` (seconds, monotonic) is for tests."""

    def __init__(self, max_entries: int = 1024, max_bytes: int = 8 * 1024 * 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError("max_entries must be an integer >= 1")
        if not isinstance(max_bytes, int) or max_bytes < 1:
            raise ValueError("max_bytes must be an integer >= 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._entries = OrderedDict()  # type: OrderedDict[_CacheKey, Tuple[float, bytes]]
        self._bytes = 0
        # Counts invalidations per server: a result whose request began before one is not
        # stored (it may be the very state the notification retired).
        self._generations = {}  # type: Dict[Hashable, int]
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """The bytes of JSON held now."""
        with self._lock:
            return self._bytes

    def now(self) -> float:
        """The cache's clock (seconds)."""
        return self._clock()

    def generation(self, server: Hashable) -> int:
        with self._lock:
            return self._generations.get(server, 0)

    def get(self, server: Hashable, principal: Hashable, method: str, params_key: str) -> Optional[Dict[str, Any]]:
        """A fresh result for this request (a new dict each time), or None."""
        now = self._clock()
        with self._lock:
            for key in ((server, None, method, params_key), (server, principal, method, params_key)):
                entry = self._entries.get(key)
                if entry is None:
                    continue
                # "The response is considered fresh while: now < t_received + ttlMs"
                if now < entry[0]:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    data = entry[1]
                    break
                self._drop(key)
            else:
                self.misses += 1
                return None
        return json.loads(data.decode("utf-8"))  # type: ignore[no-any-return]

    def put(self, server: Hashable, principal: Hashable, method: str, params_key: str,
            result: Dict[str, Any], generation: int, received: Optional[float] = None) -> bool:
        """Keep ``result`` if its hints allow and nothing was invalidated since
        ``generation``; whether it was kept. ``received`` is when it arrived (default now)."""
        ttl = _ttl_seconds(result.get("ttlMs"))
        if ttl <= 0 or result.get("resultType", "complete") != "complete":
            return False
        try:
            data = json.dumps(result, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError):
            return False
        if len(data) > self.max_bytes:
            return False
        expires = (self._clock() if received is None else received) + ttl
        # Only "public" is shared; "private", absent or unknown stays with its principal.
        key = (server, None if result.get("cacheScope") == "public" else principal, method, params_key)
        with self._lock:
            if self._generations.get(server, 0) != generation:
                return False
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (expires, data)
            self._bytes += len(data)
            self._shrink()
        return True

    def list_changed(self, server: Hashable, kind: str) -> None:
        """``notifications/{kind}/list_changed`` from ``server``: its lists of that kind go."""
        methods = _STALE_LISTS.get(kind, ())
        self._invalidate(server, lambda key: key[2] in methods)

    def resource_updated(self, server: Hashable, uri: str) -> None:
        """``notifications/resources/updated`` for ``uri``: its reads go."""
        wanted = cache_params_key("resources/read", {"uri": uri})
        self._invalidate(server, lambda key: key[2] == "resources/read" and key[3] == wanted)

    def drop_method(self, server: Hashable, method: str) -> None:
        """Drop every result of ``method`` from ``server`` (all the pages of a list)."""
        self._invalidate(server, lambda key: key[2] == method)

    def forget_principal(self, principal: Hashable) -> None:
        """Drop what one principal (a closed client) kept privately."""
        with self._lock:
            for key in [key for key in self._entries if key[1] == principal]:
                self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            for server in self._generations:
                self._generations[server] += 1

    def _invalidate(self, server: Hashable, matches: Callable[[_CacheKey], bool]) -> None:
        with self._lock:
            self._generations[server] = self._generations.get(server, 0) + 1
            for key in [key for key in self._entries if key[0] == server and matches(key)]:
                self._drop(key)

    def _drop(self, key: _CacheKey) -> None:
        _, data = self._entries.pop(key)
        self._bytes -= len(data)

    def _shrink(self) -> None:
        if len(self._entries) <= self.max_entries and self._bytes <= self.max_bytes:
            return
        now = self._clock()
        for key in [key for key, (expires, _) in self._entries.items() if expires <= now]:
            self._drop(key)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))  # the least recently used
