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

try:
    from wire import wire_factory  # noqa: E402,F401  (a fixture every test module can use)
except ImportError:
    # A one-file build of some parts (scripts/test_vendored --parts) without the in-memory
    # connection: only the tests of tests/test_vendor_parts.py run against it, without wire.
    if not VENDORED or "memory" in getattr(sys.modules.get("mcplite"), "_VENDORED_PARTS", ("memory",)):
        raise


# Tests that need an interop peer (the official SDK, the Inspector, the TypeScript everything
# server, headless Chromium with playwright-core) are marked `interop`: every test in a test_interop_*.py file, and every test that
# uses one of these fixtures. `scripts/test --no-interop` deselects them by the mark, and keeps
# MCPLITE_REQUIRE_INTEROP set, so a peer-using test this misses fails rather than skips.
_PEER_FIXTURES = frozenset(["sdk_python", "sdk_servers", "sdk_http_url", "everything", "everything_http",
                            "everything_stdio", "inspector", "browser"])


def pytest_configure(config):
    config.addinivalue_line("markers", "interop: needs an interop peer that scripts/test installs "
                                       "(deselected by scripts/test --no-interop)")


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        module = os.path.basename(str(getattr(item, "fspath", "")))
        if module.startswith("test_interop_") or _PEER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.interop)
