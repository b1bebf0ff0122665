"""The abuse suite's rule for which messages are owed an answer (bench/abuse_cases.py), and its
generator's promises (deterministic, unique ids, every category). No server is started here:
``python3 bench/abuse.py --quick --target mcplite`` is a CI step of its own."""
import json
import os
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import abuse_cases as ac  # noqa: E402

LEGACY = ac.LANES["legacy"]
BATCH = ac.LANES["batch"]


def owed(data, lane=LEGACY):
    return ac.verdict(data, lane)[0]


def test_valid_requests_with_usable_ids_are_owed_an_answer():
    assert owed(b'{"jsonrpc":"2.0","id":1,"method":"ping"}') == [("i", 1)]
    assert owed(b'{"jsonrpc":"2.0","id":"","method":"no/such"}') == [("s", "")]
    assert owed(b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}') == [("s", "\ud800")]
    assert owed(b'{"jsonrpc":"2.0","id":-0,"method":"ping"}') == [("i", 0)]
    # JSON-RPC's by-position params are valid JSON-RPC (an MCP server answers with an error).
    assert owed(b'{"jsonrpc":"2.0","id":7,"method":"ping","params":[1]}') == [("i", 7)]
    assert owed(b'  {"id":8, "method":"ping", "jsonrpc":"2.0"}\r') == [("i", 8)]


def test_unusable_ids_and_broken_messages_are_owed_nothing():
    for data in (b'{"jsonrpc":"2.0","id":1.0,"method":"ping"}', b'{"jsonrpc":"2.0","id":1e3,"method":"ping"}',
                 b'{"jsonrpc":"2.0","id":true,"method":"ping"}', b'{"jsonrpc":"2.0","id":null,"method":"ping"}',
                 b'{"jsonrpc":"2.0","id":[1],"method":"ping"}', b'{"jsonrpc":"1.0","id":1,"method":"ping"}',
                 b'{"id":1,"method":"ping"}', b'{"jsonrpc":"2.0","id":1,"method":5}',
                 b'{"jsonrpc":"2.0","id":1,"method":""}', b'{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}',
                 b'{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}', b'{"jsonrpc":"2.0","id":1,"result":{}}',
                 b'{"jsonrpc":"2.0","id":1,"method":"ping"', b'{"jsonrpc":"2.0","id":1,"method":"ping","x":NaN}',
                 b'\xef\xbb\xbf{"jsonrpc":"2.0","id":1,"method":"ping"}',
                 b'{"jsonrpc":"2.0","id":1,"method":"p\xffing"}',
                 b'{"id":2,"jsonrpc":"2.0","id":1,"method":"ping"}', b'{"jsonrpc":"2.0","method":"ping"}',
                 b'{"jsonrpc":"2.0","id":1,"method":"ping","x":1' + b"9" * 4301 + b"}"):
        assert owed(data) == [], data[:80]


def test_large_ids_deep_nesting_and_listen_may_go_unanswered():
    big = b'{"jsonrpc":"2.0","id":%d,"method":"ping"}' % (2 ** 53)
    assert ac.verdict(big, LEGACY) == ([], [("i", 2 ** 53)])
    assert owed(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}' % (2 ** 53 - 1)) == [("i", 2 ** 53 - 1)]

    def nested(depth):  # the envelope and params are two levels
        inner = b"[" * (depth - 2) + b"]" * (depth - 2)
        return b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":' + inner + b"}}"
    assert owed(nested(ac.REQUIRED_DEPTH)) == [("i", 1)]
    assert ac.verdict(nested(ac.REQUIRED_DEPTH + 1), LEGACY) == ([], [("i", 1)])
    assert ac.verdict(nested(100000), LEGACY) == ([], [])
    listen = b'{"jsonrpc":"2.0","id":3,"method":"subscriptions/listen","params":{}}'
    assert ac.verdict(listen, ac.LANES["modern"]) == ([], [("i", 3)])


def test_batch_items_are_owed_only_where_batches_exist():
    data = json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "method": "x"},
                       {"jsonrpc": "2.0", "id": 2.5, "method": "ping"}]).encode()
    assert ac.verdict(data, BATCH) == ([("i", 1)], [])
    assert ac.verdict(data, LEGACY) == ([], [("i", 1)])
    assert ac.verdict(b"[]", BATCH) == ([], [])


def test_http_headers_that_disagree_with_the_body_release_the_answer():
    data = b'{"jsonrpc":"2.0","id":4,"method":"tools/list"}'
    assert ac.verdict(data, ac.LANES["modern"], http_headers_consistent=False) == ([], [("i", 4)])


def test_generation_is_deterministic_with_unique_ids_and_every_category():
    first = ac.generate(3, LEGACY, "stdio", 150)
    again = ac.generate(3, LEGACY, "stdio", 150)
    assert [c.data for c in first] == [c.data for c in again]
    assert [c.data for c in ac.generate(4, LEGACY, "stdio", 150)] != [c.data for c in first]
    keys = [k for c in first for k in c.owed + c.maybe]
    assert len(keys) == len(set(keys))
    assert all(set(c.owed + c.maybe) <= set(c.planted) for c in first)
    cases = ac.generate(3, BATCH, "http", 400)
    assert {c.category for c in cases} == {name for name, _ in ac.CATEGORIES}
    assert sum(len(c.owed) for c in cases) > 100
    stdio = ac.generate(5, ac.LANES["modern"], "stdio", 300)
    assert not any(b"Traceback" in c.data or b'File "' in c.data for c in stdio)
