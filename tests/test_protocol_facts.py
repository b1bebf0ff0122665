"""The protocol facts kept in one place (protocol.py's feature table, eras, the Mcp-Name table)
and the one loopback rule, as every part of mcplite now reads them."""

import os

import pytest

from mcplite import Server
from mcplite.loopback import is_loopback_host
from mcplite.protocol import (
    ERA_LEGACY, ERA_MODERN, FEATURES, FEATURES_OF, MCP_NAME_PARAMS, SUPPORTED_VERSIONS, supports,
)


def test_every_feature_arrived_in_a_version_we_know():
    assert set(FEATURES.values()) <= set(SUPPORTED_VERSIONS)
    with pytest.raises(KeyError):
        supports("2025-11-25", "no-such-feature")


@pytest.mark.parametrize("version,feature,expected", [
    ("2024-11-05", "audio", False), ("2025-03-26", "audio", True),
    ("2025-03-26", "structured_content", False), ("2025-06-18", "structured_content", True),
    ("2025-06-18", "icons", False), ("2025-11-25", "icons", True), ("2026-07-28", "icons", True),
    ("2025-11-25", "cache_hints", False), ("2026-07-28", "cache_hints", True),
])
def test_supports_reads_the_table(version, feature, expected):
    assert supports(version, feature) is expected


def test_the_feature_sets_are_the_tables_answers():
    # FEATURES_OF[version] (the per-request paths' form) answers as supports() does, for
    # every version and feature, and for a version it has not seen before too.
    for version in SUPPORTED_VERSIONS + ("2099-01-01", "2024-01-01"):
        assert FEATURES_OF[version] == {feature for feature in FEATURES if supports(version, feature)}, version
    assert FEATURES_OF["2025-03-26"] is FEATURES_OF["2025-03-26"]  # made once, then kept


def test_the_eras_and_the_mcp_name_table():
    assert (ERA_LEGACY, ERA_MODERN) == ("legacy", "modern")
    assert MCP_NAME_PARAMS["tools/call"] == "name" and MCP_NAME_PARAMS["resources/read"] == "uri"
    assert all(MCP_NAME_PARAMS[m] == "taskId" for m in ("tasks/get", "tasks/update", "tasks/cancel"))
    assert "2026-07-28" in SUPPORTED_VERSIONS


@pytest.mark.parametrize("host,expected", [
    ("localhost", True), ("LOCALHOST", True), ("127.0.0.1", True), ("127.0.0.2", True), ("127.255.1.9", True),
    ("::1", True), ("[::1]", True), ("0:0:0:0:0:0:0:1", True),
    ("127.example.com", False), ("localhost.example.com", False), ("10.0.0.1", False), ("::2", False),
    ("example.com", False), ("", False), ("[::1", False),
])
def test_one_loopback_rule(host, expected):
    assert is_loopback_host(host) is expected


def test_the_server_answers_every_loopback_host_by_default_and_no_other(wire_factory):
    import http.client
    handle = Server("hosts").run_in_thread("http", port=0)
    try:
        for host, status in (("127.0.0.2:%d" % handle.port, 406), ("localhost", 406), ("evil.example", 421),
                             ("127.example.com", 421)):
            conn = http.client.HTTPConnection("127.0.0.1", handle.port, timeout=5)
            # (No Accept header: a loopback Host gets as far as that check, 406; others stop at 421.)
            conn.request("POST", "/mcp", b"{}", {"Host": host, "Content-Type": "application/json"})
            assert conn.getresponse().status == status, host
            conn.close()
    finally:
        handle.stop()


def test_binding_a_name_that_only_looks_like_loopback_needs_allowed_hosts():
    with pytest.raises(ValueError) as info:
        Server("bind").run_in_thread("http", host="127.example.com", port=0)
    assert "not a loopback address" in str(info.value)


# Where comparing protocol versions as dates is right: ``supports`` reads the feature table, and
# the probe sorts a version the user typed (any date) into its era.
_DATE_COMPARISONS_ALLOWED = {("protocol.py", "version >= FEATURES[feature]"),
                             ("probe.py", "version >= LATEST_VERSION")}


def test_protocol_versions_are_compared_only_through_the_feature_table():
    import ast
    import re
    package = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "mcplite")
    if not os.path.isdir(package):
        pytest.skip("MCPLITE_VENDORED: the package's sources are not here (the one file is tested as built)")
    date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    found = []
    for name in sorted(os.listdir(package)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(package, name), encoding="utf-8") as f:
            source = f.read()
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Compare)
                    and any(isinstance(op, (ast.Lt, ast.Gt, ast.LtE, ast.GtE)) for op in node.ops)):
                continue
            operands = [node.left] + list(node.comparators)
            texts = [ast.get_source_segment(source, o) or "" for o in operands]
            dated = any(isinstance(o, ast.Constant) and isinstance(o.value, str) and date.match(o.value)
                        for o in operands)
            named = any("VERSIONS" in t or "LATEST_VERSION" in t or t.endswith("protocol_version") for t in texts)
            segment = ast.get_source_segment(source, node)
            if (dated or named) and (name, segment) not in _DATE_COMPARISONS_ALLOWED:
                found.append("%s:%d %s" % (name, node.lineno, segment))
    # Ask supports(version, feature) (protocol.FEATURES) or test the era by membership
    # (version in MODERN_VERSIONS) instead.
    assert found == []
