"""``python -m mcplite check TARGET`` as a user runs it: a subprocess, its real output and
exit status.

Targets: ``examples/notes_server.py`` as a server file and as a stdio command, the same
server over HTTP (``run_in_thread`` in this process), the official Python SDK's server
(``bench/servers/sdk_add.py`` over stdio, ``bench/servers/http_servers.py sdk`` over HTTP,
both under ``$MCPLITE_SDK_PYTHON``), small broken servers written here (stdio scripts in
``tmp_path``, a lax HTTP server in this process) whose FAIL lines prove the probe sees what
it claims to, and targets that cannot be reached at all (exit 3, one line on stderr).

Every verdict of every check is asserted exactly: a change in the probe, in mcplite's server
or in the pinned SDK shows up here.

Under MCPLITE_VENDORED (scripts/test_vendored) ``python -m mcplite`` runs the one-file build.
"""

import importlib.util
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler

import pytest

from harness_support import serving
from interop_support import sdk_http_server, sdk_python_fixture

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NOTES = os.path.join(ROOT, "examples", "notes_server.py")
SDK_ADD = os.path.join(ROOT, "bench", "servers", "sdk_add.py")
PY = sys.executable
TIMEOUT = 90  # for one whole `check` run (a normal one takes ~0.5 s, the SDK's ~3 s)

sdk_python = sdk_python_fixture("mcp.server.mcpserver")

# The verdicts, check by check, in the order they are shown.
MODERN_STDIO_ALL_PASS = [
    ("discover", "pass"), ("server-info", "pass"), ("unsupported-version", "pass"), ("missing-meta", "pass"),
    ("unknown-method", "pass"), ("notification", "pass"), ("parse-error", "pass"), ("stdout-clean", "pass"),
    ("stdin-closed", "pass")]
LEGACY_STDIO_ALL_PASS = [
    ("initialize", "pass"), ("initialize-refusal", "skip"), ("initialized", "pass"), ("ping", "pass"),
    ("unknown-method", "pass"), ("parse-error", "pass"), ("version-negotiation", "pass"), ("stdout-clean", "pass")]
MODERN_HTTP_ALL_PASS = [
    ("discover", "pass"), ("server-info", "pass"), ("unsupported-version", "pass"), ("missing-meta", "pass"),
    ("unknown-method", "pass"), ("notification", "pass"), ("parse-error", "pass"),
    ("header-version-missing", "pass"), ("header-version-mismatch", "pass"), ("header-method-missing", "pass"),
    ("header-method-mismatch", "pass"), ("header-name-missing", "pass"), ("header-name-mismatch", "pass"),
    ("origin", "pass"), ("get", "pass"), ("delete", "pass")]
LEGACY_HTTP_ALL_PASS = [
    ("initialize", "pass"), ("initialize-refusal", "skip"), ("session-id", "pass"), ("initialized", "pass"),
    ("ping", "pass"), ("unknown-method", "pass"), ("parse-error", "pass"), ("session-required", "pass"),
    ("session-unknown", "pass"), ("protocol-version-header", "pass"), ("origin", "pass"),
    ("version-negotiation", "pass"), ("delete", "pass")]


def check(*args, timeout=TIMEOUT):
    """Run ``check``; (status, stdout, stderr). Never a traceback, whatever happens."""
    proc = subprocess.run([PY, "-m", "mcplite", "check"] + list(args), cwd=ROOT, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert "Traceback" not in err and "Traceback" not in out, err
    return proc.returncode, out, err


def check_json(*args):
    """``check --json``: (status, the document, stderr)."""
    status, out, err = check("--json", *args)
    return status, json.loads(out), err


def verdicts(document, era):
    return [(r["id"], r["status"]) for r in document["results"] if r["era"] == era]


def detail(document, era, check_id):
    found = [r["detail"] for r in document["results"] if r["era"] == era and r["id"] == check_id]
    assert len(found) == 1, (era, check_id)
    return found[0]


def text_verdicts(out):
    """The check lines of the text output: [(STATUS, id)], and the headings."""
    lines = out.splitlines()
    rows = [tuple(line.split()[:2]) for line in lines if line.startswith("  ")]
    headings = [line for line in lines if not line.startswith("  ")]
    return rows, headings


def one_error_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert ": error: " in lines[0], lines
    if not os.environ.get("MCPLITE_VENDORED"):
        assert lines[0].startswith("python -m mcplite check: error: "), lines
    return lines[0].split(": error: ", 1)[1]


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# --- mcplite's own server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notes_app():
    spec = importlib.util.spec_from_file_location("_check_notes_server", NOTES)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its TypedDict's annotations are looked up there on 3.8)
    spec.loader.exec_module(module)
    return module.app


def test_server_file_passes_everything():
    status, out, err = check("examples/notes_server.py")
    assert (status, err) == (0, "")
    rows, headings = text_verdicts(out)
    assert headings == ["2026-07-28 (modern: server/discover, per-request _meta), stdio",
                        "legacy (initialize, 2025-11-25), stdio",
                        "17 checks: 16 passed, 0 failed, 0 warnings, 1 skipped"]
    assert rows == [(s.upper(), i) for i, s in MODERN_STDIO_ALL_PASS + LEGACY_STDIO_ALL_PASS]
    assert "  PASS  discover             versions 2026-07-28; capabilities: logging, prompts, resources, tools\n" in out
    assert "  PASS  version-negotiation  initialize 1900-01-01 was answered with 2025-11-25\n" in out


def test_stdio_command_json():
    status, doc, err = check_json("%s %s" % (shlex.quote(PY), shlex.quote(NOTES)))
    assert (status, err) == (0, "")
    assert doc["transport"] == "stdio"
    assert doc["summary"] == {"passed": 16, "failed": 0, "warnings": 0, "skipped": 1}
    assert doc["ok"] is True
    assert verdicts(doc, "modern") == MODERN_STDIO_ALL_PASS
    assert verdicts(doc, "legacy") == LEGACY_STDIO_ALL_PASS
    assert set(doc["results"][0]) == {"id", "era", "status", "detail"}
    assert detail(doc, "modern", "parse-error") == "error -32700 with id null; the server kept serving"
    assert detail(doc, "legacy", "initialize").startswith("notes 1.0.0, version 2025-11-25; ")


def test_http_server_passes_everything(notes_app):
    with notes_app.run_in_thread("http", host="127.0.0.1", port=0) as handle:
        status, doc, err = check_json(handle.url)
        sessions_after = handle.app.session_count()
    assert (status, err) == (0, "")
    assert doc["transport"] == "http"
    assert verdicts(doc, "modern") == MODERN_HTTP_ALL_PASS
    assert verdicts(doc, "legacy") == LEGACY_HTTP_ALL_PASS
    assert detail(doc, "modern", "unknown-method") == "error -32601 (HTTP 404)"
    assert detail(doc, "modern", "header-name-mismatch") == (
        "Mcp-Name naming another tool than the body: HTTP 400 with error -32020")
    assert detail(doc, "legacy", "delete") == "DELETE: HTTP 200; the session is gone after (HTTP 404)"
    # Every session the probe opened (the main one, the version rule's) was deleted.
    assert sessions_after == 0


def test_era_and_protocol_version_options(notes_app):
    status, doc, err = check_json("--era", "legacy", "examples/notes_server.py")
    assert (status, err) == (0, "")
    assert {r["era"] for r in doc["results"]} == {"legacy"}
    status, doc, err = check_json("--protocol-version", "2025-06-18", "examples/notes_server.py")
    assert (status, err) == (0, "")
    assert doc["versions"]["legacy"] == "2025-06-18"
    assert verdicts(doc, "legacy") == LEGACY_STDIO_ALL_PASS
    assert detail(doc, "legacy", "initialize").startswith("notes 1.0.0, version 2025-06-18; ")
    with notes_app.run_in_thread("http", host="127.0.0.1", port=0) as handle:
        status, doc, err = check_json("--protocol-version", "2025-03-26", handle.url)
    assert (status, err) == (0, "")
    legacy = dict(verdicts(doc, "legacy"))
    # 2025-03-26 has no MCP-Protocol-Version header, and no 403 rule for a bad Origin.
    assert legacy["protocol-version-header"] == "skip"
    assert legacy["origin"] == "pass"
    assert [r["era"] for r in doc["results"]] == ["legacy"] * len(LEGACY_HTTP_ALL_PASS)


@pytest.mark.parametrize("args, message", [
    (["--header", "X-Token: 1", "examples/notes_server.py"], "--header is for HTTP targets"),
    (["--protocol-version", "latest", "examples/notes_server.py"],
     "a protocol version is a date such as 2026-07-28, not 'latest'"),
    (["--era", "legacy", "--protocol-version", "2026-07-28", "examples/notes_server.py"],
     "--protocol-version 2026-07-28 belongs to the modern era, and --era says legacy"),
    (["ftp://example.com/mcp"], "ftp://example.com/mcp: only http:// and https:// URLs are MCP endpoints"),
])
def test_usage_errors(args, message):
    status, out, err = check(*args)
    assert (status, out) == (2, "")
    assert one_error_line(err) == message


def test_a_timeout_that_is_not_positive_is_a_usage_error():
    status, out, err = check("--timeout", "0", "examples/notes_server.py")
    assert (status, out) == (2, "")
    assert err.splitlines()[-1].endswith(
        "error: argument --timeout: must be a positive number of seconds (at most 1000000), not '0'")


# --- --trace ---------------------------------------------------------------------------------------


def test_trace_over_stdio():
    status, out, err = check("--trace", "--era", "modern", "examples/notes_server.py")
    assert status == 0
    assert out.splitlines()[-1] == "9 checks: 9 passed, 0 failed, 0 warnings, 0 skipped"
    sent = [line for line in err.splitlines() if " -> " in line]
    received = [line for line in err.splitlines() if " <- " in line]
    assert sent[0].endswith(' -> {"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{'
                            '"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/'
                            'clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"mcplite-check",'
                            '"version":"1.0"}}}}')
    assert received[0].split(" <- ", 1)[1].startswith('{"jsonrpc":"2.0","id":1,"result":{"supportedVersions":')
    # The line that is not JSON crosses exactly as sent, and so does the error it gets.
    assert any(line.endswith(' -> {"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]') for line in sent)
    assert any('"id":null,"error":{"code":-32700' in line for line in received)
    assert " .. check modern discover PASS: " in err
    assert all(line[:12].count(":") == 2 and line[8] == "." for line in sent + received)  # HH:MM:SS.mmm


def test_trace_over_http(notes_app):
    with notes_app.run_in_thread("http", host="127.0.0.1", port=0) as handle:
        status, out, err = check("--trace", "--era", "modern", handle.url)
    assert status == 0
    lines = err.splitlines()
    first = next(i for i, line in enumerate(lines) if line.endswith(" -> POST /mcp"))
    assert [line.strip() for line in lines[first + 1:first + 5]] == [
        "Content-Type: application/json", "Accept: application/json, text/event-stream",
        "MCP-Protocol-Version: 2026-07-28", "Mcp-Method: server/discover"]
    assert lines[first + 5].endswith(' -> {"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{'
                                     '"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/'
                                     'clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":'
                                     '"mcplite-check","version":"1.0"}}}}')
    assert any(line.endswith(" <- HTTP 403 Forbidden") for line in lines)
    assert any(line.endswith(" <- HTTP 405 Method Not Allowed") for line in lines)
    assert any(line.strip() == "Origin: %s" % "http://evil.example" for line in lines)


# --- the official SDK's server -------------------------------------------------------------------------

# What mcp 2.3.0's server does: everything, except that over stdio it stays silent on a line
# that is not JSON (no -32700; it keeps serving) - a WARN, as MCP's stdio transport forbids the
# client to send such a line. Over HTTP it takes a request without MCP-Protocol-Version for a
# legacy one (400 "Missing session ID"), which 2026-07-28 allows.
SDK_STDIO_MODERN = [(i, "warn" if i == "parse-error" else s) for i, s in MODERN_STDIO_ALL_PASS]
SDK_STDIO_LEGACY = [(i, "warn" if i == "parse-error" else s) for i, s in LEGACY_STDIO_ALL_PASS]


def test_sdk_server_over_stdio(sdk_python):
    status, doc, err = check_json("%s %s" % (shlex.quote(sdk_python), shlex.quote(SDK_ADD)))
    assert (status, err) == (0, "")
    assert verdicts(doc, "modern") == SDK_STDIO_MODERN
    assert verdicts(doc, "legacy") == SDK_STDIO_LEGACY
    assert doc["summary"] == {"passed": 14, "failed": 0, "warnings": 2, "skipped": 1}
    assert detail(doc, "modern", "discover") == "versions 2026-07-28; capabilities: prompts, resources, tools"
    assert detail(doc, "modern", "server-info") == "bench 1.0.0"
    assert detail(doc, "modern", "parse-error") == (
        "a line that is not JSON got no answer (JSON-RPC answers it with -32700); the server kept serving")
    assert detail(doc, "legacy", "version-negotiation") == "initialize 1900-01-01 was answered with 2025-11-25"


@pytest.fixture(scope="module")
def sdk_http_url(sdk_python, tmp_path_factory):
    """The SDK's ``MCPServer`` on streamable-http (SSE answers) at 127.0.0.1."""
    with sdk_http_server(sdk_python, tmp_path_factory.mktemp("sdk-check")) as url:
        yield url


def test_sdk_server_over_http(sdk_http_url):
    status, doc, err = check_json(sdk_http_url)
    assert (status, err) == (0, "")
    assert verdicts(doc, "modern") == MODERN_HTTP_ALL_PASS
    assert verdicts(doc, "legacy") == LEGACY_HTTP_ALL_PASS
    assert detail(doc, "modern", "header-version-missing") == (
        "no MCP-Protocol-Version header: HTTP 400 with error -32600 (Bad Request: Missing session ID) (taken for "
        "a legacy request: allowed)")
    assert detail(doc, "modern", "parse-error") == "HTTP 400, error -32700 with id null"
    assert detail(doc, "legacy", "initialize") == (
        "bench 1.0.0, version 2025-11-25; capabilities: prompts, resources, tools")


# --- broken servers ---------------------------------------------------------------------------------

# A stdio server of both eras, with a flaw per command-line word. With none it passes every check.
FAKE_SERVER = r'''
import json, sys

FLAWS = set(sys.argv[1:])
MODERN = "2026-07-28"
PV = "io.modelcontextprotocol/protocolVersion"
CC = "io.modelcontextprotocol/clientCapabilities"


def out(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if "garbage" in FLAWS:
    print("fake server starting...", flush=True)
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        if "exit-on-garbage" in FLAWS:
            sys.exit(0)
        out({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
        continue
    method, params = message.get("method"), message.get("params") or {}
    meta = params.get("_meta") or {}
    if "id" not in message:
        if "answer-notifications" in FLAWS:
            out({"jsonrpc": "2.0", "id": None, "error": {"code": -32601, "message": "Method not found"}})
        continue
    rid = message["id"]
    result = lambda value: out({"jsonrpc": "2.0", "id": rid, "result": value})
    error = lambda code, text, data=None: out({"jsonrpc": "2.0", "id": rid, "error": dict(
        {"code": code, "message": text}, **({"data": data} if data is not None else {}))})
    if PV in meta and "legacy-only" not in FLAWS:
        if meta[PV] != MODERN:
            error(-32022, "Unsupported protocol version", {"supported": [MODERN], "requested": meta[PV]})
        elif not isinstance(meta.get(CC), dict):
            error(-32602, "Invalid params: clientCapabilities is required")
        elif method == "server/discover":
            result({"resultType": "complete", "supportedVersions": [MODERN], "capabilities": {}, "ttlMs": 0,
                    "cacheScope": "public", "_meta": {"io.modelcontextprotocol/serverInfo": {
                        "name": "fake", "version": "0"}}})
        elif "silent-unknown" not in FLAWS:
            error(-32601, "Method not found")
    elif method == "initialize" and "modern-only" not in FLAWS:
        result({"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "fake", "version": "0"}})
    elif method == "ping":
        result({})
    elif "silent-unknown" not in FLAWS:
        error(-32601, "Method not found")
'''


@pytest.fixture
def fake(tmp_path):
    path = tmp_path / "fake_server.py"
    path.write_text(FAKE_SERVER, encoding="utf-8")
    return lambda *flaws: " ".join(shlex.quote(word) for word in [PY, str(path)] + list(flaws))


def with_changes(rows, **changes):
    changes = {key.replace("_", "-"): value for key, value in changes.items()}
    return [(check_id, changes.get(check_id, status)) for check_id, status in rows]


@pytest.mark.parametrize("flaw, modern, legacy", [
    ("", {}, {}),
    ("answer-notifications", {"notification": "fail"}, {"initialized": "fail"}),
    ("silent-unknown", {"unknown_method": "fail"}, {"unknown_method": "fail"}),
    ("garbage", {"stdout_clean": "fail"}, {"stdout_clean": "fail"}),
    ("exit-on-garbage", {"parse_error": "fail", "stdout_clean": "pass", "stdin_closed": "skip"},
     {"parse_error": "fail"}),
])
def test_broken_stdio_server(fake, flaw, modern, legacy):
    status, doc, err = check_json("--timeout", "2", fake(*[flaw] if flaw else []))
    assert err == ""
    assert verdicts(doc, "modern") == with_changes(MODERN_STDIO_ALL_PASS, **modern)
    assert verdicts(doc, "legacy") == with_changes(LEGACY_STDIO_ALL_PASS, **legacy)
    assert status == (1 if flaw else 0)
    assert doc["ok"] is (not flaw)


def test_broken_server_text_says_why(fake):
    status, out, err = check("--timeout", "2", fake("answer-notifications", "garbage"))
    assert (status, err) == (1, "")
    assert ('  FAIL  notification         notifications/mcplite/check (a notification it does not know) was '
            'answered: {"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"Method not found"}}\n') in out
    assert ("  FAIL  stdout-clean         1 line on stdout that is not a JSON-RPC message, the first: fake server "
            "starting...\n") in out
    assert out.splitlines()[-1] == "17 checks: 12 passed, 4 failed, 0 warnings, 1 skipped"


def test_one_era_servers(fake):
    # Legacy only: server/discover is an unknown method, so the 2026-07-28 checks do not apply.
    status, doc, err = check_json(fake("legacy-only"))
    assert (status, err) == (0, "")
    assert verdicts(doc, "modern") == [(check_id, "skip") for check_id, _ in MODERN_STDIO_ALL_PASS]
    assert detail(doc, "modern", "discover") == (
        "the server does not speak 2026-07-28: server/discover answered error -32601 (Method not found)")
    assert detail(doc, "modern", "unknown-method") == "the server does not speak 2026-07-28"
    assert verdicts(doc, "legacy") == LEGACY_STDIO_ALL_PASS
    # 2026-07-28 only: initialize is refused, without naming the versions it speaks (a SHOULD).
    status, doc, err = check_json(fake("modern-only"))
    assert (status, err) == (0, "")
    assert verdicts(doc, "modern") == MODERN_STDIO_ALL_PASS
    assert verdicts(doc, "legacy") == [("initialize", "skip"), ("initialize-refusal", "warn")] + [
        (check_id, "skip") for check_id, _ in LEGACY_STDIO_ALL_PASS[2:]]
    # Asked for the era it does not speak, a server speaks none: that is exit 3.
    status, out, err = check("--era", "modern", fake("legacy-only"))
    assert (status, out) == (3, "")
    assert one_error_line(err).endswith(": server/discover: error -32601 (Method not found)")


class LaxHandler(BaseHTTPRequestHandler):
    """An HTTP "MCP server" that checks nothing: every POST is answered 200 with JSON,
    notifications with an empty object, GET and DELETE with 200."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, body):
        data = json.dumps(body).encode("utf-8") if body is not None else b""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(None)

    do_DELETE = do_GET

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            message = json.loads(body)
        except ValueError:
            return self.reply({})
        if "id" not in message:
            return self.reply({})
        method = message.get("method")
        if method == "server/discover":
            result = {"resultType": "complete", "supportedVersions": ["2026-07-28"], "capabilities": {},
                      "ttlMs": 0, "cacheScope": "public"}
        elif method == "initialize":
            result = {"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "lax",
                                                                                          "version": "0"}}
        elif method == "ping":
            result = {}
        else:
            return self.reply({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601,
                                                                                "message": "Method not found"}})
        self.reply({"jsonrpc": "2.0", "id": message["id"], "result": result})


@pytest.fixture
def lax_url():
    with serving(LaxHandler) as url:
        yield url


def test_lax_http_server_fails(lax_url):
    status, doc, err = check_json(lax_url)
    assert (status, err) == (1, "")
    assert verdicts(doc, "modern") == [
        ("discover", "pass"), ("server-info", "warn"), ("unsupported-version", "fail"), ("missing-meta", "fail"),
        ("unknown-method", "fail"), ("notification", "fail"), ("parse-error", "fail"),
        ("header-version-missing", "fail"), ("header-version-mismatch", "fail"), ("header-method-missing", "fail"),
        ("header-method-mismatch", "fail"), ("header-name-missing", "fail"), ("header-name-mismatch", "fail"),
        ("origin", "fail"), ("get", "warn"), ("delete", "warn")]
    assert verdicts(doc, "legacy") == [
        ("initialize", "pass"), ("initialize-refusal", "skip"), ("session-id", "skip"), ("initialized", "fail"),
        ("ping", "pass"), ("unknown-method", "pass"), ("parse-error", "fail"), ("session-required", "skip"),
        ("session-unknown", "skip"), ("protocol-version-header", "fail"), ("origin", "fail"),
        ("version-negotiation", "pass"), ("delete", "skip")]
    assert doc["summary"] == {"passed": 5, "failed": 16, "warnings": 3, "skipped": 5}
    assert detail(doc, "modern", "unknown-method") == "error -32601 with HTTP 200, not 404"
    assert detail(doc, "modern", "notification") == (
        "notifications/mcplite/check: HTTP 200 with body {}, not HTTP 202 with no body")
    assert detail(doc, "modern", "header-method-mismatch") == (
        "Mcp-Method tools/list for server/discover got HTTP 200 with a result (MUST be HTTP 400 with error -32020)")
    assert detail(doc, "modern", "origin") == "Origin: http://evil.example: HTTP 200 with a result, not HTTP 403"
    assert detail(doc, "legacy", "session-id") == "no Mcp-Session-Id: the server keeps no sessions (allowed)"
    assert detail(doc, "legacy", "protocol-version-header") == (
        "MCP-Protocol-Version 1900-01-01: HTTP 200 with a result, not HTTP 400")


# --- targets that cannot be reached ------------------------------------------------------------------


def test_bad_targets(tmp_path):
    status, out, err = check("no-such-command-mcplite-check")
    assert (status, out) == (3, "")
    assert one_error_line(err) == "no-such-command-mcplite-check: cannot start it: No such file or directory"

    port = free_port()  # nothing listens there
    for args in ([], ["--json"]):
        status, out, err = check(*(args + ["http://127.0.0.1:%d/mcp" % port]))
        assert (status, out) == (3, "")
        assert one_error_line(err) == "http://127.0.0.1:%d/mcp: cannot connect: Connection refused" % port

    status, out, err = check(str(tmp_path / "missing.py"))
    assert (status, out) == (3, "")
    assert one_error_line(err) == "no such file: %s" % (tmp_path / "missing.py")

    no_server = tmp_path / "no_server.py"
    no_server.write_text("x = 1\n", encoding="utf-8")
    status, out, err = check(str(no_server))
    assert (status, out) == (3, "")
    assert one_error_line(err) == ('%s has no mcplite Server at its top level (define one: app = Server("name"))'
                                   % no_server)

    dies = tmp_path / "dies.py"
    dies.write_text("import sys\nsys.stderr.write('cannot open the database\\n')\nsys.exit(2)\n", encoding="utf-8")
    status, out, err = check("%s %s" % (shlex.quote(PY), shlex.quote(str(dies))))
    assert (status, out) == (3, "")
    assert one_error_line(err).endswith(": server/discover: the server exited (status 2); initialize: the server "
                                        "exited (status 2): cannot open the database")

    silent = tmp_path / "silent.py"
    silent.write_text("import sys\nfor line in sys.stdin:\n    pass\n", encoding="utf-8")
    started = time.monotonic()
    status, out, err = check("--timeout", "1", "%s %s" % (shlex.quote(PY), shlex.quote(str(silent))))
    assert (status, out) == (3, "")
    assert one_error_line(err).endswith(": server/discover: no answer within 1s; initialize: no answer within 1s")
    assert time.monotonic() - started < 30
