"""The server of tests/test_tasks.py: tools that run as tasks (the tasks extension), in a
module of its own so that the stdio test can start it in a process (which imports mcplite,
never the test helpers)."""

import threading
import time
from typing import Any

from mcplite import Context, MCPError, Server, ToolError


# A function making the store each server of tasks_app keeps its tasks in (None: none, the
# server's own memory): tests/test_stores.py runs tests/test_tasks.py's tests over each store.
STORE = None  # type: Any


def tasks_app(**options: Any) -> Server:
    options.setdefault("task_poll_interval_ms", 50)
    if STORE is not None:
        options.setdefault("store", STORE())
    app = Server("tasks-test", version="1.0.0", **options)
    app.release = threading.Event()   # lets `gate` return
    app.saw_cancel = threading.Event()  # set by a handler that noticed its cancellation
    app.runs = []  # what the handlers did, in order

    @app.tool()
    def greet(name: str) -> str:
        return "Hello, %s!" % name

    @app.tool(task="optional")
    def gate(label: str, ctx: Context) -> str:
        """Runs until released or cancelled (10 s at most)."""
        deadline = time.monotonic() + 10
        while not app.release.is_set() and time.monotonic() < deadline:
            if ctx.cancelled:
                app.saw_cancel.set()
                return "stopped"
            time.sleep(0.005)
        return "%s released in task %s" % (label, ctx.task_id)

    @app.tool(task="optional")
    def stubborn() -> str:
        """Ignores cancellation: waits for the release whatever happens."""
        app.release.wait(10)
        return "finished anyway"

    @app.tool(task="optional")
    def quick(n: int) -> int:
        return n * 2

    @app.tool(task="optional")
    def refuses() -> str:
        raise ToolError("no such file")

    @app.tool(task="optional")
    def breaks() -> str:
        raise MCPError(-32050, "the backend is down", {"retry": True})

    @app.tool(task="optional")
    def crashes() -> str:
        raise ValueError("boom")

    @app.tool(task="required")
    def only_as_task() -> str:
        return "done as a task"

    @app.tool(task="optional")
    def confirm(filename: str, ctx: Context) -> str:
        try:
            answer = ctx.elicit("Delete %s?" % filename, {"confirm": bool})
        except BaseException:
            app.saw_cancel.set()
            raise
        return "deleted %s" % filename if answer["content"]["confirm"] else "kept %s" % filename

    @app.tool(task="optional")
    def asks_briefly(ctx: Context) -> str:
        return ctx.elicit("Quick, your name?", {"name": str}, timeout=0.2)["content"]["name"]

    @app.tool(task="optional")
    def two_questions(ctx: Context) -> str:
        name, color = ctx.gather(lambda: ctx.elicit("Name?", {"name": str}),
                                 lambda: ctx.elicit("Color?", {"color": str}))
        return "%s likes %s" % (name["content"]["name"], color["content"]["color"])

    @app.tool(task="optional")
    def samples(ctx: Context) -> str:
        return ctx.sample("Hi?", max_tokens=5)["content"]["text"]

    @app.tool(task="optional")
    def chatty(ctx: Context) -> str:
        ctx.progress(1, 2)
        ctx.info("working")
        return "said nothing"

    @app.tool(task="optional", task_start="handler")
    def ask_then_work(ctx: Context) -> str:
        answer = ctx.elicit("What is your name?", {"name": str}, key="user_name")
        app.runs.append(("before", ctx.task_id is not None))
        in_task = ctx.start_task()
        app.runs.append(("after", in_task))
        return "Hello, %s, from task %s" % (answer["content"]["name"], ctx.task_id)
    return app
