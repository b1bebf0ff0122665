"""A slow reader of a pipe, for the tests of writers that must wait on a full one."""

import os
import threading
import time
from typing import List, Tuple


def read_slowly(fd: int, pause: float) -> Tuple[List[bytes], threading.Thread]:
    """Read ``fd`` on a thread of its own, one chunk every ``pause`` seconds, until its end
    (the write end closed): the chunks read so far, and the thread."""
    received = []  # type: List[bytes]

    def read() -> None:
        while True:
            time.sleep(pause)
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            received.append(chunk)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return received, reader
