"""The shared store (stores.py): the store contract, over every store; the tasks extension
served from each store (tests/test_tasks.py's tests again); and real worker processes sharing
one SQLite file.

``STORES`` names the stores the contract runs over; a store added to it (PostgreSQL, given a
server) runs every test of the first two parts.
"""

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from typing import Any, Callable, Dict, Optional, Sequence, Set

import pytest

import tasks_app as tasks_app_module
from http_peer import ACCEPT_BOTH, MODERN, Http, open_stream
from mcplite import Server
from mcplite.stores import (SCHEMA_VERSION, TASK_ACTIVE, MemoryStore, SqliteStore, SqlStore, Store, StoreSchemaError,
                            StoreUnavailable, _placeholders, now_ms)

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)

# name -> function(tmp_path) making a fresh store.
STORE_MAKERS = {
    "memory": lambda tmp_path: MemoryStore(poll_interval=0.02, lease=1.0),
    "sqlite": lambda tmp_path: SqliteStore(str(tmp_path / "state.db"), poll_interval=0.02, lease=1.0),
}  # type: Dict[str, Callable[[Any], Store]]
STORES = sorted(STORE_MAKERS)


@pytest.fixture(params=STORES)
def store_maker(request, tmp_path):
    made = []

    def make() -> Store:
        store = STORE_MAKERS[request.param](tmp_path)
        made.append(store)
        return store
    yield make
    for store in made:
        store.close()


# ---------------------------------------------------------------------------
# tests/test_tasks.py's tests, the server keeping its tasks in each store

from test_tasks import *  # noqa: E402,F401,F403  (collected again here, over each store)

# (It reads the in-memory TaskStore's own table to tell which task ended first.)
del test_one_client_cannot_fill_the_store  # noqa: F821


from test_tasks import Tasks  # noqa: E402

# Only its in-memory tests (those with a wire_factory) run again; HTTP and stdio are tested there.
for _name in [name for name in globals() if name.startswith("test_http_") or name.startswith("test_stdio_")]:
    del globals()[_name]


@pytest.fixture
def wire_factory(wire_factory, store_maker, monkeypatch):
    """The in-memory wire of tests/test_tasks.py's tests, their servers keeping tasks in each store."""
    monkeypatch.setattr(tasks_app_module, "STORE", store_maker)
    return wire_factory


@pytest.fixture
def app(wire_factory):
    """(After wire_factory, which sets the store.)"""
    app = tasks_app_module.tasks_app()
    assert app.store is not None
    yield app
    app.release.set()


# ---------------------------------------------------------------------------
# The store contract

def _row(task_id: str, **changes: Any) -> Dict[str, Any]:
    now = now_ms()
    row = {"id": task_id, "owner": "null", "client": "c1", "worker": "w1", "status": "working", "message": None,
           "created": now, "updated": now, "expires": now + 60000, "beat": now, "version": 0, "delivered": False,
           "result": None, "error": None, "pending": {}, "answers": {}}
    row.update(changes)
    return row


def test_a_task_row_reads_back_as_written(store_maker):
    store = store_maker()
    row = _row("t1", result={"content": [{"type": "text", "text": "é ✓"}]}, answers={"k": [1, None, True]})
    store.task_insert(row)
    assert store.task_get("t1") == row
    assert store.task_get("missing") is None
    with pytest.raises(Exception):
        store.task_insert(_row("t1"))  # an id is unique
    assert store.task_count() == 1 and store.task_count("c1") == 1 and store.task_count("c2") == 0


def test_a_conditional_update_applies_once(store_maker):
    store = store_maker()
    store.task_insert(_row("t1"))
    # Two workers ending one task: the first update wins, the second finds it ended.
    assert store.task_update("t1", {"status": "completed", "result": {"a": 1}}, statuses=TASK_ACTIVE) is True
    assert store.task_update("t1", {"status": "cancelled"}, statuses=TASK_ACTIVE) is False
    row = store.task_get("t1")
    assert (row["status"], row["result"], row["version"]) == ("completed", {"a": 1}, 1)
    # By version: an update made from a stale read is refused.
    assert store.task_update("t1", {"delivered": True}, version=0) is False
    assert store.task_update("t1", {"delivered": True}, version=1) is True
    assert store.task_get("t1")["delivered"] is True
    assert store.task_update("missing", {"status": "failed"}) is False


def test_racing_updates_from_threads_have_one_winner(store_maker):
    import threading
    store = store_maker()
    store.task_insert(_row("t1"))
    wins = []
    barrier = threading.Barrier(8)

    def end(n: int) -> None:
        barrier.wait()
        if store.task_update("t1", {"status": "completed", "result": {"n": n}}, statuses=TASK_ACTIVE):
            wins.append(n)
    threads = [threading.Thread(target=end, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(wins) == 1
    assert store.task_get("t1")["result"] == {"n": wins[0]}


def test_sweep_heartbeat_reap_and_the_oldest_delivered(store_maker):
    store = store_maker()
    now = now_ms()
    store.task_insert(_row("old", expires=now - 1))
    store.task_insert(_row("alive", worker="w1", beat=now - 50000))
    store.task_insert(_row("dead", worker="w2", beat=now - 50000))
    store.task_insert(_row("done", status="completed", delivered=True, updated=now - 10, beat=now - 50000))
    store.task_insert(_row("done2", status="completed", delivered=True, updated=now, client="c2"))
    assert store.task_sweep(now) == ["old"]
    assert store.task_get("old") is None
    store.task_heartbeat("w1", now)
    assert store.task_get("alive")["beat"] == now
    assert store.task_reap(now - 10000, "lost", {"code": -32603, "message": "lost"}) == 1
    dead = store.task_get("dead")
    assert (dead["status"], dead["message"], dead["error"]) == ("failed", "lost", {"code": -32603, "message": "lost"})
    assert store.task_get("done")["status"] == "completed"  # an ended task is never reaped
    assert store.task_oldest_delivered() == "done"
    assert store.task_oldest_delivered("c2") == "done2"
    assert store.task_oldest_delivered("c9") is None
    statuses = store.task_statuses(["alive", "dead", "missing"])
    assert statuses["alive"][0] == "working" and statuses["dead"][0] == "failed" and "missing" not in statuses
    store.task_delete("alive")
    assert store.task_get("alive") is None


def test_events_are_read_in_order_after_a_cursor(store_maker):
    store = store_maker()
    start = store.last_event()
    store.publish("list", "tools", "w1")
    store.publish("resource", "file:///a?b=%20", "w2")
    cursor, events = store.events_after(start)
    assert events == [("w1", "list", "tools"), ("w2", "resource", "file:///a?b=%20")]
    assert cursor == store.last_event()
    assert store.events_after(cursor) == (cursor, [])
    assert store.events_after(start, limit=1)[1] == [("w1", "list", "tools")]


def test_event_logs(store_maker):
    store = store_maker()
    assert [store.log_append("s1", '{"n":%d}' % n) for n in range(3)] == [1, 2, 3]
    assert store.log_append("s2", "x") == 1
    assert store.log_after("s1", 1) == [(2, '{"n":1}'), (3, '{"n":2}')]
    store.log_drop("s1")
    assert store.log_after("s1", 0) == [] and store.log_after("s2", 0) == [(1, "x")]


# ---------------------------------------------------------------------------
# SQL specifics

def test_two_sqlite_stores_on_one_file_share_everything(tmp_path):
    path = str(tmp_path / "shared.db")
    first, second = SqliteStore(path), SqliteStore(path)
    try:
        first.task_insert(_row("t1"))
        assert second.task_get("t1")["status"] == "working"
        start = second.last_event()
        first.publish("list", "prompts", first.worker)
        assert second.events_after(start)[1] == [(first.worker, "list", "prompts")]
    finally:
        first.close()
        second.close()


def test_a_schema_of_another_version_is_refused(tmp_path):
    import sqlite3
    for version, says in ((0, "made by an older mcplite"), (SCHEMA_VERSION + 1, "made by a newer mcplite")):
        path = str(tmp_path / ("v%d.db" % version))
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE mcplite_schema (version BIGINT NOT NULL)")
            connection.execute("INSERT INTO mcplite_schema VALUES (?)", (version,))
        with pytest.raises(StoreSchemaError) as info:
            SqliteStore(path)
        assert "schema version %d, this mcplite uses %d" % (version, SCHEMA_VERSION) in str(info.value)
        assert says in str(info.value)


def test_the_paramstyles():
    sql = "UPDATE t SET a = ? WHERE b = ? AND c IN (?, ?)"
    assert _placeholders(sql, "qmark") == sql
    assert _placeholders(sql, "format") == _placeholders(sql, "pyformat") == \
        "UPDATE t SET a = %s WHERE b = %s AND c IN (%s, %s)"
    assert _placeholders(sql, "numeric") == "UPDATE t SET a = :1 WHERE b = :2 AND c IN (:3, :4)"
    assert _placeholders(sql, "named") == "UPDATE t SET a = :p1 WHERE b = :p2 AND c IN (:p3, :p4)"
    with pytest.raises(ValueError):
        _placeholders(sql, "dollar")


def test_a_generic_sql_store_over_sqlite3_in_each_paramstyle_it_takes(tmp_path):
    import sqlite3
    path = str(tmp_path / "generic.db")
    # sqlite3 takes qmark and named: the store speaks each. (Its numeric style wants a mapping
    # since Python 3.14, which DB-API's numeric style does not give.)
    for style in ("qmark", "named"):
        store = SqlStore(lambda: sqlite3.connect(path, check_same_thread=False), style, dialect="sqlite")
        try:
            store.task_insert(_row("t-" + style))
            assert store.task_update("t-" + style, {"status": "failed"}, statuses=TASK_ACTIVE)
            assert store.task_get("t-" + style)["status"] == "failed"
        finally:
            store.close()
    # Asked of the driver's module when not given.
    assert SqlStore(lambda: sqlite3.connect(path, check_same_thread=False), dialect="sqlite").paramstyle == "qmark"


def test_a_locked_database_is_retried_then_refused(tmp_path):
    import sqlite3
    path = str(tmp_path / "locked.db")
    store = SqliteStore(path, busy_timeout=0.05)
    store.first_backoff = 0.01
    store.task_insert(_row("t1"))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as info:
            store.task_update("t1", {"status": "failed"})
        # Attempts of busy_timeout each, 0.01 s apart and doubling, while the next pause ends
        # within retry_for (1.5 s): retried for more than half a second, given up within seconds.
        assert 0.5 < time.monotonic() - started < 5
        assert info.value.code == -32603
        assert info.value.message == "Server busy: the shared store is unavailable (locked); try again"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # Unlocked, the store serves again.
    assert store.task_update("t1", {"status": "failed"}) is True
    store.close()


def test_an_unreachable_database_is_store_unavailable(tmp_path):
    def connect() -> Any:
        raise OSError("connection refused")
    with pytest.raises(OSError):
        # The first connection is made as the store is made: the program fails to start,
        # with the driver's own error.
        SqlStore(connect, "format")
    import sqlite3
    with pytest.raises(sqlite3.OperationalError) as info:
        SqliteStore(str(tmp_path / "no such directory" / "state.db"))
    assert "cannot open the store's database %s" % (tmp_path / "no such directory" / "state.db") in str(info.value)
    # The database goes away after start: its directory removed, no connection kept open.
    directory = tmp_path / "db"
    directory.mkdir()
    store = SqliteStore(str(directory / "state.db"))
    store.close()
    import shutil
    shutil.rmtree(str(directory))
    with pytest.raises(StoreUnavailable) as info:
        store.task_get("t1")
    assert info.value.message == "Server busy: the shared store is unavailable (cannot connect); try again"


# ---------------------------------------------------------------------------
# Worker processes sharing one SQLite file (tests/store_worker.py), each stopped by its PID

KEY_OLD, KEY_NEW, KEY_OTHER = (bytes([n]) * 32 for n in (1, 2, 3))
TASKS_META = {"io.modelcontextprotocol/clientCapabilities": {
    "elicitation": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}}}


class Worker:
    """``python tests/store_worker.py DB 0 [LEASE]`` with ``keys``: ``port``, ``url``, ``pid``,
    ``log()``, ``stop()`` (SIGTERM, then SIGKILL, by its PID), ``kill()`` (SIGKILL at once)."""

    def __init__(self, db: str, keys: Sequence[bytes], lease: float = 1.0) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([ROOT, TESTS] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                              if p])
        env["STORE_WORKER_KEYS"] = ",".join(key.hex() for key in keys)
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, os.path.join(TESTS, "store_worker.py"), db, "0", str(lease)],
                                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log)
        self.pid = self.proc.pid
        line = b""
        ready = select.select([self.proc.stdout], [], [], 30)[0]
        if ready:
            line = self.proc.stdout.readline()
        if not line.startswith(b"PORT "):
            log = self.log()
            self.stop()
            pytest.fail("the worker did not start: %r\n%s" % (line, log[-3000:]))
        self.port = int(line.split()[1])
        self.url = "http://127.0.0.1:%d/mcp" % self.port

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc.stdout.close()
        self._log.close()


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    """Two workers on one SQLite file, in the middle of a key rotation: the first already
    seals with the new key, the second still with the old one; each opens both."""
    db = str(tmp_path_factory.mktemp("workers") / "state.db")
    first = Worker(db, [KEY_NEW, KEY_OLD])
    try:
        second = Worker(db, [KEY_OLD, KEY_NEW])
    except BaseException:
        first.stop()
        raise
    try:
        yield db, first, second
    finally:
        first.stop()
        second.stop()


class Peer(Http):
    """A raw 2026-07-28 client of one worker (a keep-alive connection to it)."""

    def __init__(self, worker: Worker) -> None:
        Http.__init__(self, worker)

    def result(self, method: str, params: Optional[Dict[str, Any]] = None, tasks: bool = True) -> Any:
        params = dict(params or {})
        if tasks:
            params["_meta"] = dict(TASKS_META)
        reply = self.modern(method, params, name=params.get("taskId"))
        message = reply.messages()[-1]
        assert "result" in message, message
        return message["result"]

    def error(self, method: str, params: Dict[str, Any], tasks: bool = True) -> Dict[str, Any]:
        if tasks:
            params = dict(params, _meta=dict(TASKS_META))
        message = self.modern(method, params, name=params.get("taskId")).messages()[-1]
        assert "error" in message, message
        return message["error"]


def _until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "%s: not within %g s" % (what, timeout)
        time.sleep(0.02)


def test_the_workers_are_two_processes(workers):
    _, first, second = workers
    with closing(Peer(first)) as a, closing(Peer(second)) as b:
        assert a.result("tools/call", {"name": "where"})["structuredContent"] == {"result": first.pid}
        assert b.result("tools/call", {"name": "where"})["structuredContent"] == {"result": second.pid}


def test_a_task_made_on_one_worker_is_answered_and_polled_on_the_other(workers):
    _, first, second = workers
    from mcplite import Client
    asked = []

    def elicitation(params: Dict[str, Any]) -> Dict[str, Any]:
        asked.append(params["message"])
        return {"action": "accept", "content": {"word": "hello"}}
    # (The first client declares elicitation too, as the task's questions need; it never polls.)
    with closing(Client.http(first.url, tasks=True, protocol_version=MODERN, elicitation=elicitation)) as on_first:
        created = on_first.call_tool("ask", {"question": "a word?"}, wait=False)
    assert created["resultType"] == "task", created
    # The real client, on the other worker: it polls tasks/get, answers the question with
    # tasks/update, and gets the result of the handler running on the first worker.
    with closing(Client.http(second.url, tasks=True, protocol_version=MODERN, elicitation=elicitation)) as on_second:
        result = on_second.wait_task(created["taskId"], timeout=30)
    assert result["content"][0]["text"] == "worker %d heard hello" % first.pid
    assert asked == ["a word?"]


def test_a_task_cancelled_on_the_other_worker_stops_its_handler(workers):
    _, first, second = workers
    with closing(Peer(first)) as a, closing(Peer(second)) as b:
        task_id = a.result("tools/call", {"name": "spin"})["taskId"]
        assert b.result("tasks/get", {"taskId": task_id})["status"] == "working"
        assert b.result("tasks/cancel", {"taskId": task_id})["resultType"] == "complete"
        assert a.result("tasks/get", {"taskId": task_id})["status"] == "cancelled"
        # The handler on the first worker hears of it within its store's poll interval.
        _until(lambda: ("spin saw its cancel in worker %d" % first.pid) in first.log(), 10, "the handler's cancel")
        assert a.result("tasks/get", {"taskId": task_id})["status"] == "cancelled"  # its late end is dropped
        # Unknown there as here: another id is -32602 on both.
        for peer in (a, b):
            assert peer.error("tasks/get", {"taskId": "0" * 32})["code"] == -32602


def test_a_cursor_sealed_by_one_worker_opens_on_the_other_across_a_key_rotation(workers, tmp_path):
    db, first, second = workers
    with closing(Peer(first)) as a, closing(Peer(second)) as b:
        names = []
        page = a.result("tools/list", tasks=False)  # sealed with the new key
        names.extend(tool["name"] for tool in page["tools"])
        for peer in (b, a, b, a, b, a):  # each page from the other worker, its cursor from the last one
            page = peer.result("tools/list", {"cursor": page["nextCursor"]}, tasks=False)
            names.extend(tool["name"] for tool in page["tools"])
            if "nextCursor" not in page:
                break
        assert {"where", "ask", "spin", "double", "add_tool", "touch"} <= set(names)
        cursor = a.result("tools/list", tasks=False)["nextCursor"]
    # A worker with neither key refuses the cursor (-32602), as it would a forged one.
    stranger = Worker(db, [KEY_OTHER])
    try:
        with closing(Peer(stranger)) as c:
            error = c.error("tools/list", {"cursor": cursor}, tasks=False)
            assert error["code"] == -32602, error
    finally:
        stranger.stop()


def test_a_request_state_sealed_by_one_worker_is_taken_by_the_other(workers):
    _, first, second = workers
    meta = {"io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}
    with closing(Peer(first)) as a, closing(Peer(second)) as b:
        params = {"name": "ask", "arguments": {"question": "a word?"}, "_meta": meta}
        asked = a.modern("tools/call", params).messages()[-1]["result"]
        assert asked["resultType"] == "input_required", asked
        (key,) = asked["inputRequests"]
        again = dict(params, requestState=asked["requestState"],
                     inputResponses={key: {"action": "accept", "content": {"word": "hi"}}})
        answered = b.modern("tools/call", again).messages()[-1]["result"]
        assert answered["content"][0]["text"] == "worker %d heard hi" % second.pid, answered


def _listen(worker: Worker, params: Dict[str, Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": "sub", "method": "subscriptions/listen", "params": dict(params, _meta={
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {}})}).encode()
    sock, first = open_stream(worker.port, "POST", "/mcp", {
        "Content-Type": "application/json", "Accept": ACCEPT_BOTH, "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "subscriptions/listen"}, body)
    return sock, first


def _read_until(sock: Any, received: bytes, needle: bytes, timeout: float) -> bytes:
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while needle not in received:
        assert time.monotonic() < deadline, "%r not received in %g s: %r" % (needle, timeout, received[-2000:])
        chunk = sock.recv(65536)
        assert chunk, "the stream ended: %r" % received[-2000:]
        received += chunk
    return received


def test_a_change_on_one_worker_reaches_the_listen_stream_on_the_other(workers):
    _, first, second = workers
    sock, received = _listen(second, {"notifications": {"toolsListChanged": True,
                                                        "resourceSubscriptions": ["memo://one"]}})
    try:
        received = _read_until(sock, received, b"acknowledged", 5)
        with closing(Peer(first)) as a:
            assert a.result("tools/call", {"name": "add_tool", "arguments": {"name": "fresh1"}}, tasks=False)
            received = _read_until(sock, received, b"notifications/tools/list_changed", 5)
            assert a.result("tools/call", {"name": "touch", "arguments": {"uri": "memo://one"}}, tasks=False)
            received = _read_until(sock, received, b"notifications/resources/updated", 5)
        assert b'"uri":"memo://one"' in received
    finally:
        sock.close()


def test_a_change_on_one_worker_reaches_a_legacy_sessions_get_stream_on_the_other(workers):
    _, first, second = workers
    with closing(Peer(second)) as b:
        b.initialize()
        sock, received = open_stream(second.port, "GET", "/mcp", {
            "Accept": "text/event-stream", "Mcp-Session-Id": b.session_id, "MCP-Protocol-Version": b.version})
        try:
            assert received.startswith(b"HTTP/1.1 200"), received
            with closing(Peer(first)) as a:
                assert a.result("tools/call", {"name": "add_tool", "arguments": {"name": "fresh2"}}, tasks=False)
                received = _read_until(sock, received, b"notifications/tools/list_changed", 5)
        finally:
            sock.close()


def test_a_dead_workers_task_fails_in_bounded_time_and_a_finished_task_survives_restarts(workers):
    db, first, _ = workers
    doomed = Worker(db, [KEY_NEW, KEY_OLD])
    try:
        with closing(Peer(doomed)) as d:
            finished = d.result("tools/call", {"name": "double", "arguments": {"n": 21}})["taskId"]
            _until(lambda: d.result("tasks/get", {"taskId": finished})["status"] == "completed", 10, "double")
            running = d.result("tools/call", {"name": "spin"})["taskId"]
        killed_at = time.monotonic()
        doomed.kill()  # mid-task: no end, no more heartbeats
    finally:
        doomed.stop()
    with closing(Peer(first)) as a:
        # Lease 1 s: marked failed within about the lease and a poll interval.
        failed = _until(lambda: (lambda task: task if task["status"] == "failed" else None)(
            a.result("tasks/get", {"taskId": running})), 10, "the dead worker's task failing")
        assert time.monotonic() - killed_at < 5
        assert failed["statusMessage"] == ("The worker running this task stopped (no heartbeat for 1 s): "
                                           "the task cannot finish")
        assert failed["error"]["code"] == -32603
        done = a.result("tasks/get", {"taskId": finished})
        assert done["status"] == "completed" and done["result"]["structuredContent"] == {"result": 42}
    # A new worker on the same file (the restarted one) has them too.
    reborn = Worker(db, [KEY_NEW, KEY_OLD])
    try:
        with closing(Peer(reborn)) as r:
            assert r.result("tasks/get", {"taskId": finished})["result"]["structuredContent"] == {"result": 42}
            assert r.result("tasks/get", {"taskId": running})["status"] == "failed"
    finally:
        reborn.stop()


# ---------------------------------------------------------------------------
# gunicorn with two worker processes

def _gunicorn_workers(db: str, monkeypatch: Any, keys: Sequence[bytes], preload: bool = False) -> Any:
    from test_wsgi import Served, _free_port, _wsgi_python
    python = _wsgi_python()
    monkeypatch.setenv("STORE_WORKER_KEYS", ",".join(key.hex() for key in keys))
    port = _free_port()
    return Served("gunicorn -w 2", [python, "-m", "gunicorn", "-b", "127.0.0.1:%d" % port, "--no-control-socket",
                                    "--graceful-timeout", "1", "--workers", "2", "-k", "gthread", "--threads", "4"]
                  + (["--preload"] if preload else []) + ["store_worker:wsgi(%r)" % db], port)


def _fresh_call(port: int, method: str, params: Dict[str, Any]) -> Any:
    """One request on a connection of its own, so gunicorn may hand it to either worker."""
    class At:
        pass
    at = At()
    at.port = port  # type: ignore[attr-defined]
    with closing(Http(at)) as peer:
        params = dict(params, _meta=dict(TASKS_META))
        return peer.modern(method, params, name=params.get("taskId"))


@pytest.mark.interop
def test_gunicorn_with_two_workers_and_no_key_refuses_to_serve(tmp_path, monkeypatch):
    served = _gunicorn_workers(str(tmp_path / "state.db"), monkeypatch, [])
    try:
        reply = _fresh_call(served.port, "tools/call", {"name": "where"})
        assert reply.status == 500, reply
        message = reply.json()["error"]["message"]
        assert message.startswith("mcplite: several worker processes serve this endpoint, but no sealing key is "
                                  "configured"), message
        assert "state_keys=[key]" in message
        _until(lambda: "state_keys=[key]" in served.stderr(), 5, "the message in gunicorn's log")
    finally:
        served.stop()


# --preload: the store is made in gunicorn's master and its workers forked from it (each
# opens connections and starts its watch of its own).
@pytest.mark.interop
@pytest.mark.parametrize("preload", [False, True])
def test_gunicorn_with_two_workers_shares_tasks(tmp_path, monkeypatch, preload):
    served = _gunicorn_workers(str(tmp_path / "state.db"), monkeypatch, [KEY_NEW], preload)
    try:
        # Both workers serve: requests sent eight at a time (an idle worker's accept may win
        # every sequential one) until both have answered; the second worker may still be
        # booting when the first answers.
        pids = set()  # type: Set[int]

        def where() -> None:
            reply = _fresh_call(served.port, "tools/call", {"name": "where"})
            pids.add(reply.messages()[-1]["result"]["structuredContent"]["result"])
        deadline = time.monotonic() + 20
        while len(pids) < 2 and time.monotonic() < deadline:
            threads = [threading.Thread(target=where) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        assert len(pids) == 2, "every request landed on one worker"
        # Tasks started on fresh connections (so on both workers), each polled on fresh ones.
        started = [_fresh_call(served.port, "tools/call", {"name": "double", "arguments": {"n": n}})
                   .messages()[-1]["result"]["taskId"] for n in range(6)]
        for n, task_id in enumerate(started):
            done = _until(lambda: (lambda task: task if task["status"] == "completed" else None)(
                _fresh_call(served.port, "tasks/get", {"taskId": task_id}).messages()[-1]["result"]), 10, "a task")
            assert done["result"]["structuredContent"] == {"result": 2 * n}
    finally:
        served.stop()


# ---------------------------------------------------------------------------
# A store that fails under a server

# The handler's thread stores its end on a retry; or (one attempt only) it gives up and the
# store's watch stores it at a later tick.
@pytest.mark.parametrize("end_attempts", [6, 1])
def test_a_locked_store_is_a_json_rpc_error_to_the_client_and_the_task_ends_once_it_is_back(tmp_path, end_attempts,
                                                                                           caplog):
    import sqlite3
    from wire import Wire
    path = str(tmp_path / "state.db")
    store = SqliteStore(path, busy_timeout=0.05)
    store.first_backoff, store.retry_for = 0.01, 0.2  # (each operation gives up within 0.3 s)
    app = tasks_app_module.tasks_app(store=store)
    app.tasks.end_attempts = end_attempts
    wire = Wire(app)
    try:
        tasks = Tasks(wire)
        task_id = tasks.start("gate", {"label": "locked"})
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # (in WAL, readers go on; every writer waits)
        try:
            reply = tasks.call("gate", {"label": "refused"})  # a task cannot be made
            assert reply["error"] == {"code": -32603, "message": "Server busy: the shared store is unavailable "
                                                                 "(locked); try again"}, reply
            assert tasks.get(task_id)["result"]["status"] == "working"  # (a read)
            app.release.set()  # the handler ends while the store is locked: its end is retried
            time.sleep(1.0)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert tasks.wait(task_id, ["completed"])["result"]["content"][0]["text"].startswith("locked released")
        left = "task %s: its end could not be stored yet; trying again" % task_id
        assert (left in caplog.text) == (end_attempts == 1), caplog.text
    finally:
        app.release.set()
        wire.close()
        store.close()


# ---------------------------------------------------------------------------
# The key ring, and what a multi-process front end checks

def test_the_key_ring_seals_with_the_first_key_and_opens_with_any():
    from mcplite.sealing import Sealer
    old, new = Sealer(keys=[KEY_OLD]), Sealer(keys=[KEY_NEW, KEY_OLD])
    token = old.seal({"page": 2})
    assert new.open(token) == {"page": 2}  # sealed before the rotation: still good
    assert old.open(new.seal([1])) is None  # the new key is not in the old ring
    assert Sealer(keys=[KEY_OLD, KEY_NEW]).open(new.seal([1])) == [1]
    assert Sealer(KEY_OLD).open(token) == {"page": 2}  # state_secret= is a ring of one
    assert Sealer(keys=[KEY_OTHER]).open(token) is None
    assert new.configured and Sealer(KEY_OLD).configured and not Sealer().configured
    for bad in ([], [b"short"], b"k" * 32, [KEY_OLD, "text" * 8]):
        with pytest.raises(ValueError):
            Sealer(keys=bad)
    with pytest.raises(ValueError):
        Sealer(KEY_OLD, keys=[KEY_NEW])
    with pytest.raises(ValueError):
        Server("x", state_secret=KEY_OLD, state_keys=[KEY_NEW])
    with pytest.raises(TypeError):
        Server("x", store="sqlite:///state.db")


def test_what_stops_several_processes_from_serving(tmp_path):
    app = Server("x")
    problem = app.multiprocess_problem()
    assert problem is not None and "no sealing key is configured" in problem and "state_keys=[key]" in problem
    assert "tasks" not in problem
    keyed = Server("x", state_keys=[KEY_NEW])
    assert keyed.multiprocess_problem() is None  # no task, no change needs more than the keys

    @keyed.tool(task="optional")
    def job() -> str:
        return "done"
    problem = keyed.multiprocess_problem()
    assert problem is not None and "store=SqliteStore(" in problem and "sealing key" not in problem
    store = SqliteStore(str(tmp_path / "state.db"))
    try:
        assert Server("x", state_keys=[KEY_NEW], store=store).multiprocess_problem() is None
    finally:
        store.close()


def _wsgi_call(application: Any, multiprocess: bool, origin: Optional[str] = None,
               answer_headers: Optional[list] = None) -> Any:
    """One 2026-07-28 tools/list through ``application`` as a WSGI server calls it (from a page
    of ``origin``, if given): (status, body, what it wrote to wsgi.errors); the answer's header
    fields go to ``answer_headers``."""
    import io
    from wsgiref.util import setup_testing_defaults
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}}})
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/mcp", "CONTENT_TYPE": "application/json",
               "CONTENT_LENGTH": str(len(body)), "HTTP_ACCEPT": ACCEPT_BOTH, "HTTP_MCP_PROTOCOL_VERSION": MODERN,
               "HTTP_MCP_METHOD": "tools/list", "wsgi.input": io.BytesIO(body.encode()),
               "wsgi.errors": io.StringIO(), "wsgi.multiprocess": multiprocess, "wsgi.multithread": True}
    if origin is not None:
        environ["HTTP_ORIGIN"] = origin
    setup_testing_defaults(environ)
    seen = []
    if answer_headers is None:
        answer_headers = []
    chunks = application(environ, lambda status, headers, exc_info=None: (seen.append(status),
                                                                          answer_headers.extend(headers)))
    try:
        data = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return seen[0], data.decode(), environ["wsgi.errors"].getvalue()


def test_a_wsgi_app_under_several_processes(tmp_path):
    app = Server("x")

    @app.tool()
    def hello() -> str:
        return "hi"
    # One process: served as ever.
    assert _wsgi_call(app.wsgi(), False)[0].startswith("200")
    # Several, without a key: refused, said on every answer and once in the error log.
    application = app.wsgi()
    logs = []
    for _ in range(2):
        status, body, log = _wsgi_call(application, True)
        assert status.startswith("500") and "no sealing key is configured" in body
        logs.append(log)
    assert "no sealing key is configured" in logs[0] and logs[1] == ""
    # A browser page of an accepted Origin reads the refusal (not a network error); others
    # get no grant.
    for origin, granted in (("http://localhost:3000", ["http://localhost:3000"]), ("http://evil.example", [])):
        fields = []  # type: list
        assert _wsgi_call(application, True, origin, fields)[0].startswith("500")
        assert [value for name, value in fields if name.lower() == "access-control-allow-origin"] == granted
    keyed = Server("x", state_keys=[KEY_NEW])
    keyed.add_tool(lambda: "hi", name="hello")
    # With a key but no shared store: served, with a note that changes stay in their worker.
    status, body, log = _wsgi_call(keyed.wsgi(), True)
    assert status.startswith("200") and '"hello"' in body
    assert "reaches the streams held by that worker only" in log
    store = SqliteStore(str(tmp_path / "state.db"))
    try:
        shared = Server("x", state_keys=[KEY_NEW], store=store)
        shared.add_tool(lambda: "hi", name="hello")
        status, body, log = _wsgi_call(shared.wsgi(), True)
        assert status.startswith("200") and log == ""
    finally:
        store.close()


def test_a_legacy_session_is_the_workers_that_made_it_and_404_on_the_other(workers):
    _, first, second = workers
    with closing(Peer(second)) as b, closing(Peer(first)) as a:
        b.initialize()
        assert b.call("tools/list").status == 200
        # The same session's request landing on the other worker: "start a new session".
        a.session_id, a.version = b.session_id, b.version
        reply = a.call("tools/list")
        assert reply.status == 404, reply
        assert b.call("tools/list").status == 200  # still there, where it lives
