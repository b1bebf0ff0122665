"""The command line as a user runs it: ``python -m mcplite COMMAND ...`` in a subprocess,
real output, exit statuses. Commands: ls, call, read, prompt, raw, shell, serve, and
``--trace`` on them; targets: a server file (``tests/cli_app.py``, run by ``serve``), a stdio
command, an HTTP URL (an mcplite server in this process), and the official Python SDK's
server (``bench/servers/sdk_add.py`` under ``$MCPLITE_SDK_PYTHON``). ``check``, ``record``,
``replay`` and ``diff`` have test modules of their own.

Under MCPLITE_VENDORED (scripts/test_vendored) ``python -m mcplite`` runs the one-file build.
"""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from cli_app import PNG_BYTES, make_cli_app
from interop_support import sdk_python_fixture
from mcplite import Client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
APP = os.path.join(HERE, "cli_app.py")
NOTES = os.path.join(ROOT, "examples", "notes_server.py")
SDK_ADD = os.path.join(ROOT, "bench", "servers", "sdk_add.py")
PY = sys.executable
TIMEOUT = 60

sdk_python = sdk_python_fixture("mcp.server.mcpserver")


def cli(*args, stdin=None, timeout=TIMEOUT, env=None):
    """Run the command line; (status, stdout, stderr). Never a traceback, whatever happens."""
    proc = subprocess.run([PY, "-m", "mcplite"] + list(args), cwd=ROOT, input=stdin.encode() if stdin else None,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=env)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert "Traceback" not in err and "Traceback" not in out, err
    return proc.returncode, out, err


def one_error_line(err, command):
    """The one line a failing command writes on stderr, after its "PROG COMMAND: error: "."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    prefix = "python -m mcplite %s: error: " % command
    assert lines[0].startswith(prefix) or (": error: " in lines[0] and os.environ.get("MCPLITE_VENDORED")), lines
    return lines[0].split(": error: ", 1)[1]


@pytest.fixture(scope="module")
def http_url():
    with make_cli_app().run_in_thread("http", port=0) as handle:
        yield handle.url


# --- ls ------------------------------------------------------------------------------------------

LS_TEXT = """cli-test 3.1.4, protocol {version}
tools (6)
  add(a: integer, b: integer) -> integer  - Add two integers.
  describe(name: string, count?: integer = 1, ratio?: number = 0.5, loud?: boolean = false, tags?: string[] = [], \
mode?: "fast" | "slow" = "fast", extra?: object | null = null)  - Echo every argument back, converted.
  fail(reason?: string = "it broke")  - Always fails (isError).
  count_to(n: integer)  - Reports progress for each step.
  chatty()  - Logs a warning.
  picture()  - A PNG.
resources (2)
  text://hello  hello  (text/plain)  - A greeting.
  blob://logo  logo  (image/png)
templates (1)
  items://{{item_id}}  item  - One item.
prompts (1)
  review(code, language?)  - Review some code.
"""


@pytest.mark.parametrize("era,version", [("auto", "2026-07-28"), ("legacy", "2025-11-25")])
def test_ls_file_target(era, version):
    status, out, err = cli("ls", APP, "--era", era)
    assert (status, err) == (0, "")
    assert out == LS_TEXT.format(version=version)


def test_ls_stdio_command_http_url_and_json_agree(http_url):
    status, out, _ = cli("ls", "%s %s" % (PY, APP))
    assert status == 0 and out == LS_TEXT.format(version="2026-07-28")
    status, http_out, _ = cli("ls", http_url)
    assert status == 0 and http_out == out
    status, out, err = cli("ls", "--json", http_url)
    assert status == 0 and err == ""
    listing = json.loads(out)
    with Client(make_cli_app()) as client:
        assert listing == {"tools": client.list_tools(), "resources": client.list_resources(),
                           "resourceTemplates": client.list_resource_templates(), "prompts": client.list_prompts()}


def test_common_options_go_before_or_after_the_command():
    before = cli("--json", "--era", "legacy", "ls", APP)
    after = cli("ls", APP, "--json", "--era", "legacy")
    assert before[0] == after[0] == 0 and json.loads(before[1]) == json.loads(after[1])


def test_ls_of_the_official_sdk_server(sdk_python):
    for era, version in (("auto", "2026-07-28"), ("legacy", "2025-11-25")):
        status, out, err = cli("ls", "%s %s" % (sdk_python, SDK_ADD), "--era", era)
        assert (status, err) == (0, ""), err
        # (It declares resources and prompts, and has none.)
        assert out == "bench 1.0.0, protocol %s\ntools (1)\n  add(a: integer, b: integer) -> integer  - " \
                      "Add two integers.\nresources (0)\ntemplates (0)\nprompts (0)\n" % version


# --- call ----------------------------------------------------------------------------------------

def test_call_converts_arguments_by_the_schema():
    status, out, err = cli("call", APP, "describe", "name=Ada", "count=3", "ratio=2", "loud=yes", "tags=a,b",
                           "mode=slow", "extra:={\"x\": 1}", "--json")
    assert (status, err) == (0, "")
    result = json.loads(out)
    assert result["structuredContent"] == {"name": "Ada", "count": 3, "ratio": 2, "loud": True,
                                           "tags": ["a", "b"], "mode": "slow", "extra": {"x": 1}}
    assert result["isError"] is False if "isError" in result else True
    # A number is kept as typed: "2" is 2, "2.5" is 2.5; a string stays a string.
    status, out, _ = cli("call", APP, "describe", "name=42", "ratio=2.5", "--json")
    assert json.loads(out)["structuredContent"]["name"] == "42"
    assert json.loads(out)["structuredContent"]["ratio"] == 2.5


def test_call_with_arguments_as_json_and_plain_output(http_url):
    for target in (APP, http_url):
        status, out, err = cli("call", target, "add", "--arguments", '{"a": 2, "b": 40}')
        assert (status, out, err) == (0, "42\n", "")
        status, out, err = cli("call", target, "add", "--arguments", '{"a": 1, "b": 1}', "--json")
        assert status == 0 and json.loads(out)["structuredContent"] == {"result": 2}


def test_raw_and_shell_with_the_official_sdk_server(sdk_python):
    target = "%s %s" % (sdk_python, SDK_ADD)
    status, out, err = cli("raw", target, json.dumps(INIT), '{"jsonrpc":"2.0","method":"notifications/initialized"}',
                           '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":'
                           '{"a":2,"b":3}}}')
    assert (status, err) == (0, "")
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["id"] for a in answers] == [1, 2]
    assert answers[0]["result"]["serverInfo"]["name"] == "bench"
    assert answers[1]["result"]["structuredContent"] == {"result": 5}
    status, out, err = cli("shell", target, stdin="call add a=4 b=5\ninfo\n")
    assert (status, err) == (0, "")
    assert out.startswith("9\n") and json.loads(out[2:])["serverInfo"]["name"] == "bench"


@pytest.fixture(scope="module")
def everything_stdio():
    """The TypeScript reference server (server-everything) as a stdio target."""
    from interop_support import unusable
    raw = os.environ.get("MCPLITE_EVERYTHING", "")
    if not raw:
        unusable("MCPLITE_EVERYTHING", "MCPLITE_EVERYTHING is not set (scripts/test sets it)")
    return raw + " stdio"


def test_every_reading_command_against_the_typescript_reference_server(everything_stdio):
    status, out, err = cli("ls", everything_stdio)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "mcp-servers/everything 2.0.0, protocol 2025-11-25"
    assert "  get-sum(a: number, b: number)  - Returns the sum of two numbers" in lines
    assert "  args-prompt(city, state?)  - A prompt with two arguments, one required and one optional" in lines
    assert cli("call", everything_stdio, "get-sum", "a=1", "b=2.5") == (0, "The sum of 1 and 2.5 is 3.5.\n", "")
    status, out, err = cli("call", everything_stdio, "trigger-long-running-operation", "duration=1", "steps=2")
    assert (status, err) == (0, "progress: 1/2\nprogress: 2/2\n") and out.startswith("Long running operation completed.")
    assert cli("prompt", everything_stdio, "args-prompt", "city=Paris") == (0, "[user] What's weather in Paris?\n", "")
    status, out, err = cli("read", everything_stdio, "demo://resource/static/document/features.md")
    assert (status, err) == (0, "") and out.startswith("# Everything Server - Features\n")
    status, out, err = cli("call", everything_stdio, "get-sum", "a=one", "b=2")
    assert status == 2 and one_error_line(err, "call") == "argument 'a': expected number, got 'one'"


def test_call_of_the_official_sdk_server(sdk_python):
    status, out, err = cli("call", "%s %s" % (sdk_python, SDK_ADD), "add", "a=20", "b=22")
    assert (status, out, err) == (0, "42\n", "")
    status, out, err = cli("call", "%s %s" % (sdk_python, SDK_ADD), "add", "a=x", "b=1")
    assert status == 2 and one_error_line(err, "call") == "argument 'a': expected integer, got 'x'"


@pytest.mark.parametrize("args,message", [
    (["count=three", "name=x"], "argument 'count': expected integer, got 'three'"),
    (["name=x", "mode=medium"], "argument 'mode': expected one of \"fast\", \"slow\", got 'medium'"),
    (["name=x", "loud=perhaps"], "argument 'loud': expected boolean, got 'perhaps'"),
    (["count=1"], "describe: 'name': required property missing (the tool takes: name: string, count?: integer = 1, "
                  "ratio?: number = 0.5, loud?: boolean = false, tags?: string[] = [], mode?: \"fast\" | \"slow\" = "
                  "\"fast\", extra?: object | null = null)"),
    (["name=x", "colour=red"], "describe: 'colour': unexpected property (the tool takes: name: string, count?: "
                               "integer = 1, ratio?: number = 0.5, loud?: boolean = false, tags?: string[] = [], "
                               "mode?: \"fast\" | \"slow\" = \"fast\", extra?: object | null = null)"),
    (["name"], "arguments are key=value (or key:=JSON), not 'name'"),
    (["extra:={nope"], "argument 'extra': '{nope' is not JSON (Expecting property name enclosed in double quotes: "
                       "line 1 column 2 (char 1))"),
])
def test_call_refuses_arguments_that_do_not_fit(args, message):
    status, out, err = cli("call", APP, "describe", *args)
    assert (status, out) == (2, "")
    assert one_error_line(err, "call") == message


def test_call_unknown_tool_and_tool_error():
    status, out, err = cli("call", APP, "nope")
    assert (status, out) == (4, "")
    assert one_error_line(err, "call") == ("no tool named 'nope' on this server (its tools: add, chatty, count_to, "
                                           "describe, fail, picture)")
    status, out, err = cli("call", APP, "fail", "reason=on purpose")
    assert (status, out) == (5, "on purpose\n")
    assert one_error_line(err, "call") == "fail reported an error (its result has isError: true)"
    status, out, err = cli("call", APP, "fail", "--json")
    assert status == 5 and json.loads(out) == {"content": [{"type": "text", "text": "it broke"}], "isError": True,
                                                "resultType": "complete", "_meta": json.loads(out)["_meta"]}


def test_call_shows_progress_and_logs_on_stderr():
    status, out, err = cli("call", APP, "count_to", "n=3")
    assert (status, out) == (0, "counted to 3\n")
    assert err == "progress: 1/3 step 1\nprogress: 2/3 step 2\nprogress: 3/3 step 3\n"
    status, out, err = cli("call", APP, "chatty", "--era", "legacy")
    assert (status, out, err) == (0, "said it\n", "[warning] cli-test: careful now\n")


def test_call_summarises_binary_content():
    status, out, err = cli("call", APP, "picture")
    assert (status, out, err) == (0, "[image image/png, %d bytes]\n" % len(PNG_BYTES), "")


# --- read and prompt --------------------------------------------------------------------------------

def test_read_text_blob_template_and_unknown(tmp_path, http_url):
    for target in (APP, http_url):
        assert cli("read", target, "text://hello") == (0, "hello, world\n", "")
        assert cli("read", target, "items://7") == (0, "item 7\n", "")
    status, out, err = cli("read", APP, "blob://logo")
    assert (status, out, err) == (0, "[blob://logo image/png, %d bytes]\n" % len(PNG_BYTES), "")
    target = tmp_path / "logo.png"
    status, out, err = cli("read", APP, "blob://logo", "-o", str(target))
    assert (status, out, err) == (0, "", "") and target.read_bytes() == PNG_BYTES
    status, out, err = cli("read", APP, "blob://logo", "--json")
    assert base64.b64decode(json.loads(out)["contents"][0]["blob"]) == PNG_BYTES
    status, out, err = cli("read", APP, "nope://x", "--era", "legacy")
    assert status == 4 and one_error_line(err, "read").startswith("nope://x: Resource not found")
    assert "(error -32002)" in err
    status, out, err = cli("read", APP, "nope://x")
    assert status == 4 and "(error -32602)" in err


def test_prompt_and_its_arguments():
    status, out, err = cli("prompt", APP, "review", "code=print(1)")
    assert (status, out, err) == (0, "# Review some code.\n[user] Review this python code:\nprint(1)\n", "")
    status, out, err = cli("prompt", APP, "review", "code=x", "language=perl", "--json")
    assert json.loads(out)["messages"] == [{"role": "user", "content": {"type": "text",
                                                                          "text": "Review this perl code:\nx"}}]
    status, out, err = cli("prompt", APP, "review")
    assert status == 2 and one_error_line(err, "prompt") == "review needs 'code'"
    status, out, err = cli("prompt", APP, "review", "code=x", "tone=kind")
    assert status == 2 and one_error_line(err, "prompt") == "review takes no argument 'tone' (its arguments: code, language)"
    status, out, err = cli("prompt", APP, "nope")
    assert status == 4 and one_error_line(err, "prompt") == "no prompt named 'nope' on this server (its prompts: review)"


# --- trace ---------------------------------------------------------------------------------------

def test_trace_over_stdio_shows_each_line_as_it_crossed():
    status, out, err = cli("call", APP, "add", "a=1", "b=2", "--trace")
    assert (status, out) == (0, "3\n")
    lines = err.splitlines()
    sent = [line.split(" -> ", 1)[1] for line in lines if " -> " in line]
    received = [line.split(" <- ", 1)[1] for line in lines if " <- " in line]
    assert [json.loads(m)["method"] for m in sent] == ["server/discover", "tools/list", "tools/call"]
    assert [json.loads(m)["id"] for m in received] == [1, 2, 3]
    assert json.loads(received[2])["result"]["structuredContent"] == {"result": 3}
    assert all(line[2] == ":" and line[5] == ":" and line[8] == "." for line in lines)  # HH:MM:SS.mmm


def test_trace_explain_over_http_shows_headers_status_and_notes(http_url):
    status, out, err = cli("call", http_url, "count_to", "n=2", "--era", "legacy", "--trace=explain",
                           "-H", "Authorization: Bearer s3cret-token", "-H", "X-Demo: yes")
    assert (status, out) == (0, "counted to 2\n")
    # Credentials and headers the trace does not know stay hidden; MCP's own are shown.
    assert "s3cret" not in err and "Authorization: Bearer <hidden>" in err and "X-Demo: <hidden>" in err
    assert " -> POST /mcp\n" in err and " <- HTTP 200 OK\n" in err and " <- HTTP 202 Accepted\n" in err
    assert "Mcp-Session-Id: " in err and "MCP-Protocol-Version: 2025-11-25" in err
    assert "Content-Type: text/event-stream" in err  # progress makes the answer a stream
    assert " <- SSE " in err and "event: message" in err
    notes = [line.strip() for line in err.splitlines() if line.strip().startswith("# ")]
    assert "# Runs a tool. A request: the server must answer with id 3. It asks for progress, token \"p3\"." in notes
    assert "# The answer to initialize (id 1). The server chose version 2025-11-25; next the client sends " \
           "notifications/initialized." in notes
    assert "# 202 Accepted: a notification or an answer needs no reply; no body" in notes
    assert any(n.startswith("# Progress of a request that asked for it") for n in notes)


def test_trace_of_the_modern_http_headers(http_url):
    status, out, err = cli("call", http_url, "add", "a=1", "b=1", "--trace")
    assert status == 0
    assert "Mcp-Method: tools/call" in err and "Mcp-Name: add" in err and "MCP-Protocol-Version: 2026-07-28" in err
    assert "# " not in err  # notes only with --trace=explain


# --- raw -----------------------------------------------------------------------------------------

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


def test_raw_over_stdio_prints_exactly_what_comes_back():
    messages = [json.dumps(INIT), "# a comment", "", '{"jsonrpc":"2.0","method":"notifications/initialized"}',
                "this is not json", '{"jsonrpc":"2.0","id":2,"method":"no/such"}']
    status, out, err = cli("raw", APP, stdin="\n".join(messages) + "\n")
    assert (status, err) == (0, "")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line.get("id") for line in lines] == [1, None, 2]
    assert lines[0]["result"]["serverInfo"] == {"name": "cli-test", "version": "3.1.4"}
    assert lines[1]["error"]["code"] == -32700 and lines[2]["error"]["code"] == -32601
    # The server's own bytes, unchanged: compact JSON as mcplite writes it.
    assert out.splitlines()[2] == '{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"Method not found: no/such"}}'


def test_raw_over_http_keeps_the_session(http_url):
    status, out, err = cli("raw", http_url, json.dumps(INIT), '{"jsonrpc":"2.0","method":"notifications/initialized"}',
                           '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add","arguments":'
                           '{"a":1,"b":2}}}', "not json", "--trace")
    assert status == 0, err
    lines = out.splitlines()
    assert json.loads(lines[0])["id"] == 1 and json.loads(lines[1])["result"]["structuredContent"] == {"result": 3}
    assert json.loads(lines[2])["error"]["code"] == -32700
    # The call went in the session the initialize answer opened.
    session = [l for l in err.splitlines() if "Mcp-Session-Id:" in l][0].split(": ", 1)[1]
    assert err.count("Mcp-Session-Id: " + session) >= 3


def test_raw_waits_for_answers_then_gives_up(tmp_path):
    silent = tmp_path / "silent.py"
    silent.write_text("import sys\nfor line in sys.stdin:\n    pass\n", encoding="utf-8")
    started = time.monotonic()
    status, out, err = cli("raw", "%s %s" % (PY, silent), '{"jsonrpc":"2.0","id":7,"method":"ping"}', "--timeout", "1")
    assert time.monotonic() - started < 20
    assert (status, out) == (4, "")
    assert one_error_line(err, "raw") == "no answer to request 7 within 1 s"
    dying = tmp_path / "dying.py"
    dying.write_text("import sys\nsys.stdin.readline()\nsys.stderr.write('bye now\\n')\n", encoding="utf-8")
    status, out, err = cli("raw", "%s %s" % (PY, dying), '{"jsonrpc":"2.0","id":7,"method":"ping"}')
    assert status == 3
    assert one_error_line(err, "raw") == "the server closed its stdout (it said: bye now) before answering request 7"


# --- shell ---------------------------------------------------------------------------------------

def test_shell_runs_piped_commands_and_keeps_going_after_an_error():
    script = "\n".join(["ls", "call add a=1 b=2", "call add a=x", "read text://hello", "prompt review code=y",
                        "request resources/templates/list", "json on", "call add a=5 b=5", "bogus", "quit",
                        "call add a=0 b=0"]) + "\n"
    status, out, err = cli("shell", APP, stdin=script)
    assert status == 2  # the last command run: bogus
    assert out.startswith("tools (6)\n")
    assert "\n3\nhello, world\n# Review some code.\n[user] Review this python code:\ny\n" in out
    templates = out.split("[user] Review this python code:\ny\n", 1)[1]
    decoded = json.JSONDecoder().raw_decode(templates)[0]
    assert decoded["resourceTemplates"][0]["uriTemplate"] == "items://{item_id}"
    assert '"structuredContent": {\n    "result": 10\n  }' in out
    assert "\n0\n" not in out  # nothing after quit
    assert err.splitlines() == ["python -m mcplite: error: argument 'a': expected integer, got 'x'",
                                "python -m mcplite: error: unknown command 'bogus' (type help)"] or \
        os.environ.get("MCPLITE_VENDORED")


# --- serve ---------------------------------------------------------------------------------------

def test_serve_stdio_keeps_prints_off_the_protocol(tmp_path):
    server = tmp_path / "printing.py"
    server.write_text("import sys\nsys.path.insert(0, %r)\nfrom mcplite import Server\nprint('loading...')\n"
                      "app = Server('printing')\n@app.tool()\ndef hi() -> str:\n    print('inside hi')\n"
                      "    return 'hi'\n" % ROOT, encoding="utf-8")
    status, out, err = cli("call", str(server), "hi", "--server-stderr")
    assert (status, out) == (0, "hi\n")
    assert "loading...\n" in err and "inside hi\n" in err


def test_serve_picks_the_server_by_name_or_factory(tmp_path):
    server = tmp_path / "two.py"
    server.write_text("import sys\nsys.path.insert(0, %r)\nfrom mcplite import Server\n"
                      "first = Server('first')\nsecond = Server('second')\n"
                      "def build():\n    return Server('built')\nnot_a_server = 3\n" % ROOT, encoding="utf-8")
    status, out, err = cli("ls", str(server))
    assert status == 3 and one_error_line(err, "ls") == (
        "%s has several Servers (first, second): say which, as %s:first" % (server, server))
    for name in ("second", "build"):
        status, out, err = cli("ls", "%s:%s" % (server, name))
        assert status == 0 and out.splitlines()[0].startswith({"second": "second", "build": "built"}[name] + " ")
    status, out, err = cli("ls", "%s:not_a_server" % server)
    assert status == 3 and one_error_line(err, "ls") == "%s:not_a_server is a int, not an mcplite Server" % server
    status, out, err = cli("ls", "%s:missing" % server)
    assert status == 3 and one_error_line(err, "ls") == "%s has no 'missing'" % server


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(proc, port):
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.05)


def _interrupt(proc):
    """Ctrl-C, as a person stops ``serve``; killed by its PID if it does not end in 10 s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def test_serve_http_then_talk_to_it():
    port = free_port()
    proc = subprocess.Popen([PY, "-m", "mcplite", "serve", APP, "--http", str(port)], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_listening(proc, port)
        url = "http://127.0.0.1:%d/mcp" % port
        assert cli("call", url, "add", "a=2", "b=3") == (0, "5\n", "")
        with Client.http(url, era="legacy") as client:
            assert client.server_info == {"name": "cli-test", "version": "3.1.4"}
    finally:
        _interrupt(proc)
    err = proc.stderr.read().decode()
    assert err.startswith("mcplite: serving cli-test at http://127.0.0.1:%d/mcp\n" % port) and "Traceback" not in err
    assert proc.stdout.read() == b""


def test_serve_http_session_prefix_starts_every_session_id():
    # The route token a load balancer keys on (README: Deploying, many machines).
    port = free_port()
    proc = subprocess.Popen([PY, "-m", "mcplite", "serve", APP, "--http", str(port), "--session-prefix", "b7."],
                            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_listening(proc, port)
        ids = []
        for _ in range(3):
            with Client.http("http://127.0.0.1:%d/mcp" % port, era="legacy") as client:
                assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
                ids.append(client._channel.session_id)
        assert len(set(ids)) == 3 and all(i.startswith("b7.") and len(i) > 8 for i in ids), ids
    finally:
        _interrupt(proc)
    status, out, err = cli("serve", APP, "--session-prefix", "b7.")
    assert status == 2 and one_error_line(err, "serve") == (
        "--allowed-host, --allowed-origin and --session-prefix are for --http")
    status, out, err = cli("serve", APP, "--http", "0", "--session-prefix", "a b")
    assert status == 2 and "session_prefix" in one_error_line(err, "serve"), err


def test_serve_refuses_what_it_cannot_serve(tmp_path):
    status, out, err = cli("serve", "nothing.txt")
    assert status == 2 and one_error_line(err, "serve") == "nothing.txt is not a Python file (FILE.py or FILE.py:app)"
    status, out, err = cli("serve", APP, "--http", "0.0.0.0:0")
    assert status == 2 and one_error_line(err, "serve").startswith(
        "refusing to bind 0.0.0.0, which is not a loopback address, without --allowed-host")
    status, out, err = cli("serve", APP, "--http", "host:port")
    assert status == 2 and one_error_line(err, "serve") == "--http takes HOST:PORT (or PORT), not 'host:port'"


# --- bad targets -----------------------------------------------------------------------------------

def test_bad_targets_get_one_line_and_a_status(tmp_path):
    status, out, err = cli("ls", "no-such-command-here --flag")
    assert status == 3 and one_error_line(err, "ls").startswith("no-such-command-here --flag: cannot start the server")
    port = free_port()  # nothing listens there
    status, out, err = cli("ls", "http://127.0.0.1:%d/mcp" % port)
    assert status == 3 and "Connection refused" in one_error_line(err, "ls")
    status, out, err = cli("ls", "missing_file.py")
    assert status == 3 and one_error_line(err, "ls") == "no such file: missing_file.py"
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n", encoding="utf-8")
    status, out, err = cli("ls", str(empty))
    assert status == 3 and one_error_line(err, "ls") == (
        "%s has no mcplite Server at its top level (define one: app = Server(\"name\"))" % empty)
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1\ny = undefined_name + 1\n", encoding="utf-8")
    status, out, err = cli("ls", str(broken))
    assert status == 3 and one_error_line(err, "ls") == (
        "cannot load %s: NameError: name 'undefined_name' is not defined (line 2)" % broken)
    garbage = tmp_path / "garbage.py"
    garbage.write_text("import sys\nfor line in sys.stdin:\n    print('hello?')\n", encoding="utf-8")
    status, out, err = cli("ls", "%s %s" % (PY, garbage), "--timeout", "2", "--era", "legacy")
    assert status == 3 and one_error_line(err, "ls") == (
        "%s %s: No response to initialize within 2 s; the server wrote lines that are not JSON on its stdout, "
        "which a stdio server MUST NOT (the last: 'hello?') (is it an MCP server?)" % (PY, garbage))
    status, out, err = cli("ls", "ftp://example.com/mcp")
    assert status == 2 and one_error_line(err, "ls") == "ftp://example.com/mcp: only http:// and https:// URLs are MCP endpoints"


def test_usage_errors():
    status, out, err = cli("call", APP)
    assert status == 2 and "usage:" in err and "the following arguments are required: TOOL" in err
    status, out, err = cli("ls", APP, "--era", "future")
    assert status == 2 and "invalid choice: 'future'" in err
    status, out, err = cli("ls", APP, "--protocol-version", "1999-01-01")
    assert status == 2 and one_error_line(err, "ls") == "unknown protocol version '1999-01-01'"
    status, out, err = cli("ls", APP, "-H", "no colon")
    assert status == 2
    status, out, err = cli("--help")
    assert status == 0 and "Exit status: 0 ok, 1 failed, 2 usage, 3 connection, 4 protocol error, 5" in out.replace("\n", " ").replace("  ", " ") or status == 0


# --- on a terminal ---------------------------------------------------------------------------------

def test_serve_trace_shows_the_servers_side():
    status, out, err = cli("call", "%s -m mcplite serve %s --trace" % (PY, APP), "add", "a=1", "b=2",
                           "--server-stderr", "--era", "legacy")
    assert (status, out) == (0, "3\n")
    received = [json.loads(line.split(" -> ", 1)[1]) for line in err.splitlines() if " -> " in line]
    sent = [json.loads(line.split(" <- ", 1)[1]) for line in err.splitlines() if " <- " in line]
    assert [m.get("method") for m in received] == ["initialize", "notifications/initialized", "tools/list",
                                                   "tools/call"]
    assert [m.get("id") for m in sent] == [1, 2, 3] and sent[2]["result"]["structuredContent"] == {"result": 3}


class Terminal:
    """The command line on a pseudo-terminal, as a person at a keyboard has it."""

    def __init__(self, *args):
        import pty
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([PY, "-m", "mcplite"] + list(args), cwd=ROOT, stdin=slave, stdout=slave,
                                     stderr=slave, env=dict(os.environ, TERM="dumb"), start_new_session=True)
        os.close(slave)
        self.seen = b""

    def expect(self, text, timeout=30):
        import select
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "waited for %r; the terminal shows:\n%s" % (text, self.seen.decode("utf-8", "replace"))
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, "the program ended; the terminal shows:\n%s" % self.seen.decode("utf-8", "replace")
                self.seen += chunk
        shown, self.seen = self.seen, self.seen[self.seen.index(text.encode()) + len(text.encode()):]
        return shown.decode("utf-8", "replace")

    def type(self, text):
        os.write(self.master, text.encode())

    def close(self):
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        os.close(self.master)
        return self.proc.returncode


def readline_missing():
    try:
        import readline  # noqa: F401
    except ImportError:
        return True
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
@pytest.mark.skipif(readline_missing(), reason="this Python has no readline: nothing completes")
def test_shell_on_a_terminal_prompts_and_completes():
    term = Terminal("shell", APP)
    try:
        shown = term.expect("mcp> ")
        assert "Connected to cli-test 3.1.4 (protocol 2026-07-28)" in shown
        term.type("call cou\t")  # readline completes the tool's name
        term.expect("count_to")
        term.type(" n=2\r")
        shown = term.expect("mcp> ")
        assert "counted to 2" in shown and "\x1b[K[##########          ] 1/2 step 1" in shown
        term.type("quit\r")
    finally:
        assert term.close() == 0


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_a_question_from_the_server_is_asked_on_the_terminal(era):
    term = Terminal("call", os.path.join(ROOT, "examples", "jobs_server.py"), "delete_branch", "branch=spike",
                    "--era", era)
    try:
        shown = term.expect("confirm (boolean): ")
        assert "The server asks: Delete branch spike?" in shown
        term.type("perhaps\r")
        term.expect("expected boolean, got 'perhaps'")
        term.expect("confirm (boolean): ")
        term.type("yes\r")
        term.expect("deleted spike")
    finally:
        assert term.close() == 0


# --- what a demanding user tries ---------------------------------------------------------------------

def leftover_processes(marker):
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except (OSError, ValueError):
            pass
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds processes in /proc")
def test_a_server_that_leaves_a_child_holding_its_stdout_neither_hangs_nor_leaks(tmp_path):
    marker = "mcplite-leftover-%d" % os.getpid()
    script = tmp_path / "wrapper.sh"
    script.write_text("%s -c 'import time; time.sleep(300)' %s &\nsleep 300\n" % (PY, marker), encoding="utf-8")
    started = time.monotonic()
    status, out, err = cli("ls", "sh %s" % script, "--timeout", "1", "--era", "legacy")
    assert time.monotonic() - started < 15
    assert status == 3 and "No response to initialize within 1 s" in one_error_line(err, "ls")
    deadline = time.monotonic() + 5
    while leftover_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leftover_processes(marker) == []


def test_a_modern_server_that_answers_the_probe_late_is_still_spoken_to():
    # The probe gives up after --timeout (4 s), initialize follows, the server (up after
    # 4.5 s and a start that may take a while on a loaded machine, within the 4 s initialize
    # may wait) reads the probe first, so it refuses initialize with -32022 naming
    # 2026-07-28: the client goes back to that.
    status, out, err = cli("ls", "sh -c 'sleep 4.5; exec %s -m mcplite serve %s'" % (PY, APP), "--timeout", "4")
    assert (status, err) == (0, "") and out.startswith("cli-test 3.1.4, protocol 2026-07-28\n")


def test_no_version_in_common_is_exit_4_with_what_the_server_offers():
    # Before, a made-up "error -32022" the server never sent; the status stays 4.
    misbehaving = "%s %s" % (PY, os.path.join(HERE, "client_misbehaving_server.py"))
    target = misbehaving + " --discover unsupported-legacy"
    status, out, err = cli("ls", target, "--era", "modern")
    assert (status, out) == (4, "")
    assert one_error_line(err, "ls") == ("%s: The server speaks none of our modern protocol versions: it offers "
                                         "2025-11-25, 2025-06-18 (try --era legacy)" % target)
    target = misbehaving + " --init-version 1999-01-01"
    status, out, err = cli("ls", target)
    assert (status, out) == (4, "")
    assert one_error_line(err, "ls") == ("%s: The server answered initialize with protocol version '1999-01-01', "
                                         "which this client does not speak" % target)


def test_a_server_that_prints_garbage_and_exits():
    status, out, err = cli("ls", "echo garbage")
    assert status == 3 and one_error_line(err, "ls") == (
        "echo garbage: the server exited with status 0; its last line that was not JSON: 'garbage'")
    status, out, err = cli("ls", "true")
    assert status == 3 and one_error_line(err, "ls") == "true: the server exited with status 0"


def test_raw_waits_for_the_answers_to_a_batch(tmp_path):
    server = tmp_path / "batching.py"
    server.write_text("import json, sys, time\nfor line in sys.stdin:\n    batch = json.loads(line)\n"
                      "    time.sleep(0.5)\n    print(json.dumps([{'jsonrpc': '2.0', 'id': m['id'], 'result': {}} "
                      "for m in batch]), flush=True)\n", encoding="utf-8")
    batch = '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]'
    status, out, err = cli("raw", "%s %s" % (PY, server), batch)
    assert (status, err) == (0, "")
    assert [m["id"] for m in json.loads(out)] == [1, 2]


def test_raw_over_http_prints_what_came_back_and_refuses_what_is_not_json_rpc(http_url):
    # The server's own error, exactly as it came: no session was opened.
    status, out, err = cli("raw", http_url, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
    assert status == 0 and json.loads(out)["id"] == 1 and json.loads(out)["error"]["code"] == -32600
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    class Quiet(BaseHTTPRequestHandler):  # no do_POST: 501 with an HTML page
        def log_message(self, *args):
            pass

    web = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d/mcp" % web.server_address[1]
        status, out, err = cli("raw", url, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
        assert (status, out) == (3, "")
        assert one_error_line(err, "raw").startswith(url + " answered HTTP 501 ")
        assert one_error_line(err, "raw").endswith(": not a JSON-RPC answer")
        status, out, err = cli("ls", url)
        assert (status, out) == (3, "")
        assert one_error_line(err, "ls").startswith(url + ": HTTP 501, not a JSON-RPC answer (is this an MCP endpoint?): ")
        assert len(one_error_line(err, "ls")) < 250
    finally:
        web.shutdown()
        web.server_close()


def test_ctrl_c_cancels_the_call():
    # SIGINT as at a terminal: a shell without job control (CI's, say) starts background
    # commands with it ignored, and Python then leaves it ignored.
    proc = subprocess.Popen([PY, "-m", "mcplite", "call", APP, "count_to", "n=3000", "--trace"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    err = err.decode()
    assert proc.returncode == 130 and out == b""
    assert '"method":"notifications/cancelled","params":{"requestId":3,"reason":"interrupted"}' in err
    assert "Traceback" not in err


def test_output_that_cannot_be_written():
    with open("/dev/full", "w") as full:
        proc = subprocess.run([PY, "-m", "mcplite", "ls", APP], cwd=ROOT, stdout=full, stderr=subprocess.PIPE,
                              timeout=TIMEOUT)
    assert proc.returncode == 1
    assert one_error_line(proc.stderr.decode(), "ls") == "input/output error: [Errno 28] No space left on device"
    proc = subprocess.run("%s -m mcplite ls %s >&-" % (PY, APP), shell=True, cwd=ROOT, stderr=subprocess.PIPE,
                          timeout=TIMEOUT)
    assert proc.returncode == 1 and one_error_line(proc.stderr.decode(), "ls") == "stdout is closed"


def test_targets_with_spaces_directories_and_arguments(tmp_path):
    spaced = tmp_path / "my notes.py"
    spaced.write_text(open(APP, encoding="utf-8").read(), encoding="utf-8")
    status, out, err = cli("ls", str(spaced))
    assert status == 0 and out.startswith("cli-test ")
    (tmp_path / "pkg.py").mkdir()
    status, out, err = cli("ls", str(tmp_path / "pkg.py"))
    assert status == 3 and one_error_line(err, "ls") == "%s is a directory, not a server file" % (tmp_path / "pkg.py")
    status, out, err = cli("ls", "%s --verbose" % APP)
    assert status == 3 and one_error_line(err, "ls").endswith("(to run a Python file with arguments: \"python3 %s ...\")"
                                                               % APP)
    status, out, err = cli("serve", APP, "--http", "::1")
    assert status == 2 and one_error_line(err, "serve") == (
        "--http: an IPv6 address goes in brackets, with the port: [::1]:8000")


def test_options_between_arguments_and_options_that_disagree():
    assert cli("call", APP, "add", "a=1", "--timeout", "5", "b=2") == (0, "3\n", "")
    assert cli("call", APP, "add", "--arguments", '{"a": 1}', "b=2") == (0, "3\n", "")
    status, out, err = cli("call", APP, "describe", "--json", "name=x")
    assert status == 0 and json.loads(out)["structuredContent"]["name"] == "x"
    status, out, err = cli("call", APP, "add", "--arguments", "[1, 2]")
    assert status == 2 and one_error_line(err, "call") == "the arguments must be a JSON object, not list"
    # --json is the output flag only: JSON arguments after it are told where they go.
    status, out, err = cli("call", APP, "add", "--json", '{"a": 1, "b": 2}')
    assert status == 2 and one_error_line(err, "call") == (
        "arguments are key=value (or key:=JSON), not '{\"a\": 1, \"b\": 2}' (all of them as JSON: --arguments '{...}')")
    status, out, err = cli("ls", APP, "--era", "legacy", "--protocol-version", "2026-07-28")
    assert status == 2 and one_error_line(err, "ls") == "--protocol-version 2026-07-28 is a modern version, and --era says legacy"
    for value in ("0", "-1", "inf", "nan"):
        status, out, err = cli("ls", APP, "--timeout", value)
        assert status == 2 and err.splitlines()[-1].endswith(
            "argument --timeout: must be a positive number of seconds (at most 1000000), not %r" % value)


@pytest.mark.parametrize("pair,message", [
    ("count=1_000", "argument 'count': expected integer, got '1_000'"),
    ("count=\u0661\u0662", "argument 'count': expected integer, got '\u0661\u0662'"),
    ("ratio=nan", "argument 'ratio': expected number, got 'nan'"),
    ("ratio=inf", "argument 'ratio': expected number, got 'inf'"),
    ("extra:={\"x\": NaN}", "argument 'extra': '{\"x\": NaN}' is not JSON (NaN is not JSON)"),
])
def test_numbers_are_what_json_can_carry(pair, message):
    status, out, err = cli("call", APP, "describe", "name=x", pair)
    assert status == 2 and one_error_line(err, "call") == message


def test_a_url_with_a_token_in_its_query_keeps_it_out_of_the_trace(http_url):
    status, out, err = cli("ls", http_url + "?token=SECRET-123", "--trace")
    assert status == 0 and "SECRET" not in err and "POST /mcp?token=<hidden>" in err


def test_call_runs_a_tool_that_needs_a_task_as_one(tmp_path):
    # 2026-07-28: the server refuses the plain call with -32021 naming the tasks extension;
    # the command line calls again declaring it, waits for the task, and prints its result.
    app = tmp_path / "task_app.py"
    app.write_text("from mcplite import Server\n"
                   "app = Server('task-app', task_poll_interval_ms=20)\n"
                   "@app.tool(task='required')\n"
                   "def crunch(n: int) -> str:\n"
                   "    return 'crunched %d' % n\n", encoding="utf-8")
    status, out, err = cli("call", str(app), "crunch", "n=4", "--trace")
    assert status == 0 and out == "crunched 4\n"
    assert '"code":-32021' in err and '"method":"tasks/get"' in err and '"status":"completed"' in err
    status, out, err = cli("call", str(app), "crunch", "n=4", "--era", "legacy")
    assert status != 0 and out == ""
