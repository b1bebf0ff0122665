"""Test helpers: drive a Server through the in-memory pair and check every message it
emits against the official JSON Schema of the protocol version in use.

The schemas are data from the specification repository; they are read from
``$MCPLITE_SCHEMAS`` or ``../shared/schemas`` beside the checkout, never copied here.
"""

import json
import os
from typing import Any, Dict, List, Optional

import pytest

from mcplite.schema import compile_schema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODERN = "2026-07-28"


def schemas_dir() -> Optional[str]:
    candidates = [os.environ.get("MCPLITE_SCHEMAS"), os.path.join(ROOT, "..", "shared", "schemas")]
    for path in candidates:
        if path and os.path.isfile(os.path.join(path, "2025-11-25.json")):
            return path
    return None


_documents = {}  # type: Dict[str, Any]
_validators = {}  # type: Dict[Any, Any]


def _document(version: str) -> Any:
    if version not in _documents:
        path = schemas_dir()
        if path is None:
            return None
        with open(os.path.join(path, version + ".json")) as f:
            _documents[version] = json.load(f)
    return _documents[version]


def definition_validator(version: str, name: str):
    """A validator for one definition of the official schema, or None without schemas."""
    key = (version, name)
    if key not in _validators:
        doc = _document(version)
        if doc is None:
            return None
        section = "$defs" if "$defs" in doc else "definitions"
        if name not in doc[section]:
            raise KeyError("%s has no definition %s" % (version, name))
        _validators[key] = compile_schema({"$ref": "#/%s/%s" % (section, name)}, root=doc)
    return _validators[key]


RESULT_DEFINITIONS = {
    "initialize": "InitializeResult",
    "ping": "EmptyResult",
    "logging/setLevel": "EmptyResult",
    "subscriptions/listen": "SubscriptionsListenResult",
    "server/discover": "DiscoverResult",
    "tools/list": "ListToolsResult",
    "tools/call": "CallToolResult",
    "resources/list": "ListResourcesResult",
    "resources/templates/list": "ListResourceTemplatesResult",
    "resources/read": "ReadResourceResult",
    "prompts/list": "ListPromptsResult",
    "prompts/get": "GetPromptResult",
    "completion/complete": "CompleteResult",
    "resources/subscribe": "EmptyResult",
    "resources/unsubscribe": "EmptyResult",
    # The tasks extension (SEP-2663) is not in the protocol's schema: its results are
    # checked as results here, and their own shapes in tests/test_tasks.py.
    "tasks/get": "Result",
    "tasks/update": "Result",
    "tasks/cancel": "Result",
}

# Requests the server sends the client (legacy era only).
SERVER_REQUEST_DEFINITIONS = {
    "sampling/createMessage": "CreateMessageRequest",
    "elicitation/create": "ElicitRequest",
    "roots/list": "ListRootsRequest",
    "ping": "PingRequest",
}

NOTIFICATION_DEFINITIONS = {
    "notifications/progress": "ProgressNotification",
    "notifications/message": "LoggingMessageNotification",
    "notifications/tools/list_changed": "ToolListChangedNotification",
    "notifications/prompts/list_changed": "PromptListChangedNotification",
    "notifications/resources/list_changed": "ResourceListChangedNotification",
    "notifications/resources/updated": "ResourceUpdatedNotification",
    "notifications/subscriptions/acknowledged": "SubscriptionsAcknowledgedNotification",
    "notifications/elicitation/complete": "ElicitationCompleteNotification",
    "notifications/cancelled": "CancelledNotification",
}


def schema_problem(message: Any, version: str, method: Optional[str] = None) -> Optional[str]:
    """Why ``message`` (sent by the server, in ``version``) breaks the official schema, or None."""
    if _document(version) is None:
        return None
    if "error" in message:
        if message.get("id") is None and message["error"].get("code") in (-32700, -32600):
            # JSON-RPC 2.0 section 5: an error about a message whose id could not be read
            # carries "id": null. The issue asks for exactly that; the 2024-11-05..2025-06-18
            # schemas have no way to express it.
            doc = _document(version)
            pointer = "#/$defs/Error" if "$defs" in doc else "#/definitions/JSONRPCError/properties/error"
            return compile_schema({"$ref": pointer}, root=doc)(message["error"])
        name = "JSONRPCError" if version < "2025-11-25" else "JSONRPCErrorResponse"
        return definition_validator(version, name)(message)
    if "result" in message:
        envelope = "JSONRPCResponse" if version < "2025-11-25" else "JSONRPCResultResponse"
        problem = definition_validator(version, envelope)(message)
        if problem:
            return problem
        if method is not None:
            result_type = message["result"].get("resultType") if version >= MODERN else None
            name = {"input_required": "InputRequiredResult", "task": "Result"}.get(
                result_type, RESULT_DEFINITIONS[method])
            problem = definition_validator(version, name)(message["result"])
            if problem:
                return "%s: %s" % (name, problem)
        return None
    if "id" in message:
        name = SERVER_REQUEST_DEFINITIONS.get(message.get("method"))
        if name is None or version >= MODERN:
            return "unexpected server request %r" % message.get("method")
        return definition_validator(version, name)(message)
    name = NOTIFICATION_DEFINITIONS.get(message.get("method"))
    if name is None:
        return "unexpected server notification %r" % message.get("method")
    return definition_validator(version, name)(message)


class Wire:
    """A client end that remembers the negotiated version and checks every message received."""

    def __init__(self, app: Any, max_workers: Optional[int] = None) -> None:
        # Imported here, not at the top: the schema checks (schema_problem) serve the tests of
        # a one-file build without the in-memory connection too (scripts/test_vendored --parts).
        from mcplite.memory import MemoryConnection
        self.conn = MemoryConnection(app, max_workers=max_workers)
        self.version = None  # type: Optional[str]
        self.checked = 0

    def close(self) -> None:
        self.conn.close()

    def check(self, message: Any, method: Optional[str] = None, version: Optional[str] = None) -> Any:
        problem = schema_problem(message, version or self.version or "2025-11-25", method)
        assert problem is None, "server sent a message that breaks the %s schema: %s\n%s" % (
            version or self.version, problem, json.dumps(message))
        self.checked += 1
        return message

    def initialize(self, version: str = "2025-11-25", capabilities: Optional[Dict[str, Any]] = None,
                   client_info: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        response = self.conn.request("initialize", {
            "protocolVersion": version,
            "capabilities": capabilities or {},
            "clientInfo": client_info or {"name": "tests", "version": "0"},
        })
        self.version = response["result"]["protocolVersion"]
        self.check(response, "initialize")
        self.conn.notify("notifications/initialized")
        return response

    def request(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = None) -> Dict[str, Any]:
        response = self.conn.request(method, params, id=id)
        return self.check(response, method)

    def modern(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = None,
               version: str = MODERN, capabilities: Optional[Dict[str, Any]] = None,
               log_level: Optional[str] = None, **meta: Any) -> Dict[str, Any]:
        params = dict(params or {})
        envelope = {
            "io.modelcontextprotocol/protocolVersion": version,
            "io.modelcontextprotocol/clientCapabilities": capabilities or {},
            "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "0"},
        }  # type: Dict[str, Any]
        if log_level is not None:
            envelope["io.modelcontextprotocol/logLevel"] = log_level
        envelope.update(meta)
        params["_meta"] = envelope
        response = self.conn.request(method, params, id=id)
        return self.check(response, method, MODERN)

    def notifications(self, version: Optional[str] = None) -> List[Dict[str, Any]]:
        """Messages that arrived besides responses (checked), oldest first; clears them."""
        out = self.conn.received + self.conn.pending_messages()
        self.conn.received = []
        for message in out:
            self.check(message, None, version)
        return out


@pytest.fixture
def wire_factory():
    made = []  # type: List[Wire]

    def make(app: Any, **kwargs: Any) -> Wire:
        wire = Wire(app, **kwargs)
        made.append(wire)
        return wire
    yield make
    for wire in made:
        wire.close()
