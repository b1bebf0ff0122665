"""examples/files_server.py as a real process over stdio, driven by mcplite's Client: what it
serves inside its roots, and every way out of them it must refuse (one test per escape)."""

import json
import os
import sys
import urllib.parse

import pytest

from mcplite import Client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "files_server.py")
SECRET = "TOP SECRET, never to be served"

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the tree below uses POSIX symlinks")


def file_uri(path):
    return "file://" + urllib.parse.quote(path)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """base/root is the root; everything that must stay unreadable holds SECRET."""
    base = str(tmp_path_factory.mktemp("files")).rstrip("/")
    layout = {
        "root/hello.txt": "hello\n",
        "root/sub/deep.md": "# deep\n",
        "root/big.txt": "é" * 1500,  # 3000 bytes of two-byte characters
        "root2/secret.txt": SECRET,  # a sibling whose name starts like the root's
        "outside/secret.txt": SECRET,
        "my root%/note.txt": "percent\n",
    }
    for name, text in layout.items():
        path = os.path.join(base, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(base, "root", "binary.dat"), "wb") as f:
        f.write(b"\x89PNG\x00\x01")
    os.symlink(os.path.join(base, "outside", "secret.txt"), os.path.join(base, "root", "link_out.txt"))
    os.symlink(os.path.join(base, "outside"), os.path.join(base, "root", "dir_out"))
    os.symlink("hello.txt", os.path.join(base, "root", "link_in.txt"))
    return base


def start(*args, **options):
    return Client.stdio([sys.executable, EXAMPLE] + list(args), timeout=10, **options)


@pytest.fixture(scope="module")
def cli(tree):
    """The server with its root on the command line; the client offers another root, which
    must count for nothing."""
    with start(os.path.join(tree, "root"), roots=[{"uri": file_uri(os.path.join(tree, "root2"))}]) as client:
        yield client


@pytest.fixture(scope="module")
def asking(tree):
    """The server without command-line roots: it asks this client (2026-07-28, by rounds)."""
    with start(roots=[{"uri": file_uri(os.path.join(tree, "root"))}]) as client:
        yield client


def ok(client, tool, arguments):
    result = client.call_tool(tool, arguments)
    assert not result.get("isError"), result
    return result["structuredContent"]


def refused(client, tool, arguments, reason):
    result = client.call_tool(tool, arguments)
    assert result.get("isError") is True, result
    [block] = result["content"]
    message = block["text"]
    assert message.startswith("refused") and reason in message, message
    assert "\n" not in message and "Traceback" not in message
    assert SECRET not in json.dumps(result)
    return message


def test_reads_inside_the_root(cli, tree):
    root = os.path.realpath(os.path.join(tree, "root"))
    assert ok(cli, "read_text_file", {"path": "hello.txt"}) == {
        "path": os.path.join(root, "hello.txt"), "size": 6, "truncated": False, "text": "hello\n"}
    assert ok(cli, "read_text_file", {"path": os.path.join(root, "sub", "deep.md")})["text"] == "# deep\n"
    assert ok(cli, "read_text_file", {"path": "link_in.txt"})["text"] == "hello\n"  # a link that stays inside
    listing = ok(cli, "list_directory", {})
    assert [(e["name"], e["type"]) for e in listing["entries"]] == [
        ("big.txt", "file"), ("binary.dat", "file"), ("dir_out", "symlink"), ("hello.txt", "file"),
        ("link_in.txt", "symlink"), ("link_out.txt", "symlink"), ("sub", "directory")]
    info = ok(cli, "file_info", {"path": "sub"})
    assert (info["type"], info["path"]) == ("directory", os.path.join(root, "sub"))


def test_command_line_roots_win_over_the_clients(cli, tree):
    assert ok(cli, "list_roots", {}) == {"source": "command line", "roots": [
        {"path": os.path.realpath(os.path.join(tree, "root")), "name": "root"}]}
    refused(cli, "read_text_file", {"path": os.path.join(tree, "root2", "secret.txt")}, "outside the roots")


def test_dotdot_is_refused(cli):
    refused(cli, "read_text_file", {"path": "../outside/secret.txt"}, "'..'")
    refused(cli, "read_text_file", {"path": "sub/../../outside/secret.txt"}, "'..'")
    refused(cli, "list_directory", {"path": ".."}, "'..'")


def test_absolute_path_outside_is_refused(cli, tree):
    refused(cli, "read_text_file", {"path": os.path.join(tree, "outside", "secret.txt")}, "outside the roots")
    refused(cli, "list_directory", {"path": "/"}, "outside the roots")
    refused(cli, "file_info", {"path": "/etc/passwd"}, "outside the roots")


def test_symlinked_file_pointing_out_is_refused(cli):
    refused(cli, "read_text_file", {"path": "link_out.txt"}, "outside the roots")
    refused(cli, "file_info", {"path": "link_out.txt"}, "outside the roots")


def test_symlinked_directory_pointing_out_is_refused(cli):
    refused(cli, "read_text_file", {"path": "dir_out/secret.txt"}, "outside the roots")
    refused(cli, "list_directory", {"path": "dir_out"}, "outside the roots")
    refused(cli, "find_files", {"pattern": "*", "path": "dir_out"}, "outside the roots")
    # and a search from the root does not follow it out
    found = ok(cli, "find_files", {"pattern": "*SECRET*"})
    assert found == {"matches": [], "truncated": False}


def test_windows_drive_letters_are_refused(cli):
    refused(cli, "read_text_file", {"path": "C:\\Windows\\win.ini"}, "drive")
    refused(cli, "read_text_file", {"path": "c:/outside/secret.txt"}, "drive")
    refused(cli, "list_directory", {"path": "D:"}, "drive")


def test_unc_paths_are_refused(cli):
    refused(cli, "read_text_file", {"path": "\\\\server\\share\\secret.txt"}, "UNC")
    refused(cli, "read_text_file", {"path": "//server/share/secret.txt"}, "UNC")


def test_backslash_traversal_is_refused(cli):
    refused(cli, "read_text_file", {"path": "..\\outside\\secret.txt"}, "backslash")
    refused(cli, "read_text_file", {"path": "sub\\..\\..\\outside\\secret.txt"}, "backslash")


def test_nul_bytes_are_refused(cli):
    message = refused(cli, "read_text_file", {"path": "hello.txt\x00../../outside/secret.txt"}, "NUL")
    assert "\\x00" in message  # shown escaped, on one line


def test_bounded_reads(cli):
    cut = ok(cli, "read_text_file", {"path": "big.txt", "max_bytes": 101})
    # 101 bytes end inside a two-byte character: 50 whole ones come back, and the cut is said
    assert (cut["text"], cut["size"], cut["truncated"]) == ("é" * 50, 3000, True)
    assert ok(cli, "read_text_file", {"path": "big.txt", "max_bytes": 3000})["truncated"] is False
    result = cli.call_tool("read_text_file", {"path": "big.txt", "max_bytes": 10 ** 9})
    assert result["isError"] and "max_bytes must be between" in result["content"][0]["text"]
    result = cli.call_tool("read_text_file", {"path": "binary.dat"})
    assert result["isError"] and "binary" in result["content"][0]["text"]
    result = cli.call_tool("read_text_file", {"path": "sub"})
    assert result["isError"] and "not a regular file" in result["content"][0]["text"]


def test_find_files(cli, tree):
    root = os.path.realpath(os.path.join(tree, "root"))
    assert ok(cli, "find_files", {"pattern": "*.MD"}) == {"matches": [os.path.join(root, "sub", "deep.md")],
                                                         "truncated": False}
    two = ok(cli, "find_files", {"pattern": "*.txt", "limit": 2})
    assert two == {"matches": [os.path.join(root, "big.txt"), os.path.join(root, "hello.txt")], "truncated": True}


def test_client_roots_and_a_sibling_sharing_the_prefix(asking, tree):
    root = os.path.realpath(os.path.join(tree, "root"))
    assert ok(asking, "list_roots", {}) == {"source": "client", "roots": [{"path": root, "name": "root"}]}
    assert ok(asking, "read_text_file", {"path": os.path.join(root, "hello.txt")})["text"] == "hello\n"
    # base/root2 starts with the characters of base/root, but is not inside it
    refused(asking, "read_text_file", {"path": os.path.join(tree, "root2", "secret.txt")}, "outside the roots")
    refused(asking, "read_text_file", {"path": "link_out.txt"}, "outside the roots")


def test_client_roots_are_asked_each_call_and_decoded(asking, tree):
    before = asking.roots
    try:
        # A percent-encoded URI ("my root%" is my%20root%25), and roots that are not local
        # files, which are skipped.
        asking.roots = [{"uri": "https://example.com/files"}, {"uri": "file://otherhost/srv"},
                        {"uri": file_uri(os.path.join(tree, "my root%")), "name": "mine"}]
        assert ok(asking, "read_text_file", {"path": "note.txt"})["text"] == "percent\n"
        assert ok(asking, "list_roots", {})["roots"] == [
            {"path": os.path.realpath(os.path.join(tree, "my root%")), "name": "mine"}]
        refused(asking, "read_text_file", {"path": os.path.join(tree, "root", "hello.txt")}, "outside the roots")
        asking.roots = [{"uri": "https://example.com/files"}]
        result = asking.call_tool("list_directory", {})
        assert result["isError"] and result["content"][0]["text"] == (
            "none of the client's roots is an existing file:// directory")
    finally:
        asking.roots = before


def test_legacy_session_asks_with_roots_list(tree):
    with start(era="legacy", roots=[{"uri": file_uri(os.path.join(tree, "root"))}]) as client:
        assert client.protocol_version == "2025-11-25"
        assert ok(client, "read_text_file", {"path": "sub/deep.md"})["text"] == "# deep\n"
        refused(client, "read_text_file", {"path": "dir_out/secret.txt"}, "outside the roots")


def test_no_roots_anywhere_is_a_tool_error(tree):
    with start() as client:  # no command-line roots, and a client without the roots capability
        result = client.call_tool("list_directory", {})
        assert result["isError"] is True
        assert result["content"][0]["text"].startswith("no roots: this client offers none")
