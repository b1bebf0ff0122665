"""A long-running tool with progress and cancellation, and a tool that asks the user.

    python examples/jobs_server.py            # stdio
    python examples/jobs_server.py --http     # http://127.0.0.1:8000/mcp

The same code serves both protocol eras; see "Progress, cancellation, asking the client" in
the README for what crosses the wire in each.
"""

import os
import sys
import threading
from typing import List

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

from mcplite import Context, Server  # noqa: E402

app = Server("jobs")
branches = ["main", "old-feature", "spike"]
lock = threading.Lock()


@app.tool()
def crunch(files: int, ctx: Context) -> str:
    """Process some files, reporting progress; stops early when the client cancels."""
    for i in range(files):
        ctx.check_cancelled()                 # raises Cancelled once the client gave up
        threading.Event().wait(0.05)          # the real work would go here
        ctx.progress(i + 1, files, "file %d of %d" % (i + 1, files))
    return "processed %d files" % files


@app.tool()
def delete_branch(branch: str, ctx: Context) -> str:
    """Delete a branch once the user confirms."""
    answer = ctx.elicit("Delete branch %s?" % branch, {"confirm": bool})
    if answer["action"] != "accept" or not answer["content"]["confirm"]:
        return "kept " + branch
    # After the question: in 2026-07-28 the code before it runs once per round.
    with lock:
        if branch in branches:
            branches.remove(branch)
    return "deleted " + branch


@app.tool()
def list_branches() -> List[str]:
    """The branches left."""
    with lock:
        return list(branches)


if __name__ == "__main__":
    app.run("http" if "--http" in sys.argv else "stdio")
