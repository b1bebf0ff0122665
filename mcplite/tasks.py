"""The tasks extension (``io.modelcontextprotocol/tasks``, SEP-2663): the store of the tasks
a server has started, and each task's state.

A 2026-07-28 ``tools/call`` may be answered with a task handle instead of its result; the
client then polls ``tasks/get``, answers the task's questions with ``tasks/update`` and stops
it with ``tasks/cancel``. Those requests are stateless like every other, so the store is one
per server, shared by all of them; it is bounded (``max_tasks``) and forgets a task once its
TTL has passed. The server module runs the handlers; nothing here does I/O or starts threads.
"""

import os
import threading
import time
from typing import Any, Dict, Optional, Tuple

from .asking import answer_problem
from .errors import Cancelled, MCPError
from .jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, REQUEST_TIMEOUT

_WORKING = "working"
_INPUT_REQUIRED = "input_required"
_COMPLETED = "completed"
_FAILED = "failed"
_CANCELLED = "cancelled"
_TERMINAL = frozenset((_COMPLETED, _FAILED, _CANCELLED))


def _timestamp(when: float) -> str:
    """ISO 8601 in UTC with milliseconds, as createdAt and lastUpdatedAt are."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + ".%03dZ" % (int(when * 1000) % 1000)


class Task:
    """One task: its status and what goes with it. Changed only under the store's lock."""

    def __init__(self, task_id: str, call: Any, owner: Any, ttl: float, client: str = "") -> None:
        self.id = task_id
        self.call = call  # the Call its handler runs with: cancelling the task cancels it
        self.owner = owner
        self.client = client  # whom the per-client bound counts it for (the Port's client)
        self.created = self.updated = time.time()  # what createdAt and lastUpdatedAt say
        # When it is forgotten, on the monotonic clock: a clock set back or forward does
        # not cut a task's TTL short.
        self.expires = time.monotonic() + ttl
        self.status = _WORKING
        self.result = None  # type: Optional[Dict[str, Any]]
        self.error = None  # type: Optional[Dict[str, Any]]
        self.pending = {}  # type: Dict[str, Dict[str, Any]]   # key -> input request, unanswered
        self.answers = {}  # type: Dict[str, Any]               # key -> the client's answer
        self.gathering = False  # in ctx.gather: questions are collected, not waited on one by one
        self.delivered = False  # its end was sent to the client by tasks/get

    @property
    def terminal(self) -> bool:
        return self.status in _TERMINAL


class TaskStore:
    """The tasks of one server. Thread-safe: handlers' threads and requests' threads meet here."""

    def __init__(self, max_tasks: int, ttl: float, poll_interval_ms: Optional[int],
                 max_tasks_per_client: Optional[int] = None) -> None:
        self.max_tasks = max_tasks
        self.max_tasks_per_client = (max_tasks_per_client if max_tasks_per_client is not None
                                     else min(max_tasks, max(2, max_tasks // 4)))
        self.ttl = ttl
        self.poll_interval_ms = poll_interval_ms
        self._tasks = {}  # type: Dict[str, Task]
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._next_expiry = float("inf")

    def count(self) -> int:
        """How many tasks are kept now, finished or not."""
        with self._lock:
            self._sweep(time.monotonic())
            return len(self._tasks)

    def _sweep(self, now: float) -> None:
        """Forget the tasks whose TTL has passed ("The server may discard the task after the
        TTL elapses"); one still running is told to stop. Never before the TTL."""
        if now < self._next_expiry:
            return
        soonest = float("inf")
        for task_id, task in list(self._tasks.items()):
            if task.expires <= now:
                del self._tasks[task_id]
                if not task.terminal:
                    task.call.cancelled = True
                    task.status = _CANCELLED
            else:
                soonest = min(soonest, task.expires)
        self._next_expiry = soonest
        self._changed.notify_all()

    def create(self, call: Any, owner: Any, client: str = "") -> Task:
        """A new task for ``call``, findable by ``tasks/get`` before this returns: "A server
        MUST NOT return CreateTaskResult until the task is durably created". ``client`` is
        whom the per-client bound counts it for: at its bound, the client's own task whose
        end was delivered longest ago makes room, and a client with none is refused - so one
        client cannot fill the store and lock the others out."""
        with self._lock:
            self._sweep(time.monotonic())
            mine = [task for task in self._tasks.values() if task.client == client]
            if len(mine) >= self.max_tasks_per_client:
                done = [task for task in mine if task.delivered]
                if not done:
                    raise MCPError(INTERNAL_ERROR, "Server busy: this client has %d tasks kept (its limit), none "
                                                   "of them delivered; fetch their ends (tasks/get) or wait"
                                   % len(mine))
                del self._tasks[min(done, key=lambda task: task.updated).id]
            elif len(self._tasks) >= self.max_tasks and not self._evict_delivered():
                raise MCPError(INTERNAL_ERROR, "Server busy: %d tasks are already kept (the limit); try again "
                                               "later" % self.max_tasks)
            # "Servers MUST generate them with sufficient entropy that a third party cannot
            # enumerate or guess them": 128 random bits.
            task = Task(os.urandom(16).hex(), call, owner, self.ttl, client)
            self._tasks[task.id] = task
            self._next_expiry = min(self._next_expiry, task.expires)
            return task

    def _evict_delivered(self) -> bool:
        """Make room in a full store by forgetting, before its TTL, the task that ended
        longest ago among those whose end a tasks/get has already delivered: its client has
        what it waited for. Without this, every short task would hold its place for the
        whole TTL and a busy server would refuse new tasks. True when a place was made."""
        done = [task for task in self._tasks.values() if task.delivered]
        if not done:
            return False
        oldest = min(done, key=lambda task: task.updated)
        del self._tasks[oldest.id]
        return True

    def find(self, task_id: Any, owner: Any) -> Task:
        """The task, for a request by ``owner``. Another principal's task is as unknown as a
        made-up id ("Servers MUST perform authentication and authorization checks on each
        task-related request"), and an unknown one is -32602 ("Servers MUST return this
        error for tasks/get")."""
        if not isinstance(task_id, str):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"taskId\" must be a string")
        with self._lock:
            self._sweep(time.monotonic())
            task = self._tasks.get(task_id)
            if task is None or task.owner != owner:
                raise MCPError(INVALID_PARAMS, "Invalid params: task not found (unknown, or its TTL has passed): %s"
                               % task_id)
            return task

    # -- the wire shapes --------------------------------------------------------------

    def _fields(self, task: Task) -> Dict[str, Any]:
        fields = {
            "taskId": task.id, "status": task.status, "createdAt": _timestamp(task.created),
            "lastUpdatedAt": _timestamp(task.updated), "ttlMs": int(round(self.ttl * 1000)),
        }  # type: Dict[str, Any]
        if self.poll_interval_ms is not None:
            fields["pollIntervalMs"] = self.poll_interval_ms
        return fields

    def created_result(self, task: Task) -> Dict[str, Any]:
        """The CreateTaskResult: "Servers MUST set resultType to "task" when returning a
        CreateTaskResult"; the task's result, error and questions come with tasks/get only."""
        with self._lock:
            result = self._fields(task)
        result["resultType"] = "task"
        return result

    def detailed(self, task: Task) -> Dict[str, Any]:
        """What tasks/get returns: the task with what its status carries."""
        with self._lock:
            result = self._fields(task)
            if task.status == _INPUT_REQUIRED:
                # "The inputRequests field MUST contain all outstanding requests".
                result["inputRequests"] = dict(task.pending)
            elif task.status == _COMPLETED:
                result["result"] = task.result
            elif task.status == _FAILED:
                result["error"] = task.error
            if task.terminal:
                task.delivered = True
        return result

    # -- changes ------------------------------------------------------------------------

    def _set(self, task: Task, status: str) -> None:
        task.status = status
        task.updated = time.time()
        self._changed.notify_all()

    def finish(self, task: Task, result: Optional[Dict[str, Any]] = None, error: Optional[MCPError] = None) -> None:
        """The handler is done: ``completed`` with its result (a tool's ``isError`` result
        included), or ``failed`` with the JSON-RPC error it would have been answered with.
        A task cancelled meanwhile stays cancelled."""
        with self._lock:
            if task.terminal:
                return
            task.pending.clear()
            if error is not None:
                task.error = error.to_error()
                self._set(task, _FAILED)
            else:
                task.result = result
                self._set(task, _COMPLETED)

    def cancel(self, task: Task) -> None:
        """``tasks/cancel``: the task is ``cancelled`` at once and its handler's context says
        so (``ctx.cancelled``; a question it waits on raises ``Cancelled``). A terminal task
        stays as it is: cancelling it is acknowledged all the same."""
        with self._lock:
            if task.terminal:
                return
            task.call.cancelled = True
            task.pending.clear()
            self._set(task, _CANCELLED)

    def answer(self, task: Task, responses: Dict[str, Any]) -> None:
        """``tasks/update``: answers to the task's outstanding questions. "A server SHOULD
        ignore any inputResponses responses mapped to a key that is not currently
        outstanding" and "MAY accept a partial set"; an answer of the wrong shape for an
        outstanding question is refused (-32602) and nothing is taken."""
        with self._lock:
            if task.terminal:
                return
            taken = {}  # type: Dict[str, Any]
            for key, value in responses.items():
                request = task.pending.get(key)
                if request is None:
                    continue
                problem = answer_problem(request["method"], request["params"], value)
                if problem is not None:
                    raise MCPError(INVALID_PARAMS, "Invalid params: inputResponses[%r] is not a valid %s result: %s"
                                   % (key, request["method"], problem), {"key": key})
                taken[key] = value
            if not taken:
                return
            for key, value in taken.items():
                del task.pending[key]
                task.answers[key] = value
            self._set(task, _WORKING if not task.pending else _INPUT_REQUIRED)

    def await_answers(self, task: Task, requests: Dict[str, Dict[str, Any]], timeout: Optional[float]) -> None:
        """Post questions for the client and wait until every one is answered. Raises
        ``Cancelled`` when the task is cancelled or expires meanwhile, MCPError -32001 when
        ``timeout`` seconds pass first."""
        deadline = task.expires if timeout is None else min(task.expires, time.monotonic() + timeout)
        with self._lock:
            if task.terminal:
                raise Cancelled("task %s was cancelled" % task.id)
            for key, request in requests.items():
                if key not in task.answers:
                    task.pending[key] = request
            if task.pending:
                self._set(task, _INPUT_REQUIRED)
            while any(key not in task.answers for key in requests):
                if task.terminal:
                    raise Cancelled("task %s was cancelled" % task.id)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if time.monotonic() >= task.expires:
                        self._next_expiry = min(self._next_expiry, task.expires)
                        self._sweep(time.monotonic())
                        raise Cancelled("task %s expired" % task.id)
                    for key in requests:
                        task.pending.pop(key, None)
                    self._set(task, _WORKING if not task.pending else _INPUT_REQUIRED)
                    raise MCPError(REQUEST_TIMEOUT, "The client did not answer within %g s" % timeout)
                self._changed.wait(remaining)

    def answered(self, task: Task, key: str) -> Optional[Tuple[Any]]:
        """``(answer,)`` once the client answered question ``key`` of the task, else None."""
        with self._lock:
            return (task.answers[key],) if key in task.answers else None
