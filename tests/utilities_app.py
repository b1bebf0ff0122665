"""Servers for the utility tests (completion, pagination, list changes, subscriptions,
logging, progress, cancellation), in memory or on stdio:

    python tests/utilities_app.py [--max-subscriptions N]          # the utilities app
    python tests/utilities_app.py --paged [--page-size N] [--secret S]   # 5 of everything
"""

import argparse
import json
import os
import sys
import threading
from typing import Any, Dict, List, Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mcplite import Cancelled, Context, Server  # noqa: E402

SECRET = b"utilities-secret-0123456789abcdef"
LANGUAGES = ["python", "perl", "php", "pascal", "prolog", "go", "rust"]
LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]


def make_utilities_app(max_subscriptions: int = 1000, **options: Any) -> Server:
    app = Server("utilities", version="1.0.0", state_secret=SECRET, max_subscriptions=max_subscriptions,
                 **options)
    state = {"cancelled": [], "release": threading.Event(), "done": threading.Event(),
             "late": []}  # type: Dict[str, Any]
    app.state = state  # type: ignore[attr-defined]

    # -- prompts, resources and their completions ---------------------------------

    @app.prompt()
    def review(language: str, code: str, style: str = "short", focus: str = "all") -> str:
        """Review some code"""
        return "Review this %s code (%s, %s): %s" % (language, style, focus, code)

    @app.completion("language", prompt="review")
    def complete_language(value: str) -> List[str]:
        return [name for name in LANGUAGES if name.startswith(value)]

    @app.completion("code", prompt="review")
    def complete_code(value: str, others: Dict[str, str]) -> List[str]:
        # Shows exactly what the second parameter received.
        return [value + "|" + json.dumps(others, sort_keys=True)]

    @app.completion("style", prompt="review")
    def complete_style(value: str) -> List[str]:
        raise RuntimeError("the style list is unavailable")

    @app.resource("item://{id}", mime_type="text/plain")
    def item(id: str) -> str:
        return "item " + id

    @app.completion("id", template="item://{id}")
    def complete_id(value: str) -> List[str]:
        return [str(i) for i in range(250) if str(i).startswith(value)]

    @app.resource("page://{book}/{page}", mime_type="text/plain")
    def book_page(book: str, page: str) -> str:
        return "%s p.%s" % (book, page)

    @app.completion("page", template="page://{book}/{page}")
    def complete_page(value: str) -> Dict[str, Any]:
        return {"values": ["1", "2", "3"], "total": 1000, "hasMore": True}

    @app.resource("note://a", mime_type="text/plain")
    def note_a() -> str:
        return "note a"

    @app.resource("note://b", mime_type="text/plain")
    def note_b() -> str:
        return "note b"

    # -- tools that change the server at run time ---------------------------------

    def extra_tool() -> str:
        return "extra"

    def extra_prompt() -> str:
        return "extra prompt"

    def extra_note() -> str:
        return "extra note"

    def extra_template(x: str) -> str:
        return "extra " + x

    @app.tool()
    def change(kind: str, action: str) -> str:
        """Adds or removes the extra tool / prompt / resource / template"""
        adding = action == "add"
        if kind == "tool":
            if adding:
                app.add_tool(extra_tool, name="extra")
            else:
                app.remove_tool("extra")
        elif kind == "prompt":
            if adding:
                app.add_prompt(extra_prompt, name="extra")
            else:
                app.remove_prompt("extra")
        elif kind == "resource":
            if adding:
                app.add_resource(extra_note, "note://extra")
            else:
                app.remove_resource("note://extra")
        elif kind == "template":
            if adding:
                app.add_resource(extra_template, "extra://{x}")
            else:
                app.remove_resource("extra://{x}")
        else:
            raise ValueError("unknown kind")
        return "%s %s" % (action, kind)

    @app.tool()
    def touch(uri: str) -> str:
        """Says that a resource changed (notify_resource_updated)"""
        app.notify_resource_updated(uri)
        return "touched " + uri

    # -- logging, progress, cancellation ------------------------------------------

    @app.tool()
    def chatty(ctx: Context) -> List[bool]:
        """Logs one message at every level; returns which were sent"""
        return [ctx.log(level, {"n": i, "level": level}, logger="chatty") for i, level in enumerate(LEVELS)]

    @app.tool()
    def steps(ctx: Context, values: List[float], total: Optional[float] = None,
              message: Optional[str] = None) -> List[bool]:
        """Reports each value as progress; returns what ctx.progress returned"""
        return [ctx.progress(v, total, message) for v in values]

    @app.tool()
    def late(ctx: Context) -> str:
        """Returns at once; a thread tries progress and a log once release_late is called"""
        state["release"].clear()
        state["done"].clear()

        def later() -> None:
            state["release"].wait(10)
            state["late"] = [ctx.progress(99, 100, "too late"), ctx.log("emergency", "too late")]
            state["done"].set()
        threading.Thread(target=later, daemon=True).start()
        ctx.progress(1, 100, "on time")
        return "returned"

    @app.tool()
    def release_late() -> List[bool]:
        """Lets late's thread run; what its progress and log calls returned"""
        state["release"].set()
        if not state["done"].wait(10):
            raise RuntimeError("late thread did not finish")
        return state["late"]

    @app.tool()
    def long_job(ctx: Context, steps: int = 500) -> str:
        """Runs steps * 10 ms with progress; stops when cancelled"""
        try:
            for i in range(steps):
                ctx.check_cancelled()
                ctx.progress(i + 1, steps)
                threading.Event().wait(0.01)
        except Cancelled:
            state["cancelled"].append(ctx.request_id)
            raise
        return "finished"

    @app.tool()
    def cancelled_ids() -> List[Any]:
        """The ids of the long_job calls that saw their cancellation"""
        return list(state["cancelled"])

    return app


def _constant(value: str) -> Any:
    def constant() -> str:
        return value
    return constant


def _echo(x: str) -> str:
    return x


def make_paged_app(page_size: Optional[int] = 2, secret: bytes = SECRET) -> Server:
    """Five tools, resources, templates and prompts, registered in order 1..5."""
    app = Server("paged", version="1.0.0", page_size=page_size, state_secret=secret)
    for i in range(1, 6):
        app.add_tool(_constant("tool %d" % i), name="tool%d" % i)
        app.add_resource(_constant("resource %d" % i), "res://%d" % i, name="res%d" % i)
        app.add_resource(_echo, "tpl%d://{x}" % i, name="tpl%d" % i)
        app.add_prompt(_constant("prompt %d" % i), name="prompt%d" % i)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paged", action="store_true")
    parser.add_argument("--page-size", type=int, default=2)
    parser.add_argument("--secret", default=None)
    parser.add_argument("--max-subscriptions", type=int, default=1000)
    args = parser.parse_args()
    if args.paged:
        secret = args.secret.encode("utf-8") if args.secret else SECRET
        make_paged_app(args.page_size if args.page_size > 0 else None, secret).run()
    else:
        make_utilities_app(args.max_subscriptions).run()


if __name__ == "__main__":
    main()
