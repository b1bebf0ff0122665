"""The state several worker processes share: tasks, change notifications, event logs.

The 2026-07-28 era is stateless, so any worker may serve any request once what a request can
need from another worker is shared: a task created on one worker is polled, answered and
cancelled on another; a tool added or a resource updated on one reaches the
``subscriptions/listen`` streams (and legacy GET streams) the others hold. (The sealing keys
of cursors and ``requestState`` are shared by configuration instead -
``Server(state_keys=[...])`` - so no request waits on the store for them.)

A legacy (``initialize``) session is not shared: it lives in the process holding its streams
and the handlers waiting on its client, and a request for it elsewhere gets 404 (the spec's
"start a new session"), so several workers route sessions sticky on ``Mcp-Session-Id``. Its
event log, which a resuming GET replays, stays with it in that process; the store's event
log rows (``log_*``) are the interface for keeping one outside it, which the HTTP layer does
not use yet: a log that outlived its session would have nobody to replay it to.

``Store`` is the interface and ``MemoryStore`` its one-process form; ``SqlStore`` keeps the
same rows in any DB-API 2.0 database, ``SqliteStore`` in one SQLite file (WAL, a busy
timeout). A store deals in plain rows (dicts whose JSON columns are decoded values); the
protocol's rules (who may see a task, which answers it takes) stay in tasks.py. Without
``Server(store=...)`` none of this is loaded: a server keeps its tasks in its own memory as
it always did.

What goes wrong with a database has one outcome each: locked or busy - retried with a
doubling backoff for ``SqlStore.retry_for`` seconds, then ``StoreUnavailable``; unreachable or failing -
``StoreUnavailable`` (an MCPError -32603 "Server busy", which the request's client gets; the
driver's message goes to the server's log only); a schema of another version -
``StoreSchemaError`` when the store is opened, before anything is served.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .errors import StoreSchemaError, StoreUnavailable

_store_log = logging.getLogger("mcplite.stores")

# The version of the tables below. A store opened on tables of another version refuses to
# run (StoreSchemaError) rather than read rows it would misunderstand.
SCHEMA_VERSION = 1

TASK_ACTIVE = ("working", "input_required")  # the statuses a task can still leave

# The JSON-valued columns of a task row.
_TASK_JSON = ("result", "error", "pending", "answers")
_TASK_COLUMNS = ("id", "owner", "client", "worker", "status", "message", "created", "updated", "expires", "beat",
                 "version", "delivered") + _TASK_JSON


def now_ms() -> int:
    """Wall-clock milliseconds: the time every worker of one store agrees on (a monotonic
    clock is per machine and per boot)."""
    return int(time.time() * 1000)


class Store:
    """What several processes serving one endpoint share. The base class is the interface;
    ``MemoryStore`` implements it for one process, ``SqlStore`` in a database.

    ``shared``: whether other processes see what is put here (False for memory).
    ``poll_interval``: seconds between two looks for other workers' changes and between two
    heartbeats of the tasks this worker runs; ``lease``: seconds without a heartbeat after
    which a running task's worker is taken for dead and the task marked failed.
    """

    shared = False

    def __init__(self, poll_interval: float = 0.25, lease: float = 10.0) -> None:
        if not 0.01 <= poll_interval <= 5:
            raise ValueError("poll_interval must be between 0.01 and 5 seconds")
        if not lease >= 3 * poll_interval:
            raise ValueError("lease must be at least 3 poll intervals (a heartbeat or two may be late)")
        self.poll_interval = poll_interval
        self.lease = lease
        # A name for this process among the store's workers, drawn anew after a fork (a
        # preloading WSGI server forks its workers from one parent).
        self._worker = ""
        self._worker_pid = 0
        self._watch = None  # type: Optional[StoreWatch]
        self._watch_lock = threading.Lock()

    def watch(self) -> "StoreWatch":
        """This process's ``StoreWatch`` of the store (one per store)."""
        with self._watch_lock:
            if self._watch is None:
                self._watch = StoreWatch(self)
            return self._watch

    @property
    def worker(self) -> str:
        pid = os.getpid()
        if pid != self._worker_pid:
            self._worker = "%d-%s" % (pid, os.urandom(6).hex())
            self._worker_pid = pid
        return self._worker

    def close(self) -> None:
        """Stop the watch thread and release what the store holds (connections)."""
        if self._watch is not None:
            self._watch.stop()

    # -- tasks: one row each ----------------------------------------------------------
    # A row: id, owner (JSON text of whom it belongs to), client, worker (which process runs
    # its handler), status, message (its statusMessage), created/updated/expires/beat (ms,
    # wall clock), version (bumped by every update), delivered (0/1: its end was sent),
    # result/error/pending/answers (JSON values).

    def task_insert(self, row: Dict[str, Any]) -> None:
        raise NotImplementedError

    def task_get(self, task_id: str) -> Optional[Dict[str, Any]]:
        raise NotImplementedError

    def task_update(self, task_id: str, changes: Dict[str, Any], statuses: Optional[Sequence[str]] = None,
                    version: Optional[int] = None) -> bool:
        """Apply ``changes`` (and bump ``version``) only while the task's status is one of
        ``statuses`` and its version is ``version`` (when given): a conditional update, so of
        two workers racing to end one task exactly one wins. Whether it applied."""
        raise NotImplementedError

    def task_delete(self, task_id: str) -> None:
        raise NotImplementedError

    def task_count(self, client: Optional[str] = None) -> int:
        """How many tasks are kept (of ``client``, when given)."""
        raise NotImplementedError

    def task_oldest_delivered(self, client: Optional[str] = None) -> Optional[str]:
        """The id of the task (of ``client``) whose end was delivered longest ago, if any."""
        raise NotImplementedError

    def task_sweep(self, now: int) -> List[str]:
        """Forget the tasks whose ``expires`` has passed; the ids forgotten."""
        raise NotImplementedError

    def task_heartbeat(self, worker: str, now: int) -> None:
        """Renew the lease of the running tasks of ``worker``."""
        raise NotImplementedError

    def task_reap(self, stale_before: int, message: str, error: Dict[str, Any]) -> int:
        """Fail the running tasks whose last heartbeat is older than ``stale_before``: their
        worker died. How many."""
        raise NotImplementedError

    def task_statuses(self, task_ids: Sequence[str]) -> Dict[str, Tuple[str, int]]:
        """(status, version) of each of ``task_ids`` still kept."""
        raise NotImplementedError

    # -- change notifications -----------------------------------------------------------

    def publish(self, kind: str, detail: str, origin: str) -> None:
        """A change every worker's listeners should hear of: ("list", "tools") or
        ("resource", uri), made by worker ``origin``."""
        raise NotImplementedError

    def last_event(self) -> int:
        """A cursor past every event published so far."""
        raise NotImplementedError

    def events_after(self, cursor: int, limit: int = 500) -> Tuple[int, List[Tuple[str, str, str]]]:
        """(new cursor, [(origin, kind, detail)...]) of the events published after ``cursor``."""
        raise NotImplementedError

    def wait_events(self, timeout: float) -> None:
        """Block up to ``timeout`` seconds, or less once another worker may have published.
        Polling sleeps; a store with a notification channel (PostgreSQL's LISTEN/NOTIFY)
        overrides this to wake at once."""
        time.sleep(timeout)

    # -- event logs (of a stream, for resumption; see the module's docstring) -------------

    def log_append(self, stream: str, message: str) -> int:
        """Keep one event (a JSON message's text) of ``stream``; its sequence number (>= 1)."""
        raise NotImplementedError

    def log_after(self, stream: str, seq: int, limit: int = 1000) -> List[Tuple[int, str]]:
        """The events of ``stream`` after ``seq``, in order."""
        raise NotImplementedError

    def log_drop(self, stream: str) -> None:
        raise NotImplementedError


def _copy(value: Any) -> Any:
    # What the memory store hands out must not be the object it keeps (as a database's rows
    # are not): a JSON round trip, the same values a SQL store returns.
    return json.loads(json.dumps(value)) if value is not None else None


class MemoryStore(Store):
    """The one-process store: everything in this process's memory, nothing shared. The
    contract the SQL stores keep, without a database (and what a server uses when it is
    given no store at all, through its own faster structures)."""

    shared = False

    def __init__(self, poll_interval: float = 0.25, lease: float = 10.0) -> None:
        Store.__init__(self, poll_interval, lease)
        self._lock = threading.Lock()
        self._tasks = {}  # type: Dict[str, Dict[str, Any]]
        self._events = []  # type: List[Tuple[int, str, str, str]]
        self._event_seq = 0
        self._logs = {}  # type: Dict[str, List[Tuple[int, str]]]

    def task_insert(self, row: Dict[str, Any]) -> None:
        with self._lock:
            if row["id"] in self._tasks:
                raise ValueError("task %s exists" % row["id"])
            self._tasks[row["id"]] = {column: _copy(row.get(column)) for column in _TASK_COLUMNS}

    def task_get(self, task_id: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            row = self._tasks.get(task_id)
            return _copy(row) if row is not None else None

    def task_update(self, task_id: str, changes: Dict[str, Any], statuses: Optional[Sequence[str]] = None,
                    version: Optional[int] = None) -> bool:
        with self._lock:
            row = self._tasks.get(task_id)
            if row is None or (statuses is not None and row["status"] not in statuses) or (
                    version is not None and row["version"] != version):
                return False
            for column, value in changes.items():
                row[column] = _copy(value)
            row["version"] += 1
            return True

    def task_delete(self, task_id: str) -> None:
        with self._lock:
            self._tasks.pop(task_id, None)

    def task_count(self, client: Optional[str] = None) -> int:
        with self._lock:
            return sum(1 for row in self._tasks.values() if client is None or row["client"] == client)

    def task_oldest_delivered(self, client: Optional[str] = None) -> Optional[str]:
        with self._lock:
            done = [row for row in self._tasks.values()
                    if row["delivered"] and (client is None or row["client"] == client)]
            return min(done, key=lambda row: row["updated"])["id"] if done else None

    def task_sweep(self, now: int) -> List[str]:
        with self._lock:
            gone = [task_id for task_id, row in self._tasks.items() if row["expires"] <= now]
            for task_id in gone:
                del self._tasks[task_id]
            return gone

    def task_heartbeat(self, worker: str, now: int) -> None:
        with self._lock:
            for row in self._tasks.values():
                if row["worker"] == worker and row["status"] in TASK_ACTIVE:
                    row["beat"] = now

    def task_reap(self, stale_before: int, message: str, error: Dict[str, Any]) -> int:
        with self._lock:
            count = 0
            for row in self._tasks.values():
                if row["status"] in TASK_ACTIVE and row["beat"] < stale_before:
                    row.update(status="failed", message=message, error=_copy(error), pending={},
                               updated=now_ms(), version=row["version"] + 1)
                    count += 1
            return count

    def task_statuses(self, task_ids: Sequence[str]) -> Dict[str, Tuple[str, int]]:
        with self._lock:
            return {task_id: (self._tasks[task_id]["status"], self._tasks[task_id]["version"])
                    for task_id in task_ids if task_id in self._tasks}

    def publish(self, kind: str, detail: str, origin: str) -> None:
        with self._lock:
            self._event_seq += 1
            self._events.append((self._event_seq, origin, kind, detail))
            del self._events[:-1000]  # bounded: a reader that far behind has missed them anyway

    def last_event(self) -> int:
        with self._lock:
            return self._event_seq

    def events_after(self, cursor: int, limit: int = 500) -> Tuple[int, List[Tuple[str, str, str]]]:
        with self._lock:
            found = [event for event in self._events if event[0] > cursor][:limit]
        if not found:
            return cursor, []
        return found[-1][0], [(origin, kind, detail) for _, origin, kind, detail in found]

    def log_append(self, stream: str, message: str) -> int:
        with self._lock:
            events = self._logs.setdefault(stream, [])
            seq = events[-1][0] + 1 if events else 1
            events.append((seq, message))
            return seq

    def log_after(self, stream: str, seq: int, limit: int = 1000) -> List[Tuple[int, str]]:
        with self._lock:
            return [event for event in self._logs.get(stream, []) if event[0] > seq][:limit]

    def log_drop(self, stream: str) -> None:
        with self._lock:
            self._logs.pop(stream, None)


# -- SQL -----------------------------------------------------------------------------------

# The tables, in SQL both SQLite and PostgreSQL accept; {id} is the auto-numbered key column,
# the one thing the two spell differently. Times are milliseconds (BIGINT: PostgreSQL's
# INTEGER is 32 bits).
_SQL_TABLES = (
    "CREATE TABLE IF NOT EXISTS mcplite_schema (version BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS mcplite_tasks (id TEXT PRIMARY KEY, owner TEXT NOT NULL, client TEXT NOT NULL, "
    "worker TEXT NOT NULL, status TEXT NOT NULL, message TEXT, created BIGINT NOT NULL, updated BIGINT NOT NULL, "
    "expires BIGINT NOT NULL, beat BIGINT NOT NULL, version BIGINT NOT NULL, delivered BIGINT NOT NULL, "
    "result TEXT, error TEXT, pending TEXT, answers TEXT)",
    "CREATE INDEX IF NOT EXISTS mcplite_tasks_expires ON mcplite_tasks (expires)",
    "CREATE TABLE IF NOT EXISTS mcplite_events (id {id}, at BIGINT NOT NULL, origin TEXT NOT NULL, "
    "kind TEXT NOT NULL, detail TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS mcplite_logs (stream TEXT NOT NULL, seq BIGINT NOT NULL, message TEXT NOT NULL, "
    "at BIGINT NOT NULL, PRIMARY KEY (stream, seq))",
)
_ID_COLUMNS = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgresql": "BIGSERIAL PRIMARY KEY"}
_EVENTS_KEPT_MS = 5 * 60 * 1000  # events older than this are pruned: no poller is that far behind


def _placeholders(sql: str, paramstyle: str) -> str:
    """``sql`` written with ``?`` (qmark) in the driver's paramstyle. Our statements hold no
    ``?`` or ``%`` in literals, so a plain replacement is exact."""
    if paramstyle == "qmark":
        return sql
    if paramstyle in ("format", "pyformat"):
        return sql.replace("?", "%s")
    parts = sql.split("?")
    if paramstyle == "numeric":
        return "".join(part + (":%d" % (index + 1) if index < len(parts) - 1 else "")
                       for index, part in enumerate(parts))
    if paramstyle == "named":
        return "".join(part + (":p%d" % (index + 1) if index < len(parts) - 1 else "")
                       for index, part in enumerate(parts))
    raise ValueError("unknown DB-API paramstyle %r (qmark, numeric, named, format or pyformat)" % (paramstyle,))


class SqlStore(Store):
    """The shared store in a DB-API 2.0 database: ``connect`` is a function returning a new
    connection (``lambda: psycopg.connect(DSN)``), called once per connection the store
    keeps - at most ``max_connections`` idle ones, each used by one thread at a time.

    ``paramstyle`` is the driver's (``driver.paramstyle``: "qmark" for sqlite3, "format" or
    "pyformat" for psycopg and pg8000); by default the module of the first connection is
    asked. ``dialect`` ("postgresql" or "sqlite") picks the one column type the two spell
    differently. The tables (``mcplite_*``) are made if missing; a schema version other than
    this mcplite's is refused (StoreSchemaError).

    Change notifications are polled from a table every ``poll_interval`` seconds; a
    subclass with a notification channel overrides ``wait_events`` (to block until it rings)
    and ``published`` (to ring it): PostgreSQL's LISTEN/NOTIFY. The events are read from the
    table all the same; the channel only wakes the readers sooner.
    """

    shared = True
    # An operation the database refused as locked or busy (or a lost serialization race) is
    # tried again after a pause, which doubles from ``first_backoff``, while ``retry_for``
    # seconds have not passed since it began. The driver's own waiting counts: a SQLite
    # store waits its busy timeout once (longer than retry_for), then gives up; a refusal
    # that comes at once is retried for up to retry_for seconds. Never a hang.
    retry_for = 1.5
    first_backoff = 0.05

    def __init__(self, connect: Callable[[], Any], paramstyle: Optional[str] = None, *, dialect: str = "postgresql",
                 poll_interval: float = 0.25, lease: float = 10.0, max_connections: int = 8) -> None:
        Store.__init__(self, poll_interval, lease)
        if dialect not in _ID_COLUMNS:
            raise ValueError("dialect must be 'postgresql' or 'sqlite'")
        if not callable(connect):
            raise TypeError("connect is a function returning a new DB-API connection")
        self._connect = connect
        self.dialect = dialect
        self.max_connections = max_connections
        self._idle = []  # type: List[Any]
        self._pool_lock = threading.Lock()
        self._pool_pid = os.getpid()
        self._sql_cache = {}  # type: Dict[str, str]
        self._events_pruned = 0
        connection = self._new_connection()
        if paramstyle is None:
            import sys
            module = sys.modules.get(type(connection).__module__.split(".")[0])
            paramstyle = getattr(module, "paramstyle", None)
            if paramstyle is None:
                raise ValueError("cannot tell the driver's paramstyle: pass paramstyle= (driver.paramstyle)")
        _placeholders("?", paramstyle)  # (an unknown one is refused now)
        self.paramstyle = paramstyle
        try:
            self._create_tables(connection)
        except BaseException:
            self._discard(connection)
            raise
        self._release(connection)

    # -- connections ---------------------------------------------------------------------

    def _new_connection(self) -> Any:
        return self._connect()

    def _acquire(self) -> Any:
        with self._pool_lock:
            if self._pool_pid != os.getpid():
                # Forked: the parent's connections are its own (a socket, a file lock shared
                # with it would be corrupted by two users); forget them without closing.
                self._idle = []
                self._pool_pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._new_connection()

    def _release(self, connection: Any) -> None:
        with self._pool_lock:
            if len(self._idle) < self.max_connections and self._pool_pid == os.getpid():
                self._idle.append(connection)
                return
        self._discard(connection)

    @staticmethod
    def _discard(connection: Any) -> None:
        try:
            connection.close()
        except Exception:
            pass

    def close(self) -> None:
        Store.close(self)
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            self._discard(connection)

    def transient(self, exc: BaseException) -> bool:
        """Whether ``exc`` is worth a retry: the database was locked or busy, or a
        transaction lost a race (PostgreSQL's serialization failure, deadlock)."""
        text = str(exc).lower()
        return ("locked" in text or "busy" in text or getattr(exc, "sqlstate", None) in ("40001", "40P01")
                or getattr(exc, "pgcode", None) in ("40001", "40P01"))

    def run(self, work: Callable[[Any], Any], what: str) -> Any:
        """Run ``work(cursor)`` in one transaction, committed; retried when the database
        was locked, StoreUnavailable when it cannot be done."""
        pause = self.first_backoff
        give_up = time.monotonic() + self.retry_for
        while True:
            try:
                connection = self._acquire()
            except Exception as exc:
                _store_log.error("mcplite store: cannot connect to the database (%s): %s", what, exc)
                raise StoreUnavailable("cannot connect")
            try:
                cursor = connection.cursor()
                try:
                    value = work(cursor)
                finally:
                    try:
                        cursor.close()
                    except Exception:
                        pass
                connection.commit()
            except Exception as exc:
                try:
                    connection.rollback()
                except Exception:
                    self._discard(connection)  # a connection that cannot roll back is not reused
                    connection = None
                if connection is not None:
                    # Only after a "try again" error is the connection known to be sound: after
                    # any other it may be broken (a database restart) while its driver still
                    # answers rollback (pg8000 does, out of a transaction), and back in the
                    # pool it would fail every later call. A new connection costs little.
                    if self.transient(exc):
                        self._release(connection)
                    else:
                        self._discard(connection)
                if self.transient(exc) and time.monotonic() + pause < give_up:
                    time.sleep(pause)
                    pause *= 2
                    continue
                _store_log.error("mcplite store: %s failed: %s: %s", what, type(exc).__name__, exc)
                raise StoreUnavailable("locked" if self.transient(exc) else "")
            self._release(connection)
            return value

    def _sql(self, sql: str) -> str:
        found = self._sql_cache.get(sql)
        if found is None:
            if len(self._sql_cache) > 256:  # (an IN list of each length is a statement of its own)
                self._sql_cache.clear()
            found = self._sql_cache[sql] = _placeholders(sql, self.paramstyle)
        return found

    def _execute(self, cursor: Any, sql: str, args: Sequence[Any] = ()) -> Any:
        args = tuple(args)
        if self.paramstyle == "named":
            cursor.execute(self._sql(sql), {"p%d" % (index + 1): value for index, value in enumerate(args)})
        else:
            cursor.execute(self._sql(sql), args)
        return cursor

    def creating_tables(self, cursor: Any) -> None:
        """Called first in the transaction that makes the tables: a database that lets two
        connections race through ``CREATE TABLE IF NOT EXISTS`` takes a lock here."""

    def _create_tables(self, connection: Any) -> None:
        cursor = connection.cursor()
        try:
            self.creating_tables(cursor)
            for statement in _SQL_TABLES:
                cursor.execute(statement.replace("{id}", _ID_COLUMNS[self.dialect]))
            self._execute(cursor, "SELECT version FROM mcplite_schema")
            versions = [row[0] for row in cursor.fetchall()]
            if not versions:
                # (The version is written out, not a parameter: PostgreSQL cannot tell the type
                # of a parameter in a SELECT list.)
                self._execute(cursor, "INSERT INTO mcplite_schema (version) SELECT %d WHERE NOT EXISTS "
                                      "(SELECT 1 FROM mcplite_schema)" % SCHEMA_VERSION)
            connection.commit()
        finally:
            cursor.close()
        if versions and set(versions) != {SCHEMA_VERSION}:
            raise StoreSchemaError(
                "the store's tables have schema version %s, this mcplite uses %d: %s" % (
                    ", ".join(str(v) for v in versions), SCHEMA_VERSION,
                    "made by a newer mcplite; upgrade this one" if max(versions) > SCHEMA_VERSION else
                    "made by an older mcplite; drop the mcplite_* tables (their tasks and events are transient) "
                    "or use a new database"))

    # -- tasks -------------------------------------------------------------------------

    @staticmethod
    def _encode(column: str, value: Any) -> Any:
        if column in _TASK_JSON:
            return None if value is None else json.dumps(value, separators=(",", ":"))
        if column == "delivered":
            return 1 if value else 0
        return value

    @staticmethod
    def _decode(values: Sequence[Any]) -> Dict[str, Any]:
        row = dict(zip(_TASK_COLUMNS, values))
        for column in _TASK_JSON:
            if row[column] is not None:
                row[column] = json.loads(row[column])
        row["delivered"] = bool(row["delivered"])
        return row

    def task_insert(self, row: Dict[str, Any]) -> None:
        sql = "INSERT INTO mcplite_tasks (%s) VALUES (%s)" % (", ".join(_TASK_COLUMNS),
                                                               ", ".join("?" * len(_TASK_COLUMNS)))
        values = [self._encode(column, row.get(column)) for column in _TASK_COLUMNS]
        self.run(lambda cursor: self._execute(cursor, sql, values), "creating a task")

    def task_get(self, task_id: str) -> Optional[Dict[str, Any]]:
        sql = "SELECT %s FROM mcplite_tasks WHERE id = ?" % ", ".join(_TASK_COLUMNS)
        found = self.run(lambda cursor: self._execute(cursor, sql, (task_id,)).fetchone(), "reading a task")
        return self._decode(found) if found is not None else None

    def task_update(self, task_id: str, changes: Dict[str, Any], statuses: Optional[Sequence[str]] = None,
                    version: Optional[int] = None) -> bool:
        columns = [column for column in changes if column in _TASK_COLUMNS and column not in ("id", "version")]
        sql = "UPDATE mcplite_tasks SET %s version = version + 1 WHERE id = ?" % "".join(
            column + " = ?, " for column in columns)
        args = [self._encode(column, changes[column]) for column in columns] + [task_id]
        if statuses is not None:
            sql += " AND status IN (%s)" % ", ".join("?" * len(statuses))
            args.extend(statuses)
        if version is not None:
            sql += " AND version = ?"
            args.append(version)
        count = self.run(lambda cursor: self._execute(cursor, sql, args).rowcount, "updating a task")
        return count == 1

    def task_delete(self, task_id: str) -> None:
        self.run(lambda cursor: self._execute(cursor, "DELETE FROM mcplite_tasks WHERE id = ?", (task_id,)),
                 "deleting a task")

    def task_count(self, client: Optional[str] = None) -> int:
        if client is None:
            return int(self.run(lambda cursor: self._execute(cursor, "SELECT COUNT(*) FROM mcplite_tasks")
                                .fetchone()[0], "counting tasks"))
        return int(self.run(lambda cursor: self._execute(cursor, "SELECT COUNT(*) FROM mcplite_tasks WHERE client = ?",
                                                         (client,)).fetchone()[0], "counting tasks"))

    def task_oldest_delivered(self, client: Optional[str] = None) -> Optional[str]:
        sql = "SELECT id FROM mcplite_tasks WHERE delivered = 1"
        args = []  # type: List[Any]
        if client is not None:
            sql += " AND client = ?"
            args.append(client)
        sql += " ORDER BY updated LIMIT 1"
        found = self.run(lambda cursor: self._execute(cursor, sql, args).fetchone(), "finding a delivered task")
        return found[0] if found is not None else None

    def task_sweep(self, now: int) -> List[str]:
        def work(cursor: Any) -> List[str]:
            gone = [row[0] for row in self._execute(cursor, "SELECT id FROM mcplite_tasks WHERE expires <= ?",
                                                   (now,)).fetchall()]
            if gone:
                self._execute(cursor, "DELETE FROM mcplite_tasks WHERE expires <= ?", (now,))
            return gone
        return self.run(work, "forgetting expired tasks")

    def task_heartbeat(self, worker: str, now: int) -> None:
        self.run(lambda cursor: self._execute(
            cursor, "UPDATE mcplite_tasks SET beat = ? WHERE worker = ? AND status IN (?, ?)",
            (now, worker) + TASK_ACTIVE), "renewing task leases")

    def task_reap(self, stale_before: int, message: str, error: Dict[str, Any]) -> int:
        return int(self.run(lambda cursor: self._execute(
            cursor, "UPDATE mcplite_tasks SET status = ?, message = ?, error = ?, pending = ?, updated = ?, "
                    "version = version + 1 WHERE status IN (?, ?) AND beat < ?",
            ("failed", message, json.dumps(error), "{}", now_ms()) + TASK_ACTIVE + (stale_before,)).rowcount,
            "failing the tasks of dead workers"))

    def task_statuses(self, task_ids: Sequence[str]) -> Dict[str, Tuple[str, int]]:
        if not task_ids:
            return {}
        sql = "SELECT id, status, version FROM mcplite_tasks WHERE id IN (%s)" % ", ".join("?" * len(task_ids))
        rows = self.run(lambda cursor: self._execute(cursor, sql, task_ids).fetchall(), "reading task statuses")
        return {row[0]: (row[1], int(row[2])) for row in rows}

    # -- change notifications -----------------------------------------------------------

    def publish(self, kind: str, detail: str, origin: str) -> None:
        now = now_ms()
        prune = now - self._events_pruned > 10000

        def work(cursor: Any) -> None:
            self.publishing(cursor)
            self._execute(cursor, "INSERT INTO mcplite_events (at, origin, kind, detail) VALUES (?, ?, ?, ?)",
                          (now, origin, kind, detail))
            if prune:
                self._execute(cursor, "DELETE FROM mcplite_events WHERE at < ?", (now - _EVENTS_KEPT_MS,))
            self.published(cursor)
        self.run(work, "publishing a change")
        if prune:
            self._events_pruned = now

    def publishing(self, cursor: Any) -> None:
        """Called in the transaction that publishes an event, before its row is written (a
        store whose readers must see events in id order takes its lock here)."""

    def published(self, cursor: Any) -> None:
        """Called in the transaction that publishes an event, after its row is written: a
        store with a notification channel rings it here (PostgreSQL: ``NOTIFY``, delivered
        when the transaction commits) and wakes the other workers' ``wait_events``."""

    def last_event(self) -> int:
        found = self.run(lambda cursor: self._execute(cursor, "SELECT MAX(id) FROM mcplite_events").fetchone(),
                         "reading the last change")
        return int(found[0]) if found is not None and found[0] is not None else 0

    def events_after(self, cursor: int, limit: int = 500) -> Tuple[int, List[Tuple[str, str, str]]]:
        rows = self.run(lambda c: self._execute(
            c, "SELECT id, origin, kind, detail FROM mcplite_events WHERE id > ? ORDER BY id LIMIT %d" % int(limit),
            (cursor,)).fetchall(), "reading changes")
        if not rows:
            return cursor, []
        return int(rows[-1][0]), [(row[1], row[2], row[3]) for row in rows]

    # -- event logs -------------------------------------------------------------------

    def log_append(self, stream: str, message: str) -> int:
        def work(cursor: Any) -> int:
            found = self._execute(cursor, "SELECT MAX(seq) FROM mcplite_logs WHERE stream = ?", (stream,)).fetchone()
            seq = (int(found[0]) if found is not None and found[0] is not None else 0) + 1
            # (Two writers of one stream would collide on the primary key and the loser be
            # retried; a stream has one writer, the process holding its session.)
            self._execute(cursor, "INSERT INTO mcplite_logs (stream, seq, message, at) VALUES (?, ?, ?, ?)",
                          (stream, seq, message, now_ms()))
            return seq
        return int(self.run(work, "keeping an event"))

    def log_after(self, stream: str, seq: int, limit: int = 1000) -> List[Tuple[int, str]]:
        rows = self.run(lambda cursor: self._execute(
            cursor, "SELECT seq, message FROM mcplite_logs WHERE stream = ? AND seq > ? ORDER BY seq LIMIT %d"
            % int(limit), (stream, seq)).fetchall(), "reading events")
        return [(int(row[0]), row[1]) for row in rows]

    def log_drop(self, stream: str) -> None:
        self.run(lambda cursor: self._execute(cursor, "DELETE FROM mcplite_logs WHERE stream = ?", (stream,)),
                 "dropping an event log")


class SqliteStore(SqlStore):
    """The shared store in one SQLite file, for several worker processes on one machine: WAL
    (readers do not wait for the writer), ``busy_timeout`` seconds of waiting on a locked
    database (an operation then gives up: see ``SqlStore.retry_for``), and a connection per
    thread at a time.
    Change notifications are found by polling a table every ``poll_interval`` seconds."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0, poll_interval: float = 0.25, lease: float = 10.0,
                 max_connections: int = 8) -> None:
        if not isinstance(path, str) or not path or path == ":memory:" or path.startswith("file:"):
            # (":memory:" is one database per connection: nothing would be shared.)
            raise ValueError("SqliteStore needs the path of a database file")
        self.path = path
        self.busy_timeout = busy_timeout
        SqlStore.__init__(self, self._open, "qmark", dialect="sqlite", poll_interval=poll_interval, lease=lease,
                          max_connections=max_connections)

    def _open(self) -> Any:
        import sqlite3
        try:
            # check_same_thread off: a pooled connection moves between threads, one at a time.
            connection = sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False)
        except sqlite3.Error as exc:
            # (At start this stops the program; later, a request gets StoreUnavailable.)
            raise sqlite3.OperationalError("cannot open the store's database %s: %s" % (self.path, exc)) from exc
        connection.execute("PRAGMA busy_timeout = %d" % int(self.busy_timeout * 1000))
        # WAL: readers and one writer at once, across processes on one machine (not over a
        # network file system). synchronous=NORMAL is durable across a process crash, which
        # is what a killed worker is.
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        return connection


class StoreWatch:
    """The one thread per process that keeps a shared store's promises: every
    ``poll_interval`` it runs the ``ticks`` registered (the task store's: leases, dead
    workers' tasks, cancels made elsewhere) and hands the changes other workers published to
    each of ``listeners`` as ``(kind, detail)``. Started on first need and again after a fork (a
    thread does not survive one)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._pid = 0
        self._thread = None  # type: Optional[threading.Thread]
        self._stop = threading.Event()
        self.ticks = []  # type: List[Callable[[], None]]
        self.listeners = []  # type: List[Callable[[str, str], None]]

    def ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            try:
                cursor = self.store.last_event()
            except StoreUnavailable:
                cursor = 0  # the first tick tries again; events before it may be replayed
            self._stop = threading.Event()
            thread = threading.Thread(target=self._run, args=(cursor, self._stop), name="mcplite-store-watch")
            thread.daemon = True
            thread.start()
            self._thread = thread
            self._pid = os.getpid()

    def stop(self) -> None:
        self._stop.set()
        self._pid = 0

    def _run(self, cursor: int, stop: threading.Event) -> None:
        store = self.store
        while not stop.is_set():
            try:
                for tick in list(self.ticks):
                    tick()
                cursor, events = store.events_after(cursor)
                me = store.worker
                for origin, kind, detail in events:
                    if origin == me:
                        continue  # our own changes were told to our listeners when made
                    for listener in list(self.listeners):
                        listener(kind, detail)
            except StoreUnavailable:
                pass  # logged by the store; the next tick tries again
            except Exception:
                _store_log.exception("mcplite store watch")
            if stop.is_set():
                break
            try:
                store.wait_events(store.poll_interval)
            except Exception:
                stop.wait(store.poll_interval)
