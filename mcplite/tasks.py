"""The tasks extension (``io.modelcontextprotocol/tasks``, SEP-2663): the store of the tasks
a server has started, and each task's state.

A 2026-07-28 ``tools/call`` may be answered with a task handle instead of its result; the
client then polls ``tasks/get``, answers the task's questions with ``tasks/update`` and stops
it with ``tasks/cancel``. Those requests are stateless like every other, so the store is one
per server, shared by all of them; it is bounded (``max_tasks``) and forgets a task once its
TTL has passed. The dispatcher runs the tools; nothing here does I/O or starts threads.

The three requests are the extension's own methods (``task_methods``), served from the
registry's method table like an application's ``@app.method`` ones, through the same seam:
the server adds them when it makes its store, that is when the first tool with ``task=`` is
registered - before that, no tasks/* method exists.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Dict, Optional, Tuple

from .asking import answer_problem, missing_tasks_capability
from .calls import principal_key
from .context import Context
from .errors import Cancelled, MCPError
from .jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, REQUEST_TIMEOUT
from .protocol import MODERN_VERSIONS, declares_tasks

_tasks_log = logging.getLogger("mcplite.tasks")

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
        self.message = None  # type: Optional[str]   # its statusMessage (a shared store's row has one)

    @property
    def terminal(self) -> bool:
        return self.status in _TERMINAL



def _task_answers_taken(pending: Dict[str, Any], responses: Dict[str, Any]) -> Dict[str, Any]:
    """The ``inputResponses`` that answer a question still pending, each checked against
    what was asked (MCPError -32602 naming the first that is not a valid result)."""
    taken = {}  # type: Dict[str, Any]
    for key, value in responses.items():
        request = pending.get(key)
        if request is None:
            continue
        problem = answer_problem(request["method"], request["params"], value)
        if problem is not None:
            raise MCPError(INVALID_PARAMS, "Invalid params: inputResponses[%r] is not a valid %s result: %s"
                           % (key, request["method"], problem), {"key": key})
        taken[key] = value
    return taken

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
            result = self._detailed_fields(task)
            if task.terminal:
                task.delivered = True
        return result

    def _detailed_fields(self, task: Task) -> Dict[str, Any]:
        """The task's fields with what its status carries (called holding the lock)."""
        result = self._fields(task)
        if task.status == _INPUT_REQUIRED:
            # "The inputRequests field MUST contain all outstanding requests".
            result["inputRequests"] = dict(task.pending)
        elif task.status == _COMPLETED:
            result["result"] = task.result
        elif task.status == _FAILED:
            result["error"] = task.error
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
            taken = _task_answers_taken(task.pending, responses)
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


_LOST_MESSAGE = "The worker running this task stopped (no heartbeat for %g s): the task cannot finish"


class SharedTaskStore(TaskStore):
    """The tasks of a server whose worker processes share a ``Store`` (stores.py): each task
    is a row there, so a task created on one worker is polled (``tasks/get``), answered
    (``tasks/update``) and cancelled on any. Its handler runs on the worker that created it,
    which renews the task's lease while it runs; a task whose worker stops renewing it for
    the store's ``lease`` seconds (a killed or crashed worker) is marked ``failed`` with a
    statusMessage saying so, by whichever worker looks at it next. Ends are conditional
    updates: of two workers ending one task (a cancel racing a finish), the first wins and
    the other's end is dropped (logged).

    The bounds are counted in the store, so they hold across workers up to the requests
    that race past a count at the same moment."""

    # How many times a handler's thread tries to store its task's end (0.1 s apart, doubling)
    # before leaving it to the watch, which tries at every tick.
    end_attempts = 6

    def __init__(self, store: Any, max_tasks: int, ttl: float, poll_interval_ms: Optional[int],
                 max_tasks_per_client: Optional[int] = None) -> None:
        TaskStore.__init__(self, max_tasks, ttl, poll_interval_ms, max_tasks_per_client)
        self.store = store
        self._lease_ms = int(store.lease * 1000)
        self._next_chores = 0.0
        self._next_sweep = 0.0
        # Ends the store could not take when the handler finished: task id -> (task, changes).
        self._unsaved = {}  # type: Dict[str, Tuple[Task, Dict[str, Any]]]
        watch = store.watch()
        watch.ticks.append(self._tick)
        self._watch = watch

    # -- rows and tasks -------------------------------------------------------------------

    @staticmethod
    def _owner_text(owner: Any) -> str:
        import json
        return json.dumps(owner, sort_keys=True, default=repr)

    def _apply(self, task: Task, row: Dict[str, Any]) -> None:
        """Bring ``task`` to what its row says (under the lock)."""
        task.status = row["status"]
        task.updated = row["updated"] / 1000.0
        task.pending = dict(row["pending"] or {})
        answers = dict(row["answers"] or {})
        answers.update(task.answers)  # (answers carried over into the task before its row had them)
        task.answers = answers
        task.result = row["result"]
        task.error = row["error"]
        task.delivered = row["delivered"]
        task.message = row["message"]

    def _row(self, task_id: str) -> Optional[Dict[str, Any]]:
        """The task's row, None when it is gone; a task still running on a worker whose
        lease ran out is failed first (conditionally: its worker may have ended it since)."""
        from .stores import TASK_ACTIVE, now_ms
        row = self.store.task_get(task_id)
        if row is None:
            return None
        now = now_ms()
        if row["expires"] <= now:
            self.store.task_delete(task_id)
            return None
        if row["status"] in TASK_ACTIVE and row["beat"] < now - self._lease_ms:
            self.store.task_update(task_id, self._lost(), statuses=TASK_ACTIVE, version=row["version"])
            row = self.store.task_get(task_id)
        return row

    def _lost(self) -> Dict[str, Any]:
        from .stores import now_ms
        message = _LOST_MESSAGE % self.store.lease
        return {"status": _FAILED, "message": message, "pending": {}, "updated": now_ms(),
                "error": {"code": INTERNAL_ERROR, "message": "Internal error: " + message[0].lower() + message[1:]}}

    def _local(self, task: Task) -> bool:
        return task.call is not None

    def _wake(self) -> None:
        with self._lock:
            self._changed.notify_all()

    # -- what the watch thread does ---------------------------------------------------------

    def _tick(self) -> None:
        """Every poll interval: the tasks running here learn of a cancel made on another
        worker (their handler's ``ctx.cancelled``) and of answers given there; every quarter
        lease, their leases are renewed, the tasks of dead workers failed, expired ones
        forgotten."""
        from .stores import now_ms
        with self._lock:
            unsaved = list(self._unsaved.values())
        for task, changes in unsaved:
            self._end(task, changes)  # (StoreUnavailable: the next tick tries again)
            with self._lock:
                self._unsaved.pop(task.id, None)
        with self._lock:
            local = {task.id: task for task in self._tasks.values()}
            local.update((task.id, task) for task, _ in self._unsaved.values())
        if local:
            statuses = self.store.task_statuses(list(local))
            for task_id, task in local.items():
                status = statuses.get(task_id, (_CANCELLED, 0))[0]
                if status in _TERMINAL:
                    task.call.cancelled = True
                    with self._lock:
                        self._tasks.pop(task_id, None)
        self._wake()  # an answer may have come through another worker
        moment = time.monotonic()
        if moment >= self._next_chores:
            self._next_chores = moment + self.store.lease / 4.0
            now = now_ms()
            if local:
                self.store.task_heartbeat(self.store.worker, now)
            self.store.task_reap(now - self._lease_ms, _LOST_MESSAGE % self.store.lease, self._lost()["error"])
            self.store.task_sweep(now)

    # -- the TaskStore interface --------------------------------------------------------------

    def _sweep_soon(self) -> None:
        """Forget expired tasks before counting, at most once a second here: a sweep is a
        write, which every worker's requests would otherwise queue on. (An expired task is
        never served meanwhile: reading one forgets it.)"""
        from .stores import now_ms
        moment = time.monotonic()
        if moment >= self._next_sweep:
            self._next_sweep = moment + 1.0
            self.store.task_sweep(now_ms())

    def count(self) -> int:
        self._sweep_soon()
        return self.store.task_count()

    def create(self, call: Any, owner: Any, client: str = "") -> Task:
        store = self.store
        self._sweep_soon()
        if store.task_count(client) >= self.max_tasks_per_client:
            done = store.task_oldest_delivered(client)
            if done is None:
                raise MCPError(INTERNAL_ERROR, "Server busy: this client has %d tasks kept (its limit), none "
                                               "of them delivered; fetch their ends (tasks/get) or wait"
                               % self.max_tasks_per_client)
            store.task_delete(done)
        elif store.task_count() >= self.max_tasks:
            done = store.task_oldest_delivered()
            if done is None:
                raise MCPError(INTERNAL_ERROR, "Server busy: %d tasks are already kept (the limit); try again "
                                               "later" % self.max_tasks)
            store.task_delete(done)
        task = Task(os.urandom(16).hex(), call, owner, self.ttl, client)
        now = int(task.created * 1000)
        # "A server MUST NOT return CreateTaskResult until the task is durably created": the
        # row is committed before this returns.
        store.task_insert({"id": task.id, "owner": self._owner_text(owner), "client": client, "worker": store.worker,
                           "status": _WORKING, "message": None, "created": now, "updated": now,
                           "expires": now + int(self.ttl * 1000), "beat": now, "version": 0, "delivered": False,
                           "result": None, "error": None, "pending": {}, "answers": {}})
        with self._lock:
            self._tasks[task.id] = task  # running here: the watch renews its lease
        self._watch.ensure_started()
        return task

    def find(self, task_id: Any, owner: Any) -> Task:
        if not isinstance(task_id, str):
            raise MCPError(INVALID_PARAMS, "Invalid params: \"taskId\" must be a string")
        row = self._row(task_id) if len(task_id) <= 200 else None
        if row is None or row["owner"] != self._owner_text(owner):
            raise MCPError(INVALID_PARAMS, "Invalid params: task not found (unknown, or its TTL has passed): %s"
                           % task_id)
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None:
            # Running on another worker, or ended: a view of its row (no handler here).
            task = Task(task_id, None, owner, self.ttl, row["client"])
            task.created = row["created"] / 1000.0
        with self._lock:
            self._apply(task, row)
        return task

    def _fields(self, task: Task) -> Dict[str, Any]:
        fields = TaskStore._fields(self, task)
        if task.message:
            fields["statusMessage"] = task.message
        return fields

    def detailed(self, task: Task) -> Dict[str, Any]:
        row = self._row(task.id)
        if row is None:
            raise MCPError(INVALID_PARAMS, "Invalid params: task not found (unknown, or its TTL has passed): %s"
                           % task.id)
        with self._lock:
            self._apply(task, row)
            result = self._detailed_fields(task)
        if task.terminal and not row["delivered"]:
            self.store.task_update(task.id, {"delivered": True})
        return result

    def _end(self, task: Task, changes: Dict[str, Any]) -> bool:
        from .stores import TASK_ACTIVE, now_ms
        changes = dict(changes, pending={}, updated=now_ms())
        won = self.store.task_update(task.id, changes, statuses=TASK_ACTIVE)
        with self._lock:
            if won:
                task.status = changes["status"]
                task.updated = changes["updated"] / 1000.0
                task.pending = {}
                task.result = changes.get("result")
                task.error = changes.get("error")
            self._changed.notify_all()
        return won

    def finish(self, task: Task, result: Optional[Dict[str, Any]] = None, error: Optional[MCPError] = None) -> None:
        with self._lock:
            self._tasks.pop(task.id, None)  # its handler is done: no lease to renew
        changes = ({"status": _FAILED, "error": error.to_error()} if error is not None
                   else {"status": _COMPLETED, "result": result})  # type: Dict[str, Any]
        # The store may be out of reach for a moment: the end is tried again for a while
        # (the handler's thread has nothing else to do), then by the watch at every tick -
        # the task's lease renewed meanwhile, as this worker still holds its end.
        pause = 0.1
        for attempt in range(self.end_attempts):
            try:
                won = self._end(task, changes)
                break
            except MCPError:
                if attempt == self.end_attempts - 1:
                    _tasks_log.error("task %s: its end could not be stored yet; trying again", task.id)
                    with self._lock:
                        self._unsaved[task.id] = (task, changes)
                    return
                time.sleep(pause)
                pause *= 2
        if not won:
            # Ended elsewhere first (cancelled, or failed as lost): that end stands.
            _tasks_log.info("task %s finished here after it had ended elsewhere; this end is dropped", task.id)

    def cancel(self, task: Task) -> None:
        if self._end(task, {"status": _CANCELLED}) and task.call is not None:
            task.call.cancelled = True
        # On another worker, its watch tells the handler within a poll interval.

    def answer(self, task: Task, responses: Dict[str, Any]) -> None:
        for _ in range(20):  # (a conflict means another answer or end came in between)
            row = self._row(task.id)
            if row is None or row["status"] in _TERMINAL:
                return
            pending = dict(row["pending"] or {})
            answers = dict(row["answers"] or {})
            taken = _task_answers_taken(pending, responses)
            if not taken:
                return
            for key, value in taken.items():
                del pending[key]
                answers[key] = value
            from .stores import now_ms
            if self.store.task_update(task.id, {"pending": pending, "answers": answers, "updated": now_ms(),
                                                "status": _WORKING if not pending else _INPUT_REQUIRED},
                                      version=row["version"]):
                self._wake()
                return
        raise MCPError(INTERNAL_ERROR, "Server busy: the task kept changing while being answered; try again")

    def _post(self, task: Task, requests: Dict[str, Dict[str, Any]], remove: bool = False) -> bool:
        """Add (or take back) the task's questions in its row; False when it has ended."""
        from .stores import now_ms
        for _ in range(20):
            row = self._row(task.id)
            if row is None or row["status"] in _TERMINAL:
                return False
            pending = dict(row["pending"] or {})
            answers = dict(row["answers"] or {})
            with self._lock:
                answers.update(task.answers)
            for key, request in requests.items():
                if remove:
                    pending.pop(key, None)
                elif key not in answers:
                    pending[key] = request
            if self.store.task_update(task.id, {"pending": pending, "updated": now_ms(),
                                                "status": _INPUT_REQUIRED if pending else _WORKING},
                                      version=row["version"]):
                return True
        raise MCPError(INTERNAL_ERROR, "Server busy: the task kept changing; try again")

    def await_answers(self, task: Task, requests: Dict[str, Dict[str, Any]], timeout: Optional[float]) -> None:
        deadline = task.expires if timeout is None else min(task.expires, time.monotonic() + timeout)
        if task.terminal or not self._post(task, requests):
            raise Cancelled("task %s was cancelled" % task.id)
        while True:
            row = self._row(task.id)
            if row is None or row["status"] in _TERMINAL:
                task.call.cancelled = True
                raise Cancelled("task %s was cancelled" % task.id)
            with self._lock:
                self._apply(task, row)
                if all(key in task.answers for key in requests):
                    return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if timeout is None or time.monotonic() >= task.expires:
                    raise Cancelled("task %s expired" % task.id)
                self._post(task, requests, remove=True)
                raise MCPError(REQUEST_TIMEOUT, "The client did not answer within %g s" % timeout)
            with self._lock:
                # Woken by an answer given on this worker, or by the watch every poll interval.
                self._changed.wait(min(remaining, self.store.poll_interval))

    def answered(self, task: Task, key: str) -> Optional[Tuple[Any]]:
        with self._lock:
            if key in task.answers:
                return (task.answers[key],)
        row = self._row(task.id)
        if row is None:
            return None
        with self._lock:
            self._apply(task, row)
            return (task.answers[key],) if key in task.answers else None


# -- the extension's methods ------------------------------------------------------------------

def _task_named(method: str, params: Dict[str, Any], ctx: Context) -> Task:
    """The task a tasks/* request names, after the checks every one of them gets."""
    server = ctx.server
    if ctx.protocol_version not in MODERN_VERSIONS or not server.serves_tasks():
        # Legacy sessions keep 2025-11-25's experimental tasks unimplemented (-32601),
        # as does a server none of whose tools runs as a task (any more, and that keeps none).
        raise MCPError(METHOD_NOT_FOUND, "Method not found: %s" % method)
    if not declares_tasks(ctx.client_capabilities):
        # "Servers MUST return this error for non-declaring clients issuing tasks/get,
        # tasks/update, and tasks/cancel requests."
        raise missing_tasks_capability(method)
    return server.tasks.find(params.get("taskId"), principal_key(ctx.principal))


def _tasks_get(params: Dict[str, Any], ctx: Context) -> Dict[str, Any]:
    return ctx.server.tasks.detailed(_task_named("tasks/get", params, ctx))


def _tasks_update(params: Dict[str, Any], ctx: Context) -> Dict[str, Any]:
    task = _task_named("tasks/update", params, ctx)
    responses = params.get("inputResponses")
    if not isinstance(responses, dict):
        raise MCPError(INVALID_PARAMS, "Invalid params: inputResponses must be an object")
    ctx.server.tasks.answer(task, responses)
    # "On success, the server MUST acknowledge the request with an empty result."
    return {}


def _tasks_cancel(params: Dict[str, Any], ctx: Context) -> Dict[str, Any]:
    ctx.server.tasks.cancel(_task_named("tasks/cancel", params, ctx))
    # "The server MUST acknowledge the request with an empty result."
    return {}


def task_methods(registry: Any) -> None:
    """Register the extension's requests in ``registry`` (a server's), through the seam an
    application's extension uses, by its path for the names MCP reserves. Quick: each
    reads or changes the store and answers at once (served where a list is), and
    tasks/update's ``inputResponses`` answer the task, not an input_required round."""
    for name, fn in (("tasks/get", _tasks_get), ("tasks/update", _tasks_update), ("tasks/cancel", _tasks_cancel)):
        registered = registry.methods.get(name)
        if registered is not None and registered.fn is fn:
            # Registered already: the server made its store again (a program that set a
            # shared store after its task tools made an in-memory one, say).
            continue
        registry.add_protocol_method(fn, name, quick=True)
