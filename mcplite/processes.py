"""Child processes: a stdio server run by the client or the command line, started and stopped
one way everywhere.

A child runs in a process group of its own: what it starts (npx's node, a shell's command)
is stopped with it, and a Ctrl-C meant for us is not its to handle. Its stdin and stdout are
pipes for the protocol; its stderr is ours, or kept (the last bytes of it) to say why it ended.
Stopping it closes its stdin, waits, then signals the whole group: never an orphan.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import Dict, List, Optional, Sequence


class ChildProcess:
    """``argv`` started with piped stdin and stdout (unbuffered: the caller reads them its
    own way); ``env`` adds to this process's environment. With ``capture_stderr`` its stderr
    is read by a thread of its own and the last ``keep`` bytes kept (``stderr_tail``);
    otherwise it writes to ours. Raises OSError when it cannot be started."""

    def __init__(self, argv: Sequence[str], env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None,
                 capture_stderr: bool = True, keep: int = 65536) -> None:
        full_env = None
        if env is not None:
            full_env = dict(os.environ)
            full_env.update(env)
        self.argv = list(argv)
        self.process = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if capture_stderr else None, env=full_env, cwd=cwd, bufsize=0,
            start_new_session=os.name == "posix")  # type: subprocess.Popen[bytes]
        self.pid = self.process.pid
        self._keep = keep
        self._tail = bytearray()
        self._tail_lock = threading.Lock()
        self.stderr_reader = None  # type: Optional[threading.Thread]
        if self.process.stderr is not None:
            self.stderr_reader = threading.Thread(target=self._read_stderr, name="mcplite-child-stderr", daemon=True)
            self.stderr_reader.start()

    def _read_stderr(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        try:
            for chunk in iter(lambda: stderr.read(4096), b""):
                with self._tail_lock:
                    self._tail.extend(chunk)
                    del self._tail[:-self._keep]
        except (OSError, ValueError):
            pass  # closed under us

    def stderr_tail(self, limit: int = 2000, wait: float = 0.5) -> str:
        """The end of what it wrote to its stderr (at most ``limit`` bytes), after waiting up
        to ``wait`` seconds for the rest of it (a process that just exited)."""
        reader = self.stderr_reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(wait)
        with self._tail_lock:
            return bytes(self._tail[-limit:]).decode("utf-8", "replace").strip()

    def stderr_lines(self, count: int = 20, wait: float = 0.5) -> List[str]:
        """The last ``count`` lines with something on them that it wrote to its stderr (after
        waiting up to ``wait`` seconds for the rest)."""
        return [line for line in self.stderr_tail(self._keep, wait).splitlines() if line.strip()][-count:]

    def exit_status(self, wait: float = 0.0) -> Optional[int]:
        """Its exit status, waiting up to ``wait`` seconds; None while it runs."""
        try:
            return self.process.wait(wait)
        except subprocess.TimeoutExpired:
            return None

    def close_stdin(self) -> None:
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass

    def stop(self, timeout: float, signal_wait: Optional[float] = None,
             hurry: Optional[threading.Event] = None) -> None:
        """Close its stdin, then ``stop_process`` its whole group."""
        self.close_stdin()
        stop_process(self.process, timeout, group=True, signal_wait=signal_wait, hurry=hurry)


def stop_process(process: "subprocess.Popen[bytes]", timeout: float, group: bool = False,
                 signal_wait: Optional[float] = None, hurry: Optional[threading.Event] = None) -> None:
    """After its stdin was closed: wait ``timeout`` seconds for ``process`` to exit, then
    SIGTERM it and wait again (``signal_wait``, default ``timeout``), then SIGKILL it
    ("sending SIGTERM if the server does not exit within a reasonable time ... SIGKILL if
    [it] does not exit ... after SIGTERM"). ``group``: the process was started in a session
    of its own (``start_new_session``); its whole group is signalled, and whatever of the
    group outlives it is killed: never an orphan. The process itself is signalled by its
    PID too, whatever its group: the one we started is stopped even if the group signal
    misses it. ``hurry``: an event that cuts the first wait short once set (a proxy told to
    stop now)."""
    import signal
    group = group and os.name == "posix"
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)  # (Windows has no SIGKILL)
    for sig in (None, signal.SIGTERM, kill):
        if sig is not None:
            if group:
                try:
                    os.killpg(process.pid, sig)
                except OSError:
                    pass  # (no such group: the process left it, or it is gone)
            try:
                # By its PID as well: Popen does not signal a process it has reaped, so
                # this never reaches another process that took the number.
                process.send_signal(sig)
            except OSError:
                pass
        wait = timeout if sig is None or signal_wait is None else signal_wait
        if sig is None and hurry is not None:
            # Polled, so that the event is heard while waiting.
            deadline = time.monotonic() + wait
            while process.poll() is None and time.monotonic() < deadline and not hurry.is_set():
                time.sleep(0.02)
            wait = 0.0
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    if group:
        try:
            os.killpg(process.pid, kill)  # what the server left behind
        except OSError:
            pass  # (nothing left: the group is gone)
