"""The model APIs' function-calling formats, in and out: host-wide tool names, a catalog in
each provider's tool format, Gemini's schema subset, the model's tool call in any provider's
shape, and an MCP tool result in the shape that provider takes back.

Pure functions of their arguments: no I/O, no state, no provider SDK (a host hands the dicts
to whichever SDK it uses). ``Host`` (host.py) routes with them.

The providers (``PROVIDERS``), as the keyword that names them:

=================== ================================ ============================================
provider            tools (``provider_tools``)        the result of a call (``provider_result``)
=================== ================================ ============================================
"openai"            Chat Completions ``tools``        a ``{"role": "tool"}`` message
"openai-responses"  Responses API function tools      a ``function_call_output`` input item
"anthropic"         Messages ``tools``                a ``tool_result`` block (user message content)
"gemini"            one ``Tool`` of function decls    a ``functionResponse`` part
None                the MCP tools, host-named         the MCP ``CallToolResult`` unchanged
=================== ================================ ============================================
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

PROVIDERS = ("openai", "openai-responses", "anthropic", "gemini")

# Every provider's tool-name rule at once (OpenAI: a-z, A-Z, 0-9, _ and -, at most 64;
# Anthropic the same; Gemini allows dots and colons too, and up to 64 (128 on Vertex)).
_NAME_OK = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_NAME_BAD_CHAR = re.compile(r"[^a-zA-Z0-9_-]")
_NAME_START = re.compile(r"[a-zA-Z_]")  # (Gemini's rule for the first character)
_NAME_MAX = 64
_SEPARATOR = "__"
_HOSTFMT_HASH_LENGTHS = (8, 16, 64)  # hex digits; a longer one only when a shorter one collides
_SERVER_KEEP = 16  # what a shortened name keeps of the server's name, at least


def _clean_server(server: str) -> str:
    """The server's part of a name: characters outside ``[a-zA-Z0-9_-]`` made ``_``, and an
    ``_`` first when it would not start with a letter or ``_`` (Gemini: "Must start with a
    letter or an underscore")."""
    clean = _NAME_BAD_CHAR.sub("_", server)
    return clean if _NAME_START.match(clean) else "_" + clean


def _pair_hash(server: str, tool: str, length: int) -> str:
    return hashlib.sha256((server + "\x00" + tool).encode("utf-8", "surrogatepass")).hexdigest()[:length]


def _hashed_name(server: str, tool: str, length: int) -> str:
    """``<server>__<tool>_<hash>``, the two parts cut so that the whole is at most 64."""
    clean_server = _clean_server(server)
    clean_tool = _NAME_BAD_CHAR.sub("_", tool)
    suffix = "_" + _pair_hash(server, tool, length)
    room = _NAME_MAX - len(_SEPARATOR) - len(suffix)
    if room <= 0:  # (only with the 64-digit hash: "_" and the hash alone then name the pair)
        return "_" + _pair_hash(server, tool, _NAME_MAX - 1)
    if len(clean_server) + len(clean_tool) > room:
        # The server keeps at least 16 characters (when it has them); the tool the rest.
        server_keep = min(len(clean_server), max(_SERVER_KEEP, room - len(clean_tool)))
        clean_server = clean_server[:server_keep]
        clean_tool = clean_tool[:room - server_keep]
    return clean_server + _SEPARATOR + clean_tool + suffix


def host_tool_names(pairs: Sequence[Tuple[str, str]],
                    kept: Optional[Dict[Tuple[str, str], str]] = None) -> Dict[Tuple[str, str], str]:
    """``(server, tool) -> "<server>__<tool>"``: a name valid for every provider
    (``^[a-zA-Z0-9_-]{1,64}$``, starting with a letter or ``_`` as Gemini wants) and unique
    among ``pairs``.

    ``kept``: the names handed out before (``(server, tool) -> name``, as a host gave them to
    a model). A pair of ``pairs`` found there keeps its name, whatever the rule below would
    give it now; every other pair is named by the rule, and when that name is already kept by
    another pair, takes the hashed forms of step 3 and 4 (8, then 16, then 63 digits) until
    one is free: a name, once given, never moves to another pair while its pair is named.
    Without ``kept`` (or empty), the names are the rule's alone.

    The rule, the same whatever the order of ``pairs`` (each name depends only on the set):

    1. The plain name is ``server + "__" + tool`` with every character outside
       ``[a-zA-Z0-9_-]`` replaced by ``_``, and ``_`` before it when the server's name starts
       with another character than a letter or ``_`` (``1password`` -> ``_1password__get``).
    2. A pair keeps its plain name when that name is at most 64 characters and no other pair
       has the same plain name, or when it is the only pair of that plain name that needed no
       replacement in step 1 (``a.b`` yields ``a_b`` to a real ``a_b``).
    3. Every other pair gets ``<server>__<tool>_<h>``, ``h`` the first 8 hex digits of the
       SHA-256 of ``server + "\\0" + tool`` (the original names), the server and tool parts cut
       to fit 64: the server keeps at least 16 characters (when it has them), the tool the rest.
    4. Should a name of step 3 still equal another name, the pairs holding it take 16 digits,
       then ``_`` and 63 digits alone.

    Duplicate pairs are named once.
    """
    names = _rule_names(pairs)
    if not kept:
        return names
    result = {}  # type: Dict[Tuple[str, str], str]
    taken = set()  # type: Set[str]
    for pair in sorted(names):  # (sorted: should kept give one name twice, the same pair keeps it)
        name = kept.get(pair)
        if name is not None and name not in taken:
            result[pair] = name
            taken.add(name)
    for pair in sorted(names):
        if pair in result:
            continue
        name = names[pair]
        for length in _HOSTFMT_HASH_LENGTHS:
            if name not in taken:
                break
            name = _hashed_name(pair[0], pair[1], length)
        # (Past the 63-digit form, a name still taken would take a SHA-256 collision.)
        result[pair] = name
        taken.add(name)
    return result


def _rule_names(pairs: Sequence[Tuple[str, str]]) -> Dict[Tuple[str, str], str]:
    """The names of ``host_tool_names`` by its rule alone (nothing kept)."""
    unique = sorted(set((str(server), str(tool)) for server, tool in pairs))
    plain = {}  # type: Dict[Tuple[str, str], str]
    by_plain = {}  # type: Dict[str, List[Tuple[str, str]]]
    for pair in unique:
        name = _clean_server(pair[0]) + _SEPARATOR + _NAME_BAD_CHAR.sub("_", pair[1])
        plain[pair] = name
        by_plain.setdefault(name, []).append(pair)
    names = {}  # type: Dict[Tuple[str, str], str]
    hashed = {}  # type: Dict[Tuple[str, str], int]  # the pairs of step 3: index into the hash lengths
    for name, group in by_plain.items():
        untouched = [pair for pair in group if pair[0] + _SEPARATOR + pair[1] == name]
        for pair in group:
            if len(name) <= _NAME_MAX and (len(group) == 1 or (len(untouched) == 1 and untouched[0] == pair)):
                names[pair] = name
            else:
                hashed[pair] = 0
                names[pair] = _hashed_name(pair[0], pair[1], _HOSTFMT_HASH_LENGTHS[0])
    while True:  # step 4 (a plain name can only equal a hashed one: plain names are unique by now)
        holders = {}  # type: Dict[str, List[Tuple[str, str]]]
        for pair, name in names.items():
            holders.setdefault(name, []).append(pair)
        clashing = [pair for group in holders.values() if len(group) > 1 for pair in group if pair in hashed
                    and hashed[pair] + 1 < len(_HOSTFMT_HASH_LENGTHS)]
        if not clashing:
            return names
        for pair in clashing:
            hashed[pair] += 1
            names[pair] = _hashed_name(pair[0], pair[1], _HOSTFMT_HASH_LENGTHS[hashed[pair]])


# --- the catalog in each provider's format ----------------------------------------------------


def _hostfmt_check_provider(provider: Optional[str]) -> None:
    if provider is not None and provider not in PROVIDERS:
        raise ValueError("unknown provider %r: the providers are %s, or None for MCP's own shape"
                         % (provider, ", ".join(repr(p) for p in PROVIDERS)))


# What OpenAI refuses at the top of a tool's parameters ("schema must have type 'object' and
# not have 'oneOf'/'anyOf'/'allOf'/'enum'/'const'/'not' at the top level"); Anthropic refuses
# the first three there ("input_schema does not support oneOf, allOf, or anyOf at the top
# level"). Either refuses the whole request for one such tool.
_TOP_UNIONS = ("allOf", "anyOf", "oneOf")
_TOP_REFUSED = frozenset(_TOP_UNIONS + ("enum", "const", "not"))


def _hostfmt_parameters(tool: Dict[str, Any]) -> Dict[str, Any]:
    """The tool's input schema as OpenAI and Anthropic take it: an object schema at the top
    (both refuse another), with ``properties`` (OpenAI refuses an object schema without), and
    no ``allOf``/``anyOf``/``oneOf``/``enum``/``const``/``not`` at the top (refused there): the
    alternatives' properties become the schema's own, required what every alternative requires
    (for ``allOf``, what any member does); the server still checks the arguments."""
    schema = tool.get("inputSchema")
    if not isinstance(schema, dict):
        return {"type": "object", "properties": {}}
    if schema.get("type") == "object" and isinstance(schema.get("properties"), dict) \
            and _TOP_REFUSED.isdisjoint(schema):
        return schema
    schema = dict(schema)  # (a copy: the tool's own definition stays as the server gave it)
    schema["type"] = "object"
    if not isinstance(schema.get("properties"), dict):
        schema["properties"] = {}
    if not _TOP_REFUSED.isdisjoint(schema):
        _flatten_top(schema)
    return schema


# Where a schema holds other schemas: one, a list of them, or an object of them by name.
_SUB_ONE = frozenset(("items", "additionalProperties", "additionalItems", "not", "contains", "if", "then",
                              "else", "propertyNames", "unevaluatedItems", "unevaluatedProperties"))
_SUB_LIST = frozenset(("anyOf", "oneOf", "allOf", "prefixItems", "items"))
_SUB_MAP = frozenset(("properties", "patternProperties", "$defs", "definitions", "dependentSchemas"))
_SUBSCHEMAS = _SUB_ONE | _SUB_LIST | _SUB_MAP


def _openai_schema(schema: Any) -> Any:
    """``schema`` with ``"items": {}`` (any item, as its absence means) on every array schema
    that has none: OpenAI refuses the whole request otherwise ("array schema missing items").
    The schema itself when nothing is missing; else a copy of the parts that change."""
    if type(schema) is not dict:
        return schema
    out = None  # type: Optional[Dict[str, Any]]
    kind = schema.get("type")
    if "items" not in schema and (kind == "array" or (type(kind) is list and "array" in kind)):
        out = dict(schema)
        out["items"] = {}
    if _SUBSCHEMAS.isdisjoint(schema):  # (most schemas: a leaf)
        return out if out is not None else schema
    for key, value in schema.items():
        if key not in _SUBSCHEMAS:
            continue
        changed = value  # type: Any
        if type(value) is dict:
            if key in _SUB_MAP:
                for name, sub in value.items():
                    if type(sub) is dict and type(sub.get("type")) is str and sub["type"] != "array" \
                            and _SUBSCHEMAS.isdisjoint(sub):
                        continue  # (a leaf with nothing to add, most properties: no call)
                    new = _openai_schema(sub)
                    if new is not sub:
                        if changed is value:
                            changed = dict(value)
                        changed[name] = new
            elif key in _SUB_ONE:
                changed = _openai_schema(value)
        elif type(value) is list and key in _SUB_LIST:
            for index, sub in enumerate(value):
                new = _openai_schema(sub)
                if new is not sub:
                    if changed is value:
                        changed = list(value)
                    changed[index] = new
        if changed is not value:
            if out is None:
                out = dict(schema)
            out[key] = changed
    return out if out is not None else schema


# Anthropic checks the keys of an input schema's properties, at the top level only ("Property
# keys should match pattern '^[a-zA-Z0-9_.-]{1,64}$'"), and refuses the whole request for one.
_ANTHROPIC_KEY = re.compile(r"[a-zA-Z0-9_.-]{1,64}\Z")
_ANTHROPIC_KEY_BAD = re.compile(r"[^a-zA-Z0-9_.-]")
_ANTHROPIC_KEY_MAX = 64


def _anthropic_keys(schema: Dict[str, Any]) -> Optional[Dict[str, str]]:
    """The properties of ``schema`` whose key Anthropic refuses: the server's key -> the key
    Anthropic is shown (other characters made ``_``, cut to 64, ``_`` for an empty one, and a
    hash of the key added when that is another property's); None when every key is fine."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return None
    refused = [key for key in properties if not _ANTHROPIC_KEY.match(key)]
    if not refused:
        return None
    used = set(key for key in properties if key not in refused)
    renamed = {}  # type: Dict[str, str]
    for key in refused:
        clean = _ANTHROPIC_KEY_BAD.sub("_", key)[:_ANTHROPIC_KEY_MAX] or "_"
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        for length in (8, 16, 32, 63):
            if clean not in used:
                break
            clean = clean[:_ANTHROPIC_KEY_MAX - length - 1] + "_" + digest[:length]
        used.add(clean)
        renamed[key] = clean
    return renamed


def _anthropic_schema(schema: Dict[str, Any]) -> Dict[str, Any]:
    """``schema`` with the property keys Anthropic refuses renamed (``required`` too);
    ``server_arguments`` maps a call's arguments back."""
    renamed = _anthropic_keys(schema)
    if renamed is None:
        return schema
    schema = dict(schema)
    schema["properties"] = {renamed.get(key, key): sub for key, sub in schema["properties"].items()}
    if isinstance(schema.get("required"), list):
        schema["required"] = [renamed.get(key, key) if isinstance(key, str) else key for key in schema["required"]]
    return schema


def server_arguments(provider: Optional[str], tool: Dict[str, Any], arguments: Dict[str, Any]) -> Dict[str, Any]:
    """A model's ``arguments`` for ``tool`` (its definition as the server gave it) under the
    server's own names: Anthropic was shown another name for a property whose key it refuses
    (``provider_tools``), and this puts the server's back. The arguments themselves for the
    other providers, and when nothing was renamed."""
    if provider != "anthropic" or not arguments:
        return arguments
    renamed = _anthropic_keys(_hostfmt_parameters(tool))
    if renamed is None:
        return arguments
    back = {shown: key for key, shown in renamed.items()}
    return {back.get(name, name): value for name, value in arguments.items()}


def _flatten_top(schema: Dict[str, Any]) -> None:
    """``schema`` (a copy) without the keywords OpenAI and Anthropic refuse at the top."""
    resolver = _SchemaConverter(schema)
    properties = dict(schema["properties"])
    required = [name for name in schema.get("required") or () if isinstance(name, str)] \
        if isinstance(schema.get("required"), list) else []
    for key in _TOP_UNIONS:
        members = schema.get(key)
        if not isinstance(members, list):
            continue
        resolved = []  # type: List[Dict[str, Any]]
        for member in members:
            if isinstance(member, dict) and isinstance(member.get("$ref"), str):
                member = resolver.resolve(member["$ref"]) or {}
            resolved.append(member if isinstance(member, dict) else {})
        wanted = None  # type: Optional[List[str]]
        for member in resolved:
            if isinstance(member.get("properties"), dict):
                for name, sub in member["properties"].items():
                    properties.setdefault(name, sub)
            names = [n for n in member.get("required") or () if isinstance(n, str)] \
                if isinstance(member.get("required"), list) else []
            if key == "allOf":
                required.extend(names)
            else:
                wanted = names if wanted is None else [name for name in wanted if name in names]
        required.extend(wanted or ())
    for key in _TOP_REFUSED:
        schema.pop(key, None)
    schema["properties"] = properties
    unique = []  # type: List[str]
    for name in required:
        if name not in unique:
            unique.append(name)
    if unique:
        schema["required"] = unique
    else:
        schema.pop("required", None)


def _description(tool: Dict[str, Any]) -> str:
    """The description, else the title (a model chooses by it), else nothing."""
    for value in (tool.get("description"), tool.get("title"), (tool.get("annotations") or {}).get("title")
                  if isinstance(tool.get("annotations"), dict) else None):
        if isinstance(value, str) and value:
            return value
    return ""


def provider_tools(entries: Sequence[Tuple[str, Dict[str, Any]]], provider: Optional[str]) -> List[Dict[str, Any]]:
    """The tools ``entries`` (``(host_name, tool definition as tools/list gave it)``) in the
    tool format of ``provider``, to send with a request:

    - ``None``: the MCP tool dicts, ``name`` replaced by the host name (other keys kept);
    - ``"openai"``: ``[{"type": "function", "function": {"name", "description", "parameters"}}]``;
    - ``"openai-responses"``: ``[{"type": "function", "name", "description", "parameters",
      "strict": False}]`` (``strict`` false: MCP schemas are not written for strict mode);
    - ``"anthropic"``: ``[{"name", "description", "input_schema"}]``;
    - ``"gemini"``: ``[{"function_declarations": [{"name", "description", "parameters"}]}]``, one
      ``Tool`` holding every declaration, each schema through ``gemini_schema``; a tool without
      parameters has no ``parameters`` (Gemini refuses an object without properties there).

    The description is the tool's ``description``, else its title, else "". The input schema
    goes to OpenAI and Anthropic as it is, given ``"type": "object"`` and ``"properties"``
    when it lacks them, and without the ``allOf``/``anyOf``/``oneOf`` (their properties made
    its own), ``enum``, ``const`` and ``not`` that both refuse at the top; for OpenAI, an
    array schema without ``items`` anywhere in it gets ``"items": {}`` (OpenAI refuses it
    without); for Anthropic, a top-level property whose key it refuses (outside
    ``^[a-zA-Z0-9_.-]{1,64}$``) is renamed, and ``server_arguments`` names it back in a call.
    An empty list for no tools (Gemini too: no empty ``Tool``).
    Raises ``ValueError`` for an unknown provider.
    """
    _hostfmt_check_provider(provider)
    out = []  # type: List[Dict[str, Any]]
    declarations = []  # type: List[Dict[str, Any]]
    for name, tool in entries:
        if provider is None:
            renamed = dict(tool)
            renamed["name"] = name
            out.append(renamed)
        elif provider == "openai":
            out.append({"type": "function", "function": {
                "name": name, "description": _description(tool),
                "parameters": _openai_schema(_hostfmt_parameters(tool))}})
        elif provider == "openai-responses":
            out.append({"type": "function", "name": name, "description": _description(tool),
                        "parameters": _openai_schema(_hostfmt_parameters(tool)), "strict": False})
        elif provider == "anthropic":
            out.append({"name": name, "description": _description(tool),
                        "input_schema": _anthropic_schema(_hostfmt_parameters(tool))})
        else:
            declaration = {"name": name, "description": _description(tool)}  # type: Dict[str, Any]
            schema = tool.get("inputSchema")
            parameters = _gemini_root(schema if isinstance(schema, dict) else {})
            if parameters is not None:
                declaration["parameters"] = parameters
            declarations.append(declaration)
    if provider == "gemini" and declarations:
        out.append({"function_declarations": declarations})
    return out


# --- JSON Schema -> Gemini's schema ------------------------------------------------------------

# Gemini's Schema (google-genai ``types.Schema``, the REST API's ``Schema``) is an OpenAPI 3.0
# subset: one ``type`` (upper case), no ``$ref`` across the document, no ``oneOf``/``allOf``/
# ``const``, string-only ``enum``, few formats. It refuses the request for an unknown key.
_HOSTFMT_TYPES = {"string": "STRING", "number": "NUMBER", "integer": "INTEGER", "boolean": "BOOLEAN",
                  "array": "ARRAY", "object": "OBJECT"}
# The formats Gemini takes for each type ("only 'enum' and 'date-time' are supported for STRING").
_FORMATS = {"STRING": ("date-time", "enum"), "NUMBER": ("float", "double"), "INTEGER": ("int32", "int64")}
# Kept as they are, where the type they belong to is.
_KEEP = {
    "STRING": ("minLength", "maxLength", "pattern"),
    "NUMBER": ("minimum", "maximum"),
    "INTEGER": ("minimum", "maximum"),
    "ARRAY": ("minItems", "maxItems"),
    "OBJECT": ("minProperties", "maxProperties"),
}
_CONSTRAINTS = frozenset(("minLength", "maxLength", "pattern", "minimum", "maximum", "minItems", "maxItems",
                                  "minProperties", "maxProperties", "exclusiveMinimum", "exclusiveMaximum",
                                  "multipleOf", "format"))
# A schema of only these keys, of a scalar type (with an enum: of strings, on a string), takes
# the short way (most properties are so).
_SIMPLE = frozenset(("type", "description", "title", "default", "enum"))
_SCALARS = {"string": "STRING", "number": "NUMBER", "integer": "INTEGER", "boolean": "BOOLEAN"}
# The keys read last (default, example, nullable): skipped together when a schema has none.
_LAST_KEYS = frozenset(("default", "examples", "example", "nullable"))
_REF_REPEATS = 2  # how often a $ref may recur inside its own expansion before it is cut
_HOSTFMT_MAX_DEPTH = 32  # nested schemas below that are cut the same way (Gemini bounds nesting too)


class _SchemaConverter:
    """One conversion: the root (for ``$ref``) and the refs being expanded."""

    def __init__(self, root: Dict[str, Any]) -> None:
        self.root = root
        self.expanding = []  # type: List[str]
        # resolve's answers: a recursive $ref is looked up again at each level it is expanded.
        self.resolved = {}  # type: Dict[str, Optional[Dict[str, Any]]]

    def resolve(self, ref: str) -> Optional[Dict[str, Any]]:
        """A local ``$ref`` (``#``, ``#/$defs/X``, ``#/definitions/X``, any JSON pointer in the
        document); None for one that is not local or leads nowhere."""
        if not isinstance(ref, str) or not ref.startswith("#"):
            return None
        if ref in self.resolved:
            return self.resolved[ref]
        found = self.resolve_pointer(ref)
        self.resolved[ref] = found
        return found

    def resolve_pointer(self, ref: str) -> Optional[Dict[str, Any]]:
        node = self.root  # type: Any
        for token in [t for t in ref[1:].split("/") if t != ""]:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node if isinstance(node, dict) else None

    def convert(self, schema: Any, depth: int) -> Dict[str, Any]:
        if type(schema) is dict and _SIMPLE.issuperset(schema):
            # What convert_node makes of such a schema, in its key order, without its tests.
            kind = schema.get("type")
            scalar = _SCALARS.get(kind) if isinstance(kind, str) else None
            values = None  # type: Optional[List[Any]]
            if scalar is not None and "enum" in schema:  # the short way for strings only
                values = schema["enum"]
                if scalar != "STRING" or type(values) is not list or not values:
                    scalar = None
                else:
                    for value in values:
                        if not isinstance(value, str):
                            scalar = None
                            break
            if scalar is not None:
                out = {"type": scalar}  # type: Dict[str, Any]
                if isinstance(schema.get("title"), str):
                    out["title"] = schema["title"]
                if values is not None:
                    out["format"] = "enum"
                    out["enum"] = list(values)
                if "default" in schema and schema["default"] is not None:
                    out["default"] = schema["default"]
                if isinstance(schema.get("description"), str) and schema["description"]:
                    out["description"] = schema["description"]
                return out
        if schema is True or not isinstance(schema, dict):
            return _any_value("")
        if depth > _HOSTFMT_MAX_DEPTH:
            return _cut(schema, "")
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self.resolve(ref)
            if len(schema) == 1:  # (a bare {"$ref": ...}, the usual one)
                siblings = {}  # type: Dict[str, Any]
            else:
                siblings = {k: v for k, v in schema.items() if k not in ("$ref", "$defs", "definitions")}
            if target is None:
                out = self.convert(siblings, depth + 1) if siblings else _any_value("")
                return _hostfmt_note(out, "(%s, which is not in this schema)" % ref)
            if self.expanding.count(ref) >= _REF_REPEATS:
                return _cut(target, siblings.get("description") or "")
            self.expanding.append(ref)
            try:
                # The reference's siblings (a description, say) win over the target's own keys.
                merged = dict(target)
                merged.update(siblings)
                return self.convert(merged, depth + 1)
            finally:
                self.expanding.pop()
        return self.convert_node(schema, depth)

    def convert_node(self, schema: Dict[str, Any], depth: int) -> Dict[str, Any]:
        # (Keys are tested with `in` before they are read: most schemas have few of them, and
        # a 1,000-tool catalog goes through here some 12,000 times.)
        description = schema.get("description")
        if not isinstance(description, str):
            description = ""
        notes = []  # type: List[str]

        # allOf: its members merged into the schema (properties and required united; for any
        # other keyword the schema's own, then the first member's, value wins).
        if "allOf" in schema and isinstance(schema["allOf"], list):
            schema = self.merge_all_of(schema)

        # anyOf / oneOf: "null" members become nullable; one member left is the schema itself.
        alternatives = None  # type: Any
        if "anyOf" in schema or "oneOf" in schema:
            alternatives = schema.get("anyOf")
            if not isinstance(alternatives, list):
                alternatives = schema.get("oneOf")
        nullable = False
        if isinstance(alternatives, list):
            rest = dict(schema)
            rest.pop("anyOf", None)
            rest.pop("oneOf", None)
            members = []  # type: List[Any]
            for member in alternatives:
                # (is_null asked only of a member that may be the null schema: most are not)
                if isinstance(member, dict) and ("$ref" in member or member.get("type") == "null" or "const" in member
                                                 or "enum" in member) and self.is_null(member):
                    nullable = True
                else:
                    members.append(member)
            if len(members) == 1 and isinstance(members[0], dict):
                merged = dict(members[0])
                for key, value in rest.items():  # (the outer keys win, but for the member's type)
                    if key != "type" or "type" not in merged:
                        merged[key] = value
                out = self.convert(merged, depth + 1)
            elif members:
                out = {"anyOf": [self.convert(member, depth + 1) for member in members]}
                if description:
                    out["description"] = description
            else:
                out = {"type": "STRING"}  # (only null allowed: a value the model leaves out)
                if description:
                    out["description"] = description
            if nullable:
                out["nullable"] = True
            return out

        # A list of types: "null" in it is nullable; several others are an anyOf.
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            nullable = len(kinds) < len(kind)
            if len(kinds) == 1:
                single = dict(schema)
                single["type"] = kinds[0]
                out = self.convert_node(single, depth)
            elif kinds:
                out = {"anyOf": [self.convert_node(dict(schema, type=k, description=""), depth + 1) for k in kinds]}
                for member in out["anyOf"]:
                    member.pop("description", None)
                if description:
                    out["description"] = description
            else:
                out = {"type": "STRING"}
                if description:
                    out["description"] = description
            if nullable:
                out["nullable"] = True
            return out

        # const and enum: Gemini's enum is a list of strings (on a STRING).
        values = None  # type: Optional[List[Any]]
        if "const" in schema:
            values = [schema["const"]]
        elif "enum" in schema and isinstance(schema["enum"], list):
            values = list(schema["enum"])
        if values is not None and None in values:
            nullable = True
            values = [v for v in values if v is not None]
        if not isinstance(kind, str):
            kind = _guess_type(schema, values)
        gemini_type = _HOSTFMT_TYPES.get(kind) if isinstance(kind, str) else None
        if gemini_type is None:  # ("null", or a type JSON Schema does not have)
            return _any_value(description)
        out = {"type": gemini_type}
        if "title" in schema and isinstance(schema["title"], str):
            out["title"] = schema["title"]
        if values is not None:
            strings = gemini_type == "STRING" and bool(values)
            if strings:
                for value in values:
                    if not isinstance(value, str):
                        strings = False
                        break
            if strings:
                out["format"] = "enum"
                out["enum"] = values
            elif values:
                notes.append("%s: %s." % ("Must be" if len(values) == 1 else "One of",
                                          ", ".join(_hostfmt_json(v) for v in values)))

        if not _CONSTRAINTS.isdisjoint(schema):  # (most schemas have none: skip the lookups)
            self.constraints(schema, gemini_type, out, notes)

        if gemini_type == "ARRAY":
            items = schema.get("items")
            if type(items) is dict and items and "prefixItems" not in schema:
                out["items"] = self.convert(items, depth + 1)  # (convert_items' usual case, inline)
            else:
                out.update(self.convert_items(schema, depth, notes))
            if schema.get("uniqueItems") is True:
                notes.append("Items are unique.")
        elif gemini_type == "OBJECT":
            properties = schema.get("properties")
            if isinstance(properties, dict) and properties:
                out["properties"] = {str(name): self.convert(sub, depth + 1) for name, sub in properties.items()}
                out["propertyOrdering"] = list(out["properties"])
                required = schema.get("required")
                if isinstance(required, list):
                    kept = [name for name in required if isinstance(name, str) and name in out["properties"]]
                    if kept:
                        out["required"] = kept
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                notes.append("Other keys: %s." % _brief(extra))
            elif extra is True and isinstance(properties, dict) and properties:
                notes.append("Other keys are allowed.")

        if not _LAST_KEYS.isdisjoint(schema):
            if "default" in schema and schema["default"] is not None:
                out["default"] = schema["default"]
            examples = schema.get("examples")
            if isinstance(examples, list) and examples:
                out["example"] = examples[0]
            elif "example" in schema:
                out["example"] = schema["example"]
            if schema.get("nullable") is True:
                nullable = True
        if nullable:
            out["nullable"] = True
        if notes:
            text = " ".join(([description] if description else []) + notes)
        else:
            text = description
        if text:
            out["description"] = text
        return out

    def constraints(self, schema: Dict[str, Any], gemini_type: str, out: Dict[str, Any], notes: List[str]) -> None:
        """Bounds, lengths, pattern and format: kept, mapped or described (gemini_schema's table)."""
        for key in _KEEP.get(gemini_type, ()):
            value = schema.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) or (key == "pattern"
                                                                                and isinstance(value, str)):
                out[key] = value
        for key, bound, step in (("exclusiveMinimum", "minimum", 1), ("exclusiveMaximum", "maximum", -1)):
            value = schema.get(key)
            if gemini_type in ("INTEGER", "NUMBER") and isinstance(value, (int, float)) and not isinstance(value, bool):
                if gemini_type == "INTEGER" and value == int(value):
                    out[bound] = int(value) + step
                else:
                    notes.append("%s %s." % ("Greater than" if step > 0 else "Less than", value))
        if isinstance(schema.get("multipleOf"), (int, float)) and not isinstance(schema.get("multipleOf"), bool):
            notes.append("A multiple of %s." % schema["multipleOf"])
        fmt = schema.get("format")
        if isinstance(fmt, str) and "format" not in out:
            if fmt in _FORMATS.get(gemini_type, ()) and fmt != "enum":
                out["format"] = fmt
            else:
                notes.append("Format: %s." % fmt)

    def convert_items(self, schema: Dict[str, Any], depth: int, notes: List[str]) -> Dict[str, Any]:
        """``items`` of an array: a tuple (``prefixItems``, or the older ``items`` list) becomes
        the anyOf of its distinct item schemas, its length bounded when nothing more may follow."""
        prefix = schema.get("prefixItems")
        rest = schema.get("items")
        if not isinstance(prefix, list) and isinstance(rest, list):
            prefix, rest = rest, schema.get("additionalItems")
        out = {}  # type: Dict[str, Any]
        if isinstance(prefix, list) and prefix:
            converted = [self.convert(item, depth + 1) for item in prefix]
            distinct = []  # type: List[Dict[str, Any]]
            for item in converted:
                if item not in distinct:
                    distinct.append(item)
            if isinstance(rest, dict) and rest:
                extra = self.convert(rest, depth + 1)
                if extra not in distinct:
                    distinct.append(extra)
            out["items"] = distinct[0] if len(distinct) == 1 else {"anyOf": distinct}
            notes.append("In order: %s." % ", ".join(_brief(item) for item in prefix))
            if rest is False or (rest is None and "prefixItems" in schema and schema.get("items") is False):
                out["minItems"] = out["maxItems"] = len(prefix)
            return out
        out["items"] = self.convert(rest, depth + 1) if isinstance(rest, dict) else _any_value("")
        return out

    def merge_all_of(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for member in schema["allOf"]:
            if isinstance(member, dict) and isinstance(member.get("$ref"), str):
                member = self.resolve(member["$ref"]) or {}
            if not isinstance(member, dict):
                continue
            for key, value in member.items():
                if key == "properties" and isinstance(value, dict):
                    merged["properties"] = dict(value, **(merged.get("properties") or {}))
                elif key == "required" and isinstance(value, list):
                    merged["required"] = list(merged.get("required") or []) + [
                        v for v in value if v not in (merged.get("required") or [])]
                elif key not in merged:
                    merged[key] = value
        return merged

    def is_null(self, member: Dict[str, Any]) -> bool:
        if isinstance(member.get("$ref"), str):
            member = self.resolve(member["$ref"]) or {}
        return member.get("type") == "null" or ("const" in member and member["const"] is None) or (
            member.get("enum") == [None])


_encoder = json.JSONEncoder(ensure_ascii=False)  # (json.dumps with options builds one per call)


def _hostfmt_json(value: Any) -> str:
    return _encoder.encode(value)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _guess_type(schema: Dict[str, Any], values: Optional[List[Any]]) -> Optional[str]:
    """The type of a schema that names none: from its keywords, or from its enum's values."""
    if values:
        kinds = set()  # type: Set[str]
        for value in values:
            if isinstance(value, bool):
                kinds.add("boolean")
            elif isinstance(value, int):
                kinds.add("integer")
            elif isinstance(value, float):
                kinds.add("number")
            elif isinstance(value, str):
                kinds.add("string")
            elif isinstance(value, list):
                kinds.add("array")
            else:
                kinds.add("object")
        if kinds == {"integer", "number"}:
            return "number"
        return kinds.pop() if len(kinds) == 1 else "string"
    if any(key in schema for key in ("properties", "additionalProperties", "required", "minProperties",
                                     "maxProperties", "patternProperties")):
        return "object"
    if any(key in schema for key in ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")):
        return "array"
    if any(key in schema for key in ("minLength", "maxLength", "pattern", "format")):
        return "string"
    if any(key in schema for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return None


def _any_value(description: str) -> Dict[str, Any]:
    """A schema that allows any value: a string holding it (every string is a valid value of
    it, and Gemini wants a type on every schema)."""
    out = {"type": "STRING"}  # type: Dict[str, Any]
    out["description"] = (description + " " if description else "") + "(Any JSON value.)"
    return out


def _cut(target: Dict[str, Any], description: str) -> Dict[str, Any]:
    """Where a recursive ``$ref`` is cut: an object (or any value) without its inner shape."""
    description = description or _str(target.get("description"))
    note = "(The same shape as the enclosing one, nested further.)"
    if target.get("type") == "object" or "properties" in target:
        return {"type": "OBJECT", "description": (description + " " if description else "") + note}
    if target.get("type") == "array" or "items" in target:
        return {"type": "ARRAY", "items": {"type": "OBJECT"}, "description": (description + " " if description
                                                                            else "") + note}
    return _hostfmt_note(_any_value(description), note)


def _hostfmt_note(schema: Dict[str, Any], note: str) -> Dict[str, Any]:
    schema["description"] = (schema["description"] + " " + note) if schema.get("description") else note
    return schema


def _brief(schema: Any) -> str:
    """A schema in a few words, for a description ("string", "integer or null", ...)."""
    if not isinstance(schema, dict):
        return "any"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if isinstance(kind, str):
        return kind
    if isinstance(schema.get("$ref"), str):
        return schema["$ref"].rsplit("/", 1)[-1] or "any"
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return " or ".join(_brief(member) for member in schema[key])
    if "const" in schema:
        return _hostfmt_json(schema["const"])
    return "any"


def gemini_schema(schema: Dict[str, Any]) -> Dict[str, Any]:
    """A JSON Schema (an MCP ``inputSchema``) as Gemini's schema: the OpenAPI 3.0 subset of
    ``FunctionDeclaration.parameters`` (google-genai ``types.Schema``, extra keys refused).
    Keys are spelled as the REST API does (``anyOf``, ``maxItems``); types in upper case.

    ==========================  ==============================================================
    JSON Schema                 Gemini
    ==========================  ==============================================================
    ``$ref`` (local: ``#``,     inlined (its sibling keys win); a recursive ``$ref`` is expanded
    ``#/$defs/X``, pointers)    twice on one path (itself and one level of recursion), the third
                                time cut: an OBJECT (or ARRAY of OBJECT, or any value) saying
                                "the same shape, nested further"; below 32 levels of nesting
                                every schema is cut so (a bound on size too). A non-local
                                or broken ``$ref``: any value, named in the description
    ``$defs``/``definitions``   dropped (inlined where used)
    ``type`` list               "null" -> ``nullable``; one other type -> that type; several
                                -> ``anyOf`` of each
    ``anyOf``/``oneOf``         null members -> ``nullable``; one member left -> that member
                                (merged with the outer keys); else ``anyOf``
    ``allOf``                   merged into the schema (properties and required united)
    ``const``                   a one-value enum
    ``enum``                    strings -> ``format: "enum"`` with ``enum``; null -> nullable;
                                other values (ints, bools) keep their type and are listed in the
                                description ("One of: 1, 2, 3."): Gemini's enum is strings only
    no ``type``                 guessed from the keywords (properties -> OBJECT, items -> ARRAY,
                                minLength -> STRING, minimum -> NUMBER) or the enum's values;
                                nothing to guess from (``{}``, ``true``): STRING, "(Any JSON
                                value.)" (every string is a valid value of such a schema)
    tuple (``prefixItems``,     ``items``: the anyOf of its distinct item schemas; the order in
    ``items`` list)             the description; min/maxItems = its length when closed
    array without ``items``     ``items``: any value (as above)
    ``properties``/``required`` converted; required names only those in properties; empty
                                properties dropped (Gemini refuses them); ``propertyOrdering``
                                = the schema's order
    ``additionalProperties``    dropped (Gemini's function schemas refuse it); a schema there is
                                described ("Other keys: string.")
    ``format``                  kept when Gemini takes it (STRING: date-time; NUMBER: float,
                                double; INTEGER: int32, int64), else "Format: uri." in the
                                description
    ``exclusiveMinimum``/...    an integer bound -> minimum/maximum +-1; else in the description
    ``multipleOf``,             in the description
    ``uniqueItems``
    kept                        description, title, nullable, default (not null), example
                                (``examples[0]``), minimum, maximum, minLength, maxLength,
                                pattern, minItems, maxItems, minProperties, maxProperties (each on
                                its own type)
    anything else               dropped (``$schema``, ``$id``, ``not``, ``if``, ``patternProperties``,
                                ``readOnly``, ``contentMediaType``, ``x-...``, ...)
    ==========================  ==============================================================

    ``schema`` is not modified.
    """
    if not isinstance(schema, dict):
        raise TypeError("gemini_schema takes a JSON Schema object (a dict), not %s" % type(schema).__name__)
    return _SchemaConverter(schema).convert(schema, 0)


def _gemini_root(schema: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """A tool's ``parameters`` for Gemini: an OBJECT with properties, or None (no parameters).
    A root that is an anyOf of objects becomes one object with every member's properties,
    required only what each member requires."""
    converted = gemini_schema(schema)
    members = converted.get("anyOf")
    if isinstance(members, list) and members and all(m.get("type") == "OBJECT" for m in members):
        properties = {}  # type: Dict[str, Any]
        required = None  # type: Optional[Set[str]]
        for member in members:
            for name, sub in (member.get("properties") or {}).items():
                properties.setdefault(name, sub)
            names = set(member.get("required") or ())
            required = names if required is None else required & names
        converted = {"type": "OBJECT"}
        if properties:
            converted["properties"] = properties
            converted["propertyOrdering"] = list(properties)
        if required:
            converted["required"] = [name for name in properties if name in required]
        if isinstance(schema.get("description"), str) and schema["description"]:
            converted["description"] = schema["description"]
    if converted.get("type") != "OBJECT" or not converted.get("properties"):
        return None
    return converted


# --- the model's tool call ------------------------------------------------------------------------


class ToolCall(NamedTuple):
    """A tool call of the model, whatever shape it came in."""

    provider: Optional[str]  # the shape it came in: one of PROVIDERS, or None for (name, arguments)
    call_id: Optional[str]  # tool_calls id / call_id / tool_use id / functionCall id, or None
    name: str  # the tool's host-wide name, as the model called it
    arguments: Optional[Dict[str, Any]]  # None when unusable
    problem: Optional[str]  # what was wrong with the arguments, addressed to the model


_HOSTFMT_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)
_decoder = json.JSONDecoder()


def _hostfmt_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "a %s" % type(value).__name__


_AGAIN = " Call it again with the arguments as one JSON object, such as {\"key\": \"value\"}."


def _whose(name: str) -> str:
    # (Made only for a problem: json.dumps with an option builds an encoder each time.)
    return "The arguments of %s" % json.dumps(name, ensure_ascii=False)


def _hostfmt_arguments(name: str, raw: Any, nested: bool = False) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """(arguments, None) or (None, a problem the model can read), by the rule that
    ``parse_tool_call`` states."""
    if raw is None:
        return {}, None
    if isinstance(raw, dict):
        return raw, None
    if not isinstance(raw, str):
        return None, "%s must be a JSON object, not %s.%s" % (_whose(name), _hostfmt_kind(raw), _AGAIN)
    text = raw.strip()
    if not text:
        return {}, None
    fenced = _HOSTFMT_FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
        if not text:
            return {}, None
    try:
        value, end = _decoder.raw_decode(text)
    except ValueError as exc:
        return None, "%s are not valid JSON (%s).%s" % (_whose(name), exc, _AGAIN)
    tail = text[end:].strip()
    if tail:
        try:
            following, _ = _decoder.raw_decode(tail)
        except ValueError:
            following = _NO_VALUE
        if following is not _NO_VALUE and following != value:
            return None, ("%s hold more than one JSON value (%s, then %s): it is not clear which one was "
                          "meant.%s" % (_whose(name), _excerpt(text[:end]), _excerpt(tail),
                                        _AGAIN))
    if value is None:
        return {}, None
    if isinstance(value, dict):
        return value, None
    if isinstance(value, str) and not nested:
        inner, problem = _hostfmt_arguments(name, value, nested=True)
        if inner is not None:
            return inner, None
    return None, "%s must be a JSON object, not %s.%s" % (_whose(name), _hostfmt_kind(value), _AGAIN)


_NO_VALUE = object()


def _excerpt(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _dumped(call: Any) -> Any:
    """An SDK's object (a pydantic model: ``model_dump()``), else ``call`` itself."""
    dump = getattr(call, "model_dump", None)
    if callable(dump) and not isinstance(call, (dict, list, tuple, str)):
        try:
            return dump(exclude_none=True)
        except TypeError:
            return dump()
    return call


def _hostfmt_name(value: Any, shape: str) -> str:
    if not isinstance(value, str):
        raise ValueError("%s has no tool name (a string): %r" % (shape, value))
    return value


def _hostfmt_id(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _hostfmt_call(provider: Optional[str], call_id: Any, name: str, raw: Any) -> ToolCall:
    arguments, problem = _hostfmt_arguments(name, raw)
    if not name and problem is None:
        problem = "The tool call has no tool name. Call one of the tools offered, by its name."
    return ToolCall(provider, _hostfmt_id(call_id), name, arguments, problem)


def parse_tool_call(call: Any) -> ToolCall:
    """The model's tool call, in any provider's shape, as a ``ToolCall``:

    - OpenAI Chat Completions, an item of ``message.tool_calls``: ``{"id", "type": "function",
      "function": {"name", "arguments": JSON text}}``;
    - OpenAI Responses, an output item: ``{"type": "function_call", "call_id", "name",
      "arguments": JSON text}``;
    - Anthropic, a content block: ``{"type": "tool_use", "id", "name", "input": {...}}``;
    - Gemini: a part ``{"functionCall": {"name", "args", "id"?}}`` (or ``function_call``), or
      the inner ``{"name", "args"}``;
    - a plain ``(name, arguments)`` pair (arguments a dict or JSON text);
    - the SDKs' own objects (pydantic models): read through their ``model_dump()``.

    What the model got wrong never raises: the call comes back with ``arguments`` None and a
    ``problem`` to send back to the model (``provider_error``). The arguments' rule:

    - an object: as it is; null, "", whitespace: ``{}`` (no arguments);
    - a JSON text: decoded, then as above; inside a Markdown code fence: the fence removed;
    - a JSON object followed by text that is not JSON (``{"a": 1} </s>``, a stray brace): the
      object (it is unambiguous); followed by another JSON value (``{..}{..}``): a problem,
      unless the values are equal;
    - a JSON string that holds a JSON object (arguments encoded twice): that object;
    - anything else (an array, a number, text that is not JSON): a problem.

    Raises ``TypeError`` or ``ValueError`` for something that is no tool call in any shape.
    """
    call = _dumped(call)
    if isinstance(call, (tuple, list)):
        if len(call) != 2 or not isinstance(call[0], str):
            raise ValueError("a plain tool call is a (name, arguments) pair, not %r" % (call,))
        return _hostfmt_call(None, None, call[0], call[1])
    if not isinstance(call, dict):
        raise TypeError("not a tool call: %s (a dict in a provider's shape, an SDK object or a "
                        "(name, arguments) pair)" % type(call).__name__)
    kind = call.get("type")
    if kind == "function_call":
        return _hostfmt_call("openai-responses", call.get("call_id"),
                             _hostfmt_name(call.get("name"), "a Responses function_call"), call.get("arguments"))
    if kind == "tool_use":
        return _hostfmt_call("anthropic", call.get("id"), _hostfmt_name(call.get("name"), "an Anthropic tool_use"),
                             call.get("input"))
    if isinstance(call.get("function"), dict) and kind in (None, "function"):
        function = call["function"]
        return _hostfmt_call("openai", call.get("id"), _hostfmt_name(function.get("name"), "an OpenAI tool call"),
                             function.get("arguments"))
    inner = call.get("functionCall")
    if not isinstance(inner, dict):
        inner = call.get("function_call")
    if isinstance(inner, dict):
        return _hostfmt_call("gemini", inner.get("id"), _hostfmt_name(inner.get("name"), "a Gemini functionCall"),
                             inner.get("args"))
    if kind is None and "name" in call and ("args" in call or set(call) <= {"name", "id", "args"}):
        return _hostfmt_call("gemini", call.get("id"), _hostfmt_name(call.get("name"), "a Gemini functionCall"),
                             call.get("args"))
    raise ValueError("not a tool call in any provider's shape (keys: %s)" % ", ".join(sorted(map(str, call))))


# --- the result, in the shape of the call ---------------------------------------------------------

# Anthropic takes these images in a tool_result (image blocks), up to 5 MB each: 5 MB of the
# base64 text (its error: "image exceeds 5 MB maximum: 6275800 bytes > 5242880 bytes" for a
# 4.7 MB file), so about 3.75 MB of image.
_ANTHROPIC_IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_ANTHROPIC_IMAGE_MAX = 5 * 1024 * 1024
_EMPTY = "(The tool returned no content.)"


def _hostfmt_size(data: Any) -> int:
    """The decoded size of base64 text, without decoding it."""
    if not isinstance(data, str):
        return 0
    data = data.strip()
    return max(0, len(data) * 3 // 4 - (len(data) - len(data.rstrip("="))))


def _placeholder(what: str, plural: str, mime: Any, data: Any, where: str = "") -> str:
    return "[%s%s: %s, %d bytes; not shown: this model API takes no %s in a tool result]" % (
        what, (" " + where) if where else "", mime if isinstance(mime, str) and mime else "unknown type",
        _hostfmt_size(data), plural)


def _hostfmt_block_text(block: Any) -> Optional[str]:
    """A content block as text, for an API that takes text only (None: a text block's text
    that is empty)."""
    if not isinstance(block, dict):
        return "[unsupported content: %s]" % _hostfmt_kind(block)
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        return text if isinstance(text, str) and text else None
    if kind == "image":
        return _placeholder("image", "images", block.get("mimeType"), block.get("data"))
    if kind == "audio":
        return _placeholder("audio", "audio", block.get("mimeType"), block.get("data"))
    if kind == "resource_link":
        return _link_text(block)
    if kind == "resource":
        resource = block.get("resource")
        if not isinstance(resource, dict):
            resource = {}
        uri = _str(resource.get("uri"))
        if isinstance(resource.get("text"), str):
            mime = resource.get("mimeType")
            return "[resource %s%s]\n%s" % (uri, (" (%s)" % mime) if isinstance(mime, str) and mime else "",
                                            resource["text"])
        return _placeholder("binary resource", "binary resources", resource.get("mimeType"),
                                    resource.get("blob"), uri)
    return "[unsupported content: %s]" % (kind if isinstance(kind, str) else "a block without a type")


def _link_text(block: Dict[str, Any]) -> str:
    parts = ["[resource link: %s" % (block.get("uri") or "")]
    for key in ("name", "title", "mimeType"):
        if isinstance(block.get(key), str) and block[key]:
            parts.append("%s=%s" % (key, block[key]))
    text = ", ".join(parts) + "]"
    if isinstance(block.get("description"), str) and block["description"]:
        text += " " + block["description"]
    return text


def _content(result: Dict[str, Any]) -> List[Any]:
    content = result.get("content")
    return content if isinstance(content, list) else []


def _structured_text(result: Dict[str, Any]) -> Optional[str]:
    if "structuredContent" in result and result["structuredContent"] is not None:
        return _hostfmt_json(result["structuredContent"])
    return None


def _hostfmt_as_text(result: Dict[str, Any]) -> str:
    """The whole result as one text: the blocks' texts, one per line; structuredContent (as
    JSON) when there are no blocks; "Error: " first for an error."""
    texts = [t for t in (_hostfmt_block_text(block) for block in _content(result)) if t is not None]
    if not texts:
        structured = _structured_text(result)
        texts = [structured] if structured is not None else []
    text = "\n".join(texts) or _EMPTY
    return ("Error: " + text) if result.get("isError") is True else text


def _anthropic_blocks(result: Dict[str, Any]) -> List[Dict[str, Any]]:
    blocks = []  # type: List[Dict[str, Any]]
    # Anthropic: "all content must be type 'text' if 'is_error' is true" (else it refuses the
    # whole request): an error's images and documents are named in text.
    error = result.get("isError") is True
    for block in _content(result):
        image = None  # type: Optional[Tuple[Any, Any]]
        if isinstance(block, dict) and block.get("type") == "image":
            image = (block.get("mimeType"), block.get("data"))
        elif isinstance(block, dict) and block.get("type") == "resource" and isinstance(block.get("resource"), dict) \
                and isinstance(block["resource"].get("blob"), str):
            resource = block["resource"]
            if resource.get("mimeType") in _ANTHROPIC_IMAGES:
                image = (resource.get("mimeType"), resource.get("blob"))
            elif resource.get("mimeType") == "application/pdf" and not error:
                blocks.append({"type": "document", "source": {
                    "type": "base64", "media_type": "application/pdf", "data": resource["blob"]}})
                continue
        if image is not None and image[0] in _ANTHROPIC_IMAGES and isinstance(image[1], str) \
                and len(image[1].strip()) <= _ANTHROPIC_IMAGE_MAX and not error:
            blocks.append({"type": "image", "source": {"type": "base64", "media_type": image[0], "data": image[1]}})
            continue
        text = _hostfmt_block_text(block)
        if image is not None:  # (one Anthropic does not take: its type, its size, or in an error)
            text = "[image: %s, %d bytes; not shown: %s]" % (
                image[0], _hostfmt_size(image[1]), "Anthropic takes no images in an error result" if error
                else "Anthropic takes JPEG, PNG, GIF and WebP up to 5 MB")
        if text is not None:  # (Anthropic refuses an empty text block)
            blocks.append({"type": "text", "text": text})
    if not blocks:
        structured = _structured_text(result)
        blocks.append({"type": "text", "text": structured if structured is not None else _EMPTY})
    return blocks


def provider_result(call: ToolCall, result: Dict[str, Any]) -> Any:
    """An MCP ``CallToolResult`` in the shape that answers ``call`` (``call.provider``):

    - "openai": ``{"role": "tool", "tool_call_id", "content": text}``;
    - "openai-responses": ``{"type": "function_call_output", "call_id", "output": text}``;
    - "anthropic": ``{"type": "tool_result", "tool_use_id", "content": [blocks], "is_error"}``;
    - "gemini": ``{"functionResponse": {"name", "response": {"output": ...} or {"error": text},
      "id"?}}`` (Gemini reads "output" as the function's output and "error" as its failure);
    - None: ``result`` itself.

    ==================  =======================  ===================  ==========================
    MCP                 openai, -responses       anthropic            gemini
    ==================  =======================  ===================  ==========================
    text                the text                 a text block         in ``output`` (text)
    image               "[image: image/png,      an image block (JPEG, as openai
                        1234 bytes; not shown    PNG, GIF, WebP up
                        ...]"                    to 5 MB of base64),
                                                 else such a
                                                 placeholder
    audio               "[audio: ...]"           the same             the same
    resource_link       "[resource link: URI,    the same, a text     the same
                        name=..] description"    block
    resource (text)     "[resource URI (mime)]"  the same, a text     the same
                        then its text            block
    resource (blob)     "[binary resource URI:   image types: an      as openai
                        mime, N bytes; ...]"     image block; PDF: a
                                                 document block; else
                                                 the placeholder
    other block type    "[unsupported content:   the same             the same
                        TYPE]"
    structuredContent   the JSON text, only when the same             ``output``: the object
                        there are no blocks                           itself (the text blocks
                        (they carry it as text)                       left out)
    isError             "Error: " before the     ``is_error: true``,  ``{"error": text}``
                        text                     images and PDFs as
                                                 placeholders (text
                                                 only in an error)
    nothing at all      "(The tool returned no content.)"
    ==================  =======================  ===================  ==========================

    The texts of several blocks are joined by newlines. Empty text blocks are left out.
    """
    provider = call.provider
    _hostfmt_check_provider(provider)
    if provider is None:
        return result
    if not isinstance(result, dict):
        raise TypeError("an MCP CallToolResult is a dict, not %s" % type(result).__name__)
    if provider == "openai":
        return {"role": "tool", "tool_call_id": call.call_id or "", "content": _hostfmt_as_text(result)}
    if provider == "openai-responses":
        return {"type": "function_call_output", "call_id": call.call_id or "", "output": _hostfmt_as_text(result)}
    if provider == "anthropic":
        return {"type": "tool_result", "tool_use_id": call.call_id or "",
                "content": _anthropic_blocks(result), "is_error": result.get("isError") is True}
    if result.get("isError") is True:
        response = {"error": _hostfmt_as_text(dict(result, isError=False))}  # type: Dict[str, Any]
    elif result.get("structuredContent") is not None:
        response = {"output": result["structuredContent"]}
    else:
        response = {"output": _hostfmt_as_text(result)}
    answer = {"name": call.name, "response": response}  # type: Dict[str, Any]
    if call.call_id:
        answer["id"] = call.call_id
    return {"functionResponse": answer}


def provider_error(call: ToolCall, message: str) -> Any:
    """An error the model can read, in the shape of ``provider_result`` for ``call``: the
    result ``{"content": [{"type": "text", "text": message}], "isError": true}``."""
    return provider_result(call, {"content": [{"type": "text", "text": str(message)}], "isError": True})
