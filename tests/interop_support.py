"""What the interop tests share: finding the SDK's python (or skipping, or failing), running a
peer bounded in time, finding what a peer left behind, reading the helpers' reports, and
serving a peer over HTTP for a test (the SDK's Streamable HTTP and HTTP+SSE servers, the
TypeScript everything server).

The interop tests (``tests/test_interop_*.py``) and the tests that use a peer elsewhere
(``tests/test_host.py``, ``tests/test_client_http_edges.py`` and others) import from here
(``tests/`` is on sys.path, see ``tests/conftest.py``). The helpers they start
(``tests/interop/*.py``) run under the SDK's own interpreter and share their code among
themselves, in ``tests/interop/sdk_client.py``.
"""

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import pytest

REPO = Path(__file__).resolve().parent.parent

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"

SDK_VERSION = "2.3.0"  # the mcp release every helper is written against
TOKEN_VARIABLE = "MCPLITE_INTEROP_TOKEN"  # marks a helper and what it starts, to find leftovers


# --- peers: found or failed ----------------------------------------------------------------------


def truthy(name):
    # type: (str) -> bool
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def unusable(variable, reason):
    # type: (str, str) -> None
    """Skip only when nobody asked for interop; a named but broken peer always fails."""
    if os.environ.get(variable) or truthy("MCPLITE_REQUIRE_INTEROP"):
        pytest.fail("interop test cannot run: " + reason, pytrace=False)
    pytest.skip(reason)


def venv_python(variable, imports, venv_has):
    # type: (str, str, str) -> str
    """The python named by ``$variable`` (a venv ``scripts/test`` builds), checked by running
    ``imports`` in it; unset or broken, the test is skipped or failed (``unusable``)."""
    path = os.environ.get(variable, "")
    if not path:
        unusable(variable, "%s is not set (scripts/test sets it to a venv with %s)" % (variable, venv_has))
    try:
        done = subprocess.run([path, "-c", imports], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        unusable(variable, "%s=%s cannot run: %s" % (variable, path, exc))
    if done.returncode != 0:
        unusable(variable, "%s=%s cannot import %s:\n%s"
                 % (variable, path, venv_has, done.stderr.decode("utf-8", "replace")[-2000:]))
    return path


def mcplite_dir():
    # type: () -> str
    """The directory this process imports mcplite from (the checkout, or a vendored copy's):
    what a process the test starts needs first on its PYTHONPATH to test the same code."""
    import mcplite
    location = os.path.abspath(mcplite.__file__)
    if os.path.basename(location) == "__init__.py":
        location = os.path.dirname(location)
    return os.path.dirname(location)


def peer_env(token=None):
    # type: (Optional[str]) -> Dict[str, str]
    """The environment of a helper in the SDK venv (or another peer), marked with ``token``."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the helper runs in the SDK venv: keep the test's path out of it
    env["PYTHONIOENCODING"] = "utf-8"
    if token is not None:
        env[TOKEN_VARIABLE] = token  # marks the helper (and what it starts) to find leftovers
    # Every server here is on 127.0.0.1: never through a proxy named in the environment.
    no_proxy = [v for v in env.get("NO_PROXY", env.get("no_proxy", "")).split(",") if v]
    env["NO_PROXY"] = env["no_proxy"] = ",".join(no_proxy + ["127.0.0.1", "localhost"])
    return env


def run_bounded(cmd, timeout, env, cwd=str(REPO)):
    # type: (List[str], float, Dict[str, str], str) -> Tuple[Optional[int], str, str]
    """Run ``cmd`` in a process group of its own; on a timeout, or whatever happens, the group
    is killed. Returns (exit status or None on a timeout, stdout, stderr)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=cwd, env=env, start_new_session=True)
    status = None  # type: Optional[int]
    out, err = b"", b""
    try:
        out, err = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        pass
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the process and anything it started
        except OSError:
            pass
        if status is None:
            try:
                more_out, more_err = proc.communicate(timeout=10)
                out, err = out + more_out, err + more_err
            except subprocess.TimeoutExpired:
                pass
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def find_sdk_python(modules):
    # type: (Iterable[str]) -> str
    """``$MCPLITE_SDK_PYTHON`` once it has shown that it imports ``modules`` (and
    ``mcp.client.client``) from mcp 2.3.0; otherwise skipped or failed as ``unusable`` says."""
    variable = "MCPLITE_SDK_PYTHON"
    path = os.environ.get(variable, "")
    if not path:
        unusable(variable, "MCPLITE_SDK_PYTHON is not set (scripts/test sets it to a venv with mcp==%s)" % SDK_VERSION)
    probe = "import %s, importlib.metadata as m; print(m.version('mcp'))" % ", ".join(
        list(modules) + ["mcp.client.client"])
    timeout = 60
    try:
        status, out, err = run_bounded([path, "-c", probe], timeout, peer_env())
    except OSError as exc:
        unusable(variable, "MCPLITE_SDK_PYTHON=%s cannot run: %s" % (path, exc))
    if status is None:
        unusable(variable, "MCPLITE_SDK_PYTHON=%s cannot run: no answer within %ss:\n%s" % (path, timeout, err[-2000:]))
    if status != 0:
        unusable(variable, "MCPLITE_SDK_PYTHON=%s cannot import mcp:\n%s" % (path, err[-2000:]))
    if out.strip() != SDK_VERSION:
        unusable(variable, "MCPLITE_SDK_PYTHON=%s has mcp %s, the interop test pins %s"
                 % (path, out.strip(), SDK_VERSION))
    return path


def sdk_python_fixture(*modules):
    # type: (str) -> Any
    """A module-scoped ``sdk_python`` fixture: the path ``find_sdk_python(modules)`` returns.
    A test module takes it as ``sdk_python = sdk_python_fixture(...)``."""

    @pytest.fixture(scope="module")
    def sdk_python():
        # type: () -> str
        return find_sdk_python(modules)

    return sdk_python


# --- leftovers: processes a helper should have stopped ---------------------------------------------


def leftovers(token):
    # type: (str) -> List[int]
    """PIDs of processes still carrying our marker in their environment (Linux /proc only):
    the SDK starts stdio servers in a process group of their own."""
    found = []  # type: List[int]
    marker = ("%s=%s" % (TOKEN_VARIABLE, token)).encode()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as f:
                if marker in f.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def kill_leftovers(token):
    # type: (str) -> List[int]
    """SIGKILL every process ``leftovers(token)`` finds; returns their PIDs."""
    pids = leftovers(token)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return pids


def reap_leftovers(token, grace=3.0):
    # type: (str, float) -> List[int]
    """Once a helper has finished, anything still carrying ``token`` is a leak: give a process
    that was just told to stop ``grace`` seconds, then kill what remains and return its PIDs."""
    deadline = time.monotonic() + grace
    while leftovers(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    return kill_leftovers(token)


# --- the helpers' reports ----------------------------------------------------------------------------


def helper_runs(status, out, err, timeout, note=""):
    # type: (Optional[int], str, str, float, str) -> Dict[str, Dict[str, Any]]
    """The ``runs`` of a multi-run helper's JSON report, or a test failure saying why there is
    none (``note`` is added to the message about a helper that timed out)."""
    if status is None:
        pytest.fail("the SDK helper did not finish within %ss%s\nstdout:\n%s\nstderr:\n%s"
                    % (timeout, note, out[-4000:], err[-4000:]), pytrace=False)
    try:
        return json.loads(out)["runs"]
    except (ValueError, KeyError):
        pytest.fail("the SDK helper exited %s without a JSON report\nstdout:\n%s\nstderr:\n%s"
                    % (status, out[-4000:], err[-4000:]), pytrace=False)


def checked_run(sdk_runs, name, logs):
    # type: (Dict[str, Dict[str, Any]], str, Callable[[Dict[str, Any]], str]) -> Dict[str, Any]
    """The report of run ``name``; a run that failed fails the test, with ``logs(report)``."""
    result = sdk_runs[name]
    if result.get("error"):
        pytest.fail("SDK client run %r failed:\n%s\n%s\nhelper stderr:\n%s"
                    % (name, result["error"], logs(result), result.get("_stderr", "")[-3000:]), pytrace=False)
    return result


def runs(*names):
    # type: (str) -> Any
    """Parametrizes a test's ``name`` (and so its ``report``) with these runs."""
    return pytest.mark.parametrize("name", list(names))


def sessions_settle(handle, expected=0, timeout=3.0):
    # type: (Any, int, float) -> int
    """The server's session count once it reaches ``expected`` (or the timeout passes): a
    client's closing requests and disconnects are handled on the server's own threads."""
    deadline = time.monotonic() + timeout
    count = handle.app.session_count()
    while count != expected and time.monotonic() < deadline:
        time.sleep(0.02)
        count = handle.app.session_count()
    return count


def wire_lines(report, limit, count_cut=False):
    # type: (Dict[str, Any], int, bool) -> List[str]
    """The report's JSON-RPC log, one line per message, each cut after ``limit`` characters
    (``count_cut``: and then saying how long it was)."""
    lines = []  # type: List[str]
    for entry in report.get("wire", []):
        text = json.dumps(entry["msg"], sort_keys=True) if "msg" in entry else "UNPARSED " + entry["unparsed"]
        if len(text) > limit:
            text = text[:limit] + ("...(%d chars)" % len(text) if count_cut else "")
        lines.append("%s %s" % (entry["dir"], text))
    return lines


def outbound(report):
    # type: (Dict[str, Any]) -> List[Dict[str, Any]]
    """The messages the client sent."""
    return [e["msg"] for e in report["wire"] if e["dir"] == ">"]


def inbound(report):
    # type: (Dict[str, Any]) -> List[Dict[str, Any]]
    """The messages the client received (and could parse)."""
    return [e["msg"] for e in report["wire"] if e["dir"] == "<" and "msg" in e]


def is_modern(report):
    # type: (Dict[str, Any]) -> bool
    return report["mode"] != "legacy"


ENVELOPE_KEYS = ("_meta", "resultType", "ttlMs", "cacheScope")


def body(result):
    # type: (Dict[str, Any]) -> Dict[str, Any]
    """A result without the 2026-07-28 envelope (checked on its own) and without an
    ``isError: false``, which means the same as leaving it out."""
    out = {k: v for k, v in result.items() if k not in ENVELOPE_KEYS}
    if out.get("isError") is False:
        del out["isError"]
    return out


# --- the SDK's HTTP server --------------------------------------------------------------------------


def stop_group(proc, grace=0.0):
    # type: (subprocess.Popen, float) -> None
    """Stop the process and anything it started (its own process group): SIGTERM first when
    ``grace`` is given (the process gets that long to go), then SIGKILL; reap it."""
    for sig, wait in ([(signal.SIGTERM, grace)] if grace else []) + [(signal.SIGKILL, 10.0)]:
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _listening(proc, port, log, name):
    # type: (subprocess.Popen, int, Any, str) -> None
    """Wait (bounded) until ``proc`` accepts on 127.0.0.1:``port``; a failed test if it exits
    first (with the end of its log) or does not listen within 30 s."""
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            log.flush()
            pytest.fail("%s exited with %s:\n%s" % (name, proc.returncode, open(log.name, "rb").read()
                                                     .decode("utf-8", "replace")[-3000:]), pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("%s did not listen on port %d within 30 s" % (name, port), pytrace=False)
            time.sleep(0.05)


def _free_port():
    # type: () -> int
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _peer_on_port(cmd, env, port, log_dir, log_name, what, url):
    # type: (List[str], Dict[str, str], int, Any, str, str, str) -> Iterator[str]
    """Run ``cmd`` (a server that will listen on 127.0.0.1:``port``) with its output in
    ``log_dir``/``log_name``: yields ``url`` once it listens; stopped with its process group
    (SIGTERM, then SIGKILL)."""
    log = open(os.path.join(str(log_dir), log_name), "wb")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO),
                            env=env, start_new_session=True)
    try:
        _listening(proc, port, log, what)
        yield url
    finally:
        stop_group(proc, grace=5.0)
        log.close()


@contextlib.contextmanager
def sdk_http_server(python, log_dir, json_response=False):
    # type: (str, Any, bool) -> Iterator[str]
    """The SDK's ``MCPServer`` on streamable-http (``bench/servers/http_servers.py sdk``, SSE
    answers or ``--json-response``) on 127.0.0.1: yields its URL once it listens; stopped
    with its process group (SIGTERM, then SIGKILL)."""
    port = _free_port()
    env = peer_env()
    env["PYTHONPATH"] = str(REPO)
    cmd = [python, str(REPO / "bench" / "servers" / "http_servers.py"), "sdk", str(port)]
    if json_response:
        cmd.append("--json-response")
    with _peer_on_port(cmd, env, port, log_dir, "sdk-server-%d.log" % port, "the SDK server",
                       "http://127.0.0.1:%d/mcp" % port) as url:
        yield url


@contextlib.contextmanager
def sdk_sse_server(python, log_dir):
    # type: (str, Any) -> Iterator[str]
    """The SDK's ``MCPServer`` on the 2024-11-05 HTTP+SSE transport (``tests/interop/
    sdk_sse_server.py``: one tool, ``add``) on 127.0.0.1: yields its ``/sse`` URL once it
    listens; stopped with its process group (SIGTERM, then SIGKILL)."""
    port = _free_port()
    cmd = [python, str(REPO / "tests" / "interop" / "sdk_sse_server.py"), str(port)]
    with _peer_on_port(cmd, peer_env(), port, log_dir, "sdk-sse-server-%d.log" % port, "the SDK's HTTP+SSE server",
                       "http://127.0.0.1:%d/sse" % port) as url:
        yield url


# --- the TypeScript everything server over Streamable HTTP -----------------------------------------

EVERYTHING_PRELOAD = REPO / "tests" / "everything_loopback.cjs"
EVERYTHING_START_TIMEOUT = 20.0  # (it starts in well under a second: this only bounds a hung one)


@contextlib.contextmanager
def everything_http_server(argv, token):
    # type: (List[str], str) -> Iterator[str]
    """The everything server (``argv``: its command line without the transport argument) on
    ``streamableHttp`` with ``PORT=0`` and the preload ``tests/everything_loopback.cjs`` (it
    binds 127.0.0.1 instead of every interface, and reports the port): yields its URL. Its
    environment carries ``token``; at the end its process group is killed, and anything still
    carrying the token fails the test (``reap_leftovers``). A server that does not start is
    ``unusable``."""
    variable = "MCPLITE_EVERYTHING"
    env = peer_env(token)
    env["PORT"] = "0"
    # The preload goes in even when $MCPLITE_EVERYTHING was written by hand without it.
    env["NODE_OPTIONS"] = (env.get("NODE_OPTIONS", "") + ' --require "%s"'
                           % str(EVERYTHING_PRELOAD).replace("\\", "\\\\").replace('"', '\\"')).strip()
    try:
        proc = subprocess.Popen(argv + ["streamableHttp"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env, cwd=str(REPO), start_new_session=True)
    except OSError as exc:
        unusable(variable, "cannot start %s: %s" % (argv, exc))
    stderr = []  # type: List[str]
    ports = queue.Queue()  # type: queue.Queue

    def read_stderr():
        # type: () -> None
        for raw in iter(proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            stderr.append(line)
            del stderr[:-200]
            found = re.match(r"mcplite-listening (\S+) (\d+)$", line)
            if found:
                ports.put((found.group(1), int(found.group(2))))
        ports.put(None)  # the server is gone

    reader = threading.Thread(target=read_stderr, name="everything-http-stderr", daemon=True)
    reader.start()
    try:
        try:
            listening = ports.get(timeout=EVERYTHING_START_TIMEOUT)
        except queue.Empty:
            listening = None
        if listening is None:
            unusable(variable, "the everything server (streamableHttp) did not start listening within %ss "
                               "(exit status %s); its stderr:\n%s"
                     % (EVERYTHING_START_TIMEOUT, proc.poll(), "\n".join(stderr)))
        host, port = listening
        assert host == "127.0.0.1", "the server listens on %s, not on 127.0.0.1 only" % host
        deadline = time.monotonic() + EVERYTHING_START_TIMEOUT
        while True:  # (it accepts once it listens; this only makes sure)
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield "http://127.0.0.1:%d/mcp" % port
    finally:
        stop_group(proc)
        reader.join(5)
        proc.stderr.close()
        left = reap_leftovers(token, grace=1.0)
        assert not left, "processes of the HTTP server were still running after it was killed: %s" % left
