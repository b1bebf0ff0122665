"""Which of the suite's tests apply to a one-file build of some parts (``scripts/test_vendored
--parts P``): the tests whose needs the build holds.

A test's needs are read from the sources with ``ast``, never by running them: the package's
modules it imports (``from mcplite.X import ...``, ``mcplite.X``), the public names it uses
(``mcplite.Client``, ``from mcplite import Host``: the module that defines the name), ``python
-m mcplite`` (the command line), and, followed the same way, the helper modules it imports
(``stdio_peer``, another test file), the scripts and files it names (``servers/stdio_app.py``,
``examples/jobs_server.py``, README.md: what they use), the fixtures of conftest.py it takes
(``wire_factory``, from wire.py), and code it carries in strings (a server it writes to a
file). Each module is then the part of ``vendor.PARTS`` that holds it.

What a test file's module level needs (its imports, constants, classes, autouse fixtures) every
test of it needs: a file with a need the build lacks is left out whole. Otherwise each test
needs what its own decorators, arguments and body use, and what the file's functions and
fixtures it reaches use: a test with a need the build lacks is deselected by its node id. The
reading is conservative (a name used anywhere counts, whether that line runs or not), so a
test it keeps and cannot run fails, never hides; what it leaves out is listed, with why.

    python tests/parts_needs.py --parts server,stdio [--package DIR] [--tests DIR] [--args FILE]
        [--deselect FILE] [--always test_x.py] [--interop]

prints the plan (to stderr); --args writes the test files to run, one a line, and --deselect
the node ids (without parameters) of the tests of those files left out, which tests/conftest.py
deselects when MCPLITE_PARTS_DESELECT names that file. ``--always test_x.py``: a file that
runs whatever its code uses (written for builds that lack parts: tests/test_vendor_parts.py),
but for its tests' ``@pytest.mark.needs_parts(...)`` marks, which any test may carry for what
its code does not show. Exit status 1 when no test file applies (a run of nothing must not
pass), 2 for a usage error.
"""

import argparse
import ast
import os
import re
import sys
from typing import Dict, Iterable, List, Optional, Set, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# A need: the package module ("stdio", "__main__"...) and why, e.g. "mcplite.Client".
Needs = Dict[str, str]

_SKIP_DIRS = {".git", ".cache", "__pycache__", "mcplite", "node_modules", ".pytest_cache"}
# Strings that name a file the test reads or runs: what that file uses counts.
_FILE_NAME = re.compile(r"^[\w./-]+\.(py|md)$")
_WSGI_TARGET = re.compile(r"^[A-Za-z_]\w*:[A-Za-z_]\w*(\(.*\))?$")
_CODE_IMPORT = re.compile(r"^\s*from\s+mcplite(?:\.(\w+))?\s+import\s+\(?([\w\s,]+)\)?", re.M)
_CODE_ATTRIBUTE = re.compile(r"\b(\w+)\.(\w+)")
_CODE_ALIAS = re.compile(r"\bimport\s+[\w.]+\s+as\s+(\w+)")
_CODE_MINUS_M = re.compile(r"-m\s+mcplite\b")
_CODE_RUN_HTTP = re.compile(r"\.run\(\s*[\"'](?:http|streamable-http)[\"']")
# What the Server's methods load from parts other than server's (server.py's lazy imports):
# a call of a method of that name, on whatever object, needs the module.
_METHOD_NEEDS = {"run_in_thread": "httpserver", "wsgi": "wsgi", "mount": "gateway", "skill": "skills"}
# Likewise the keyword arguments that do (Server(store=...), @app.tool(task=...), serve_stdio(trace=...)).
_KEYWORD_NEEDS = {"store": "stores", "task": "tasks", "trace": "tracing"}
# Needs that are no module of the package, and what holds them.
INTEROP = "<interop peer>"


class PackageIndex:
    """The package's modules, the module that defines each top-level name, and the part
    (``vendor.PARTS``) that holds each module."""

    def __init__(self, package_dir: str) -> None:
        self.modules = sorted(name[:-3] for name in os.listdir(package_dir) if name.endswith(".py"))
        self.defines = {}  # type: Dict[str, str]
        for module in self.modules:
            with open(os.path.join(package_dir, module + ".py"), encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for name in _top_level_names(tree):
                # __init__ re-binds what it imports; the defining module is the need.
                if module != "__init__" or name not in self.defines:
                    self.defines.setdefault(name, module)
        self.public = set()  # type: Set[str]  # the package's __all__
        with open(os.path.join(package_dir, "__init__.py"), encoding="utf-8") as f:
            for node in ast.parse(f.read()).body:
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                        for t in node.targets):
                    self.public.update(ast.literal_eval(node.value))
        parts, left_out = _read_parts(os.path.join(package_dir, "vendor.py"))
        self.parts = parts  # type: List[Tuple[str, Tuple[str, ...], Tuple[str, ...]]]
        self.part_of = {module: name for name, _, members in parts for module in members}
        self.part_of["__init__"] = ""  # in every build
        for module in left_out:
            self.part_of[module] = "none: never in a one-file build"
        self.part_of[INTEROP] = "interop"
        for name, _, _ in parts:
            self.part_of["<part %s>" % name] = name

    def holds(self, names: Iterable[str]) -> List[str]:
        """The parts a build of ``names`` holds (with the parts they need)."""
        known = {name: needs for name, needs, _ in self.parts}
        wanted = set()  # type: Set[str]
        waiting = list(known) if "all" in names else list(names)
        while waiting:
            name = waiting.pop()
            if name not in known:
                raise ValueError("unknown part %r (the parts: all, %s)" % (name, ", ".join(known)))
            if name not in wanted:
                wanted.add(name)
                waiting.extend(known[name])
        return [name for name, _, _ in self.parts if name in wanted]

    def name_module(self, name: str) -> Optional[str]:
        """The module ``mcplite.<name>`` means: a module, or the one defining that name."""
        if name in self.modules:
            return name
        return self.defines.get(name)


def _top_level_names(tree: ast.Module) -> List[str]:
    names = []  # type: List[str]
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.extend(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _read_parts(vendor_py: str) -> Tuple[list, Tuple[str, ...]]:
    """vendor.PARTS and vendor.LEFT_OUT, read as literals (this runs with no mcplite importable)."""
    with open(vendor_py, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("PARTS", "LEFT_OUT"):
                found[node.targets[0].id] = ast.literal_eval(node.value)
    return list(found["PARTS"]), tuple(found.get("LEFT_OUT", ()))


def _docstrings(tree: ast.AST) -> Set[int]:
    """The ids of the docstrings under ``tree``: what they say is no use."""
    found = set()  # type: Set[int]
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _optional_imports(tree: ast.AST) -> Set[int]:
    """The ids of the import nodes under ``try: ... except ImportError``: a test that copes
    without the module (``build = None``) does not need it."""
    optional = set()  # type: Set[int]
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in node.handlers):
            for statement in node.body:
                optional.update(id(n) for n in ast.walk(statement) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return optional


class NeedsReader:
    """What files use, followed through the helpers, scripts and files they name."""

    def __init__(self, index: PackageIndex, root: str = ROOT) -> None:
        self.index = index
        self.root = root
        self._files = None  # type: Optional[Dict[str, List[str]]]
        self._sources = {}  # type: Dict[str, Optional[Source]]
        self._documents = {}  # type: Dict[str, Needs]
        self.fixtures = {}  # type: Dict[str, str]  # conftest's fixtures: name -> the helper file
        self.peer_fixtures = set()  # type: Set[str]  # conftest's _PEER_FIXTURES: a test taking one is `interop`

    # --- finding the files a name means ---------------------------------------------------------
    def _by_basename(self) -> Dict[str, List[str]]:
        if self._files is None:
            self._files = {}
            for top, dirs, files in os.walk(self.root):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
                for name in files:
                    if name.endswith((".py", ".md")):
                        self._files.setdefault(name, []).append(os.path.join(top, name))
        return self._files

    def files_named(self, text: str) -> List[str]:
        """The checkout's files a string names (``servers/stdio_app.py``, ``README.md``)."""
        candidates = self._by_basename().get(os.path.basename(text), [])
        tail = os.sep + text.replace("/", os.sep).lstrip(os.sep)
        exact = [path for path in candidates if path.endswith(tail)]
        return exact or candidates

    def module_files(self, name: str) -> List[str]:
        """A local module an import means (``stdio_peer``, ``abuse_cases``): its files."""
        return self._by_basename().get(name.split(".")[0] + ".py", [])

    def source(self, path: str) -> "Optional[Source]":
        path = os.path.abspath(path)
        if path not in self._sources:
            self._sources[path] = None  # (an import cycle adds nothing)
            self._sources[path] = Source(self, path)
        return self._sources[path]

    def file_needs(self, path: str, names: Optional[Iterable[str]] = None) -> Needs:
        """What a helper, script or document uses: all of it, or (``names``) what its module
        level and the functions and classes of those names use."""
        if not path.endswith(".py"):
            if path not in self._documents:
                needs = {}  # type: Needs
                with open(path, encoding="utf-8") as f:
                    self._string_needs(needs, f.read())
                self._documents[path] = needs
            return self._documents[path]
        source = self.source(path)
        if source is None:
            return {}
        return source.whole() if names is None else source.needs_of(set(names), [])

    # --- what a node uses --------------------------------------------------------------------------
    def node_needs(self, node: ast.AST, optional: Set[int], docstrings: Set[int]) -> Needs:
        """What ``node`` uses directly, but for the names of its file's own functions."""
        needs = {}  # type: Needs

        def need(module: Optional[str], why: str) -> None:
            if module is not None and module not in needs:
                needs[module] = why

        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                func = sub.func
                method = func.attr if isinstance(func, ast.Attribute) else None
                need(_METHOD_NEEDS.get(method or ""), ".%s()" % method)
                transport = [a for a in sub.args[:1] if isinstance(a, ast.Constant)] + [
                    k.value for k in sub.keywords if k.arg == "transport" and isinstance(k.value, ast.Constant)]
                if method == "run" and any(t.value in ("http", "streamable-http") for t in transport):
                    need("httpserver", ".run(%r)" % transport[0].value)
                for keyword in sub.keywords:
                    if keyword.arg in _KEYWORD_NEEDS and not (isinstance(keyword.value, ast.Constant)
                                                              and keyword.value.value in (None, False)):
                        need(_KEYWORD_NEEDS[keyword.arg], "%s=..." % keyword.arg)
            if isinstance(sub, ast.ImportFrom) and sub.module and id(sub) not in optional and not sub.level:
                if sub.module == "mcplite":
                    for alias in sub.names:
                        need(self.index.name_module(alias.name), "from mcplite import %s" % alias.name)
                elif sub.module.startswith("mcplite."):
                    need(sub.module.split(".")[1], "from %s import ..." % sub.module)
                else:
                    for path in self.module_files(sub.module):
                        names = [alias.name for alias in sub.names]
                        self._merge(needs, self.file_needs(path, names), "%s.%s" % (sub.module, ",".join(names)))
            elif isinstance(sub, ast.Import) and id(sub) not in optional:
                for alias in sub.names:
                    if alias.name.startswith("mcplite."):
                        need(alias.name.split(".")[1], "import %s" % alias.name)
                    elif alias.name != "mcplite":
                        for path in self.module_files(alias.name):
                            self._merge(needs, self.file_needs(path), "import %s" % alias.name)
            elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "mcplite":
                need(self.index.name_module(sub.attr), "mcplite.%s" % sub.attr)
            elif isinstance(sub, (ast.List, ast.Tuple)):
                values = [e.value if isinstance(e, ast.Constant) else None for e in sub.elts]
                if any(a == "-m" and b == "mcplite" for a, b in zip(values, values[1:])):
                    need("__main__", "python -m mcplite")
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and id(sub) not in docstrings:
                self._string_needs(needs, sub.value)
        return needs

    def _string_needs(self, needs: Needs, text: str) -> None:
        if _WSGI_TARGET.match(text):  # gunicorn's "wsgi_app:app": that module
            for path in self.module_files(text.split(":")[0]):
                self._merge(needs, self.file_needs(path), "serves %s" % text)
            return
        if _FILE_NAME.match(text) and not text.startswith("mcplite"):
            for path in self.files_named(text):
                self._merge(needs, self.file_needs(path), text)
            return
        # M.Server, M.Client...: a class of the package's by any name (a function's argument,
        # say) is as good as imported.
        for alias, name in _CODE_ATTRIBUTE.findall(text):
            if name[:1].isupper() and name in self.index.public:
                needs.setdefault(self.index.name_module(name) or "__init__", "%s.%s (in a string)" % (alias, name))
        if "mcplite" not in text:
            return
        # Code in a string (a server the test writes to a file, a command line).
        for module, names in _CODE_IMPORT.findall(text):
            if module:
                needs.setdefault(module, "from mcplite.%s import ... (in a string)" % module)
            else:
                for name in re.split(r"[\s,]+", names.strip()):
                    found = self.index.name_module(name) if name else None
                    if found:
                        needs.setdefault(found, "from mcplite import %s (in a string)" % name)
        # mcplite.X, and M.X where the code imports the module (or a copy of the file) as M.
        aliases = {"mcplite"} | set(_CODE_ALIAS.findall(text))
        for alias, name in _CODE_ATTRIBUTE.findall(text):
            found = self.index.name_module(name) if alias in aliases else None
            if found:
                needs.setdefault(found, "%s.%s (in a string)" % (alias, name))
        if _CODE_MINUS_M.search(text):
            needs.setdefault("__main__", "python -m mcplite (in a string)")
        if _CODE_RUN_HTTP.search(text) or ".run_in_thread(" in text:
            needs.setdefault("httpserver", "an HTTP server (in a string)")

    @staticmethod
    def _merge(needs: Needs, more: Needs, why: str) -> None:
        for module, reason in more.items():
            needs.setdefault(module, "%s: %s" % (why, reason))

    def read_conftest(self, path: str) -> None:
        """conftest.py's fixtures imported from helpers (``from wire import wire_factory``): a
        test taking one needs what that fixture uses."""
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith("mcplite"):
                for file in self.module_files(node.module):
                    for alias in node.names:
                        self.fixtures[alias.asname or alias.name] = file
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == "_PEER_FIXTURES"):
                # (frozenset([...]): the fixtures that mark a test `interop`)
                for name in ast.walk(node.value):
                    if isinstance(name, ast.Constant) and isinstance(name.value, str):
                        self.peer_fixtures.add(name.value)


def _is_fixture(node: ast.AST) -> bool:
    for decorator in getattr(node, "decorator_list", ()):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr == "fixture":
            return True
        if isinstance(target, ast.Name) and target.id == "fixture":
            return True
    return False


def _is_autouse(node: ast.AST) -> bool:
    return any(isinstance(d, ast.Call) and any(k.arg == "autouse" and isinstance(k.value, ast.Constant)
                                               and k.value.value for k in d.keywords)
               for d in getattr(node, "decorator_list", ()))


def _marked_interop(node: ast.AST) -> bool:
    return any(isinstance(d, ast.Attribute) and d.attr == "interop" for d in getattr(node, "decorator_list", ()))


def _marked_parts(node: ast.AST) -> List[str]:
    """The parts a test names with ``@pytest.mark.needs_parts("cli", ...)``: what reading
    cannot see (running the one file itself as the command line, say)."""
    return [a.value for d in getattr(node, "decorator_list", ()) if isinstance(d, ast.Call)
            and isinstance(d.func, ast.Attribute) and d.func.attr == "needs_parts"
            for a in d.args if isinstance(a, ast.Constant)]


def _arguments(node: ast.AST) -> List[str]:
    args = getattr(node, "args", None)
    return [a.arg for a in args.args] if isinstance(args, ast.arguments) else []


def _names_used(node: ast.AST) -> Set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class Source:
    """One Python file's needs: its module level's (imports, constants, autouse fixtures),
    each of its top-level functions' and classes' (with those of the file's functions they
    name), and each test's."""

    def __init__(self, reader: NeedsReader, path: str) -> None:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        optional, docstrings = _optional_imports(tree), _docstrings(tree)
        self.reader = reader
        self.path = path
        self.tests = []  # type: List[Tuple[str, ast.AST]]  # node id tail, node
        self.definitions = {}  # type: Dict[str, ast.AST]  # functions, fixtures, classes, by name
        self.fixtures = set()  # type: Set[str]
        module_level = []  # type: List[ast.AST]
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                self.tests.append((node.name, node))
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                        self.tests.append(("%s::%s" % (node.name, item.name), item))
                    else:
                        module_level.append(item)
                module_level.extend(node.decorator_list)
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                  and node.targets[0].id != "pytestmark"):
                # A module-level constant (a server's source in a string, say): needed where used.
                self.definitions[node.targets[0].id] = node
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not _is_autouse(node):
                self.definitions[node.name] = node
                if _is_fixture(node):
                    self.fixtures.add(node.name)
            else:
                module_level.append(node)
        self.own = {name: reader.node_needs(node, optional, docstrings)
                    for name, node in self.definitions.items()}  # type: Dict[str, Needs]
        self.reach = {name: (_names_used(node) | set(_arguments(node) if name in self.fixtures else ()))
                      & set(self.definitions) for name, node in self.definitions.items()}
        self.arguments = {name: _arguments(node) for name, node in self.definitions.items()
                          if name in self.fixtures}  # type: Dict[str, List[str]]
        self.module_needs = {}  # type: Needs
        used = set()  # type: Set[str]
        autouse = []  # type: List[str]
        for statement in module_level:
            for module, why in reader.node_needs(statement, optional, docstrings).items():
                self.module_needs.setdefault(module, why)
            used |= _names_used(statement)
            if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in getattr(statement, "targets", ())) and any(
                    isinstance(n, ast.Attribute) and n.attr == "interop" for n in ast.walk(statement)):
                self.module_needs.setdefault(INTEROP, "pytestmark: interop")
            if _is_autouse(statement):
                autouse.extend(_arguments(statement))
        self.module_needs = self._with(self.module_needs, used, autouse)
        self.test_needs = {}  # type: Dict[str, Needs]
        self.marked = {}  # type: Dict[str, Needs]  # the parts each test's needs_parts mark names
        for name, test in self.tests:
            needs = self._with(reader.node_needs(test, optional, docstrings), _names_used(test), _arguments(test))
            self.marked[name] = {"<part %s>" % part: "@pytest.mark.needs_parts" for part in _marked_parts(test)}
            for part, why in self.marked[name].items():
                needs.setdefault(part, why)
            if _marked_interop(test) or os.path.basename(path).startswith("test_interop_"):
                needs.setdefault(INTEROP, "marked interop")
            self.test_needs[name] = self.needs_of(set(), [], needs)

    def _reached(self, start: Set[str]) -> Set[str]:
        seen, waiting = set(), list(start & set(self.definitions))  # type: Set[str], List[str]
        while waiting:
            name = waiting.pop()
            if name not in seen:
                seen.add(name)
                waiting.extend(self.reach.get(name, ()))
        return seen

    def _with(self, needs: Needs, names: Set[str], arguments: List[str]) -> Needs:
        """``needs`` with those of the definitions ``names`` and ``arguments`` reach, and of
        conftest's fixtures among the arguments (theirs and those of the fixtures reached)."""
        needs = dict(needs)
        reached = self._reached(names | set(arguments))
        for name in sorted(reached):
            for module, why in self.own[name].items():
                call = "" if isinstance(self.definitions[name], ast.Assign) else "()"
                needs.setdefault(module, "%s%s: %s" % (name, call, why))
        taken = set(arguments).union(*(self.arguments.get(name, ()) for name in reached))
        for argument in sorted(taken - set(self.definitions)):
            if argument in self.reader.peer_fixtures:
                needs.setdefault(INTEROP, "fixture %s" % argument)
            if argument in self.reader.fixtures:
                fixture_file = self.reader.fixtures[argument]
                if os.path.abspath(fixture_file) != os.path.abspath(self.path):
                    for module, why in self.reader.file_needs(fixture_file, [argument]).items():
                        needs.setdefault(module, "fixture %s: %s" % (argument, why))
        return needs

    def needs_of(self, names: Set[str], arguments: List[str], extra: Optional[Needs] = None) -> Needs:
        """What using ``names`` of this file needs: its module level's needs and theirs."""
        needs = dict(self.module_needs)
        for module, why in (extra or {}).items():
            needs.setdefault(module, why)
        for module, why in self._with({}, names, arguments).items():
            needs.setdefault(module, why)
        return needs

    def whole(self) -> Needs:
        needs = self.needs_of(set(self.definitions), [])
        for test in self.test_needs.values():
            for module, why in test.items():
                needs.setdefault(module, why)
        return needs


def missing(index: PackageIndex, needs: Needs, held: List[str]) -> List[str]:
    """The needs of ``needs`` the build does not hold, each as "what (where it is) for why"."""
    out = []
    for module, why in sorted(needs.items()):
        part = index.part_of.get(module, "none")
        if part != "" and part not in held:
            what = ("the %s part" % part if module.startswith("<part ") else module if module.startswith("<")
                    else "mcplite/%s.py (%s part)" % (module, part))
            out.append("%s for %s" % (what, why))
    return out


class Plan:
    def __init__(self) -> None:
        self.run = []  # type: List[str]  # test files, relative to the checkout
        self.deselected = []  # type: List[Tuple[str, List[str]]]  # node id, what it lacks
        self.left_out = []  # type: List[Tuple[str, List[str]]]  # test file, what it lacks


def plan(parts: Iterable[str], package_dir: str = os.path.join(ROOT, "mcplite"), tests_dir: str = HERE,
         root: Optional[str] = None, interop: bool = False, always: Iterable[str] = ()) -> Plan:
    """Which test files of ``tests_dir`` run against a build of ``parts`` (``interop``: with
    the interop peers installed), and which of their tests are deselected. ``always`` (file
    names) run whatever their code uses (a file written for builds that lack parts): only
    their tests' ``needs_parts`` marks count."""
    index = PackageIndex(package_dir)
    held = index.holds(parts) + ([index.part_of[INTEROP]] if interop else [])
    root = root or os.path.dirname(os.path.abspath(tests_dir))
    reader = NeedsReader(index, root)
    conftest = os.path.join(tests_dir, "conftest.py")
    if os.path.exists(conftest):
        reader.read_conftest(conftest)
    result = Plan()
    for name in sorted(os.listdir(tests_dir)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        relative = os.path.relpath(os.path.join(tests_dir, name), root).replace(os.sep, "/")
        source = reader.source(os.path.join(tests_dir, name))
        assert source is not None
        lacking = missing(index, source.module_needs, held) if name not in always else []
        if lacking:
            result.left_out.append((relative, lacking))
            continue
        deselected = []  # type: List[Tuple[str, List[str]]]
        for test, needs in sorted((source.marked if name in always else source.test_needs).items()):
            lacking = missing(index, needs, held)
            if lacking:
                deselected.append(("%s::%s" % (relative, test), lacking))
        if len(deselected) < len(source.tests):
            result.run.append(relative)
            result.deselected.extend(deselected)
        else:  # every test of it lacks something: the file is left out, with the first test's reasons
            result.left_out.append((relative, deselected[0][1] if deselected else ["no tests"]))
    return result


def report(result: Plan, parts: str, out=sys.stderr) -> None:
    def first(reasons: List[str]) -> str:
        return reasons[0] + (" (and %d more)" % (len(reasons) - 1) if len(reasons) > 1 else "")

    out.write("parts %s: %d test files apply (%d tests deselected in them), %d are not in this build\n"
              % (parts, len(result.run), len(result.deselected), len(result.left_out)))
    for path in result.run:
        out.write("  runs         %s\n" % path)
    for node, reasons in result.deselected:
        out.write("  deselected   %s: needs %s\n" % (node, first(reasons)))
    for path, reasons in result.left_out:
        out.write("  not in this build  %s: needs %s\n" % (path, first(reasons)))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", required=True, help="the build's parts, comma-separated (as vendor --parts)")
    parser.add_argument("--package", default=os.path.join(ROOT, "mcplite"), help="the package's sources")
    parser.add_argument("--tests", default=HERE, help="the tests directory (default: this one)")
    parser.add_argument("--args", help="write the test files to run here, one a line")
    parser.add_argument("--deselect", help="write the node ids of the tests deselected here, one a line "
                                           "(for MCPLITE_PARTS_DESELECT, tests/conftest.py)")
    parser.add_argument("--interop", action="store_true", help="the interop peers are installed")
    parser.add_argument("--always", action="append", default=[], help="a test file (name) that runs whatever it uses")
    options = parser.parse_args(argv)
    try:
        result = plan(options.parts.split(","), options.package, options.tests, interop=options.interop,
                      always=options.always)
    except ValueError as exc:
        parser.error(str(exc))
    report(result, options.parts)
    if options.args:
        with open(options.args, "w", encoding="utf-8") as f:
            f.writelines(path + "\n" for path in result.run)
    if options.deselect:
        with open(options.deselect, "w", encoding="utf-8") as f:
            f.writelines(node + "\n" for node, _ in result.deselected)
    if not result.run:
        sys.stderr.write("no test file applies to parts %s\n" % options.parts)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
