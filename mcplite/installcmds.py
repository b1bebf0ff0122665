"""``install`` and ``discover``: a server file written into a desktop host's configuration,
and the servers the hosts on this machine are configured with.

    install HOST FILE[:app]    HOST: claude-desktop, cursor, vscode or mcp-json
    discover                   every host configuration file found, and its servers

The entry written runs ``PYTHON -m mcplite serve /abs/FILE[:app]`` (the one-file copy:
``PYTHON /abs/mcplite.py serve ...``): a host starts it without our shell, environment or
working directory, so every path is absolute, and ``PYTHONPATH`` is added to the entry when
that Python would not import this mcplite by itself (checked by running it).

Writing a host's file is careful: a file that is not JSON is refused and left as it is; an
existing file is copied to ``FILE.YYYYMMDD-HHMMSS.bak`` first and replaced atomically (a
temporary file, then ``os.replace``), keeping every key but the one entry; the same entry
again changes nothing; another entry of that name is replaced only with ``--force``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

from .cli import _FILE_TARGET, CLI_EXIT_CONNECTION, CLI_EXIT_FAILED, CLI_EXIT_OK, CLI_EXIT_USAGE, CliFailure
from .hostconfig import _uncomment

INSTALL_HOSTS = ("claude-desktop", "cursor", "vscode", "mcp-json")
# How long the entry's check start may take to exit once its input is closed (an import that
# reaches the network, a slow disk): past it, it started, which is what is checked.
_IC_START_TIMEOUT = 30.0
_HOST_NAMES = {"claude-desktop": "Claude Desktop", "cursor": "Cursor", "vscode": "VS Code",
                  "mcp-json": "the host"}


def add_install_commands(commands: Any, common: Any) -> None:
    """Add ``install`` and ``discover``."""
    import argparse

    install = commands.add_parser(
        "install", help="write a server file into a host's MCP configuration (claude-desktop, cursor, vscode, "
                        "mcp-json)",
        description="Add an entry running FILE (python -m mcplite serve /abs/FILE[:app]) to the host's "
                    "configuration file: claude-desktop (claude_desktop_config.json), cursor (~/.cursor/mcp.json), "
                    "vscode (.vscode/mcp.json in this directory, the workspace; --user: the user profile's "
                    "mcp.json), mcp-json (the file given with --config, in the mcpServers form). The existing "
                    "file is backed up (FILE.YYYYMMDD-HHMMSS.bak) and replaced atomically; every other key is kept. "
                    "Restart the host, or reload its MCP servers, afterwards.")
    install.add_argument("host", metavar="HOST", choices=INSTALL_HOSTS,
                         help="claude-desktop, cursor, vscode or mcp-json")
    install.add_argument("file", metavar="FILE[:app]", help="a Python file defining a Server")
    install.add_argument("--name", help="the server's name in the host (default: the file's name without .py)")
    install.add_argument("--config", metavar="PATH", help="the configuration file to write (default: the host's)")
    install.add_argument("--user", action="store_true",
                         help="vscode: the user profile's mcp.json instead of the workspace's .vscode/mcp.json")
    install.add_argument("--env", dest="env", action="append", metavar="KEY=VALUE", default=[],
                         help="an environment variable for the server (repeatable)")
    install.add_argument("--python", metavar="PATH", default=None,
                         help="the Python the host runs the server with (default: this one, %s)"
                              % sys.executable.replace("%", "%%"))
    install.add_argument("--force", action="store_true", help="replace an entry of the same name")
    install.add_argument("--dry-run", dest="dry_run", action="store_true",
                         help="print the file that would be written, and write nothing")
    install.set_defaults(run=_ic_install)

    discover = commands.add_parser(
        "discover", help="list the MCP servers the hosts on this machine are configured with",
        description="Look for the configuration files of Claude Desktop, Cursor (~/.cursor/mcp.json and "
                    ".cursor/mcp.json here), VS Code (.vscode/mcp.json here, the user profile's mcp.json) and "
                    ".mcp.json here, and list each server: its name and command line, or URL. Environment "
                    "values are never shown (they often hold keys), only their names.")
    discover.add_argument("--json", dest="json", action="store_true", default=argparse.SUPPRESS,
                          help="output: a JSON list of {host, file, name, type, command, args, url, env} "
                               "(env: the variables' names)")
    discover.set_defaults(run=_ic_discover)


# --- where the hosts keep their configuration ------------------------------------------------------

def _app_data(platform: str) -> str:
    """Where desktop applications keep their settings: ~/Library/Application Support (macOS),
    %APPDATA% (Windows), $XDG_CONFIG_HOME or ~/.config (elsewhere)."""
    home = os.path.expanduser("~")
    if platform == "darwin":
        return os.path.join(home, "Library", "Application Support")
    if platform.startswith("win"):
        return os.environ.get("APPDATA") or os.path.join(home, "AppData", "Roaming")
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    return base if os.path.isabs(base) else os.path.join(home, ".config")


def install_config_path(host: str, user: bool = False, platform: Optional[str] = None) -> Optional[str]:
    """The file ``host`` reads its servers from (None for mcp-json, which has no home).
    ``user``: VS Code's user profile rather than the workspace (the current directory)."""
    platform = platform or sys.platform
    if host == "claude-desktop":
        return os.path.join(_app_data(platform), "Claude", "claude_desktop_config.json")
    if host == "cursor":
        return os.path.join(os.path.expanduser("~"), ".cursor", "mcp.json")
    if host == "vscode":
        if user:
            return os.path.join(_app_data(platform), "Code", "User", "mcp.json")
        return os.path.join(os.getcwd(), ".vscode", "mcp.json")
    return None


def _servers_key(host: str) -> str:
    # VS Code's own format names the map "servers"; the others (and the portable .mcp.json)
    # "mcpServers".
    return "servers" if host == "vscode" else "mcpServers"


# --- the entry ---------------------------------------------------------------------------------------

def install_entry(host: str, file: str, python: Optional[str] = None, env: Optional[Dict[str, str]] = None,
                  check_import: bool = True) -> Dict[str, Any]:
    """The host's entry that runs server ``file`` (``path.py`` or ``path.py:app``)."""
    match = _FILE_TARGET.match(file)
    if match is None:
        raise CliFailure(CLI_EXIT_USAGE, "%s is not a Python file (FILE.py or FILE.py:app)" % file)
    path = os.path.abspath(match.group("path"))
    if not os.path.isfile(path):
        raise CliFailure(CLI_EXIT_FAILED, "no such file: %s" % match.group("path"))
    target = path + (":" + match.group("attr") if match.group("attr") else "")
    python = python or sys.executable
    if not python:
        raise CliFailure(CLI_EXIT_USAGE, "no Python to run the server with: give --python PATH")
    if os.sep in python or (os.altsep and os.altsep in python):
        python = os.path.abspath(python)  # (a bare "python3" stays as it is: the host looks it up)
    env = dict(env or {})
    if "_VENDORED_MODULES" in globals():  # the one-file copy: it runs as a script, and finds itself
        args = [os.path.abspath(__file__), "serve", target]
    else:
        package_dir = os.path.dirname(os.path.abspath(__file__))
        package = __name__.rpartition(".")[0]
        args = ["-m", package, "serve", target]
        if check_import and "PYTHONPATH" not in env:
            root = package_dir
            for _ in package.split("."):
                root = os.path.dirname(root)
            if not _imports_us(python, package, package_dir):
                env["PYTHONPATH"] = root
    entry = {}  # type: Dict[str, Any]
    if host == "vscode":
        entry["type"] = "stdio"  # VS Code's format wants it
    entry["command"] = python
    entry["args"] = args
    if env:
        entry["env"] = env
    return entry


def _imports_us(python: str, package: str, package_dir: str) -> bool:
    """Whether ``python``, started as a host starts it (no PYTHONPATH, elsewhere), imports
    this very package. CliFailure if it does not run at all."""
    import subprocess

    code = ("import importlib.util, sys; spec = importlib.util.find_spec(sys.argv[1]); "
            "print(spec.origin if spec and spec.origin else '')")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    try:
        done = subprocess.run([python, "-c", code, package], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=env, cwd=os.path.abspath(os.sep), timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CliFailure(CLI_EXIT_FAILED, "cannot run the Python %s: %s" % (python, exc))
    if done.returncode != 0:
        raise CliFailure(CLI_EXIT_FAILED, "the Python %s failed (status %d): is it a Python 3?"
                         % (python, done.returncode))
    origin = done.stdout.decode("utf-8", "replace").strip()
    return bool(origin) and os.path.realpath(os.path.dirname(origin)) == os.path.realpath(package_dir)


def _check_starts(entry: Dict[str, Any]) -> None:
    """Start ``entry`` as the host will (from elsewhere, without PYTHONPATH, stdin closed at
    once, so a server that starts exits at once): CliFailure, and nothing written, when it
    fails. Else the host would find a file without a Server, with several, or one failing at
    import only after a restart, and say so in its own logs at best."""
    import subprocess

    from .processes import stop_process

    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    env.update(entry.get("env") or {})
    argv = [entry["command"]] + list(entry["args"])
    try:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 env=env, cwd=os.path.abspath(os.sep), start_new_session=os.name == "posix")
    except OSError as exc:
        raise CliFailure(CLI_EXIT_CONNECTION, "cannot run %s: %s (nothing written)" % (argv[0], exc.strerror or exc))
    try:
        _, err = child.communicate(timeout=_IC_START_TIMEOUT)
    except subprocess.TimeoutExpired:
        # (a server that ignores the end of its input: it started, which is what is checked;
        # stopped as every child is, its whole group)
        stop_process(child, 0.0, group=True, signal_wait=0.5)
        child.communicate()
        return
    if child.returncode == 0:
        return
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    reason = lines[-1] if lines else "it exited with status %d" % child.returncode
    if ": error: " in reason:  # (serve's own "PROG serve: error: ..." line)
        reason = reason.split(": error: ", 1)[1]
    raise CliFailure(CLI_EXIT_CONNECTION, "the host could not start this server: %s (nothing written)" % reason)


def _ic_env(pairs: List[str]) -> Dict[str, str]:
    env = {}  # type: Dict[str, str]
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliFailure(CLI_EXIT_USAGE, "--env takes KEY=VALUE, not %r" % pair)
        env[key.strip()] = value
    return env


# --- reading and writing a host's file -------------------------------------------------------------

def _ic_load(path: str) -> Dict[str, Any]:
    """The JSON object in ``path`` ({} if there is no file, or only whitespace in it)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CliFailure(CLI_EXIT_FAILED, "cannot read %s: %s" % (path, exc.strerror or exc))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliFailure(CLI_EXIT_FAILED, "%s is not UTF-8 text: left as it is" % path)
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CliFailure(CLI_EXIT_FAILED, "%s is not valid JSON (%s; comments or trailing commas?): left as it "
                                          "is; fix it, or add the entry by hand (--dry-run prints it)" % (path, exc))
    if not isinstance(value, dict):
        raise CliFailure(CLI_EXIT_FAILED, "%s holds a JSON %s, not an object: left as it is"
                         % (path, type(value).__name__))
    return value


def _ic_write(path: str, text: str) -> Optional[str]:
    """Write ``text`` to ``path`` atomically, after copying what was there to a timestamped
    ``.bak`` beside it; the backup's path (None if there was no file)."""
    import shutil
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    backup = None
    mode = None
    if os.path.exists(path):
        mode = os.stat(path).st_mode & 0o7777
        stamp = _ic_timestamp()
        backup = "%s.%s.bak" % (path, stamp)
        count = 1
        while os.path.exists(backup):  # (two runs within a second)
            count += 1
            backup = "%s.%s-%d.bak" % (path, stamp, count)
        shutil.copy2(path, backup)
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(temporary, mode)  # the host's file keeps its permissions (it may hold keys)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    return backup


def _ic_timestamp() -> str:
    import time
    return time.strftime("%Y%m%d-%H%M%S")


def _ic_install(args: Any) -> int:
    host = args.host
    if args.user and host != "vscode":
        raise CliFailure(CLI_EXIT_USAGE, "--user is for vscode")
    path = args.config or install_config_path(host, user=args.user)
    if path is None and not args.dry_run:
        raise CliFailure(CLI_EXIT_USAGE, "mcp-json writes the file given with --config PATH (--dry-run prints it)")
    if path is not None:
        path = os.path.abspath(os.path.expanduser(path))
        if os.path.isdir(path):
            raise CliFailure(CLI_EXIT_USAGE, "%s is a directory, not a configuration file" % path)
        directory = os.path.dirname(path)
        if not args.config and host in ("claude-desktop", "cursor") and not os.path.isdir(directory) \
                and not args.dry_run:
            raise CliFailure(CLI_EXIT_FAILED, "%s does not seem to be installed here (no %s): --config PATH "
                                              "writes the file anyway" % (_HOST_NAMES[host], directory))
    entry = install_entry(host, args.file, args.python, _ic_env(args.env))
    _check_starts(entry)
    name = args.name if args.name is not None else os.path.splitext(os.path.basename(
        _FILE_TARGET.match(args.file).group("path")))[0]  # type: ignore[union-attr]
    if not name.strip():
        raise CliFailure(CLI_EXIT_USAGE, "--name is empty")
    data = _ic_load(path) if path is not None else {}
    key = _servers_key(host)
    servers = data.get(key)
    if servers is None:
        servers = data[key] = {}
    if not isinstance(servers, dict):
        raise CliFailure(CLI_EXIT_FAILED, "%s: %r is a JSON %s, not an object: left as it is"
                         % (path, key, type(servers).__name__))
    existing = servers.get(name)
    unchanged = existing == entry
    if existing is not None and not unchanged and not args.force:
        raise CliFailure(CLI_EXIT_FAILED, "%s already has a server named %r (%s): --force replaces it, --name "
                                          "gives this one another name" % (path, name, _ic_describe(existing)))
    servers[name] = entry
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if args.dry_run:
        sys.stdout.write(text)
        sys.stdout.flush()
        if path is not None:
            sys.stderr.write("(dry run: %s %s)\n" % ("would leave unchanged" if unchanged else "would write", path))
        return CLI_EXIT_OK
    assert path is not None
    if unchanged:
        print("%s already has server %r as given: unchanged" % (path, name))
        return CLI_EXIT_OK
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    try:
        backup = _ic_write(path, text)
    except OSError as exc:
        raise CliFailure(CLI_EXIT_FAILED, "cannot write %s: %s" % (path, exc.strerror or exc))
    print("%s server %r in %s%s" % ("replaced" if existing is not None else "added", name, path,
                                   " (the previous file: %s)" % backup if backup else ""))
    print("restart %s, or reload its MCP servers, to start it" % _HOST_NAMES[host])
    return CLI_EXIT_OK


# --- discover ---------------------------------------------------------------------------------------

def install_known_files() -> List[Tuple[str, str]]:
    """(host, path) of every configuration file the hosts may read here, existing or not:
    the user's, then the current directory's (a project or workspace)."""
    here = os.getcwd()
    found = [
        ("claude-desktop", install_config_path("claude-desktop")),
        ("cursor", install_config_path("cursor")),
        ("cursor", os.path.join(here, ".cursor", "mcp.json")),
        ("vscode", install_config_path("vscode", user=True)),
        ("vscode", install_config_path("vscode")),
        ("mcp-json", os.path.join(here, ".mcp.json")),  # the portable project file (mcpServers)
    ]
    seen = set()
    unique = []  # type: List[Tuple[str, str]]
    for host, path in found:
        assert path is not None
        real = os.path.realpath(path)
        if real not in seen:  # (the project's file is the user's when here is home)
            seen.add(real)
            unique.append((host, path))
    return unique


def install_discover() -> List[Dict[str, Any]]:
    """The servers of every host configuration file found: one dict per server (host,
    file, name, type, command, args, url, env: the names only), or per unreadable file
    (host, file, error)."""
    rows = []  # type: List[Dict[str, Any]]
    for host, path in install_known_files():
        if not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8-sig")
            try:
                data = json.loads(text)
            except ValueError:
                # JSONC (comments, trailing commas), as VS Code writes it: read, as a host
                # reads it (never written back: install refuses a file with comments).
                data = json.loads(_uncomment(text, path))
        except (OSError, ValueError) as exc:
            rows.append({"host": host, "file": path, "error": "cannot read it: %s" % exc})
            continue
        if not isinstance(data, dict):
            rows.append({"host": host, "file": path, "error": "not a JSON object"})
            continue
        for key in ("servers", "mcpServers"):
            servers = data.get(key)
            if not isinstance(servers, dict):
                continue
            for name, entry in servers.items():
                entry = entry if isinstance(entry, dict) else {}
                env = entry.get("env")
                rows.append({
                    "host": host, "file": path, "name": name,
                    "type": entry.get("type") or ("stdio" if "command" in entry else "http" if "url" in entry
                                                  else None),
                    "command": entry.get("command"),
                    "args": entry.get("args") if isinstance(entry.get("args"), list) else [],
                    "url": entry.get("url") or entry.get("serverUrl"),
                    "env": sorted(env) if isinstance(env, dict) else [],
                })
    return rows


def _ic_describe(entry: Any) -> str:
    """An entry's command line, or its URL, on one line."""
    if not isinstance(entry, dict):
        return "not an object"
    if entry.get("command") is not None:
        import shlex
        parts = [entry.get("command")] + list(entry.get("args") or [])
        return " ".join(shlex.quote(str(part)) for part in parts)
    if entry.get("url") or entry.get("serverUrl"):
        return str(entry.get("url") or entry.get("serverUrl"))
    return "no command or url"


def _ic_discover(args: Any) -> int:
    rows = install_discover()
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return CLI_EXIT_OK
    if not rows:
        sys.stderr.write("no host configuration with servers found; looked at:\n%s\n" % "\n".join(
            "  %s  %s" % (host, path) for host, path in install_known_files()))
        return CLI_EXIT_OK
    current = None
    for row in rows:
        if (row["host"], row["file"]) != current:
            current = (row["host"], row["file"])
            print("%s  %s" % current)
        if "error" in row:
            print("  (%s)" % row["error"])
            continue
        what = _ic_describe({"command": row["command"], "args": row["args"], "url": row["url"]})
        env = "  [env: %s]" % ", ".join(row["env"]) if row["env"] else ""
        print("  %s  %s%s" % (row["name"], what, env))
    return CLI_EXIT_OK
