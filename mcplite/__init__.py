"""mcplite: a Model Context Protocol framework on the Python standard library alone.

    from mcplite import Server

    app = Server("demo")

    @app.tool()
    def add(a: int, b: int) -> int:
        "Add two integers."
        return a + b

    app.run()   # stdio
"""

# (No `from __future__ import annotations` here, unlike the other modules: Python 3.6 could not
# compile this file to be told, below, that it is too old.)
import sys
from typing import Any

# Before anything that would fail less clearly on an older Python (3.7's typing has no
# get_origin, 3.6's queue no SimpleQueue): one sentence, at import.
if sys.version_info < (3, 8):
    raise ImportError("mcplite needs Python 3.8 or newer; this is Python %d.%d.%d" % tuple(sys.version_info[:3]))

from .errors import (
    AuthorizationError, Cancelled, ConnectionClosed, HttpError, MCPError, ProtocolError, RequestTimeout,
    SessionLost, TaskCancelled, ToolError, TransportError, UrlElicitationRequired, VersionMismatch,
)
from .protocol import (
    LATEST_LEGACY_VERSION, LATEST_VERSION, LEGACY_VERSIONS, MODERN_VERSIONS, SUPPORTED_VERSIONS, TASKS_EXTENSION,
    audio, embedded_resource, image, resource_contents, resource_link, text,
)
from .context import Context
from .server import Server

__version__ = "0.1.0"

__all__ = [
    "Server", "Context", "ToolError", "MCPError", "Cancelled", "UrlElicitationRequired", "TASKS_EXTENSION",
    "text", "image", "audio", "resource_link", "embedded_resource", "resource_contents",
    "SUPPORTED_VERSIONS", "LEGACY_VERSIONS", "MODERN_VERSIONS", "LATEST_VERSION", "LATEST_LEGACY_VERSION",
    "AccessToken", "BearerAuth", "McpHttpApp", "HttpRequest", "HttpResponse", "Client", "RequestTimeout",
    "TransportError", "ConnectionClosed", "HttpError", "SessionLost", "ProtocolError", "OAuth", "AuthorizationError",
    "VersionMismatch", "MemoryTokenStorage", "FileTokenStorage", "TerminalAuthorizer", "Tracer", "TaskCancelled",
    "ES256Key",
    "Host", "ApprovalRequest", "ServerFailure", "PinChange", "ConfigWarning", "TraceContext", "use_trace",
    "current_trace", "ResultCache", "Skill", "SkillVerificationError", "SKILLS_EXTENSION", "UI_EXTENSION",
    "APP_MIME_TYPE", "AppView", "apps_extension", "read_app_view", "tool_view_uri", "tool_visible_to",
    "Store", "MemoryStore", "SqlStore", "SqliteStore", "StoreUnavailable", "StoreSchemaError",
    "PostgresStore", "inspect", "__version__",
]

# Bearer-token checks: an HTTP front with auth= loads them; a stdio server never does.
_LAZY_AUTH = ("AccessToken", "BearerAuth")
# W3C trace context: loaded by the first request that carries a traceparent, or by a program
# that asks for the current trace.
_LAZY_TRACECONTEXT = ("TraceContext", "current_trace", "use_trace")
# MCP Apps' constants: the module is loaded by the first view or ui= tool registered.
_LAZY_APPS = ("APP_MIME_TYPE", "UI_EXTENSION")
# The HTTP protocol layer, for front ends other than mcplite's own http.server one (a WSGI
# adapter, say). Imported on first use: a stdio server never pays for it.
_LAZY_HTTP = ("McpHttpApp", "HttpRequest", "HttpResponse")
# The client, likewise: a server never pays for subprocess and the client's machinery.
_LAZY_CLIENT = ("Client", "ResultCache")
_LAZY_OAUTH = ("OAuth", "MemoryTokenStorage", "FileTokenStorage", "TerminalAuthorizer")
_LAZY_TRACING = ("Tracer",)
_LAZY_ES256 = ("ES256Key",)
# The host (many servers, the model APIs' formats, approval, pins): loaded when asked for.
_LAZY_HOST = ("Host", "ApprovalRequest", "ServerFailure", "PinChange")
_LAZY_HOSTCONFIG = ("ConfigWarning",)
# The Skills extension (SEP-2640): loaded by the first skill served or loaded.
_LAZY_SKILLS = ("Skill", "SkillVerificationError", "SKILLS_EXTENSION")
# MCP Apps on the host's side: a tool's view fetched, checked, and its policy built.
_LAZY_APPVIEW = ("AppView", "apps_extension", "read_app_view", "tool_view_uri", "tool_visible_to")
# The state several worker processes share (Server(store=...)): loaded by a program that uses one.
_LAZY_STORES = ("Store", "MemoryStore", "SqlStore", "SqliteStore", "StoreUnavailable", "StoreSchemaError")
_LAZY_PGSTORE = ("PostgresStore",)
# The inspector (a web page on 127.0.0.1): the command line's, loaded when asked for.
_LAZY_INSPECTOR = ("inspect",)


def __getattr__(name: str) -> Any:
    if name in _LAZY_AUTH:
        from . import auth
        return getattr(auth, name)
    if name in _LAZY_TRACECONTEXT:
        from . import tracecontext
        return getattr(tracecontext, name)
    if name in _LAZY_APPS:
        from . import apps
        return getattr(apps, name)
    if name in _LAZY_HTTP:
        from . import httpapp
        return getattr(httpapp, name)
    if name in _LAZY_CLIENT:
        from . import client
        return getattr(client, name)
    if name in _LAZY_OAUTH:
        from . import oauth
        return getattr(oauth, name)
    if name in _LAZY_TRACING:
        from . import tracing
        return getattr(tracing, name)
    if name in _LAZY_ES256:
        from . import es256
        return getattr(es256, name)
    if name in _LAZY_HOST:
        from . import host
        return getattr(host, name)
    if name in _LAZY_HOSTCONFIG:
        from . import hostconfig
        return getattr(hostconfig, name)
    if name in _LAZY_SKILLS:
        from . import skills
        return getattr(skills, name)
    if name in _LAZY_APPVIEW:
        from . import appview
        return getattr(appview, name)
    if name in _LAZY_STORES:
        from . import stores
        return getattr(stores, name)
    if name in _LAZY_PGSTORE:
        from . import pgstore
        return getattr(pgstore, name)
    if name in _LAZY_INSPECTOR:
        from . import inspector
        return getattr(inspector, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
