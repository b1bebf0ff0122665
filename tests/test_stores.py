"""The shared store (stores.py): the store contract, over every store; the tasks extension
served from each store (tests/test_tasks.py's tests again); and real worker processes sharing
one SQLite file.

``STORES`` names the stores the contract runs over; a store added to it (PostgreSQL, given a
server) runs every test of the first two parts.
"""

import os
import time
from typing import Any, Callable, Dict

import pytest

import tasks_app as tasks_app_module
from mcplite.stores import (SCHEMA_VERSION, TASK_ACTIVE, MemoryStore, SqliteStore, SqlStore, Store, StoreSchemaError,
                            StoreUnavailable, _placeholders, now_ms)

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
    # sqlite3 takes qmark and named (and numeric): the store speaks each.
    for style in ("qmark", "named", "numeric"):
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
        # busy_timeout per attempt, then backoffs of 0.01 doubling, 5 retries: about 0.6 s.
        assert time.monotonic() - started < 5
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
    store = SqliteStore(str(tmp_path / "gone.db"))
    store.close()
    store._connect = connect  # as if the database went away after start
    with pytest.raises(StoreUnavailable) as info:
        store.task_get("t1")
    assert info.value.message == "Server busy: the shared store is unavailable (cannot connect); try again"
