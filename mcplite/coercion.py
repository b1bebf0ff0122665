"""Lossless string conversions for arguments a tool's input schema refuses.

Models often send ``"3"`` for 3 and ``"true"`` for true. ``compile_coercer`` turns a schema
into a function that converts exactly those strings the schema wants as an integer, number or
boolean; ``Server(coerce_arguments=True)`` validates the result again and runs the tool with
it (without that option the refusal only suggests it). Only a refused call needs this, so the
module is loaded by the first refusal, not with the server.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Dict, List, Sequence

from .schema import _Compiler

_NOT_SPELLED = object()  # _coerce_text's "no value of those types is spelled so"

# Models often quote numbers and booleans ("3", "true"). A string is converted only when it
# is exactly JSON's own spelling of the value, so the result is what the same text gives
# unquoted and nothing is guessed: "1_000", "0x10", " 3", "+3", "NaN", "Infinity", "١٢",
# "True" and "1" (for a boolean) stay strings. Never between booleans and numbers.
_INTEGER_TEXT = r"-?(?:0|[1-9][0-9]*)(?:\.0+)?\Z"  # "3.0" is the integer 3 exactly; "3.5" no integer
_NUMBER_TEXT = r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z"
# CPython's limit on int() of a string (3.11+), applied on every version: int() of longer
# digit strings is quadratic, one request could keep a core busy.
_MAX_DIGITS = 4300


def _coerce_text(text: str, names: Sequence[str]) -> Any:
    """``text`` as the integer, number or boolean the schema type ``names`` allow, or
    _NOT_SPELLED when it spells none of them exactly."""
    if len(text) > _MAX_DIGITS:
        return _NOT_SPELLED
    if "boolean" in names and text in ("true", "false"):
        return text == "true"
    if "number" in names:
        m = re.match(_NUMBER_TEXT, text)
        if m is None:
            return _NOT_SPELLED
        if m.group(1) is None and m.group(2) is None:
            return int(text)  # as JSON gives 3 for 3: an int, exact at any size
        number = float(text)
        mantissa = text.split("e")[0].split("E")[0]
        # Refused: "1e400" (no float holds it) and "1e-400" (a nonzero number read as 0).
        if not math.isfinite(number) or (number == 0 and any(c in "123456789" for c in mantissa)):
            return _NOT_SPELLED
        return number
    if "integer" in names and re.match(_INTEGER_TEXT, text):
        return int(text.split(".")[0])
    return _NOT_SPELLED


def _same(value: Any) -> Any:
    return value


class _Coercer:
    """Compiles a schema into a function that returns a value with each string converted
    where the schema wants an integer, number or boolean (and no string) and the string
    spells one exactly (``_coerce_text``); the very same object where nothing changed, so a
    caller can tell. Follows properties, items and $ref; in anyOf/oneOf, a value some branch
    already accepts is left alone (``Union[int, str]`` keeps "3"), else the first branch
    whose conversion it then passes is used."""

    def __init__(self, root: Any) -> None:
        self.checks = _Compiler(root)
        self.refs = {}  # type: Dict[str, Callable[[Any], Any]]

    def ref(self, ref: str) -> Callable[[Any], Any]:
        found = self.refs.get(ref)
        if found is None:
            slot = []  # type: List[Callable[[Any], Any]]

            def deferred(value: Any) -> Any:
                return slot[0](value)
            self.refs[ref] = deferred
            slot.append(self.compile(self.checks.resolve(ref)))
            found = deferred
        return found

    def compile(self, schema: Any, depth: int = 0) -> Callable[[Any], Any]:
        if depth > _Compiler._MAX_DEPTH:
            raise ValueError("schema nested deeper than %d levels" % _Compiler._MAX_DEPTH)
        if not isinstance(schema, dict):
            return _same
        d = depth + 1
        steps = []  # type: List[Callable[[Any], Any]]
        if "$ref" in schema:
            steps.append(self.ref(schema["$ref"]))
        kinds = schema.get("type")
        names = [kinds] if isinstance(kinds, str) else list(kinds) if isinstance(kinds, list) else []
        if "string" not in names and {"integer", "number", "boolean"}.intersection(names):
            def coerce_text(value: Any) -> Any:
                if isinstance(value, str):
                    converted = _coerce_text(value, names)
                    if converted is not _NOT_SPELLED:
                        return converted
                return value
            steps.append(coerce_text)
        steps.extend(self._objects(schema, d))
        steps.extend(self._arrays(schema, d))
        for keyword in ("anyOf", "oneOf"):
            if isinstance(schema.get(keyword), list):
                steps.append(self._alternatives(schema[keyword], d))
        for sub in schema.get("allOf") or ():
            steps.append(self.compile(sub, d))
        steps = [step for step in steps if step is not _same]
        if not steps:
            return _same
        if len(steps) == 1:
            return steps[0]

        def coerce_all(value: Any) -> Any:
            for step in steps:
                value = step(value)
            return value
        return coerce_all

    def _objects(self, schema: Dict[str, Any], d: int) -> List[Callable[[Any], Any]]:
        props = {k: self.compile(s, d) for k, s in (schema.get("properties") or {}).items()}
        patterns = [(k, self.compile(s, d)) for k, s in (schema.get("patternProperties") or {}).items()]
        extra = schema.get("additionalProperties")
        extra_step = self.compile(extra, d) if isinstance(extra, dict) else _same
        if all(s is _same for s in props.values()) and all(s is _same for _, s in patterns) and extra_step is _same:
            return []

        def coerce_object(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            out = None
            for key, item in value.items():
                step = props.get(key)
                if step is None:
                    matched = [s for p, s in patterns if re.search(p, key)]
                    step = matched[0] if matched else extra_step
                new = step(item)
                if new is not item:
                    if out is None:
                        out = dict(value)
                    out[key] = new
            return value if out is None else out
        return [coerce_object]

    def _arrays(self, schema: Dict[str, Any], d: int) -> List[Callable[[Any], Any]]:
        prefix = [self.compile(s, d) for s in schema.get("prefixItems") or ()]
        items = schema.get("items")
        if isinstance(items, list):  # draft-07 tuple form
            prefix, items = [self.compile(s, d) for s in items], schema.get("additionalItems")
        item_step = self.compile(items, d) if isinstance(items, dict) else _same
        if all(s is _same for s in prefix) and item_step is _same:
            return []

        def coerce_array(value: Any) -> Any:
            if not isinstance(value, list):
                return value
            out = None
            for i, item in enumerate(value):
                new = (prefix[i] if i < len(prefix) else item_step)(item)
                if new is not item:
                    if out is None:
                        out = list(value)
                    out[i] = new
            return value if out is None else out
        return [coerce_array]

    def _alternatives(self, schemas: List[Any], d: int) -> Callable[[Any], Any]:
        branches = [(self.checks.compile(s, d), self.compile(s, d)) for s in schemas]
        if all(step is _same for _, step in branches):
            return _same

        def coerce_branch(value: Any) -> Any:
            if any(check(value, "") is None for check, _ in branches):
                return value
            for check, step in branches:
                new = step(value)
                if new is not value and check(new, "") is None:
                    return new
            return value
        return coerce_branch


def compile_coercer(schema: Any, root: Any = None) -> Callable[[Any], Any]:
    """The lossless string conversions ``schema`` allows, as one function (see ``_Coercer``):
    it returns its argument itself when there is nothing to convert. Meant for a value that
    failed validation, to be validated again after."""
    return _Coercer(schema if root is None else root).compile(schema)
