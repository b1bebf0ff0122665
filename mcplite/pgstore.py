"""The shared store in PostgreSQL, with change notifications by LISTEN/NOTIFY.

``PostgresStore`` is ``stores.SqlStore`` over a PostgreSQL database reached through any DB-API
2.0 driver: the user passes a function returning a new connection (``lambda:
psycopg.connect(DSN)``, ``lambda: pg8000.dbapi.connect(...)``); mcplite imports no driver. What
it adds to the generic SQL store:

- A change published by one worker also rings ``NOTIFY <channel>`` in the same transaction, and
  each process's watch thread waits on a connection of its own that has run ``LISTEN``: another
  worker's change reaches this process's listen streams at once rather than at the next poll.
  The events are still read from the table; the notification only wakes the reader, so a
  notification lost (a driver with no way to wait on one, a dropped listening connection) costs
  latency (``poll_interval``), never an event.
- Publishers take one transaction-scoped advisory lock, so event ids commit in the order they
  were drawn: a reader asking for "ids after N" never passes over one still being committed.
  Stores making the tables take another, so workers starting together on a new database
  do not collide.
- PostgreSQL's own "try again" errors (serialization failure, deadlock, lock not available)
  are retried however the driver reports them (psycopg's ``sqlstate``, psycopg2's ``pgcode``,
  pg8000's error fields).

How the listening connection is waited on, by driver: psycopg 3 (``Connection.notifies`` with
a timeout, 3.2 and later), psycopg2 (``select`` on the connection, then ``poll``), pg8000
(``select`` on its socket, then a ``SELECT 1`` that reads what arrived); any other driver is
polled every ``poll_interval``.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any, Callable, Optional

from .errors import StoreUnavailable
from .stores import SqlStore, _store_log

# Every publisher of one database takes this transaction lock first (an arbitrary 64-bit key:
# "mcplite" in ASCII), so events commit in id order.
_PUBLISH_LOCK = 0x6D63706C697465
# Stores opening one database take this one while they make the tables ("mcplite" + 1).
_SCHEMA_LOCK = _PUBLISH_LOCK + 1
# PostgreSQL's SQLSTATEs that mean "the same work may succeed if tried again".
_RETRYABLE = ("40001", "40P01", "55P03")


class PostgresStore(SqlStore):
    """The shared store in PostgreSQL. ``connect`` returns a new DB-API connection to it;
    ``paramstyle`` is the driver's (read from the driver's module when not given: "format"
    or "pyformat" for psycopg, psycopg2 and pg8000); ``channel`` the LISTEN/NOTIFY channel
    (an unquoted identifier: stores of different apps on one database use different ones).
    The other options are ``SqlStore``'s."""

    def __init__(self, connect: Callable[[], Any], paramstyle: Optional[str] = None, *,
                 channel: str = "mcplite_events", poll_interval: float = 0.25, lease: float = 10.0,
                 max_connections: int = 8) -> None:
        # The channel is spliced into LISTEN (which takes no parameter): an identifier only.
        if not isinstance(channel, str) or not re.match(r"^[a-z_][a-z0-9_]{0,62}$", channel):
            raise ValueError("channel must be a lowercase identifier of at most 63 characters")
        self.channel = channel
        self._listener = None  # type: Any
        self._listener_pid = 0
        self._listener_lock = threading.Lock()
        self._closed = False
        SqlStore.__init__(self, connect, paramstyle, dialect="postgresql", poll_interval=poll_interval,
                          lease=lease, max_connections=max_connections)

    def transient(self, exc: BaseException) -> bool:
        if SqlStore.transient(self, exc):
            return True
        code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if code is None and exc.args and isinstance(exc.args[0], dict):
            code = exc.args[0].get("C")  # pg8000: the server's error fields, by their one-letter codes
        return code in _RETRYABLE

    def creating_tables(self, cursor: Any) -> None:
        # Workers starting together on a new database: PostgreSQL's CREATE TABLE IF NOT EXISTS
        # is not safe against a concurrent twin (the loser fails on a unique index of the
        # system catalogs), so one store at a time makes them; the lock ends with the commit,
        # and the next finds the tables there.
        self._execute(cursor, "SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))

    # -- change notifications ---------------------------------------------------------

    def publishing(self, cursor: Any) -> None:
        # Publishers queue here before their event's id is drawn, so ids commit in order
        # and a reader polling past the last id it saw never skips one.
        self._execute(cursor, "SELECT pg_advisory_xact_lock(?)", (_PUBLISH_LOCK,))

    def published(self, cursor: Any) -> None:
        # Delivered when the publishing transaction commits, to every connection listening.
        self._execute(cursor, "SELECT pg_notify(?, ?)", (self.channel, "changed"))

    def wait_events(self, timeout: float) -> None:
        """Block until another worker publishes (a NOTIFY arrives) or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        try:
            listener = self._listening()
            if listener is not None and self._await_notify(listener, timeout):
                return
        except Exception as exc:
            # The listening connection broke (the server restarted, say): made again on the
            # next wait; meanwhile the table is polled.
            if self._closed:
                return
            _store_log.warning("mcplite store: LISTEN connection lost (%s: %s); polling meanwhile",
                               type(exc).__name__, exc)
            self._drop_listener()
        remaining = deadline - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def _listening(self) -> Any:
        """This process's connection that has run LISTEN (after a fork, a new one: the
        parent's socket is the parent's)."""
        import os
        with self._listener_lock:
            if self._closed:
                return None
            if self._listener is not None and self._listener_pid == os.getpid():
                return self._listener
            self._listener = None
            try:
                connection = self._connect()
            except Exception as exc:
                _store_log.error("mcplite store: cannot connect to LISTEN: %s", exc)
                raise StoreUnavailable("cannot connect")
            try:
                # LISTEN takes effect at commit, and a connection idle inside a transaction
                # would hold back the server's vacuum: autocommit where the driver has it.
                try:
                    connection.autocommit = True
                except Exception:
                    pass
                cursor = connection.cursor()
                cursor.execute("LISTEN " + self.channel)
                cursor.close()
                if not getattr(connection, "autocommit", False):
                    connection.commit()
            except BaseException:
                self._close_quietly(connection)
                raise
            self._listener = connection
            self._listener_pid = os.getpid()
            return connection

    def _await_notify(self, connection: Any, timeout: float) -> bool:
        """Wait up to ``timeout`` for a notification on ``connection``; False when this
        driver offers no way to wait (the caller polls instead)."""
        import select
        notifies = getattr(connection, "notifies", None)
        if callable(notifies):  # psycopg 3
            try:
                for _notify in notifies(timeout=timeout, stop_after=1):
                    break
            except TypeError:
                return False  # psycopg before 3.2: no timeout
            return True
        if isinstance(notifies, list) and hasattr(connection, "poll") and hasattr(connection, "fileno"):  # psycopg2
            if not notifies:
                readable = select.select([connection], [], [], timeout)[0]
                if readable:
                    connection.poll()
            del notifies[:]
            return True
        queue = getattr(connection, "notifications", None)
        sock = getattr(connection, "_usock", None)
        if queue is not None and sock is not None:  # pg8000: its socket, then a query reads it
            if not queue:
                readable = select.select([sock], [], [], timeout)[0]
                if readable:
                    cursor = connection.cursor()
                    cursor.execute("SELECT 1")
                    cursor.fetchall()
                    cursor.close()
            queue.clear()
            return True
        return False

    def _drop_listener(self) -> None:
        with self._listener_lock:
            connection, self._listener = self._listener, None
        if connection is not None:
            self._close_quietly(connection)

    @staticmethod
    def _close_quietly(connection: Any) -> None:
        try:
            connection.close()
        except Exception:
            pass

    def close(self) -> None:
        self._closed = True
        SqlStore.close(self)
        self._drop_listener()
