"""The benchmark's mcplite server: one ``add`` tool over stdio.

Run by ``bench/bench_stdio.py`` with ``PYTHONPATH`` set to the repository root, so
``mcplite`` is imported from the checkout.
"""
from mcplite import Server

app = Server("bench", version="1.0.0")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


if __name__ == "__main__":
    app.run()
