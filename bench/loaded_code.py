#!/usr/bin/env python3
"""How much of mcplite a plain stdio server loads: the modules, their bytecode, its memory.

The server is ``bench/servers/mcplite_add.py`` (one ``add`` tool), run as ``bench_stdio.py``
runs it and asked to ``initialize``; then it reports the ``mcplite`` modules it holds. A
module's size is the length of its marshalled code object (``marshal.dumps(compile(...))``
with this interpreter, under its path relative to the checkout, since every code object
stores its file's name): what its ``.pyc`` holds, the same on every run and machine with the
same Python and the same sources, unlike RSS, which moves by a few pages from run to run (RssAnon is printed too,
measured with the bytecode cache written first). Code loaded is most of what an idle server's
RSS grows by: on CPython 3.11, about 2.3 to 3 bytes of RSS per byte of bytecode.

Usage::

    python3 bench/loaded_code.py                   # this checkout: each module, the total
    python3 bench/loaded_code.py --root DIR        # another checkout's mcplite
    python3 bench/loaded_code.py --history A..B    # every first-parent commit of A..B that
                                                   # changed mcplite/: the total, its change
    python3 bench/loaded_code.py --json            # the numbers as one JSON object
    python3 bench/loaded_code.py --transport http  # a Server.run("http") server after a
                                                   # 2026-07-28 tools/call instead

``--history`` checks each commit out in a temporary worktree of this repository (removed at
the end) and runs this checkout's server script against it, so every commit serves the same
application. It prints the commits in order, then the largest changes. Exit status: 0, 1 when
a server failed to start or answer (said on stderr), 2 on bad usage.
"""
import argparse
import ast
import json
import marshal
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SERVER = os.path.join(HERE, "servers", "mcplite_add.py")
HTTP_SERVER = os.path.join(HERE, "servers", "http_servers.py")  # "mcplite PORT": Server.run("http")
HOST = "127.0.0.1"
ANSWER_TIMEOUT = 30.0
SETTLE_S = 0.3  # after the answer, before the server is asked what it holds

# Runs in the server's process: the application script as __main__, and a thread that, once
# asked (stdin is the protocol's: the parent creates the file ``asked`` after it has read the
# answer to initialize, or to the HTTP call), writes the loaded module files to stderr after
# the settle time. The server's stdout stays protocol only.
_PROBE = r'''
import os, runpy, sys, threading, time
sys.path.insert(0, %(root)r)
def _report():
    deadline = time.monotonic() + %(timeout)r
    while not os.path.exists(%(asked)r) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(%(settle)r)
    held = sorted((name, getattr(mod, "__file__", None)) for name, mod in list(sys.modules.items())
                  if name == "mcplite" or name.startswith("mcplite."))
    status = open("/proc/self/status").read() if os.path.exists("/proc/self/status") else ""
    anon = [line.split()[1] for line in status.splitlines() if line.startswith("RssAnon:")]
    sys.stderr.write("LOADED " + repr((held, int(anon[0]) if anon else None)) + "\n")
    sys.stderr.flush()
threading.Thread(target=_report, daemon=True).start()
sys.argv = [%(server)r] + %(args)r
runpy.run_path(%(server)r, run_name="__main__")
'''

_INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "loaded-code", "version": "1"}}}


class ProbeError(Exception):
    pass


def code_size(path, root):
    """The marshalled size of the module's code, compiled under its path relative to ``root``
    (the file name is stored in every code object: an absolute path would make the size
    depend on where the checkout is)."""
    with open(path, "rb") as f:
        source = f.read()
    return len(marshal.dumps(compile(source, os.path.relpath(path, root), "exec")))


def probe(root, python=sys.executable, transport="stdio"):
    """{"modules": {name: bytes}, "total": bytes, "rss_anon_kib": int or None} of a plain
    server importing mcplite from ``root``: over stdio after ``initialize``, or over HTTP
    (``Server.run("http")`` on 127.0.0.1) after one 2026-07-28 ``tools/call``."""
    scratch = tempfile.mkdtemp(prefix="mcplite-loaded-probe-")
    early_stderr = b""
    asked = os.path.join(scratch, "asked")
    port = _free_port() if transport == "http" else None
    server, args = (HTTP_SERVER, ["mcplite", str(port)]) if transport == "http" else (SERVER, [])
    code = _PROBE % {"root": root, "settle": SETTLE_S, "server": server, "args": args, "asked": asked,
                     "timeout": ANSWER_TIMEOUT}
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # The bytecode cache written first, as a deployed server would find it: a module compiled
    # from source while the server starts leaves the compiler's garbage in its RSS.
    sources = [path for path in (os.path.join(root, "mcplite"), os.path.join(root, "mcplite.py")) if os.path.exists(path)]
    subprocess.run([python, "-m", "compileall", "-q"] + sources, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=ANSWER_TIMEOUT * 4)
    proc = subprocess.Popen([python, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=root)
    try:
        if transport == "http":
            _call_over_http(port, root)
        else:
            proc.stdin.write((json.dumps(_INITIALIZE) + "\n").encode())
            proc.stdin.flush()
            answer = _read_until(proc.stdout, lambda seen: seen.endswith(b"\n"), ANSWER_TIMEOUT)
            if b'"result"' not in answer:
                raise ProbeError("no initialize answer from the server at %s: %r" % (root, answer[:200]))
        open(asked, "w").close()  # the server has answered: its report may be taken
        # Read before the server is ended, and kept for what communicate() adds.
        early_stderr = _read_until(proc.stderr, lambda seen: b"LOADED " in seen, SETTLE_S + ANSWER_TIMEOUT)
    finally:
        if transport == "http":
            proc.terminate()  # an HTTP server runs until it is stopped
        try:  # communicate() closes stdin: over stdio, the end of input ends the server
            _, err = proc.communicate(timeout=ANSWER_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        shutil.rmtree(scratch, ignore_errors=True)
    err = early_stderr + err
    lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.startswith("LOADED ")]
    if not lines:
        raise ProbeError("the server at %s did not report its modules; stderr: %s" % (root, err[-500:]))
    held, anon = ast.literal_eval(lines[0][len("LOADED "):])  # our own repr of tuples, strings and ints
    modules = {}
    for name, path in held:
        if path and path.endswith(".py"):
            modules[name] = code_size(path, root)
    return {"modules": modules, "total": sum(modules.values()), "rss_anon_kib": anon}


def _free_port():
    import socket
    sock = socket.socket()
    try:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


def _call_over_http(port, root):
    """One 2026-07-28 ``tools/call`` of ``add`` once the server listens; its answer checked."""
    import http.client
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "add", "arguments": {"a": 2, "b": 3}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}}})
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "add"}
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while True:
        conn = http.client.HTTPConnection(HOST, port, timeout=ANSWER_TIMEOUT)
        try:
            conn.request("POST", "/mcp", body, headers)
            response = conn.getresponse()
            answer = response.read()
            break
        except (ConnectionRefusedError, ConnectionResetError):
            if time.monotonic() >= deadline:
                raise ProbeError("the HTTP server at %s did not listen on port %d" % (root, port))
            time.sleep(0.05)
        finally:
            conn.close()
    if response.status != 200 or b'"structuredContent":{"result":5}' not in answer.replace(b" ", b""):
        raise ProbeError("the HTTP server at %s answered %d %r" % (root, response.status, answer[:300]))


def _read_until(stream, enough, timeout):
    """What ``stream`` (a child's pipe) gives until ``enough(what was read)`` or its end, waiting
    ``timeout`` seconds at most."""
    import select
    deadline = time.monotonic() + timeout
    seen = b""
    while not enough(seen) and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            break
        seen += chunk
    return seen


def git(*args, **kwargs):
    return subprocess.run(["git"] + list(args), cwd=kwargs.get("cwd", REPO), check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout.decode().strip()


def history(span, transport="stdio"):
    """[(commit, subject, probe or None)] for the start of ``span`` and each first-parent
    commit in it that changed mcplite/."""
    start = span.split("..")[0]
    # (mcplite.py: a repository of the one-file build's)
    commits = git("rev-list", "--reverse", "--first-parent", span, "--", "mcplite/", "mcplite.py").split()
    rows = []
    tree = tempfile.mkdtemp(prefix="mcplite-loaded-")
    os.rmdir(tree)
    git("worktree", "add", "-q", "--detach", tree, start)
    previous = signal.signal(signal.SIGTERM, _terminated)  # so that the finally below runs
    try:
        for commit in [git("rev-parse", start)] + commits:
            git("checkout", "-q", commit, cwd=tree)
            subject = git("log", "-1", "--format=%h %s", commit)
            try:
                rows.append((commit, subject, probe(tree, transport=transport)))
            except ProbeError as exc:
                sys.stderr.write("%s: %s\n" % (subject[:60], exc))
                rows.append((commit, subject, None))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=REPO,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        signal.signal(signal.SIGTERM, previous)
    return rows


def _terminated(signum, frame):
    raise SystemExit(128 + signum)


_SERVER_TEXT = {"stdio": "A plain stdio server (bench/servers/mcplite_add.py, after initialize)",
                "http": "A plain HTTP server (bench/servers/http_servers.py mcplite, after a 2026-07-28 tools/call)"}


def print_one(result, root, transport="stdio"):
    print("%s, mcplite from %s, %s %s"
          % (_SERVER_TEXT[transport], root, "CPython" if sys.implementation.name == "cpython" else sys.implementation.name,
             ".".join(map(str, sys.version_info[:3]))))
    for name in sorted(result["modules"]):
        print("  %-24s %8d B" % (name, result["modules"][name]))
    print("  %-24s %8d B in %d modules; RssAnon %s KiB" % ("total", result["total"], len(result["modules"]),
                                                          result["rss_anon_kib"]))


def print_history(rows, top, transport="stdio"):
    print("Bytecode a plain %s server loads, per first-parent commit that changed mcplite/ (%s %s)"
          % (transport, sys.implementation.name, ".".join(map(str, sys.version_info[:3]))))
    previous = None
    changes = []
    for commit, subject, result in rows:
        if result is None:
            print("  %9s %8s  %s" % ("failed", "", subject[:100]))
            continue
        delta = None if previous is None else result["total"] - previous
        previous = result["total"]
        if delta:
            changes.append((delta, subject))
        print("  %9d %8s  %s" % (result["total"], "" if delta is None else "%+d" % delta, subject[:100]))
    if changes:
        print("Largest changes:")
        for delta, subject in sorted(changes, key=lambda c: -abs(c[0]))[:top]:
            print("  %+8d  %s" % (delta, subject[:110]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=REPO, help="the checkout whose mcplite is measured (default: this one)")
    parser.add_argument("--history", metavar="A..B", help="every first-parent commit of A..B that changed mcplite/")
    parser.add_argument("--top", type=int, default=20, help="how many of the largest changes --history lists")
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio",
                        help="the server: stdio after initialize (default), or Server.run(\"http\") after one "
                             "2026-07-28 tools/call")
    args = parser.parse_args(argv)
    if args.history is not None and ".." not in args.history:
        parser.error("--history takes a range A..B")
    try:
        if args.history:
            rows = history(args.history, args.transport)
            if args.json:
                print(json.dumps([{"commit": c, "subject": s, "result": r} for c, s, r in rows]))
            else:
                print_history(rows, args.top, args.transport)
            return 1 if any(r is None for _, _, r in rows) else 0
        result = probe(os.path.abspath(args.root), transport=args.transport)
    except ProbeError as exc:
        sys.stderr.write("loaded_code: %s\n" % exc)
        return 1
    except subprocess.CalledProcessError as exc:
        sys.stderr.write("loaded_code: git %s failed: %s\n" % (" ".join(exc.cmd[1:]), exc.stderr.decode().strip()))
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        print_one(result, os.path.abspath(args.root), args.transport)
    return 0


if __name__ == "__main__":
    sys.exit(main())
