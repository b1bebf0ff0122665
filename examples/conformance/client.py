"""The client for the official MCP conformance suite's client mode, written with mcplite.

    MCP_CONFORMANCE_SCENARIO=tools_call python examples/conformance/client.py http://localhost:PORT/mcp

The harness (``conformance client --command "python examples/conformance/client.py"``)
starts a mock server for each scenario and runs this script with the mock's URL as the
last argument. The scenario's name is in MCP_CONFORMANCE_SCENARIO, the protocol version
the mock speaks in MCP_CONFORMANCE_PROTOCOL_VERSION (the 0.2.0 alphas set it; absent, as
with 0.1.16, means 2025-11-25), and extra data (the tool calls to make, OAuth client
credentials) as JSON in MCP_CONFORMANCE_CONTEXT. tests/conformance/CLIENT-NOTES.md has the
whole contract and what each scenario checks.

Nothing is printed on stdout; diagnostics go to stderr (MCP_CONFORMANCE_DEBUG=1 for more).
Exit status: 0 when the scenario ran through, 1 when it failed or needs what mcplite's
client does not have yet (those scenarios are listed, with the reason, in
tests/conformance/expected-failures/client-*.yml), 2 for a bad invocation.
"""

import http.client
import json
import logging
import os
import sys
import urllib.parse
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

import mcplite  # noqa: E402
from mcplite import LEGACY_VERSIONS, MODERN_VERSIONS, Client, MCPError, OAuth  # noqa: E402

log = logging.getLogger("conformance-client")

CALL_TIMEOUT = 10.0  # seconds per call: well inside the harness's 30 s (or 60 s) per scenario
CLIENT_INFO = {"name": "mcplite-conformance-client", "version": mcplite.__version__}
# The run's protocol version: it decides the era (2026-07-28 stateless, else a session).
# Probing with server/discover instead would send the mocks a request they do not expect.
PROTOCOL_VERSION = os.environ.get("MCP_CONFORMANCE_PROTOCOL_VERSION") or "2025-11-25"


class Unsupported(Exception):
    """The scenario needs something mcplite's client does not have yet."""


def context() -> Dict[str, Any]:
    raw = os.environ.get("MCP_CONFORMANCE_CONTEXT")
    if not raw:
        return {}
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


def connect(url: str, auth: Optional[OAuth] = None, **handlers: Any) -> Client:
    """A client of ``url`` in the run's era (``handlers``: ``elicitation=``, ...)."""
    if PROTOCOL_VERSION not in MODERN_VERSIONS + LEGACY_VERSIONS:
        raise Unsupported("protocol version %r, which mcplite does not speak" % PROTOCOL_VERSION)
    client = Client.http(url, auth=auth, timeout=CALL_TIMEOUT, protocol_version=PROTOCOL_VERSION,
                         client_info=CLIENT_INFO, **handlers)
    log.info("connected: %s era, protocol version %s, server %s", client.era, client.protocol_version,
             client.server_info)
    return client


def list_tools(client: Client) -> List[Dict[str, Any]]:
    tools = client.list_tools()
    log.info("tools: %s", ", ".join(str(tool.get("name")) for tool in tools) or "(none)")
    return tools


def call_tool(client: Client, name: str, arguments: Dict[str, Any]) -> Dict[str, Any]:
    result = client.call_tool(name, arguments)
    log.info("%s -> %s", name, json.dumps(result)[:500])
    return result


# -- what the client answers when the server asks -----------------------------------

def accept_with_defaults(params: Dict[str, Any]) -> Dict[str, Any]:
    """Elicitation: accept, with every field that has a default filled in (SEP-1034)."""
    schema = params.get("requestedSchema") if isinstance(params.get("requestedSchema"), dict) else {}
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    content = {name: prop["default"] for name, prop in properties.items()
               if isinstance(prop, dict) and "default" in prop}
    log.info("elicitation %r: accept with %s", params.get("message"), content)
    return {"action": "accept", "content": content}


def stub_sampling(params: Dict[str, Any]) -> Dict[str, Any]:
    return {"role": "assistant", "content": {"type": "text", "text": ""}, "model": "mcplite-conformance-stub"}


def stub_arguments(schema: Any) -> Dict[str, Any]:
    """The least arguments that satisfy ``schema``'s required list."""
    if not isinstance(schema, dict):
        return {}
    by_type = {"string": "x", "integer": 0, "number": 0, "boolean": False, "object": {}, "array": [], "null": None}
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    arguments = {}
    for name in schema.get("required") or ():
        prop = properties.get(name) if isinstance(properties.get(name), dict) else {}
        arguments[name] = by_type.get(prop.get("type"), "x")
    return arguments


# -- the scenarios ------------------------------------------------------------------------

SCENARIOS = {}  # type: Dict[str, Callable[[str], None]]


def scenario(*names: str) -> Callable[[Callable[[str], None]], Callable[[str], None]]:
    def register(fn: Callable[[str], None]) -> Callable[[str], None]:
        for name in names:
            SCENARIOS[name] = fn
        return fn
    return register


@scenario("initialize", "json-schema-ref-no-deref")
def run_list_tools(url: str) -> None:
    """Connect, list the tools (never fetching a $ref in their schemas), close."""
    with connect(url) as client:
        list_tools(client)


@scenario("tools_call")
def run_tools_call(url: str) -> None:
    with connect(url) as client:
        list_tools(client)
        call_tool(client, "add_numbers", {"a": 5, "b": 3})


@scenario("elicitation-sep1034-client-defaults")
def run_elicitation_defaults(url: str) -> None:
    with connect(url, elicitation=accept_with_defaults) as client:
        list_tools(client)
        call_tool(client, "test_client_elicitation_defaults", {})


@scenario("sse-retry")
def run_sse_retry(url: str) -> None:
    """The call's stream ends before its result: the client resumes it (Last-Event-ID,
    after the server's retry delay)."""
    with connect(url) as client:
        list_tools(client)
        call_tool(client, "test_reconnection", {})


@scenario("request-metadata")
def run_request_metadata(url: str) -> None:
    """Every capability declared; the mock refuses the first request with -32022."""
    with connect(url, sampling=stub_sampling, elicitation=accept_with_defaults, roots=[]) as client:
        list_tools(client)


@scenario("sep-2322-client-request-state")
def run_request_state(url: str) -> None:
    """input_required rounds: the client answers through its elicitation handler and
    sends the request again (new id, requestState echoed or omitted)."""
    def confirm(params: Dict[str, Any]) -> Dict[str, Any]:
        return {"action": "accept", "content": {"confirmed": True}}

    with connect(url, elicitation=confirm) as client:
        list_tools(client)
        for name in ("test_mrtr_echo_state", "test_mrtr_unrelated", "test_mrtr_no_state",
                     "test_mrtr_no_result_type"):
            call_tool(client, name, {})


@scenario("http-standard-headers")
def run_standard_headers(url: str) -> None:
    """One request of each kind, for the Mcp-Method and Mcp-Name headers."""
    with connect(url) as client:
        for tool in list_tools(client):
            call_tool(client, tool["name"], stub_arguments(tool.get("inputSchema")))
        for resource in client.list_resources():
            client.read_resource(resource["uri"])
        for prompt in client.list_prompts():
            client.get_prompt(prompt["name"])


@scenario("http-custom-headers")
def run_custom_headers(url: str) -> None:
    """The harness's tool calls, whose x-mcp-header arguments go in Mcp-Param-* headers."""
    calls = context().get("toolCalls") or []
    with connect(url) as client:
        listed = {tool.get("name") for tool in list_tools(client)}
        for call in calls:
            if call.get("name") not in listed:
                log.warning("skipped %r: not in tools/list", call.get("name"))
                continue
            call_tool(client, call["name"], call.get("arguments") or {})


@scenario("http-invalid-tool-headers")
def run_invalid_tool_headers(url: str) -> None:
    """Call every tool the client keeps: it drops those whose x-mcp-header the spec forbids."""
    with connect(url) as client:
        for tool in list_tools(client):
            call_tool(client, tool["name"], stub_arguments(tool.get("inputSchema")))


@scenario("json-schema-2020-12-preservation")
def run_schema_preservation(url: str) -> None:
    """Send the focal tool's inputSchema back, as the client received it."""
    with connect(url) as client:
        tools = {tool.get("name"): tool for tool in list_tools(client)}
        focal = tools.get("json_schema_2020_12_tool")
        if focal is None:
            raise MCPError(-32603, "the server lists no json_schema_2020_12_tool")
        call_tool(client, "json_schema_echo", {"schema": focal.get("inputSchema")})


@scenario("sep-2640-client-no-prefetch")
def run_skills_listing(url: str) -> None:
    """List the skills and load none: nothing is fetched ahead of need (SEP-2640: "Hosts MUST
    NOT retrieve a skill's files ahead of need - not on connection, not on listing")."""
    with connect(url) as client:
        skills = client.list_skills()
        log.info("skills: %s", ", ".join(str(entry.get("uri")) for entry in skills) or "(none)")


@scenario("sep-2640-client-verify-digest", "sep-2640-client-verify-size", "sep-2640-client-verify-frontmatter")
def run_skills_loading(url: str) -> None:
    """List the skills, load the first and read its other files. The mock tampers with the
    SKILL.md, so load_skill raises SkillVerificationError and no further file is read (the
    scenario allows the client to end in an error)."""
    with connect(url) as client:
        skills = client.list_skills()
        if not skills:
            raise MCPError(-32603, "the server lists no skills")
        skill = client.load_skill(skills[0])
        log.info("loaded %s", skill.uri)
        for uri in skill.files:
            if uri != skill.uri:
                skill.read_bytes(uri)


# -- authorization ------------------------------------------------------------------------

REDIRECT_URI = "http://localhost:3000/callback"  # nothing listens there: the redirect is read, not followed
CIMD_URL = "https://conformance-test.local/client-metadata.json"


def follow_once(url: str) -> str:
    """The user agent's part of the authorization code flow: the mock authorization
    server signs the user in at once and redirects; its Location is the answer."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=CALL_TIMEOUT)
    try:
        conn.request("GET", parts.path + "?" + parts.query)
        response = conn.getresponse()
        response.read()
        location = response.getheader("Location")
    finally:
        conn.close()
    if response.status not in (302, 303) or not location:
        raise MCPError(-32603, "the authorization endpoint answered HTTP %d without a redirect" % response.status)
    return location


def oauth(**options: Any) -> OAuth:
    """The OAuth of an authorization code scenario: pre-registered when the context has
    credentials, else a Client ID Metadata Document where supported, else registered."""
    ctx = context()
    return OAuth(client_id=ctx.get("client_id"), client_secret=ctx.get("client_secret"),
                 client_metadata_url=CIMD_URL, client_name="mcplite-conformance-client",
                 redirect_uri=REDIRECT_URI, authorize=follow_once, **options)


@scenario("auth/metadata-default", "auth/metadata-var1", "auth/metadata-var2", "auth/metadata-var3",
          "auth/basic-cimd", "auth/basic-dcr", "auth/scope-from-www-authenticate",
          "auth/scope-from-scopes-supported", "auth/scope-omitted-when-undefined", "auth/scope-step-up",
          "auth/scope-retry-limit", "auth/token-endpoint-auth-basic", "auth/token-endpoint-auth-post",
          "auth/token-endpoint-auth-none", "auth/pre-registration", "auth/2025-03-26-oauth-metadata-backcompat",
          "auth/2025-03-26-oauth-endpoint-fallback", "auth/resource-mismatch", "auth/offline-access-scope",
          "auth/offline-access-not-supported", "auth/authorization-server-migration", "auth/iss-supported",
          "auth/iss-not-advertised", "auth/iss-supported-missing", "auth/iss-wrong-issuer", "auth/iss-unexpected",
          "auth/iss-normalized", "auth/metadata-issuer-mismatch")
def run_authorization_code(url: str) -> None:
    """Sign in when the server answers 401 (and again for a 403 asking for more scopes),
    list the tools, call test-tool. The refusal scenarios end in AuthorizationError."""
    with connect(url, auth=oauth()) as client:
        list_tools(client)
        call_tool(client, "test-tool", {})


@scenario("auth/client-credentials-basic")
def run_client_credentials(url: str) -> None:
    ctx = context()
    auth = OAuth(grant="client_credentials", client_id=ctx.get("client_id"), client_secret=ctx.get("client_secret"))
    with connect(url, auth=auth) as client:
        list_tools(client)
        call_tool(client, "test-tool", {})


@scenario("auth/client-credentials-jwt")
def run_client_credentials_jwt(url: str) -> None:
    """SEP-1046: client credentials, the client authenticated by an ES256 assertion signed
    with the context's PKCS#8 key (private_key_jwt)."""
    ctx = context()
    if ctx.get("signing_algorithm", "ES256") != "ES256":
        raise Unsupported("signing algorithm %r (mcplite signs ES256 only)" % ctx.get("signing_algorithm"))
    auth = OAuth(grant="client_credentials", client_id=ctx.get("client_id"), private_key=ctx.get("private_key_pem"))
    with connect(url, auth=auth) as client:
        list_tools(client)
        call_tool(client, "test-tool", {})


@scenario("auth/enterprise-managed-authorization", "auth/cross-app-access-complete-flow")
def run_enterprise_managed(url: str) -> None:
    """SEP-990: the context's IdP ID token exchanged at the IdP for an ID-JAG (RFC 8693),
    which is the JWT bearer grant at the authorization server."""
    ctx = context()
    auth = OAuth(grant="id_jag", client_id=ctx.get("client_id"), client_secret=ctx.get("client_secret"),
                 id_token=ctx.get("idp_id_token"), idp_token_endpoint=ctx.get("idp_token_endpoint"),
                 idp_client_id=ctx.get("idp_client_id"))
    with connect(url, auth=auth) as client:
        list_tools(client)
        call_tool(client, "test-tool", {})


@scenario("auth/dpop", "auth/dpop-nonce")
def run_dpop(url: str) -> None:
    """SEP-1932: the authorization code flow with DPoP-bound tokens (a proof on the token
    request and on every MCP request; server nonces honoured)."""
    with connect(url, auth=oauth(dpop=True)) as client:
        list_tools(client)
        call_tool(client, "test-tool", {})


@scenario("auth/wif-jwt-bearer")
def run_jwt_bearer(url: str) -> None:
    """A workload identity: the context's JWT is the grant (no sign-in, no registration)."""
    ctx = context()
    auth = OAuth(grant="jwt_bearer", client_id=ctx.get("client_id"), assertion=ctx.get("valid_jwt"))
    with connect(url, auth=auth) as client:
        list_tools(client)
        call_tool(client, "test-tool", {})


# Scenarios that need what mcplite's client does not have, and the reason.
PENDING = {}  # type: Dict[str, str]


def main() -> int:
    logging.basicConfig(stream=sys.stderr, format="conformance client: %(levelname)s %(name)s: %(message)s",
                        level=logging.DEBUG if os.environ.get("MCP_CONFORMANCE_DEBUG") else logging.INFO)
    name = os.environ.get("MCP_CONFORMANCE_SCENARIO")
    if len(sys.argv) < 2 or not name:
        print("usage: MCP_CONFORMANCE_SCENARIO=<scenario> %s <server-url>\nscenarios: %s"
              % (sys.argv[0], ", ".join(sorted(SCENARIOS))), file=sys.stderr)
        return 2
    url = sys.argv[-1]
    run = SCENARIOS.get(name)
    if run is None:
        if name in PENDING:
            log.error("%s: %s", name, PENDING[name])
        else:
            log.error("unknown scenario %r (known: %s)", name, ", ".join(sorted(SCENARIOS)))
        return 1
    log.info("%s against %s at protocol version %s", name, url, PROTOCOL_VERSION)
    try:
        run(url)
    except Unsupported as exc:
        log.error("%s: %s", name, exc)
        return 1
    except Exception as exc:  # MCPError, RequestTimeout, ConnectionClosed, a bug here
        log.error("%s failed: %s: %s", name, type(exc).__name__, exc,
                  exc_info=bool(os.environ.get("MCP_CONFORMANCE_DEBUG")))
        return 1
    log.info("%s: done", name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
