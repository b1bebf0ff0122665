"""The tasks extension on the server (io.modelcontextprotocol/tasks, SEP-2663, 2026-07-28):
task-supporting tools, tasks/get, tasks/update, tasks/cancel, the store's TTL and bound,
discovery; in memory, over HTTP and over stdio."""

import json
import os
import re
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

from http_peer import Http
from mcplite import TASKS_EXTENSION, AccessToken, BearerAuth, Server
from tasks_app import tasks_app
from stdio_peer import StdioPeer
from wire import MODERN

HERE = os.path.dirname(os.path.abspath(__file__))
TASKS_CAPS = {"elicitation": {}, "extensions": {TASKS_EXTENSION: {}}}
NO_CAPS = {}  # type: Dict[str, Any]
SERVER_INFO = {"io.modelcontextprotocol/serverInfo": {"name": "tasks-test", "version": "1.0.0"}}
ACK = {"resultType": "complete", "_meta": SERVER_INFO}
TASK_KEYS = {"taskId", "status", "createdAt", "lastUpdatedAt", "ttlMs", "pollIntervalMs"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NEEDS_TASKS = {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}}


# ---------------------------------------------------------------------------
# Helpers

class Tasks:
    """A 2026-07-28 client end (in memory) that declares the tasks extension."""

    def __init__(self, wire: Any, capabilities: Optional[Dict[str, Any]] = None) -> None:
        self.wire = wire
        self.capabilities = TASKS_CAPS if capabilities is None else capabilities

    def request(self, method: str, params: Dict[str, Any], capabilities: Optional[Dict[str, Any]] = None) -> Any:
        return self.wire.modern(method, params, capabilities=self.capabilities if capabilities is None
                                else capabilities)

    def call(self, name: str, arguments: Optional[Dict[str, Any]] = None, **more: Any) -> Dict[str, Any]:
        params = {"name": name, "arguments": arguments or {}}
        params.update(more)
        return self.request("tools/call", params)

    def start(self, name: str, arguments: Optional[Dict[str, Any]] = None) -> str:
        result = self.call(name, arguments)["result"]
        assert_created(result)
        return result["taskId"]

    def get(self, task_id: Any) -> Dict[str, Any]:
        return self.request("tasks/get", {"taskId": task_id})

    def wait(self, task_id: str, statuses: Any, timeout: float = 5.0) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            result = self.get(task_id)["result"]
            if result["status"] in statuses:
                assert_detailed(result)
                return result
            assert time.monotonic() < deadline, "task still %s after %g s" % (result["status"], timeout)
            time.sleep(0.005)


def assert_task_fields(result: Dict[str, Any]) -> None:
    assert TASK_KEYS <= set(result), result
    assert ISO.match(result["createdAt"]) and ISO.match(result["lastUpdatedAt"]), result
    assert result["lastUpdatedAt"] >= result["createdAt"]
    assert isinstance(result["ttlMs"], int) and result["ttlMs"] > 0
    assert re.match(r"^[0-9a-f]{32}$", result["taskId"])  # 128 random bits


def assert_created(result: Dict[str, Any]) -> None:
    """A CreateTaskResult: flat, and none of what only tasks/get carries."""
    assert result["resultType"] == "task", result
    assert_task_fields(result)
    assert set(result) == TASK_KEYS | {"resultType", "_meta"}, result
    assert result["status"] == "working"


def assert_detailed(result: Dict[str, Any]) -> None:
    """A tasks/get result: the task, and exactly what its status carries."""
    assert result["resultType"] == "complete"
    assert_task_fields(result)
    extra = {"completed": {"result"}, "failed": {"error"}, "input_required": {"inputRequests"}}
    assert set(result) == TASK_KEYS | {"resultType", "_meta"} | extra.get(result["status"], set()), result


def task_thread_alive(task_id: str) -> bool:
    return any(t.name == "mcplite-task-" + task_id[:8] for t in threading.enumerate())


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in %g s" % timeout
        time.sleep(0.005)


@pytest.fixture
def app():
    app = tasks_app()
    yield app
    app.release.set()  # no handler thread outlives its test by long


@pytest.fixture
def tasks(app, wire_factory):
    return Tasks(wire_factory(app))


def text_of(result: Dict[str, Any]) -> str:
    return result["content"][0]["text"]


# ---------------------------------------------------------------------------
# Lifecycle

def test_create_working_completed(app, tasks):
    created = tasks.call("gate", {"label": "job"})["result"]
    assert_created(created)
    assert (created["ttlMs"], created["pollIntervalMs"], created["_meta"]) == (3600000, 50, SERVER_INFO)
    task_id = created["taskId"]
    # "MUST NOT return CreateTaskResult until ... a tasks/get for the returned taskId would resolve"
    working = tasks.get(task_id)["result"]
    assert_detailed(working)
    assert (working["taskId"], working["status"], working["createdAt"]) == (task_id, "working", created["createdAt"])
    app.release.set()
    done = tasks.wait(task_id, ["completed"])
    assert done["result"] == {"content": [{"type": "text", "text": "job released in task %s" % task_id}]}
    assert done["lastUpdatedAt"] >= working["lastUpdatedAt"]
    # A finished task stays readable, unchanged.
    assert tasks.get(task_id)["result"] == done


def test_a_structured_result_is_inlined_as_the_call_would_return_it(tasks):
    task_id = tasks.start("quick", {"n": 21})
    assert tasks.wait(task_id, ["completed"])["result"] == {
        "content": [{"type": "text", "text": "42"}], "structuredContent": {"result": 42}}


def test_a_tool_error_is_completed_with_is_error(tasks):
    task_id = tasks.start("refuses")
    done = tasks.wait(task_id, ["completed", "failed"])
    assert done["status"] == "completed"
    assert done["result"] == {"content": [{"type": "text", "text": "no such file"}], "isError": True}


def test_a_json_rpc_error_fails_the_task(tasks):
    task_id = tasks.start("breaks")
    done = tasks.wait(task_id, ["completed", "failed"])
    assert done["status"] == "failed"
    assert done["error"] == {"code": -32050, "message": "the backend is down", "data": {"retry": True}}
    assert "result" not in done


def test_an_exception_is_the_same_tool_error_as_without_a_task(tasks):
    """The task holds "exactly what the underlying request would have returned": mcplite
    answers an exception in a tool with an isError result, so the task is completed."""
    sync = tasks.request("tools/call", {"name": "crashes"}, capabilities=NO_CAPS)["result"]
    task_id = tasks.start("crashes")
    done = tasks.wait(task_id, ["completed", "failed"])
    assert done["status"] == "completed"
    assert done["result"] == {"content": [{"type": "text", "text": "ValueError: boom"}], "isError": True}
    assert done["result"]["content"] == sync["content"]
    assert "Traceback" not in json.dumps(done)


def test_a_task_sends_no_progress_or_log_messages(tasks):
    task_id = tasks.request("tools/call", {"name": "chatty", "_meta": {"progressToken": "p"}},
                            capabilities=dict(TASKS_CAPS))["result"]["taskId"]
    assert tasks.wait(task_id, ["completed"])["result"]["content"][0]["text"] == "said nothing"
    assert tasks.wire.notifications(MODERN) == []


def test_many_tasks_at_once(app, tasks, wire_factory):
    """Twenty clients at once (each its own connection): one store, shared by them all."""
    ids = []  # type: List[str]
    lock = threading.Lock()
    clients = [Tasks(wire_factory(app)) for _ in range(20)]

    def start(n: int) -> None:
        task_id = clients[n].start("quick", {"n": n})
        with lock:
            ids.append(task_id)
    threads = [threading.Thread(target=start, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 20
    results = sorted(tasks.wait(task_id, ["completed"])["result"]["structuredContent"]["result"] for task_id in ids)
    assert results == [2 * n for n in range(20)]


# ---------------------------------------------------------------------------
# Cancellation

def test_cancel_while_running(app, tasks):
    task_id = tasks.start("gate", {"label": "c"})
    assert tasks.request("tasks/cancel", {"taskId": task_id})["result"] == ACK
    # Cancelled at once: the ack is not a promise of what comes later.
    cancelled = tasks.get(task_id)["result"]
    assert_detailed(cancelled)
    assert cancelled["status"] == "cancelled"
    assert app.saw_cancel.wait(5), "the handler's ctx.cancelled never became true"
    wait_until(lambda: not task_thread_alive(task_id))
    assert tasks.get(task_id)["result"]["status"] == "cancelled"  # its "stopped" result is dropped


def test_cancel_settles_even_when_the_handler_ignores_it(app, tasks):
    task_id = tasks.start("stubborn")
    assert tasks.request("tasks/cancel", {"taskId": task_id})["result"] == ACK
    assert tasks.get(task_id)["result"]["status"] == "cancelled"
    app.release.set()
    wait_until(lambda: not task_thread_alive(task_id))
    assert tasks.get(task_id)["result"]["status"] == "cancelled"


def test_cancel_is_idempotent(app, tasks):
    task_id = tasks.start("quick", {"n": 1})
    done = tasks.wait(task_id, ["completed"])
    assert tasks.request("tasks/cancel", {"taskId": task_id})["result"] == ACK
    assert tasks.get(task_id)["result"] == done  # a terminal task stays as it was
    running = tasks.start("gate", {"label": "twice"})
    for _ in range(2):
        assert tasks.request("tasks/cancel", {"taskId": running})["result"] == ACK
    assert tasks.get(running)["result"]["status"] == "cancelled"


def test_notifications_cancelled_does_not_cancel_a_task(app, tasks):
    """"The notifications/cancelled notification MUST NOT be used for task cancellation"."""
    response = tasks.wire.modern("tools/call", {"name": "gate", "arguments": {"label": "n"}}, id="call-1",
                                 capabilities=TASKS_CAPS)
    task_id = response["result"]["taskId"]
    tasks.wire.conn.notify("notifications/cancelled", {"requestId": "call-1"})  # read before what follows
    assert tasks.get(task_id)["result"]["status"] == "working"
    app.release.set()
    assert tasks.wait(task_id, ["completed", "cancelled"])["status"] == "completed"


# ---------------------------------------------------------------------------
# Questions: input_required and tasks/update

def test_input_required_then_update(tasks):
    task_id = tasks.start("confirm", {"filename": "a.txt"})
    waiting = tasks.wait(task_id, ["input_required"])
    assert waiting["inputRequests"] == {"elicit-1": {"method": "elicitation/create", "params": {
        "message": "Delete a.txt?", "requestedSchema": {"type": "object", "properties": {"confirm": {"type": "boolean"}},
                                                         "required": ["confirm"]}}}}
    # Keys not outstanding are ignored: "A server SHOULD ignore any inputResponses ... mapped to
    # a key that is not currently outstanding".
    assert tasks.request("tasks/update", {"taskId": task_id, "inputResponses": {
        "unknown-key": {"ignored": True}}})["result"] == ACK
    assert tasks.get(task_id)["result"]["status"] == "input_required"
    assert tasks.request("tasks/update", {"taskId": task_id, "inputResponses": {
        "elicit-1": {"action": "accept", "content": {"confirm": True}}}})["result"] == ACK
    done = tasks.wait(task_id, ["completed"])
    assert done["result"] == {"content": [{"type": "text", "text": "deleted a.txt"}]}
    # An answer to a question already answered changes nothing.
    assert tasks.request("tasks/update", {"taskId": task_id, "inputResponses": {
        "elicit-1": {"action": "accept", "content": {"confirm": False}}}})["result"] == ACK
    assert tasks.get(task_id)["result"] == done


def test_partial_answers_keep_the_rest_pending(tasks):
    task_id = tasks.start("two_questions")
    waiting = tasks.wait(task_id, ["input_required"])
    assert sorted(waiting["inputRequests"]) == ["elicit-1", "elicit-2"]  # both at once
    tasks.request("tasks/update", {"taskId": task_id, "inputResponses": {
        "elicit-1": {"action": "accept", "content": {"name": "Ann"}}}})
    after = tasks.get(task_id)["result"]
    assert after["status"] == "input_required"
    assert list(after["inputRequests"]) == ["elicit-2"]
    tasks.request("tasks/update", {"taskId": task_id, "inputResponses": {
        "elicit-2": {"action": "accept", "content": {"color": "teal"}}}})
    assert tasks.wait(task_id, ["completed"])["result"]["content"][0]["text"] == "Ann likes teal"


@pytest.mark.parametrize("answer, problem", [
    ({"action": "maybe"}, "action must be"),
    ({"action": "accept", "content": {"confirm": "yes"}}, "does not match the requested schema"),
    ("yes", "expected an object"),
])
def test_a_malformed_answer_is_refused_and_the_question_stays(tasks, answer, problem):
    task_id = tasks.start("confirm", {"filename": "b.txt"})
    tasks.wait(task_id, ["input_required"])
    error = tasks.request("tasks/update", {"taskId": task_id, "inputResponses": {"elicit-1": answer}})["error"]
    assert error["code"] == -32602 and problem in error["message"] and error["data"] == {"key": "elicit-1"}
    assert list(tasks.get(task_id)["result"]["inputRequests"]) == ["elicit-1"]


def test_update_needs_input_responses(tasks):
    task_id = tasks.start("confirm", {"filename": "c.txt"})
    assert tasks.request("tasks/update", {"taskId": task_id})["error"]["code"] == -32602


def test_cancel_while_waiting_for_an_answer(app, tasks):
    task_id = tasks.start("confirm", {"filename": "d.txt"})
    tasks.wait(task_id, ["input_required"])
    tasks.request("tasks/cancel", {"taskId": task_id})
    cancelled = tasks.get(task_id)["result"]
    assert cancelled["status"] == "cancelled" and "inputRequests" not in cancelled
    assert app.saw_cancel.wait(5), "the question the handler waited on did not end"


def test_a_question_not_answered_in_its_timeout_fails_the_task(tasks):
    task_id = tasks.start("asks_briefly")
    assert list(tasks.wait(task_id, ["input_required"])["inputRequests"]) == ["elicit-1"]
    done = tasks.wait(task_id, ["failed", "completed"])
    assert done["error"] == {"code": -32001, "message": "The client did not answer within 0.2 s"}
    # Too late: the question is gone with the task's handler.
    assert tasks.request("tasks/update", {"taskId": task_id, "inputResponses": {
        "elicit-1": {"action": "accept", "content": {"name": "late"}}}})["result"] == ACK
    assert tasks.get(task_id)["result"] == done


def test_a_question_the_client_cannot_answer_fails_the_task(tasks):
    """ctx.sample without the sampling capability raises -32021 in the handler, as it
    would without a task; unhandled, it is the task's error."""
    task_id = tasks.start("samples")
    done = tasks.wait(task_id, ["failed", "completed"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == -32021
    assert done["error"]["data"] == {"requiredCapabilities": {"sampling": {}}}


def test_input_required_rounds_before_the_task(app, tasks):
    """task_start="handler": questions before ctx.start_task() are input_required rounds of
    the call itself ("SHOULD resolve all MRTR exchanges synchronously before responding
    with a CreateTaskResult"); the task then runs the handler again, answered."""
    first = tasks.call("ask_then_work")["result"]
    assert first["resultType"] == "input_required" and "taskId" not in first
    assert list(first["inputRequests"]) == ["user_name"]
    second = tasks.call("ask_then_work", requestState=first["requestState"],
                        inputResponses={"user_name": {"action": "accept", "content": {"name": "Alice"}}})["result"]
    assert_created(second)
    done = tasks.wait(second["taskId"], ["completed"])
    assert done["result"]["content"][0]["text"] == "Hello, Alice, from task %s" % second["taskId"]
    assert app.runs == [("before", False), ("before", True), ("after", True)]


def test_start_task_without_the_extension_goes_on_synchronously(app, tasks):
    first = tasks.request("tools/call", {"name": "ask_then_work"}, capabilities={"elicitation": {}})["result"]
    second = tasks.request("tools/call", {
        "name": "ask_then_work", "requestState": first["requestState"],
        "inputResponses": {"user_name": {"action": "accept", "content": {"name": "Bo"}}}},
        capabilities={"elicitation": {}})["result"]
    assert second["resultType"] == "complete"
    assert second["content"][0]["text"] == "Hello, Bo, from task None"
    assert app.runs == [("before", False), ("after", False)]  # the first round ended at the question


# ---------------------------------------------------------------------------
# Errors and clients without the extension

@pytest.mark.parametrize("method", ["tasks/get", "tasks/update", "tasks/cancel"])
@pytest.mark.parametrize("task_id", ["tasks-conformance-nonexistent-12345", 7])
def test_unknown_task_is_invalid_params(tasks, method, task_id):
    params = {"taskId": task_id, "inputResponses": {}}
    error = tasks.request(method, params)["error"]
    assert error["code"] == -32602


def test_without_the_extension(tasks):
    # A task-supporting tool runs as usual; a task-only one is refused with -32021.
    plain = tasks.request("tools/call", {"name": "quick", "arguments": {"n": 4}}, capabilities=NO_CAPS)
    assert plain["result"]["content"] == [{"type": "text", "text": "8"}]
    assert plain["result"]["resultType"] == "complete"
    refused = tasks.request("tools/call", {"name": "only_as_task"}, capabilities=NO_CAPS)
    assert refused["error"]["code"] == -32021 and refused["error"]["data"] == NEEDS_TASKS
    # tasks/* too, even for a task that exists.
    task_id = tasks.start("quick", {"n": 1})
    for method in ("tasks/get", "tasks/update", "tasks/cancel"):
        error = tasks.request(method, {"taskId": task_id, "inputResponses": {}}, capabilities=NO_CAPS)["error"]
        assert (error["code"], error["data"]) == (-32021, NEEDS_TASKS), method
    # The legacy 2025-11-25 task parameter is ignored: the extension alone decides.
    legacy_hint = tasks.request("tools/call", {"name": "greet", "arguments": {"name": "x"},
                                               "task": {"ttl": 60000}})["result"]
    assert legacy_hint["content"] == [{"type": "text", "text": "Hello, x!"}]
    assert tasks.request("tools/call", {"name": "quick", "arguments": {"n": 1}, "task": {"ttl": 1}},
                         capabilities=NO_CAPS)["result"]["resultType"] == "complete"


def test_only_as_task_runs_with_the_extension(tasks):
    task_id = tasks.start("only_as_task")
    assert tasks.wait(task_id, ["completed"])["result"]["content"][0]["text"] == "done as a task"


@pytest.mark.parametrize("method", ["tasks/result", "tasks/list"])
def test_removed_methods_are_method_not_found(tasks, method):
    assert tasks.request(method, {"taskId": "x"})["error"]["code"] == -32601


def test_legacy_sessions_have_no_tasks(app, wire_factory):
    wire = wire_factory(app)
    init = wire.initialize("2025-11-25", capabilities={"extensions": {TASKS_EXTENSION: {}}})
    assert "extensions" not in init["result"]["capabilities"] and "tasks" not in init["result"]["capabilities"]
    assert wire.request("tasks/get", {"taskId": "x"})["error"]["code"] == -32601
    assert wire.request("tools/call", {"name": "quick", "arguments": {"n": 2}})["result"]["content"][0]["text"] == "4"


def test_discovery(app, tasks, wire_factory):
    caps = tasks.request("server/discover", {})["result"]["capabilities"]
    assert caps["extensions"] == {TASKS_EXTENSION: {}}
    assert "tasks" not in caps  # the 2025-11-25 capability "MUST NOT" be advertised with the extension
    # The extension has no per-tool field: tools/list is as without it.
    listed = {tool["name"]: tool for tool in tasks.request("tools/list", {})["result"]["tools"]}
    assert listed["quick"] == {"name": "quick", "inputSchema": {
        "type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"], "additionalProperties": False},
        "outputSchema": {"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}}
    # A server none of whose tools runs as a task advertises nothing and has no tasks/*.
    plain = Server("plain")

    @plain.tool()
    def hello() -> str:
        return "hi"
    other = Tasks(wire_factory(plain))
    assert "extensions" not in other.request("server/discover", {})["result"]["capabilities"]
    assert other.request("tasks/get", {"taskId": "x"})["error"]["code"] == -32601


# ---------------------------------------------------------------------------
# The store: TTL and bound

def test_a_task_is_kept_for_its_ttl_then_forgotten(wire_factory):
    # (1 s: long enough for the poll to see "completed" first on a busy machine, with the
    # tasks in a PostgreSQL store too: test_pgstore.py runs this test again there.)
    app = tasks_app(task_ttl=1.0)
    tasks = Tasks(wire_factory(app))
    before = time.time()
    created = tasks.call("quick", {"n": 1})["result"]
    assert created["ttlMs"] == 1000
    task_id = created["taskId"]
    assert tasks.wait(task_id, ["completed"])["ttlMs"] == 1000
    while True:
        response = tasks.get(task_id)
        if "error" in response:
            break
        assert time.time() < before + 5, "never forgotten"
        time.sleep(0.01)
    # "never expire before the TTL": not before created + ttl. (Less 10 ms: the store counts
    # on the monotonic clock, or the database's, and this on the wall clock, which NTP slews;
    # a 3.14 run saw it expire 0.1 ms "early" by time.time().)
    assert time.time() >= before + 1.0 - 0.01
    assert response["error"]["code"] == -32602
    assert app.tasks.count() == 0


def test_a_task_still_running_at_its_ttl_is_stopped_and_forgotten(wire_factory):
    # (1 s, not 0.3: the first get must find it working even on a busy machine with a
    # PostgreSQL store; test_pgstore.py runs this test there too.)
    app = tasks_app(task_ttl=1.0)
    tasks = Tasks(wire_factory(app))
    task_id = tasks.start("gate", {"label": "long"})
    assert tasks.get(task_id)["result"]["status"] == "working" and not app.saw_cancel.is_set()
    wait_until(lambda: "error" in tasks.get(task_id))
    assert app.saw_cancel.wait(5), "the handler was not told to stop"
    app.release.set()


def test_the_store_is_bounded(wire_factory):
    app = tasks_app(max_tasks=2, task_ttl=1.5)  # (long enough that the third start meets a full store)
    tasks = Tasks(wire_factory(app))
    tasks.start("gate", {"label": "1"})
    tasks.start("gate", {"label": "2"})
    full = tasks.call("gate", {"label": "3"})
    assert full["error"]["code"] == -32603 and "Server busy" in full["error"]["message"]
    # A synchronous call is not a task: it is served.
    assert tasks.request("tools/call", {"name": "quick", "arguments": {"n": 1}},
                         capabilities=NO_CAPS)["result"]["content"][0]["text"] == "2"
    app.release.set()
    wait_until(lambda: "error" not in tasks.call("quick", {"n": 1}))  # room again once the TTL passed


def test_a_full_store_makes_room_by_forgetting_a_task_whose_end_was_delivered(wire_factory):
    app = tasks_app(max_tasks=2, task_ttl=60)
    tasks = Tasks(wire_factory(app))
    first = tasks.start("quick", {"n": 1})
    second = tasks.start("quick", {"n": 2})
    wait_until(lambda: app.tasks.count() == 2 and all(
        t.terminal for t in app.tasks._tasks.values()))
    # Both ended, neither end delivered yet: nothing may go before its TTL.
    full = tasks.call("quick", {"n": 3})
    assert full["error"]["code"] == -32603 and "Server busy" in full["error"]["message"]
    assert tasks.wait(second, ("completed",))["result"]["structuredContent"] == {"result": 4}
    third = tasks.start("quick", {"n": 3})  # the delivered one made room
    assert tasks.get(second)["error"]["code"] == -32602
    assert tasks.wait(first, ("completed",))["result"]["structuredContent"] == {"result": 2}
    assert tasks.wait(third, ("completed",))["result"]["structuredContent"] == {"result": 6}


def test_one_client_cannot_fill_the_store(app, wire_factory):
    # max_tasks 8: each client may keep 2. One at its bound is refused (its tasks still run)
    # while another client is served; once its ends are delivered, they make room for it.
    app = tasks_app(max_tasks=8, task_ttl=60)
    greedy, other = Tasks(wire_factory(app)), Tasks(wire_factory(app))
    held = [greedy.start("gate", {"label": str(n)}) for n in range(2)]
    refused = greedy.call("gate", {"label": "3"})
    assert refused["error"]["code"] == -32603
    assert refused["error"]["message"].startswith("Server busy: this client has 2 tasks kept (its limit)")
    served = other.start("quick", {"n": 5})
    assert other.wait(served, ("completed",))["result"]["structuredContent"] == {"result": 10}
    app.release.set()
    for task_id in held:
        greedy.wait(task_id, ("completed",))  # delivered
    # Both gates are released at once, so either may end first: the one that ended first
    # (its end delivered) is the one that makes room.
    ended_first = min(held, key=lambda task_id: app.tasks._tasks[task_id].updated)
    again = greedy.start("quick", {"n": 1})
    looked = {task_id: greedy.get(task_id) for task_id in held}
    assert looked[ended_first]["error"]["code"] == -32602
    assert [looked[t]["result"]["status"] for t in held if t != ended_first] == ["completed"]
    assert greedy.wait(again, ("completed",))["result"]["structuredContent"] == {"result": 2}


def test_server_options_are_checked():
    for options in ({"max_tasks": 0}, {"task_ttl": 0}, {"task_poll_interval_ms": 0}, {"max_tasks_per_client": 0}):
        with pytest.raises(ValueError):
            Server("x", **options)
    app = Server("x", task_poll_interval_ms=None)
    with pytest.raises(ValueError):
        app.tool(task="always")(lambda: None)
    with pytest.raises(ValueError):
        app.tool(task="optional", task_start="later")(lambda: None)


# ---------------------------------------------------------------------------
# Over HTTP: routing headers, statuses, the owner of a task

@pytest.fixture
def http_server():
    app = tasks_app()
    handle = app.run_in_thread("http", port=0)
    yield handle
    app.release.set()
    handle.stop()


def http_tasks(peer: Http, method: str, params: Dict[str, Any], caps: Any = TASKS_CAPS, **kw: Any) -> Any:
    params = dict(params)
    params["_meta"] = {"io.modelcontextprotocol/clientCapabilities": caps}
    if "name" not in kw and "taskId" in params:
        kw["name"] = params["taskId"]
    return peer.modern(method, params, **kw)


def test_http_lifecycle_and_mcp_name(http_server):
    peer = Http(http_server)
    created = http_tasks(peer, "tools/call", {"name": "quick", "arguments": {"n": 5}})
    assert created.status == 200
    task_id = created.json()["result"]["taskId"]
    deadline = time.monotonic() + 5
    while True:
        reply = http_tasks(peer, "tasks/get", {"taskId": task_id})
        assert reply.status == 200, reply
        if reply.json()["result"]["status"] == "completed":
            break
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # Mcp-Name is the taskId for tasks/get, tasks/update and tasks/cancel.
    for method in ("tasks/get", "tasks/update", "tasks/cancel"):
        params = {"taskId": task_id, "inputResponses": {}}
        wrong = http_tasks(peer, method, params, name="another-task")
        assert (wrong.status, wrong.json()["error"]["code"]) == (400, -32020), method
        missing = http_tasks(peer, method, params, headers={"Mcp-Name": None})
        assert (missing.status, missing.json()["error"]["code"]) == (400, -32020), method
        assert http_tasks(peer, method, params).status == 200
    # -32021 is 400, a removed method 404, an unknown task 400.
    assert http_tasks(peer, "tasks/get", {"taskId": task_id}, caps={}).status == 400
    assert http_tasks(peer, "tasks/result", {"taskId": task_id}, name=None).status == 404
    assert http_tasks(peer, "tasks/get", {"taskId": "nope"}).json()["error"]["code"] == -32602
    peer.close()


def test_http_cancel_and_questions(http_server):
    peer = Http(http_server)
    task_id = http_tasks(peer, "tools/call", {"name": "confirm", "arguments": {"filename": "h.txt"}}).json()[
        "result"]["taskId"]
    wait_until(lambda: http_tasks(peer, "tasks/get", {"taskId": task_id}).json()["result"]["status"]
               == "input_required")
    ack = http_tasks(peer, "tasks/update", {"taskId": task_id, "inputResponses": {
        "elicit-1": {"action": "accept", "content": {"confirm": False}}}})
    assert ack.json()["result"]["resultType"] == "complete"
    wait_until(lambda: http_tasks(peer, "tasks/get", {"taskId": task_id}).json()["result"]["status"] == "completed")
    assert http_tasks(peer, "tasks/get", {"taskId": task_id}).json()["result"]["result"]["content"][0]["text"] == \
        "kept h.txt"
    running = http_tasks(peer, "tools/call", {"name": "gate", "arguments": {"label": "h"}}).json()["result"]["taskId"]
    assert http_tasks(peer, "tasks/cancel", {"taskId": running}).json()["result"]["resultType"] == "complete"
    assert http_tasks(peer, "tasks/get", {"taskId": running}).json()["result"]["status"] == "cancelled"
    peer.close()


def test_http_a_task_belongs_to_its_principal():
    """"Servers MUST perform authentication and authorization checks on each task-related
    request": another user's task is as unknown as a made-up id."""
    users = {"ann-token": "ann", "bob-token": "bob"}
    auth = BearerAuth(lambda token: AccessToken(subject=users[token]) if token in users else None,
                      resource="http://127.0.0.1/mcp", authorization_servers=["https://auth.example.com"])
    app = tasks_app()
    handle = app.run_in_thread("http", port=0, auth=auth)
    try:
        peer = Http(handle)
        ann = {"Authorization": "Bearer ann-token"}
        bob = {"Authorization": "Bearer bob-token"}
        task_id = http_tasks(peer, "tools/call", {"name": "gate", "arguments": {"label": "a"}},
                             headers=ann).json()["result"]["taskId"]
        assert http_tasks(peer, "tasks/get", {"taskId": task_id}, headers=ann).status == 200
        for method in ("tasks/get", "tasks/cancel"):
            reply = http_tasks(peer, method, {"taskId": task_id}, headers=bob)
            assert reply.json()["error"]["code"] == -32602, method
        assert http_tasks(peer, "tasks/get", {"taskId": task_id}, headers=ann).json()["result"]["status"] == "working"
        peer.close()
    finally:
        app.release.set()
        handle.stop()


# ---------------------------------------------------------------------------
# Over stdio

def test_stdio_lifecycle(tmp_path):
    script = tmp_path / "tasks_server.py"
    script.write_text("import sys\nsys.path.insert(0, %r)\nfrom tasks_app import tasks_app\ntasks_app().run()\n"
                      % HERE, encoding="utf-8")
    peer = StdioPeer([sys.executable, str(script)])
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": TASKS_CAPS}
    try:
        created = peer.request("tools/call", {"name": "confirm", "arguments": {"filename": "s.txt"}, "_meta": meta},
                               id=1)["result"]
        assert created["resultType"] == "task"
        task_id = created["taskId"]

        def status() -> str:
            return peer.request("tasks/get", {"taskId": task_id, "_meta": meta}, id=2)["result"]["status"]
        wait_until(lambda: status() == "input_required")
        assert peer.request("tasks/update", {"taskId": task_id, "_meta": meta, "inputResponses": {
            "elicit-1": {"action": "accept", "content": {"confirm": True}}}}, id=3)["result"]["resultType"] == "complete"
        wait_until(lambda: status() == "completed")
        done = peer.request("tasks/get", {"taskId": task_id, "_meta": meta}, id=4)["result"]
        assert done["result"] == {"content": [{"type": "text", "text": "deleted s.txt"}]}
    finally:
        peer.kill()
