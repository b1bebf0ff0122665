"""MCP Apps (``io.modelcontextprotocol/ui``, SEP-1865, stable 2026-01-26): interactive HTML
views a host renders for a tool's results, in a sandboxed iframe.

A view is a resource under the ``ui://`` scheme whose content is an HTML document of MIME type
``text/html;profile=mcp-app``; its ``_meta.ui`` carries what the host needs to sandbox it
(``csp``: the origins it may reach, ``permissions``: camera, microphone, geolocation,
clipboardWrite; ``domain``; ``prefersBorder``). A tool names its view in ``_meta.ui``
(``resourceUri``, and ``visibility``: who may call it, ``"model"`` and/or ``"app"``).
``Server.ui_resource`` and ``Server.tool(ui=...)`` build both from plain arguments; the
settings are the wire's own names, so what is written is what the host reads.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Union

UI_EXTENSION = "io.modelcontextprotocol/ui"
# What mcplite writes, always this spelling; what it reads is compared by is_app_mime_type.
APP_MIME_TYPE = "text/html;profile=mcp-app"
# A media type as RFC 9110 §8.3.1 and §5.6.6 write it: type "/" subtype, then
# *( OWS ";" OWS [ name "=" value ] ), the value a token or a quoted-string, "no whitespace is
# allowed between the '=' and either the parameter name or value". Read one parameter at a
# time (each step takes a ";", its parameter and the whitespace after it): one pattern
# repeating an optional part between runs of whitespace would backtrack exponentially on a
# long string from a peer that fails at its end.
_MEDIA_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# (Pattern texts: compiled on first use, through re's own cache. Compiling them when the
# package is imported cost a third of a millisecond of every program's start-up.)
_MEDIA_HEAD = r"[ \t]*(%s)/(%s)[ \t]*" % (_MEDIA_TOKEN, _MEDIA_TOKEN)
_MEDIA_PARAM = r""";[ \t]*(?:(%s)=(%s|"(?:[^"\\\r\n]|\\[^\r\n])*"))?[ \t]*""" % (_MEDIA_TOKEN,
                                                                                  _MEDIA_TOKEN)
_UI_CSP_KEYS = ("connectDomains", "resourceDomains", "frameDomains", "baseUriDomains")
_UI_PERMISSIONS = ("camera", "microphone", "geolocation", "clipboardWrite")
_UI_VISIBILITY = ("model", "app")


def check_ui_uri(uri: Any) -> str:
    if not isinstance(uri, str) or not uri.startswith("ui://") or len(uri) <= len("ui://"):
        # "URI MUST start with `ui://` scheme"
        raise ValueError("a UI resource's URI starts with 'ui://', not %r" % (uri,))
    return uri


def view_meta(csp: Optional[Dict[str, Any]] = None,
              permissions: Union[None, Iterable[str], Dict[str, Any]] = None,
              domain: Optional[str] = None, prefers_border: Optional[bool] = None) -> Dict[str, Any]:
    """The ``_meta.ui`` object of a view (only the settings given; ValueError for others)."""
    ui = {}  # type: Dict[str, Any]
    if csp is not None:
        if not isinstance(csp, dict):
            raise TypeError("csp is a dict of %s, each a list of origins" % ", ".join(_UI_CSP_KEYS))
        unknown = sorted(set(csp) - set(_UI_CSP_KEYS))
        if unknown:
            raise ValueError("csp: unknown key(s) %s (known: %s)" % (", ".join(unknown), ", ".join(_UI_CSP_KEYS)))
        for key, origins in csp.items():
            if isinstance(origins, str) or not all(isinstance(o, str) and o for o in origins):
                raise ValueError("csp[%r] is a list of origins (strings), not %r" % (key, origins))
        ui["csp"] = {key: list(origins) for key, origins in csp.items()}
    if permissions is not None:
        names = list(permissions) if not isinstance(permissions, str) else [permissions]
        unknown = sorted(set(names) - set(_UI_PERMISSIONS))
        if unknown:
            raise ValueError("permissions: unknown %s (known: %s)" % (", ".join(unknown), ", ".join(_UI_PERMISSIONS)))
        # On the wire each permission asked for is an empty object.
        ui["permissions"] = {name: {} for name in names}
    if domain is not None:
        if not isinstance(domain, str) or not domain:
            raise ValueError("domain is a non-empty string (its format is the host's)")
        ui["domain"] = domain
    if prefers_border is not None:
        if not isinstance(prefers_border, bool):
            raise TypeError("prefers_border is True or False")
        ui["prefersBorder"] = prefers_border
    return ui


def tool_ui_meta(ui: Union[str, Dict[str, Any]]) -> Dict[str, Any]:
    """The ``_meta.ui`` of a tool from ``ui``: a view's URI, or the whole object
    (``{"resourceUri": ..., "visibility": ["app"]}``)."""
    value = {"resourceUri": ui} if isinstance(ui, str) else dict(ui) if isinstance(ui, dict) else None
    if value is None:
        raise TypeError("ui is a ui:// URI or a dict with 'resourceUri' (and 'visibility'), not %r" % (ui,))
    check_ui_uri(value.get("resourceUri"))
    if "visibility" in value:
        visibility = value["visibility"]
        if (isinstance(visibility, str) or not isinstance(visibility, (list, tuple)) or not visibility
                or any(v not in _UI_VISIBILITY for v in visibility)):
            raise ValueError("ui visibility is a non-empty list of 'model' and/or 'app', not %r" % (visibility,))
        value["visibility"] = list(visibility)
    return value


def is_app_mime_type(value: Any) -> bool:
    """Whether ``value`` is the MIME type of an MCP App's view, ``text/html;profile=mcp-app``,
    however it is spelled: type, subtype and parameter names compare case-insensitively,
    whitespace may surround ";", the value may be quoted (RFC 9110 §8.3.1), and other
    parameters (a charset) may stand beside it. The profile's value is compared exactly, and
    must be given once."""
    if not isinstance(value, str):
        return False
    head = re.match(_MEDIA_HEAD, value)
    if head is None or head.group(1).lower() != "text" or head.group(2).lower() != "html":
        return False
    profiles = []  # type: List[str]
    position = head.end()
    parameter_pattern = re.compile(_MEDIA_PARAM)
    while position < len(value):
        parameter = parameter_pattern.match(value, position)
        if parameter is None:
            return False
        name, raw = parameter.group(1), parameter.group(2)
        if name is not None and name.lower() == "profile":
            # A quoted-string's value is its text with each quoted-pair's backslash taken off.
            profiles.append(re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw)
        position = parameter.end()
    return profiles == ["mcp-app"]


def client_supports_apps(capabilities: Any) -> bool:
    """Whether a client's capabilities declare MCP Apps with HTML views (its
    ``extensions["io.modelcontextprotocol/ui"].mimeTypes`` holding the app MIME type): what a
    server "SHOULD check ... before registering UI-enabled tools"."""
    extensions = capabilities.get("extensions") if isinstance(capabilities, dict) else None
    settings = extensions.get(UI_EXTENSION) if isinstance(extensions, dict) else None
    mime_types = settings.get("mimeTypes") if isinstance(settings, dict) else None
    return isinstance(mime_types, list) and any(is_app_mime_type(m) for m in mime_types)
