"""The sdist and the wheel, as pip and a user get them.

``python -m build --no-isolation`` builds the sdist from a copy of the checkout (a build writes
``mcplite.egg-info/`` and ``build/`` beside the sources, which must not happen in the checkout,
where other runs may be building at the same time) and the wheel from that sdist, as pip does.
Then:

* ``twine check --strict`` passes on both;
* the wheel holds every module of the package and ``py.typed``, the LICENSE in its
  ``.dist-info``, and nothing else: no tests, examples, benchmarks, bytecode;
* its metadata: the version of ``mcplite.__version__``, Requires-Python, no runtime dependency
  (a Requires-Dist only for the ``test`` extra), the MIT classifier and License-File, the
  README as Markdown, the ``mcplite`` console script;
* the sdist is the source release: LICENSE, README.md, CHANGELOG.md and the test suite with what
  it uses (every file of tests/, examples/, docs/, scripts/, bench/), no bytecode;
* the wheel installs with pip into a fresh venv, offline (``--no-index --no-deps``), and there,
  from a directory outside the checkout, with no PYTHONPATH, its ``mcplite`` console script runs
  and calls a tool of a server file, the server it starts importing mcplite from the venv.

The tools (build, twine, setuptools; pip) are the test venv's, which scripts/test installs with
pinned versions (pyproject.toml's ``test`` extra has the same pins); mcplite never imports them.
Without them the tests skip, saying so, except under scripts/test (MCPLITE_REQUIRE_INTEROP
set), where they fail. Like the tests of the interop peers, they are marked ``interop``: CI
runs them on the oldest and newest Python (3.8, with the setuptools pip builds with there, and
3.14, with the newest), and ``scripts/test --no-interop`` (3.9 to 3.13 in CI) leaves them out.
"""

import configparser
import email.parser
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(bool(os.environ.get("MCPLITE_VENDORED")),
                       reason="MCPLITE_VENDORED: the package's sources are not in the vendored copy"),
]

# What the sdist holds of the tree beyond the package (MANIFEST.in grafts these whole).
GRAFTED = ("tests", "examples", "docs", "scripts", "bench")
TOOLS = ("build", "twine", "setuptools", "pip")

SERVER = '''\
import mcplite
from mcplite import Server

app = Server("packaged", version="1.0.0")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool()
def where() -> str:
    """The file mcplite was imported from."""
    return mcplite.__file__


if __name__ == "__main__":
    app.run()
'''


def _require_tools():
    import importlib.util

    missing = [name for name in TOOLS if importlib.util.find_spec(name) is None]
    if missing:
        message = ("the packaging tests need %s, not importable by %s: scripts/test installs them in its venv "
                   "(pinned, like pyproject.toml's `test` extra)" % (", ".join(missing), sys.executable))
        if os.environ.get("MCPLITE_REQUIRE_INTEROP"):
            pytest.fail(message)
        pytest.skip(message)


def _run(cmd, timeout=300, **kwargs):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout, **kwargs)
    assert proc.returncode == 0, "%s exited with %s:\n%s" % (" ".join(map(str, cmd)), proc.returncode, proc.stdout)
    return proc.stdout


def _source_files(top, sub):
    """The files under top/sub as relative paths ('tests/x.py'), without bytecode."""
    found = set()
    for directory, dirs, files in os.walk(os.path.join(top, sub)):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if not name.endswith((".pyc", ".pyo")):
                found.add(os.path.relpath(os.path.join(directory, name), top).replace(os.sep, "/"))
    return found


def _copy_ignore(directory, names):
    """The checkout's copy leaves out what a build or a test run leaves behind, and VCS and caches."""
    skip = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo", ".egg-info"))}
    if os.path.abspath(directory) == ROOT:
        skip.update(n for n in names if n.startswith(".") or n in ("build", "dist"))
    return skip


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """Build once: {"src": the copied tree, "sdist", "wheel": their paths, "version", "top": the tmp dir}."""
    _require_tools()
    import mcplite

    top = tmp_path_factory.mktemp("packaging")
    src = str(top / "src")
    out = str(top / "dist")
    shutil.copytree(ROOT, src, ignore=_copy_ignore, symlinks=True)
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, src])
    built = sorted(os.listdir(out))
    version = mcplite.__version__
    assert built == ["mcplite-%s-py3-none-any.whl" % version, "mcplite-%s.tar.gz" % version], built
    return {"src": src, "wheel": os.path.join(out, built[0]), "sdist": os.path.join(out, built[1]),
            "version": version, "top": str(top)}


def test_twine_check_strict(dists):
    output = _run([sys.executable, "-m", "twine", "check", "--strict", dists["sdist"], dists["wheel"]])
    assert output.count("PASSED") == 2, output


def test_wheel_holds_the_package_alone(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
        dist_info = "mcplite-%s.dist-info/" % dists["version"]
        package = sorted(n for n in names if not n.startswith(dist_info))
        # Every module of the package (a subpackage missing from [tool.setuptools] packages would
        # show here), py.typed, and nothing else.
        modules = [n for n in _source_files(dists["src"], "mcplite") if n.endswith(".py")]
        assert package == sorted(modules + ["mcplite/py.typed"])
        for name in names:
            assert not name.startswith(GRAFTED), name
            assert "__pycache__" not in name and not name.endswith((".pyc", ".pyo")), name
        licenses = [n for n in names if n in (dist_info + "LICENSE", dist_info + "licenses/LICENSE")]
        assert len(licenses) == 1, names  # (licenses/ from setuptools 77 on, PEP 639)
        with open(os.path.join(ROOT, "LICENSE"), "rb") as f:
            assert wheel.read(licenses[0]) == f.read()
        metadata = email.parser.Parser().parsestr(wheel.read(dist_info + "METADATA").decode("utf-8"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(wheel.read(dist_info + "entry_points.txt").decode("utf-8"))

    assert metadata["Name"] == "mcplite"
    assert metadata["Version"] == dists["version"]
    assert metadata["Requires-Python"] == ">=3.8"
    # No runtime dependency: the only requirements are the `test` extra's.
    requires = metadata.get_all("Requires-Dist") or []
    assert requires and all("extra ==" in r for r in requires), requires
    assert metadata.get_all("Provides-Extra") == ["test"]
    assert "License :: OSI Approved :: MIT License" in metadata.get_all("Classifier")
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme_start = f.readline()
    assert metadata.get_payload().startswith(readme_start)
    assert dict(entry_points["console_scripts"]) == {"mcplite": "mcplite.cli:cli_main"}


def test_sdist_is_the_source_release(dists):
    prefix = "mcplite-%s/" % dists["version"]
    with tarfile.open(dists["sdist"]) as sdist:
        members = sdist.getmembers()
        files = {m.name[len(prefix):] for m in members if m.isfile()}
        assert all(m.name.startswith(prefix) or m.name == prefix.rstrip("/") for m in members)
        with open(os.path.join(ROOT, "LICENSE"), "rb") as f:
            assert sdist.extractfile(prefix + "LICENSE").read() == f.read()
    for name in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "MANIFEST.in", "PKG-INFO",
                 "mcplite/py.typed", "mcplite/__init__.py", "tests/conftest.py", "examples/quickstart.py"):
        assert name in files, name
    for sub in GRAFTED + ("mcplite",):
        in_sdist = {f for f in files if f.startswith(sub + "/")}
        assert in_sdist == _source_files(dists["src"], sub), sub
    for name in files:
        assert "__pycache__" not in name and not name.endswith((".pyc", ".pyo")), name
        assert not name.startswith("."), name


def _fresh_venv(directory):
    """A venv with nothing in it, and the command that runs pip for it: the test venv's pip with
    --python (pip >= 22.3; no ensurepip needed, which Debian's Pythons lack), else the venv's own."""
    from importlib.metadata import version

    pip_version = tuple(int(part) for part in version("pip").split(".")[:2] if part.isdigit())
    python = os.path.join(directory, "bin", "python")
    if pip_version >= (22, 3):
        _run([sys.executable, "-m", "venv", "--without-pip", directory])
        return python, [sys.executable, "-m", "pip", "--python", python]
    _run([sys.executable, "-m", "venv", directory])
    return python, [python, "-m", "pip"]


def test_wheel_installs_and_runs(dists):
    venv = os.path.join(dists["top"], "venv")
    python, pip = _fresh_venv(venv)
    # Offline, this wheel alone, no pip configuration or PIP_* variables.
    _run(pip + ["--isolated", "--disable-pip-version-check", "install", "--no-index", "--no-deps", dists["wheel"]])
    script = os.path.join(venv, "bin", "mcplite")
    with open(script) as f:
        shebang = f.readline()
    assert os.path.realpath(shebang[2:].strip()) == os.path.realpath(python), shebang

    # Outside the checkout, with nothing on PYTHONPATH: only the venv's mcplite can be found.
    work = os.path.join(dists["top"], "work")
    os.mkdir(work)
    with open(os.path.join(work, "server.py"), "w") as f:
        f.write(SERVER)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE") and not k.startswith("MCPLITE_")}
    env["PYTHONNOUSERSITE"] = "1"
    site = os.path.realpath(venv) + os.sep

    out = _run([python, "-I", "-c", "import mcplite; print(mcplite.__file__); print(mcplite.__version__)"],
               cwd=work, env=env, timeout=60)
    where, version = out.split()
    assert os.path.realpath(where).startswith(site), where
    assert version == dists["version"]

    assert _run([script, "--help"], cwd=work, env=env, timeout=60).startswith("usage: mcplite ")
    assert dists["version"] in _run([script, "--version"], cwd=work, env=env, timeout=60)
    out = _run([script, "call", "server.py", "add", "a=1", "b=2", "--json"], cwd=work, env=env, timeout=60)
    assert json.loads(out)["structuredContent"] == {"result": 3}, out
    out = _run([script, "call", "server.py", "where", "--json"], cwd=work, env=env, timeout=60)
    where = json.loads(out)["content"][0]["text"]
    assert os.path.realpath(where).startswith(site), where
