"""The JSON-RPC layer on its own: no server, no I/O."""

import threading

import pytest

from mcplite import MCPError
from mcplite import jsonrpc as rpc


def test_encode_is_compact_utf8_single_line():
    data = rpc.encode({"jsonrpc": "2.0", "id": 1, "result": {"text": "a\nb \u00e9 \u2028"}})
    assert data == '{"jsonrpc":"2.0","id":1,"result":{"text":"a\\nb \u00e9 \u2028"}}'.encode("utf-8")
    assert b"\n" not in data


def test_encode_escapes_lone_surrogates_instead_of_failing():
    value = rpc.decode('"\\ud800"')
    assert rpc.encode(value) == b'"\\ud800"'


def test_decode_errors_are_parse_errors():
    for bad in [b"{", b"\xff", "nope", b""]:
        with pytest.raises(MCPError) as info:
            rpc.decode(bad)
        assert info.value.code == rpc.PARSE_ERROR


@pytest.mark.parametrize("message, kind", [
    ({"jsonrpc": "2.0", "id": 1, "method": "x"}, rpc.REQUEST),
    ({"jsonrpc": "2.0", "id": "a", "method": "x", "params": {}}, rpc.REQUEST),
    ({"jsonrpc": "2.0", "method": "x"}, rpc.NOTIFICATION),
    ({"jsonrpc": "2.0", "id": 1, "result": {}}, rpc.RESPONSE),
    ({"jsonrpc": "2.0", "id": 1, "error": {"code": 1, "message": "m"}}, rpc.RESPONSE),
    ({"jsonrpc": "2.0", "id": None, "error": {"code": 1, "message": "m"}}, rpc.RESPONSE),
    ({"jsonrpc": "2.0", "error": {"code": 1, "message": "m"}}, rpc.RESPONSE),
])
def test_classify_valid(message, kind):
    assert rpc.classify(message) is kind


@pytest.mark.parametrize("message", [
    [], 1, None, {}, {"jsonrpc": "1.0", "id": 1, "method": "x"}, {"id": 1, "method": "x"},
    {"jsonrpc": "2.0", "id": 1, "method": ""}, {"jsonrpc": "2.0", "id": [1], "method": "x"},
    {"jsonrpc": "2.0", "id": False, "method": "x"}, {"jsonrpc": "2.0", "id": 1.0, "method": "x"},
    {"jsonrpc": "2.0", "id": 1, "method": "x", "params": "p"},
    {"jsonrpc": "2.0", "id": 1, "method": "x", "result": {}},
    {"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": 1, "message": "m"}},
    {"jsonrpc": "2.0", "result": {}}, {"jsonrpc": "2.0", "id": 1, "error": "bad"},
])
def test_classify_invalid(message):
    with pytest.raises(MCPError) as info:
        rpc.classify(message)
    assert info.value.code == rpc.INVALID_REQUEST


def test_error_round_trip_keeps_data_only_when_given():
    assert MCPError(-32602, "bad").to_error() == {"code": -32602, "message": "bad"}
    assert MCPError(-32602, "bad", None).to_error() == {"code": -32602, "message": "bad", "data": None}
    again = MCPError.from_error({"code": -32002, "message": "gone", "data": {"uri": "x"}})
    assert (again.code, again.message, again.data) == (-32002, "gone", {"uri": "x"})
    assert MCPError.from_error("junk").code == rpc.INTERNAL_ERROR
    assert MCPError.from_error({"code": True, "message": 5}).code == rpc.INTERNAL_ERROR
    assert str(MCPError(-1, "User rejected")) == "User rejected (code -1)"


def test_builders():
    assert rpc.request(3, "ping") == {"jsonrpc": "2.0", "id": 3, "method": "ping"}
    assert rpc.notification("n", {"a": 1}) == {"jsonrpc": "2.0", "method": "n", "params": {"a": 1}}
    assert rpc.error_response(None, MCPError(-32700, "p")) == {
        "jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "p"}}


def test_pending_requests_match_only_our_ids():
    table = rpc.PendingRequests(prefix="s")
    message, pending = table.new("roots/list", {})
    assert message == {"jsonrpc": "2.0", "id": "s1", "method": "roots/list", "params": {}}
    assert not table.resolve({"jsonrpc": "2.0", "id": 1, "result": {}}), "1 is not s1"
    assert not table.resolve({"jsonrpc": "2.0", "id": "s2", "result": {}})
    assert table.resolve({"jsonrpc": "2.0", "id": "s1", "result": {"roots": []}})
    assert pending.wait(1) == {"roots": []}
    assert not table.resolve({"jsonrpc": "2.0", "id": "s1", "result": {}}), "answered once only"


def test_pending_errors_timeouts_and_shutdown():
    table = rpc.PendingRequests()
    _, failing = table.new("x")
    table.resolve({"jsonrpc": "2.0", "id": failing.id, "error": {"code": -1, "message": "no"}})
    with pytest.raises(MCPError) as info:
        failing.wait(1)
    assert info.value.code == -1
    _, slow = table.new("y")
    with pytest.raises(TimeoutError):
        slow.wait(0.01)
    assert table.forget(slow.id) is slow
    _, orphan = table.new("z")
    threading.Timer(0.05, table.fail_all, [ConnectionError("gone")]).start()
    with pytest.raises(ConnectionError):
        orphan.wait(5)
    assert len(table) == 0
