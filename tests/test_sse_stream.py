"""The SSE event log behind a stream (mcplite/sse.py ``EventStream``): one reader at a time,
and a reader the server told to let go replaced at once by the client's reconnection.

The race it covers: with 2025-11-25 SSE polling the server closes a stream's connection
(``ctx.close_sse_stream``) and the client reconnects with ``Last-Event-ID``. The reconnection
can arrive before the old connection's thread has noticed the close and detached; it was
refused with 409 then (seen in the conformance suite's server-sse-polling on a busy machine).
"""

from mcplite.sse import EventStream


def test_one_reader_at_a_time():
    stream = EventStream("1", resumable=True)
    first, second = object(), object()
    assert stream.attach(first)
    assert not stream.attach(second)
    stream.detach(first)
    assert stream.attach(second)


def test_a_reader_told_to_let_go_is_replaced_and_nothing_is_lost():
    stream = EventStream("1", resumable=True)
    old, new = object(), object()
    assert stream.attach(old)
    stream.push(b'{"a":1}')
    data, last, done = stream.read(-1, 0, old)
    assert b'"a":1' in data and not done
    stream.push(b'{"b":2}')
    stream.close_connection(retry_ms=500)
    # The client is back before the old reader's thread has run its detach.
    assert stream.attach(new)
    # The old reader ends (done) and its late detach leaves the new one attached.
    assert stream.read(last, 0, old)[2] is True
    stream.detach(old)
    assert stream.reader is new
    # The new reader resumes after the last event the client saw: nothing lost, nothing twice.
    resumed, _, done = stream.read(last, 0, new)
    assert b'"b":2' in resumed and b'"a":1' not in resumed and not done
    assert b"retry: 500" in resumed


def test_a_plain_stream_keeps_its_reader():
    # Not resumable: its events are forgotten once read, so two readers could split them.
    stream = EventStream("1")
    old, new = object(), object()
    assert stream.attach(old)
    stream.close_connection(retry_ms=None)
    assert not stream.attach(new)
