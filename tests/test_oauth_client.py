"""The OAuth client (mcplite/oauth.py) end to end: ``Client.http(url, auth=OAuth(...))``
against mcplite's own HTTP server behind ``BearerAuth``, with a small authorization server
written here (tests/oauth_support.py) that records every request it gets.

The resource server's verifier reads the tokens that authorization server issued, so a
token it never issued (or one a test revoked) really fails; the authorization server
checks PKCE, the redirect URI, ``resource`` and the client's credentials as a real one
would. The tests look at the wire on both sides: which metadata URLs were asked for and in
which order, the authorization and token requests' parameters, the registration body,
the ``Authorization`` headers the MCP server saw.

Every server listens on 127.0.0.1 (port 0) and is stopped by a fixture; every wait is
bounded.
"""

import base64
import hashlib
import json
import os
import re
import socket
import stat
import sys
import threading
import time
import urllib.parse
from typing import Any, Callable, Dict, List, Optional

import pytest

from mcplite import (AuthorizationError, Client, FileTokenStorage, HttpError, MCPError, MemoryTokenStorage, OAuth,
                     TerminalAuthorizer, TransportError)
from oauth_support import AuthServer, McpServer

WAIT = 5.0
REDIRECT = "http://127.0.0.1:9/callback"  # never reached: the tests' browser stops at the redirect
CIMD_URL = "https://client.example/oauth/metadata.json"
ERAS = ["legacy", "modern"]


# --- fixtures -----------------------------------------------------------------------------------------

@pytest.fixture
def auth_server():
    # type: () -> Any
    """``auth_server(**options)``: a started ``AuthServer``, stopped at the end."""
    started = []  # type: List[AuthServer]

    def make(**options):
        # type: (Any) -> AuthServer
        server = AuthServer(**options)
        started.append(server)
        return server
    yield make
    for server in started:
        server.stop()


@pytest.fixture
def mcp_server():
    # type: () -> Any
    """``mcp_server(verify, authorization_servers, **options)``: a protected MCP server."""
    started = []  # type: List[McpServer]

    def make(verify, authorization_servers, **options):
        # type: (Callable[[str], Any], List[str], Any) -> McpServer
        server = McpServer(verify, authorization_servers, **options)
        started.append(server)
        return server
    yield make
    for server in started:
        server.stop()


@pytest.fixture
def connect(auth_server, mcp_server):
    # type: (Any, Any) -> Any
    """``connect(url, **options)``: a ``Client.http`` with short timeouts, closed before the
    servers stop."""
    clients = []  # type: List[Client]

    def make(url, **options):
        # type: (str, Any) -> Client
        options.setdefault("timeout", WAIT)
        options.setdefault("probe_timeout", 2.0)
        client = Client.http(url, **options)
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.close()


@pytest.fixture
def protected(auth_server, mcp_server):
    # type: (Any, Any) -> Any
    """``protected(mcp_options=None, **auth_server_options)``: an authorization server and
    an MCP server it protects (the MCP server's metadata names it)."""
    def make(mcp_options=None, **options):
        # type: (Optional[Dict[str, Any]], Any) -> Any
        auth = auth_server(**options)
        mcp_options = dict(mcp_options or {})
        if mcp_options.get("dpop"):
            mcp_options.setdefault("dpop_bound", auth.dpop_bound)  # the tokens' key bindings
        mcp = mcp_server(auth.verify, [auth.issuer], **mcp_options)
        return auth, mcp
    return make


def oauth(auth, **options):
    # type: (AuthServer, Any) -> OAuth
    options.setdefault("authorize", auth.follow_once)
    options.setdefault("redirect_uri", REDIRECT)
    return OAuth(**options)


def text_of(result):
    # type: (Dict[str, Any]) -> str
    return result["content"][0]["text"]


def never_authorize(url):
    # type: (str) -> str
    raise AssertionError("no authorization step was expected, got %s" % url)


def query_of(url):
    # type: (str) -> Dict[str, str]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def mcp_posts(mcp, method, mark=0):
    # type: (McpServer, str, int) -> List[Dict[str, Any]]
    return [e for e in mcp.since(mark) if e["method"] == "POST" and isinstance(e["body"], dict)
            and e["body"].get("method") == method]


# --- the authorization code flow ----------------------------------------------------------------------

@pytest.mark.parametrize("era", ERAS + ["auto"])
def test_authorization_code_flow_with_dynamic_registration(protected, connect, era):
    auth, mcp = protected(issuer_path="/tenant1", metadata_at=("oidc-appended",))
    client = connect(mcp.url, auth=oauth(auth), era=era)
    assert client.era == (era if era != "auto" else "modern")
    token, scopes = text_of(client.call_tool("whoami")).split(" ", 1)
    assert token in auth.tokens and scopes == "mcp"
    assert text_of(client.call_tool("add", {"a": 2, "b": 3})) == "5"

    # The MCP server: refused once without a token, then every request carried it.
    entries = mcp.since()
    first = [e for e in entries if e["method"] == "POST"][0]
    assert first["status"] == 401 and "authorization" not in first["headers"]
    assert 'resource_metadata="%s"' % mcp.auth.metadata_url("/mcp") in first["www_authenticate"]
    later = [e for e in entries if e["path"] == "/mcp" and e is not first]
    assert later and all(e["headers"].get("authorization") == "Bearer " + token for e in later)
    assert all(e["status"] < 400 for e in later)
    # Protected-resource metadata: the path-based URL answered, so the root one was never asked.
    gets = mcp.get_paths()
    assert "/.well-known/oauth-protected-resource/mcp" in gets
    assert "/.well-known/oauth-protected-resource" not in gets

    # Authorization server metadata for an issuer with a path: RFC 8414 inserted, OIDC
    # inserted, OIDC appended - and never the root locations.
    metadata_paths = [r["path"] for r in auth.hits("metadata")]
    assert metadata_paths == ["/.well-known/oauth-authorization-server/tenant1",
                              "/.well-known/openid-configuration/tenant1",
                              "/tenant1/.well-known/openid-configuration"]
    assert "/.well-known/oauth-authorization-server" not in auth.paths()
    assert "/.well-known/openid-configuration" not in auth.paths()

    # Dynamic registration.
    (register,) = auth.hits("register")
    body = register["json"]
    assert body["redirect_uris"] == [REDIRECT]
    assert "authorization_code" in body["grant_types"] and "refresh_token" in body["grant_types"]
    assert body["application_type"] == "native"
    assert body["response_types"] == ["code"]
    assert body["token_endpoint_auth_method"] == "none"
    client_id = [c for c in auth.clients if c.startswith("dyn-")][0]

    # The authorization request: PKCE S256, state, resource.
    (authorize,) = auth.hits("authorize")
    query = authorize["query"]
    assert query["response_type"] == "code" and query["client_id"] == client_id
    assert query["redirect_uri"] == REDIRECT
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 16
    assert query["resource"] == mcp.url == mcp.auth.metadata()["resource"]
    assert query["scope"] == "mcp"

    # The token request: the verifier hashes to the challenge; same resource and redirect.
    (token_request,) = auth.token_requests()
    form = token_request["form"]
    assert form["grant_type"] == "authorization_code"
    verifier = form["code_verifier"]
    assert 43 <= len(verifier) <= 128 and re.match(r"^[A-Za-z0-9._~-]+$", verifier)
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == digest
    assert form["resource"] == query["resource"]
    assert form["redirect_uri"] == REDIRECT
    assert form["client_id"] == client_id and "client_secret" not in form
    assert "authorization" not in token_request["headers"]


@pytest.mark.parametrize("issuer_path, metadata_at, expected", [
    ("/tenant1", ("oauth",), ["/.well-known/oauth-authorization-server/tenant1"]),
    ("/tenant1", ("oidc-inserted",), ["/.well-known/oauth-authorization-server/tenant1",
                                      "/.well-known/openid-configuration/tenant1"]),
    ("", ("oauth",), ["/.well-known/oauth-authorization-server"]),
    ("", ("oidc-inserted",), ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]),
])
def test_authorization_server_metadata_discovery_order(protected, connect, issuer_path, metadata_at, expected):
    auth, mcp = protected(issuer_path=issuer_path, metadata_at=metadata_at)
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    assert [r["path"] for r in auth.hits("metadata")] == expected
    assert len(auth.hits("authorize")) == 1


def test_without_resource_metadata_in_the_challenge_the_path_based_well_known_url_comes_first(protected, connect):
    auth, mcp = protected(mcp_options={"drop_resource_metadata": True})
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    assert "resource_metadata" not in mcp.since()[0]["www_authenticate"]
    assert text_of(client.call_tool("add", {"a": 1, "b": 2})) == "3"
    assert mcp.get_paths() == ["/.well-known/oauth-protected-resource/mcp"]
    assert auth.hits("authorize")[0]["query"]["resource"] == mcp.url


def test_a_resource_naming_a_parent_path_is_accepted_and_named_in_every_request(protected, connect):
    auth, mcp = protected()
    root = mcp.url.rsplit("/", 1)[0] + "/"
    mcp.auth.resource = root  # the whole origin is the protected resource
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    assert mcp.auth.metadata()["resource"] == root != mcp.url
    assert auth.hits("authorize")[0]["query"]["resource"] == root
    assert auth.token_requests()[0]["form"]["resource"] == root


# --- scopes ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mcp_options, as_scopes, oauth_scope, expected", [
    # the challenge's scope wins over the metadata's scopes_supported
    ({"required_scopes": ["mcp", "read"], "scopes_supported": ["mcp", "read", "write"]}, None, None, "mcp read"),
    # ...and over OAuth(scope=...)
    ({"required_scopes": ["mcp"], "scopes_supported": ["mcp", "write"]}, None, "custom", "mcp"),
    # no scope in the challenge: the protected-resource metadata's scopes_supported
    ({"required_scopes": [], "scopes_supported": ["files:read", "files:write"]}, None, None,
     "files:read files:write"),
    # neither: no scope parameter at all
    ({"required_scopes": []}, None, None, None),
    # OAuth(scope=...) when the challenge names none
    ({"required_scopes": [], "scopes_supported": ["files:read"]}, None, "custom", "custom"),
    # offline_access added only when the authorization server lists it
    ({"required_scopes": ["mcp"]}, ["mcp", "offline_access"], None, "mcp offline_access"),
    ({"required_scopes": ["mcp"]}, ["mcp"], None, "mcp"),
], ids=["challenge", "challenge-over-oauth-scope", "prm-scopes-supported", "none", "oauth-scope", "offline-access",
        "no-offline-access"])
def test_scope_selection(protected, connect, mcp_options, as_scopes, oauth_scope, expected):
    auth, mcp = protected(mcp_options=mcp_options, scopes_supported=as_scopes)
    client = connect(mcp.url, auth=oauth(auth, scope=oauth_scope), era="modern")
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    (authorize,) = auth.hits("authorize")
    assert authorize["query"].get("scope") == expected
    if expected is None:
        assert "scope" not in authorize["query"]
    token = text_of(client.call_tool("whoami")).split(" ", 1)[0]
    assert sorted(auth.tokens[token]) == sorted((expected or "").split())


# --- client identity --------------------------------------------------------------------------------------

CLIENT_ID = "my client:1"
CLIENT_SECRET = "p@ss+w:rd/ 1%"


@pytest.mark.parametrize("era", ERAS)
def test_pre_registered_client_with_client_secret_basic(protected, connect, era):
    auth, mcp = protected(clients={CLIENT_ID: CLIENT_SECRET},
                          auth_methods=["client_secret_basic", "client_secret_post"])
    client = connect(mcp.url, auth=oauth(auth, client_id=CLIENT_ID, client_secret=CLIENT_SECRET), era=era)
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    assert auth.hits("register") == []
    assert auth.hits("authorize")[0]["query"]["client_id"] == CLIENT_ID
    (request,) = auth.token_requests()
    header = request["headers"]["authorization"]
    assert header.startswith("Basic ")
    pair = base64.b64decode(header[6:]).decode("utf-8")
    # RFC 6749 2.3.1: each part form-urlencoded, so the only colon is the separator.
    assert pair.count(":") == 1
    raw_id, raw_secret = pair.split(":")
    assert urllib.parse.unquote_plus(raw_id) == CLIENT_ID
    assert urllib.parse.unquote_plus(raw_secret) == CLIENT_SECRET
    assert "+" not in raw_secret  # a literal "+" would decode as a space
    assert "client_secret" not in request["form"]  # one authentication method only
    assert request["form"].get("client_id", CLIENT_ID) == CLIENT_ID
    assert request["client_auth"] == (CLIENT_ID, CLIENT_SECRET, "client_secret_basic")


@pytest.mark.parametrize("as_methods, explicit", [
    (["client_secret_post"], None),  # the only method the server lists
    (["client_secret_basic", "client_secret_post"], "client_secret_post"),  # asked for
])
def test_pre_registered_client_with_client_secret_post(protected, connect, as_methods, explicit):
    auth, mcp = protected(clients={CLIENT_ID: CLIENT_SECRET}, auth_methods=as_methods)
    client = connect(mcp.url, auth=oauth(auth, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                         token_endpoint_auth_method=explicit), era="modern")
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    (request,) = auth.token_requests()
    assert "authorization" not in request["headers"]
    assert request["form"]["client_id"] == CLIENT_ID
    assert request["form"]["client_secret"] == CLIENT_SECRET
    assert request["client_auth"][2] == "client_secret_post"
    assert auth.hits("register") == []


@pytest.mark.parametrize("supported", [True, False])
def test_client_id_metadata_document_used_when_supported(protected, connect, supported):
    auth, mcp = protected(cimd=supported)
    client = connect(mcp.url, auth=oauth(auth, client_metadata_url=CIMD_URL), era="modern")
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    (authorize,) = auth.hits("authorize")
    (request,) = auth.token_requests()
    if supported:
        assert auth.hits("register") == []
        assert authorize["query"]["client_id"] == CIMD_URL
        assert request["form"]["client_id"] == CIMD_URL
    else:
        assert len(auth.hits("register")) == 1
        assert authorize["query"]["client_id"].startswith("dyn-")
        assert request["form"]["client_id"] == authorize["query"]["client_id"]


def test_confidential_dynamic_registration_uses_its_secret(protected, connect):
    auth, mcp = protected(auth_methods=["client_secret_basic"])
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    (register,) = auth.hits("register")
    assert register["json"]["token_endpoint_auth_method"] == "client_secret_basic"
    (request,) = auth.token_requests()
    client_id = auth.hits("authorize")[0]["query"]["client_id"]
    assert request["client_auth"] == (client_id, auth.clients[client_id]["secret"], "client_secret_basic")


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_grant_needs_no_authorization_step(protected, connect, method):
    auth, mcp = protected(clients={CLIENT_ID: CLIENT_SECRET})
    client = connect(mcp.url, auth=OAuth(grant="client_credentials", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                         token_endpoint_auth_method=method, authorize=never_authorize),
                     era="modern")
    token, scopes = text_of(client.call_tool("whoami")).split(" ", 1)
    assert scopes == "mcp"
    assert auth.hits("authorize") == [] and auth.hits("register") == []
    (request,) = auth.token_requests()
    form = request["form"]
    assert form["grant_type"] == "client_credentials"
    assert form["resource"] == mcp.url
    assert form["scope"] == "mcp"
    assert "code_verifier" not in form and "redirect_uri" not in form
    assert request["client_auth"] == (CLIENT_ID, CLIENT_SECRET, method)
    if method == "client_secret_basic":
        assert "client_secret" not in form
    else:
        assert "authorization" not in request["headers"]
    assert auth.tokens[token] == ["mcp"]


def test_jwt_bearer_grant_registers_without_redirect_and_sends_a_fresh_assertion(protected, connect):
    auth, mcp = protected()
    made = []  # type: List[str]

    def assertion():
        # type: () -> str
        made.append("eyJhbGciOiJub25lIn0.eyJzdWIiOiJib3QiLCJuIjo%d.e30" % len(made))
        return made[-1]
    client = connect(mcp.url, auth=OAuth(grant="jwt_bearer", assertion=assertion, authorize=never_authorize),
                     era="modern")
    assert text_of(client.call_tool("whoami")).split(" ", 1)[1] == "mcp"
    (register,) = auth.hits("register")
    assert "redirect_uris" not in register["json"]
    assert register["json"]["grant_types"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    auth.revoke_all()  # no refresh token: a new assertion
    client.call_tool("whoami")
    first, second = auth.token_requests()
    assert [first["form"]["assertion"], second["form"]["assertion"]] == made
    assert all(r["form"]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" for r in (first, second))
    assert all(r["form"]["resource"] == mcp.url and r["form"]["scope"] == "mcp" for r in (first, second))
    assert auth.hits("authorize") == [] and len(auth.hits("register")) == 1


# --- refusals -------------------------------------------------------------------------------------------------

def _wrong_state(auth):
    # type: (AuthServer) -> Callable[[str], str]
    def authorize(url):
        # type: (str) -> str
        location = auth.follow_once(url)  # a real code...
        return re.sub(r"state=[^&]*", "state=forged", location)  # ...with someone else's state
    return authorize


def _access_denied(auth):
    # type: (AuthServer) -> Callable[[str], str]
    def authorize(url):
        # type: (str) -> str
        query = query_of(url)
        return query["redirect_uri"] + "?" + urllib.parse.urlencode(
            {"error": "access_denied", "error_description": "the user said no", "state": query["state"]})
    return authorize


REFUSALS = {
    # name: (authorization server options, MCP server changes (a function of its URL), the
    # authorize step (a function of the authorization server; None: the browser), a fragment
    # of the message, whether the authorization server may be contacted at all, how many
    # times the authorize step runs)
    "prm-names-another-server": ({}, lambda url: {"resource": url.rsplit("/", 1)[0] + "/other/mcp"},
                                 None, "names", False, 0),
    "prm-names-another-port": ({}, lambda url: {"resource": "http://127.0.0.1:1/mcp"}, None, "names", False, 0),
    "metadata-issuer-mismatch": ({"metadata_issuer": "http://127.0.0.1:1/elsewhere"}, None, None, "issuer", True, 0),
    "no-pkce-methods": ({"pkce_methods": None}, None, None, "PKCE", True, 0),
    "plain-pkce-only": ({"pkce_methods": ["plain"]}, None, None, "PKCE", True, 0),
    "iss-wrong": ({"iss_supported": True, "iss": "wrong"}, None, None, "issuer", True, 1),
    "iss-missing-when-advertised": ({"iss_supported": True, "iss": "missing"}, None, None, "no iss", True, 1),
    "iss-wrong-not-advertised": ({"iss": "wrong"}, None, None, "issuer", True, 1),
    "wrong-state": ({}, None, _wrong_state, "state", True, 1),
    "access-denied": ({}, None, _access_denied, "access_denied", True, 1),
    "non-loopback-http-authorization-server": (
        {}, lambda url: {"authorization_servers": ["http://auth.example.com"]}, None, "https", False, 0),
    "non-loopback-http-authorization-endpoint": (
        {"metadata_overrides": {"authorization_endpoint": "http://login.example.com/authorize"}}, None, None,
        "https", True, 0),
}


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refusals_stop_before_any_token_request(auth_server, mcp_server, connect, name, era):
    as_options, mcp_changes, make_authorize, fragment, contacted, authorize_calls = REFUSALS[name]
    auth = auth_server(**as_options)
    mcp = mcp_server(auth.verify, [auth.issuer])
    if mcp_changes is not None:
        # What the refusal is about depends on the MCP server's own URL, known once it runs.
        changes = mcp_changes(mcp.url)
        if "resource" in changes:
            mcp.auth.resource = changes["resource"]
        if "authorization_servers" in changes:
            mcp.auth.authorization_servers = changes["authorization_servers"]
    calls = []  # type: List[str]
    inner = make_authorize(auth) if make_authorize is not None else auth.follow_once

    def authorize(url):
        # type: (str) -> str
        calls.append(url)
        return inner(url)
    started = time.monotonic()
    with pytest.raises(AuthorizationError) as caught:
        connect(mcp.url, auth=oauth(auth, authorize=authorize), era=era)
    assert time.monotonic() - started < WAIT
    assert fragment in caught.value.message
    assert caught.value.status == 401
    assert auth.token_requests() == [], "a token request was sent after a refusal"
    assert len(calls) == authorize_calls
    if authorize_calls == 0:
        assert auth.hits("authorize") == []
    if not contacted:
        assert auth.hits() == [], "the authorization server was contacted: %r" % auth.paths()
    # The MCP server never saw a token.
    assert all("authorization" not in e["headers"] for e in mcp.since())


def test_a_non_loopback_http_token_endpoint_is_refused(protected, connect):
    auth, mcp = protected(metadata_overrides={"token_endpoint": "http://login.example.com/token"})
    with pytest.raises(AuthorizationError) as caught:
        connect(mcp.url, auth=oauth(auth), era="modern")
    assert "https" in caught.value.message and "token endpoint" in caught.value.message
    assert auth.token_requests() == []


@pytest.mark.parametrize("advertised", [True, None], ids=["advertised", "not-advertised"])
def test_a_right_iss_is_accepted(protected, connect, advertised):
    auth, mcp = protected(iss_supported=advertised, iss="right")
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    assert len(auth.token_requests("authorization_code")) == 1


@pytest.mark.parametrize("era", ERAS + ["auto"])
def test_without_auth_a_401_raises_http_error_at_once(protected, connect, era):
    auth, mcp = protected()
    started = time.monotonic()
    with pytest.raises(HttpError) as caught:
        connect(mcp.url, era=era, timeout=30.0, probe_timeout=30.0)
    assert time.monotonic() - started < 2.0
    error = caught.value
    assert error.status == 401
    assert error.www_authenticate is not None and error.www_authenticate.startswith("Bearer ")
    assert 'resource_metadata="%s"' % mcp.auth.metadata_url("/mcp") in error.www_authenticate
    assert auth.hits() == []
    assert len([e for e in mcp.since() if e["method"] == "POST"]) == 1  # not sent again


# --- after the first token: refresh, re-authorization, step-up ------------------------------------------

@pytest.mark.parametrize("era", ERAS)
def test_a_refused_token_is_refreshed_without_a_second_sign_in(protected, connect, era):
    auth, mcp = protected()
    client = connect(mcp.url, auth=oauth(auth), era=era)
    first = text_of(client.call_tool("whoami")).split(" ")[0]
    (code_grant,) = auth.token_requests("authorization_code")
    issued_refresh = [rt for rt in auth.refresh][0]
    auth.revoke_all()
    mark = mcp.mark()
    second = text_of(client.call_tool("whoami")).split(" ")[0]
    assert second != first and second in auth.tokens
    assert len(auth.hits("authorize")) == 1 and len(auth.hits("register")) == 1
    (refresh,) = auth.token_requests("refresh_token")
    assert refresh["form"]["refresh_token"] == issued_refresh
    assert refresh["form"]["resource"] == mcp.url == code_grant["form"]["resource"]
    assert refresh["form"]["client_id"] == code_grant["form"]["client_id"]
    # The server said invalid_token; the client found the metadata again, then retried.
    calls = [e for e in mcp.since(mark) if e["path"] == "/mcp"]
    assert calls[0]["status"] == 401 and 'error="invalid_token"' in calls[0]["www_authenticate"]
    assert calls[0]["headers"]["authorization"] == "Bearer " + first
    assert calls[-1]["status"] == 200 and calls[-1]["headers"]["authorization"] == "Bearer " + second
    assert "/.well-known/oauth-protected-resource/mcp" in [e["path"] for e in mcp.since(mark)]


def test_a_refused_refresh_means_signing_in_again(protected, connect):
    auth, mcp = protected()
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    client.call_tool("whoami")
    auth.revoke_all()
    auth.refresh.clear()  # the refresh token is no good either
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    assert [r["form"]["grant_type"] for r in auth.token_requests()] == [
        "authorization_code", "refresh_token", "authorization_code"]
    assert len(auth.hits("authorize")) == 2
    assert len(auth.hits("register")) == 1  # the registration is kept


def test_without_a_refresh_token_a_refused_token_means_signing_in_again(protected, connect):
    auth, mcp = protected(refresh_tokens=False)
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    client.call_tool("whoami")
    auth.revoke_all()
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    assert auth.token_requests("refresh_token") == []
    assert len(auth.hits("authorize")) == 2


def test_a_server_that_refuses_every_token_ends_in_authorization_error(auth_server, mcp_server, connect):
    auth = auth_server()
    mcp = mcp_server(lambda token: None, [auth.issuer])  # nothing the AS issues is good here
    calls = []  # type: List[str]

    def authorize(url):
        # type: (str) -> str
        calls.append(url)
        return auth.follow_once(url)
    started = time.monotonic()
    with pytest.raises(AuthorizationError) as caught:
        connect(mcp.url, auth=oauth(auth, authorize=authorize, max_authorizations=3), era="modern")
    assert time.monotonic() - started < WAIT
    assert caught.value.status == 401
    assert 1 <= len(calls) <= 3
    assert 1 <= len(auth.token_requests()) <= 3


@pytest.mark.parametrize("era", ERAS)
def test_step_up_asks_for_the_union_of_scopes(protected, connect, era):
    auth, mcp = protected()
    client = connect(mcp.url, auth=oauth(auth), era=era)
    assert text_of(client.call_tool("whoami")).split(" ", 1)[1] == "mcp"
    mark = mcp.mark()
    assert text_of(client.call_tool("admin_tool")) == "admin ok"
    first, second = auth.hits("authorize")
    assert first["query"]["scope"] == "mcp"
    assert sorted(second["query"]["scope"].split()) == ["admin", "mcp"]
    assert second["query"]["resource"] == mcp.url
    refused = [e for e in mcp.since(mark) if e["status"] == 403]
    assert len(refused) == 1 and 'error="insufficient_scope"' in refused[0]["www_authenticate"]
    assert auth.token_requests("refresh_token") == []  # a step-up is a new authorization
    assert text_of(client.call_tool("whoami")).split(" ", 1)[1] == "admin mcp"


def test_step_up_is_refused_when_the_scopes_were_already_asked_for(protected, connect):
    auth, mcp = protected()
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    client.call_tool("whoami")
    with pytest.raises(AuthorizationError) as caught:
        client.call_tool("never_enough")
    assert caught.value.status == 403
    assert "already asked" in caught.value.message
    # One step-up (mcp -> admin mcp), then no more.
    assert len(auth.hits("authorize")) == 2
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"  # the client still works


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_step_up_is_bounded_by_max_authorizations(protected, connect, limit):
    auth, mcp = protected()
    client = connect(mcp.url, auth=oauth(auth, max_authorizations=limit), era="modern")
    client.call_tool("whoami")
    before = len(auth.hits("authorize"))
    with pytest.raises(AuthorizationError) as caught:
        client.call_tool("ever_more")  # a new scope every time
    assert caught.value.status == 403
    assert len(auth.hits("authorize")) - before == limit


def test_a_403_without_insufficient_scope_is_not_an_authorization_question(protected, connect):
    auth, mcp = protected()
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    client.call_tool("whoami")
    with pytest.raises(HttpError) as caught:
        client.call_tool("forbidden")
    assert caught.value.status == 403 and not isinstance(caught.value, AuthorizationError)
    assert len(auth.hits("authorize")) == 1


def test_a_new_authorization_server_starts_from_scratch(auth_server, mcp_server, connect):
    old = auth_server()
    new = auth_server(issuer_path="/new")

    def verify(token):
        # type: (str) -> Any
        return old.verify(token) or new.verify(token)
    mcp = mcp_server(verify, [old.issuer])

    def authorize(url):
        # type: (str) -> str
        return (new if url.startswith(new.issuer + "/") else old).follow_once(url)
    client = connect(mcp.url, auth=oauth(old, authorize=authorize), era="modern")
    client.call_tool("whoami")
    old_client_id = old.hits("authorize")[0]["query"]["client_id"]
    mcp.auth.authorization_servers = [new.issuer]
    old.revoke_all()
    old_requests = len(old.hits())
    token = text_of(client.call_tool("whoami")).split(" ")[0]
    assert token in new.tokens
    assert len(old.hits()) == old_requests, "the old authorization server was asked again"
    assert new.token_requests("refresh_token") == []  # the old refresh token never went to the new one
    assert len(new.hits("register")) == 1 and len(new.hits("authorize")) == 1
    assert new.hits("authorize")[0]["query"]["client_id"] != old_client_id
    assert new.hits("authorize")[0]["query"]["resource"] == mcp.url


# --- concurrency ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fresh", [False, True], ids=["same-client", "fresh-client"])
@pytest.mark.parametrize("refresh_tokens", [True, False], ids=["refresh", "sign-in"])
def test_concurrent_refusals_lead_to_one_new_authorization(protected, connect, refresh_tokens, fresh):
    auth, mcp = protected(refresh_tokens=refresh_tokens)
    calls = []  # type: List[str]
    lock = threading.Lock()

    def authorize(url):
        # type: (str) -> str
        with lock:
            calls.append(url)
        time.sleep(0.05)  # a person is slower than a thread
        return auth.follow_once(url)
    storage = MemoryTokenStorage()
    client = connect(mcp.url, auth=oauth(auth, authorize=authorize, storage=storage), era="modern")
    client.call_tool("whoami")
    assert len(calls) == 1
    if fresh:
        # A new client (and OAuth) that found the token in the storage: nothing called yet.
        client = connect(mcp.url, auth=oauth(auth, authorize=authorize, storage=storage), era="modern")
        assert len(calls) == 1
    auth.revoke_all()
    barrier = threading.Barrier(8)
    results = []  # type: List[Any]

    def call():
        # type: () -> None
        barrier.wait(WAIT)
        try:
            results.append(text_of(client.call_tool("whoami")))
        except Exception as exc:  # reported below
            results.append(exc)
    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(3 * WAIT)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == 8 and all(isinstance(r, str) for r in results), results
    assert len({r.split(" ")[0] for r in results}) == 1  # everyone got the same new token
    if refresh_tokens:
        assert len(auth.token_requests("refresh_token")) == 1
        assert len(calls) == 1
    else:
        assert len(calls) == 2
        assert len(auth.token_requests("authorization_code")) == 2


# --- token storage ------------------------------------------------------------------------------------------

def test_file_token_storage_is_private_and_reused_by_a_second_client(protected, connect, tmp_path):
    auth, mcp = protected(expires_in=600)
    path = str(tmp_path / "tokens.json")
    first = connect(mcp.url, auth=oauth(auth, storage=FileTokenStorage(path)), era="modern")
    token = text_of(first.call_tool("whoami")).split(" ")[0]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, encoding="utf-8") as handle:
        saved = json.load(handle)
    stored = saved["tokens " + mcp.url]
    assert stored["access_token"] == token and stored["refresh_token"] in auth.refresh
    assert stored["issuer"] == auth.issuer
    assert abs(stored["expires_at"] - (time.time() + 600)) < 30
    assert saved["client " + auth.issuer]["client_id"].startswith("dyn-")
    assert sorted(os.listdir(str(tmp_path))) == ["tokens.json", "tokens.json.lock"]  # no temporary file left

    requests_before = len(auth.hits())
    mark = mcp.mark()
    second = connect(mcp.url, auth=OAuth(storage=FileTokenStorage(path), authorize=never_authorize,
                                         redirect_uri=REDIRECT), era="modern")
    assert text_of(second.call_tool("whoami")).split(" ")[0] == token
    assert len(auth.hits()) == requests_before, "the second client went to the authorization server"
    posts = [e for e in mcp.since(mark) if e["method"] == "POST"]
    assert posts and all(e["status"] == 200 and e["headers"]["authorization"] == "Bearer " + token for e in posts)


def test_file_token_storage_stays_private_over_a_leftover_temporary_file(tmp_path):
    path = str(tmp_path / "tokens.json")
    leftover = "%s.%d.tmp" % (path, os.getpid())
    with open(leftover, "w") as handle:
        handle.write("{}")
    os.chmod(leftover, 0o644)
    FileTokenStorage(path).set("tokens x", {"access_token": "secret"})
    assert FileTokenStorage(path).get("tokens x") == {"access_token": "secret"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_clients_sharing_a_token_file_refresh_once(protected, connect, tmp_path):
    auth, mcp = protected()
    path = str(tmp_path / "tokens.json")
    first = connect(mcp.url, auth=oauth(auth, storage=FileTokenStorage(path)), era="modern")
    second = connect(mcp.url, auth=OAuth(storage=FileTokenStorage(path), authorize=never_authorize,
                                         redirect_uri=REDIRECT), era="modern")
    token = text_of(first.call_tool("whoami")).split(" ")[0]
    assert text_of(second.call_tool("whoami")).split(" ")[0] == token
    auth.revoke_all()
    renewed = text_of(first.call_tool("whoami")).split(" ")[0]
    assert renewed != token
    # The second client's token is refused; the file has a newer one, which it takes.
    assert text_of(second.call_tool("whoami")).split(" ")[0] == renewed
    assert len(auth.token_requests("refresh_token")) == 1
    assert len(auth.hits("authorize")) == 1


def test_two_file_token_storages_for_one_file_do_not_lose_entries(tmp_path):
    path = str(tmp_path / "tokens.json")
    errors = []  # type: List[BaseException]

    def write(prefix):
        # type: (str) -> None
        storage = FileTokenStorage(path)
        for number in range(40):
            try:
                storage.set("tokens %s%d" % (prefix, number), {"access_token": prefix})
            except Exception as exc:
                errors.append(exc)
    threads = [threading.Thread(target=write, args=(prefix,)) for prefix in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    reader = FileTokenStorage(path)
    missing = [(p, n) for p in "abcd" for n in range(40) if reader.get("tokens %s%d" % (p, n)) is None]
    assert missing == []


def test_file_token_storage_ignores_a_broken_file(tmp_path):
    path = str(tmp_path / "tokens.json")
    with open(path, "w") as handle:
        handle.write("not json")
    storage = FileTokenStorage(path)
    assert storage.get("tokens x") is None
    storage.set("tokens x", {"access_token": "a"})
    storage.set("other", {"v": 1})
    storage.set("other", None)
    assert FileTokenStorage(path).get("tokens x") == {"access_token": "a"}
    assert FileTokenStorage(path).get("other") is None


def test_memory_token_storage_is_the_default_and_can_be_shared(protected, connect):
    auth, mcp = protected(expires_in=None)
    first_auth = oauth(auth)
    assert isinstance(first_auth.storage, MemoryTokenStorage)
    first = connect(mcp.url, auth=first_auth, era="modern")
    token = text_of(first.call_tool("whoami")).split(" ")[0]
    stored = first_auth.storage.get("tokens " + mcp.url)
    assert stored is not None and stored["access_token"] == token and "expires_at" not in stored
    stored["access_token"] = "changed"  # a copy: the storage is not changed under it
    assert first_auth.storage.get("tokens " + mcp.url)["access_token"] == token

    shared = connect(mcp.url, auth=OAuth(storage=first_auth.storage, authorize=never_authorize,
                                         redirect_uri=REDIRECT), era="modern")
    assert text_of(shared.call_tool("whoami")).split(" ")[0] == token
    assert len(auth.hits("authorize")) == 1
    separate = connect(mcp.url, auth=oauth(auth), era="modern")  # its own (new) memory storage
    assert text_of(separate.call_tool("whoami")).split(" ")[0] != token
    assert len(auth.hits("authorize")) == 2


# --- the terminal authorizer --------------------------------------------------------------------------------

class Browser:
    """Stands in for sys.stderr: when the authorizer prints its URL, a thread plays the
    browser - it signs in at the authorization server and follows the redirect to the
    authorizer's callback."""

    def __init__(self, real):
        # type: (Any) -> None
        self.real = real
        self.printed = []  # type: List[str]
        self.callbacks = []  # type: List[Any]
        self.threads = []  # type: List[threading.Thread]

    def write(self, text):
        # type: (str) -> int
        self.printed.append(text)
        for url in re.findall(r"https?://\S+", text):
            thread = threading.Thread(target=self._browse, args=(url,), daemon=True)
            self.threads.append(thread)
            thread.start()
        return len(text)

    def flush(self):
        # type: () -> None
        pass

    def _browse(self, url):
        # type: (str) -> None
        import http.client
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT)
        conn.request("GET", parts.path + "?" + parts.query)
        response = conn.getresponse()
        response.read()
        location = response.getheader("Location")
        conn.close()
        target = urllib.parse.urlsplit(location)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=WAIT)
        conn.request("GET", target.path + "?" + target.query)
        answer = conn.getresponse()
        self.callbacks.append((location, answer.status, answer.read()))
        conn.close()


def test_terminal_authorizer_catches_the_redirect_on_loopback(protected, connect, monkeypatch):
    auth, mcp = protected()
    terminal = TerminalAuthorizer(open_browser=False, timeout=WAIT)
    browser = Browser(sys.stderr)
    monkeypatch.setattr(sys, "stderr", browser)
    client = connect(mcp.url, auth=OAuth(authorize=terminal), era="modern")
    assert text_of(client.call_tool("add", {"a": 2, "b": 2})) == "4"
    for thread in browser.threads:
        thread.join(WAIT)
    redirect = "http://127.0.0.1:%d/callback" % terminal.port
    (register,) = auth.hits("register")
    assert register["json"]["redirect_uris"] == [redirect]
    (authorize,) = auth.hits("authorize")
    assert authorize["query"]["redirect_uri"] == redirect
    assert any(authorize["query"]["state"] in line and "/authorize?" in line for line in browser.printed)
    ((location, status, page),) = browser.callbacks
    assert location.startswith(redirect + "?") and status == 200 and b"Signed in" in page
    assert auth.token_requests()[0]["form"]["redirect_uri"] == redirect
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", terminal.port), timeout=1).close()  # it listens no more

    # A step-up signs in again through the same callback (the registration names it).
    assert text_of(client.call_tool("admin_tool")) == "admin ok"
    for thread in browser.threads:
        thread.join(WAIT)
    assert [r["query"]["redirect_uri"] for r in auth.hits("authorize")] == [redirect, redirect]
    assert len(browser.callbacks) == 2 and browser.callbacks[1][1] == 200
    assert len(auth.hits("register")) == 1
    assert terminal.redirect_uri == redirect
    with pytest.raises(ConnectionRefusedError):  # reading it does not listen
        socket.create_connection(("127.0.0.1", terminal.port), timeout=1).close()


def test_terminal_authorizer_does_not_keep_listening_after_a_refresh(protected, connect, monkeypatch):
    auth, mcp = protected()
    terminal = TerminalAuthorizer(open_browser=False, timeout=WAIT)
    browser = Browser(sys.stderr)
    monkeypatch.setattr(sys, "stderr", browser)
    client = connect(mcp.url, auth=OAuth(authorize=terminal), era="modern")
    client.call_tool("whoami")
    auth.revoke_all()
    client.call_tool("whoami")
    assert len(auth.token_requests("refresh_token")) == 1 and len(browser.callbacks) == 1
    try:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", terminal.port), timeout=1).close()
    finally:
        if terminal._server is not None:  # (the leaked listener, closed for the next tests)
            terminal._server.server_close()


def test_terminal_authorizer_gives_up_after_its_timeout(monkeypatch):
    terminal = TerminalAuthorizer(open_browser=False, timeout=0.5)
    printed = []  # type: List[str]

    class Quiet:
        def write(self, text):
            # type: (str) -> int
            printed.append(text)
            return len(text)

        def flush(self):
            # type: () -> None
            pass
    monkeypatch.setattr(sys, "stderr", Quiet())
    started = time.monotonic()
    with pytest.raises(AuthorizationError):
        terminal("http://127.0.0.1:9/authorize?state=x")
    assert time.monotonic() - started < 3.0
    assert "http://127.0.0.1:9/authorize?state=x" in "".join(printed)


def test_terminal_authorizer_is_not_held_by_an_idle_connection(monkeypatch):
    terminal = TerminalAuthorizer(open_browser=False, timeout=1.0)

    class Quiet:
        def write(self, text):
            # type: (str) -> int
            return len(text)

        def flush(self):
            # type: () -> None
            pass
    monkeypatch.setattr(sys, "stderr", Quiet())
    assert terminal.redirect_uri.startswith("http://127.0.0.1:")  # the port, chosen (nothing listens yet)
    outcome = []  # type: List[Any]

    def run():
        # type: () -> None
        try:
            outcome.append(terminal("http://127.0.0.1:9/authorize?state=x"))
        except (MCPError, TransportError) as exc:
            outcome.append(exc)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    idle = None
    deadline = time.monotonic() + 1.0
    while idle is None and time.monotonic() < deadline:
        try:  # a browser's preconnect, once the sign-in listens: it sends nothing
            idle = socket.create_connection(("127.0.0.1", terminal.port))
        except ConnectionRefusedError:
            time.sleep(0.01)
    assert idle is not None
    try:
        thread.join(4.0)
        assert not thread.is_alive(), "still waiting long after its 1 s timeout"
        assert isinstance(outcome[0], AuthorizationError)
    finally:
        idle.close()
        thread.join(WAIT)


# --- extensions: private_key_jwt, DPoP, enterprise-managed authorization ------------------------------

from mcplite.es256 import ES256Key, jwk_thumbprint, jws_verify  # noqa: E402
from oauth_support import ID_JAG, ID_TOKEN, TOKEN_EXCHANGE, check_dpop_proof, jwt_parts  # noqa: E402

JWT_CLIENT = "machine-7"


def b64url_sha256_of(text):
    # type: (str) -> str
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def assertion_claims(request, key):
    # type: (Dict[str, Any], ES256Key) -> Dict[str, Any]
    """The client assertion of a token request, its signature checked with ``key``."""
    form = request["form"]
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    token = form["client_assertion"]
    head, body, signature = token.split(".")
    from mcplite.es256 import verify
    assert verify(key.public_jwk(), (head + "." + body).encode("ascii"),
                  base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    header, claims = jwt_parts(token)
    assert header["alg"] == "ES256"
    return claims


def test_private_key_jwt_client_credentials(protected, connect):
    key = ES256Key.generate()
    auth, mcp = protected(jwt_clients={JWT_CLIENT: key.public_jwk()}, auth_methods=["private_key_jwt"])
    client = connect(mcp.url, auth=OAuth(grant="client_credentials", client_id=JWT_CLIENT, private_key=key,
                                         authorize=never_authorize), era="modern")
    assert text_of(client.call_tool("whoami")).split(" ", 1)[1] == "mcp"
    auth.revoke_all()  # a new token: a new assertion (the server refuses a replayed jti)
    client.call_tool("whoami")
    first, second = auth.token_requests("client_credentials")
    for request in (first, second):
        assert request["client_auth"] == (JWT_CLIENT, None, "private_key_jwt")
        assert "client_secret" not in request["form"] and "authorization" not in request["headers"]
        assert request["form"]["client_id"] == JWT_CLIENT
    claims = [assertion_claims(request, key) for request in (first, second)]
    for one in claims:
        # RFC 7523 §3: iss = sub = client_id; aud the authorization server (its issuer).
        assert (one["iss"], one["sub"], one["aud"]) == (JWT_CLIENT, JWT_CLIENT, auth.issuer)
        assert 0 < one["exp"] - one["iat"] <= 60 and abs(one["iat"] - time.time()) < 30
    assert claims[0]["jti"] != claims[1]["jti"]


def test_private_key_jwt_from_a_pem_file_for_a_pre_registered_sign_in(protected, connect, tmp_path):
    openssl = __import__("shutil").which("openssl")
    if openssl is None:
        (pytest.fail if os.environ.get("MCPLITE_REQUIRE_INTEROP") else pytest.skip)("no openssl command line")
    import subprocess
    pem_path = str(tmp_path / "client.pem")
    subprocess.run([openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pem_path],
                   check=True, capture_output=True, timeout=30)
    with open(pem_path) as handle:
        pem = handle.read()
    key = ES256Key.from_pem(pem)
    auth, mcp = protected(jwt_clients={JWT_CLIENT: key.public_jwk()}, auth_methods=["private_key_jwt"])
    client = connect(mcp.url, auth=oauth(auth, client_id=JWT_CLIENT, private_key=pem), era="legacy")
    assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"]["result"] == 3
    (request,) = auth.token_requests("authorization_code")
    assert request["client_auth"] == (JWT_CLIENT, None, "private_key_jwt")
    assert assertion_claims(request, key)["aud"] == auth.issuer


def test_private_key_jwt_is_refused_where_es256_is_not_taken(protected, connect):
    key = ES256Key.generate()
    auth, mcp = protected(jwt_clients={JWT_CLIENT: key.public_jwk()},
                          metadata_overrides={"token_endpoint_auth_signing_alg_values_supported": ["RS256"]})
    with pytest.raises(AuthorizationError, match="ES256"):
        connect(mcp.url, auth=OAuth(grant="client_credentials", client_id=JWT_CLIENT, private_key=key),
                era="modern").call_tool("whoami")
    assert auth.token_requests() == []


def test_private_key_needs_a_client_id_and_a_key():
    with pytest.raises(ValueError, match="client_id"):
        OAuth(grant="client_credentials", private_key=ES256Key.generate())
    with pytest.raises(ValueError):
        OAuth(client_id="x", private_key="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")


def dpop_tokens(auth):
    # type: (Any) -> List[Dict[str, Any]]
    return [r for r in auth.token_requests() if "dpop" in r]


@pytest.mark.parametrize("era", ERAS)
def test_dpop_binds_the_token_and_proves_every_request(protected, connect, era):
    auth, mcp = protected(mcp_options={"dpop": True}, dpop=True)
    client = connect(mcp.url, auth=oauth(auth, dpop=True), era=era)
    token = text_of(client.call_tool("whoami")).split(" ", 1)[0]
    client.call_tool("add", {"a": 2, "b": 3})
    client.close()
    # The token request carried a valid proof (no ath), and the token is bound to its key.
    (request,) = auth.token_requests("authorization_code")
    assert request["dpop"]["problem"] is None
    proof_claims = request["dpop"]["claims"]
    assert (proof_claims["htm"], proof_claims["htu"]) == ("POST", auth.issuer + "/token")
    assert "ath" not in proof_claims and "nonce" not in proof_claims
    assert auth.dpop_bound[token] == jwk_thumbprint(request["dpop"]["header"]["jwk"])
    # Every request to the MCP server with the token: the DPoP scheme and a good proof of its own.
    tokened = [e for e in mcp.since() if e["headers"].get("authorization")]
    assert tokened and all(e["headers"]["authorization"] == "DPoP " + token for e in tokened)
    assert len(mcp.proofs) == len(tokened)
    assert [p["problem"] for p in mcp.proofs] == [None] * len(mcp.proofs)
    jtis = [p["claims"]["jti"] for p in mcp.proofs]
    assert len(set(jtis)) == len(jtis), "a proof was sent twice"
    methods = {p["method"] for p in mcp.proofs}
    assert methods >= {"POST"} and (era == "modern" or methods == {"POST", "GET", "DELETE"})
    for proof in mcp.proofs:
        assert proof["claims"]["ath"] == b64url_sha256_of(token) and proof["claims"]["htu"] == mcp.url
        assert set(proof["header"]["jwk"]) == {"kty", "crv", "x", "y"}


def test_dpop_nonces_of_the_authorization_and_the_resource_server(protected, connect):
    auth, mcp = protected(mcp_options={"dpop": True, "dpop_nonce": "rs-nonce-1"}, dpop=True, dpop_nonce="as-nonce-1")
    client = connect(mcp.url, auth=oauth(auth, dpop=True), era="modern")
    client.call_tool("whoami")
    client.call_tool("whoami")
    # The token endpoint: refused once for its nonce, then the same code with a new proof carrying it.
    first, second = auth.token_requests("authorization_code")
    assert "nonce" not in first["dpop"]["claims"] and second["dpop"]["claims"]["nonce"] == "as-nonce-1"
    assert first["dpop"]["claims"]["jti"] != second["dpop"]["claims"]["jti"]
    assert first["form"]["code"] == second["form"]["code"]
    # The MCP server: the first tokened request refused with use_dpop_nonce, the rest carry its nonce.
    nonces = [p["claims"].get("nonce") for p in mcp.proofs]
    assert nonces[0] is None and nonces[1:] and set(nonces[1:]) == {"rs-nonce-1"}
    assert [p["problem"] for p in mcp.proofs] == [None] * len(nonces)
    assert auth.hits("authorize") and len(auth.hits("authorize")) == 1  # a nonce is not a new sign-in


def test_a_resource_server_never_satisfied_with_its_nonce_ends_in_authorization_error(protected, connect):
    auth, mcp = protected(mcp_options={"dpop": True, "dpop_nonce": "n", "dpop_nonce_never_accepted": True}, dpop=True)
    with pytest.raises(AuthorizationError, match="use_dpop_nonce"):
        connect(mcp.url, auth=oauth(auth, dpop=True), era="modern").call_tool("whoami")
    # Once without the nonce, once with it: no loop.
    assert [p["claims"].get("nonce") for p in mcp.proofs] == [None, "n"]


def test_an_authorization_server_refusing_its_own_nonce_is_asked_only_twice(protected, connect):
    auth, mcp = protected(mcp_options={"dpop": True}, dpop=True, dpop_nonce="as")
    auth.dpop_nonce = "changes"  # the nonce it names is never the one it accepts
    original = auth._dpop_check

    def check(handler, record):
        # type: (Any, Dict[str, Any]) -> Any
        auth.dpop_nonce = "want-%d" % len(auth.token_requests())
        return original(handler, record)
    auth._dpop_check = check
    with pytest.raises(AuthorizationError, match="use_dpop_nonce"):
        connect(mcp.url, auth=oauth(auth, dpop=True), era="modern").call_tool("whoami")
    assert len(auth.token_requests("authorization_code")) == 2


@pytest.mark.parametrize("opt_in, advertised", [(False, True), (True, False)], ids=["not-asked", "not-offered"])
def test_dpop_only_when_asked_for_and_offered(protected, connect, opt_in, advertised):
    auth, mcp = protected(mcp_options={"dpop": True}, dpop=advertised)
    client = connect(mcp.url, auth=oauth(auth, dpop=opt_in), era="modern")
    token = text_of(client.call_tool("whoami")).split(" ", 1)[0]
    (request,) = auth.token_requests("authorization_code")
    assert "dpop" not in request["headers"]
    assert token not in auth.dpop_bound
    tokened = [e for e in mcp.since() if e["headers"].get("authorization")]
    assert tokened and all(e["headers"]["authorization"] == "Bearer " + token and "dpop" not in e["headers"]
                           for e in tokened)


def test_dpop_refresh_carries_a_proof_and_the_key_is_kept_with_the_tokens(protected, connect, tmp_path):
    auth, mcp = protected(mcp_options={"dpop": True}, dpop=True)
    path = str(tmp_path / "tokens.json")
    client = connect(mcp.url, auth=oauth(auth, dpop=True, storage=FileTokenStorage(path)), era="modern")
    client.call_tool("whoami")
    auth.revoke_all()
    token = text_of(client.call_tool("whoami")).split(" ", 1)[0]
    (refresh,) = auth.token_requests("refresh_token")
    assert refresh["dpop"]["problem"] is None
    key_of_first = jwk_thumbprint(auth.token_requests("authorization_code")[0]["dpop"]["header"]["jwk"])
    assert jwk_thumbprint(refresh["dpop"]["header"]["jwk"]) == key_of_first == auth.dpop_bound[token]
    client.close()
    # Another OAuth (another run) with the same file: the stored token, proved with the stored key.
    mark = mcp.mark()
    again = connect(mcp.url, auth=oauth(auth, dpop=True, storage=FileTokenStorage(path), authorize=never_authorize),
                    era="modern")
    assert text_of(again.call_tool("whoami")).split(" ", 1)[0] == token
    assert len(auth.token_requests()) == 2
    assert all(e["status"] != 401 for e in mcp.since(mark))


def test_dpop_proof_is_checked_by_the_test_servers_themselves():
    """The checker the tests rely on refuses what it must (so the tests above can fail)."""
    from mcplite.es256 import jws
    key = ES256Key.generate()
    good = {"jti": "j" * 20, "htm": "POST", "htu": "http://h/mcp", "iat": int(time.time()),
            "ath": b64url_sha256_of("tok")}
    header = {"typ": "dpop+jwt", "jwk": key.public_jwk()}
    jkt = key.thumbprint()
    assert check_dpop_proof(jws(header, good, key), "POST", "http://h/mcp", "tok", jkt)[0] is None
    assert check_dpop_proof(jws(header, good, key), "GET", "http://h/mcp", "tok", jkt)[0]
    assert check_dpop_proof(jws(header, good, key), "POST", "http://h/other", "tok", jkt)[0]
    assert check_dpop_proof(jws(header, good, key), "POST", "http://h/mcp", "other-token", jkt)[0]
    assert check_dpop_proof(jws(header, good, key), "POST", "http://h/mcp", "tok", ES256Key.generate().thumbprint())[0]
    assert check_dpop_proof(jws(header, dict(good, iat=1), key), "POST", "http://h/mcp", "tok", jkt)[0]
    assert check_dpop_proof(jws(dict(header, typ="JWT"), good, key), "POST", "http://h/mcp", "tok", jkt)[0]
    other = jws({"typ": "dpop+jwt", "jwk": ES256Key.generate().public_jwk()}, good, key)
    assert check_dpop_proof(other, "POST", "http://h/mcp", "tok", jkt)[0]


IDP_CLIENT = "idp-client-3"
ID_TOKEN_VALUE = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"


@pytest.mark.parametrize("era", ERAS)
def test_enterprise_managed_authorization_exchanges_the_id_token_for_an_id_jag(auth_server, mcp_server, connect, era):
    idp = auth_server(clients={IDP_CLIENT: None}, idp_id_tokens=[ID_TOKEN_VALUE])
    auth = auth_server(clients={CLIENT_ID: CLIENT_SECRET}, jag_issuer=idp, auth_methods=["client_secret_basic"])
    mcp = mcp_server(auth.verify, [auth.issuer])
    given = []  # type: List[str]

    def id_token():
        # type: () -> str
        given.append(ID_TOKEN_VALUE)
        return ID_TOKEN_VALUE
    client = connect(mcp.url, auth=OAuth(grant="id_jag", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                         id_token=id_token, idp_token_endpoint=idp.issuer + "/token",
                                         idp_client_id=IDP_CLIENT, authorize=never_authorize), era=era)
    assert text_of(client.call_tool("whoami")).split(" ", 1)[1] == "mcp"
    assert given == [ID_TOKEN_VALUE]
    (exchange,) = idp.token_requests()
    form = exchange["form"]
    assert form["grant_type"] == TOKEN_EXCHANGE
    assert (form["requested_token_type"], form["subject_token_type"]) == (ID_JAG, ID_TOKEN)
    assert (form["audience"], form["resource"], form["subject_token"]) == (auth.issuer, mcp.url, ID_TOKEN_VALUE)
    assert form["client_id"] == IDP_CLIENT and "authorization" not in exchange["headers"]
    (grant,) = auth.token_requests()
    assert grant["form"]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert grant["form"]["assertion"] in idp.jags
    assert grant["client_auth"] == (CLIENT_ID, CLIENT_SECRET, "client_secret_basic")
    assert auth.hits("register") == [] and auth.hits("authorize") == []


def test_enterprise_managed_authorization_refuses_what_is_not_an_id_jag(auth_server, mcp_server, connect):
    idp = auth_server(clients={IDP_CLIENT: "idp-secret"}, idp_id_tokens=[ID_TOKEN_VALUE],
                      issued_token_type="urn:ietf:params:oauth:token-type:access_token")
    auth = auth_server(clients={CLIENT_ID: CLIENT_SECRET}, jag_issuer=idp)
    mcp = mcp_server(auth.verify, [auth.issuer])
    with pytest.raises(AuthorizationError, match="not an ID-JAG"):
        connect(mcp.url, auth=OAuth(grant="id_jag", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                    id_token=ID_TOKEN_VALUE, idp_token_endpoint=idp.issuer + "/token",
                                    idp_client_id=IDP_CLIENT, idp_client_secret="idp-secret"),
                era="modern").call_tool("whoami")
    (exchange,) = idp.token_requests()
    assert exchange["client_auth"] == (IDP_CLIENT, "idp-secret", "client_secret_basic")
    assert auth.token_requests() == []


def test_enterprise_managed_authorization_needs_its_idp_settings():
    with pytest.raises(ValueError, match="id_jag"):
        OAuth(grant="id_jag", client_id="c", client_secret="s", id_token="t")
    with pytest.raises(AuthorizationError):
        OAuth(grant="id_jag", client_id="c", id_token="t", idp_client_id="i",
              idp_token_endpoint="http://idp.example/token")  # not https, not loopback


def test_the_old_http_sse_transport_gets_the_oauths_headers_on_every_request():
    """2024-11-05 HTTP+SSE: the GET stream and each POST carry what the OAuth makes for
    that request (a DPoP proof is per request: its method and URL)."""
    from mcplite import Server
    app = Server("old")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Adds"""
        return a + b

    class FakeAuth:
        def __init__(self):
            # type: () -> None
            self.calls = []  # type: List[Any]

        def bind(self, url, fetch):
            # type: (str, Any) -> None
            pass

        def header(self):
            # type: () -> Any
            return 1, "DPoP tok"

        def request_headers(self, method, url):
            # type: (str, str) -> Any
            self.calls.append((method, url))
            return 1, {"Authorization": "DPoP tok", "DPoP": "proof-%d" % len(self.calls)}

        def recover(self, *args):
            # type: (Any) -> bool
            return False

    seen = []  # type: List[Any]
    with app.run_in_thread("http", port=0) as handle:
        inner = handle.app.handle

        def record(req):
            # type: (Any) -> Any
            seen.append((req.method, req.path, req.headers.get("authorization"), req.headers.get("dpop")))
            return inner(req)
        handle.app.handle = record
        url = handle.url.replace("/mcp", "/sse")
        auth = FakeAuth()
        with Client.http(url, timeout=5, auth=auth) as client:
            assert type(client._channel).__name__ == "LegacySseChannel"
            assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"]["result"] == 3
    old = [entry for entry in seen if entry[1] != "/sse" or entry[0] == "GET"]
    assert old and all(entry[2] == "DPoP tok" for entry in old)
    proofs = [entry[3] for entry in old]
    assert len(set(proofs)) == len(proofs)  # one of its own each
    # The Streamable HTTP attempts (POSTs, refused), the GET stream, then the messages' POSTs.
    get = auth.calls.index(("GET", url))
    assert get > 0 and set(auth.calls[:get]) == {("POST", url)}
    assert len(auth.calls) > get + 1 and {method for method, _ in auth.calls[get + 1:]} == {"POST"}
    assert all(target.startswith(handle.url.replace("/mcp", "/messages?session_id="))
               for _, target in auth.calls[get + 1:])


# --- review fixes: DPoP-bound refresh tokens, header failures, challenges, nonces, audiences -----------

def stored_tokens(path):
    # type: (str) -> Dict[str, Any]
    with open(path, encoding="utf-8") as handle:
        items = json.load(handle)
    (key,) = [name for name in items if name.startswith("tokens ")]
    return items[key]


def test_a_bearer_access_token_with_a_dpop_bound_refresh_token_keeps_its_key(protected, connect, tmp_path):
    """RFC 9449 §5: a server may issue a Bearer access token and still bind the (public
    client's) refresh token to the proof's key: the key is kept with the tokens, and every
    refresh - in this OAuth or in another run, from the token file - proves it."""
    auth, mcp = protected(dpop=True, dpop_bearer_access=True)
    path = str(tmp_path / "tokens.json")
    client = connect(mcp.url, auth=oauth(auth, dpop=True, storage=FileTokenStorage(path)), era="modern")
    first = text_of(client.call_tool("whoami")).split(" ", 1)[0]
    assert first not in auth.dpop_bound  # a Bearer token: sent as one, with no proof
    tokened = [e for e in mcp.since() if e["headers"].get("authorization")]
    assert tokened and all(e["headers"]["authorization"] == "Bearer " + first and "dpop" not in e["headers"]
                           for e in tokened)
    (code,) = auth.token_requests("authorization_code")
    jkt = jwk_thumbprint(code["dpop"]["header"]["jwk"])
    stored = stored_tokens(path)
    assert stored.get("token_type") != "DPoP" and ES256Key.from_jwk(stored["dpop_key"]).thumbprint() == jkt
    auth.revoke_all()
    client.call_tool("whoami")
    (refresh,) = auth.token_requests("refresh_token")
    assert refresh["dpop"]["problem"] is None and jwk_thumbprint(refresh["dpop"]["header"]["jwk"]) == jkt
    client.close()
    # Another OAuth (another run) with the same file: the refresh proves the stored key.
    auth.revoke_all()
    again = connect(mcp.url, auth=oauth(auth, dpop=True, storage=FileTokenStorage(path), authorize=never_authorize),
                    era="modern")
    assert text_of(again.call_tool("whoami")).split(" ", 1)[1] == "mcp"
    first_refresh, second_refresh = auth.token_requests("refresh_token")
    assert jwk_thumbprint(second_refresh["dpop"]["header"]["jwk"]) == jkt
    assert len(auth.hits("authorize")) == 1


def write_tokens(path, server_url, tokens):
    # type: (str, str, Dict[str, Any]) -> None
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"tokens " + server_url: tokens}, handle)


@pytest.mark.parametrize("stored", ["corrupt-key", "dpop-without-key", "key-of-another-curve", "crlf-token",
                                    "non-ascii-token"])
def test_stored_tokens_that_cannot_be_used_mean_signing_in_again(protected, connect, tmp_path, stored):
    """A token file whose DPoP key will not load (or a DPoP token without one, or a token
    no header can carry) must not fail every request for ever: those tokens are not used."""
    auth, mcp = protected(mcp_options={"dpop": True}, dpop=True)
    path = str(tmp_path / "tokens.json")
    tokens = {"access_token": "at-old", "token_type": "DPoP", "issuer": auth.issuer,
              "dpop_key": {"kty": "EC", "crv": "P-256", "d": "not base64!"}}  # type: Dict[str, Any]
    if stored == "dpop-without-key":
        del tokens["dpop_key"]
    elif stored == "key-of-another-curve":
        tokens["dpop_key"] = dict(ES256Key.generate().private_jwk(), crv="P-384")
    elif stored == "crlf-token":
        tokens = {"access_token": "at-old\r\nX-Injected: 1", "issuer": auth.issuer}
    elif stored == "non-ascii-token":
        tokens = {"access_token": "at-\u00e9t\u00e9", "issuer": auth.issuer}
    write_tokens(path, mcp.url, tokens)
    started = time.monotonic()
    client = connect(mcp.url, auth=oauth(auth, dpop=True, storage=FileTokenStorage(path)), era="modern",
                     timeout=10.0)
    assert text_of(client.call_tool("add", {"a": 1, "b": 2})) == "3"
    assert time.monotonic() - started < 5.0
    assert len(auth.hits("authorize")) == 1
    assert stored_tokens(path)["access_token"] != tokens["access_token"]


@pytest.mark.parametrize("bad", ["at-\u00e9-", "at-\r\nX-Injected: 1-", "at- ", "=at-"])
@pytest.mark.parametrize("which", ["access", "refresh"])
def test_a_token_that_is_not_an_rfc6750_b64token_is_refused(protected, connect, bad, which):
    """RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
    Anything else could not go in a header (or would inject one): refused at once."""
    options = {"token_prefix": bad} if which == "access" else {"refresh_prefix": bad}
    auth, mcp = protected(**options)
    started = time.monotonic()
    with pytest.raises(AuthorizationError, match="b64token"):
        connect(mcp.url, auth=oauth(auth), era="modern", timeout=10.0).call_tool("whoami")
    assert time.monotonic() - started < 5.0
    authorized = [e for e in mcp.since() if e["headers"].get("authorization")]
    assert authorized == []


def test_dpop_proof_htu_has_no_userinfo_and_brackets_ipv6():
    """htu: "The HTTP target URI ... without query and fragment parts" - and never the
    user:password of a URL (a proof is sent to the server, and may be logged)."""
    key = ES256Key.generate()
    for url, expected in (("https://user:secret@Example.COM:8443/mcp/x?q=1#f", "https://example.com:8443/mcp/x"),
                          ("http://alice@127.0.0.1/mcp", "http://127.0.0.1/mcp"),
                          ("http://[::1]:9000/mcp", "http://[::1]:9000/mcp"),
                          ("https://u:p@[2001:DB8::1]/mcp", "https://[2001:db8::1]/mcp"),
                          ("https://example.com/", "https://example.com/")):
        proof = OAuth._dpop_proof("POST", url, key, "tok")
        header, claims = jws_verify(proof)
        assert claims["htu"] == expected, url
        assert "secret" not in json.dumps(claims) and "alice" not in json.dumps(claims)


def test_a_dpop_challenge_after_a_bearer_one_is_the_one_read(protected, connect):
    """``Bearer error="invalid_token", DPoP error="use_dpop_nonce"``: for a DPoP request the
    DPoP challenge says what is wrong - a nonce, not the token (no refresh, no sign-in)."""
    auth, mcp = protected(mcp_options={"dpop": True, "dpop_nonce": "rs-nonce", "bearer_challenge_first": True},
                          dpop=True)
    client = connect(mcp.url, auth=oauth(auth, dpop=True), era="modern")
    client.call_tool("whoami")
    client.call_tool("whoami")
    assert [r["form"]["grant_type"] for r in auth.token_requests()] == ["authorization_code"]
    nonces = [p["claims"].get("nonce") for p in mcp.proofs]
    assert nonces[0] is None and nonces[1:] and set(nonces[1:]) == {"rs-nonce"}


def test_parse_challenge_prefers_the_scheme_asked_for():
    from mcplite.oauth import parse_challenge
    header = ('Bearer error="invalid_token", resource_metadata="https://a/x", scope="a b", '
              'DPoP error="use_dpop_nonce", algs="ES256 PS256"')
    assert parse_challenge(header) == {"scheme": "bearer", "error": "invalid_token", "resource_metadata": "https://a/x",
                                       "scope": "a b", "algs": "ES256 PS256"}  # the first challenge's values win
    assert parse_challenge(header, prefer="dpop") == {"scheme": "dpop", "error": "use_dpop_nonce", "algs": "ES256 PS256",
                                                      "resource_metadata": "https://a/x", "scope": "a b"}
    assert parse_challenge('Bearer realm="x, DPoP error=no", error="invalid_token"', prefer="dpop") == {
        "scheme": "bearer", "realm": "x, DPoP error=no", "error": "invalid_token"}  # no DPoP challenge there
    assert parse_challenge('Basic abc==, DPoP error="use_dpop_nonce"', prefer="dpop")["error"] == "use_dpop_nonce"
    assert parse_challenge("Bearer", prefer="dpop") == {"scheme": "bearer"}


def test_a_dpop_nonce_on_the_get_stream_is_used_from_then_on(protected, connect):
    """RFC 9449 §8.2: a server may give a new nonce on any answer - the GET stream's too."""
    auth, mcp = protected(mcp_options={"dpop": True, "dpop_nonce": "rs-1", "nonce_on_get": True}, dpop=True)
    client = connect(mcp.url, auth=oauth(auth, dpop=True), era="legacy")
    deadline = time.monotonic() + WAIT
    while mcp.nonces_given == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mcp.nonces_given == 1
    mark = mcp.mark()
    assert text_of(client.call_tool("add", {"a": 1, "b": 1})) == "2"
    calls = [e for e in mcp.since(mark) if e["method"] == "POST"]
    assert [e["status"] for e in calls] == [200]
    assert mcp.proofs[-1]["claims"]["nonce"] == "get-nonce-1"


# The 2025-03-26 fallback: no protected-resource metadata, the server's origin is the
# authorization server; what the client signs names the issuer of its metadata, never None.

FALLBACK_URL = "http://127.0.0.1:9/mcp"
FALLBACK_ORIGIN = "http://127.0.0.1:9"
IDP_TOKEN_URL = "http://127.0.0.1:8/token"


def fallback_oauth(metadata, **options):
    # type: (Optional[Dict[str, Any]], Any) -> Any
    """An OAuth for a server with no protected-resource metadata whose origin serves
    ``metadata`` at the RFC 8414 URL (None: nothing there, the default endpoints); the POSTs
    it makes are recorded (the token endpoint and the identity provider answer them)."""
    sent = []  # type: List[Dict[str, Any]]

    def fetch(method, url, body=None, headers=None, timeout=None):
        # type: (str, str, Optional[bytes], Optional[Dict[str, str]], Any) -> Any
        path = urllib.parse.urlsplit(url).path
        if method == "GET":
            if metadata is not None and url == FALLBACK_ORIGIN + "/.well-known/oauth-authorization-server":
                return 200, {}, json.dumps(metadata).encode("utf-8")
            return 404, {}, b'{"error": "not_found"}'
        form = dict(urllib.parse.parse_qsl((body or b"").decode("ascii")))
        sent.append({"url": url, "form": form, "headers": dict(headers or {})})
        if url == IDP_TOKEN_URL:
            return 200, {}, json.dumps({"access_token": "eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ.c2ln", "token_type": "N_A",
                                        "issued_token_type": ID_JAG}).encode("utf-8")
        assert path == "/token", url
        return 200, {}, b'{"access_token": "at-1", "token_type": "Bearer"}'
    auth = OAuth(**options)
    auth.bind(FALLBACK_URL, fetch)
    return auth, sent


def fallback_metadata(**changes):
    # type: (Any) -> Dict[str, Any]
    metadata = {"issuer": FALLBACK_ORIGIN, "token_endpoint": FALLBACK_ORIGIN + "/token",
                "authorization_endpoint": FALLBACK_ORIGIN + "/authorize", "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_signing_alg_values_supported": ["ES256"]}  # type: Dict[str, Any]
    metadata.update(changes)
    return {name: value for name, value in metadata.items() if value is not None}


@pytest.mark.parametrize("metadata, audience", [
    (fallback_metadata(), FALLBACK_ORIGIN),
    (None, FALLBACK_ORIGIN),  # no metadata either: the default endpoints, the origin as issuer
    (fallback_metadata(issuer=None), None),
    (fallback_metadata(issuer=""), None),
    (fallback_metadata(issuer=7), None),
], ids=["metadata", "defaults", "no-issuer", "empty-issuer", "issuer-not-a-string"])
def test_without_resource_metadata_the_client_assertion_names_the_metadata_issuer(metadata, audience):
    key = ES256Key.generate()
    auth, sent = fallback_oauth(metadata, grant="client_credentials", client_id=JWT_CLIENT, private_key=key)
    if audience is None:
        with pytest.raises(AuthorizationError, match="issuer"):
            auth.recover(401, 'Bearer error="invalid_token"', 1, 0)
        assert sent == []
        return
    assert auth.recover(401, 'Bearer error="invalid_token"', 1, 0) is True
    (request,) = sent
    claims = jwt_parts(request["form"]["client_assertion"])[1]
    assert claims["aud"] == audience


@pytest.mark.parametrize("metadata, audience", [
    (fallback_metadata(), FALLBACK_ORIGIN),
    (fallback_metadata(issuer=None), None),
], ids=["metadata", "no-issuer"])
def test_without_resource_metadata_the_token_exchange_audience_is_the_metadata_issuer(metadata, audience):
    auth, sent = fallback_oauth(metadata, grant="id_jag", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                id_token=ID_TOKEN_VALUE, idp_token_endpoint=IDP_TOKEN_URL, idp_client_id=IDP_CLIENT)
    if audience is None:
        with pytest.raises(AuthorizationError, match="issuer"):
            auth.recover(401, None, 1, 0)
        assert sent == []
        return
    assert auth.recover(401, None, 1, 0) is True
    exchange, grant = sent
    assert exchange["url"] == IDP_TOKEN_URL and exchange["form"]["audience"] == audience
    assert grant["form"]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"


# The channel's side: whatever the auth hooks (or a header they make) do, a request fails
# at once with a clear error, and no connection is lost.

class BreakableAuth:
    """An auth object as the channels use it; ``broken(method, url)`` says how the headers
    of a request fail: None (they do not), "raises", "crlf" (a header http.client refuses)
    or "non-latin1" (one it cannot encode)."""

    def __init__(self, broken=None):
        # type: (Optional[Callable[[str, str], Optional[str]]]) -> None
        self.broken = broken or (lambda method, url: None)
        self.calls = []  # type: List[Any]
        self.nonces = []  # type: List[Any]

    def bind(self, url, fetch):
        # type: (str, Any) -> None
        pass

    def header(self):
        # type: () -> Any
        return 1, None

    def request_headers(self, method, url):
        # type: (str, str) -> Any
        self.calls.append((method, url))
        how = self.broken(method, url)
        if how == "raises":
            raise ValueError("a broken key")
        if how == "crlf":
            return 1, {"Authorization": "Bearer a\r\nX-Injected: 1"}
        if how == "non-latin1":
            return 1, {"Authorization": "Bearer \u20ac"}
        return 1, {"Authorization": "Bearer ok"}

    def note_nonce(self, url, nonce):
        # type: (str, str) -> None
        self.nonces.append((url, nonce))

    def recover(self, *args):
        # type: (Any) -> bool
        return False


def adding_server():
    # type: () -> Any
    from mcplite import Server
    app = Server("plain")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Adds"""
        return a + b
    return app


@pytest.mark.parametrize("how", ["raises", "crlf", "non-latin1"])
def test_headers_that_cannot_be_made_or_sent_fail_the_request_at_once(how):
    state = {"how": None}  # type: Dict[str, Any]
    auth = BreakableAuth(lambda method, url: state["how"])
    with adding_server().run_in_thread("http", port=0) as handle:
        with Client.http(handle.url, timeout=10, auth=auth, era="modern") as client:
            assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"]["result"] == 3
            channel = client._channel
            kept = list(channel._idle)
            assert kept, "a kept-alive connection to take"
            made = []  # type: List[Any]
            connect_ = channel._connect

            def counting():
                # type: () -> Any
                conn = connect_()
                made.append(conn)
                return conn
            channel._connect = counting
            state["how"] = how
            started = time.monotonic()
            with pytest.raises(AuthorizationError, match="authoriz") as caught:
                client.call_tool("add", {"a": 1, "b": 2})
            assert time.monotonic() - started < 2.0, "the request waited for its timeout"
            assert "Injected" not in caught.value.message or how == "crlf"
            # Every connection is back in the pool or closed; none is held for the failed request.
            assert channel._open == {}
            for conn in kept + made:
                assert conn in channel._idle or conn.sock is None
            state["how"] = None
            assert client.call_tool("add", {"a": 2, "b": 2})["structuredContent"]["result"] == 4


def test_a_failing_auth_hook_on_a_notification_raises_nothing_raw():
    state = {"how": None}  # type: Dict[str, Any]
    auth = BreakableAuth(lambda method, url: state["how"])
    with adding_server().run_in_thread("http", port=0) as handle:
        with Client.http(handle.url, timeout=10, auth=auth, era="legacy") as client:
            client.call_tool("add", {"a": 1, "b": 2})
            state["how"] = "raises"
            client.notify_roots_changed()  # logged, dropped: a notification has no caller waiting
            state["how"] = None
            assert client.call_tool("add", {"a": 2, "b": 2})["structuredContent"]["result"] == 4


def test_a_failing_auth_hook_on_the_get_stream_and_the_delete_neither_hangs_nor_raises():
    auth = BreakableAuth(lambda method, url: "raises" if method in ("GET", "DELETE") else None)
    with adding_server().run_in_thread("http", port=0) as handle:
        started = time.monotonic()
        client = Client.http(handle.url, timeout=10, auth=auth, era="legacy")
        try:
            assert time.monotonic() - started < 5.0, "the GET stream's failure held the connect"
            assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"]["result"] == 3
            assert ("GET", handle.url) in auth.calls
        finally:
            client.close()  # its DELETE fails to be authorized: nothing raised, everything closed
        assert ("DELETE", handle.url) in auth.calls
        assert client._channel._idle == [] and client._channel._open == {}


def test_the_old_http_sse_transport_fails_clearly_when_the_headers_cannot_be_made():
    with adding_server().run_in_thread("http", port=0) as handle:
        url = handle.url.replace("/mcp", "/sse")
        # The Streamable HTTP attempt is authorized; the old transport's GET stream is not.
        auth = BreakableAuth(lambda method, target: "raises" if target == url and method == "GET" else None)
        with pytest.raises(AuthorizationError, match="authoriz"):
            Client.http(url, timeout=5, auth=auth)
        # Its POSTs: the first one (initialize) fails at once, with the same clear error.
        for how in ("raises", "crlf"):
            auth = BreakableAuth(lambda method, target, how=how: how if "/messages" in target else None)
            started = time.monotonic()
            with pytest.raises(AuthorizationError, match="authoriz"):
                Client.http(url, timeout=5, auth=auth)
            assert time.monotonic() - started < 2.0
            assert any("/messages" in target for _, target in auth.calls)


def test_the_old_http_sse_transport_notes_the_servers_dpop_nonces():
    """RFC 9449 §8.2: any answer may carry the nonce to use next - the GET stream's, and the
    POSTs' of the old transport too."""
    app = adding_server()
    with app.run_in_thread("http", port=0) as handle:
        inner = handle.app.handle
        counter = [0]

        def with_nonce(req):
            # type: (Any) -> Any
            response = inner(req)
            if response is not None and req.path != "/mcp":
                counter[0] += 1
                nonce = "%s-%s-%d" % (req.method, req.path.strip("/"), counter[0])
                response.headers = list(response.headers) + [("DPoP-Nonce", nonce)]
            return response
        handle.app.handle = with_nonce
        url = handle.url.replace("/mcp", "/sse")
        auth = BreakableAuth()
        with Client.http(url, timeout=5, auth=auth) as client:
            assert type(client._channel).__name__ == "LegacySseChannel"
            assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"]["result"] == 3
    # (The Streamable HTTP attempts' answers, POSTs to /sse, are noted by that channel.)
    noted = [nonce.rsplit("-", 1)[0] for _, nonce in auth.nonces]
    assert "GET-sse" in noted and "POST-messages" in noted
    assert all(noted_url == url for noted_url, _ in auth.nonces)


def polling_server():
    # type: () -> Any
    """A tool whose stream the server closes halfway (a legacy session resumes it with GET)."""
    from mcplite import Context, Server
    app = Server("polling")

    @app.tool()
    def poll(ctx: Context) -> str:
        """Closes its stream, then answers"""
        ctx.info("before")
        ctx.close_sse_stream(retry_ms=100)
        threading.Event().wait(0.3)
        return "done"
    return app


def test_a_dpop_nonce_on_a_resumed_stream_is_noted():
    with polling_server().run_in_thread("http", port=0) as handle:
        inner = handle.app.handle

        def with_nonce(req):
            # type: (Any) -> Any
            response = inner(req)
            if response is not None and req.method == "GET" and req.headers.get("last-event-id"):
                response.headers = list(response.headers) + [("DPoP-Nonce", "resumed")]
            return response
        handle.app.handle = with_nonce
        auth = BreakableAuth()
        with Client.http(handle.url, timeout=5, auth=auth, era="legacy") as client:
            assert client.call_tool("poll")["content"] == [{"type": "text", "text": "done"}]
    assert (handle.url, "resumed") in auth.nonces


def test_a_resumption_whose_headers_cannot_be_made_fails_the_request_at_once():
    with polling_server().run_in_thread("http", port=0) as handle:
        auth = BreakableAuth(lambda method, url: "raises" if method == "GET" else None)
        with Client.http(handle.url, timeout=10, auth=auth, era="legacy") as client:
            started = time.monotonic()
            with pytest.raises(AuthorizationError, match="a broken key"):
                client.call_tool("poll")
            assert time.monotonic() - started < 2.0
            assert client._channel._open == {}


class _FailingStorage(MemoryTokenStorage):
    """A storage whose writes fail once ``broken`` is set: a read-only or full disk under a
    token file."""

    broken = False

    def set(self, key, value):
        # type: (str, Any) -> None
        if self.broken:
            raise PermissionError(13, "Permission denied", "/read-only/tokens.json")
        MemoryTokenStorage.set(self, key, value)


def test_a_token_that_cannot_be_stored_is_still_used_and_not_lost(protected, connect, caplog):
    auth, mcp = protected()
    storage = _FailingStorage()
    client = connect(mcp.url, auth=oauth(auth, storage=storage), era="modern")
    first = text_of(client.call_tool("whoami")).split(" ")[0]
    auth.revoke_all()
    (old_refresh,) = list(auth.refresh)
    storage.broken = True
    # The refresh token is rotated (oauth_support): the old one is no good after this refresh.
    with caplog.at_level("WARNING", logger="mcplite.oauth"):
        second = text_of(client.call_tool("whoami")).split(" ")[0]
    assert old_refresh not in auth.refresh
    assert second != first and second in auth.tokens
    assert "cannot store" in caplog.text
    # The new tokens are kept in memory: no second refresh (with the spent refresh token),
    # no new sign-in.
    assert text_of(client.call_tool("whoami")).split(" ")[0] == second
    auth.revoke_all()
    third = text_of(client.call_tool("whoami")).split(" ")[0]
    assert third not in (first, second) and third in auth.tokens
    assert [r["form"]["refresh_token"] for r in auth.token_requests("refresh_token")][0] == old_refresh
    assert len(auth.token_requests("refresh_token")) == 2
    assert len(auth.hits("authorize")) == 1


def test_signing_in_works_when_the_storage_cannot_be_written(protected, connect, caplog):
    auth, mcp = protected()
    storage = _FailingStorage()
    storage.broken = True  # a token file in a read-only directory
    client = connect(mcp.url, auth=oauth(auth, storage=storage), era="modern")
    with caplog.at_level("WARNING", logger="mcplite.oauth"):
        token = text_of(client.call_tool("whoami")).split(" ")[0]
    assert token in auth.tokens and "cannot store" in caplog.text
    assert text_of(client.call_tool("whoami")).split(" ")[0] == token
    auth.revoke_all()
    assert text_of(client.call_tool("whoami")).split(" ")[0] in auth.tokens
    assert len(auth.token_requests("refresh_token")) == 1  # the refresh token was kept in memory
    assert len(auth.hits("authorize")) == 1


def test_two_processes_sharing_a_token_file_do_not_lose_entries(tmp_path):
    # Two runs of the command line with one --token-file: each set() reads the file, adds
    # its entry and replaces the file; without a lock between the processes, one's
    # replacement drops what the other had just written (a token, a rotated refresh token).
    import subprocess
    path = str(tmp_path / "tokens.json")
    script = ("import sys\nfrom mcplite import FileTokenStorage\nstorage = FileTokenStorage(sys.argv[1])\n"
              "for n in range(150):\n    storage.set('tokens %s%d' % (sys.argv[2], n), {'access_token': 'x'})\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    writers = [subprocess.Popen([sys.executable, "-c", script, path, prefix], env=env) for prefix in "ab"]
    try:
        codes = [writer.wait(60) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait()
    assert codes == [0, 0]
    reader = FileTokenStorage(path)
    missing = [(p, n) for p in "ab" for n in range(150) if reader.get("tokens %s%d" % (p, n)) is None]
    assert missing == []
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    if os.path.exists(path + ".lock"):  # (POSIX: the lock between the processes)
        assert stat.S_IMODE(os.stat(path + ".lock").st_mode) == 0o600


_REFRESHING_PROCESS = """
import sys
from mcplite import Client, FileTokenStorage, OAuth

def sign_in_again(url):
    raise RuntimeError("asked to sign in again")

path, url, redirect = sys.argv[1:4]
sys.stdin.readline()  # go: both processes start at once
try:
    client = Client.http(url, auth=OAuth(storage=FileTokenStorage(path), authorize=sign_in_again,
                                         redirect_uri=redirect), era="modern", timeout=20, probe_timeout=5)
    try:
        print("TOKEN " + client.call_tool("whoami")["content"][0]["text"].split(" ")[0])
    finally:
        client.close()
except Exception as exc:
    print("FAILED %s: %s" % (type(exc).__name__, exc))
"""


def test_two_processes_refreshing_a_shared_token_file_use_the_refresh_token_once(protected, connect, tmp_path):
    # Two processes sharing a token file both find their access token refused; the
    # authorization server rotates refresh tokens and refuses a used one (OAuth 2.1: a
    # public client's refresh tokens "MUST be sender-constrained or one-time use"). Both
    # refreshing with the one refresh token leaves the second with invalid_grant and a new
    # interactive sign-in; the second must take the tokens the first stored instead.
    import subprocess
    auth, mcp = protected(hold_refresh=3.0)
    path = str(tmp_path / "tokens.json")
    first = connect(mcp.url, auth=oauth(auth, storage=FileTokenStorage(path)), era="modern")
    old = text_of(first.call_tool("whoami")).split(" ")[0]
    first.close()
    auth.revoke_all()  # the stored access token is refused from now on; its refresh token is still good
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # (PYTHONPATH first: the one-file build's directory when the suite runs against it)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), root) if p))
    processes = [subprocess.Popen([sys.executable, "-c", _REFRESHING_PROCESS, path, mcp.url, REDIRECT], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
                 for _ in range(2)]
    try:
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=60)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert all(process.returncode == 0 for process in processes)
    lines = [output.strip() for output in outputs]
    assert all(line.startswith("TOKEN ") for line in lines), lines
    tokens = {line.split(" ")[1] for line in lines}
    assert len(tokens) == 1 and old not in tokens, lines
    refreshes = auth.token_requests("refresh_token")
    assert len(refreshes) == 1, "the refresh token was sent %d times" % len(refreshes)
    assert len(auth.hits("authorize")) == 1  # the parent's sign-in only
    with open(path, encoding="utf-8") as handle:
        stored = json.load(handle)["tokens " + mcp.url]
    assert stored["access_token"] in tokens and stored["refresh_token"] in auth.refresh


def test_a_refresh_refused_as_invalid_grant_takes_the_tokens_another_client_stored(protected, connect):
    # A refresh token used meanwhile by another client sharing the storage (one that does
    # not take the storage's lock, or a storage without one): the authorization server
    # answers invalid_grant; the storage then holds that client's new tokens, which are
    # taken rather than signing in again.
    storage = MemoryTokenStorage()
    other = {}  # type: Dict[str, Any]

    def another_client_refreshes_first(record):
        # type: (Dict[str, Any]) -> None
        if other:
            return
        with auth.lock:
            grant = auth.refresh.pop(record["form"]["refresh_token"])
            other["access_token"], other["refresh_token"] = "at-other", "rt-other"
            auth.tokens["at-other"] = grant["scope"].split()
            auth.refresh["rt-other"] = grant
        key = "tokens " + mcp.url
        storage.set(key, dict(storage.get(key) or {}, access_token="at-other", refresh_token="rt-other",
                              expires_at=time.time() + 600))

    auth, mcp = protected(on_refresh=another_client_refreshes_first)
    client = connect(mcp.url, auth=oauth(auth, storage=storage), era="modern")
    assert text_of(client.call_tool("whoami")).split(" ")[0] != "at-other"
    auth.revoke_all()
    assert text_of(client.call_tool("whoami")).split(" ")[0] == "at-other"
    assert len(auth.token_requests("refresh_token")) == 1  # ours, refused
    assert len(auth.hits("authorize")) == 1, "the client signed in again"


def test_a_2026_subscription_after_the_token_expired_refreshes_it(protected, connect):
    # subscriptions/listen is a request of its own (its POST answers with the stream): a 401
    # on it gets the OAuth's say, as every call's does - not an HttpError for the caller.
    auth, mcp = protected()
    client = connect(mcp.url, auth=oauth(auth), era="modern")
    first = text_of(client.call_tool("whoami")).split(" ")[0]
    auth.revoke_all()
    mark = mcp.mark()
    client.subscribe("note://one")
    listens = mcp_posts(mcp, "subscriptions/listen", mark)
    assert [e["status"] for e in listens] == [401, 200]
    assert listens[0]["headers"]["authorization"] == "Bearer " + first
    assert listens[1]["headers"]["authorization"] != "Bearer " + first
    assert len(auth.token_requests("refresh_token")) == 1 and len(auth.hits("authorize")) == 1
    assert text_of(client.call_tool("whoami")).split(" ")[0] != first
    assert len(auth.token_requests("refresh_token")) == 1


def test_a_401_on_the_sessions_get_stream_renews_the_token(protected, connect):
    # A session's GET stream outlives its token; when it ends (a proxy's idle timeout, here
    # the connection shut) the new GET is refused. With no call of ours to renew the token,
    # the stream must get the OAuth's say itself - not fail until it is given up.
    from mcplite.httpclient import _shut
    auth, mcp = protected()
    client = connect(mcp.url, auth=oauth(auth), era="legacy")
    first = text_of(client.call_tool("whoami")).split(" ")[0]
    channel = client._channel
    deadline = time.monotonic() + WAIT
    while channel._get_connection is None and time.monotonic() < deadline:
        time.sleep(0.02)
    auth.revoke_all()
    mark = mcp.mark()
    _shut(channel._get_connection)
    deadline = time.monotonic() + 2 * WAIT

    def gets():
        # type: () -> List[Dict[str, Any]]
        return [e for e in mcp.since(mark) if e["method"] == "GET" and e["path"] == "/mcp"]
    while not any(e["status"] == 200 for e in gets()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [e["status"] for e in gets()][:2] == [401, 200]
    assert gets()[0]["headers"]["authorization"] == "Bearer " + first
    assert gets()[1]["headers"]["authorization"] != "Bearer " + first
    assert len(auth.token_requests("refresh_token")) == 1 and len(auth.hits("authorize")) == 1
    # The calls go on with the stream's new token: no second refresh.
    assert text_of(client.call_tool("whoami")).split(" ")[0] != first
    assert len(auth.token_requests("refresh_token")) == 1


@pytest.mark.parametrize("refresh_good", [True, False], ids=["rotated", "invalid_grant"])
def test_concurrent_calls_refresh_a_rotating_refresh_token_once(protected, connect, refresh_good):
    # The test authorization server rotates refresh tokens: each is good once. Eight calls
    # refused at once make one refresh (or, the refresh token refused, one sign-in), every
    # call succeeds once, and the rotated refresh token is the one stored and used next.
    auth, mcp = protected()
    storage = MemoryTokenStorage()
    client = connect(mcp.url, auth=oauth(auth, storage=storage), era="modern")
    first = text_of(client.call_tool("whoami")).split(" ")[0]
    for round_ in (1, 2):
        auth.revoke_all()
        if not refresh_good:
            auth.refresh.clear()
        mark = mcp.mark()
        barrier = threading.Barrier(8)
        results = []  # type: List[Any]

        def call(n):
            # type: (int) -> None
            barrier.wait(WAIT)
            try:
                results.append(text_of(client.call_tool("add", {"a": n, "b": 1000})))
            except Exception as exc:  # reported below
                results.append(exc)
        threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(3 * WAIT)
        assert not any(thread.is_alive() for thread in threads)
        assert sorted(results) == sorted(str(n + 1000) for n in range(8)), results
        # Each call ran once on the server (a 401 is not a run).
        ran = [e["body"]["params"]["arguments"]["a"] for e in mcp_posts(mcp, "tools/call", mark)
               if e["status"] == 200]
        assert sorted(ran) == list(range(8))
        refreshes = auth.token_requests("refresh_token")
        assert len(refreshes) == round_
        stored = storage.get("tokens " + mcp.url)
        if refresh_good:
            assert len(auth.hits("authorize")) == 1
            assert list(auth.refresh) == [stored["refresh_token"]]  # the rotated one, stored
            if round_ == 2:
                assert refreshes[1]["form"]["refresh_token"] != refreshes[0]["form"]["refresh_token"]
        else:
            assert len(auth.hits("authorize")) == round_ + 1  # one sign-in per round
    assert stored["access_token"] != first
