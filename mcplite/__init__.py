"""mcplite: a Model Context Protocol framework on the Python standard library alone.

    from mcplite import Server

    app = Server("demo")

    @app.tool()
    def add(a: int, b: int) -> int:
        "Add two integers."
        return a + b

    app.run()   # stdio
"""

from .jsonrpc import MCPError
from .protocol import (
    LATEST_LEGACY_VERSION, LATEST_VERSION, LEGACY_VERSIONS, MODERN_VERSIONS, SUPPORTED_VERSIONS, audio,
    embedded_resource, image, resource_contents, resource_link, text,
)
from .server import Cancelled, Context, Server, ToolError

__version__ = "0.1.0"

__all__ = [
    "Server", "Context", "ToolError", "MCPError", "Cancelled",
    "text", "image", "audio", "resource_link", "embedded_resource", "resource_contents",
    "SUPPORTED_VERSIONS", "LEGACY_VERSIONS", "MODERN_VERSIONS", "LATEST_VERSION", "LATEST_LEGACY_VERSION",
    "__version__",
]
