"""Interop of mcplite's OAuth client (``Client.http(url, auth=OAuth(...))``, oauth.py) with the
official Python SDK (``mcp==2.3.0``) as an OAuth-protected MCP server and as the authorization
server.

``tests/interop/sdk_auth_server.py`` runs under ``$MCPLITE_SDK_PYTHON`` (the SDK needs Python
>= 3.10): an ``MCPServer`` with the tools ``add`` and ``whoami`` over Streamable HTTP at
``http://127.0.0.1:<port>/mcp``, with the SDK's ``AuthSettings`` (required scope ``mcp:tools``,
``validate_token_resource=True``), so the SDK itself refuses an unauthenticated request with
401 and ``WWW-Authenticate: Bearer ... resource_metadata=...`` and serves the protected-
resource metadata. The authorization server is the SDK's ``create_auth_routes`` (metadata,
dynamic registration, /authorize, /token with its PKCE check) over an in-memory provider
that approves every request at once. Two layouts, each one process for the whole module:

- ``separate``: the authorization server on a port (an origin) of its own, with an
  introspection endpoint the MCP server's ``TokenVerifier`` asks about every token;
- ``combined``: ``MCPServer(auth_server_provider=...)``, the MCP server being its own
  authorization server.

The "person" who signs in is ``Authorizer`` below: it GETs the authorization URL the OAuth
gives it, does not follow the redirect, and hands back the ``Location`` (the redirect URI
with ``code`` and ``state``). Both servers record the requests they get (``GET /_log``), so
the tests check what the authorization server was really asked: PKCE S256, ``resource``,
``state``, the code verifier matching the challenge.

Skipped when ``$MCPLITE_SDK_PYTHON`` is unset, unless ``MCPLITE_REQUIRE_INTEROP`` is set:
then an unusable SDK is a failure.
"""

import base64
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid
from typing import Any, Dict, List, Optional, Tuple

import pytest

from interop_support import LEGACY, MODERN, REPO, kill_leftovers, peer_env, sdk_python_fixture
from mcplite import AuthorizationError, Client, HttpError, MemoryTokenStorage, OAuth

SERVER = REPO / "tests" / "interop" / "sdk_auth_server.py"
SCOPE = "mcp:tools"
SUBJECT = "alice"  # whom the test provider signs in
START_TIMEOUT = 30  # the SDK's imports take ~1 s; this only bounds a hung start
TIMEOUT = 10  # every request of the test, and every call of a Client

sdk_python = sdk_python_fixture("mcp.server.mcpserver", "mcp.server.auth.routes", "uvicorn")


# --- the SDK's servers -----------------------------------------------------------------------------


def free_port():
    # type: () -> int
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url, timeout=TIMEOUT):
    # type: (str, float) -> Any
    """(status, headers, body) of a GET, redirects not followed."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def http_post_form(url, form, timeout=TIMEOUT, basic=None):
    # type: (str, Dict[str, str], float, Optional[Tuple[str, str]]) -> Any
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if basic is not None:
        pair = "%s:%s" % tuple(urllib.parse.quote(part, safe="") for part in basic)
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    try:
        conn.request("POST", parts.path, urllib.parse.urlencode(form), headers)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def http_post_json(url, document, timeout=TIMEOUT):
    # type: (str, Dict[str, Any], float) -> Any
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path, json.dumps(document), {"Content-Type": "application/json"})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read().decode("utf-8"))
    finally:
        conn.close()


class SdkServers:
    """One run of sdk_auth_server.py: where it is, and what it has recorded."""

    def __init__(self, layout, proc, mcp_port, as_port, stderr_path):
        # type: (str, subprocess.Popen, int, int, str) -> None
        self.layout = layout
        self.proc = proc
        self.mcp_base = "http://127.0.0.1:%d" % mcp_port
        self.mcp_url = self.mcp_base + "/mcp"
        self.issuer = "http://127.0.0.1:%d" % as_port  # the same origin as the MCP server when combined
        self.prm_url = self.mcp_base + "/.well-known/oauth-protected-resource/mcp"
        self.stderr_path = stderr_path

    def _log(self, base):
        # type: (str) -> List[Dict[str, Any]]
        status, _, body = http_get(base + "/_log")
        assert status == 200, "GET %s/_log: HTTP %d" % (base, status)
        return json.loads(body.decode("utf-8"))

    def as_log(self):
        # type: () -> List[Dict[str, Any]]
        """Every request the authorization server got, in order."""
        return self._log(self.issuer)

    def mcp_log(self):
        # type: () -> List[Dict[str, Any]]
        """Every request the MCP server got (the same record as as_log's when combined)."""
        return self._log(self.mcp_base)

    def stderr(self):
        # type: () -> str
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as handle:
                return handle.read()[-4000:]
        except OSError:
            return ""

    def register(self, **metadata):
        # type: (Any) -> Dict[str, Any]
        """A client registered out of band (what an administrator would do)."""
        status, answer = http_post_json(self.issuer + "/register", metadata)
        assert status == 201, answer
        return answer


def stop(proc):
    # type: (subprocess.Popen) -> None
    """SIGKILL the server's process group (its PID: it leads a session of its own), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass


def start(sdk_python, layout, tmp_dir):
    # type: (str, str, Any) -> Any
    """The SDK's servers in ``layout`` and a function that stops them."""
    mcp_port = free_port()
    as_port = free_port() if layout == "separate" else mcp_port
    while as_port == mcp_port and layout == "separate":
        as_port = free_port()
    args = [sdk_python, str(SERVER), layout, str(mcp_port)] + ([str(as_port)] if layout == "separate" else [])
    token = "oauth-%s-%d-%s" % (layout, os.getpid(), uuid.uuid4().hex[:8])
    stderr_path = str(tmp_dir / ("sdk-auth-%s.stderr" % layout))
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                                env=peer_env(token), cwd=str(REPO), start_new_session=True)

    def finish():
        # type: () -> None
        stop(proc)
        kill_leftovers(token)

    servers = SdkServers(layout, proc, mcp_port, as_port, stderr_path)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            finish()
            pytest.fail("the SDK server (%s) exited with %s:\n%s" % (layout, proc.returncode, servers.stderr()),
                        pytrace=False)
        try:
            servers.mcp_log()
            servers.as_log()
            break
        except (OSError, http.client.HTTPException, AssertionError):
            if time.monotonic() > deadline:
                finish()
                pytest.fail("the SDK server (%s) did not answer within %d s:\n%s"
                            % (layout, START_TIMEOUT, servers.stderr()), pytrace=False)
            time.sleep(0.05)
    return servers, finish


@pytest.fixture(scope="module", params=["separate", "combined"])
def sdk(request, sdk_python, tmp_path_factory):
    # type: (Any, str, Any) -> Any
    servers, finish = start(sdk_python, request.param, tmp_path_factory.mktemp("sdk-oauth"))
    request.addfinalizer(finish)
    return servers


# --- the person signing in ---------------------------------------------------------------------------


class Authorizer:
    """The ``authorize`` step: GET the authorization URL, keep the redirect it answers with.
    ``refuse=True``: any call fails the test (a sign-in that must not happen)."""

    def __init__(self, redirect_uri, refuse=False):
        # type: (str, bool) -> None
        self.redirect_uri = redirect_uri
        self.refuse = refuse
        self.urls = []  # type: List[str]
        self.redirects = []  # type: List[str]

    def __call__(self, url):
        # type: (str) -> str
        self.urls.append(url)
        if self.refuse:
            raise AssertionError("asked to sign in again: %s" % url)
        status, headers, body = http_get(url)
        location = headers.get("location")
        if status != 302 or not location:
            raise AssertionError("the authorization endpoint answered HTTP %d (%s)" % (status, body[:500]))
        self.redirects.append(location)
        return location

    def query(self, index=0):
        # type: (int) -> Dict[str, str]
        """The parameters of the ``index``-th authorization request."""
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.urls[index]).query))

    @property
    def client_id(self):
        # type: () -> str
        return self.query()["client_id"]


def redirect_uri():
    # type: () -> str
    """A loopback redirect URI (nothing needs to listen: the Authorizer never follows it)."""
    return "http://127.0.0.1:%d/callback" % free_port()


def connect(sdk, auth, era):
    # type: (SdkServers, Optional[OAuth], str) -> Client
    return Client.http(sdk.mcp_url, auth=auth, era=era, timeout=TIMEOUT)


def oauth(authorizer, storage=None, **options):
    # type: (Authorizer, Any, Any) -> OAuth
    """An OAuth for these tests, with mcplite's defaults unless ``options`` say otherwise
    (the SDK's metadata offers client_secret_post and client_secret_basic: mcplite takes
    client_secret_basic)."""
    return OAuth(redirect_uri=authorizer.redirect_uri, authorize=authorizer, storage=storage, timeout=TIMEOUT,
                 **options)


def s256(verifier):
    # type: (str) -> str
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def of_client(log, client_id):
    # type: (List[Dict[str, Any]], str) -> Dict[str, List[Dict[str, Any]]]
    """The OAuth requests of one client in the authorization server's record, by endpoint."""
    mine = {"register": [], "authorize": [], "token": [], "revoke": []}  # type: Dict[str, List[Dict[str, Any]]]
    for entry in log:
        endpoint = entry["path"].strip("/")
        if endpoint == "register" and (entry.get("answer") or {}).get("client_id") == client_id:
            mine["register"].append(entry)
        elif endpoint == "authorize" and entry["query"].get("client_id") == client_id:
            mine["authorize"].append(entry)
        elif endpoint in ("token", "revoke") and (entry.get("form") or {}).get("client_id") == client_id:
            mine[endpoint].append(entry)
    return mine


def bearer_requests(log, token):
    # type: (List[Dict[str, Any]], str) -> List[Dict[str, Any]]
    return [entry for entry in log if entry["path"] == "/mcp" and entry.get("authorization") == "Bearer " + token]


def describe(sdk, authorizer=None):
    # type: (SdkServers, Optional[Authorizer]) -> str
    """What a failing assertion shows: the sign-in URLs, both servers' records, the server's stderr."""
    lines = ["layout: %s" % sdk.layout]
    if authorizer is not None:
        lines += ["authorize urls: %s" % authorizer.urls]
    try:
        lines += ["AS log: %s" % json.dumps(sdk.as_log())[-6000:]]
        if sdk.layout == "separate":
            lines += ["MCP log: %s" % json.dumps(sdk.mcp_log())[-3000:]]
    except Exception as exc:  # the record is a help, not the point
        lines += ["(no log: %s)" % exc]
    return "\n".join(lines + ["server stderr:\n" + sdk.stderr()])


def use(client, sdk):
    # type: (Client, SdkServers) -> Dict[str, Any]
    """List and call the SDK's tools; ``whoami``'s answer (what the SDK made of the token)."""
    assert sorted(tool["name"] for tool in client.list_tools()) == ["add", "whoami"]
    added = client.call_tool("add", {"a": 2, "b": 3})
    assert not added.get("isError") and added["structuredContent"] == {"result": 5}, added
    who = client.call_tool("whoami")
    assert not who.get("isError"), who
    return who["structuredContent"]


ERAS = [("legacy", "legacy", LEGACY), ("auto", "modern", MODERN)]  # era asked, era got, protocol version


# --- without auth: the SDK's challenge ------------------------------------------------------------------


@pytest.mark.parametrize("era", ["legacy", "auto"])
def test_without_auth_the_sdk_answers_401_with_resource_metadata(sdk, era):
    start_at = time.monotonic()
    with pytest.raises(HttpError) as info:
        connect(sdk, None, era).close()
    assert time.monotonic() - start_at < TIMEOUT
    error = info.value
    assert error.status == 401, describe(sdk)
    assert error.www_authenticate is not None and error.www_authenticate.startswith("Bearer ")
    challenge = error.www_authenticate
    assert 'resource_metadata="%s"' % sdk.prm_url in challenge, challenge
    assert 'error="invalid_token"' in challenge, challenge
    assert json.loads(error.body)["error"] == "invalid_token"
    # The metadata it points at names this server and its authorization server.
    status, _, body = http_get(sdk.prm_url)
    assert status == 200
    metadata = json.loads(body.decode("utf-8"))
    assert metadata["resource"] == sdk.mcp_url
    assert metadata["authorization_servers"] == [sdk.issuer]
    assert metadata["scopes_supported"] == [SCOPE]


def test_without_auth_nothing_reaches_the_authorization_server(sdk):
    before = len(sdk.as_log())
    with pytest.raises(HttpError):
        connect(sdk, None, "auto").close()
    assert [entry for entry in sdk.as_log()[before:] if entry["path"] != "/mcp"] == []


# --- the authorization code flow -----------------------------------------------------------------------------


@pytest.mark.parametrize("era,got_era,version", ERAS, ids=[e[0] for e in ERAS])
def test_authorization_code_flow(sdk, era, got_era, version):
    authorizer = Authorizer(redirect_uri())
    before_as, before_mcp = len(sdk.as_log()), len(sdk.mcp_log())
    with connect(sdk, oauth(authorizer), era) as client:
        assert (client.era, client.protocol_version) == (got_era, version)
        who = use(client, sdk)
    context = describe(sdk, authorizer)

    # One sign-in, at the authorization server the protected-resource metadata names.
    assert len(authorizer.urls) == 1, context
    assert authorizer.urls[0].startswith(sdk.issuer + "/authorize?"), context
    client_id = authorizer.client_id
    # The SDK saw the token that flow got: for this client, this server (resource), the scope.
    assert who == {"client_id": client_id, "scopes": [SCOPE], "resource": sdk.mcp_url, "subject": SUBJECT}, context

    mine = of_client(sdk.as_log()[before_as:], client_id)
    # Dynamic registration (RFC 7591) of the redirect URI, for the code grant.
    assert len(mine["register"]) == 1, context
    registration = mine["register"][0]
    assert registration["status"] == 201
    assert registration["json"]["redirect_uris"] == [authorizer.redirect_uri]
    assert "authorization_code" in registration["json"]["grant_types"]
    assert registration["json"]["token_endpoint_auth_method"] == "client_secret_basic"

    # The authorization request: PKCE S256, the resource (RFC 8707), the scope, a state.
    assert len(mine["authorize"]) == 1, context
    asked = mine["authorize"][0]["query"]
    assert asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43  # base64url of a SHA-256, unpadded
    assert asked["resource"] == sdk.mcp_url
    assert asked["scope"] == SCOPE
    assert asked["redirect_uri"] == authorizer.redirect_uri
    assert len(asked["state"]) >= 16
    assert mine["authorize"][0]["status"] == 302
    redirect = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorizer.redirects[0]).query))
    assert authorizer.redirects[0].startswith(authorizer.redirect_uri + "?")
    assert redirect["state"] == asked["state"]

    # The token request: that code, its verifier, the same resource and redirect URI.
    assert len(mine["token"]) == 1, context
    token_request = mine["token"][0]
    form = token_request["form"]
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == redirect["code"]
    assert s256(form["code_verifier"]) == asked["code_challenge"]
    assert 43 <= len(form["code_verifier"]) <= 128  # RFC 7636 §4.1
    assert form["resource"] == sdk.mcp_url
    assert form["redirect_uri"] == authorizer.redirect_uri
    # client_secret_basic: the secret in the Authorization header only (RFC 6749 §2.3.1).
    assert "client_secret" not in form and form["client_id"] == client_id
    basic = base64.b64decode(token_request["authorization"][len("Basic "):]).decode("utf-8")
    assert basic == "%s:%s" % (urllib.parse.quote(client_id, safe=""),
                               urllib.parse.quote(registration["answer"]["client_secret"], safe=""))
    assert token_request["status"] == 200, context  # the SDK checked PKCE, client and redirect URI
    access_token = token_request["answer"]["access_token"]

    # Every MCP request after the first refusal carried that token, and none was refused.
    mcp_log = sdk.mcp_log()[before_mcp:]
    sent = bearer_requests(mcp_log, access_token)
    assert sent and all(entry["status"] < 400 for entry in sent), context
    refused = [entry for entry in mcp_log if entry["path"] == "/mcp" and entry["status"] == 401]
    assert len(refused) == 1 and refused[0]["authorization"] is None, context
    if sdk.layout == "separate":
        # The SDK's resource server asked the authorization server about the token.
        asked_about = [entry for entry in sdk.as_log()[before_as:] if entry["path"] == "/introspect"
                       and entry["form"]["token"] == access_token]
        assert asked_about, context


def test_second_client_sharing_the_storage_does_not_sign_in_again(sdk):
    storage = MemoryTokenStorage()
    first = Authorizer(redirect_uri())
    with connect(sdk, oauth(first, storage), "legacy") as client:
        who = use(client, sdk)
    assert len(first.urls) == 1, describe(sdk, first)
    before_as, before_mcp = len(sdk.as_log()), len(sdk.mcp_log())

    second = Authorizer(first.redirect_uri, refuse=True)
    for era in ("legacy", "auto"):
        with connect(sdk, oauth(second, storage), era) as client:
            assert use(client, sdk) == who
    assert second.urls == [], describe(sdk, second)
    # Nothing more was asked of the authorization server (introspection aside) ...
    asked = [entry["path"] for entry in sdk.as_log()[before_as:] if entry["path"] not in ("/introspect", "/mcp")]
    assert asked == [], describe(sdk)
    # ... and the MCP server got the stored token from the very first request on.
    mcp_requests = [entry for entry in sdk.mcp_log()[before_mcp:] if entry["path"] == "/mcp"]
    assert mcp_requests and all(entry["authorization"] and entry["authorization"].startswith("Bearer ")
                                and entry["status"] < 400 for entry in mcp_requests), describe(sdk)
    assert len({entry["authorization"] for entry in mcp_requests}) == 1


def test_a_revoked_token_is_refreshed_at_the_sdks_token_endpoint(sdk):
    storage = MemoryTokenStorage()
    authorizer = Authorizer(redirect_uri())
    with connect(sdk, oauth(authorizer, storage), "legacy") as client:
        who = use(client, sdk)
        client_id = authorizer.client_id
        mine = of_client(sdk.as_log(), client_id)
        secret = mine["register"][0]["answer"]["client_secret"]
        first_token = mine["token"][0]["answer"]["access_token"]
        # The access token is revoked (RFC 7009) at the SDK's revocation endpoint: the MCP
        # server now refuses it, and the OAuth refreshes it (no second sign-in).
        status, body = http_post_form(sdk.issuer + "/revoke", {
            "token": first_token, "token_type_hint": "access_token", "client_id": client_id,
            "client_secret": secret}, basic=(client_id, secret))  # the SDK's /revoke wants both
        assert status == 200, body
        assert client.call_tool("whoami")["structuredContent"] == who
        assert client.call_tool("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
    context = describe(sdk, authorizer)
    assert len(authorizer.urls) == 1, context
    mine = of_client(sdk.as_log(), client_id)
    assert [entry["form"]["grant_type"] for entry in mine["token"]] == ["authorization_code", "refresh_token"]
    refresh = mine["token"][1]
    assert refresh["status"] == 200, context
    assert refresh["form"]["refresh_token"] == mine["token"][0]["answer"]["refresh_token"]
    assert refresh["form"]["resource"] == sdk.mcp_url
    new_token = refresh["answer"]["access_token"]
    assert new_token != first_token
    refused = bearer_requests(sdk.mcp_log(), first_token)
    assert refused and refused[-1]["status"] == 401, context
    assert bearer_requests(sdk.mcp_log(), new_token), context


def test_pre_registered_public_client(sdk):
    authorizer = Authorizer(redirect_uri())
    registered = sdk.register(redirect_uris=[authorizer.redirect_uri], token_endpoint_auth_method="none",
                              grant_types=["authorization_code", "refresh_token"], response_types=["code"],
                              client_name="pre-registered")
    client_id = registered["client_id"]
    before = len(sdk.as_log())
    with connect(sdk, oauth(authorizer, client_id=client_id, token_endpoint_auth_method=None), "auto") as client:
        who = use(client, sdk)
    context = describe(sdk, authorizer)
    assert who["client_id"] == client_id, context
    log = sdk.as_log()[before:]
    assert [entry for entry in log if entry["path"] == "/register"] == [], context  # no registration of its own
    mine = of_client(log, client_id)
    assert len(mine["authorize"]) == 1 and len(mine["token"]) == 1, context
    token_request = mine["token"][0]
    assert token_request["status"] == 200, context
    assert token_request["authorization"] is None and "client_secret" not in token_request["form"]
    assert s256(token_request["form"]["code_verifier"]) == mine["authorize"][0]["query"]["code_challenge"]


@pytest.mark.parametrize("registration", ["dynamic", "pre-registered"])
def test_default_client_authentication_at_the_sdks_token_endpoint(sdk, registration):
    """The OAuth with its defaults. The SDK's metadata offers client_secret_post and
    client_secret_basic; mcplite picks client_secret_basic, registers so (or is given a
    confidential client), and then authenticates the token request with the Basic header
    header. RFC 6749 allows leaving client_id out of the form then, but the SDK's
    ClientAuthenticator reads it from the form first: mcplite always sends it."""
    authorizer = Authorizer(redirect_uri())
    options = {"token_endpoint_auth_method": None}  # type: Dict[str, Any]
    if registration == "pre-registered":
        registered = sdk.register(redirect_uris=[authorizer.redirect_uri],
                                  token_endpoint_auth_method="client_secret_basic",
                                  grant_types=["authorization_code", "refresh_token"], response_types=["code"])
        options.update(client_id=registered["client_id"], client_secret=registered["client_secret"])
    with connect(sdk, oauth(authorizer, **options), "legacy") as client:
        who = use(client, sdk)
    assert who["client_id"] == authorizer.client_id
    mine = of_client(sdk.as_log(), authorizer.client_id)
    assert mine["token"][0]["authorization"].startswith("Basic ")
