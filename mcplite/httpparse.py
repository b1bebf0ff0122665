"""A strict, bounded parser of an HTTP/1.1 request's head (request line and header fields),
for the ``http.server`` front end in place of its ``email``-based one.

Why our own: ``http.server`` parses the header block with the ``email`` package, which is most
of what an MCP request costs that front end (about 330 of ~580 Python calls per request), and
it is lenient where a server in front of a proxy must not be. Here each line is read with a
bound, and the shapes that let two parsers disagree on where a request ends are refused with
400 (RFC 9112):

- obs-fold, a field line starting with whitespace: "A server that receives an obs-fold in a
  request message ... MUST either reject the message by sending a 400 (Bad Request)" (5.2);
- whitespace between a field name and its colon: "A server MUST reject, with a response status
  code of 400 (Bad Request), any received request message that contains whitespace between a
  header field name and colon" (5.1);
- more than one ``Content-Length``, or ``Content-Length`` beside ``Transfer-Encoding``
  ("a server MAY reject a request that contains both Content-Length and Transfer-Encoding";
  here it does: it is the classic smuggling shape), a ``Content-Length`` that is not digits;
- no ``Host`` in HTTP/1.1, or more than one: "A server MUST respond with a 400 (Bad Request)
  status code to any HTTP/1.1 request message that lacks a Host header field and to any
  request message that contains more than one Host header field line" (3.2);
- a bare CR or a NUL in a field line (2.2: a recipient of a bare CR "MUST consider that
  element to be invalid"; RFC 9110 5.5: "a recipient of CR, LF, or NUL within a field value
  MUST either reject the message or replace each of those characters with SP"), and any control
  character in the request line. Other control characters in a value are invalid too, but a
  recipient "MAY retain such characters": they reach the protocol, which answers an MCP header
  holding one with its own error (-32020 for ``Mcp-Param-*``). A lone LF ends a line, which
  2.2 allows.

Limits: each line at most ``max_line`` bytes and at most ``max_fields`` field lines, else 431;
a request line longer than 64 KiB is refused by ``http.server`` itself (414). Field names are
kept as sent; values have their surrounding whitespace removed ("field parsing MUST exclude
OWS before evaluating", RFC 9110 5.5) and are decoded as Latin-1, so obs-text passes through.
"""

from __future__ import annotations

from typing import Callable, Dict, List, NamedTuple, Optional, Tuple, Union

# tchar (RFC 9110 5.6.2): what a method and a field name are made of.
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# Control characters the request line may not hold; a field line may not hold CR or NUL.
_CONTROLS = frozenset(range(0, 32)) | {127}
_FIELD_FORBIDDEN = frozenset(b"\r\x00")
_VERSIONS = {b"HTTP/1.1": "HTTP/1.1", b"HTTP/1.0": "HTTP/1.0"}


class RequestHead(NamedTuple):
    """A parsed request head: ``fields`` are by lower-case name (repeated ones joined with
    ", " in order, but ``Content-Length`` and ``Host``, which may not repeat), ``lines`` as
    sent, in order."""
    method: str
    target: str
    version: str
    fields: Dict[str, str]
    lines: List[Tuple[str, str]]


def _hp_line(raw: bytes, forbidden: frozenset = _CONTROLS) -> Optional[bytes]:
    """``raw`` without its line end (CRLF, or a lone LF), or None if it has none or holds one
    of the ``forbidden`` bytes (a bare CR among them)."""
    if raw.endswith(b"\r\n"):
        body = raw[:-2]
    elif raw.endswith(b"\n"):
        body = raw[:-1]
    else:
        return None
    if not forbidden.isdisjoint(body):
        return None
    return body


def parse_request_head(request_line: bytes, readline: Callable[[int], bytes], max_line: int = 16384,
                       max_fields: int = 100, seen: Optional[Dict[str, str]] = None
                       ) -> Union[RequestHead, Tuple[int, str]]:
    """Parse a head whose first line is ``request_line``, reading the field lines with
    ``readline(limit)``. Returns the ``RequestHead``, or ``(status, reason)`` to refuse it
    with (400, 431 or 505); a read error propagates. ``seen``, a dict, gets the fields as
    they are read: those before the line that was refused (the refusal's CORS grant)."""
    line = _hp_line(request_line)
    if line is None:
        return 400, "malformed request line"
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return 400, "malformed request line"
    method, target, version = parts
    if not _TCHAR.issuperset(method):
        return 400, "malformed method"
    if version not in _VERSIONS:
        if version.startswith(b"HTTP/") and len(version) == 8:
            return 505, "HTTP version not supported"
        return 400, "malformed request line"
    fields = seen if seen is not None else {}  # type: Dict[str, str]
    lines = []  # type: List[Tuple[str, str]]
    seen_length = seen_host = False
    while True:
        raw = readline(max_line + 1)
        if len(raw) > max_line:
            return 431, "a header field line is too long"
        if raw in (b"\r\n", b"\n"):
            break
        if not raw:
            return 400, "the head ended early"
        body = _hp_line(raw, _FIELD_FORBIDDEN)
        if body is None:
            return 400, "malformed header field line"
        if body[:1] in (b" ", b"\t"):
            return 400, "obs-fold (a folded header line) is not accepted"
        colon = body.find(b":")
        if colon < 1 or not _TCHAR.issuperset(body[:colon]):
            return 400, "malformed header field name"
        if len(lines) >= max_fields:
            return 431, "too many header fields"
        name = body[:colon].decode("ascii")
        value = body[colon + 1:].strip(b" \t").decode("latin-1")
        key = name.lower()
        if key == "content-length":
            if seen_length or not value.isdigit() or not value.isascii():
                return 400, "invalid or repeated Content-Length"
            seen_length = True
        elif key == "host":
            if seen_host:
                return 400, "more than one Host"
            seen_host = True
        lines.append((name, value))
        # Repeated lines are one field: "by appending each subsequent field line value to the
        # initial field line value in order, separated by a comma" (RFC 9110 5.3); a client
        # may send Accept on two lines.
        fields[key] = fields[key] + ", " + value if key in fields else value
    if seen_length and "transfer-encoding" in fields:
        return 400, "both Content-Length and Transfer-Encoding"
    text_version = _VERSIONS[version]
    if text_version == "HTTP/1.1" and not seen_host:
        return 400, "no Host header"
    return RequestHead(method.decode("ascii"), target.decode("latin-1"), text_version, fields, lines)


_HP_HEX = frozenset(b"0123456789abcdefABCDEF")


def read_chunked_body(readline: Callable[[int], bytes], read: Callable[[int], bytes], limit: int,
                      max_line: int = 16384, max_fields: int = 100) -> Union[bytes, int]:
    """A request body in the chunked transfer coding (RFC 9112 7.1: "A recipient MUST be able
    to parse and decode the chunked transfer coding"), chunk extensions and trailer fields
    read and ignored. Returns the body, or the status to refuse it with: 413 once it passes
    ``limit`` bytes (the rest is not read), 400 for a malformed or early-ended one. A read
    error propagates."""
    parts = []  # type: List[bytes]
    total = 0
    while True:
        line = _hp_line(readline(max_line + 1), _FIELD_FORBIDDEN)
        if line is None:
            return 400
        # chunk-size [ chunk-ext ] CRLF, the extension after BWS and ";"
        size_text = line.split(b";", 1)[0].rstrip(b" \t") if b";" in line else line
        if not size_text or not _HP_HEX.issuperset(size_text):
            return 400
        size = int(size_text, 16)
        if size == 0:
            break
        total += size
        if total > limit:
            return 413
        data = read(size)
        if len(data) < size or readline(3) not in (b"\r\n", b"\n"):
            return 400
        parts.append(data)
    for _ in range(max_fields + 1):  # the trailer section, then the empty line
        raw = readline(max_line + 1)
        if raw in (b"\r\n", b"\n"):
            return b"".join(parts)
        if _hp_line(raw, _FIELD_FORBIDDEN) is None:
            return 400
    return 400
