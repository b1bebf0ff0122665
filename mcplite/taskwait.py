"""The client's side of the tasks extension (SEP-2663, ``io.modelcontextprotocol/tasks``,
2026-07-28): wait for a task a server created, answering its questions on the way.

A ``tools/call`` that a server runs as a task answers at once with a CreateTaskResult::

    {"resultType": "task", "taskId": "...", "status": "working", "pollIntervalMs": 500, ...}

and the client polls ``tasks/get`` until the task ends: ``completed`` carries the tool's
result inline (``result``), ``failed`` a JSON-RPC error object (``error``), ``cancelled``
neither. ``input_required`` carries ``inputRequests``, the same questions an
``input_required`` round asks; the client answers them through its handlers and sends the
answers with ``tasks/update``. The server keeps a question pending until it has its answer,
so a question is answered once even when a later ``tasks/get`` still shows it.

The wait is bounded like a call with progress: ``timeout`` seconds without any change in
the task (its status, message or ``lastUpdatedAt``), and ``max_timeout`` in all. Giving up,
or Ctrl-C, sends ``tasks/cancel``.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Set

from .errors import MCPError, ProtocolError, RequestTimeout, TaskCancelled, TransportError
from .protocol import META_CLIENT_CAPABILITIES

_TASK_TERMINAL = ("completed", "failed", "cancelled")
_TASK_POLL_DEFAULT = 0.5  # seconds, when the server suggests nothing
_TASK_POLL_MIN = 0.05  # never hammer a server, whatever it suggests
_TASK_POLL_MAX = 5.0  # and never sleep past a change for long


def _poll_interval(task: Dict[str, Any]) -> float:
    suggested = task.get("pollIntervalMs")
    if isinstance(suggested, bool) or not isinstance(suggested, (int, float)) or suggested <= 0:
        return _TASK_POLL_DEFAULT
    return min(max(suggested / 1000.0, _TASK_POLL_MIN), _TASK_POLL_MAX)


def task_outcome(task: Dict[str, Any]) -> Dict[str, Any]:
    """The tool's result of a terminal ``tasks/get`` answer, or the error it stands for."""
    task_id = str(task.get("taskId"))
    status = task.get("status")
    if status == "completed":
        result = task.get("result")
        if not isinstance(result, dict):
            raise ProtocolError("the server's completed task %s has no result object" % task_id)
        return result
    if status == "failed":
        error = task.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), int) and not isinstance(error.get("code"), bool):
            raise MCPError(error["code"], str(error.get("message", "")), error.get("data"))
        raise ProtocolError("task %s failed (the server gave no error object)" % task_id)
    if status == "cancelled":
        raise TaskCancelled(task_id, task.get("statusMessage") if isinstance(task.get("statusMessage"), str)
                            else None)
    raise ProtocolError("task %s has an unknown status %r" % (task_id, status))


def await_task(client: Any, created: Dict[str, Any], timeout: Optional[float]) -> Dict[str, Any]:
    """Poll the task ``created`` names until it ends; return the tool's result (or raise
    what it ended with). ``client`` is the ``Client`` that created it."""
    task_id = created.get("taskId")
    if not isinstance(task_id, str) or not task_id:
        raise ProtocolError("the server created a task with no taskId")
    patience = client.timeout if timeout is None else timeout
    start = time.monotonic()
    hard_stop = start + max(client.max_timeout, patience)
    deadline = start + patience
    answered = set()  # type: Set[str]
    task = created
    seen = None  # type: Any
    try:
        while True:
            status = task.get("status")
            if status in _TASK_TERMINAL and task is not created:
                return task_outcome(task)
            mark = (status, task.get("statusMessage"), task.get("lastUpdatedAt"))
            if mark != seen:  # a change: the task is alive, give it another `patience`
                seen = mark
                deadline = min(time.monotonic() + patience, hard_stop)
            # (a CreateTaskResult never carries the questions: "MUST NOT contain inputRequests")
            asking = status == "input_required" and task is not created
            if asking:
                _answer(client, task_id, task, answered)
            elif status not in ("working", "input_required") and status not in _TASK_TERMINAL:
                raise ProtocolError("task %s has an unknown status %r" % (task_id, status))
            if not asking or not _has_new(task, answered):
                pause = min(_poll_interval(task), deadline - time.monotonic())
                if pause > 0:
                    time.sleep(pause)
            if time.monotonic() >= deadline:
                raise RequestTimeout("task %s" % task_id, patience)
            task = _request(client, "tasks/get", {"taskId": task_id}, patience)
    except (RequestTimeout, KeyboardInterrupt):
        # Nobody waits for it any more: the server may stop working on it.
        cancel_task(client, task_id)
        raise


def _has_new(task: Dict[str, Any], answered: Set[str]) -> bool:
    requests = task.get("inputRequests")
    return isinstance(requests, dict) and any(key not in answered for key in requests)


def _answer(client: Any, task_id: str, task: Dict[str, Any], answered: Set[str]) -> None:
    """Answer the questions of an ``input_required`` task not answered yet."""
    requests = task.get("inputRequests")
    if not isinstance(requests, dict):
        raise ProtocolError("task %s needs input but sent no inputRequests object" % task_id)
    fresh = {key: entry for key, entry in requests.items() if key not in answered}
    if not fresh:
        return  # (answered already; the server has not caught up yet)
    responses = {key: client._answer_input(entry) for key, entry in fresh.items()}
    _request(client, "tasks/update", {"taskId": task_id, "inputResponses": responses}, None)
    answered.update(fresh)


def _request(client: Any, method: str, params: Dict[str, Any], timeout: Optional[float]) -> Dict[str, Any]:
    # The tasks methods need the extension declared on each request ("-32021 without it"),
    # whether the client declares it everywhere or only for the call that made the task.
    meta = {META_CLIENT_CAPABILITIES: client.capabilities_with_tasks(True)}
    return client.request(method, dict(params, _meta=meta), timeout=timeout)


def cancel_task(client: Any, task_id: str, timeout: Optional[float] = None, quiet: bool = True) -> None:
    """``tasks/cancel``; ``quiet``: best effort (the server may have ended the task, or be
    gone), and never long."""
    if quiet and timeout is None:
        timeout = min(client.timeout, 5.0)
    try:
        _request(client, "tasks/cancel", {"taskId": task_id}, timeout)
    except (MCPError, TransportError):
        if not quiet:
            raise
