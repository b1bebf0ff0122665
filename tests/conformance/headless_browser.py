#!/usr/bin/env python3
"""A browser without a person, for ``BROWSER=tests/conformance/headless_browser.py``.

Python's ``webbrowser`` runs the program that $BROWSER names with the URL to open, which is
how ``mcplite bridge --stdio URL --oauth`` shows the sign-in page. This one does what a
person at a browser does when the sign-in needs no input (the conformance harness's mock
authorization server signs everyone in at once): GET the authorization URL, follow the
redirects, and so land on the bridge's own loopback callback, which ends the sign-in.
Standard library only; no proxy; 20 s at most. Exit status 0 when the last page answered
200, 1 otherwise (with the reason on stderr).
"""

import sys
import urllib.error
import urllib.request

TIMEOUT = 20.0  # seconds for each page: well inside the harness's time for a scenario


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: %s URL" % sys.argv[0], file=sys.stderr)
        return 2
    # urllib follows the redirects (the authorization server's 302 to the callback) itself.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(sys.argv[1], timeout=TIMEOUT) as page:
            page.read()
            status = page.status
    except (urllib.error.URLError, OSError) as exc:
        print("headless browser: %s: %s" % (sys.argv[1], exc), file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
