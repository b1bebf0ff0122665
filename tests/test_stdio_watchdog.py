"""A stdio server whose parent dies without closing its stdin exits by itself (watch_parent).

The parent here starts the server on pipes, gives both pipes' other ends to a child of its own
(the "holder", which only sleeps), and is then SIGKILLed: the server's stdin stays open, so
only the watchdog can end it. Every process is stopped by its PID at the end.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SERVER = os.path.join(HERE, "servers", "watch_app.py")
# bench/abuse.py's bound for a stdio server whose parent was SIGKILLed (EXIT_S)
EXIT_BOUND_S = 5.0

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the parent is not watched on Windows")

# argv[1]: "idle" or "hung" (a call to a tool that never returns is running); then the server's argv.
PARENT = r'''
import json, os, subprocess, sys, time
mode, argv = sys.argv[1], sys.argv[2:]
to_server, to_us = os.pipe(), os.pipe()
server = subprocess.Popen(argv, stdin=to_server[0], stdout=to_us[1])
os.close(to_server[0])
os.close(to_us[1])
holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                          pass_fds=(to_server[1], to_us[0]), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
def send(message):
    os.write(to_server[1], (json.dumps(message) + "\n").encode())
def receive():
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(to_us[0], 65536)
        if not chunk:
            break
        data += chunk
    return json.loads(data.decode())
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25",
      "capabilities": {}, "clientInfo": {"name": "watchdog-parent", "version": "1"}}})
receive()
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "hi"}}})
answer = receive()
assert answer["result"]["content"][0]["text"] == "hi", answer
if mode == "hung":
    send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "hang", "arguments": {}}})
    time.sleep(0.3)
sys.stdout.write("%d %d\n" % (server.pid, holder.pid))
sys.stdout.flush()
time.sleep(300)
'''


def _env():
    env = dict(os.environ)
    # (conftest put a one-file build first, when testing one; the checkout for `-m mcplite`)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), ROOT) if p)
    return env


def _gone(pid):
    """Whether ``pid`` has exited (a zombie waiting for its new parent to reap it counts)."""
    try:
        os.waitpid(pid, os.WNOHANG)  # in case we are its subreaper
    except (ChildProcessError, OSError):
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        pass
    return False


def _kill(pid):
    if pid and not _gone(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _read_line(proc, timeout):
    fd = proc.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n") and time.monotonic() < deadline:
        if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace").strip()


def _orphan(server_argv, mode="idle"):
    """Start the parent, let it start the server and the holder, SIGKILL the parent; the
    server's and holder's PIDs, and when the parent died."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT, mode] + server_argv, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(), cwd=HERE)
    try:
        line = _read_line(parent, 30.0)
        assert len(line.split()) == 2 and line.replace(" ", "").isdigit(), "the parent said %r" % line
        server, holder = (int(word) for word in line.split())
    finally:
        parent.kill()
        parent.wait(10)
        parent.stdout.close()
    return server, holder, time.monotonic()


def _exit_time(pid, since, bound):
    while time.monotonic() - since < bound:
        if _gone(pid):
            return time.monotonic() - since
        time.sleep(0.02)
    return None


# run, serve: a thread interrupts the main thread's read with SIGINT; sigint-ignored: no
# signal can, and the read itself polls (stdio._StdinRaw).
@pytest.mark.parametrize("how,mode", [("run", "idle"), ("run", "hung"), ("serve", "idle"),
                                      ("sigint-ignored", "idle"), ("sigint-ignored", "hung")])
def test_a_server_whose_parent_is_killed_exits(how, mode):
    argv = {"run": [sys.executable, SERVER], "serve": [sys.executable, "-m", "mcplite", "serve", SERVER],
            "sigint-ignored": [sys.executable, SERVER, "sigint-ignored"]}[how]
    server = holder = 0
    try:
        server, holder, killed = _orphan(argv, mode)
        assert not _gone(holder), "the holder keeps the server's stdin open"
        seconds = _exit_time(server, killed, EXIT_BOUND_S)
        assert seconds is not None, "the server outlived its parent by %.0f s" % EXIT_BOUND_S
        # The watchdog looks every second; a hung call adds the exit grace (2 s).
        assert seconds < (1.0 + 1.5 if mode == "idle" else 1.0 + 2.0 + 1.5)
    finally:
        _kill(server)
        _kill(holder)


def test_watch_parent_false_keeps_serving_while_stdin_is_open():
    server = holder = 0
    try:
        server, holder, killed = _orphan([sys.executable, SERVER, "off"])
        assert _exit_time(server, killed, 3.0) is None, "with watch_parent=False only end of input stops it"
    finally:
        _kill(server)
        _kill(holder)
