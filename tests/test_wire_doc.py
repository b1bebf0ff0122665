"""docs/wire.md is what the code does today: ``scripts/wire_doc.py --check`` regenerates it
from real sessions with the example servers and fails, with a diff, on any difference."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_docs_wire_md_is_current():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "wire_doc.py"), "--check"], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    out = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0, out[-6000:] + proc.stderr.decode("utf-8", "replace")[-3000:]
    assert out == "docs/wire.md is current\n"


def test_the_check_fails_on_a_difference(tmp_path):
    # The same script, pointed at a copy of the page with one line changed, must say so.
    page = open(os.path.join(ROOT, "docs", "wire.md"), encoding="utf-8").read()
    assert page.startswith("# MCP on the wire\n")
    changed = tmp_path / "wire.md"
    changed.write_text(page.replace("-> {\"jsonrpc\":\"2.0\",\"id\":1,", "-> {\"jsonrpc\":\"2.0\",\"id\":99,", 1),
                       encoding="utf-8")
    code = ("import sys; sys.path.insert(0, %r); import wire_doc; wire_doc.DOC = %r; sys.exit(wire_doc.main(['--check']))"
            % (os.path.join(ROOT, "scripts"), str(changed)))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    out = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 1, out + proc.stderr.decode("utf-8", "replace")
    assert '-> {"jsonrpc":"2.0","id":99,' in out and "docs/wire.md is out of date" in out
