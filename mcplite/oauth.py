"""The client side of MCP authorization: what ``Client.http(url, auth=OAuth(...))`` does
when the server answers 401 (or 403 for a missing scope).

    client = Client.http("https://example.com/mcp", auth=OAuth())  # a browser sign-in

On a 401 the OAuth finds the server's protected-resource metadata (RFC 9728: the
``resource_metadata`` of the challenge, then the well-known URLs), checks that it names
this server, finds its authorization server's metadata (RFC 8414 and OpenID Connect
discovery, in the order the MCP spec gives), identifies the client (pre-registered, a
Client ID Metadata Document, or dynamic registration, RFC 7591), and gets a token:
authorization code with PKCE S256 (the person signs in through ``authorize``), client
credentials, or a JWT bearer assertion. The ``resource`` parameter (RFC 8707) names the
server in every authorization and token request. The request that was refused is then
sent again with the token.

Later: a 401 with a token re-reads the metadata (a new authorization server means a new
registration and nothing reused from the old one), then refreshes the token or signs in
again; a 403 ``insufficient_scope`` asks for the union of the scopes held and the ones
the challenge names ("step-up"), once per new scope, at most ``max_authorizations`` times
for one request. (auth.py is the other side: the resource server.)

Tokens and registrations live in a ``storage`` (``MemoryTokenStorage`` by default;
``FileTokenStorage`` keeps them across runs, readable by its owner only).
"""

import base64
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .jsonrpc import INTERNAL_ERROR, MCPError
from .logs import LazyLogger

_oauth_log = LazyLogger("mcplite.oauth")

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_GRANTS = ("authorization_code", "client_credentials", "jwt_bearer")
# An auth-param of a WWW-Authenticate challenge: name=token or name="quoted string".
_AUTH_PARAM = re.compile(r'([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)')
_LOOPBACK = frozenset(("localhost", "127.0.0.1", "::1"))


def _sha256(data: bytes) -> bytes:
    import hashlib  # loads OpenSSL: paid by a sign-in, not by importing the one-file mcplite
    return hashlib.sha256(data).digest()


class AuthorizationError(MCPError):
    """Getting a token failed, or was refused for the user's safety (metadata naming
    another server, an issuer mismatch, a wrong ``state`` or ``iss``, no PKCE, too many
    attempts). ``status`` is the HTTP status (401 or 403) that started it."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(INTERNAL_ERROR, message)
        self.status = status


def parse_challenge(header: Optional[str]) -> Dict[str, str]:
    """The auth-params of a ``WWW-Authenticate`` header, with the scheme under
    ``"scheme"`` (lower case). Of several challenges, the first one's values win."""
    if not header:
        return {}
    params = {"scheme": header.strip().split(" ", 1)[0].lower()}
    for name, value in _AUTH_PARAM.findall(header):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(name.lower(), value)
    return params


def _scopes(value: Any) -> List[str]:
    return value.split() if isinstance(value, str) else []


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc)


def _same_resource(resource: str, server_url: str) -> bool:
    """Whether protected-resource metadata's ``resource`` identifies this server: the
    same origin, and a path that is the server's own or one of its parents."""
    ours, theirs = urllib.parse.urlsplit(server_url), urllib.parse.urlsplit(resource)
    if theirs.fragment or (theirs.scheme.lower(), theirs.hostname, theirs.port) != \
            (ours.scheme.lower(), ours.hostname, ours.port):
        return False
    mine, named = ours.path.rstrip("/"), theirs.path.rstrip("/")
    return mine == named or mine.startswith(named + "/")


def _require_secure(url: Any, what: str) -> str:
    """"All authorization server endpoints MUST be served over HTTPS": http is accepted
    for a loopback host only (a development server)."""
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
        raise AuthorizationError("the %s %r is not an https URL" % (what, url))
    return url


class MemoryTokenStorage:
    """Tokens and client registrations in this process only (the default). A storage is
    anything with ``get(key) -> dict or None`` and ``set(key, dict or None)``."""

    def __init__(self) -> None:
        self._items = {}  # type: Dict[str, Dict[str, Any]]
        self._lock = threading.Lock()

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            item = self._items.get(key)
            return dict(item) if item is not None else None

    def set(self, key: str, value: Optional[Dict[str, Any]]) -> None:
        with self._lock:
            if value is None:
                self._items.pop(key, None)
            else:
                self._items[key] = dict(value)


_file_locks = {}  # type: Dict[str, threading.Lock]   # one per token file in this process
_file_locks_guard = threading.Lock()


class FileTokenStorage:
    """Tokens and registrations in a JSON file, readable and writable by its owner only
    (mode 0600) and replaced whole on each change, so a crash never leaves half a file.
    Storages of one file in one process share a lock (two clients, one file)."""

    def __init__(self, path: str) -> None:
        self.path = os.path.expanduser(path)
        with _file_locks_guard:
            self._lock = _file_locks.setdefault(os.path.realpath(self.path), threading.Lock())

    def _load(self) -> Dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                items = json.load(handle)
        except FileNotFoundError:
            return {}
        except ValueError:
            _oauth_log.warning("ignored the token file %s: it is not JSON", self.path)
            return {}
        return items if isinstance(items, dict) else {}

    def get(self, key: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            item = self._load().get(key)
            return item if isinstance(item, dict) else None

    def set(self, key: str, value: Optional[Dict[str, Any]]) -> None:
        with self._lock:
            items = self._load()
            if value is None:
                items.pop(key, None)
            else:
                items[key] = value
            import tempfile  # a new file of our own (mode 0600, never an existing one or a link)
            descriptor, temporary = tempfile.mkstemp(prefix=os.path.basename(self.path) + ".",
                                                     dir=os.path.dirname(os.path.abspath(self.path)))
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    json.dump(items, handle, indent=1, sort_keys=True)
                os.replace(temporary, self.path)
            except BaseException:
                if os.path.exists(temporary):
                    os.unlink(temporary)
                raise


class TerminalAuthorizer:
    """The default ``authorize`` step, for a person at a terminal: prints the sign-in URL
    on stderr (and opens a browser, unless ``open_browser=False``), then catches the
    redirect on ``http://127.0.0.1:<port>/callback`` - a port of its own (``port=0``
    picks a free one once, then keeps it: the URL is part of the registration)."""

    def __init__(self, port: int = 0, open_browser: bool = True, timeout: float = 300.0) -> None:
        self.port = port
        self.open_browser = open_browser
        self.timeout = timeout
        self._server = None  # type: Any
        self._caught = []  # type: List[str]   # the callback URL, once the browser came back

    @property
    def redirect_uri(self) -> str:
        if self.port == 0:
            # A free port, chosen once; nothing listens on it until a sign-in starts.
            import socket
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        return "http://127.0.0.1:%d/callback" % self.port

    def _listen(self) -> None:
        if self._server is not None:
            return
        import http.server

        caught = []  # type: List[str]

        class _Callback(http.server.BaseHTTPRequestHandler):
            timeout = 2.0  # an idle connection (a browser's preconnect) must not hold the wait

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parts.query)
                if parts.path != "/callback" or not ("code" in query or "error" in query):
                    self.send_error(404)
                    return
                caught.append(self.path)
                body = b"<!doctype html><p>Signed in. You can close this window.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass  # nothing on stdout or stderr but the URL to open

        self.redirect_uri  # picks the port, if not yet done
        self._server = http.server.HTTPServer(("127.0.0.1", self.port), _Callback)
        self._server.timeout = 1.0
        self._caught = caught

    def __call__(self, url: str) -> str:
        self._listen()
        print("Sign in to continue: open this URL in a browser:\n  %s" % url, file=sys.stderr, flush=True)
        if self.open_browser:
            try:
                import webbrowser
                webbrowser.open(url)
            except Exception:  # no browser here: the printed URL is enough
                pass
        deadline = time.monotonic() + self.timeout
        try:
            while not self._caught and time.monotonic() < deadline:
                self._server.handle_request()
        finally:
            self._server.server_close()
            self._server = None
        if not self._caught:
            raise AuthorizationError("nobody signed in within %d s" % self.timeout)
        return self._caught[0]


class OAuth:
    """What ``Client.http(url, auth=...)`` does on a 401 (see the module's text).

    Client identity, the first that applies: ``client_id`` (and ``client_secret``) of a
    pre-registered client; ``client_metadata_url``, an https URL of a Client ID Metadata
    Document, when the authorization server supports those; a dynamic registration (as
    ``client_name``), kept in ``storage`` per authorization server.

    ``grant``: "authorization_code" (default: a person signs in; ``authorize(url) ->
    redirected URL`` does the browser part, ``TerminalAuthorizer()`` by default, and
    ``redirect_uri`` is the authorizer's unless given), "client_credentials" (a machine
    with a client id and secret), or "jwt_bearer" (``assertion``: a JWT, or a function
    returning a fresh one). ``token_endpoint_auth_method``: "client_secret_basic",
    "client_secret_post" or "none"; by default what the registration or the server's
    metadata says. ``scope``: asked for when the server's challenge names none (else the
    metadata's ``scopes_supported``; else no scope).
    """

    def __init__(self, *, client_id: Optional[str] = None, client_secret: Optional[str] = None,
                 token_endpoint_auth_method: Optional[str] = None, client_metadata_url: Optional[str] = None,
                 client_name: str = "mcplite", redirect_uri: Optional[str] = None,
                 authorize: Optional[Callable[[str], str]] = None, scope: Optional[str] = None,
                 grant: str = "authorization_code", assertion: Any = None, storage: Any = None,
                 max_authorizations: int = 3, application_type: str = "native", timeout: float = 30.0) -> None:
        if grant not in _GRANTS:
            raise ValueError("grant is one of %s, not %r" % (", ".join(_GRANTS), grant))
        if grant == "client_credentials" and not (client_id and client_secret):
            raise ValueError("the client_credentials grant needs client_id and client_secret")
        if grant == "jwt_bearer" and assertion is None:
            raise ValueError("the jwt_bearer grant needs an assertion (a JWT, or a function returning one)")
        if token_endpoint_auth_method not in (None, "client_secret_basic", "client_secret_post", "none"):
            raise ValueError("token_endpoint_auth_method %r is not supported" % (token_endpoint_auth_method,))
        if client_metadata_url is not None:
            _require_secure(client_metadata_url, "client metadata document URL")
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_endpoint_auth_method = token_endpoint_auth_method
        self.client_metadata_url = client_metadata_url
        self.client_name = client_name
        self.scope = scope
        self.grant = grant
        self.assertion = assertion
        self.storage = storage if storage is not None else MemoryTokenStorage()
        self.max_authorizations = max_authorizations
        self.application_type = application_type
        self.timeout = timeout
        self._redirect_uri = redirect_uri
        self._authorize = authorize
        self._lock = threading.Lock()
        self._generation = 1
        self._server_url = None  # type: Optional[str]
        self._fetch = None  # type: Any
        self._requested = []  # type: List[str]   # the scopes asked for last
        # The tokens in use, read from storage once (a file is not read on every request).
        self._tokens = None  # type: Optional[Dict[str, Any]]
        self._loaded = False

    # -- what the channel uses ------------------------------------------------------

    def bind(self, server_url: str, fetch: Callable[..., Tuple[int, Dict[str, str], bytes]]) -> None:
        """Attach to the MCP endpoint ``server_url``; ``fetch`` makes plain HTTP requests
        (with the channel's TLS and proxy settings)."""
        if self._server_url not in (None, server_url):
            raise ValueError("this OAuth already serves %s: make one per server" % self._server_url)
        self._server_url = server_url
        self._fetch = fetch

    def header(self) -> Tuple[int, Optional[str]]:
        """The current token's generation, and the ``Authorization`` value (None: no token)."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._tokens = self._usable(self.storage.get(self._tokens_key()))
                    self._loaded = True
        generation, tokens = self._generation, self._tokens
        return generation, "Bearer " + tokens["access_token"] if tokens is not None else None

    @staticmethod
    def _usable(tokens: Any) -> Optional[Dict[str, Any]]:
        return tokens if isinstance(tokens, dict) and isinstance(tokens.get("access_token"), str) else None

    def _keep(self, tokens: Optional[Dict[str, Any]]) -> None:
        """Tokens from now on (None: none), stored and in use; requests sent with the old
        ones are told apart by the generation."""
        self.storage.set(self._tokens_key(), tokens)
        self._tokens, self._loaded = tokens, True
        self._generation += 1

    def recover(self, status: int, challenge: Optional[str], generation: int, attempt: int) -> bool:
        """A request sent with token ``generation`` was refused with ``status``: True when
        there is now a token worth sending it again with. Raises AuthorizationError when
        getting one failed; False when the refusal is not about authorization."""
        params = parse_challenge(challenge)
        with self._lock:
            if generation != self._generation:
                return True  # another thread got a new token meanwhile
            if status == 403 and params.get("error") != "insufficient_scope":
                return False  # forbidden for good: more scopes would not help
            if attempt >= self.max_authorizations:
                raise AuthorizationError("still refused (HTTP %d) after %d authorizations" % (status, attempt), status)
            tokens = self._usable(self.storage.get(self._tokens_key()))
            if tokens is not None and tokens.get("access_token") != (self._tokens or {}).get("access_token"):
                self._keep(tokens)  # another process sharing the storage got a new token
                return True
            scope = None  # type: Optional[List[str]]
            if status == 403:
                # Step-up: "clients SHOULD ... request the union of previously requested
                # scopes and the newly required ones" - but not the same set again.
                held = set(self._requested) | set(_scopes((tokens or {}).get("scope")))
                needed = _scopes(params.get("scope"))
                if needed and set(needed) <= held and tokens is not None:
                    raise AuthorizationError("the server still refuses (insufficient_scope) with the scopes %s, "
                                             "which were already asked for" % " ".join(needed), 403)
                scope = sorted(held | set(needed))
            self._obtain(params, scope, tokens, status)
            return True

    # -- the flow ---------------------------------------------------------------------

    def _tokens_key(self) -> str:
        return "tokens " + (self._server_url or "")

    def _obtain(self, challenge: Dict[str, str], scope: Optional[List[str]], tokens: Optional[Dict[str, Any]],
                status: int) -> None:
        metadata, issuer, resource, resource_metadata = self._discover(challenge, status)
        if tokens is not None and tokens.get("issuer") != issuer:
            # The server moved to another authorization server: nothing of the old one is
            # sent to the new one (its registration is stored under its own issuer).
            _oauth_log.info("the authorization server changed to %s: starting again", issuer)
            self._keep(None)
            tokens = None
        if status == 401 and tokens is not None and tokens.get("refresh_token"):
            refreshed = self._refresh(metadata, issuer, resource, tokens)
            if refreshed is not None:
                self._keep(refreshed)
                return
        if scope is None:
            scope = (_scopes(challenge.get("scope")) or _scopes(self.scope)
                     or [s for s in (resource_metadata or {}).get("scopes_supported") or () if isinstance(s, str)])
        if self.grant == "authorization_code" and "S256" not in (metadata.get("code_challenge_methods_supported") or ()):
            # "If code_challenge_methods_supported is absent, the authorization server does
            # not support PKCE and MCP clients MUST refuse to proceed." (Before registering.)
            raise AuthorizationError("the authorization server %s does not support PKCE with S256" % issuer)
        client = self._client(metadata, issuer)
        if self.grant == "authorization_code":
            new = self._authorization_code(metadata, issuer, client, resource, scope)
        else:
            form = {"grant_type": "client_credentials"} if self.grant == "client_credentials" else {
                "grant_type": JWT_BEARER_GRANT,
                "assertion": self.assertion() if callable(self.assertion) else self.assertion}
            if scope:
                form["scope"] = " ".join(scope)
            new = self._token_request(metadata, client, form, resource)
        self._requested = list(scope)
        new.setdefault("scope", " ".join(scope))
        new["issuer"] = issuer
        self._keep(new)

    def _get_json(self, url: str) -> Optional[Dict[str, Any]]:
        try:
            _require_secure(url, "metadata URL")  # nothing is fetched from elsewhere for a server's say-so
            status, _, body = self._fetch("GET", url, headers={"Accept": "application/json"}, timeout=self.timeout)
        except (MCPError, ValueError) as exc:
            _oauth_log.debug("%s: %s", url, exc)
            return None
        if status != 200:
            return None
        try:
            document = json.loads(body.decode("utf-8"))
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    def _discover(self, challenge: Dict[str, str], status: int
                  ) -> Tuple[Dict[str, Any], str, str, Optional[Dict[str, Any]]]:
        """The authorization server's metadata, its issuer, the ``resource`` to name, and
        the protected-resource metadata (None for a 2025-03-26 server without one)."""
        server_url = self._server_url or ""
        parts = urllib.parse.urlsplit(server_url)
        origin = _origin(server_url)
        # "MCP clients MUST ... use the resource_metadata URL from the WWW-Authenticate
        # header when present; otherwise ... the well-known URIs": path-inserted, then root.
        candidates = []  # type: List[str]
        if challenge.get("resource_metadata"):
            candidates.append(urllib.parse.urljoin(server_url, challenge["resource_metadata"]))
        if parts.path.strip("/"):
            candidates.append(origin + "/.well-known/oauth-protected-resource" + parts.path.rstrip("/"))
        candidates.append(origin + "/.well-known/oauth-protected-resource")
        resource_metadata = None
        for url in candidates:
            resource_metadata = self._get_json(url)
            if resource_metadata is not None:
                break
        if resource_metadata is not None:
            resource = resource_metadata.get("resource")
            if not isinstance(resource, str) or not _same_resource(resource, server_url):
                # RFC 9728: metadata whose resource is not the one asked about "MUST NOT
                # be used" - it could send our sign-in to someone else's server.
                raise AuthorizationError("the protected-resource metadata names %r, not this server (%s)"
                                         % (resource, server_url), status)
            servers = resource_metadata.get("authorization_servers")
            if not isinstance(servers, list) or not servers or not isinstance(servers[0], str):
                raise AuthorizationError("the protected-resource metadata names no authorization server", status)
            issuer = servers[0]
        else:
            # A 2025-03-26 server: its own origin is the authorization server.
            resource, issuer = server_url.split("#")[0], origin
        _require_secure(issuer, "authorization server")
        metadata = None
        for url in self._metadata_urls(issuer):
            metadata = self._get_json(url)
            if metadata is not None:
                break
        if metadata is None:
            if resource_metadata is not None:
                raise AuthorizationError("no metadata found for the authorization server %s" % issuer, status)
            # 2025-03-26: "clients MUST use the default endpoint paths" without metadata.
            metadata = {"issuer": issuer, "authorization_endpoint": issuer + "/authorize",
                        "token_endpoint": issuer + "/token", "registration_endpoint": issuer + "/register",
                        "code_challenge_methods_supported": ["S256"], "_defaults": True}
        elif resource_metadata is not None and metadata.get("issuer") != issuer:
            # RFC 8414 §3.3: "the issuer value returned MUST be identical to the
            # authorization server's issuer identifier value" it was discovered from.
            raise AuthorizationError("the authorization server metadata says issuer %r, not %r"
                                     % (metadata.get("issuer"), issuer), status)
        return metadata, issuer, resource, resource_metadata

    @staticmethod
    def _metadata_urls(issuer: str) -> List[str]:
        """RFC 8414 (path inserted after the well-known prefix) and OpenID Connect
        discovery (path inserted, then appended), in the order the MCP spec gives."""
        origin, path = _origin(issuer), urllib.parse.urlsplit(issuer).path.rstrip("/")
        if not path:
            return [origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"]
        return [origin + "/.well-known/oauth-authorization-server" + path,
                origin + "/.well-known/openid-configuration" + path,
                origin + path + "/.well-known/openid-configuration"]

    def _redirect(self) -> str:
        uri = self._redirect_uri or getattr(self._authorizer(), "redirect_uri", None)
        if not isinstance(uri, str):
            raise AuthorizationError("the authorization code grant needs a redirect_uri (give redirect_uri=)")
        return uri

    def _authorizer(self) -> Callable[[str], str]:
        if self._authorize is None:
            self._authorize = TerminalAuthorizer()
        return self._authorize

    def _client(self, metadata: Dict[str, Any], issuer: str) -> Dict[str, Any]:
        """The client's identity at this authorization server (client_id, client_secret,
        method), in the spec's order of preference."""
        supported = metadata.get("token_endpoint_auth_methods_supported")
        supported = supported if isinstance(supported, list) else None
        if self.client_id is not None:
            method = self.token_endpoint_auth_method
            if method is None:
                if not self.client_secret:
                    method = "none"
                elif supported is not None and "client_secret_basic" not in supported \
                        and "client_secret_post" in supported:
                    method = "client_secret_post"
                else:
                    method = "client_secret_basic"
            return {"client_id": self.client_id, "client_secret": self.client_secret, "method": method}
        if self.client_metadata_url is not None and metadata.get("client_id_metadata_document_supported") is True:
            return {"client_id": self.client_metadata_url, "client_secret": None, "method": "none"}
        key = "client " + issuer
        redirect = self._redirect() if self.grant == "authorization_code" else None
        stored = self.storage.get(key)
        if stored is not None and stored.get("redirect_uri") == redirect:
            return stored
        endpoint = metadata.get("registration_endpoint")
        if not isinstance(endpoint, str):
            raise AuthorizationError("%s offers no dynamic registration: give client_id= (a pre-registered client) "
                                     "or client_metadata_url=" % issuer)
        method = self.token_endpoint_auth_method
        if method is None:
            method = "none" if supported is None or "none" in supported else (
                "client_secret_basic" if "client_secret_basic" in supported else "client_secret_post")
        request = {"client_name": self.client_name, "token_endpoint_auth_method": method,
                   "application_type": self.application_type}  # type: Dict[str, Any]
        if redirect is not None:
            request.update(redirect_uris=[redirect], grant_types=["authorization_code", "refresh_token"],
                           response_types=["code"])
        else:
            request.update(grant_types=[JWT_BEARER_GRANT], response_types=[])
        status, _, body = self._fetch("POST", _require_secure(endpoint, "registration endpoint"),
                                      json.dumps(request).encode("utf-8"),
                                      {"Content-Type": "application/json", "Accept": "application/json"},
                                      timeout=self.timeout)
        answer = self._json_answer(status, body, "dynamic client registration", (200, 201))
        if not isinstance(answer.get("client_id"), str):
            raise AuthorizationError("the registration answer has no client_id")
        registered = {"client_id": answer["client_id"], "client_secret": answer.get("client_secret"),
                      "method": answer.get("token_endpoint_auth_method") or (
                          "client_secret_basic" if answer.get("client_secret") else "none"),
                      "redirect_uri": redirect}
        self.storage.set(key, registered)
        return registered

    def _authorization_code(self, metadata: Dict[str, Any], issuer: str, client: Dict[str, Any],
                            resource: str, scope: List[str]) -> Dict[str, Any]:
        supported = metadata.get("scopes_supported")
        if isinstance(supported, list) and "offline_access" in supported and "offline_access" not in scope:
            scope = scope + ["offline_access"]  # a refresh token, where the server offers them
        redirect = self._redirect()
        verifier = secrets.token_urlsafe(48)
        state = secrets.token_urlsafe(24)
        query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": redirect,
                 "code_challenge": _b64url(_sha256(verifier.encode("ascii"))),
                 "code_challenge_method": "S256", "state": state, "resource": resource}
        if scope:
            query["scope"] = " ".join(scope)
        endpoint = _require_secure(metadata.get("authorization_endpoint"), "authorization endpoint")
        url = endpoint + ("&" if "?" in endpoint else "?") + urllib.parse.urlencode(query)
        answer = self._authorizer()(url)
        if not isinstance(answer, str):
            raise AuthorizationError("the authorize step returned %r, not the redirected URL" % (answer,))
        got = dict(urllib.parse.parse_qsl(answer.split("?", 1)[1] if "?" in answer else answer.lstrip("?")))
        if got.get("state") != state:
            raise AuthorizationError("the authorization response's state does not match the request's")
        if "error" in got:
            raise AuthorizationError("the authorization server refused: %s%s" % (
                got["error"], " (%s)" % got["error_description"] if got.get("error_description") else ""))
        # RFC 9207: "clients MUST compare the iss parameter ... to the issuer" (exactly),
        # and refuse a response without one when the server said it sends it.
        if "iss" in got and got["iss"] != metadata.get("issuer"):
            raise AuthorizationError("the authorization response comes from issuer %r, not %r"
                                     % (got["iss"], metadata.get("issuer")))
        if "iss" not in got and metadata.get("authorization_response_iss_parameter_supported") is True:
            raise AuthorizationError("the authorization response has no iss, which %s promised" % issuer)
        if not got.get("code"):
            raise AuthorizationError("the authorization response has no code")
        form = {"grant_type": "authorization_code", "code": got["code"], "redirect_uri": redirect,
                "code_verifier": verifier}
        tokens = self._token_request(metadata, client, form, resource)
        tokens.setdefault("scope", " ".join(scope))
        return tokens

    def _refresh(self, metadata: Dict[str, Any], issuer: str, resource: str,
                 tokens: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """A new access token from the refresh token, or None (then sign in again)."""
        try:
            client = self._client(metadata, issuer)
            new = self._token_request(metadata, client, {"grant_type": "refresh_token",
                                                         "refresh_token": tokens["refresh_token"]}, resource)
        except AuthorizationError as exc:
            _oauth_log.info("refreshing the token failed (%s): signing in again", exc.message)
            return None
        new.setdefault("refresh_token", tokens["refresh_token"])  # it stays valid unless replaced
        new.setdefault("scope", tokens.get("scope", ""))
        new["issuer"] = issuer
        return new

    def _token_request(self, metadata: Dict[str, Any], client: Dict[str, Any], form: Dict[str, str],
                       resource: str) -> Dict[str, Any]:
        # RFC 8707: the resource parameter "MUST be included in both authorization
        # requests and token requests".
        form = dict(form, resource=resource)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        method = client.get("method") or "none"
        # client_id in the form whatever the method: RFC 6749 allows it with Basic too, and
        # some servers (the official Python SDK's) look for it there first.
        form["client_id"] = client["client_id"]
        if method == "client_secret_basic":
            # RFC 6749 §2.3.1: each part form-urlencoded, then joined by a colon.
            pair = "%s:%s" % (urllib.parse.quote(client["client_id"], safe=""),
                              urllib.parse.quote(client.get("client_secret") or "", safe=""))
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        elif method == "client_secret_post":
            form["client_secret"] = client.get("client_secret") or ""
        endpoint = _require_secure(metadata.get("token_endpoint"), "token endpoint")
        status, _, body = self._fetch("POST", endpoint, urllib.parse.urlencode(form).encode("ascii"), headers,
                                      timeout=self.timeout)
        answer = self._json_answer(status, body, "the token request", (200,))
        token = answer.get("access_token")
        token_type = answer.get("token_type", "Bearer")
        if not isinstance(token, str) or not token:
            raise AuthorizationError("the token answer has no access_token")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise AuthorizationError("the token is of type %r; only Bearer tokens are supported" % (token_type,))
        tokens = {"access_token": token}  # type: Dict[str, Any]
        if isinstance(answer.get("refresh_token"), str):
            tokens["refresh_token"] = answer["refresh_token"]
        if isinstance(answer.get("expires_in"), (int, float)) and not isinstance(answer["expires_in"], bool):
            tokens["expires_at"] = time.time() + answer["expires_in"]
        if isinstance(answer.get("scope"), str):
            tokens["scope"] = answer["scope"]
        return tokens

    @staticmethod
    def _json_answer(status: int, body: bytes, what: str, good: Iterable[int]) -> Dict[str, Any]:
        try:
            answer = json.loads(body.decode("utf-8"))
        except ValueError:
            answer = None
        if status in good and isinstance(answer, dict):
            return answer
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            raise AuthorizationError("%s failed: %s%s" % (what, answer["error"], " (%s)" % answer["error_description"]
                                                          if isinstance(answer.get("error_description"), str) else ""))
        raise AuthorizationError("%s failed: HTTP %d" % (what, status))
