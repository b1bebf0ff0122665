"""The benchmark's mcplite server with its ``add`` tool declared ``inline=True``: served on
the reading thread, no hand-off to a worker (a checkout from before ``inline`` existed
serves it the ordinary way, so a baseline twin still runs).
"""
from mcplite import Server

app = Server("bench", version="1.0.0")


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


try:
    app.add_tool(add, inline=True)
except TypeError:  # (an mcplite without inline=)
    app.add_tool(add)


if __name__ == "__main__":
    app.run()
