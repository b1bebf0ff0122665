"""What tests/test_oauth_client.py runs the OAuth client against.

``AuthServer``: a small OAuth 2.1 authorization server on ``http.server`` (127.0.0.1, port
0, threaded) that records every request it receives (method, path, query, form or JSON
body, headers) so the tests can check the wire. What it offers is set per test: where its
metadata is served (RFC 8414 and/or OpenID Connect locations), an issuer with a path,
dynamic registration, Client ID Metadata Documents, token endpoint authentication
methods, PKCE methods, the RFC 9207 ``iss`` (right, wrong or missing), refresh tokens,
``expires_in``, and a metadata ``issuer`` that is not its own.

It checks what a real one would: PKCE S256 (the verifier against the challenge), the
redirect URI and the ``resource`` against the authorization request, the client's
credentials (Basic with form-urlencoded parts, or in the form). Every access token it
issues goes into ``tokens`` (token -> scopes), which the resource server's ``verify``
reads: a token it never issued, or one a test revoked, really fails.

Extensions, each opt-in: DPoP (``dpop=True``: the metadata lists ES256 proofs, a token
request's ``DPoP`` proof is checked and binds the token, ``token_type`` DPoP; ``dpop_nonce``
demands a nonce, RFC 9449 §8; ``dpop_bearer_access`` issues a Bearer access token and binds
only the refresh token, as §5 allows; a refresh token bound to a key is refused with a proof
of another, or none), ``private_key_jwt`` clients (``jwt_clients``: client id ->
public JWK; the assertion's signature and claims are checked, a replayed ``jti`` refused),
and the two sides of enterprise-managed authorization: an identity provider
(``idp_id_tokens``: the ID tokens it exchanges for ID-JAGs, RFC 8693) and an authorization
server taking the ID-JAGs one issued (``jag_issuer``) as JWT bearer grants.

``McpServer``: an mcplite ``Server`` served over HTTP behind ``BearerAuth`` whose verifier is
the authorization server's ``tokens``; ``handle.app.handle`` is wrapped to record what it
received and to require extra scopes for some tools (403 ``insufficient_scope``, as a
server with per-tool scopes answers). With ``dpop=True`` a layer in front checks
``Authorization: DPoP`` and each request's proof against the token's binding (and a nonce,
``dpop_nonce``, RFC 9449 §9) before ``BearerAuth`` sees the token; ``bearer_challenge_first``
puts a Bearer challenge before its DPoP one in the same ``WWW-Authenticate``, and
``nonce_on_get`` makes each GET stream's answer carry a new ``DPoP-Nonce`` (the one wanted
from then on).

``hold_refresh`` (AuthServer, seconds): a refresh request waits, before its refresh token is
looked at, until another refresh request comes in or that time has passed - so two clients
refreshing at once really do overlap. ``on_refresh(record)`` runs first for every refresh
request (a test plays another client there).

``token_prefix`` (AuthServer) starts every access token it issues: a test can make it one
that is no RFC 6750 token (non-ASCII, CR LF).

The DPoP proofs' and client assertions' signatures are checked with mcplite's own
``es256.verify``, which tests/test_es256.py checks against OpenSSL and ``cryptography``.
"""

import base64
import hashlib
import json
import re
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Sequence

from mcplite import AccessToken, BearerAuth, Context, HttpResponse, Server
from mcplite.es256 import jwk_thumbprint, jws_verify, verify

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url(data):
    # type: (bytes) -> str
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    # type: (str) -> bytes
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token):
    # type: (str) -> Any
    """(header, claims) of a JWT, unverified."""
    head, body = token.split(".")[:2]
    return json.loads(unb64url(head)), json.loads(unb64url(body))


def check_dpop_proof(proof, method, url, token=None, jkt=None):
    # type: (Optional[str], str, str, Optional[str], Optional[str]) -> Any
    """(problem or None, header, claims) of a DPoP proof, checked as RFC 9449 §4.3 says:
    one well-formed dpop+jwt, ES256, a public jwk whose signature verifies, jti, htm, htu
    (no query or fragment), a recent iat, and with a token its ath and the key binding."""
    if not proof or "," in proof:
        return "no proof, or more than one", {}, {}
    verified = jws_verify(proof)
    if verified is None:
        return "the signature does not verify", {}, {}
    header, claims = verified
    if header.get("typ") != "dpop+jwt":
        return "typ", header, claims
    if "d" in header["jwk"]:
        return "a private key in the jwk", header, claims
    if not isinstance(claims.get("jti"), str) or len(claims["jti"]) < 16:
        return "jti", header, claims
    if claims.get("htm") != method:
        return "htm %r for %s" % (claims.get("htm"), method), header, claims
    if claims.get("htu") != url.split("?")[0].split("#")[0] or "?" in claims["htu"] or "#" in claims["htu"]:
        return "htu %r for %s" % (claims.get("htu"), url), header, claims
    if not isinstance(claims.get("iat"), int) or abs(claims["iat"] - time.time()) > 60:
        return "iat", header, claims
    if token is None:
        if "ath" in claims:
            return "ath on a token request", header, claims
    else:
        if claims.get("ath") != b64url(hashlib.sha256(token.encode("ascii")).digest()):
            return "ath", header, claims
        if jkt is None or jwk_thumbprint(header["jwk"]) != jkt:
            return "the proof's key is not the token's", header, claims
    return None, header, claims


def b64url_sha256(text):
    # type: (str) -> str
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


class AuthServer:
    """An authorization server for one test; ``stop()`` when done (the fixture does).

    ``metadata_at``: which well-known documents exist - "oauth" (RFC 8414, path inserted),
    "oidc-inserted" and "oidc-appended" (OpenID Connect discovery; for an issuer without a
    path both are ``/.well-known/openid-configuration``)."""

    def __init__(self, issuer_path: str = "", metadata_at: Sequence[str] = ("oauth",), registration: bool = True,
                 cimd: bool = False, auth_methods: Optional[Sequence[str]] = None,
                 pkce_methods: Optional[Sequence[str]] = ("S256",), iss_supported: Optional[bool] = None,
                 iss: Optional[str] = None, refresh_tokens: bool = True, expires_in: Optional[int] = 3600,
                 metadata_issuer: Optional[str] = None, scopes_supported: Optional[Sequence[str]] = None,
                 clients: Optional[Dict[str, Optional[str]]] = None,
                 metadata_overrides: Optional[Dict[str, Any]] = None, dpop: bool = False,
                 dpop_nonce: Optional[str] = None, jwt_clients: Optional[Dict[str, Dict[str, str]]] = None,
                 idp_id_tokens: Optional[Sequence[str]] = None, issued_token_type: str = ID_JAG,
                 jag_issuer: Optional["AuthServer"] = None, dpop_bearer_access: bool = False,
                 token_prefix: str = "at-", refresh_prefix: str = "rt-", hold_refresh: float = 0.0,
                 on_refresh: Optional[Callable[[Dict[str, Any]], None]] = None) -> None:
        self.issuer_path = issuer_path.rstrip("/")
        self.metadata_at = tuple(metadata_at)
        self.registration = registration
        self.cimd = cimd
        self.auth_methods = list(auth_methods) if auth_methods is not None else None
        self.pkce_methods = list(pkce_methods) if pkce_methods is not None else None
        self.iss_supported = iss_supported
        # What the authorization response's iss is: "right", "wrong" or "missing".
        self.iss = iss if iss is not None else ("right" if iss_supported else "missing")
        self.refresh_tokens = refresh_tokens
        self.expires_in = expires_in
        self.metadata_issuer = metadata_issuer
        self.scopes_supported = list(scopes_supported) if scopes_supported is not None else None
        self.metadata_overrides = dict(metadata_overrides or {})
        # client_id -> {"secret": str or None, "redirect_uris": [...] or None (any loopback)}
        self.clients = {}  # type: Dict[str, Dict[str, Any]]
        for client_id, secret in (clients or {}).items():
            self.clients[client_id] = {"secret": secret, "redirect_uris": None}
        self.dpop = dpop
        self.dpop_nonce = dpop_nonce
        self.dpop_bearer_access = dpop_bearer_access
        self.token_prefix = token_prefix
        self.refresh_prefix = refresh_prefix
        self.hold_refresh = hold_refresh
        self.on_refresh = on_refresh
        self.refresh_arrivals = threading.Condition()
        self.refresh_count = 0
        self.dpop_bound = {}  # type: Dict[str, str]   # access token -> the jkt it is bound to
        self.jwt_clients = dict(jwt_clients or {})
        for client_id in self.jwt_clients:
            self.clients[client_id] = {"secret": None, "redirect_uris": None, "jwt": True}
        self.seen_jtis = set()  # type: set
        self.idp_id_tokens = list(idp_id_tokens) if idp_id_tokens is not None else None
        self.issued_token_type = issued_token_type
        self.jags = {}  # type: Dict[str, Dict[str, Any]]   # ID-JAG -> what it was issued for
        self.jag_issuer = jag_issuer
        self.tokens = {}  # type: Dict[str, List[str]]       # access token -> scopes (what verify reads)
        self.refresh = {}  # type: Dict[str, Dict[str, Any]]  # refresh token -> grant
        self.codes = {}  # type: Dict[str, Dict[str, Any]]
        self.requests = []  # type: List[Dict[str, Any]]
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                # type: (Any) -> None
                pass

            def do_GET(self):
                # type: () -> None
                outer._dispatch(self, "GET")

            def do_POST(self):
                # type: () -> None
                outer._dispatch(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.origin = "http://127.0.0.1:%d" % self.port
        self.issuer = self.origin + self.issuer_path
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="test-auth-server", daemon=True)
        self.thread.start()

    def stop(self):
        # type: () -> None
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    # -- what tests look at -----------------------------------------------------------

    def hits(self, kind=None):
        # type: (Optional[str]) -> List[Dict[str, Any]]
        """The requests received, of one kind ("metadata", "authorize", "token",
        "register", "other") or all."""
        with self.lock:
            return [r for r in self.requests if kind is None or r["kind"] == kind]

    def paths(self):
        # type: () -> List[str]
        return [r["path"] for r in self.hits()]

    def token_requests(self, grant_type=None):
        # type: (Optional[str]) -> List[Dict[str, Any]]
        return [r for r in self.hits("token") if grant_type is None or r["form"].get("grant_type") == grant_type]

    def metadata_urls(self):
        # type: () -> Dict[str, str]
        """Well-known location name -> path, for this issuer."""
        path = self.issuer_path
        if not path:
            return {"oauth": "/.well-known/oauth-authorization-server",
                    "oidc-inserted": "/.well-known/openid-configuration",
                    "oidc-appended": "/.well-known/openid-configuration"}
        return {"oauth": "/.well-known/oauth-authorization-server" + path,
                "oidc-inserted": "/.well-known/openid-configuration" + path,
                "oidc-appended": path + "/.well-known/openid-configuration"}

    def metadata(self):
        # type: () -> Dict[str, Any]
        doc = {
            "issuer": self.metadata_issuer if self.metadata_issuer is not None else self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        }  # type: Dict[str, Any]
        if self.registration:
            doc["registration_endpoint"] = self.issuer + "/register"
        if self.pkce_methods is not None:
            doc["code_challenge_methods_supported"] = self.pkce_methods
        if self.auth_methods is not None:
            doc["token_endpoint_auth_methods_supported"] = self.auth_methods
        if self.cimd:
            doc["client_id_metadata_document_supported"] = True
        if self.iss_supported is not None:
            doc["authorization_response_iss_parameter_supported"] = self.iss_supported
        if self.scopes_supported is not None:
            doc["scopes_supported"] = self.scopes_supported
        if self.dpop:
            doc["dpop_signing_alg_values_supported"] = ["ES256"]
        if self.jwt_clients:
            doc["token_endpoint_auth_signing_alg_values_supported"] = ["ES256"]
        doc.update(self.metadata_overrides)
        return doc

    # -- serving ----------------------------------------------------------------------------

    def _dispatch(self, handler, method):
        # type: (BaseHTTPRequestHandler, str) -> None
        parts = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        content_type = headers.get("content-type", "").split(";")[0].strip()
        form = {}  # type: Dict[str, str]
        body = None  # type: Any
        if content_type == "application/x-www-form-urlencoded":
            form = dict(urllib.parse.parse_qsl(raw.decode("ascii"), keep_blank_values=True))
        elif raw:
            try:
                body = json.loads(raw.decode("utf-8"))
            except ValueError:
                body = None
        path = parts.path
        wellknown = self.metadata_urls()
        if method == "GET" and path in [wellknown[name] for name in self.metadata_at]:
            kind = "metadata"
        elif method == "GET" and "/.well-known/" in path:
            kind = "metadata"  # asked for, but not there: 404
        elif path == self.issuer_path + "/authorize":
            kind = "authorize"
        elif path == self.issuer_path + "/token":
            kind = "token"
        elif path == self.issuer_path + "/register":
            kind = "register"
        else:
            kind = "other"
        record = {"method": method, "path": path, "query": dict(urllib.parse.parse_qsl(parts.query)),
                  "form": form, "json": body, "headers": headers, "kind": kind}
        with self.lock:
            self.requests.append(record)
        if kind == "metadata":
            if path in [wellknown[name] for name in self.metadata_at]:
                self._reply(handler, 200, self.metadata())
            else:
                self._reply(handler, 404, {"error": "not_found"})
        elif kind == "authorize" and method == "GET":
            self._authorize(handler, record)
        elif kind == "token" and method == "POST":
            self._token(handler, record)
        elif kind == "register" and method == "POST" and self.registration:
            self._register(handler, body)
        else:
            self._reply(handler, 404, {"error": "not_found"})

    def _reply(self, handler, status, document, headers=None):
        # type: (BaseHTTPRequestHandler, int, Any, Optional[Dict[str, str]]) -> None
        data = json.dumps(document).encode("utf-8") if document is not None else b""
        handler.send_response(status)
        if document is not None:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _register(self, handler, body):
        # type: (BaseHTTPRequestHandler, Any) -> None
        if not isinstance(body, dict):
            self._reply(handler, 400, {"error": "invalid_client_metadata"})
            return
        method = body.get("token_endpoint_auth_method", "client_secret_basic")
        client_id = "dyn-" + secrets.token_hex(6)
        secret = secrets.token_urlsafe(16) if method != "none" else None
        with self.lock:
            self.clients[client_id] = {"secret": secret, "redirect_uris": body.get("redirect_uris") or []}
        answer = dict(body, client_id=client_id, token_endpoint_auth_method=method)
        if secret is not None:
            answer["client_secret"] = secret
        self._reply(handler, 201, answer)

    def _known_client(self, client_id):
        # type: (str) -> Optional[Dict[str, Any]]
        with self.lock:
            client = self.clients.get(client_id)
        if client is None and self.cimd and client_id.startswith("https://"):
            client = {"secret": None, "redirect_uris": None}
        return client

    def _authorize(self, handler, record):
        # type: (BaseHTTPRequestHandler, Dict[str, Any]) -> None
        query = record["query"]
        client = self._known_client(query.get("client_id", ""))
        redirect = query.get("redirect_uri", "")
        problems = []
        if client is None:
            problems.append("unknown client")
        elif client["redirect_uris"] is not None and redirect not in client["redirect_uris"]:
            problems.append("redirect_uri not registered")
        if not redirect.startswith("http://127.0.0.1:") and not redirect.startswith("http://localhost"):
            problems.append("redirect_uri is not a loopback URL")
        if query.get("response_type") != "code":
            problems.append("response_type")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            problems.append("PKCE S256 required")
        if problems:
            self._reply(handler, 400, {"error": "invalid_request", "error_description": "; ".join(problems)})
            return
        code = "code-" + secrets.token_urlsafe(12)
        with self.lock:
            self.codes[code] = {"client_id": query["client_id"], "redirect_uri": redirect,
                                "challenge": query["code_challenge"], "scope": query.get("scope", ""),
                                "resource": query.get("resource")}
        answer = {"code": code}
        if "state" in query:
            answer["state"] = query["state"]
        if self.iss == "right":
            answer["iss"] = self.issuer
        elif self.iss == "wrong":
            answer["iss"] = "https://attacker.example"
        location = redirect + ("&" if "?" in redirect else "?") + urllib.parse.urlencode(answer)
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _client_auth(self, record):
        # type: (Dict[str, Any]) -> Any
        """(client_id, secret, method) from the token request, as RFC 6749 2.3.1 says."""
        header = record["headers"].get("authorization", "")
        form = record["form"]
        if "client_assertion" in form:
            return self._assertion_auth(form)
        if header.lower().startswith("basic "):
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
            client_id, _, secret = decoded.partition(":")
            client_id, secret = urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)
            if form.get("client_id", client_id) != client_id:
                return "", None, "conflicting client_id"
            return client_id, secret, "client_secret_basic"
        if "client_secret" in form:
            return form.get("client_id", ""), form["client_secret"], "client_secret_post"
        return form.get("client_id", ""), None, "none"

    def _assertion_auth(self, form):
        # type: (Dict[str, str]) -> Any
        """RFC 7523 §3 private_key_jwt: the assertion's signature with the client's key,
        iss = sub = client_id, aud = this issuer, not expired, a jti never seen before."""
        client_id = form.get("client_id", "")
        jwk = self.jwt_clients.get(client_id)
        assertion = form["client_assertion"]
        parts = assertion.split(".")
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE or jwk is None or len(parts) != 3:
            return client_id, "", "private_key_jwt: no such client or assertion type"
        if not verify(jwk, (parts[0] + "." + parts[1]).encode("ascii"), unb64url(parts[2])):
            return client_id, "", "private_key_jwt: bad signature"
        header, claims = jwt_parts(assertion)
        now = time.time()
        if header.get("alg") != "ES256" or claims.get("iss") != client_id or claims.get("sub") != client_id \
                or claims.get("aud") != self.issuer or not claims.get("exp", 0) > now \
                or not abs(claims.get("iat", 0) - now) < 60:
            return client_id, "", "private_key_jwt: claims %r" % (claims,)
        with self.lock:
            if claims.get("jti") in self.seen_jtis or not claims.get("jti"):
                return client_id, "", "private_key_jwt: jti replayed"
            self.seen_jtis.add(claims["jti"])
        return client_id, None, "private_key_jwt"

    def _dpop_check(self, handler, record):
        # type: (BaseHTTPRequestHandler, Dict[str, Any]) -> Any
        """The token request's DPoP proof: (False: answered already) or the jkt to bind
        (None when the request has no proof)."""
        proof = record["headers"].get("dpop")
        if not self.dpop or proof is None:
            return None
        problem, header, claims = check_dpop_proof(proof, "POST", self.issuer + "/token")
        record["dpop"] = {"problem": problem, "header": header, "claims": claims}
        if problem is not None:
            self._reply(handler, 400, {"error": "invalid_dpop_proof", "error_description": problem})
            return False
        if self.dpop_nonce is not None and claims.get("nonce") != self.dpop_nonce:
            # RFC 9449 §8: "use_dpop_nonce" with the nonce to use in a DPoP-Nonce header.
            self._reply(handler, 400, {"error": "use_dpop_nonce"}, {"DPoP-Nonce": self.dpop_nonce})
            return False
        return jwk_thumbprint(header["jwk"])

    def _exchange(self, handler, form):
        # type: (BaseHTTPRequestHandler, Dict[str, str]) -> None
        """The identity provider's RFC 8693 token exchange: an ID token for an ID-JAG."""
        problems = [name for name, wanted in (("subject_token_type", ID_TOKEN), ("requested_token_type", ID_JAG))
                    if form.get(name) != wanted]
        problems += [name for name in ("audience", "resource") if not form.get(name)]
        if form.get("subject_token") not in (self.idp_id_tokens or ()):
            problems.append("subject_token")
        if problems:
            self._reply(handler, 400, {"error": "invalid_request", "error_description": ", ".join(problems)})
            return
        claims = {"iss": self.issuer, "aud": form["audience"], "resource": form["resource"],
                  "jti": secrets.token_hex(8)}
        jag = "%s.%s.sig" % (b64url(json.dumps({"typ": "oauth-id-jag+jwt", "alg": "ES256"}).encode()),
                             b64url(json.dumps(claims).encode()))
        with self.lock:
            self.jags[jag] = claims
        self._reply(handler, 200, {"access_token": jag, "issued_token_type": self.issued_token_type,
                                   "token_type": "N_A"})

    def _token(self, handler, record):
        # type: (BaseHTTPRequestHandler, Dict[str, Any]) -> None
        form = record["form"]
        client_id, secret, method = self._client_auth(record)
        record["client_auth"] = (client_id, secret, method)
        client = self._known_client(client_id)
        if client is None or client["secret"] != secret or (client.get("jwt") and method != "private_key_jwt"):
            self._reply(handler, 401, {"error": "invalid_client", "error_description": method})
            return
        jkt = self._dpop_check(handler, record)
        if jkt is False:
            return
        grant = form.get("grant_type")
        if grant == TOKEN_EXCHANGE and self.idp_id_tokens is not None:
            self._exchange(handler, form)
            return
        if grant == "authorization_code":
            with self.lock:
                issued = self.codes.pop(form.get("code", ""), None)
            if issued is None or issued["client_id"] != client_id:
                self._reply(handler, 400, {"error": "invalid_grant", "error_description": "unknown code"})
                return
            if issued["redirect_uri"] != form.get("redirect_uri"):
                self._reply(handler, 400, {"error": "invalid_grant", "error_description": "redirect_uri"})
                return
            if b64url_sha256(form.get("code_verifier", "")) != issued["challenge"]:
                self._reply(handler, 400, {"error": "invalid_grant", "error_description": "PKCE verification"})
                return
            if issued["resource"] != form.get("resource"):
                self._reply(handler, 400, {"error": "invalid_target", "error_description": "resource"})
                return
            scope, resource = issued["scope"], issued["resource"]
        elif grant == "refresh_token":
            if self.on_refresh is not None:
                self.on_refresh(record)
            if self.hold_refresh:
                with self.refresh_arrivals:
                    self.refresh_count += 1
                    self.refresh_arrivals.notify_all()
                    self.refresh_arrivals.wait_for(lambda: self.refresh_count >= 2, self.hold_refresh)
            with self.lock:
                # Refresh token rotation (OAuth 2.1 §4.3.1, for public clients): a refresh
                # token is good once; the answer carries its successor.
                grant_info = self.refresh.pop(form.get("refresh_token", ""), None)
            if grant_info is None or grant_info["client_id"] != client_id:
                self._reply(handler, 400, {"error": "invalid_grant", "error_description": "unknown refresh token"})
                return
            if form.get("resource") not in (None, grant_info["resource"]):
                self._reply(handler, 400, {"error": "invalid_target"})
                return
            if grant_info.get("jkt") is not None and jkt != grant_info["jkt"]:
                # RFC 9449 §5: a bound refresh token needs "a DPoP proof for the same key
                # that was used to obtain the refresh token".
                self._reply(handler, 400, {"error": "invalid_dpop_proof",
                                           "error_description": "the refresh token is bound to another key"})
                return
            scope, resource = grant_info["scope"], grant_info["resource"]
        elif grant == "client_credentials":
            if secret is None and method != "private_key_jwt":
                self._reply(handler, 400, {"error": "unauthorized_client"})
                return
            scope, resource = form.get("scope", ""), form.get("resource")
        elif grant == JWT_BEARER:
            if not form.get("assertion", "").startswith("eyJ"):
                self._reply(handler, 400, {"error": "invalid_grant", "error_description": "not a JWT"})
                return
            if self.jag_issuer is not None:
                issued = self.jag_issuer.jags.get(form["assertion"])
                if issued is None or issued["aud"] != self.issuer or issued["resource"] != form.get("resource"):
                    self._reply(handler, 400, {"error": "invalid_grant", "error_description": "not our ID-JAG"})
                    return
            scope, resource = form.get("scope", ""), form.get("resource")
        else:
            self._reply(handler, 400, {"error": "unsupported_grant_type"})
            return
        access = self.token_prefix + secrets.token_urlsafe(12)
        answer = {"access_token": access, "token_type": "Bearer", "scope": scope}  # type: Dict[str, Any]
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        with self.lock:
            if jkt is not None and not self.dpop_bearer_access:
                answer["token_type"] = "DPoP"
                self.dpop_bound[access] = jkt
            self.tokens[access] = scope.split()
            if self.refresh_tokens and grant in ("authorization_code", "refresh_token"):
                refresh = self.refresh_prefix + secrets.token_urlsafe(12)
                # (bound to the proof's key, if any: the refresh token of a public client
                # "MUST be bound to the respective public key", RFC 9449 §5)
                self.refresh[refresh] = {"client_id": client_id, "scope": scope, "resource": resource, "jkt": jkt}
                answer["refresh_token"] = refresh
        self._reply(handler, 200, answer)

    # -- a browser, and the resource server's verifier ------------------------------------

    def follow_once(self, url):
        # type: (str) -> str
        """The user agent: GET the authorization URL, do not follow the redirect, return
        its Location (the user signs in at once)."""
        import http.client
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        try:
            conn.request("GET", parts.path + "?" + parts.query)
            response = conn.getresponse()
            response.read()
            location = response.getheader("Location")
        finally:
            conn.close()
        assert response.status == 302 and location, "the authorization endpoint answered %d" % response.status
        return location

    def verify(self, token):
        # type: (str) -> Optional[AccessToken]
        scopes = self.tokens.get(token)
        return AccessToken(scopes, subject=token) if scopes is not None else None

    def revoke_all(self):
        # type: () -> None
        with self.lock:
            self.tokens.clear()


def build_app():
    # type: () -> Server
    app = Server("protected", version="1.0.0")

    @app.tool()
    def whoami(ctx: Context) -> str:
        """The token this request carried, and its scopes"""
        principal = ctx.principal
        return "%s %s" % (principal.subject, " ".join(sorted(principal.scopes)))

    @app.tool()
    def add(a: int, b: int) -> int:
        """Adds"""
        return a + b

    @app.tool()
    def admin_tool() -> str:
        """Needs the admin scope as well"""
        return "admin ok"

    @app.tool()
    def never_enough() -> str:
        """Refused whatever the token (403 insufficient_scope)"""
        return "unreachable"

    @app.tool()
    def ever_more() -> str:
        """Asks for a new scope every time"""
        return "unreachable"

    @app.tool()
    def forbidden() -> str:
        """403 without insufficient_scope"""
        return "unreachable"

    return app


class McpServer:
    """The protected MCP server; ``entries`` records every HTTP request it answered."""

    def __init__(self, verify: Callable[[str], Any], authorization_servers: Sequence[str],
                 required_scopes: Sequence[str] = ("mcp",), scopes_supported: Optional[Sequence[str]] = None,
                 resource: Optional[str] = None, drop_resource_metadata: bool = False, dpop: bool = False,
                 dpop_bound: Optional[Dict[str, str]] = None, dpop_nonce: Optional[str] = None,
                 dpop_nonce_never_accepted: bool = False, bearer_challenge_first: bool = False,
                 nonce_on_get: bool = False, **options: Any) -> None:
        self.dpop = dpop
        self.bearer_challenge_first = bearer_challenge_first
        self.nonce_on_get = nonce_on_get
        self.nonces_given = 0
        self.dpop_bound = dpop_bound if dpop_bound is not None else {}
        self.dpop_nonce = dpop_nonce
        self.dpop_nonce_never_accepted = dpop_nonce_never_accepted
        self.proofs = []  # type: List[Dict[str, Any]]   # every DPoP request: method, token, problem, claims
        self.app = build_app()
        self.verify = verify
        self.auth = BearerAuth(lambda token: self.verify(token), resource="http://127.0.0.1/mcp",
                               authorization_servers=list(authorization_servers), required_scopes=required_scopes,
                               scopes_supported=scopes_supported)
        self.handle = self.app.run_in_thread("http", port=0, auth=self.auth, **options)
        self.url = self.handle.url
        # The canonical URL is known once the port is: "resource" names this very server.
        self.auth.resource = resource if resource is not None else self.url
        self.entries = []  # type: List[Dict[str, Any]]
        self.lock = threading.Lock()
        self.counter = 0
        inner = self.handle.app.handle

        def handle_request(req):
            # type: (Any) -> Any
            sent_headers = dict(req.headers)
            response = self._dpop_gate(req) if self.dpop else None
            if response is None:
                response = self._per_tool_scope(req)
            if response is None:
                response = inner(req)
            if (self.nonce_on_get and req.method == "GET" and req.path == self.handle.app.path
                    and response is not None and response.status == 200):
                with self.lock:
                    self.nonces_given += 1
                    self.dpop_nonce = "get-nonce-%d" % self.nonces_given
                response.headers = list(response.headers) + [("DPoP-Nonce", self.dpop_nonce)]
            if drop_resource_metadata and response is not None:
                # A server whose challenge does not say where its metadata is: the client
                # must try the well-known URLs.
                response.headers = [(name, re.sub(r'resource_metadata="[^"]*"(, )?', "", value))
                                    if name.lower() == "www-authenticate" else (name, value)
                                    for name, value in response.headers]
            try:
                message = json.loads(req.body.decode("utf-8")) if req.body else None
            except ValueError:
                message = None
            entry = {"method": req.method, "path": req.path, "headers": sent_headers, "body": message,
                     "status": response.status if response is not None else None,
                     "www_authenticate": dict((n.lower(), v) for n, v in response.headers).get("www-authenticate")
                     if response is not None else None}
            with self.lock:
                self.entries.append(entry)
            return response

        self.handle.app.handle = handle_request

    def _dpop_gate(self, req):
        # type: (Any) -> Any
        """RFC 9449 §7: a DPoP-bound token only with the DPoP scheme and a valid proof for
        this request (and this server's nonce, when it wants one); then BearerAuth checks
        the token itself."""
        authorization = req.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        metadata = 'resource_metadata="%s"' % self.auth.metadata_url(self.handle.app.path)
        if scheme.lower() == "bearer" and token in self.dpop_bound:
            return self._unauthorized('DPoP error="invalid_token", ' + metadata)
        if scheme.lower() != "dpop":
            return None
        problem, header, claims = check_dpop_proof(req.headers.get("dpop"), req.method, self.url, token,
                                                   self.dpop_bound.get(token))
        with self.lock:
            self.proofs.append({"method": req.method, "token": token, "problem": problem, "header": header,
                                "claims": claims})
        if problem is not None:
            return self._unauthorized('DPoP error="invalid_dpop_proof", ' + metadata)
        if self.dpop_nonce is not None and (claims.get("nonce") != self.dpop_nonce or self.dpop_nonce_never_accepted):
            return self._unauthorized('DPoP error="use_dpop_nonce", ' + metadata, {"DPoP-Nonce": self.dpop_nonce})
        req.headers["authorization"] = "Bearer " + token
        return None

    def _unauthorized(self, challenge, headers=None):
        # type: (str, Optional[Dict[str, str]]) -> HttpResponse
        if self.bearer_challenge_first:
            # Two challenges in one header, the Bearer one first (a server taking both
            # schemes): the client must read the DPoP one's error.
            challenge = 'Bearer error="invalid_token", %s' % challenge
        extra = [(name, value) for name, value in (headers or {}).items()]
        return HttpResponse(401, [("Content-Type", "application/json"), ("WWW-Authenticate", challenge)] + extra,
                            b'{"error": "unauthorized"}')

    def _per_tool_scope(self, req):
        # type: (Any) -> Any
        """A 403 insufficient_scope for a tool that needs more than the server-wide scopes."""
        if req.method != "POST" or req.path != self.handle.app.path:
            return None
        try:
            message = json.loads(req.body.decode("utf-8"))
        except ValueError:
            return None
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            return None
        name = (message.get("params") or {}).get("name")
        authorization = req.headers.get("authorization", "")
        token = authorization[7:] if authorization.lower().startswith("bearer ") else ""
        principal = self.verify(token)
        if principal is None:
            return None  # BearerAuth answers 401
        scopes = principal.scopes
        if name == "admin_tool" and "admin" not in scopes:
            needed = "admin"
        elif name == "never_enough":
            needed = "admin"
        elif name == "ever_more":
            with self.lock:
                self.counter += 1
                needed = "extra%d" % self.counter
        elif name == "forbidden":
            return self._refuse(message, 'Bearer error="access_denied"', "Forbidden")
        else:
            return None
        challenge = 'Bearer error="insufficient_scope", scope="%s", resource_metadata="%s"' % (
            needed, self.auth.metadata_url(self.handle.app.path))
        return self._refuse(message, challenge, "Insufficient scope: needs " + needed)

    @staticmethod
    def _refuse(message, challenge, text):
        # type: (Dict[str, Any], str, str) -> HttpResponse
        body = json.dumps({"jsonrpc": "2.0", "id": message.get("id"),
                           "error": {"code": -32600, "message": text}}).encode("utf-8")
        return HttpResponse(403, [("Content-Type", "application/json"), ("WWW-Authenticate", challenge)], body)

    def since(self, mark=0):
        # type: (int) -> List[Dict[str, Any]]
        with self.lock:
            return list(self.entries[mark:])

    def mark(self):
        # type: () -> int
        with self.lock:
            return len(self.entries)

    def get_paths(self):
        # type: () -> List[str]
        return [e["path"] for e in self.since() if e["method"] == "GET"]

    def stop(self):
        # type: () -> None
        self.handle.stop()
