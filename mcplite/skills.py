"""The Skills extension (SEP-2640, ``io.modelcontextprotocol/skills``): Agent Skills served
as MCP resources, for both ends.

A skill is a directory whose root holds a ``SKILL.md`` that begins with YAML frontmatter
(at least ``name`` and ``description``). Each file is a resource
``skill://<skill-path>/<file-path>``, the last segment of ``<skill-path>`` being the skill's
``name``. A server that declares the extension answers ``skills/list`` (entries: ``uri`` of the
SKILL.md, its frontmatter as JSON, and ``resources``: every file's ``{uri, digest, size}``)
and ``skills/get {uri}`` (one entry; -32602 for a skill it does not serve).

The server side (``Server.skill``, with ``read_skill_directory`` and ``SkillCatalog``) reads a skill directory
once, at registration: the bytes it digests are the bytes it serves, so a listing never
promises what a later edit on disk would break. The client side (``Client.list_skills``,
``get_skill``, ``load_skill``) fetches nothing ahead of need and verifies what it reads:
size, then digest, then the SKILL.md's frontmatter against the entry's, field by field; any
difference is a ``SkillVerificationError`` and the content is not used.

The frontmatter is read by a small YAML subset (block mappings and sequences, plain,
quoted and block scalars, flow sequences of scalars; the core schema's nulls, booleans and
numbers). Anything outside it is refused rather than guessed at: the server will not serve
such a skill, the client will not load it.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import MCPError, ProtocolError, SkillVerificationError
from .protocol import supports

SKILLS_EXTENSION = "io.modelcontextprotocol/skills"
SKILL_FILE = "SKILL.md"
SKILL_SCHEME = "skill://"
DIRECTORY_MIME_TYPE = "inode/directory"
# The spec's soft limits ("Servers SHOULD NOT serve a skill exceeding 512 resource entries",
# "... whose total file size exceeds 16 MiB"): the server refuses to serve beyond them, and
# the client will not read a file its entry says is larger.
MAX_SKILL_FILES = 512
MAX_SKILL_BYTES = 16 * 1024 * 1024
# JSON-RPC's Invalid params (the wire layer's constant; this module sits below it).
_INVALID_PARAMS = -32602
# The Agent Skills naming rules: 1-64 characters, lowercase letters, digits and hyphens, no
# leading, trailing or doubled hyphen.
_SKILL_NAME = re.compile(r"^(?!.*--)[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_FRONT = re.compile(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", re.S)


def skill_digest(data: bytes) -> str:
    """``sha256:<64 lowercase hex>`` of ``data`` (the raw bytes, as the spec digests them)."""
    import hashlib
    return "sha256:" + hashlib.sha256(data).hexdigest()


def valid_skill_name(name: Any) -> bool:
    # fullmatch: the pattern's "$" alone would take a name with a final line break.
    return isinstance(name, str) and bool(_SKILL_NAME.fullmatch(name))


def skill_name_of(uri: str) -> Optional[str]:
    """The skill name a SKILL.md URI carries (its last path segment before ``SKILL.md``)."""
    if "://" not in uri:
        return None
    segments = [s for s in uri.split("://", 1)[1].split("/") if s]
    if len(segments) < 2 or segments[-1] != SKILL_FILE:
        return None
    return segments[-2]


# -- the frontmatter ------------------------------------------------------------------

def split_frontmatter(text: str) -> Tuple[Dict[str, Any], str]:
    """``(frontmatter, body)`` of a SKILL.md's text; ValueError when it has no frontmatter
    block, or one this YAML subset cannot read, or one that is not a mapping."""
    if text.startswith("\ufeff"):
        text = text[1:]
    match = _FRONT.match(text)
    if match is None:
        raise ValueError("SKILL.md does not begin with a '---' delimited YAML frontmatter block")
    value = parse_yaml_subset(match.group(1))
    if not isinstance(value, dict):
        raise ValueError("the frontmatter is not a YAML mapping")
    return value, text[match.end():]


def parse_yaml_subset(text: str) -> Any:
    """The value of a small YAML document (see the module's text); ValueError for anything
    this subset does not cover."""
    lines = []  # type: List[Tuple[int, str, int]]
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[:len(raw) - len(raw.lstrip())]:
            raise ValueError("line %d: tabs are not allowed in YAML indentation" % number)
        lines.append((len(raw) - len(raw.lstrip(" ")), raw.rstrip(), number))
    reader = _YamlSubset(lines)
    first = reader.next_content(0)
    if first is None:
        return None
    value, end = reader.node(first, lines[first][0])
    rest = reader.next_content(end)
    if rest is not None:
        raise ValueError("line %d: unexpected content" % lines[rest][2])
    return value


_YAML_KEY = re.compile(r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"#\-?:,\[\]{}&*!|>%@`][^#]*?|-[^\s#][^#]*?)"""
                       r"""\s*:(?:\s+|$)(.*)$""")
_YAML_INT = re.compile(r"^[-+]?[0-9]+$")
_YAML_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")


class _YamlSubset:
    def __init__(self, lines: List[Tuple[int, str, int]]) -> None:
        self.lines = lines

    def next_content(self, index: int) -> Optional[int]:
        while index < len(self.lines):
            text = self.lines[index][1].strip()
            if text and not text.startswith("#"):
                return index
            index += 1
        return None

    def fail(self, index: int, why: str) -> ValueError:
        return ValueError("line %d: %s" % (self.lines[index][2], why))

    def node(self, index: int, indent: int) -> Tuple[Any, int]:
        text = self.lines[index][1].strip()
        if text == "-" or text.startswith("- "):
            return self.sequence(index, indent)
        if _YAML_KEY.match(text):
            return self.mapping(index, indent)
        raise self.fail(index, "expected a mapping or a sequence")

    def mapping(self, index: int, indent: int) -> Tuple[Dict[str, Any], int]:
        result = {}  # type: Dict[str, Any]
        current = self.next_content(index)
        while current is not None and self.lines[current][0] == indent:
            match = _YAML_KEY.match(self.lines[current][1].strip())
            if match is None:
                break
            key = self.scalar_text(match.group(1), current)
            if not isinstance(key, str):
                key = str(key) if key is not None else "null"
            if key in result:
                raise self.fail(current, "duplicate key %r" % key)
            result[key], current = self.value_after(match.group(2), current, indent)
            current = self.next_content(current)
        if current is not None and self.lines[current][0] > indent:
            raise self.fail(current, "unexpected indentation")
        return result, current if current is not None else len(self.lines)

    def sequence(self, index: int, indent: int) -> Tuple[List[Any], int]:
        result = []  # type: List[Any]
        current = self.next_content(index)  # type: Optional[int]
        while current is not None and self.lines[current][0] == indent:
            text = self.lines[current][1].strip()
            if not (text == "-" or text.startswith("- ")):
                break
            rest = text[1:].strip()
            if rest and _YAML_KEY.match(rest) and not rest.startswith(("'", '"')):
                # "- key: value": a mapping whose indentation is the column its first key
                # starts at; this line is read as if the "- " were spaces.
                inner = indent + len(text) - len(rest)
                number = self.lines[current][2]
                saved = self.lines[current]
                self.lines[current] = (inner, " " * inner + rest, number)
                try:
                    value, after = self.mapping(current, inner)
                finally:
                    self.lines[current] = saved
                result.append(value)
                current = self.next_content(after)
                continue
            value, after_index = self.value_after(rest, current, indent)
            result.append(value)
            current = self.next_content(after_index)
        return result, current if current is not None else len(self.lines)

    def value_after(self, rest: str, index: int, indent: int) -> Tuple[Any, int]:
        """The value whose text starts with ``rest`` on line ``index`` (a key's or an item's)
        and the index of the line after it."""
        rest = _strip_yaml_comment(rest)
        if rest in ("|", "|-", "|+", ">", ">-", ">+"):
            return self.block_scalar(rest, index, indent)
        if rest == "":
            child = self.next_content(index + 1)
            if child is not None and self.lines[child][0] > indent:
                return self.node(child, self.lines[child][0])
            if child is not None and self.lines[child][0] == indent and (
                    self.lines[child][1].strip().startswith("- ") or self.lines[child][1].strip() == "-"):
                # A sequence may sit at its key's own indentation.
                return self.sequence(child, indent)
            return None, index + 1
        if rest[0] in "&*!%@`{":
            raise self.fail(index, "anchors, aliases, tags and flow mappings are not supported")
        if rest[0] == "[":
            return self.flow_sequence(rest, index), index + 1
        # A plain or quoted scalar, perhaps continued on more indented lines.
        parts = [rest]
        following = index + 1
        while following < len(self.lines):
            line_indent, line, _ = self.lines[following]
            if line.strip() and line_indent <= indent:
                break
            parts.append(line.strip())
            following += 1
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        if len(parts) > 1:
            if rest[0] in "'\"":
                raise self.fail(index, "multi-line quoted scalars are not supported")
            if any(_YAML_KEY.match(part) or part.startswith("- ") for part in parts[1:] if part):
                raise self.fail(index, "unexpected indentation")
            return _fold_lines(parts), following
        return self.scalar_text(rest, index), index + 1

    def block_scalar(self, indicator: str, index: int, indent: int) -> Tuple[str, int]:
        body = []  # type: List[str]
        following = index + 1
        block_indent = None  # type: Optional[int]
        while following < len(self.lines):
            line_indent, line, _ = self.lines[following]
            if line.strip():
                if line_indent <= indent:
                    break
                if block_indent is None:
                    block_indent = line_indent
                elif line_indent < block_indent:
                    raise self.fail(following, "a block scalar's line is less indented than its first")
                body.append(line[block_indent:])
            else:
                body.append("")
            following += 1
        trailing = 0
        while body and body[-1] == "":
            body.pop()
            trailing += 1
        if indicator[0] == "|":
            text = "\n".join(body)
        else:
            text = _fold_lines(body, keep_breaks=True)
        if indicator.endswith("-") or not body:
            return text, following
        if indicator.endswith("+"):
            return text + "\n" * (1 + trailing), following
        return text + "\n", following

    def flow_sequence(self, text: str, index: int) -> List[Any]:
        if not text.endswith("]") or text.count("[") != 1 or text.count("]") != 1 or "{" in text:
            raise self.fail(index, "only a one-line flow sequence of scalars is supported")
        inner = text[1:-1].strip()
        if not inner:
            return []
        items = _split_flow_items(inner)
        if items is None:
            raise self.fail(index, "cannot read the flow sequence")
        return [self.scalar_text(item.strip(), index) for item in items]

    def scalar_text(self, text: str, index: int) -> Any:
        text = _strip_yaml_comment(text)
        if text.startswith('"'):
            if len(text) < 2 or not text.endswith('"'):
                raise self.fail(index, "unterminated double-quoted scalar")
            import json
            try:
                value = json.loads(text)
            except ValueError:
                raise self.fail(index, "a double-quoted scalar with escapes this subset does not read")
            return value
        if text.startswith("'"):
            if len(text) < 2 or not text.endswith("'") or "'" in text[1:-1].replace("''", ""):
                raise self.fail(index, "unterminated single-quoted scalar")
            return text[1:-1].replace("''", "'")
        if text[:1] in ("&", "*", "!", "%", "@", "`", "{", "[", "|", ">"):
            raise self.fail(index, "this scalar form is not supported")
        return _yaml_plain(text)


def _strip_yaml_comment(text: str) -> str:
    text = text.strip()
    if text.startswith(("'", '"')):
        quote = text[0]
        end = 1
        while end < len(text):
            if text[end] == "\\" and quote == '"':
                end += 2
                continue
            if text[end] == quote:
                if quote == "'" and text[end + 1:end + 2] == "'":
                    end += 2
                    continue
                break
            end += 1
        rest = text[end + 1:].strip()
        if rest and not rest.startswith("#"):
            raise ValueError("text after a quoted scalar: %r" % text)
        return text[:end + 1]
    if text.startswith("#"):
        return ""
    position = text.find(" #")
    return text[:position].rstrip() if position >= 0 else text


def _split_flow_items(inner: str) -> Optional[List[str]]:
    items, current, quote = [], "", ""
    for ch in inner:
        if quote:
            current += ch
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            current += ch
        elif ch == ",":
            items.append(current)
            current = ""
        else:
            current += ch
    if quote:
        return None
    items.append(current)
    if items and not items[-1].strip():
        items.pop()  # [a, b,] - a trailing comma
    return items if all(item.strip() for item in items) else None


def _fold_lines(parts: List[str], keep_breaks: bool = False) -> str:
    """Lines joined as YAML folds them: one space between lines, an empty line a newline."""
    out = ""
    for number, part in enumerate(parts):
        if number == 0:
            out = part
        elif part == "":
            out += "\n"
        elif out.endswith("\n") or (keep_breaks and part.startswith(" ")):
            out += part
        else:
            out += " " + part
    return out


def _yaml_plain(text: str) -> Any:
    """A plain scalar under the YAML 1.2 core schema."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _YAML_INT.match(text):
        return int(text)
    if re.match(r"^0o[0-7]+$", text):
        return int(text[2:], 8)
    if re.match(r"^0x[0-9a-fA-F]+$", text):
        return int(text[2:], 16)
    if _YAML_FLOAT.match(text):
        return float(text)
    if text.lower() in (".inf", "+.inf", "-.inf", ".nan"):
        raise ValueError("%r: infinities and NaN have no JSON form" % text)
    if text.startswith(("- ", "? ", ": ")) or ": " in text:
        raise ValueError("%r: not a plain scalar this subset reads" % text)
    return text


# -- the server side ------------------------------------------------------------------

class SkillBundle:
    """One skill read from a directory: its entry (as ``skills/list`` shows it) and its
    files' bytes by URI."""

    def __init__(self, uri: str, frontmatter: Dict[str, Any], files: Dict[str, Tuple[bytes, str]],
                 resources: List[Dict[str, Any]]) -> None:
        self.uri = uri
        self.frontmatter = frontmatter
        self.files = files  # uri -> (bytes, MIME type)
        self.resources = resources

    @property
    def name(self) -> str:
        return self.frontmatter["name"]

    def entry(self) -> Dict[str, Any]:
        import copy
        return {"uri": self.uri, "frontmatter": copy.deepcopy(self.frontmatter),
                "resources": [dict(item) for item in self.resources]}


def read_skill_directory(path: str, prefix: Optional[str] = None) -> SkillBundle:
    """The skill in directory ``path`` (ValueError when it is not one this extension can
    serve): its URI is ``skill://[<prefix>/]<name>/SKILL.md``."""
    import mimetypes
    import os
    root = os.path.abspath(path)
    skill_md = os.path.join(root, SKILL_FILE)
    if not os.path.isfile(skill_md):
        # "Every skill MUST contain a SKILL.md file at its root."
        raise ValueError("%s has no %s at its root" % (path, SKILL_FILE))
    if prefix is not None:
        segments = prefix.strip("/").split("/")
        if not prefix.strip("/") or any(not s or s in (".", "..") or re.search(r"[\s?#%]", s) for s in segments):
            raise ValueError("prefix %r: '/'-separated path segments, without spaces, '?', '#' or '%%'" % (prefix,))
    found = []  # type: List[Tuple[str, str]]
    # Where a link leads is compared with where the root really is: reached through a linked
    # directory (macOS's /tmp, a ~/skills link), every link in it would lead "outside" it.
    real_root = os.path.realpath(root)
    for directory, subdirectories, names in os.walk(root):
        # A name starting with "." (".git", ".env", ".DS_Store"), at any depth, is a tool's or
        # the system's, not the skill's: it is neither walked into, listed nor served, and
        # counts for none of the limits. Pruned in place, so os.walk never enters it.
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            full = os.path.join(directory, name)
            if os.path.islink(full) and not os.path.realpath(full).startswith(real_root + os.sep):
                raise ValueError("%s links outside the skill directory" % full)
            relative = os.path.relpath(full, root).replace(os.sep, "/")
            found.append((relative, full))
            if len(found) > MAX_SKILL_FILES:
                raise ValueError("%s has more than %d files (the spec's limit per skill)" % (path, MAX_SKILL_FILES))
    contents = {}  # type: Dict[str, bytes]
    total = 0
    for relative, full in found:
        with open(full, "rb") as f:
            data = f.read(MAX_SKILL_BYTES + 1 - total)
        total += len(data)
        if total > MAX_SKILL_BYTES:
            raise ValueError("%s holds more than %d bytes (the spec's limit per skill)" % (path, MAX_SKILL_BYTES))
        contents[relative] = data
    try:
        text = contents[SKILL_FILE].decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("%s is not UTF-8" % skill_md)
    try:
        frontmatter, _ = split_frontmatter(text)
    except ValueError as exc:
        raise ValueError("%s: %s" % (skill_md, exc))
    skill_name = frontmatter.get("name")
    for field in ("name", "description"):
        if not isinstance(frontmatter.get(field), str) or not frontmatter[field]:
            raise ValueError("%s: the frontmatter needs a non-empty %r" % (skill_md, field))
    if not valid_skill_name(skill_name):
        raise ValueError("%s: name %r breaks the Agent Skills naming rules (1-64 of a-z 0-9 and '-', no leading, "
                         "trailing or doubled '-')" % (skill_md, skill_name))
    base = SKILL_SCHEME + (prefix.strip("/") + "/" if prefix is not None else "") + str(skill_name)
    files = {}  # type: Dict[str, Tuple[bytes, str]]
    resources = []  # type: List[Dict[str, Any]]
    from urllib.parse import quote
    for relative, _ in [(SKILL_FILE, "")] + [item for item in found if item[0] != SKILL_FILE]:
        data = contents[relative]
        uri = base + "/" + quote(relative, safe="/-._~")
        if relative == SKILL_FILE:
            mime = "text/markdown"  # "mimeType SHOULD be text/markdown"
        else:
            mime = mimetypes.guess_type(relative)[0] or (
                "text/markdown" if relative.endswith(".md") else "application/octet-stream")
        files[uri] = (data, mime)
        resources.append({"uri": uri, "digest": skill_digest(data), "size": len(data)})
    return SkillBundle(base + "/" + SKILL_FILE, frontmatter, files, resources)


def _skill_file_reader(data: bytes) -> Callable[[], Any]:
    """The function a skill file's resource is read through: text when the bytes are UTF-8
    (their UTF-8 encoding is then the digested bytes again), else the bytes (a blob)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return lambda: data
    if text.startswith("\ufeff"):
        return lambda: data  # a byte order mark would not survive a round trip through a str
    return lambda: text


class SkillCatalog:
    """A server's skills, in registration order, and the two methods that serve them."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.skills = {}  # type: Dict[str, SkillBundle]   # by SKILL.md URI

    def add(self, bundle: SkillBundle) -> None:
        if bundle.uri in self.skills:
            raise ValueError("a skill %r is already served" % bundle.uri)
        for uri, (data, mime) in bundle.files.items():
            is_skill_md = uri == bundle.uri
            self.server.registry.add_resource(
                _skill_file_reader(data), uri, name=bundle.name if is_skill_md else uri.rsplit("/", 1)[-1],
                description=bundle.frontmatter["description"] if is_skill_md else None,
                mime_type=mime, size=len(data))
        self.skills[bundle.uri] = bundle

    def list_skills(self, params: Dict[str, Any], ctx: Any) -> Dict[str, Any]:
        return self.page([bundle.entry() for bundle in self.skills.values()], params, ctx)

    def page(self, entries: List[Dict[str, Any]], params: Dict[str, Any], ctx: Any) -> Dict[str, Any]:
        """The ``skills/list`` result for the page of ``entries`` that ``params["cursor"]``
        names (the first without one), at the server's ``page_size``."""
        start = 0
        if "cursor" in params:
            cursor = self.server.sealer.open(params["cursor"])
            if not (isinstance(cursor, list) and len(cursor) == 2 and cursor[0] == "skills"
                    and type(cursor[1]) is int and cursor[1] >= 0):
                raise MCPError(_INVALID_PARAMS, "Invalid params: invalid cursor %r" % (params["cursor"],))
            start = cursor[1]
        end = len(entries) if self.server.page_size is None else start + self.server.page_size
        # "An entry is atomic": a page holds whole entries, never part of one's resources.
        result = {"skills": entries[start:end]}  # type: Dict[str, Any]
        if end < len(entries):
            result["nextCursor"] = self.server.sealer.seal(["skills", end])
        self._cache_fields(result, ctx)
        return result

    def get_skill(self, params: Dict[str, Any], ctx: Any) -> Dict[str, Any]:
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise MCPError(_INVALID_PARAMS, "Invalid params: \"uri\" must be a string")
        bundle = self.skills.get(uri)
        if bundle is None:
            # "If the URI does not identify a skill the server serves, the server MUST return
            # error -32602 (Invalid params)."
            raise MCPError(_INVALID_PARAMS, "Unknown skill: %s" % uri, {"uri": uri})
        result = {"skill": bundle.entry()}  # type: Dict[str, Any]
        self._cache_fields(result, ctx)
        return result

    def directory_children(self, uri: str, version: str) -> Optional[List[Dict[str, Any]]]:
        """The direct children of directory ``uri`` of a served skill (files as the
        Resource objects resources/list shows, subdirectories as ``inode/directory``), or
        None when ``uri`` is no such directory."""
        children = {}  # type: Dict[str, Dict[str, Any]]
        found = False
        for bundle in self.skills.values():
            root = bundle.uri[:-len("/" + SKILL_FILE)]
            if uri != root and not uri.startswith(root + "/"):
                continue
            for file_uri in bundle.files:
                if not file_uri.startswith(uri + "/"):
                    continue
                found = True
                rest = file_uri[len(uri) + 1:]
                if "/" in rest:
                    child = uri + "/" + rest.split("/", 1)[0]
                    # "Directory URIs are written without a trailing slash."
                    children[child] = {"uri": child, "name": rest.split("/", 1)[0], "mimeType": DIRECTORY_MIME_TYPE}
                else:
                    resource = self.server.registry.resources.get(file_uri)
                    if resource is not None:
                        children[file_uri] = resource.describe(version)
        return [children[key] for key in sorted(children)] if found else None

    def read_directory(self, params: Dict[str, Any], ctx: Any) -> Dict[str, Any]:
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise MCPError(_INVALID_PARAMS, "Invalid params: \"uri\" must be a string")
        entries = self.directory_children(uri, ctx.protocol_version)
        if entries is None:
            # "If the URI does not exist, or exists but is not a directory resource, the
            # server MUST return error -32602 (Invalid params)".
            raise MCPError(_INVALID_PARAMS, "Not a directory: %s" % uri, {"uri": uri})
        start = 0
        if "cursor" in params:
            cursor = self.server.sealer.open(params["cursor"])
            if not (isinstance(cursor, list) and len(cursor) == 3 and cursor[0] == "directory"
                    and cursor[1] == uri and type(cursor[2]) is int and cursor[2] >= 0):
                raise MCPError(_INVALID_PARAMS, "Invalid params: invalid cursor %r" % (params["cursor"],))
            start = cursor[2]
        end = len(entries) if self.server.page_size is None else start + self.server.page_size
        result = {"resources": entries[start:end]}  # type: Dict[str, Any]
        if end < len(entries):
            result["nextCursor"] = self.server.sealer.seal(["directory", uri, end])
        return result

    def _cache_fields(self, result: Dict[str, Any], ctx: Any) -> None:
        # "In protocol versions 2026-07-28 and later, the result also carries the base
        # protocol's list-caching attributes - ttlMs and cacheScope".
        if supports(ctx.protocol_version, "cache_hints"):
            result["ttlMs"] = self.server.cache_ttl_ms
            result["cacheScope"] = self.server.cache_scope


# -- the client side ------------------------------------------------------------------

def _content_bytes(result: Dict[str, Any], uri: str) -> bytes:
    """The bytes of a ``resources/read`` result: a text's UTF-8 encoding, a blob decoded."""
    contents = result.get("contents")
    if not isinstance(contents, list) or not contents or not isinstance(contents[0], dict):
        raise SkillVerificationError("resources/read of %s returned no contents" % uri)
    item = contents[0]
    if isinstance(item.get("text"), str):
        return item["text"].encode("utf-8")
    if isinstance(item.get("blob"), str):
        import base64
        import binascii
        try:
            return base64.b64decode(item["blob"], validate=True)
        except (binascii.Error, ValueError):
            raise SkillVerificationError("resources/read of %s returned a blob that is not base64" % uri)
    raise SkillVerificationError("resources/read of %s returned neither text nor a blob" % uri)


def _listed_file(entry: Dict[str, Any], uri: str) -> Optional[Dict[str, Any]]:
    resources = entry.get("resources")
    if not isinstance(resources, list):
        return None
    for item in resources:
        if isinstance(item, dict) and item.get("uri") == uri:
            return item
    return None


def _verify_bytes(listed: Dict[str, Any], data: bytes, uri: str) -> None:
    size, digest = listed.get("size"), listed.get("digest")
    # "A read whose byte length differs from the entry's size is a verification failure
    # equivalent to a digest mismatch".
    if size is not None and (type(size) is not int or len(data) != size):
        raise SkillVerificationError("%s: %d bytes read, the skill's entry says %r" % (uri, len(data), size))
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise SkillVerificationError("%s: the skill's entry carries no sha256 digest (%r)" % (uri, digest))
    # "it MUST verify the content against that entry's digest, and MUST NOT use unverified content"
    if skill_digest(data) != digest:
        raise SkillVerificationError("%s: the content's digest is not the one the skill's entry lists" % uri)


def check_entry(entry: Any) -> Dict[str, Any]:
    """``entry`` if it has a skill entry's shape, else SkillVerificationError."""
    if not isinstance(entry, dict) or not isinstance(entry.get("uri"), str):
        raise SkillVerificationError("not a skill entry: %r" % (entry,))
    if not isinstance(entry.get("frontmatter"), dict):
        raise SkillVerificationError("skill %s: the entry has no frontmatter object" % entry["uri"])
    name = skill_name_of(entry["uri"])
    if name is None or name != entry["frontmatter"].get("name"):
        raise SkillVerificationError("skill %s: the URI's last segment is not the frontmatter's name %r"
                                     % (entry["uri"], entry["frontmatter"].get("name")))
    return entry


class Skill:
    """A skill a client loaded (``Client.load_skill``): its verified SKILL.md, and its other
    files read on demand, each checked against the entry it was loaded from."""

    def __init__(self, client: Any, entry: Dict[str, Any], text: str, frontmatter: Dict[str, Any],
                 body: str) -> None:
        self._client = client
        self.entry = entry
        self.uri = entry["uri"]  # type: str
        self.text = text  # the whole SKILL.md
        self.frontmatter = frontmatter
        self.body = body  # the SKILL.md after its frontmatter
        self.root = self.uri[:-len("/" + SKILL_FILE)]

    @property
    def name(self) -> str:
        return self.frontmatter["name"]

    @property
    def files(self) -> List[str]:
        """The URIs the entry lists (SKILL.md included)."""
        resources = self.entry.get("resources")
        return [item["uri"] for item in resources if isinstance(item, dict) and isinstance(item.get("uri"), str)] \
            if isinstance(resources, list) else []

    def resolve(self, path: str) -> str:
        """The URI of ``path``, relative to the skill's root (a full URI is kept). A path
        as the SKILL.md names a file (``notes file.md``) is the listed URI that escapes it
        (``notes%20file.md``); one written escaped already is taken as it is."""
        if "://" in path:
            return path
        import posixpath
        normal = posixpath.normpath(path)
        if normal in (".", "") or normal.startswith(("/", "../")) or normal == "..":
            raise ValueError("%r is not a file of skill %s" % (path, self.uri))
        uri = self.root + "/" + normal
        listed = self.files
        if uri not in listed:
            from urllib.parse import quote
            escaped = self.root + "/" + quote(normal, safe="/-._~")
            if escaped in listed:
                return escaped
        return uri

    def read_bytes(self, path: str, timeout: Optional[float] = None) -> bytes:
        """The verified bytes of one of the skill's files (``path`` relative to its root, or
        a URI). A file the entry does not list is a verification failure, as the spec says:
        "MUST treat a read of an unlisted file within the skill as a verification failure"."""
        uri = self.resolve(path)
        listed = _listed_file(self.entry, uri)
        if listed is None:
            if self.entry.get("resources") == "dynamic" or "resources" not in self.entry:
                return _content_bytes(self._client.read_resource(uri, timeout=timeout), uri)
            raise SkillVerificationError("%s is not listed in the resources of skill %s" % (uri, self.uri))
        _check_listed_size(listed, uri)
        data = _content_bytes(self._client.read_resource(uri, timeout=timeout), uri)
        _verify_bytes(listed, data, uri)
        return data

    def read(self, path: str, timeout: Optional[float] = None) -> str:
        """A file of the skill as text (UTF-8), verified as ``read_bytes`` does."""
        return self.read_bytes(path, timeout).decode("utf-8")

    def __repr__(self) -> str:
        return "<Skill %s>" % self.uri


def read_directory(client: Any, uri: str, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
    """Every child of directory ``uri`` (``resources/directory/read``, all pages)."""
    settings = (client.server_capabilities.get("extensions") or {}).get(SKILLS_EXTENSION)
    if not isinstance(settings, dict) or settings.get("directoryRead") is not True:
        # "clients MUST NOT call resources/directory/read against a server that has not
        # declared directoryRead: true"
        raise ProtocolError("the server does not declare directoryRead in the %s extension" % SKILLS_EXTENSION)
    children = []  # type: List[Dict[str, Any]]
    params = {"uri": uri}  # type: Dict[str, Any]
    seen = set()  # type: set
    for _ in range(1000):
        result = client.request("resources/directory/read", params, timeout=timeout)
        page = result.get("resources")
        if not isinstance(page, list):
            raise ProtocolError("the server's resources/directory/read result has no resources list")
        children.extend(page)
        cursor = result.get("nextCursor")
        if cursor is None:
            return children
        if not isinstance(cursor, str) or cursor in seen:
            raise ProtocolError("the server's resources/directory/read cursors loop or are not strings")
        seen.add(cursor)
        params = {"uri": uri, "cursor": cursor}
    raise ProtocolError("the server's resources/directory/read never ends")


def _check_listed_size(listed: Dict[str, Any], uri: str) -> None:
    size = listed.get("size")
    if type(size) is int and size > MAX_SKILL_BYTES:
        raise SkillVerificationError("%s: %d bytes is beyond what a skill may hold" % (uri, size))


def load_skill(client: Any, entry: Dict[str, Any], allow_unverified: bool = False,
               timeout: Optional[float] = None) -> Skill:
    """Fetch and verify the SKILL.md of ``entry`` (from ``skills/list`` or ``skills/get``)."""
    entry = check_entry(entry)
    uri = entry["uri"]
    listed = _listed_file(entry, uri)
    if listed is None:
        if isinstance(entry.get("resources"), list):
            # "including an entry matching the skill's top-level uri"
            raise SkillVerificationError("skill %s: its resources do not list its SKILL.md" % uri)
        if not allow_unverified:
            # "Hosts MAY decline to load skills without resources": a default that trusts
            # nothing unverifiable (allow_unverified=True to load one).
            raise SkillVerificationError("skill %s publishes no digests (resources %r); load_skill(..., "
                                         "allow_unverified=True) loads it anyway" % (uri, entry.get("resources")))
    else:
        _check_listed_size(listed, uri)
    data = _content_bytes(client.read_resource(uri, timeout=timeout), uri)
    if listed is not None:
        _verify_bytes(listed, data, uri)
    try:
        text = data.decode("utf-8")
        frontmatter, body = split_frontmatter(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SkillVerificationError("skill %s: cannot read its SKILL.md frontmatter (%s)" % (uri, exc))
    # "hosts MUST parse its YAML frontmatter and compare it field-by-field against the entry's
    # frontmatter. Any discrepancy MUST be treated as a verification failure".
    promised = entry["frontmatter"]
    for key in sorted(set(frontmatter) | set(promised)):
        if not _same_json(frontmatter.get(key), promised.get(key)):
            raise SkillVerificationError("skill %s: frontmatter field %r is %r in SKILL.md but %r in its entry"
                                         % (uri, key, frontmatter.get(key), promised.get(key)))
    return Skill(client, entry, text, frontmatter, body)


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: 1 and 1.0 alike, True and 1 not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b
