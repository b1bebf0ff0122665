"""mcplite/es256.py: ES256 (ECDSA P-256 / SHA-256) in pure Python, for OAuth client
assertions and DPoP proofs.

Checked three independent ways: RFC 6979's own test vectors (A.2.5: the public key and the
exact r, s of deterministic signatures), the ``openssl`` command line (keys it generates in
PKCS#8 and SEC 1 PEM are read here and their public keys compared with what openssl
derives; a signature made here verifies with ``openssl dgst -verify``), and the
``cryptography`` package of the official SDK's venv, run as a subprocess (its keys read
here, signatures verified both ways, the same deterministic signature, JWS checked by
PyJWT). No openssl or no venv: skipped here, failed under scripts/test
(MCPLITE_REQUIRE_INTEROP=1).
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from typing import Any, Dict, List, Optional

import pytest

from mcplite import es256
from mcplite.es256 import ES256Key, jwk_thumbprint, jws, jws_verify, verify

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# RFC 6979 A.2.5 (ECDSA, 256 bits, prime field), with SHA-256.
RFC6979_KEY = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
RFC6979_UX = 0x60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6
RFC6979_UY = 0x7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299
RFC6979_SIGNATURES = {
    b"sample": ("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
                "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"),
    b"test": ("F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
              "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"),
}


def b64url(data):
    # type: (bytes) -> str
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unavailable(why):
    # type: (str) -> None
    (pytest.fail if os.environ.get("MCPLITE_REQUIRE_INTEROP") else pytest.skip)(why)


# --- the arithmetic and the signatures ---------------------------------------------------------------

def test_rfc6979_public_key_and_deterministic_signatures():
    key = ES256Key(RFC6979_KEY)
    assert (key.x, key.y) == (RFC6979_UX, RFC6979_UY)
    for message, (r, s) in RFC6979_SIGNATURES.items():
        assert key.sign(message).hex().upper() == r + s
        assert verify(key.public_jwk(), message, key.sign(message))


def test_the_group_law():
    g = (es256._P256_GX, es256._P256_GY, 1)
    n = es256._P256_N
    assert es256._ec_affine(es256._ec_multiply(n, g)) is None  # G has order n
    assert es256._ec_affine(es256._ec_multiply(n + 1, g)) == (g[0], g[1])
    assert es256._ec_affine(es256._ec_add(g, g)) == es256._ec_affine(es256._ec_double(g))
    minus_g = (g[0], es256._P256_P - g[1], 1)
    assert es256._ec_affine(es256._ec_add(g, minus_g)) is None
    assert es256._ec_affine(es256._ec_multiply(n - 1, g)) == (g[0], es256._P256_P - g[1])
    three = es256._ec_multiply(3, g)
    assert es256._ec_affine(es256._ec_add(es256._ec_double(g), g)) == es256._ec_affine(three)
    # 5G + 7G = 12G, with both points in Jacobian form (Z != 1).
    twelve = es256._ec_add(es256._ec_multiply(5, g), es256._ec_multiply(7, g))
    assert es256._ec_affine(twelve) == es256._ec_affine(es256._ec_multiply(12, g))
    x, y = es256._ec_affine(twelve)
    assert es256._on_curve(x, y) and not es256._on_curve(x, y + 1)


def test_sign_then_verify_and_what_must_not_verify():
    for _ in range(5):
        key = ES256Key.generate()
        other = ES256Key.generate()
        message = os.urandom(40)
        signature = key.sign(message)
        assert len(signature) == 64
        assert verify(key.public_jwk(), message, signature)
        assert not verify(key.public_jwk(), message + b"x", signature)
        assert not verify(other.public_jwk(), message, signature)
        flipped = bytes([signature[0] ^ 1]) + signature[1:]
        assert not verify(key.public_jwk(), message, flipped)
        assert not verify(key.public_jwk(), message, signature[:63])
    key = ES256Key(RFC6979_KEY)
    signature = key.sign(b"sample")
    n = es256._P256_N.to_bytes(32, "big")
    assert not verify(key.public_jwk(), b"sample", signature[:32] + n)   # s = n
    assert not verify(key.public_jwk(), b"sample", bytes(32) + signature[32:])  # r = 0
    off_curve = dict(key.public_jwk(), y=b64url((key.y + 1).to_bytes(32, "big")))
    assert not verify(off_curve, b"sample", signature)
    assert not verify(dict(key.public_jwk(), crv="P-384"), b"sample", signature)


def test_keys_out_of_range_are_refused():
    for bad in (0, es256._P256_N, -1):
        with pytest.raises(ValueError):
            ES256Key(bad)


def test_jwks_and_the_private_part():
    key = ES256Key.generate(kid="k1")
    public = key.public_jwk()
    assert set(public) == {"kty", "crv", "x", "y", "kid"} and public["kty"] == "EC" and public["crv"] == "P-256"
    assert len(base64.urlsafe_b64decode(public["x"] + "=")) == 32
    private = key.private_jwk()
    again = ES256Key.from_jwk(private)
    assert (again.x, again.y, again.kid) == (key.x, key.y, "k1")
    assert again.sign(b"m") == key.sign(b"m")  # the same secret (RFC 6979: deterministic)
    with pytest.raises(ValueError):
        ES256Key.from_jwk(public)  # no d
    with pytest.raises(ValueError):
        ES256Key.from_jwk(dict(private, x=ES256Key.generate().public_jwk()["x"]))
    assert private["d"] not in repr(key) and key.thumbprint() in repr(key)


def test_jws_compact_serialization():
    key = ES256Key.generate()
    token = jws({"typ": "dpop+jwt", "jwk": key.public_jwk()}, {"htm": "POST", "n": 1}, key)
    head, body, signature = token.split(".")
    assert "=" not in token
    assert json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))) == {
        "typ": "dpop+jwt", "jwk": key.public_jwk(), "alg": "ES256"}
    assert len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) == 64
    assert verify(key.public_jwk(), (head + "." + body).encode("ascii"),
                  base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    assert jws_verify(token) == ({"typ": "dpop+jwt", "jwk": key.public_jwk(), "alg": "ES256"}, {"htm": "POST", "n": 1})
    tampered_claims = b64url(json.dumps({"htm": "GET", "n": 1}, separators=(",", ":")).encode())
    assert jws_verify(head + "." + tampered_claims + "." + signature) is None
    assert jws_verify(token + "x") is None and jws_verify("a.b") is None


def test_rfc7638_thumbprint():
    # RFC 7638 §3.1: the RSA example and its thumbprint.
    rsa = {"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
           "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n"
                "3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0z"
                "gdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
                "Cur-kEgU8awapJzKnqDKgw"}
    assert jwk_thumbprint(rsa) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    # EC: the members crv, kty, x, y in that order, no whitespace; others ignored.
    key = ES256Key(RFC6979_KEY, kid="ignored")
    x = b64url(RFC6979_UX.to_bytes(32, "big"))
    y = b64url(RFC6979_UY.to_bytes(32, "big"))
    canonical = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (x, y)
    assert key.thumbprint() == b64url(hashlib.sha256(canonical.encode("ascii")).digest())
    assert jwk_thumbprint(dict(key.private_jwk(), use="sig")) == key.thumbprint()
    with pytest.raises(ValueError):
        jwk_thumbprint({"kty": "oct", "k": "abc"})


# --- PEM keys, with the openssl command line -----------------------------------------------------------

@pytest.fixture(scope="module")
def openssl():
    # type: () -> Any
    path = shutil.which("openssl")
    if path is None:
        unavailable("the openssl command line is not installed")

    def run(*args, **kw):
        # type: (str, Any) -> bytes
        return subprocess.run([path] + list(args), check=True, capture_output=True, timeout=30, **kw).stdout
    return run


def public_point_from_openssl(openssl, pem_path):
    # type: (Any, str) -> Any
    der = openssl("pkey", "-in", pem_path, "-pubout", "-outform", "DER")
    point = der[-65:]  # SubjectPublicKeyInfo ends with the uncompressed point 04 || x || y
    assert point[0] == 4
    return int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")


def der_signature(raw):
    # type: (bytes) -> bytes
    """r || s as the DER ECDSA-Sig-Value openssl verifies."""
    def integer(value):
        # type: (bytes) -> bytes
        value = value.lstrip(b"\0") or b"\0"
        if value[0] & 0x80:
            value = b"\0" + value
        return b"\x02" + bytes([len(value)]) + value
    body = integer(raw[:32]) + integer(raw[32:])
    return b"\x30" + bytes([len(body)]) + body


@pytest.mark.parametrize("form", ["pkcs8", "sec1-with-parameters", "sec1"])
def test_pem_private_keys_from_openssl(openssl, tmp_path, form):
    path = str(tmp_path / "key.pem")
    if form == "pkcs8":
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
        marker = "BEGIN PRIVATE KEY"
    elif form == "sec1-with-parameters":
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", path)
        marker = "BEGIN EC PARAMETERS"
    else:
        pkcs8 = str(tmp_path / "pkcs8.pem")
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pkcs8)
        openssl("ec", "-in", pkcs8, "-out", path)
        marker = "BEGIN EC PRIVATE KEY"
    with open(path) as handle:
        pem = handle.read()
    assert marker in pem
    key = ES256Key.from_pem(pem)
    assert (key.x, key.y) == public_point_from_openssl(openssl, path)
    assert ES256Key.from_pem(pem.encode("ascii")).x == key.x
    # A signature made here verifies with openssl.
    message = str(tmp_path / "message")
    with open(message, "wb") as handle:
        handle.write(b"signed by mcplite")
    signature = str(tmp_path / "signature.der")
    with open(signature, "wb") as handle:
        handle.write(der_signature(key.sign(b"signed by mcplite")))
    public = str(tmp_path / "public.pem")
    openssl("pkey", "-in", path, "-pubout", "-out", public)
    assert b"Verified OK" in openssl("dgst", "-sha256", "-verify", public, "-signature", signature, message)
    # ...and openssl's signature verifies here.
    theirs = openssl("dgst", "-sha256", "-sign", path, message)
    from_der = _raw_from_der(theirs)
    assert verify(key.public_jwk(), b"signed by mcplite", from_der)
    assert not verify(key.public_jwk(), b"signed by someone", from_der)


def _raw_from_der(der):
    # type: (bytes) -> bytes
    assert der[0] == 0x30
    offset = 2
    values = []  # type: List[int]
    for _ in range(2):
        assert der[offset] == 0x02
        length = der[offset + 1]
        values.append(int.from_bytes(der[offset + 2:offset + 2 + length], "big"))
        offset += 2 + length
    return values[0].to_bytes(32, "big") + values[1].to_bytes(32, "big")


@pytest.mark.parametrize("kind", ["p384", "encrypted", "rsa", "public"])
def test_pem_keys_that_are_refused(openssl, tmp_path, kind):
    path = str(tmp_path / "key.pem")
    if kind == "p384":
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", path)
    elif kind == "encrypted":
        plain = str(tmp_path / "plain.pem")
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", plain)
        openssl("pkcs8", "-topk8", "-in", plain, "-out", path, "-passout", "pass:secret")
    elif kind == "rsa":
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", path)
    else:
        plain = str(tmp_path / "plain.pem")
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", plain)
        openssl("pkey", "-in", plain, "-pubout", "-out", path)
    with open(path) as handle:
        pem = handle.read()
    with pytest.raises(ValueError):
        ES256Key.from_pem(pem)


def sec1_der(secret, x, y, curve=True):
    # type: (int, int, int, bool) -> bytes
    body = b"\x02\x01\x01" + b"\x04\x20" + secret.to_bytes(32, "big")
    if curve:
        body += b"\xa0\x0a\x06\x08" + bytes.fromhex("2a8648ce3d030107")
    body += b"\xa1\x44\x03\x42\x00\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    return b"\x30" + bytes([len(body)]) + body


def pem_of(der, label):
    # type: (bytes, str) -> str
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, base64.encodebytes(der).decode("ascii"), label)


def test_sec1_structure_checks():
    good = sec1_der(RFC6979_KEY, RFC6979_UX, RFC6979_UY)
    assert ES256Key.from_pem(pem_of(good, "EC PRIVATE KEY")).x == RFC6979_UX
    with pytest.raises(ValueError, match="does not match"):
        ES256Key.from_pem(pem_of(sec1_der(RFC6979_KEY, RFC6979_UX, RFC6979_UY + 1), "EC PRIVATE KEY"))
    with pytest.raises(ValueError, match="P-256"):  # no curve named, and none from PKCS#8 around it
        ES256Key.from_pem(pem_of(sec1_der(RFC6979_KEY, RFC6979_UX, RFC6979_UY, curve=False), "EC PRIVATE KEY"))
    with pytest.raises(ValueError):
        ES256Key.from_pem(pem_of(good[:-5], "EC PRIVATE KEY"))  # truncated
    with pytest.raises(ValueError):
        ES256Key.from_pem("no key here")


# --- the cryptography package of the official SDK's venv ---------------------------------------------

CRYPTOGRAPHY_SIDE = r'''
import base64, hashlib, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

def raw(der):
    r, s = decode_dss_signature(der)
    return (r.to_bytes(32, "big") + s.to_bytes(32, "big")).hex()

request = json.load(sys.stdin)
if request["step"] == "keys":
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    message = b"signed by cryptography"
    out = {"pkcs8": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode(),
           "sec1": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption()).decode(),
           "x": numbers.x, "y": numbers.y, "message": message.hex(),
           "signature": raw(key.sign(message, ec.ECDSA(hashes.SHA256())))}
    try:  # RFC 6979 in OpenSSL 3.2+: the very signature mcplite makes
        out["deterministic"] = raw(key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))
    except Exception as exc:
        out["deterministic"] = None
    print(json.dumps(out))
else:
    key = serialization.load_pem_private_key(request["pkcs8"].encode(), None).public_key()
    signature = bytes.fromhex(request["signature"])
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    results = {}
    for name, data in (("good", b"signed by mcplite"), ("bad", b"signed by someone else")):
        try:
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))
            results[name] = True
        except Exception:
            results[name] = False
    numbers = key.public_numbers()
    canonical = json.dumps({"crv": "P-256", "kty": "EC", "x": b64url(numbers.x.to_bytes(32, "big")),
                            "y": b64url(numbers.y.to_bytes(32, "big"))}, sort_keys=True, separators=(",", ":"))
    results["thumbprint"] = b64url(hashlib.sha256(canonical.encode()).digest())
    import jwt  # PyJWT, a dependency of the SDK: the JWS as a whole
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    results["jws_claims"] = jwt.decode(request["jws"], pem, algorithms=["ES256"], options={"verify_aud": False})
    results["jws_header"] = jwt.get_unverified_header(request["jws"])
    print(json.dumps(results))
'''


@pytest.fixture(scope="module")
def sdk_python():
    # type: () -> str
    path = os.environ.get("MCPLITE_SDK_PYTHON") or os.path.join(REPO, ".cache", "sdk-venv", "bin", "python")
    if not os.path.exists(path):
        unavailable("the official SDK's venv (%s) is not there (scripts/test makes it)" % path)
    return path


def in_sdk_venv(python, request):
    # type: (str, Dict[str, Any]) -> Dict[str, Any]
    done = subprocess.run([python, "-c", CRYPTOGRAPHY_SIDE], input=json.dumps(request), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_cross_checked_with_cryptography(sdk_python):
    theirs = in_sdk_venv(sdk_python, {"step": "keys"})
    key = ES256Key.from_pem(theirs["pkcs8"])
    assert (key.x, key.y) == (theirs["x"], theirs["y"])
    assert (ES256Key.from_pem(theirs["sec1"]).x, ES256Key.from_pem(theirs["sec1"]).y) == (key.x, key.y)
    message = bytes.fromhex(theirs["message"])
    assert verify(key.public_jwk(), message, bytes.fromhex(theirs["signature"]))
    assert not verify(key.public_jwk(), message + b"!", bytes.fromhex(theirs["signature"]))
    if theirs["deterministic"] is not None:
        assert key.sign(message).hex() == theirs["deterministic"]
    token = jws({"typ": "JWT"}, {"iss": "mcplite", "n": 7}, key)
    checked = in_sdk_venv(sdk_python, {"step": "verify", "pkcs8": theirs["pkcs8"], "jws": token,
                                       "signature": key.sign(b"signed by mcplite").hex()})
    assert checked["good"] is True and checked["bad"] is False
    assert checked["thumbprint"] == key.thumbprint()
    assert checked["jws_claims"] == {"iss": "mcplite", "n": 7}
    assert checked["jws_header"] == {"typ": "JWT", "alg": "ES256"}


def test_es256_is_not_loaded_by_importing_mcplite_or_its_oauth():
    # (The package: no mcplite.es256 module; the one file: its section not run.)
    code = ("import sys, mcplite; from mcplite import OAuth; OAuth(dpop=True); "
            "print('mcplite.es256' in sys.modules or '_P256_N' in vars(mcplite))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# --- review fixes: secret scalars, strict decoding ---------------------------------------------------

def count_group_operations(monkeypatch):
    # type: (Any) -> Dict[str, int]
    """Counts the point additions and doublings from now on (the module's own functions,
    wrapped)."""
    counts = {"add": 0, "double": 0}
    add, double = es256._ec_add, es256._ec_double

    def counted_add(first, second):
        # type: (Any, Any) -> Any
        counts["add"] += 1
        return add(first, second)

    def counted_double(point):
        # type: (Any) -> Any
        counts["double"] += 1
        return double(point)
    monkeypatch.setattr(es256, "_ec_add", counted_add)
    monkeypatch.setattr(es256, "_ec_double", counted_double)
    return counts


SCALARS = [1, 2, 3, 2 ** 64 + 1, 2 ** 255 - 19, es256._P256_N // 2, es256._P256_N - 2, es256._P256_N - 1]


def test_secret_scalars_take_the_same_steps_whatever_their_bit_length(monkeypatch):
    """A nonce or key with leading zero bits must not make a shorter multiplication
    (Minerva: the signing time tells the nonce's length, and enough short nonces give the key)."""
    counts = count_group_operations(monkeypatch)
    seen = set()
    for secret in SCALARS:  # the public key of each (key generation, from_jwk, from_pem)
        counts.update(add=0, double=0)
        key = ES256Key(secret)
        seen.add((counts["add"], counts["double"]))
        assert es256._on_curve(key.x, key.y)
    assert len(seen) == 1, "the public key's derivation depends on the secret's length: %s" % seen
    g = (es256._P256_GX, es256._P256_GY, 1)
    for secret in SCALARS + [int.from_bytes(os.urandom(32), "big") % (es256._P256_N - 1) + 1 for _ in range(5)]:
        assert es256._ec_affine(es256._ec_multiply_secret(secret, g)) == es256._ec_affine(es256._ec_multiply(secret, g))
    assert ES256Key(1).x == es256._P256_GX and ES256Key(es256._P256_N - 1).y == es256._P256_P - es256._P256_GY
    key = ES256Key(RFC6979_KEY)
    seen = set()
    for nonce in SCALARS:
        monkeypatch.setattr(es256, "_rfc6979_nonces", lambda secret, digest, nonce=nonce: iter([nonce]))
        counts.update(add=0, double=0)
        signature = key.sign(b"sample")
        seen.add((counts["add"], counts["double"]))
        assert verify(key.public_jwk(), b"sample", signature)
    assert len(seen) == 1, "signing depends on the nonce's length: %s" % seen


def test_es256key_refuses_a_bool():
    with pytest.raises(ValueError):
        ES256Key(True)


def test_jwk_members_must_be_exactly_32_bytes():
    key = ES256Key(RFC6979_KEY)
    signature = key.sign(b"sample")
    jwk = key.public_jwk()
    assert verify(jwk, b"sample", signature)
    # RFC 7518 §6.2.1.2: "The length of this octet string MUST be the full size of a coordinate".
    for name, value in (("x", RFC6979_UX), ("y", RFC6979_UY)):
        assert not verify(dict(jwk, **{name: b64url(b"\0" + value.to_bytes(32, "big"))}), b"sample", signature)
    small = ES256Key(5)
    assert not verify(dict(small.public_jwk(), x=b64url(small.x.to_bytes(33, "big"))), b"m", small.sign(b"m"))
    # d: "ceiling(log-base-2(n)/8) octets" - 32, no more, no fewer.
    private = key.private_jwk()
    with pytest.raises(ValueError):
        ES256Key.from_jwk(dict(private, d=b64url(b"\0" + RFC6979_KEY.to_bytes(32, "big"))))
    with pytest.raises(ValueError):
        ES256Key.from_jwk({"kty": "EC", "crv": "P-256", "d": b64url(b"\x05")})
    assert ES256Key.from_jwk({"kty": "EC", "crv": "P-256", "d": b64url((5).to_bytes(32, "big"))}).x == small.x


def non_canonical(text):
    # type: (str) -> str
    """The same bytes in base64url with a trailing bit set that a canonical encoder leaves 0."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(text[-1])
    changed = text[:-1] + alphabet[last | 1]
    assert changed != text and base64.urlsafe_b64decode(changed + "=" * (-len(changed) % 4)) == \
        base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return changed


def test_base64url_must_be_canonical_without_padding_or_whitespace():
    key = ES256Key(RFC6979_KEY)
    signature = key.sign(b"sample")
    jwk = key.public_jwk()
    for name in ("x", "y"):
        for bad in (non_canonical(jwk[name]), jwk[name] + "=", jwk[name] + "\n", " " + jwk[name]):
            assert not verify(dict(jwk, **{name: bad}), b"sample", signature)
    private = key.private_jwk()
    for bad in (non_canonical(private["d"]), private["d"] + "=", private["d"] + "\n"):
        with pytest.raises(ValueError):
            ES256Key.from_jwk(dict(private, d=bad))
    token = jws({"typ": "dpop+jwt", "jwk": jwk}, {"n": 1}, key)
    head, body, sig = token.split(".")
    assert jws_verify(token) is not None
    assert jws_verify("%s.%s.%s" % (head, body, non_canonical(sig))) is None
    assert jws_verify("%s.%s.%s=" % (head, body, sig)) is None
    assert jws_verify("%s.%s.%s" % (head, body, sig + "\n")) is None


def test_jwk_thumbprint_of_a_key_missing_a_member_is_a_value_error():
    jwk = ES256Key.generate().public_jwk()
    for name in ("crv", "x", "y"):
        partial = dict(jwk)
        del partial[name]
        with pytest.raises(ValueError):
            jwk_thumbprint(partial)
    with pytest.raises(ValueError):
        jwk_thumbprint({"kty": "RSA", "n": "abc"})
    with pytest.raises(ValueError):
        jwk_thumbprint(dict(jwk, x=7))


def test_pem_text_over_64_kib_is_refused_before_it_is_searched():
    good = pem_of(sec1_der(RFC6979_KEY, RFC6979_UX, RFC6979_UY), "EC PRIVATE KEY")
    assert ES256Key.from_pem(good + "\n" * 1000).x == RFC6979_UX
    with pytest.raises(ValueError, match="64 KiB"):
        ES256Key.from_pem(good + "\n" * (64 * 1024))
    with pytest.raises(ValueError, match="64 KiB"):
        ES256Key.from_pem(("-----BEGIN PRIVATE KEY-----\n" * 5000).encode("ascii"))


def der(tag, content, length=None):
    # type: (int, bytes, Optional[bytes]) -> bytes
    if length is None:
        length = bytes([len(content)]) if len(content) < 0x80 else b"\x81" + bytes([len(content)])
    return bytes([tag]) + length + content


P256_OID = der(0x06, bytes.fromhex("2a8648ce3d030107"))
EC_OID = der(0x06, bytes.fromhex("2a8648ce3d0201"))


def sec1(curve=P256_OID, secret_length=None):
    # type: (bytes, Optional[bytes]) -> bytes
    return der(0x30, der(0x02, b"\x01") + der(0x04, RFC6979_KEY.to_bytes(32, "big"), secret_length)
               + der(0xA0, curve))


def pkcs8(version=b"\x00", inner=None):
    # type: (bytes, Optional[bytes]) -> bytes
    return der(0x30, der(0x02, version) + der(0x30, EC_OID + P256_OID) + der(0x04, inner or sec1()))


def test_der_lengths_must_be_minimal_and_versions_and_tags_right():
    assert ES256Key.from_pem(pem_of(sec1(), "EC PRIVATE KEY")).x == RFC6979_UX
    for version in (b"\x00", b"\x01"):
        assert ES256Key.from_pem(pem_of(pkcs8(version), "PRIVATE KEY")).x == RFC6979_UX
    # DER (X.690 §10.1): "the definite form of length encoding shall be used, encoded in the
    # minimum number of octets".
    for length in (b"\x81\x20", b"\x82\x00\x20"):
        with pytest.raises(ValueError, match="minimal|length"):
            ES256Key.from_pem(pem_of(sec1(secret_length=length), "EC PRIVATE KEY"))
    # RFC 5958: "version ... v1(0), v2(1)" - nothing else.
    for version in (b"\x02", b"\x00\x00", b"\xff"):
        with pytest.raises(ValueError, match="version"):
            ES256Key.from_pem(pem_of(pkcs8(version), "PRIVATE KEY"))
    # [0] holds the curve's OBJECT IDENTIFIER, not any TLV with the same bytes.
    with pytest.raises(ValueError):
        ES256Key.from_pem(pem_of(sec1(curve=der(0x04, bytes.fromhex("2a8648ce3d030107"))), "EC PRIVATE KEY"))
    with pytest.raises(ValueError):
        ES256Key.from_pem(pem_of(sec1(curve=P256_OID + b"\x05\x00"), "EC PRIVATE KEY"))
