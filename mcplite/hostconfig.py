"""The configuration of a ``Host``: the ``mcpServers`` JSON that desktop hosts use (Claude
Desktop, Cursor, Claude Code), or VS Code's ``servers``, read into ``ServerConfig`` objects.

    {"mcpServers": {
        "notes": {"command": "python3", "args": ["notes.py"], "env": {"TOKEN": "${NOTES_TOKEN}"},
                  "timeout": 20, "tools": {"export": {"timeout": 120}}, "deny": ["delete_*"]},
        "web": {"type": "http", "url": "https://example.com/mcp",
                "headers": {"Authorization": "Bearer ${env:WEB_TOKEN}"}},
        "old": {"command": "old-server", "disabled": true}}}

Keys of a server: ``command``, ``args``, ``env``, ``cwd`` (a process on stdio) or ``url``,
``headers`` (Streamable HTTP, falling back to the older HTTP+SSE by itself), ``type``
("stdio", "http", "sse"; optional), ``disabled``, and mcplite's own: ``timeout`` (seconds, the
default of every call to it), ``tools`` (per tool: ``{"timeout": seconds}``), ``allow`` and
``deny`` (tool names or ``fnmatch`` patterns such as ``"read_*"``: only the allowed tools are
offered, never the denied ones; deny wins).

``${VAR}``, ``${env:VAR}`` (VS Code's spelling) and ``${VAR:-default}`` in ``command``,
``args``, ``env``, ``cwd``, ``url`` and ``headers`` come from the environment. A variable
that is not set, or a form this module does not know (VS Code's ``${input:...}``,
``${workspaceFolder}``), keeps that one server from starting (its ``problem``; the host
reports it among its failures), never the others. Unknown keys are named in a
``ConfigWarning`` and otherwise ignored: a key meant for another host must not stop this one,
and a typo must not pass unseen.

A file may be JSONC, as VS Code writes ``mcp.json``: ``//`` and ``/* */`` comments and
trailing commas are read past; and a UTF-8 byte order mark at its start (Windows editors) too.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from typing import Any, Dict, List, Mapping, Optional

# The keys each level knows; anything else is named in a warning.
_TOP_KEYS = ("mcpServers", "servers")
_SERVER_KEYS = frozenset(("command", "args", "env", "cwd", "url", "headers", "type", "disabled", "timeout",
                              "tools", "allow", "deny"))
_TOOL_KEYS = frozenset(("timeout",))
# "type" values seen in the wild, and the transport each means.
_CFG_TYPES = {"stdio": "stdio", "http": "http", "streamable-http": "http", "streamableHttp": "http",
              "sse": "http"}
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_PLAIN_VARIABLE = re.compile(r"(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?\Z", re.S)
# A timeout beyond an hour is almost surely milliseconds written where seconds were meant.
_LONG_TIMEOUT = 3600.0


class ConfigWarning(UserWarning):
    """Something in a host configuration was ignored (an unknown key, say): named here."""


class ServerConfig:
    """One server of the configuration, its variables expanded.

    ``transport`` is "stdio" (``command``, ``args``, ``env``, ``cwd``) or "http" (``url``,
    ``headers``). ``timeout`` is the default for calls to it (None: the host's),
    ``tool_timeouts`` maps a tool name to its own; ``allow`` (None: every tool) and ``deny``
    are lists of names or patterns. ``problem`` says why it cannot start (a missing
    variable, a malformed entry), None when it can."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.transport = "stdio"
        self.command = None  # type: Optional[str]
        self.args = []  # type: List[str]
        self.env = None  # type: Optional[Dict[str, str]]
        self.cwd = None  # type: Optional[str]
        self.url = None  # type: Optional[str]
        self.headers = None  # type: Optional[Dict[str, str]]
        self.timeout = None  # type: Optional[float]
        self.tool_timeouts = {}  # type: Dict[str, float]
        self.allow = None  # type: Optional[List[str]]
        self.deny = []  # type: List[str]
        self.problem = None  # type: Optional[str]

    @property
    def argv(self) -> List[str]:
        return [self.command or ""] + list(self.args)

    def __repr__(self) -> str:
        where = self.url if self.transport == "http" else " ".join(self.argv)
        return "ServerConfig(%r, %s: %s)" % (self.name, self.transport, where)


class HostConfig:
    """A whole configuration: ``servers`` (``ServerConfig``, in the file's order, without the
    disabled ones), ``disabled`` (their names), ``warnings`` (each also issued as a
    ``ConfigWarning``) and ``source`` (the file's path, when it came from one)."""

    def __init__(self, servers: List[ServerConfig], disabled: List[str], warnings_: List[str],
                 source: Optional[str]) -> None:
        self.servers = servers
        self.disabled = disabled
        self.warnings = warnings_
        self.source = source


def load_config(config: Any, environ: Optional[Mapping[str, str]] = None, stacklevel: int = 1) -> HostConfig:
    """Read ``config``: a dict, or the path of a JSON file, in the ``mcpServers`` (or VS
    Code ``servers``) form; the file may be JSONC (comments, trailing commas) and start with
    a UTF-8 byte order mark. ``environ`` (default ``os.environ``) expands the variables.
    Raises ``ValueError`` when the whole is unusable (not JSON, not an object, no server
    table); a single bad server only gets a ``problem``. ``stacklevel``: how many callers up
    the warnings point (1: the caller of this function)."""
    source = None  # type: Optional[str]
    if isinstance(config, (str, os.PathLike)):
        source = os.fspath(config)
        try:
            # (utf-8-sig: a file saved by a Windows editor may start with a byte order mark,
            # which json.loads refuses.)
            with open(source, encoding="utf-8-sig") as f:
                text = f.read()
        except OSError as exc:
            raise ValueError("cannot read the host configuration %s: %s" % (source, exc))
        except UnicodeDecodeError as exc:
            raise ValueError("the host configuration %s is not UTF-8 text (%s)" % (source, exc))
        try:
            config = json.loads(_uncomment(text, source))
        except json.JSONDecodeError as exc:
            raise ValueError("the host configuration %s is not JSON (line %d column %d: %s)"
                             % (source, exc.lineno, exc.colno, exc.msg))
    where = source or "the host configuration"
    if not isinstance(config, dict):
        raise ValueError("%s must be a JSON object with \"mcpServers\" (or VS Code's \"servers\")" % where)
    env = os.environ if environ is None else environ
    notes = []  # type: List[str]
    present = [key for key in _TOP_KEYS if key in config]
    if not present:
        raise ValueError("%s has no \"mcpServers\" object (nor VS Code's \"servers\")" % where)
    if len(present) > 1:
        notes.append("%s has both \"mcpServers\" and \"servers\": both are read" % where)
    unknown = sorted(key for key in config if key not in _TOP_KEYS)
    if unknown:
        notes.append("%s: unknown top-level keys ignored: %s" % (where, ", ".join(unknown)))
    servers = []  # type: List[ServerConfig]
    disabled = []  # type: List[str]
    seen = set()  # type: set
    for key in present:
        table = config[key]
        if not isinstance(table, dict):
            raise ValueError("%s: \"%s\" must be an object of servers by name" % (where, key))
        for name, entry in table.items():
            if name in seen:
                notes.append("%s: server %r is named twice; the second is ignored" % (where, name))
                continue
            seen.add(name)
            if isinstance(entry, dict) and entry.get("disabled") is True:
                disabled.append(name)
                continue
            servers.append(_cfg_server(name, entry, env, notes))
    for note in notes:
        warnings.warn(note, ConfigWarning, stacklevel=stacklevel + 1)
    return HostConfig(servers, disabled, notes, source)


def _uncomment(text: str, source: str) -> str:
    """``text`` with what JSONC adds to JSON made blank: comments (``//`` to the end of the
    line, ``/* */``) and trailing commas (before ``}`` or ``]``), outside strings. VS Code's
    ``mcp.json`` is JSONC, and its editor writes both. Every character replaced is replaced
    by a space, newlines kept, so the line and column of a JSON error are the file's.
    Plain JSON comes back unchanged (outside strings, it has neither ``/`` nor such commas)."""
    chars = list(text)
    size = len(text)
    comma = -1  # the last comma outside strings, until something other than a blank follows it
    at = 0
    while at < size:
        char = text[at]
        if char == '"':
            # A string, to its closing quote: a backslash escapes the character after it (\"
            # does not end it), and "//" or "/*" in it (a URL) is its text, not a comment.
            end = at + 1
            while end < size and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            at = end + 1  # (never closed: json.loads says where)
            comma = -1
            continue
        if char == "/" and text.startswith("//", at):
            end = text.find("\n", at)
            end = size if end < 0 else end
        elif char == "/" and text.startswith("/*", at):
            end = text.find("*/", at + 2)
            if end < 0:
                raise ValueError("the host configuration %s is not JSON (line %d: a /* comment is never closed by */)"
                                 % (source, text.count("\n", 0, at) + 1))
            end += 2
        else:
            if char == ",":
                comma = at
            elif char in "}]":
                if comma >= 0:
                    chars[comma] = " "
                comma = -1
            elif char not in " \t\r\n":
                comma = -1
            at += 1
            continue
        for index in range(at, end):  # a comment: blank, but its newlines kept
            if chars[index] not in "\r\n":
                chars[index] = " "
        at = end
    return "".join(chars)


def _cfg_server(name: str, entry: Any, env: Mapping[str, str], notes: List[str]) -> ServerConfig:
    server = ServerConfig(name)
    if not isinstance(name, str) or not name:
        server.problem = "a server needs a non-empty name"
        return server
    if not isinstance(entry, dict):
        server.problem = "its entry is not an object"
        return server
    unknown = sorted(key for key in entry if key not in _SERVER_KEYS)
    if unknown:
        notes.append("server %r: unknown keys ignored: %s" % (name, ", ".join(unknown)))
    try:
        _fill(server, entry, env, notes)
    except _CfgProblem as problem:
        server.problem = str(problem)
    return server


class _CfgProblem(Exception):
    """Why one server of the configuration cannot start."""


def _fill(server: ServerConfig, entry: Dict[str, Any], env: Mapping[str, str], notes: List[str]) -> None:
    kind = entry.get("type")
    if kind is not None and kind not in _CFG_TYPES:
        raise _CfgProblem("unknown \"type\" %r (use \"stdio\", \"http\" or \"sse\")" % (kind,))
    has_command, has_url = "command" in entry, "url" in entry
    if has_command and has_url:
        raise _CfgProblem("it has both \"command\" and \"url\"; give one")
    if not has_command and not has_url:
        raise _CfgProblem("it has neither \"command\" (a process on stdio) nor \"url\" (HTTP)")
    transport = _CFG_TYPES[kind] if kind is not None else ("http" if has_url else "stdio")
    if (transport == "http") != has_url:
        raise _CfgProblem("\"type\": %r needs %s" % (kind, "\"url\"" if transport == "http" else "\"command\""))
    server.transport = transport
    if transport == "stdio":
        server.command = _cfg_expand(_string(entry, "command"), env)
        if not server.command:
            raise _CfgProblem("\"command\" is empty")
        args = entry.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
            raise _CfgProblem("\"args\" must be a list of strings")
        server.args = [_cfg_expand(str(a), env) for a in args]
        server.env = _string_map(entry, "env", env)
        if "cwd" in entry:
            server.cwd = _cfg_expand(_string(entry, "cwd"), env)
        for key in ("url", "headers"):
            if key in entry:
                notes.append("server %r: %r is for HTTP servers; ignored" % (server.name, key))
    else:
        server.url = _cfg_expand(_string(entry, "url"), env)
        if not server.url.startswith(("http://", "https://")):
            raise _CfgProblem("\"url\" must start with http:// or https:// (got %r)" % server.url)
        server.headers = _string_map(entry, "headers", env)
        for key in ("args", "env", "cwd"):
            if key in entry:
                notes.append("server %r: %r is for stdio servers; ignored" % (server.name, key))
    server.timeout = _cfg_timeout(entry, "server %r" % server.name, notes)
    tools = entry.get("tools", {})
    if not isinstance(tools, dict):
        raise _CfgProblem("\"tools\" must be an object: tool name -> {\"timeout\": seconds}")
    for tool, options in tools.items():
        if not isinstance(options, dict):
            raise _CfgProblem("\"tools\": %r must be an object such as {\"timeout\": 60}" % tool)
        unknown = sorted(key for key in options if key not in _TOOL_KEYS)
        if unknown:
            notes.append("server %r, tool %r: unknown keys ignored: %s" % (server.name, tool, ", ".join(unknown)))
        timeout = _cfg_timeout(options, "server %r, tool %r" % (server.name, tool), notes)
        if timeout is not None:
            server.tool_timeouts[tool] = timeout
    if "allow" in entry:
        server.allow = _cfg_names(entry, "allow")
    if "deny" in entry:
        server.deny = _cfg_names(entry, "deny")


def _string(entry: Dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise _CfgProblem("%r must be a string" % key)
    return value


def _string_map(entry: Dict[str, Any], key: str, env: Mapping[str, str]) -> Optional[Dict[str, str]]:
    if key not in entry or entry[key] is None:
        return None
    value = entry[key]
    if not isinstance(value, dict) or not all(isinstance(v, (str, int, float, bool)) for v in value.values()):
        raise _CfgProblem("%r must be an object of strings" % key)
    return {str(k): _cfg_expand(v if isinstance(v, str) else json.dumps(v), env) for k, v in value.items()}


def _cfg_names(entry: Dict[str, Any], key: str) -> List[str]:
    value = entry[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _CfgProblem("%r must be a list of tool names or patterns" % key)
    return list(value)


def _cfg_timeout(entry: Dict[str, Any], what: str, notes: List[str]) -> Optional[float]:
    if "timeout" not in entry or entry["timeout"] is None:
        return None
    value = entry["timeout"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise _CfgProblem("%s: \"timeout\" must be a number of seconds above 0 (got %r)" % (what, value))
    if value > _LONG_TIMEOUT:
        notes.append("%s: \"timeout\" is %r seconds (over an hour); it is in seconds, not milliseconds"
                     % (what, value))
    return float(value)


def _cfg_expand(text: str, env: Mapping[str, str]) -> str:
    """``${VAR}``, ``${env:VAR}``, ``${VAR:-default}`` replaced from ``env``."""
    def replace(match: "re.Match[str]") -> str:
        inner = match.group(1)
        plain = _PLAIN_VARIABLE.match(inner)
        if plain is None:
            raise _CfgProblem("${%s} is not supported (only ${VAR}, ${env:VAR} and ${VAR:-default})" % inner)
        name, default = plain.group(1), plain.group(2)
        value = env.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise _CfgProblem("the environment variable %s is not set" % name)
            return default
        return value
    return _VARIABLE.sub(replace, text)


def matches_any(name: str, patterns: List[str]) -> bool:
    """Whether tool ``name`` is one of ``patterns`` (names, or ``fnmatch`` patterns)."""
    from fnmatch import fnmatchcase
    return any(name == pattern or fnmatchcase(name, pattern) for pattern in patterns)


def tool_permitted(server: ServerConfig, tool: str) -> bool:
    """Whether the configuration lets ``tool`` of ``server`` be offered: allowed (no
    ``allow`` list, or on it) and not denied."""
    if server.allow is not None and not matches_any(tool, server.allow):
        return False
    return not matches_any(tool, server.deny)

