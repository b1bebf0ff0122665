"""The fixture server for the official MCP conformance suite, written with mcplite.

    python examples/conformance/server.py --port 8000    # serves http://127.0.0.1:8000/mcp

Each tool, resource and prompt below is one the suite's server scenarios call by name and
check to the byte (see @modelcontextprotocol/conformance, src/scenarios/server). Scenarios
this server cannot pass yet are listed, with the reason, in
tests/conformance/expected-failures/.
"""

import argparse
import json
import os
import sys
import threading
from typing import Annotated, Any, Dict, List  # Annotated: Python 3.9+

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from mcplite import MCPError, Context, Server, ToolError, audio, embedded_resource, image, text  # noqa: E402

# A 1x1 PNG and a tiny WAV, as the scenarios expect them.
IMAGE_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
AUDIO_B64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

app = Server("mcplite-conformance-fixtures", version="1.0.0")


# -- tools ------------------------------------------------------------------------------

@app.tool()
def test_simple_text() -> str:
    """Tests simple text content response"""
    return "This is a simple text response for testing."


@app.tool()
def test_image_content() -> list:
    """Tests image content response"""
    return [image(IMAGE_B64, "image/png")]


@app.tool()
def test_audio_content() -> list:
    """Tests audio content response"""
    return [audio(AUDIO_B64, "audio/wav")]


@app.tool()
def test_embedded_resource() -> list:
    """Tests embedded resource content response"""
    return [embedded_resource("test://embedded-resource", "This is an embedded resource content.", "text/plain")]


@app.tool()
def test_multiple_content_types() -> list:
    """Tests response with multiple content types (text, image, resource)"""
    return [
        text("Multiple content types test:"),
        image(IMAGE_B64, "image/png"),
        embedded_resource("test://mixed-content-resource", '{"test": "data", "value": 123}', "application/json"),
    ]


@app.tool()
def test_tool_with_logging(ctx: Context) -> str:
    """Tests tool that emits log messages during execution"""
    ctx.info("Tool execution started")
    ctx.info("Tool processing data")
    ctx.info("Tool execution completed")
    return "Tool with logging executed successfully"


@app.tool()
def test_logging_tool(ctx: Context) -> str:
    """Logs at every call; 2026-07-28 sends nothing unless the request set a log level"""
    ctx.info("test_logging_tool was called")
    return "logged"


@app.tool()
def test_tool_with_progress(ctx: Context) -> str:
    """Tests tool that reports progress notifications"""
    for step in (0, 50, 100):
        ctx.progress(step, 100, "Completed step %d of 100" % step)
    return str(ctx.meta.get("progressToken", 0))


@app.tool()
def test_error_handling() -> str:
    """Tests error response handling"""
    raise RuntimeError("This tool intentionally returns an error for testing")


@app.tool()
def test_reconnection(ctx: Context) -> str:
    """Tests SSE polling: closes the stream's connection mid-call (SEP-1699)"""
    ctx.info("Before disconnect")
    ctx.close_sse_stream()
    threading.Event().wait(0.2)  # time for the client to come back with Last-Event-ID
    ctx.info("After reconnect")
    return "Reconnection test completed"


@app.tool()
def test_x_mcp_header(
    region: Annotated[str, {"description": "Mirrored into the Mcp-Param-Region header",
                            "x-mcp-header": "Region"}] = "<none>",
) -> str:
    """Tests Mcp-Param-* header validation (SEP-2243)"""
    return "region=%s" % region


@app.tool()
def test_missing_capability(ctx: Context) -> str:
    """Requires the client's sampling capability; without it, a -32021 error"""
    if "sampling" not in ctx.client_capabilities:
        raise MCPError(-32021, "This tool requires the client 'sampling' capability",
                       {"requiredCapabilities": {"sampling": {}}})
    return "Client declared sampling capability; proceeding."


JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


@app.tool(name="json_schema_2020_12_tool", input_schema=JSON_SCHEMA_2020_12)
def json_schema_2020_12_tool(**arguments: Any) -> str:
    """Tests JSON Schema 2020-12 keyword preservation in tools/list"""
    return "json_schema_2020_12_tool"


def _dynamic() -> str:
    """Registered at run time by a trigger tool"""
    return "dynamic"


@app.tool()
def test_trigger_tool_change() -> str:
    """Registers a tool, so the tool list changes"""
    if app.find_tool("test_dynamic_tool") is None:
        app.add_tool(_dynamic, name="test_dynamic_tool")  # notifies tools/list_changed
    else:
        app.notify_list_changed("tools")  # registered by an earlier call: say so anyway
    return "Mutation triggered"


@app.tool()
def test_trigger_prompt_change() -> str:
    """Registers a prompt, so the prompt list changes"""
    try:
        app.add_prompt(_dynamic, name="test_dynamic_prompt")
    except ValueError:
        app.notify_list_changed("prompts")
    return "Mutation triggered"


# -- asking the client: legacy sessions get real requests, 2026-07-28 input_required rounds

def _answer_text(answer: Dict[str, Any]) -> str:
    return "action=%s, content=%s" % (answer["action"], json.dumps(answer.get("content")))


@app.tool()
def test_sampling(prompt: str, ctx: Context) -> str:
    """Tests server-initiated sampling (LLM completion request)"""
    answer = ctx.sample(prompt, max_tokens=100)
    return "LLM response: %s" % answer["content"].get("text", "")


@app.tool()
def test_elicitation(message: str, ctx: Context) -> str:
    """Tests server-initiated elicitation (user input request)"""
    answer = ctx.elicit(message, {
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    })
    return "User response: " + _answer_text(answer)


@app.tool()
def test_elicitation_sep1034_defaults(ctx: Context) -> str:
    """Tests elicitation with default values for all primitive types (SEP-1034)"""
    answer = ctx.elicit("Please review and update the form fields with defaults", {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"],
                       "default": "active"},
            "verified": {"type": "boolean", "description": "Verification status", "default": True},
        },
        "required": [],
    })
    return "Elicitation completed: " + _answer_text(answer)


@app.tool()
def test_elicitation_sep1330_enums(ctx: Context) -> str:
    """Tests elicitation with enum schema improvements (SEP-1330)"""
    answer = ctx.elicit("Please select options from the enum fields", {
        "type": "object",
        "properties": {
            "untitledSingle": {"type": "string", "description": "Select one option",
                               "enum": ["option1", "option2", "option3"]},
            "titledSingle": {"type": "string", "description": "Select one option with titles", "oneOf": [
                {"const": "value1", "title": "First Option"}, {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"}]},
            "legacyEnum": {"type": "string", "description": "Select one option (legacy)",
                           "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3,
                              "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
            "titledMulti": {"type": "array", "description": "Select multiple options with titles", "minItems": 1,
                            "maxItems": 3, "items": {"anyOf": [
                                {"const": "value1", "title": "First Choice"}, {"const": "value2", "title": "Second Choice"},
                                {"const": "value3", "title": "Third Choice"}]}},
        },
        "required": [],
    })
    return "Elicitation completed: " + _answer_text(answer)


@app.tool()
def test_streaming_elicitation(ctx: Context) -> str:
    """Asks the user a question: over 2026-07-28 an input_required result, never a request on the stream"""
    answer = ctx.elicit("What is your name?", {"name": str})
    return "Hello, %s!" % answer.get("content", {}).get("name", "stranger")


_NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
_CONFIRM = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


@app.tool()
def test_input_required_result_elicitation(ctx: Context) -> str:
    """Asks the user's name (SEP-2322 input_required)"""
    answer = ctx.elicit("What is your name?", _NAME, key="user_name")
    return "Hello, %s!" % answer.get("content", {}).get("name", "stranger")


@app.tool()
def test_input_required_result_sampling(ctx: Context) -> str:
    """Asks the client's model a question (SEP-2322 input_required)"""
    answer = ctx.sample("What is the capital of France?", max_tokens=100, key="sample_request")
    return "The model said: %s" % answer["content"].get("text", "")


@app.tool()
def test_input_required_result_list_roots(ctx: Context) -> str:
    """Lists the client's roots (SEP-2322 input_required)"""
    return "Found %d root(s)" % len(ctx.roots(key="roots_request"))


@app.tool()
def test_input_required_result_request_state(ctx: Context) -> str:
    """Asks for a confirmation carried through requestState (SEP-2322)"""
    answer = ctx.elicit("Please confirm", _CONFIRM, key="confirm")
    return "state-ok: confirmed=%s" % answer.get("content", {}).get("ok")


@app.tool()
def test_input_required_result_multiple_inputs(ctx: Context) -> str:
    """Asks for three inputs in one round (SEP-2322)"""
    name, greeting, roots = ctx.gather(
        lambda: ctx.elicit("What is your name?", _NAME, key="user_name"),
        lambda: ctx.sample("Generate a greeting", max_tokens=50, key="greeting"),
        lambda: ctx.roots(key="client_roots"),
    )
    return "%s, %s (%d roots)" % (greeting["content"].get("text", ""), name.get("content", {}).get("name"), len(roots))


@app.tool()
def test_input_required_result_multi_round(ctx: Context) -> str:
    """Asks two questions, one round each (SEP-2322)"""
    name = ctx.elicit("Step 1: What is your name?", _NAME, key="step1")
    color = ctx.elicit("Step 2: What is your favorite color?", {"color": str}, key="step2")
    return "%s likes %s" % (name.get("content", {}).get("name"), color.get("content", {}).get("color"))


@app.tool()
def test_input_required_result_tampered_state(ctx: Context) -> str:
    """Asks for a confirmation; a tampered requestState is refused (SEP-2322)"""
    answer = ctx.elicit("Please confirm", _CONFIRM, key="confirm")
    return "confirmed=%s" % answer.get("content", {}).get("ok")


@app.tool()
def test_input_required_result_capabilities(ctx: Context) -> str:
    """Asks only what the client declared it can answer (SEP-2322)"""
    if ctx.can_ask("elicitation/create"):
        answer = ctx.elicit("What is your name?", _NAME, key="user_name")
        return "Hello, %s!" % answer.get("content", {}).get("name")
    answer = ctx.sample("Sample request", max_tokens=50, key="sample_input")
    return "Sampled: %s" % answer["content"].get("text", "")


# -- the tasks extension (SEP-2663, 2026-07-28): task=... answers a declaring client's call with
# a task and runs the function on a thread of its own; others are served as usual ---------

@app.tool()
def greet(name: str) -> str:
    """Greets someone at once (no task)"""
    return "Hello, %s!" % name


@app.tool(task="optional")
def slow_compute(seconds: int, label: str, ctx: Context) -> str:
    """Takes `seconds` seconds; stops when its task is cancelled"""
    stop = threading.Event()
    for _ in range(seconds * 20):
        if ctx.cancelled:
            return "%s: cancelled" % label
        stop.wait(0.05)
    return "%s: computed in %d s" % (label, seconds)


@app.tool(task="required")
def failing_job() -> str:
    """Always ends with a tool error (runs only as a task)"""
    raise ToolError("failing_job failed, as it always does")


@app.tool(task="optional")
def protocol_error_job() -> str:
    """Always ends with a JSON-RPC error, so its task fails"""
    raise MCPError(-32603, "protocol_error_job hit an internal error")


@app.tool(task="optional")
def confirm_delete(filename: str, ctx: Context) -> str:
    """Asks for a confirmation (the task waits in input_required), then deletes"""
    answer = ctx.elicit("Delete %s?" % filename, {"confirm": bool})
    if answer["action"] == "accept" and answer["content"]["confirm"]:
        return "deleted %s" % filename
    return "kept %s" % filename


@app.tool(task="optional")
def multi_input(ctx: Context) -> str:
    """Asks two questions at once; the task needs both answers"""
    name, confirm = ctx.gather(lambda: ctx.elicit("What is your name?", {"name": str}),
                               lambda: ctx.elicit("Go ahead?", {"confirm": bool}))
    return "name=%s, confirmed=%s" % (name.get("content", {}).get("name"), confirm.get("content", {}).get("confirm"))


@app.tool(task="optional", task_start="handler")
def test_tool_with_task(ctx: Context) -> str:
    """Asks a name in input_required rounds, then goes on as a task"""
    answer = ctx.elicit("What is your name?", _NAME, key="user_name")
    ctx.start_task()  # the call is answered with a task; the function runs again in it, answered
    return "Hello, %s, from a task!" % answer.get("content", {}).get("name")


# -- resources --------------------------------------------------------------------------

@app.resource("test://static-text", mime_type="text/plain")
def static_text() -> str:
    """A static text resource for testing"""
    return "This is the content of the static text resource."


@app.resource("test://static-binary", mime_type="image/png")
def static_binary() -> bytes:
    """A static binary resource (image) for testing"""
    import base64
    return base64.b64decode(IMAGE_B64)


@app.resource("test://template/{id}/data", mime_type="application/json")
def template_data(id: str) -> str:
    """A resource template with parameter substitution"""
    return json.dumps({"id": id, "templateTest": True, "data": "Data for ID: %s" % id})


@app.resource("test://watched-resource", mime_type="text/plain")
def watched_resource() -> str:
    """A resource that can be subscribed to"""
    return "Watched resource content"


# -- skills (SEP-2640) -------------------------------------------------------------------

# The Skills extension's server scenarios (sep-2640-skills-*) list it, read its SKILL.md and
# ask skills/get for it and for a skill nobody serves.
app.skill(os.path.join(os.path.dirname(os.path.abspath(__file__)), "skills", "pdf-processing"))


# -- prompts ----------------------------------------------------------------------------

@app.prompt()
def test_simple_prompt() -> str:
    """A simple prompt without arguments"""
    return "This is a simple prompt for testing."


@app.prompt()
def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
    """A prompt with required arguments"""
    return "Prompt with arguments: arg1='%s', arg2='%s'" % (arg1, arg2)


@app.prompt()
def test_prompt_with_embedded_resource(resourceUri: str) -> List[Any]:
    """A prompt that includes an embedded resource"""
    return [
        {"role": "user", "content": embedded_resource(resourceUri, "Embedded resource content for testing.",
                                                      "text/plain")},
        "Please process the embedded resource above.",
    ]


@app.prompt()
def test_prompt_with_image() -> List[Any]:
    """A prompt that includes image content"""
    return [image(IMAGE_B64, "image/png"), "Please analyze the image above."]


@app.prompt()
def test_input_required_result_prompt(ctx: Context) -> str:
    """A prompt that asks the user for context first (SEP-2322)"""
    answer = ctx.elicit("What context should the prompt use?", {"context": str}, key="user_context")
    return "Use this context: %s" % answer.get("content", {}).get("context", "")


@app.completion("arg1", prompt="test_prompt_with_arguments")
def complete_arg1(value: str) -> List[str]:
    return [v for v in ("test", "testValue1", "other") if v.startswith(value)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app.run("http", host=args.host, port=args.port, path="/mcp")


if __name__ == "__main__":
    main()
