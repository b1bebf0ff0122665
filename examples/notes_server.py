"""A note-taking MCP server on SQLite, nothing but the standard library.

    python examples/notes_server.py            # serve over stdio (notes kept in memory)
    NOTES_DB=notes.sqlite python examples/notes_server.py   # keep them in a file

Tools add, search and delete notes; every note is also a resource (notes://{id}), the
whole collection is one (notes://all), and a prompt asks the model to summarize a note.
"""

import json
import os
import sqlite3
import sys
import threading
from typing import List, Optional, TypedDict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

from mcplite import Context, MCPError, Server, ToolError

app = Server("notes", version="1.0.0",
             instructions="A small notebook. Add notes with add_note, find them with search_notes, "
                          "read one as the resource notes://{id}.")


class NoteRef(TypedDict):
    id: int
    title: str


class _Notebook:
    """One SQLite connection shared by the worker threads, behind a lock."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, "
                             "body TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]')")

    def add(self, title: str, body: str, tags: List[str]) -> int:
        with self._lock, self._db:
            cursor = self._db.execute("INSERT INTO notes (title, body, tags) VALUES (?, ?, ?)",
                                      (title, body, json.dumps(tags)))
            return int(cursor.lastrowid)

    def search(self, query: str, limit: int) -> List[NoteRef]:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._lock:
            rows = self._db.execute(
                "SELECT id, title FROM notes WHERE title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\' "
                "OR tags LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?", (pattern, pattern, pattern, limit)).fetchall()
        return [{"id": row[0], "title": row[1]} for row in rows]

    def get(self, note_id: int) -> Optional[dict]:
        with self._lock:
            row = self._db.execute("SELECT id, title, body, tags FROM notes WHERE id = ?", (note_id,)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "title": row[1], "body": row[2], "tags": json.loads(row[3])}

    def all(self) -> List[dict]:
        with self._lock:
            rows = self._db.execute("SELECT id, title, body, tags FROM notes ORDER BY id").fetchall()
        return [{"id": r[0], "title": r[1], "body": r[2], "tags": json.loads(r[3])} for r in rows]

    def delete(self, note_id: int) -> bool:
        with self._lock, self._db:
            return self._db.execute("DELETE FROM notes WHERE id = ?", (note_id,)).rowcount > 0


notebook = _Notebook(os.environ.get("NOTES_DB", ":memory:"))


@app.tool(annotations={"destructiveHint": False})
def add_note(title: str, body: str, tags: List[str] = []) -> NoteRef:
    """Add a note and return its id."""
    if not title.strip():
        raise ToolError("a note needs a non-empty title")
    return {"id": notebook.add(title, body, tags), "title": title}


@app.tool(annotations={"readOnlyHint": True})
def search_notes(query: str, limit: int = 10, ctx: Optional[Context] = None) -> List[NoteRef]:
    """Find notes whose title, body or tags contain the query text."""
    if limit < 1 or limit > 100:
        raise ToolError("limit must be between 1 and 100")
    return notebook.search(query, limit)


@app.tool(annotations={"destructiveHint": True, "idempotentHint": True})
def delete_note(id: int) -> str:
    """Delete a note by id."""
    if not notebook.delete(id):
        raise ToolError("there is no note %d" % id)
    return "deleted note %d" % id


@app.resource("notes://all", mime_type="application/json")
def all_notes() -> list:
    """Every note, as JSON."""
    return notebook.all()


@app.resource("notes://{id}", mime_type="text/markdown")
def note(id: int) -> Optional[str]:
    """One note as Markdown."""
    found = notebook.get(id)
    if found is None:
        return None  # mcplite answers "Resource not found" with the right code for the era
    return "# %s\n\n%s" % (found["title"], found["body"])


@app.prompt()
def summarize(note_id: str) -> str:
    """Ask the model to summarize one note."""
    found = notebook.get(int(note_id)) if note_id.isdigit() else None
    if found is None:
        raise MCPError(-32602, "there is no note %s" % note_id)
    return "Summarize this note in one sentence:\n\n# %s\n\n%s" % (found["title"], found["body"])


if __name__ == "__main__":
    app.run()
