"""What a handler's return value becomes on the wire: a tool's ``CallToolResult`` (content
blocks, structured content checked against the output schema), a resource's ``contents``, a
prompt's messages, a completion. Pure functions of the value and the protocol version.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from .errors import MCPError
from .jsonrpc import INTERNAL_ERROR
from .logs import LazyLogger
from .protocol import FEATURES_OF, content_for_version, is_content_block, resource_contents, supports, text
from .schema import to_json

_results_log = LazyLogger("mcplite.server")


_BLOB_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image", "image/png"),
    (b"\xff\xd8\xff", "image", "image/jpeg"),
    (b"GIF87a", "image", "image/gif"),
    (b"GIF89a", "image", "image/gif"),
    (b"OggS", "audio", "audio/ogg"),
    (b"ID3", "audio", "audio/mpeg"),
    (b"fLaC", "audio", "audio/flac"),
)


def _blob_block(data: bytes, tool_name: str) -> Dict[str, Any]:
    """bytes returned by a tool: an image or audio block when the bytes say which, else an
    embedded binary resource."""
    import base64  # (where first used, as in protocol)
    encoded = base64.b64encode(data).decode("ascii")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return {"type": "image", "data": encoded, "mimeType": "image/webp"}
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return {"type": "audio", "data": encoded, "mimeType": "audio/wav"}
    for signature, kind, mime in _BLOB_SIGNATURES:
        if data.startswith(signature):
            return {"type": kind, "data": encoded, "mimeType": mime}
    return {"type": "resource", "resource": {
        "uri": "mcplite://result/%s" % tool_name, "mimeType": "application/octet-stream", "blob": encoded}}


# One encoder, built once (json.dumps with options builds a new one per call). The text
# copy of structured results reads like Python's default json.dumps output.
_text_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_encode_json_string = json.encoder.encode_basestring  # (what that encoder does with a str)


def _json_text(value: Any) -> str:
    # The commonest tool results, an int or a str, spelt as the encoder spells them
    # (int.__repr__, encode_basestring) without starting an encoding run: ~2 us a call.
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is str:
        return _encode_json_string(value)
    return _text_encoder.encode(value)


def completion_result(value: Any) -> Dict[str, Any]:
    """A completion function's return value as a ``completion`` object: "values" holds
    "Maximum 100 items per response"; ``total`` and ``hasMore`` tell what was cut."""
    total = has_more = None
    if isinstance(value, dict):
        total = value.get("total")
        has_more = value.get("hasMore")
        value = value.get("values")
    values = list(value) if value is not None else []
    if not all(isinstance(v, str) for v in values):
        raise MCPError(INTERNAL_ERROR, "a completion function must return strings")
    if total is None:
        total = len(values)
    if has_more is None:
        has_more = total > min(len(values), 100)
    return {"values": values[:100], "total": total, "hasMore": bool(has_more)}


def tool_error(message: str) -> Dict[str, Any]:
    """A tool execution error: a result the model can read, not a protocol error."""
    return {"content": [text(message)], "isError": True}


def _content_from_value(value: Any, tool_name: str) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """(content blocks, structuredContent) for a tool without an output schema."""
    if value is None:
        return [], None
    if isinstance(value, str):
        return [text(value)], None
    if isinstance(value, (bytes, bytearray)):
        return [_blob_block(bytes(value), tool_name)], None
    if is_content_block(value):
        return [value], None
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (str, bytes, bytearray)) or is_content_block(v) for v in value):
        blocks = []
        for item in value:
            if isinstance(item, str):
                blocks.append(text(item))
            elif isinstance(item, (bytes, bytearray)):
                blocks.append(_blob_block(bytes(item), tool_name))
            else:
                blocks.append(item)
        return blocks, None
    data = to_json(value)
    # structuredContent must be an object before 2026-07-28; any other value is wrapped.
    structured = data if isinstance(data, dict) else {"result": data}
    return [text(_json_text(data))], structured


def _is_contents(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("uri"), str)
            and ("text" in value or "blob" in value)
            and set(value) <= {"uri", "mimeType", "text", "blob", "_meta"})


def resource_contents_of(uri: str, value: Any, mime_type: Optional[str]) -> List[Dict[str, Any]]:
    if _is_contents(value):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(_is_contents(v) for v in value):
        return list(value)
    if isinstance(value, str):
        return [resource_contents(uri, value, mime_type or "text/plain")]
    if isinstance(value, (bytes, bytearray)):
        return [resource_contents(uri, bytes(value), mime_type or "application/octet-stream")]
    return [resource_contents(uri, _json_text(to_json(value)), mime_type or "application/json")]


def prompt_messages(value: Any, version: str) -> List[Dict[str, Any]]:
    items = value if isinstance(value, (list, tuple)) else [value]
    messages = []  # type: List[Dict[str, Any]]
    for item in items:
        if isinstance(item, str):
            messages.append({"role": "user", "content": text(item)})
        elif is_content_block(item):
            messages.append({"role": "user", "content": item})
        elif isinstance(item, dict) and item.get("role") in ("user", "assistant") and "content" in item:
            content = item["content"]
            if isinstance(content, str):
                content = text(content)
            elif not is_content_block(content):
                raise MCPError(INTERNAL_ERROR, "prompt returned a message whose content is not a content block")
            messages.append({"role": item["role"], "content": content})
        else:
            raise MCPError(INTERNAL_ERROR, "prompt returned %s; expected a str, a message "
                                           "{'role', 'content'} or a list of them" % type(item).__name__)
    for message in messages:
        message["content"] = content_for_version([message["content"]], version)[0]
    return messages


def tool_result(tool: Any, value: Any, version: str) -> Dict[str, Any]:
    """A tool's return value as its ``CallToolResult`` for protocol ``version``."""
    if getattr(tool.fn, "_mcplite_forwarded", False):
        # A mounted upstream's tool (gateway.py): its result is already a CallToolResult,
        # checked against its output schema by the upstream, and passed through unchanged -
        # but for content blocks the client's version has no type for (the upstream spoke a
        # later one), rewritten as the front's own tools' are.
        content = value.get("content") if isinstance(value, dict) else None
        if isinstance(content, list) and not supports(version, "resource_links") and all(
                isinstance(block, dict) for block in content):
            value = dict(value, content=content_for_version(content, version))
        return value  # type: ignore[no-any-return]
    if tool.output_schema is not None:
        data = to_json(value)
        structured = {"result": data} if tool.wrap_output else data
        problem = tool.check_output(structured)
        if problem is not None:
            _results_log.error("tool %s returned a value that does not match its output schema: %s",
                               tool.name, problem)
            # "Servers MUST provide structured results that conform to this schema."
            return tool_error("Tool %s returned a result that does not match its output schema: %s"
                              % (tool.name, problem))
        result = {"content": [{"type": "text", "text": _json_text(data)}]}  # type: Dict[str, Any]
        if "structured_content" in FEATURES_OF[version]:  # (the feature table, with no call)
            result["structuredContent"] = structured
        return result
    content, structured = _content_from_value(value, tool.name)
    result = {"content": content_for_version(content, version)}
    if structured is not None and "structured_content" in FEATURES_OF[version]:
        result["structuredContent"] = structured
    return result
