"""mcplite: a Model Context Protocol framework on the Python standard library alone.

    from mcplite import Server

    app = Server("demo")

    @app.tool()
    def add(a: int, b: int) -> int:
        "Add two integers."
        return a + b

    app.run()   # stdio
"""

from typing import Any

from .auth import AccessToken, BearerAuth
from .asking import UrlElicitationRequired
from .jsonrpc import ConnectionClosed, MCPError
from .protocol import (
    LATEST_LEGACY_VERSION, LATEST_VERSION, LEGACY_VERSIONS, MODERN_VERSIONS, SUPPORTED_VERSIONS, audio,
    embedded_resource, image, resource_contents, resource_link, text,
)
from .server import Cancelled, Context, Server, ToolError

__version__ = "0.1.0"

__all__ = [
    "Server", "Context", "ToolError", "MCPError", "Cancelled", "UrlElicitationRequired",
    "text", "image", "audio", "resource_link", "embedded_resource", "resource_contents",
    "SUPPORTED_VERSIONS", "LEGACY_VERSIONS", "MODERN_VERSIONS", "LATEST_VERSION", "LATEST_LEGACY_VERSION",
    "AccessToken", "BearerAuth", "McpHttpApp", "HttpRequest", "HttpResponse", "Client", "RequestTimeout",
    "ConnectionClosed", "HttpError", "OAuth", "AuthorizationError", "MemoryTokenStorage", "FileTokenStorage",
    "TerminalAuthorizer", "Tracer",
    "__version__",
]

# The HTTP protocol layer, for front ends other than mcplite's own http.server one (a WSGI
# adapter, say). Imported on first use: a stdio server never pays for it.
_LAZY_HTTP = ("McpHttpApp", "HttpRequest", "HttpResponse")
# The client, likewise: a server never pays for subprocess and the client's machinery.
_LAZY_CLIENT = ("Client", "RequestTimeout")
_LAZY_HTTP_CLIENT = ("HttpError",)
_LAZY_OAUTH = ("OAuth", "AuthorizationError", "MemoryTokenStorage", "FileTokenStorage", "TerminalAuthorizer")
_LAZY_TRACING = ("Tracer",)


def __getattr__(name: str) -> Any:
    if name in _LAZY_HTTP:
        from . import httpapp
        return getattr(httpapp, name)
    if name in _LAZY_CLIENT:
        from . import client
        return getattr(client, name)
    if name in _LAZY_HTTP_CLIENT:
        from . import httpclient
        return getattr(httpclient, name)
    if name in _LAZY_OAUTH:
        from . import oauth
        return getattr(oauth, name)
    if name in _LAZY_TRACING:
        from . import tracing
        return getattr(tracing, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
