"""The fuzz cases of ``bench/abuse.py``: generated messages, and the rule for which must be answered.

Standard library only, no I/O, deterministic: ``Generator(seed, lane, transport)`` yields the
same cases for the same arguments on every Python from 3.8 on (``random.Random`` seeded with
a string hashes it with SHA-512, whatever ``PYTHONHASHSEED`` says).

Each case is bytes (one stdio line, or one HTTP body) with the ids the generator planted in
it. Whether a reply is *owed* is not decided by how a case was made but by ``verdict()``,
which reads the bytes the way a strict JSON-RPC 2.0 peer must (see there): a mutation that
happens to leave a valid request behind is then still owed its answer, and one that breaks
the envelope is not.

Categories (every lane draws from all of them): random bytes, truncation, invalid UTF-8,
lone surrogates, nesting depth, huge numbers and strings, NaN/Infinity, wrong id types
(and valid but awkward ids), batches, wrong parameter types for every method, mutated
valid requests (envelope and text mutations), notifications, client responses, and plain
valid requests of every method.
"""
import json
import random
from typing import Any, Tuple

LEGACY_VERSION = "2025-11-25"
BATCH_VERSION = "2025-03-26"  # the one version with JSON-RPC batches
MODERN_VERSION = "2026-07-28"
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
META_INFO = "io.modelcontextprotocol/clientInfo"

# What "usable id" means here. JSON-RPC 2.0: a Request's id is "a String, Number, or NULL
# value", numbers "SHOULD NOT contain fractional parts", and a server "MUST reply with the same
# value". MCP narrows it to a string or an integer, never null. So an id is usable when it is a
# JSON string (any string: empty, NUL, lone surrogates written as \ud800 escapes - they are
# valid JSON strings) or a JSON integer with no fraction or exponent. Integers are owed an
# answer only within +-(2**53 - 1): I-JSON (RFC 7493) limits interoperable integers to that
# range, and a peer whose numbers are doubles cannot echo a larger one exactly; larger ones may
# be answered (at most once) but need not be. true/false, null, fractions (1.5, and 1.0 or 1e3,
# which most parsers read as floats), arrays and objects are not ids: such a request is owed
# nothing but an error naming id null.
MAX_SAFE_INT = 2 ** 53 - 1
# A parser may limit nesting (RFC 8259 section 9): a message nested deeper than this may be
# refused as unreadable, and then its id cannot be read. 64 is five times MCP's deepest real
# messages (a JSON Schema inside a tool inside a list) and half mcplite's own limit (128).
REQUIRED_DEPTH = 64
# Both servers accept messages of at least 4 MiB; anything up to 1 MiB must be answered.
REQUIRED_BYTES = 1 << 20
# Python 3.11+ refuses to convert integers of more than 4,300 digits (CVE-2020-10735); whether
# such a number is readable depends on the interpreter, so a message holding one is owed nothing.
MAX_INT_DIGITS = 4300

# Ids from these ranges are never planted as case ids: cancellations and barriers use them,
# so a fuzzed notifications/cancelled can never cancel a case still in flight.
RESERVED_INT_LOW = 8 * 10 ** 15
RESERVED_INT_HIGH = 9 * 10 ** 15


class Lane:
    """A connection state a case is sent in: the protocol version of its session (legacy),
    or 2026-07-28 without a session (modern); only a 2025-03-26 session takes batches."""

    def __init__(self, name, version, modern, batches):
        self.name = name
        self.version = version
        self.modern = modern
        self.batches = batches


LANES = {
    "legacy": Lane("legacy", LEGACY_VERSION, False, False),
    "batch": Lane("batch", BATCH_VERSION, False, True),
    "modern": Lane("modern", MODERN_VERSION, True, False),
}


def id_key(value):
    """The key a reply's id is matched by, or None for what is not a usable id (see above).
    Python's json gives bool for true/false, so bool is checked before int."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return ("i", value)
    if isinstance(value, str):
        return ("s", value)
    return None


# ---------------------------------------------------------------------------- the verdict

class _DupDict(dict):
    """An object that had a key twice: JSON leaves the meaning open ("names SHOULD be
    unique"), so an envelope like that is owed nothing definite."""


def _pairs(pairs):
    seen = {}
    dup = False
    for key, value in pairs:
        if key in seen:
            dup = True
        seen[key] = value
    return _DupDict(seen) if dup else seen


def _refuse_constant(name):
    raise ValueError("%s is not JSON" % name)


def _parse_int(text):
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer of more than %d digits" % MAX_INT_DIGITS)
    return int(text)


_strict = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_refuse_constant, parse_int=_parse_int)


def _depth(value):
    """How deep arrays and objects nest in ``value``, level by level (no recursion)."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        below = []
        for item in level:
            for child in (item.values() if isinstance(item, dict) else item):
                if isinstance(child, (dict, list)):
                    below.append(child)
        level = below
    return depth


# Deeper than this, a text counts as unreadable here, whatever the interpreter: Python's json
# recurses per level and gives up near 1,000 levels up to 3.12, later versions go further, and
# the verdict must not depend on which one runs the suite.
PARSE_DEPTH = 500


def _text_depth(text):
    """How deep brackets nest in a JSON text, strings skipped (a scan, no parse)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def strict_parse(data):
    """``data`` parsed as a strict peer must (UTF-8, no BOM, RFC 8259 JSON without NaN or
    Infinity), or raise ValueError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8")
    if text.count("[") + text.count("{") > PARSE_DEPTH and _text_depth(text) > PARSE_DEPTH:
        raise ValueError("nested deeper than %d levels" % PARSE_DEPTH)
    try:
        return _strict.decode(text)
    except RecursionError:
        raise ValueError("too deep for this parser")


def _request_id(message, safe_only=True):
    """The usable id of ``message`` if it is a valid JSON-RPC 2.0 request, else None."""
    if not isinstance(message, dict) or isinstance(message, _DupDict):
        return None
    if message.get("jsonrpc") != "2.0" or not isinstance(message.get("jsonrpc"), str):
        return None
    method = message.get("method")
    if not isinstance(method, str) or not method:
        return None
    if "result" in message or "error" in message or "id" not in message:
        return None
    # JSON-RPC allows params by name (object) or by position (array); anything else breaks
    # the envelope.
    if "params" in message and not isinstance(message["params"], (dict, list)):
        return None
    key = id_key(message["id"])
    if key is None:
        return None
    if safe_only and key[0] == "i" and abs(key[1]) > MAX_SAFE_INT:
        return None
    return key


def verdict(data, lane, http_headers_consistent=True):
    """(ids owed exactly one answer, ids that may be answered at most once) for one message
    (a stdio line or an HTTP body) sent in ``lane``.

    Owed: a valid JSON-RPC request (``_request_id``) whose id is usable, in a message that a
    strict parser reads (``strict_parse``), no larger than ``REQUIRED_BYTES`` and no deeper
    than ``REQUIRED_DEPTH``; in a batch, only in a lane that takes batches (elsewhere the batch
    as a whole is refused, which the spec allows: batches exist only in 2025-03-26), never a
    ``subscriptions/listen`` (its answer comes when the subscription ends), and over HTTP in
    2026-07-28 only when the headers agree with the body (else the server refuses the POST,
    and may or may not name the id). Every other id the message might carry may be answered
    at most once; the caller counts replies to the ids it planted against both lists.
    """
    try:
        message = strict_parse(data)
    except ValueError:
        return [], []
    owed = []
    maybe = []
    fits = len(data) <= REQUIRED_BYTES and _depth(message) <= REQUIRED_DEPTH
    items = message if isinstance(message, list) else [message]
    in_batch = isinstance(message, list)
    for item in items:
        key = _request_id(item, safe_only=False)
        if key is None:
            if isinstance(item, dict) and not isinstance(item, _DupDict):
                other = id_key(item.get("id"))
                if other is not None:
                    maybe.append(other)
            continue
        required = (fits and (not in_batch or lane.batches) and http_headers_consistent
                    and item.get("method") != "subscriptions/listen"
                    and not (key[0] == "i" and abs(key[1]) > MAX_SAFE_INT))
        (owed if required else maybe).append(key)
    return owed, maybe


# ---------------------------------------------------------------------------- generation

CATEGORIES = (
    # (name, weight)
    ("random bytes", 6),
    ("truncation", 7),
    ("invalid UTF-8", 6),
    ("lone surrogates", 6),
    ("nesting depth", 6),
    ("huge numbers", 5),
    ("huge strings", 4),
    ("NaN/Infinity", 4),
    ("wrong id type", 10),
    ("batch", 8),
    ("wrong param types", 16),
    ("mutated request", 16),
    ("notification", 4),
    ("client response", 3),
    ("valid request", 6),
)

# Every method a client might send, served or not (wrong parameter types go to each in turn).
METHODS = (
    "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list",
    "resources/read", "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get",
    "completion/complete", "logging/setLevel", "server/discover", "subscriptions/listen",
    "tasks/get", "tasks/update", "tasks/cancel", "sampling/createMessage", "roots/list",
    "elicitation/create", "no/such/method",
)
# Tools the fuzz may call: never slow, hang or fd1 (those belong to the fault section).
SAFE_TOOLS = ("echo", "add")
WRONG_TOOL_NAMES = ("", "ECHO", "ech", "echo ", "no_such_tool", "x" * 300, "\u00e9cho", "slow\u0000", "../echo")

WRONG_VALUES: Tuple[Any, ...] = (
    None, True, False, 0, -1, 1.5, -0.0, 2 ** 70, -(2 ** 70), "", "x", "0", "null", [], [1, "a", None],
    {}, {"k": None}, {"a": {"b": {"c": []}}}, "\u0000", "\ud800", "\u202e\u00e9\u6f22\U0001f600",
)
# Ways to break an id (none is usable; see id_key).
WRONG_IDS: Tuple[Any, ...] = (None, True, False, 1.5, -2.25, [], [1], {}, {"id": 1}, ["x"])
# Ids written as text, each with what a strict parser makes of it.
TEXT_IDS = ("1e3", "1.0", "-0.0", "1E400", "01", "0x10", "+1", ".5", "1.", "- 1", "Infinity", "NaN", "true", "null",
            "'q'", "\"unterminated")
INVALID_UTF8 = (b"\xff", b"\xfe\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xe6\xbc",
                b"\xf0\x9f\x98", b"\xc3", b"\xf8\x88\x80\x80\x80")
LONE_SURROGATES = ("\ud800", "\udc00", "\udbff\udbff", "a\udfffb", "\udc00\ud800", "\ud83d")
ENVELOPE_BREAKS = (
    "drop jsonrpc", "jsonrpc 1.0", "jsonrpc number", "jsonrpc padded", "jsonrpc null", "drop method",
    "method number", "method null", "method empty", "method list", "method unknown", "method upper",
    "method padded", "method long", "method unicode", "method rpc.", "drop id", "add result", "add error",
    "extra member", "params wrong", "id wrong",
)
TEXT_MUTATIONS = (
    "flip byte", "insert byte", "delete byte", "bom", "trailing garbage", "trailing comma", "duplicate id",
    "duplicate method", "two messages", "whitespace", "escaped keys", "single quotes", "raw control char",
    "crlf", "leading garbage", "text id",
)
NESTING = (5, 30, 55, 60, 100, 127, 130, 500, 5000, 100000)
HUGE_INTS = (20, 100, 400, 4300, 4301, 10000, 100000)  # digits
HUGE_FLOATS = ("1e308", "1e400", "-1e400", "4.9e-324", "1e-400", "1.7976931348623157e308",
               "123456789012345678901234567890.5", "0." + "0" * 400 + "1")


_METHOD_OF = {name: name.lower().replace(" ", "_").replace("/", "_").replace("-", "") for name, _ in CATEGORIES}


class Case:
    """One message: ``data`` (bytes, without the stdio newline), the ``category`` it was
    made in, and the ids the generator ``planted`` in it (keys, see ``id_key``)."""

    __slots__ = ("data", "category", "planted", "owed", "maybe", "headers")

    def __init__(self, data, category, planted):
        self.data = data
        self.category = category
        self.planted = planted
        self.owed = []  # type: list
        self.maybe = []  # type: list
        self.headers = None  # over HTTP: the request's headers (set by the runner)


class Generator:
    """Cases for one lane and transport. Ids are unique within the generator: fresh ids come
    from a counter (in several magnitudes and both types), and each awkward-but-valid id
    (0, "", "\\u0000", a lone surrogate, a 10,000-character string...) is used once."""

    def __init__(self, seed, lane, transport):
        self.r = random.Random("abuse/%s/%s/%s" % (seed, lane.name, transport))
        self.lane = lane
        self.transport = transport
        self.counter = 0
        self.used = set()
        edge = [0, -1, "", "0", " ", "\u0000", "\ud800", "\udfff\ud800", "\u00e9\u6f22\u5b57\U0001f642",
                "x" * 10000, MAX_SAFE_INT, -MAX_SAFE_INT, 2 ** 31, -(2 ** 31), 2 ** 32,
                2 ** 53, 2 ** 63 - 1, 2 ** 64, 10 ** 30, -(10 ** 30), "1", "null", "\"", "\\", "id with spaces"]
        self.r.shuffle(edge)
        self.edge = edge
        self.cancel_counter = 0
        self.extra = []  # type: list   # ids a text mutation added

    # -- ids ---------------------------------------------------------------------------

    def fresh_id(self):
        """A new unique usable id."""
        r = self.r
        if self.edge and r.random() < 0.04:
            value = self.edge.pop()
            if id_key(value) not in self.used:
                self.used.add(id_key(value))
                return value
        while True:
            self.counter += 1
            n = self.counter
            pick = r.random()
            if pick < 0.35:
                value = n + 1000  # type: object
            elif pick < 0.45:
                value = -(n + 1000)
            elif pick < 0.55:
                value = 2 ** 40 + n
            elif pick < 0.9:
                value = "c%d" % n
            else:
                value = "c%d-%s" % (n, r.choice(("\u00e9", "\u6f22", "\U0001f600", " ", "\t", "/", "-" * 40)))
            key = id_key(value)
            if key not in self.used:
                self.used.add(key)
                return value

    def cancel_target(self):
        """A requestId for a fuzzed cancellation: from the reserved range, never a case's."""
        self.cancel_counter += 1
        if self.r.random() < 0.5:
            return RESERVED_INT_LOW + self.cancel_counter
        return "zz-never-%d" % self.cancel_counter

    # -- building blocks -----------------------------------------------------------------

    def text(self, max_len=40):
        r = self.r
        n = r.randint(0, max_len)
        pools = ("abcdefghijklmnopqrstuvwxyz ", "0123456789", "\u00e9\u00fc\u00df\u6f22\u5b57\u0416",
                 "\U0001f600\U0001f4a9", "\\\"/\t\b\f", "\u0000\u0001\u001f\u007f", "\u2028\u2029\ufeff\u200b")
        out = []
        for _ in range(n):
            out.append(r.choice(r.choice(pools)))
        return "".join(out)

    def valid_params(self, method):
        r = self.r
        if method == "initialize":
            return {"protocolVersion": r.choice((LEGACY_VERSION, BATCH_VERSION, "2024-11-05", "1999-01-01")),
                    "capabilities": {}, "clientInfo": {"name": "abuse", "version": "1"}}
        if method == "tools/call":
            if r.random() < 0.5:
                return {"name": "echo", "arguments": {"text": self.text()}}
            return {"name": "add", "arguments": {"a": r.randint(-1000, 1000), "b": r.randint(-1000, 1000)}}
        if method in ("resources/read", "resources/subscribe", "resources/unsubscribe"):
            return {"uri": "abuse://static"}
        if method == "prompts/get":
            return {"name": "greet", "arguments": {"name": self.text(12)}}
        if method == "completion/complete":
            return {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": "a"}}
        if method == "logging/setLevel":
            return {"level": r.choice(("debug", "info", "error"))}
        if method in ("tasks/get", "tasks/cancel"):
            return {"taskId": "t-%d" % r.randint(1, 99)}
        if method == "tasks/update":
            return {"taskId": "t-%d" % r.randint(1, 99), "inputResponses": {}}
        if method == "subscriptions/listen":
            return {"notifications": {"toolsListChanged": True}}
        if method == "sampling/createMessage":
            return {"messages": [], "maxTokens": 5}
        if method in ("tools/list", "prompts/list", "resources/list", "resources/templates/list") and r.random() < 0.2:
            return {"cursor": self.text(8)}
        return {} if r.random() < 0.7 else None

    def with_meta(self, params):
        """2026-07-28's per-request envelope, in the modern lane."""
        if not self.lane.modern:
            return params
        params = {} if params is None else params
        if isinstance(params, dict):
            params["_meta"] = {META_VERSION: MODERN_VERSION, META_CAPS: {},
                               META_INFO: {"name": "abuse", "version": "1"}}
        return params

    def valid_request(self, rid=None, method=None):
        r = self.r
        if method is None:
            method = r.choice(METHODS[:-3]) if r.random() < 0.9 else r.choice(METHODS)
        params = self.with_meta(self.valid_params(method))
        message = {"jsonrpc": "2.0", "id": self.fresh_id() if rid is None else rid, "method": method}
        if params is not None:
            message["params"] = params
        return message

    def encode(self, message, ascii_only=None):
        if ascii_only is None:
            ascii_only = self.r.random() < 0.5
        compact = self.r.random() < 0.7
        seps = (",", ":") if compact else (", ", ": ")
        try:
            return json.dumps(message, ensure_ascii=ascii_only, separators=seps).encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate cannot be UTF-8; as a \\ud800 escape it is valid JSON.
            return json.dumps(message, ensure_ascii=True, separators=seps).encode("ascii")

    def wrong_value(self):
        r = self.r
        if r.random() < 0.15:
            return self.nested(r.choice((3, 10, 40)))
        return r.choice(WRONG_VALUES)

    def nested(self, depth):
        r = self.r
        value = r.choice((0, "x", None, [], {}))  # type: object
        as_list = r.random() < 0.5
        for _ in range(depth):
            value = [value] if as_list else {"a": value}
        return value

    @staticmethod
    def planted_of(message):
        """The usable ids in a message this generator built (before text mutations)."""
        items = message if isinstance(message, list) else [message]
        out = []
        for item in items:
            if isinstance(item, dict):
                key = id_key(item.get("id"))
                if key is not None:
                    out.append(key)
        return out

    # -- categories ------------------------------------------------------------------------

    def make(self, index):
        """Case number ``index``: its category drawn by weight, its content by the category."""
        r = self.r
        names = [c for c, _ in CATEGORIES]
        weights = [w for _, w in CATEGORIES]
        category = r.choices(names, weights)[0]
        return getattr(self, "_" + _METHOD_OF[category])(index, category)

    def _random_bytes(self, index, category):
        r = self.r
        pick = r.random()
        if pick < 0.3:
            # Valid JSON that is no JSON-RPC message at all.
            value = r.choice((0, -1, 1.5, "str", None, True, [], [1, 2], {}, {"a": 1}, [[]], [{}], "",
                              {"jsonrpc": "2.0"}))
            data = json.dumps(value).encode()
        else:
            n = r.choice((1, 2, 8, 64, 512, 4096)) if r.random() < 0.95 else 65536
            data = bytes(r.getrandbits(8) for _ in range(n))
            if self.transport == "stdio" and r.random() < 0.7:
                data = data.replace(b"\n", b" ")
        return Case(data, category, [])

    def _truncation(self, index, category):
        message = self.valid_request()
        data = self.encode(message)
        cut = self.r.randint(1, max(1, len(data) - 1))
        return Case(data[:cut], category, self.planted_of(message))

    def _invalid_utf8(self, index, category):
        r = self.r
        message = self.valid_request(method="tools/call")
        marker = "@@BAD@@"
        message["params"]["name"] = "echo"
        message["params"]["arguments"] = {"text": "a" + marker + "b"}
        data = self.encode(message, ascii_only=True)
        bad = r.choice(INVALID_UTF8)
        where = r.random()
        if where < 0.7:
            data = data.replace(marker.encode(), bad)
        elif where < 0.85:
            data = data.replace(b'"method"', b'"meth' + bad + b'od"').replace(marker.encode(), b"")
        else:
            data = bad + data.replace(marker.encode(), b"")
        return Case(data, category, self.planted_of(message))

    def _lone_surrogates(self, index, category):
        r = self.r
        lone = r.choice(LONE_SURROGATES)
        where = r.random()
        if where < 0.5:
            message = self.valid_request(method="tools/call")
            message["params"]["name"] = "echo"
            message["params"]["arguments"] = {"text": "a" + lone + "b"}
        elif where < 0.65:
            message = self.valid_request()
            message["method"] = message["method"] + lone
        elif where < 0.8:
            message = self.valid_request()
            params = message.setdefault("params", {})
            if isinstance(params, dict):
                params["k" + lone] = lone
        else:
            message = self.valid_request()
            rid = "s%d%s" % (self.counter + 1, lone)
            self.counter += 1
            if id_key(rid) not in self.used:
                self.used.add(id_key(rid))
                message["id"] = rid
        return Case(self.encode(message, ascii_only=True), category, self.planted_of(message))

    def _nesting_depth(self, index, category):
        r = self.r
        depth = r.choice(NESTING)
        message = self.valid_request(method=r.choice(("tools/call", "ping", "tools/list")))
        params = message.get("params")
        if not isinstance(params, dict):
            params = message["params"] = self.with_meta({})
        if message["method"] == "tools/call":
            params["name"] = "echo"
            params["arguments"] = {"text": "@@NEST@@"}
        else:
            params["extra"] = "@@NEST@@"
        # Written as text: json.dumps recurses and would stop near depth 1,000.
        if r.random() < 0.5:
            opens, closes = b"[" * depth, b"]" * depth
        else:
            opens, closes = b'{"a":' * depth, b"}" * depth
        data = self.encode(message).replace(b'"@@NEST@@"', opens + b'"x"' + closes)
        return Case(data, category, self.planted_of(message))

    def _huge_numbers(self, index, category):
        r = self.r
        message = self.valid_request(method="tools/call")
        message["params"]["name"] = "add"
        message["params"]["arguments"] = {"a": "@@A@@", "b": r.randint(0, 9)}
        if r.random() < 0.6:
            digits = r.choice(HUGE_INTS)
            number = (b"-" if r.random() < 0.3 else b"") + str(r.randint(1, 9)).encode() * digits
        else:
            number = r.choice(HUGE_FLOATS).encode()
        planted = self.planted_of(message)
        if r.random() < 0.15:
            # A huge number as the id itself (an integer beyond 2**53 - 1 is never owed an
            # answer, a float or one of more than 4,300 digits is no usable id at all).
            message["id"] = "@@HID@@"
            planted = []
            text = number.decode()
            if text.lstrip("-").isdigit() and len(text.lstrip("-")) <= MAX_INT_DIGITS:
                key = id_key(int(text))
                if key in self.used:
                    number = number + b"0"
                    key = id_key(int(number))
                self.used.add(key)
                planted = [key]
            data = self.encode(message).replace(b'"@@HID@@"', number).replace(b'"@@A@@"', b"1")
            return Case(data, category, planted)
        data = self.encode(message).replace(b'"@@A@@"', number)
        return Case(data, category, planted)

    def _huge_strings(self, index, category):
        r = self.r
        size = r.choice((1024, 1024, 65536, 65536, 262144, (1 << 20) - 200)) if r.random() < 0.95 else 5 << 20
        message = self.valid_request(method="tools/call")
        message["params"]["name"] = "echo"
        message["params"]["arguments"] = {"text": "s" * size if r.random() < 0.7 else self.text(40) * (size // 120)}
        if r.random() < 0.1:
            message["params"]["arguments"] = {"text": "x", "pad": ["y" * 16] * (size // 20)}
        return Case(self.encode(message), category, self.planted_of(message))

    def _nan_infinity(self, index, category):
        r = self.r
        message = self.valid_request(method="tools/call")
        message["params"]["name"] = "add"
        message["params"]["arguments"] = {"a": "@@A@@", "b": 1}
        token = r.choice((b"NaN", b"Infinity", b"-Infinity", b"nan", b"inf", b"1e999", b"-1e999"))
        data = self.encode(message).replace(b'"@@A@@"', token)
        return Case(data, category, self.planted_of(message))

    def _wrong_id_type(self, index, category):
        r = self.r
        message = self.valid_request()
        if r.random() < 0.25:
            # A valid but awkward id (owed an answer), if any is left.
            if self.edge:
                value = self.edge.pop()
                if id_key(value) not in self.used:
                    self.used.add(id_key(value))
                    message["id"] = value
            return Case(self.encode(message, ascii_only=True), category, self.planted_of(message))
        if r.random() < 0.7:
            message["id"] = r.choice(WRONG_IDS)
            return Case(self.encode(message), category, [])
        text = r.choice(TEXT_IDS).encode()
        data = self.encode({k: ("@@ID@@" if k == "id" else v) for k, v in message.items()})
        return Case(data.replace(b'"@@ID@@"', text), category, [])

    def _batch(self, index, category):
        r = self.r
        pick = r.random()
        if pick < 0.08:
            return Case(b"[]", category, [])
        items = []  # type: list
        count = r.choice((1, 2, 3, 5, 10)) if r.random() < 0.9 else 100
        for _ in range(count):
            kind = r.random()
            if kind < 0.65:
                items.append(self.valid_request(method=r.choice(("ping", "tools/call", "tools/list", "prompts/get",
                                                                 "resources/read", "no/such/method"))))
            elif kind < 0.75:
                items.append({"jsonrpc": "2.0", "method": "notifications/progress",
                              "params": {"progressToken": "zz", "progress": 1}})
            elif kind < 0.85:
                items.append(r.choice((1, "x", None, [], {}, {"jsonrpc": "2.0"})))
            elif kind < 0.92:
                bad = self.valid_request()
                bad["id"] = r.choice(WRONG_IDS)
                items.append(bad)
            else:
                items.append(self.valid_request(method="initialize"))
        message = items  # type: object
        if r.random() < 0.08:
            message = [items]  # a batch inside a batch
        data = self.encode(message)
        return Case(data, category, self.planted_of(items))

    def _wrong_param_types(self, index, category):
        r = self.r
        method = METHODS[index % len(METHODS)]  # every method in turn
        message = self.valid_request(method=method)
        params = message.get("params")
        pick = r.random()
        if pick < 0.3 or not isinstance(params, dict):
            # params as a whole of a wrong type (an array is JSON-RPC's by-position form).
            message["params"] = r.choice(([], [1, 2], ["echo"], "params", 0, None, True, 1.5))
        else:
            leaves = []  # (container, key)
            stack = [params]
            while stack:
                node = stack.pop()
                for key in list(node):
                    leaves.append((node, key))
                    if isinstance(node[key], dict) and key != "_meta":
                        stack.append(node[key])
            if leaves:
                node, key = r.choice(leaves)
                action = r.random()
                if action < 0.7:
                    node[key] = self.wrong_value()
                elif action < 0.85:
                    del node[key]
                else:
                    node[key + "_extra"] = self.wrong_value()
            if method == "tools/call" and r.random() < 0.2:
                params["name"] = r.choice(WRONG_TOOL_NAMES)
            if self.lane.modern and r.random() < 0.1:
                params["_meta"] = r.choice(("x", [], None, {META_VERSION: 20260728}, {META_VERSION: "1999-01-01"},
                                            {META_VERSION: MODERN_VERSION, META_CAPS: "none"}))
            elif r.random() < 0.05:
                params["_meta"] = {"progressToken": r.choice(({}, [], 1.5, True, None))}
        return Case(self.encode(message), category, self.planted_of(message))

    def _mutated_request(self, index, category):
        r = self.r
        message = self.valid_request()
        planted = self.planted_of(message)
        if r.random() < 0.5:
            mutation = r.choice(ENVELOPE_BREAKS)
            self._break_envelope(message, mutation)
            planted = self.planted_of(message)
            return Case(self.encode(message), category, planted)
        data = self.encode(message)
        self.extra = []
        data = self._mutate_text(data, message)
        return Case(data, category, planted + self.extra)

    def _break_envelope(self, m, mutation):
        r = self.r
        if mutation == "drop jsonrpc":
            m.pop("jsonrpc", None)
        elif mutation == "jsonrpc 1.0":
            m["jsonrpc"] = "1.0"
        elif mutation == "jsonrpc number":
            m["jsonrpc"] = 2.0
        elif mutation == "jsonrpc padded":
            m["jsonrpc"] = " 2.0"
        elif mutation == "jsonrpc null":
            m["jsonrpc"] = None
        elif mutation == "drop method":
            m.pop("method", None)
        elif mutation == "method number":
            m["method"] = 42
        elif mutation == "method null":
            m["method"] = None
        elif mutation == "method empty":
            m["method"] = ""
        elif mutation == "method list":
            m["method"] = ["tools/call"]
        elif mutation == "method unknown":
            m["method"] = r.choice(("tools/cal", "tools/", "/", "tools/list/", "notifications/initialized",
                                    "tools/call\u0000", "TOOLS/LIST"))
        elif mutation == "method upper":
            m["method"] = str(m.get("method", "")).upper() or "PING"
        elif mutation == "method padded":
            m["method"] = " %s " % m.get("method")
        elif mutation == "method long":
            m["method"] = "m" * r.choice((1000, 70000))
        elif mutation == "method unicode":
            m["method"] = "t\u00f6\u00f6ls/\u6f22"
        elif mutation == "method rpc.":
            m["method"] = "rpc.discover"
        elif mutation == "drop id":
            m.pop("id", None)  # a notification now: owed nothing
        elif mutation == "add result":
            m["result"] = {}
        elif mutation == "add error":
            m["error"] = {"code": -1, "message": "x"}
        elif mutation == "extra member":
            m[r.choice(("foo", "ID", "Method", "_meta", "jsonrpc2"))] = self.wrong_value()
        elif mutation == "params wrong":
            m["params"] = r.choice(("x", 1, None, True))
        elif mutation == "id wrong":
            m["id"] = r.choice(WRONG_IDS)

    def _mutate_text(self, data, message):
        r = self.r
        mutation = r.choice(TEXT_MUTATIONS)
        if mutation == "flip byte":
            i = r.randrange(len(data))
            return data[:i] + bytes([r.getrandbits(8)]) + data[i + 1:]
        if mutation == "insert byte":
            i = r.randrange(len(data) + 1)
            byte = bytes([r.getrandbits(8)])
            if self.transport == "stdio" and byte == b"\n":
                byte = b"\r"
            return data[:i] + byte + data[i:]
        if mutation == "delete byte":
            i = r.randrange(len(data))
            return data[:i] + data[i + 1:]
        if mutation == "bom":
            return b"\xef\xbb\xbf" + data
        if mutation == "trailing garbage":
            return data + r.choice((b"x", b"}", b"]", b",", b"{}", b" //", b"\x00"))
        if mutation == "trailing comma":
            return data[:-1] + b",}"
        if mutation == "duplicate id":
            # "id" twice: which one counts is not defined, so neither is owed an answer.
            other = self.fresh_id()
            self.extra.append(id_key(other))
            return b'{"id":' + json.dumps(other).encode() + b"," + data[1:]
        if mutation == "duplicate method":
            return b'{"method":"ping",' + data[1:]
        if mutation == "two messages":
            second = self.valid_request()
            self.extra.extend(self.planted_of(second))
            return data + self.encode(second)
        if mutation == "whitespace":
            out = data.replace(b",", b" ,\t").replace(b":", b"\r\n:" if self.transport != "stdio" else b" :  ")
            return b"  \t" + out + b" \t "
        if mutation == "escaped keys":
            return data.replace(b'"method"', b'"\\u006dethod"').replace(b'"jsonrpc"', b'"\\u006asonrpc"')
        if mutation == "single quotes":
            return data.replace(b'"', b"'")
        if mutation == "raw control char":
            return data.replace(b'"jsonrpc"', b'"json\x01rpc"')
        if mutation == "crlf":
            return data + b"\r"
        if mutation == "leading garbage":
            return r.choice((b"x", b"\x00", b"]", b"data: ", b"Content-Length: 12\r\n\r\n")) + data
        # "text id": the id written as a number a strict parser reads differently, or not at all.
        text = r.choice(TEXT_IDS).encode()
        swapped = dict(message)
        swapped["id"] = "@@ID@@"
        return self.encode(swapped).replace(b'"@@ID@@"', text)

    def _notification(self, index, category):
        r = self.r
        pick = r.random()
        if pick < 0.35:
            params = {"requestId": self.cancel_target()} if r.random() < 0.8 else {
                "requestId": r.choice((None, True, 1.5, [], {}, "zz-x"))}
            message = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params}
        elif pick < 0.55:
            message = {"jsonrpc": "2.0", "method": "notifications/progress",
                       "params": {"progressToken": self.wrong_value(), "progress": self.wrong_value()}}
        elif pick < 0.7:
            method = r.choice(("notifications/initialized", "notifications/roots/list_changed", "notifications/unknown",
                               "notifications/message"))
            message = {"jsonrpc": "2.0", "method": method}
            if r.random() < 0.5:
                message["params"] = self.wrong_value()
        elif pick < 0.85:
            # A request without id is a notification, whatever its method: owed nothing.
            message = self.valid_request()
            message.pop("id")
        else:
            message = {"jsonrpc": "2.0", "method": self.wrong_value()}
        return Case(self.encode(message), category, [])

    def _client_response(self, index, category):
        r = self.r
        rid = self.fresh_id()
        pick = r.random()
        if pick < 0.4:
            message = {"jsonrpc": "2.0", "id": rid, "result": r.choice(({}, {"roots": []}, None, [], "x"))}
        elif pick < 0.75:
            error = r.choice(({"code": -32601, "message": "no"}, "x", None, {}))
            message = {"jsonrpc": "2.0", "id": rid, "error": error}
        elif pick < 0.9:
            message = {"jsonrpc": "2.0", "id": rid, "result": {}, "error": {"code": 1, "message": "both"}}
        else:
            # Shaped like the ids a server numbers its own requests with ("s1", "s2"...).
            self.counter += 1
            rid = "s%d" % (10 ** 6 + self.counter)
            self.used.add(id_key(rid))
            message = {"jsonrpc": "2.0", "id": rid, "result": {}}
        return Case(self.encode(message), category, [id_key(rid)])

    def _valid_request(self, index, category):
        method = METHODS[index % len(METHODS)]
        message = self.valid_request(method=method)
        return Case(self.encode(message), category, self.planted_of(message))


def generate(seed, lane, transport, count, http_headers=None):
    """``count`` cases for ``lane``, each with its verdict. ``http_headers(case, parsed)``
    (HTTP only) returns (the request's headers, whether they agree with the body)."""
    gen = Generator(seed, lane, transport)
    out = []
    seen = set()
    index = 0
    attempts = 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        case = gen.make(index)
        consistent = True
        if http_headers is not None:
            case.headers, consistent = http_headers(case)
        if transport == "stdio":
            owed, maybe = [], []
            for line in case.data.split(b"\n"):
                line = line.rstrip(b"\r")
                if line.strip():
                    o, m = verdict(line, lane)
                    owed.extend(o)
                    maybe.extend(m)
        else:
            owed, maybe = verdict(case.data, lane, consistent)
        keys = owed + maybe
        # A reply is matched by its id: every id a case may be answered with must be one the
        # generator planted in it (a byte flip can make another) and new in this lane.
        if (len(set(keys)) != len(keys) or any(k not in case.planted for k in keys) or any(k in seen for k in keys)
                or b"Traceback" in case.data or b'File "' in case.data):
            continue
        case.owed, case.maybe = owed, maybe
        seen.update(case.planted)
        out.append(case)
        index += 1
    return out
