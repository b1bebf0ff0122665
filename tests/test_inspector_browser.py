"""The inspector (``python -m mcplite inspect``) in a real browser: headless Chromium (Debian's
``chromium``) driven by playwright-core, both installed by ``scripts/test``.

Each test starts what it needs (the inspector, a server) as processes stopped by their PIDs,
then runs a Node scenario from ``tests/browser/`` whose checks are the test's result (see
``tests/browser_support.py``). Screenshots go to ``.cache/browser-shots/<test>/``. The
inspector's token, Origin and Host refusals are tested over raw HTTP elsewhere
(tests/test_inspector.py), not here.
"""

import http.server
import threading

from browser_support import browser, run_scenario  # noqa: F401  (browser: a fixture)

SMOKE_PAGE = b"""<!doctype html><meta charset="utf-8"><title>smoke</title>
<button data-testid="go" onclick="document.querySelector('[data-testid=out]').textContent = 'clicked'">go</button>
<p data-testid="out">not yet</p>"""


class _SmokeHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(SMOKE_PAGE)))
        self.end_headers()
        self.wfile.write(SMOKE_PAGE)

    def log_message(self, *args):
        pass


def test_the_harness_passes_and_fails_on_a_trivial_page(browser):  # noqa: F811
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SmokeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d/" % server.server_address[1]
        good = run_scenario(browser, "smoke.cjs", url, "smoke", {"expect": "clicked"})
        assert "HeadlessChrome" in good.values["userAgent"] or "Chrome" in good.values["userAgent"]
        assert good.shots and all(s.endswith(".png") for s in good.shots)
        # The same scenario expecting another text must come back failed: a check can fail.
        bad = run_scenario(browser, "smoke.cjs", url, "smoke-failing", {"expect": "something else"},
                           expect_ok=False)
        assert not bad.ok and [c["check"] for c in bad.failed] == ["the click changed the text"], bad.report()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
