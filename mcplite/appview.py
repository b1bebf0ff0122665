"""MCP Apps on the host's side (``io.modelcontextprotocol/ui``, SEP-1865): what a host needs
to render a tool's view safely, with no browser code of its own.

A host declares HTML views with ``Client(extensions=apps_extension())``. A tool with a view
names it in ``_meta.ui.resourceUri``; ``read_app_view(client, tool)`` fetches it ("Host MUST
use resources/read to fetch the referenced resource URI"), checks it is one ("mimeType MUST be
text/html;profile=mcp-app"), and returns the HTML with the ``Content-Security-Policy`` and the
iframe ``allow`` list built from its ``_meta.ui``: "Host MUST construct CSP headers based on
declared domains" and "MUST NOT allow undeclared domains". Rendering it (a sandboxed iframe on
an origin other than the host's) and relaying its postMessage JSON-RPC are the host's UI.

An origin a server declares is written into the policy only if it is one source expression
(a scheme, host or ``*.`` wildcard host, port): a quote, a semicolon or a space would let a
server write its own policy, so such a view is refused with ``ValueError``.
"""

from __future__ import annotations

import re
from typing import Any, Dict, NamedTuple, Optional, Union

from .apps import APP_MIME_TYPE, UI_EXTENSION, check_ui_uri, is_app_mime_type

# "If ui.csp is omitted, Host MUST use" this policy; declared domains only add to it.
_BASE_CSP = (("default-src", ["'none'"]), ("script-src", ["'self'", "'unsafe-inline'"]),
                  ("style-src", ["'self'", "'unsafe-inline'"]), ("img-src", ["'self'", "data:"]),
                  ("font-src", ["'self'"]), ("media-src", ["'self'", "data:"]), ("connect-src", ["'none'"]),
                  ("frame-src", ["'none'"]), ("base-uri", ["'self'"]))
# Which directives each declared list opens ("Maps to CSP img-src, script-src, style-src,
# font-src, media-src directives" for resourceDomains, and so on).
_CSP_TARGETS = {"connectDomains": ("connect-src",),
                     "resourceDomains": ("img-src", "script-src", "style-src", "font-src", "media-src"),
                     "frameDomains": ("frame-src",), "baseUriDomains": ("base-uri",)}
# One CSP host-source: scheme://host[:port][/path], the host possibly "*.example.com".
_SOURCE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::(?:\d{1,5}|\*))?"
                          r"(?:/[A-Za-z0-9._~/%-]*)?$")
_PERMISSIONS = {"camera": "camera", "microphone": "microphone", "geolocation": "geolocation",
                     "clipboardWrite": "clipboard-write"}


class AppView(NamedTuple):
    """A tool's view, ready for a sandboxed iframe: ``html`` (the document), ``csp`` (the
    ``Content-Security-Policy`` to serve it with), ``allow`` (the iframe's ``allow``
    attribute: the permissions it asked for, which a host MAY grant), ``domain`` and
    ``prefers_border`` as declared (None when not), and ``ui``: the view's ``_meta.ui``."""
    uri: str
    html: str
    csp: str
    allow: str
    domain: Optional[str]
    prefers_border: Optional[bool]
    ui: Dict[str, Any]


def apps_extension() -> Dict[str, Dict[str, Any]]:
    """``Client(extensions=apps_extension())``: the client renders HTML views (a server
    "SHOULD check" this before registering UI-enabled tools)."""
    return {UI_EXTENSION: {"mimeTypes": [APP_MIME_TYPE]}}


def tool_view_uri(tool: Dict[str, Any]) -> Optional[str]:
    """The ``ui://`` URI of a tool's view (``_meta.ui.resourceUri``, else the deprecated flat
    ``_meta["ui/resourceUri"]``), or None for a tool without one."""
    meta = tool.get("_meta") if isinstance(tool, dict) else None
    if not isinstance(meta, dict):
        return None
    ui = meta.get("ui")
    uri = ui.get("resourceUri") if isinstance(ui, dict) else None
    if uri is None:
        uri = meta.get("ui/resourceUri")
    return uri if isinstance(uri, str) and uri.startswith("ui://") else None


def tool_visible_to(tool: Dict[str, Any], who: str) -> bool:
    """Whether ``who`` ("model" or "app") may see and call ``tool``: "visibility defaults to
    ["model", "app"]"; a host "MUST NOT include tools in the agent's tool list when their
    visibility does not include "model"" and "MUST reject tools/call requests from apps for
    tools that don't include "app""."""
    if who not in ("model", "app"):
        raise ValueError("who is 'model' or 'app', not %r" % (who,))
    meta = tool.get("_meta") if isinstance(tool, dict) else None
    ui = meta.get("ui") if isinstance(meta, dict) else None
    visibility = ui.get("visibility") if isinstance(ui, dict) else None
    return not isinstance(visibility, list) or who in visibility


def app_view_csp(ui: Optional[Dict[str, Any]]) -> str:
    """The ``Content-Security-Policy`` of a view whose ``_meta.ui`` is ``ui``: the spec's
    restrictive default, opened only to the origins declared. ValueError for an origin that
    is not one plain source expression."""
    directives = [(name, list(values)) for name, values in _BASE_CSP]
    table = dict(directives)
    csp = ui.get("csp") if isinstance(ui, dict) else None
    if csp is not None and not isinstance(csp, dict):
        raise ValueError("_meta.ui.csp is an object, not %r" % (csp,))
    for key, origins in (csp or {}).items():
        targets = _CSP_TARGETS.get(key)
        if targets is None:
            continue  # a later key this host does not know opens nothing ("MAY further restrict")
        if not isinstance(origins, list):
            raise ValueError("_meta.ui.csp.%s is a list of origins, not %r" % (key, origins))
        for origin in origins:
            # fullmatch: the pattern's "$" alone would let a final line break through, into
            # a policy a host sends as a header.
            if not isinstance(origin, str) or not _SOURCE.fullmatch(origin):
                raise ValueError("_meta.ui.csp.%s: %r is not an origin a policy can hold" % (key, origin))
            for name in targets:
                values = table[name]
                if values == ["'none'"]:
                    values.clear()  # 'none' with a source would be ignored, and reads wrong
                if origin not in values:
                    values.append(origin)
    return "; ".join("%s %s" % (name, " ".join(values)) for name, values in directives)


def app_view_allow(ui: Optional[Dict[str, Any]]) -> str:
    """The iframe ``allow`` attribute for the permissions a view asked for (known ones only)."""
    permissions = ui.get("permissions") if isinstance(ui, dict) else None
    if not isinstance(permissions, dict):
        return ""
    return "; ".join(_PERMISSIONS[name] for name in _PERMISSIONS if name in permissions)


def read_app_view(client: Any, tool: Union[str, Dict[str, Any]], timeout: Optional[float] = None) -> AppView:
    """Fetch the view of ``tool`` (a tool dict from ``tools/list``, or a ``ui://`` URI) with
    ``client.read_resource``. ValueError when the tool has no view or what came back is not
    one (no ``ui://`` URI, another MIME type, no HTML, a policy that cannot be built)."""
    uri = tool if isinstance(tool, str) else tool_view_uri(tool)
    if uri is None:
        raise ValueError("tool %r has no view (_meta.ui.resourceUri)" % (tool.get("name") if isinstance(tool, dict)
                                                                         else tool,))
    check_ui_uri(uri)
    result = client.read_resource(uri, timeout=timeout)
    contents = result.get("contents") if isinstance(result, dict) else None
    entries = [c for c in contents or [] if isinstance(c, dict) and c.get("uri") == uri] or list(contents or [])
    if not entries or not isinstance(entries[0], dict):
        raise ValueError("resources/read of %s returned no contents" % uri)
    entry = entries[0]
    if not is_app_mime_type(entry.get("mimeType")):
        raise ValueError("%s is %r, not a view (%s)" % (uri, entry.get("mimeType"), APP_MIME_TYPE))
    html = entry.get("text")
    if not isinstance(html, str):
        blob = entry.get("blob")
        if not isinstance(blob, str):
            raise ValueError("%s has neither text nor blob" % uri)
        import base64
        import binascii
        try:
            html = base64.b64decode(blob, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise ValueError("%s: its blob is not base64 of UTF-8 HTML (%s)" % (uri, exc)) from None
    meta = entry.get("_meta")
    ui = meta.get("ui") if isinstance(meta, dict) else None
    ui = dict(ui) if isinstance(ui, dict) else {}
    domain = ui.get("domain")
    border = ui.get("prefersBorder")
    return AppView(uri, html, app_view_csp(ui), app_view_allow(ui), domain if isinstance(domain, str) else None,
                   border if isinstance(border, bool) else None, ui)

