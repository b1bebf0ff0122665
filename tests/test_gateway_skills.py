"""Skills (SEP-2640) through the gateway: a front that mounts upstreams declaring the Skills
extension declares it too, lists its own skills and every upstream's, and serves
``skills/get``, ``resources/directory/read`` and the skills' files from whichever serves them,
so a client in front loads and verifies an upstream's skill as if it were the front's own.

One upstream is a plain mcplite ``Server`` with ``app.skill(...)`` (its files listed as
resources, so mounted with them); the other is written by hand and serves its skill's file
without listing it, the shape the gateway reads through the upstream on demand.
"""

import hashlib
from typing import Any, Dict

import pytest

from mcplite import Client, Server
from mcplite.errors import MCPError
from mcplite.skills import SKILLS_EXTENSION

BETA_MD = b"---\nname: beta\ndescription: the hand-made beta skill\n---\nRead notes/a.txt.\n"
BETA_NOTE = b"a note of beta\n"


def make_skill(root: Any, name: str, extra: Dict[str, bytes]) -> str:
    (root / name).mkdir()
    (root / name / "SKILL.md").write_text("---\nname: %s\ndescription: the %s skill\n---\nBody of %s\n"
                                          % (name, name, name), encoding="utf-8")
    for path, data in extra.items():
        target = root / name / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return str(root / name)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hand_made_upstream() -> Server:
    """A server that declares the extension and answers its methods itself, and reads its
    skill's files without listing them anywhere (no resource, no template)."""
    app = Server("beta-upstream", "1.0.0")
    files = {"skill://beta/SKILL.md": BETA_MD, "skill://beta/notes/a.txt": BETA_NOTE}
    entry = {"uri": "skill://beta/SKILL.md",
             "frontmatter": {"name": "beta", "description": "the hand-made beta skill"},
             "resources": [{"uri": uri, "digest": sha(data), "size": len(data)} for uri, data in files.items()]}

    @app.method("skills/list")
    def list_skills(params: dict) -> dict:
        return {"skills": [entry]}

    @app.method("skills/get")
    def get_skill(params: dict) -> dict:
        if params.get("uri") != entry["uri"]:
            raise MCPError(-32602, "Unknown skill")
        return {"skill": entry}

    def read_unlisted(method: str, params: Dict[str, Any], ctx: Any, call_next: Any) -> Any:
        if method == "resources/read" and params.get("uri") in files:
            return {"contents": [{"uri": params["uri"], "mimeType": "text/plain",
                                  "text": files[params["uri"]].decode("utf-8")}]}
        return call_next()
    app.middleware(read_unlisted)
    app.add_extension(SKILLS_EXTENSION, {})

    @app.resource("note://beta/other")
    def other() -> str:
        return "not a skill"
    return app


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_the_fronts_and_the_upstreams_skills_listed_loaded_and_verified(tmp_path, era):
    alpha_upstream = Server("alpha-upstream", "1.0.0")
    alpha_upstream.skill(make_skill(tmp_path, "alpha", {"scripts/run.sh": b"echo alpha\n"}))
    front = Server("front", "1.0.0", page_size=1)
    front.skill(make_skill(tmp_path, "own", {"notes.txt": b"own notes\n"}))
    alpha = front.mount("a", alpha_upstream)
    front.mount("b", hand_made_upstream())
    with Client(front, era=era) as client:
        assert client.server_capabilities["extensions"][SKILLS_EXTENSION] == {"directoryRead": True}
        entries = client.list_skills()  # three pages of one
        assert [entry["uri"] for entry in entries] == [
            "skill://own/SKILL.md", "skill://alpha/SKILL.md", "skill://beta/SKILL.md"]
        # Loaded and verified (size, digest, frontmatter) through the front, file by file.
        assert client.load_skill(entries[1]).read("scripts/run.sh") == "echo alpha\n"
        assert client.load_skill(entries[0]).read("notes.txt") == "own notes\n"
        beta = client.load_skill("skill://beta/SKILL.md")  # skills/get, routed to the upstream
        assert beta.read("notes/a.txt") == BETA_NOTE.decode()  # read through the upstream, unlisted
        assert client.get_skill("skill://alpha/SKILL.md")["uri"] == "skill://alpha/SKILL.md"
        with pytest.raises(MCPError) as unknown:
            client.get_skill("skill://nope/SKILL.md")
        assert unknown.value.code == -32602
        # Directories: the front's own from its catalog, the upstream's from the upstream.
        assert [c["uri"] for c in client.read_directory("skill://alpha")] == [
            "skill://alpha/SKILL.md", "skill://alpha/scripts"]
        assert [c["uri"] for c in client.read_directory("skill://own")] == [
            "skill://own/SKILL.md", "skill://own/notes.txt"]
        with pytest.raises(MCPError) as not_a_directory:
            client.read_directory("skill://nowhere")
        assert not_a_directory.value.code == -32602
        # A resource of no skill is not read through the skills path.
        with pytest.raises(MCPError):
            client.read_resource("skill://nope/x.txt")
        # An unmounted upstream's skills leave the listing.
        alpha.close()
        assert [entry["uri"] for entry in client.list_skills()] == ["skill://own/SKILL.md", "skill://beta/SKILL.md"]
        # The front's own skill added after the mounts joins its catalog.
        front.skill(make_skill(tmp_path, "later", {}))
        assert [entry["uri"] for entry in client.list_skills()] == [
            "skill://own/SKILL.md", "skill://later/SKILL.md", "skill://beta/SKILL.md"]


def test_a_front_with_no_skill_upstream_declares_nothing(tmp_path):
    upstream = Server("plain", "1.0.0")

    @upstream.tool()
    def add(a: int, b: int) -> int:
        return a + b
    front = Server("front", "1.0.0")
    front.mount("p", upstream)
    with Client(front) as client:
        assert SKILLS_EXTENSION not in (client.server_capabilities.get("extensions") or {})
        with pytest.raises(MCPError) as refused:
            client.request("skills/list", {})
        assert refused.value.code == -32601
    # Mounted first, then given a skill of its own: served as usual.
    front.skill(make_skill(tmp_path, "late", {}))
    with Client(front) as client:
        assert [entry["uri"] for entry in client.list_skills()] == ["skill://late/SKILL.md"]
