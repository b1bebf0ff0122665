"""A filesystem MCP server that never leaves its roots, nothing but the standard library.

    python examples/files_server.py DIR [DIR...]   # serve these directories over stdio
    python examples/files_server.py                # serve the client's roots (roots/list)

Tools list the roots, list a directory, read a text file (at most 1 MiB of it), describe a
file and find files by name. Directories named on the command line are the roots, and the
client's roots are then never asked for: whoever starts the server sets the bounds, and a
client cannot widen them. Without them, each call asks the client for its roots
(``roots/list``), so a change of roots counts from the next call on; only ``file://`` roots
are used, and a client without the roots capability gets a tool error.

A relative path is taken from the first root; an absolute one must lie inside a root. Every
path is refused, as a one-line tool error, unless its real location (all symlinks resolved)
is inside a root: ``..`` components, Windows forms (``C:\\x``, ``\\\\server\\share``,
backslashes anywhere) and NUL bytes are refused before the filesystem is touched, even on
Linux where some of them would be legal names.
"""

import codecs
import datetime
import fnmatch
import os
import re
import stat
import sys
import urllib.parse
from typing import List, Optional, Tuple, TypedDict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

from mcplite import Context, MCPError, Server, ToolError  # noqa: E402

MAX_PATH_CHARS = 4096
MAX_READ_BYTES = 1024 * 1024
MAX_LIST_ENTRIES = 1000
MAX_FIND_RESULTS = 1000
MAX_FIND_VISITS = 20000  # directory entries looked at by one search, matched or not

app = Server("files", version="1.0.0", client_request_timeout=30,
             instructions="Read-only access to some directories (the roots). Call list_roots first; "
                          "paths are relative to the first root, or absolute inside one; use / as separator.")

# Set from the command line when run as a script; empty means "ask the client".
command_line_roots = []  # type: List[str]


class Root(TypedDict):
    path: str
    name: str


class Roots(TypedDict):
    source: str
    roots: List[Root]


class Entry(TypedDict):
    name: str
    type: str
    size: int


class Listing(TypedDict):
    path: str
    entries: List[Entry]
    truncated: bool


class TextFile(TypedDict):
    path: str
    size: int
    truncated: bool
    text: str


class Info(TypedDict):
    path: str
    type: str
    size: int
    modified: str


class Found(TypedDict):
    matches: List[str]
    truncated: bool


# -- the roots -------------------------------------------------------------------

def root_from_uri(uri: str) -> Optional[str]:
    """The directory a ``file://`` root URI names, or None for any other URI.

    Percent-escapes are decoded (``file:///srv/my%20files`` is "/srv/my files"); a URI
    naming another host, carrying a query, or decoding to bad UTF-8 or a NUL byte is no
    local directory we could check paths against, so it is skipped rather than guessed at."""
    try:
        parts = urllib.parse.urlsplit(uri)
        path = urllib.parse.unquote(parts.path, errors="strict")
    except (ValueError, UnicodeDecodeError):
        return None
    if parts.scheme.lower() != "file" or parts.netloc.lower() not in ("", "localhost") or parts.query:
        return None
    if "\x00" in path or not path.startswith("/"):
        return None
    if os.name == "nt" and re.match(r"^/[A-Za-z]:", path):
        path = path[1:]  # file:///C:/data is C:/data
    return os.path.realpath(path)


def current_roots(ctx: Context) -> Tuple[str, List[Root]]:
    """The roots this call is confined to, as real paths, and where they came from."""
    if command_line_roots:
        return "command line", [{"path": p, "name": os.path.basename(p) or p} for p in command_line_roots]
    if not ctx.can_ask("roots/list"):
        raise ToolError("no roots: this client offers none (roots capability), and the server was started "
                        "without directories")
    try:
        # Asked on every call: mcplite hands notifications/roots/list_changed to no handler, and
        # a 2026-07-28 client has no session to remember roots in, so a cache could go stale.
        given = ctx.roots()
    except MCPError as error:
        raise ToolError("could not get the client's roots: %s" % error.message)
    roots = []  # type: List[Root]
    for item in given:
        path = root_from_uri(item["uri"])
        if path is not None and os.path.exists(path):
            name = item.get("name")
            roots.append({"path": path, "name": name if isinstance(name, str) else os.path.basename(path) or path})
    if not roots:
        raise ToolError("none of the client's roots is an existing file:// directory")
    return "client", roots


# -- checking a path ---------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def inside(root: str, real: str) -> bool:
    """Whether ``real`` is ``root`` or below it. By path components, not by characters:
    /srv/data2 is not inside /srv/data."""
    try:
        return os.path.commonpath([root, real]) == root
    except ValueError:  # one relative, or (Windows) another drive
        return False


def resolve(path: str, ctx: Context) -> str:
    """The real path ``path`` names, once it is known to lie inside a root; else ToolError."""
    shown = repr(path[:200])  # repr keeps a message on one line whatever the path holds
    if len(path) > MAX_PATH_CHARS:
        raise ToolError("refused: the path is longer than %d characters" % MAX_PATH_CHARS)
    if "\x00" in path:
        raise ToolError("refused %s: the path contains a NUL byte" % shown)
    # Windows forms are refused on every system: the same request must mean the same thing
    # wherever the server runs, and on Linux "C:" or "\\" inside a name only invites confusion.
    if path.startswith(("\\\\", "//")):
        raise ToolError("refused %s: UNC paths (\\\\server\\share) are not served" % shown)
    if _DRIVE.match(path):
        raise ToolError("refused %s: Windows drive paths are not served" % shown)
    if "\\" in path:
        raise ToolError("refused %s: backslashes are not allowed; separate components with /" % shown)
    if ".." in path.split("/"):
        raise ToolError("refused %s: '..' components are not allowed" % shown)
    _, roots = current_roots(ctx)
    candidate = path if os.path.isabs(path) else os.path.join(roots[0]["path"], path)
    # realpath resolves every symlink on the way, the parents' too: a link inside a root that
    # points out of it lands outside, and is refused here.
    real = os.path.realpath(candidate)
    if not any(inside(root["path"], real) for root in roots):
        raise ToolError("refused %s: it is outside the roots (%s)" % (shown, ", ".join(r["path"] for r in roots)))
    # What is left is a race: another process replacing a checked directory with a symlink
    # between this check and the use. Opening files with O_NOFOLLOW narrows it; closing it
    # needs openat2(RESOLVE_BENEATH), which Python's standard library does not offer.
    return real


def os_error(path: str, error: OSError) -> ToolError:
    return ToolError("%s: %s" % (repr(path[:200]), error.strerror or error))


def kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "other"


# -- the tools ---------------------------------------------------------------------

@app.tool(annotations={"readOnlyHint": True})
def list_roots(ctx: Context) -> Roots:
    """The directories this server may read, and whether they come from its command line or the client."""
    source, roots = current_roots(ctx)
    return {"source": source, "roots": roots}


@app.tool(annotations={"readOnlyHint": True})
def list_directory(ctx: Context, path: str = ".") -> Listing:
    """List a directory inside the roots (at most 1000 entries, by name). Symlinks are shown as such.

    Args:
        path: relative to the first root, or absolute inside a root
    """
    real = resolve(path, ctx)
    try:
        with os.scandir(real) as scan:
            found = sorted(scan, key=lambda e: e.name)
            entries = []  # type: List[Entry]
            for entry in found[:MAX_LIST_ENTRIES]:
                info = entry.stat(follow_symlinks=False)
                entries.append({"name": entry.name, "type": kind_of(info.st_mode), "size": info.st_size})
    except OSError as error:
        raise os_error(path, error)
    return {"path": real, "entries": entries, "truncated": len(found) > MAX_LIST_ENTRIES}


@app.tool(annotations={"readOnlyHint": True})
def read_text_file(ctx: Context, path: str, max_bytes: int = 65536) -> TextFile:
    """Read a UTF-8 text file inside the roots, up to max_bytes (at most 1 MiB); says whether it was cut short.

    Args:
        path: relative to the first root, or absolute inside a root
        max_bytes: read at most this many bytes
    """
    if not 1 <= max_bytes <= MAX_READ_BYTES:
        raise ToolError("max_bytes must be between 1 and %d" % MAX_READ_BYTES)
    real = resolve(path, ctx)
    # O_NOFOLLOW: the checked path has no symlinks left, so one found now was put there since.
    # O_NONBLOCK: a FIFO must not hang the call before the regular-file check below.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(real, flags)
    except OSError as error:
        raise os_error(path, error)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ToolError("%s is not a regular file (it is a %s)" % (repr(path[:200]), kind_of(info.st_mode)))
        chunks = []  # type: List[bytes]
        wanted = max_bytes
        while wanted > 0:
            chunk = os.read(fd, min(wanted, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
        truncated = wanted == 0 and os.read(fd, 1) != b""
    except OSError as error:
        raise os_error(path, error)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if b"\x00" in data:
        raise ToolError("%s looks like a binary file (it holds NUL bytes)" % repr(path[:200]))
    try:
        # A cut may fall inside a multi-byte character: the decoder keeps that tail back.
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=not truncated)
    except UnicodeDecodeError:
        raise ToolError("%s is not UTF-8 text" % repr(path[:200]))
    return {"path": real, "size": info.st_size, "truncated": truncated, "text": text}


@app.tool(annotations={"readOnlyHint": True})
def file_info(ctx: Context, path: str) -> Info:
    """The kind (file, directory, other), size and modification time (UTC) of a path inside the roots."""
    real = resolve(path, ctx)
    try:
        info = os.stat(real)
    except OSError as error:
        raise os_error(path, error)
    modified = datetime.datetime.fromtimestamp(int(info.st_mtime), datetime.timezone.utc)
    return {"path": real, "type": kind_of(info.st_mode), "size": info.st_size,
            "modified": modified.strftime("%Y-%m-%dT%H:%M:%SZ")}


@app.tool(annotations={"readOnlyHint": True})
def find_files(ctx: Context, pattern: str, path: str = ".", limit: int = 100) -> Found:
    """Find files and directories whose name matches a glob pattern (case-insensitive, like *.md),
    below a directory inside the roots. Symlinked directories are not followed.

    Args:
        pattern: a glob for the name alone (*, ?, [abc]); no /
        path: the directory to search, relative to the first root or absolute inside a root
        limit: at most this many matches (1-1000)
    """
    if not 1 <= limit <= MAX_FIND_RESULTS:
        raise ToolError("limit must be between 1 and %d" % MAX_FIND_RESULTS)
    if not pattern or "/" in pattern or "\\" in pattern or "\x00" in pattern:
        raise ToolError("the pattern matches names, not paths: give it without / or \\")
    real = resolve(path, ctx)
    if not os.path.isdir(real):
        raise ToolError("%s is not a directory" % repr(path[:200]))
    wanted = pattern.lower()
    matches = []  # type: List[str]
    visited = 0
    # followlinks=False: a symlinked directory might lead out of the roots (and into loops).
    for directory, dirs, files in os.walk(real, followlinks=False):
        ctx.check_cancelled()
        dirs.sort()
        for name in sorted(dirs + files):
            visited += 1
            if fnmatch.fnmatchcase(name.lower(), wanted):
                if len(matches) == limit:  # one more than asked for: say there are more
                    return {"matches": matches, "truncated": True}
                matches.append(os.path.join(directory, name))
            if visited >= MAX_FIND_VISITS:
                return {"matches": matches, "truncated": True}
    return {"matches": matches, "truncated": False}


def main(argv: List[str]) -> int:
    if any(arg.startswith("-") for arg in argv):
        print("usage: python examples/files_server.py [DIR ...]", file=sys.stderr)
        return 2
    for arg in argv:
        if not os.path.isdir(arg):
            print("files_server: %s is not a directory" % arg, file=sys.stderr)
            return 2
        command_line_roots.append(os.path.realpath(arg))
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
