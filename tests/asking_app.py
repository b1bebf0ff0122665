"""A server whose handlers ask the client things, for the tests of both eras.

    python tests/asking_app.py [--timeout SECONDS] [--page-size N]   # serves stdio
"""

import argparse
import os
import sys
import threading
from typing import Any, List

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mcplite import Context, MCPError, Server, UrlElicitationRequired  # noqa: E402

SECRET = b"tests-secret-0123456789abcdef"


def make_asking_app(timeout: float = 5.0, page_size: Any = None, **options: Any) -> Server:
    app = Server("asking", version="1.0.0", client_request_timeout=timeout, page_size=page_size,
                 state_secret=SECRET, **options)
    side_effects = []  # type: List[str]
    app.side_effects = side_effects  # type: ignore[attr-defined]

    @app.tool()
    def ask_name(ctx: Context) -> str:
        """Asks the user's name (form elicitation)"""
        answer = ctx.elicit("What is your name?", {"name": str}, key="name")
        if answer["action"] != "accept":
            return "no name (%s)" % answer["action"]
        return "Hello, %s!" % answer["content"]["name"]

    @app.tool()
    def two_steps(ctx: Context) -> str:
        """Asks two questions in turn; the side effect happens after both"""
        first = ctx.elicit("First?", {"a": str})
        second = ctx.elicit("Second?", {"b": int})
        side_effects.append("two_steps")
        return "%s/%s" % (first["content"]["a"], second["content"]["b"])

    @app.tool()
    def ask_all(ctx: Context) -> str:
        """Asks three things at once (gather)"""
        name, reply, roots = ctx.gather(
            lambda: ctx.elicit("Name?", {"name": str}, key="who"),
            lambda: ctx.sample("Say hi", max_tokens=20, key="hi"),
            lambda: ctx.roots(key="roots"),
        )
        return "%s|%s|%d" % (name["content"]["name"], reply["content"]["text"], len(roots))

    @app.tool()
    def summarize(text: str, ctx: Context) -> str:
        """Asks the client's model (sampling)"""
        answer = ctx.sample([{"role": "user", "content": "Summarize: " + text}], max_tokens=50,
                            system_prompt="Be brief.", temperature=0.1)
        return "%s (%s)" % (answer["content"]["text"], answer["model"])

    @app.tool()
    def sample_with_tools(ctx: Context) -> str:
        """Sampling with tools: needs sampling.tools"""
        answer = ctx.sample("weather?", max_tokens=20, tools=[{
            "name": "get_weather", "inputSchema": {"type": "object", "properties": {}}}],
            tool_choice={"mode": "auto"})
        return answer["stopReason"] if "stopReason" in answer else "done"

    @app.tool()
    def list_roots(ctx: Context) -> List[str]:
        """The client's roots"""
        return [root["uri"] for root in ctx.roots()]

    @app.tool()
    def ping_client(ctx: Context) -> str:
        """Pings the client"""
        ctx.ping()
        return "pong"

    @app.tool()
    def sign_in(ctx: Context) -> str:
        """URL elicitation, then the completion notification"""
        answer = ctx.elicit_url("Please sign in", "https://example.com/sign-in", elicitation_id="el-1")
        if answer["action"] == "accept":
            ctx.notify_elicitation_complete("el-1")
        return "sign-in %s" % answer["action"]

    @app.tool()
    def needs_payment() -> str:
        """Raises the -32042 URL elicitation error"""
        raise UrlElicitationRequired("Pay first", "https://example.com/pay", "pay-1")

    @app.tool()
    def careful(ctx: Context) -> str:
        """Asks only what the client can answer"""
        if not ctx.can_ask("elicitation/create"):
            return "cannot ask"
        return ask_name(ctx)

    @app.tool()
    def slow_question(ctx: Context) -> str:
        """Asks, and reports whether the wait ended by cancellation"""
        try:
            ctx.elicit("Are you there?", {"yes": bool})
        except MCPError as exc:
            return "error %d: %s" % (exc.code, exc.message)
        return "answered"

    @app.tool()
    def long_job(ctx: Context, steps: int = 50) -> str:
        """Reports progress; stops when cancelled"""
        for i in range(steps):
            ctx.check_cancelled()
            ctx.progress(i + 1, steps, "step %d" % (i + 1))
            threading.Event().wait(0.02)
        return "finished"

    @app.tool()
    def read_other(ctx: Context) -> str:
        """Reads one of the server's own resources"""
        return ctx.read_resource("note://hello")[0]["text"]

    @app.resource("note://hello", mime_type="text/plain")
    def hello_note() -> str:
        return "hello from a note"

    @app.resource("note://ask", mime_type="text/plain")
    def asking_resource(ctx: Context) -> str:
        answer = ctx.elicit("Which note?", {"note": str}, key="note")
        return "note: %s" % answer["content"]["note"]

    @app.prompt()
    def personal(ctx: Context) -> str:
        """A prompt that asks for context first"""
        answer = ctx.elicit("Context?", {"context": str}, key="context")
        return "Use %s" % answer["content"]["context"]

    return app


# Answers a test client gives, by method.
ANSWERS = {
    "elicitation/create": {"action": "accept", "content": {"name": "Ada"}},
    "sampling/createMessage": {"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m1",
                               "stopReason": "endTurn"},
    "roots/list": {"roots": [{"uri": "file:///work", "name": "work"}]},
    "ping": {},
}

ALL_CAPABILITIES = {"elicitation": {"form": {}, "url": {}}, "sampling": {"tools": {}}, "roots": {"listChanged": True}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--page-size", type=int, default=None)
    args = parser.parse_args()
    make_asking_app(args.timeout, args.page_size).run()


if __name__ == "__main__":
    main()
