"""Type hints to JSON Schema, conversion of arguments, and the validator."""

import enum
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, List, Literal, Optional, Sequence, Set, Tuple, Union

import pytest

from mcplite import Context, Server
from mcplite.schema import (
    compile_schema, converter_for, describe_function, doc_param_descriptions, output_schema_for,
    schema_for_type, to_json,
)

try:
    from typing import Annotated, TypedDict
except ImportError:  # Python 3.8
    Annotated = None  # type: ignore[assignment]
    from typing import TypedDict

needs_annotated = pytest.mark.skipif(Annotated is None, reason="typing.Annotated needs Python 3.9")


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclass
class Point:
    """A point on the plane."""
    x: float
    y: float = 0.0
    tags: List[str] = field(default_factory=list)


@dataclass
class Node:
    name: str
    children: List["Node"] = field(default_factory=list)


class Movie(TypedDict):
    title: str
    year: int


class PartialMovie(TypedDict, total=False):
    title: str


@pytest.mark.parametrize("annotation, schema", [
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (str, {"type": "string"}),
    (bool, {"type": "boolean"}),
    (type(None), {"type": "null"}),
    (Any, {}),
    (list, {"type": "array"}),
    (dict, {"type": "object"}),
    (List[int], {"type": "array", "items": {"type": "integer"}}),
    (Sequence[str], {"type": "array", "items": {"type": "string"}}),
    (Set[int], {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
    (FrozenSet[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
    (Tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
    (Tuple[int, str], {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                       "minItems": 2, "maxItems": 2}),
    (Dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
    (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
    (Union[int, str], {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
    (Union[int, Any], {}),
    (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
    (Literal[1, 2], {"type": "integer", "enum": [1, 2]}),
    (Literal["a", 1], {"enum": ["a", 1]}),
    (Color, {"type": "string", "enum": ["red", "green"], "title": "Color"}),
    (Level, {"type": "integer", "enum": [1, 2], "title": "Level"}),
    (Movie, {"type": "object", "title": "Movie", "required": ["title", "year"],
             "properties": {"title": {"type": "string"}, "year": {"type": "integer"}}}),
    (PartialMovie, {"type": "object", "title": "PartialMovie", "properties": {"title": {"type": "string"}}}),
    (Point, {"type": "object", "title": "Point", "description": "A point on the plane.", "required": ["x"],
             "properties": {"x": {"type": "number"}, "y": {"type": "number", "default": 0.0},
                            "tags": {"type": "array", "items": {"type": "string"}}},
             "additionalProperties": False}),
])
def test_schema_for_type(annotation, schema):
    assert schema_for_type(annotation) == schema


def test_recursive_types_use_defs():
    node = {"type": "object", "title": "Node", "required": ["name"], "additionalProperties": False,
            "properties": {"name": {"type": "string"},
                           "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}
    assert schema_for_type(Node) == dict(node, **{"$defs": {"Node": node}})
    check = compile_schema(schema_for_type(Node))
    assert check({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}) is None
    assert check({"name": "a", "children": [{"name": "b", "children": [{"name": 3}]}]}) == \
        "'children[0].children[0].name': expected string, got integer 3"


@needs_annotated
def test_annotated_descriptions_and_constraints():
    assert schema_for_type(Annotated[int, "How many.", {"minimum": 1}]) == {
        "type": "integer", "description": "How many.", "minimum": 1}


@pytest.mark.skipif(sys.version_info < (3, 10), reason="X | Y needs Python 3.10")
def test_pep604_unions():
    annotation = eval("int | None")
    assert schema_for_type(annotation) == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


@pytest.mark.skipif(sys.version_info < (3, 9), reason="list[int] needs Python 3.9")
def test_builtin_generics():
    assert schema_for_type(eval("list[int]")) == {"type": "array", "items": {"type": "integer"}}
    assert schema_for_type(eval("dict[str, bool]")) == {"type": "object", "additionalProperties": {"type": "boolean"}}


def test_unsupported_annotation_names_the_parameter():
    class Opaque:
        pass

    def tool(ok: int, bad: Opaque) -> str:
        return ""
    with pytest.raises(TypeError) as info:
        Server("x").add_tool(tool)
    assert "parameter 'bad'" in str(info.value) and "Opaque" in str(info.value)

    def keyed(mapping: Dict[int, str]) -> str:
        return ""
    with pytest.raises(TypeError) as info:
        Server("x").add_tool(keyed)
    assert "parameter 'mapping'" in str(info.value) and "dict keys must be str" in str(info.value)


def test_unsupported_return_annotation_names_the_tool():
    class Opaque:
        pass

    def tool() -> Opaque:
        return Opaque()
    with pytest.raises(TypeError) as info:
        Server("x").add_tool(tool)
    assert "tool 'tool', return annotation" in str(info.value)


def test_describe_function_defaults_context_and_docstring_args():
    def search(query: str, ctx: Context, limit: int = 10, exact: Optional[bool] = None,
               since: int = None) -> list:  # type: ignore[assignment]
        """Search things.

        Args:
            query: what to look for
            limit (int): at most this many
                results, newest first
        """
        return []
    shape = describe_function(search, "tool", (Context,))
    assert shape.context_params == ["ctx"]
    assert shape.input_schema == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "what to look for"},
            "limit": {"type": "integer", "default": 10, "description": "at most this many results, newest first"},
            "exact": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": None},
            "since": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
        },
        "required": ["query"],
        "additionalProperties": False,
    }


def test_var_keyword_allows_extra_arguments():
    def anything(a: int, **rest: Any) -> dict:
        return dict(rest, a=a)
    app = Server("x")
    tool = app.add_tool(anything)
    assert "additionalProperties" not in tool.input_schema
    assert tool.invoke({"a": 1, "b": 2}, None) == {"a": 1, "b": 2}


def test_positional_only_and_methods():
    class Calculator:
        def __init__(self) -> None:
            self.offset = 100

        def shift(self, value: int) -> int:
            return value + self.offset
    app = Server("x")
    tool = app.add_tool(Calculator().shift)
    assert tool.input_schema["properties"] == {"value": {"type": "integer"}}
    assert tool.invoke({"value": 1}, None) == 101
    namespace = {}  # type: Dict[str, Any]
    if sys.version_info >= (3, 8):
        exec("def pos(a: int, /, b: int = 2) -> int:\n    return a * b", namespace)
        tool = app.add_tool(namespace["pos"])
        assert tool.invoke({"a": 3}, None) == 6
        assert tool.invoke({"a": 3, "b": 3}, None) == 9


def test_converters_build_the_annotated_values():
    assert converter_for(Color)("red") is Color.RED
    point = converter_for(Point)({"x": 1, "tags": ["a"]})
    assert point == Point(1, 0.0, ["a"])
    assert converter_for(List[Color])(["red", "green"]) == [Color.RED, Color.GREEN]
    assert converter_for(Optional[Color])(None) is None
    assert converter_for(Tuple[int, Color])([1.0, "red"]) == (1, Color.RED)
    assert converter_for(Set[str])(["a", "a"]) == {"a"}
    assert converter_for(Dict[str, Point])({"p": {"x": 2}}) == {"p": Point(2)}
    assert converter_for(int)(2.0) == 2 and isinstance(converter_for(int)(2.0), int)
    assert converter_for(str) is None and converter_for(List[str]) is None, "nothing to do: no converter"


def test_tool_receives_converted_arguments():
    app = Server("x")
    seen = {}

    @app.tool()
    def paint(color: Color, at: Point, level: Level = Level.LOW) -> str:
        seen.update(color=color, at=at, level=level)
        return "ok"
    tool = app.registry.tools["paint"]
    assert tool.input_schema["properties"]["level"]["default"] == 1
    assert tool.check_input({"color": "blue", "at": {"x": 1}}) == \
        "'color': \"blue\" is not one of [\"red\", \"green\"]"
    tool.invoke({"color": "green", "at": {"x": 1, "y": 2}, "level": 2}, None)
    assert seen == {"color": Color.GREEN, "at": Point(1, 2), "level": Level.HIGH}


def test_output_schemas():
    assert output_schema_for(str) == (None, False)
    assert output_schema_for(Optional[str]) == (None, False)
    assert output_schema_for(list) == (None, False)
    assert output_schema_for(dict) == (None, False)
    assert output_schema_for(int) == (
        {"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}, True)
    assert output_schema_for(Dict[str, int]) == ({"type": "object", "additionalProperties": {"type": "integer"}}, False)
    schema, wrap = output_schema_for(Movie)
    assert (schema["title"], wrap) == ("Movie", False)
    schema, wrap = output_schema_for(List[Node])
    assert wrap and schema["$defs"]["Node"]["title"] == "Node"
    assert schema["properties"]["result"] == {"type": "array", "items": {
        k: v for k, v in schema["$defs"]["Node"].items()}}
    assert compile_schema(schema)({"result": [{"name": "a", "children": [{"name": "b"}]}]}) is None


def test_structured_values_to_json():
    assert to_json({"p": Point(1), "c": Color.RED, "t": (1, 2), "s": frozenset([3])}) == {
        "p": {"x": 1, "y": 0.0, "tags": []}, "c": "red", "t": [1, 2], "s": [3]}


def test_doc_param_descriptions():
    doc = "Do it.\n\nArgs:\n    a: first\n    b (int): second\n        continued\n\nReturns:\n    nothing"
    assert doc_param_descriptions(doc) == {"a": "first", "b": "second continued"}
    assert doc_param_descriptions("No sections here.") == {}


# -- the validator ------------------------------------------------------------

@pytest.mark.parametrize("schema, value, error", [
    ({"type": "integer"}, 1, None),
    ({"type": "integer"}, 1.0, None),
    ({"type": "integer"}, 1.5, "the value: expected integer, got number 1.5"),
    ({"type": "integer"}, True, "the value: expected integer, got boolean true"),
    ({"type": "number"}, False, "the value: expected number, got boolean false"),
    ({"type": ["string", "null"]}, None, None),
    ({"type": ["string", "null"]}, 3, "the value: expected string or null, got integer 3"),
    ({"enum": [1, "a"]}, True, "the value: true is not one of [1, \"a\"]"),
    ({"enum": [1, "a"]}, 1.0, None),
    ({"const": "x"}, "y", "the value: expected \"x\", got \"y\""),
    ({"minimum": 0, "maximum": 10}, 11, "the value: 11 must be at most 10"),
    ({"exclusiveMinimum": 0}, 0, "the value: 0 must be greater than 0"),
    ({"multipleOf": 0.5}, 1.5, None),
    ({"multipleOf": 2}, 3, "the value: 3 is not a multiple of 2"),
    ({"minLength": 2}, "a", "the value: must be at least 2 characters long"),
    ({"maxLength": 2}, "abc", "the value: must be at most 2 characters long"),
    ({"pattern": "^[a-z]+$"}, "ab1", "the value: \"ab1\" does not match the pattern \"^[a-z]+$\""),
    ({"type": "array", "minItems": 1}, [], "the value: needs at least 1 items, got 0"),
    ({"type": "array", "maxItems": 1}, [1, 2], "the value: takes at most 1 items, got 2"),
    ({"uniqueItems": True}, [1, 1.0], "the value: items 0 and 1 are equal"),
    ({"uniqueItems": True}, [1, True], None),
    ({"items": {"type": "string"}}, ["a", 2], "'[1]': expected string, got integer 2"),
    ({"prefixItems": [{"type": "integer"}], "items": False}, [1, 2], "'[1]' is not allowed"),
    ({"required": ["a"]}, {}, "'a': required property missing"),
    ({"properties": {"a": {"type": "object", "properties": {"b": {"type": "integer"}}}}},
     {"a": {"b": "x"}}, "'a.b': expected integer, got string \"x\""),
    ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2}, "'b': unexpected property"),
    ({"additionalProperties": {"type": "integer"}}, {"a": "x"}, "'a': expected integer, got string \"x\""),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"x-a": "s"}, None),
    ({"minProperties": 1}, {}, "the value: needs at least 1 properties"),
    ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 1, None),
    ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, 1,
     "the value: matches 2 alternatives, expected exactly one"),
    ({"allOf": [{"type": "integer"}, {"minimum": 5}]}, 4, "the value: 4 must be at least 5"),
    ({"not": {"type": "string"}}, "s", "the value: must not match the schema in 'not'"),
    ({"$defs": {"pos": {"type": "integer", "minimum": 1}}, "$ref": "#/$defs/pos"}, 0,
     "the value: 0 must be at least 1"),
    ({"definitions": {"a": {"type": "string"}}, "items": {"$ref": "#/definitions/a"}}, ["x", 1],
     "'[1]': expected string, got integer 1"),
    (True, {"anything": 1}, None),
    (False, 1, "the value is not allowed"),
    ({"type": "string", "format": "email", "x-custom": 1}, "not-checked", None),
])
def test_validator(schema, value, error):
    assert compile_schema(schema)(value) == error


def test_validator_refuses_remote_refs_and_bad_schemas():
    with pytest.raises(ValueError):
        compile_schema({"$ref": "https://example.com/schema.json"})
    with pytest.raises(ValueError):
        compile_schema({"properties": {"a": "not a schema"}})
    deep = {}  # type: Dict[str, Any]
    node = deep
    for _ in range(100):
        node["items"] = {}
        node = node["items"]
    with pytest.raises(ValueError):
        compile_schema(deep)


def test_validator_recursive_ref_terminates():
    schema = {"$defs": {"t": {"type": "object", "properties": {"next": {"$ref": "#/$defs/t"}}}}, "$ref": "#/$defs/t"}
    check = compile_schema(schema)
    value = {"next": {"next": {"next": {}}}}
    assert check(value) is None
    assert check({"next": {"next": 3}}) == "'next.next': expected object, got integer 3"


# --- annotations as strings: `from __future__ import annotations` and 3.14's lazy ones -----------

ANNOTATED_MODULE = '''
import enum
from dataclasses import dataclass
from typing import Dict, List, Literal, Optional, TypedDict, Union

from mcplite import Context, Server

class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"

class Spot(TypedDict):
    x: int
    label: Optional[str]

@dataclass
class Area:
    corner: Spot
    tags: List[str]
    shade: Shade = Shade.LIGHT

app = Server("annotations")

@app.tool()
def place(area: Area, spots: List[Spot], ctx: Context, mode: Literal["a", "b"] = "a",
          weights: Optional[Dict[str, float]] = None, pick: Union[int, str] = 0) -> List[Spot]:
    """Place an area."""
    return spots

@app.prompt()
def describe(area_name: str, detail: Optional[str] = None) -> str:
    return area_name

@app.resource("spots://{name}")
def spot(name: str) -> Spot:
    return {"x": 1, "label": name}
'''


def import_source(tmp_path, monkeypatch, name, source):
    (tmp_path / (name + ".py")).write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    return importlib.import_module(name)


def test_future_annotations_give_the_same_schemas(tmp_path, monkeypatch):
    from mcplite import Client

    plain = import_source(tmp_path, monkeypatch, "plain_annotations", ANNOTATED_MODULE)
    future = import_source(tmp_path, monkeypatch, "future_annotations",
                           "from __future__ import annotations\n" + ANNOTATED_MODULE)
    seen = []
    for module in (plain, future):
        with Client(module.app) as client:
            tools = client.list_tools()
            result = client.call_tool("place", {"area": {"corner": {"x": 1, "label": None}, "tags": ["t"]},
                                                "spots": [{"x": 2, "label": "s"}], "mode": "b"})
            seen.append((tools, client.list_prompts(), client.list_resource_templates(), result["structuredContent"]))
    assert seen[0] == seen[1]
    tool = seen[0][0][0]
    assert tool["inputSchema"]["properties"]["area"]["properties"]["shade"]["enum"] == ["light", "dark"]
    assert tool["inputSchema"]["properties"]["mode"] == {"type": "string", "enum": ["a", "b"], "default": "a"}
    assert "ctx" not in tool["inputSchema"]["properties"]
    assert seen[0][3] == {"result": [{"x": 2, "label": "s"}]}


def test_string_annotations_resolve_module_names_defined_before_registration():
    def make(item: "Point", count: "Optional[int]" = None) -> "List[Point]":
        return [item]
    shape = describe_function(make, "tool")
    assert shape.input_schema["properties"]["item"] == schema_for_type(Point)
    assert shape.input_schema["properties"]["count"] == {"anyOf": [{"type": "integer"}, {"type": "null"}],
                                                         "default": None}


FORWARD_MODULE = '''
from typing import TypedDict
from mcplite import Server

app = Server("forward")

@app.tool()
def make(p: Point) -> str:
    return "x"

class Point(TypedDict):
    x: int
'''


def test_a_forward_reference_to_a_later_name_is_a_clear_error_under_future_annotations(tmp_path, monkeypatch):
    with pytest.raises(TypeError) as info:
        import_source(tmp_path, monkeypatch, "forward_future", "from __future__ import annotations\n" + FORWARD_MODULE)
    assert str(info.value) == ("tool 'make': cannot resolve its type annotations: name 'Point' is not defined "
                               "(define it before the tool is registered)")


def test_a_forward_reference_on_3_14_is_the_same_error(tmp_path, monkeypatch):
    # 3.14 evaluates annotations lazily, so the `def` itself no longer fails on a name defined
    # later; registration reads them at once, so the error is the one every Python gives under
    # `from __future__ import annotations`. Before 3.14 the `def` raises NameError itself.
    expected = TypeError if sys.version_info >= (3, 14) else NameError
    with pytest.raises(expected) as info:
        import_source(tmp_path, monkeypatch, "forward_plain", FORWARD_MODULE)
    assert "name 'Point' is not defined" in str(info.value)


def test_validators_are_compiled_on_first_call_but_a_written_schema_is_checked_at_once():
    app = Server("x")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b
    tool = app.registry.tools["add"]
    # Nothing compiled at registration: a server with thousands of tools pays for those called.
    # (A validator compiled is kept in the tool's own attribute, before the method that compiles.)
    assert "check_input" not in vars(tool) and "check_output" not in vars(tool)
    assert tool.check_input({"a": 1, "b": "2"}) == "'b': expected integer, got string \"2\""
    assert tool.check_input is tool.check_input  # compiled once
    assert tool.check_output({"result": 3}) is None and "check_output" in vars(tool)
    assert tool.check_output({"result": "3"}) == "'result': expected integer, got string \"3\""
    # A schema the caller wrote is compiled at registration: its mistake is an error now.
    with pytest.raises(Exception):
        app.add_tool(lambda x: x, name="bad", input_schema={"type": "object", "properties": {"x": 5}})
    assert "bad" not in app.registry.tools
    # Type checks are shared between schemas, so many tools do not mean many closures.
    from mcplite.schema import _type_check
    assert _type_check("integer") is _type_check("integer")
    assert _type_check(["string", "null"]) is _type_check(["string", "null"])
    assert _type_check(["string", "null"])(3, "") == "the value: expected string or null, got integer 3"
