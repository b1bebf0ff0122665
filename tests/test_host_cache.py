"""``Host(cache=...)``: the host's clients keep list and read results as their 2026-07-28
caching hints allow (mcplite/clientcache.py), one cache for every server.

The server is the caching tests' app (tests/servers/cache_app.py), real processes over stdio
started and stopped by the host. It counts what it served, so a result answered from the
cache is told from one the server ran.
"""

import os
import sys
import time
from typing import Any, Dict

import pytest

from mcplite import ResultCache
from mcplite.host import Host

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE_APP = os.path.join(HERE, "servers", "cache_app.py")
WAIT = 10.0  # the longest any one expected event may take


def _config(*names):
    # type: (str) -> Dict[str, Any]
    return {"mcpServers": {name: {"command": sys.executable, "args": [CACHE_APP]} for name in names}}


def _read(host, server):
    # type: (Host, str) -> str
    """The text of ``server``'s data://counter (ttlMs 60000, private), read through the host."""
    names = [r["name"] for r in host.resources()
             if host.resolve(r["name"], "resource") == (server, "data://counter")]
    assert len(names) == 1, host.resources()
    return host.read_resource(names[0])["contents"][0]["text"]  # type: ignore[no-any-return]


def _tool(host, server, tool):
    # type: (Host, str, str) -> str
    names = [t["name"] for t in host.tools() if host.resolve(t["name"]) == (server, tool)]
    assert len(names) == 1, [t["name"] for t in host.tools()]
    return names[0]


def _served(host, server, method):
    # type: (Host, str, str) -> int
    result = host.call((_tool(host, server, "served_count"), {"method": method}))
    assert not result.get("isError"), result
    return int(result["content"][0]["text"])


def test_without_a_cache_every_read_reaches_the_server():
    with Host(_config("one")) as host:
        assert host.cache is None
        assert _read(host, "one") == "read 1"
        assert _read(host, "one") == "read 2"


def test_one_cache_serves_every_server_and_keeps_them_apart():
    with Host(_config("one", "two"), cache=True) as host:
        assert isinstance(host.cache, ResultCache)
        assert _read(host, "one") == "read 1"
        assert _read(host, "one") == "read 1"  # fresh for 60 s: the server never saw it
        # Server two's counter is its own, never server one's cached result.
        assert _read(host, "two") == "read 1"
        assert _read(host, "two") == "read 1"
        assert host.cache.hits >= 2


def test_list_changed_retires_the_cached_list_so_the_catalog_sees_the_new_tool():
    with Host(_config("one"), cache=True) as host:
        assert _served(host, "one", "tools/list") == 1  # the host's start
        result = host.call((_tool(host, "one", "add_tool"), {"name": "late"}))
        assert not result.get("isError"), result
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if any(host.resolve(t["name"]) == ("one", "late") for t in host.tools()):
                break
            time.sleep(0.02)
        else:
            pytest.fail("the tool added after start never reached the catalog: %r" % host.tools())
        # The refresh went to the server: the notification retired the kept list.
        assert _served(host, "one", "tools/list") == 2


def test_a_cache_of_your_own_is_used_and_a_wrong_value_is_refused():
    mine = ResultCache(max_entries=8)
    with Host(_config("one"), cache=mine) as host:
        assert host.cache is mine
        _read(host, "one")
        _read(host, "one")
        assert mine.hits >= 1
    with pytest.raises(TypeError, match="ResultCache"):
        Host(_config("one"), cache={"ttl": 1})
