"""The schema check every test relies on must be able to fail."""

import pytest

from wire import schema_problem, schemas_dir

pytestmark = pytest.mark.skipif(schemas_dir() is None, reason=(
    "the official JSON Schemas are not beside this checkout (../shared/schemas); "
    "set MCPLITE_SCHEMAS to their folder to run these checks"))


def ok(result, rid=1):
    return {"jsonrpc": "2.0", "id": rid, "result": result}


@pytest.mark.parametrize("version, method, message", [
    ("2025-11-25", "tools/list", ok({"tools": [{"name": "t"}]})),  # no inputSchema
    ("2025-11-25", "tools/list", ok({"tools": [], "nextCursor": None})),  # null instead of absent
    ("2025-11-25", "tools/call", ok({"content": [{"type": "text"}]})),  # text block without text
    ("2025-03-26", "tools/call", ok({"content": [{"type": "resource_link", "uri": "u", "name": "n"}]})),
    ("2024-11-05", "tools/call", ok({"content": [{"type": "audio", "data": "", "mimeType": "audio/wav"}]})),
    ("2025-11-25", "initialize", ok({"protocolVersion": "2025-11-25", "capabilities": {}})),  # no serverInfo
    ("2026-07-28", "tools/list", ok({"tools": []})),  # no resultType, ttlMs, cacheScope
    ("2026-07-28", "server/discover", ok({"resultType": "complete", "supportedVersions": ["2026-07-28"],
                                          "capabilities": {}, "ttlMs": -1, "cacheScope": "public"})),
    ("2026-07-28", "resources/read", ok({"resultType": "complete", "contents": [], "ttlMs": 0,
                                         "cacheScope": "everyone"})),
    ("2025-11-25", None, {"jsonrpc": "2.0", "id": None, "error": {"code": -32601, "message": "m"}}),
    ("2025-11-25", None, {"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "m"}}),
    ("2025-11-25", None, {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}}),
])
def test_bad_messages_are_caught(version, method, message):
    assert schema_problem(message, version, method) is not None


@pytest.mark.parametrize("version, method, message", [
    ("2025-11-25", "tools/list", ok({"tools": [{"name": "t", "inputSchema": {"type": "object"}}]})),
    ("2026-07-28", "tools/list", ok({"tools": [], "resultType": "complete", "ttlMs": 0, "cacheScope": "public"})),
    ("2024-11-05", None, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}),
    ("2025-11-25", None, {"jsonrpc": "2.0", "method": "notifications/progress",
                          "params": {"progressToken": 0, "progress": 1}}),
])
def test_good_messages_pass(version, method, message):
    assert schema_problem(message, version, method) is None
