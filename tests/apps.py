"""Servers the tests share."""

import threading
from typing import Dict, List, Optional

from mcplite import Context, Server, ToolError, audio, embedded_resource, image, resource_link, text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def make_app() -> Server:
    app = Server("testserver", version="2.0.0", instructions="For tests.", title="Test Server")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @app.tool(annotations={"readOnlyHint": True}, title="Echo")
    def echo(message: str) -> str:
        """Echo the message back."""
        return message

    @app.tool()
    def stats(values: List[float]) -> Dict[str, float]:
        """Sum and mean."""
        return {"sum": sum(values), "mean": sum(values) / len(values)}

    @app.tool()
    def untyped(x=1):
        return {"x": x}

    @app.tool()
    def fail(message: str = "boom") -> str:
        raise ValueError(message)

    @app.tool()
    def refuse() -> str:
        raise ToolError("not allowed today")

    @app.tool()
    def blocks() -> list:
        return [text("hello"), image(PNG), audio(b"RIFF0000WAVEfmt ", "audio/wav"),
                resource_link("test://doc", "doc"), embedded_resource("test://e", "inside")]

    @app.tool()
    def raw_bytes() -> bytes:
        return PNG

    @app.tool()
    def nothing() -> None:
        return None

    @app.tool()
    def wrong_output() -> int:
        return "not a number"  # type: ignore[return-value]

    @app.tool()
    def whoami(ctx: Context) -> dict:
        return {"id": ctx.request_id, "version": ctx.protocol_version, "client": ctx.client_info.get("name")}

    @app.resource("test://static", mime_type="text/plain", description="A static text.")
    def static() -> str:
        return "static text"

    @app.resource("test://json")
    def json_resource() -> dict:
        return {"a": 1}

    @app.resource("test://blob", mime_type="image/png")
    def blob() -> bytes:
        return PNG

    @app.resource("test://items/{item_id}", mime_type="text/plain")
    def item(item_id: int) -> str:
        return "item %d" % item_id

    @app.resource("test://maybe/{name}")
    def maybe(name: str) -> Optional[str]:
        return None if name == "missing" else "found " + name

    @app.resource("test://broken")
    def broken() -> str:
        raise RuntimeError("disk on fire")

    @app.prompt(description="Review some code.")
    def review(code: str, language: str = "python") -> str:
        return "Review this %s:\n%s" % (language, code)

    @app.prompt()
    def chat(topic: str) -> list:
        """A short conversation."""
        return [{"role": "user", "content": "Tell me about " + topic},
                {"role": "assistant", "content": "Gladly."}]

    @app.prompt()
    def repeat(times: int) -> str:
        return "x" * times

    return app


class Gate:
    """A tool that blocks until released, to test concurrency and cancellation."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.saw_cancel = threading.Event()


def make_slow_app(gate: Gate) -> Server:
    app = Server("slow")

    @app.tool()
    def wait(ctx: Context) -> str:
        gate.started.set()
        for _ in range(500):
            if ctx.cancelled:
                gate.saw_cancel.set()
                return "stopped"
            if gate.release.wait(0.01):
                break
        return "done"

    @app.tool()
    def quick() -> str:
        return "quick"

    return app
