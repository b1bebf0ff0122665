"""A server for the caching tests (tests/test_caching.py): hints per list, resource and
template, counters of what it served, and tools that change its lists and resources.

``python cache_app.py`` serves stdio; tests over HTTP import ``make_cache_app()``.
"""

import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the checkout (mcplite)

from mcplite import Server  # noqa: E402


def make_cache_app() -> Server:
    # Lists fresh for a minute and the same for everyone; reads by default never fresh.
    app = Server("cache", list_cache_ttl_ms=60000, list_cache_scope="public")
    lock = threading.Lock()
    served = {}  # method -> how many times the server ran it
    reads = {}  # uri -> how many times it was read

    @app.middleware
    def count(method, params, ctx, call_next):  # type: ignore[no-untyped-def]
        with lock:
            served[method] = served.get(method, 0) + 1
        return call_next()

    def bump(uri: str) -> int:
        with lock:
            reads[uri] = reads.get(uri, 0) + 1
            return reads[uri]

    @app.tool()
    def served_count(method: str) -> int:
        """How many times the server ran ``method``."""
        with lock:
            return served.get(method, 0)

    @app.tool()
    def add_tool(name: str) -> str:
        """Register a tool now: clients hear tools/list_changed."""
        app.add_tool(lambda: name, name=name)
        return name

    @app.tool()
    def touch(uri: str) -> str:
        """Tell subscribers ``uri`` changed (notifications/resources/updated)."""
        app.notify_resource_updated(uri)
        return uri

    @app.resource("data://counter", cache_ttl_ms=60000, cache_scope="private")
    def counter() -> str:
        return "read %d" % bump("data://counter")

    @app.resource("data://fresh")
    def fresh() -> str:
        return "read %d" % bump("data://fresh")

    @app.resource("data://item/{n}", cache_ttl_ms=60000, cache_scope="public")
    def item(n: str) -> str:
        return "item %s read %d" % (n, bump("data://item/" + n))

    @app.prompt()
    def greet(who: str) -> str:
        return "Hello, %s" % who

    return app


if __name__ == "__main__":
    make_cache_app().run()
