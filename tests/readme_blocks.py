"""README.md's fenced code blocks, and the tools tests/test_readme_blocks.py runs them with.

``read_blocks()`` lists every fenced block (```` ```lang ```` ... ```` ``` ````) with the heading it
sits under and its ordinal there. The rest is what the handlers share: a ``python3`` on PATH
that is the test's interpreter, commands run in a process group of their own (stopped by
their PID), a stdio peer speaking JSON lines, the matching of a README wire transcript
(``→``/``←`` lines, ``…`` for what it abridges) against a live server, and ``exec`` of a
Python block that records the value of each of its top-level expression statements.
"""

import ast
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
VENDORED = os.environ.get("MCPLITE_VENDORED", "")
TIMEOUT = 30


# --- the blocks ----------------------------------------------------------------------------------

class Block(NamedTuple):
    section: str  # the text of the nearest heading above it (any level)
    index: int    # its ordinal among the blocks under that heading, from 0
    lang: str     # the first word of the info string ("" for none)
    text: str     # the lines between the fences, each ending with a newline
    line: int     # the line of its opening fence, from 1

    @property
    def first_line(self) -> str:
        return self.text.split("\n", 1)[0]

    def describe(self) -> str:
        return "README.md line %d, the ```%s block #%d under %r" % (self.line, self.lang, self.index, self.section)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


def parse_blocks(markdown: str) -> List[Block]:
    """Every fenced code block of ``markdown``, in order (CommonMark's fences: three or more
    backticks or tildes; a heading inside a block is not one)."""
    lines = markdown.split("\n")
    blocks = []  # type: List[Block]
    counts = {}  # type: Dict[str, int]
    section = ""
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
            body = []  # type: List[str]
            j = i + 1
            while True:
                if j == len(lines):
                    raise ValueError("line %d: a code block that is never closed" % (i + 1))
                closing = re.match(r"^ {0,3}(`{3,}|~{3,})[ \t]*$", lines[j])
                if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
                    break
                body.append(lines[j])
                j += 1
            info = opening.group(2).strip()
            index = counts.get(section, 0)
            counts[section] = index + 1
            blocks.append(Block(section, index, info.split()[0] if info else "",
                                "".join(line + "\n" for line in body), i + 1))
            i = j + 1
            continue
        heading = _HEADING.match(lines[i])
        if heading:
            section = heading.group(2)
        i += 1
    return blocks


def read_blocks(path: str = README) -> List[Block]:
    with open(path, encoding="utf-8") as f:
        return parse_blocks(f.read())


def block_at(section: str, index: int) -> Block:
    for block in read_blocks():
        if (block.section, block.index) == (section, index):
            return block
    raise AssertionError("README.md has no block #%d under %r" % (index, section))


# --- commands --------------------------------------------------------------------------------

def python_shim(directory: str) -> str:
    """A directory holding ``python3`` and ``python``: the test's own interpreter."""
    bin_dir = os.path.join(directory, "shim-bin")
    os.makedirs(bin_dir, exist_ok=True)
    for name in ("python3", "python"):
        path = os.path.join(bin_dir, name)
        with open(path, "w") as f:
            f.write('#!/bin/sh\nexec %s "$@"\n' % _sh_quote(sys.executable))
        os.chmod(path, 0o755)
    return bin_dir


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def shell_env(directory: str, **extra: str) -> Dict[str, str]:
    """This process's environment, with ``python3`` the test's interpreter first on PATH and
    the checkout first on PYTHONPATH (so ``python3 -m mcplite`` works from anywhere, as after
    ``pip install .``; under MCPLITE_VENDORED the checkout holds the one file)."""
    env = dict(os.environ)
    env["PATH"] = python_shim(directory) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["PYTHONIOENCODING"] = "utf-8"
    no_proxy = [v for v in env.get("NO_PROXY", env.get("no_proxy", "")).split(",") if v]
    env["NO_PROXY"] = env["no_proxy"] = ",".join(no_proxy + ["127.0.0.1", "localhost"])
    env.update(extra)
    return env


class Ran(NamedTuple):
    status: int
    out: str
    err: str


def run(argv: Sequence[str], cwd: str, env: Optional[Dict[str, str]], stdin: str = "",
        timeout: float = TIMEOUT) -> Ran:
    """Run a command in a process group of its own; the group is killed afterwards, whatever
    happens (so nothing it started outlives it)."""
    proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(stdin.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        raise AssertionError("%s did not finish within %ss\nstdout:\n%s\nstderr:\n%s"
                             % (list(argv), timeout, out.decode("utf-8", "replace")[-3000:],
                                err.decode("utf-8", "replace")[-3000:]))
    finally:
        _kill_group(proc)
    return Ran(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def bash(script: str, cwd: str, env: Dict[str, str], stdin: str = "", timeout: float = TIMEOUT) -> Ran:
    """A README shell block, run by bash as written (``set -e -o pipefail``: a failing line fails)."""
    return run(["bash", "-c", "set -e -o pipefail\n" + script], cwd, env, stdin, timeout)


def _kill_group(proc: "subprocess.Popen[bytes]") -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def _drain(stream: Any, sink: "queue.Queue[Optional[str]]") -> None:
    try:
        for raw in iter(stream.readline, b""):
            sink.put(raw.decode("utf-8", "replace").rstrip("\n"))
    except (OSError, ValueError):
        pass
    sink.put(None)


class Background:
    """A command left running (a server), in a process group of its own; ``stop()`` sends
    SIGTERM to that group by the process's id, then SIGKILL. Its stdout and stderr lines are
    read by threads into queues."""

    def __init__(self, argv: Sequence[str], cwd: str, env: Optional[Dict[str, str]]) -> None:
        self.argv = list(argv)
        self.proc = subprocess.Popen(self.argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.out = queue.Queue()  # type: queue.Queue[Optional[str]]
        self.err = queue.Queue()  # type: queue.Queue[Optional[str]]
        self.err_lines = []  # type: List[str]
        self._err_done = False
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=_drain, args=(stream, sink), daemon=True).start()

    def stderr_until(self, pattern: str, timeout: float = TIMEOUT) -> "re.Match[str]":
        """Read stderr until a line matches ``pattern``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.err.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("%s printed no line matching %r within %ss; stderr:\n%s"
                                     % (self.argv, pattern, timeout, "\n".join(self.err_lines[-30:])))
            if line is None:
                self._err_done = True
                raise AssertionError("%s exited (status %s) before printing %r; stderr:\n%s"
                                     % (self.argv, self.proc.wait(), pattern, "\n".join(self.err_lines[-30:])))
            self.err_lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def send_line(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def receive(self, timeout: float = 10.0) -> str:
        """The next stdout line."""
        try:
            line = self.out.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("%s sent nothing within %ss; stderr:\n%s" % (self.argv, timeout, self.stderr_tail()))
        if line is None:
            raise AssertionError("%s closed its stdout; stderr:\n%s" % (self.argv, self.stderr_tail()))
        return line

    def lines_for(self, seconds: float) -> List[Tuple[float, str]]:
        """Every stdout line arriving within ``seconds``, with when (from now)."""
        start = time.monotonic()
        got = []  # type: List[Tuple[float, str]]
        while True:
            left = start + seconds - time.monotonic()
            if left <= 0:
                return got
            try:
                line = self.out.get(timeout=left)
            except queue.Empty:
                return got
            if line is None:
                return got
            got.append((time.monotonic() - start, line))

    def stderr_tail(self) -> str:
        """The last stderr lines; all of them once the process has exited."""
        exited = self.proc.poll() is not None
        while not self._err_done:
            try:
                line = self.err.get(timeout=5) if exited else self.err.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self._err_done = True
            else:
                self.err_lines.append(line)
        return "\n".join(self.err_lines[-30:])

    def signal(self, number: int) -> None:
        self.proc.send_signal(number)

    def wait(self, timeout: float) -> Optional[int]:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except OSError:
                pass
            if self.wait(5) is None:
                _kill_group(self.proc)
                self.proc.wait(5)
        _kill_group(self.proc)  # anything the server started
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_url(server: Background) -> str:
    """The URL ``python3 -m mcplite serve FILE --http HOST:PORT`` says it serves at."""
    return server.stderr_until(r"http://127\.0\.0\.1:\d+/mcp").group(0)


# --- wire transcripts ------------------------------------------------------------------------------

MODERN = "2026-07-28"
BASE_META = ('"io.modelcontextprotocol/protocolVersion":"%s",'
             '"io.modelcontextprotocol/clientInfo":{"name":"readme","version":"1"}' % MODERN)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_ANY_STRING = r'("(?:[^"\\]|\\.)*")'
_ISO_TIME = r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"'


def line_pattern(text: str, ellipsis: str = "…") -> Tuple["re.Pattern[str]", List[str]]:
    """A regular expression for a line of a README transcript: ``ellipsis`` outside a JSON
    string stands for anything; a string holding it for any string (captured, so the same
    abridged string can be checked to mean the same value everywhere); an ISO timestamp for any
    timestamp. Returns the expression and the abridged strings, in the order of its groups."""
    pieces = []  # type: List[str]
    abridged = []  # type: List[str]
    position = 0
    for found in _STRING.finditer(text):
        pieces.append(_outside(text[position:found.start()], ellipsis))
        literal = found.group(0)
        if ellipsis in literal:
            pieces.append(_ANY_STRING)
            abridged.append(literal)
        elif re.fullmatch(_ISO_TIME, literal):
            pieces.append(_ISO_TIME)
        else:
            pieces.append(re.escape(literal))
        position = found.end()
    pieces.append(_outside(text[position:], ellipsis))
    return re.compile("".join(pieces) + r"\Z", re.S), abridged


def _outside(chunk: str, ellipsis: str) -> str:
    return ".*?".join(re.escape(part) for part in chunk.split(ellipsis))


class Transcript:
    """Plays a README transcript against a live peer: ``→`` lines are sent (what they abridge
    filled in), ``←`` lines must match what the peer sends next."""

    def __init__(self, peer: Background, ellipsis: str = "…") -> None:
        self.peer = peer
        self.ellipsis = ellipsis
        self.values = {}  # type: Dict[str, str]    # an abridged string -> the real one
        self.capabilities = {}  # type: Dict[str, Any]  # the last clientCapabilities shown in full
        self.last_sent = ""

    def fill(self, text: str) -> str:
        """A ``→`` line made sendable: each abridged string is the value it stood for in an
        earlier ``←`` line, ``"_meta":{…,`` gains the protocol version and client info, and
        ``"_meta":{…}`` those and the client capabilities last shown in full."""
        pieces = []  # type: List[str]
        position = 0
        for found in _STRING.finditer(text):
            pieces.append(text[position:found.start()])
            literal = found.group(0)
            if self.ellipsis in literal:
                assert literal in self.values, "the → line uses %s before a ← line shows it: %s" % (literal, text)
                literal = self.values[literal]
            pieces.append(literal)
            position = found.end()
        pieces.append(text[position:])
        filled = "".join(pieces)
        filled = filled.replace('"_meta":{%s,' % self.ellipsis, '"_meta":{%s,' % BASE_META)
        capabilities = json.dumps(self.capabilities, separators=(",", ":"))
        full = '"_meta":{%s,"io.modelcontextprotocol/clientCapabilities":%s}' % (BASE_META, capabilities)
        filled = filled.replace('"_meta":{%s}' % self.ellipsis, full)
        assert self.ellipsis not in filled, "a → line abridged where the handler cannot fill it in: " + text
        message = json.loads(filled)
        capabilities = message.get("params", {}).get("_meta", {}).get("io.modelcontextprotocol/clientCapabilities")
        if capabilities is not None:
            self.capabilities = capabilities
        return filled

    def send(self, text: str) -> None:
        self.last_sent = self.fill(text)
        self.peer.send_line(self.last_sent)

    def expect(self, text: str, timeout: float = 10.0) -> Dict[str, Any]:
        """The next message must match ``text``. A task still ``working`` where the README
        shows it further on is polled again with the same ``tasks/get``, as a client does."""
        pattern, abridged = line_pattern(text, self.ellipsis)
        deadline = time.monotonic() + timeout
        while True:
            actual = self.peer.receive(max(0.1, deadline - time.monotonic()))
            found = pattern.match(actual)
            if found:
                for literal, value in zip(abridged, found.groups()):
                    assert self.values.setdefault(literal, value) == value, (
                        "%s stands for two values in one transcript: %s, %s" % (literal, self.values[literal], value))
                return json.loads(actual)
            message = json.loads(actual)
            polling = json.loads(self.last_sent).get("method") == "tasks/get" if self.last_sent else False
            if polling and message.get("result", {}).get("status") == "working" and time.monotonic() < deadline:
                time.sleep(0.05)
                self.peer.send_line(self.last_sent)
                continue
            raise AssertionError("the README shows\n  ← %s\nthe server sent\n  ← %s" % (text, actual))

    def play(self, block_text: str, extra: Optional[Dict[str, Any]] = None) -> None:
        """Every line of a transcript block; ``extra`` maps the start of any other line to a
        function called with the line (what an annotation such as "(no response ...)" says is
        checked there)."""
        for raw in block_text.splitlines():
            if raw.startswith("→ "):
                self.send(raw[2:])
            elif raw.startswith("← "):
                self.expect(raw[2:])
            elif raw.strip():
                for start, check in (extra or {}).items():
                    if raw.strip().startswith(start):
                        check(raw.strip())
                        break
                else:
                    raise AssertionError("a transcript line the handler does not know: %r" % raw)


# --- Python blocks -----------------------------------------------------------------------------

class _Recorder(ast.NodeTransformer):
    """Top-level expression statements (also inside ``with``, ``if``, ``for`` at the top) become
    ``__record__(line, value)``; function and class bodies are left alone."""

    def visit_FunctionDef(self, node: Any) -> Any:
        return node

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_Expr(self, node: ast.Expr) -> Any:
        value = node.value
        if isinstance(value, ast.Constant) and (value.value is Ellipsis or isinstance(value.value, str)):
            return node
        call = ast.Call(func=ast.Name(id="__record__", ctx=ast.Load()),
                        args=[ast.Constant(value=node.lineno), value], keywords=[])
        return ast.copy_location(ast.Expr(value=call), node)


class Recorded(NamedTuple):
    line: int    # in the block, from 1
    source: str  # that line
    value: Any


def exec_block(code: str, namespace: Dict[str, Any], name: str = "README.md") -> List[Recorded]:
    """``exec`` a Python block in ``namespace``; the value of each top-level expression
    statement (a call whose result the README drops, say) is recorded, in order."""
    tree = _Recorder().visit(ast.parse(code, name))
    ast.fix_missing_locations(tree)
    lines = code.splitlines()
    recorded = []  # type: List[Recorded]

    def record(line: int, value: Any) -> Any:
        recorded.append(Recorded(line, lines[line - 1], value))
        return value

    namespace["__record__"] = record
    namespace.setdefault("__name__", "readme_block")
    exec(compile(tree, name, "exec"), namespace)
    return recorded
