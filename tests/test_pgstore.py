"""The PostgreSQL store (pgstore.py) against a real PostgreSQL server: the store contract and
tests/test_tasks.py's in-memory tests over it (tests/test_stores.py's, collected again here
with the store made on PostgreSQL), then what only PostgreSQL has: LISTEN/NOTIFY waking another
worker at once, events committed in id order under racing publishers, its "try again" errors
retried, a lost database.

The server is Debian's PostgreSQL 15 that scripts/test unpacks (tests/pg_support.py starts a
throwaway cluster for this module, on 127.0.0.1, stopped by its PID); the driver is pg8000, in
the test venv only (mcplite never imports a driver: the store is handed a connection factory).
Under ``MCPLITE_REQUIRE_INTEROP`` a missing server or driver fails these tests.
"""

import threading
import time
from typing import Any, Callable, List

import pytest

from pg_support import Postgres

pytestmark = pytest.mark.interop


def _pg8000() -> Any:
    try:
        import pg8000.dbapi
    except ImportError:
        from interop_support import unusable
        unusable("MCPLITE_PGNGINX", "pg8000 is not installed in this venv (scripts/test adds it)")
    return pg8000.dbapi


@pytest.fixture(scope="module")
def postgres():
    _pg8000()
    try:
        server = Postgres()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


_schemas = {"current": "public", "made": 0}


def _connector(postgres: Postgres, schema: str = "") -> Callable[[], Any]:
    """A connection factory, its connections working in ``schema`` (default: the current test's)."""
    driver = _pg8000()
    schema = schema or _schemas["current"]

    def connect() -> Any:
        connection = driver.connect(**postgres.dsn)
        cursor = connection.cursor()
        cursor.execute("SET search_path TO " + schema)
        connection.commit()
        return connection
    return connect


def _fresh(postgres: Postgres) -> None:
    """A schema of its own for each test: it starts with no mcplite tables, as a new file does
    for SQLite, and a handler thread an earlier test left running writes into that test's."""
    _schemas["made"] += 1
    name = "t%d" % _schemas["made"]
    connection = _connector(postgres, "public")()
    try:
        connection.cursor().execute("CREATE SCHEMA " + name)
        connection.commit()
    finally:
        connection.close()
    _schemas["current"] = name


def _store(postgres: Postgres, **options: Any) -> Any:
    from mcplite.pgstore import PostgresStore
    options.setdefault("poll_interval", 0.02)
    options.setdefault("lease", 1.0)
    # The channel per schema too: one test's notifications do not wake another's stores.
    options.setdefault("channel", "mcplite_" + _schemas["current"])
    return PostgresStore(_connector(postgres), **options)


# ---------------------------------------------------------------------------
# tests/test_stores.py's contract tests and test_tasks.py's in-memory tests, over PostgreSQL

from test_stores import *  # noqa: E402,F401,F403

# Only the tests made over a store by ``store_maker`` (directly, or through the tasks tests' wire
# and app) run again here; the rest of tests/test_stores.py (SQLite files, worker processes,
# the key ring) stays there.
_OVER_A_STORE = {"store_maker", "wire_factory", "app", "tasks"}


def _over_a_store(test: Any) -> bool:
    import inspect
    try:
        return bool(_OVER_A_STORE.intersection(inspect.signature(test).parameters))
    except (TypeError, ValueError):
        return False


for _name in [name for name, value in globals().items() if name.startswith("test_") and callable(value)
              and not _over_a_store(value)]:
    del globals()[_name]
pytestmark = pytest.mark.interop  # (again: whatever the import brought)


@pytest.fixture
def store_maker(postgres):
    made = []  # type: List[Any]
    _fresh(postgres)

    def make() -> Any:
        store = _store(postgres)
        made.append(store)
        return store
    yield make
    for store in made:
        store.close()


# ---------------------------------------------------------------------------
# PostgreSQL specifics

def test_the_driver_paramstyle_is_found_and_the_tables_made(postgres):
    _fresh(postgres)
    store = _store(postgres)
    try:
        assert store.paramstyle == "format" and store.dialect == "postgresql"
        connection = _connector(postgres)()
        cursor = connection.cursor()
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                       "AND tablename LIKE 'mcplite_%' ORDER BY tablename")
        assert [row[0] for row in cursor.fetchall()] == ["mcplite_events", "mcplite_logs", "mcplite_schema",
                                                        "mcplite_tasks"]
        connection.close()
    finally:
        store.close()
    # Opened again on the same tables: nothing made twice, the schema accepted.
    _store(postgres).close()


def test_a_notify_wakes_another_worker_at_once(postgres):
    _fresh(postgres)
    waiter, publisher = _store(postgres, poll_interval=5.0, lease=20.0), _store(postgres)
    try:
        # Nothing published: the wait lasts its timeout.
        started = time.monotonic()
        waiter.wait_events(0.5)
        assert time.monotonic() - started >= 0.45
        cursor = waiter.last_event()
        woke = []  # type: List[float]

        def wait() -> None:
            began = time.monotonic()
            waiter.wait_events(5.0)
            woke.append(time.monotonic() - began)
        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(0.3)  # (the waiter is blocked by now)
        publisher.publish("list", "tools", publisher.worker)
        thread.join(10)
        assert woke and woke[0] < 2.0, woke  # well before the 5 s timeout: the NOTIFY woke it
        assert waiter.events_after(cursor)[1] == [(publisher.worker, "list", "tools")]
    finally:
        waiter.close()
        publisher.close()


def test_a_watch_hands_another_workers_change_to_its_listeners_quickly(postgres):
    # The whole path a listen stream relies on: publish on one store, the other process's
    # StoreWatch (polling only every 5 s here) hands it over at once.
    _fresh(postgres)
    watched, publisher = _store(postgres, poll_interval=5.0, lease=20.0), _store(postgres)
    heard = []  # type: List[Any]
    arrived = threading.Event()
    try:
        watch = watched.watch()
        watch.listeners.append(lambda kind, detail: (heard.append((kind, detail)), arrived.set()))
        watch.ensure_started()
        time.sleep(0.5)  # (its first look done; now waiting on LISTEN)
        began = time.monotonic()
        publisher.publish("resource", "file:///notes/1", publisher.worker)
        assert arrived.wait(4.0), "the change did not arrive before the next poll"
        assert time.monotonic() - began < 2.0
        assert heard == [("resource", "file:///notes/1")]
    finally:
        watched.close()
        publisher.close()


def test_racing_publishers_commit_in_id_order(postgres):
    # A reader following ids must never pass over an event: with ids drawn and committed out
    # of order it would. Two stores (two workers), four threads each, a reader polling meanwhile.
    _fresh(postgres)
    stores = [_store(postgres, max_connections=4), _store(postgres, max_connections=4)]
    reader = _store(postgres)
    seen = []  # type: List[str]
    done = threading.Event()
    cursor = reader.last_event()

    def read() -> None:
        position = cursor
        while True:
            finished = done.is_set()
            position, events = reader.events_after(position)
            seen.extend(detail for _origin, _kind, detail in events)
            if finished and not events:
                return

    def publish(store: Any, n: int) -> None:
        for i in range(25):
            store.publish("resource", "r-%d-%d" % (n, i), store.worker)
    follower = threading.Thread(target=read)
    follower.start()
    threads = [threading.Thread(target=publish, args=(stores[n % 2], n)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        done.set()
        follower.join(30)
        assert sorted(seen) == sorted("r-%d-%d" % (n, i) for n in range(8) for i in range(25))
        assert len(seen) == len(set(seen)) == 200
    finally:
        done.set()
        for store in stores + [reader]:
            store.close()


def test_its_try_again_errors_are_retried_however_the_driver_reports_them(postgres):
    _fresh(postgres)
    store = _store(postgres)
    try:
        class Psycopg(Exception):
            sqlstate = "40001"

        class Psycopg2(Exception):
            pgcode = "40P01"
        driver = _pg8000()
        # pg8000: the server's error fields, from a real lock_timeout refusal (55P03).
        holder, waiter = _connector(postgres)(), _connector(postgres)()
        try:
            holder.cursor().execute("LOCK TABLE mcplite_tasks IN ACCESS EXCLUSIVE MODE")
            cursor = waiter.cursor()
            cursor.execute("SET lock_timeout = 50")
            with pytest.raises(driver.DatabaseError) as info:
                cursor.execute("SELECT * FROM mcplite_tasks")
        finally:
            holder.rollback()
            holder.close()
            waiter.close()
        for exc in (Psycopg("x"), Psycopg2("x"), info.value):
            assert store.transient(exc), exc
        assert not store.transient(driver.DatabaseError({"C": "23505", "M": "duplicate key"}))
    finally:
        store.close()


def test_a_locked_table_is_retried_then_store_unavailable(postgres):
    from mcplite.stores import StoreUnavailable
    _fresh(postgres)
    in_schema = _connector(postgres)

    def connect() -> Any:
        connection = in_schema()
        cursor = connection.cursor()
        cursor.execute("SET lock_timeout = 30")
        connection.commit()
        return connection
    from mcplite.pgstore import PostgresStore
    store = PostgresStore(connect, poll_interval=0.02, lease=1.0)
    store.first_backoff = 0.01
    holder = _connector(postgres)()
    try:
        holder.cursor().execute("LOCK TABLE mcplite_tasks IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as info:
            store.task_get("t1")
        assert time.monotonic() - started < 5
        assert "locked" in info.value.message or "unavailable" in info.value.message
        holder.rollback()
        assert store.task_get("t1") is None  # unlocked: served again
    finally:
        holder.close()
        store.close()


def test_a_database_gone_is_store_unavailable_and_back_when_it_returns(postgres):
    from mcplite.stores import StoreUnavailable
    _fresh(postgres)
    store = _store(postgres)
    try:
        store.publish("list", "tools", "w")
        # Every connection the store holds is cut (as a database restart does).
        admin = _connector(postgres)()
        cursor = admin.cursor()
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = 'postgres' AND pid <> pg_backend_pid()")
        admin.commit()
        admin.close()
        # The broken pooled connection fails the first call (answered "Server busy"); the
        # next one connects again.
        outcomes = []  # type: List[str]
        for _ in range(3):
            try:
                store.last_event()
                outcomes.append("ok")
            except StoreUnavailable:
                outcomes.append("busy")
        assert outcomes[-1] == "ok", outcomes
        # And the listening connection is made again: a NOTIFY still wakes a waiter.
        store.wait_events(0.05)
    finally:
        store.close()


def test_a_store_opened_on_tables_of_another_version_is_refused(postgres):
    from mcplite.stores import SCHEMA_VERSION, StoreSchemaError
    _fresh(postgres)
    _store(postgres).close()
    connection = _connector(postgres)()
    cursor = connection.cursor()
    cursor.execute("UPDATE mcplite_schema SET version = %s", (SCHEMA_VERSION + 1,))
    connection.commit()
    connection.close()
    with pytest.raises(StoreSchemaError, match="made by a newer mcplite"):
        _store(postgres)


def test_workers_starting_together_on_a_new_database_all_open_it(postgres):
    # Several gunicorn workers start at once on an empty database: each runs CREATE TABLE IF
    # NOT EXISTS, which PostgreSQL does not make safe against a concurrent twin (the loser
    # fails on a unique index of the system catalogs). Every one must open the store.
    for _ in range(4):  # (a race: a few fresh databases, eight workers each)
        _fresh(postgres)
        start = threading.Barrier(8)
        opened = []  # type: List[Any]
        failed = []  # type: List[BaseException]

        def open_store() -> None:
            start.wait(timeout=30)
            try:
                opened.append(_store(postgres))
            except BaseException as exc:
                failed.append(exc)
        threads = [threading.Thread(target=open_store) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for store in opened:
            store.close()
        assert not failed, failed[0]
        assert len(opened) == 8
        connection = _connector(postgres)()
        cursor = connection.cursor()
        cursor.execute("SELECT count(*) FROM mcplite_schema")
        assert cursor.fetchone()[0] == 1
        connection.close()


def test_the_channel_is_an_identifier():
    from mcplite.pgstore import PostgresStore
    for bad in ("", "Upper", "a-b", "x; DROP TABLE t", "a" * 64):
        with pytest.raises(ValueError, match="channel"):
            PostgresStore(lambda: None, "format", channel=bad)
