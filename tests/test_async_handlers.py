"""``async def`` tools, resources, prompts and completions: each runs to its end in its worker
thread (an event loop of its own), in both eras, with the call's cancellation reaching the
coroutine; asyncio is imported only when such a handler runs."""

import asyncio
import subprocess
import sys
import threading
import time
from typing import List

import pytest

from mcplite import Client, Context, RequestTimeout, Server

ERAS = ["legacy", "modern"]


def make_async_app():
    app = Server("async")
    app.cancelled = threading.Event()  # type: ignore[attr-defined]

    @app.tool()
    async def add(a: int, b: int) -> int:
        """Adds, after a pause"""
        await asyncio.sleep(0.01)
        return a + b

    @app.tool()
    async def counted(ctx: Context) -> str:
        """Reports progress"""
        for step in range(1, 4):
            ctx.progress(step, 3)
            await asyncio.sleep(0)
        ctx.info("counted to 3")
        return "done"

    @app.tool()
    async def sleepy() -> str:
        """Sleeps until cancelled"""
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            app.cancelled.set()  # type: ignore[attr-defined]
            raise
        return "woke"

    @app.tool()
    async def ask_name(ctx: Context) -> str:
        """Asks, from async code"""
        answer = ctx.elicit("Name?", {"name": str})
        return "hello " + answer["content"]["name"]

    @app.resource("async://note")
    async def note() -> str:
        return "a note"

    @app.resource("async://notes/{name}")
    async def named(name: str) -> str:
        return "note " + name

    @app.prompt()
    async def greet(name: str) -> str:
        return "Greet %s" % name

    @app.completion("name", prompt="greet")
    async def names(value: str) -> List[str]:
        return [n for n in ("ada", "alan") if n.startswith(value)]
    return app


@pytest.mark.parametrize("era", ERAS)
def test_async_handlers_answer_as_plain_ones(era):
    with Client(make_async_app(), era=era) as client:
        assert client.call_tool("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
        assert client.read_resource("async://note")["contents"][0]["text"] == "a note"
        assert client.read_resource("async://notes/x")["contents"][0]["text"] == "note x"
        assert client.get_prompt("greet", {"name": "Ada"})["messages"][0]["content"]["text"] == "Greet Ada"
        assert client.complete({"type": "ref/prompt", "name": "greet"}, "name", "a")["values"] == ["ada", "alan"]


@pytest.mark.parametrize("era", ERAS)
def test_an_async_handler_has_its_context(era):
    seen, logs = [], []
    with Client(make_async_app(), era=era, on_log=logs.append) as client:
        client.set_log_level("info")
        result = client.call_tool("counted", progress=lambda *args: seen.append(args[:2]))
    assert result["content"][0]["text"] == "done"
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [entry["data"] for entry in logs] == ["counted to 3"]


@pytest.mark.parametrize("era", ERAS)
def test_questions_from_async_code_in_both_eras(era):
    answers = []

    def elicitation(params):
        answers.append(params["message"])
        return {"action": "accept", "content": {"name": "Ada"}}
    with Client(make_async_app(), era=era, elicitation=elicitation) as client:
        assert client.call_tool("ask_name")["content"][0]["text"] == "hello Ada"
    assert answers == ["Name?"]


@pytest.mark.parametrize("era", ERAS)
def test_cancellation_reaches_the_coroutine(era):
    app = make_async_app()
    with Client(app, era=era, timeout=5) as client:
        with pytest.raises(RequestTimeout):
            # (1 s: time for the coroutine to take its first step even on a loaded machine; one
            # cancelled before it never runs its body, so it could not see CancelledError)
            client.call_tool("sleepy", timeout=1.0)  # the client cancels the request
        assert app.cancelled.wait(5), "the coroutine never saw CancelledError"  # type: ignore[attr-defined]
        assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}


def test_an_async_generator_is_refused_at_registration():
    app = Server("x")

    async def stream():
        yield 1
    with pytest.raises(TypeError) as info:
        app.add_tool(stream)
    assert "async generator" in str(info.value)


def test_asyncio_is_imported_only_when_an_async_handler_runs(tmp_path):
    code = """
import sys
from mcplite import Client, Server
app = Server("lazy")

@app.tool()
def plain(a: int) -> int:
    return a

@app.tool()
async def later(a: int) -> int:
    return a

with Client(app) as client:
    client.call_tool("plain", {"a": 1})
    before = "asyncio" in sys.modules
    client.call_tool("later", {"a": 1})
    print(before, "asyncio" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().split() == ["False", "True"]


def test_many_async_calls_at_once():
    app = make_async_app()
    results = []
    with Client(app, era="modern") as client:
        threads = [threading.Thread(target=lambda n=n: results.append(
            client.call_tool("add", {"a": n, "b": 1})["structuredContent"]["result"])) for n in range(20)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert sorted(results) == list(range(1, 21))
    assert time.monotonic() - start < 5
