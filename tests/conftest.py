import os
import signal
import sys

# A shell without job control starts a background job with SIGINT ignored, and Python keeps an
# ignored SIGINT ignored (no KeyboardInterrupt), as do the processes it starts: the tests of
# Ctrl-C (in-process, and servers stopped with SIGINT) would then fail for how the suite was
# launched. Python's own handler here, so that they test mcplite, not the launcher.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
TESTS = os.path.dirname(os.path.abspath(__file__))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

# MCPLITE_VENDORED=DIR: the tests run against DIR/mcplite.py, the one-file build, and so does
# every Python process they start (DIR goes first on PYTHONPATH). The scripts they start put
# the checkout first on sys.path, so the checkout must not have the mcplite/ package:
# scripts/test_vendored runs the suite in a copy of the checkout without it, the one file in
# its place. `mcplite.<module>` names (``from mcplite.schema import ...``) are the one module
# here; the processes the tests start import ``mcplite`` only.
VENDORED = os.path.abspath(os.environ["MCPLITE_VENDORED"]) if os.environ.get("MCPLITE_VENDORED") else ""


def _use_vendored(directory):
    import pytest

    bundle = os.path.join(directory, "mcplite.py")
    if not os.path.isfile(bundle):
        pytest.exit("MCPLITE_VENDORED=%s has no mcplite.py" % directory, returncode=4)
    if os.path.isdir(os.path.join(ROOT, "mcplite")):
        pytest.exit("MCPLITE_VENDORED is set, but %s has the mcplite/ package, which the scripts the tests "
                    "start would import: use scripts/test_vendored (it tests a copy without it)" % ROOT, returncode=4)
    sys.path[:] = [directory] + [p for p in sys.path if os.path.abspath(p or ".") != directory and not (
        os.path.exists(os.path.join(p or ".", "mcplite")) or os.path.exists(os.path.join(p or ".", "mcplite.py")))]
    os.environ["PYTHONPATH"] = os.pathsep.join([directory] + [p for p in os.environ.get(
        "PYTHONPATH", "").split(os.pathsep) if p and os.path.abspath(p) != directory])
    import mcplite
    if os.path.realpath(getattr(mcplite, "__file__", "") or "") != os.path.realpath(bundle):
        pytest.exit("MCPLITE_VENDORED: mcplite was imported from %r, not %s" % (mcplite, bundle), returncode=4)
    for name in mcplite._VENDORED_MODULES:
        if not name.startswith("__"):
            sys.modules.setdefault("mcplite." + name, mcplite)


if VENDORED:
    _use_vendored(VENDORED)

# A fixture every test module can use. (It needs the in-memory connection, the memory part:
# under a one-file build of some parts without it, tests/parts_needs.py leaves out the tests
# that take it.)
from wire import wire_factory  # noqa: E402,F401


# Tests that need an interop peer (the official SDK, the Inspector, the TypeScript everything
# server, headless Chromium with playwright-core) are marked `interop`: every test in a test_interop_*.py file, and every test that
# uses one of these fixtures. `scripts/test --no-interop` deselects them by the mark, and keeps
# MCPLITE_REQUIRE_INTEROP set, so a peer-using test this misses fails rather than skips.
_PEER_FIXTURES = frozenset(["sdk_python", "sdk_servers", "sdk_http_url", "everything", "everything_http",
                            "everything_stdio", "inspector", "browser"])


def pytest_configure(config):
    config.addinivalue_line("markers", "interop: needs an interop peer that scripts/test installs "
                                       "(deselected by scripts/test --no-interop)")
    config.addinivalue_line("markers", "needs_parts(*parts): a one-file build of some parts runs this test only if "
                                       "it holds these parts (tests/parts_needs.py reads it, for what the test's "
                                       "code does not show)")


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        module = os.path.basename(str(getattr(item, "fspath", "")))
        if module.startswith("test_interop_") or _PEER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.interop)
    # MCPLITE_PARTS_DESELECT=FILE (scripts/test_vendored --parts): the tests that need parts the
    # one-file build under test lacks (tests/parts_needs.py), a node id a line without its
    # parameters, deselected exactly: pytest's --deselect takes a prefix, test_a_b with test_a.
    listed = os.environ.get("MCPLITE_PARTS_DESELECT")
    if listed:
        with open(listed, encoding="utf-8") as f:
            names = {line.strip() for line in f if line.strip()}
        dropped = [item for item in items if item.nodeid.split("[", 1)[0] in names]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if item.nodeid.split("[", 1)[0] not in names]
