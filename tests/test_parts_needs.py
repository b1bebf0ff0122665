"""tests/parts_needs.py, which chooses the tests a one-file build of some parts runs
(``scripts/test_vendored --parts P``): what a test uses, read from its source, mapped to the
parts of ``vendor.PARTS``."""

import os
import subprocess
import sys
import textwrap

import pytest

import parts_needs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "mcplite")
pytestmark = pytest.mark.skipif(not os.path.isdir(PACKAGE),
                                reason="MCPLITE_VENDORED: the package's sources are not in the vendored copy")


def write(directory, **files):
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def checkout(tmp_path):
    """A small checkout: tests/ with a conftest fixture from a helper, a file that needs the
    client part, one that needs only a server, and the script one of its tests runs."""
    tests = tmp_path / "tests"
    (tests / "servers").mkdir(parents=True)
    write(tests, **{
        "conftest.py": "from wire import wire_factory  # noqa: F401\n",
        "wire.py": '''
            import pytest
            from mcplite.schema import compile_schema

            class Wire:
                def __init__(self, app):
                    from mcplite.memory import MemoryConnection
                    self.conn = MemoryConnection(app)

            @pytest.fixture
            def wire_factory():
                return Wire
        ''',
        "test_client_side.py": '''
            from mcplite import Client

            def test_calls():
                assert Client
        ''',
        "test_server_side.py": '''
            import subprocess, sys
            import mcplite
            from stdio_peer import Peer

            SERVER = "servers/echo_app.py"

            def cli(*args):
                return subprocess.run([sys.executable, "-m", "mcplite"] + list(args))

            def test_a_server():
                assert mcplite.Server("x")

            def test_the_server_script_over_stdio():
                Peer([sys.executable, SERVER])

            def test_the_command_line():
                cli("ls")

            @pytest.mark.needs_parts("http")
            def test_marked():
                pass

            def test_in_memory(wire_factory):
                wire_factory(mcplite.Server("x"))
        ''',
        "stdio_peer.py": "import subprocess\n\nclass Peer:\n    pass\n",
    })
    write(tests / "servers", **{"echo_app.py": "from mcplite import Server\nServer('echo').run()\n"})
    return tmp_path


def test_a_file_that_needs_the_client_part_is_left_out_of_a_server_build(checkout):
    plan = parts_needs.plan(["server", "stdio"], PACKAGE, str(checkout / "tests"))
    assert plan.run == ["tests/test_server_side.py"]
    assert [path for path, _ in plan.left_out] == ["tests/test_client_side.py"]
    assert plan.left_out[0][1] == ["mcplite/client.py (client part) for from mcplite import Client"]
    deselected = dict(plan.deselected)
    # A test that reaches, through a helper, what the build lacks is deselected, saying why;
    # the others of the file run (the script a test runs is read too: a Server, over stdio).
    assert sorted(deselected) == ["tests/test_server_side.py::test_in_memory",
                                  "tests/test_server_side.py::test_marked",
                                  "tests/test_server_side.py::test_the_command_line"]
    assert deselected["tests/test_server_side.py::test_the_command_line"] == [
        "mcplite/__main__.py (cli part) for cli(): python -m mcplite"]
    assert deselected["tests/test_server_side.py::test_in_memory"] == [
        "mcplite/memory.py (memory part) for fixture wire_factory: Wire(): from mcplite.memory import ..."]
    assert deselected["tests/test_server_side.py::test_marked"] == ["the http part for @pytest.mark.needs_parts"]


def test_a_file_that_needs_only_the_client_runs_in_a_client_build(checkout):
    plan = parts_needs.plan(["client"], PACKAGE, str(checkout / "tests"))
    assert plan.run == ["tests/test_client_side.py"] and plan.deselected == []
    assert plan.left_out == [("tests/test_server_side.py", [
        "mcplite/server.py (server part) for mcplite.Server"])]


def test_the_whole_build_runs_everything(checkout):
    plan = parts_needs.plan(["all"], PACKAGE, str(checkout / "tests"))
    assert plan.run == ["tests/test_client_side.py", "tests/test_server_side.py"]
    assert (plan.deselected, plan.left_out) == ([], [])


def test_the_script_helper_and_the_server_it_runs_are_read(checkout):
    # The same server script, but one that uses the client part: the test running it goes.
    write(checkout / "tests" / "servers", **{"echo_app.py": "import mcplite\nmcplite.Client\n"})
    plan = parts_needs.plan(["server", "stdio"], PACKAGE, str(checkout / "tests"))
    assert dict(plan.deselected)["tests/test_server_side.py::test_the_server_script_over_stdio"] == [
        "mcplite/client.py (client part) for SERVER: servers/echo_app.py: mcplite.Client"]


def test_a_run_of_nothing_fails(checkout, capsys):
    args = checkout / "args"
    assert parts_needs.main(["--parts", "client", "--package", PACKAGE, "--tests", str(checkout / "tests"),
                             "--args", str(args)]) == 0
    assert args.read_text().splitlines() == ["tests/test_client_side.py"]
    (checkout / "tests" / "test_client_side.py").unlink()
    assert parts_needs.main(["--parts", "client", "--package", PACKAGE, "--tests", str(checkout / "tests")]) == 1
    assert "no test file applies to parts client" in capsys.readouterr().err


def test_the_suites_own_tests_for_a_stdio_server_build():
    plan = parts_needs.plan(["server", "stdio"], PACKAGE, os.path.join(ROOT, "tests"),
                            always=["test_vendor_parts.py"])
    assert {"tests/test_stdio.py", "tests/test_jsonrpc.py", "tests/test_vendor_parts.py"} <= set(plan.run)
    left_out = dict(plan.left_out)
    assert left_out["tests/test_client.py"] and left_out["tests/test_http.py"]
    assert "tests/test_stdio.py::test_handshake_and_call" not in dict(plan.deselected)


def test_conftest_deselects_the_listed_tests_exactly(tmp_path):
    # MCPLITE_PARTS_DESELECT: a listed id goes with all its parameters, and a test whose name
    # merely begins with a listed one stays (pytest's --deselect would take it too).
    listed = tmp_path / "deselected"
    listed.write_text("tests/test_parts_needs.py::test_a_run_of_nothing\n"
                      "tests/test_parts_needs.py::test_the_whole_build_runs_everything\n", encoding="utf-8")
    env = dict(os.environ, MCPLITE_PARTS_DESELECT=str(listed))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q",
                           "tests/test_parts_needs.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    collected = [line.split("::")[1] for line in done.stdout.splitlines() if "::" in line]
    assert "test_the_whole_build_runs_everything" not in collected
    assert "test_a_run_of_nothing_fails" in collected
    assert "1 deselected" in done.stdout, done.stdout
