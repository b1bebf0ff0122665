"""The client side of MCP authorization: what ``Client.http(url, auth=OAuth(...))`` does
when the server answers 401 (or 403 for a missing scope).

    client = Client.http("https://example.com/mcp", auth=OAuth())  # a browser sign-in

On a 401 the OAuth finds the server's protected-resource metadata (RFC 9728: the
``resource_metadata`` of the challenge, then the well-known URLs), checks that it names
this server, finds its authorization server's metadata (RFC 8414 and OpenID Connect
discovery, in the order the MCP spec gives), identifies the client (pre-registered, a
Client ID Metadata Document, or dynamic registration, RFC 7591), and gets a token:
authorization code with PKCE S256 (the person signs in through ``authorize``), client
credentials, a JWT bearer assertion, or an ID-JAG got from the user's enterprise
identity provider (RFC 8693 token exchange, then the JWT bearer grant). The client
authenticates with a secret or a signed client assertion (``private_key_jwt``, RFC 7523);
with ``dpop=True`` its tokens are bound to a key of its own (DPoP, RFC 9449) where the
authorization server supports it. The ``resource`` parameter (RFC 8707) names the server in
every authorization and token request. The request that was refused is then sent again with
the token.

Later: a 401 with a token re-reads the metadata (a new authorization server means a new
registration and nothing reused from the old one), then refreshes the token or signs in
again; a 403 ``insufficient_scope`` asks for the union of the scopes held and the ones
the challenge names ("step-up"), once per new scope, at most ``max_authorizations`` times
for one request. (auth.py is the other side: the resource server.)

Tokens and registrations live in a ``storage`` (``MemoryTokenStorage`` by default;
``FileTokenStorage`` keeps them across runs, readable by its owner only).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from .errors import AuthorizationError, TransportError
from .ports import ClientAuth
from .logs import LazyLogger
from .loopback import is_loopback_host

_oauth_log = LazyLogger("mcplite.oauth")

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ID_JAG_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id-jag"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
_GRANTS = ("authorization_code", "client_credentials", "jwt_bearer", "id_jag")
_AUTH_METHODS = (None, "client_secret_basic", "client_secret_post", "private_key_jwt", "none")
# An item of a WWW-Authenticate header (RFC 9110 §11.6.1): an auth-param (name=token or
# name="quoted string"), else an auth-scheme that starts a challenge, with its token68 if it
# has one (a quoted string is consumed whole, so a scheme name inside one is not a scheme).
_AUTH_ITEM = re.compile(r'([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)'
                        r"|([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]+[A-Za-z0-9._~+/-]+=*(?=\s*(?:,|$)))?")
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" -
# what an access token must be to travel in "Authorization: Bearer" (or DPoP).
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _sha256(data: bytes) -> bytes:
    import hashlib  # loads OpenSSL: paid by a sign-in, not by importing the one-file mcplite
    return hashlib.sha256(data).digest()


def parse_challenge(header: Optional[str], prefer: Optional[str] = None) -> Dict[str, str]:
    """The auth-params of a ``WWW-Authenticate`` header, with the scheme under
    ``"scheme"`` (lower case). Of several challenges, the first one's values win - unless
    ``prefer`` names a scheme (``"dpop"``) one of them has: then that challenge's values
    win (and its scheme is the one named), the others' filling in what it lacks. A DPoP
    client reads ``Bearer error="invalid_token", DPoP error="use_dpop_nonce"`` as the
    nonce request it is for its DPoP request."""
    if not header:
        return {}
    challenges = []  # type: List[Tuple[str, List[Tuple[str, str]]]]
    for name, value, scheme in _AUTH_ITEM.findall(header):
        if scheme:
            challenges.append((scheme.lower(), []))
        else:
            if not challenges:  # a parameter before any scheme: kept, as the header's first word's
                challenges.append((header.strip().split(" ", 1)[0].lower(), []))
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            challenges[-1][1].append((name.lower(), value))
    if not challenges:
        return {}
    wanted = [c for c in challenges if prefer is not None and c[0] == prefer.lower()]
    ordered = wanted[:1] + [c for c in challenges if c is not wanted[0]] if wanted else challenges
    params = {"scheme": ordered[0][0]}
    for _, pairs in ordered:
        for name, value in pairs:
            params.setdefault(name, value)
    return params


def _scopes(value: Any) -> List[str]:
    return value.split() if isinstance(value, str) else []


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _basic(client_id: str, secret: str) -> str:
    """An ``Authorization: Basic`` value: RFC 6749 §2.3.1, each part form-urlencoded,
    then joined by a colon."""
    pair = "%s:%s" % (urllib.parse.quote(client_id, safe=""), urllib.parse.quote(secret, safe=""))
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return "%s://%s" % (parts.scheme, parts.netloc.rpartition("@")[2])  # never a user:password


def _b64token(value: Any) -> bool:
    return isinstance(value, str) and _B64TOKEN.fullmatch(value) is not None


def _issuer_of(metadata: Dict[str, Any]) -> str:
    """The authorization server's issuer identifier, from its metadata (the default
    endpoints' metadata carries the issuer they were made from): what a client assertion's
    ``aud`` and a token exchange's ``audience`` name. Never None or "None"."""
    issuer = metadata.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise AuthorizationError("the authorization server's metadata names no issuer (%r): it cannot be named "
                                 "as the audience of what the client signs or exchanges" % (issuer,))
    return issuer


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
            parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname or ""))):
        raise AuthorizationError("the %s %r is not an https URL" % (what, url))
    return url


def _signing_key(value: Any) -> Any:
    """An ``es256.ES256Key`` from a key or PEM text (PKCS#8 or SEC 1, P-256)."""
    from .es256 import ES256Key  # loaded only by an OAuth that signs
    if isinstance(value, ES256Key):
        return value
    if isinstance(value, (str, bytes)):
        return ES256Key.from_pem(value)
    raise TypeError("a signing key is PEM text or an ES256Key, not %s" % type(value).__name__)


def _error_code(body: bytes) -> Optional[str]:
    """The ``error`` of an OAuth error answer's JSON body, if it has one."""
    try:
        answer = json.loads(body.decode("utf-8"))
    except ValueError:
        return None
    return answer.get("error") if isinstance(answer, dict) and isinstance(answer.get("error"), str) else None


class MemoryTokenStorage:
    """Tokens and client registrations in this process only (the default). A storage is
    anything with ``get(key) -> dict or None`` and ``set(key, dict or None)`` (and, if it
    is shared between processes, ``exclusive()``: see ``FileTokenStorage``)."""

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


_file_locks = {}  # type: Dict[str, _TokenFileHold]   # one per token file in this process
_file_locks_guard = threading.Lock()


class _TokenFileLock:
    """An exclusive lock between processes on a token file (``flock`` on ``<path>.lock``,
    mode 0600; the file itself is replaced on each write, so it cannot carry the lock): two
    runs sharing a token file must not each rewrite it from what they read before the
    other's write, which drops the other's entries - a new token, a rotated refresh token.
    Where there is no ``fcntl`` (Windows) the lock is this process's only."""

    def __init__(self, path: str) -> None:
        self._path = path + ".lock"
        self._descriptor = None  # type: Optional[int]

    def __enter__(self) -> "_TokenFileLock":
        try:
            import fcntl
        except ImportError:
            return self
        descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # (closing releases the lock)
            self._descriptor = None


class _TokenFileHold:
    """A token file's lock in this process: a re-entrant thread lock, and the lock between
    processes (``_TokenFileLock``) while the outermost holder has it - so that a holder of
    ``FileTokenStorage.exclusive()`` can read and write the file (a second ``flock`` on
    another descriptor of the same file would wait for the first for ever)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.thread_lock = threading.RLock()
        self._depth = 0
        self._between = None  # type: Optional[_TokenFileLock]

    def __enter__(self) -> "_TokenFileHold":
        self.thread_lock.acquire()
        if self._depth == 0:
            between = _TokenFileLock(self.path)
            try:
                between.__enter__()
            except BaseException:
                self.thread_lock.release()
                raise
            self._between = between
        self._depth += 1
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._depth -= 1
        if self._depth == 0 and self._between is not None:
            self._between.__exit__()
            self._between = None
        self.thread_lock.release()


class FileTokenStorage:
    """Tokens and registrations in a JSON file, readable and writable by its owner only
    (mode 0600) and replaced whole on each change, so a crash never leaves half a file.
    Storages of one file in one process share a lock (two clients, one file), and
    processes sharing the file take turns to change it (``<path>.lock``, see
    ``_TokenFileLock``)."""

    def __init__(self, path: str) -> None:
        self.path = os.path.expanduser(path)
        real = os.path.realpath(self.path)
        with _file_locks_guard:
            hold = _file_locks.get(real)
            if hold is None:
                hold = _file_locks[real] = _TokenFileHold(self.path)
        self._hold = hold

    def exclusive(self) -> "_TokenFileHold":
        """A context manager: while it is held, this thread alone (and no other process that
        locks the file) changes the file; ``get`` and ``set`` work within it. OAuth holds it
        from reading the tokens to storing the refreshed ones, so that two processes do not
        both spend one refresh token, which a rotating authorization server takes once."""
        return self._hold

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
        with self._hold.thread_lock:
            item = self._load().get(key)
            return item if isinstance(item, dict) else None

    def set(self, key: str, value: Optional[Dict[str, Any]]) -> None:
        with self._hold:
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


@contextlib.contextmanager
def _no_hold() -> Iterator[None]:
    """What a storage without ``exclusive()`` is held with: nothing."""
    yield


def _open_browser(url: str) -> None:
    try:
        import webbrowser
        webbrowser.open(url)
    except Exception:  # no browser here: the printed URL is enough
        pass


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
            # On a thread of its own: webbrowser waits for a browser that $BROWSER names (a
            # console one, such as w3m) to exit, and that browser's request to the callback
            # must be answered meanwhile, by the loop below.
            threading.Thread(target=_open_browser, args=(url,), name="mcplite-browser", daemon=True).start()
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


class OAuth(ClientAuth):
    """What ``Client.http(url, auth=...)`` does on a 401 (see the module's text).

    Client identity, the first that applies: ``client_id`` (and ``client_secret``) of a
    pre-registered client; ``client_metadata_url``, an https URL of a Client ID Metadata
    Document, when the authorization server supports those; a dynamic registration (as
    ``client_name``), kept in ``storage`` per authorization server.

    ``grant``: "authorization_code" (default: a person signs in; ``authorize(url) ->
    redirected URL`` does the browser part, ``TerminalAuthorizer()`` by default, and
    ``redirect_uri`` is the authorizer's unless given), "client_credentials" (a machine
    with a client id and a secret or private key), "jwt_bearer" (``assertion``: a JWT, or a
    function returning a fresh one), or "id_jag" (enterprise-managed authorization, SEP-990:
    the user's identity provider exchanges ``id_token`` - their OpenID Connect ID token, or
    a function returning one - for an Identity Assertion JWT Authorization Grant at
    ``idp_token_endpoint``, as ``idp_client_id`` (with ``idp_client_secret`` if it has one;
    RFC 8693 token exchange, ``audience`` the authorization server's issuer, ``resource``
    this server), and that ID-JAG is the JWT bearer grant at the authorization server, where
    the client authenticates as ``client_id``/``client_secret``).

    ``token_endpoint_auth_method``: "client_secret_basic", "client_secret_post",
    "private_key_jwt" or "none"; by default what the registration or the server's metadata
    says, and "private_key_jwt" when ``private_key`` is given: a P-256 private key (PEM text,
    PKCS#8 or SEC 1, or an ``es256.ES256Key``) that signs an ES256 client assertion (RFC
    7523: ``iss`` = ``sub`` = the client id, ``aud`` = the authorization server's issuer,
    one minute of life, a fresh ``jti``) for every token request; it needs ``client_id``.

    ``dpop``: False (default) sends Bearer tokens only. True (or the key to use: an
    ``es256.ES256Key`` or PEM text) asks for DPoP-bound tokens (RFC 9449) from an
    authorization server whose metadata lists ES256 in ``dpop_signing_alg_values_supported``
    - elsewhere tokens stay Bearer, as before: opting in is the caller's choice, since a
    bound token needs its key kept with it. The key (else made once per OAuth on first use,
    P-256) signs a proof for each token request and,
    for a token the server issued as ``token_type`` DPoP, for every request to the MCP
    server (``Authorization: DPoP <token>`` and a new ``DPoP`` proof with ``htm``, ``htu``,
    ``ath``). Server nonces (``DPoP-Nonce``) are kept per server, the authorization and the
    resource server apart, and a ``use_dpop_nonce`` refusal is retried once with the new
    nonce. The key is stored with the tokens it binds (a FileTokenStorage keeps it, mode
    0600, beside the refresh token it protects) - also when the access token came back as
    Bearer but with a refresh token, which the server may have bound alone (RFC 9449 §5):
    every refresh proves that key. Stored tokens whose key does not load are not used (the
    client signs in again).

    ``scope``: asked for when the server's challenge names none (else the metadata's
    ``scopes_supported``; else no scope).
    """

    def __init__(self, *, client_id: Optional[str] = None, client_secret: Optional[str] = None,
                 token_endpoint_auth_method: Optional[str] = None, client_metadata_url: Optional[str] = None,
                 client_name: str = "mcplite", redirect_uri: Optional[str] = None,
                 authorize: Optional[Callable[[str], str]] = None, scope: Optional[str] = None,
                 grant: str = "authorization_code", assertion: Any = None, storage: Any = None,
                 max_authorizations: int = 3, application_type: str = "native", timeout: float = 30.0,
                 private_key: Any = None, dpop: Any = False, id_token: Any = None,
                 idp_token_endpoint: Optional[str] = None, idp_client_id: Optional[str] = None,
                 idp_client_secret: Optional[str] = None) -> None:
        if grant not in _GRANTS:
            raise ValueError("grant is one of %s, not %r" % (", ".join(_GRANTS), grant))
        if grant == "client_credentials" and not (client_id and (client_secret or private_key is not None)):
            raise ValueError("the client_credentials grant needs client_id and client_secret (or private_key)")
        if grant == "jwt_bearer" and assertion is None:
            raise ValueError("the jwt_bearer grant needs an assertion (a JWT, or a function returning one)")
        if grant == "id_jag" and not (client_id and id_token is not None and idp_token_endpoint and idp_client_id):
            raise ValueError("the id_jag grant needs client_id, id_token, idp_token_endpoint and idp_client_id")
        if token_endpoint_auth_method not in _AUTH_METHODS:
            raise ValueError("token_endpoint_auth_method %r is not supported" % (token_endpoint_auth_method,))
        if (private_key is not None or token_endpoint_auth_method == "private_key_jwt") and not (
                client_id and private_key is not None):
            raise ValueError("private_key_jwt needs client_id and private_key")
        if client_metadata_url is not None:
            _require_secure(client_metadata_url, "client metadata document URL")
        if idp_token_endpoint is not None:
            _require_secure(idp_token_endpoint, "identity provider's token endpoint")
        self.private_key = _signing_key(private_key) if private_key is not None else None
        self.dpop = bool(dpop)
        # The DPoP key: the caller's, else made on first use (a key costs a few ms).
        self._dpop_key = _signing_key(dpop) if dpop not in (True, False, None) else None
        self.id_token = id_token
        self.idp_token_endpoint = idp_token_endpoint
        self.idp_client_id = idp_client_id
        self.idp_client_secret = idp_client_secret
        # The last DPoP-Nonce of each server ("as <origin>" / "rs <origin>": RFC 9449 §8
        # and §9 nonces are each server's own).
        self._nonces = {}  # type: Dict[str, str]
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
        # The access token the storage was last seen to hold (read, or written by us): a
        # stored one that differs came from another process sharing the storage.
        self._stored = None  # type: Optional[str]
        self._registrations = {}  # type: Dict[str, Dict[str, Any]]   # the dynamic ones made here

    # -- what the channel uses ------------------------------------------------------

    def bind(self, server_url: str, fetch: Callable[..., Tuple[int, Dict[str, str], bytes]]) -> None:
        """Attach to the MCP endpoint ``server_url``; ``fetch`` makes plain HTTP requests
        (with the channel's TLS and proxy settings)."""
        if self._server_url not in (None, server_url):
            raise ValueError("this OAuth already serves %s: make one per server" % self._server_url)
        self._server_url = server_url
        self._fetch = fetch

    def _current(self) -> Tuple[int, Optional[Dict[str, Any]]]:
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._tokens = self._usable(self.storage.get(self._tokens_key()))
                    self._stored = (self._tokens or {}).get("access_token")
                    self._loaded = True
        return self._generation, self._tokens

    def header(self) -> Tuple[int, Optional[str]]:
        """The current token's generation, and the ``Authorization`` value (None: no token).
        (A DPoP token also needs the proof ``request_headers`` adds.)"""
        generation, tokens = self._current()
        if tokens is None:
            return generation, None
        return generation, ("DPoP " if tokens.get("token_type") == "DPoP" else "Bearer ") + tokens["access_token"]

    def request_headers(self, method: str, url: str) -> Tuple[Any, Dict[str, str]]:
        """The headers that authorize one HTTP request to the MCP server (``Authorization``,
        and ``DPoP`` for a DPoP-bound token), and what the channel gives ``recover`` back
        if the request is refused (the token's generation, with the DPoP nonce used)."""
        generation, tokens = self._current()
        if tokens is None:
            return generation, {}
        token = tokens["access_token"]
        if tokens.get("token_type") != "DPoP":
            return generation, {"Authorization": "Bearer " + token}
        nonce = self._nonces.get("rs " + _origin(url))
        # RFC 9449 §7.1: "the access token MUST be sent using the DPoP authorization
        # scheme", with a proof made for this request (a new jti each time, §4.2/§11.1).
        proof = self._dpop_proof(method, url, self._dpop_key_of(tokens), token, nonce)
        return (generation, nonce), {"Authorization": "DPoP " + token, "DPoP": proof}

    def note_nonce(self, url: str, nonce: Optional[str]) -> None:
        """A ``DPoP-Nonce`` header from the MCP server at ``url``: the nonce for its next
        proofs (RFC 9449 §9; a server may give a new one on any answer, §8.2)."""
        if nonce:
            self._nonces["rs " + _origin(url)] = nonce

    @staticmethod
    def _usable(tokens: Any) -> Optional[Dict[str, Any]]:
        """Stored tokens, if they can be sent: an access token that is an RFC 6750
        b64token, and a DPoP key that loads when there is one (a DPoP token must have one).
        Anything else (a corrupt or hand-edited token file) counts as no tokens - the client
        signs in again rather than failing every request for ever."""
        if not isinstance(tokens, dict) or not _b64token(tokens.get("access_token")):
            if isinstance(tokens, dict):
                _oauth_log.warning("ignored the stored access token: it is not an RFC 6750 token")
            return None
        jwk = tokens.get("dpop_key")
        if jwk is None:
            if tokens.get("token_type") == "DPoP":
                _oauth_log.warning("ignored the stored DPoP token: its key is missing")
                return None
            return tokens
        from .es256 import ES256Key  # only tokens with a DPoP key load it
        try:
            ES256Key.from_jwk(jwk)
        except (ValueError, TypeError, KeyError) as exc:
            _oauth_log.warning("ignored the stored tokens: their DPoP key does not load (%s)", exc)
            return None
        return tokens

    def _keep(self, tokens: Optional[Dict[str, Any]]) -> None:
        """Tokens from now on (None: none), stored and in use; requests sent with the old
        ones are told apart by the generation."""
        # In use first: a token the server issued (a refresh token it rotated, maybe) is
        # not lost because the storage cannot take it (a read-only or full disk).
        self._tokens, self._loaded = tokens, True
        self._generation += 1
        try:
            self.storage.set(self._tokens_key(), tokens)
        except OSError as exc:
            _oauth_log.warning("cannot store the tokens (%s): they are kept for this process only", exc)
            return
        self._stored = (tokens or {}).get("access_token")

    def recover(self, status: int, challenge: Optional[str], generation: Any, attempt: int) -> bool:
        """A request sent with token ``generation`` was refused with ``status``: True when
        there is now a token worth sending it again with. Raises AuthorizationError when
        getting one failed; False when the refusal is not about authorization."""
        nonce_sent = None
        dpop_request = isinstance(generation, tuple)
        if dpop_request:  # a DPoP request: (generation, the nonce in its proof)
            generation, nonce_sent = generation
        # A server taking both schemes may challenge with both; for a DPoP request the DPoP
        # challenge says what is wrong (RFC 9449 §7.1: "use_dpop_nonce" comes in it).
        params = parse_challenge(challenge, "dpop" if dpop_request else None)
        with self._lock:
            if generation != self._generation:
                return True  # another thread got a new token meanwhile
            if status == 401 and params.get("error") == "use_dpop_nonce":
                # RFC 9449 §9: the resource server wants its nonce in the proof and gave
                # one (DPoP-Nonce): send the request again with a new proof carrying it -
                # once per nonce, so a server that is never satisfied does not loop.
                current = self._nonces.get("rs " + _origin(self._server_url or ""))
                if current is not None and current != nonce_sent and attempt < self.max_authorizations:
                    return True
                raise AuthorizationError("the server still asks for a DPoP nonce (use_dpop_nonce)", status)
            if status == 403 and params.get("error") != "insufficient_scope":
                return False  # forbidden for good: more scopes would not help
            if attempt >= self.max_authorizations:
                raise AuthorizationError("still refused (HTTP %d) after %d authorizations" % (status, attempt), status)
            tokens = self._usable(self.storage.get(self._tokens_key()))
            stored = (tokens or {}).get("access_token")
            if tokens is not None and stored not in ((self._tokens or {}).get("access_token"), self._stored):
                self._keep(tokens)  # another process sharing the storage got a new token
                return True
            if self._tokens is not None and stored != self._tokens.get("access_token"):
                tokens = self._tokens  # ours are newer than what the storage could take
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
        if status == 401 and tokens is not None and tokens.get("refresh_token") and self._refreshed(
                metadata, issuer, resource, tokens):
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
            if self.grant == "client_credentials":
                form = {"grant_type": "client_credentials"}
            elif self.grant == "id_jag":
                form = {"grant_type": JWT_BEARER_GRANT, "assertion": self._id_jag(metadata, resource, scope)}
            else:
                form = {"grant_type": JWT_BEARER_GRANT,
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
        except (TransportError, ValueError) as exc:
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
            if method is None and self.private_key is not None:
                method = "private_key_jwt"
            if method == "private_key_jwt":
                algorithms = metadata.get("token_endpoint_auth_signing_alg_values_supported")
                if isinstance(algorithms, list) and "ES256" not in algorithms:
                    raise AuthorizationError("%s does not take ES256 client assertions (it lists %s)"
                                             % (issuer, ", ".join(map(str, algorithms))))
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
        stored = self.storage.get(key) or self._registrations.get(key)
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
        # Also kept here: a storage that cannot be written (a read-only or full disk) must
        # not make the refresh token, which belongs to this client, useless.
        self._registrations[key] = registered
        try:
            self.storage.set(key, registered)
        except OSError as exc:
            _oauth_log.warning("cannot store the client registration (%s): it is kept for this process only", exc)
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

    def _refreshed(self, metadata: Dict[str, Any], issuer: str, resource: str, tokens: Dict[str, Any]) -> bool:
        """New tokens kept from the refresh token, or from another process sharing the
        storage that refreshed first: True; False: sign in again.

        An authorization server may rotate refresh tokens and take each once (OAuth 2.1
        §4.3.1: a public client's refresh tokens "MUST be sender-constrained or one-time
        use"): two processes refreshing with one refresh token leave the second with
        invalid_grant. So the storage is held (``exclusive()``, where it has one) from
        reading the tokens to storing the new ones, and what it holds is read first."""
        exclusive = getattr(self.storage, "exclusive", None)
        with exclusive() if callable(exclusive) else _no_hold():
            for last in (False, True):
                newer = self._newer_stored(tokens, issuer)
                if newer is None and last:
                    break  # nothing newer stored: the refresh token is no good
                if newer is not None:
                    expires_at = newer.get("expires_at")
                    # (with a few seconds to spare: one about to expire would be refused on its way)
                    if not isinstance(expires_at, (int, float)) or expires_at > time.time() + 5:
                        self._keep(newer)  # another process refreshed first: its tokens, not a refresh
                        return True
                    if not newer.get("refresh_token"):
                        return False
                    tokens = newer  # expired as well, but with the newer refresh token
                refreshed, error = self._refresh(metadata, issuer, resource, tokens)
                if refreshed is not None:
                    self._keep(refreshed)
                    return True
                if error != "invalid_grant" or last:
                    break
                # Spent meanwhile by another client sharing the storage without its lock
                # (or a storage without one): its new tokens may be there by now.
            _oauth_log.info("refreshing the token failed: signing in again")
            return False

    def _newer_stored(self, tokens: Dict[str, Any], issuer: str) -> Optional[Dict[str, Any]]:
        """The stored tokens when another process stored them after ``tokens`` (else None)."""
        try:
            stored = self._usable(self.storage.get(self._tokens_key()))
        except OSError as exc:
            _oauth_log.debug("cannot read the stored tokens (%s)", exc)
            return None
        if stored is None or stored.get("issuer") != issuer:
            return None
        # Not ours, nor what we last saw stored (ours newer than what the storage could take).
        if stored.get("access_token") in (tokens.get("access_token"), self._stored):
            return None
        return stored

    def _refresh(self, metadata: Dict[str, Any], issuer: str, resource: str,
                 tokens: Dict[str, Any]) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
        """A new access token from the refresh token, or None and the OAuth error code."""
        try:
            client = self._client(metadata, issuer)
            new = self._token_request(metadata, client, {"grant_type": "refresh_token",
                                                         "refresh_token": tokens["refresh_token"]}, resource,
                                      tokens)
        except AuthorizationError as exc:
            _oauth_log.info("refreshing the token failed (%s)", exc.message)
            return None, exc.oauth_error
        if "refresh_token" not in new and isinstance(tokens.get("dpop_key"), dict):
            # The old refresh token stays, and stays bound to its key: keep them together.
            new.setdefault("dpop_key", tokens["dpop_key"])
        new.setdefault("refresh_token", tokens["refresh_token"])  # it stays valid unless replaced
        new.setdefault("scope", tokens.get("scope", ""))
        new["issuer"] = issuer
        return new, None

    def _id_jag(self, metadata: Dict[str, Any], resource: str, scope: List[str]) -> str:
        """An Identity Assertion JWT Authorization Grant for this authorization server and
        resource, from the user's identity provider: RFC 8693 token exchange of their ID
        token (draft-ietf-oauth-identity-assertion-authz-grant §4.3)."""
        endpoint = _require_secure(self.idp_token_endpoint, "identity provider's token endpoint")
        audience = _issuer_of(metadata)
        subject = self.id_token() if callable(self.id_token) else self.id_token
        if not isinstance(subject, str) or not subject:
            raise AuthorizationError("the id_token for the token exchange is missing")
        form = {"grant_type": TOKEN_EXCHANGE_GRANT, "requested_token_type": ID_JAG_TOKEN_TYPE,
                # "audience: The Issuer URL of the MCP server's authorization server"; "resource:
                # The RFC9728 Resource Identifier of the MCP server".
                "audience": audience, "resource": resource,
                "subject_token": subject, "subject_token_type": ID_TOKEN_TYPE,
                "client_id": self.idp_client_id or ""}
        if scope:
            form["scope"] = " ".join(scope)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self.idp_client_secret:
            headers["Authorization"] = _basic(self.idp_client_id or "", self.idp_client_secret)
        status, _, body = self._fetch("POST", endpoint, urllib.parse.urlencode(form).encode("ascii"), headers,
                                      timeout=self.timeout)
        answer = self._json_answer(status, body, "the token exchange at the identity provider", (200,))
        grant = answer.get("access_token")
        if answer.get("issued_token_type") != ID_JAG_TOKEN_TYPE or not isinstance(grant, str) or not grant:
            raise AuthorizationError("the identity provider's answer is not an ID-JAG (issued_token_type %r)"
                                     % (answer.get("issued_token_type"),))
        return grant

    def _client_assertion(self, client_id: str, metadata: Dict[str, Any]) -> str:
        """A private_key_jwt client assertion (RFC 7523 §3, RFC 7521 §4.2), signed ES256."""
        from .es256 import jws
        now = int(time.time())
        # "The JWT MUST contain an iss (issuer) claim that contains ... the client_id",
        # likewise sub, and an aud that "identifies the authorization server": its issuer
        # identifier (what RFC 7523bis requires, and what the SEP-1046 servers check).
        claims = {"iss": client_id, "sub": client_id, "aud": _issuer_of(metadata), "iat": now,
                  "exp": now + 60, "jti": secrets.token_urlsafe(16)}
        return jws({"typ": "JWT"}, claims, self.private_key)

    def _dpop_key_of(self, tokens: Optional[Dict[str, Any]]) -> Any:
        """The key that signs proofs: the one the tokens are bound to (stored with them),
        else the caller's, else a new one (kept for this OAuth's life)."""
        jwk = (tokens or {}).get("dpop_key")
        if isinstance(jwk, dict) and (self._dpop_key is None or self._dpop_key.private_jwk() != jwk):
            from .es256 import ES256Key
            self._dpop_key = ES256Key.from_jwk(jwk)
        if self._dpop_key is None:
            from .es256 import ES256Key
            self._dpop_key = ES256Key.generate()
        return self._dpop_key

    @staticmethod
    def _dpop_proof(method: str, url: str, key: Any, token: Optional[str] = None,
                    nonce: Optional[str] = None) -> str:
        """A DPoP proof JWT (RFC 9449 §4.2) for one HTTP request."""
        from .es256 import jws
        parts = urllib.parse.urlsplit(url)
        # htu: "The HTTP target URI ... without query and fragment parts" - the URI the
        # request goes to, rebuilt from scheme, host and port: a URL's user:password is
        # not part of the target (and a proof is sent, and may be logged).
        host = parts.hostname or ""
        authority = ("[%s]" % host if ":" in host else host) + (":%d" % parts.port if parts.port is not None else "")
        claims = {"jti": secrets.token_urlsafe(16), "htm": method,
                  "htu": urllib.parse.urlunsplit((parts.scheme, authority, parts.path, "", "")),
                  "iat": int(time.time())}  # type: Dict[str, Any]
        if token is not None:
            # "ath: Hash of the access token. The value MUST be the result of a base64url
            # encoding ... the SHA-256 hash of the ASCII encoding of the associated access token's value."
            claims["ath"] = _b64url(_sha256(token.encode("ascii")))
        if nonce is not None:
            claims["nonce"] = nonce
        # The header's jwk is the public key only: "MUST NOT contain a private key".
        return jws({"typ": "dpop+jwt", "jwk": key.public_jwk()}, claims, key)

    def _token_request(self, metadata: Dict[str, Any], client: Dict[str, Any], form: Dict[str, str],
                       resource: str, refreshed: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """A token request; ``refreshed``: the tokens whose refresh token it uses."""
        # RFC 8707: the resource parameter "MUST be included in both authorization
        # requests and token requests".
        form = dict(form, resource=resource)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        method = client.get("method") or "none"
        # client_id in the form whatever the method: RFC 6749 allows it with Basic too, and
        # some servers (the official Python SDK's) look for it there first.
        form["client_id"] = client["client_id"]
        if method == "client_secret_basic":
            headers["Authorization"] = _basic(client["client_id"], client.get("client_secret") or "")
        elif method == "client_secret_post":
            form["client_secret"] = client.get("client_secret") or ""
        elif method == "private_key_jwt" and self.private_key is None:
            raise AuthorizationError("the client authenticates with private_key_jwt: give private_key=")
        endpoint = _require_secure(metadata.get("token_endpoint"), "token endpoint")
        algorithms = metadata.get("dpop_signing_alg_values_supported")
        if refreshed is not None and isinstance(refreshed.get("dpop_key"), dict):
            # RFC 9449 §5: a bound refresh token needs "a DPoP proof for the same key that was
            # used to obtain the refresh token each time that refresh token is used" - the key
            # stored with it, whatever the access token's type and this OAuth's settings.
            key = self._dpop_key_of(refreshed)
        elif self.dpop and isinstance(algorithms, list) and "ES256" in algorithms:
            key = self._dpop_key_of(refreshed if refreshed is not None else self._tokens)
        else:
            key = None
        nonce_key = "as " + _origin(endpoint)
        for attempt in (1, 2):
            if method == "private_key_jwt":
                # A new assertion (new jti) for each request: the server may refuse a replay.
                form.update(client_assertion_type=CLIENT_ASSERTION_TYPE,
                            client_assertion=self._client_assertion(client["client_id"], metadata))
            nonce = self._nonces.get(nonce_key)
            if key is not None:
                # RFC 9449 §5: the token request carries a proof; the token is then bound to its key.
                headers["DPoP"] = self._dpop_proof("POST", endpoint, key, None, nonce)
            status, answer_headers, body = self._fetch("POST", endpoint, urllib.parse.urlencode(form).encode("ascii"),
                                                       headers, timeout=self.timeout)
            fresh = answer_headers.get("dpop-nonce")
            if key is not None and fresh:
                self._nonces[nonce_key] = fresh
            # RFC 9449 §8: "use_dpop_nonce" with a DPoP-Nonce: send the request again with a
            # new proof carrying that nonce (once: a second refusal is final).
            if not (key is not None and attempt == 1 and status == 400 and fresh and fresh != nonce
                    and _error_code(body) == "use_dpop_nonce"):
                break
        answer = self._json_answer(status, body, "the token request", (200,))
        token = answer.get("access_token")
        token_type = answer.get("token_type", "Bearer")
        if not isinstance(token, str) or not token:
            raise AuthorizationError("the token answer has no access_token")
        refresh = answer.get("refresh_token")
        # The tokens go in headers (the access token) and forms: anything but an RFC 6750
        # b64token (non-ASCII, CR LF, spaces) would fail every request or inject a header.
        # (The values are not quoted: they are secrets.)
        if not _b64token(token):
            raise AuthorizationError("the access_token of the token answer is not an RFC 6750 b64token")
        if isinstance(refresh, str) and not _b64token(refresh):
            raise AuthorizationError("the refresh_token of the token answer is not an RFC 6750 b64token")
        kind = token_type.lower() if isinstance(token_type, str) else None
        if kind == "dpop" and key is None:
            raise AuthorizationError("the server issued a DPoP token without being asked for one")
        if kind not in ("bearer", "dpop"):
            raise AuthorizationError("the token is of type %r; only Bearer and DPoP tokens are supported"
                                     % (token_type,))
        tokens = {"access_token": token}  # type: Dict[str, Any]
        if kind == "dpop":
            # The key goes with the token it binds: without it the token is useless.
            tokens.update(token_type="DPoP", dpop_key=key.private_jwk())
        elif key is not None and isinstance(refresh, str):
            # RFC 9449 §5: a server "MAY elect to issue access tokens that are not DPoP
            # bound" - for a public client that "has the effect of DPoP-binding the refresh
            # token alone". The proof's key goes with that refresh token.
            tokens["dpop_key"] = key.private_jwk()
        if isinstance(refresh, str):
            tokens["refresh_token"] = refresh
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
                                                          if isinstance(answer.get("error_description"), str) else ""),
                                     oauth_error=answer["error"])
        raise AuthorizationError("%s failed: HTTP %d" % (what, status))
