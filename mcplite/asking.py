"""Asking the client while a request is served: elicitation, sampling, roots, ping.

The same handler code works in both protocol eras; only the mechanics differ.

* **Legacy era** (``initialize`` sessions): the server sends a real JSON-RPC request to the
  client (on stdio's stdout, or on the POST's SSE stream over HTTP) and the handler's
  thread waits for the answer, up to a timeout.
* **2026-07-28**: there are no server-to-client requests. The handler is *re-run*: when
  it asks something the client has not answered yet, ``InputRequired`` unwinds it and the
  request gets an ``input_required`` result listing what to ask, with a sealed
  ``requestState`` carrying the answers gathered so far. The client retries the request
  with ``inputResponses``; the handler runs again from the top, and each question it asks
  again is answered at once from the retry (or the state) - until it gets past the last
  one. The server keeps nothing between rounds. The price: code before a question runs
  once per round, so side effects belong after the questions (or must be idempotent).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from .jsonrpc import (
    INVALID_PARAMS, INVALID_REQUEST, MISSING_REQUIRED_CLIENT_CAPABILITY, REQUEST_TIMEOUT, notification,
)
from .errors import Cancelled, ConnectionClosed, InputRequired, MCPError, UrlElicitationRequired
from .calls import Rounds, principal_identity
from .ports import refused_here
from .protocol import TASKS_EXTENSION, supports
from .schema import compile_schema

_ELICIT = "elicitation/create"
_SAMPLE = "sampling/createMessage"
_ROOTS = "roots/list"
_PRIMITIVE_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
_ANSWERABLE = frozenset(("tools/call", "prompts/get", "resources/read"))  # requests that take inputResponses


def new_elicitation_id() -> str:
    """"The ID of the elicitation, which must be unique within the context of the server"."""
    return os.urandom(12).hex()


# ---------------------------------------------------------------------------
# Building the requests

def form_schema(schema: Any) -> Dict[str, Any]:
    """The ``requestedSchema`` of a form elicitation. Either a full schema (``{"type":
    "object", "properties": ...}``, sent exactly as given) or a shorthand mapping of field
    names to ``str``/``int``/``float``/``bool`` or to property schemas, all required."""
    if not isinstance(schema, dict):
        raise TypeError("an elicitation schema is a dict: {'type': 'object', 'properties': ...} or {'field': str, ...}")
    if schema.get("type") == "object":
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            raise ValueError("an elicitation schema needs 'properties'")
        full = schema
    else:
        properties = {}
        for name, spec in schema.items():
            if spec in _PRIMITIVE_TYPES:
                properties[name] = {"type": _PRIMITIVE_TYPES[spec]}
            elif isinstance(spec, dict):
                properties[name] = spec
            else:
                raise TypeError("elicitation field %r: use str, int, float, bool or a property schema" % name)
        full = {"type": "object", "properties": properties, "required": list(properties)}
    for name, prop in properties.items():
        # "Only top-level properties are allowed, without nesting": primitives, and
        # arrays of enumerated strings (multi-select).
        kind = prop.get("type") if isinstance(prop, dict) else None
        if kind not in ("string", "number", "integer", "boolean", "array") and not (
                isinstance(prop, dict) and kind is None and ("enum" in prop or "oneOf" in prop)):
            raise ValueError("elicitation field %r: only string, number, integer, boolean and enum "
                             "fields can be asked for (no nested objects)" % name)
    return full


def sampling_messages(messages: Any) -> List[Dict[str, Any]]:
    """Messages for ``sampling/createMessage``: a str is one user message; a list may mix
    strs, content blocks and ``{"role", "content"}`` dicts (content may be a str)."""
    items = [messages] if isinstance(messages, (str, dict)) else list(messages)
    out = []
    for item in items:
        if isinstance(item, str):
            out.append({"role": "user", "content": {"type": "text", "text": item}})
        elif isinstance(item, dict) and "role" in item:
            content = item.get("content")
            message = dict(item)
            if isinstance(content, str):
                message["content"] = {"type": "text", "text": content}
            out.append(message)
        elif isinstance(item, dict) and "type" in item:
            out.append({"role": "user", "content": item})
        else:
            raise TypeError("a sampling message is a str, a content block or {'role', 'content'}; got %r" % (item,))
    if not out:
        raise ValueError("sampling needs at least one message")
    return out


def required_capability(method: str, params: Dict[str, Any], capabilities: Dict[str, Any],
                        version: str) -> Optional[Dict[str, Any]]:
    """The ``requiredCapabilities`` the client lacks for this request, or None. Servers
    "MUST NOT send" what the client did not declare."""
    if method == _ELICIT:
        url_mode = params.get("mode") == "url"
        if not supports(version, "url_elicitation" if url_mode else "elicitation"):
            return {"elicitation": {"url": {}} if url_mode else {}}
        declared = capabilities.get("elicitation")
        if not isinstance(declared, dict):
            return {"elicitation": {"url": {}} if url_mode else {}}
        if url_mode and "url" not in declared:
            return {"elicitation": {"url": {}}}
        # An empty object means form mode ("equivalent to declaring support for form").
        if not url_mode and declared and "form" not in declared:
            return {"elicitation": {"form": {}}}
    elif method == _SAMPLE:
        declared = capabilities.get("sampling")
        if not isinstance(declared, dict):
            return {"sampling": {}}
        if ("tools" in params or "toolChoice" in params) and (not supports(version, "sampling_tools")
                                                               or "tools" not in declared):
            return {"sampling": {"tools": {}}}
        if (params.get("includeContext") in ("thisServer", "allServers") and supports(version, "sampling_context")
                and "context" not in declared):
            return {"sampling": {"context": {}}}
    elif method == _ROOTS:
        if not isinstance(capabilities.get("roots"), dict):
            return {"roots": {}}
    return None


def missing_tasks_capability(what: str) -> MCPError:
    """-32021 for ``what`` (a tool that runs only as a task, a tasks/* request) asked by a
    client that did not declare the tasks extension on its request."""
    return MCPError(MISSING_REQUIRED_CLIENT_CAPABILITY,
                    "Missing required client capability: %s needs the %s extension" % (what, TASKS_EXTENSION),
                    {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}})


def _capability_error(method: str, required: Dict[str, Any]) -> MCPError:
    return MCPError(MISSING_REQUIRED_CLIENT_CAPABILITY,
                    "The client did not declare the capability %s needs: %s"
                    % (method, json.dumps(required, separators=(",", ":"))), {"requiredCapabilities": required})


# ---------------------------------------------------------------------------
# Checking the answers

def answer_problem(method: str, params: Dict[str, Any], answer: Any) -> Optional[str]:
    """What is wrong with the client's result for one of our requests (None: nothing)."""
    if not isinstance(answer, dict):
        return "expected an object, got %s" % type(answer).__name__
    if method == _ELICIT:
        action = answer.get("action")
        if action not in ("accept", "decline", "cancel"):
            return "action must be \"accept\", \"decline\" or \"cancel\", not %r" % (action,)
        content = answer.get("content")
        if action == "accept" and params.get("mode") != "url":
            if not isinstance(content, dict):
                return "an accepted form needs content (an object)"
            problem = compile_schema(params["requestedSchema"])(content)
            if problem is not None:
                return "the content does not match the requested schema: %s" % problem
        elif content is not None and not isinstance(content, dict):
            return "content must be an object"
    elif method == _SAMPLE:
        if answer.get("role") not in ("user", "assistant"):
            return "role must be \"user\" or \"assistant\""
        if not isinstance(answer.get("content"), (dict, list)):
            return "content must be a content block (or a list of them)"
        if not isinstance(answer.get("model"), str):
            return "model must be a string"
    elif method == _ROOTS:
        roots = answer.get("roots")
        if not isinstance(roots, list) or not all(isinstance(r, dict) and isinstance(r.get("uri"), str)
                                                  for r in roots):
            return "roots must be a list of {\"uri\", \"name\"?} objects"
    return None


# ---------------------------------------------------------------------------
# Asking

def ask(call: Any, kind: str, method: str, params: Dict[str, Any], key: Optional[str],
        timeout: Optional[float]) -> Dict[str, Any]:
    """Put one request to the client for ``call`` and return the client's result (a wire
    dict). Raises MCPError (capability missing, timeout, malformed answer, the client's
    own error), ``Cancelled``, or - in 2026-07-28 - InputRequired."""
    if call.task is not None:
        return _ask_in_task(call, kind, method, params, key, timeout)
    if call.request.modern:
        return _ask_by_round_trip(call, kind, method, params, key)
    return _ask_now(call, method, params, timeout)


def _input_key(call: Any, kind: str, method: str, key: Optional[str]) -> str:
    if method not in (_ELICIT, _SAMPLE, _ROOTS):
        raise MCPError(INVALID_REQUEST, "%s cannot be sent to a 2026-07-28 client" % method)
    rounds = call.rounds_state()
    rounds.asked += 1
    if key is None:
        # The n-th question of a run: the handler asks the same questions in the same
        # order every round, so the numbering is stable across rounds.
        return "%s-%d" % (kind, rounds.asked)
    if not isinstance(key, str) or not key:
        raise ValueError("an input key is a non-empty string")
    return key


def _ask_in_task(call: Any, kind: str, method: str, params: Dict[str, Any], key: Optional[str],
                 timeout: Optional[float]) -> Dict[str, Any]:
    """In a task (the tasks extension) the handler runs once, on a thread of its own: the
    question becomes one of the task's ``inputRequests`` (status ``input_required``) and the
    handler waits for the ``tasks/update`` that answers it - until the task is cancelled
    or expires, or ``timeout`` seconds pass."""
    key = _input_key(call, kind, method, key)
    task = call.task
    store = call.server.tasks
    found = store.answered(task, key)
    if found is None:
        required = required_capability(method, params, call.request.client_capabilities, call.request.version)
        if required is not None:
            raise _capability_error(method, required)
        request = {key: {"method": method, "params": params}}
        if task.gathering:
            raise InputRequired(request)  # ctx.gather posts them all at once, then waits
        store.await_answers(task, request, timeout)
        found = store.answered(task, key)
    # Checked when tasks/update took it; checked again for answers carried over from the
    # input_required rounds before the task started.
    problem = answer_problem(method, params, found[0])
    if problem is not None:
        raise MCPError(INVALID_PARAMS, "Invalid params: inputResponses[%r] is not a valid %s result: %s"
                       % (key, method, problem), {"key": key})
    return found[0]


def _ask_by_round_trip(call: Any, kind: str, method: str, params: Dict[str, Any], key: Optional[str]) -> Dict[str, Any]:
    key = _input_key(call, kind, method, key)
    answers = call.rounds_state().answers
    if answers is not None and key in answers:
        answer = answers[key]
        problem = answer_problem(method, params, answer)
        if problem is not None:
            raise MCPError(INVALID_PARAMS, "Invalid params: inputResponses[%r] is not a valid %s result: %s"
                           % (key, method, problem), {"key": key})
        call.rounds_state().used[key] = answer
        return answer
    required = required_capability(method, params, call.request.client_capabilities, call.request.version)
    if required is not None:
        raise _capability_error(method, required)
    raise InputRequired({key: {"method": method, "params": params}})


def _ask_now(call: Any, method: str, params: Dict[str, Any], timeout: Optional[float]) -> Dict[str, Any]:
    port = call.port
    if not port.stateful:
        raise refused_here(method)
    if method != "ping":
        required = required_capability(method, params, call.request.client_capabilities, call.request.version)
        if required is not None:
            raise _capability_error(method, required)
    if call.cancelled:
        raise Cancelled("request %r was cancelled" % (call.request.id,))
    if timeout is None:
        timeout = call.server.client_request_timeout
    if call.trace is not None:
        from .tracecontext import with_call_trace  # (loaded: the trace came through it)
        params = with_call_trace(params, call.trace)
    message, pending = port.ask(method, params)  # (refused where the port has no way back)
    call.waiting = pending
    try:
        if call.cancelled:
            # Cancelled between the check above and ``waiting`` being set: the canceller
            # found nothing to wake, so stop here rather than wait out the timeout.
            port.forget(pending.id)
            raise Cancelled("request %r was cancelled" % (call.request.id,))
        call.emit(message)
        try:
            result = pending.wait(timeout)
        except TimeoutError:
            port.forget(pending.id)
            # "the sender SHOULD issue a cancellation notification for that request and
            # stop waiting for a response."
            call.emit(notification("notifications/cancelled", {"requestId": pending.id, "reason": "timed out"}))
            raise MCPError(REQUEST_TIMEOUT, "The client did not answer %s within %g s" % (method, timeout))
        except ConnectionClosed:
            raise
        except MCPError as exc:
            # The client's own error, its code kept for the handler (-1: the user said no),
            # its message saying whose it is should it travel on as this request's error.
            raise MCPError(exc.code, "The client answered %s with an error: %s" % (method, exc.message),
                           *([exc.data] if exc.has_data else []))
    finally:
        call.waiting = None
    if call.cancelled:
        raise Cancelled("request %r was cancelled" % (call.request.id,))
    problem = answer_problem(method, params, result)
    if problem is not None:
        raise MCPError(INVALID_PARAMS, "The client's answer to %s is malformed: %s" % (method, problem))
    return result


def gather(call: Any, questions: Sequence[Callable[[], Any]]) -> List[Any]:
    """Run several questions; in 2026-07-28 the ones not answered yet go to the client
    together, in one ``input_required`` result; in a task they become the task's input
    requests together, and the handler waits for all the answers."""
    task = call.task
    if task is not None:
        rounds = call.rounds_state()
        first = rounds.asked
        wanted = {}  # type: Dict[str, Dict[str, Any]]
        task.gathering = True
        try:
            for question in questions:
                try:
                    question()
                except InputRequired as exc:
                    wanted.update(exc.requests)
        finally:
            task.gathering = False
        if wanted:
            call.server.tasks.await_answers(task, wanted, None)
        rounds.asked = first  # the same questions again, in the same order: all answered now
        return [question() for question in questions]
    results = []  # type: List[Any]
    missing = {}  # type: Dict[str, Dict[str, Any]]
    for question in questions:
        try:
            results.append(question())
        except InputRequired as exc:
            missing.update(exc.requests)
            results.append(None)
    if missing:
        raise InputRequired(missing)
    return results


# ---------------------------------------------------------------------------
# 2026-07-28 rounds: reading the answers in, sealing them out

def _binding(call: Any) -> List[Any]:
    """What a requestState belongs to: this method on this target with these arguments,
    for this principal - so a state cannot be carried over to another request."""
    import hashlib  # loads OpenSSL: only once a round actually needs it
    params = call.request.params
    arguments = params.get("arguments")
    if call.request.method in call.server.registry.methods:
        # An application's own method: its params are its arguments.
        arguments = {key: value for key, value in params.items()
                     if key not in ("_meta", "inputResponses", "requestState")}
    digest = hashlib.sha256(json.dumps(arguments, sort_keys=True, separators=(",", ":"),
                                       default=str).encode("utf-8")).hexdigest()[:32]
    return [call.request.method, params.get("name", params.get("uri")), digest,
            principal_identity(call.request.principal)]


def load_answers(call: Any) -> None:
    """Before a 2026-07-28 request that takes ``inputResponses`` runs: check them and its
    ``requestState``, and make the answers available to the handler's questions."""
    params = call.request.params
    if "inputResponses" not in params and "requestState" not in params:
        return
    if call.request.method not in _ANSWERABLE:
        handler = call.server.registry.methods.get(call.request.method)
        if handler is None or handler.quick:
            # (A quick method asks nothing: its inputResponses, if any, are its own params,
            # as tasks/update's answers to a task's questions.)
            return
    answers = {}  # type: Dict[str, Any]
    if "requestState" in params:
        state = call.server.sealer.open(params["requestState"])
        if not isinstance(state, dict) or not isinstance(state.get("a"), dict):
            raise MCPError(INVALID_PARAMS, "Invalid params: requestState integrity check failed")
        if state.get("b") != _binding(call):
            raise MCPError(INVALID_PARAMS, "Invalid params: requestState belongs to another request")
        if not isinstance(state.get("e"), (int, float)) or state["e"] < time.time():
            raise MCPError(INVALID_PARAMS, "Invalid params: requestState has expired; send the request again "
                                           "without it")
        answers.update(state["a"])
    if "inputResponses" in params:
        responses = params["inputResponses"]
        if not isinstance(responses, dict):
            raise MCPError(INVALID_PARAMS, "Invalid params: inputResponses must be an object")
        for key, value in responses.items():
            if not isinstance(value, dict):
                raise MCPError(INVALID_PARAMS, "Invalid params: inputResponses[%r] must be an object (the client's "
                                               "result for that input request)" % key, {"key": key})
            # Answers sealed in earlier rounds stand; keys nobody asked are ignored when
            # nobody asks for them.
            answers.setdefault(key, value)
    call.rounds = Rounds(answers)


def input_required_result(call: Any, requests: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    state = {"b": _binding(call), "a": call.rounds_state().used, "e": int(time.time()) + call.server.input_state_ttl,
             "n": os.urandom(6).hex()}  # the nonce: every round's state differs
    return {"resultType": "input_required", "inputRequests": requests, "requestState": call.server.sealer.seal(state)}


def url_elicitation_round(call: Any, error: UrlElicitationRequired) -> Dict[str, Any]:
    """2026-07-28 has no -32042 error: the same question becomes an input request. The
    retry runs the handler again; if the interaction is still not done it asks again."""
    params = {"mode": "url", "message": error.prompt, "url": error.url}
    key = "url-" + error.elicitation_id
    required = required_capability(_ELICIT, params, call.request.client_capabilities, call.request.version)
    if required is not None:
        raise _capability_error(_ELICIT, required)
    return input_required_result(call, {key: {"method": _ELICIT, "params": params}})
