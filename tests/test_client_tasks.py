"""The client's side of the tasks extension (2026-07-28): Client(tasks=True) waits for a task
the server created, answering its questions; wait=False, wait_task, cancel_task; timeouts
cancel the task. Against mcplite's own server, in memory, over stdio and over HTTP."""

import os
import sys
import time

import pytest

# (from the package only: the one-file build has no mcplite.client to import in a server process)
from mcplite import Client, Context, MCPError, RequestTimeout, Server, TaskCancelled
from tasks_app import tasks_app as shared_tasks_app

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TASKS = "io.modelcontextprotocol/tasks"


def tasks_app():
    """tests/tasks_app.py's server (only_as_task, refuses, breaks, ...) with what these tests add."""
    app = shared_tasks_app(task_poll_interval_ms=20)

    @app.tool(task="optional")
    def slow_add(a: int, b: int, seconds: float = 0.2) -> int:
        """Adds, slowly."""
        time.sleep(seconds)
        return a + b

    @app.tool(task="optional")
    def asks(ctx: Context) -> str:
        answer = ctx.elicit("Your name?", {"name": str})
        return "hello %s" % answer["content"]["name"]

    @app.tool(task="optional")
    def asks_twice(ctx: Context) -> str:
        first = ctx.elicit("First?", {"value": str})
        second = ctx.elicit("Second?", {"value": str})
        return "%s+%s" % (first["content"]["value"], second["content"]["value"])

    @app.tool(task="optional")
    def waits(ctx: Context) -> str:
        """Runs until released or cancelled (10 s at most)."""
        deadline = time.monotonic() + 10
        while not app.release.is_set() and not ctx.cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        return "released"
    return app


def answer_with(values):
    asked = []

    def elicitation(params):
        asked.append(params["message"])
        return {"action": "accept", "content": {k: values[params["message"]] for k in
                                                params["requestedSchema"]["properties"]}}
    elicitation.asked = asked
    return elicitation


@pytest.fixture(params=["memory", "stdio", "http"])
def connect(request, tmp_path):
    """connect(**options) -> a 2026-07-28 Client of tasks_app() over the transport."""
    clients = []
    handles = []
    app = tasks_app()

    def make(**options):
        options.setdefault("era", "modern")
        if request.param == "memory":
            client = Client(app, **options)
        elif request.param == "http":
            handle = app.run_in_thread("http", port=0)
            handles.append(handle)
            client = Client.http(handle.url, **options)
        else:
            script = tmp_path / "server.py"
            script.write_text("import sys\nsys.path.insert(0, %r)\nsys.path.insert(0, %r)\n"
                              "from test_client_tasks import tasks_app\ntasks_app().run()\n" % (ROOT, HERE),
                              encoding="utf-8")
            client = Client.stdio([sys.executable, str(script)], **options)
        clients.append(client)
        return client
    make.app = app
    make.transport = request.param
    yield make
    for client in clients:
        client.close()
    for handle in handles:
        handle.stop()


def test_a_task_is_waited_for_and_its_result_returned(connect):
    with connect(tasks=True) as client:
        assert client.call_tool("slow_add", {"a": 2, "b": 3})["content"] == [{"type": "text", "text": "5"}]
        assert client.call_tool("only_as_task")["content"][0]["text"] == "done as a task"


def test_without_tasks_the_call_is_an_ordinary_one(connect):
    with connect() as client:
        assert client.call_tool("slow_add", {"a": 2, "b": 3, "seconds": 0}, wait=False)["content"][0]["text"] == "5"
        with pytest.raises(MCPError) as caught:
            client.call_tool("only_as_task")
        assert caught.value.code == -32021
        assert caught.value.data["requiredCapabilities"] == {"extensions": {TASKS: {}}}


def test_wait_false_returns_the_task_handle_for_later(connect):
    with connect(tasks=True) as client:
        created = client.call_tool("slow_add", {"a": 1, "b": 1}, wait=False)
        assert created["resultType"] == "task" and created["status"] == "working"
        assert "content" not in created
        assert client.wait_task(created["taskId"])["content"][0]["text"] == "2"
        # A finished task can be waited for again while the server keeps it.
        assert client.wait_task(created["taskId"])["content"][0]["text"] == "2"


def test_a_tool_error_is_a_result_and_a_failure_an_error(connect):
    with connect(tasks=True) as client:
        result = client.call_tool("refuses")
        assert result["isError"] is True and result["content"][0]["text"] == "no such file"
        with pytest.raises(MCPError) as caught:
            client.call_tool("breaks")
        assert (caught.value.code, caught.value.message) == (-32050, "the backend is down")


def test_a_tasks_questions_are_answered_through_the_handlers(connect):
    elicitation = answer_with({"Your name?": "Ada", "First?": "1", "Second?": "2"})
    with connect(tasks=True, elicitation=elicitation) as client:
        assert client.call_tool("asks")["content"][0]["text"] == "hello Ada"
        assert client.call_tool("asks_twice")["content"][0]["text"] == "1+2"
    # Each question was asked of the user once, though tasks/get showed it until answered.
    assert elicitation.asked == ["Your name?", "First?", "Second?"]


def test_cancel_task_ends_it_and_waiting_raises_task_cancelled(connect):
    with connect(tasks=True) as client:
        created = client.call_tool("waits", wait=False)
        client.cancel_task(created["taskId"])
        with pytest.raises(TaskCancelled) as caught:
            client.wait_task(created["taskId"], timeout=5)
        assert caught.value.task_id == created["taskId"]


def test_a_task_that_does_not_change_in_time_is_cancelled(connect):
    with connect(tasks=True) as client:
        started = time.monotonic()
        with pytest.raises(RequestTimeout):
            client.call_tool("waits", timeout=0.5)
        assert time.monotonic() - started < 5
        created = client.call_tool("waits", wait=False)
        with pytest.raises(RequestTimeout):
            client.wait_task(created["taskId"], timeout=0.5)
        # The server was told: the task ends cancelled, not released.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            status = client.request("tasks/get", {"taskId": created["taskId"]})["status"]
            if status != "working":
                break
            time.sleep(0.02)
        assert status == "cancelled"


def test_a_legacy_session_ignores_tasks(connect):
    with connect(tasks=True, era="legacy") as client:
        assert client.call_tool("slow_add", {"a": 4, "b": 5, "seconds": 0})["content"][0]["text"] == "9"


def test_unknown_task_is_an_error(connect):
    with connect(tasks=True) as client:
        with pytest.raises(MCPError) as caught:
            client.wait_task("no-such-task", timeout=2)
        assert caught.value.code == -32602


def test_task_per_call_overrides_the_clients_choice(connect):
    with connect() as client:
        created = client.call_tool("slow_add", {"a": 1, "b": 2, "seconds": 0}, task=True, wait=False)
        assert created["resultType"] == "task"
        assert client.call_tool("only_as_task", task=True)["content"][0]["text"] == "done as a task"
    with connect(tasks=True) as client:
        result = client.call_tool("slow_add", {"a": 1, "b": 2, "seconds": 0}, task=False, wait=False)
        assert result["content"][0]["text"] == "3" and result.get("resultType") != "task"


def test_the_readme_tasks_snippets_run_as_written():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme[readme.index("## Tasks ("):]
    section = section[:section.index("\n## ", 1)]
    server_code, client_code = [block.split("```", 1)[0] for block in section.split("```python\n")[1:3]]
    app = Server("readme-tasks", task_poll_interval_ms=20)
    exec(compile(server_code, "README server", "exec"), {"app": app, "Context": Context})
    asked = []

    def ask_the_user(params):
        asked.append(params["message"])
        return {"action": "accept", "content": {"ok": True}}
    handle = app.run_in_thread("http", port=0)
    try:
        with pytest.MonkeyPatch.context() as patch:
            results = []
            original = Client.call_tool

            def recording_call_tool(self, *args, **kwargs):
                results.append(original(self, *args, **kwargs))
                return results[-1]
            patch.setattr(Client, "call_tool", recording_call_tool)
            scope = {"Client": Client, "url": handle.url, "ask_the_user": ask_the_user}
            exec(compile(client_code, "README client", "exec"), scope)
    finally:
        handle.stop()
    assert results[0] == {"content": [{"type": "text", "text": "rendered 500 frames"}]}
    assert results[1]["resultType"] == "task"
    assert asked == ["Render 500 frames?"] * 2
