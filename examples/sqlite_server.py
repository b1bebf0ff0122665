"""A SQLite query server, nothing but the standard library.

    python examples/sqlite_server.py DB                 # read-only
    python examples/sqlite_server.py DB --write         # writes allowed too
    python examples/sqlite_server.py DB --timeout 2     # stop any statement after 2 s (default 5)

DB must exist, with --write too: a mistyped name is an error, not a new empty database.
Tools list the tables, describe one, and run one SQL statement with parameters, its rows
coming back as structured content (at most 1000 rows, and a bounded size); the schema is
also a resource, sqlite://schema.

Read-only is enforced by SQLite itself, three ways at once: the file is opened with
``mode=ro``, ``PRAGMA query_only`` is on, and an authorizer lets a statement compile only if
every action in it is a read. The authorizer is the one that matters: ``ATTACH`` (and
``VACUUM INTO``) create files even on a read-only connection, and a ``PRAGMA`` could turn
query_only off again. With ``--write`` the authorizer still refuses ``ATTACH``/``DETACH``
(no reaching other files), pragmas that change settings, and transaction control (each call
is one statement in its own transaction).
"""

import math
import os
import sqlite3
import sys
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple, TypedDict, Union

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

from mcplite import Context, Server, ToolError  # noqa: E402

MAX_ROWS = 1000
MAX_RESULT_CHARS = 512 * 1024   # about what the cells of one result may add up to
MAX_CELL_CHARS = 16 * 1024      # one text (or blob, hex-encoded) value is cut beyond this
MAX_SQL_CHARS = 100 * 1024

app = Server("sqlite", version="1.0.0",
             instructions="One SQLite database. list_tables and describe_table show its schema (also the "
                          "resource sqlite://schema); query runs one statement, with ? or :name parameters.")

# Actions a statement may hold, by authorizer action code. Anything else is refused.
READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                getattr(sqlite3, "SQLITE_RECURSIVE", 33)}
WRITE_ACTIONS = {
    sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE, sqlite3.SQLITE_ALTER_TABLE,
    sqlite3.SQLITE_ANALYZE, sqlite3.SQLITE_REINDEX, sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX,
    sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_CREATE_TRIGGER, sqlite3.SQLITE_CREATE_TEMP_TABLE,
    sqlite3.SQLITE_CREATE_TEMP_INDEX, sqlite3.SQLITE_CREATE_TEMP_VIEW, sqlite3.SQLITE_CREATE_TEMP_TRIGGER,
    sqlite3.SQLITE_DROP_TABLE, sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_DROP_VIEW, sqlite3.SQLITE_DROP_TRIGGER,
    sqlite3.SQLITE_DROP_TEMP_TABLE, sqlite3.SQLITE_DROP_TEMP_INDEX, sqlite3.SQLITE_DROP_TEMP_VIEW,
    sqlite3.SQLITE_DROP_TEMP_TRIGGER, sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE,
}
# Pragmas that only report, and only when given no value (or, for these, a table or index
# name): "PRAGMA user_version = 5" is a write even though "PRAGMA user_version" is a read.
NAME_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"}
VALUE_PRAGMAS = {"user_version", "schema_version", "application_id", "page_size", "page_count",
                 "freelist_count", "encoding", "journal_mode", "table_list", "database_list",
                 "collation_list", "compile_options", "data_version", "query_only"}
# Names for the refusal messages (the sqlite3 module has no reverse table, and in recent
# versions some result-code names share these numbers).
ACTION_NAMES = {
    sqlite3.SQLITE_INSERT: "INSERT", sqlite3.SQLITE_UPDATE: "UPDATE", sqlite3.SQLITE_DELETE: "DELETE",
    sqlite3.SQLITE_ATTACH: "ATTACH", sqlite3.SQLITE_DETACH: "DETACH", sqlite3.SQLITE_PRAGMA: "PRAGMA",
    sqlite3.SQLITE_TRANSACTION: "transaction control", sqlite3.SQLITE_SAVEPOINT: "SAVEPOINT",
    sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE", sqlite3.SQLITE_CREATE_TABLE: "CREATE TABLE",
    sqlite3.SQLITE_DROP_TABLE: "DROP TABLE", sqlite3.SQLITE_CREATE_INDEX: "CREATE INDEX",
    sqlite3.SQLITE_DROP_INDEX: "DROP INDEX", sqlite3.SQLITE_CREATE_VIEW: "CREATE VIEW",
    sqlite3.SQLITE_DROP_VIEW: "DROP VIEW", sqlite3.SQLITE_CREATE_TRIGGER: "CREATE TRIGGER",
    sqlite3.SQLITE_DROP_TRIGGER: "DROP TRIGGER", sqlite3.SQLITE_FUNCTION: "function",
}


class Table(TypedDict):
    name: str
    type: str


class Column(TypedDict):
    name: str
    type: str
    notnull: bool
    default: Optional[str]
    primary_key: int


class Description(TypedDict):
    name: str
    sql: str
    columns: List[Column]


class Rows(TypedDict):
    columns: List[str]
    rows: List[List[Any]]
    row_count: int
    truncated: bool
    changes: int


class Database:
    """Two connections, each behind the one lock: ``_user`` runs the client's SQL under the
    authorizer; ``_schema`` (always read-only, no authorizer) runs this server's own fixed
    queries about the schema, so no exception is carved into the client's rules."""

    def __init__(self, path: str, write: bool, timeout: float) -> None:
        self.write = write
        self.timeout = timeout
        self._lock = threading.Lock()
        self._denied = None  # type: Optional[str]
        self._deadline = 0.0
        self._ctx = None  # type: Optional[Context]
        # The URI form, so that mode=ro applies; quote() keeps a '?' or '#' in the file name
        # from being read as the URI's query. mode=ro also means a missing file is an error
        # instead of a new, empty database.
        uri = "file:%s?mode=%s" % (urllib.parse.quote(os.path.abspath(path)), "rw" if write else "ro")
        # isolation_level=None: autocommit, each statement its own transaction.
        self._user = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        self._schema = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(os.path.abspath(path)), uri=True,
                                       isolation_level=None, check_same_thread=False)
        self._schema.execute("PRAGMA query_only = ON")
        if not write:
            self._user.execute("PRAGMA query_only = ON")
        self._user.set_authorizer(self._authorize)
        # Called every 1000 virtual-machine steps: a non-zero answer aborts the statement, so a
        # runaway query (a recursive CTE without end) stops at the deadline or on cancellation.
        self._user.set_progress_handler(self._should_stop, 1000)

    def _authorize(self, action: int, arg1: Optional[str], arg2: Optional[str], _db: Optional[str],
                   _trigger: Optional[str]) -> int:
        if action in READ_ACTIONS:
            if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() == "load_extension":
                return self._deny(action, arg2)
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            if arg2 is None and (name in VALUE_PRAGMAS or name in NAME_PRAGMAS):
                return sqlite3.SQLITE_OK
            if name in NAME_PRAGMAS:  # its argument is a name, not a new value
                return sqlite3.SQLITE_OK
            return self._deny(action, name + ("" if arg2 is None else " = " + arg2))
        if self.write and action in WRITE_ACTIONS:
            return sqlite3.SQLITE_OK
        return self._deny(action, arg1)

    def _deny(self, action: int, what: Optional[str]) -> int:
        if self._denied is None:  # the first refusal names what was asked: SQLite stops there
            if action in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE) and (
                    what or "").lower() in ("sqlite_master", "sqlite_schema", "sqlite_temp_master"):
                # DROP TABLE and the like are first asked about as a change to SQLite's own table
                self._denied = "a schema change"
            else:
                self._denied = ACTION_NAMES.get(action, "action %d" % action) + (" (%s)" % what if what else "")
        return sqlite3.SQLITE_DENY

    def _should_stop(self) -> int:
        ctx = self._ctx
        return int(time.monotonic() > self._deadline or (ctx is not None and ctx.cancelled))

    def tables(self) -> List[Table]:
        with self._lock:
            rows = self._schema.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
        return [{"name": name, "type": kind} for name, kind in rows]

    def describe(self, table: str) -> Optional[Description]:
        with self._lock:
            found = self._schema.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'view') "
                                         "AND name = ?", (table,)).fetchone()
            if found is None:
                return None
            # A pragma takes no parameters: the name, checked above to exist, goes in quoted.
            info = self._schema.execute('PRAGMA table_info("%s")' % found[0].replace('"', '""')).fetchall()
        columns = [{"name": c[1], "type": c[2], "notnull": bool(c[3]), "default": c[4], "primary_key": c[5]}
                   for c in info]  # type: List[Column]
        return {"name": found[0], "sql": found[1] or "", "columns": columns}

    def schema_sql(self) -> str:
        with self._lock:
            rows = self._schema.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 "
                                        "WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, name").fetchall()
        return "".join(sql + ";\n" for (sql,) in rows)

    def run(self, sql: str, params: Union[List[Any], Dict[str, Any]], max_rows: int, ctx: Context) -> Rows:
        with self._lock:
            self._denied = None
            self._ctx = ctx
            self._deadline = time.monotonic() + self.timeout
            changes_before = self._user.total_changes
            try:
                cursor = self._user.execute(sql, params)
                columns = [d[0] for d in cursor.description or ()]
                rows, truncated = fetch_bounded(cursor, max_rows) if columns else ([], False)
                cursor.close()
            # sqlite3.Warning: "You can only execute one statement at a time" before Python 3.12.
            except (sqlite3.Error, sqlite3.Warning) as error:
                raise self._tool_error(error)
            finally:
                self._ctx = None
            # total_changes, not rowcount: it also counts an INSERT ... RETURNING, whose rows come back.
            changes = self._user.total_changes - changes_before
        return {"columns": columns, "rows": rows, "row_count": len(rows), "truncated": truncated, "changes": changes}

    def _tool_error(self, error: Exception) -> ToolError:
        message = str(error)
        if self._denied is not None:  # the authorizer refused it (the messages vary by version)
            if self.write:
                return ToolError("refused: %s is not allowed by this server" % self._denied)
            return ToolError("refused: the database is read-only here, and the statement holds %s "
                             "(start the server with --write to change it)" % self._denied)
        if message == "interrupted":
            return ToolError("stopped: the statement ran longer than %g s, or was cancelled" % self.timeout)
        return ToolError("SQLite error: %s" % message.replace("\n", " "))


def fetch_bounded(cursor: sqlite3.Cursor, max_rows: int) -> Tuple[List[List[Any]], bool]:
    """At most ``max_rows`` rows and about MAX_RESULT_CHARS of values, each made JSON-safe;
    and whether there was more."""
    rows = []  # type: List[List[Any]]
    budget = MAX_RESULT_CHARS
    for row in iter(cursor.fetchone, None):
        if len(rows) == max_rows or budget <= 0:
            return rows, True
        cells = [json_cell(value) for value in row]
        budget -= sum(len(c) if isinstance(c, str) else 8 for c in cells)
        rows.append(cells)
    return rows, False


def json_cell(value: Any) -> Any:
    """A value JSON can carry: blobs as hex text, infinities as text, long values cut."""
    if isinstance(value, bytes):
        text = "x'%s'" % value[:MAX_CELL_CHARS // 2].hex()
        return text if len(value) <= MAX_CELL_CHARS // 2 else text + "...(%d bytes)" % len(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # SQLite has no NaN, but 1e999 is inf, which JSON cannot carry
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return value[:MAX_CELL_CHARS] + "...(%d characters)" % len(value)
    return value


db = None  # type: Optional[Database]


def database() -> Database:
    if db is None:
        raise ToolError("no database: start the server as python examples/sqlite_server.py DB")
    return db


@app.tool(annotations={"readOnlyHint": True})
def list_tables() -> List[Table]:
    """The tables and views of the database."""
    return database().tables()


@app.tool(annotations={"readOnlyHint": True})
def describe_table(name: str) -> Description:
    """A table's (or view's) columns and its CREATE statement."""
    found = database().describe(name)
    if found is None:
        raise ToolError("there is no table or view named %r" % name[:200])
    return found


@app.tool()
def query(ctx: Context, sql: str, params: Optional[Union[List[Any], Dict[str, Any]]] = None,
          max_rows: int = 100) -> Rows:
    """Run one SQL statement and return its rows (columns, then rows as lists), at most max_rows of them.
    Read-only unless the server was started with --write; changes counts the rows a write changed.

    Args:
        sql: one statement; use ? or :name placeholders for values, never paste them into the text
        params: the values for the placeholders: a list for ?, an object for :name
        max_rows: at most this many rows (1-1000); truncated says whether there were more
    """
    if not 1 <= max_rows <= MAX_ROWS:
        raise ToolError("max_rows must be between 1 and %d" % MAX_ROWS)
    if len(sql) > MAX_SQL_CHARS:
        raise ToolError("the statement is longer than %d characters" % MAX_SQL_CHARS)
    values = params if params is not None else []
    for value in (values.values() if isinstance(values, dict) else values):
        if isinstance(value, (list, dict)):
            raise ToolError("parameters are numbers, strings, booleans or null, not arrays or objects")
    return database().run(sql, values, max_rows, ctx)


@app.resource("sqlite://schema", mime_type="text/plain")
def schema() -> str:
    """Every CREATE statement of the database."""
    return database().schema_sql()


def main(argv: List[str]) -> int:
    args = list(argv)
    write = "--write" in args
    if write:
        args.remove("--write")
    timeout = 5.0
    if "--timeout" in args:
        at = args.index("--timeout")
        try:
            timeout = float(args[at + 1])
        except (IndexError, ValueError):
            timeout = -1.0
        del args[at:at + 2]
    if len(args) != 1 or args[0].startswith("-") or not timeout > 0:
        print("usage: python examples/sqlite_server.py DB [--write] [--timeout SECONDS]", file=sys.stderr)
        return 2
    global db
    if not os.path.exists(args[0]):
        print("sqlite_server: no such file: %s (the database must exist, with --write too: a mistyped name is an "
              "error, not a new empty database)" % args[0], file=sys.stderr)
        return 1
    try:
        db = Database(args[0], write, timeout)
    except sqlite3.Error as error:
        print("sqlite_server: cannot open %s: %s" % (args[0], error), file=sys.stderr)
        return 1
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
