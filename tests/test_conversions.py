"""Values of the standard library's common types (datetime, date, time, UUID, Decimal, paths,
enums) to and from JSON: what a tool returns becomes the JSON users expect and its output
schema says so; a parameter of such a type gets its schema and receives the Python object,
and a bad value is an invalid argument. Then ``Server(coerce_arguments=True)``: lossless
string conversions ("3", "true"), and the strict default naming it. Then the refusal of a
pydantic model, with what to use instead. Each through a real server, in both eras, every
message checked against the official schema (tests/wire.py)."""

import datetime
import decimal
import enum
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, NamedTuple, Optional, TypedDict, Union

import pytest

from mcplite import Server

LEGACY, MODERN = "2025-11-25", "2026-07-28"
ERAS = [LEGACY, MODERN]

UTC = datetime.timezone.utc
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
ID = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
DECIMAL_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
HINT = ' (a Server(coerce_arguments=True) accepts numeric strings and "true"/"false" for booleans)'


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def connect(wire_factory, app, era):
    """A function (method, params) -> the response message, in ``era``."""
    wire = wire_factory(app)
    if era == MODERN:
        return lambda method, params=None: wire.modern(method, params)
    wire.initialize(era)
    return lambda method, params=None: wire.request(method, params)


def call_tool(send, name, arguments=None):
    return send("tools/call", {"name": name, "arguments": arguments or {}})["result"]


def tool_entry(send, name):
    return {t["name"]: t for t in send("tools/list")["result"]["tools"]}[name]


# ---------------------------------------------------------------------------
# Return values

@dataclass
class Event:
    at: datetime.datetime
    local: datetime.datetime
    day: datetime.date
    clock: datetime.time
    id: uuid.UUID
    price: decimal.Decimal
    path: PurePosixPath
    color: Color
    level: Level


EVENT = Event(at=datetime.datetime(2025, 1, 31, 9, 30, tzinfo=UTC),
              local=datetime.datetime(2025, 1, 31, 9, 30, 0, 250000),
              day=datetime.date(2025, 1, 31), clock=datetime.time(9, 30, 15, tzinfo=IST), id=ID,
              price=decimal.Decimal("19.90"), path=PurePosixPath("/srv/data/report.csv"), color=Color.BLUE,
              level=Level.HIGH)
EVENT_JSON = {"at": "2025-01-31T09:30:00+00:00", "local": "2025-01-31T09:30:00.250000", "day": "2025-01-31",
              "clock": "09:30:15+05:30", "id": "123e4567-e89b-12d3-a456-426614174000", "price": "19.90",
              "path": "/srv/data/report.csv", "color": "blue", "level": 2}


def conversions_app(**options: Any) -> Server:
    app = Server("conversions", **options)

    @app.tool()
    def event() -> Event:
        return EVENT

    @app.tool()
    def moment() -> datetime.datetime:
        return datetime.datetime(2025, 1, 31, 9, 30, tzinfo=IST)

    @app.tool()
    def total() -> decimal.Decimal:
        return decimal.Decimal("0.1") + decimal.Decimal("0.2")

    @app.tool()
    def nan() -> decimal.Decimal:
        return decimal.Decimal("NaN")

    return app


@pytest.mark.parametrize("era", ERAS)
def test_a_returned_dataclass_of_stdlib_values_is_iso_strings_and_values(wire_factory, era):
    send = connect(wire_factory, conversions_app(), era)
    result = call_tool(send, "event")
    assert result["structuredContent"] == EVENT_JSON
    assert json.loads(result["content"][0]["text"]) == EVENT_JSON
    assert "isError" not in result


@pytest.mark.parametrize("era", ERAS)
def test_the_output_schema_names_the_formats(wire_factory, era):
    send = connect(wire_factory, conversions_app(), era)
    props = tool_entry(send, "event")["outputSchema"]["properties"]
    assert props == {
        "at": {"type": "string", "format": "date-time"},
        "local": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "clock": {"type": "string", "format": "time"},
        "id": {"type": "string", "format": "uuid"},
        # A Decimal goes out as a string only (every digit kept), so its output schema says
        # a string, unlike its input schema.
        "price": {"type": "string", "pattern": DECIMAL_PATTERN},
        "path": {"type": "string"},
        "color": {"type": "string", "enum": ["red", "blue"], "title": "Color"},
        "level": {"type": "integer", "enum": [1, 2], "title": "Level"},
    }


@pytest.mark.parametrize("era", ERAS)
def test_a_bare_stdlib_return_is_wrapped_as_result(wire_factory, era):
    send = connect(wire_factory, conversions_app(), era)
    assert tool_entry(send, "moment")["outputSchema"] == {
        "type": "object", "properties": {"result": {"type": "string", "format": "date-time"}},
        "required": ["result"]}
    result = call_tool(send, "moment")
    assert result["structuredContent"] == {"result": "2025-01-31T09:30:00+05:30"}
    assert result["content"] == [{"type": "text", "text": '"2025-01-31T09:30:00+05:30"'}]
    # 0.1 + 0.2 in decimal arithmetic is exactly 0.3: the digits reach the client.
    assert call_tool(send, "total")["structuredContent"] == {"result": "0.3"}


@pytest.mark.parametrize("era", ERAS)
def test_a_decimal_without_a_json_number_breaks_its_output_schema(wire_factory, era):
    # NaN has no decimal spelling: the output schema's pattern says so, and the tool's result
    # is an error naming it instead of a value the schema promised against.
    send = connect(wire_factory, conversions_app(), era)
    result = call_tool(send, "nan")
    assert result["isError"] is True
    assert result["content"][0]["text"].startswith(
        "Tool nan returned a result that does not match its output schema: 'result': \"NaN\" does not match")


class Stop(NamedTuple):
    id: uuid.UUID
    day: datetime.date


class Line(TypedDict):
    amount: decimal.Decimal
    when: datetime.date


@pytest.mark.parametrize("era", ERAS)
def test_conversion_reaches_nested_values_and_keys(wire_factory, era):
    app = Server("nested")

    @app.tool()
    def untyped() -> dict:  # no output schema: the value alone decides
        return {
            "days": [datetime.date(2025, 1, 1), datetime.date(2025, 1, 2)],
            "by_day": {datetime.date(2025, 1, 1): Color.RED},
            "by_id": {ID: Path("a") / "b.txt"},
            "by_color": {Color.BLUE: frozenset([decimal.Decimal("1.50")])},
            "stop": Stop(ID, datetime.date(2025, 3, 1)),
            "line": Line(amount=decimal.Decimal("2.500"), when=datetime.date(2025, 3, 2)),
            "events": (EVENT,),
        }

    @app.tool()
    def lines() -> List[Line]:
        return [Line(amount=decimal.Decimal("1E+3"), when=datetime.date(2025, 12, 31))]

    send = connect(wire_factory, app, era)
    expected = {
        "days": ["2025-01-01", "2025-01-02"],
        "by_day": {"2025-01-01": "red"},
        "by_id": {"123e4567-e89b-12d3-a456-426614174000": str(Path("a") / "b.txt")},
        "by_color": {"blue": ["1.50"]},
        "stop": ["123e4567-e89b-12d3-a456-426614174000", "2025-03-01"],
        "line": {"amount": "2.500", "when": "2025-03-02"},
        "events": [EVENT_JSON],
    }
    result = call_tool(send, "untyped")
    assert result["structuredContent"] == expected
    assert json.loads(result["content"][0]["text"]) == expected
    typed = call_tool(send, "lines")
    assert typed["structuredContent"] == {"result": [{"amount": "1E+3", "when": "2025-12-31"}]}
    assert tool_entry(send, "lines")["outputSchema"]["properties"]["result"]["items"]["properties"] == {
        "amount": {"type": "string", "pattern": DECIMAL_PATTERN}, "when": {"type": "string", "format": "date"}}


@pytest.mark.parametrize("era", ERAS)
def test_a_resource_returning_stdlib_values_reads_as_json(wire_factory, era):
    app = Server("res")

    @app.resource("data://today")
    def today() -> dict:
        return {"day": datetime.date(2025, 5, 1), "total": decimal.Decimal("7.10")}

    send = connect(wire_factory, app, era)
    contents = send("resources/read", {"uri": "data://today"})["result"]["contents"]
    assert contents == [{"uri": "data://today", "mimeType": "application/json",
                         "text": '{"day": "2025-05-01", "total": "7.10"}'}]


# ---------------------------------------------------------------------------
# Parameters

def parameters_app(**options: Any) -> Server:
    app = Server("params", **options)
    app.seen = []  # type: ignore[attr-defined]

    @app.tool()
    def book(when: datetime.datetime, day: datetime.date, clock: datetime.time, id: uuid.UUID,
             price: decimal.Decimal, path: Path, color: Color, level: Level) -> str:
        app.seen.append((when, day, clock, id, price, path, color, level))  # type: ignore[attr-defined]
        return "ok"

    @app.tool()
    def schedule(days: List[datetime.date], ids: Optional[Dict[str, uuid.UUID]] = None) -> str:
        app.seen.append((days, ids))  # type: ignore[attr-defined]
        return "ok"

    @app.tool()
    def defaults(since: datetime.date = datetime.date(2025, 1, 1), fee: decimal.Decimal = decimal.Decimal("0.50"),
                 color: Color = Color.RED, root: PurePosixPath = PurePosixPath("/srv")) -> str:
        app.seen.append((since, fee, color, root))  # type: ignore[attr-defined]
        return "ok"

    @app.tool()
    def when(at: datetime.datetime) -> datetime.datetime:
        app.seen.append(at)  # type: ignore[attr-defined]
        return at

    @app.tool()
    def price(amount: decimal.Decimal) -> decimal.Decimal:
        app.seen.append(amount)  # type: ignore[attr-defined]
        return amount

    return app


GOOD_BOOKING = {"when": "2025-01-31T09:30:00Z", "day": "2025-01-31", "clock": "09:30:15+05:30",
                "id": "123e4567-e89b-12d3-a456-426614174000", "price": "19.90", "path": "/srv/x.csv",
                "color": "blue", "level": 2}


@pytest.mark.parametrize("era", ERAS)
def test_stdlib_parameters_have_their_schema(wire_factory, era):
    send = connect(wire_factory, parameters_app(), era)
    props = tool_entry(send, "book")["inputSchema"]["properties"]
    assert props == {
        "when": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "clock": {"type": "string", "format": "time"},
        "id": {"type": "string", "format": "uuid"},
        # Coming in, a Decimal may be a number too (models write prices as numbers).
        "price": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_PATTERN}]},
        "path": {"type": "string"},
        "color": {"type": "string", "enum": ["red", "blue"], "title": "Color"},
        "level": {"type": "integer", "enum": [1, 2], "title": "Level"},
    }
    defaults = tool_entry(send, "defaults")["inputSchema"]["properties"]
    assert [defaults[name].get("default") for name in ("since", "fee", "color", "root")] == [
        "2025-01-01", "0.50", "red", "/srv"]


@pytest.mark.parametrize("era", ERAS)
def test_stdlib_parameters_receive_python_objects(wire_factory, era):
    app = parameters_app()
    send = connect(wire_factory, app, era)
    assert call_tool(send, "book", GOOD_BOOKING)["content"] == [{"type": "text", "text": "ok"}]
    assert app.seen == [(datetime.datetime(2025, 1, 31, 9, 30, tzinfo=UTC), datetime.date(2025, 1, 31),
                         datetime.time(9, 30, 15, tzinfo=IST), ID, decimal.Decimal("19.90"), Path("/srv/x.csv"),
                         Color.BLUE, Level.HIGH)]
    when, day, clock, id_, price, path, color, level = app.seen[0]
    assert (type(when), type(day), type(clock), type(id_), type(price), type(color), type(level)) == (
        datetime.datetime, datetime.date, datetime.time, uuid.UUID, decimal.Decimal, Color, Level)
    assert isinstance(path, Path)
    assert str(price) == "19.90"  # the digits as sent, trailing zero included


@pytest.mark.parametrize("era", ERAS)
def test_nested_and_default_parameters_are_converted(wire_factory, era):
    app = parameters_app()
    send = connect(wire_factory, app, era)
    call_tool(send, "schedule", {"days": ["2025-01-01", "2025-02-01"], "ids": {"a": str(ID)}})
    call_tool(send, "schedule", {"days": [], "ids": None})
    call_tool(send, "defaults")
    call_tool(send, "defaults", {"since": "2024-12-31", "fee": 2, "color": "blue", "root": "/tmp"})
    assert app.seen == [
        ([datetime.date(2025, 1, 1), datetime.date(2025, 2, 1)], {"a": ID}),
        ([], None),
        (datetime.date(2025, 1, 1), decimal.Decimal("0.50"), Color.RED, PurePosixPath("/srv")),
        (datetime.date(2024, 12, 31), decimal.Decimal(2), Color.BLUE, PurePosixPath("/tmp")),
    ]


# Python 3.8-3.10's datetime.fromisoformat reads neither "Z" nor 9 fraction digits; these
# are read alike on every version.
@pytest.mark.parametrize("text,expected", [
    ("2025-01-31T09:30:00Z", datetime.datetime(2025, 1, 31, 9, 30, tzinfo=UTC)),
    ("2025-01-31t09:30:00z", datetime.datetime(2025, 1, 31, 9, 30, tzinfo=UTC)),
    ("2025-01-31T09:30:00.5Z", datetime.datetime(2025, 1, 31, 9, 30, 0, 500000, tzinfo=UTC)),
    ("2025-01-31T09:30:00.123456789+05:30", datetime.datetime(2025, 1, 31, 9, 30, 0, 123456, tzinfo=IST)),
    ("2025-01-31T09:30:00+0530", datetime.datetime(2025, 1, 31, 9, 30, tzinfo=IST)),
    ("2025-01-31 09:30", datetime.datetime(2025, 1, 31, 9, 30)),
    ("2025-01-31", datetime.datetime(2025, 1, 31)),
])
@pytest.mark.parametrize("era", ERAS)
def test_iso_8601_forms_are_read_on_every_python(wire_factory, era, text, expected):
    app = parameters_app()
    send = connect(wire_factory, app, era)
    result = call_tool(send, "when", {"at": text})
    assert app.seen == [expected]
    assert app.seen[0].utcoffset() == expected.utcoffset()  # equal datetimes may differ in offset
    assert result["structuredContent"] == {"result": expected.isoformat()}


@pytest.mark.parametrize("era", ERAS)
def test_decimal_arguments_keep_their_digits(wire_factory, era):
    app = parameters_app()
    send = connect(wire_factory, app, era)
    sent = ["1.10", "12345678901234567890.123456789", 0.1, 3, "-2E+3"]
    for amount in sent:
        assert "isError" not in call_tool(send, "price", {"amount": amount})
    # A number is read as the decimal its shortest repr spells: 0.1, not 0.1000000000000000055...
    assert [str(d) for d in app.seen] == ["1.10", "12345678901234567890.123456789", "0.1", "3", "-2E+3"]


@pytest.mark.parametrize("tool,arguments,message", [
    ("when", {"at": "yesterday"},
     "'at': expected an ISO 8601 date-time (2025-01-31T09:30:00Z), got \"yesterday\""),
    ("when", {"at": "2025-02-30T10:00:00Z"},
     "'at': \"2025-02-30T10:00:00Z\" is not an ISO 8601 date-time (2025-01-31T09:30:00Z): "),  # then Python's reason
    ("book", dict(GOOD_BOOKING, day="2025-01-31T00:00:00"),
     "'day': expected an ISO 8601 date (2025-01-31), got \"2025-01-31T00:00:00\""),
    ("book", dict(GOOD_BOOKING, clock="25:00"), "'clock': \"25:00\" is not an ISO 8601 time (09:30:00): hour must be"),
    ("book", dict(GOOD_BOOKING, id="not-a-uuid"),
     "'id': expected a UUID (123e4567-e89b-12d3-a456-426614174000), got \"not-a-uuid\""),
    ("schedule", {"days": ["2025-01-01", "soon"]}, "'days': expected an ISO 8601 date (2025-01-31), got \"soon\""),
    # The schema's pattern refuses these before any conversion.
    ("price", {"amount": "1,50"}, "'amount' does not match any allowed alternative"),
    ("price", {"amount": "NaN"}, "'amount' does not match any allowed alternative"),
])
@pytest.mark.parametrize("era", ERAS)
def test_a_bad_stdlib_value_is_an_invalid_argument(wire_factory, era, tool, arguments, message):
    app = parameters_app()
    send = connect(wire_factory, app, era)
    result = call_tool(send, tool, arguments)
    assert result["isError"] is True
    assert result["content"][0]["text"].startswith("Invalid arguments for tool %s: %s" % (tool, message)), \
        result["content"][0]["text"]
    assert app.seen == []  # the function never ran


@pytest.mark.parametrize("era", ERAS)
def test_prompt_and_template_arguments_are_converted_too(wire_factory, era):
    app = Server("prompts")
    seen = []

    @app.prompt()
    def plan(day: datetime.date) -> str:
        seen.append(day)
        return "Plan %s, a %s" % (day.isoformat(), day.strftime("%A"))

    @app.resource("orders://{id}")
    def order(id: uuid.UUID) -> str:
        seen.append(id)
        return "order %s" % id.hex

    send = connect(wire_factory, app, era)
    got = send("prompts/get", {"name": "plan", "arguments": {"day": "2025-01-31"}})["result"]
    assert got["messages"][0]["content"]["text"] == "Plan 2025-01-31, a Friday"
    read = send("resources/read", {"uri": "orders://%s" % ID})["result"]
    assert read["contents"][0]["text"] == "order %s" % ID.hex
    assert seen == [datetime.date(2025, 1, 31), ID]
    bad = send("prompts/get", {"name": "plan", "arguments": {"day": "Friday"}})
    assert bad["error"] == {"code": -32602, "message": "Invalid arguments for prompt plan: 'day': expected an ISO "
                                                       "8601 date (2025-01-31), got \"Friday\""}
    bad = send("resources/read", {"uri": "orders://nope"})
    assert bad["error"]["code"] == -32602
    assert bad["error"]["message"].startswith("Invalid arguments for resource orders://nope: 'id': expected a UUID")


def test_stdlib_modules_are_imported_only_by_their_users():
    # mcplite looks the classes up in sys.modules: a server whose code never imports decimal,
    # uuid, datetime or pathlib does not load them, whatever its calls return or send.
    code = """
import sys
from mcplite import Client, Server
app = Server("lazy", coerce_arguments=True)

@app.tool()
def plain(a: int, flag: bool = False) -> dict:
    return {"a": [a], "flag": flag}

with Client(app) as client:
    client.call_tool("plain", {"a": "1", "flag": "true"})
    client.call_tool("plain", {"a": "x"})
    print(sorted(m for m in ("datetime", "decimal", "uuid", "pathlib") if m in sys.modules))
"""
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().strip() == "[]"


# ---------------------------------------------------------------------------
# coerce_arguments

@dataclass
class Item:
    qty: int
    weight: float
    fragile: bool = False


def coercion_app(**options: Any) -> Server:
    app = Server("coerce", **options)
    app.seen = []  # type: ignore[attr-defined]

    @app.tool()
    def order(count: int, ratio: float = 1.0, urgent: bool = False, note: str = "",
              maybe: Optional[int] = None, either: Union[int, str] = 0) -> str:
        app.seen.append((count, ratio, urgent, note, maybe, either))  # type: ignore[attr-defined]
        return "ok"

    @app.tool()
    def pack(items: List[Item], sizes: Optional[Dict[str, int]] = None, level: Level = Level.LOW) -> str:
        app.seen.append((items, sizes, level))  # type: ignore[attr-defined]
        return "ok"

    return app


@pytest.mark.parametrize("era", ERAS)
def test_strict_by_default_and_the_refusal_names_the_option(wire_factory, era):
    app = coercion_app()
    send = connect(wire_factory, app, era)
    refused = call_tool(send, "order", {"count": "3"})
    assert (refused["isError"], refused["content"]) == (True, [{"type": "text", "text": (
        "Invalid arguments for tool order: 'count': expected integer, got string \"3\"" + HINT)}])
    flagged = call_tool(send, "order", {"count": 3, "urgent": "true"})
    assert flagged["content"][0]["text"] == (
        "Invalid arguments for tool order: 'urgent': expected boolean, got string \"true\"" + HINT)
    nested = call_tool(send, "pack", {"items": [{"qty": "2", "weight": 1.5}]})
    assert nested["content"][0]["text"] == (
        "Invalid arguments for tool pack: 'items[0].qty': expected integer, got string \"2\"" + HINT)
    # No hint where the option would not help: a string no conversion fixes, or a call that
    # would still be wrong after it.
    for arguments in ({"count": "3.5"}, {"count": "three"}, {"count": "3", "ratio": "fast"}):
        text = call_tool(send, "order", arguments)["content"][0]["text"]
        assert "coerce_arguments" not in text, text
    assert app.seen == []


@pytest.mark.parametrize("era", ERAS)
def test_coerce_arguments_converts_exact_spellings(wire_factory, era):
    app = coercion_app(coerce_arguments=True)
    send = connect(wire_factory, app, era)
    for arguments in ({"count": "3", "ratio": "-2.5", "urgent": "true", "note": "42", "maybe": "7", "either": "5"},
                      {"count": "3.0", "ratio": "1e3", "urgent": "false", "maybe": None},
                      {"count": "-0", "ratio": "12345678901234567890"}):
        assert call_tool(send, "order", arguments)["content"] == [{"type": "text", "text": "ok"}], arguments
    assert app.seen == [
        # A str parameter keeps "42", and Union[int, str] keeps "5": a string is what they take.
        (3, -2.5, True, "42", 7, "5"),
        (3, 1000.0, False, "", None, 0),
        (0, 12345678901234567890, False, "", None, 0),
    ]
    assert [type(v) for v in app.seen[0][:3]] == [int, float, bool]
    assert type(app.seen[1][0]) is int and type(app.seen[2][1]) is int


@pytest.mark.parametrize("era", ERAS)
def test_coercion_reaches_nested_arguments(wire_factory, era):
    app = coercion_app(coerce_arguments=True)
    send = connect(wire_factory, app, era)
    result = call_tool(send, "pack", {"items": [{"qty": "2", "weight": "0.5", "fragile": "true"},
                                                {"qty": 1, "weight": 2}],
                                      "sizes": {"s": "1", "m": 2}, "level": "2"})
    assert result["content"] == [{"type": "text", "text": "ok"}]
    assert app.seen == [([Item(2, 0.5, True), Item(1, 2, False)], {"s": 1, "m": 2}, Level.HIGH)]


@pytest.mark.parametrize("arguments,message", [
    ({"count": "3.5"}, "'count': expected integer, got string \"3.5\""),  # not an integer: no rounding
    ({"count": "3e2"}, "'count': expected integer, got string \"3e2\""),
    ({"count": " 3"}, "'count': expected integer, got string \" 3\""),
    ({"count": "+3"}, "'count': expected integer, got string \"+3\""),
    ({"count": "03"}, "'count': expected integer, got string \"03\""),
    ({"count": "1_000"}, "'count': expected integer, got string \"1_000\""),
    ({"count": "0x10"}, "'count': expected integer, got string \"0x10\""),
    ({"count": "\u0663"}, "'count': expected integer, got string \"\u0663\""),
    ({"count": True}, "'count': expected integer, got boolean true"),  # never bool <-> number
    ({"count": "true"}, "'count': expected integer, got string \"true\""),
    ({"count": 1, "urgent": "1"}, "'urgent': expected boolean, got string \"1\""),
    ({"count": 1, "urgent": 1}, "'urgent': expected boolean, got integer 1"),
    ({"count": 1, "urgent": "True"}, "'urgent': expected boolean, got string \"True\""),
    ({"count": 1, "ratio": "1e400"}, "'ratio': expected number, got string \"1e400\""),  # no float holds it
    ({"count": 1, "ratio": "1e-400"}, "'ratio': expected number, got string \"1e-400\""),  # would read as 0
    ({"count": 1, "ratio": "NaN"}, "'ratio': expected number, got string \"NaN\""),
    ({"count": 1, "ratio": "Infinity"}, "'ratio': expected number, got string \"Infinity\""),
    ({"count": "9" * 4301}, "'count': expected integer, got string \"99999"),
    # What a conversion cannot fix is reported after it, not the string it did convert.
    ({"count": "3", "ratio": "fast"}, "'ratio': expected number, got string \"fast\""),
])
@pytest.mark.parametrize("era", ERAS)
def test_coerce_arguments_refuses_what_is_not_lossless(wire_factory, era, arguments, message):
    app = coercion_app(coerce_arguments=True)
    send = connect(wire_factory, app, era)
    result = call_tool(send, "order", arguments)
    assert result["isError"] is True
    text = result["content"][0]["text"]
    assert text.startswith("Invalid arguments for tool order: " + message), text
    assert "coerce_arguments" not in text  # the option is on: no hint
    assert app.seen == []


# ---------------------------------------------------------------------------
# pydantic models: refused, saying what to use instead

class FakeModel:
    """What mcplite can see of a pydantic v2 model without importing pydantic."""
    model_fields = {"name": None}

    @classmethod
    def model_json_schema(cls) -> Dict[str, Any]:
        return {"type": "object", "properties": {"name": {"type": "string"}}}


class FakeV1Model:
    __fields__ = {"name": None}

    @classmethod
    def parse_obj(cls, obj: Any) -> "FakeV1Model":
        return cls()


@pytest.mark.parametrize("model", [FakeModel, FakeV1Model])
def test_a_pydantic_model_parameter_is_refused_with_what_to_use_instead(model):
    name = model.__name__

    def direct(user: model) -> str:  # type: ignore[valid-type]
        return ""

    def nested(users: List[model]) -> str:  # type: ignore[valid-type]
        return ""

    for fn, param in ((direct, "user"), (nested, "users")):
        with pytest.raises(TypeError) as info:
            Server("x").add_tool(fn)
        message = str(info.value)
        assert message.startswith("tool %r, parameter %r: %s is a pydantic model" % (fn.__name__, param, name))
        assert "use a dataclass or a TypedDict with the same fields, or annotate it as dict" in message

    def returns() -> model:  # type: ignore[valid-type]
        return model()
    with pytest.raises(TypeError) as info:
        Server("x").add_tool(returns)
    assert str(info.value).startswith("tool 'returns', return annotation: %s is a pydantic model" % name)


def test_a_class_without_pydantic_attributes_keeps_the_plain_refusal():
    class Opaque:
        fields = {"name": None}

    def tool(thing: Opaque) -> str:
        return ""
    with pytest.raises(TypeError) as info:
        Server("x").add_tool(tool)
    assert "unsupported type annotation" in str(info.value) and "is a pydantic model" not in str(info.value)

