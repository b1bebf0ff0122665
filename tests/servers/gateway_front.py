"""A front server for the gateway tests (tests/test_gateway.py): it mounts two host_app.py
upstreams, "a" and "b", and serves on stdio; ``upstream_pids`` says their process ids, so the
test can check them gone. When its stdin ends it closes its mounts (stopping both upstreams)."""

import os
import sys
from typing import List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # the checkout (mcplite)

from mcplite import Server  # noqa: E402

if __name__ == "__main__":
    app = Server("gateway-front", version="1.0.0")
    mounts = [app.mount(prefix, {"command": sys.executable, "args": [os.path.join(HERE, "host_app.py"), name]})
              for prefix, name in (("a", "A"), ("b", "B"))]

    @app.tool()
    def upstream_pids() -> List[int]:
        """The upstreams' process ids."""
        return [mount.process_id for mount in mounts]

    try:
        app.run()
    finally:
        for mount in mounts:
            mount.close()
