"""The official SDK's server on its 2024-11-05 HTTP+SSE transport (GET /sse, POST
/messages/): ``python sdk_sse_server.py PORT``. Run under $MCPLITE_SDK_PYTHON."""

import sys

from mcp.server.mcpserver import MCPServer

mcp = MCPServer("old-sse", log_level="WARNING")


@mcp.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


mcp.run(transport="sse", host="127.0.0.1", port=int(sys.argv[1]))
