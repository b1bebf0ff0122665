"""examples/sqlite_server.py as a real process over stdio, driven by mcplite's Client: the
schema tools, parameterised queries with a row limit, every kind of write refused in
read-only mode (the database file checked unchanged), and writes allowed with --write."""

import os
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

from mcplite import Client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "sqlite_server.py")


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("sqlite") / "library.db")
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL, year INTEGER DEFAULT 2000)")
    db.execute("CREATE VIEW recent AS SELECT title FROM books WHERE year >= 2020")
    db.executemany("INSERT INTO books (title, year) VALUES (?, ?)",
                   [("Book %03d" % i, 1900 + i % 100) for i in range(1, 251)])
    db.commit()
    db.close()
    return path


def snapshot(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def readonly(db_path):
    with Client.stdio([sys.executable, EXAMPLE, db_path, "--timeout", "0.5"], timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def writable(db_path, tmp_path_factory):
    copy = str(tmp_path_factory.mktemp("sqlite-write") / "library.db")
    shutil.copy(db_path, copy)
    with Client.stdio([sys.executable, EXAMPLE, copy, "--write"], timeout=10) as client:
        yield client


def rows(client, sql, params=None, **options):
    arguments = dict(options, sql=sql)
    if params is not None:
        arguments["params"] = params
    result = client.call_tool("query", arguments)
    assert not result.get("isError"), result
    return result["structuredContent"]


def error_text(client, sql, **arguments):
    result = client.call_tool("query", dict(arguments, sql=sql))
    assert result.get("isError") is True, result
    [block] = result["content"]
    assert "\n" not in block["text"] and "Traceback" not in block["text"]
    return block["text"]


def test_schema_tools_and_resource(readonly):
    assert readonly.call_tool("list_tables")["structuredContent"] == {"result": [
        {"name": "books", "type": "table"}, {"name": "recent", "type": "view"}]}
    described = readonly.call_tool("describe_table", {"name": "books"})["structuredContent"]
    assert described["sql"].startswith("CREATE TABLE books")
    assert described["columns"] == [
        {"name": "id", "type": "INTEGER", "notnull": False, "default": None, "primary_key": 1},
        {"name": "title", "type": "TEXT", "notnull": True, "default": None, "primary_key": 0},
        {"name": "year", "type": "INTEGER", "notnull": False, "default": "2000", "primary_key": 0}]
    missing = readonly.call_tool("describe_table", {"name": 'x"; DROP TABLE books; --'})
    assert missing["isError"] and missing["content"][0]["text"].startswith("there is no table or view named")
    [schema] = readonly.read_resource("sqlite://schema")["contents"]
    assert schema["text"].startswith("CREATE TABLE books") and "CREATE VIEW recent" in schema["text"]


def test_query_with_parameters(readonly):
    found = rows(readonly, "SELECT id, title FROM books WHERE title = ? OR id = ? ORDER BY id", ["Book 007", 9])
    assert found == {"columns": ["id", "title"], "rows": [[7, "Book 007"], [9, "Book 009"]], "row_count": 2,
                     "truncated": False, "changes": 0}
    named = rows(readonly, "SELECT count(*) AS n FROM books WHERE year BETWEEN :low AND :high",
                 {"low": 1990, "high": 1999})
    assert named["rows"] == [[20]]
    odd = rows(readonly, "SELECT 1e999, x'00ff', NULL")["rows"]
    assert odd == [["inf", "x'00ff'", None]]


def test_row_limit(readonly):
    limited = rows(readonly, "SELECT * FROM books ORDER BY id", max_rows=100)
    assert (limited["row_count"], limited["truncated"]) == (100, True)
    assert limited["rows"][-1] == [100, "Book 100", 1900]
    everything = rows(readonly, "SELECT id FROM books", max_rows=1000)
    assert (everything["row_count"], everything["truncated"]) == (250, False)
    exact = rows(readonly, "SELECT id FROM books", max_rows=250)
    assert (exact["row_count"], exact["truncated"]) == (250, False)
    assert error_text(readonly, "SELECT 1", max_rows=5000) == "max_rows must be between 1 and 1000"


@pytest.mark.parametrize("sql, holds", [
    ("INSERT INTO books (title) VALUES ('sneaky')", "INSERT (books)"),
    ("DROP TABLE books", "a schema change"),
    ("UPDATE books SET title = 'x'", "UPDATE (books)"),
    ("CREATE TABLE more (x)", "a schema change"),
    ("WITH t(title) AS (SELECT 'cte') INSERT INTO books (title) SELECT title FROM t", "INSERT (books)"),
    ("ATTACH DATABASE '{dir}/attached.db' AS other", "ATTACH"),
    ("VACUUM INTO '{dir}/copy.db'", "ATTACH"),
    ("PRAGMA writable_schema = ON", "PRAGMA (writable_schema = ON)"),
    ("PRAGMA query_only = OFF", "PRAGMA (query_only = OFF)"),
    ("PRAGMA user_version = 7", "PRAGMA (user_version = 7)"),
    ("BEGIN IMMEDIATE", "transaction control"),
], ids=["insert", "drop", "update", "create", "cte-insert", "attach", "vacuum-into", "writable-schema",
        "query-only-off", "user-version", "begin"])
def test_writes_refused_when_read_only(readonly, db_path, sql, holds):
    directory = os.path.dirname(db_path)
    before = snapshot(db_path)
    message = error_text(readonly, sql.format(dir=directory))
    assert message.startswith("refused: the database is read-only here, and the statement holds " + holds), message
    assert "--write" in message
    assert snapshot(db_path) == before
    assert sorted(os.listdir(directory)) == ["library.db"]  # nothing attached or vacuumed into
    assert rows(readonly, "SELECT count(*) FROM books")["rows"] == [[250]]
    assert rows(readonly, "PRAGMA query_only")["rows"] == [[1]]


def test_reading_pragmas_and_errors(readonly):
    assert [r[1] for r in rows(readonly, "PRAGMA table_info(books)")["rows"]] == ["id", "title", "year"]
    assert rows(readonly, "PRAGMA user_version")["rows"] == [[0]]
    assert "one statement at a time" in error_text(readonly, "SELECT 1; SELECT 2")
    assert error_text(readonly, "SELEKT 1").startswith("SQLite error: near \"SELEKT\"")
    assert "arrays or objects" in error_text(readonly, "SELECT ?", params=[[1, 2]])


def test_result_size_is_bounded(readonly):
    # 20,000-character values: each is cut to 16 KiB, and the rows stop at about 512 KiB
    result = rows(readonly, "SELECT hex(zeroblob(10000)) FROM books", max_rows=1000)
    assert result["truncated"] is True and 20 < result["row_count"] < 40
    assert result["rows"][0][0] == "0" * 16384 + "...(20000 characters)"


def test_runaway_query_is_stopped(readonly):
    started = time.monotonic()
    message = error_text(readonly, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                                   "SELECT count(*) FROM n")
    assert message == "stopped: the statement ran longer than 0.5 s, or was cancelled"
    assert time.monotonic() - started < 5
    assert rows(readonly, "SELECT 42")["rows"] == [[42]]  # and the server goes on


def test_writes_allowed_with_write(writable):
    inserted = rows(writable, "INSERT INTO books (title, year) VALUES (?, ?)", ["New", 2024])
    assert (inserted["changes"], inserted["rows"]) == (1, [])
    assert rows(writable, "SELECT title FROM recent")["rows"] == [["New"]]
    returning = rows(writable, "UPDATE books SET year = 2025 WHERE year = 2024 RETURNING title") \
        if sqlite3.sqlite_version_info >= (3, 35) else None
    if returning is not None:
        assert (returning["rows"], returning["changes"]) == ([["New"]], 1)
    assert rows(writable, "CREATE TABLE notes (body TEXT)")["columns"] == []
    assert rows(writable, "DROP TABLE notes")["changes"] == 0
    assert [t["name"] for t in writable.call_tool("list_tables")["structuredContent"]["result"]] == ["books", "recent"]
    # still refused: other files, settings, and transactions spanning calls
    assert error_text(writable, "ATTACH DATABASE ':memory:' AS other") == (
        "refused: ATTACH (:memory:) is not allowed by this server")
    assert error_text(writable, "PRAGMA writable_schema = ON").startswith("refused: PRAGMA (writable_schema")
    assert error_text(writable, "BEGIN").startswith("refused: transaction control")


def test_read_only_needs_an_existing_file(tmp_path):
    missing = str(tmp_path / "missing.db")
    done = subprocess.run([sys.executable, EXAMPLE, missing], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=20)
    assert done.returncode == 1
    # (says what is wrong and why, not SQLite's "unable to open database file")
    assert done.stderr.decode("utf-8") == (
        "sqlite_server: no such file: %s (the database must exist, with --write too: a mistyped name is an "
        "error, not a new empty database)\n" % missing)
    assert not os.path.exists(missing)
