"""`install HOST FILE[:app]` and `discover`: host configuration files written and read, with
HOME, XDG_CONFIG_HOME and APPDATA pointed into a temporary directory (nothing of this
machine's own hosts is read or touched), and a written entry started for real."""

import json
import os
import sys

import pytest

from mcplite import Client
from mcplite.cli import cli_main
from mcplite.installcmds import install_config_path
from harness_support import assert_gone

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_SOURCE = os.path.join(HERE, "servers", "watch_app.py")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fake home (and APPDATA), a project directory as the current one, a server file."""
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.chdir(project)
    with open(SERVER_SOURCE, encoding="utf-8") as f:
        source = f.read()
    # (the copy lives elsewhere: its sys.path line must still find the checkout)
    source = source.replace("sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))",
                            "sys.path.insert(0, %r)" % os.path.dirname(HERE))
    (project / "weather.py").write_text(source, encoding="utf-8")
    return home


def run(capsys, *argv):
    status = cli_main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def claude_path(home):
    if sys.platform == "darwin":
        return os.path.join(str(home), "Library", "Application Support", "Claude", "claude_desktop_config.json")
    if sys.platform.startswith("win"):
        return os.path.join(str(home), "AppData", "Roaming", "Claude", "claude_desktop_config.json")
    return os.path.join(str(home), ".config", "Claude", "claude_desktop_config.json")


def host_file(host, home):
    return {"claude-desktop": claude_path(home),
            "cursor": os.path.join(str(home), ".cursor", "mcp.json"),
            "vscode": os.path.join(os.getcwd(), ".vscode", "mcp.json")}[host]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def backups(path):
    directory, name = os.path.split(path)
    return sorted(n for n in os.listdir(directory) if n.startswith(name + ".") and n.endswith(".bak"))


@pytest.mark.parametrize("host", ["claude-desktop", "cursor", "vscode"])
def test_each_host_gets_its_entry_in_its_file(home, capsys, host):
    path = host_file(host, home)
    os.makedirs(os.path.dirname(path), exist_ok=True)  # the host is "installed" (vscode: made if missing)
    status, out, err = run(capsys, "install", host, "weather.py:app")
    assert (status, err) == (0, "")
    assert path in out
    data = load(path)
    key = "servers" if host == "vscode" else "mcpServers"
    assert list(data) == [key] and list(data[key]) == ["weather"]
    entry = data[key]["weather"]
    assert entry.get("type") == ("stdio" if host == "vscode" else None)
    assert entry["command"] == sys.executable
    assert entry["args"][-2:] == ["serve", os.path.join(os.getcwd(), "weather.py") + ":app"]
    assert backups(path) == []  # there was nothing to back up


def test_the_default_locations_per_system(home):
    app_data = os.path.join(str(home), "AppData", "Roaming")
    assert install_config_path("claude-desktop", platform="win32") == os.path.join(
        app_data, "Claude", "claude_desktop_config.json")
    assert install_config_path("claude-desktop", platform="darwin") == os.path.join(
        str(home), "Library", "Application Support", "Claude", "claude_desktop_config.json")
    assert install_config_path("claude-desktop", platform="linux") == os.path.join(
        str(home), ".config", "Claude", "claude_desktop_config.json")
    assert install_config_path("vscode", user=True, platform="win32") == os.path.join(app_data, "Code", "User",
                                                                                       "mcp.json")
    assert install_config_path("vscode", user=True, platform="linux") == os.path.join(
        str(home), ".config", "Code", "User", "mcp.json")
    assert install_config_path("cursor") == os.path.join(str(home), ".cursor", "mcp.json")
    assert install_config_path("mcp-json") is None


def test_vscode_user_profile_and_mcp_json_with_config(home, capsys):
    status, _, err = run(capsys, "install", "vscode", "weather.py", "--user")
    assert (status, err) == (0, "")
    user_file = install_config_path("vscode", user=True)
    assert load(user_file)["servers"]["weather"]["type"] == "stdio"
    status, _, err = run(capsys, "install", "mcp-json", "weather.py")
    assert status == 2 and "--config PATH" in err
    status, _, err = run(capsys, "install", "mcp-json", "weather.py", "--config", "deep/er/servers.json",
                         "--name", "forecast")
    assert (status, err) == (0, "")
    assert list(load("deep/er/servers.json")["mcpServers"]) == ["forecast"]


def test_a_host_that_is_not_installed_is_not_written_without_config(home, capsys):
    status, _, err = run(capsys, "install", "claude-desktop", "weather.py")
    assert status == 1 and "does not seem to be installed" in err and "--config" in err
    assert not os.path.exists(os.path.dirname(claude_path(home)))


def test_dry_run_prints_the_file_and_writes_nothing(home, capsys):
    path = host_file("cursor", home)
    os.makedirs(os.path.dirname(path))
    original = {"mcpServers": {"other": {"command": "node", "args": ["x.js"]}}, "theme": "dark"}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(original, f)
    before = open(path, "rb").read()
    status, out, err = run(capsys, "install", "cursor", "weather.py", "--dry-run", "--env", "CITY=Paris")
    assert status == 0 and "would write %s" % path in err
    printed = json.loads(out)
    assert printed["theme"] == "dark" and printed["mcpServers"]["other"] == original["mcpServers"]["other"]
    assert printed["mcpServers"]["weather"]["env"]["CITY"] == "Paris"
    assert open(path, "rb").read() == before and backups(path) == []
    status, _, _ = run(capsys, "install", "cursor", "weather.py", "--env", "CITY=Paris")
    assert status == 0 and load(path) == printed  # the dry run showed exactly this


def test_other_keys_kept_a_backup_made_and_a_second_run_changes_nothing(home, capsys):
    path = host_file("claude-desktop", home)
    os.makedirs(os.path.dirname(path))
    original = {"globalShortcut": "Ctrl+Space", "mcpServers": {"files": {"command": "npx", "args": ["-y", "fs"],
                                                                         "env": {"TOKEN": "t"}}},
                "nested": {"a": [1, 2, {"b": None}]}}
    text = json.dumps(original, indent=4)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)
    assert run(capsys, "install", "claude-desktop", "weather.py")[0] == 0
    data = load(path)
    assert data["globalShortcut"] == "Ctrl+Space" and data["nested"] == original["nested"]
    assert data["mcpServers"]["files"] == original["mcpServers"]["files"]
    assert list(data["mcpServers"]) == ["files", "weather"]
    if os.name != "nt":
        assert os.stat(path).st_mode & 0o777 == 0o600  # it may hold keys: its permissions are kept
    saved = backups(path)
    assert len(saved) == 1
    with open(os.path.join(os.path.dirname(path), saved[0]), encoding="utf-8") as f:
        assert f.read() == text
    after_first = open(path, "rb").read()
    status, out, err = run(capsys, "install", "claude-desktop", "weather.py")
    assert (status, err) == (0, "") and "unchanged" in out
    assert open(path, "rb").read() == after_first and backups(path) == saved


def test_an_entry_of_the_same_name_is_replaced_only_with_force(home, capsys):
    path = host_file("cursor", home)
    os.makedirs(os.path.dirname(path))
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"mcpServers": {"weather": {"command": "node", "args": ["old.js"]}}}, f)
    before = open(path, "rb").read()
    status, _, err = run(capsys, "install", "cursor", "weather.py")
    assert status == 1 and "already has a server named 'weather'" in err and "node old.js" in err
    assert "--force" in err and open(path, "rb").read() == before and backups(path) == []
    status, out, _ = run(capsys, "install", "cursor", "weather.py", "--force")
    assert status == 0 and "replaced" in out
    assert load(path)["mcpServers"]["weather"]["args"][-1] == os.path.join(os.getcwd(), "weather.py")
    assert len(backups(path)) == 1


@pytest.mark.parametrize("content,problem", [
    (b'{"mcpServers": {"a": {"command": "x"}},}', "not valid JSON"),
    (b'{"mcpServers": {} // a comment\n}', "not valid JSON"),
    (b'[1, 2]', "not an object"),
    (b'{"mcpServers": ["a"]}', "not an object"),
    (b'\xff\xfe{}', "not UTF-8"),
])
def test_a_file_that_is_not_a_json_object_is_left_untouched(home, capsys, content, problem):
    path = host_file("cursor", home)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(content)
    status, out, err = run(capsys, "install", "cursor", "weather.py", "--force")
    assert status == 1 and problem in err and "left as it is" in err and out == ""
    assert open(path, "rb").read() == content
    assert sorted(os.listdir(os.path.dirname(path))) == ["mcp.json"]  # no backup, no temporary file


def test_bad_arguments(home, capsys):
    assert run(capsys, "install", "cursor", "missing.py", "--config", "x.json")[0] == 1
    assert run(capsys, "install", "cursor", "weather.txt", "--config", "x.json")[0] == 2
    status, _, err = run(capsys, "install", "cursor", "weather.py", "--config", "x.json", "--env", "NOVALUE")
    assert status == 2 and "KEY=VALUE" in err
    assert run(capsys, "install", "cursor", "weather.py", "--user", "--config", "x.json")[0] == 2
    assert run(capsys, "install", "zed", "weather.py")[0] == 2
    assert not os.path.exists("x.json")


def test_discover_lists_every_host_file_without_env_values(home, capsys):
    for host in ("claude-desktop", "cursor"):
        os.makedirs(os.path.dirname(host_file(host, home)))
    assert run(capsys, "install", "claude-desktop", "weather.py", "--env", "API_KEY=sekrit")[0] == 0
    assert run(capsys, "install", "cursor", "weather.py", "--name", "wx")[0] == 0
    # VS Code's files may have comments and trailing commas: read anyway
    os.makedirs(".vscode")
    with open(os.path.join(".vscode", "mcp.json"), "w", encoding="utf-8") as f:
        f.write('{\n  // the workspace\'s servers\n  "servers": {\n    "remote": {"type": "http", '
                '"url": "https://mcp.example.com/mcp"}, /* a "quoted" comment */\n  },\n}\n')
    with open(".mcp.json", "w", encoding="utf-8") as f:
        f.write("not json")
    status, out, err = run(capsys, "discover", "--json")
    assert (status, err) == (0, "")
    rows = json.loads(out)
    found = {(row["host"], row.get("name")): row for row in rows}
    assert set(found) == {("claude-desktop", "weather"), ("cursor", "wx"), ("vscode", "remote"), ("mcp-json", None)}
    weather = found["claude-desktop", "weather"]
    assert weather["file"] == claude_path(home) and weather["type"] == "stdio"
    assert weather["command"] == sys.executable and weather["args"][-1].endswith("weather.py")
    assert "API_KEY" in weather["env"] and "sekrit" not in out
    assert found["vscode", "remote"]["url"] == "https://mcp.example.com/mcp"
    assert "error" in found["mcp-json", None]
    status, text, _ = run(capsys, "discover")
    assert status == 0 and "sekrit" not in text
    assert "wx  %s" % sys.executable in text and "https://mcp.example.com/mcp" in text
    assert "[env: API_KEY" in text


def test_discover_with_nothing_configured(home, capsys):
    status, out, err = run(capsys, "discover")
    assert status == 0 and out == "" and "looked at" in err and "claude_desktop_config.json" in err
    assert run(capsys, "discover", "--json")[:2] == (0, "[]\n")


def test_a_written_entry_starts_the_server(home, capsys, monkeypatch, tmp_path):
    os.makedirs(os.path.dirname(host_file("cursor", home)))
    assert run(capsys, "install", "cursor", "weather.py:app", "--env", "WEATHER_MODE=test")[0] == 0
    entry = load(host_file("cursor", home))["mcpServers"]["weather"]
    # As a host starts it: elsewhere, with none of this shell's PYTHONPATH.
    monkeypatch.delenv("PYTHONPATH", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with Client.stdio([entry["command"]] + entry["args"], env=entry.get("env"), cwd=str(elsewhere)) as client:
        result = client.call_tool("echo", {"text": "sunny"})
    assert result["content"] == [{"type": "text", "text": "sunny"}]


def test_a_file_the_host_could_not_start_is_refused_and_nothing_written(home, capsys):
    # The entry is started as the host will start it (stdin closed at once): a file without
    # a Server, with several, or one that fails at import would otherwise be written, and the
    # host would show the failure somewhere in its logs after a restart.
    with open("none.py", "w") as f:
        f.write("x = 1\n")
    with open("two.py", "w") as f:
        f.write("from mcplite import Server\na = Server('a')\nb = Server('b')\n")
    with open("broken.py", "w") as f:
        f.write("import no_such_module_here\n")
    for name, says in (("none.py", "has no mcplite Server at its top level"),
                       ("two.py", "has several Servers (a, b): say which, as"),
                       ("broken.py", "No module named 'no_such_module_here'")):
        status, out, err = run(capsys, "install", "mcp-json", name, "--config", "x.json")
        assert (status, out) == (3, ""), err
        assert says in err and err.count("\n") == 1 and "nothing written" in err, err
        assert not os.path.exists("x.json")
    assert run(capsys, "install", "mcp-json", "two.py:b", "--config", "x.json")[0] == 0
    assert load("x.json")["mcpServers"]["two"]["args"][-1].endswith("two.py:b")


@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")
def test_a_server_that_ignores_the_end_of_its_input_is_stopped_with_its_group(tmp_path, monkeypatch):
    """The start check gives a server that does not exit at the end of its input
    ``_IC_START_TIMEOUT`` seconds (it started: that is what is checked), then stops it the
    way every child is stopped, its whole group: nothing it started is left running."""
    import time

    from mcplite import installcmds
    monkeypatch.setattr(installcmds, "_IC_START_TIMEOUT", 1.0)
    pids = tmp_path / "pids"
    script = ("import os, subprocess, sys, time\n"
              "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              "open(%r, 'w').write('%%d %%d' %% (os.getpid(), grandchild.pid))\n"
              "time.sleep(60)\n" % str(pids))
    started = time.monotonic()
    installcmds._check_starts({"command": sys.executable, "args": ["-c", script]})
    assert time.monotonic() - started < 10
    child, grandchild = (int(p) for p in pids.read_text().split())
    # (the child was reaped by the start check; the grandchild, orphaned, by init, maybe late)
    assert_gone({"child": child, "grandchild": grandchild}, wait=5, zombies=True)
