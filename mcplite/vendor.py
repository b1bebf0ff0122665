"""The one-file mcplite: ``build(out_dir)`` writes ``out_dir/mcplite.py``, the whole package as
a single module, for hosts where nothing gets installed (copy the file beside your server).
``python -m mcplite vendor DIR`` runs it.

The file is made from the package's own sources. Each module is read with ``ast`` and edited
as source lines, so its comments and layout stay as written:

* Relative imports go, since in one file every module's top-level names share one namespace
  (the package keeps those names distinct so that this works; the build checks it). An import
  run at import time (module level, a class body, an ``if`` or ``try`` there) orders the
  modules: the imported one comes first. One inside a function (a lazy import) just goes. An
  ``as`` alias becomes an assignment, and an import in a class body ``name = name``, so the
  same names are bound as before. A lazy import of a module left out of the file becomes
  ``raise ImportError(...)``, what a missing module would give.
* ``from __future__`` imports move to the top, once, but for ``annotations``, which is left
  out: at the top it would stop a Python older than 3.7 from compiling the file at all, where
  the file's first lines tell it in one sentence that it is too old (``__init__.py`` does
  not have it, for the same reason). The package's modules have it only so that importing
  them does not evaluate their annotations; in the one file those are evaluated, so each
  must also be valid without it (the one file's tests run every section, on Python 3.8
  too). Any other feature that changes what code means must then be in every module.
  Plain standard-library imports at module level (not under ``try`` or ``if``) are gathered
  at the top too, once each: importing a module twice binds the same object, so this
  changes nothing but the reading.
* A module-level ``__getattr__`` (the PEP 562 lazy loading of ``__init__``) is dropped, with
  the module-level tables nothing else reads.
* What the package runs on first use, the file does too: a module that neither ``__init__``
  nor ``__main__`` imports at import time (directly or through another) becomes a function,
  ``_vendored_section_<name>()``, whose body is the module's, indented (but for the lines
  inside a string that spans lines), with a ``global`` statement for every name it binds;
  its standard-library imports stay in it. A lazy import of its names becomes
  ``_vendored_load("<name>")`` (run once, under a lock), and the file's own ``__getattr__``
  runs the section that defines a name asked for as ``mcplite.Client`` or ``from mcplite
  import Client``. So a stdio server imported from the file pays for neither ``http.client``
  nor ``subprocess`` nor the command line, as with the package; ``_vendored_load_all()``
  runs every section at once.
* The package docstring is the file's; each module's own docstring stays at the head of its
  section as a plain string. A module named ``__main__`` comes last, so that running the file
  (``python mcplite.py ...``) runs the command line, after ``__init__``'s own section (its
  version and ``__all__``), which follows every module. The others come in layer order
  (``LAYERS``, bottom up), each after the modules it imports at import time (should the two
  ever disagree, the import wins: a section never runs before what it needs), ties broken
  by their order in ``PARTS``, then by name, so two builds of the same sources are
  byte-identical. A module in no layer (one the package does not have) comes first.
* This module is left out: it reads the package's sources, which a copied file does not have.
* Names starting with ``_vendored`` or ``_VENDORED`` are the file's own: a module may not
  bind one.
* ``compact=True`` (``vendor --compact``) then takes the docstrings, comments and blank lines
  out of the file, puts each statement on one row and indents it one space a level
  (``compact_source``): the same code, about 40% fewer bytes, for hosts that count them; the
  header and the package docstring stay.

Every problem the edits could hide stops the build with a ``VendorError`` naming the module
and line: two modules binding one top-level name to different things, a module-level name
that is also a builtin (it would shadow the builtin in every module), a relative import of a
name its module does not bind, a lazy import whose name would not then reach the global (a
local or enclosing variable of the same name), an import cycle, or output that does not
compile. The file never looks itself up by name (no ``sys.modules[__name__]``, no
``import mcplite``), so it works renamed and inside another package.
"""

from __future__ import annotations

import __future__
import ast
import builtins
import os
import re
import symtable
import tokenize
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

BUNDLE_FILE = "mcplite.py"
# Modules of the package that are not in the one file: this builder.
LEFT_OUT = ("vendor",)
# On the first line of every generated file: how `build` tells its own output (which it may
# overwrite) from a file somebody else put there (which it may not, unless forced).
_VENDOR_MARK = "generated from the mcplite package by `python -m mcplite vendor"
_VENDOR_LINE_WIDTH = 100
_VENDOR_MIN_PYTHON = (3, 8)  # the one file says so at once on an older Python (so does the package)


# The layers of mcplite, bottom up: the living architecture (docs/architecture.md explains it).
# Each module belongs to one layer and may import only modules of its own layer or of a layer
# below; tests/test_layers.py checks every import against this table, and the one file puts its
# sections in this order. The table lives here, in the builder, because the builder is its one
# reader at run time: this module is left out of the one file (LEFT_OUT), so the table costs a
# vendored copy nothing, and a module of its own would be one more module to give a layer and
# to leave out. A new module must be given a layer here.
LAYERS = (
    # Standalone helpers: no MCP, and nothing of the package but each other.
    ("foundation", ("errors", "logs", "loopback", "schema", "coercion", "sealing", "es256", "jwtauth", "workers",
                    "processes", "tracing", "protocol", "skills", "apps")),
    # JSON-RPC 2.0 and the SSE wire format: messages, no MCP semantics.
    ("wire", ("jsonrpc", "sse")),
    # The declared interfaces between the protocol and the transports, and what one request is.
    ("ports", ("ports", "calls", "auth", "tracecontext", "otelspans")),
    # The state several worker processes share (tasks, change notifications, event logs):
    # rows in memory or a DB-API database, below the server that keeps them there.
    ("stores", ("stores", "pgstore")),
    # The server's protocol: asking the client, tasks, the handler's Context, registrations,
    # results, one handler per method, the Server facade.
    ("server", ("asking", "tasks", "context", "registry", "results", "dispatch", "server")),
    # The server's transports: a message-stream connection, stdio, in memory, Streamable HTTP.
    ("server transports", ("connection", "stdio", "memory", "httpapp", "httpparse", "httpserver", "wsgi")),
    # The client: its session, the facade, its channels (stdio, HTTP), OAuth, waiting on tasks.
    ("client", ("clientcache", "clientsession", "client", "channels", "httpclient", "oauth", "taskwait", "appview")),
    # The host: many clients from one configuration, the model APIs' tool formats, approval,
    # pins, audit. Nothing below knows it exists.
    ("host", ("hostformats", "hostconfig", "host")),
    # The gateway: upstream servers' tools, prompts and resources served by a Server.
    ("gateway", ("gateway",)),
    # The tools built on all of that: the command line, the compliance probe, the recorder,
    # the one-file builder.
    ("tools", ("cli", "clientcmds", "rawcmd", "shell", "probe", "recording", "vendor", "installcmds", "bridge",
               "inspector", "inspectpage", "__main__")),
    # The package: its public names, some loaded on first use.
    ("package", ("__init__",)),
)


# The parts of a one-file build, roughly bottom up (a part's modules may sit in several layers;
# the sections follow LAYERS whatever the parts):
# each part's name, the parts it needs, and its own modules. A build holds the parts asked for
# and those they need; "all", the default, is every part. ``__init__`` is in every build, its
# public names cut to what the build holds.
PARTS = (
    ("core", (), ("errors", "logs", "loopback", "protocol", "apps", "schema", "coercion", "sealing", "workers",
                  "jsonrpc", "ports", "calls", "tracecontext")),
    ("server", ("core",), ("asking", "context", "registry", "results", "dispatch", "server", "connection")),
    ("tasks", ("server",), ("tasks",)),
    ("stores", ("core",), ("stores", "pgstore")),
    ("memory", ("server",), ("memory",)),
    ("stdio", ("server",), ("stdio",)),
    ("jose", ("core",), ("es256", "jwtauth")),
    ("http", ("server", "jose"), ("auth", "sse", "httpapp", "httpparse", "httpserver", "wsgi")),
    ("trace", ("core",), ("tracing",)),
    ("otel", ("core",), ("otelspans",)),
    ("skills", ("core",), ("skills",)),
    ("client", ("core", "jose"), ("processes", "clientcache", "clientsession", "channels", "httpclient", "oauth",
                                  "taskwait", "client", "appview")),
    ("host", ("client",), ("hostformats", "hostconfig", "host")),
    ("gateway", ("server", "client", "host", "skills"), ("gateway",)),
    # (gateway: the proxy command is Server.mount)
    ("cli", ("server", "jose", "tasks", "stores", "memory", "stdio", "http", "trace", "otel", "skills", "client",
             "host", "gateway"),
     ("cli", "clientcmds", "rawcmd", "shell", "probe", "recording", "installcmds", "bridge", "inspectpage",
      "inspector", "__main__")),
)
ALL_PARTS = tuple(name for name, _, _ in PARTS)


class VendorError(Exception):
    """The package's sources cannot become one file (or the file cannot be written)."""


def select_parts(names: Sequence[str]) -> List[str]:
    """The parts a build of ``names`` holds, with the parts they need, in ``PARTS`` order."""
    known = {name: needs for name, needs, _ in PARTS}
    wanted = set()  # type: Set[str]
    waiting = list(ALL_PARTS) if "all" in names else list(names)
    while waiting:
        name = waiting.pop()
        if name not in known:
            raise VendorError("unknown part %r (the parts: all, %s)" % (name, ", ".join(ALL_PARTS)))
        if name not in wanted:
            wanted.add(name)
            waiting.extend(known[name])
    return [name for name in ALL_PARTS if name in wanted]


def part_modules(parts: Sequence[str]) -> List[str]:
    """The modules of ``parts`` (their own, not those of the parts they need), bottom up."""
    return [module for name, _, modules in PARTS if name in parts for module in modules]


def build(out_dir: str, force: bool = False, package_dir: Optional[str] = None,
          parts: Sequence[str] = ("all",), compact: bool = False) -> str:
    """Write ``out_dir/mcplite.py`` (``out_dir`` is created if missing) and return its path.

    An existing ``mcplite.py`` there is replaced only if this function wrote it, or with
    ``force=True``. ``package_dir`` defaults to the package this module belongs to; ``parts``
    (names from ``PARTS``, or "all") chooses what the file holds; ``compact=True`` leaves
    out the docstrings, comments and blank lines (see ``compact_source``).
    """
    path = os.path.join(out_dir, BUNDLE_FILE)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise VendorError("%s exists and is not a directory" % out_dir)
    if os.path.isdir(path):
        raise VendorError("%s is a directory" % path)
    if os.path.exists(path) and not force and not is_generated(path):
        raise VendorError("refusing to overwrite %s: it was not written by `mcplite vendor` "
                          "(--force, or force=True, overwrites it)" % path)
    package_dir = package_dir or os.path.dirname(os.path.abspath(__file__))
    text = make_bundle(read_package(package_dir), license_id=_vendor_license(package_dir), parts=parts,
                       compact=compact)
    os.makedirs(out_dir, exist_ok=True)
    temporary = path + ".tmp"
    try:
        with open(temporary, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def is_generated(path: str) -> bool:
    """Whether the file at ``path`` is one this module wrote (its first line says so)."""
    try:
        with open(path, "rb") as f:
            first = f.readline(4096)
    except OSError:
        return False
    return _VENDOR_MARK.encode("ascii") in first


def read_package(package_dir: str) -> Dict[str, str]:
    """The sources of the package's modules, ``{module name: text}``, without ``LEFT_OUT``."""
    sources = {}  # type: Dict[str, str]
    for filename in sorted(os.listdir(package_dir)):
        path = os.path.join(package_dir, filename)
        if os.path.isfile(os.path.join(path, "__init__.py")):
            raise VendorError("%s is a subpackage: the one-file build supports plain modules only" % path)
        name, ext = os.path.splitext(filename)
        if ext == ".py" and name not in LEFT_OUT:
            with tokenize.open(path) as f:  # honours a coding cookie; universal newlines
                sources[name] = f.read()
    if "__init__" not in sources:
        raise VendorError("%s has no __init__.py: not a package" % package_dir)
    return sources


def make_bundle(sources: Dict[str, str], license_id: Optional[str] = None, parts: Sequence[str] = ("all",),
                compact: bool = False) -> str:
    """The one file's text made from ``sources`` (``{module name: source}``, with
    ``__init__``), holding ``parts``, compacted with ``compact`` (``compact_source``); raises
    ``VendorError`` for anything that would not keep its meaning."""
    ranked = part_modules(ALL_PARTS)
    chosen = select_parts(parts)
    held = set(part_modules(chosen)) & set(sources)
    stray = sorted(name for name in sources if name != "__init__" and name not in ranked)
    if stray and chosen != list(ALL_PARTS):
        raise VendorError("%s: in no part of the one-file build (add to vendor.PARTS)"
                          % ", ".join("mcplite/%s.py" % name for name in stray))
    held.update(stray)  # (a whole build holds every module)
    part_of = {module: name for name, _, modules in PARTS for module in modules}
    absent = {name: "mcplite.%s is in the %s part, which this one-file build does not hold (parts: %s); build it "
                    "with that part too" % (name, part_of.get(name, "?"), ", ".join(chosen))
              for name in sources if name != "__init__" and name not in held}
    elsewhere = _names_elsewhere(sources, absent, chosen)
    sources = {name: text for name, text in sources.items() if name in held or name == "__init__"}
    modules = {name: _Module(name, text, set(sources), absent, compact) for name, text in sources.items()
               if name != "__init__"}
    bound = set()  # type: Set[str]
    for module in modules.values():
        bound.update(module.bindings)
    modules["__init__"] = _Module("__init__", _package_for(sources["__init__"], set(absent), bound),
                                  set(sources), absent)
    for module in modules.values():
        module.check_relative_imports(modules)
    _check_shared_names(modules)
    layer = {module: index for index, (_, members) in enumerate(LAYERS) for module in members}
    place = {name: index for index, name in enumerate(ranked)}
    order = _import_order(modules, {name: (layer.get(name, -1), place.get(name, -1)) for name in modules})
    for name in order:
        modules[name].check_lazy_scopes()
    package = modules["__init__"]
    version = package.version()
    lazy = _lazy_modules(modules)
    for name in lazy:
        modules[name].make_lazy()
    for module in modules.values():
        module.load_lazy_modules(lazy)

    out = [
        "# mcplite %s in one file, %s DIR%s%s`." % (version, _VENDOR_MARK, "" if chosen == list(ALL_PARTS)
                                                      else " --parts " + ",".join(chosen),
                                                      " --compact" if compact else ""),
        "# Do not edit it: change the package, then run that command again (from a checkout or an",
        "# install of the version you want). It needs only the Python 3.8+ standard library and",
        "# works under any module name: rename the file, or put it inside your own package.",
    ]
    if license_id:
        out.append("# SPDX-License-Identifier: %s" % license_id)
    out.append(package.docstring_source() or '"""mcplite in one file."""')
    future = _future_features(modules)
    if future:
        out += ["", "from __future__ import %s" % ", ".join(future)]
    # Before the imports below, any of which an older Python might fail on less clearly.
    out += ["", "import sys", "", "if sys.version_info < %r:" % (_VENDOR_MIN_PYTHON,),
            "    raise ImportError(\"mcplite needs Python %s or newer; this is Python %%d.%%d.%%d\"" %
            ".".join(map(str, _VENDOR_MIN_PYTHON)),
            "                      % tuple(sys.version_info[:3]))"]
    out += [""] + [line for line in _hoisted_imports(modules.values(), lazy) if line != "import sys"]
    out += ["",
            "# The package's modules this file was made from, in the order of its sections below:",
            "# tools that map ``mcplite.<module>`` names onto the one file read it.",
            _wrap("_VENDORED_MODULES = ", ['"%s",' % name for name in order], ("(", ")")),
            "# The parts of the package it holds (vendor.PARTS): a name of another part raises ImportError.",
            _wrap("_VENDORED_PARTS = ", ['"%s",' % name for name in chosen], ("(", ")"))]
    out += _lazy_machinery(modules, [name for name in order if name in lazy], elsewhere, chosen)
    for name in order:
        module = modules[name]
        if name in lazy:
            first = sorted(dep for dep in module.deps if dep in lazy)
            out += ["", "", _banner("mcplite/%s.py (run on first use)" % name), ""] + module.lazy_lines(first)
            continue
        body = module.section()
        if body:
            out += ["", "", _banner("mcplite/%s.py" % name), ""] + body
    if "__main__" not in modules:
        # Running the whole file is the command line (__main__ comes last); a build without it
        # would otherwise exit 0 having done nothing, which reads as success.
        out += ["", "", "if __name__ == \"__main__\":", "    import os",
                "    sys.stderr.write(os.path.basename(sys.argv[0]) + %r)"
                % (": the command line is in the cli part, which this one-file build does not hold (parts: %s); "
                   "build it with that part too\n" % ", ".join(chosen)),
                "    sys.exit(2)"]
    text = "\n".join(out) + "\n"
    if compact:
        text = compact_source(text)

    try:
        compile(text, BUNDLE_FILE, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise VendorError("the one file does not compile: %s (line %s of the output)" % (exc.msg, exc.lineno))
    bound.update(package.bindings)
    missing = [n for n in package.public_names() if n not in bound]
    if missing:
        raise VendorError("mcplite/__init__.py: __all__ names %s, which no module binds at its top level"
                          % ", ".join(missing))
    return text


def compact_source(text: str) -> str:
    """``text``, a module's source, with the same code and no docstrings, comments or blank
    lines, for ``compact=True``: the file is then about a third smaller, for hosts that count
    bytes (the package's text is the place to read the code).

    A docstring is the first statement of a class or function when it is a string (those of
    the modules' sections go in ``section_rows``); a body it leaves empty gets ``pass``. One
    that shares a line with other code stays. Every other string stays as it is, and so does
    every line inside a string that spans lines (a blank one there is part of the string).
    A statement wrapped on several rows (inside brackets, after a backslash) is joined onto
    its first row: there a line break means nothing. Each row is written again from its
    tokens with a space only where two would run together (``x=f(a,b)``), but for a row a
    string spanning lines begins or ends on, or one tokenize cannot give back as written
    (an f-string's parts on Python 3.12+): those stay as they are.
    The comments above the first statement (the file's header: the line ``is_generated``
    looks for, the license) and the module's docstring stay too.
    """
    lines = text.split("\n")
    inside = set()  # type: Set[int]  # 0-based rows within a string that spans lines, after its first
    cut = {}  # type: Dict[int, int]  # row -> column where its comment starts
    # Each row's indentation: one space a block level for a statement's first row, one more for
    # the rows it continues on (inside brackets or after a backslash, where it means nothing).
    depth_of = {}  # type: Dict[int, int]
    continued = set()  # type: Set[int]  # rows that go on a statement begun on an earlier row
    header = starting = True
    depth = 0
    layout = (tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
    # Each row's tokens, to write it again with no space but where one is needed; a row
    # holding anything else than names, numbers, one-row strings and operators (a string that
    # spans rows, an f-string's parts on Python 3.12+, a comment kept) is left as it is.
    tokens_of = {}  # type: Dict[int, List[tokenize.TokenInfo]]
    kept_as_is = set()  # type: Set[int]
    plain = (tokenize.NAME, tokenize.NUMBER, tokenize.STRING, tokenize.OP)
    for token in tokenize.generate_tokens(iter([line + "\n" for line in lines]).__next__):
        row = token.start[0] - 1
        if token.type in plain and token.start[0] == token.end[0]:
            tokens_of.setdefault(row, []).append(token)
        elif token.type not in layout and not (token.type == tokenize.COMMENT and not header):
            kept_as_is.update(range(row, token.end[0]))
        if token.type == tokenize.COMMENT:
            if not header:
                cut[row] = token.start[1]
        elif token.type == tokenize.INDENT:
            depth += 1
        elif token.type == tokenize.DEDENT:
            depth -= 1
        elif token.type == tokenize.NEWLINE:
            starting = True
        elif token.type not in layout:
            header = False
            if row not in depth_of:
                depth_of[row] = depth if starting else depth + 1
                if not starting:
                    continued.add(row)
            starting = False
        if token.start[0] != token.end[0] and token.type not in (tokenize.NEWLINE, tokenize.NL):
            inside.update(range(token.start[0], token.end[0]))
    drop = set()  # type: Set[int]
    replace = {}  # type: Dict[int, str]
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        first = node.body[0]
        if not (isinstance(first, ast.Expr) and isinstance(_constant(first.value), str)):
            continue
        start, end = first.lineno - 1, getattr(first, "end_lineno", first.lineno) - 1  # (Optional in typeshed)
        before = lines[start].encode("utf-8")[:first.col_offset].decode("utf-8", "replace")
        after = lines[end].encode("utf-8")[first.end_col_offset:].decode("utf-8", "replace").strip()  # type: ignore[attr-defined]
        if before.strip() or (after and not after.startswith("#")):
            continue
        drop.update(range(start, end + 1))
        if len(node.body) == 1:
            replace[start] = " " * depth_of[start] + "pass"
    out = []  # type: List[str]
    for row, line in enumerate(lines):
        if row in replace:
            out.append(replace[row])
        elif row in drop:
            continue
        elif row in inside:  # (only its end, after the string, may have a comment)
            out.append(line[:cut[row]].rstrip() if row in cut else line)
        else:
            line = line[:cut[row]].rstrip() if row in cut else line
            if not line.strip():
                continue
            if row not in kept_as_is and row in tokens_of:
                line = _tight_row(tokens_of[row])
            if row in continued and out:
                # A statement goes on one row: inside brackets (or after a backslash) a line
                # break means nothing, so the rows it was wrapped on are joined.
                # (lstrip only: a string that spans lines may begin on this row, and the
                # whitespace at its end is then the string's.)
                line = line.lstrip()
                last = out[-1]
                if last.endswith("\\"):
                    last = last[:-1].rstrip()
                out[-1] = last + (" " if _run_together(last, line) else "") + line
            else:
                out.append(" " * depth_of[row] + line.lstrip() if row in depth_of else line)
    return "\n".join(out) + "\n"


def _run_together(left: str, right: str) -> bool:
    """Whether ``left`` and ``right``, the ends of two tokens, would read as one without a
    space between them (a name or number, then a name or number; a number, then a dot)."""
    a, b = left[-1:], right[:1]
    return bool(a and b) and (a.isalnum() or a == "_") and (b.isalnum() or b in "_.")


def _tight_row(tokens: List[tokenize.TokenInfo]) -> str:
    """A row's tokens written with a space only where two would otherwise run together (a
    name or number next to a name or number, ``1 .real``): ``x = f(a, b)`` becomes
    ``x=f(a,b)``. Two operators never need one in code that parses: whatever they could
    run together into (``= =``, ``* *``) is not valid where they stand."""
    out = tokens[0].string
    for before, token in zip(tokens, tokens[1:]):
        if before.type == tokenize.NUMBER:  # (``1 .real``, ``1. if``, ``0x1 or``: always apart)
            apart = token.type in (tokenize.NAME, tokenize.NUMBER) or token.string[0] == "."
        else:
            apart = _run_together(before.string, token.string) and token.string[0] != "."
        if apart:
            out += " "
        out += token.string
    return out


def _package_for(text: str, absent: Set[str], bound: Set[str]) -> str:
    """``__init__``'s source for a build without the modules ``absent``: their imports go, and
    ``__all__`` keeps the names the build binds (``bound``, and the package's own)."""
    if not absent:
        return text
    lines = text.splitlines()
    tree = ast.parse(text)
    own = {target.id for node in tree.body if isinstance(node, ast.Assign)
           for target in node.targets if isinstance(target, ast.Name)}
    edits = []  # type: List[Tuple[int, int, List[str]]]
    for node in tree.body:
        end = getattr(node, "end_lineno", node.lineno)  # (3.8 has it; typeshed's ast for 3.8 says maybe not)
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module in absent:
            edits.append((node.lineno - 1, end, []))
        elif isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            names = [name for name in ast.literal_eval(node.value) if name in bound or name in own]
            edits.append((node.lineno - 1, end,
                          _wrap("__all__ = ", ['"%s",' % name for name in names], ("[", "]")).split("\n")))
    for start, end, replacement in sorted(edits, reverse=True):
        lines[start:end] = replacement
    return "\n".join(lines) + "\n"


# --- one module -------------------------------------------------------------------------------

# A top-level binding, to compare across modules: ("own", module) for what a module defines
# itself, ("module", dotted name) for `import x` / `import x.y as z`, ("from", module, name)
# for `from x import y`. Two modules may bind one name only with the same key.
_BindingKey = Tuple[str, ...]


class _Module:
    """One module of the package: what it imports and binds, and the edits that make it a
    section of the one file."""

    def __init__(self, name: str, text: str, all_names: Set[str], absent: Optional[Dict[str, str]] = None,
                 compact: bool = False) -> None:
        self.name = name
        self.compact = compact  # the section leaves out the module's docstring too
        self.filename = "mcplite/%s.py" % name
        self.all_names = all_names
        self.absent = absent or {}  # modules of the package left out of this build: why
        self.lines = text.splitlines()
        try:
            self.tree = ast.parse(text, self.filename)
        except SyntaxError as exc:
            raise VendorError("%s:%s: does not parse: %s" % (self.filename, exc.lineno, exc.msg))
        self.deps = set()  # type: Set[str]  # modules imported at import time
        self.future = set()  # type: Set[str]
        self.hoisted = set()  # type: Set[Tuple[str, str, str]]  # (module, name or "", asname or "")
        self.bindings = {}  # type: Dict[str, Tuple[_BindingKey, int]]  # name -> (key, line)
        self.imported = []  # type: List[Tuple[str, str, int]]  # relative imports: (module, name, line)
        self.lazy = []  # type: List[Tuple[ast.AST, List[str]]]  # (function, names it imported)
        # Edits: first line (0-based) -> (last line, replacement lines). A removed statement's
        # lines become None (then dropped with the blank lines around them, see section()).
        self.edits = {}  # type: Dict[int, Tuple[int, List[str]]]
        self.docstring = None  # type: Optional[ast.stmt]
        self.dropped = set()  # type: Set[int]  # id() of statements removed whole
        self.hoisted_starts = []  # type: List[int]  # first lines of the imports moved to the top
        # Relative imports inside functions: (first line, module, indentation).
        self.call_time_imports = []  # type: List[Tuple[int, str, str]]
        self.lazy_section = False  # run on first use, not at import (see make_lazy)
        body = self.tree.body
        if body and isinstance(body[0], ast.Expr) and isinstance(_constant(body[0].value), str):
            self.docstring = body[0]
        self._drop_module_getattr()
        self._scan(body, [], at_top=True)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Global):
                for global_name in node.names:
                    self._bind(global_name, ("own", name), node.lineno)

    # --- reading ---

    def _error(self, node: ast.AST, message: str) -> VendorError:
        return VendorError("%s:%s: %s" % (self.filename, getattr(node, "lineno", "?"), message))

    def _bind(self, name: str, key: _BindingKey, line: int) -> None:
        if name not in self.bindings or self.bindings[name][0][0] != "own":
            self.bindings[name] = (key, line)

    def _drop_module_getattr(self) -> None:
        """Drop a module-level ``__getattr__`` (lazy loading: in one file its names are plain
        globals) and the module-level assignments only it reads."""
        drop = [n for n in self.tree.body if isinstance(n, ast.FunctionDef) and n.name == "__getattr__"]  # type: List[ast.stmt]
        if not drop:
            return
        if self.name != "__init__":  # it would become the one file's own __getattr__
            raise self._error(drop[0], "a module-level __getattr__ outside __init__.py: in the one file it would "
                                       "answer for the whole file")
        read_elsewhere = set()  # type: Set[str]
        inside = set()  # type: Set[int]
        for node in drop:
            inside.update(id(n) for n in ast.walk(node))
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and id(node) not in inside:
                read_elsewhere.add(node.id)
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if not any(n in read_elsewhere or n.startswith("__") for n in names):
                    drop.append(node)
        for node in drop:
            self.dropped.update(id(n) for n in ast.walk(node))
            start, end = self._span(node)
            while start > 0 and self.lines[start - 1].strip().startswith("#"):
                start -= 1  # the comment block right above it goes with it
            self.edits[start] = (end, [])

    def _scan(self, body: List[ast.stmt], functions: List[ast.AST], at_top: bool,
              in_class: bool = False) -> None:
        """Walk a block of statements: ``functions`` are the enclosing function definitions
        (empty at import time), ``at_top`` is true for the module's own body."""
        removed = []  # type: List[ast.stmt]
        for node in body:
            if id(node) in self.dropped:
                continue
            if isinstance(node, ast.ImportFrom) and node.level:
                removed.append(node)
                self._relative_import(node, functions, in_class)
            elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
                removed.append(node)
                self.future.update(a.name for a in node.names)
                self.edits[self._span(node)[0]] = (self._span(node)[1], [])
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                if not functions and not in_class:
                    self._bind_import(node)
                if at_top:
                    removed.append(node)
                    self._hoist(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not functions and not in_class:
                    self._bind(node.name, ("own", self.name), node.lineno)
                self._scan(node.body, functions + [node], at_top=False)
            elif isinstance(node, ast.ClassDef):
                if not functions and not in_class:
                    self._bind(node.name, ("own", self.name), node.lineno)
                self._scan(node.body, functions, at_top=False, in_class=True)
            else:
                if not functions and not in_class:
                    for bound in _stored_names(node):
                        self._bind(bound, ("own", self.name), node.lineno)
                for block in _blocks(node):
                    self._scan(block, functions, at_top=False, in_class=in_class)
        if removed and len(removed) == len([n for n in body if id(n) not in self.dropped]):
            # The block would be empty: its first removed statement becomes `pass` (unless
            # that one is replaced by something already).
            first = removed[0]
            start, end = self._span(first)
            if not self.edits[start][1]:
                self.edits[start] = (end, [_indent(self.lines[start]) + "pass"])

    def _bind_import(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self._bind(alias.asname, ("module", alias.name), node.lineno)
                else:
                    top = alias.name.split(".")[0]
                    self._bind(top, ("module", top), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    raise self._error(node, "`from %s import *` hides which names it binds" % node.module)
                self._bind(alias.asname or alias.name, ("from", node.module or "", alias.name), node.lineno)

    def _hoist(self, node: ast.stmt) -> None:
        start, end = self._span(node)
        self.edits[start] = (end, [])
        self.hoisted_starts.append(start)
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.hoisted.add((alias.name, "", alias.asname or ""))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                self.hoisted.add((node.module or "", alias.name, alias.asname or ""))

    def _relative_import(self, node: ast.ImportFrom, functions: List[ast.AST], in_class: bool) -> None:
        start, end = self._span(node)
        target = node.module
        if node.level != 1:
            raise self._error(node, "an import from a parent package (level %d): the package has no parent" % node.level)
        if target is None:
            raise self._error(node, "`from . import %s` imports a module object, which the one file does not "
                                    "have; import the names it needs instead" % ", ".join(a.name for a in node.names))
        if "." in target:
            raise self._error(node, "`from .%s import ...`: subpackages are not supported" % target)
        if target not in self.all_names:
            if (target in LEFT_OUT or target in self.absent) and functions:
                message = self.absent.get(target) or "mcplite.%s is not part of the one-file mcplite" % target
                self.edits[start] = (end, [_indent(self.lines[start]) + "raise ImportError(%r)" % message])
                return
            raise self._error(node, "`from .%s import ...`: the one file has no module %s" % (target, target))
        replacement = []  # type: List[str]
        removed_names = []  # type: List[str]
        for alias in node.names:
            if alias.name == "*":
                raise self._error(node, "`from .%s import *` hides which names it binds" % target)
            self.imported.append((target, alias.name, node.lineno))
            bound = alias.asname or alias.name
            if in_class or bound != alias.name:
                replacement.append("%s%s = %s" % (_indent(self.lines[start]), bound, alias.name))
            else:
                removed_names.append(bound)
            if not functions and not in_class and bound != alias.name:
                self._bind(bound, ("from", "." + target, alias.name), node.lineno)
        self.edits[start] = (end, replacement)
        if functions:
            self.lazy.append((functions[-1], removed_names))
            self.call_time_imports.append((start, target, _indent(self.lines[start])))
        else:
            self.deps.add(target)

    def _span(self, node: ast.AST) -> Tuple[int, int]:
        """(first, last) 0-based line of a statement that has its lines to itself."""
        start, end = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
        before = self.lines[start].encode("utf-8")[:node.col_offset].decode("utf-8", "replace")
        after = self.lines[end].encode("utf-8")[node.end_col_offset:].decode("utf-8", "replace")  # type: ignore[attr-defined]
        if before.strip() or not (after.strip() == "" or after.strip().startswith("#")):
            raise self._error(node, "this statement shares its line with another; give it a line of its own")
        return start, end

    # --- checks ---

    def check_relative_imports(self, modules: Dict[str, "_Module"]) -> None:
        for target, name, line in self.imported:
            other = modules[target]
            if name not in other.bindings and not any(n == name for _, n, _ in other.imported):
                raise VendorError("%s:%s: imports %s from .%s, which does not bind it at its top level"
                                  % (self.filename, line, name, target))

    def check_lazy_scopes(self) -> None:
        """After a lazy import goes, the names it bound must mean the module-level ones in
        its function: not a local (a parameter, an assignment) nor an enclosing variable."""
        if not self.lazy:
            return
        table = symtable.symtable("\n".join(self.text_lines(keep_line_numbers=True)) + "\n", self.filename, "exec")
        for function, names in self.lazy:
            scope = _find_scope(table, function.name, function.lineno)  # type: ignore[attr-defined]
            if scope is None:  # (cannot happen: the edits keep every line where it was)
                raise self._error(function, "cannot find the scope of %s" % function.name)  # type: ignore[attr-defined]
            for name in names:
                try:
                    symbol = scope.lookup(name)
                except KeyError:
                    continue  # imported but never used
                if not symbol.is_global():
                    raise self._error(function, "%s() imports %s lazily, and %s is also a %s there: without the "
                                      "import it would not mean the module-level %s; rename one of them"
                                      % (function.name, name, name, "local" if symbol.is_local() else  # type: ignore[attr-defined]
                                         "variable of an enclosing function", name))

    # --- lazy sections ---

    def make_lazy(self) -> None:
        """This module's section runs on first use: its standard-library imports stay in it
        (it is the point: ``http.client`` costs ~20 ms a stdio server never needs)."""
        self.lazy_section = True
        for start in self.hoisted_starts:
            del self.edits[start]
        self.hoisted = set()

    def load_lazy_modules(self, lazy: Set[str]) -> None:
        """A lazy import of a lazy module's names loads that section first (the names are
        then globals, as for any lazy import)."""
        for start, target, indent in self.call_time_imports:
            if target in lazy:
                end, replacement = self.edits[start]
                self.edits[start] = (end, [indent + "_vendored_load(%r)" % target] +
                                     [line for line in replacement if line.strip() != "pass"])

    def _string_rows(self) -> Set[int]:
        """0-based rows inside a string that spans lines (after its first row): indenting
        them would change the string."""
        rows = set()  # type: Set[int]
        readline = iter([line + "\n" for line in self.lines]).__next__
        try:
            for token in tokenize.generate_tokens(readline):
                if token.start[0] != token.end[0] and token.type not in (tokenize.NEWLINE, tokenize.NL):
                    rows.update(range(token.start[0], token.end[0]))  # (1-based start+1..end, 0-based)
        except (tokenize.TokenError, StopIteration):
            pass
        return rows

    def lazy_lines(self, loads_first: Sequence[str]) -> List[str]:
        """The section as a function that binds the module's names as globals when called."""
        inside = self._string_rows()
        names = sorted(name for name in self.bindings)
        out = ["def _vendored_section_%s() -> None:" % self.name.strip("_")]
        out.append('    """Run mcplite/%s.py (the first use of one of its names calls this)."""' % self.name)
        line = "    global"
        for name in names:
            if len(line) + len(name) + 2 > _VENDOR_LINE_WIDTH:
                out.append(line.rstrip(","))
                line = "    global"
            line += " %s," % name
        if line != "    global":
            out.append(line.rstrip(","))
        for dependency in loads_first:
            out.append("    _vendored_load(%r)" % dependency)
        for text, row in self.section_rows():
            if text and (row is None or row not in inside):
                out.append("    " + text)
            else:
                out.append(text)
        return out

    # --- writing ---

    def version(self) -> str:
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__version__"]:
                value = _constant(node.value)
                if isinstance(value, str):
                    return value
        raise VendorError("%s: no `__version__ = \"...\"`" % self.filename)

    def public_names(self) -> List[str]:
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
                try:
                    return list(ast.literal_eval(node.value))
                except ValueError:
                    raise self._error(node, "__all__ is not a literal list of names")
        return []

    def docstring_source(self) -> Optional[str]:
        if self.docstring is None:
            return None
        start, end = self._span(self.docstring)
        return "\n".join(self.lines[start:end + 1])

    def text_lines(self, keep_line_numbers: bool = False, rows: Optional[List[Optional[int]]] = None) -> List[str]:
        """The module's lines with the edits made: removed lines are None, or with
        ``keep_line_numbers``, blank (the replacement lines then stay within the span).
        ``rows`` gets, for each line, the 0-based row it comes from (None: a new line)."""
        out = []  # type: List[Optional[str]]
        origin = []  # type: List[Optional[int]]
        index = 0
        while index < len(self.lines):
            if index in self.edits:
                end, replacement = self.edits[index]
                span = end - index + 1
                if keep_line_numbers:  # (the replacement on one line: "a = b; c = d")
                    joined = _indent(replacement[0]) + "; ".join(r.strip() for r in replacement) if replacement else ""
                    out += [joined] + [""] * (span - 1)
                else:
                    out += list(replacement) + [None] * span
                origin += [None] * (len(out) - len(origin))
                index = end + 1
            else:
                out.append(self.lines[index])
                origin.append(index)
                index += 1
        if rows is not None:
            rows[:] = origin
        if keep_line_numbers:
            return [line or "" for line in out]
        return out  # type: ignore[return-value]

    def section(self) -> List[str]:
        """The module's lines for the one file: without the package docstring (it is the
        file's), and where lines went, no more than two blank lines in a row."""
        return [text for text, _ in self.section_rows()]

    def section_rows(self) -> List[Tuple[str, Optional[int]]]:
        """``section()``'s lines, each with the 0-based row of the source it comes from (None
        for a line the build wrote)."""
        if (self.name == "__init__" or self.compact) and self.docstring is not None:
            start, end = self._span(self.docstring)
            self.edits.setdefault(start, (end, []))
        rows = []  # type: List[Optional[int]]
        lines = self.text_lines(rows=rows)
        out = []  # type: List[Tuple[str, Optional[int]]]
        index = 0
        while index < len(lines):
            line = lines[index]
            if line is None or line.strip() == "":
                run_end = index
                blanks = removed = 0
                while run_end < len(lines) and (lines[run_end] is None or lines[run_end].strip() == ""):
                    if lines[run_end] is None:
                        removed += 1
                    else:
                        blanks += 1
                    run_end += 1
                kept = [(lines[i], rows[i]) for i in range(index, run_end) if lines[i] is not None]
                out += kept[:2] if removed else kept
                index = run_end
            else:
                out.append((line, rows[index]))
                index += 1
        while out and not out[0][0].strip():
            out.pop(0)
        while out and not out[-1][0].strip():
            out.pop()
        return out


# --- the whole ------------------------------------------------------------------------------

def _check_shared_names(modules: Dict[str, _Module]) -> None:
    """Two modules may bind one top-level name only to one thing (the same import); and no
    module may bind a builtin's name, which in one file would shadow it everywhere."""
    seen = {}  # type: Dict[str, Tuple[_BindingKey, str, int]]
    shadowing = set(dir(builtins))
    for name in sorted(modules):
        module = modules[name]
        for bound, (key, line) in sorted(module.bindings.items()):
            if bound.lower().startswith("_vendored"):
                raise VendorError("%s:%s: binds %s: names starting with _vendored/_VENDORED are the one "
                                  "file's own" % (module.filename, line, bound))
            if bound in shadowing and not bound.startswith("__"):
                raise VendorError("%s:%s: binds %s at module level, which in the one file would hide the "
                                  "builtin %s from every module; rename it" % (module.filename, line, bound, bound))
            if bound in seen and seen[bound][0] != key:
                _, other, other_line = seen[bound]
                raise VendorError("%s:%s and %s:%s both bind %s at module level: in the one file they would "
                                  "be one name; rename one (module-level names must be distinct across modules)"
                                  % (other, other_line, module.filename, line, bound))
            seen.setdefault(bound, (key, module.filename, line))


def _future_features(modules: Dict[str, _Module]) -> List[str]:
    """The ``from __future__`` features of the modules, for the top of the one file, where
    they apply to every module: one that changes what code means must be in every module
    already; those every Python 3.8 has anyway are harmless. ``annotations`` is left out
    (see the module's text)."""
    features = sorted(set().union(*(m.future for m in modules.values())) - {"annotations"})
    for feature in features:
        release = getattr(__future__, feature).getMandatoryRelease()
        if release is not None and release[:2] <= (3, 8):
            continue
        without = sorted(m.filename for m in modules.values() if feature not in m.future)
        if without:
            raise VendorError("`from __future__ import %s` would apply to the whole file, but %s do not have it; "
                              "give every module the same one, or none" % (feature, ", ".join(without)))
    return features


def _import_order(modules: Dict[str, _Module], rank: Dict[str, Tuple[int, int]]) -> List[str]:
    """The modules in an order where each follows those it imports at import time, and the
    first of those ready is the lowest in ``rank`` (its layer in ``LAYERS``, then its place in
    ``PARTS``; a module not ranked first), then by name; then ``__init__`` and ``__main__``.
    With no import-time import upward (tests/test_layers.py sees to it), that is layer order;
    were there one, the importer would wait for what it imports."""
    waiting = {name: set(m.deps) for name, m in modules.items()}
    # The package's own section (its version and __all__) after the modules, then the command
    # line, which runs when the file does. Nothing imports either of them at import time
    # (`from . import x` is refused), so this cannot make a cycle.
    waiting["__init__"] = set(modules) - {"__init__", "__main__"}
    if "__main__" in waiting:
        waiting["__main__"] = set(modules) - {"__main__"}
    order = []  # type: List[str]
    while waiting:
        ready = sorted((name for name, deps in waiting.items() if not deps), key=lambda n: (rank.get(n, (-1, 0)), n))
        if not ready:
            cycle = " -> ".join(_a_cycle({n: sorted(d) for n, d in waiting.items()}))
            raise VendorError("the modules import each other at import time (%s); make one of those imports "
                              "lazy (inside the function that needs it)" % cycle)
        order.append(ready[0])
        del waiting[ready[0]]
        for deps in waiting.values():
            deps.discard(ready[0])
    return order


def _a_cycle(graph: Dict[str, List[str]]) -> List[str]:
    path = [sorted(graph)[0]]
    while True:
        following = next(n for n in graph[path[-1]] if n in graph)
        if following in path:
            return path[path.index(following):] + [following]
        path.append(following)


def _lazy_modules(modules: Dict[str, _Module]) -> Set[str]:
    """The modules the package does not run at import: all but ``__init__``, ``__main__``
    and what they import at import time (the package loads the others on first use, and so
    does the one file, see ``_lazy_machinery``)."""
    eager = set()  # type: Set[str]
    waiting = ["__init__"] + (["__main__"] if "__main__" in modules else [])
    while waiting:
        name = waiting.pop()
        if name not in eager:
            eager.add(name)
            waiting.extend(modules[name].deps)
    return set(modules) - eager


def _names_elsewhere(sources: Dict[str, str], absent: Dict[str, str], chosen: List[str]) -> Dict[str, str]:
    """The package's public names that a build without the modules ``absent`` lacks: name ->
    the part that holds it (so that ``mcplite.Client`` in a server-only file says where it is)."""
    if not absent:
        return {}
    package = _Module("__init__", sources["__init__"], set(sources))
    part_of = {module: name for name, _, modules in PARTS for module in modules}
    found = {}  # type: Dict[str, str]
    for module in sorted(absent):
        bindings = _Module(module, sources[module], set(sources)).bindings
        for public in package.public_names():
            if public in bindings and bindings[public][0][0] == "own":
                found.setdefault(public, part_of.get(module, module))
    return found


def _lazy_machinery(modules: Dict[str, _Module], lazy: List[str], elsewhere: Optional[Dict[str, str]] = None,
                    chosen: Sequence[str] = ()) -> List[str]:
    """What loads the lazy sections: ``_vendored_load(module)`` (lazy imports call it), and
    a module ``__getattr__`` for the names they define (``mcplite.Client`` and ``from mcplite
    import Client`` run the section that defines it) - and, in a build of some parts only, for
    the public names of the other parts, which it names in its AttributeError."""
    if not lazy:
        return []
    eager_names = set()  # type: Set[str]
    for name, module in modules.items():
        if name not in lazy:
            eager_names.update(module.bindings)
    table = []
    for name in lazy:
        for bound in sorted(modules[name].bindings):
            if bound not in eager_names and not bound.startswith("__"):
                table.append('"%s": "%s",' % (bound, name))
    return [
        "",
        "# Sections that run on first use, as the package imports those modules only when needed:",
        "# a stdio server never pays for http.client, subprocess or the command line.",
        _wrap("_VENDORED_SECTIONS = ", ['"%s",' % name for name in lazy], ("(", ")")),
        "# The names each of them defines:",
        "_VENDORED_LAZY = {",
    ] + ["    " + entry for entry in table] + [
        "}",
        "_VENDORED_LOADED = set()  # type: set",
        "_VENDORED_LOCK = threading.RLock()",
        "",
        "",
        "def _vendored_load(module: str) -> None:",
        '    """Run the section of mcplite/<module>.py once (threads wait for the first to finish)."""',
        "    if module in _VENDORED_LOADED:",
        "        return",
        "    with _VENDORED_LOCK:",
        "        if module not in _VENDORED_LOADED:",
        "            globals()[\"_vendored_section_\" + module.strip(\"_\")]()",
        "            _VENDORED_LOADED.add(module)",
        "",
        "",
        "def _vendored_load_all() -> None:",
        '    """Run every section now (before a fork, say, or to measure)."""',
        "    for module in _VENDORED_SECTIONS:",
        "        _vendored_load(module)",
        "",
        "",
    ] + ([
        "# The package's public names that are in parts this file does not hold:",
        "_VENDORED_ELSEWHERE = {",
    ] + ['    "%s": "%s",' % item for item in sorted(elsewhere.items())] + ["}", "", ""] if elsewhere else []) + [
        "def __getattr__(name: str) -> Any:",
        "    module = _VENDORED_LAZY.get(name)",
        "    if module is None:",
    ] + ([
        "        if name in _VENDORED_ELSEWHERE:",
        "            raise AttributeError(\"mcplite.%s is in the %s part, which this one-file build does \"",
        "                                 \"not hold (parts: %s); build it with that part too\"",
        "                                 % (name, _VENDORED_ELSEWHERE[name], \", \".join(_VENDORED_PARTS)))",
    ] if elsewhere else []) + [
        "        raise AttributeError(\"module %r has no attribute %r\" % (__name__, name))",
        "    _vendored_load(module)",
        "    return globals()[name]",
    ]


def _hoisted_imports(modules: Sequence[_Module], lazy: Set[str] = frozenset()) -> List[str]:  # type: ignore[assignment]
    entries = set([("threading", "", ""), ("typing", "Any", "")]) if lazy else set()  # type: Set[Tuple[str, str, str]]
    for module in modules:
        entries |= module.hoisted
    lines = sorted("import %s%s" % (m, " as " + asname if asname else "") for m, name, asname in entries if not name)
    by_module = {}  # type: Dict[str, List[str]]
    for m, name, asname in entries:
        if name:
            by_module.setdefault(m, []).append(name + (" as " + asname if asname else ""))
    for m in sorted(by_module):
        lines.append(_wrap("from %s import " % m, sorted(by_module[m])))
    return lines


def _wrap(head: str, items: List[str], brackets: Tuple[str, str] = ("", "")) -> str:
    """``head`` and the items, comma-separated, on one line if they fit, else in parentheses
    on lines of their own."""
    line = head + brackets[0] + ", ".join(item.rstrip(",") for item in items) + \
        ("," if len(items) == 1 and brackets[0] else "") + brackets[1]
    if len(line) <= _VENDOR_LINE_WIDTH:
        return line
    out, current = [head + "("], "   "
    for item in items:
        item = item.rstrip(",") + ","
        if len(current) + len(item) + 1 > _VENDOR_LINE_WIDTH:
            out.append(current)
            current = "   "
        current += " " + item
    out.append(current)
    return "\n".join(out) + "\n)"


def _banner(title: str) -> str:
    head = "# --- %s " % title
    return head + "-" * max(3, _VENDOR_LINE_WIDTH - len(head))


def _find_scope(table: symtable.SymbolTable, name: str, line: int) -> Optional[symtable.SymbolTable]:
    for child in table.get_children():
        if child.get_type() == "function" and child.get_name() == name and child.get_lineno() == line:
            return child
        found = _find_scope(child, name, line)
        if found is not None:
            return found
    return None


def _blocks(node: ast.AST) -> Iterator[List[ast.stmt]]:
    """The statement lists directly inside a compound statement (if, try, with, for, match...)."""
    for _, value in ast.iter_fields(node):
        if isinstance(value, list) and value:
            if isinstance(value[0], ast.stmt):
                yield value
            elif hasattr(value[0], "body") and isinstance(getattr(value[0], "body"), list):
                for item in value:  # except handlers, match cases
                    yield item.body


def _stored_names(node: ast.AST) -> Iterator[str]:
    """Names a simple statement binds in its own scope (not in nested functions, classes,
    lambdas or comprehensions), and an except clause's ``as`` names."""
    skip = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
            ast.DictComp, ast.GeneratorExp)
    stack = [child for _, child in ast.iter_fields(node)]  # type: List[object]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, ast.stmt):
            continue  # a nested block: _scan walks it
        elif isinstance(item, ast.ExceptHandler):
            if item.name:
                yield item.name
        elif isinstance(item, ast.AST) and not isinstance(item, skip):
            if isinstance(item, ast.Name) and isinstance(item.ctx, (ast.Store, ast.Del)):
                yield item.id
            stack.extend(child for _, child in ast.iter_fields(item))


def _constant(node: ast.AST) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def _vendor_license(package_dir: str) -> Optional[str]:
    """The license named in the checkout's pyproject.toml beside the package, if any."""
    path = os.path.join(os.path.dirname(os.path.abspath(package_dir)), "pyproject.toml")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    if not re.search(r'(?m)^name\s*=\s*"mcplite"', text):
        return None
    found = re.search(r'(?m)^license\s*=\s*(?:\{\s*text\s*=\s*)?"([^"]+)"', text)
    return found.group(1) if found else None
