"""MCP protocol facts: versions and eras, reserved ``_meta`` keys, content-block helpers.

No I/O and no state. The helpers return plain dicts exactly as they go on the wire.
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Union

# Legacy versions open a session with the `initialize` handshake; modern versions carry
# their version, capabilities and client identity in every request's `_meta`.
LEGACY_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS = ("2026-07-28",)
LATEST_LEGACY_VERSION = LEGACY_VERSIONS[-1]
LATEST_VERSION = MODERN_VERSIONS[-1]
# Newest first: the order a client should prefer them in.
SUPPORTED_VERSIONS = tuple(sorted(MODERN_VERSIONS + LEGACY_VERSIONS, reverse=True))

# Reserved `_meta` keys of 2026-07-28 (basic/index "Per-request protocol fields").
META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
META_SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"

# The tasks extension (SEP-2663): declared by a client under capabilities.extensions, in each
# 2026-07-28 request that may use it.
TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
# What a tool's ``task`` may say: a call may, or must, become a task.
TASK_SUPPORT = ("optional", "required")

# SEP-2133: an extension identifier is "{vendor-prefix}/{extension-name}", named by the rules
# of _meta keys "except that the prefix is mandatory": dot-separated labels that start with a
# letter and end with a letter or digit, then a name that starts and ends with a letter or
# digit and holds letters, digits, hyphens, underscores and dots.
_ID_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EXTENSION_ID = (r"^" + _ID_LABEL + r"(?:\." + _ID_LABEL + r")*"  # the vendor prefix
                r"/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")  # the extension's name

# Every request and notification method MCP defines, in any version and either direction: an
# application's own methods (extensions) may not take these names.
MCP_REQUEST_METHODS = frozenset((
    "initialize", "ping", "server/discover", "logging/setLevel", "tools/list", "tools/call",
    "resources/list", "resources/templates/list", "resources/read", "resources/subscribe",
    "resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete", "subscriptions/listen",
    "tasks/get", "tasks/update", "tasks/cancel", "tasks/list", "tasks/result",
    "sampling/createMessage", "elicitation/create", "roots/list",
))
MCP_NOTIFICATIONS = frozenset((
    "notifications/initialized", "notifications/cancelled", "notifications/progress", "notifications/message",
    "notifications/resources/updated", "notifications/resources/list_changed", "notifications/tools/list_changed",
    "notifications/prompts/list_changed", "notifications/roots/list_changed", "notifications/elicitation/complete",
    "notifications/tasks/status", "notifications/subscriptions/acknowledged",
))


def declares_tasks(capabilities: Any) -> bool:
    """Whether a request's client capabilities declare the tasks extension: "A server MUST NOT
    return CreateTaskResult to a client that did not include the extension capability on its
    request, regardless of prior declarations"."""
    extensions = capabilities.get("extensions") if isinstance(capabilities, dict) else None
    return isinstance(extensions, dict) and isinstance(extensions.get(TASKS_EXTENSION), dict)

# The two eras, by name (what ``Client.era`` says, and a connection decides once).
ERA_LEGACY = "legacy"
ERA_MODERN = "modern"

LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

# The protocol version each feature arrived in: code asks ``supports(version, feature)``
# instead of comparing dates itself. (Versions are ISO dates, so "arrived in or before" is a
# string comparison.)
FEATURES = {
    "audio": "2025-03-26",                   # audio content blocks
    "tool_annotations": "2025-03-26",
    "progress_message": "2025-03-26",        # notifications/progress "message"
    "completions_capability": "2025-03-26",  # completion/complete existed before its capability
    "titles": "2025-06-18",                  # "title" on tools, resources, prompts, implementations
    "structured_content": "2025-06-18",      # structuredContent and outputSchema
    "resource_links": "2025-06-18",          # resource_link content blocks
    "list_meta": "2025-06-18",               # _meta on the entries of list results
    "elicitation": "2025-06-18",
    "protocol_version_header": "2025-06-18",  # MCP-Protocol-Version on every HTTP request
    "icons": "2025-11-25",
    "implementation_details": "2025-11-25",  # description and websiteUrl of an implementation
    "url_elicitation": "2025-11-25",
    "sampling_tools": "2025-11-25",
    "sampling_context": "2025-11-25",        # the sampling.context capability for includeContext
    "sse_polling": "2025-11-25",             # SSE priming events, and closing a stream to resume later
    "origin_403": "2025-11-25",              # a bad Origin "MUST" get 403 (before: "MUST validate")
    "cache_hints": "2026-07-28",             # ttlMs and cacheScope on list, read and discover results (SEP-2549)
}
# Over Streamable HTTP, 2026-07-28 mirrors a request's name or URI into the Mcp-Name header:
# the methods that have one, and the params key it comes from. The tasks extension adds its
# own: "When tasks/get, tasks/update, or tasks/cancel is sent over the Streamable HTTP
# transport, the client MUST set the Mcp-Name header ... to the value of params.taskId."
MCP_NAME_PARAMS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri",
                   "tasks/get": "taskId", "tasks/update": "taskId", "tasks/cancel": "taskId"}
# "If no MCP-Protocol-Version header is received ... the server SHOULD assume protocol
# version 2025-03-26."
ASSUMED_HTTP_VERSION = "2025-03-26"
# JSON-RPC batches: in 2025-03-26 only (added then, removed in 2025-06-18).
BATCH_VERSIONS = ("2025-03-26",)


def supports(version: str, feature: str) -> bool:
    """Whether protocol ``version`` has ``feature`` (a key of ``FEATURES``)."""
    return version >= FEATURES[feature]


class _FeatureSets(Dict[str, FrozenSet[str]]):
    """``FEATURES_OF[version]``: the features ``version`` has, made from ``supports`` the
    first time a version is asked for (``__missing__``) and kept."""

    def __missing__(self, version: str) -> FrozenSet[str]:
        features = self[version] = frozenset(feature for feature in FEATURES if supports(version, feature))
        return features


# For the paths every request takes: ``feature in FEATURES_OF[version]`` asks the same table
# as supports() with no Python call once the version has been seen.
FEATURES_OF = _FeatureSets()

# Methods that exist only in one era. Anything else is shared.
LEGACY_ONLY_METHODS = frozenset((
    "initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe",
))
MODERN_ONLY_METHODS = frozenset(("server/discover", "subscriptions/listen"))


# ---------------------------------------------------------------------------
# Content blocks (tool results, prompt messages)

def _with_options(block: Dict[str, Any], annotations: Optional[Dict[str, Any]],
                  meta: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if annotations:
        block["annotations"] = annotations
    if meta:
        block["_meta"] = meta
    return block


def check_cache_hints(what: str, ttl_ms: Any, scope: Any) -> None:
    """ValueError unless ``ttl_ms`` is None or an int >= 0 ("Servers MUST provide a ttlMs
    value that is >= 0") and ``scope`` None, "public" or "private"."""
    if ttl_ms is not None and (type(ttl_ms) is not int or ttl_ms < 0):
        raise ValueError("%s: cache_ttl_ms must be None or an integer >= 0, not %r" % (what, ttl_ms))
    if scope is not None and scope not in ("public", "private"):
        raise ValueError("%s: cache_scope must be None, 'public' or 'private', not %r" % (what, scope))


def _b64(data: Union[bytes, str]) -> str:
    if isinstance(data, str):
        return data  # already base64
    import base64  # (where first used: base64 loads re and struct, and most servers send no bytes)
    return base64.b64encode(data).decode("ascii")


def text(value: str, *, annotations: Optional[Dict[str, Any]] = None,
         meta: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A text content block."""
    return _with_options({"type": "text", "text": value}, annotations, meta)


def image(data: Union[bytes, str], mime_type: str = "image/png", *,
          annotations: Optional[Dict[str, Any]] = None,
          meta: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """An image content block; ``data`` is raw bytes, or a str already in base64."""
    return _with_options({"type": "image", "data": _b64(data), "mimeType": mime_type}, annotations, meta)


def audio(data: Union[bytes, str], mime_type: str = "audio/wav", *,
          annotations: Optional[Dict[str, Any]] = None,
          meta: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """An audio content block (2025-03-26 and later); raw bytes or base64 text."""
    return _with_options({"type": "audio", "data": _b64(data), "mimeType": mime_type}, annotations, meta)


def resource_link(uri: str, name: Optional[str] = None, *, title: Optional[str] = None,
                  description: Optional[str] = None, mime_type: Optional[str] = None,
                  size: Optional[int] = None, annotations: Optional[Dict[str, Any]] = None,
                  meta: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A link to a resource (2025-06-18 and later); ``name`` defaults to the URI."""
    block = {"type": "resource_link", "uri": uri, "name": name if name is not None else uri}  # type: Dict[str, Any]
    if title is not None:
        block["title"] = title
    if description is not None:
        block["description"] = description
    if mime_type is not None:
        block["mimeType"] = mime_type
    if size is not None:
        block["size"] = size
    return _with_options(block, annotations, meta)


def resource_contents(uri: str, value: Union[str, bytes], mime_type: Optional[str] = None,
                      meta: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Text (str) or blob (bytes) resource contents, as in `resources/read` results."""
    contents = {"uri": uri}  # type: Dict[str, Any]
    if mime_type is not None:
        contents["mimeType"] = mime_type
    if isinstance(value, (bytes, bytearray)):
        contents["blob"] = _b64(bytes(value))
    else:
        contents["text"] = value
    if meta:
        contents["_meta"] = meta
    return contents


def embedded_resource(uri: str, value: Union[str, bytes], mime_type: Optional[str] = None, *,
                      annotations: Optional[Dict[str, Any]] = None,
                      meta: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A resource embedded in a result: text when ``value`` is str, a base64 blob when bytes."""
    block = {"type": "resource", "resource": resource_contents(uri, value, mime_type)}  # type: Dict[str, Any]
    return _with_options(block, annotations, meta)


CONTENT_TYPES = frozenset(("text", "image", "audio", "resource_link", "resource"))


def is_content_block(value: Any) -> bool:
    """Whether a dict is a content block: its type and the fields that type requires. (A
    data row that merely has a "type" key is data, not content.)"""
    if not isinstance(value, dict):
        return False
    kind = value.get("type")
    if kind == "text":
        return isinstance(value.get("text"), str)
    if kind == "image" or kind == "audio":
        return isinstance(value.get("data"), str) and isinstance(value.get("mimeType"), str)
    if kind == "resource_link":
        return isinstance(value.get("uri"), str) and isinstance(value.get("name"), str)
    if kind == "resource":
        inner = value.get("resource")
        return isinstance(inner, dict) and isinstance(inner.get("uri"), str) and ("text" in inner or "blob" in inner)
    return False


def content_for_version(blocks: Sequence[Dict[str, Any]], version: str) -> List[Dict[str, Any]]:
    """Rewrite content blocks that the negotiated version does not know.

    Audio arrived in 2025-03-26 and resource links in 2025-06-18; an older client's schema
    has no such block, so each becomes a text block that says what it was.
    """
    if supports(version, "resource_links"):
        return list(blocks)
    out = []
    for block in blocks:
        kind = block.get("type")
        if kind == "resource_link":
            out.append({"type": "text", "text": "resource: %s" % block.get("uri")})
        elif kind == "audio" and not supports(version, "audio"):
            out.append({"type": "text", "text": "[audio content (%s) omitted: needs protocol 2025-03-26]"
                        % block.get("mimeType")})
        else:
            out.append(block)
    return out
