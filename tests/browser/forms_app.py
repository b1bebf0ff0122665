"""A server for the inspector's form and result rendering in the browser
(tests/test_inspector_browser.py, tests/browser/forms.cjs):

    python -m mcplite serve tests/browser/forms_app.py --http 127.0.0.1:0

``order`` takes the shapes the generated form builds beyond plain fields: an enum, a list, a
nested object (two levels deep), an optional nested object with a checkbox, and a union, which
the form leaves as a JSON field; it returns
what it was given (structuredContent), with the ``X-Team`` header of the request. ``pixel``
returns a PNG image. A call whose arguments break the schema (sent as Raw JSON) is an isError
result.
"""

import os
import struct
import sys
import zlib
from typing import List, Literal, Optional, TypedDict, Union

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mcplite import Context, Server, image  # noqa: E402

app = Server("forms-demo", version="1.0.0")


class Geo(TypedDict):
    lat: float
    lon: float


class Address(TypedDict):
    city: str
    geo: Geo


class Gift(TypedDict):
    to: str
    wrapped: bool


@app.tool()
def order(ctx: Context, size: Literal["small", "medium", "large"], toppings: List[str], address: Address,
          extra: Union[int, List[int]] = 0, gift: Optional[Gift] = None) -> dict:
    """Takes an order and says back what it received"""
    return {"order": {"size": size, "toppings": toppings, "address": address, "extra": extra, "gift": gift},
            "team": ctx.http_headers.get("x-team")}


def png(width: int, height: int, rgb: bytes) -> bytes:
    """A PNG of one colour, written by hand (zlib and struct only)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + rgb * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@app.tool()
def pixel() -> list:
    """A 6x4 orange image"""
    return [image(png(6, 4, b"\xff\x80\x00"), "image/png")]


if __name__ == "__main__":
    app.run()
