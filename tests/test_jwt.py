"""JWT access tokens checked by the resource server: ``mcplite.jwtauth`` and ``BearerAuth.jwt``.

Every token here was made by a real library, PyJWT with ``cryptography``, never by the code
under test. Two sources:

- ``tests/jwt_vectors.json``: keys and tokens made once by ``tests/interop/jwt_maker.py`` and
  committed, so these tests run on every Python with nothing installed. Their times are
  fixed (issued 2026-01-01, an hour's validity), so the verifier is given a clock.
- ``tests/interop/jwt_maker.py`` run at test time under ``$MCPLITE_SDK_PYTHON`` (the official
  SDK depends on ``pyjwt[crypto]``): fresh keys and tokens at the real time, for the
  end-to-end test of an mcplite HTTP server behind ``BearerAuth.jwt`` (marked ``interop`` by
  its ``sdk_python`` fixture).

The JWKS is served by a small ``http.server`` on 127.0.0.1 that counts its requests, to show
the cache bound: a stream of tokens with unknown ``kid`` values fetches the key set at most
once per ``jwks_refresh_interval``. (``http://`` is accepted for a loopback JWKS URL only;
anything else must be ``https://``.)
"""

import base64
import http.server
import json
import os
import subprocess
import threading

import pytest

from interop_support import peer_env, sdk_python_fixture
from mcplite import Context, Server
from mcplite.auth import AccessToken, BearerAuth
from mcplite.jwtauth import JWTError, JWTVerifier, parse_jwks, rs256_verify

HERE = os.path.dirname(os.path.abspath(__file__))
MAKER = os.path.join(HERE, "interop", "jwt_maker.py")
with open(os.path.join(HERE, "jwt_vectors.json"), encoding="utf-8") as _f:
    V = json.load(_f)
ISS, AUD, T0 = V["issuer"], V["audience"], V["issued_at"]
KEYS, TOKENS = V["jwks"], V["tokens"]


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def static(*names, **options):
    options.setdefault("clock", Clock(T0 + 60))
    return JWTVerifier(ISS, AUD, jwks={"keys": [KEYS[n] for n in names]}, **options)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the fixed tokens -------------------------------------------------------------------------

def test_good_tokens_pass_with_their_claims():
    verifier = static("r1", "e1")
    for name in ("rs_good", "es_good", "aud_list"):
        claims = verifier.verify(TOKENS[name])
        assert claims["iss"] == ISS and claims["sub"] == "user-1"
    assert verifier.verify(TOKENS["aud_list"])["aud"] == ["https://other.example", AUD]
    assert verifier.verify(TOKENS["scp_list"])["scp"] == ["mcp:read"]
    # A token without kid, when one key of its algorithm could have signed it.
    assert static("r1", "e1").verify(TOKENS["no_kid"])["sub"] == "user-1"


@pytest.mark.parametrize("name, why", [
    ("none", "alg 'none' is not accepted"),
    # HS256 keyed with the RSA key's public PEM: the algorithm-confusion attack.
    ("confused", "alg 'HS256' is not accepted"),
    ("impostor", "bad signature"),  # another key that calls itself r1
    ("es_kid_of_rsa", "no ES256 key with kid 'r1'"),  # an ES256 token naming an RSA key
    ("expired", "expired"),
    ("not_yet", "not valid yet"),
    ("wrong_iss", "issued by 'https://evil.example'"),
    ("wrong_aud", "not for this audience"),
    ("wrong_aud_list", "not for this audience"),
    ("no_aud", "not for this audience"),
    ("no_exp", "no exp claim"),
    ("crit", "crit"),
    ("unknown_kid", "no RS256 key with kid 'r9'"),
    ("r2_good", "no RS256 key with kid 'r2'"),
    ("small", "no RS256 key with kid 'small'"),  # its 1024-bit key is left out of the set
])
def test_bad_tokens_are_refused_saying_why(name, why):
    with pytest.raises(JWTError) as info:
        static("r1", "e1", "small").verify(TOKENS[name])
    assert why in str(info.value)


def test_a_key_under_2048_bits_is_no_key():
    assert parse_jwks({"keys": [KEYS["small"]]}) == []
    assert [k.kid for k in parse_jwks({"keys": [KEYS["small"], KEYS["r1"], KEYS["r2"]]})] == ["r1", "r2"]
    with pytest.raises(ValueError, match="no key this verifier can use"):
        static("small")
    # The arithmetic itself would accept the 1024-bit signature: the refusal is the key size.
    n = int.from_bytes(unb64(KEYS["small"]["n"]), "big")
    e = int.from_bytes(unb64(KEYS["small"]["e"]), "big")
    head, body, sig = TOKENS["small"].split(".")
    assert rs256_verify(n, e, (head + "." + body).encode(), unb64(sig))



def rsa_jwk_of_bits(bits, kid):
    """An RSA public JWK whose modulus has exactly ``bits`` bits: made up (odd, top bit set),
    no real key - the verifier judges a key's size before it ever uses it."""
    n = (1 << (bits - 1)) | 1
    return {"kty": "RSA", "kid": kid, "n": b64(n.to_bytes((bits + 7) // 8, "big")), "e": "AQAB"}


def test_a_key_over_8192_bits_is_no_key():
    # A modulus's size sets what each signature check costs (s^e mod n): a set served with
    # a huge one must not make every token that names it expensive. 8192 bits is the bound.
    assert [k.kid for k in parse_jwks({"keys": [rsa_jwk_of_bits(8192, "top"), rsa_jwk_of_bits(2048, "low")]})] \
        == ["top", "low"]
    assert parse_jwks({"keys": [rsa_jwk_of_bits(8193, "huge")]}) == []
    assert parse_jwks({"keys": [rsa_jwk_of_bits(65536, "huge")]}) == []
    with pytest.raises(ValueError, match="no key this verifier can use"):
        JWTVerifier(ISS, AUD, jwks={"keys": [rsa_jwk_of_bits(8193, "huge")]})
    # Fetched: an oversized key calling itself r1 is left out, so r1's token finds no key;
    # the real (2048-bit) r1 beside it is used.
    with JwksServer({"keys": [rsa_jwk_of_bits(8193, "r1")]}) as jwks:
        verifier = JWTVerifier(ISS, AUD, jwks_url=jwks.url, clock=Clock(T0 + 60))
        with pytest.raises(JWTError, match="no RS256 key with kid 'r1'"):
            verifier.verify(TOKENS["rs_good"])
        jwks.jwks = {"keys": [rsa_jwk_of_bits(8193, "r1"), KEYS["r1"]]}
        verifier = JWTVerifier(ISS, AUD, jwks_url=jwks.url, clock=Clock(T0 + 60))
        assert verifier.verify(TOKENS["rs_good"])["sub"] == "user-1"


def test_only_the_exact_pkcs1_v1_5_encoding_verifies():
    """s^e mod n must be exactly 00 01 FF..FF 00 DigestInfo(SHA-256) H: encodings that carry
    the right hash in a wrong frame (the shapes of the known PKCS#1 v1.5 forgeries, which
    lenient parsers accepted) are signed here with the test key's d and must all fail."""
    import hashlib

    jwk = KEYS["pad"]
    n, e = int.from_bytes(unb64(jwk["n"]), "big"), int.from_bytes(unb64(jwk["e"]), "big")
    d = int.from_bytes(unb64(V["private_d"]["pad"]), "big")
    k = (n.bit_length() + 7) // 8
    head, body, sig = TOKENS["pad"].split(".")
    data = (head + "." + body).encode()
    digest = hashlib.sha256(data).digest()
    info = bytes.fromhex("3031300d060960864801650304020105000420")

    def signed(encoded):
        assert len(encoded) == k
        return pow(int.from_bytes(encoded, "big"), d, n).to_bytes(k, "big")

    right = b"\x00\x01" + b"\xff" * (k - 3 - len(info) - 32) + b"\x00" + info + digest
    # The test's own encoding, signed with d, is PyJWT's signature byte for byte, and passes.
    assert signed(right) == unb64(sig) and rs256_verify(n, e, data, signed(right))
    sha1_info = bytes.fromhex("3021300906052b0e03021a05000414")
    wrong = [
        right[:-32] + bytes(32),  # another hash
        b"\x00\x02" + right[2:],  # block type 2 (encryption padding)
        b"\x00\x01" + b"\xfe" + right[3:],  # a padding byte not FF
        # the hash early, then garbage to fill (Bleichenbacher 2006: parsers that stop at the hash)
        b"\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\x00" + info + digest + b"\x07" * (k - 11 - len(info) - 32),
        # DigestInfo without the NULL parameters (a variant some parsers accepted)
        b"\x00\x01" + b"\xff" * (k - 3 - 17 - 32) + b"\x00" + bytes.fromhex("302f300b0609608648016503040201") +
        b"\x04\x20" + digest,
        # SHA-1's DigestInfo, padded out: the right length, the wrong algorithm
        b"\x00\x01" + b"\xff" * (k - 3 - len(sha1_info) - 32) + b"\x00" + sha1_info + digest,
    ]
    for encoded in wrong:
        assert not rs256_verify(n, e, data, signed(encoded)), encoded[:24].hex()
    verifier = JWTVerifier(ISS, AUD, jwks={"keys": [jwk]}, clock=Clock(T0 + 60))
    assert verifier.verify(TOKENS["pad"])["sub"] == "user-1"
    with pytest.raises(JWTError, match="bad signature"):
        verifier.verify(head + "." + body + "." + b64(signed(wrong[3])))
    # s >= n is refused (RSAVP1: "If the signature representative s is not between 0 and n - 1").
    assert not rs256_verify(n, e, data, n.to_bytes(k, "big"))


def test_tampering_breaks_the_signature():
    head, body, sig = TOKENS["rs_good"].split(".")
    other_body = TOKENS["r2_good"].split(".")[1]  # signed claims of another token (sub user-2)
    flipped = bytearray(unb64(sig))
    flipped[-1] ^= 1
    verifier = static("r1", "e1")
    for token in (head + "." + other_body + "." + sig, head + "." + body + "." + b64(bytes(flipped)),
                  head + "." + body + "." + b64(unb64(sig)[:-1]),  # a byte short: not k octets
                  head + "." + body + "." + b64(b"\x00" + unb64(sig))):  # a byte long
        with pytest.raises(JWTError, match="bad signature"):
            verifier.verify(token)
    es_head, es_body, es_sig = TOKENS["es_good"].split(".")
    with pytest.raises(JWTError, match="bad signature"):
        verifier.verify(es_head + "." + other_body + "." + es_sig)
    # Not a JWS at all.
    for junk in ("", "a.b", "a.b.c.d", head + "." + body + "." + sig + "=", "!." + body + "." + sig,
                 b64(b"[]") + "." + body + "." + sig, "x" * 70000):
        with pytest.raises(JWTError):
            verifier.verify(junk)


def test_alg_is_checked_against_the_allowed_list_and_the_keys_own():
    with pytest.raises(JWTError, match="alg 'RS256' is not accepted"):
        static("r1", "e1", algorithms=["ES256"]).verify(TOKENS["rs_good"])
    assert static("r1", "e1", algorithms=["ES256"]).verify(TOKENS["es_good"])["sub"] == "user-1"
    # A key that says it is for another algorithm does not check this one.
    labelled = dict(KEYS["r1"], alg="RS512")
    verifier = JWTVerifier(ISS, AUD, jwks={"keys": [labelled]}, clock=Clock(T0))
    with pytest.raises(JWTError, match="no RS256 key"):
        verifier.verify(TOKENS["rs_good"])
    for wrong in (["HS256"], ["none"], ["RS256", "HS256"], []):
        with pytest.raises(ValueError, match="algorithms must be"):
            static("r1", algorithms=wrong)


@pytest.mark.parametrize("name", ["typ_absent", "typ_jwt", "typ_jwt_lower", "typ_app_jwt", "typ_at_jwt",
                                  "typ_app_at_jwt", "typ_at_jwt_upper", "typ_app_at_jwt_mixed"])
def test_an_access_token_typ_or_none_passes(name):
    # RFC 9068's at+jwt, RFC 7519's JWT (what many issuers write), or no typ at all; media
    # types compare case-insensitively, and "application/" may be left out (RFC 7515 4.1.9).
    assert static("t1").verify(TOKENS[name])["sub"] == "user-1"


@pytest.mark.parametrize("name", ["typ_dpop", "typ_jwt_id", "typ_secevent", "typ_id_token", "typ_logout",
                                  "typ_app_dpop", "typ_other_tree", "typ_number", "typ_list"])
def test_a_jwt_of_another_kind_is_no_access_token(name):
    # Each is well signed by a key the verifier trusts, with the right claims: only its
    # typ says it is a DPoP proof, a security event, a logout token... (token confusion).
    with pytest.raises(JWTError, match="typ"):
        static("t1").verify(TOKENS[name])


def test_a_typ_that_is_null_or_empty_is_refused():
    head, body, sig = TOKENS["typ_at_jwt"].split(".")
    header = json.loads(unb64(head))
    for typ in (None, "", " at+jwt", "at+jwt; charset=utf-8"):
        with pytest.raises(JWTError, match="typ"):
            static("t1").verify(b64(json.dumps(dict(header, typ=typ)).encode()) + "." + body + "." + sig)


def test_key_use_and_ops_are_honoured():
    assert parse_jwks({"keys": [dict(KEYS["r1"], use="enc")]}) == []
    assert parse_jwks({"keys": [dict(KEYS["r1"], key_ops=["encrypt"])]}) == []
    assert len(parse_jwks({"keys": [dict(KEYS["r1"], use="sig", key_ops=["verify"])]})) == 1
    assert parse_jwks({"keys": [{"kty": "oct", "k": "c2VjcmV0"}, {"kty": "EC", "crv": "P-384"}, "junk"]}) == []


def test_exp_and_nbf_with_leeway():
    clock = Clock(T0 + 3600 + 59)
    verifier = static("r1", clock=clock, leeway=60)
    assert verifier.verify(TOKENS["rs_good"])  # expired 59 s ago: within the leeway
    clock.now = T0 + 3600 + 60
    with pytest.raises(JWTError, match="expired"):
        verifier.verify(TOKENS["rs_good"])
    clock.now = T0 + 600 - 60  # nbf is T0 + 600
    assert verifier.verify(TOKENS["not_yet"])
    clock.now = T0 + 600 - 61
    with pytest.raises(JWTError, match="not valid yet"):
        verifier.verify(TOKENS["not_yet"])
    strict = static("r1", clock=Clock(T0 + 3600), leeway=0)
    with pytest.raises(JWTError, match="expired"):
        strict.verify(TOKENS["rs_good"])
    assert static("r1", require_exp=False).verify(TOKENS["no_exp"])["sub"] == "user-1"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400])
def test_a_time_that_is_no_number_is_refused(claim, value):
    # Python's json reads NaN and Infinity (which JSON has not) and 1e400 as inf: a NaN exp
    # compares false with every time, so such a token would never expire; 1 and 400 zeros
    # is an int no float holds (OverflowError, not a refusal, before). Signed by a real
    # key, so only the claim can be what refuses it.
    from mcplite.es256 import ES256Key
    key = ES256Key.generate(kid="k1")
    verifier = JWTVerifier(ISS, AUD, jwks={"keys": [key.public_jwk()]}, clock=Clock(T0 + 60))
    claims = '{"iss":%s,"aud":%s,"exp":%d' % (json.dumps(ISS), json.dumps(AUD), T0 + 3600)
    claims = (claims + "}") if claim == "exp" else (claims + ',"%s":%s}' % (claim, value))
    if claim == "exp":
        claims = claims.replace('"exp":%d' % (T0 + 3600), '"exp":%s' % value)
    signing_input = b64(b'{"alg":"ES256","kid":"k1"}') + "." + b64(claims.encode())
    token = signing_input + "." + b64(key.sign(signing_input.encode()))
    with pytest.raises(JWTError, match="not a (finite )?number|malformed"):
        verifier.verify(token)


def test_construction_refuses_what_cannot_be_safe():
    jwks = {"keys": [KEYS["r1"]]}
    with pytest.raises(ValueError, match="one of jwks_url"):
        JWTVerifier(ISS, AUD)
    with pytest.raises(ValueError, match="one of jwks_url"):
        JWTVerifier(ISS, AUD, jwks_url="https://issuer.example/jwks", jwks=jwks)
    for url in ("http://issuer.example/jwks", "http://127.0.0.1.evil.example/jwks", "ftp://x/jwks",
                "file:///etc/jwks.json", "http://evil.example@/jwks",
                # The host is before the "#" or "?": a loopback name after one is no host.
                "http://evil.example#@127.0.0.1/jwks", "http://evil.example?@localhost/jwks"):
        with pytest.raises(ValueError, match="https://"):
            JWTVerifier(ISS, AUD, jwks_url=url)
    # Loopback by the one rule (loopback.py) that the HTTP server and OAuth follow too: all of
    # 127.0.0.0/8, ::1 and localhost, in any case.
    for url in ("https://issuer.example/jwks", "http://127.0.0.1:8080/jwks", "http://localhost/jwks",
                "http://[::1]:9/jwks", "http://127.0.0.2/jwks", "http://LOCALHOST:8/jwks"):
        JWTVerifier(ISS, AUD, jwks_url=url)  # nothing fetched until a token comes
    with pytest.raises(ValueError, match="audience"):
        JWTVerifier(ISS, [], jwks=jwks)
    with pytest.raises(ValueError, match="issuer"):
        JWTVerifier("", AUD, jwks=jwks)


# --- BearerAuth.jwt: the one seam ---------------------------------------------------------------

def test_bearer_auth_jwt_principal_and_statuses():
    auth = BearerAuth.jwt(ISS, AUD, jwks={"keys": [KEYS["r1"], KEYS["e1"]]}, required_scopes=["mcp:read"],
                          clock=Clock(T0 + 60), resource_name="JWT test")
    assert auth.resource == AUD and auth.authorization_servers == [ISS]
    assert auth.metadata()["resource_name"] == "JWT test" and auth.jwt_verifier is not None
    status, headers, _, principal = auth.check("Bearer " + TOKENS["rs_good"], "/mcp")
    assert status == 0 and isinstance(principal, AccessToken)
    assert principal.subject == "user-1" and principal.client_id == "client-9"
    assert principal.scopes == {"mcp:read", "mcp:write"} and principal.expires_at == T0 + 3600
    assert principal.claims["iss"] == ISS
    status, _, _, principal = auth.check("Bearer " + TOKENS["scp_list"], "/mcp")
    assert status == 0 and principal.scopes == {"mcp:read"}
    for name in ("none", "confused", "impostor", "expired", "not_yet", "wrong_iss", "wrong_aud", "small"):
        status, headers, message, principal = auth.check("Bearer " + TOKENS[name], "/mcp")
        assert (status, principal, message) == (401, None, "Invalid or expired token"), name
        assert headers[0][0] == "WWW-Authenticate" and 'error="invalid_token"' in headers[0][1]
        assert 'resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp"' in headers[0][1]
    stepped = BearerAuth.jwt(ISS, AUD, jwks={"keys": [KEYS["e1"]]}, required_scopes=["mcp:write"],
                             clock=Clock(T0 + 60))
    status, headers, _, _ = stepped.check("Bearer " + TOKENS["scp_list"], "/mcp")
    assert status == 403 and 'error="insufficient_scope"' in headers[0][1]
    # A list of audiences: the first is the resource unless one is given.
    several = BearerAuth.jwt(ISS, ["https://other.example", AUD], jwks={"keys": [KEYS["r1"]]},
                             resource="https://mcp.example/mcp", authorization_servers=["https://as.example"],
                             clock=Clock(T0 + 60))
    assert several.resource == AUD and several.authorization_servers == ["https://as.example"]
    assert several.check("Bearer " + TOKENS["rs_good"], "/mcp")[0] == 0


# --- the JWKS fetched, cached and refetched ---------------------------------------------------------

class JwksServer:
    """A JWKS on 127.0.0.1 that counts its requests; ``body`` / ``status`` / ``location`` set
    what it answers."""

    def __init__(self, jwks):
        self.jwks = jwks
        self.body = None
        self.status = 200
        self.location = None
        self.hits = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.hits.append(self.path)
                data = owner.body if owner.body is not None else json.dumps(owner.jwks).encode()
                self.send_response(owner.status)
                if owner.location:
                    self.send_header("Location", owner.location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/jwks.json" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        assert not self.thread.is_alive()


def test_jwks_cache_rotation_and_refetch_bound():
    with JwksServer({"keys": [KEYS["r1"], KEYS["e1"]]}) as jwks:
        clock = Clock(T0 + 60)
        verifier = JWTVerifier(ISS, AUD, jwks_url=jwks.url, clock=clock, jwks_ttl=1000, jwks_refresh_interval=60)
        assert jwks.hits == []  # nothing fetched before a token comes
        for _ in range(5):
            assert verifier.verify(TOKENS["rs_good"])["sub"] == "user-1"
            assert verifier.verify(TOKENS["es_good"])["sub"] == "user-1"
        assert len(jwks.hits) == 1 and verifier.fetches == 1
        # Unknown kids: the first after the interval may refetch; a flood within it may not.
        for _ in range(50):
            with pytest.raises(JWTError, match="kid 'r9'"):
                verifier.verify(TOKENS["unknown_kid"])
        assert len(jwks.hits) == 1
        # The issuer rotates: r2 appears, r1 goes. Within the interval r2 is still unknown.
        jwks.jwks = {"keys": [KEYS["r2"], KEYS["e1"]]}
        with pytest.raises(JWTError, match="kid 'r2'"):
            verifier.verify(TOKENS["r2_good"])
        assert len(jwks.hits) == 1
        assert verifier.verify(TOKENS["rs_good"])  # r1 is still cached
        clock.now += 60
        assert verifier.verify(TOKENS["r2_good"])["sub"] == "user-2"  # fetched again: rotated
        assert len(jwks.hits) == 2
        with pytest.raises(JWTError, match="kid 'r1'"):
            verifier.verify(TOKENS["rs_good"])  # r1 has gone, and the interval holds it out
        for _ in range(20):
            with pytest.raises(JWTError):
                verifier.verify(TOKENS["unknown_kid"])
        assert len(jwks.hits) == 2
        clock.now += 61
        with pytest.raises(JWTError):
            verifier.verify(TOKENS["unknown_kid"])
        assert len(jwks.hits) == 3  # one more, then the interval again
        # The TTL: a fresh set is refetched after jwks_ttl even for a known kid. A failing
        # issuer leaves the keys as they were.
        clock.now += 1000
        jwks.status, jwks.body = 500, b"down"
        assert verifier.verify(TOKENS["r2_good"])["sub"] == "user-2"
        assert len(jwks.hits) == 4 and "500" in verifier.last_fetch_error
        assert verifier.verify(TOKENS["r2_good"])  # no new attempt within the interval
        assert len(jwks.hits) == 4
        assert all(path == "/jwks.json" for path in jwks.hits)


def test_a_key_set_without_kids_is_fetched_again_when_the_issuer_rotates():
    # Keys without kid (RFC 7517 makes it optional; a one-key issuer often leaves it out):
    # after a rotation the old key still "fits" a token without kid, and its signature
    # failed for as long as the cached set lived (jwks_ttl, an hour by default). A bad
    # signature now refetches the set like an unknown kid does, within the same bound.
    from mcplite.es256 import ES256Key

    def token(key, sub):
        claims = {"iss": ISS, "aud": AUD, "exp": T0 + 3600, "sub": sub}
        signing_input = b64(b'{"alg":"ES256"}') + "." + b64(json.dumps(claims).encode())
        return signing_input + "." + b64(key.sign(signing_input.encode()))

    old, new = ES256Key.generate(), ES256Key.generate()
    with JwksServer({"keys": [old.public_jwk()]}) as jwks:
        clock = Clock(T0 + 60)
        verifier = JWTVerifier(ISS, AUD, jwks_url=jwks.url, clock=clock, jwks_ttl=3600, jwks_refresh_interval=60)
        assert verifier.verify(token(old, "a"))["sub"] == "a"
        jwks.jwks = {"keys": [new.public_jwk()]}
        for _ in range(20):  # within the interval: refused, and the issuer is not asked again
            with pytest.raises(JWTError, match="bad signature"):
                verifier.verify(token(new, "b"))
        assert len(jwks.hits) == 1
        clock.now += 60
        assert verifier.verify(token(new, "b"))["sub"] == "b"
        assert len(jwks.hits) == 2
        for _ in range(20):  # forgeries: one more fetch after the interval, no more
            with pytest.raises(JWTError, match="bad signature"):
                verifier.verify(token(old, "c"))
        assert len(jwks.hits) == 2
        clock.now += 60
        with pytest.raises(JWTError, match="bad signature"):
            verifier.verify(token(old, "c"))
        assert len(jwks.hits) == 3
        assert verifier.verify(token(new, "d"))["sub"] == "d"


def test_jwks_fetch_bounds_size_and_follows_no_redirect():
    with JwksServer({"keys": [KEYS["r1"]]}) as jwks:
        verifier = JWTVerifier(ISS, AUD, jwks_url=jwks.url, clock=Clock(T0 + 60), jwks_max_bytes=1000)
        assert verifier.verify(TOKENS["rs_good"])  # one 2048-bit key's set: about 450 bytes
        assert verifier.last_fetch_error is None
    with JwksServer({"keys": [KEYS["r1"]], "padding": "x" * 2000}) as jwks:
        verifier = JWTVerifier(ISS, AUD, jwks_url=jwks.url, clock=Clock(T0 + 60), jwks_max_bytes=1000)
        with pytest.raises(JWTError, match="no RS256 key"):
            verifier.verify(TOKENS["rs_good"])
        assert "over 1000 bytes" in verifier.last_fetch_error and len(jwks.hits) == 1
    with JwksServer({"keys": [KEYS["r1"]]}) as jwks:
        jwks.status, jwks.location = 302, jwks.url.replace("jwks.json", "elsewhere.json")
        verifier = JWTVerifier(ISS, AUD, jwks_url=jwks.url, clock=Clock(T0 + 60))
        with pytest.raises(JWTError, match="no RS256 key"):
            verifier.verify(TOKENS["rs_good"])
        assert "302" in verifier.last_fetch_error and jwks.hits == ["/jwks.json"]
    with JwksServer({"keys": [KEYS["r1"]]}) as jwks:
        jwks.body = b"<html>not json</html>"
        verifier = JWTVerifier(ISS, AUD, jwks_url=jwks.url, clock=Clock(T0 + 60))
        with pytest.raises(JWTError):
            verifier.verify(TOKENS["rs_good"])
        assert verifier.last_fetch_error.startswith("JSONDecodeError")


# --- end to end: fresh PyJWT tokens against an mcplite HTTP server (interop) ---------------------

sdk_python = sdk_python_fixture("jwt", "cryptography")


def make_tokens(python, plan):
    proc = subprocess.run([python, MAKER], input=json.dumps(plan).encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120, env=peer_env())
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-3000:]
    return json.loads(proc.stdout.decode())


def jwt_app():
    app = Server("jwt-protected")

    @app.tool()
    def whoami(ctx: Context) -> str:
        """Says who the token's holder is."""
        principal = ctx.principal
        return "%s %s %s" % (principal.subject, principal.client_id, " ".join(sorted(principal.scopes)))

    return app


def test_http_server_behind_bearer_auth_jwt(sdk_python):
    import time

    from http_peer import Http

    now = int(time.time())
    aud = "http://127.0.0.1/mcp"

    def claims(**changes):
        base = {"iss": ISS, "aud": aud, "sub": "ann", "client_id": "cli", "scope": "mcp tools",
                "iat": now, "exp": now + 600}
        base.update(changes)
        return {k: v for k, v in base.items() if v is not None}

    plan = {"keys": [{"name": "r1", "kty": "RSA", "bits": 2048, "kid": "k1"},
                     {"name": "r2", "kty": "RSA", "bits": 2048, "kid": "k2"},
                     {"name": "e1", "kty": "EC", "kid": "k3"},
                     {"name": "small", "kty": "RSA", "bits": 1024, "kid": "k4"},
                     {"name": "other", "kty": "RSA", "bits": 2048, "kid": "k1"}],
            "tokens": [{"name": "rs", "key": "r1", "alg": "RS256", "claims": claims()},
                       {"name": "es", "key": "e1", "alg": "ES256", "claims": claims(sub="bob")},
                       {"name": "rotated", "key": "r2", "alg": "RS256", "claims": claims(sub="cy")},
                       {"name": "noscope", "key": "r1", "alg": "RS256", "claims": claims(scope="tools")},
                       {"name": "expired", "key": "r1", "alg": "RS256",
                        "claims": claims(iat=now - 7200, exp=now - 3600)},
                       {"name": "not_yet", "key": "r1", "alg": "RS256", "claims": claims(nbf=now + 3600)},
                       {"name": "wrong_iss", "key": "r1", "alg": "RS256", "claims": claims(iss="https://evil.example")},
                       {"name": "wrong_aud", "key": "r1", "alg": "RS256", "claims": claims(aud="http://127.0.0.1/other")},
                       {"name": "none", "alg": "none", "claims": claims()},
                       {"name": "confused", "key": "r1", "alg": "HS256", "claims": claims()},
                       {"name": "small", "key": "small", "alg": "RS256", "claims": claims()},
                       {"name": "forged", "key": "other", "alg": "RS256", "claims": claims()}]}
    made = make_tokens(sdk_python, plan)
    keys, tokens = made["jwks"], made["tokens"]
    offset = [0.0]
    with JwksServer({"keys": [keys["r1"], keys["e1"], keys["small"]]}) as jwks:
        auth = BearerAuth.jwt(ISS, aud, jwks_url=jwks.url, required_scopes=["mcp"],
                              clock=lambda: time.time() + offset[0])
        with jwt_app().run_in_thread("http", port=0, auth=auth) as handle:
            c = Http(handle)

            def call(token, modern=True):
                headers = {"Authorization": "Bearer " + token} if token is not None else {}
                if modern:
                    return c.modern("tools/call", {"name": "whoami", "arguments": {}}, headers=headers)
                return c.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "jwt-test", "version": "0"}}}, headers, session=False)

            good = call(tokens["rs"])
            assert good.status == 200, good
            assert good.json()["result"]["content"][0]["text"] == "ann cli mcp tools"
            assert call(tokens["es"]).json()["result"]["content"][0]["text"] == "bob cli mcp tools"
            assert call(tokens["rs"], modern=False).status == 200  # the handshake era too
            assert len(jwks.hits) == 1
            refused = ["expired", "not_yet", "wrong_iss", "wrong_aud", "none", "confused", "small", "forged"]
            for name in refused:
                for modern in (True, False):
                    reply = call(tokens[name], modern)
                    assert reply.status == 401, (name, reply)
                    challenge = reply.headers["www-authenticate"]
                    assert challenge.startswith("Bearer resource_metadata=") and 'error="invalid_token"' in challenge
            missing = call(None)
            assert missing.status == 401 and "invalid_token" not in missing.headers["www-authenticate"]
            assert call(tokens["noscope"]).status == 403
            # Rotation: the issuer now signs with k2. Within the refetch interval (60 s) the
            # unknown kid is refused without asking the issuer again, however many come.
            jwks.jwks = {"keys": [keys["r2"], keys["e1"]]}
            for _ in range(10):
                assert call(tokens["rotated"]).status == 401
            assert len(jwks.hits) == 1
            offset[0] = 61.0
            rotated = call(tokens["rotated"])
            assert rotated.status == 200 and rotated.json()["result"]["content"][0]["text"] == "cy cli mcp tools"
            assert len(jwks.hits) == 2
            assert call(tokens["rs"]).status == 401  # k1 is gone from the set
            metadata = c.send("GET", "/.well-known/oauth-protected-resource/mcp").json()
            assert metadata["resource"] == aud and metadata["authorization_servers"] == [ISS]
            c.close()
