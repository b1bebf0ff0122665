"""An upstream for tests/test_gateway_edges.py, served on stdio: ``python
gateway_odd_upstream.py``. Legal but unusual names: a tool and a prompt with an argument named
``ctx`` (the name a Python handler gives its Context), a resource template whose URIs carry
characters a URI may hold unencoded (``@``, ``+``) or percent-encoded, each answered with the
exact URI it was asked for; and resources that come and go (``rotate``: ``doc://N`` in place of
``doc://N-1``), each told of with ``touch`` (any URI with ``touch_uri``); ``crash`` ends the process; ``trace_id`` says which trace a call continues; content blocks 2024-11-05 has no type for (``linked``).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the checkout (mcplite)

from mcplite import Context, Server  # noqa: E402


def make_odd_upstream() -> Server:
    app = Server("odd", version="1.0.0")

    def echo(**arguments: str) -> str:
        return ",".join("%s=%s" % item for item in sorted(arguments.items()))
    app.add_tool(echo, name="echo", input_schema={
        "type": "object", "properties": {"ctx": {"type": "string"}, "text": {"type": "string"}}})

    # The same, its schema naming one argument and allowing others.
    app.add_tool(echo, name="loose", input_schema={"type": "object", "properties": {"text": {"type": "string"}}})

    def framed(**arguments: str) -> str:
        return "frame " + ",".join("%s=%s" % item for item in sorted(arguments.items()))
    app.add_prompt(framed, name="framed").arguments = [{"name": "ctx"}, {"name": "text"}]

    @app.resource("users://{email}/profile")
    def profile(email: str) -> str:
        return "profile of " + email

    def add_doc(n: int) -> None:
        app.add_resource(lambda: "doc %d" % n, "doc://%d" % n, name="doc%d" % n)
    add_doc(0)

    @app.tool()
    def rotate(n: int) -> str:
        """doc://N in place of doc://N-1."""
        app.remove_resource("doc://%d" % (n - 1))
        add_doc(n)
        return "rotated"

    @app.tool()
    def touch(n: int) -> str:
        """notifications/resources/updated for doc://N."""
        app.notify_resource_updated("doc://%d" % n)
        return "touched"

    @app.tool()
    def touch_uri(uri: str) -> str:
        """notifications/resources/updated for any URI (one of the template's, say)."""
        app.notify_resource_updated(uri)
        return "touched"

    @app.tool()
    def trace_id(ctx: Context) -> str:
        """The trace this call continues ("none" without one)."""
        return "none" if ctx.trace is None else ctx.trace.trace_id

    @app.tool()
    def crash() -> str:
        """The process dies at once, without an answer."""
        os._exit(3)

    @app.tool()
    def linked() -> list:
        """A resource link and an audio block: content of later protocol versions."""
        return [{"type": "resource_link", "uri": "doc://0", "name": "doc0"},
                {"type": "audio", "data": "UklGRg==", "mimeType": "audio/wav"}]

    return app


if __name__ == "__main__":
    make_odd_upstream().run()
