"""Signing in from the command line: ``--oauth`` (authorization code with PKCE through the
``TerminalAuthorizer``), ``--client-id``/``--client-secret`` (client credentials), the token
file (``--token-file``, or ``$XDG_CONFIG_HOME/mcplite/tokens.json``, mode 0600),
``--bearer``, ``--private-key``, ``--assertion``, ``--id-token``, ``--dpop`` and
``--client-metadata-url``; and what a 401 or 403 says without them. The CLI runs as a subprocess
(``python -m mcplite``) against mcplite's HTTP server behind ``BearerAuth`` and the small
authorization server of tests/oauth_support.py (both in this process, on 127.0.0.1, port
0), which checks PKCE, the redirect URI, ``resource`` and the client's credentials as a real
one would. The test is the browser: it follows the sign-in URL the CLI prints on stderr,
and the authorization server's redirect lands on the CLI's loopback listener.

Every server is stopped by a fixture, every subprocess has a timeout (and one started with
Popen is killed by its pid if it is still running), every wait is bounded.
"""

import json
import os
import queue
import stat
import subprocess
import sys
import threading
import urllib.parse
import urllib.request

import pytest

from oauth_support import JWT_BEARER, AuthServer, McpServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
APP = os.path.join(HERE, "cli_app.py")
PY = sys.executable
TIMEOUT = 60
WAIT = 20.0
CLIENT_ID = "cli-client"
CLIENT_SECRET = "s3cret:+/ x"
ADVICE = ("use --oauth to sign in in a browser, --client-id ID --client-secret SECRET for client credentials, "
          "or --bearer TOKEN")


# --- helpers ------------------------------------------------------------------------------------------

def environment(home, **extra):
    """The CLI's environment: a home and config directory of the test's own (the default token
    file must never be the user's), no proxies, nothing inherited that says where tokens go."""
    env = {key: value for key, value in os.environ.items()
           if key.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "xdg_config_home",
                                  "mcplite_client_secret")}
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = os.path.join(str(home), "config")
    env.update(extra)
    return env


def cli(env, *args, stdin=None, timeout=TIMEOUT):
    """Run the command line; (status, stdout, stderr). Never a traceback."""
    proc = subprocess.run([PY, "-m", "mcplite"] + list(args), cwd=ROOT, env=env,
                          input=stdin.encode() if stdin is not None else b"", stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert "Traceback" not in err and "Traceback" not in out, err
    return proc.returncode, out, err


def one_error_line(err, command):
    """The one line a failing command writes on stderr, after its "PROG COMMAND: error: "."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    prefix = "python -m mcplite %s: error: " % command
    assert lines[0].startswith(prefix) or (": error: " in lines[0] and os.environ.get("MCPLITE_VENDORED")), lines
    return lines[0].split(": error: ", 1)[1]


def browse(url):
    """The user agent: GET the sign-in URL and follow the redirect to the CLI's loopback
    listener; (the final URL, its status, its page)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=WAIT) as response:
        return response.geturl(), response.status, response.read()


def sign_in_with_cli(env, *args):
    """Run a command that signs in: read the URL it prints on stderr, sign in as the browser
    would, then let it finish. (status, stdout, stderr, the URL, what the browser saw)."""
    proc = subprocess.Popen([PY, "-m", "mcplite"] + list(args), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = queue.Queue()  # type: queue.Queue
    err_lines = []

    def read_stderr():
        for raw in iter(proc.stderr.readline, b""):
            text = raw.decode("utf-8")
            err_lines.append(text)
            lines.put(text)
        lines.put(None)
    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        url = None
        while url is None:
            line = lines.get(timeout=WAIT)
            assert line is not None, "the command ended without a sign-in URL: %s" % "".join(err_lines)
            if "/authorize?" in line:
                url = line.strip()
        landed = browse(url)
        out = proc.stdout.read().decode("utf-8")
        status = proc.wait(timeout=WAIT)
        reader.join(WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()  # (by its own handle: this very process)
            proc.wait(5)
        proc.stdout.close()
        proc.stderr.close()
    err = "".join(err_lines)
    assert "Traceback" not in err, err
    return status, out, err, url, landed


def query_of(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


@pytest.fixture
def protected():
    """``protected(**auth_server_options)``: (authorization server, protected MCP server)."""
    started = []

    def make(**options):
        auth = AuthServer(**options)
        started.append(auth)
        mcp = McpServer(auth.verify, [auth.issuer])
        started.append(mcp)
        return auth, mcp
    yield make
    for server in reversed(started):
        server.stop()


def mcp_posts(mcp, mark=0):
    return [e for e in mcp.since(mark) if e["method"] == "POST"]


# --- authorization code --------------------------------------------------------------------------------

def test_oauth_signs_in_once_and_later_runs_reuse_the_token_file(protected, tmp_path):
    auth, mcp = protected()
    env = environment(tmp_path)
    status, out, err, url, landed = sign_in_with_cli(env, "ls", mcp.url, "--oauth", "--json")
    assert status == 0, err
    listing = json.loads(out)  # stdout: the JSON alone, the sign-in went to stderr
    assert sorted(tool["name"] for tool in listing["tools"])[:2] == ["add", "admin_tool"]
    assert err.splitlines()[0] == "Sign in to continue: open this URL in a browser:"
    assert err.splitlines()[1] == "  " + url and len(err.splitlines()) == 2
    # PKCE S256, the resource, a loopback redirect that the browser really reached.
    query = query_of(url)
    assert query["code_challenge_method"] == "S256" and query["resource"] == mcp.url
    assert query["redirect_uri"].startswith("http://127.0.0.1:") and query["redirect_uri"].endswith("/callback")
    final_url, page_status, page = landed
    assert final_url.startswith(query["redirect_uri"] + "?code=") and page_status == 200 and b"Signed in" in page
    (request,) = auth.token_requests("authorization_code")
    assert request["form"]["redirect_uri"] == query["redirect_uri"] and request["form"]["code_verifier"]

    # The default token file: under XDG_CONFIG_HOME, the owner's only.
    path = os.path.join(str(tmp_path), "config", "mcplite", "tokens.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    with open(path, encoding="utf-8") as handle:
        saved = json.load(handle)
    token = saved["tokens " + mcp.url]["access_token"]
    assert token in auth.tokens
    assert saved["client " + auth.issuer]["redirect_uri"] == query["redirect_uri"]

    # A second run signs in no more: the token comes from the file (stdin is empty, and
    # nobody would follow a URL).
    hits = len(auth.hits())
    mark = mcp.mark()
    status, out, err = cli(env, "call", mcp.url, "whoami", "--oauth")
    assert (status, err) == (0, "")
    assert out == "%s mcp\n" % token
    assert len(auth.hits()) == hits, "the second run went to the authorization server"
    posts = mcp_posts(mcp, mark)
    assert posts and all(e["headers"]["authorization"] == "Bearer " + token for e in posts)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    # The token is revoked: the next run refreshes it with the refresh token, as the client
    # registered before (its redirect port is kept in the file), still without a sign-in.
    auth.revoke_all()
    status, out, err = cli(env, "call", mcp.url, "whoami", "--oauth")
    assert (status, err) == (0, ""), err
    renewed = out.split(" ")[0]
    assert renewed != token and renewed in auth.tokens
    assert len(auth.token_requests("refresh_token")) == 1
    assert len(auth.hits("authorize")) == 1 and len(auth.hits("register")) == 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    # raw and check use the file's token too.
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    status, out, err = cli(env, "raw", mcp.url, json.dumps(init), "--oauth")
    assert (status, err) == (0, "")
    assert json.loads(out)["result"]["serverInfo"]["name"] == "protected"
    status, out, err = cli(env, "check", mcp.url, "--oauth", "--era", "legacy")
    assert status == 0, err
    assert "0 failed" in out.splitlines()[-1]
    assert len(auth.hits("authorize")) == 1


def test_oauth_with_a_token_file_of_ones_own(protected, tmp_path):
    auth, mcp = protected()
    env = environment(tmp_path)
    path = str(tmp_path / "elsewhere.json")
    status, out, err, url, _ = sign_in_with_cli(env, "call", mcp.url, "add", "a=2", "b=3", "--oauth",
                                                "--token-file", path)
    assert (status, out) == (0, "5\n"), err
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not os.path.exists(os.path.join(str(tmp_path), "config", "mcplite"))  # the default is untouched
    status, out, err = cli(env, "call", mcp.url, "add", "a=1", "b=1", "--oauth", "--token-file", path)
    assert (status, out, err) == (0, "2\n", "")
    assert len(auth.hits("authorize")) == 1


# --- client credentials ----------------------------------------------------------------------------------

def test_client_credentials_end_to_end(protected, tmp_path):
    auth, mcp = protected(clients={CLIENT_ID: CLIENT_SECRET})
    env = environment(tmp_path)
    path = str(tmp_path / "tokens.json")
    status, out, err = cli(env, "call", mcp.url, "whoami", "--client-id", CLIENT_ID, "--client-secret",
                           CLIENT_SECRET, "--token-file", path)
    assert (status, err) == (0, "")
    token, scopes = out.strip().split(" ")
    assert scopes == "mcp" and auth.tokens[token] == ["mcp"]
    assert auth.hits("authorize") == [] and auth.hits("register") == []
    (request,) = auth.token_requests()
    assert request["form"]["grant_type"] == "client_credentials" and request["form"]["resource"] == mcp.url
    assert request["client_auth"] == (CLIENT_ID, CLIENT_SECRET, "client_secret_basic")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    # Again, the secret from the environment: the stored token, no token request.
    status, out, err = cli(dict(env, MCPLITE_CLIENT_SECRET=CLIENT_SECRET), "ls", mcp.url, "--client-id", CLIENT_ID,
                           "--token-file", path)
    assert (status, err) == (0, "")
    assert out.splitlines()[0] == "protected 1.0.0, protocol 2026-07-28"
    assert len(auth.token_requests()) == 1

    # A wrong secret: the sign-in fails, said in one line, status 3.
    status, out, err = cli(env, "ls", mcp.url, "--client-id", CLIENT_ID, "--client-secret", "wrong",
                           "--token-file", str(tmp_path / "other.json"))
    assert (status, out) == (3, "")
    assert one_error_line(err, "ls") == (
        "%s: signing in failed: the token request failed: invalid_client (client_secret_basic)" % mcp.url)


def test_bearer_sends_the_token_given(protected, tmp_path):
    auth, mcp = protected()
    auth.tokens["handmade-token"] = ["mcp"]
    env = environment(tmp_path)
    status, out, err = cli(env, "call", mcp.url, "whoami", "--bearer", "handmade-token")
    assert (status, out, err) == (0, "handmade-token mcp\n", "")
    # A tool needing more scope than the token has: a 403 insufficient_scope, said as such.
    status, out, err = cli(env, "call", mcp.url, "admin_tool", "--bearer", "handmade-token")
    assert (status, out) == (3, "")
    assert one_error_line(err, "call") == (
        "admin_tool: the server at %s wants a token with more scope (HTTP 403, insufficient_scope: Insufficient "
        "scope: needs admin; scope admin): --oauth signs in for it" % mcp.url)
    # A token it does not know.
    status, out, err = cli(env, "ls", mcp.url, "--bearer", "made-up")
    assert (status, out) == (3, "")
    assert one_error_line(err, "ls") == (
        "the server at %s refused the token (HTTP 401, invalid_token: Invalid or expired token): %s"
        % (mcp.url, ADVICE))


# --- a client's key, a workload's JWT, an enterprise ID token, DPoP, a metadata document ---------------------------

# A P-256 key of the tests' own (any integer in [1, n-1] is one), as a SEC 1 PEM file would hold it.
KEY_SECRET = 0x3C1F5A0B2E9D8C7B6A5F4E3D2C1B0A99887766554433221100FFEEDDCCBBAA99


def pem_file(path, secret=KEY_SECRET):
    """Write the SEC 1 PEM of the key ``secret`` to ``path``; the ES256Key it is."""
    import base64
    from mcplite import ES256Key
    key = ES256Key(secret)
    body = (b"\x02\x01\x01" + b"\x04\x20" + secret.to_bytes(32, "big") + b"\xa0\x0a\x06\x08"
            + bytes.fromhex("2a8648ce3d030107") + b"\xa1\x44\x03\x42\x00\x04" + key.x.to_bytes(32, "big")
            + key.y.to_bytes(32, "big"))
    der = b"\x30" + bytes([len(body)]) + body
    with open(path, "w") as handle:
        handle.write("-----BEGIN EC PRIVATE KEY-----\n%s-----END EC PRIVATE KEY-----\n"
                     % base64.encodebytes(der).decode("ascii"))
    return key


def test_private_key_client_credentials(protected, tmp_path):
    """--client-id with --private-key: client credentials, the client authenticated by an
    ES256 assertion that the authorization server checks with the public key."""
    key = pem_file(str(tmp_path / "client.pem"))
    auth, mcp = protected(jwt_clients={CLIENT_ID: key.public_jwk()}, auth_methods=["private_key_jwt"])
    status, out, err = cli(environment(tmp_path), "call", mcp.url, "whoami", "--client-id", CLIENT_ID,
                           "--private-key", str(tmp_path / "client.pem"), "--token-file", str(tmp_path / "t.json"))
    assert (status, err) == (0, "")
    token = out.split(" ")[0]
    assert token in auth.tokens
    (request,) = auth.token_requests()
    assert request["form"]["grant_type"] == "client_credentials"
    assert request["client_auth"] == (CLIENT_ID, None, "private_key_jwt")
    # Another key: the server refuses the assertion.
    pem_file(str(tmp_path / "other.pem"), KEY_SECRET + 1)
    status, out, err = cli(environment(tmp_path), "ls", mcp.url, "--client-id", CLIENT_ID, "--private-key",
                           str(tmp_path / "other.pem"), "--token-file", str(tmp_path / "t2.json"))
    assert (status, out) == (3, "")
    assert "signing in failed" in one_error_line(err, "ls")


def test_assertion_is_the_grant_and_is_read_again_for_each_token(protected, tmp_path):
    """--assertion PATH: the JWT bearer grant with the file's JWT (a dynamic registration, no
    sign-in); the file is read at each token request, so a rotated JWT is the one sent."""
    auth, mcp = protected()
    path = str(tmp_path / "workload.jwt")
    first, second = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ3MSJ9.e30", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ3MiJ9.e30"
    with open(path, "w") as handle:
        handle.write(first + "\n")
    env = environment(tmp_path)
    options = ["--assertion", path, "--token-file", str(tmp_path / "t.json")]
    status, out, err = cli(env, "call", mcp.url, "whoami", *options)
    assert (status, err) == (0, "")
    with open(path, "w") as handle:
        handle.write(second)
    auth.revoke_all()  # (no refresh token for this grant: a new token request)
    status, out, err = cli(env, "call", mcp.url, "whoami", *options)
    assert (status, err) == (0, ""), err
    requests = auth.token_requests()
    assert [r["form"]["grant_type"] for r in requests] == [JWT_BEARER] * 2
    assert [r["form"]["assertion"] for r in requests] == [first, second]
    assert auth.hits("authorize") == [] and len(auth.hits("register")) == 1


def test_id_token_is_exchanged_at_the_identity_provider(tmp_path):
    """--id-token PATH --idp-token-endpoint URL --idp-client-id ID with --client-id (and its
    secret): the ID token becomes an ID-JAG at the identity provider (RFC 8693), which is the
    grant at the MCP server's authorization server."""
    id_token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"
    idp = AuthServer(clients={"idp-client": None}, idp_id_tokens=[id_token])
    auth = AuthServer(clients={CLIENT_ID: CLIENT_SECRET}, jag_issuer=idp)
    mcp = McpServer(auth.verify, [auth.issuer])
    try:
        path = str(tmp_path / "id.jwt")
        with open(path, "w") as handle:
            handle.write(id_token)
        status, out, err = cli(environment(tmp_path, MCPLITE_CLIENT_SECRET=CLIENT_SECRET), "call", mcp.url, "whoami",
                               "--client-id", CLIENT_ID, "--id-token", path, "--idp-token-endpoint",
                               idp.issuer + "/token", "--idp-client-id", "idp-client",
                               "--token-file", str(tmp_path / "t.json"))
        assert (status, err) == (0, "")
        (exchange,) = idp.token_requests()
        assert exchange["form"]["subject_token"] == id_token and exchange["form"]["client_id"] == "idp-client"
        (grant,) = auth.token_requests()
        assert grant["form"]["grant_type"] == JWT_BEARER and grant["form"]["assertion"] in idp.jags
        assert grant["client_auth"] == (CLIENT_ID, CLIENT_SECRET, "client_secret_basic")
        assert out.split(" ")[0] in auth.tokens
    finally:
        for server in (mcp, auth, idp):
            server.stop()


def test_dpop_binds_the_token(tmp_path):
    """--dpop: the token request carries a proof, the token comes back DPoP-bound, and each
    request to the MCP server proves the key."""
    auth = AuthServer(clients={CLIENT_ID: CLIENT_SECRET}, dpop=True)
    mcp = McpServer(auth.verify, [auth.issuer], dpop=True, dpop_bound=auth.dpop_bound)
    try:
        options = ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--token-file", str(tmp_path / "t.json")]
        status, out, err = cli(environment(tmp_path), "call", mcp.url, "whoami", "--dpop", *options)
        assert (status, err) == (0, "")
        token = out.split(" ")[0]
        (request,) = auth.token_requests()
        assert request["dpop"]["problem"] is None and token in auth.dpop_bound
        posts = [e for e in mcp.since(0) if e["method"] == "POST" and "authorization" in e["headers"]]
        assert posts and all(e["headers"]["authorization"] == "DPoP " + token and e["headers"].get("dpop")
                             for e in posts)
        # Without --dpop: no proof, a Bearer token.
        status, out, err = cli(environment(tmp_path), "call", mcp.url, "whoami", "--client-id", CLIENT_ID,
                               "--client-secret", CLIENT_SECRET, "--token-file", str(tmp_path / "t2.json"))
        assert (status, err) == (0, "")
        assert "dpop" not in auth.token_requests()[1] and out.split(" ")[0] not in auth.dpop_bound
    finally:
        mcp.stop()
        auth.stop()


def test_client_metadata_url_is_the_client_id(protected, tmp_path):
    """--oauth --client-metadata-url URL at an authorization server that takes metadata
    documents: the URL is the client id, and nothing is registered."""
    auth, mcp = protected(cimd=True)
    document = "https://client.example/mcplite.json"
    status, out, err, url, _ = sign_in_with_cli(environment(tmp_path), "call", mcp.url, "add", "a=2", "b=3",
                                                "--oauth", "--client-metadata-url", document)
    assert (status, out) == (0, "5\n"), err
    assert query_of(url)["client_id"] == document
    assert auth.hits("register") == []
    (request,) = auth.token_requests("authorization_code")
    assert request["client_auth"] == (document, None, "none")


# --- a 401 without the options -------------------------------------------------------------------------------

@pytest.mark.parametrize("era", ["auto", "modern", "legacy"])
def test_a_401_says_which_option_to_use(protected, tmp_path, era):
    auth, mcp = protected()
    env = environment(tmp_path)
    expected = "the server at %s requires authorization (HTTP 401: Authorization required): %s" % (mcp.url, ADVICE)
    for command in (["ls", mcp.url], ["call", mcp.url, "add", "a=1", "b=2"], ["read", mcp.url, "x://y"],
                    ["prompt", mcp.url, "p"], ["shell", mcp.url]):
        status, out, err = cli(env, "--era", era, *command)
        assert (status, out) == (3, ""), command
        assert one_error_line(err, command[0]) == expected, command
    if era == "auto":
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        status, out, err = cli(env, "raw", mcp.url, json.dumps(init))
        assert (status, out) == (3, "")  # the 401's JSON-RPC body is no answer: not printed
        assert one_error_line(err, "raw") == expected
        status, out, err = cli(env, "check", mcp.url)
        assert (status, out) == (3, "")
        assert one_error_line(err, "check") == expected
    assert auth.hits() == []


# --- options that do not go together ---------------------------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    (["--oauth"], "--oauth is for HTTP targets"),
    (["--client-id", "a", "--client-secret", "b"], "--client-id and --client-secret are for HTTP targets"),
])
def test_signing_in_is_for_http_targets(tmp_path, options, message):
    status, out, err = cli(environment(tmp_path), "ls", APP, *options)
    assert (status, out) == (2, "")
    assert one_error_line(err, "ls") == message


@pytest.mark.parametrize("options, message", [
    (["--bearer", "t", "--oauth"], "--bearer is a token already got: it does not go with --oauth"),
    (["--bearer", "t", "-H", "Authorization: Basic x"],
     "--bearer and an Authorization header (-H) both set Authorization"),
    (["--bearer", "two words"], "--bearer takes the token alone (visible ASCII, no spaces)"),
    (["--client-secret", "s"], "--client-secret goes with --client-id"),
    (["--client-id", "c"], "--client-id needs --client-secret (or MCPLITE_CLIENT_SECRET) or --private-key for the "
                           "client credentials grant, or --oauth to sign in as that client"),
    (["--client-metadata-url", "https://c.example/m.json"],
     "--client-metadata-url goes with --oauth (a person signing in)"),
    (["--oauth", "--assertion", "a.jwt"], "--oauth and --assertion are different ways of signing in: give one"),
    (["--private-key", "k.pem"], "--private-key goes with --client-id"),
    (["--idp-client-id", "i"], "--idp-token-endpoint and --idp-client-id go with --id-token"),
    (["--id-token", "t.jwt", "--client-id", "c"],
     "--id-token needs --idp-token-endpoint, --idp-client-id and --client-id"),
    (["--assertion", "no-such.jwt"], "--assertion no-such.jwt: No such file or directory"),
    (["--dpop"], "--dpop goes with --oauth or --client-id"),
    (["--bearer", "t", "--dpop"], "--bearer is a token already got: it does not go with --dpop"),
    (["--token-file", "t.json"], "--token-file goes with --oauth or --client-id"),
    (["--oauth", "-H", "authorization: Bearer x"], "an Authorization header (-H) and --oauth do not go together"),
])
def test_options_that_do_not_go_together(tmp_path, options, message):
    # (Refused before anything is sent: nothing listens at this URL.)
    status, out, err = cli(environment(tmp_path), "ls", "http://127.0.0.1:9/mcp", *options)
    assert (status, out) == (2, "")
    assert one_error_line(err, "ls") == message
    assert not os.path.exists(os.path.join(str(tmp_path), "config"))
