"""The official SDK (mcp 2.3.0) as an OAuth-protected MCP server, for
``tests/test_interop_oauth.py``. Run under $MCPLITE_SDK_PYTHON:

    python sdk_auth_server.py separate MCP_PORT AS_PORT
    python sdk_auth_server.py combined MCP_PORT

Both layouts serve an ``MCPServer`` over Streamable HTTP at ``http://127.0.0.1:MCP_PORT/mcp``
with the SDK's own auth settings (``AuthSettings``: issuer, ``resource_server_url`` = the
MCP URL, ``required_scopes=["mcp:tools"]``, ``validate_token_resource=True``), so the SDK
itself answers 401 with ``WWW-Authenticate: Bearer ... resource_metadata="..."`` and serves
the protected-resource metadata (RFC 9728). The authorization server is the SDK's too:
``mcp.server.auth.routes.create_auth_routes`` (its RFC 8414 metadata, dynamic client
registration, /authorize, /token with its PKCE, redirect_uri and client checks) over
``AutoApproveProvider`` below, an in-memory ``OAuthAuthorizationServerProvider`` that
approves every authorization request at once (the "person" always says yes).

- ``separate``: the authorization server is its own Starlette app on AS_PORT (issuer
  ``http://127.0.0.1:AS_PORT``), with an RFC 7662 introspection endpoint; the MCP server's
  ``TokenVerifier`` asks that endpoint over HTTP about every token (the AS/RS split the
  MCP spec describes).
- ``combined``: ``MCPServer(auth_server_provider=...)``: the MCP server is its own
  authorization server (issuer ``http://127.0.0.1:MCP_PORT``), the SDK's older layout.

Every app on a port records the HTTP requests it gets (method, path, query, form of the
OAuth endpoints, Authorization header, status, Location, JSON answers of /register and
/token) and shows the record at ``GET /_log`` (not protected), so the test can see what
the authorization server and the MCP server were asked.
"""

import asyncio
import json
import secrets
import sys
import time
import urllib.parse
import urllib.request
from typing import Any

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.server.auth.routes import create_auth_routes
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

SCOPE = "mcp:tools"
SUBJECT = "alice"
RECORDED_BODIES = ("/token", "/register", "/introspect", "/authorize", "/revoke")


class AutoApproveProvider:
    """An in-memory authorization server that approves every request at once."""

    def __init__(self) -> None:
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            code=code, scopes=params.scopes or [], expires_at=time.time() + 300, client_id=client.client_id,
            code_challenge=params.code_challenge, redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly, resource=params.resource,
            subject=SUBJECT)
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client: OAuthClientInformationFull, code: str) -> AuthorizationCode | None:
        found = self.codes.get(code)
        return found if found is not None and found.client_id == client.client_id else None

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
        self.access[access] = AccessToken(token=access, client_id=client_id, scopes=scopes,
                                          expires_at=int(time.time()) + 3600, resource=resource, subject=SUBJECT)
        self.refresh[refresh] = RefreshToken(token=refresh, client_id=client_id, scopes=scopes, resource=resource,
                                             subject=SUBJECT)
        return OAuthToken(access_token=access, token_type="Bearer", expires_in=3600, scope=" ".join(scopes),
                          refresh_token=refresh)

    async def exchange_authorization_code(self, client: OAuthClientInformationFull,
                                          authorization_code: AuthorizationCode) -> OAuthToken:
        if self.codes.pop(authorization_code.code, None) is None:
            raise TokenError("invalid_grant", "the authorization code was used already")
        return self._issue(client.client_id, authorization_code.scopes, authorization_code.resource)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        found = self.refresh.get(refresh_token)
        return found if found is not None and found.client_id == client.client_id else None

    async def exchange_refresh_token(self, client: OAuthClientInformationFull, refresh_token: RefreshToken,
                                     scopes: list[str]) -> OAuthToken:
        self.refresh.pop(refresh_token.token, None)
        return self._issue(client.client_id, scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        found = self.access.get(token)
        if found is None or (found.expires_at is not None and found.expires_at < time.time()):
            return None
        return found

    async def revoke_token(self, token: Any) -> None:
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)


class IntrospectionVerifier:
    """A ``TokenVerifier`` asking the authorization server's introspection endpoint (RFC 7662)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def _ask(self, token: str) -> dict[str, Any]:
        data = urllib.parse.urlencode({"token": token}).encode("ascii")
        request = urllib.request.Request(self.endpoint, data=data, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1: never a proxy
        with opener.open(request, timeout=10) as answer:
            return json.loads(answer.read().decode("utf-8"))

    async def verify_token(self, token: str) -> AccessToken | None:
        answer = await anyio.to_thread.run_sync(self._ask, token)
        if not answer.get("active"):
            return None
        return AccessToken(token=token, client_id=answer["client_id"], scopes=answer.get("scope", "").split(),
                           expires_at=answer.get("exp"), resource=answer.get("aud"), subject=answer.get("sub"),
                           claims={"iss": answer.get("iss")})


class Recorder:
    """ASGI middleware keeping a record of every HTTP request (see the module's text)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.entries: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/_log":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        entry: dict[str, Any] = {
            "method": scope["method"], "path": scope["path"],
            "query": dict(urllib.parse.parse_qsl(scope["query_string"].decode("latin-1"))),
            "authorization": headers.get("authorization"), "status": None}
        self.entries.append(entry)
        if scope["path"] in RECORDED_BODIES:
            chunks = []
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            raw = b"".join(chunks)
            entry["form"] = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"))) \
                if "form-urlencoded" in headers.get("content-type", "") else None
            if "json" in headers.get("content-type", ""):
                try:
                    entry["json"] = json.loads(raw.decode("utf-8"))
                except ValueError:
                    entry["json"] = None
            replayed = False

            async def receive_again() -> Any:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": raw, "more_body": False}
                return await receive()
        else:
            receive_again = receive
        answer_chunks: list[bytes] = []

        async def send_recorded(message: Any) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"location":
                        entry["location"] = value.decode("latin-1")
                    elif key.lower() == b"www-authenticate":
                        entry["www_authenticate"] = value.decode("latin-1")
            elif message["type"] == "http.response.body" and scope["path"] in ("/token", "/register"):
                answer_chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    try:
                        entry["answer"] = json.loads(b"".join(answer_chunks).decode("utf-8"))
                    except ValueError:
                        entry["answer"] = None
            await send(message)

        await self.app(scope, receive_again, send_recorded)


def log_route(recorder_box: list[Recorder]) -> Route:
    async def show(request: Request) -> JSONResponse:
        return JSONResponse(recorder_box[0].entries)
    return Route("/_log", show, methods=["GET"])


def introspect_route(provider: AutoApproveProvider, issuer: str) -> Route:
    async def introspect(request: Request) -> JSONResponse:
        form = await request.form()
        token = await provider.load_access_token(str(form.get("token", "")))
        if token is None:
            return JSONResponse({"active": False})
        return JSONResponse({"active": True, "client_id": token.client_id, "scope": " ".join(token.scopes),
                             "exp": token.expires_at, "aud": token.resource, "sub": token.subject, "iss": issuer,
                             "token_type": "Bearer"})
    return Route("/introspect", introspect, methods=["POST"])


def registration() -> ClientRegistrationOptions:
    # Registered clients get the scope when they ask for none; only it may be asked for.
    return ClientRegistrationOptions(enabled=True, valid_scopes=[SCOPE], default_scopes=[SCOPE])


def mcp_server(auth: AuthSettings, **kwargs: Any) -> MCPServer:
    mcp = MCPServer("sdk-oauth", log_level="WARNING", auth=auth, **kwargs)

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool()
    def whoami() -> dict[str, Any]:
        """What the server knows of the caller's token."""
        token = get_access_token()
        if token is None:
            return {"client_id": None}
        return {"client_id": token.client_id, "scopes": token.scopes, "resource": token.resource,
                "subject": token.subject}

    return mcp


def serve(app: Any, port: int) -> Any:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="auto")
    return uvicorn.Server(config).serve()


async def main(argv: list[str]) -> None:
    layout, mcp_port = argv[0], int(argv[1])
    mcp_url = "http://127.0.0.1:%d/mcp" % mcp_port
    provider = AutoApproveProvider()
    servers = []
    if layout == "separate":
        as_port = int(argv[2])
        issuer = "http://127.0.0.1:%d" % as_port
        as_box: list[Recorder] = []
        # The AS's settings as an AuthSettings, like the MCP server's: it keeps the issuer
        # exactly as given (no "/" added), so the AS metadata's issuer is the one the PRM names.
        as_settings = AuthSettings(issuer_url=issuer, resource_server_url=None,
                                   client_registration_options=registration(),
                                   revocation_options=RevocationOptions(enabled=True))
        routes = create_auth_routes(provider=provider, issuer_url=as_settings.issuer_url,
                                    client_registration_options=as_settings.client_registration_options,
                                    revocation_options=as_settings.revocation_options)
        as_app = Recorder(Starlette(routes=routes + [introspect_route(provider, issuer), log_route(as_box)]))
        as_box.append(as_app)
        servers.append(serve(as_app, as_port))
        mcp = mcp_server(AuthSettings(issuer_url=issuer, resource_server_url=mcp_url, required_scopes=[SCOPE],
                                      validate_token_resource=True),
                         token_verifier=IntrospectionVerifier(issuer + "/introspect"))
    elif layout == "combined":
        issuer = "http://127.0.0.1:%d" % mcp_port
        mcp = mcp_server(AuthSettings(issuer_url=issuer, resource_server_url=mcp_url, required_scopes=[SCOPE],
                                      validate_token_resource=True, client_registration_options=registration(),
                                      revocation_options=RevocationOptions(enabled=True)),
                         auth_server_provider=provider)
    else:
        raise SystemExit("layout is 'separate' or 'combined', not %r" % layout)
    mcp_box: list[Recorder] = []
    mcp.custom_route("/_log", methods=["GET"])(log_route(mcp_box).endpoint)
    mcp_app = Recorder(mcp.streamable_http_app(host="127.0.0.1"))
    mcp_box.append(mcp_app)
    servers.append(serve(mcp_app, mcp_port))
    await asyncio.gather(*servers)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
