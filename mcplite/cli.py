"""The command line: ``python -m mcplite COMMAND ...`` (``python mcplite.py COMMAND ...`` with
the one-file copy, ``mcplite COMMAND ...`` once installed).

    ls TARGET                      tools, resources, templates and prompts, one line each
    call TARGET TOOL [k=v ...]     call a tool (values converted by its input schema)
    read TARGET URI                read a resource
    prompt TARGET NAME [k=v ...]   get a prompt
    raw TARGET                     send JSON-RPC typed or piped in, print what comes back
    shell TARGET                   an interactive session with the same verbs
    check TARGET                   a quick compliance probe of a server, both eras
    serve FILE[:app]               run a server file (stdio, or --http HOST:PORT)
    record OUT.jsonl -- CMD ...    a stdio proxy writing every message to OUT.jsonl
    replay FILE.jsonl              serve a recording as a fake stdio server
    diff A.jsonl B.jsonl           compare two recordings
    vendor DIR                     write DIR/mcplite.py, the package as one file
    install HOST FILE[:app]        add a server file to claude-desktop, cursor, vscode or an mcp.json
    bridge --stdio URL             a remote HTTP server for a stdio-only host (--http: the reverse)
    proxy CONFIG                   every server of an mcpServers file as one server (--http HOST:PORT)
    discover                       the servers the hosts on this machine are configured with
    inspect [TARGET]               a page in the browser: every message, call everything, answer the server
    --version                      mcplite's version and the protocol versions it speaks

A TARGET is an http(s):// URL, a server file ``path/to/server.py`` or
``path/to/server.py:app`` (run with ``serve`` in a child process, over stdio), or any
other stdio command as one argument (``"python3 server.py --db notes.db"``, split as a
shell would, but not run through one), or a host configuration file (``mcp.json``, in the
``mcpServers`` form of desktop hosts or VS Code's ``servers``) with ``--server NAME`` to pick
one of its servers (not needed when it has one); ``ls mcp.json`` lists every server's tools
under the host's names (``--tokens``: with the catalog's size).

Signing in, for HTTP targets (every command that connects: ls, call, read, prompt, raw,
shell, check): ``--oauth`` (authorization code with PKCE: the URL to open is printed on
stderr, the redirect caught on 127.0.0.1), ``--client-id ID --client-secret SECRET`` (client
credentials; the secret may come from ``MCPLITE_CLIENT_SECRET`` instead, or ``--private-key
PATH`` signs an ES256 assertion in its place), ``--assertion PATH`` (a workload's JWT is the
grant), ``--id-token PATH`` with ``--idp-token-endpoint`` and ``--idp-client-id``
(enterprise-managed: the ID token exchanged for the grant), ``--client-metadata-url URL`` (with
--oauth: a metadata document as the client id), ``--dpop`` (DPoP-bound tokens), tokens kept in
``--token-file`` (default ``$XDG_CONFIG_HOME/mcplite/tokens.json``, mode 0600) and reused by
later runs; or ``--bearer TOKEN``, a token already got. A 401 without them says which to use.

Exit status (stable, for scripts): 0 ok; 1 failed (a check found problems, recordings
differ, a command could not do its job); 2 usage (a bad command line, arguments that do
not fit the tool's schema); 3 connection (the target does not start, refuses, is not an MCP
server, or goes away); 4 protocol (the server answered with a JSON-RPC error, broke the
protocol, or did not answer in time); 5 the tool ran and its result has ``isError``. Errors
are one line on stderr, never a traceback (``MCPLITE_DEBUG=1`` shows one for a bug of ours).

Adding a command: a function ``(args) -> int`` and its sub-parser (``set_defaults(run=...)``),
here or in a module whose ``add_..._commands(commands, common)`` ``_parser`` calls.
A command raises ``CliFailure(status, message)`` to stop with one line on stderr. In the
one-file build every module-level name here shares one namespace with the rest of the
package, hence the ``cli`` prefixes.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Dict, List, Optional, Sequence
from .errors import (
    ConnectionClosed, HttpError, MCPError, RequestTimeout, TaskCancelled, TransportError, VersionMismatch,
)

CLI_EXIT_OK = 0
CLI_EXIT_FAILED = 1
CLI_EXIT_USAGE = 2  # argparse's own status for a usage error
CLI_EXIT_CONNECTION = 3
CLI_EXIT_PROTOCOL = 4
CLI_EXIT_TOOL_ERROR = 5

CLI_DEFAULT_TIMEOUT = 30.0
CLI_SECRET_VARIABLE = "MCPLITE_CLIENT_SECRET"
# The identity provider's client secret for --id-token (an environment variable only: a secret
# is kept out of the process list).
CLI_IDP_SECRET_VARIABLE = "MCPLITE_IDP_CLIENT_SECRET"
CLI_SIGN_IN_ADVICE = ("use --oauth to sign in in a browser, --client-id ID --client-secret SECRET for client "
                      "credentials, or --bearer TOKEN")
# How long a person has to sign in, in the browser (the wait for an answer, --timeout, is not
# counted while they do).
CLI_SIGN_IN_TIMEOUT = 300.0
# The token file's entry where the sign-in's redirect port is kept: the port is part of the
# redirect URI a dynamic registration names, which later runs (a refresh) must present again.
_CALLBACK_KEY = "mcplite cli callback"
# path/to/server.py or path/to/server.py:app
_FILE_TARGET = re.compile(r"^(?P<path>.+\.py)(?::(?P<attr>[A-Za-z_][A-Za-z0-9_]*))?$")


class CliFailure(Exception):
    """Stops a command: ``message`` is printed as one line on stderr, ``status`` is the
    process's exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def cli_main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args, extras = parser.parse_known_args(_rewrite_trace(argv))
        if extras:
            # Options may come between key=value pairs (`call T add a=1 --timeout 5 b=2`):
            # argparse stops a list at an option and leaves what follows it here.
            listed = {"call": "pairs", "prompt": "pairs", "raw": "messages"}.get(getattr(args, "command", None))
            if listed is None or any(extra.startswith("-") and extra != "-" for extra in extras):
                parser.error("unrecognized arguments: %s" % " ".join(extras))
            getattr(args, listed).extend(extras)
    except SystemExit as exc:  # argparse has printed the usage and the problem (or the help)
        return exc.code if isinstance(exc.code, int) else CLI_EXIT_USAGE
    if sys.stdout is None:  # started with stdout closed: nowhere to answer
        cli_error(getattr(args, "command", None), "stdout is closed")
        return CLI_EXIT_FAILED
    if getattr(args, "run", None) is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write("%s: error: a command is needed (see --help)\n" % parser.prog)
        return CLI_EXIT_USAGE
    for stream in (sys.stdout, sys.stderr):
        try:  # a terminal that cannot show a character gets an escape, not a crash
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    try:
        cli_config_target(args)
        return args.run(args)
    except CliFailure as failure:
        cli_error(args.command, failure.message)
        return failure.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; nothing more to say
        try:
            sys.stdout = open(os.devnull, "w")  # (so that the exit's flush cannot fail again)
        except OSError:
            pass
        return CLI_EXIT_OK
    except OSError as exc:  # writing the output (a full disk), reading a file
        cli_error(args.command, "input/output error: %s" % (exc,))
        return CLI_EXIT_FAILED
    except Exception as exc:  # a bug of ours: one line unless asked for the traceback
        if os.environ.get("MCPLITE_DEBUG"):
            raise
        cli_error(args.command, "internal error: %s: %s (MCPLITE_DEBUG=1 shows the traceback)"
                  % (type(exc).__name__, exc))
        return CLI_EXIT_FAILED


def _rewrite_trace(argv: List[str]) -> List[str]:
    """``--trace=explain`` as its own flag: an optional value on ``--trace`` would swallow
    the target that follows it (``--trace python3 server.py``). Nothing after ``--`` is
    touched. (``--json`` is the output flag only; a tool's arguments as JSON are
    ``--arguments '{...}'``, and a stray ``'{...}'`` is answered with that hint.)"""
    out = []  # type: List[str]
    for index, arg in enumerate(argv):
        if arg == "--":
            return out + argv[index:]
        out.append({"--trace=explain": "--trace-explain", "--trace=on": "--trace"}.get(arg, arg))
    return out


def cli_seconds(text: str) -> float:
    """An argparse type: a positive number of seconds, at most a million (a wait needs a
    bound the clock can add: nan and inf are not numbers of seconds)."""
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text)
    if not 0 < value <= 1e6:
        raise argparse.ArgumentTypeError("must be a positive number of seconds (at most 1000000), not %r" % text)
    return value


# --- the parser -------------------------------------------------------------------------------

def _common_options(parser: Any, suppress: bool) -> None:
    """Options every command that talks to a server takes, before or after its name.
    ``suppress``: a sub-parser's copy, which must not overwrite what was given before the
    command name with its defaults."""
    import argparse

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("connection and output")
    group.add_argument("--trace", dest="trace", action="store_const", const="on", default=default(None),
                       help="show every message on stderr as it crosses (--trace=explain: with a note on each)")
    group.add_argument("--trace-explain", dest="trace", action="store_const", const="explain",
                       default=default(None), help=argparse.SUPPRESS)
    group.add_argument("--json", dest="json", action="store_true", default=default(False),
                       help="output: print the results as the server sent them (JSON), nothing else "
                            "(the arguments of call and prompt as JSON go in --arguments)")
    group.add_argument("--timeout", dest="timeout", type=cli_seconds, metavar="SECONDS",
                       default=default(CLI_DEFAULT_TIMEOUT),
                       help="wait at most this long for each answer (default %g)" % CLI_DEFAULT_TIMEOUT)
    group.add_argument("--era", dest="era", choices=("auto", "modern", "legacy"), default=default("auto"),
                       help="protocol era: probe (auto, the default), 2026-07-28 (modern) or initialize (legacy)")
    group.add_argument("--protocol-version", dest="protocol_version", metavar="VERSION", default=default(None),
                       help="ask for exactly this protocol version")
    group.add_argument("-H", "--header", dest="headers", action="append", metavar="'NAME: VALUE'",
                       default=default([]), help="an HTTP header for every request (repeatable)")
    group.add_argument("--server", dest="config_server", metavar="NAME", default=default(None),
                       help="with a configuration file (mcp.json) as TARGET: the server of it to talk to")
    group.add_argument("--server-stderr", dest="server_stderr", action="store_true", default=default(False),
                       help="pass a stdio server's stderr through (default: shown only when it fails)")
    auth = parser.add_argument_group("signing in (HTTP targets)")
    auth.add_argument("--oauth", dest="oauth", action="store_true", default=default(False),
                      help="sign in in a browser when the server asks (OAuth authorization code with PKCE: "
                           "the URL to open is printed on stderr); the tokens are kept in --token-file")
    auth.add_argument("--client-id", dest="client_id", metavar="ID", default=default(None),
                      help="a registered client: with --client-secret, the client credentials grant (no "
                           "person); with --oauth, the client that signs in")
    auth.add_argument("--client-secret", dest="client_secret", metavar="SECRET", default=default(None),
                      help="the client's secret (or the environment's %s, kept out of the process list)"
                           % CLI_SECRET_VARIABLE)
    auth.add_argument("--token-file", dest="token_file", metavar="PATH", default=default(None),
                      help="where tokens are kept between runs, mode 0600 (default %s)"
                           % cli_token_file(shown=True).replace("%", "%%"))
    auth.add_argument("--bearer", dest="bearer", metavar="TOKEN", default=default(None),
                      help="send this access token (Authorization: Bearer TOKEN)")
    auth.add_argument("--client-metadata-url", dest="client_metadata_url", metavar="URL", default=default(None),
                      help="with --oauth: the https URL of this client's metadata document, its client id where "
                           "the authorization server takes those (else a dynamic registration)")
    auth.add_argument("--private-key", dest="private_key", metavar="PATH", default=default(None),
                      help="with --client-id: the client's P-256 private key (PEM file), which signs an ES256 "
                           "assertion (private_key_jwt) for each token request instead of a secret")
    auth.add_argument("--assertion", dest="assertion", metavar="PATH", default=default(None),
                      help="a workload's identity: the JWT in PATH (read again for each token request) is the "
                           "grant (RFC 7523 JWT bearer), no person signs in")
    auth.add_argument("--id-token", dest="id_token", metavar="PATH", default=default(None),
                      help="enterprise-managed sign-in: the OpenID Connect ID token in PATH (read again for each "
                           "token request) is exchanged at --idp-token-endpoint for the grant; with --client-id")
    auth.add_argument("--idp-token-endpoint", dest="idp_token_endpoint", metavar="URL", default=default(None),
                      help="with --id-token: the identity provider's token endpoint")
    auth.add_argument("--idp-client-id", dest="idp_client_id", metavar="ID", default=default(None),
                      help="with --id-token: this client's id at the identity provider (with %s for its "
                           "secret, if it has one)" % CLI_IDP_SECRET_VARIABLE)
    auth.add_argument("--dpop", dest="dpop", action="store_true", default=default(False),
                      help="ask for DPoP-bound tokens (RFC 9449) where the authorization server offers them; "
                           "the key is kept with the tokens in --token-file")


def _parser() -> Any:
    import argparse  # only the command line pays for argparse

    parser = argparse.ArgumentParser(
        prog=cli_prog(), description="mcplite's command line: talk to any MCP server, see the wire, run a "
        "server file, record and replay sessions.",
        epilog="TARGET: an http(s):// URL, a server file (server.py or server.py:app), or a stdio command "
        "as one argument (\"python3 server.py\"). Exit status: 0 ok, 1 failed, 2 usage, 3 connection, "
        "4 protocol error, 5 the tool's result has isError.")
    class Version(argparse.Action):  # (argparse's own would rewrap the lines)
        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
            sys.stdout.write(cli_version_text() + "\n")
            parser.exit(CLI_EXIT_OK)

    parser.add_argument("--version", action=Version, nargs=0,
                        help="print mcplite's version and the protocol versions it speaks, and exit")
    _common_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, suppress=True)
    commands = parser.add_subparsers(metavar="COMMAND", title="commands", dest="command")

    vendor = commands.add_parser(
        "vendor", help="write DIR/mcplite.py, the whole package as one file",
        description="Write DIR/mcplite.py (DIR is created if missing): the package as one "
                    "self-contained module, to copy where nothing gets installed. It works "
                    "renamed, or inside another package. --parts keeps only what you need: "
                    "server,stdio for a stdio server, server,http, client...")
    vendor.add_argument("dir", metavar="DIR", help="the directory to write mcplite.py into")
    vendor.add_argument("--parts", default="all", metavar="PARTS",
                        help="comma-separated parts to hold, with the parts they need: core, server, tasks, "
                             "stores, memory, stdio, jose, http, trace, otel, skills, client, host, gateway, "
                             "cli, or all (default)")
    vendor.add_argument("--force", action="store_true",
                        help="overwrite DIR/mcplite.py even if this command did not write it")
    vendor.add_argument("--compact", action="store_true",
                        help="leave out docstrings, comments and blank lines, and indent by one space: "
                             "the same code in about 40%% fewer bytes")
    vendor.set_defaults(run=_vendor)

    serve = commands.add_parser(
        "serve", help="run a server file over stdio (or --http HOST:PORT)",
        description="Run the mcplite Server defined in FILE: the one Server at its top level, or the one "
                    "named after the colon (FILE.py:app; a function returning a Server will do too). "
                    "The file is imported, not run as a script: its `if __name__ == \"__main__\"` "
                    "block does not run.")
    serve.add_argument("file", metavar="FILE[:app]", help="a Python file defining a Server")
    serve.add_argument("--http", metavar="HOST:PORT", help="serve Streamable HTTP at http://HOST:PORT/mcp "
                       "instead of stdio (HOST defaults to 127.0.0.1)")
    cli_http_serving_options(serve, sessions=True)
    serve.add_argument("--trace", dest="trace", action="store_const", const="on", default=None,
                       help="show every message on stderr as it crosses (--trace=explain: with notes)")
    serve.add_argument("--trace-explain", dest="trace", action="store_const", const="explain",
                       help=argparse.SUPPRESS)
    serve.set_defaults(run=_serve)

    from .clientcmds import add_client_commands
    from .probe import add_probe_commands
    from .recording import add_recording_commands
    from .installcmds import add_install_commands
    from .bridge import add_bridge_commands, add_proxy_command
    from .inspector import add_inspect_command
    add_client_commands(commands, common)
    add_probe_commands(commands, common)
    add_recording_commands(commands, common)
    add_install_commands(commands, common)
    add_bridge_commands(commands, common)
    add_proxy_command(commands, common)
    add_inspect_command(commands, common)
    return parser


def cli_http_serving_options(parser: Any, scope: str = "", sessions: bool = False) -> None:
    """The options of a command that serves Streamable HTTP (serve, bridge, proxy): the
    endpoint's path and the Host and Origin names it answers to, and (``sessions``: a
    command whose sessions a Server keeps) the route token of the session ids it mints.
    ``scope`` starts each help text (``"--http: "`` where the command serves stdio otherwise)."""
    parser.add_argument("--path", default="/mcp", help="%sthe endpoint's path (default /mcp)" % scope)
    parser.add_argument("--allowed-host", dest="allowed_hosts", action="append", metavar="NAME",
                        help="%sa Host (and Origin host) the HTTP server answers to; needed to bind a "
                             "non-loopback address (repeatable)" % scope)
    parser.add_argument("--allowed-origin", dest="allowed_origins", action="append", metavar="ORIGIN",
                        help="%san Origin (https://app.example.com) whose pages may call the HTTP server "
                             "(repeatable)" % scope)
    if sessions:
        parser.add_argument("--session-prefix", default="", metavar="TOKEN",
                            help="%sstart every session id this instance mints with TOKEN (say 'a.'), for a load "
                                 "balancer that routes each session to its instance" % scope)


def cli_http_app_options(args: Any) -> Dict[str, Any]:
    """What ``cli_http_serving_options`` read, as options of ``Server.run("http")``."""
    options = {"path": args.path}  # type: Dict[str, Any]
    if args.allowed_hosts:
        options["allowed_hosts"] = args.allowed_hosts
    if args.allowed_origins:
        options["allowed_origins"] = args.allowed_origins
    if getattr(args, "session_prefix", ""):
        options["session_prefix"] = args.session_prefix
    return options


def cli_prog() -> str:
    """The program's name in messages: "python -m mcplite" for the package, the file's name
    for the one-file copy (it may have been renamed)."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if os.path.basename(argv0) == "__main__.py":
        return "python -m " + os.path.basename(os.path.dirname(os.path.abspath(argv0)))
    return os.path.basename(argv0) or "mcplite"


def cli_error(command: Optional[str], message: str) -> None:
    """One line on stderr: "PROG COMMAND: error: MESSAGE" (newlines in MESSAGE flattened)."""
    text = " ".join(str(message).split("\n")).strip()
    sys.stderr.write("%s%s: error: %s\n" % (cli_prog(), " " + command if command else "", text))
    sys.stderr.flush()


def cli_version_text() -> str:
    """``--version``: "mcplite 0.1.0" and, on a line of its own, the protocol versions."""
    from .protocol import LEGACY_VERSIONS, MODERN_VERSIONS
    version = globals().get("__version__")  # the one-file copy: the package's own, in this namespace
    if not isinstance(version, str):
        package = sys.modules.get(__name__.rpartition(".")[0])
        version = getattr(package, "__version__", "unknown")
    return "mcplite %s\nprotocol versions: %s (modern: server/discover); %s (legacy: initialize)" % (
        version, ", ".join(sorted(MODERN_VERSIONS, reverse=True)), ", ".join(sorted(LEGACY_VERSIONS, reverse=True)))


# --- targets ------------------------------------------------------------------------------------

class CliTarget:
    """What a TARGET argument names: ``kind`` "http" (``url``) or "stdio" (``argv``; for a
    server file also ``file``, the path, and ``attr``, the name after the colon or None)."""

    def __init__(self, kind: str, text: str, url: Optional[str] = None, argv: Optional[List[str]] = None,
                 file: Optional[str] = None, attr: Optional[str] = None) -> None:
        self.kind = kind
        self.text = text
        self.url = url
        self.argv = argv or []
        self.file = file
        self.attr = attr
        # A server of a host configuration file (``--server``) brings these along.
        self.env = None  # type: Optional[Dict[str, str]]
        self.cwd = None  # type: Optional[str]
        self.headers = None  # type: Optional[Dict[str, str]]

    def __repr__(self) -> str:
        return "CliTarget(%s, %r)" % (self.kind, self.url or self.argv)


def cli_resolve_target(text: Any) -> CliTarget:
    """Read a TARGET argument; raises ``CliFailure`` (usage) for one that names nothing.
    (One already read, a server of a configuration file, is returned as it is.)"""
    import shlex

    if isinstance(text, CliTarget):
        return text
    stripped = text.strip()
    if not stripped:
        raise CliFailure(CLI_EXIT_USAGE, "the target is empty: give a URL, a server file or a command")
    lowered = stripped.lower()
    if lowered.startswith("http://") or lowered.startswith("https://"):
        return CliTarget("http", text, url=stripped)
    if "://" in stripped.split()[0]:
        raise CliFailure(CLI_EXIT_USAGE, "%s: only http:// and https:// URLs are MCP endpoints" % stripped)
    whole = _FILE_TARGET.match(stripped)
    if whole is not None and os.path.exists(whole.group("path")):
        argv = [stripped]  # a file whose path has spaces in it
    else:
        try:
            argv = shlex.split(stripped)
        except ValueError as exc:
            raise CliFailure(CLI_EXIT_USAGE, "cannot read the command %r: %s" % (text, exc))
    match = _FILE_TARGET.match(argv[0]) if len(argv) == 1 else None
    if match is not None:
        path = match.group("path")
        if os.path.isdir(path):
            raise CliFailure(CLI_EXIT_CONNECTION, "%s is a directory, not a server file" % path)
        if not os.path.isfile(path):
            raise CliFailure(CLI_EXIT_CONNECTION, "no such file: %s" % path)
        return CliTarget("stdio", text, argv=cli_self_command() + ["serve", argv[0]], file=path,
                         attr=match.group("attr"))
    return CliTarget("stdio", text, argv=argv)


def cli_is_config(text: Any) -> bool:
    """Whether a TARGET names a host configuration file (``mcp.json``: a ``.json`` file)."""
    return isinstance(text, str) and text.strip().lower().endswith(".json") and os.path.isfile(text.strip())


def cli_config_target(args: Any) -> None:
    """A TARGET that is a host configuration file (``mcpServers`` or VS Code's ``servers``):
    ``--server NAME`` picks one of its servers, which becomes the target (its ``env``,
    ``cwd`` and ``headers`` too); without it, a file of one server means that one, and
    ``ls`` lists every server (under the host's names). Its warnings go to stderr."""
    target = getattr(args, "target", None)
    wanted = getattr(args, "config_server", None)
    if not cli_is_config(target):
        if wanted is not None:
            raise CliFailure(CLI_EXIT_USAGE, "--server NAME picks a server of a configuration file (mcp.json); "
                                             "%r is not one" % (target,))
        return
    import warnings
    from .hostconfig import load_config

    path = str(target).strip()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            config = load_config(path)
        except ValueError as exc:
            raise CliFailure(CLI_EXIT_USAGE, str(exc))
    for warning in caught:
        sys.stderr.write("%s %s: warning: %s\n" % (cli_prog(), args.command, warning.message))
    names = [server.name for server in config.servers]
    if wanted is None and args.command == "ls":
        args.host_config = config
        return
    if wanted is None:
        if len(names) != 1:
            raise CliFailure(CLI_EXIT_USAGE, "%s has %d servers: choose one with --server NAME (%s)" % (
                path, len(names), ", ".join(names) or "none is enabled"))
        wanted = names[0]
    chosen = [server for server in config.servers if server.name == wanted]
    if not chosen:
        why = "it is disabled" if wanted in config.disabled else "the servers: %s" % (", ".join(names) or "none")
        raise CliFailure(CLI_EXIT_USAGE, "%s has no server %r (%s)" % (path, wanted, why))
    server = chosen[0]
    if server.problem is not None:
        raise CliFailure(CLI_EXIT_USAGE, "%s, server %r: %s" % (path, wanted, server.problem))
    if server.transport == "http":
        resolved = CliTarget("http", "%s --server %s" % (path, wanted), url=server.url)
        resolved.headers = server.headers
    else:
        resolved = CliTarget("stdio", "%s --server %s" % (path, wanted), argv=server.argv)
        resolved.env, resolved.cwd = server.env, server.cwd
    args.target = resolved


def cli_self_command() -> List[str]:
    """The argv that runs this command line in a new process (for ``serve``): the one file
    as a script, or the package by its location (whatever its name, wherever it is)."""
    if "_VENDORED_MODULES" in globals():  # the one-file copy: it runs as a script
        return [sys.executable, os.path.abspath(__file__)]
    package_dir = os.path.dirname(os.path.abspath(__file__))
    package = __name__.rpartition(".")[0]
    code = ("import sys; sys.path.insert(0, %r); sys.argv[0] = %r; from %s.cli import cli_main; "
            "sys.exit(cli_main())" % (os.path.dirname(package_dir), os.path.join(package_dir, "__main__.py"), package))
    return [sys.executable, "-c", code]


def cli_headers(args: Any) -> Dict[str, str]:
    headers = {}  # type: Dict[str, str]
    for header in getattr(args, "headers", None) or []:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise CliFailure(CLI_EXIT_USAGE, "a header is 'Name: value', not %r" % header)
        headers[name.strip()] = value.strip()
    return headers


# --- signing in -----------------------------------------------------------------------------------

def cli_token_file(shown: bool = False) -> str:
    """Where the command line keeps tokens by default: ``$XDG_CONFIG_HOME/mcplite/tokens.json``
    (``~/.config/...`` without it; ``%APPDATA%\\mcplite`` on Windows). ``shown``: as the help
    says it."""
    if os.name == "nt":
        if shown:
            return "%APPDATA%\\mcplite\\tokens.json"
        base = os.environ.get("APPDATA") or os.path.expanduser("~")
    else:
        if shown:
            return "$XDG_CONFIG_HOME/mcplite/tokens.json, else ~/.config/mcplite/tokens.json"
        base = os.environ.get("XDG_CONFIG_HOME") or ""
        if not os.path.isabs(base):  # "If ... set to a relative path, the value should be ignored"
            base = os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "mcplite", "tokens.json")


def cli_authorization(args: Any, target: CliTarget, open_browser: Optional[bool] = None,
                      authorizer: Any = None) -> Any:
    """What the signing-in options ask for: (an ``OAuth`` or None, headers to add). CliFailure
    (usage) for options that do not go together, or on a target that is not HTTP.
    ``open_browser``: whether --oauth opens one (default: at a terminal only); ``authorizer``:
    made as ``TerminalAuthorizer`` is (port, open_browser, timeout), to show the sign-in URL
    elsewhere (the inspector's page)."""
    oauth = bool(getattr(args, "oauth", False))
    client_id = getattr(args, "client_id", None)
    secret = getattr(args, "client_secret", None)
    bearer = getattr(args, "bearer", None)
    token_file = getattr(args, "token_file", None)
    metadata_url = getattr(args, "client_metadata_url", None)
    key_path = getattr(args, "private_key", None)
    assertion_path = getattr(args, "assertion", None)
    id_token_path = getattr(args, "id_token", None)
    idp_endpoint = getattr(args, "idp_token_endpoint", None)
    idp_client_id = getattr(args, "idp_client_id", None)
    dpop = bool(getattr(args, "dpop", False))
    given = [name for name, value in (("--oauth", oauth), ("--client-id", client_id), ("--client-secret", secret),
                                      ("--bearer", bearer), ("--token-file", token_file),
                                      ("--client-metadata-url", metadata_url), ("--private-key", key_path),
                                      ("--assertion", assertion_path), ("--id-token", id_token_path),
                                      ("--idp-token-endpoint", idp_endpoint), ("--idp-client-id", idp_client_id),
                                      ("--dpop", dpop))
             if value is not None and value is not False]
    if not given:
        return None, {}
    if target.kind != "http":
        raise CliFailure(CLI_EXIT_USAGE, "%s %s for HTTP targets" % (" and ".join(given), "is" if len(given) == 1
                                                                       else "are"))
    has_authorization = any(name.lower() == "authorization" for name in cli_headers(args))
    if bearer is not None:
        if len(given) > 1:
            raise CliFailure(CLI_EXIT_USAGE, "--bearer is a token already got: it does not go with %s"
                             % ", ".join(name for name in given if name != "--bearer"))
        if has_authorization:
            raise CliFailure(CLI_EXIT_USAGE, "--bearer and an Authorization header (-H) both set Authorization")
        token = bearer.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token or any(ch.isspace() or not " " < ch < "\x7f" for ch in token):
            raise CliFailure(CLI_EXIT_USAGE, "--bearer takes the token alone (visible ASCII, no spaces)")
        return None, {"Authorization": "Bearer " + token}
    # One grant: a person signing in, a workload's JWT, an enterprise ID token, else (a
    # client id and its secret or key) client credentials.
    grants = [name for name, value in (("--oauth", oauth), ("--assertion", assertion_path),
                                       ("--id-token", id_token_path)) if value]
    if len(grants) > 1:
        raise CliFailure(CLI_EXIT_USAGE, "%s are different ways of signing in: give one" % " and ".join(grants))
    if metadata_url is not None and not oauth:
        raise CliFailure(CLI_EXIT_USAGE, "--client-metadata-url goes with --oauth (a person signing in)")
    if (idp_endpoint is not None or idp_client_id is not None) and id_token_path is None:
        raise CliFailure(CLI_EXIT_USAGE, "--idp-token-endpoint and --idp-client-id go with --id-token")
    if id_token_path is not None and not (idp_endpoint and idp_client_id and client_id):
        raise CliFailure(CLI_EXIT_USAGE, "--id-token needs --idp-token-endpoint, --idp-client-id and --client-id")
    if secret is None and client_id:
        secret = os.environ.get(CLI_SECRET_VARIABLE) or None
    if secret is not None and not client_id:
        raise CliFailure(CLI_EXIT_USAGE, "--client-secret goes with --client-id")
    if key_path is not None and not client_id:
        raise CliFailure(CLI_EXIT_USAGE, "--private-key goes with --client-id")
    if client_id and not grants and not secret and key_path is None:
        raise CliFailure(CLI_EXIT_USAGE, "--client-id needs --client-secret (or %s) or --private-key for the "
                                         "client credentials grant, or --oauth to sign in as that client"
                                         % CLI_SECRET_VARIABLE)
    if not (grants or client_id):
        raise CliFailure(CLI_EXIT_USAGE, "%s goes with --oauth or --client-id" % given[0])
    if has_authorization:
        raise CliFailure(CLI_EXIT_USAGE, "an Authorization header (-H) and %s do not go together" % given[0])
    from .errors import AuthorizationError
    from .oauth import OAuth
    options = {"timeout": args.timeout, "dpop": dpop}  # type: Dict[str, Any]
    if client_id:
        options.update(client_id=client_id, client_secret=secret)
    # The files are read now (a wrong path is a usage error before anything is made), the
    # JWTs again at each token request.
    if key_path is not None:
        options["private_key"] = _read_file(key_path, "--private-key")
    for path, option in ((assertion_path, "--assertion"), (id_token_path, "--id-token")):
        if path is not None:
            _read_file(path, option)
    storage = options["storage"] = _token_storage(token_file)
    if oauth:
        from .oauth import TerminalAuthorizer
        # A browser is opened for a person at a terminal only (a script gets the URL alone).
        options["authorize"] = (authorizer or TerminalAuthorizer)(port=_callback_port(storage),
                                                  open_browser=_on_terminal() if open_browser is None
                                                  else open_browser,
                                                  timeout=CLI_SIGN_IN_TIMEOUT)
        options["client_metadata_url"] = metadata_url
    elif assertion_path is not None:
        options.update(grant="jwt_bearer", assertion=_cli_file_reader(assertion_path, "--assertion"))
    elif id_token_path is not None:
        options.update(grant="id_jag", id_token=_cli_file_reader(id_token_path, "--id-token"),
                       idp_token_endpoint=idp_endpoint, idp_client_id=idp_client_id,
                       idp_client_secret=os.environ.get(CLI_IDP_SECRET_VARIABLE) or None)
    else:
        options["grant"] = "client_credentials"
    try:
        return OAuth(**options), {}
    except (ValueError, AuthorizationError) as exc:
        raise CliFailure(CLI_EXIT_USAGE, str(exc))


def _read_file(path: str, option: str) -> str:
    """The text of ``path`` (a key or a JWT), stripped; CliFailure (usage) when unreadable or empty."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            text = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliFailure(CLI_EXIT_USAGE, "%s %s: %s" % (option, path, getattr(exc, "strerror", None) or exc))
    if not text:
        raise CliFailure(CLI_EXIT_USAGE, "%s %s is empty" % (option, path))
    return text


def _cli_file_reader(path: str, option: str) -> Any:
    """A function returning the file's text at each call: a workload's token is rotated in
    place (a platform rewrites the file), and each token request must present the current one."""
    from .errors import AuthorizationError

    def read() -> str:
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as handle:
                return handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthorizationError("cannot read %s %s: %s" % (option, path, getattr(exc, "strerror", None) or exc))
    return read


def _on_terminal() -> bool:
    try:
        return sys.stderr.isatty() and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _token_storage(path: Optional[str]) -> Any:
    """A ``FileTokenStorage`` of ``path`` (default: ``cli_token_file()``, its directory made,
    owner only); CliFailure when the directory is not there."""
    from .oauth import FileTokenStorage
    if path is None:
        path = cli_token_file()
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        except OSError as exc:
            raise CliFailure(CLI_EXIT_FAILED, "cannot make %s for the tokens: %s (give --token-file)"
                             % (os.path.dirname(path), exc.strerror or exc))
    path = os.path.expanduser(path)
    if os.path.isdir(path):
        raise CliFailure(CLI_EXIT_USAGE, "--token-file %s is a directory" % path)
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise CliFailure(CLI_EXIT_USAGE, "--token-file %s: no such directory" % path)
    return FileTokenStorage(path)


def _callback_port(storage: Any) -> int:
    """The loopback port the sign-in's redirect comes back to: the one used before (kept in
    the token file) while it is free, else a new one, kept."""
    import socket

    try:
        saved = storage.get(_CALLBACK_KEY) or {}
        port = saved.get("port")
        if isinstance(port, int) and 0 < port < 65536:
            with socket.socket() as probe:
                # As the listener will bind it (http.server's allow_reuse_address): the last
                # sign-in's connections, in TIME_WAIT, do not make the port taken.
                if os.name != "nt":  # (there it would let two sockets share a port)
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    pass  # taken now: a new one (and, at the next sign-in, a new registration)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        storage.set(_CALLBACK_KEY, {"port": port})
    except OSError as exc:
        raise CliFailure(CLI_EXIT_FAILED, "cannot use the token file %s: %s" % (storage.path, exc.strerror or exc))
    return port


# --- connecting ---------------------------------------------------------------------------------

def cli_connect(args: Any, target: CliTarget, authorizer: Any = None, **options: Any) -> Any:
    """A ``Client`` for ``target`` with the common options of ``args`` (and ``options``
    for the ``Client``; ``authorizer``: see ``cli_authorization``); failures become
    ``CliFailure`` with one line."""
    from .client import Client

    if not os.environ.get("MCPLITE_DEBUG"):
        # The client's warnings (a server's stray stdout line, say) would reach stderr through
        # logging's last resort; the command line's stderr is one line per failure, and
        # --trace shows such lines where they belong.
        import logging
        logging.getLogger("mcplite").addHandler(logging.NullHandler())
    options.setdefault("timeout", args.timeout)
    options.setdefault("era", args.era)
    if args.protocol_version:
        from .protocol import LEGACY_VERSIONS, MODERN_VERSIONS
        implied = "modern" if args.protocol_version in MODERN_VERSIONS else "legacy" \
            if args.protocol_version in LEGACY_VERSIONS else None
        if implied is not None and args.era not in ("auto", implied):
            raise CliFailure(CLI_EXIT_USAGE, "--protocol-version %s is a %s version, and --era says %s"
                             % (args.protocol_version, implied, args.era))
        options.setdefault("protocol_version", args.protocol_version)
    auth, auth_headers = cli_authorization(args, target, authorizer=authorizer)
    tracer = cli_tracer(args)
    if tracer is not None:
        options.setdefault("trace", tracer)
    try:
        if target.kind == "http":
            headers = dict(target.headers or {})  # (a configuration file's, then the command line's)
            headers.update(cli_headers(args))
            headers.update(auth_headers)
            client = _http_client(target, headers, auth, options)
        else:
            if getattr(args, "headers", None):
                raise CliFailure(CLI_EXIT_USAGE, "--header is for HTTP targets")
            client = Client.stdio(target.argv, target.env, target.cwd, capture_stderr=not args.server_stderr,
                                  **options)
    except ValueError as exc:  # a bad URL, an unknown protocol version
        raise CliFailure(CLI_EXIT_USAGE, str(exc))
    except ConnectionClosed as exc:
        raise CliFailure(CLI_EXIT_CONNECTION, cli_connection_text(target, exc))
    except RequestTimeout as exc:  # no answer to the handshake: not an MCP server, or a stuck one
        raise CliFailure(CLI_EXIT_CONNECTION, "%s: %s (is it an MCP server?)" % (cli_target_label(target), exc.message))
    except (MCPError, TransportError, TaskCancelled) as exc:
        if isinstance(exc, HttpError) and exc.status in (401, 403):
            # (it names the server itself: "the server at URL requires authorization ...")
            raise CliFailure(CLI_EXIT_CONNECTION, cli_error_text(exc, target.url))
        text = cli_error_text(exc)
        if options.get("era") == "modern" and isinstance(exc, MCPError) and exc.code == -32601:
            text += ": the server does not speak 2026-07-28 (try --era legacy)"
        elif options.get("era") == "modern" and isinstance(exc, VersionMismatch):
            from .protocol import LEGACY_VERSIONS
            if any(version in LEGACY_VERSIONS for version in exc.offered):
                text += " (try --era legacy)"
        raise CliFailure(cli_status_of(exc), "%s: %s" % (cli_target_label(target), text))
    if args.protocol_version and client.protocol_version != args.protocol_version:
        client.close()
        # "If the client does not support the version in the server's response, it SHOULD
        # disconnect": this one asked for exactly one.
        raise CliFailure(CLI_EXIT_PROTOCOL, "%s: the server chose protocol version %s, not %s (--protocol-version)"
                         % (cli_target_label(target), client.protocol_version, args.protocol_version))
    return client


def _http_client(target: CliTarget, headers: Dict[str, str], auth: Any, options: Dict[str, Any]) -> Any:
    """``Client.http``, step by step, to keep what the server said when it refused the
    Streamable HTTP attempt with 400, 404 or 405: when the HTTP+SSE fallback fails too, that
    refusal's own words ("the MCP endpoint is /mcp") are the useful part, not the fallback's."""
    from .client import Client
    from .httpclient import HttpChannel, LegacySseChannel

    url = target.url or ""
    channel = HttpChannel(url, headers, auth=auth)
    try:
        return Client._over(channel, dict(options))
    except (MCPError, TransportError) as exc:
        status = channel.initialize_refused
        if status is None or options.get("era") == "modern":
            raise
        refusal = exc  # type: BaseException
    try:
        return Client._over(LegacySseChannel(url, headers, auth=auth), dict(options, era="legacy"))
    except ConnectionClosed:
        said = cli_server_says(refusal)
        if not said:
            raise
        raise CliFailure(CLI_EXIT_CONNECTION, "%s: not an MCP endpoint (HTTP %d); the server says: %s"
                         % (url, status, said))


def cli_target_label(target: CliTarget) -> str:
    if target.kind == "http":
        return target.url or target.text
    return target.file or " ".join(target.argv)


def cli_connection_text(target: CliTarget, exc: BaseException) -> str:
    """One line for a connection that failed: for a stdio server, what it said last on its
    stderr (a server file's own one-line error, if that is what it was)."""
    message = str(getattr(exc, "message", None) or exc)
    if "Permission denied" in message and target.argv and target.argv[0].endswith(".py"):
        message += " (to run a Python file with arguments: \"python3 %s ...\")" % target.argv[0]
    head, _, tail = message.partition("; its stderr ends with:\n")
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    if target.file is not None and lines and ": error: " in lines[-1]:
        return lines[-1].split(": error: ", 1)[1]  # the serve command's own explanation
    if lines:
        head += ": " + lines[-1]
    return "%s: %s" % (cli_target_label(target), head)


def cli_status_of(exc: BaseException) -> int:
    """The exit status for an exception a call raised."""
    from .errors import AuthorizationError

    # An HTTP status with no JSON-RPC answer (not MCP there, or not without a token), or a
    # sign-in that failed: the target refuses.
    if isinstance(exc, (ConnectionClosed, HttpError, AuthorizationError)):
        return CLI_EXIT_CONNECTION
    if isinstance(exc, (MCPError, TransportError, TaskCancelled)):
        return CLI_EXIT_PROTOCOL
    return CLI_EXIT_FAILED


def cli_error_text(exc: BaseException, url: Optional[str] = None) -> str:
    """An exception a call raised as one line: an MCPError's message and code (and data,
    when short); a 401 or 403 as the authorization problem it is, with what to do; another
    HTTP error with the start of what the server said. ``url``: the server's, if known."""
    import json
    from .errors import AuthorizationError

    if isinstance(exc, HttpError) and exc.status in (401, 403):
        return cli_refusal_text(url, exc.status, exc.www_authenticate, exc.body)
    if isinstance(exc, HttpError):
        said = cli_one_line(cli_body_message(exc.body), 100)
        return "HTTP %s, not a JSON-RPC answer (is this an MCP endpoint?)%s" % (exc.status, ": " + said if said else "")
    if isinstance(exc, AuthorizationError):
        return "signing in failed: %s" % cli_one_line(exc.message, 300)
    if not isinstance(exc, MCPError):  # a failure on our side of the wire: no JSON-RPC error to show
        return getattr(exc, "message", None) or str(exc)
    text = "%s (error %s)" % (exc.message, exc.code)
    data = exc.data
    if data is not None and exc.has_data:
        shown = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(shown) <= 200:
            text += " " + shown
    return text


def cli_refusal_text(url: Optional[str], status: int, challenge: Optional[str], body: Any) -> str:
    """A 401 or 403 as one line: that the server wants authorization (or more of it), what it
    said (its JSON-RPC error's message, or the start of its body), and which option to use."""
    from .oauth import parse_challenge

    params = parse_challenge(challenge) if challenge else {}
    error = params.get("error")
    said = cli_one_line(cli_body_message(body), 120)
    what = "HTTP %d" % status + (", " + cli_one_line(error, 40) if error else "") + (": " + said if said else "")
    server = "the server at %s" % url if url else "the server"
    if status == 401 and error == "invalid_token":
        return "%s refused the token (%s): %s" % (server, what, CLI_SIGN_IN_ADVICE)
    if status == 401:
        return "%s requires authorization (%s): %s" % (server, what, CLI_SIGN_IN_ADVICE)
    if error == "insufficient_scope":
        scope = params.get("scope")
        return "%s wants a token with more scope (%s%s): --oauth signs in for it" % (
            server, what, "; scope %s" % cli_one_line(scope, 80) if scope else "")
    return "%s refused access (%s)" % (server, what)


def cli_body_message(body: Any) -> str:
    """What an HTTP error's body says: a JSON-RPC error's message, a JSON object's
    ``message``/``error_description``/``error``/``detail``, the text of an HTML page, or the
    text itself."""
    import json

    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body or "")
    stripped = text.strip()
    if stripped[:1] == "{":
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, dict):
            error = value.get("error")
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                return error["message"]
            for key in ("message", "error_description", "error", "detail"):
                if isinstance(value.get(key), str) and value[key].strip():
                    return value[key]
    if stripped[:1] == "<":  # an HTML page: its words, not its markup
        stripped = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", stripped)
        stripped = re.sub(r"(?s)<!--.*?-->|<[^>]*>", " ", stripped)
        import html
        stripped = html.unescape(stripped)
    return stripped


def cli_one_line(text: Any, limit: int) -> str:
    """``text`` as one line of at most ``limit`` characters: runs of white space as one
    space, other control characters (and bidirectional overrides) escaped, "..." when cut."""
    out = []  # type: List[str]
    for ch in " ".join(str(text or "").split()):
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0 or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            out.append("\\x%02x" % code if code < 0x100 else "\\u%04x" % code)
        else:
            out.append(ch)
    line = "".join(out)
    return line if len(line) <= limit else line[:max(0, limit - 3)].rstrip() + "..."


def cli_server_says(exc: BaseException) -> str:
    """What the server said when it refused a request: an MCPError's message, an
    HttpError's body (one line, bounded); "" when nothing."""
    if isinstance(exc, MCPError):
        return cli_one_line(exc.message, 160)
    if isinstance(exc, HttpError):
        return cli_one_line(cli_body_message(exc.body), 160)
    return ""


def cli_tracer(args: Any, stream: Any = None) -> Any:
    """The ``Tracer`` ``--trace`` asks for (on stderr), or None."""
    mode = getattr(args, "trace", None)
    if not mode:
        return None
    from .tracing import Tracer
    return Tracer(stream if stream is not None else sys.stderr, explain=mode == "explain")


# --- vendor ----------------------------------------------------------------------------------------

def _vendor(args: Any) -> int:
    try:
        from .vendor import VendorError, build
    except ImportError:  # the one-file copy: the builder and the sources it reads are not in it
        raise CliFailure(CLI_EXIT_FAILED, "this is already the one-file mcplite; copy the file itself "
                                          "(the command needs the package's sources)")
    try:
        parts = [part.strip() for part in args.parts.split(",") if part.strip()]
        if not parts:
            raise CliFailure(CLI_EXIT_USAGE, "--parts names no part")
        path = build(args.dir, force=args.force, parts=parts, compact=args.compact)
    except (VendorError, OSError) as exc:
        raise CliFailure(CLI_EXIT_FAILED, str(exc))
    with open(path, "rb") as f:
        lines = f.read().count(b"\n")
    print("wrote %s (%d bytes, %d lines)" % (path, os.path.getsize(path), lines))
    return CLI_EXIT_OK


# --- serve -----------------------------------------------------------------------------------------

def _serve(args: Any) -> int:
    match = _FILE_TARGET.match(args.file)
    if match is None:
        raise CliFailure(CLI_EXIT_USAGE, "%s is not a Python file (FILE.py or FILE.py:app)" % args.file)
    address = None
    if args.http is not None:
        address = _host_port(args.http)
    elif args.allowed_hosts or args.allowed_origins or args.session_prefix:
        raise CliFailure(CLI_EXIT_USAGE, "--allowed-host, --allowed-origin and --session-prefix are for --http")
    streams = None
    if address is None:
        # Before the file runs: whatever it prints while loading must not reach the client.
        from .stdio import _protect_standard_streams
        streams = _protect_standard_streams()
    server = cli_load_server(match.group("path"), match.group("attr"))
    tracer = cli_tracer(args)
    if address is None:
        assert streams is not None
        options = {"stdin": streams[0], "stdout": streams[1]}  # type: Dict[str, Any]
        if tracer is not None:
            options["trace"] = tracer
        server.run("stdio", **options)
        return CLI_EXIT_OK
    options = dict(cli_http_app_options(args), host=address[0], port=address[1])
    if tracer is not None:
        options["trace"] = tracer
    try:
        server.run("http", **options)
    except ValueError as exc:  # a non-loopback address without --allowed-host, a bad path
        if "allowed_hosts" in str(exc):
            raise CliFailure(CLI_EXIT_USAGE, "refusing to bind %s, which is not a loopback address, without "
                                             "--allowed-host: say which Host names this server answers to (a "
                                             "web page could reach it otherwise, by DNS rebinding)" % address[0])
        raise CliFailure(CLI_EXIT_USAGE, str(exc))
    except OSError as exc:  # the port is taken, the address is not ours
        raise CliFailure(CLI_EXIT_FAILED, "cannot listen on %s:%d: %s" % (address[0], address[1],
                                                                       exc.strerror or exc))
    return CLI_EXIT_OK


def _host_port(text: str) -> Any:
    if text.count(":") > 1 and not text.startswith("["):
        raise CliFailure(CLI_EXIT_USAGE, "--http: an IPv6 address goes in brackets, with the port: [::1]:8000")
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CliFailure(CLI_EXIT_USAGE, "--http takes HOST:PORT (or PORT), not %r" % text)
    return host, int(port)


def cli_is_server(value: Any) -> bool:
    """A Server of this mcplite, or of another copy of it (a server file importing an
    installed mcplite while the command line is a one-file copy, say)."""
    from .server import Server
    if isinstance(value, Server):
        return True
    return (type(value).__name__ == "Server" and callable(getattr(value, "run", None))
            and callable(getattr(value, "tool", None)) and callable(getattr(value, "add_tool", None)))


def cli_load_server(path: str, attr: Optional[str]) -> Any:
    """Import the file at ``path`` (as a module, so its ``__main__`` block does not run) and
    return its Server: the one named ``attr``, else the only one at its top level."""
    import importlib.util

    if not os.path.isfile(path):
        raise CliFailure(CLI_EXIT_CONNECTION, "no such file: %s" % path)
    full = os.path.abspath(path)
    directory = os.path.dirname(full)
    if directory not in sys.path:
        sys.path.insert(0, directory)  # as `python FILE` would: its neighbours import
    stem = os.path.splitext(os.path.basename(full))[0]
    name = stem if stem.isidentifier() and stem not in sys.modules else "__mcplite_served__"
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise CliFailure(CLI_EXIT_CONNECTION, "cannot load %s as a Python module" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (dataclasses and string annotations look their module up)
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except SystemExit as exc:
        raise CliFailure(CLI_EXIT_CONNECTION, "%s exited while loading (status %s)" % (path, exc.code))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # its own bug: where, and what, in one line
        raise CliFailure(CLI_EXIT_CONNECTION, "cannot load %s: %s" % (path, _cli_where(exc, full)))
    if attr is not None:
        if not hasattr(module, attr):
            raise CliFailure(CLI_EXIT_CONNECTION, "%s has no %r" % (path, attr))
        value = getattr(module, attr)
        if not cli_is_server(value) and callable(value):
            try:
                value = value()  # a factory
            except Exception as exc:
                raise CliFailure(CLI_EXIT_CONNECTION, "%s:%s() failed: %s" % (path, attr, _cli_where(exc, full)))
        if not cli_is_server(value):
            raise CliFailure(CLI_EXIT_CONNECTION, "%s:%s is a %s, not an mcplite Server"
                             % (path, attr, type(value).__name__))
        return value
    found = {}  # type: Dict[int, List[str]]
    servers = {}  # type: Dict[int, Any]
    for key, value in vars(module).items():
        if cli_is_server(value):
            found.setdefault(id(value), []).append(key)
            servers[id(value)] = value
    if not servers:
        raise CliFailure(CLI_EXIT_CONNECTION, "%s has no mcplite Server at its top level (define one: "
                                              "app = Server(\"name\"))" % path)
    if len(servers) > 1:
        names = sorted(names[0] for names in found.values())
        raise CliFailure(CLI_EXIT_CONNECTION, "%s has several Servers (%s): say which, as %s:%s"
                         % (path, ", ".join(names), path, names[0]))
    return next(iter(servers.values()))


def _cli_where(exc: BaseException, path: str) -> str:
    """``ExcType: message (line N)``, N the last line of ``path`` the exception passed."""
    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    tb = exc.__traceback__
    while tb is not None:
        if os.path.abspath(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    text = "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
    text = " ".join(text.split("\n"))
    return text + (" (line %s)" % line if line else "")
