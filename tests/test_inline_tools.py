"""Tools declared ``inline=True``: served on the thread that read the request, and only
those that can never wait for the client (over real pipes: tests/test_stdio.py)."""

import threading

import pytest

from mcplite import Context, Server
from mcplite.memory import MemoryConnection


def _app() -> Server:
    app = Server("inline-test")

    @app.tool(inline=True)
    def where() -> str:
        return threading.current_thread().name

    @app.tool()
    def pooled() -> str:
        return threading.current_thread().name
    return app


def _call(conn: MemoryConnection, name: str) -> str:
    reply = conn.request("tools/call", {"name": name, "arguments": {}})
    return reply["result"]["content"][0]["text"]


def _session(app: Server) -> MemoryConnection:
    conn = MemoryConnection(app)
    conn.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                "clientInfo": {"name": "t", "version": "1"}})
    conn.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return conn


def test_inline_tool_runs_on_the_receiving_thread_the_others_on_workers():
    conn = _session(_app())
    try:
        assert _call(conn, "where") == threading.current_thread().name
        assert _call(conn, "pooled").startswith("mcplite-worker")
    finally:
        conn.pool.shutdown(2)


def test_middleware_sends_inline_tools_to_the_pool():
    app = _app()

    @app.middleware
    def passthrough(method, params, ctx, call_next):  # type: ignore[no-untyped-def]
        return call_next()
    conn = _session(app)
    try:
        assert _call(conn, "where").startswith("mcplite-worker")
    finally:
        conn.pool.shutdown(2)


def test_inline_refused_for_handlers_that_may_wait():
    app = Server("inline-refused")

    def with_context(ctx: Context) -> str:
        return "x"

    async def coroutine() -> str:
        return "x"

    def plain() -> str:
        return "x"
    with pytest.raises(TypeError, match="Context"):
        app.add_tool(with_context, inline=True)
    with pytest.raises(TypeError, match="async"):
        app.add_tool(coroutine, inline=True)
    with pytest.raises(TypeError, match="task"):
        app.add_tool(plain, inline=True, task="optional")
    assert app.registry.tools == {}
    assert app.add_tool(plain, inline=True).inline is True
    assert app.add_tool(plain, name="other").inline is False
