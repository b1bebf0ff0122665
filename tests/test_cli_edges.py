"""Edges of the command line (issue 21): ``--version``; the server's own words when the
URL's path is wrong (mcplite's "the MCP endpoint is /mcp", or another server's page, one
line, bounded, control characters escaped); a 401 or 403 whose body is JSON-RPC reported as
the authorization problem it is (by the library's ``HttpError`` too); ``raw`` no longer
waiting for a request it cancelled itself (nor reporting a request whose HTTP exchange
timed out as answered); ``--arguments``, the one spelling of the arguments as JSON in the
help (``--json`` is the output).

The CLI runs as a subprocess (``python -m mcplite``); servers run in this process on
127.0.0.1 (port 0) and are stopped by fixtures; every wait is bounded.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cli_app import make_cli_app
from mcplite import LEGACY_VERSIONS, MODERN_VERSIONS, Client, HttpError, __version__

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
APP = os.path.join(HERE, "cli_app.py")
PY = sys.executable
TIMEOUT = 60

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
SLOW_CALL = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
             "params": {"name": "count_to", "arguments": {"n": 6000}}}  # a minute of work
CANCEL = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2, "reason": "enough"}}


def cli(*args, stdin=None, timeout=TIMEOUT):
    """Run the command line; (status, stdout, stderr). Never a traceback."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    proc = subprocess.run([PY, "-m", "mcplite"] + list(args), cwd=ROOT, env=env,
                          input=stdin.encode() if stdin is not None else b"", stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert "Traceback" not in err and "Traceback" not in out, err
    return proc.returncode, out, err


def one_error_line(err, command):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    prefix = "python -m mcplite %s: error: " % command
    assert lines[0].startswith(prefix) or (": error: " in lines[0] and os.environ.get("MCPLITE_VENDORED")), lines
    return lines[0].split(": error: ", 1)[1]


@pytest.fixture(scope="module")
def app_url():
    with make_cli_app().run_in_thread("http", port=0) as handle:
        yield handle.url


@pytest.fixture
def canned():
    """``canned(status, headers, body)``: the URL of a server answering every GET and POST
    with that, whatever the path."""
    servers = []

    def start(status, headers, body):
        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        return "http://127.0.0.1:%d/mcp" % httpd.server_address[1]
    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


# --- --version -----------------------------------------------------------------------------------

def test_version():
    status, out, err = cli("--version")
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "mcplite %s" % __version__,
        "protocol versions: %s (modern: server/discover); %s (legacy: initialize)" % (
            ", ".join(sorted(MODERN_VERSIONS, reverse=True)), ", ".join(sorted(LEGACY_VERSIONS, reverse=True)))]
    assert out.splitlines()[1].startswith("protocol versions: 2026-07-28 (modern: server/discover); 2025-11-25, ")
    assert "--version" in cli("--help")[1]


# --- the server's own words on a wrong path ----------------------------------------------------------

@pytest.mark.parametrize("era", ["auto", "legacy"])
def test_a_wrong_path_shows_what_the_server_says(app_url, era):
    wrong = app_url.rsplit("/", 1)[0] + "/wrong"
    status, out, err = cli("ls", wrong, "--era", era)
    assert (status, out) == (3, "")
    assert one_error_line(err, "ls") == (
        "%s: not an MCP endpoint (HTTP 404); the server says: Not found: the MCP endpoint is /mcp" % wrong)


def test_a_wrong_path_in_the_modern_era_shows_it_too(app_url):
    wrong = app_url.rsplit("/", 1)[0] + "/wrong"
    status, out, err = cli("ls", wrong, "--era", "modern")
    assert status == 4
    assert one_error_line(err, "ls") == "%s: Not found: the MCP endpoint is /mcp (error -32600)" % wrong


def test_another_servers_404_page_is_one_bounded_line_without_control_characters(canned):
    page = (b"<!doctype html><html><head><title>Nothing here</title><style>p{color:red}</style></head>"
            b"<body><p>Try \x1b[31m/api/mcp&amp;co\r\nor ask\x07 us.</p></body></html>")
    url = canned(404, [("Content-Type", "text/html")], page)
    status, out, err = cli("ls", url)
    assert (status, out) == (3, "")
    assert one_error_line(err, "ls") == (
        "%s: not an MCP endpoint (HTTP 404); the server says: Nothing here Try \\x1b[31m/api/mcp&co or ask\\x07 us."
        % url)
    long_text = ("word " * 100).encode("ascii")
    url = canned(404, [("Content-Type", "text/plain")], long_text)
    status, out, err = cli("ls", url)
    said = one_error_line(err, "ls").split("; the server says: ", 1)[1]
    assert status == 3 and len(said) == 160 and said.startswith("word word ") and said.endswith("...")


def test_an_http_error_body_is_shown_as_one_line(canned):
    # Not 400/404/405 (no fallback to HTTP+SSE): the status, and the JSON body's message.
    url = canned(500, [("Content-Type", "application/json")], b'{"message": "database\\u001b down\\nsorry"}')
    status, out, err = cli("ls", url)
    assert (status, out) == (3, "")
    assert one_error_line(err, "ls") == (
        "%s: HTTP 500, not a JSON-RPC answer (is this an MCP endpoint?): database\\x1b down sorry" % url)


# --- a 401 or 403 whose body is JSON-RPC --------------------------------------------------------------

JSONRPC_401 = json.dumps({"jsonrpc": "2.0", "id": None,
                          "error": {"code": -32001, "message": "Token missing"}}).encode("utf-8")


def test_a_401_with_a_json_rpc_body_is_an_authorization_problem(canned):
    url = canned(401, [("Content-Type", "application/json"), ("WWW-Authenticate", 'Bearer realm="mcp"')],
                 JSONRPC_401)
    with pytest.raises(HttpError) as info:
        Client.http(url, timeout=10, probe_timeout=5)
    assert info.value.status == 401
    assert info.value.message == ('HTTP 401 with the JSON-RPC error -32001 "Token missing" from %s: Bearer realm="mcp"'
                                  % url)
    assert "not JSON-RPC" not in info.value.message
    status, out, err = cli("ls", url)
    assert (status, out) == (3, "")
    assert one_error_line(err, "ls") == (
        "the server at %s requires authorization (HTTP 401: Token missing): use --oauth to sign in in a browser, "
        "--client-id ID --client-secret SECRET for client credentials, or --bearer TOKEN" % url)
    status, out, err = cli("raw", url, json.dumps(INIT))
    assert (status, out) == (3, "")
    assert one_error_line(err, "raw").startswith("the server at %s requires authorization (HTTP 401: Token missing)"
                                                 % url)


def test_a_401_with_a_body_that_is_not_json_rpc_keeps_its_library_message(canned):
    url = canned(401, [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")], b"Unauthorized\n")
    with pytest.raises(HttpError) as info:
        Client.http(url, timeout=10, probe_timeout=5)
    assert info.value.message == "HTTP 401 with a body that is not JSON-RPC from %s: Bearer" % url
    status, out, err = cli("ls", url)
    assert one_error_line(err, "ls").startswith("the server at %s requires authorization (HTTP 401: Unauthorized): "
                                                "use --oauth" % url)


def test_a_403_is_refused_access(app_url):
    status, out, err = cli("ls", app_url, "-H", "Origin: http://evil.example")
    assert (status, out) == (3, "")
    assert one_error_line(err, "ls") == (
        "the server at %s refused access (HTTP 403: Forbidden: Origin not allowed)" % app_url)


# --- raw and a cancellation it sent -------------------------------------------------------------------------

def lines_of(*messages):
    return "".join(json.dumps(m) + "\n" for m in messages)


def test_raw_over_stdio_does_not_wait_for_a_request_it_cancelled():
    started = time.monotonic()
    status, out, err = cli("raw", APP, "--timeout", "30", stdin=lines_of(INIT, INITIALIZED, SLOW_CALL, CANCEL))
    elapsed = time.monotonic() - started
    assert (status, err) == (0, "")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1]
    assert elapsed < 15, "raw waited %.1f s for the request it cancelled" % elapsed


def test_raw_over_http_does_not_wait_for_a_request_it_cancelled(app_url):
    started = time.monotonic()
    status, out, err = cli("raw", app_url, "--timeout", "30", stdin=lines_of(INIT, INITIALIZED, SLOW_CALL, CANCEL))
    elapsed = time.monotonic() - started
    assert (status, err) == (0, "")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1]
    assert elapsed < 15, "raw waited %.1f s for the request it cancelled" % elapsed


def test_raw_over_http_reports_a_request_not_answered_in_time(app_url):
    # Without the cancellation: the request's exchange times out, which is no answer (exit 4),
    # and raw does not then wait a second --timeout.
    started = time.monotonic()
    status, out, err = cli("raw", app_url, "--timeout", "2", stdin=lines_of(INIT, INITIALIZED, SLOW_CALL))
    elapsed = time.monotonic() - started
    assert status == 4
    assert one_error_line(err, "raw") == "no answer to request 2 within 2 s"
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1]
    assert elapsed < 15


def test_raw_cancelling_a_request_it_did_not_send_changes_nothing():
    # A cancellation naming an id never sent: request 2 is still waited for (and answered).
    other = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 99}}
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    status, out, err = cli("raw", APP, stdin=lines_of(INIT, INITIALIZED, other, ping))
    assert (status, err) == (0, "")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1, 2]


# --- --json is the output, --arguments the input ----------------------------------------------------------------

def flat(text):
    return " ".join(text.split())


def test_the_help_names_both_and_json_arguments_point_to_arguments():
    for command in ("call", "prompt"):
        status, out, _ = cli(command, "--help")
        assert status == 0
        text = flat(out)
        assert "--arguments JSON input: the arguments as one JSON object (--json is for the output)" in text
        assert "--json output: print the results as the server sent them (JSON), nothing else" in text
        assert "--json '{" not in text
    status, out, err = cli("call", APP, "add", '{"a": 1, "b": 2}')
    assert (status, out) == (2, "")
    assert one_error_line(err, "call") == (
        "arguments are key=value (or key:=JSON), not '{\"a\": 1, \"b\": 2}' (all of them as JSON: "
        "--arguments '{...}')")
    # A JSON object with "=" in it is no key=value either.
    status, out, err = cli("call", APP, "add", '{"a": "x=1"}')
    assert status == 2 and one_error_line(err, "call").endswith("(all of them as JSON: --arguments '{...}')")
    assert cli("call", APP, "add", "--arguments", '{"a": 1, "b": 2}') == (0, "3\n", "")


def test_a_missing_tool_name_is_the_only_thing_said_missing():
    # key=value pairs are optional (a tool may take no arguments), and so are raw's messages
    # (stdin otherwise): argparse must not say "the following arguments are required: TOOL, key=value".
    for args, missing in ((["call", APP], "TOOL"), (["prompt", APP], "NAME"), (["raw"], "TARGET")):
        status, out, err = cli(*args)
        assert (status, out) == (2, ""), err
        assert err.splitlines()[-1].endswith(": error: the following arguments are required: %s" % missing), err
    assert cli("call", APP, "add", "a=1", "b=2")[:2] == (0, "3\n")


def test_the_shell_help_names_arguments():
    status, out, err = cli("shell", APP, stdin="help call\nhelp json\nquit\n")
    assert status == 0
    assert "call TOOL [key=value | key:=JSON ...] [--arguments '{...}']: call a tool." in out
    assert "json on|off: print results as the JSON the server sent (output; arguments: --arguments)." in out
    status, out, err = cli("shell", APP, stdin="call add --arguments '{\"a\": 2, \"b\": 2}'\nquit\n")
    assert (status, out, err) == (0, "4\n", "")
    # Plain "help" lists the verbs one can type; EOF (Ctrl-D) is cmd's, not one of them.
    status, out, err = cli("shell", APP, stdin="help\nquit\n")
    assert status == 0 and "call" in out and "quit" in out
    assert "EOF" not in out and "Undocumented" not in out


def test_messages_are_sanitized_by_one_rule():
    # (The rule itself: white space runs as one space, other controls and bidi overrides
    # escaped, "..." when cut.)
    from mcplite.cli import cli_one_line
    assert cli_one_line("a\tb\r\n c\x00d\u202ee\x9b", 100) == "a b c\\x00d\\u202ee\\x9b"
    assert cli_one_line("x" * 20, 10) == "xxxxxxx..."
    assert re.match(r"^[ -~]*$", cli_one_line("".join(chr(c) for c in range(0, 0xA0)), 1000))
