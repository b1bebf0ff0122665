"""The README's client snippet runs as written (against the notes example over stdio and
over HTTP), so the first thing a reader copies works."""

import contextlib
import io
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def client_snippet() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme.split("\n## A client\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_client_snippet_runs(monkeypatch):
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        import notes_server
    finally:
        sys.path.pop(0)
    code = client_snippet()
    assert code.count("\n") <= 6, "the README promises a five-line script"
    monkeypatch.chdir(ROOT)
    with notes_server.app.run_in_thread("http", port=0) as handle:
        code = code.replace('"python3"', repr(sys.executable)).replace("http://127.0.0.1:8000/mcp", handle.url)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert "'structuredContent': {'id': 1, 'title': 'hi'}" in lines[0]
    assert lines[1].startswith("['add_note', ")
