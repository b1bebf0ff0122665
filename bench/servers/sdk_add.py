"""The benchmark's official-SDK server: the same ``add`` tool on ``MCPServer`` over stdio.

Needs the official Python SDK (``mcp==2.3.0``, Python >= 3.10); ``bench/bench_stdio.py``
runs it with the SDK venv's interpreter (``--sdk-python``).
"""
from mcp.server.mcpserver import MCPServer

app = MCPServer("bench", version="1.0.0")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


if __name__ == "__main__":
    app.run()  # stdio
