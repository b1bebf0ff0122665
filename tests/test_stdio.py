"""The stdio transport in a real subprocess: framing, threads, stdout protection, shutdown."""

import json
import os
import sys
import time

import pytest

from stdio_peer import StdioPeer
from wire import schema_problem
from pipe_support import read_slowly  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "servers", "stdio_app.py")


@pytest.fixture
def peer():
    with StdioPeer([sys.executable, SERVER]) as p:
        yield p


def assert_protocol_only(p: StdioPeer) -> None:
    """Every line the server wrote to stdout is one JSON-RPC message."""
    for line in p.raw_lines:
        assert line.endswith(b"\n")
        message = json.loads(line.decode("utf-8"))
        assert isinstance(message, (dict, list)) and b"\n" not in line[:-1]


def test_handshake_and_call(peer):
    init = peer.initialize()
    assert init["result"]["protocolVersion"] == "2025-11-25"
    assert schema_problem(init, "2025-11-25", "initialize") is None
    reply = peer.request("tools/call", {"name": "add", "arguments": {"a": 40, "b": 2}}, id=2)
    assert reply == {"jsonrpc": "2.0", "id": 2,
                     "result": {"content": [{"type": "text", "text": "42"}], "structuredContent": {"result": 42}}}
    assert schema_problem(reply, "2025-11-25", "tools/call") is None


def test_modern_era_over_stdio(peer):
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}
    discover = peer.request("server/discover", {"_meta": meta}, id="d")
    assert discover["result"]["supportedVersions"][0] == "2026-07-28"
    assert schema_problem(discover, "2026-07-28", "server/discover") is None
    reply = peer.request("tools/call", {"_meta": meta, "name": "add", "arguments": {"a": 1, "b": 1}}, id="c")
    assert reply["result"]["resultType"] == "complete"
    assert reply["result"]["structuredContent"] == {"result": 2}


def test_stray_output_never_reaches_the_protocol_stream(peer):
    peer.initialize()
    reply = peer.request("tools/call", {"name": "noisy"}, id=3)
    assert reply["result"]["content"] == [{"type": "text", "text": "quiet"}]
    assert peer.request("ping", id=4)["result"] == {}
    assert_protocol_only(peer)
    deadline = time.monotonic() + 5
    while "a child process printing" not in peer.stderr and time.monotonic() < deadline:
        time.sleep(0.02)
    for text in ["print() from a tool", "sys.stdout.write from a tool", "os.write(1) from a tool",
                 "a child process printing"]:
        assert text in peer.stderr, "stray output goes to stderr: %r missing" % text


def test_a_server_started_with_stderr_closed_serves_and_prints_nowhere():
    # A parent may start the server with fd 2 closed (`2>&-`, a daemon's launcher): the
    # protocol's copy of stdin must not take that number, nor print() become a write to it.
    with StdioPeer(["sh", "-c", 'exec "$@" 2>&-', "sh", sys.executable, SERVER]) as p:
        p.initialize()
        reply = p.request("tools/call", {"name": "noisy"}, id=3)
        assert reply["result"]["content"] == [{"type": "text", "text": "quiet"}]
        assert p.request("ping", id=4)["result"] == {}
        assert_protocol_only(p)
        p.close_stdin()
        assert p.wait(5) == 0


@pytest.mark.skipif(os.name != "posix", reason="O_NONBLOCK")
def test_a_non_blocking_stdin_is_waited_on_not_taken_for_its_end():
    # A parent may share a pipe whose open file description it made non-blocking (a
    # Node.js wrapper's libuv does): a read with nothing there yet is EAGAIN, not the end.
    import subprocess
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    process = subprocess.Popen([sys.executable, SERVER], stdin=read_end, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=env)
    os.close(read_end)
    try:
        time.sleep(0.5)  # the server waits for its first request
        os.write(write_end, b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":'
                            b'"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}\n')
        assert json.loads(process.stdout.readline())["id"] == 1
        time.sleep(0.5)
        os.write(write_end, b'{"jsonrpc":"2.0","id":2,"method":"ping"}\n')
        assert json.loads(process.stdout.readline()) == {"jsonrpc": "2.0", "id": 2, "result": {}}
        os.close(write_end)
        write_end = -1
        assert process.wait(5) == 0
    finally:
        if write_end >= 0:
            os.close(write_end)
        if process.poll() is None:
            process.kill()
            process.wait(5)
        process.stdout.close()


@pytest.mark.skipif(os.name != "posix", reason="O_NONBLOCK")
def test_a_non_blocking_stdout_is_waited_on_not_spun_on():
    # The same on the way out: a full pipe with a non-blocking description makes a write
    # return None ("could not write"); the writer waits until the reader made room,
    # rather than trying again and again (a core's worth of CPU while the client is slow).
    from mcplite.stdio import LineWriter
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    stream = os.fdopen(write_end, "wb", buffering=0)
    attempts = []

    class Counted:
        def write(self, data):
            attempts.append(len(data))
            return stream.write(data)

        def fileno(self):
            return write_end
    received, reader = read_slowly(read_end, 0.05)
    try:
        text = "x" * (512 * 1024)
        LineWriter(Counted()).send({"jsonrpc": "2.0", "method": "m", "params": {"text": text}})
        stream.close()
        reader.join(10)
        assert json.loads(b"".join(received))["params"]["text"] == text
        assert len(attempts) < 200  # about one a time the reader made room; thousands when spinning
    finally:
        if not stream.closed:
            stream.close()
        os.close(read_end)


def test_a_raw_stream_that_takes_part_of_a_line_or_none_gets_the_rest():
    # A raw write may take part of the data (a signal, a pipe's room) or nothing (None: a
    # non-blocking stream that could not write); the rest follows, once, in order.
    from mcplite import stdio
    written = []
    flushed = []
    takes = [None, 3, 0, None, 5]

    class Partial:
        def write(self, data):
            take = takes.pop(0) if takes else len(data)
            if take is None:
                return None
            written.append(bytes(data[:take]))
            return take

        def flush(self):
            flushed.append(True)

        def fileno(self):
            raise OSError("no descriptor")
    stdio.write_whole(Partial(), b"0123456789abcdef\n")
    assert b"".join(written) == b"0123456789abcdef\n" and takes == [] and flushed == [True]
    whole = []

    class Whole(Partial):
        def write(self, data):
            whole.append(bytes(data))
            return len(data)
    stdio.write_whole(Whole(), b"line\n")
    assert whole == [b"line\n"] and flushed == [True, True]
    # The same through LineWriter, which makes the first write itself.
    del written[:], flushed[:]
    takes[:] = [None, 3, 0, None, 5]
    stdio.LineWriter(Partial()).send({"jsonrpc": "2.0", "id": 1, "result": {}})  # type: ignore[arg-type]
    assert b"".join(written) == b'{"jsonrpc":"2.0","id":1,"result":{}}\n' and takes == [] and flushed == [True]


def test_input_in_a_tool_cannot_swallow_requests(peer):
    peer.initialize()
    peer.send({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "reads_stdin"}})
    peer.send({"jsonrpc": "2.0", "id": 6, "method": "ping"})
    replies = {}
    for _ in range(2):
        message = peer.receive()
        replies[message["id"]] = message
    assert replies[5]["result"]["content"][0]["text"] == "input saw end of file"
    assert replies[6]["result"] == {}


def test_slow_tool_never_delays_ping(peer):
    peer.initialize()
    peer.send({"jsonrpc": "2.0", "id": "slow", "method": "tools/call",
               "params": {"name": "sleep", "arguments": {"seconds": 3}}})
    time.sleep(0.1)
    start = time.monotonic()
    assert peer.request("ping", id="p")["result"] == {}
    assert time.monotonic() - start < 1.0, "ping waited for the slow tool"
    assert peer.receive(timeout=10)["id"] == "slow"


def test_cancellation_suppresses_the_response(peer):
    peer.initialize()
    peer.send({"jsonrpc": "2.0", "id": "c1", "method": "tools/call",
               "params": {"name": "sleep", "arguments": {"seconds": 5}}})
    time.sleep(0.2)
    peer.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "c1", "reason": "x"}})
    deadline = time.monotonic() + 5
    while "sleep: cancelled" not in peer.stderr and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "sleep: cancelled" in peer.stderr, "the handler saw the cancellation flag"
    assert peer.request("ping", id="after")["id"] == "after"
    time.sleep(0.1)
    assert all(json.loads(line)["id"] != "c1" for line in peer.raw_lines), "a cancelled request gets no response"


def test_exit_zero_promptly_on_eof(peer):
    peer.initialize()
    start = time.monotonic()
    peer.close_stdin()
    assert peer.wait(5) == 0
    assert time.monotonic() - start < 2.0


def test_requests_piped_then_eof_are_still_answered():
    with StdioPeer([sys.executable, SERVER]) as p:
        p.write(b"".join(json.dumps(m).encode() + b"\n" for m in [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "sleep", "arguments": {"seconds": 0.3}}},
        ]))
        p.close_stdin()
        assert p.wait(10) == 0
        ids = [json.loads(line)["id"] for line in p.raw_lines]
        assert ids == [1, 2]


def test_crlf_blank_lines_and_utf8(peer):
    peer.write(b'\r\n\n{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
               b'"capabilities":{},"clientInfo":{"name":"x","version":"1"}}}\r\n')
    assert peer.receive()["id"] == 1
    message = "h\u00e9llo \u2713 \U0001F600 \u65e5\u672c"
    peer.write(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                           "params": {"name": "echo", "arguments": {"message": message}}},
                          ensure_ascii=False).encode("utf-8") + b"\r\n")
    reply = peer.receive()
    assert reply["result"]["content"][0]["text"] == message
    assert message.encode("utf-8") in peer.raw_lines[-1], "UTF-8 on the wire, not \\u escapes"


def test_a_byte_order_mark_before_the_first_message_is_ignored(peer):
    # What a Windows pipe (PowerShell, a .NET client writing UTF-8) may put first.
    peer.write(b'\xef\xbb\xbf{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
               b'"capabilities":{},"clientInfo":{"name":"x","version":"1"}}}\n')
    assert peer.receive()["id"] == 1
    # Only there: one later in the stream is not JSON.
    peer.write(b'\xef\xbb\xbf{"jsonrpc":"2.0","id":2,"method":"ping"}\n')
    assert peer.receive()["error"]["code"] == -32700


def test_invalid_utf8_and_json_get_parse_errors(peer):
    peer.write(b'\xc3\x28\n')
    assert peer.receive() == {"jsonrpc": "2.0", "id": None,
                              "error": {"code": -32700, "message": "Parse error: message is not valid UTF-8"}}
    peer.write(b'not json\n')
    assert peer.receive()["error"]["code"] == -32700
    assert peer.request("ping", id=1)["result"] == {}


def test_oversize_line_is_refused_and_the_server_carries_on():
    with StdioPeer([sys.executable, SERVER, "1000"]) as p:
        p.initialize()
        big = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "echo", "arguments": {"message": "x" * 5000}}}
        p.send(big)
        assert p.receive() == {"jsonrpc": "2.0", "id": None, "error": {
            "code": -32600, "message": "Invalid Request: message larger than 1000 bytes"}}
        ok = p.request("tools/call", {"name": "echo", "arguments": {"message": "small"}}, id=3)
        assert ok["result"]["content"][0]["text"] == "small"


def test_concurrent_responses_are_whole_lines(peer):
    peer.initialize()
    n = 60
    for i in range(n):
        peer.send({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                   "params": {"name": "echo", "arguments": {"message": str(i) * 2000}}})
    seen = {}
    for _ in range(n):
        message = peer.receive()
        seen[message["id"]] = message["result"]["content"][0]["text"]
    assert seen == {i: str(i) * 2000 for i in range(n)}
    assert_protocol_only(peer)


def test_tool_exception_traceback_goes_to_stderr_only(peer):
    peer.initialize()
    reply = peer.request("tools/call", {"name": "fail", "arguments": {"message": "kaboom"}}, id=9)
    assert reply["result"] == {"isError": True, "content": [{"type": "text", "text": "ValueError: kaboom"}]}
    deadline = time.monotonic() + 5
    while "Traceback" not in peer.stderr and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "Traceback" in peer.stderr and "kaboom" in peer.stderr
    assert all(b"Traceback" not in line for line in peer.raw_lines)


PRINTS_WHILE_LOADING = '''
import sys
print("printed while loading")
from mcplite import Server
app = Server("loud")
print("printed after Server()")


@app.tool()
def hi() -> str:
    return "hi"


if __name__ == "__main__":
    app.run()
'''


@pytest.mark.parametrize("how", ["app.run(), stdout buffered", "mcplite serve, PYTHONUNBUFFERED=1"])
def test_prints_before_run_where_the_readme_says_they_go(how, tmp_path):
    """README, Threading model: protection starts at app.run(), which also moves what is
    still buffered; `mcplite serve` starts it before the file is imported, so even
    unbuffered prints while loading go to stderr."""
    path = tmp_path / "loud.py"
    path.write_text(PRINTS_WHILE_LOADING, encoding="utf-8")
    if how.startswith("app.run()"):
        argv, env = [sys.executable, str(path)], {"PYTHONUNBUFFERED": ""}  # empty: unset
    else:
        argv, env = [sys.executable, "-m", "mcplite", "serve", str(path)], {"PYTHONUNBUFFERED": "1"}
    with StdioPeer(argv, env) as p:
        p.initialize()
        assert p.request("tools/call", {"name": "hi"}, id=2)["result"]["content"] == [{"type": "text", "text": "hi"}]
        assert_protocol_only(p)
        deadline = time.monotonic() + 5
        while "printed after Server()" not in p.stderr and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "printed while loading\nprinted after Server()\n" in p.stderr


def test_inline_tool_is_served_on_the_reading_thread_in_order(peer):
    # Pipelined in one write: each inline call is answered before the next line is read,
    # so the answers come back in the order of the requests, ping's among them.
    peer.initialize()
    requests = []
    for n in range(20):
        requests.append({"jsonrpc": "2.0", "id": n, "method": "tools/call",
                         "params": {"name": "where", "arguments": {"n": n}}})
        if n % 5 == 0:
            requests.append({"jsonrpc": "2.0", "id": "p%d" % n, "method": "ping"})
    peer.write(b"".join(json.dumps(r).encode("utf-8") + b"\n" for r in requests))
    replies = [peer.receive() for _ in requests]
    assert [r["id"] for r in replies] == [r["id"] for r in requests]
    for reply in replies:
        if isinstance(reply["id"], int):
            assert reply["result"]["content"][0]["text"] == "%d MainThread" % reply["id"]


def test_slow_tool_without_context_is_not_inline_and_never_delays_ping(peer):
    # No Context and no inline=True: a worker's job, whatever else is read meanwhile.
    peer.initialize()
    peer.send({"jsonrpc": "2.0", "id": "nap", "method": "tools/call",
               "params": {"name": "nap", "arguments": {"seconds": 3}}})
    time.sleep(0.1)
    start = time.monotonic()
    assert peer.request("ping", id="p")["result"] == {}
    # An inline tool is not queued behind the slow one either.
    quick = peer.request("tools/call", {"name": "where", "arguments": {"n": 7}}, id="w")
    assert quick["result"]["content"][0]["text"] == "7 MainThread"
    assert time.monotonic() - start < 1.0, "ping or the inline tool waited for the slow tool"
    slow = peer.receive(timeout=10)
    assert slow["id"] == "nap"
    assert slow["result"]["content"][0]["text"].startswith("mcplite-worker")


def test_cancelling_a_pooled_request_is_read_between_inline_calls(peer):
    peer.initialize()
    peer.send({"jsonrpc": "2.0", "id": "c1", "method": "tools/call",
               "params": {"name": "sleep", "arguments": {"seconds": 5}}})
    time.sleep(0.2)
    assert peer.request("tools/call", {"name": "where", "arguments": {"n": 1}}, id="w1")["id"] == "w1"
    peer.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "c1"}})
    assert peer.request("tools/call", {"name": "where", "arguments": {"n": 2}}, id="w2")["id"] == "w2"
    deadline = time.monotonic() + 5
    while "sleep: cancelled" not in peer.stderr and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "sleep: cancelled" in peer.stderr
    time.sleep(0.1)
    assert all(json.loads(line)["id"] != "c1" for line in peer.raw_lines), "a cancelled request gets no response"


@pytest.mark.skipif(os.name != "posix", reason="a pseudo-terminal stands for the person's terminal")
def test_a_terminal_on_stdin_is_told_what_it_is_talking_to():
    # Someone who runs `python3 server.py` at a prompt sees nothing happen; stderr says why
    # (stdout stays the protocol's alone), and only then: a client's pipe gets no such line.
    import pty
    import subprocess
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, SERVER], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(slave)
        slave = -1
        os.write(master, b"\x04")  # Ctrl-D: end of input, as the hint says
        out, err = proc.communicate(timeout=20)
    finally:
        os.close(master)
        if slave != -1:
            os.close(slave)
    assert (proc.returncode, out) == (0, b"")
    assert err.decode("utf-8") == (
        "mcplite: serving MCP on stdin and stdout, for a client program (a host, or `python3 -m mcplite shell` "
        "given this command), not for typing; Ctrl-D stops it\n")
    piped = subprocess.run([sys.executable, SERVER], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
    assert (piped.returncode, piped.stdout, piped.stderr) == (0, b"", b"")
