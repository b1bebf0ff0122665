"""A minimal line-oriented client for driving a stdio server in a subprocess."""

import json
import os
import queue
import subprocess
import threading
import time
from typing import Any, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class StdioPeer:
    def __init__(self, argv: List[str], env: Optional[Dict[str, str]] = None) -> None:
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = ROOT + os.pathsep + full_env.get("PYTHONPATH", "")
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env, bufsize=0)
        self.lines = queue.Queue()  # type: queue.Queue
        self.stderr_chunks = []  # type: List[bytes]
        self.raw_lines = []  # type: List[bytes]
        self._readers = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for thread in self._readers:
            thread.start()

    def _read_out(self) -> None:
        for line in iter(self.proc.stdout.readline, b""):
            self.raw_lines.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _read_err(self) -> None:
        for chunk in iter(lambda: self.proc.stderr.read1(65536) if hasattr(self.proc.stderr, "read1")
                          else self.proc.stderr.read(65536), b""):
            self.stderr_chunks.append(chunk)

    @property
    def stderr(self) -> str:
        return b"".join(self.stderr_chunks).decode("utf-8", "replace")

    def write(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: Any) -> None:
        self.write(json.dumps(message).encode("utf-8") + b"\n")

    def receive(self, timeout: float = 10.0) -> Any:
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise EOFError("server closed stdout; stderr:\n" + self.stderr)
        return json.loads(line.decode("utf-8"))

    def request(self, method: str, params: Optional[Dict[str, Any]] = None, id: Any = 1,
                timeout: float = 10.0) -> Any:
        message = {"jsonrpc": "2.0", "id": id, "method": method}  # type: Dict[str, Any]
        if params is not None:
            message["params"] = params
        self.send(message)
        deadline = time.monotonic() + timeout
        while True:
            reply = self.receive(max(0.01, deadline - time.monotonic()))
            if isinstance(reply, dict) and reply.get("id") == id and "method" not in reply:
                return reply

    def initialize(self, version: str = "2025-11-25") -> Any:
        reply = self.request("initialize", {"protocolVersion": version, "capabilities": {},
                                            "clientInfo": {"name": "stdio-tests", "version": "0"}}, id="init")
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return reply

    def close_stdin(self) -> None:
        self.proc.stdin.close()

    def wait(self, timeout: float = 10.0) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        # The readers see the end of the pipes first: a stream closed under a reader frees
        # its fd number, which the next test's pipe may take before the reader's next
        # read(), and that read would then take a byte of the next server's output.
        for thread in self._readers:
            thread.join(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except Exception:
                pass

    def __enter__(self) -> "StdioPeer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()
