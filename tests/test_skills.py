"""The Skills extension (SEP-2640) on the wire in both eras: a server serving a skill
directory (skills/list, skills/get, the skill:// resources with digests and sizes), and the
client listing, loading and verifying skills, against mcplite's server and against servers
that tamper with what they promised."""

import base64
import hashlib
import json
import os
import sys

import pytest

from mcplite import Client, MCPError, ProtocolError, Server, SkillVerificationError, SKILLS_EXTENSION
from mcplite.skills import parse_yaml_subset, split_frontmatter

MODERN = "2026-07-28"
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
ERAS = {"modern": {}, "legacy": {"protocol_version": "2025-11-25"}}

SKILL_MD = """---
name: pdf-processing
description: Extract, fill, and assemble PDF documents
license: Apache-2.0
metadata:
  version: "2.1.0"
  revision: 3
allowed-tools: Bash(pdftotext:*) Read
---
# PDF processing

See references/FORMS.md.
"""
FORMS = "Forms guide: \u00e9t\u00e9.\n"
LOGO = bytes(range(256))  # not UTF-8: served as a blob


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def skill_dir(tmp_path):
    root = tmp_path / "pdf-processing"
    (root / "references").mkdir(parents=True)
    (root / "assets").mkdir()
    (root / "SKILL.md").write_bytes(SKILL_MD.encode("utf-8"))
    (root / "references" / "FORMS.md").write_bytes(FORMS.encode("utf-8"))
    (root / "assets" / "logo.bin").write_bytes(LOGO)
    return root


def skills_app(skill_dir, **options):
    app = Server("skills", "1.0.0", **options)
    app.skill(str(skill_dir))
    return app


EXPECTED_ENTRY = {
    "uri": "skill://pdf-processing/SKILL.md",
    "frontmatter": {"name": "pdf-processing", "description": "Extract, fill, and assemble PDF documents",
                    "license": "Apache-2.0", "metadata": {"version": "2.1.0", "revision": 3},
                    "allowed-tools": "Bash(pdftotext:*) Read"},
    "resources": [
        {"uri": "skill://pdf-processing/SKILL.md", "digest": digest(SKILL_MD.encode()), "size": len(SKILL_MD.encode())},
        {"uri": "skill://pdf-processing/assets/logo.bin", "digest": digest(LOGO), "size": 256},
        {"uri": "skill://pdf-processing/references/FORMS.md", "digest": digest(FORMS.encode()),
         "size": len(FORMS.encode())},
    ],
}


# -- the server side on the wire ----------------------------------------------------------

def test_modern_wire_discover_list_get_and_read(wire_factory, skill_dir):
    w = wire_factory(skills_app(skill_dir))
    discover = w.conn.request("server/discover", {"_meta": ENVELOPE})
    caps = discover["result"]["capabilities"]
    assert caps["extensions"] == {SKILLS_EXTENSION: {"directoryRead": True}}
    assert "resources" in caps  # "MUST also declare the resources capability"
    listed = w.conn.request("skills/list", {"_meta": ENVELOPE})["result"]
    assert listed["skills"] == [EXPECTED_ENTRY]
    # 2026-07-28: the list-caching attributes, as on resources/list.
    assert listed["ttlMs"] == 0 and listed["cacheScope"] == "private" and "nextCursor" not in listed
    got = w.conn.request("skills/get", {"uri": EXPECTED_ENTRY["uri"], "_meta": ENVELOPE})["result"]
    assert got["skill"] == EXPECTED_ENTRY and "nextCursor" not in got
    unknown = w.conn.request("skills/get", {"uri": "skill://nope/SKILL.md", "_meta": ENVELOPE})
    assert unknown["error"]["code"] == -32602
    bad = w.conn.request("skills/get", {"uri": 7, "_meta": ENVELOPE})
    assert bad["error"]["code"] == -32602
    read = w.conn.request("resources/read", {"uri": EXPECTED_ENTRY["uri"], "_meta": ENVELOPE})["result"]
    assert read["contents"] == [{"uri": EXPECTED_ENTRY["uri"], "mimeType": "text/markdown", "text": SKILL_MD}]
    resources = w.conn.request("resources/list", {"_meta": ENVELOPE})["result"]["resources"]
    skill_md = [r for r in resources if r["uri"] == EXPECTED_ENTRY["uri"]][0]
    # "name SHOULD be set from the name field ... description ... from the description field"
    assert skill_md["name"] == "pdf-processing"
    assert skill_md["description"] == "Extract, fill, and assemble PDF documents"
    assert skill_md["size"] == len(SKILL_MD.encode())


def test_legacy_wire_declares_and_serves_without_cache_fields(wire_factory, skill_dir):
    w = wire_factory(skills_app(skill_dir))
    assert w.initialize()["result"]["capabilities"]["extensions"] == {SKILLS_EXTENSION: {"directoryRead": True}}
    listed = w.conn.request("skills/list", {})["result"]
    assert listed == {"skills": [EXPECTED_ENTRY]}
    blob = w.conn.request("resources/read", {"uri": "skill://pdf-processing/assets/logo.bin"})["result"]
    assert base64.b64decode(blob["contents"][0]["blob"]) == LOGO


def test_pages_hold_whole_entries_and_a_made_up_cursor_is_refused(wire_factory, tmp_path):
    app = Server("skills", page_size=1)
    for name in ("alpha", "beta", "gamma"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "SKILL.md").write_text("---\nname: %s\ndescription: the %s skill\n---\nBody\n"
                                                  % (name, name), encoding="utf-8")
        app.skill(str(tmp_path / name), prefix="acme/team")
    w = wire_factory(app)
    w.initialize()
    seen, params = [], {}
    for _ in range(5):
        result = w.conn.request("skills/list", params)["result"]
        assert len(result["skills"]) == 1
        seen.extend(entry["uri"] for entry in result["skills"])
        if "nextCursor" not in result:
            break
        params = {"cursor": result["nextCursor"]}
    assert seen == ["skill://acme/team/%s/SKILL.md" % n for n in ("alpha", "beta", "gamma")]
    assert w.conn.request("skills/list", {"cursor": "forged"})["error"]["code"] == -32602


def test_a_server_without_skills_declares_nothing(wire_factory):
    app = Server("plain")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b
    w = wire_factory(app)
    assert "extensions" not in w.initialize()["result"]["capabilities"]
    assert w.conn.request("skills/list", {})["error"]["code"] == -32601


@pytest.mark.parametrize("text, why", [
    ("# no frontmatter\n", "frontmatter"),
    ("---\nname: Bad_Name\ndescription: x\n---\n", "naming rules"),
    ("---\nname: ok\n---\n", "description"),
    ("---\nname: ok\ndescription: &anchor x\n---\n", "anchors"),
    # A quoted name may hold a line break; the naming rules' "$" let a final one through.
    ("---\nname: \"ok\\n\"\ndescription: x\n---\n", "naming rules"),
])
def test_a_directory_that_is_not_a_servable_skill_is_refused(tmp_path, text, why):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "SKILL.md").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=why):
        Server("x").skill(str(tmp_path / "s"))
    with pytest.raises(ValueError, match="no SKILL.md"):
        Server("x").skill(str(tmp_path))



def test_a_skill_of_more_than_512_files_is_refused(tmp_path):
    # "Servers SHOULD NOT serve a skill exceeding 512 resource entries": SKILL.md and 511
    # more are served; one more is refused when the skill is registered. A hidden file counts
    # for no limit (it is not served).
    root = tmp_path / "many-files"
    root.mkdir()
    (root / "SKILL.md").write_text("---\nname: many-files\ndescription: x\n---\n", encoding="utf-8")
    (root / ".DS_Store").write_bytes(b"\x00")
    for i in range(511):
        (root / ("f%03d.txt" % i)).write_bytes(b"x")
    app = Server("x")
    assert len(app.skill(str(root)).resources) == 512
    (root / "one-more.txt").write_bytes(b"x")
    with pytest.raises(ValueError, match="has more than 512 files"):
        Server("x").skill(str(root))


def test_a_skill_of_more_than_16_mib_is_refused(tmp_path):
    # "... whose total file size exceeds 16 MiB": SKILL.md counts too. One sparse file makes
    # the total exactly 16 MiB (served), then one byte more (refused at registration). A
    # hidden file counts for no limit.
    root = tmp_path / "big-files"
    (root / "data").mkdir(parents=True)
    skill_md = b"---\nname: big-files\ndescription: x\n---\n"
    (root / "SKILL.md").write_bytes(skill_md)
    with open(str(root / ".cache"), "wb") as f:
        f.truncate(1024 * 1024)
    with open(str(root / "data" / "big.bin"), "wb") as f:
        f.truncate(16 * 1024 * 1024 - len(skill_md))
    bundle = Server("x").skill(str(root))
    assert sum(r["size"] for r in bundle.resources) == 16 * 1024 * 1024
    del bundle
    with open(str(root / "data" / "big.bin"), "ab") as f:
        f.write(b"\x00")
    with pytest.raises(ValueError, match="holds more than 16777216 bytes"):
        Server("x").skill(str(root))


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="POSIX symlinks")
def test_symlinks_are_judged_by_where_they_lead_even_under_a_linked_directory(tmp_path, skill_dir):
    # A link to a file of the skill stays in; one to a file outside is refused. The skill
    # reached through a linked directory (macOS's /tmp is one, to /private/tmp) is the same
    # skill: its inner link was refused as "outside" when compared with the unresolved path.
    os.symlink(os.path.join("references", "FORMS.md"), str(skill_dir / "FORMS-alias.md"))
    os.symlink(str(skill_dir.parent), str(tmp_path / "linked"))
    for path in (skill_dir, tmp_path / "linked" / skill_dir.name):
        app = Server("x")
        app.skill(str(path))
        with Client(app) as client:
            assert client.load_skill(client.list_skills()[0]).read("FORMS-alias.md") == FORMS
    (tmp_path / "secret.txt").write_text("secret\n", encoding="utf-8")
    os.symlink(str(tmp_path / "secret.txt"), str(skill_dir / "escape.txt"))
    for path in (skill_dir, tmp_path / "linked" / skill_dir.name):
        with pytest.raises(ValueError, match="links outside"):
            Server("x").skill(str(path))


@pytest.mark.parametrize("era", sorted(ERAS))
@pytest.mark.parametrize("name", ["notes file.md", "\u00e9t\u00e9.md", "100%.md"])
def test_a_file_name_a_uri_must_escape_is_read_by_its_path(tmp_path, era, name):
    # The server lists such a file by its percent-encoded URI; skill.read(path) takes the
    # path as the SKILL.md names it, and found no such file in the listing.
    root = tmp_path / "odd-names"
    root.mkdir()
    (root / "SKILL.md").write_text("---\nname: odd-names\ndescription: x\n---\nSee %s\n" % name,
                                   encoding="utf-8")
    (root / name).write_text("contents\n", encoding="utf-8")
    app = Server("x")
    app.skill(str(root))
    with Client(app, **ERAS[era]) as client:
        skill = client.load_skill(client.list_skills()[0])
        uri = [u for u in skill.files if not u.endswith("/SKILL.md")][0]
        assert skill.read(name) == "contents\n"
        assert skill.read(uri[len(skill.root) + 1:]) == "contents\n"  # already encoded: as is
        assert skill.read(uri) == "contents\n"


def test_the_same_skill_twice_is_refused_and_the_snapshot_is_what_is_served(skill_dir):
    app = skills_app(skill_dir)
    with pytest.raises(ValueError):
        app.skill(str(skill_dir))
    (skill_dir / "references" / "FORMS.md").write_text("changed on disk\n", encoding="utf-8")
    with Client(app) as client:
        skill = client.load_skill(client.list_skills()[0])
        assert skill.read("references/FORMS.md") == FORMS  # what was digested at registration


@pytest.mark.parametrize("era", sorted(ERAS))
def test_directory_read(skill_dir, era):
    (skill_dir / "references" / "deeper").mkdir()
    (skill_dir / "references" / "deeper" / "x.txt").write_text("x", encoding="utf-8")
    with Client(skills_app(skill_dir, page_size=2), **ERAS[era]) as client:
        root = client.read_directory("skill://pdf-processing")
        assert [(c["uri"], c["mimeType"]) for c in root] == [
            ("skill://pdf-processing/SKILL.md", "text/markdown"),
            ("skill://pdf-processing/assets", "inode/directory"),      # (two pages of two and one)
            ("skill://pdf-processing/references", "inode/directory")]
        assert root[0]["name"] == "pdf-processing" and root[0]["size"] == len(SKILL_MD.encode())
        references = client.read_directory("skill://pdf-processing/references")
        assert [(c["uri"], c["name"], c["mimeType"]) for c in references] == [
            ("skill://pdf-processing/references/FORMS.md", "FORMS.md", "text/markdown"),
            ("skill://pdf-processing/references/deeper", "deeper", "inode/directory")]
        for not_a_directory in ("skill://pdf-processing/SKILL.md", "skill://pdf-processing/nope", "skill://other"):
            with pytest.raises(MCPError) as info:
                client.read_directory(not_a_directory)
            assert info.value.code == -32602


@pytest.mark.parametrize("era", sorted(ERAS))
def test_hidden_files_and_directories_are_neither_listed_nor_readable(skill_dir, era):
    # A skill directory is often a git checkout or an editor's folder: ".git/config",
    # ".env", ".DS_Store" are not the skill's files, at whatever depth they are.
    (skill_dir / ".git").mkdir()
    (skill_dir / ".git" / "config").write_text("[remote]\n  url = https://token@example/\n", encoding="utf-8")
    (skill_dir / ".env").write_text("API_KEY=secret\n", encoding="utf-8")
    (skill_dir / ".DS_Store").write_bytes(b"\x00\x01")
    (skill_dir / "references" / ".secret").write_text("secret\n", encoding="utf-8")
    (skill_dir / "references" / ".hidden").mkdir()
    (skill_dir / "references" / ".hidden" / "notes.md").write_text("secret\n", encoding="utf-8")
    app = skills_app(skill_dir)
    with Client(app, **ERAS[era]) as client:
        assert client.list_skills() == [EXPECTED_ENTRY]
        assert all("/." not in r["uri"] for r in client.list_resources())
        assert [c["uri"] for c in client.read_directory("skill://pdf-processing")] == [
            "skill://pdf-processing/SKILL.md", "skill://pdf-processing/assets",
            "skill://pdf-processing/references"]
        assert [c["uri"] for c in client.read_directory("skill://pdf-processing/references")] == [
            "skill://pdf-processing/references/FORMS.md"]
        # A direct read is answered as for a file that does not exist.
        with pytest.raises(MCPError) as unknown:
            client.read_resource("skill://pdf-processing/nope.txt")
        for hidden in (".git/config", ".env", ".DS_Store", "references/.secret", "references/.hidden/notes.md"):
            with pytest.raises(MCPError) as info:
                client.read_resource("skill://pdf-processing/" + hidden)
            assert info.value.code == unknown.value.code
        for directory in (".git", "references/.hidden"):
            with pytest.raises(MCPError) as info:
                client.read_directory("skill://pdf-processing/" + directory)
            assert info.value.code == -32602


def test_the_client_reads_no_directory_of_a_server_without_directory_read():
    app = Server("tamper")
    app.add_extension(SKILLS_EXTENSION)

    @app.tool()
    def t() -> str:
        return "x"
    with Client(app) as client:
        with pytest.raises(ProtocolError, match="directoryRead"):
            client.read_directory("skill://x")


# -- the client side ------------------------------------------------------------------------

@pytest.mark.parametrize("era", sorted(ERAS))
def test_client_lists_loads_and_reads_verified_files(skill_dir, era):
    with Client(skills_app(skill_dir), **ERAS[era]) as client:
        assert client.era == era
        entries = client.list_skills()
        assert entries == [EXPECTED_ENTRY]
        skill = client.load_skill(entries[0])
        assert skill.name == "pdf-processing" and skill.uri == EXPECTED_ENTRY["uri"]
        assert skill.frontmatter == EXPECTED_ENTRY["frontmatter"]
        assert skill.body == "# PDF processing\n\nSee references/FORMS.md.\n"
        assert skill.read("references/FORMS.md") == FORMS
        assert skill.read_bytes("skill://pdf-processing/assets/logo.bin") == LOGO
        with pytest.raises(SkillVerificationError, match="not listed"):
            skill.read("references/OTHER.md")
        with pytest.raises(ValueError):
            skill.read("../../etc/passwd")
        # By URI: the entry comes from skills/get.
        assert client.load_skill(EXPECTED_ENTRY["uri"]).text == SKILL_MD
        with pytest.raises(MCPError) as info:
            client.get_skill("skill://missing/SKILL.md")
        assert info.value.code == -32602


@pytest.mark.parametrize("era", sorted(ERAS))
def test_client_refuses_skill_methods_when_the_server_does_not_declare_them(era):
    app = Server("plain")

    @app.resource("skill://x/SKILL.md")
    def fake() -> str:
        return "---\nname: x\ndescription: y\n---\n"
    with Client(app, **ERAS[era]) as client:
        with pytest.raises(ProtocolError, match=SKILLS_EXTENSION):
            client.list_skills()


def tampering_app(listed, served, reads):
    """A server declaring the extension whose listing promises ``listed`` for the SKILL.md
    and whose resources/read serves ``served``: ``reads`` records every read."""
    app = Server("tamper")
    app.add_extension(SKILLS_EXTENSION)
    entry = {"uri": "skill://pdf-processing/SKILL.md", "frontmatter": EXPECTED_ENTRY["frontmatter"],
             "resources": [{"uri": "skill://pdf-processing/SKILL.md", "digest": digest(listed), "size": len(listed)},
                           {"uri": "skill://pdf-processing/references/FORMS.md", "digest": digest(b"x"),
                            "size": 1}]}

    @app.method("skills/list")
    def list_skills(params: dict) -> dict:
        return {"skills": [entry]}

    @app.resource("skill://pdf-processing/{path*}")
    def read(path: str) -> str:
        reads.append(path)
        return served.decode("utf-8") if path == "SKILL.md" else "y"
    return app


@pytest.mark.parametrize("era", sorted(ERAS))
@pytest.mark.parametrize("served, match", [
    (SKILL_MD.replace("Read", "Evil"), "digest"),               # same size, other bytes
    (SKILL_MD + "extra\n", "bytes read"),                       # the size differs
])
def test_client_rejects_content_that_is_not_what_was_listed(era, served, match):
    reads = []
    with Client(tampering_app(SKILL_MD.encode(), served.encode(), reads), **ERAS[era]) as client:
        entries = client.list_skills()
        assert reads == []  # listing fetched nothing
        with pytest.raises(SkillVerificationError, match=match):
            client.load_skill(entries[0])
    assert reads == ["SKILL.md"]


@pytest.mark.parametrize("era", sorted(ERAS))
def test_client_compares_the_frontmatter_field_by_field(era):
    # The digest and size match what is served, but the frontmatter is not the entry's.
    served = SKILL_MD.replace("license: Apache-2.0", "license: MIT").encode()
    reads = []
    with Client(tampering_app(served, served, reads), **ERAS[era]) as client:
        with pytest.raises(SkillVerificationError, match="'license'"):
            client.load_skill(client.list_skills()[0])
    assert reads == ["SKILL.md"]


def test_client_verifies_supporting_files_too():
    reads = []
    with Client(tampering_app(SKILL_MD.encode(), SKILL_MD.encode(), reads)) as client:
        skill = client.load_skill(client.list_skills()[0])
        with pytest.raises(SkillVerificationError):
            skill.read("references/FORMS.md")  # listed as "x", served as "y"


def test_an_entry_without_digests_loads_only_when_allowed():
    app = Server("dynamic")
    app.add_extension(SKILLS_EXTENSION)
    entry = {"uri": "skill://gen/SKILL.md", "frontmatter": {"name": "gen", "description": "made now"},
             "resources": "dynamic"}

    @app.method("skills/list")
    def list_skills(params: dict) -> dict:
        return {"skills": [entry]}

    @app.resource("skill://gen/SKILL.md")
    def read() -> str:
        return "---\nname: gen\ndescription: made now\n---\nbody\n"
    with Client(app) as client:
        listed = client.list_skills()[0]
        with pytest.raises(SkillVerificationError, match="allow_unverified"):
            client.load_skill(listed)
        assert client.load_skill(listed, allow_unverified=True).body == "body\n"


# -- the frontmatter's YAML subset ----------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("a: 1\nb: 2.5\nc: true\nd: ~\ne: text here\nf: '0123'\ng: \"q\\u00e9\"", 
     {"a": 1, "b": 2.5, "c": True, "d": None, "e": "text here", "f": "0123", "g": "q\u00e9"}),
    ("list:\n  - one\n  - 2\nflow: [a, 'b c', 3]\n", {"list": ["one", 2], "flow": ["a", "b c", 3]}),
    ("items:\n- name: x\n  size: 1\n- name: y\n", {"items": [{"name": "x", "size": 1}, {"name": "y"}]}),
    ("desc: >\n  folded\n  text\nlit: |\n  line 1\n  line 2\nafter: z\n",
     {"desc": "folded text\n", "lit": "line 1\nline 2\n", "after": "z"}),
    ("long: a plain scalar\n  continued here\nnext: 1  # comment\n# whole line\n",
     {"long": "a plain scalar continued here", "next": 1}),
    ("nested:\n  deeper:\n    k: v\n  other: w\n", {"nested": {"deeper": {"k": "v"}, "other": "w"}}),
    ("url: https://example.com/a#b\n", {"url": "https://example.com/a#b"}),
])
def test_yaml_subset_reads(text, value):
    assert parse_yaml_subset(text) == value
    assert json.loads(json.dumps(value)) == value


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n", "a: *ref\n", "a: !!str 1\n", "a: {b: 1}\n", "a: b: c\n", "a: .inf\n", "a:\n\tb: 1\n",
    "a: 'open\n", "  a: 1\nb: 2\n",
])
def test_yaml_subset_refuses_what_it_does_not_cover(text):
    with pytest.raises(ValueError):
        parse_yaml_subset(text)


def test_split_frontmatter():
    frontmatter, body = split_frontmatter("\ufeff---\r\nname: x\r\ndescription: y\r\n---\r\nbody")
    assert frontmatter == {"name": "x", "description": "y"} and body == "body"
    with pytest.raises(ValueError):
        split_frontmatter("---\n- a\n---\n")  # not a mapping
