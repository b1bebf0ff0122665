"""``shell TARGET``: one connection, many commands, typed at a prompt (with readline's line
editing, history and tab completion where Python has it) or piped in.

    mcp> ls
    mcp> call add a=1 b=2
    mcp> read notes://1
    mcp> prompt review code='print(1)'
    mcp> request tools/list {}
    mcp> trace explain

The verbs are the command line's own (``ls``, ``call``, ``read``, ``prompt``), plus
``request METHOD [JSON]`` for any method, ``info``, ``trace on|off|explain``,
``json on|off``, ``help`` and ``quit``. A failing command prints one line and the session
goes on; the shell's exit status is the last command's. Piped input gets no prompt and no
banner, so a file of commands runs as a script.
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any, List, Optional

from .cli import CLI_EXIT_OK, CLI_EXIT_USAGE, CliFailure, cli_error, cli_error_text, cli_status_of
from .clientcmds import (
    cc_calling, cc_format_listing, cc_listing, cc_print_json, cc_run_call, cc_run_prompt, cc_show_read, cc_url,
)
from .errors import CALL_ERRORS


def run_shell(client: Any, args: Any) -> int:
    """Run the shell on ``client`` until ``quit`` or the end of input; the exit status."""
    interactive = sys.stdin.isatty()
    shell = make_shell(client, raw=bool(args.json), interactive=interactive)
    try:
        shell.cmdloop()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
    return shell.status


def make_shell(client: Any, raw: bool = False, interactive: bool = True) -> Any:
    """The shell: ``cmd.Cmd`` with the verbs of ``ShellVerbs``. The class is made here, not
    at import: ``cmd`` imports ``inspect`` (about 10 ms), which the one-file mcplite would
    otherwise pay at every import."""
    import cmd
    shell_class = type("McpShell", (ShellVerbs, cmd.Cmd), {})
    return shell_class(client, raw=raw, interactive=interactive)


class ShellVerbs:
    """The verbs and prompt handling of the interactive session over one connected Client,
    mixed into ``cmd.Cmd`` by ``make_shell``."""

    def __init__(self, client: Any, raw: bool = False, interactive: bool = True) -> None:
        super().__init__()
        self.client = client
        self.raw = raw
        self.status = CLI_EXIT_OK
        self._names = {}  # type: dict   # "tools"/"prompts"/"resources" -> names, for completion
        if interactive:
            info = client.server_info or {}
            self.prompt = "mcp> "
            self.intro = ("Connected to %s %s (protocol %s). Type help for the commands, quit to leave."
                          % (info.get("name", "?"), info.get("version", ""), client.protocol_version))
        else:
            self.prompt = ""
            self.intro = None

    # --- running one command ---

    def onecmd(self, line: str) -> bool:
        try:
            stop = super().onecmd(line)
            return bool(stop)
        except CliFailure as failure:
            self.status = failure.status
            cli_error(None, failure.message)
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            self.status = 130
        return False

    def emptyline(self) -> bool:
        return False  # (cmd's default runs the last command again)

    def default(self, line: str) -> bool:
        if line == "EOF":
            # cmd's line for the end of input (Ctrl-D). Here, not as a do_EOF method, which
            # help would list as "Undocumented commands: EOF" and tab completion would offer.
            if self.prompt:
                sys.stdout.write("\n")
            return True
        if line.strip().startswith("#"):
            return False
        self.status = CLI_EXIT_USAGE
        cli_error(None, "unknown command %r (type help)" % line.split()[0])
        return False

    def _words(self, line: str) -> List[str]:
        try:
            return shlex.split(line)
        except ValueError as exc:
            raise CliFailure(CLI_EXIT_USAGE, "cannot read %r: %s" % (line, exc))

    def _done(self, status: int) -> bool:
        self.status = status
        return False

    # --- the verbs ---

    def do_ls(self, line: str) -> bool:
        """ls: list the tools, resources, templates and prompts."""
        listing = cc_listing(self.client)
        self._names = {
            "tools": [t.get("name") for t in listing.get("tools", [])],
            "prompts": [p.get("name") for p in listing.get("prompts", [])],
            "resources": [r.get("uri") for r in listing.get("resources", [])],
        }
        if self.raw:
            cc_print_json(listing)
        else:
            sys.stdout.write(cc_format_listing(listing))
        return self._done(CLI_EXIT_OK)

    def do_call(self, line: str) -> bool:
        """call TOOL [key=value | key:=JSON ...] [--arguments '{...}']: call a tool."""
        words = self._words(line)
        if not words:
            raise CliFailure(CLI_EXIT_USAGE, "call TOOL [key=value ...]")
        pairs, as_json = _split_json(words[1:])
        return self._done(cc_run_call(self.client, words[0], pairs, as_json, self.raw))

    def do_read(self, line: str) -> bool:
        """read URI [-o FILE]: read a resource (-o writes its contents to FILE)."""
        words = self._words(line)
        output = None  # type: Optional[str]
        if len(words) == 3 and words[1] in ("-o", "--output"):
            output = words[2]
        elif len(words) != 1:
            raise CliFailure(CLI_EXIT_USAGE, "read URI [-o FILE]")
        result = cc_calling(self.client, words[0], self.client.read_resource, words[0])
        return self._done(cc_show_read(result, self.raw, output))

    def do_prompt(self, line: str) -> bool:
        """prompt NAME [key=value ...] [--arguments '{...}']: get a prompt's messages."""
        words = self._words(line)
        if not words:
            raise CliFailure(CLI_EXIT_USAGE, "prompt NAME [key=value ...]")
        pairs, as_json = _split_json(words[1:])
        return self._done(cc_run_prompt(self.client, words[0], pairs, as_json, self.raw))

    def do_request(self, line: str) -> bool:
        """request METHOD [JSON params]: send any request; prints its result."""
        method, _, params_text = line.strip().partition(" ")
        if not method:
            raise CliFailure(CLI_EXIT_USAGE, "request METHOD [JSON params]")
        params = None
        if params_text.strip():
            try:
                params = json.loads(params_text)
            except ValueError as exc:
                raise CliFailure(CLI_EXIT_USAGE, "the params are not JSON: %s" % exc)
            if not isinstance(params, dict):
                raise CliFailure(CLI_EXIT_USAGE, "the params must be a JSON object")
        try:
            result = self.client.request(method, params)
        except CALL_ERRORS as exc:
            raise CliFailure(cli_status_of(exc), "%s: %s" % (method, cli_error_text(exc, cc_url(self.client))))
        cc_print_json(result)
        return self._done(CLI_EXIT_OK)

    def do_info(self, line: str) -> bool:
        """info: the server's name, version, protocol version, capabilities and instructions."""
        client = self.client
        cc_print_json({"serverInfo": client.server_info, "protocolVersion": client.protocol_version,
                       "era": client.era, "capabilities": client.server_capabilities,
                       "instructions": client.instructions})
        return self._done(CLI_EXIT_OK)

    def do_trace(self, line: str) -> bool:
        """trace on|off|explain: show the messages crossing, on stderr."""
        mode = line.strip() or "on"
        if mode not in ("on", "off", "explain"):
            raise CliFailure(CLI_EXIT_USAGE, "trace on|off|explain")
        from .tracing import Tracer
        self.client._channel.tracer = None if mode == "off" else Tracer(sys.stderr, explain=mode == "explain")
        return self._done(CLI_EXIT_OK)

    def do_json(self, line: str) -> bool:
        """json on|off: print results as the JSON the server sent (output; arguments: --arguments)."""
        mode = line.strip() or "on"
        if mode not in ("on", "off"):
            raise CliFailure(CLI_EXIT_USAGE, "json on|off")
        self.raw = mode == "on"
        return self._done(CLI_EXIT_OK)

    def do_quit(self, line: str) -> bool:
        """quit: leave (so do exit and Ctrl-D)."""
        return True

    do_exit = do_quit


    # --- completion ---

    def _complete(self, kind: str, text: str) -> List[str]:
        if not self._names:
            try:
                listing = cc_listing(self.client)
            except CliFailure:
                return []
            self._names = {
                "tools": [t.get("name") for t in listing.get("tools", [])],
                "prompts": [p.get("name") for p in listing.get("prompts", [])],
                "resources": [r.get("uri") for r in listing.get("resources", [])],
            }
        return sorted(str(n) for n in self._names.get(kind, []) if str(n).startswith(text))

    def complete_call(self, text: str, line: str, begidx: int, endidx: int) -> List[str]:
        return self._complete("tools", text) if len(line[:begidx].split()) == 1 else []

    def complete_prompt(self, text: str, line: str, begidx: int, endidx: int) -> List[str]:
        return self._complete("prompts", text) if len(line[:begidx].split()) == 1 else []

    def complete_read(self, text: str, line: str, begidx: int, endidx: int) -> List[str]:
        return self._complete("resources", text) if len(line[:begidx].split()) == 1 else []


def _split_json(words: List[str]) -> Any:
    """``key=value`` pairs, and the JSON after ``--arguments`` (or None). ``--json`` is read
    the same way: the old spelling, as on the command line."""
    pairs = []  # type: List[str]
    as_json = None
    index = 0
    while index < len(words):
        if words[index] in ("--json", "--arguments") and index + 1 < len(words):
            as_json = words[index + 1]
            index += 2
            continue
        pairs.append(words[index])
        index += 1
    return pairs, as_json
