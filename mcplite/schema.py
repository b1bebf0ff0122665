"""Type hints to JSON Schema, and a small JSON Schema validator.

``describe_function`` turns a handler's signature into an ``inputSchema`` (and, from its
return annotation, an ``outputSchema``); ``compile_schema`` turns a schema into a
validator that names the failing field. Both run once, when a handler is registered:
nothing here is rebuilt per call.

Supported annotations: ``int``, ``float``, ``str``, ``bool``, ``None``, ``Any``,
``list[T]`` / ``List[T]`` / ``Sequence[T]`` / ``set[T]`` / ``tuple[...]``,
``dict[str, T]``, ``Optional``, ``Union`` (and ``X | Y``), ``Literal``, ``Enum``
subclasses, ``TypedDict``, dataclasses, and ``Annotated[T, "description"]`` (a dict in
``Annotated`` metadata is merged into the schema, e.g. ``Annotated[int, {"minimum": 1}]``),
and the standard library's value types: ``datetime``, ``date``, ``time`` (ISO 8601 strings),
``UUID``, ``Decimal`` and paths (``pathlib.PurePath`` and subclasses). Anything else raises
``TypeError`` at registration, naming the parameter.

``to_json`` turns a handler's return value into JSON (those types as strings, enums as their
values, dataclasses as objects); ``converter_for`` turns validated arguments back into the
annotated Python types. (The lossless string conversions ``Server(coerce_arguments=True)``
applies to arguments a schema refuses are in ``coercion.py``, loaded by the first refusal.)
"""

from __future__ import annotations

import enum
import json
import math
import re
import sys
import typing
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .errors import ArgumentError

try:  # Python 3.10+: `int | None` is a types.UnionType, not a typing.Union
    from types import UnionType as _UnionType  # type: ignore[attr-defined]
except ImportError:  # Python 3.8, 3.9
    _UnionType = None  # type: ignore[assignment,misc]

_NoneType = type(None)
_PY39 = sys.version_info >= (3, 9)

_PRIMITIVES = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    _NoneType: {"type": "null"},
}  # type: Dict[Any, Dict[str, Any]]

_LIST_ORIGINS = {list, set, frozenset, tuple}
_SEQUENCE_NAMES = {"Sequence", "MutableSequence", "Iterable", "Collection", "AbstractSet", "MutableSet"}
_MAPPING_NAMES = {"Mapping", "MutableMapping"}


def _is_dataclass_type(tp: Any) -> bool:
    # Not dataclasses.is_dataclass: importing dataclasses (and inspect with it) costs more
    # start-up than the rest of mcplite, and a class can only be a dataclass if its author
    # imported the module already.
    return isinstance(tp, type) and hasattr(tp, "__dataclass_fields__")


def _is_dataclass_value(value: Any) -> bool:
    return not isinstance(value, type) and hasattr(type(value), "__dataclass_fields__")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def type_hints(obj: Any) -> Dict[str, Any]:
    """``typing.get_type_hints`` keeping ``Annotated`` metadata where the Python has it."""
    if _PY39:
        return typing.get_type_hints(obj, include_extras=True)
    return typing.get_type_hints(obj)


def _unwrap_annotated(tp: Any) -> Tuple[Any, List[Any]]:
    """(base type, metadata) for ``Annotated[T, ...]``; (tp, []) otherwise."""
    if type(tp) is type and not hasattr(tp, "__metadata__"):  # a plain class: no list made
        return tp, _NO_METADATA
    metadata = []  # type: List[Any]
    while hasattr(tp, "__metadata__") and hasattr(tp, "__origin__"):
        metadata = list(tp.__metadata__) + metadata
        tp = tp.__origin__
    return tp, metadata


# Shared by every un-Annotated type: registration runs _unwrap_annotated ~10 times a tool,
# and each list it made was one more object for the garbage collector to count. Only read.
_NO_METADATA = []  # type: List[Any]

# JSON's scalar types as json.dumps writes them (exact types: a subclass may encode
# differently, and then goes the long way).
_JSON_SCALARS = frozenset((str, int, bool, type(None)))


def _json_plain(value: Any, depth: int) -> bool:
    """Whether ``value`` is made only of exact JSON types (finite floats), to a small depth:
    then json.dumps would certainly accept it. False means "not known", never "not JSON"."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return True
    if kind is float:
        return value == value and value not in (math.inf, -math.inf)
    if depth > 8:
        return False
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not _json_plain(item, depth + 1):
                return False
        return True
    if kind is list:
        for item in value:
            if not _json_plain(item, depth + 1):
                return False
        return True
    return False


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__")


def _json_safe(value: Any) -> bool:
    # The plain case checked in Python: json.dumps with an option builds an encoder per call,
    # most of a registration's time for a few small schemas and defaults.
    if _json_plain(value, 0):
        return True
    try:
        json.dumps(value, allow_nan=False)
        return True
    except (TypeError, ValueError, RecursionError):
        return False


def _enum_schema(values: Sequence[Any]) -> Dict[str, Any]:
    # Literal[Color.RED] holds the member; the wire needs its value.
    values = [v.value if isinstance(v, enum.Enum) else v for v in values]
    for value in values:
        if not _json_safe(value):
            raise TypeError("%r is not a JSON value" % (value,))
    schema = {"enum": list(values)}  # type: Dict[str, Any]
    kinds = {type(v) for v in values}
    if kinds == {str}:
        schema = {"type": "string", "enum": list(values)}
    elif kinds == {bool}:
        schema = {"type": "boolean", "enum": list(values)}
    elif kinds and kinds <= {int}:
        schema = {"type": "integer", "enum": list(values)}
    elif kinds and kinds <= {int, float}:
        schema = {"type": "number", "enum": list(values)}
    return schema


# ---------------------------------------------------------------------------
# The standard library's value types: datetime, date, time, UUID, Decimal, paths

def _stdlib_kind(tp: Any) -> Optional[str]:
    """"datetime", "date", "time", "uuid", "decimal" or "path" when ``tp`` is (a subclass
    of) that standard library class, else None.

    The classes are looked up in ``sys.modules``, never imported: an annotation or a value
    of one exists only once its module is loaded, and importing decimal or uuid here would
    cost every server the start-up time of modules most never use."""
    if not isinstance(tp, type):
        return None
    modules = sys.modules
    dt = modules.get("datetime")
    if dt is not None:
        # datetime before date: a datetime is a date to issubclass.
        if issubclass(tp, dt.datetime):
            return "datetime"
        if issubclass(tp, dt.date):
            return "date"
        if issubclass(tp, dt.time):
            return "time"
    found = modules.get("uuid")
    if found is not None and issubclass(tp, found.UUID):
        return "uuid"
    found = modules.get("decimal")
    if found is not None and issubclass(tp, found.Decimal):
        return "decimal"
    found = modules.get("pathlib")
    if found is not None and issubclass(tp, found.PurePath):
        return "path"
    return None


# A decimal number as str(Decimal) writes it and as a client may send one: digits, an optional
# fraction and exponent, no spaces, underscores, NaN or Infinity (which have no JSON number).
_DECIMAL_TEXT = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"

# JSON Schema 2020-12 formats (RFC 3339 and RFC 4122), which JSON Schema validators and models
# know; a path has no format of its own.
_STDLIB_SCHEMAS = {
    "datetime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "format": "time"},
    "uuid": {"type": "string", "format": "uuid"},
    "path": {"type": "string"},
}  # type: Dict[str, Dict[str, Any]]


def _stdlib_schema(kind: str, output: bool) -> Dict[str, Any]:
    if kind != "decimal":
        return dict(_STDLIB_SCHEMAS[kind])
    # Decimal goes out as a string: a JSON number reaches most peers as a binary float
    # (JavaScript's Number, Python's json), which cannot hold 0.1 or more than 15-17 digits, so
    # the one thing Decimal is for would be lost on the way. This is what pydantic does in JSON
    # mode too. Coming in, a number is accepted as well (models write prices as numbers); the
    # converter reads it as the decimal its shortest repr spells, which is exact for what a
    # float can carry, and a string keeps every digit.
    text_schema = {"type": "string", "pattern": _DECIMAL_TEXT}  # type: Dict[str, Any]
    if output:
        return text_schema
    return {"anyOf": [{"type": "number"}, text_schema]}


def _stdlib_text(value: Any) -> Optional[str]:
    """The JSON string for a datetime, date, time, UUID, Decimal or path (any ``os.PathLike``
    whose path is a str), else None. Classes are looked up as in ``_stdlib_kind``."""
    modules = sys.modules
    dt = modules.get("datetime")
    if dt is not None and isinstance(value, (dt.date, dt.time)):
        # ISO 8601 as isoformat() writes it: an aware value with its offset, a naive one
        # without (mcplite does not guess a time zone the value does not have).
        return value.isoformat()
    found = modules.get("uuid")
    if found is not None and isinstance(value, found.UUID):
        return str(value)
    found = modules.get("decimal")
    if found is not None and isinstance(value, found.Decimal):
        return str(value)  # every digit kept: see _stdlib_schema
    fspath = getattr(type(value), "__fspath__", None)
    if fspath is not None:
        path_text = fspath(value)
        if isinstance(path_text, str):
            return path_text
    return None


def _json_key(key: Any) -> Any:
    """A dict key as JSON can have it: enums by their value, dates, UUIDs and the like as
    their strings; other keys as they are (json.dumps takes str, int, float, bool, None)."""
    if isinstance(key, enum.Enum):
        key = key.value
    if isinstance(key, (str, int, float)) or key is None:
        return key
    converted = _stdlib_text(key)
    return key if converted is None else converted


def _pydantic_hint(tp: Any) -> Optional[str]:
    """The refusal for a pydantic model (v1 or v2), told by its attributes: mcplite has no
    dependencies, so it never imports pydantic to ask. (A pydantic dataclass is a dataclass,
    and is read as one before this is asked.)"""
    if not isinstance(tp, type):
        return None
    if not (hasattr(tp, "model_json_schema") or hasattr(tp, "__pydantic_fields__")
            or hasattr(tp, "model_fields") or (hasattr(tp, "__fields__") and hasattr(tp, "parse_obj"))):
        return None
    name = _type_name(tp)
    return ("%s is a pydantic model, which mcplite does not read (it depends on nothing but the standard "
            "library): use a dataclass or a TypedDict with the same fields, or annotate it as dict "
            "(and convert with %s.model_validate(...) / .model_dump(mode=\"json\") yourself)" % (name, name))


class _Builder:
    """Builds one schema document; named types that recur become ``$defs`` entries."""

    def __init__(self, output: bool = False) -> None:
        # output: the schema of a return value, where a type may have a narrower JSON form
        # than the ones accepted as an argument (Decimal: see _stdlib_schema).
        self.output = output
        self.defs = {}  # type: Dict[str, Dict[str, Any]]
        self._names = {}  # type: Dict[Any, str]
        self._stack = []  # type: List[Any]
        self._referenced = set()  # type: set

    def finish(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        if self._referenced:
            schema = dict(schema)
            schema["$defs"] = {name: self.defs[name] for name in sorted(self._referenced)}
        return schema

    def _def_name(self, tp: Any) -> str:
        name = self._names.get(tp)
        if name is None:
            base = re.sub(r"[^A-Za-z0-9_.-]", "_", _type_name(tp))
            name, n = base, 1
            while name in self._names.values():
                n += 1
                name = "%s%d" % (base, n)
            self._names[tp] = name
        return name

    def build(self, tp: Any) -> Dict[str, Any]:
        tp, metadata = _unwrap_annotated(tp)
        schema = self._build_bare(tp)
        for item in metadata:
            if isinstance(item, str):
                schema = dict(schema)
                schema["description"] = item
            elif isinstance(item, dict):
                schema = dict(schema)
                schema.update(item)
        return schema

    def _build_bare(self, tp: Any) -> Dict[str, Any]:
        if tp is Any or tp is object:
            return {}
        if tp is None:
            tp = _NoneType
        primitive = _PRIMITIVES.get(tp)
        if primitive is not None:
            return dict(primitive)
        if tp is list or tp is tuple:
            return {"type": "array"}
        if tp is set or tp is frozenset:
            return {"type": "array", "uniqueItems": True}
        if tp is dict:
            return {"type": "object"}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return self._named(tp, lambda: _enum_schema([m.value for m in tp]))
        if _is_typeddict(tp):
            return self._named(tp, lambda: self._typeddict(tp))
        if _is_dataclass_type(tp):
            return self._named(tp, lambda: self._dataclass(tp))
        kind = _stdlib_kind(tp)
        if kind is not None:
            return _stdlib_schema(kind, self.output)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Union or (_UnionType is not None and isinstance(tp, _UnionType)):
            return self._union(args)
        if origin is typing.Literal:
            return _enum_schema(args)
        if origin in _LIST_ORIGINS or getattr(origin, "__name__", None) in _SEQUENCE_NAMES:
            if origin is tuple:
                return self._tuple(args)
            schema = {"type": "array"}  # type: Dict[str, Any]
            if args:
                schema["items"] = self.build(args[0])
            if origin in (set, frozenset) or getattr(origin, "__name__", "") in ("AbstractSet", "MutableSet"):
                schema["uniqueItems"] = True
            return schema
        if origin is dict or getattr(origin, "__name__", None) in _MAPPING_NAMES:
            schema = {"type": "object"}
            if args:
                key, value = args
                key = _unwrap_annotated(key)[0]
                if key is not str and key is not Any:
                    raise TypeError("dict keys must be str in JSON, not %s" % _type_name(key))
                schema["additionalProperties"] = self.build(value)
            return schema
        name = getattr(origin, "_name", None) or getattr(origin, "__name__", None)
        if name in ("Required", "NotRequired", "ReadOnly"):  # TypedDict qualifiers
            return self.build(args[0])
        hint = _pydantic_hint(tp)
        if hint is not None:
            raise TypeError(hint)
        raise TypeError("unsupported type annotation %r" % (tp,))

    def _named(self, tp: Any, make: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
        name = self._def_name(tp)
        if tp in self._stack:  # recursive type: refer to the definition being built
            self._referenced.add(name)
            return {"$ref": "#/$defs/" + name}
        if name in self.defs:
            return dict(self.defs[name])
        self._stack.append(tp)
        try:
            schema = make()
        finally:
            self._stack.pop()
        title = _type_name(tp)
        doc = _class_doc(tp)
        schema = dict(schema, title=title)
        if doc:
            schema["description"] = doc
        self.defs[name] = schema
        return dict(schema)

    def _union(self, args: Sequence[Any]) -> Dict[str, Any]:
        branches = []  # type: List[Dict[str, Any]]
        for arg in args:
            branch = self.build(arg)
            if branch not in branches:
                branches.append(branch)
        if len(branches) == 1:
            return branches[0]
        if any(b == {} for b in branches):
            return {}
        return {"anyOf": branches}

    def _tuple(self, args: Sequence[Any]) -> Dict[str, Any]:
        if not args:
            return {"type": "array"}
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": self.build(args[0])}
        if args == ((),):  # Tuple[()]
            return {"type": "array", "maxItems": 0}
        items = [self.build(a) for a in args]
        # JSON Schema 2020-12 (MCP's default dialect) spells fixed positions prefixItems.
        return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}

    def _typeddict(self, tp: Any) -> Dict[str, Any]:
        hints = type_hints(tp)
        required_keys = getattr(tp, "__required_keys__", None)
        if required_keys is None:
            # Python 3.8 knows only the class's own totality (so a total=False subclass of
            # a total TypedDict loses its base's required keys there).
            required_keys = set(hints) if tp.__total__ else set()
        required_keys = set(required_keys)
        props = {}
        for key, hint in hints.items():
            # Required[]/NotRequired[] as resolved here win over __required_keys__, which
            # CPython computes wrongly under `from __future__ import annotations`.
            qualifier = _qualifier(hint)
            if qualifier == "Required":
                required_keys.add(key)
            elif qualifier == "NotRequired":
                required_keys.discard(key)
            try:
                props[key] = self.build(hint)
            except TypeError as exc:
                raise TypeError("field %r of %s: %s" % (key, _type_name(tp), exc))
        schema = {"type": "object", "properties": props}  # type: Dict[str, Any]
        required = [k for k in hints if k in required_keys]
        if required:
            schema["required"] = required
        return schema

    def _dataclass(self, tp: Any) -> Dict[str, Any]:
        import dataclasses
        hints = type_hints(tp)
        props = {}
        required = []
        for field in dataclasses.fields(tp):
            if not field.init:
                continue
            try:
                prop = self.build(hints.get(field.name, Any))
            except TypeError as exc:
                raise TypeError("field %r of %s: %s" % (field.name, _type_name(tp), exc))
            if field.default is not dataclasses.MISSING:
                shown = _default_json(field.default)
                if shown is not _MISSING:
                    prop = dict(prop, default=shown)
            elif field.default_factory is dataclasses.MISSING:  # type: ignore[misc]
                required.append(field.name)
            props[field.name] = prop
        schema = {"type": "object", "properties": props}  # type: Dict[str, Any]
        if required:
            schema["required"] = required
        # The constructor takes no other keyword: say so in the schema, so an unknown field
        # is reported by name instead of as a TypeError from __init__.
        schema["additionalProperties"] = False
        return schema


def _qualifier(hint: Any) -> Optional[str]:
    """"Required" / "NotRequired" when a TypedDict field's hint is wrapped in one."""
    hint = _unwrap_annotated(hint)[0]
    origin = typing.get_origin(hint)
    name = getattr(origin, "_name", None) or getattr(origin, "__name__", None)
    return name if name in ("Required", "NotRequired") else None


def _class_doc(tp: Any) -> Optional[str]:
    doc = tp.__dict__.get("__doc__") if isinstance(tp, type) else None
    if not doc:
        return None
    if _is_dataclass_type(tp) and doc.startswith(tp.__name__ + "("):
        return None  # the signature dataclasses writes when there is no docstring
    if isinstance(tp, type) and issubclass(tp, enum.Enum) and doc == "An enumeration.":
        return None
    return clean_doc(doc)


def schema_for_type(tp: Any, output: bool = False) -> Dict[str, Any]:
    """The JSON Schema for one annotation (``$defs`` included when a type recurses); with
    ``output``, for a value mcplite sends (``to_json``'s forms) rather than one it accepts."""
    builder = _Builder(output)
    return builder.finish(builder.build(tp))


def _default_json(value: Any) -> Any:
    """A default as a schema's "default" shows it (an enum member as its value, a date as
    its ISO string...), or _MISSING when it has no JSON form."""
    if isinstance(value, enum.Enum):
        value = value.value
    elif not isinstance(value, _PLAIN):
        converted = _stdlib_text(value)
        if converted is not None:
            value = converted
    return value if _json_safe(value) else _MISSING


def clean_doc(doc: Optional[str]) -> str:
    """A docstring without its common indentation or surrounding blank lines."""
    if not doc:
        return ""
    lines = doc.expandtabs().splitlines()
    indent = min((len(l) - len(l.lstrip()) for l in lines[1:] if l.strip()), default=0)
    cleaned = [lines[0].strip()] + [l[indent:].rstrip() for l in lines[1:]]
    return "\n".join(cleaned).strip()


# Patterns, not compiled objects: compiling at import would cost start-up time, and the
# re module caches what it compiles on first use.
_ARGS_HEADER = r"^\s*(Args|Arguments|Parameters|Params)\s*:\s*$"
_ARG_LINE = r"^\s*\*{0,2}([A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:\s*(.*)$"


def doc_param_descriptions(doc: str) -> Dict[str, str]:
    """Parameter descriptions from a Google-style ``Args:`` section, if the docstring has one."""
    found = {}  # type: Dict[str, str]
    lines = doc.splitlines()
    i = 0
    while i < len(lines):
        if re.match(_ARGS_HEADER, lines[i]):
            base = len(lines[i]) - len(lines[i].lstrip())
            current = None
            for line in lines[i + 1:]:
                if not line.strip():
                    continue
                indent = len(line) - len(line.lstrip())
                if indent <= base:
                    break
                m = re.match(_ARG_LINE, line)
                if m and (current is None or indent <= current[1]):
                    current = (m.group(1), indent)
                    found[m.group(1)] = m.group(3).strip()
                elif current is not None:
                    found[current[0]] = (found[current[0]] + " " + line.strip()).strip()
            break
        i += 1
    return found


# ---------------------------------------------------------------------------
# Functions

class Param:
    """One parameter of a handler as MCP sees it."""

    __slots__ = ("name", "annotation", "default", "required", "positional_only", "convert")

    def __init__(self, name: str, annotation: Any, default: Any, required: bool,
                 positional_only: bool) -> None:
        self.name = name
        self.annotation = annotation
        self.default = default
        self.required = required
        self.positional_only = positional_only
        self.convert = None  # type: Optional[Callable[[Any], Any]]


class FunctionShape:
    """What registration learns about a handler, once."""

    def __init__(self) -> None:
        self.params = []  # type: List[Param]
        # () until describe_function finds one: most handlers have none, and an empty list
        # kept per handler is one more object for every garbage-collection pass to visit.
        self.context_params = ()  # type: Sequence[str]
        self.var_keyword = False
        self.input_schema = {"type": "object"}  # type: Dict[str, Any]
        self.return_annotation = _MISSING  # type: Any
        self.description = ""
        self.has_positional_only = False
        self.params_need_conversion = False
        self.int_params = ()  # type: Sequence[str]

    def bind(self, arguments: Dict[str, Any], context: Any) -> Tuple[List[Any], Dict[str, Any]]:
        """Positional and keyword arguments for a call with validated ``arguments``."""
        args = []  # type: List[Any]
        kwargs = {}  # type: Dict[str, Any]
        known = set()
        for param in self.params:
            known.add(param.name)
            if param.name in arguments:
                value = arguments[param.name]
                if param.convert is not None:
                    try:
                        value = param.convert(value)
                    except ArgumentError as exc:
                        raise ArgumentError("'%s': %s" % (param.name, exc))
            elif param.positional_only:
                value = param.default
            else:
                continue
            if param.positional_only:
                args.append(value)
            else:
                kwargs[param.name] = value
        if self.var_keyword:
            for key, value in arguments.items():
                if key not in known:
                    kwargs[key] = value
        for name in self.context_params:  # last: an argument can never stand in for it
            kwargs[name] = context
        return args, kwargs


_MISSING = object()
_CO_VARARGS = 0x04
_CO_VARKEYWORDS = 0x08


def _parameters(fn: Any) -> Tuple[List[Tuple[str, Any, int]], bool]:
    """[(name, default or _MISSING, kind)] and whether there is a ``**kwargs``.

    kind: 0 positional-only, 1 positional-or-keyword, 2 keyword-only. Plain functions and
    methods are read from their code object; anything else goes through ``inspect``
    (imported only then: it is one of the slowest stdlib imports).
    """
    func = getattr(fn, "__func__", fn)
    code = getattr(func, "__code__", None)
    if code is not None and not hasattr(fn, "__wrapped__") and not hasattr(fn, "__signature__"):
        posonly = getattr(code, "co_posonlyargcount", 0)
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        defaults = func.__defaults__ or ()
        kwdefaults = func.__kwdefaults__ or {}
        first_default = code.co_argcount - len(defaults)
        out = []
        for i, name in enumerate(names):
            if i < code.co_argcount:
                default = defaults[i - first_default] if i >= first_default else _MISSING
                kind = 0 if i < posonly else 1
            else:
                default = kwdefaults.get(name, _MISSING)
                kind = 2
            out.append((name, default, kind))
        if func is not fn and out:  # a bound method: self is supplied already
            out = out[1:]
        return out, bool(code.co_flags & _CO_VARKEYWORDS)
    import inspect
    sig = inspect.signature(fn)
    out = []
    var_keyword = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_keyword = True
        elif p.kind is not p.VAR_POSITIONAL:
            default = _MISSING if p.default is p.empty else p.default
            kind = 0 if p.kind is p.POSITIONAL_ONLY else 1 if p.kind is p.POSITIONAL_OR_KEYWORD else 2
            out.append((p.name, default, kind))
    return out, var_keyword


def _admits_none(tp: Any) -> bool:
    tp = _unwrap_annotated(tp)[0]
    if tp is None or tp is _NoneType or tp is Any:
        return True
    if typing.get_origin(tp) is typing.Union or (_UnionType is not None and isinstance(tp, _UnionType)):
        return any(_admits_none(a) for a in typing.get_args(tp))
    return False


def _is_context(tp: Any, context_types: Tuple[type, ...]) -> bool:
    tp = _unwrap_annotated(tp)[0]
    if tp in context_types:
        return True
    if type(tp) is type:  # a plain class: no Union to look into
        return False
    if typing.get_origin(tp) is typing.Union or (_UnionType is not None and isinstance(tp, _UnionType)):
        rest = [a for a in typing.get_args(tp) if a is not _NoneType]
        return len(rest) == 1 and rest[0] in context_types
    return False


def describe_function(fn: Callable[..., Any], kind: str, context_types: Tuple[type, ...] = (),
                      skip: Sequence[str] = ()) -> FunctionShape:
    """Read a handler's signature: the input schema, the injected parameters, the return type.

    ``kind`` ("tool", "prompt", ...) only shapes error messages. Raises ``TypeError`` naming
    the parameter whose annotation has no JSON Schema.
    """
    shape = FunctionShape()
    fn_name = getattr(fn, "__name__", repr(fn))
    try:
        hints = type_hints(fn)
    except NameError as exc:
        # A forward reference to a name not defined yet: a string annotation, any annotation
        # under `from __future__ import annotations`, and on 3.14 (lazy annotations) a plain
        # one too. The schema is built at registration, so the same rule holds on every Python.
        raise TypeError("%s %r: cannot resolve its type annotations: %s (define it before the %s "
                        "is registered)" % (kind, fn_name, exc, kind))
    except Exception as exc:  # `int | None` under `from __future__ import annotations` on 3.8, say
        raise TypeError("%s %r: cannot resolve its type annotations: %s" % (kind, fn_name, exc))
    doc = clean_doc(getattr(fn, "__doc__", None))
    shape.description = doc
    doc_params = doc_param_descriptions(doc) if doc else {}
    params, shape.var_keyword = _parameters(fn)
    builder = _Builder()
    properties = {}  # type: Dict[str, Any]
    required = []  # type: List[str]
    for name, default, pkind in params:
        annotation = hints.get(name, Any)
        if _is_context(annotation, context_types):
            shape.context_params = list(shape.context_params) + [name]
            continue
        if name in skip:
            continue
        if default is None and not _admits_none(annotation):
            annotation = Optional[annotation]  # `x: int = None` means "int, or nothing"
        try:
            prop = builder.build(annotation)
            if not _json_safe(prop):
                raise TypeError("its schema is not JSON: %r" % (prop,))
        except TypeError as exc:
            raise TypeError("%s %r, parameter %r: %s" % (kind, fn_name, name, exc))
        if "description" not in prop and name in doc_params:
            prop = dict(prop, description=doc_params[name])
        param = Param(name, annotation, default, default is _MISSING, pkind == 0)
        param.convert = converter_for(annotation)
        if pkind == 0:
            shape.has_positional_only = True
        if default is not _MISSING:
            shown = _default_json(default)
            if shown is not _MISSING:
                prop = dict(prop, default=shown)
        else:
            required.append(name)
        properties[name] = prop
        shape.params.append(param)
    schema = {"type": "object"}  # type: Dict[str, Any]
    if properties:
        schema["properties"] = properties
    if required:
        schema["required"] = required
    if not shape.var_keyword:
        # An unknown argument is most likely a misspelt one: say so instead of ignoring it.
        schema["additionalProperties"] = False
    shape.input_schema = builder.finish(schema)
    # Plain int parameters need converting only when a client sent 2.0 for 2: checked
    # cheaply per call (int_params) instead of taking the general, slower binding path.
    # A tuple: only read, and an empty one (most tools) is no new object at all.
    shape.int_params = tuple(p.name for p in shape.params if p.convert is _to_int)
    shape.params_need_conversion = any(p.convert is not None and p.convert is not _to_int for p in shape.params)
    shape.return_annotation = hints.get("return", _MISSING)
    return shape


def output_schema_for(annotation: Any) -> Tuple[Optional[Dict[str, Any]], bool]:
    """(outputSchema, wrap) for a tool's return annotation.

    ``str``, ``bytes``, ``None``, ``Any`` and no annotation give no output schema (plain
    content); so do bare ``list``, ``tuple`` and ``dict``, which say nothing a schema could
    add and may as well hold content blocks (the value decides, when the tool returns).
    Object-shaped types give their schema; anything else is wrapped as
    ``{"result": value}``, because an output schema's root "MUST" be an object.
    """
    if annotation is _MISSING:
        return None, False
    bare = _unwrap_annotated(annotation)[0]
    if bare in (str, bytes, bytearray, None, _NoneType, Any, object, list, tuple, dict):
        return None, False
    if typing.get_origin(bare) is typing.Union or (_UnionType is not None and isinstance(bare, _UnionType)):
        rest = [a for a in typing.get_args(bare) if a is not _NoneType]
        if len(rest) == 1 and _unwrap_annotated(rest[0])[0] in (str, bytes):
            return None, False
    schema = schema_for_type(annotation, output=True)
    if schema.get("type") == "object":
        return schema, False
    wrapped = {"type": "object", "properties": {"result": schema}, "required": ["result"]}  # type: Dict[str, Any]
    if "$defs" in schema:  # keep definitions at the document root, where "#/$defs/..." points
        inner = dict(schema)
        wrapped["$defs"] = inner.pop("$defs")
        wrapped["properties"] = {"result": inner}
    return wrapped, True


# ---------------------------------------------------------------------------
# Converting validated JSON into the annotated Python types

def converter_for(tp: Any) -> Optional[Callable[[Any], Any]]:
    """A function turning validated JSON into ``tp`` (Enum members, dataclasses, tuples,
    dates, UUIDs...), or None when the JSON value is already the right Python value (the
    common case). A converter raises ArgumentError for a value the type refuses."""
    tp = _unwrap_annotated(tp)[0]
    if tp is int:
        return _to_int
    if tp is str or tp is float or tp is bool:  # JSON gives these as they are
        return None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp
    if _is_dataclass_type(tp):
        return _dataclass_converter(tp)
    kind = _stdlib_kind(tp)
    if kind is not None:
        return _stdlib_converter(kind, tp)
    if _is_typeddict(tp):
        hints = type_hints(tp)
        convs = {}  # type: Dict[str, Callable[[Any], Any]]
        for key, hint in hints.items():
            conv = converter_for(hint)
            if conv is not None:
                convs[key] = conv
        if not convs:
            return None
        return lambda v: {k: (convs[k](x) if k in convs else x) for k, x in v.items()}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or (_UnionType is not None and isinstance(tp, _UnionType)):
        rest = [a for a in args if a is not _NoneType]
        if len(rest) == 1:
            inner = converter_for(rest[0])
            if inner is None:
                return None
            return lambda v: None if v is None else inner(v)
        return None  # which branch was meant is ambiguous; leave the JSON value as is
    if origin in (list, set, frozenset, tuple) or getattr(origin, "__name__", None) in _SEQUENCE_NAMES:
        container = origin if origin in (set, frozenset, tuple) else None
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            convs_t = [converter_for(a) for a in args]
            return lambda v: tuple(c(x) if c else x for c, x in zip(convs_t, v))
        item = converter_for(args[0]) if args else None
        if item is None:
            return container
        if container is None:
            return lambda v: [item(x) for x in v]
        return lambda v: container(item(x) for x in v)
    if tp in (set, frozenset, tuple):
        return tp
    if origin is dict or getattr(origin, "__name__", None) in _MAPPING_NAMES:
        if len(args) == 2:
            value_conv = converter_for(args[1])
            if value_conv is not None:
                return lambda v: {k: value_conv(x) for k, x in v.items()}
    return None


def _to_int(value: Any) -> Any:
    # JSON Schema counts 2.0 as an integer; the function asked for an int.
    if isinstance(value, float):
        return int(value)
    return value


# What ISO 8601 text is read, alike on every Python: datetime.fromisoformat before 3.11 takes
# neither "Z" nor fractions of other than 3 or 6 digits, and from 3.11 takes far more (week
# dates, basic format). A match is rewritten into the form every version reads: the offset as
# +HH:MM, the fraction as 6 digits (digits beyond microseconds, which Python cannot hold,
# are dropped), and handed to fromisoformat, which checks the ranges (a 13th month...).
_CLOCK_TEXT = r"([0-9]{2}:[0-9]{2}(?::[0-9]{2})?)(?:[.,]([0-9]+))?([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?"
_DATE_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ISO_FORMS = {
    "datetime": (r"(%s)(?:[Tt ]%s)?\Z" % (_DATE_TEXT, _CLOCK_TEXT), "an ISO 8601 date-time (2025-01-31T09:30:00Z)"),
    "date": (r"(%s)\Z" % _DATE_TEXT, "an ISO 8601 date (2025-01-31)"),
    "time": (r"()%s\Z" % _CLOCK_TEXT, "an ISO 8601 time (09:30:00)"),
}  # type: Dict[str, Tuple[str, str]]


def _parse_iso(kind: str, tp: Any, value: str) -> Any:
    pattern, wanted = _ISO_FORMS[kind]
    m = re.match(pattern, value)
    if m is not None:
        day, clock, fraction, offset = m.groups() if kind != "date" else (m.group(1), None, None, None)
        normal = day or ""
        if clock:
            normal += ("T" if day else "") + clock
            if fraction:
                normal += "." + (fraction + "00000")[:6]
            if offset:
                if offset in "Zz":
                    offset = "+00:00"
                elif len(offset) == 3:
                    offset += ":00"
                elif ":" not in offset:
                    offset = offset[:3] + ":" + offset[3:]
                normal += offset
        try:
            return tp.fromisoformat(normal)
        except ValueError as exc:
            raise ArgumentError("%s is not %s: %s" % (_show(value), wanted, exc))
    raise ArgumentError("expected %s, got %s" % (wanted, _show(value)))


def _stdlib_converter(kind: str, tp: Any) -> Callable[[Any], Any]:
    if kind in _ISO_FORMS:
        def convert_iso(value: Any) -> Any:
            if isinstance(value, tp):
                return value
            return _parse_iso(kind, tp, value)
        return convert_iso
    if kind == "uuid":
        def convert_uuid(value: Any) -> Any:
            try:
                return value if isinstance(value, tp) else tp(value)
            except ValueError:
                raise ArgumentError("expected a UUID (123e4567-e89b-12d3-a456-426614174000), got %s"
                                    % _show(value))
        return convert_uuid
    if kind == "decimal":
        def convert_decimal(value: Any) -> Any:
            if isinstance(value, tp):
                return value
            if isinstance(value, float):
                if not math.isfinite(value):
                    raise ArgumentError("expected a finite decimal number, got %s" % _show(value))
                value = repr(value)  # the float's shortest spelling: Decimal(0.1) would be 0.1000000000000000055...
            return tp(value)  # a str matched _DECIMAL_TEXT, so Decimal reads it
        return convert_decimal
    return lambda value: value if isinstance(value, tp) else tp(value)  # a path


def _dataclass_converter(tp: Any) -> Callable[[Any], Any]:
    import dataclasses
    hints = type_hints(tp)
    fields = [f for f in dataclasses.fields(tp) if f.init]
    convs = {f.name: converter_for(hints.get(f.name, Any)) for f in fields}

    def convert(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        kwargs = {}
        for key, item in value.items():
            conv = convs.get(key)
            kwargs[key] = conv(item) if conv is not None else item
        return tp(**kwargs)
    return convert


_PLAIN = (str, int, float, bool, type(None))


def to_json(value: Any) -> Any:
    """Dataclasses, enums, tuples, sets, dates, times, UUIDs, decimals and paths as JSON
    values (for structured results), at any depth. Anything else is left as it is, for the
    JSON encoder to refuse."""
    if isinstance(value, _PLAIN) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if _is_dataclass_value(value):
        import dataclasses
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k if type(k) is str else _json_key(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    # Last: the common values never pay for these checks.
    converted = _stdlib_text(value)
    return value if converted is None else converted


# ---------------------------------------------------------------------------
# Validation

Validator = Callable[[Any, Any], Optional[str]]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, (list, tuple))
    if name == "null":
        return value is None
    return True  # an unknown type name constrains nothing


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: 1 == 1.0, but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _show(value: Any) -> str:
    try:
        text_value = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text_value = repr(value)
    return text_value if len(text_value) <= 60 else text_value[:57] + "..."


# A path is "" at the root, else a (parent path, key) pair. It is spelt out as text only
# when a value fails, so a valid value costs no string formatting.
Path = Any


def _path_text(path: Path) -> str:
    if not path:
        return ""
    parent, key = path
    head = _path_text(parent)
    if isinstance(key, int):
        return "%s[%d]" % (head, key)
    return "%s.%s" % (head, key) if head else str(key)


def _where(path: Path) -> str:
    return "'%s'" % _path_text(path) if path else "the value"


class _Compiler:
    """Compiles a schema document into nested closures, once."""

    _MAX_DEPTH = 64

    def __init__(self, root: Any) -> None:
        self.root = root
        self.refs = {}  # type: Dict[str, Validator]

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            # 2026-07-28: implementations "MUST NOT automatically dereference $ref values
            # that resolve to a network URI".
            raise ValueError("only local $ref is supported, not %r" % ref)
        node = self.root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(part)]
            else:
                node = node[part]
        return node

    def ref(self, ref: str) -> Validator:
        found = self.refs.get(ref)
        if found is None:
            slot = []  # type: List[Validator]

            def deferred(value: Any, path: str) -> Optional[str]:
                return slot[0](value, path)
            self.refs[ref] = deferred
            slot.append(self.compile(self.resolve(ref)))
            found = deferred
        return found

    def compile(self, schema: Any, depth: int = 0) -> Validator:  # noqa: C901 - one keyword per branch
        if depth > self._MAX_DEPTH:
            raise ValueError("schema nested deeper than %d levels" % self._MAX_DEPTH)
        if schema is True or schema == {}:
            return _accept
        if schema is False:
            return lambda value, path: "%s is not allowed" % _where(path)
        if not isinstance(schema, dict):
            raise ValueError("a schema must be an object or a boolean, not %r" % (schema,))
        checks = []  # type: List[Validator]
        d = depth + 1
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        object_only = schema.get("type") == "object" and self._has_object_keywords(schema)
        if "type" in schema and not object_only:  # an object check below tests the type itself
            checks.append(_type_check(schema["type"]))
        if "enum" in schema:
            options = list(schema["enum"])

            def check_enum(value: Any, path: str) -> Optional[str]:
                for option in options:
                    if json_equal(value, option):
                        return None
                return "%s: %s is not one of %s" % (_where(path), _show(value), _show(options))
            checks.append(check_enum)
        if "const" in schema:
            const = schema["const"]

            def check_const(value: Any, path: str) -> Optional[str]:
                if json_equal(value, const):
                    return None
                return "%s: expected %s, got %s" % (_where(path), _show(const), _show(value))
            checks.append(check_const)
        checks.extend(self._numbers(schema))
        checks.extend(self._strings(schema))
        checks.extend(self._arrays(schema, d))
        checks.extend(self._objects(schema, d, object_only))
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                branches = [self.compile(s, d) for s in schema[keyword]]
                checks.append(_any_of(branches, keyword == "oneOf"))
        if "allOf" in schema:
            for sub in schema["allOf"]:
                checks.append(self.compile(sub, d))
        if "not" in schema:
            inner = self.compile(schema["not"], d)

            def check_not(value: Any, path: str) -> Optional[str]:
                if inner(value, path) is None:
                    return "%s: must not match the schema in 'not'" % _where(path)
                return None
            checks.append(check_not)
        if not checks:
            return _accept
        if len(checks) == 1:
            return checks[0]

        def check_all(value: Any, path: str) -> Optional[str]:
            for check in checks:
                error = check(value, path)
                if error is not None:
                    return error
            return None
        return check_all

    def _numbers(self, schema: Dict[str, Any]) -> List[Validator]:
        checks = []  # type: List[Validator]
        bounds = (
            ("minimum", lambda v, b: v >= b, "at least"),
            ("maximum", lambda v, b: v <= b, "at most"),
            ("exclusiveMinimum", lambda v, b: v > b, "greater than"),
            ("exclusiveMaximum", lambda v, b: v < b, "less than"),
        )
        for keyword, ok, words in bounds:
            bound = schema.get(keyword)
            if isinstance(bound, (int, float)) and not isinstance(bound, bool):
                def check(value: Any, path: str, bound: Any = bound, ok: Any = ok, words: str = words) -> Optional[str]:
                    if isinstance(value, (int, float)) and not isinstance(value, bool) and not ok(value, bound):
                        return "%s: %s must be %s %s" % (_where(path), _show(value), words, _show(bound))
                    return None
                checks.append(check)
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
            def check_multiple(value: Any, path: str) -> Optional[str]:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    quotient = value / step
                    if not math.isclose(quotient, round(quotient), rel_tol=0, abs_tol=1e-9):
                        return "%s: %s is not a multiple of %s" % (_where(path), _show(value), _show(step))
                return None
            checks.append(check_multiple)
        return checks

    def _strings(self, schema: Dict[str, Any]) -> List[Validator]:
        checks = []  # type: List[Validator]
        low, high = schema.get("minLength"), schema.get("maxLength")
        if isinstance(low, int) or isinstance(high, int):
            def check_length(value: Any, path: str) -> Optional[str]:
                if isinstance(value, str):
                    if isinstance(low, int) and len(value) < low:
                        return "%s: must be at least %d characters long" % (_where(path), low)
                    if isinstance(high, int) and len(value) > high:
                        return "%s: must be at most %d characters long" % (_where(path), high)
                return None
            checks.append(check_length)
        if isinstance(schema.get("pattern"), str):
            pattern = re.compile(schema["pattern"])

            def check_pattern(value: Any, path: str) -> Optional[str]:
                if isinstance(value, str) and not pattern.search(value):
                    return "%s: %s does not match the pattern %s" % (_where(path), _show(value), _show(pattern.pattern))
                return None
            checks.append(check_pattern)
        return checks

    def _arrays(self, schema: Dict[str, Any], d: int) -> List[Validator]:
        checks = []  # type: List[Validator]
        prefix = [self.compile(s, d) for s in schema.get("prefixItems", ())]
        items = schema.get("items")
        if isinstance(items, list):  # draft-07 tuple form
            prefix, items = [self.compile(s, d) for s in items], schema.get("additionalItems")
        item_check = self.compile(items, d) if items is not None else None
        low, high = schema.get("minItems"), schema.get("maxItems")
        unique = schema.get("uniqueItems") is True
        if prefix or item_check or isinstance(low, int) or isinstance(high, int) or unique:
            def check_array(value: Any, path: str) -> Optional[str]:
                if not isinstance(value, (list, tuple)):
                    return None
                if isinstance(low, int) and len(value) < low:
                    return "%s: needs at least %d items, got %d" % (_where(path), low, len(value))
                if isinstance(high, int) and len(value) > high:
                    return "%s: takes at most %d items, got %d" % (_where(path), high, len(value))
                for i, item in enumerate(value):
                    check = prefix[i] if i < len(prefix) else item_check
                    if check is not None:
                        error = check(item, (path, i))
                        if error is not None:
                            return error
                if unique:
                    return _check_unique(value, path)
                return None
            checks.append(check_array)
        return checks

    @staticmethod
    def _has_object_keywords(schema: Dict[str, Any]) -> bool:
        return any(k in schema for k in ("required", "properties", "patternProperties", "additionalProperties",
                                         "minProperties", "maxProperties"))

    def _objects(self, schema: Dict[str, Any], d: int, object_only: bool) -> List[Validator]:
        if not self._has_object_keywords(schema):
            return []
        required = schema.get("required")
        required = required if isinstance(required, list) else []
        props = {k: self.compile(s, d) for k, s in (schema.get("properties") or {}).items()}
        patterns = [(re.compile(k), self.compile(s, d)) for k, s in (schema.get("patternProperties") or {}).items()]
        extra = schema.get("additionalProperties", True)
        extra_check = None if extra is True or extra == {} or extra is False else self.compile(extra, d)
        closed = extra is False
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        low = low if isinstance(low, int) else None
        high = high if isinstance(high, int) else None
        type_error = _type_check("object")
        # Decided here, once: most tools' arguments have named properties only (no
        # patternProperties, additionalProperties left open), one lookup per property.
        named_only = not patterns and extra_check is None and not closed
        sized = low is not None or high is not None

        # One closure per object schema, with the type test folded in: this is the check
        # every tools/call runs on its arguments.
        def check_object(value: Any, path: Any) -> Optional[str]:
            if type(value) is not dict and not isinstance(value, dict):
                return type_error(value, path) if object_only else None
            for key in required:
                if key not in value:
                    return "%s: required property missing" % _where((path, key))
            if sized:
                if low is not None and len(value) < low:
                    return "%s: needs at least %d properties" % (_where(path), low)
                if high is not None and len(value) > high:
                    return "%s: takes at most %d properties" % (_where(path), high)
            if named_only:
                for key, item in value.items():
                    check = props.get(key)
                    if check is not None:
                        error = check(item, (path, key))
                        if error is not None:
                            return error
                return None
            for key, item in value.items():
                check = props.get(key)
                matched = check is not None
                if check is not None:
                    error = check(item, (path, key))
                    if error is not None:
                        return error
                for pattern, pcheck in patterns:
                    if pattern.search(key):
                        matched = True
                        error = pcheck(item, (path, key))
                        if error is not None:
                            return error
                if not matched:
                    if closed:
                        return "%s: unexpected property" % _where((path, key))
                    if extra_check is not None:
                        error = extra_check(item, (path, key))
                        if error is not None:
                            return error
            return None
        return [check_object]


_EXACT = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list, tuple), "null": (type(None),),
}  # type: Dict[str, Tuple[type, ...]]


# One type check per distinct "type" value, shared by every schema that has it: most
# properties of most tools are "string", "integer" or "number", and a closure each was a
# third of the memory a registered tool's validators took.
_TYPE_CHECKS = {}  # type: Dict[Any, Validator]


def _type_check(types: Any) -> Validator:
    key = types if isinstance(types, str) else tuple(types) if isinstance(types, list) else None
    if key is not None:
        try:
            shared = _TYPE_CHECKS.get(key)
        except TypeError:  # (an unhashable entry in a malformed list: checked, not shared)
            key = shared = None
        if shared is not None:
            return shared
    check = _new_type_check(types)
    if key is not None and len(_TYPE_CHECKS) < 256:  # (bounded: the type names are few)
        _TYPE_CHECKS[key] = check
    return check


def _new_type_check(types: Any) -> Validator:
    names = [types] if isinstance(types, str) else list(types)
    shown = " or ".join(str(n) for n in names)
    # Values decoded from JSON have exactly these classes, so a set lookup settles nearly
    # every case; the general test handles subclasses, 2.0 as an integer, and bool (whose
    # class is never in the set for "integer"/"number").
    fast = frozenset(t for n in names for t in _EXACT.get(n, ()))

    def check_type(value: Any, path: Any) -> Optional[str]:
        if type(value) in fast:
            return None
        for name in names:
            if _is_type(value, name):
                return None
        return "%s: expected %s, got %s %s" % (_where(path), shown, _json_type(value), _show(value))
    return check_type


def _unique_key(value: Any) -> Any:
    """A hashable key equal for exactly the values JSON counts as equal (1 and 1.0 alike,
    true and 1 not)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("z",)
    if isinstance(value, (list, tuple)):
        return ("a", tuple(_unique_key(v) for v in value))
    if isinstance(value, dict):
        return ("o", frozenset((k, _unique_key(v)) for k, v in value.items()))
    return ("?", id(value))


def _check_unique(value: Any, path: str) -> Optional[str]:
    # Linear: a quadratic scan would let one 70 KB request burn seconds of CPU.
    seen = {}  # type: Dict[Any, int]
    for i, item in enumerate(value):
        key = _unique_key(item)
        if key in seen:
            return "%s: items %d and %d are equal" % (_where(path), seen[key], i)
        seen[key] = i
    return None


def _accept(value: Any, path: str) -> Optional[str]:
    return None


def _any_of(branches: List[Validator], exactly_one: bool) -> Validator:
    def check(value: Any, path: str) -> Optional[str]:
        errors = []
        matched = 0
        for branch in branches:
            error = branch(value, path)
            if error is None:
                matched += 1
                if not exactly_one:
                    return None
            else:
                errors.append(error)
        if matched == 1 or (matched and not exactly_one):
            return None
        if matched > 1:
            return "%s: matches %d alternatives, expected exactly one" % (_where(path), matched)
        if len(errors) == 1:
            return errors[0]
        # The most specific complaint is usually the one that got furthest into the value.
        best = max(errors, key=lambda e: len(e.split(":", 1)[0]))
        return "%s does not match any allowed alternative (%s)" % (_where(path), best)
    return check


def compile_schema(schema: Any, root: Any = None) -> Callable[[Any], Optional[str]]:
    """A validator for ``schema``: returns None when a value is valid, else one sentence
    naming the first failing field and the problem. ``root`` is the document that
    ``$ref`` pointers resolve against (the schema itself by default)."""
    compiler = _Compiler(schema if root is None else root)
    check = compiler.compile(schema)
    return lambda value: check(value, "")


# ---------------------------------------------------------------------------
# x-mcp-header: tool parameters mirrored into Mcp-Param-* HTTP headers (2026-07-28)

_HEADER_TOKEN = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"  # RFC 9110 tchar (compiled on first use)


def header_parameters(schema: Dict[str, Any]) -> List[Tuple[Tuple[str, ...], str, str]]:
    """The ``x-mcp-header`` annotations of a tool's input schema: (property path, header
    name in lower case, JSON type) for each. Raises ValueError for an annotation the spec
    forbids, so a tool every conforming client would drop is refused at registration.

    The rules: the value "MUST match HTTP field-name token syntax", "MUST be
    case-insensitively unique", "MUST only be applied to parameters with primitive types
    (integer, string, boolean)", and only to properties "reachable via a chain consisting
    solely of properties keys".
    """
    found = []  # type: List[Tuple[Tuple[str, ...], str, str]]

    def walk(node: Any, path: Tuple[str, ...], reachable: bool) -> None:
        if not isinstance(node, dict):
            if isinstance(node, list):
                for item in node:
                    if isinstance(item, (dict, list)):  # (a walk of anything else finds nothing)
                        walk(item, path, False)
            return
        if "x-mcp-header" in node:
            name = node["x-mcp-header"]
            where = "/".join(path) or "the schema root"
            if not reachable or not path:
                raise ValueError("x-mcp-header at %s: only properties reached through 'properties' alone "
                                 "may be mirrored into headers" % where)
            # fullmatch: the pattern's "$" alone would take a final line break.
            if not isinstance(name, str) or not re.fullmatch(_HEADER_TOKEN, name):
                raise ValueError("x-mcp-header %r at %s is not an HTTP header-name token" % (name, where))
            kind = node.get("type")
            if kind not in ("string", "integer", "boolean"):
                raise ValueError("x-mcp-header %r at %s: the parameter must be a string, integer or boolean, "
                                 "not %r" % (name, where, kind))
            if any(existing == name.lower() for _, existing, _ in found):
                raise ValueError("x-mcp-header %r is used twice (names are compared case-insensitively)" % name)
            found.append((path, name.lower(), kind))
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for prop, sub in value.items():
                    walk(sub, path + (prop,), reachable)
            elif isinstance(value, (dict, list)):
                # Any other keyword ("items", "anyOf", "$defs", ...): what is below it is not
                # reachable through properties alone. (Its scalars hold no annotation: not walked.)
                walk(value, path + (key,), False)

    walk(schema, (), True)
    return found
