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

from mcplite import MCPError, Context, Server, audio, embedded_resource, image, text  # noqa: E402

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
        app.add_tool(_dynamic, name="test_dynamic_tool")
    app.notify_list_changed("tools")
    return "tool list changed"


@app.tool()
def test_trigger_prompt_change() -> str:
    """Registers a prompt, so the prompt list changes"""
    try:
        app.add_prompt(_dynamic, name="test_dynamic_prompt")
    except ValueError:
        pass  # registered by an earlier call
    app.notify_list_changed("prompts")
    return "prompt list changed"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app.run("http", host=args.host, port=args.port, path="/mcp")


if __name__ == "__main__":
    main()
