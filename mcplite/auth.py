"""Bearer-token protection for the HTTP server (an OAuth 2.1 resource server).

mcplite does not issue tokens and does not decide which ones are good: the application
passes a verifier, a function from the token string to whatever describes its holder (or
None to refuse it). This module turns that answer into the statuses and headers the MCP
authorization spec requires, and serves the RFC 9728 protected-resource metadata that
tells a client where to get a token.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from .logs import LazyLogger

PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource"
_auth_log = LazyLogger("mcplite.auth")


class AccessToken:
    """What a verifier may return for a good token. ``scopes`` are checked against the
    server's required scopes; ``subject``, ``client_id`` and ``claims`` are for the
    application (a handler sees this object as its request's principal)."""

    def __init__(self, scopes: Iterable[str] = (), subject: Optional[str] = None,
                 client_id: Optional[str] = None, expires_at: Optional[float] = None,
                 claims: Optional[Dict[str, Any]] = None) -> None:
        self.scopes = frozenset(scopes)
        self.subject = subject
        self.client_id = client_id
        self.expires_at = expires_at
        self.claims = claims or {}

    def __repr__(self) -> str:
        return "AccessToken(subject=%r, client_id=%r, scopes=%r)" % (self.subject, self.client_id, sorted(self.scopes))


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class BearerAuth:
    """Requires ``Authorization: Bearer <token>`` on every MCP request.

    ``verify(token)`` returns an ``AccessToken`` (or any object with a ``scopes``
    attribute, or a dict with a "scopes" key) when the token is valid for this server -
    "MCP servers MUST validate that access tokens were issued specifically for them" is
    the verifier's job - and None otherwise. ``resource`` is this server's canonical URL
    (``https://host/mcp``); ``authorization_servers`` go into the protected-resource
    metadata ("MUST include the authorization_servers field containing at least one").
    """

    def __init__(self, verify: Callable[[str], Any], resource: str, authorization_servers: Sequence[str],
                 required_scopes: Sequence[str] = (), scopes_supported: Optional[Sequence[str]] = None,
                 resource_name: Optional[str] = None, documentation: Optional[str] = None) -> None:
        if not authorization_servers:
            raise ValueError("BearerAuth needs at least one authorization server URL")
        if not resource.startswith(("https://", "http://")):
            raise ValueError("resource must be this server's absolute URL, e.g. https://example.com/mcp")
        self.verify = verify
        self.resource = resource.rstrip("/") if resource.count("/") > 3 else resource
        self.authorization_servers = list(authorization_servers)
        self.required_scopes = frozenset(required_scopes)
        self.scopes_supported = list(scopes_supported) if scopes_supported is not None else sorted(self.required_scopes)
        self.resource_name = resource_name
        self.documentation = documentation
        self.jwt_verifier = None  # type: Any  # the JWTVerifier of BearerAuth.jwt

    @classmethod
    def jwt(cls, issuer: str, audience: Union[str, Sequence[str]], jwks_url: Optional[str] = None,
            jwks: Optional[Dict[str, Any]] = None, resource: Optional[str] = None,
            authorization_servers: Optional[Sequence[str]] = None, required_scopes: Sequence[str] = (),
            algorithms: Sequence[str] = ("RS256", "ES256"), leeway: float = 60.0,
            **options: Any) -> "BearerAuth":
        """A ``BearerAuth`` whose tokens are JWTs from ``issuer`` checked here, on the
        standard library (``jwtauth.JWTVerifier``: RS256 or ES256 signatures by the issuer's
        keys from ``jwks_url``, or the static ``jwks``; ``iss``, ``aud``, ``exp``, ``nbf``).

        ``audience``: the ``aud`` (or list of them) a token must hold - this server's
        canonical URL, which is also ``resource`` unless given. ``authorization_servers``
        defaults to ``[issuer]``. ``required_scopes``: as for ``BearerAuth`` (a token
        without them gets 403). ``options``: the verifier's other keywords (``jwks_ttl``,
        ``jwks_refresh_interval``, ``jwks_timeout``, ``jwks_max_bytes``, ``jwks_max_keys``,
        ``require_exp``, ``clock``) or BearerAuth's (``scopes_supported``,
        ``resource_name``, ``documentation``). A good token's principal is an
        ``AccessToken``: its scopes from ``scope`` (or ``scp``), ``subject`` the ``sub``,
        ``client_id`` the ``client_id`` (or ``azp``), ``expires_at`` the ``exp``, and every
        claim in ``claims``. ``auth.jwt_verifier`` is the verifier."""
        from .jwtauth import JWTVerifier, token_scopes

        own = {name: options.pop(name) for name in ("scopes_supported", "resource_name", "documentation")
               if name in options}
        verifier = JWTVerifier(issuer, audience, jwks_url=jwks_url, jwks=jwks, algorithms=algorithms,
                               leeway=leeway, **options)
        if resource is None:
            resource = audience if isinstance(audience, str) else list(audience)[0]

        def verify(token: str) -> AccessToken:
            claims = verifier.verify(token)  # a JWTError for a bad one: BearerAuth.check answers 401
            client_id = claims.get("client_id", claims.get("azp"))
            subject = claims.get("sub")
            exp = claims.get("exp")
            return AccessToken(token_scopes(claims), subject=subject if isinstance(subject, str) else None,
                               client_id=client_id if isinstance(client_id, str) else None,
                               expires_at=float(exp) if isinstance(exp, (int, float)) else None, claims=claims)

        auth = cls(verify, resource, list(authorization_servers) if authorization_servers else [issuer],
                   required_scopes=required_scopes, **own)
        auth.jwt_verifier = verifier
        return auth

    # -- metadata ------------------------------------------------------------------

    def metadata_paths(self, endpoint_path: str) -> Tuple[str, str]:
        """Where the metadata is served: the path-inserted well-known URI for the endpoint,
        and the root one (clients try them in that order)."""
        return PROTECTED_RESOURCE_PATH + endpoint_path.rstrip("/"), PROTECTED_RESOURCE_PATH

    def metadata_url(self, endpoint_path: str) -> str:
        origin = self.resource.split("/", 3)
        return "/".join(origin[:3]) + self.metadata_paths(endpoint_path)[0]

    def metadata(self) -> Dict[str, Any]:
        """The RFC 9728 document."""
        doc = {
            "resource": self.resource,
            "authorization_servers": self.authorization_servers,
            "bearer_methods_supported": ["header"],
        }  # type: Dict[str, Any]
        if self.scopes_supported:
            doc["scopes_supported"] = self.scopes_supported
        if self.resource_name:
            doc["resource_name"] = self.resource_name
        if self.documentation:
            doc["resource_documentation"] = self.documentation
        return doc

    # -- checking ------------------------------------------------------------------

    def check(self, authorization: Optional[str], endpoint_path: str) -> Tuple[int, List[Tuple[str, str]], str, Any]:
        """(status, headers, message, principal): status 0 lets the request through with
        ``principal``; otherwise 401 or 403 with the ``WWW-Authenticate`` challenge."""
        challenge = "Bearer resource_metadata=" + _quote(self.metadata_url(endpoint_path))
        if self.required_scopes:
            challenge += ", scope=" + _quote(" ".join(sorted(self.required_scopes)))
        token = None
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                token = value.strip()
        if token is None:
            return 401, [("WWW-Authenticate", challenge)], "Authorization required", None
        try:
            principal = self.verify(token)
        except Exception as exc:
            # Why goes to the log only (a JWTError says which check failed): the client learns
            # no more than invalid_token, and a debug level keeps refused tokens from flooding.
            _auth_log.debug("a bearer token refused: %s: %s", type(exc).__name__, exc)
            principal = None
        if principal is None:
            # "Invalid or expired tokens MUST receive a HTTP 401 response."
            return 401, [("WWW-Authenticate", challenge + ', error="invalid_token"')], "Invalid or expired token", None
        scopes = principal.get("scopes", ()) if isinstance(principal, dict) else getattr(principal, "scopes", ())
        missing = self.required_scopes.difference(scopes or ())
        if missing:
            # Insufficient scope: 403 with the scopes needed, so the client can step up.
            return 403, [("WWW-Authenticate", challenge + ', error="insufficient_scope"')], \
                "Insufficient scope: needs %s" % " ".join(sorted(missing)), None
        return 0, [], "", principal
