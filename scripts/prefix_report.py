"""Which hand-made module prefixes on mcplite's private top-level names could go.

The one-file build (mcplite/vendor.py) puts every module in one namespace, so a module-private
top-level name must be distinct across modules; many carry a prefix made from their module's
name for that (``_bridge_log``, ``_CC_TRUE`` in clientcmds, ``_HostfmtSchemaConverter``). Where
the name without the prefix would be unique anyway, the prefix buys nothing.

    python scripts/prefix_report.py            # the report: every prefixed name, and whether it can go
    python scripts/prefix_report.py --apply    # rename those that can (Python >= 3.12), then re-check
    python scripts/prefix_report.py --apply --keep server,dispatch   # not those modules' names

Standard library only; run from the checkout's root (it reads the files git tracks).

The prefix rule: a private name's first word (``_bridge_``, ``_CC_``, or the first CamelCase
words of a class, ``_Hostfmt``/``_HttpClient``) is its module's prefix when it is, ignoring
case, the module's name, that name without a plural ``s`` (``skills`` -> ``skill``), or one of
the abbreviations in ABBREVIATIONS, read off the names the modules use. Only the names a module
binds itself count (not those it imports), as the builder sees them (``vendor._Module``).
Left alone: ``vendor`` (left out of the one file, so its names need not be distinct),
dunders, and names in PREFIX_IS_A_WORD, where the first word is what the name says rather than
where it lives (``_tasks_get`` handles tasks/get).

A name can go when the name without its prefix is free, and renaming reaches every mention:
* free: it occurs nowhere in a tracked file of mcplite/, tests/, scripts/, bench/, docs/,
  examples/, .ci/, README.md, CHANGELOG.md - not as an identifier token (tokenize, for Python
  files), nor inside a string or comment or any other file as a whole identifier (bounded by
  characters that cannot be in one); it is not a builtin's name (the builder refuses those) nor
  a ``_vendored`` one; and no other name of the report would become it too. (This script is
  not read: the names in its examples are not uses.)
* reached: the old name is mentioned only as an identifier token or as a string literal that is
  exactly the name (``monkeypatch.setattr(mod, "_OLD", ...)``) in a Python file under
  RENAMED_TREES. A mention anywhere else (a comment, a docstring, a dotted string, docs/, a
  baseline in .ci/) would go stale, so the name is kept and the report says where.

--apply rewrites just those tokens, in place (spans, not untokenize: the layout stays), then
checks that no renamed name is left anywhere. It needs Python >= 3.12, whose tokenize splits an
f-string into tokens (before, a name inside ``f"{...}"`` is part of one STRING token).
"""

import argparse
import ast
import builtins
import collections
import io
import os
import re
import subprocess
import sys
import tokenize
from typing import Dict, List, Optional, Set, Tuple

sys.path.insert(0, os.getcwd())
from mcplite.vendor import LEFT_OUT, _Module  # noqa: E402  (the builder's own view of the bindings)

# module -> the abbreviations of its name its private names use as a prefix.
ABBREVIATIONS = {
    "appview": ("view",),
    "clientcmds": ("cc",),
    "clientsession": ("session",),
    "hostconfig": ("cfg",),
    "hostformats": ("hostfmt",),
    "httpparse": ("hp",),
    "inspector": ("insp",),
    "installcmds": ("ic",),
    "jwtauth": ("jwt",),
    "otelspans": ("ot",),
    "pgstore": ("pg",),
    "recording": ("rec",),
    "tracecontext": ("tc",),
    "tracing": ("trace",),
}
# module -> first words that match the rule but are the name's meaning, not its module.
PREFIX_IS_A_WORD = {
    "tasks": ("tasks", "task"),  # _tasks_get handles tasks/get; _task_named finds a task by name
}
SCANNED = ("mcplite/", "tests/", "scripts/", "bench/", "docs/", "examples/", ".ci/", "README.md", "CHANGELOG.md")
RENAMED_TREES = ("mcplite/", "tests/", "scripts/", "bench/")
_IDENT_CHAR = "A-Za-z0-9_"
_SELF = "scripts/prefix_report.py"  # its examples are not uses
# Tokens whose text is not code: a name in one is a mention, not a use (FSTRING_MIDDLE: 3.12+).
_TEXT_TOKENS = (tokenize.STRING, tokenize.COMMENT, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING))


def module_prefixes(module: str) -> Set[str]:
    found = {module}
    if module.endswith("s") and len(module) > 3:
        found.add(module[:-1])
    found.update(ABBREVIATIONS.get(module, ()))
    return found - set(PREFIX_IS_A_WORD.get(module, ()))


def strip_prefix(name: str, prefixes: Set[str]) -> Optional[str]:
    """The name without its module's prefix, or None when it has none."""
    body = name[1:]
    words = body.split("_", 1)
    if len(words) == 2 and words[1] and words[0].lower() in prefixes and (words[0].islower() or words[0].isupper()):
        return "_" + words[1]
    camel = re.findall(r"[A-Z]+(?=[A-Z][a-z0-9]|$)|[A-Z][a-z0-9]*", body)
    if "".join(camel) != body:
        return None
    for n in range(1, len(camel)):
        if "".join(camel[:n]).lower() in prefixes:
            return "_" + "".join(camel[n:])
    return None


def tracked_files() -> List[str]:
    out = subprocess.run(["git", "ls-files", "-z"], check=True, stdout=subprocess.PIPE).stdout.decode()
    return sorted(p for p in out.split("\0") if p and p.startswith(SCANNED) and os.path.isfile(p) and p != _SELF)


def is_python(path: str, text: str) -> bool:
    return path.endswith(".py") or (text.startswith("#!") and "python" in text.split("\n", 1)[0])


def read_text(path: str) -> Optional[str]:
    with open(path, "rb") as f:
        data = f.read()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def tokens(text: str) -> List[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(text).readline))


def exact_string(tok: tokenize.TokenInfo) -> Optional[str]:
    """The value of a plain one-line string literal ('x' or "x", no prefix), else None."""
    if tok.type != tokenize.STRING or tok.string[:1] not in "'\"" or tok.string[:3] in ("'''", '"""'):
        return None
    try:
        value = ast.literal_eval(tok.string)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


class Mentions:
    """Where each identifier occurs: as a NAME token, as an exact string, anywhere else."""

    def __init__(self, files: List[str]) -> None:
        self.names = collections.Counter()  # type: collections.Counter
        self.exact = collections.Counter()  # type: collections.Counter
        self.other = collections.defaultdict(set)  # type: Dict[str, Set[str]]
        ident = re.compile(r"(?<![%s])_[%s]+" % (_IDENT_CHAR, _IDENT_CHAR))
        for path in files:
            text = read_text(path)
            if text is None:
                continue
            if not is_python(path, text) or not path.startswith(RENAMED_TREES):
                for word in ident.findall(text):
                    self.other[word].add(path)
                continue
            for tok in tokens(text):
                value = exact_string(tok)
                if tok.type == tokenize.NAME:
                    self.names[tok.string] += 1
                elif value is not None and re.fullmatch("_[%s]+" % _IDENT_CHAR, value):
                    self.exact[value] += 1
                elif tok.type in _TEXT_TOKENS:
                    for word in ident.findall(tok.string):
                        self.other[word].add(path)

    def anywhere(self, name: str) -> bool:
        return bool(self.names[name] or self.exact[name] or self.other.get(name))


def prefixed_names() -> List[Tuple[str, str, str]]:
    """(module, name, name without its prefix) for every prefixed private name a module binds."""
    sources = {}  # type: Dict[str, str]
    for entry in sorted(os.listdir("mcplite")):
        if entry.endswith(".py"):
            with open(os.path.join("mcplite", entry), encoding="utf-8") as f:
                sources[entry[:-3]] = f.read()
    found = []
    for module, text in sorted(sources.items()):
        if module in LEFT_OUT:
            continue
        bindings = _Module(module, text, set(sources)).bindings
        prefixes = module_prefixes(module)
        for name, (key, _line) in sorted(bindings.items()):
            if key[0] != "own" or not name.startswith("_") or name.startswith("__"):
                continue
            stripped = strip_prefix(name, prefixes)
            if stripped:
                found.append((module, name, stripped))
    return found


def judge(found: List[Tuple[str, str, str]], mentions: Mentions) -> List[Tuple[str, str, str, str]]:
    """(module, name, stripped, verdict): verdict "droppable" or why not."""
    targets = collections.Counter(stripped for _, _, stripped in found)
    shadowing = set(dir(builtins))
    out = []
    for module, name, stripped in found:
        if mentions.anywhere(stripped):
            where = sorted(mentions.other.get(stripped, ()))
            verdict = "taken" + (" (%s)" % ", ".join(where[:3]) if where and not mentions.names[stripped] else "")
        elif targets[stripped] > 1:
            verdict = "clash: %s" % ", ".join(n for _, n, s in found if s == stripped and n != name)
        elif stripped in shadowing or stripped.lower().startswith("_vendored") or not stripped[1:2].isalpha():
            verdict = "not allowed"
        elif mentions.other.get(name):
            verdict = "mentioned outside code: %s" % ", ".join(sorted(mentions.other[name])[:4])
        else:
            verdict = "droppable"
        out.append((module, name, stripped, verdict))
    return out


def rename(renames: Dict[str, str], files: List[str]) -> List[str]:
    touched = []
    for path in files:
        if not path.startswith(RENAMED_TREES):
            continue
        text = read_text(path)
        if text is None or not is_python(path, text):
            continue
        lines = text.splitlines(keepends=True)
        edits = []  # type: List[Tuple[int, int, int, str]]
        for tok in tokens(text):
            if tok.type == tokenize.NAME and tok.string in renames:
                edits.append((tok.start[0], tok.start[1], tok.end[1], renames[tok.string]))
            elif exact_string(tok) in renames:
                quote = tok.string[0]
                edits.append((tok.start[0], tok.start[1], tok.end[1], quote + renames[exact_string(tok) or ""] + quote))
        if not edits:
            continue
        for row, start, end, new in sorted(edits, reverse=True):
            line = lines[row - 1]
            lines[row - 1] = line[:start] + new + line[end:]
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("".join(lines))
        touched.append(path)
    return touched


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apply", action="store_true", help="rename the droppable names in place")
    parser.add_argument("--keep", default="", metavar="MODULES",
                        help="comma-separated modules whose names --apply leaves alone (being edited elsewhere)")
    args = parser.parse_args(argv)
    if args.apply and sys.version_info < (3, 12):
        parser.error("--apply needs Python >= 3.12 (its tokenize reads names inside f-strings)")
    files = tracked_files()
    verdicts = judge(prefixed_names(), Mentions(files))
    width = max(len(name) for _, name, _, _ in verdicts)
    for module, name, stripped, verdict in verdicts:
        print("%-14s %-*s -> %-*s %s" % (module, width, name, width, stripped, verdict))
    droppable = {name: stripped for _, name, stripped, verdict in verdicts if verdict == "droppable"}
    print("\n%d prefixed names, %d droppable" % (len(verdicts), len(droppable)))
    kept = set(filter(None, args.keep.split(",")))
    droppable = {name: stripped for module, name, stripped, verdict in verdicts
                 if verdict == "droppable" and module not in kept}
    if not args.apply:
        return 0
    touched = rename(droppable, files)
    print("renamed %d names in %d files:\n  %s" % (len(droppable), len(touched), "\n  ".join(touched)))
    after = Mentions(tracked_files())
    left = sorted(name for name in droppable if after.anywhere(name))
    if left:
        print("still mentioned after the rename: %s" % ", ".join(left))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
