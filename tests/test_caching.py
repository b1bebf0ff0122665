"""Caching (SEP-2549, 2026-07-28 server/utilities/caching): the hints a server puts on its
list, read and discover results (``ttlMs``, ``cacheScope``) - per list, per tool, prompt,
resource and template, in 2026-07-28 only - and the client's cache that honours them
(``Client(cache=True)``): hits, expiry, invalidation by ``list_changed`` and
``resources/updated`` over stdio and HTTP against a real mcplite server, scopes, bounds.

Servers listen on 127.0.0.1 and are stopped by their handles; stdio servers are stopped by
``Client.close`` (their PID); every wait is bounded.
"""

import os
import sys
import threading
import time
from typing import Any, Callable, Dict, List

import pytest

from mcplite import Client, Context, ResultCache, Server
from mcplite.clientcache import cache_params_key

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "servers"))
from cache_app import make_cache_app  # noqa: E402

CACHE_APP = os.path.join(HERE, "servers", "cache_app.py")
MODERN = "2026-07-28"
LEGACY_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
CACHEABLE = [("server/discover", None), ("tools/list", None), ("prompts/list", None), ("resources/list", None),
             ("resources/templates/list", None), ("resources/read", {"uri": "data://counter"})]
WAIT = 5.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def hints(result: Dict[str, Any]) -> Any:
    return result.get("ttlMs"), result.get("cacheScope")


def eventually(fn: Callable[[], Any], what: str) -> Any:
    """fn() until it is truthy, for at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("not within %.0fs: %s" % (WAIT, what))
        time.sleep(0.02)


# -- the server's hints, on the wire ------------------------------------------------------

def test_default_hints_on_every_cacheable_result_and_nothing_else(wire_factory):
    w = wire_factory(make_cache_app())
    expected = {"server/discover": (0, "private"), "resources/read": (60000, "private")}
    for method, params in CACHEABLE:
        result = w.modern(method, params)["result"]
        assert hints(result) == expected.get(method, (60000, "public")), method
    for method, params in [("tools/call", {"name": "served_count", "arguments": {"method": "x"}}),
                           ("prompts/get", {"name": "greet", "arguments": {"who": "a"}})]:
        result = w.modern(method, params)["result"]
        assert "ttlMs" not in result and "cacheScope" not in result, method


@pytest.mark.parametrize("version", LEGACY_VERSIONS)
def test_no_hints_in_versions_that_do_not_define_them(wire_factory, version):
    app = make_cache_app()
    app.cache_ttl_ms = 5000
    w = wire_factory(app)
    assert w.initialize(version)["result"]["protocolVersion"] == version
    for method, params in CACHEABLE[1:]:  # (server/discover is 2026-07-28's alone)
        result = w.request(method, params)["result"]
        assert "ttlMs" not in result and "cacheScope" not in result, (version, method)


def test_a_list_is_as_fresh_as_its_most_changeable_entry_and_private_if_any_is(wire_factory):
    app = Server("lists", cache_ttl_ms=7, list_cache_ttl_ms=60000, list_cache_scope="public")

    @app.tool(cache_ttl_ms=3000)
    def quick() -> str:
        return ""

    @app.tool()
    def plain() -> str:
        return ""

    @app.prompt(cache_scope="private")
    def mine() -> str:
        return ""

    @app.prompt(cache_ttl_ms=90000)
    def steady() -> str:
        return ""

    @app.resource("r://a", cache_ttl_ms=1, cache_scope="private")
    def a() -> str:
        return "a"

    w = wire_factory(app)
    assert hints(w.modern("tools/list")["result"]) == (3000, "public")
    assert hints(w.modern("prompts/list")["result"]) == (60000, "private")
    # A resource's own hints are its reads', not the list's.
    assert hints(w.modern("resources/list")["result"]) == (60000, "public")
    assert hints(w.modern("resources/read", {"uri": "r://a"})["result"]) == (1, "private")
    assert hints(w.modern("server/discover")["result"]) == (7, "private")
    # The entries decide: one private tool makes the whole list private...
    app.add_tool(lambda: "", name="secret", cache_scope="private", cache_ttl_ms=100000)
    assert hints(w.modern("tools/list")["result"]) == (3000, "private")
    # ...and without list_* settings the server's cache_ttl_ms/cache_scope are the lists' too.
    bare = Server("bare", cache_ttl_ms=500, cache_scope="public")
    bare.add_tool(lambda: "", name="t")
    assert hints(wire_factory(bare).modern("tools/list")["result"]) == (500, "public")


def test_a_handler_sets_its_reads_hints_with_the_context(wire_factory):
    app = Server("inside", cache_ttl_ms=7, cache_scope="public")
    calls = []

    @app.resource("r://mood", cache_ttl_ms=60000)
    def mood(ctx: Context) -> str:
        # The first read is of a state about to change: never fresh; the second of a
        # user's own data: private, the registration's ttl kept.
        if not calls:
            ctx.cache_hints(ttl_ms=0)
        else:
            ctx.cache_hints(scope="private")
        calls.append(1)
        return "ok"

    @app.tool()
    def hinted(ctx: Context) -> str:
        ctx.cache_hints(ttl_ms=5)
        return "never"

    @app.resource("r://bad")
    def bad(ctx: Context) -> str:
        ctx.cache_hints(ttl_ms=-1)
        return "never"

    w = wire_factory(app)
    assert hints(w.modern("resources/read", {"uri": "r://mood"})["result"]) == (0, "public")
    assert hints(w.modern("resources/read", {"uri": "r://mood"})["result"]) == (60000, "private")
    # A tool's result carries no hints: asking for them is the handler's bug, reported as one.
    result = w.modern("tools/call", {"name": "hinted", "arguments": {}})["result"]
    assert result["isError"] is True and "carry no caching hints" in result["content"][0]["text"]
    assert "ttlMs" not in result
    # "Servers MUST provide a ttlMs value that is >= 0": a negative one never reaches the wire.
    reply = w.modern("resources/read", {"uri": "r://bad"})
    assert "result" not in reply and reply["error"]["code"] == -32603


def test_hints_a_middleware_put_on_the_result_win_when_stricter(wire_factory):
    # The server's hints are worked out after the middleware ran: a stricter hint one
    # put there (a private scope, a shorter ttl) must survive them, or a result meant for
    # one client is shared by other clients' caches.
    app = Server("mw", list_cache_ttl_ms=60000, list_cache_scope="public")
    put = {}  # type: Dict[str, Any]

    @app.tool()
    def t() -> str:
        return ""

    @app.resource("r://shared", cache_ttl_ms=60000, cache_scope="public")
    def shared() -> str:
        return "s"

    @app.middleware
    def tag(method, params, ctx, call_next):  # type: ignore[no-untyped-def]
        result = call_next()
        result.update(put)
        return result

    w = wire_factory(app)
    for method, params in [("tools/list", None), ("resources/read", {"uri": "r://shared"})]:
        put.clear()
        put.update({"ttlMs": 10, "cacheScope": "private"})
        assert hints(w.modern(method, params)["result"]) == (10, "private"), method
        # Looser ones than the server's: the server's.
        put.update({"ttlMs": 120000, "cacheScope": "public"})
        assert hints(w.modern(method, params)["result"]) == (60000, "public"), method
        # One hint alone: that one, if stricter; the other the server's.
        put.clear()
        put["cacheScope"] = "private"
        assert hints(w.modern(method, params)["result"]) == (60000, "private"), method
        put.clear()
        put["ttlMs"] = 0
        assert hints(w.modern(method, params)["result"]) == (0, "public"), method
        # Invalid ones (not a ttl >= 0, not a scope): the server's, never on the wire.
        for bad in ({"ttlMs": -1, "cacheScope": "mine"}, {"ttlMs": 5.0, "cacheScope": None},
                    {"ttlMs": True, "cacheScope": 1}, {"ttlMs": "5", "cacheScope": "PRIVATE"}):
            put.clear()
            put.update(bad)
            assert hints(w.modern(method, params)["result"]) == (60000, "public"), (method, bad)


def test_every_page_of_a_list_has_the_same_scope(wire_factory):
    # "Servers MUST apply the same cacheScope to all response pages for a given list request."
    app = Server("pages", page_size=2, list_cache_scope="public", list_cache_ttl_ms=1000)
    for index in range(5):
        app.add_tool(lambda: "", name="t%d" % index, cache_scope="private" if index == 4 else None)
    w = wire_factory(app)
    params = {}  # type: Dict[str, Any]
    seen = []
    for _ in range(5):
        result = w.modern("tools/list", params)["result"]
        seen.append(hints(result))
        if "nextCursor" not in result:
            break
        params = {"cursor": result["nextCursor"]}
    assert seen == [(1000, "private")] * 3


def test_resource_templates_give_their_reads_hints(wire_factory):
    w = wire_factory(make_cache_app())
    assert hints(w.modern("resources/read", {"uri": "data://item/7"})["result"]) == (60000, "public")
    assert hints(w.modern("resources/read", {"uri": "data://fresh"})["result"]) == (0, "private")


def test_an_input_required_read_carries_no_hints(wire_factory):
    app = Server("asking", cache_ttl_ms=60000)

    @app.resource("r://ask", cache_ttl_ms=1000, cache_scope="public")
    def ask(ctx: Context) -> str:
        answer = ctx.elicit("Who?", {"type": "object", "properties": {"name": {"type": "string"}}})
        return "hi %s" % answer.get("content", {}).get("name")

    w = wire_factory(app)
    result = w.modern("resources/read", {"uri": "r://ask"}, capabilities={"elicitation": {}})["result"]
    assert result["resultType"] == "input_required"
    assert "ttlMs" not in result and "cacheScope" not in result


@pytest.mark.parametrize("options,problem", [
    ({"cache_ttl_ms": -1}, "cache_ttl_ms"), ({"cache_ttl_ms": 1.5}, "cache_ttl_ms"),
    ({"cache_ttl_ms": True}, "cache_ttl_ms"), ({"cache_scope": "shared"}, "cache_scope"),
])
def test_bad_hints_are_refused_at_registration(options, problem):
    app = Server("bad")
    with pytest.raises(ValueError, match=problem):
        app.add_tool(lambda: "", name="t", **options)
    with pytest.raises(ValueError, match=problem):
        app.add_resource(lambda: "", "r://x", **options)
    with pytest.raises(ValueError, match=problem):
        app.add_resource(lambda n: "", "r://x/{n}", **options)
    with pytest.raises(ValueError, match=problem):
        app.add_prompt(lambda: "", name="p", **options)
    with pytest.raises(ValueError, match=problem):
        Server("bad", **{"list_" + key: value for key, value in options.items()})
    assert not app.registry.tools and not app.registry.resources and not app.registry.templates


# -- the cache itself -----------------------------------------------------------------------

def result_with(ttl: Any = 1000, scope: Any = "public", size: int = 0, **extra: Any) -> Dict[str, Any]:
    result = {"contents": [{"uri": "r://x", "text": "x" * size}], "resultType": "complete"}  # type: Dict[str, Any]
    if ttl is not None:
        result["ttlMs"] = ttl
    if scope is not None:
        result["cacheScope"] = scope
    result.update(extra)
    return result


def test_fresh_while_now_is_before_receipt_plus_ttl():
    clock = FakeClock()
    cache = ResultCache(clock=clock)
    key = cache_params_key("resources/read", {"uri": "r://x"})
    assert cache.put("s", "p", "resources/read", key, result_with(1500), cache.generation("s"))
    clock.now += 1.499
    hit = cache.get("s", "p", "resources/read", key)
    assert hit == result_with(1500)
    hit["contents"].append("changed by a caller")  # each hit is a copy of its own
    assert cache.get("s", "p", "resources/read", key) == result_with(1500)
    clock.now += 0.001
    assert cache.get("s", "p", "resources/read", key) is None
    assert (cache.hits, cache.misses, len(cache), cache.size_bytes) == (2, 1, 0, 0)


@pytest.mark.parametrize("result", [
    result_with(ttl=None), result_with(ttl=0), result_with(ttl=-5), result_with(ttl="1000"), result_with(ttl=True),
    result_with(resultType="input_required"),
])
def test_results_that_are_stale_at_once_are_not_kept(result):
    cache = ResultCache()
    assert not cache.put("s", "p", "resources/read", "{}", result, 0)
    assert len(cache) == 0


def test_the_key_is_method_and_params_without_meta_and_never_a_retried_round():
    assert cache_params_key("tools/list", {"cursor": "c", "_meta": {"progressToken": 1}}) == '{"cursor":"c"}'
    assert cache_params_key("tools/list", {}) != cache_params_key("tools/list", {"cursor": "c"})
    assert cache_params_key("tools/call", {"name": "x"}) is None
    assert cache_params_key("server/discover", {}) is None  # (what Client.ping sends)
    assert cache_params_key("resources/read", {"uri": "r://x", "inputResponses": {}}) is None
    assert cache_params_key("resources/read", {"uri": "r://x", "requestState": "s"}) is None
    cache = ResultCache()
    cache.put("s", "p", "resources/read", "{}", result_with(), 0)
    assert cache.get("s", "p", "resources/list", "{}") is None and cache.get("t", "p", "resources/read", "{}") is None


def test_public_results_are_shared_and_private_ones_are_not():
    cache = ResultCache()
    cache.put("s", "alice", "tools/list", "{}", result_with(scope="public"), 0)
    cache.put("s", "alice", "resources/read", "{}", result_with(scope="private"), 0)
    cache.put("s", "alice", "prompts/list", "{}", result_with(scope=None), 0)  # (no scope: private)
    assert cache.get("s", "bob", "tools/list", "{}") is not None
    assert cache.get("s", "bob", "resources/read", "{}") is None
    assert cache.get("s", "bob", "prompts/list", "{}") is None
    assert cache.get("s", "alice", "resources/read", "{}") is not None
    assert cache.get("other server", "alice", "tools/list", "{}") is None
    cache.forget_principal("alice")
    assert cache.get("s", "alice", "resources/read", "{}") is None
    assert cache.get("s", "alice", "tools/list", "{}") is not None


def test_invalidation_by_kind_and_uri_and_of_results_in_flight():
    cache = ResultCache()
    for method in ("tools/list", "prompts/list", "resources/list", "resources/templates/list"):
        cache.put("s", "p", method, "{}", result_with(), 0)
    for uri in ("r://a", "r://b"):
        cache.put("s", "p", "resources/read", cache_params_key("resources/read", {"uri": uri}), result_with(), 0)
    cache.list_changed("s", "resources")
    assert cache.get("s", "p", "resources/list", "{}") is None
    assert cache.get("s", "p", "resources/templates/list", "{}") is None
    assert cache.get("s", "p", "tools/list", "{}") is not None
    cache.resource_updated("s", "r://a")
    assert cache.get("s", "p", "resources/read", '{"uri":"r://a"}') is None
    assert cache.get("s", "p", "resources/read", '{"uri":"r://b"}') is not None
    # A request sent before an invalidation may carry the state it retired: not kept.
    before = cache.generation("s")
    cache.list_changed("s", "tools")
    assert cache.get("s", "p", "tools/list", "{}") is None
    assert not cache.put("s", "p", "tools/list", "{}", result_with(), before)
    assert cache.put("s", "p", "tools/list", "{}", result_with(), cache.generation("s"))


def test_bounded_in_entries_and_bytes_least_recently_used_first():
    clock = FakeClock()
    cache = ResultCache(max_entries=3, max_bytes=100000, clock=clock)
    for index in range(3):
        cache.put("s", "p", "resources/read", str(index), result_with(), 0)
    cache.get("s", "p", "resources/read", "0")  # 0 is now the most recently used
    cache.put("s", "p", "resources/read", "3", result_with(), 0)
    assert [cache.get("s", "p", "resources/read", str(i)) is not None for i in range(4)] == [True, False, True, True]
    # Bytes: one result bigger than the whole bound is never kept; others push out the oldest.
    small = ResultCache(max_entries=100, max_bytes=3000)
    assert not small.put("s", "p", "resources/read", "big", result_with(size=4000), 0)
    for index in range(6):
        assert small.put("s", "p", "resources/read", str(index), result_with(size=900), 0)
        assert small.size_bytes <= 3000
    assert len(small) == 3 and small.get("s", "p", "resources/read", "5") is not None
    assert small.get("s", "p", "resources/read", "0") is None
    with pytest.raises(ValueError):
        ResultCache(max_entries=0)
    with pytest.raises(ValueError):
        ResultCache(max_bytes=0)


def test_thread_safe_under_concurrent_use():
    cache = ResultCache(max_entries=50, max_bytes=20000)
    failures = []  # type: List[BaseException]

    def work(offset: int) -> None:
        try:
            for index in range(300):
                key = str((index + offset) % 80)
                cache.put("s", offset % 3, "resources/read", key, result_with(size=index % 50), cache.generation("s"))
                cache.get("s", offset % 3, "resources/read", key)
                if index % 50 == 0:
                    cache.resource_updated("s", "r://x")
                    cache.list_changed("s", "tools")
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures and not any(thread.is_alive() for thread in threads)
    assert len(cache) <= 50 and cache.size_bytes <= 20000
    assert cache.size_bytes == sum(len(data) for _, data in cache._entries.values())


# -- the client with a cache, in memory -------------------------------------------------------

def served(client: Client, method: str) -> int:
    return client.call_tool("served_count", {"method": method})["structuredContent"]["result"]


def test_client_cache_is_off_by_default():
    with Client(make_cache_app()) as client:
        assert client.cache is None
        assert client.read_resource("data://counter") != client.read_resource("data://counter")
        client.list_tools()
        client.list_tools()
        assert served(client, "tools/list") == 2


def test_client_cache_hits_and_expires_with_the_clock():
    clock = FakeClock()
    with Client(make_cache_app(), cache=ResultCache(clock=clock)) as client:
        assert client.era == "modern"
        first = client.read_resource("data://counter")
        assert client.read_resource("data://counter") == first
        names = [tool["name"] for tool in client.list_tools()]
        assert [tool["name"] for tool in client.list_tools()] == names
        client.list_prompts(), client.list_prompts(), client.list_resource_templates(), client.list_resource_templates()
        assert [served(client, m) for m in ("resources/read", "tools/list", "prompts/list",
                                            "resources/templates/list")] == [1, 1, 1, 1]
        # ttlMs 0: never kept.
        assert client.read_resource("data://fresh") != client.read_resource("data://fresh")
        clock.now += 60.0  # both ttls are 60000 ms: stale now
        assert client.read_resource("data://counter") != first
        client.list_tools()
        assert served(client, "tools/list") == 2
        # A ping is a server/discover that must reach the server.
        client.ping()
        client.ping()
        assert served(client, "server/discover") >= 2


def test_a_retried_round_is_not_cached():
    app = Server("asking")
    count = []

    @app.resource("r://ask", cache_ttl_ms=60000)
    def ask(ctx: Context) -> str:
        count.append(1)
        answer = ctx.elicit("Who?", {"type": "object", "properties": {"name": {"type": "string"}}})
        return "hi %s" % answer.get("content", {}).get("name")

    def elicitation(params: Dict[str, Any]) -> Dict[str, Any]:
        return {"action": "accept", "content": {"name": "ada"}}

    with Client(app, cache=True, elicitation=elicitation) as client:
        assert client.read_resource("r://ask")["contents"][0]["text"] == "hi ada"
        assert client.read_resource("r://ask")["contents"][0]["text"] == "hi ada"
        assert len(client.cache) == 0 and len(count) == 4  # two reads of two rounds each


def test_a_legacy_session_caches_nothing():
    with Client(make_cache_app(), cache=True, era="legacy") as client:
        assert client.read_resource("data://counter") != client.read_resource("data://counter")
        client.list_tools()
        client.list_tools()
        assert served(client, "tools/list") == 2 and len(client.cache) == 0


def test_bad_cache_option():
    with pytest.raises(TypeError, match="cache"):
        Client(make_cache_app(), cache={"ttl": 1})


# -- invalidation over real transports --------------------------------------------------------

def exercise_invalidation(client: Client) -> None:
    assert client.era == "modern" and client.cache is not None
    before = [tool["name"] for tool in client.list_tools()]
    assert client.list_tools() and served(client, "tools/list") == 1
    client.call_tool("add_tool", {"name": "late"})
    eventually(lambda: "late" in [tool["name"] for tool in client.list_tools()], "tools/list_changed seen")
    assert "late" not in before
    # Reads: fresh for a minute, until the server says the resource changed.
    client.subscribe("data://counter")
    first = client.read_resource("data://counter")
    assert client.read_resource("data://counter") == first
    client.call_tool("touch", {"uri": "data://counter"})
    eventually(lambda: client.read_resource("data://counter") != first, "resources/updated seen")
    assert served(client, "resources/read") == 2


def test_invalidation_over_stdio():
    with Client.stdio([sys.executable, CACHE_APP], cache=True, timeout=WAIT * 2) as client:
        exercise_invalidation(client)


def test_invalidation_over_http():
    handle = make_cache_app().run_in_thread("http", port=0)
    try:
        with Client.http(handle.url, cache=True, timeout=WAIT * 2) as client:
            exercise_invalidation(client)
    finally:
        handle.stop()


def test_legacy_stdio_session_caches_nothing():
    with Client.stdio([sys.executable, CACHE_APP], cache=True, era="legacy", timeout=WAIT * 2) as client:
        assert client.read_resource("data://counter") != client.read_resource("data://counter")
        assert len(client.cache) == 0


def test_a_shared_cache_shares_public_results_between_clients_of_one_server_only():
    shared = ResultCache()
    handle = make_cache_app().run_in_thread("http", port=0)
    try:
        with Client.http(handle.url, cache=shared, headers={"Authorization": "Bearer alice"}) as alice, \
                Client.http(handle.url, cache=shared, headers={"Authorization": "Bearer bob"}) as bob:
            public = alice.read_resource("data://item/1")
            assert bob.read_resource("data://item/1") == public
            mine = alice.read_resource("data://counter")
            assert alice.read_resource("data://counter") == mine
            assert bob.read_resource("data://counter") != mine  # private: bob's own read
            assert served(alice, "resources/read") == 3
        # A closed client's private results go; public ones stay for others.
        assert all(key[1] is None for key in shared._entries)
        assert len(shared) == 1
    finally:
        handle.stop()


def test_a_cursor_the_server_no_longer_takes_restarts_the_list_from_the_beginning():
    from mcplite.sealing import Sealer
    app = Server("pages", page_size=2, list_cache_ttl_ms=60000)
    for index in range(5):
        app.add_tool(lambda: "", name="t%d" % index)
    pages = []

    @app.middleware
    def count(method, params, ctx, call_next):  # type: ignore[no-untyped-def]
        if method == "tools/list":
            pages.append(params.get("cursor"))
        return call_next()

    with Client(app, cache=True) as client:
        names = [tool["name"] for tool in client.list_tools()]
        assert names == ["t%d" % i for i in range(5)] and len(pages) == 3
        assert [tool["name"] for tool in client.list_tools()] == names and len(pages) == 3  # all cached
        # The server forgets its cursors (a restart with another secret), and the cached
        # later pages expire: the first page's cursor is refused (-32602).
        app.sealer = Sealer()  # (a random secret)
        origin = client._channel.cache_origin()
        client.cache._invalidate(origin, lambda key: key[3] != "{}")
        assert [tool["name"] for tool in client.list_tools()] == names
        assert len(pages) == 3 + 1 + 3  # the refused cursor, then every page again
        assert pages[3] is not None and pages[4] is None


def test_freshness_counts_from_sending_so_a_slow_answer_is_never_fresh_for_longer():
    clock = FakeClock()
    app = Server("slow")
    reads = []

    @app.resource("r://slow", cache_ttl_ms=60000)
    def slow() -> str:
        clock.now += 30.0  # the answer takes 30 s to come
        reads.append(1)
        return "read %d" % len(reads)

    with Client(app, cache=ResultCache(clock=clock)) as client:
        first = client.read_resource("r://slow")
        clock.now += 29.9
        assert client.read_resource("r://slow") == first
        clock.now += 0.2  # 60.1 s after sending, 30.1 s after receipt
        assert client.read_resource("r://slow") != first
