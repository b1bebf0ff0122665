"""The README's "Talking to it with curl" commands, run as written against the server its
first block starts (on a free port instead of 8000), in both eras; and the refusal it
quotes is the one a request without a session gets."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 30

pytestmark = pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None,
                                reason="needs curl and bash on PATH")


def section_blocks():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme.split("\n## Talking to it with curl\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w*)\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def served():
    """The first block's server, started as written but on port 0, stopped by its PID."""
    kind, start = section_blocks()[0]
    assert kind == "sh" and start.strip().endswith("&"), start
    argv = start.strip().rstrip("&").split()
    assert argv[:3] == ["python3", "-m", "mcplite"] and argv[-1] == "127.0.0.1:8000", argv
    argv = [sys.executable] + argv[1:-1] + ["127.0.0.1:0"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True)
    try:
        line = process.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/mcp", line)
        assert found, line
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(TIMEOUT)
        process.stdout.close()
        process.stderr.close()


def run(script, port):
    done = subprocess.run(["bash", "-c", "set -e -o pipefail\n" + script.replace("127.0.0.1:8000", "127.0.0.1:" + port)],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_2026_request_adds_a_note(served):
    kind, script = section_blocks()[1]
    assert kind == "sh" and "2026-07-28" in script
    answer = json.loads(run(script, served))
    assert answer["id"] == 1 and answer["result"]["structuredContent"]["title"] == "hi", answer
    assert answer["result"]["resultType"] == "complete"


def test_the_session_commands_list_the_tools_and_end_the_session(served):
    kind, script = section_blocks()[2]
    assert kind == "sh" and "initialize" in script
    # The script as written, then what it left behind: the session, ended by its DELETE.
    out = run(script + '\necho; echo "session=$SESSION"\n'
              'curl -s -o /dev/null -w "%{http_code}" $URL -H "Mcp-Session-Id: $SESSION" '
              "-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' "
              "-H 'MCP-Protocol-Version: 2025-11-25' -d '{\"jsonrpc\": \"2.0\", \"id\": 3, \"method\": \"ping\"}'",
              served)
    body, session, after_delete = out.rsplit("\n", 2)
    assert re.fullmatch(r"session=[0-9A-Za-z_-]{16,}", session), session
    listed = json.loads(body)
    assert listed["id"] == 2 and "add_note" in [tool["name"] for tool in listed["result"]["tools"]]
    assert after_delete == "404"  # the DELETE ended the session


def test_the_quoted_refusal_is_what_a_request_without_a_session_gets(served):
    kind, quoted = section_blocks()[3]
    assert kind == ""
    out = run("curl -s http://127.0.0.1:8000/mcp -H 'Content-Type: application/json' "
              "-H 'Accept: application/json, text/event-stream' "
              "-d '{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"tools/list\"}'", served)
    assert json.loads(out) == json.loads(quoted)
