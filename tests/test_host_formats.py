"""mcplite.hostformats: host-wide tool names, the catalog in each provider's tool format,
JSON Schema to Gemini's schema, the model's tool call in every shape (and every mistake), and
an MCP tool result in each provider's shape.

Two kinds of test:

- pure ones (every Python mcplite supports, no peer): the rules the module's docstrings state,
  case by case, and a table of hard schemas through ``gemini_schema``, each checked against
  Gemini's schema subset as ``gemini_fields_ok`` states it (the fields of google-genai's
  ``types.Schema``, which refuses any other);
- interop ones (marked ``interop``, as tests/conftest.py explains), with two peers:
  the TypeScript server-everything (``$MCPLITE_EVERYTHING``, see tests/test_interop_everything.py):
  every one of its tools converted, and real results of it mapped; and the providers' own SDKs
  (``$MCPLITE_PROVIDERS_PYTHON``, a venv scripts/test builds with the pins below, never
  imported by mcplite): ``CHECK_SCRIPT`` runs there, reads cases as JSON on stdin, and puts each
  catalog and result through the SDK's typed params (pydantic) and its own request builder,
  offline (an HTTP transport that answers from memory), then gives back the SDK's own objects
  for the model's tool call (``model_dump()``) for ``parse_tool_call`` to read. A deliberately
  wrong shape must fail there (``test_sdk_check_rejects_wrong_shapes``), so the check can fail.
  Skipped when a variable is unset, unless ``MCPLITE_REQUIRE_INTEROP`` is set: then they fail.
"""

import base64
import itertools
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import uuid
from typing import Any, Dict, List, Optional, Tuple

import pytest

from interop_support import REPO, TOKEN_VARIABLE, peer_env, reap_leftovers, unusable
from mcplite.hostformats import (PROVIDERS, ToolCall, gemini_schema, host_tool_names, parse_tool_call,
                                 provider_error, provider_result, provider_tools)

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 92).decode("ascii")  # 100 bytes
WAV = base64.b64encode(b"RIFF" + b"\0" * 46).decode("ascii")  # 50 bytes
PDF = base64.b64encode(b"%PDF-1.4 tiny").decode("ascii")

# The releases the SDK checks are written against (scripts/test pins the same).
PROVIDER_PINS = {"openai": "3.63.0", "anthropic": "2.17.0", "google-genai": "3.6.1"}
PROVIDERS_VARIABLE = "MCPLITE_PROVIDERS_PYTHON"
EVERYTHING_VARIABLE = "MCPLITE_EVERYTHING"
SDK_TIMEOUT = 120.0  # the check script: it imports three SDKs (a few seconds), then runs offline
STDIO_TOKEN = "hostformats-everything-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])


# --- names ----------------------------------------------------------------------------------------


def test_names_plain_and_invalid_characters():
    names = host_tool_names([("weather", "forecast"), ("my server", "get.weather"), ("fs", "read-file"),
                             ("ünï", "tööl")])
    assert names[("weather", "forecast")] == "weather__forecast"
    assert names[("my server", "get.weather")] == "my_server__get_weather"
    assert names[("fs", "read-file")] == "fs__read-file"
    assert names[("ünï", "tööl")] == "_n___t__l"
    assert all(NAME.match(name) for name in names.values())


# Gemini's rule is stricter at the start: "Must start with a letter or an underscore" (and then
# a-z, A-Z, 0-9, underscores, dots, colons, dashes, at most 64).
GEMINI_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$")


def test_names_start_with_a_letter_or_an_underscore():
    pairs = [("1password", "get"), ("-dash", "t"), ("7" * 70, "t"), ("2fa", "x"), ("_2fa", "x"), ("ok", "1st")]
    names = host_tool_names(pairs)
    for pair, name in names.items():
        assert NAME.match(name) and GEMINI_NAME.match(name), (pair, name)
    assert names[("1password", "get")] == "_1password__get"
    assert names[("-dash", "t")] == "_-dash__t"
    assert names[("ok", "1st")] == "ok__1st"
    # A server whose own name starts with the underscore keeps the plain name; the other hashes.
    assert names[("_2fa", "x")] == "_2fa__x" and re.match(r"^_2fa__x_[0-9a-f]{8}$", names[("2fa", "x")])
    assert len(set(names.values())) == len(pairs)


def test_names_over_64_are_shortened_with_a_hash():
    long_tool = "t" * 70
    names = host_tool_names([("srv", long_tool), ("srv", "short")])
    name = names[("srv", long_tool)]
    assert NAME.match(name) and len(name) == 64
    assert name.startswith("srv__ttt") and re.search(r"_[0-9a-f]{8}$", name)
    assert names[("srv", "short")] == "srv__short"
    # Exactly 64 is kept as it is.
    exact = ("s" * 30, "t" * 32)
    assert host_tool_names([exact])[exact] == "s" * 30 + "__" + "t" * 32


def test_names_long_server_keeps_tools_apart():
    server = "a-very-long-server-name-from-some-config-file-that-goes-on-and-on-forever"
    pairs = [(server, "read_file"), (server, "write_file"), (server, "read_file_v2")]
    names = host_tool_names(pairs)
    assert len(set(names.values())) == 3
    for (srv, tool), name in names.items():
        assert NAME.match(name), name
        assert name.startswith(server[:16]), name
        assert "__" + tool in name, name  # the tool's name survives whole when the server is the long part
    # Both long: the server keeps at least 16 characters, the tool the rest.
    both = ("s" * 80, "t" * 80)
    name = host_tool_names([both])[both]
    assert name.startswith("s" * 16 + "__t") and len(name) == 64


def test_names_collisions_are_resolved_deterministically():
    pairs = [("a.b", "c"), ("a_b", "c"), ("a b", "c"), ("a__b", "c"), ("a", "b__c"), ("x", "y")]
    names = host_tool_names(pairs)
    assert len(set(names.values())) == len(pairs)
    assert all(NAME.match(name) for name in names.values())
    assert names[("a_b", "c")] == "a_b__c"  # the one that needed no change keeps it
    assert names[("a.b", "c")].startswith("a_b__c_") and names[("a b", "c")].startswith("a_b__c_")
    # Two pairs that both need no change for one name ("a__b__c"): both get a hash.
    assert names[("a__b", "c")] != "a__b__c" and names[("a", "b__c")] != "a__b__c"
    assert names[("x", "y")] == "x__y"


def test_names_do_not_depend_on_order():
    pairs = [("a.b", "c"), ("a_b", "c"), ("a b", "c"), ("s" * 70, "t"), ("s" * 70 + "!", "t"), ("x", "y")]
    expected = host_tool_names(pairs)
    for order in itertools.permutations(pairs):
        assert host_tool_names(list(order)) == expected
    assert host_tool_names(pairs + pairs) == expected  # duplicates are named once


def test_names_kept_never_move_to_a_newcomer():
    # "a.b"'s tool "c" was named "a_b__c" (alone, it needs no hash); then a real "a_b" adds
    # "c". By the rule alone the name moves to the newcomer, which needed no replacement.
    before = host_tool_names([("a.b", "c"), ("x", "y")])
    assert before[("a.b", "c")] == "a_b__c"
    pairs = [("a.b", "c"), ("a_b", "c"), ("x", "y")]
    assert host_tool_names(pairs)[("a_b", "c")] == "a_b__c"  # the rule, for a fresh host
    after = host_tool_names(pairs, before)
    assert after[("a.b", "c")] == "a_b__c" and after[("x", "y")] == "x__y"
    assert re.match(r"^a_b__c_[0-9a-f]{8}$", after[("a_b", "c")])
    # Two pairs that both need no change ("a__b__c"): the one named first keeps it (by the
    # rule alone both would take a hash, and the name would vanish from under the model).
    first = host_tool_names([("a", "b__c")])
    assert first[("a", "b__c")] == "a__b__c"
    both = host_tool_names([("a", "b__c"), ("a__b", "c")], first)
    assert both[("a", "b__c")] == "a__b__c" and re.match(r"^a__b__c_[0-9a-f]{8}$", both[("a__b", "c")])
    # The newcomer's hashed form is taken too (kept by a third pair): a longer hash.
    squatter = ("a_b", after[("a_b", "c")][len("a_b__"):])
    third = host_tool_names(pairs + [squatter], {("a.b", "c"): "a_b__c", squatter: after[("a_b", "c")]})
    assert third[squatter] == after[("a_b", "c")]
    assert re.match(r"^a_b__c_[0-9a-f]{16}$", third[("a_b", "c")])
    # A kept pair that is gone frees its name; kept pairs not in pairs are not named.
    gone = host_tool_names([("a_b", "c"), ("x", "y")], before)
    assert gone == {("a_b", "c"): "a_b__c", ("x", "y"): "x__y"}
    assert host_tool_names(pairs, {}) == host_tool_names(pairs)


def test_names_a_hashed_name_equal_to_a_plain_one_gets_a_longer_hash():
    first = host_tool_names([("a.b", "c"), ("a_b", "c")])[("a.b", "c")]  # "a_b__c_<8 hex>"
    squatter = ("a_b", first[len("a_b__"):])  # a tool whose plain name is exactly that
    names = host_tool_names([("a.b", "c"), ("a_b", "c"), squatter])
    assert names[squatter] == first
    assert re.match(r"^a_b__c_[0-9a-f]{16}$", names[("a.b", "c")])
    assert len(set(names.values())) == 3


# --- the catalog ------------------------------------------------------------------------------------

WEATHER = {"name": "forecast", "title": "Forecast", "description": "Forecast for a city.",
           "inputSchema": {"type": "object", "properties": {"city": {"type": "string"},
                                                            "days": {"type": "integer", "default": 3}},
                           "required": ["city"], "additionalProperties": False},
           "annotations": {"readOnlyHint": True}}
BARE = {"name": "ping", "inputSchema": {"type": "object"}}
TITLED = {"name": "t", "title": "Only a title", "inputSchema": {"type": "object", "properties": {}}}
ENTRIES = [("weather__forecast", WEATHER), ("net__ping", BARE), ("x__t", TITLED)]


def test_tools_in_each_provider_shape():
    before = json.dumps(ENTRIES, sort_keys=True)
    plain = provider_tools(ENTRIES, None)
    assert plain[0] == dict(WEATHER, name="weather__forecast") and plain[1]["name"] == "net__ping"

    openai = provider_tools(ENTRIES, "openai")
    assert openai[0] == {"type": "function", "function": {"name": "weather__forecast",
                                                          "description": "Forecast for a city.",
                                                          "parameters": WEATHER["inputSchema"]}}
    # An object schema without properties gets them (OpenAI refuses it without).
    assert openai[1]["function"]["parameters"] == {"type": "object", "properties": {}}
    assert openai[1]["function"]["description"] == "" and openai[2]["function"]["description"] == "Only a title"

    responses = provider_tools(ENTRIES, "openai-responses")
    assert responses[0] == {"type": "function", "name": "weather__forecast", "description": "Forecast for a city.",
                            "parameters": WEATHER["inputSchema"], "strict": False}

    anthropic = provider_tools(ENTRIES, "anthropic")
    assert anthropic[0] == {"name": "weather__forecast", "description": "Forecast for a city.",
                            "input_schema": WEATHER["inputSchema"]}

    gemini = provider_tools(ENTRIES, "gemini")
    assert len(gemini) == 1 and list(gemini[0]) == ["function_declarations"]
    declarations = gemini[0]["function_declarations"]
    assert declarations[0] == {"name": "weather__forecast", "description": "Forecast for a city.", "parameters": {
        "type": "OBJECT", "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER", "default": 3}},
        "propertyOrdering": ["city", "days"], "required": ["city"]}}
    # No parameters: no "parameters" (Gemini refuses an OBJECT with empty properties there).
    assert declarations[1] == {"name": "net__ping", "description": ""}
    assert "parameters" not in declarations[2]
    assert json.dumps(ENTRIES, sort_keys=True) == before  # the definitions are not modified


def test_tools_edge_cases():
    assert provider_tools([], "gemini") == [] and provider_tools([], "openai") == []
    no_schema = provider_tools([("s__t", {"name": "t"})], "anthropic")
    assert no_schema[0]["input_schema"] == {"type": "object", "properties": {}}
    with pytest.raises(ValueError) as info:
        provider_tools(ENTRIES, "mistral")
    for provider in PROVIDERS:
        assert repr(provider) in str(info.value)


# OpenAI: "schema must have type 'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'const'/'not'
# at the top level"; Anthropic: "input_schema does not support oneOf, allOf, or anyOf at the top
# level". Either refuses the whole request, every tool of it, for one such tool.
TOP_LEVEL_REFUSED = ("anyOf", "oneOf", "allOf", "enum", "const", "not")
UNION_AT_THE_TOP = {"name": "find", "inputSchema": {
    "type": "object", "properties": {"limit": {"type": "integer"}}, "required": ["limit"],
    "oneOf": [{"properties": {"id": {"type": "string"}, "kind": {"type": "string"}}, "required": ["id", "kind"]},
              {"$ref": "#/$defs/byPath"}],
    "not": {"required": ["id", "path"]},
    "$defs": {"byPath": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path", "kind"]}}}}
ALL_OF_AT_THE_TOP = {"name": "make", "inputSchema": {"allOf": [
    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
    {"type": "object", "properties": {"b": {"type": "number"}}, "required": ["b"]}]}}
ANY_OF_WITHOUT_TYPE = {"name": "timer", "inputSchema": {"anyOf": [
    {"type": "object", "properties": {"duration": {"type": "string"}}, "required": ["duration"]},
    {"type": "object", "properties": {"hours": {"type": "integer"}, "minutes": {"type": "integer"}}}]}}


def test_tools_no_union_at_the_top_for_openai_and_anthropic():
    before = json.dumps([UNION_AT_THE_TOP, ALL_OF_AT_THE_TOP, ANY_OF_WITHOUT_TYPE], sort_keys=True)
    entries = [("s__find", UNION_AT_THE_TOP), ("s__make", ALL_OF_AT_THE_TOP), ("s__timer", ANY_OF_WITHOUT_TYPE)]
    for provider in ("openai", "openai-responses", "anthropic"):
        schemas = [tool["function"]["parameters"] if provider == "openai" else
                   tool["parameters"] if provider == "openai-responses" else tool["input_schema"]
                   for tool in provider_tools(entries, provider)]
        for schema in schemas:
            assert schema["type"] == "object" and isinstance(schema["properties"], dict), (provider, schema)
            assert not set(TOP_LEVEL_REFUSED) & set(schema), (provider, schema)
        find, make, timer = schemas
        # Every alternative's properties are offered; required: what the schema and every
        # alternative require (allOf: what any member requires).
        assert find["properties"] == {"limit": {"type": "integer"}, "id": {"type": "string"},
                                      "kind": {"type": "string"}, "path": {"type": "string"}}
        assert find["required"] == ["limit", "kind"]
        assert find["$defs"] == UNION_AT_THE_TOP["inputSchema"]["$defs"]  # (still the target of any $ref inside)
        assert make["properties"] == {"a": {"type": "string"}, "b": {"type": "number"}}
        assert make["required"] == ["a", "b"]
        assert timer["properties"] == {"duration": {"type": "string"}, "hours": {"type": "integer"},
                                       "minutes": {"type": "integer"}}
        assert "required" not in timer
    assert json.dumps([UNION_AT_THE_TOP, ALL_OF_AT_THE_TOP, ANY_OF_WITHOUT_TYPE], sort_keys=True) == before


# OpenAI: "Invalid schema for function 'x': In context=('properties', 'tags'), array schema missing
# items", for the whole request, wherever the array is (nested, in a type list, under $defs).
ARRAYS_WITHOUT_ITEMS = {"name": "tag", "inputSchema": {"type": "object", "properties": {
    "tags": {"type": "array", "description": "Any values."},
    "rows": {"type": "array", "items": {"type": "array"}},
    "maybe": {"type": ["array", "null"]},
    "either": {"anyOf": [{"type": "array"}, {"type": "string"}]},
    "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
    "ref": {"$ref": "#/$defs/list"},
    "typed": {"type": "array", "items": {"type": "string"}}},
    "$defs": {"list": {"type": "array"}}}}


def test_tools_openai_arrays_always_have_items():
    before = json.dumps(ARRAYS_WITHOUT_ITEMS, sort_keys=True)
    chat = provider_tools([("s__tag", ARRAYS_WITHOUT_ITEMS)], "openai")[0]["function"]["parameters"]
    responses = provider_tools([("s__tag", ARRAYS_WITHOUT_ITEMS)], "openai-responses")[0]["parameters"]
    assert chat == responses
    arrays = []  # type: List[Dict[str, Any]]

    def walk(node):
        # type: (Any) -> None
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "array" or (isinstance(kind, list) and "array" in kind):
                arrays.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(chat)
    assert len(arrays) == 8
    assert all("items" in node for node in arrays), [node for node in arrays if "items" not in node]
    properties = chat["properties"]
    # An empty schema: any item, as the missing "items" meant; the rest left as it was.
    assert properties["tags"] == {"type": "array", "description": "Any values.", "items": {}}
    assert properties["rows"] == {"type": "array", "items": {"type": "array", "items": {}}}
    assert properties["typed"] is ARRAYS_WITHOUT_ITEMS["inputSchema"]["properties"]["typed"]
    assert chat["$defs"] == {"list": {"type": "array", "items": {}}}
    assert json.dumps(ARRAYS_WITHOUT_ITEMS, sort_keys=True) == before  # the definition is not modified
    # A schema with nothing to add is passed as it is.
    assert provider_tools([("w__f", WEATHER)], "openai")[0]["function"]["parameters"] is WEATHER["inputSchema"]


# Anthropic: "tools.14.custom.input_schema.properties: Property keys should match pattern
# '^[a-zA-Z0-9_.-]{1,64}$'" (the top level only), for the whole request.
ANTHROPIC_KEY = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
ODD_KEYS = {"name": "list", "inputSchema": {"type": "object", "properties": {
    "filter[id]": {"type": "string"}, "filter_id_": {"type": "string"}, "page size": {"type": "integer"},
    "k" * 70: {"type": "boolean"}, "": {"type": "string"}, "nested": {"type": "object", "properties": {
        "a b": {"type": "string"}}}, "ok.key-1": {"type": "string"}},
    "required": ["filter[id]", "nested"]}}


def test_tools_anthropic_property_keys_are_renamed_and_mapped_back():
    from mcplite.hostformats import server_arguments
    before = json.dumps(ODD_KEYS, sort_keys=True)
    schema = provider_tools([("s__list", ODD_KEYS)], "anthropic")[0]["input_schema"]
    keys = list(schema["properties"])
    assert all(ANTHROPIC_KEY.match(key) for key in keys), keys
    assert len(keys) == len(ODD_KEYS["inputSchema"]["properties"])
    # "filter_id_" is the server's own: the renamed "filter[id]" keeps out of its way.
    assert keys[1] == "filter_id_" and keys[0].startswith("filter_id__") and keys[2] == "page_size"
    assert keys[3] == "k" * 64 and keys[4] == "_" and keys[5:] == ["nested", "ok.key-1"]
    assert schema["properties"]["nested"] == ODD_KEYS["inputSchema"]["properties"]["nested"]  # (top level only)
    assert schema["required"] == [keys[0], "nested"]
    assert json.dumps(ODD_KEYS, sort_keys=True) == before
    # The model's arguments, under the names it was shown, go to the server under its own.
    sent = {keys[0]: "7", "filter_id_": "x", "page_size": 20, "k" * 64: True, "_": "e", "nested": {"a b": "c"}}
    assert server_arguments("anthropic", ODD_KEYS, sent) == {
        "filter[id]": "7", "filter_id_": "x", "page size": 20, "k" * 70: True, "": "e", "nested": {"a b": "c"}}
    # Nothing to rename: the arguments as they are; other providers keep the server's names.
    assert server_arguments("anthropic", WEATHER, {"city": "Oslo"}) == {"city": "Oslo"}
    assert server_arguments("openai", ODD_KEYS, {"page size": 1}) == {"page size": 1}
    assert provider_tools([("s__list", ODD_KEYS)], "openai")[0]["function"]["parameters"] is ODD_KEYS["inputSchema"]


# --- Gemini's schema ----------------------------------------------------------------------------------

# The fields of google-genai's types.Schema (3.6.1), by the REST API's names: any other key is refused.
GEMINI_FIELDS = {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
                 "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example",
                 "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"}
GEMINI_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"}
GEMINI_FORMATS = {"STRING": {"enum", "date-time"}, "NUMBER": {"float", "double"}, "INTEGER": {"int32", "int64"}}


def gemini_fields_ok(schema, where="schema"):
    # type: (Any, str) -> None
    """What the Gemini API takes in a function declaration's schema, as far as the tests know
    it: known fields only; a type on every schema not an anyOf; an ARRAY has items; properties
    never empty; required names among them; enum only of strings, on a STRING; the formats
    Gemini accepts for the type."""
    assert isinstance(schema, dict), where
    unknown = set(schema) - GEMINI_FIELDS
    assert not unknown, "%s: keys Gemini refuses: %s" % (where, unknown)
    if "anyOf" in schema:
        assert isinstance(schema["anyOf"], list) and schema["anyOf"], where
        for i, member in enumerate(schema["anyOf"]):
            gemini_fields_ok(member, "%s.anyOf[%d]" % (where, i))
    else:
        assert schema.get("type") in GEMINI_TYPES, "%s: type %r" % (where, schema.get("type"))
    kind = schema.get("type")
    if kind == "ARRAY":
        assert "items" in schema, "%s: an ARRAY without items" % where
    if "items" in schema:
        gemini_fields_ok(schema["items"], where + ".items")
    if "properties" in schema:
        assert schema["properties"], "%s: empty properties" % where
        for name, sub in schema["properties"].items():
            gemini_fields_ok(sub, "%s.%s" % (where, name))
        assert schema.get("propertyOrdering", list(schema["properties"])) == list(schema["properties"])
    assert set(schema.get("required", ())) <= set(schema.get("properties", ())), where
    if "enum" in schema:
        assert kind == "STRING" and all(isinstance(v, str) for v in schema["enum"]), where
    if "format" in schema:
        assert schema["format"] in GEMINI_FORMATS.get(kind, ()), "%s: format %r" % (where, schema["format"])
    for key in ("description", "title", "pattern"):
        assert isinstance(schema.get(key, ""), str), where


NODE = {"type": "object", "properties": {"value": {"type": "string"},
                                         "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
        "required": ["value"]}

# (name, JSON Schema, what the converted one must be: a dict equal to it, or a check).
HARD_SCHEMAS = [
    ("ref to $defs",
     {"type": "object", "properties": {"where": {"$ref": "#/$defs/Place", "description": "Where to go."}},
      "$defs": {"Place": {"type": "object", "description": "A place.",
                          "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
     {"type": "OBJECT", "propertyOrdering": ["where"], "properties": {"where": {
         "type": "OBJECT", "description": "Where to go.", "properties": {"city": {"type": "STRING"}},
         "propertyOrdering": ["city"], "required": ["city"]}}}),
    ("ref to definitions and to the root",
     {"type": "object", "properties": {"a": {"$ref": "#/definitions/A"}, "b": {"$ref": "#/properties/a"}},
      "definitions": {"A": {"type": "integer", "minimum": 0}}},
     lambda out: out["properties"]["a"] == out["properties"]["b"] == {"type": "INTEGER", "minimum": 0}),
    ("recursive ref",
     {"type": "object", "properties": {"tree": {"$ref": "#/$defs/Node"}}, "$defs": {"Node": NODE}},
     lambda out: (
         out["properties"]["tree"]["properties"]["children"]["items"]["properties"]["children"]["items"]
         == {"type": "OBJECT", "description": "(The same shape as the enclosing one, nested further.)"})),
    ("recursive root",
     {"type": "object", "properties": {"name": {"type": "string"}, "parent": {"$ref": "#"}}},
     lambda out: out["properties"]["parent"]["properties"]["parent"]["type"] == "OBJECT"),
    ("unknown ref",
     {"type": "object", "properties": {"x": {"$ref": "https://example.com/schema.json"}}},
     lambda out: out["properties"]["x"]["type"] == "STRING"
     and "https://example.com/schema.json" in out["properties"]["x"]["description"]),
    ("anyOf with null",
     {"type": "object", "properties": {"n": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}],
                                             "description": "A name.", "default": None}}},
     lambda out: out["properties"]["n"] == {"type": "STRING", "maxLength": 5, "nullable": True,
                                            "description": "A name."}),
    ("type list with null",
     {"type": "object", "properties": {"n": {"type": ["integer", "null"], "maximum": 9}}},
     lambda out: out["properties"]["n"] == {"type": "INTEGER", "maximum": 9, "nullable": True}),
    ("type list of several",
     {"type": "object", "properties": {"v": {"type": ["string", "number"]}}},
     lambda out: out["properties"]["v"] == {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]}),
    ("oneOf",
     {"type": "object", "properties": {"shape": {"oneOf": [
         {"type": "object", "properties": {"r": {"type": "number"}}, "required": ["r"]},
         {"type": "object", "properties": {"w": {"type": "number"}, "h": {"type": "number"}}}]}}},
     lambda out: len(out["properties"]["shape"]["anyOf"]) == 2
     and out["properties"]["shape"]["anyOf"][0]["required"] == ["r"]),
    ("allOf",
     {"type": "object", "properties": {"p": {"allOf": [
         {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
         {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]}}},
     lambda out: out["properties"]["p"]["required"] == ["a", "b"]
     and set(out["properties"]["p"]["properties"]) == {"a", "b"}),
    ("string enum",
     {"type": "object", "properties": {"unit": {"type": "string", "enum": ["C", "F"]}}},
     lambda out: out["properties"]["unit"] == {"type": "STRING", "format": "enum", "enum": ["C", "F"]}),
    ("enum of ints",
     {"type": "object", "properties": {"level": {"type": "integer", "enum": [1, 2, 3], "description": "Level."}}},
     lambda out: out["properties"]["level"] == {"type": "INTEGER", "description": "Level. One of: 1, 2, 3."}),
    ("enum with null, no type",
     {"type": "object", "properties": {"m": {"enum": ["a", "b", None]}}},
     lambda out: out["properties"]["m"] == {"type": "STRING", "format": "enum", "enum": ["a", "b"],
                                            "nullable": True}),
    ("const",
     {"type": "object", "properties": {"kind": {"const": "circle"}, "version": {"const": 2}}},
     lambda out: out["properties"]["kind"] == {"type": "STRING", "format": "enum", "enum": ["circle"]}
     and out["properties"]["version"] == {"type": "INTEGER", "description": "Must be: 2."}),
    ("tuple, prefixItems",
     {"type": "object", "properties": {"point": {"type": "array", "prefixItems": [
         {"type": "number"}, {"type": "number"}], "items": False}}},
     lambda out: out["properties"]["point"] == {"type": "ARRAY", "items": {"type": "NUMBER"}, "minItems": 2,
                                                "maxItems": 2, "description": "In order: number, number."}),
    ("tuple, items list (draft 7)",
     {"type": "object", "properties": {"pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}],
                                                "additionalItems": False}}},
     lambda out: out["properties"]["pair"]["items"] == {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]}
     and out["properties"]["pair"]["maxItems"] == 2),
    ("additionalProperties",
     {"type": "object", "properties": {"tags": {"type": "object", "additionalProperties": {"type": "string"}},
                                       "free": {"type": "object"}}, "additionalProperties": False},
     lambda out: out["properties"]["tags"] == {"type": "OBJECT", "description": "Other keys: string."}
     and out["properties"]["free"] == {"type": "OBJECT"}),
    ("format",
     {"type": "object", "properties": {
         "when": {"type": "string", "format": "date-time"}, "site": {"type": "string", "format": "uri"},
         "n": {"type": "integer", "format": "int64"}, "x": {"type": "number", "format": "decimal"}}},
     lambda out: out["properties"]["when"] == {"type": "STRING", "format": "date-time"}
     and out["properties"]["site"] == {"type": "STRING", "description": "Format: uri."}
     and out["properties"]["n"] == {"type": "INTEGER", "format": "int64"}
     and out["properties"]["x"] == {"type": "NUMBER", "description": "Format: decimal."}),
    ("nested arrays",
     {"type": "object", "properties": {"grid": {"type": "array", "items": {"type": "array", "items": {
         "type": "integer"}, "minItems": 1}, "uniqueItems": True}}},
     lambda out: out["properties"]["grid"] == {"type": "ARRAY", "items": {"type": "ARRAY", "items": {
         "type": "INTEGER"}, "minItems": 1}, "description": "Items are unique."}),
    ("array without items, untyped values",
     {"type": "object", "properties": {"any": {}, "list": {"type": "array"}, "yes": True}},
     lambda out: out["properties"]["any"]["type"] == "STRING" and out["properties"]["list"]["items"]["type"]
     == "STRING" and out["properties"]["yes"]["type"] == "STRING"),
    ("bounds and keywords Gemini lacks",
     {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x", "type": "object", "properties": {
         "n": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10, "multipleOf": 2},
         "f": {"type": "number", "exclusiveMinimum": 0.5},
         "s": {"type": "string", "pattern": "^a", "minLength": 1, "readOnly": True, "x-extra": 1,
               "examples": ["abc"], "not": {"const": "b"}}},
      "required": ["n", "missing"], "patternProperties": {"^x": {}}},
     lambda out: out["properties"]["n"] == {"type": "INTEGER", "minimum": 1, "maximum": 9,
                                            "description": "A multiple of 2."}
     and out["properties"]["f"] == {"type": "NUMBER", "description": "Greater than 0.5."}
     and out["properties"]["s"] == {"type": "STRING", "pattern": "^a", "minLength": 1, "example": "abc"}
     and out["required"] == ["n"]),
    ("untyped object and array",
     {"properties": {"o": {"properties": {"a": {"type": "string"}}}, "l": {"items": {"type": "boolean"}}}},
     lambda out: out["type"] == "OBJECT" and out["properties"]["o"]["type"] == "OBJECT"
     and out["properties"]["l"] == {"type": "ARRAY", "items": {"type": "BOOLEAN"}}),
    ("a deep chain of refs",
     dict({"type": "object", "properties": {"a": {"$ref": "#/$defs/D0"}}}, **{"$defs": {
         "D%d" % i: {"type": "object", "properties": {"next": {"$ref": "#/$defs/D%d" % (i + 1)}}} for i in range(60)}}),
     lambda out: json.dumps(out).count('"next"') <= 32),
]


@pytest.mark.parametrize("name, schema, expected", HARD_SCHEMAS, ids=[case[0] for case in HARD_SCHEMAS])
def test_gemini_schema_hard_cases(name, schema, expected):
    before = json.dumps(schema, sort_keys=True)
    out = gemini_schema(schema)
    gemini_fields_ok(out)
    if callable(expected):
        assert expected(out), json.dumps(out, indent=1)
    else:
        assert out == expected, json.dumps(out, indent=1)
    assert json.dumps(schema, sort_keys=True) == before


def test_gemini_root_anyof_of_objects_is_one_object():
    schema = {"anyOf": [{"type": "object", "properties": {"id": {"type": "string"}, "x": {"type": "string"}},
                         "required": ["id", "x"]},
                        {"type": "object", "properties": {"id": {"type": "string"}, "y": {"type": "string"}},
                         "required": ["id"]}]}
    [tool] = provider_tools([("s__t", {"name": "t", "inputSchema": schema})], "gemini")[0]["function_declarations"]
    assert set(tool["parameters"]["properties"]) == {"id", "x", "y"} and tool["parameters"]["required"] == ["id"]
    gemini_fields_ok(tool["parameters"])


def test_gemini_schema_takes_a_dict():
    with pytest.raises(TypeError):
        gemini_schema(["not", "a", "schema"])  # type: ignore


# --- the model's tool call --------------------------------------------------------------------------


class FakeModel:
    """Stands in for a pydantic object of a provider's SDK."""

    def __init__(self, data):
        # type: (Dict[str, Any]) -> None
        self.data = data

    def model_dump(self, exclude_none=False):
        # type: (bool) -> Dict[str, Any]
        return {k: v for k, v in self.data.items() if v is not None or not exclude_none}


def test_parse_each_shape():
    assert parse_tool_call({"id": "call_1", "type": "function", "function": {
        "name": "w__f", "arguments": '{"city": "Paris"}'}}) == ToolCall(
        "openai", "call_1", "w__f", {"city": "Paris"}, None)
    assert parse_tool_call({"type": "function_call", "id": "fc_1", "call_id": "call_2", "name": "w__f",
                            "arguments": "{}", "status": "completed"}) == ToolCall(
        "openai-responses", "call_2", "w__f", {}, None)
    assert parse_tool_call({"type": "tool_use", "id": "toolu_1", "name": "w__f",
                            "input": {"city": "Oslo"}}) == ToolCall(
        "anthropic", "toolu_1", "w__f", {"city": "Oslo"}, None)
    assert parse_tool_call({"functionCall": {"name": "w__f", "args": {"city": "Rome"}, "id": "g1"}}) == ToolCall(
        "gemini", "g1", "w__f", {"city": "Rome"}, None)
    assert parse_tool_call({"function_call": {"name": "w__f", "args": {}}}) == ToolCall(
        "gemini", None, "w__f", {}, None)
    assert parse_tool_call({"name": "w__f", "args": {"a": 1}}) == ToolCall("gemini", None, "w__f", {"a": 1}, None)
    assert parse_tool_call(("w__f", {"a": 1})) == ToolCall(None, None, "w__f", {"a": 1}, None)
    assert parse_tool_call(["w__f", '{"a": 1}']) == ToolCall(None, None, "w__f", {"a": 1}, None)
    assert parse_tool_call(("w__f", None)) == ToolCall(None, None, "w__f", {}, None)


def test_parse_sdk_objects():
    openai_obj = FakeModel({"id": "call_9", "type": "function", "function": {"name": "a__b", "arguments": "{}"}})
    assert parse_tool_call(openai_obj) == ToolCall("openai", "call_9", "a__b", {}, None)
    gemini_part = FakeModel({"text": None, "function_call": {"name": "a__b", "args": {"x": 1}, "id": None},
                             "inline_data": None})
    assert parse_tool_call(gemini_part) == ToolCall("gemini", None, "a__b", {"x": 1}, None)
    gemini_call = FakeModel({"id": None, "args": None, "name": "a__b", "partial_args": None, "will_continue": None})
    assert parse_tool_call(gemini_call) == ToolCall("gemini", None, "a__b", {}, None)


OBJECT_HINT = "Call it again with the arguments as one JSON object"

# (arguments as the model sent them, the arguments read, or None and words the problem must hold)
MISTAKES = [
    ("", {}, None),
    ("   ", {}, None),
    ("null", {}, None),
    ('{"a": 1} </s>', {"a": 1}, None),
    ('{"a": 1}}', {"a": 1}, None),
    ('{"a": 1}\n<|call|>', {"a": 1}, None),
    ('{"a": 1}{"a": 1}', {"a": 1}, None),  # the same value twice: unambiguous
    ('```json\n{"a": 1}\n```', {"a": 1}, None),
    ('"{\\"a\\": 1}"', {"a": 1}, None),  # encoded twice
    ('{"a": 1}{"b": 2}', None, "more than one JSON value"),
    ('{"a": 1', None, "not valid JSON"),
    ("{'a': 1}", None, "not valid JSON"),
    ("city=Paris", None, "not valid JSON"),
    ('"Paris"', None, "not a string"),
    ("[1, 2]", None, "not an array"),
    ("42", None, "not a number"),
    ("true", None, "not a boolean"),
]


@pytest.mark.parametrize("raw, arguments, problem", MISTAKES, ids=[repr(m[0]) for m in MISTAKES])
def test_parse_model_mistakes(raw, arguments, problem):
    for shape in ({"id": "c", "type": "function", "function": {"name": "w__f", "arguments": raw}},
                  {"type": "function_call", "call_id": "c", "name": "w__f", "arguments": raw},
                  {"type": "tool_use", "id": "c", "name": "w__f", "input": raw},
                  {"functionCall": {"name": "w__f", "args": raw}},
                  ("w__f", raw)):
        call = parse_tool_call(shape)
        assert call.name == "w__f"
        assert call.arguments == arguments, (shape, call)
        if problem is None:
            assert call.problem is None
        else:
            assert problem in call.problem and '"w__f"' in call.problem and OBJECT_HINT in call.problem, call.problem


def test_parse_non_object_arguments_that_are_not_text():
    for raw in ([1, 2], 42, True):
        call = parse_tool_call({"type": "tool_use", "id": "c", "name": "t", "input": raw})
        assert call.arguments is None and "must be a JSON object" in call.problem
    assert parse_tool_call({"type": "tool_use", "id": "c", "name": "t", "input": None}).arguments == {}


def test_parse_no_name_is_a_problem_not_an_exception():
    call = parse_tool_call({"type": "tool_use", "id": "c", "name": "", "input": {}})
    assert call.arguments == {} and "no tool name" in call.problem


@pytest.mark.parametrize("thing, error", [
    (None, TypeError), (42, TypeError), ("w__f", TypeError), ({}, ValueError), ({"role": "assistant"}, ValueError),
    (("w__f",), ValueError), ((1, {}), ValueError), ({"type": "tool_use", "id": "c", "input": {}}, ValueError),
    ({"type": "function", "function": {"arguments": "{}"}}, ValueError),
])
def test_parse_what_is_no_tool_call_raises(thing, error):
    with pytest.raises(error):
        parse_tool_call(thing)


# --- results ----------------------------------------------------------------------------------------------

CALLS = {
    "openai": ToolCall("openai", "call_1", "w__f", {}, None),
    "openai-responses": ToolCall("openai-responses", "call_1", "w__f", {}, None),
    "anthropic": ToolCall("anthropic", "toolu_1", "w__f", {}, None),
    "gemini": ToolCall("gemini", "g1", "w__f", {}, None),
}
IMAGE = {"type": "image", "data": PNG, "mimeType": "image/png"}
SVG = {"type": "image", "data": base64.b64encode(b"<svg/>").decode("ascii"), "mimeType": "image/svg+xml"}
AUDIO = {"type": "audio", "data": WAV, "mimeType": "audio/wav"}
LINK = {"type": "resource_link", "uri": "file:///a.txt", "name": "a.txt", "mimeType": "text/plain",
        "description": "The file."}
TEXT_RESOURCE = {"type": "resource", "resource": {"uri": "file:///b.md", "mimeType": "text/markdown", "text": "# B"}}
BLOB = {"type": "resource", "resource": {"uri": "file:///c.bin", "mimeType": "application/octet-stream",
                                         "blob": base64.b64encode(b"0123456789").decode("ascii")}}
PNG_BLOB = {"type": "resource", "resource": {"uri": "file:///d.png", "mimeType": "image/png", "blob": PNG}}
PDF_BLOB = {"type": "resource", "resource": {"uri": "file:///e.pdf", "mimeType": "application/pdf", "blob": PDF}}
EVERY_BLOCK = {"content": [{"type": "text", "text": "hello"}, IMAGE, SVG, AUDIO, LINK, TEXT_RESOURCE, BLOB, PNG_BLOB,
                           PDF_BLOB, {"type": "text", "text": ""}, {"type": "hologram"}]}
EVERY_TEXT = "\n".join([
    "hello",
    "[image: image/png, 100 bytes; not shown: this model API takes no images in a tool result]",
    "[image: image/svg+xml, 6 bytes; not shown: this model API takes no images in a tool result]",
    "[audio: audio/wav, 50 bytes; not shown: this model API takes no audio in a tool result]",
    "[resource link: file:///a.txt, name=a.txt, mimeType=text/plain] The file.",
    "[resource file:///b.md (text/markdown)]\n# B",
    "[binary resource file:///c.bin: application/octet-stream, 10 bytes; not shown: this model API takes no "
    "binary resources in a tool result]",
    "[binary resource file:///d.png: image/png, 100 bytes; not shown: this model API takes no binary resources "
    "in a tool result]",
    "[binary resource file:///e.pdf: application/pdf, 13 bytes; not shown: this model API takes no binary "
    "resources in a tool result]",
    "[unsupported content: hologram]",
])


def test_result_every_block_each_provider():
    assert provider_result(CALLS["openai"], EVERY_BLOCK) == {"role": "tool", "tool_call_id": "call_1",
                                                              "content": EVERY_TEXT}
    assert provider_result(CALLS["openai-responses"], EVERY_BLOCK) == {
        "type": "function_call_output", "call_id": "call_1", "output": EVERY_TEXT}
    assert provider_result(CALLS["gemini"], EVERY_BLOCK) == {"functionResponse": {
        "name": "w__f", "id": "g1", "response": {"output": EVERY_TEXT}}}
    anthropic = provider_result(CALLS["anthropic"], EVERY_BLOCK)
    assert anthropic["type"] == "tool_result" and anthropic["tool_use_id"] == "toolu_1"
    assert anthropic["is_error"] is False
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    assert anthropic["content"] == [
        {"type": "text", "text": "hello"},
        image,
        {"type": "text", "text": "[image: image/svg+xml, 6 bytes; not shown: Anthropic takes JPEG, PNG, GIF and "
                                 "WebP up to 5 MB]"},
        {"type": "text", "text": EVERY_TEXT.split("\n")[3]},
        {"type": "text", "text": EVERY_TEXT.split("\n")[4]},
        {"type": "text", "text": "[resource file:///b.md (text/markdown)]\n# B"},
        {"type": "text", "text": EVERY_TEXT.split("\n")[7]},
        image,
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}},
        {"type": "text", "text": "[unsupported content: hologram]"},
    ]
    assert provider_result(ToolCall(None, None, "w__f", {}, None), EVERY_BLOCK) is EVERY_BLOCK


def test_result_anthropic_image_limit_is_on_the_base64_text():
    # Anthropic's 5 MB bound is on the base64 text it is sent ("image exceeds 5 MB maximum:
    # 6275800 bytes > 5242880 bytes" for a 4.7 MB file), not on the decoded image: an image of
    # 4 MB (5.3 MB of base64) must become the placeholder, or the whole request is refused.
    limit = 5 * 1024 * 1024
    over = {"type": "image", "data": "A" * (limit + 4), "mimeType": "image/png"}  # 3.75 MB decoded
    under = {"type": "image", "data": "A" * limit, "mimeType": "image/png"}
    blob = {"type": "resource", "resource": {"uri": "file:///big.png", "mimeType": "image/png",
                                             "blob": "A" * (limit + 4)}}
    content = provider_result(CALLS["anthropic"], {"content": [over, under, blob]})["content"]
    assert [block["type"] for block in content] == ["text", "image", "text"]
    assert content[0]["text"].startswith("[image: image/png, 3932163 bytes; not shown: Anthropic takes")
    assert content[2]["text"].startswith("[image: image/png, 3932163 bytes; not shown: Anthropic takes")


def test_result_anthropic_error_is_text_only():
    # Anthropic: "all content must be type 'text' if 'is_error' is true", for the whole request:
    # an error result with a screenshot (a browser tool's failed step, say) gives its images
    # and documents as placeholders.
    failed = {"content": [{"type": "text", "text": "the click missed"}, IMAGE, PDF_BLOB, PNG_BLOB], "isError": True}
    answer = provider_result(CALLS["anthropic"], failed)
    assert answer["is_error"] is True
    assert [block["type"] for block in answer["content"]] == ["text"] * 4
    assert answer["content"][1]["text"] == ("[image: image/png, 100 bytes; not shown: Anthropic takes no images in "
                                            "an error result]")
    assert answer["content"][2]["text"].startswith("[binary resource file:///e.pdf: application/pdf, 13 bytes")
    assert answer["content"][3]["text"] == ("[image: image/png, 100 bytes; not shown: Anthropic takes no images in "
                                            "an error result]")
    assert provider_error(CALLS["anthropic"], "x")["content"] == [{"type": "text", "text": "x"}]


def test_result_structured_content():
    result = {"content": [{"type": "text", "text": '{"t": 21}'}], "structuredContent": {"t": 21}}
    assert provider_result(CALLS["openai"], result)["content"] == '{"t": 21}'
    assert provider_result(CALLS["gemini"], result)["functionResponse"]["response"] == {"output": {"t": 21}}
    only = {"content": [], "structuredContent": {"t": 21}}  # no blocks: the JSON text
    assert provider_result(CALLS["openai-responses"], only)["output"] == '{"t": 21}'
    assert provider_result(CALLS["anthropic"], only)["content"] == [{"type": "text", "text": '{"t": 21}'}]


def test_result_errors_and_empty():
    failed = {"content": [{"type": "text", "text": "no such city"}], "isError": True}
    assert provider_result(CALLS["openai"], failed)["content"] == "Error: no such city"
    assert provider_result(CALLS["openai-responses"], failed)["output"] == "Error: no such city"
    assert provider_result(CALLS["anthropic"], failed) == {"type": "tool_result", "tool_use_id": "toolu_1",
                                                           "content": [{"type": "text", "text": "no such city"}],
                                                           "is_error": True}
    assert provider_result(CALLS["gemini"], failed)["functionResponse"]["response"] == {"error": "no such city"}
    empty = {"content": []}
    assert provider_result(CALLS["openai"], empty)["content"] == "(The tool returned no content.)"
    assert provider_result(CALLS["anthropic"], empty)["content"] == [
        {"type": "text", "text": "(The tool returned no content.)"}]
    no_id = ToolCall("gemini", None, "w__f", {}, None)
    assert provider_result(no_id, empty) == {"functionResponse": {
        "name": "w__f", "response": {"output": "(The tool returned no content.)"}}}


def test_provider_error_each_shape():
    assert provider_error(CALLS["openai"], "Unknown tool") == {"role": "tool", "tool_call_id": "call_1",
                                                               "content": "Error: Unknown tool"}
    assert provider_error(CALLS["anthropic"], "Unknown tool")["is_error"] is True
    assert provider_error(CALLS["gemini"], "Unknown tool") == {"functionResponse": {
        "name": "w__f", "id": "g1", "response": {"error": "Unknown tool"}}}
    assert provider_error(ToolCall(None, None, "w__f", None, "bad"), "bad") == {
        "content": [{"type": "text", "text": "bad"}], "isError": True}
    call = parse_tool_call({"type": "function_call", "call_id": "c7", "name": "w__f", "arguments": "[1]"})
    assert provider_error(call, call.problem)["output"].startswith("Error: The arguments of \"w__f\"")


def test_result_unknown_provider():
    with pytest.raises(ValueError):
        provider_result(ToolCall("cohere", "x", "w__f", {}, None), {"content": []})


# --- interop: the everything server's tools and results --------------------------------------------------


@pytest.fixture(scope="module")
def everything_catalog():
    # type: () -> Dict[str, Any]
    """Every tool of server-everything (a client declaring sampling, elicitation and roots, so
    the tools that need them are listed too) and a few real results of it."""
    from mcplite import Client

    raw = os.environ.get(EVERYTHING_VARIABLE, "")
    if not raw:
        unusable(EVERYTHING_VARIABLE, "MCPLITE_EVERYTHING is not set (scripts/test sets it to a command running "
                                      "@modelcontextprotocol/server-everything)")
    argv = shlex.split(raw)
    if not argv or shutil.which(argv[0]) is None:
        unusable(EVERYTHING_VARIABLE, "MCPLITE_EVERYTHING=%s does not name a program" % raw)
    client = Client.stdio(argv + ["stdio"], env={TOKEN_VARIABLE: STDIO_TOKEN}, capture_stderr=True, close_timeout=0.5,
                          timeout=20.0, roots=lambda *a: [],
                          sampling=lambda *a: {"role": "assistant", "content": {"type": "text", "text": "ok"},
                                               "model": "m", "stopReason": "endTurn"},
                          elicitation=lambda *a: {"action": "decline"})
    try:
        tools = client.list_tools()
        results = [client.call_tool(name, arguments) for name, arguments in (
            ("echo", {"message": "hi"}), ("get-tiny-image", {}), ("get-resource-links", {"count": 3}),
            ("get-resource-reference", {"resourceType": "Text", "resourceId": 1}),
            ("get-resource-reference", {"resourceType": "Blob", "resourceId": 2}),
            ("get-annotated-message", {"messageType": "success", "includeImage": True}),
            ("get-structured-content", {"location": "Chicago"}), ("get-sum", {"a": "x"}))]
    finally:
        client.close()
        left = reap_leftovers(STDIO_TOKEN)
        assert not left, "everything servers still running after their client closed (now killed): %s" % left
    return {"tools": tools, "results": results}


@pytest.mark.interop
def test_everything_tools_convert(everything_catalog):
    tools = everything_catalog["tools"]
    assert len(tools) >= 16, [tool["name"] for tool in tools]
    names = host_tool_names([("everything", tool["name"]) for tool in tools])
    entries = [(names[("everything", tool["name"])], tool) for tool in tools]
    for provider in PROVIDERS:
        converted = provider_tools(entries, provider)
        assert json.loads(json.dumps(converted)) == converted  # plain JSON
    declarations = provider_tools(entries, "gemini")[0]["function_declarations"]
    assert len(declarations) == len(tools)
    for tool, declaration in zip(tools, declarations):
        assert NAME.match(declaration["name"])
        if "parameters" in declaration:
            gemini_fields_ok(declaration["parameters"], tool["name"])
            assert set(declaration["parameters"]["properties"]) == set(tool["inputSchema"]["properties"])
        else:
            assert not tool["inputSchema"].get("properties"), tool["name"]
        gemini_fields_ok(gemini_schema(tool["inputSchema"]) if tool["inputSchema"].get("properties") else
                         {"type": "OBJECT"}, tool["name"])
        if tool.get("outputSchema"):
            gemini_fields_ok(gemini_schema(tool["outputSchema"]), tool["name"] + " (output)")
    kinds = {block.get("type") for result in everything_catalog["results"] for block in result["content"]}
    assert {"text", "image", "resource_link", "resource"} <= kinds, kinds


# --- interop: the providers' own SDKs --------------------------------------------------------------------

# Runs in $MCPLITE_PROVIDERS_PYTHON (Python >= 3.10, the SDKs pinned in PROVIDER_PINS). Reads a
# list of cases on stdin, {"provider", "tools", "results", "name", "arguments"}, and writes one
# report per case: {"ok": true, "calls": [the SDK's own objects for the model's call, dumped]}
# or {"ok": false, "error"}.
CHECK_SCRIPT = r"""
import json, sys, traceback

import httpx2
from pydantic import TypeAdapter

import anthropic
import openai
from anthropic.types import ToolParam, ToolResultBlockParam
from google import genai
from google.genai import types as gtypes
from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionToolMessageParam
from openai.types.responses import FunctionToolParam
from openai.types.responses.response_input_item_param import FunctionCallOutput

ADAPTERS = {}


def plain(value):
    # A validated TypedDict as plain JSON values (pydantic validates Iterable fields lazily).
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return [plain(v) for v in value]


def typed(kind, value):
    # Validated by the SDK's TypedDict; what the type does not know is dropped by pydantic,
    # so a result that differs from the input names a key or value the SDK does not take.
    adapter = ADAPTERS.setdefault(kind, TypeAdapter(kind))
    got = plain(adapter.validate_python(value))
    if got != value:
        raise ValueError("%s drops or changes part of it: sent %s, kept %s"
                         % (kind.__name__, json.dumps(value)[:800], json.dumps(got)[:800]))


def mock(answer, seen):
    def handle(request):
        seen.append(json.loads(request.content.decode("utf-8")))
        return httpx2.Response(200, json=answer)
    return httpx2.Client(transport=httpx2.MockTransport(handle))


def openai_client(answer, seen):
    return openai.OpenAI(api_key="x", base_url="http://127.0.0.1:9/v1", max_retries=0, http_client=mock(answer, seen))


def chat(case):
    seen = []
    call = {"id": "call_1", "type": "function",
            "function": {"name": case["name"], "arguments": json.dumps(case["arguments"])}}
    answer = {"id": "c1", "object": "chat.completion", "created": 0, "model": "m", "choices": [{
        "index": 0, "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": None, "tool_calls": [call]}}]}
    client = openai_client(answer, seen)
    for tool in case["tools"]:
        typed(ChatCompletionFunctionToolParam, tool)
    response = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "go"}],
                                              tools=case["tools"])
    assert seen[-1]["tools"] == case["tools"], "the request's tools differ"
    message = response.choices[0].message
    messages = [{"role": "user", "content": "go"}, message.model_dump(exclude_none=True)]
    for result in case["results"]:
        typed(ChatCompletionToolMessageParam, result)
        messages.append(result)
    client.chat.completions.create(model="m", messages=messages, tools=case["tools"])
    assert seen[-1]["messages"][2:] == case["results"], "the request's tool messages differ"
    return [message.tool_calls[0].model_dump()]


def responses(case):
    seen = []
    item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": case["name"],
            "arguments": json.dumps(case["arguments"]), "status": "completed"}
    answer = {"id": "r1", "object": "response", "created_at": 0, "model": "m", "status": "completed", "output": [item],
              "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}
    client = openai_client(answer, seen)
    for tool in case["tools"]:
        typed(FunctionToolParam, tool)
    response = client.responses.create(model="m", input="go", tools=case["tools"])
    assert seen[-1]["tools"] == case["tools"], "the request's tools differ"
    for result in case["results"]:
        typed(FunctionCallOutput, result)
    client.responses.create(model="m", input=[item] + case["results"], tools=case["tools"])
    assert seen[-1]["input"][1:] == case["results"], "the request's outputs differ"
    return [response.output[0].model_dump()]


def messages(case):
    seen = []
    block = {"type": "tool_use", "id": "toolu_1", "name": case["name"], "input": case["arguments"]}
    answer = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [block],
              "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
    client = anthropic.Anthropic(api_key="x", base_url="http://127.0.0.1:9", max_retries=0,
                                 http_client=mock(answer, seen))
    for tool in case["tools"]:
        typed(ToolParam, tool)
    response = client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "go"}],
                                      tools=case["tools"])
    assert seen[-1]["tools"] == case["tools"], "the request's tools differ"
    for result in case["results"]:
        typed(ToolResultBlockParam, result)
    client.messages.create(model="m", max_tokens=10, tools=case["tools"], messages=[
        {"role": "user", "content": "go"}, {"role": "assistant", "content": [block]},
        {"role": "user", "content": case["results"]}])
    assert seen[-1]["messages"][2]["content"] == case["results"], "the request's tool results differ"
    return [response.content[0].model_dump()]


def gemini(case):
    seen = []
    call = {"name": case["name"], "args": case["arguments"], "id": "fc_1"}
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": call}]}, "finishReason": "STOP"}]}
    client = genai.Client(api_key="x", http_options=gtypes.HttpOptions(
        base_url="http://127.0.0.1:9/", httpx_client=mock(answer, seen)))
    tools = [gtypes.Tool.model_validate(tool) for tool in case["tools"]]  # (extra keys refused)
    config = gtypes.GenerateContentConfig(tools=tools)
    response = client.models.generate_content(model="gemini-test", contents="go", config=config)
    sent = seen[-1]["tools"]
    assert len(sent) == len(case["tools"]), "the request's tools differ"
    parts = [gtypes.Part.model_validate(result) for result in case["results"]]
    part = response.candidates[0].content.parts[0]
    client.models.generate_content(model="gemini-test", config=config, contents=[
        gtypes.Content(role="user", parts=[gtypes.Part(text="go")]), response.candidates[0].content,
        gtypes.Content(role="user", parts=parts)])
    assert len(seen[-1]["contents"][2]["parts"]) == len(parts)
    return [part.model_dump(exclude_none=True), part.function_call.model_dump()]


CHECKS = {"openai": chat, "openai-responses": responses, "anthropic": messages, "gemini": gemini}


def main():
    cases = json.load(sys.stdin)
    report = []
    for case in cases:
        try:
            report.append({"ok": True, "calls": CHECKS[case["provider"]](case)})
        except Exception as exc:
            report.append({"ok": False, "error": "%s: %s" % (type(exc).__name__, exc),
                           "trace": traceback.format_exc()[-2000:]})
    json.dump(report, sys.stdout)


main()
"""


@pytest.fixture(scope="module")
def providers_python():
    # type: () -> str
    """``$MCPLITE_PROVIDERS_PYTHON`` once it has shown that it has the pinned SDKs."""
    path = os.environ.get(PROVIDERS_VARIABLE, "")
    pins = " ".join("%s==%s" % item for item in sorted(PROVIDER_PINS.items()))
    if not path:
        unusable(PROVIDERS_VARIABLE, "MCPLITE_PROVIDERS_PYTHON is not set (scripts/test sets it to a venv with %s)"
                 % pins)
    probe = ("import json, importlib.metadata as m, openai, anthropic, google.genai; "
             "print(json.dumps({n: m.version(n) for n in %r}))" % sorted(PROVIDER_PINS))
    status, out, err = run_check([path, "-c", probe], "")
    if status != 0:
        unusable(PROVIDERS_VARIABLE, "MCPLITE_PROVIDERS_PYTHON=%s cannot import the SDKs (status %s):\n%s"
                 % (path, status, err[-2000:]))
    found = json.loads(out)
    if found != PROVIDER_PINS:
        unusable(PROVIDERS_VARIABLE, "MCPLITE_PROVIDERS_PYTHON=%s has %s, the tests pin %s" % (path, found, pins))
    return path


def run_check(argv, stdin):
    # type: (List[str], str) -> Tuple[Optional[int], str, str]
    """Run ``argv`` with ``stdin`` in a process group of its own, killed at the end whatever
    happens: (exit status or None on a timeout, stdout, stderr)."""
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=str(REPO), env=peer_env(), start_new_session=True)
    except OSError as exc:
        return 127, "", str(exc)
    status = None  # type: Optional[int]
    out, err = b"", b""
    try:
        out, err = proc.communicate(stdin.encode("utf-8"), timeout=SDK_TIMEOUT)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        out, err = b"", ("no answer within %ss" % SDK_TIMEOUT).encode()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
    return status, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def sdk_check(python, cases):
    # type: (str, List[Dict[str, Any]]) -> List[Dict[str, Any]]
    status, out, err = run_check([python, "-c", CHECK_SCRIPT], json.dumps(cases))
    assert status == 0, "the SDK check script failed (status %s):\n%s" % (status, err[-3000:])
    reports = json.loads(out)
    assert len(reports) == len(cases)
    return reports


CALL_IDS = {"openai": "call_1", "openai-responses": "call_1", "anthropic": "toolu_1", "gemini": "fc_1"}


def cases_for(entries, results, name, arguments):
    # type: (List[Tuple[str, Dict[str, Any]]], List[Dict[str, Any]], str, Dict[str, Any]) -> List[Dict[str, Any]]
    """One case per provider: the catalog, each result (and an error) in its shape, the call."""
    cases = []
    for provider in PROVIDERS:
        call = ToolCall(provider, CALL_IDS[provider], name, arguments, None)
        shaped = [provider_result(call, result) for result in results] + [provider_error(call, "It failed.")]
        cases.append({"provider": provider, "tools": provider_tools(entries, provider), "results": shaped,
                      "name": name, "arguments": arguments})
    return cases


def check_reports(cases, reports):
    # type: (List[Dict[str, Any]], List[Dict[str, Any]]) -> None
    for case, report in zip(cases, reports):
        assert report["ok"], "%s: %s\n%s" % (case["provider"], report["error"], report.get("trace", ""))
        for dumped in report["calls"]:  # what the SDK gives for the model's call, read back
            call = parse_tool_call(dumped)
            assert (call.provider, call.call_id, call.name, call.arguments, call.problem) == (
                case["provider"], CALL_IDS[case["provider"]], case["name"], case["arguments"], None), dumped


HARD_TOOLS = [("hard__%d" % i, {"name": "hard%d" % i, "description": name, "inputSchema": dict(
    schema, type="object")}) for i, (name, schema, _) in enumerate(HARD_SCHEMAS)]


@pytest.mark.interop
def test_sdks_take_catalogs_and_results(providers_python):
    entries = [("weather__forecast", WEATHER), ("net__ping", BARE), ("x__t", TITLED)] + HARD_TOOLS
    results = [EVERY_BLOCK, {"content": [{"type": "text", "text": "x"}], "structuredContent": {"t": [1, None]}},
               {"content": [], "isError": True}, {"content": []}]
    cases = cases_for(entries, results, "weather__forecast", {"city": "Paris", "days": 2})
    check_reports(cases, sdk_check(providers_python, cases))


@pytest.mark.interop
def test_sdks_take_everything(providers_python, everything_catalog):
    tools = everything_catalog["tools"]
    names = host_tool_names([("everything", tool["name"]) for tool in tools])
    entries = [(names[("everything", tool["name"])], tool) for tool in tools]
    cases = cases_for(entries, everything_catalog["results"], names[("everything", "get-sum")], {"a": 1, "b": 2})
    check_reports(cases, sdk_check(providers_python, cases))


@pytest.mark.interop
def test_sdk_check_rejects_wrong_shapes(providers_python):
    """The check can fail: a shape each SDK does not take fails it."""
    good = cases_for([("weather__forecast", WEATHER)], [{"content": []}], "weather__forecast", {"city": "Oslo"})
    by = {case["provider"]: case for case in good}
    wrong = []
    # A tool without the "function" wrapper (the Responses shape sent to Chat Completions).
    wrong.append(dict(by["openai"], tools=provider_tools([("weather__forecast", WEATHER)], "openai-responses")))
    # A key the SDK's type does not have (pydantic drops it: the check compares what it kept).
    wrong.append(dict(by["openai"], results=[{"role": "tool", "tool_call_id": "call_1", "content": "x",
                                              "is_error": True}]))
    # A tool message without its call id.
    wrong.append(dict(by["openai"], results=[{"role": "tool", "content": "x"}]))
    # A Chat Completions tool sent to the Responses API.
    wrong.append(dict(by["openai-responses"], tools=provider_tools([("weather__forecast", WEATHER)], "openai")))
    # The OpenAI key for the schema, sent to Anthropic.
    wrong.append(dict(by["anthropic"], tools=[{"name": "w", "description": "", "parameters": {"type": "object"}}]))
    # An image Anthropic does not take, as an image block.
    wrong.append(dict(by["anthropic"], results=[{"type": "tool_result", "tool_use_id": "toolu_1", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/svg+xml", "data": "PHN2Zy8+"}}]}]))
    # A JSON Schema $ref, not inlined, in a Gemini declaration; an integer enum.
    wrong.append(dict(by["gemini"], tools=[{"function_declarations": [{"name": "w", "parameters": {
        "type": "OBJECT", "properties": {"a": {"$ref": "#/$defs/A"}}}}]}]))
    wrong.append(dict(by["gemini"], tools=[{"function_declarations": [{"name": "w", "parameters": {
        "type": "OBJECT", "properties": {"a": {"type": "INTEGER", "enum": [1, 2]}}}}]}]))
    # A function response with a key Gemini does not have.
    wrong.append(dict(by["gemini"], results=[{"functionResponse": {"name": "w", "response": {}, "is_error": True}}]))
    reports = sdk_check(providers_python, good + wrong)
    check_reports(good, reports[:len(good)])
    for case, report in zip(wrong, reports[len(good):]):
        assert not report["ok"], "the SDK check took a wrong shape for %s: %s" % (case["provider"], case)
