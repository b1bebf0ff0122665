"""The commands that talk to a server through a ``Client``: ``ls``, ``call``, ``read``,
``prompt`` and ``shell`` (the same verbs, interactively). ``raw`` is in rawcmd.py.

Output: on stdout the results, made readable (``--json``: the result dicts exactly as
the server sent them, and nothing else); on stderr progress, the server's log messages
and errors, one line each. Tool arguments given as ``key=value`` are converted by the
tool's input schema (``count=3`` is the integer 3 when ``count`` is an integer,
``tags=a,b`` a list of strings...), ``key:=JSON`` gives a value as JSON, and
``--arguments '{...}'`` all of them at once; what does not fit the schema is refused before
anything is sent, naming the field and the reason. (``--json`` is about the output only;
``--json '{...}'``, the arguments' old spelling, is still read as ``--arguments``.)
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

from .cli import (
    CLI_EXIT_CONNECTION, CLI_EXIT_OK, CLI_EXIT_PROTOCOL, CLI_EXIT_TOOL_ERROR, CLI_EXIT_USAGE, CliFailure, cli_connect,
    cli_error, cli_error_text, cli_resolve_target, cli_status_of,
)
from .errors import CALL_ERRORS, MCPError

_DESCRIPTION_WIDTH = 72  # of the first line of a description, in `ls`
_TRUE = ("true", "yes", "y", "on", "1")
_FALSE = ("false", "no", "n", "off", "0")
# Numbers as people type them (and JSON writes them): ASCII digits only, which int() and
# float() would not insist on ("1_000", other scripts' digits), and no nan or inf, which
# JSON cannot carry.
_INTEGER = re.compile(r"^[+-]?[0-9]+$", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$", re.ASCII)


def add_client_commands(commands: Any, common: Any) -> None:
    """Add ``ls``, ``call``, ``read``, ``prompt``, ``raw`` and ``shell``."""
    ls = commands.add_parser("ls", parents=[common], help="list tools, resources, templates and prompts",
                             description="List what the server offers, one line each: tools with their "
                                         "parameters (name?: optional, = default), resources, templates, "
                                         "prompts. --json prints the lists as the server sent them.")
    ls.add_argument("target", metavar="TARGET")
    ls.add_argument("--tokens", action="store_true",
                    help="with a configuration file: the size of each tool's definition and of each server's "
                         "(characters of JSON, tokens estimated as characters / 4)")
    ls.add_argument("--provider", choices=("openai", "openai-responses", "anthropic", "gemini"), default=None,
                    help="with --tokens: measure the tools in this model API's format (default: MCP's)")
    ls.set_defaults(run=_ls)

    call = commands.add_parser("call", parents=[common], help="call a tool: call TARGET TOOL key=value ...",
                               description="Call a tool. Arguments: key=value (converted by the tool's input "
                                           "schema), key:=JSON (a JSON value), or --arguments '{...}' with "
                                           "all of them. --json is about the output: the result as the server "
                                           "sent it. Exit status 5 when the tool's result has isError.")
    call.add_argument("target", metavar="TARGET")
    call.add_argument("tool", metavar="TOOL")
    # default=None (a fresh [] each parse): without a default argparse names key=value among "the
    # following arguments are required"; a list default would be one list shared by every parse.
    call.add_argument("pairs", metavar="key=value", nargs="*", default=None)
    call.add_argument("--arguments", dest="arguments_json", metavar="JSON",
                      help="input: the arguments as one JSON object (--json is for the output)")
    call.set_defaults(run=_call)

    read = commands.add_parser("read", parents=[common], help="read a resource: read TARGET URI",
                               description="Read a resource and print its text (a binary one is summed up, "
                                           "or written whole with -o).")
    read.add_argument("target", metavar="TARGET")
    read.add_argument("uri", metavar="URI")
    read.add_argument("-o", "--output", metavar="FILE", help="write the (first) contents to FILE, decoded")
    read.set_defaults(run=_read)

    prompt = commands.add_parser("prompt", parents=[common], help="get a prompt: prompt TARGET NAME key=value ...",
                                 description="Get a prompt with its arguments (strings: key=value, or "
                                             "--arguments '{...}' with all of them) and print its messages "
                                             "(--json: the result as the server sent it).")
    prompt.add_argument("target", metavar="TARGET")
    prompt.add_argument("name", metavar="NAME")
    prompt.add_argument("pairs", metavar="key=value", nargs="*", default=None)
    prompt.add_argument("--arguments", dest="arguments_json", metavar="JSON",
                        help="input: the arguments as one JSON object (--json is for the output)")
    prompt.set_defaults(run=_prompt)

    from .rawcmd import add_raw_command
    add_raw_command(commands, common)

    shell = commands.add_parser("shell", parents=[common], help="an interactive session with the same verbs",
                                description="Connect once, then type ls, call, read, prompt, request "
                                            "(any method), trace, json, help or quit. Tab completes "
                                            "commands and names where readline is available.")
    shell.add_argument("target", metavar="TARGET")
    shell.set_defaults(run=_shell)


# --- connecting and calling ---------------------------------------------------------------------

def cc_open(args: Any, interactive: bool = False) -> Any:
    """The connected Client for ``args.target``, with the command line's handlers: log
    messages on stderr and, on a terminal, questions (elicitation) asked of the user."""
    target = cli_resolve_target(args.target)
    options = {"on_log": _show_log}  # type: Dict[str, Any]
    if interactive or _can_ask():
        options["elicitation"] = _elicit
    client = cli_connect(args, target, **options)
    client.cli_target = target
    return client


def cc_calling(client: Any, what: str, fn: Callable[..., Any], *fn_args: Any, **fn_kwargs: Any) -> Any:
    """``fn(*fn_args, **fn_kwargs)``, its failure one line (CliFailure) naming ``what``."""
    try:
        return fn(*fn_args, **fn_kwargs)
    except CALL_ERRORS as exc:
        raise CliFailure(cli_status_of(exc), "%s: %s" % (what, cli_error_text(exc, cc_url(client))))
    except ValueError as exc:  # a bad argument the Client itself refused
        raise CliFailure(CLI_EXIT_USAGE, "%s: %s" % (what, exc))


def _has(client: Any, capability: str) -> bool:
    return isinstance(client.server_capabilities, dict) and capability in client.server_capabilities


def _list(client: Any, method: str, fn: Callable[[], List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    from .jsonrpc import METHOD_NOT_FOUND
    try:
        return fn()
    except CALL_ERRORS as exc:
        if isinstance(exc, MCPError) and exc.code == METHOD_NOT_FOUND and method == "resources/templates/list":
            return []  # resources without templates: servers that skip the method exist
        raise CliFailure(cli_status_of(exc), "%s: %s" % (method, cli_error_text(exc, cc_url(client))))


def cc_url(client: Any) -> Optional[str]:
    """The URL of the server ``client`` talks to (None: not over HTTP). (``cc_open`` made
    every client the commands use, and gave it its ``cli_target``.)"""
    return client.cli_target.url


def cc_listing(client: Any) -> Dict[str, List[Dict[str, Any]]]:
    """Everything the server lists, for the capabilities it declared."""
    listing = {}  # type: Dict[str, List[Dict[str, Any]]]
    if _has(client, "tools"):
        listing["tools"] = _list(client, "tools/list", client.list_tools)
    if _has(client, "resources"):
        listing["resources"] = _list(client, "resources/list", client.list_resources)
        listing["resourceTemplates"] = _list(client, "resources/templates/list", client.list_resource_templates)
    if _has(client, "prompts"):
        listing["prompts"] = _list(client, "prompts/list", client.list_prompts)
    return listing


def cc_print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# --- ls -------------------------------------------------------------------------------------------

def _ls(args: Any) -> int:
    if getattr(args, "host_config", None) is not None:
        return _ls_host(args)
    with cc_open(args) as client:
        listing = cc_listing(client)
    if args.json:
        cc_print_json(listing)
        return CLI_EXIT_OK
    sys.stdout.write(cc_format_listing(listing, client))
    return CLI_EXIT_OK


def _ls_host(args: Any) -> int:
    """``ls mcp.json``: every server of a configuration started at once (as a ``Host``
    does), their tools under the host's names; the servers that failed on stderr (and exit
    status 3)."""
    from .host import CHARS_PER_TOKEN, Host

    import logging
    logging.getLogger("mcplite").addHandler(logging.NullHandler())  # (failures are reported below)
    with Host(args.host_config, timeout=args.timeout, start_timeout=args.timeout) as host:
        size = host.catalog_size(args.provider)
        by_server = {}  # type: Dict[str, List[Dict[str, Any]]]
        for tool in host.tools():
            by_server.setdefault(host.resolve(tool["name"])[0], []).append(tool)
        servers = host.servers
        failures = list(host.failures)
        disabled = list(host.disabled)
    if args.json:
        document = {"servers": {name: {"tools": by_server.get(name, [])} for name in servers},
                    "failures": [{"name": f.name, "reason": f.reason, "stderr": f.stderr} for f in failures],
                    "disabled": disabled}  # type: Dict[str, Any]
        if args.tokens:
            document["size"] = size
        cc_print_json(document)
    else:
        out = []  # type: List[str]
        for name in servers:
            tools = by_server.get(name, [])
            head = "%s: tools (%d)" % (name, len(tools))
            if args.tokens:
                head += "  %s" % _cc_size(size["servers"].get(name, {"chars": 0, "tokens": 0}))
            out.append(head)
            for tool in tools:
                line = "  " + cc_tool_signature(tool)
                if args.tokens:
                    line += "  [%s]" % _cc_size(size["servers"][name]["tools"][tool["name"]])
                out.append(line)
        for name in disabled:
            out.append("%s: disabled" % name)
        if args.tokens:
            out.append("total: %s; in search mode (find_tools, call_tool): %s" % (
                _cc_size(size), _cc_size({"chars": size["search_chars"], "tokens": size["search_tokens"]})))
            out.append("(tokens estimated as characters / %d; %s)" % (
                CHARS_PER_TOKEN, "as " + args.provider + " tools" if args.provider else "as MCP tool definitions"))
        sys.stdout.write("".join(line + "\n" for line in out))
        sys.stdout.flush()
    for failure in failures:
        cli_error("ls", "%s: %s" % (failure.name, failure.reason))
    return CLI_EXIT_CONNECTION if failures else CLI_EXIT_OK


def _cc_size(entry: Dict[str, Any]) -> str:
    return "%d chars, ~%d tokens" % (entry["chars"], entry["tokens"])


def cc_format_listing(listing: Dict[str, List[Dict[str, Any]]], client: Any = None) -> str:
    out = []  # type: List[str]
    if client is not None:
        info = client.server_info or {}
        out.append("%s %s, protocol %s" % (info.get("name", "?"), info.get("version", ""), client.protocol_version))
    sections = (("tools", "tools", cc_tool_signature), ("resources", "resources", _resource_line),
                ("resourceTemplates", "templates", _template_line), ("prompts", "prompts", _prompt_signature))
    for key, title, line_of in sections:
        if key not in listing:
            continue
        items = listing[key]
        out.append("%s (%d)" % (title, len(items)))
        for item in items:
            line = "  " + line_of(item)
            description = _first_line(item.get("description"))
            if description:
                line += "  - " + description
            out.append(line)
    if not listing:
        out.append("(the server declares no tools, resources or prompts)")
    return "\n".join(out) + "\n"


def _first_line(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        return ""
    line = text.strip().splitlines()[0].strip()
    return line if len(line) <= _DESCRIPTION_WIDTH else line[:_DESCRIPTION_WIDTH - 3].rstrip() + "..."


def cc_type_text(schema: Any, depth: int = 0) -> str:
    """A JSON Schema as a short type: ``integer``, ``string[]``, ``"a" | "b"``, ``Movie``."""
    if not isinstance(schema, dict) or depth > 4:
        return "any"
    if "const" in schema:
        return json.dumps(schema["const"])
    if isinstance(schema.get("enum"), list):
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if isinstance(schema.get("$ref"), str):
        return schema["$ref"].rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return " | ".join(cc_type_text(branch, depth + 1) for branch in schema[key])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(cc_type_text(dict(schema, type=k), depth + 1) for k in kind)
    if kind == "array":
        items = schema.get("items")
        inner = cc_type_text(items, depth + 1) if isinstance(items, dict) else "any"
        return ("(%s)[]" % inner) if " | " in inner else inner + "[]"
    if kind == "object" and isinstance(schema.get("properties"), dict) and depth > 0:
        return "{%s}" % ", ".join(sorted(schema["properties"]))
    return kind if isinstance(kind, str) else "any"


def cc_tool_signature(tool: Dict[str, Any]) -> str:
    """``name(a: integer, b?: string = "x") -> integer``"""
    schema = tool.get("inputSchema") if isinstance(tool.get("inputSchema"), dict) else {}
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    params = []
    for name, prop in properties.items():
        text = "%s%s: %s" % (name, "" if name in required else "?", cc_type_text(prop))
        if isinstance(prop, dict) and "default" in prop:
            text += " = " + json.dumps(prop["default"], ensure_ascii=False)
        params.append(text)
    line = "%s(%s)" % (tool.get("name"), ", ".join(params))
    output = tool.get("outputSchema")
    if isinstance(output, dict):
        props = output.get("properties") if isinstance(output.get("properties"), dict) else {}
        # A value that is not an object travels wrapped as {"result": value}.
        shown = props["result"] if list(props) == ["result"] else output
        line += " -> " + cc_type_text(shown, 1 if shown is output else 0)
    return line


def _resource_line(resource: Dict[str, Any]) -> str:
    line = str(resource.get("uri"))
    if resource.get("name") and resource.get("name") != resource.get("uri"):
        line += "  " + str(resource["name"])
    if resource.get("mimeType"):
        line += "  (%s)" % resource["mimeType"]
    return line


def _template_line(template: Dict[str, Any]) -> str:
    line = str(template.get("uriTemplate"))
    if template.get("name"):
        line += "  " + str(template["name"])
    if template.get("mimeType"):
        line += "  (%s)" % template["mimeType"]
    return line


def _prompt_signature(prompt: Dict[str, Any]) -> str:
    arguments = prompt.get("arguments") if isinstance(prompt.get("arguments"), list) else []
    names = ["%s%s" % (a.get("name"), "" if a.get("required") else "?") for a in arguments if isinstance(a, dict)]
    return "%s(%s)" % (prompt.get("name"), ", ".join(names))


# --- arguments --------------------------------------------------------------------------------------

def cc_arguments(pairs: List[str], as_json: Optional[str], schema: Optional[Dict[str, Any]],
                 strings_only: bool = False) -> Dict[str, Any]:
    """The arguments of ``key=value`` / ``key:=JSON`` pairs (converted by ``schema``'s
    properties) and ``as_json``; CliFailure (usage) for anything that does not fit."""
    arguments = {}  # type: Dict[str, Any]
    if as_json is not None:
        try:
            arguments = cc_json(as_json)
        except ValueError as exc:
            raise CliFailure(CLI_EXIT_USAGE, "the arguments are not JSON: %s" % exc)
        if not isinstance(arguments, dict):
            raise CliFailure(CLI_EXIT_USAGE, "the arguments must be a JSON object, not %s" % type(arguments).__name__)
    properties = (schema or {}).get("properties") if isinstance((schema or {}).get("properties"), dict) else {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key or (pair.lstrip()[:1] in ("{", "[") and _is_json(pair)):
            raise CliFailure(CLI_EXIT_USAGE, "arguments are key=value (or key:=JSON), not %r%s" % (
                pair, " (all of them as JSON: --arguments '{...}')" if pair.lstrip()[:1] in ("{", "[") else ""))
        if key.endswith(":") and not strings_only:
            key = key[:-1]
            try:
                value = cc_json(text)
            except ValueError as exc:
                raise CliFailure(CLI_EXIT_USAGE, "argument %r: %r is not JSON (%s)" % (key, text, exc))
        elif strings_only:
            value = text
        else:
            value = cc_convert(key, text, properties.get(key))
        arguments[key] = value
    return arguments


def _is_json(text: str) -> bool:
    try:
        cc_json(text)
    except ValueError:
        return False
    return True


def cc_json(text: str) -> Any:
    """JSON as the standard says it: NaN and Infinity (which Python's json reads) refused."""
    def refuse(constant: str) -> Any:
        raise ValueError("%s is not JSON" % constant)
    return json.loads(text, parse_constant=refuse)


def cc_convert(key: str, text: str, schema: Any) -> Any:
    """``text`` as the value ``schema`` asks for; CliFailure (usage) when it cannot be."""
    value, problem = _try_convert(text, schema, 0)
    if problem is not None:
        raise CliFailure(CLI_EXIT_USAGE, "argument %r: %s" % (key, problem))
    return value


def _try_convert(text: str, schema: Any, depth: int) -> Tuple[Any, Optional[str]]:
    if not isinstance(schema, dict) or depth > 4:
        return _guess(text), None  # no schema (an unknown key the server will judge)
    if "const" in schema:
        if text == _as_text(schema["const"]):
            return schema["const"], None
        return None, "expected %s, got %r" % (json.dumps(schema["const"]), text)
    if isinstance(schema.get("enum"), list):
        for option in schema["enum"]:
            if text == _as_text(option):
                return option, None
        return None, "expected one of %s, got %r" % (", ".join(json.dumps(o) for o in schema["enum"]), text)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        problems = []
        for branch in branches:
            value, problem = _try_convert(text, branch, depth + 1)
            if problem is None:
                return value, None
            problems.append(problem)
        return None, "fits none of the types allowed (%s)" % cc_type_text(schema)
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if isinstance(kinds, str) else []
    if not kinds:
        return _guess(text), None
    # Most specific first: "3" is the integer 3 for ["integer", "string"].
    order = ("null", "boolean", "integer", "number", "array", "object", "string")
    for kind in sorted(kinds, key=lambda k: order.index(k) if k in order else len(order)):
        value, ok = _as_kind(text, kind, schema, depth)
        if ok:
            return value, None
    return None, "expected %s, got %r" % (cc_type_text(schema), text)


def _as_kind(text: str, kind: str, schema: Dict[str, Any], depth: int) -> Tuple[Any, bool]:
    lowered = text.strip().lower()
    if kind == "string":
        return text, True
    if kind == "null":
        return None, lowered in ("null", "none")
    if kind == "boolean":
        if lowered in _TRUE:
            return True, True
        if lowered in _FALSE:
            return False, True
        return None, False
    if kind == "integer":
        if not _INTEGER.match(text.strip()):
            return None, False
        return int(text.strip()), True
    if kind == "number":
        if not _NUMBER.match(text.strip()):
            return None, False
        if _INTEGER.match(text.strip()):
            return int(text.strip()), True  # "2" stays 2, as typed
        number = float(text.strip())
        return (number, True) if number not in (float("inf"), float("-inf")) else (None, False)
    if kind in ("array", "object"):
        stripped = text.strip()
        if stripped[:1] in ("[", "{"):
            try:
                value = cc_json(stripped)
            except ValueError:
                return None, False
            return value, isinstance(value, list if kind == "array" else dict)
        if kind == "array":  # a,b,c: each item converted by the items schema
            items = schema.get("items")
            values = []
            for part in (p.strip() for p in text.split(",") if p.strip()):
                value, problem = _try_convert(part, items, depth + 1)
                if problem is not None:
                    return None, False
                values.append(value)
            return values, True
    return None, False


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _guess(text: str) -> Any:
    """A value with no schema to go by: JSON when it reads as JSON, else the string."""
    try:
        return cc_json(text)
    except ValueError:
        return text


def _check_arguments(tool: Dict[str, Any], arguments: Dict[str, Any]) -> None:
    schema = tool.get("inputSchema")
    if not isinstance(schema, dict):
        return
    from .schema import compile_schema
    try:
        check = compile_schema(schema)
    except Exception:  # a schema our validator cannot read: the server will judge
        return
    problem = check(arguments)
    if problem:
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        raise CliFailure(CLI_EXIT_USAGE, "%s: %s (the tool takes: %s)" % (
            tool.get("name"), problem, cc_tool_signature(tool).split("(", 1)[1].rsplit(")", 1)[0]
            if properties else "no arguments"))


# --- call -----------------------------------------------------------------------------------------

def _call(args: Any) -> int:
    with cc_open(args) as client:
        return cc_run_call(client, args.tool, args.pairs, args.arguments_json, args.json)


def cc_run_call(client: Any, name: str, pairs: List[str], as_json: Optional[str], raw: bool) -> int:
    """Look the tool up, convert and check its arguments, call it with progress shown;
    print the result; the exit status."""
    tools = _list(client, "tools/list", client.list_tools) if _has(client, "tools") else []
    tool = next((t for t in tools if t.get("name") == name), None)
    if tool is None:
        names = ", ".join(sorted(str(t.get("name")) for t in tools)) or "none"
        raise CliFailure(CLI_EXIT_PROTOCOL, "no tool named %r on this server (its tools: %s)" % (name, names))
    arguments = cc_arguments(pairs, as_json, tool.get("inputSchema"))
    _check_arguments(tool, arguments)
    meter = CcProgress(sys.stderr)
    try:
        result = cc_calling(client, name, _call_tool, client, name, arguments, meter.update)
    finally:
        meter.done()
    if raw:
        cc_print_json(result)
    else:
        sys.stdout.write(cc_format_content(result.get("content"), result.get("structuredContent")))
        sys.stdout.flush()
    if result.get("isError"):
        cli_error("call", "%s reported an error (its result has isError: true)" % name)
        return CLI_EXIT_TOOL_ERROR
    return CLI_EXIT_OK


def _call_tool(client: Any, name: str, arguments: Dict[str, Any], progress: Callable[..., Any]) -> Dict[str, Any]:
    """``tools/call``, as a task when the tool can only run as one (the server said so with
    -32021 naming the tasks extension): waited for, its questions asked of the user."""
    from .jsonrpc import MISSING_REQUIRED_CLIENT_CAPABILITY
    from .protocol import TASKS_EXTENSION
    try:
        return client.call_tool(name, arguments, progress=progress)
    except MCPError as exc:
        data = exc.data if isinstance(exc.data, dict) else {}
        required = data.get("requiredCapabilities")
        extensions = required.get("extensions") if isinstance(required, dict) else None
        if (exc.code != MISSING_REQUIRED_CLIENT_CAPABILITY or client.era != "modern"
                or not isinstance(extensions, dict) or TASKS_EXTENSION not in extensions):
            raise
    return client.call_tool(name, arguments, progress=progress, task=True)


def cc_format_content(content: Any, structured: Any = None) -> str:
    """Content blocks as text: text as it is, other blocks summed up on a line each."""
    out = []  # type: List[str]
    for block in content if isinstance(content, list) else []:
        out.append(_block_text(block))
    if not out and structured is not None:
        out.append(json.dumps(structured, indent=2, ensure_ascii=False))
    text = "\n".join(out)
    return text + "\n" if text and not text.endswith("\n") else text


def _block_text(block: Any) -> str:
    if not isinstance(block, dict):
        return json.dumps(block, ensure_ascii=False)
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind in ("image", "audio"):
        return "[%s %s, %s]" % (kind, block.get("mimeType", "?"), _size(block.get("data")))
    if kind == "resource_link":
        return "[resource link %s%s]" % (block.get("uri"), " (%s)" % block["name"] if block.get("name") and
                                         block.get("name") != block.get("uri") else "")
    if kind == "resource":
        return _contents_text(block.get("resource"))
    return json.dumps(block, ensure_ascii=False)


def _contents_text(contents: Any) -> str:
    if not isinstance(contents, dict):
        return json.dumps(contents, ensure_ascii=False)
    if "text" in contents:
        return str(contents["text"])
    return "[%s %s, %s]" % (contents.get("uri"), contents.get("mimeType", "binary"), _size(contents.get("blob")))


def _size(data: Any) -> str:
    if not isinstance(data, str):
        return "no data"
    size = len(data) * 3 // 4 - data[-2:].count("=")
    return "%d bytes" % size


class CcProgress:
    """Progress notifications of one call on ``stream``: one line redrawn on a terminal,
    plain lines otherwise."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.drawn = False

    def update(self, progress: Any, total: Any = None, message: Any = None) -> None:
        known_total = isinstance(total, (int, float)) and total > 0 and isinstance(progress, (int, float))
        text = "%s/%s" % (_number(progress), _number(total)) if known_total else _number(progress)
        if message:
            text += " " + str(message)
        try:
            if self.tty:
                bar = ""
                if known_total:
                    bar = "[%-20s] " % ("#" * int(max(0.0, min(1.0, progress / float(total))) * 20))
                self.stream.write("\r\x1b[K" + (bar + text)[:200])
                self.drawn = True
            else:
                self.stream.write("progress: %s\n" % text)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def done(self) -> None:
        if self.drawn:
            try:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self.drawn = False


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _show_log(params: Dict[str, Any]) -> None:
    data = params.get("data")
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    logger = params.get("logger")
    try:
        sys.stderr.write("[%s]%s %s\n" % (params.get("level", "?"), " " + str(logger) + ":" if logger else "", text))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# --- questions from the server ------------------------------------------------------------------------

def _can_ask() -> bool:
    """Whether there is a person to ask: stdin and stderr are a terminal."""
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _elicit(params: Dict[str, Any]) -> Dict[str, Any]:
    """Ask the user what the server wants to know, on the terminal."""
    sys.stderr.write("\nThe server asks: %s\n" % params.get("message", ""))
    if params.get("mode") == "url":
        sys.stderr.write("Open %s, then press Enter (or type n and Enter to decline): " % params.get("url"))
        sys.stderr.flush()
        answer = sys.stdin.readline().strip().lower()
        return {"action": "decline" if answer in ("n", "no") else "accept"}
    schema = params.get("requestedSchema") if isinstance(params.get("requestedSchema"), dict) else {}
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    content = {}  # type: Dict[str, Any]
    sys.stderr.write("(an empty answer skips an optional field; Ctrl-D declines)\n")
    for name, prop in properties.items():
        while True:
            hint = cc_type_text(prop)
            if isinstance(prop, dict) and "default" in prop:
                hint += ", default %s" % json.dumps(prop["default"])
            title = prop.get("title") or prop.get("description") or name if isinstance(prop, dict) else name
            sys.stderr.write("  %s%s (%s): " % (title, "" if name in required else " [optional]", hint))
            sys.stderr.flush()
            line = sys.stdin.readline()
            if not line:
                sys.stderr.write("\n")
                return {"action": "decline"}
            line = line.rstrip("\n")
            if not line:
                if isinstance(prop, dict) and "default" in prop:
                    content[name] = prop["default"]
                    break
                if name not in required:
                    break
                sys.stderr.write("  (required)\n")
                continue
            value, problem = _try_convert(line, prop, 0)
            if problem is None:
                content[name] = value
                break
            sys.stderr.write("  %s\n" % problem)
    return {"action": "accept", "content": content}


# --- read and prompt -----------------------------------------------------------------------------------

def _read(args: Any) -> int:
    with cc_open(args) as client:
        result = cc_calling(client, args.uri, client.read_resource, args.uri)
    return cc_show_read(result, args.json, args.output)


def cc_show_read(result: Dict[str, Any], raw: bool, output: Optional[str] = None) -> int:
    contents = result.get("contents") if isinstance(result.get("contents"), list) else []
    if output is not None:
        if not contents:
            raise CliFailure(CLI_EXIT_PROTOCOL, "the resource has no contents to write")
        first = contents[0] if isinstance(contents[0], dict) else {}
        if "blob" in first:
            import base64
            import binascii
            try:
                data = base64.b64decode(str(first["blob"]), validate=True)
            except (binascii.Error, ValueError):
                raise CliFailure(CLI_EXIT_PROTOCOL, "the resource's blob is not base64")
        else:
            data = str(first.get("text", "")).encode("utf-8")
        try:
            with open(output, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise CliFailure(1, "cannot write %s: %s" % (output, exc.strerror or exc))
    if raw:
        cc_print_json(result)
    elif output is None:
        text = "\n".join(_contents_text(c) for c in contents)
        sys.stdout.write(text + ("\n" if text and not text.endswith("\n") else ""))
    return CLI_EXIT_OK


def _prompt(args: Any) -> int:
    with cc_open(args) as client:
        return cc_run_prompt(client, args.name, args.pairs, args.arguments_json, args.json)


def cc_run_prompt(client: Any, name: str, pairs: List[str], as_json: Optional[str], raw: bool) -> int:
    prompts = _list(client, "prompts/list", client.list_prompts) if _has(client, "prompts") else []
    prompt = next((p for p in prompts if p.get("name") == name), None)
    if prompt is None:
        names = ", ".join(sorted(str(p.get("name")) for p in prompts)) or "none"
        raise CliFailure(CLI_EXIT_PROTOCOL, "no prompt named %r on this server (its prompts: %s)" % (name, names))
    arguments = cc_arguments(pairs, as_json, None, strings_only=True)
    declared = [a for a in prompt.get("arguments") or [] if isinstance(a, dict)]
    known = [a.get("name") for a in declared]
    for key, value in arguments.items():
        if key not in known:
            raise CliFailure(CLI_EXIT_USAGE, "%s takes no argument %r (its arguments: %s)"
                             % (name, key, ", ".join(str(k) for k in known) or "none"))
        if not isinstance(value, str):
            raise CliFailure(CLI_EXIT_USAGE, "argument %r: prompt arguments are strings" % key)
    missing = [a.get("name") for a in declared if a.get("required") and a.get("name") not in arguments]
    if missing:
        raise CliFailure(CLI_EXIT_USAGE, "%s needs %s" % (name, ", ".join(repr(m) for m in missing)))
    result = cc_calling(client, name, client.get_prompt, name, arguments)
    if raw:
        cc_print_json(result)
        return CLI_EXIT_OK
    out = []
    if result.get("description"):
        out.append("# " + str(result["description"]))
    for message in result.get("messages") or []:
        if isinstance(message, dict):
            content = message.get("content")
            blocks = content if isinstance(content, list) else [content]
            out.append("[%s] %s" % (message.get("role", "?"), cc_format_content(blocks).rstrip("\n")))
    sys.stdout.write("\n".join(out) + "\n" if out else "")
    return CLI_EXIT_OK


# --- shell -------------------------------------------------------------------------------------------

def _shell(args: Any) -> int:
    from .shell import run_shell
    with cc_open(args, interactive=True) as client:
        return run_shell(client, args)
