"""ES256 on the standard library: ECDSA over the NIST P-256 curve with SHA-256 (RFC 7518
§3.4), for what OAuth asks a client to sign - ``private_key_jwt`` client assertions (RFC
7523) and DPoP proofs (RFC 9449) - with no cryptography package installed.

    key = ES256Key.generate()                    # or ES256Key.from_pem(open("key.pem").read())
    token = jws({"typ": "dpop+jwt", "jwk": key.public_jwk()}, {"jti": "..."}, key)
    key.thumbprint()                             # RFC 7638, the DPoP ``cnf.jkt``
    verify(key.public_jwk(), b"data", key.sign(b"data"))

What is here: the curve arithmetic in Jacobian coordinates (written for this module from
the curve's definition, SEC 1 and FIPS 186-5), signing with the nonce ``k`` chosen as RFC
6979 says (deterministic: HMAC-SHA-256 over the key and the message hash, so a signature
never depends on the quality of a random source, a repeated or biased ``k`` cannot leak
the key, and RFC 6979's own test vectors check it), verification, key generation with
``secrets``, PEM private keys (PKCS#8 ``PRIVATE KEY`` and SEC 1 ``EC PRIVATE KEY``,
unencrypted) read with a minimal DER reader, JWS compact serialization, and the public JWK
and its thumbprint.

What is and is not constant-time. The secret scalars - the signing nonce ``k`` and the
private key when its public key is derived - are multiplied by a Montgomery ladder of a
fixed length: the scalar is first made 257 bits long (k + n or k + 2n, the same point,
since n G is the identity), so every multiplication runs the same 256 steps of one
addition and one doubling, whatever the scalar's bit length or bits; this removes the
nonce-length leak that lets timing recover a key from many signatures ("Minerva"). What
remains is Python's: its integers take time that depends on their values (a bigint
multiplication or ``pow`` is a little faster on smaller numbers), its branches and
memory accesses are not hidden, and the point addition has special cases (a point at
infinity, equal points) that the ladder only meets with negligible probability. So this
is not constant-time in the sense a C implementation can be: someone who can time many
signatures very precisely (on the same machine, say) may still learn about the key. That
is acceptable for a short-lived DPoP key or a client assertion key on a client machine; a
key that must resist side channels belongs in a hardware or OpenSSL-backed signer.
Verification multiplies public values only, by plain double-and-add. Signing costs a
few milliseconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from typing import Any, Dict, Optional, Tuple, Union

# The P-256 domain parameters (SEC 2 §2.4.2, FIPS 186-5 / SP 800-186 §3.2.1.3):
# y^2 = x^3 - 3x + b over GF(p), base point G of prime order n (cofactor 1).
_P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_P256_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
# The DER content of the OIDs a P-256 key carries: id-ecPublicKey (1.2.840.10045.2.1)
# and prime256v1 / secp256r1 (1.2.840.10045.3.1.7).
_OID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")
_OID_P256 = bytes.fromhex("2a8648ce3d030107")
_PEM_MAX = 64 * 1024  # the most PEM text from_pem reads (a P-256 key's is about 250 bytes)

# A point in Jacobian coordinates (X, Y, Z) stands for the affine (X/Z^2, Y/Z^3); Z = 0 is
# the point at infinity. No inversion per step: one at the end.
_Jacobian = Tuple[int, int, int]
_INFINITY = (1, 1, 0)  # type: _Jacobian


def _ec_double(point: _Jacobian) -> _Jacobian:
    """2P. With a = -3, 3X^2 + aZ^4 = 3(X - Z^2)(X + Z^2) (the usual P-256 shortcut)."""
    x, y, z = point
    if z == 0 or y == 0:
        return _INFINITY
    p = _P256_P
    delta = z * z % p
    gamma = y * y % p
    beta = x * gamma % p
    alpha = 3 * (x - delta) * (x + delta) % p
    x3 = (alpha * alpha - 8 * beta) % p
    z3 = ((y + z) * (y + z) - gamma - delta) % p
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % p
    return x3, y3, z3


def _ec_add(first: _Jacobian, second: _Jacobian) -> _Jacobian:
    """P + Q for any two points (infinity, equal or opposite points included)."""
    x1, y1, z1 = first
    x2, y2, z2 = second
    if z1 == 0:
        return second
    if z2 == 0:
        return first
    p = _P256_P
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    u2 = x2 * z1z1 % p
    s1 = y1 * z2 * z2z2 % p
    s2 = y2 * z1 * z1z1 % p
    h = (u2 - u1) % p
    r = (s2 - s1) % p
    if h == 0:
        # The same x: the same point (double it) or opposite points (their sum is infinity).
        return _ec_double(first) if r == 0 else _INFINITY
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = (r * (v - x3) - s1 * hhh) % p
    z3 = z1 * z2 * h % p
    return x3, y3, z3


def _ec_multiply(scalar: int, point: _Jacobian) -> _Jacobian:
    """scalar * P by double-and-add from the top bit, for public scalars only (verify):
    its time follows the scalar's bits. Secret ones go to ``_ec_multiply_secret``."""
    result = _INFINITY
    for bit in bin(scalar)[2:] if scalar > 0 else "":
        result = _ec_double(result)
        if bit == "1":
            result = _ec_add(result, point)
    return result


def _ec_multiply_secret(scalar: int, point: _Jacobian) -> _Jacobian:
    """scalar * P for a secret scalar in [1, n-1] (a nonce, a private key), by a Montgomery
    ladder of a fixed length. The scalar becomes k + n or k + 2n, whichever has exactly
    257 bits (n has 256, so k + n < 2^257; when k + n < 2^256, k + 2n is in [2^256, 2^257)):
    the same point, and a ladder that always starts at bit 256 (a 1) and runs 256 steps of
    one addition and one doubling - the number of steps never tells the scalar's length.
    The bits choose which point is doubled by indexing a pair, not by branching."""
    n = _P256_N
    padded = scalar + n
    padded += n * (1 - (padded >> 256))  # + n again when k + n has only 256 bits
    low, high = point, _ec_double(point)  # the ladder after the top bit: (1 P, 2 P)
    for shift in range(255, -1, -1):
        bit = (padded >> shift) & 1
        # Invariant: high = low + P. Bit 1: (low + high, 2 high); bit 0: (2 low, low + high).
        pair = (low, high)
        doubled, other = pair[bit], pair[1 - bit]
        summed = _ec_add(doubled, other)
        doubled = _ec_double(doubled)
        pair = (doubled, summed)
        low, high = pair[bit], pair[1 - bit]
    return low


def _ec_affine(point: _Jacobian) -> Optional[Tuple[int, int]]:
    """(x, y), or None for the point at infinity."""
    x, y, z = point
    if z == 0:
        return None
    p = _P256_P
    z_inverse = pow(z, p - 2, p)  # Fermat: p is prime
    z2 = z_inverse * z_inverse % p
    return x * z2 % p, y * z2 * z_inverse % p


def _on_curve(x: int, y: int) -> bool:
    p = _P256_P
    return 0 <= x < p and 0 <= y < p and (y * y - (x * x * x - 3 * x + _P256_B)) % p == 0


def _es256_b64(data: bytes) -> str:
    """base64url without padding, as JWS (RFC 7515 §2) and JWK use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """base64url as JWS and JWK write it: no padding, no whitespace (RFC 7515 §2: "with
    all trailing '=' characters omitted ... and without the inclusion of any line breaks,
    whitespace, or other additional characters"), and canonical - the unused low bits of
    the last character zero, so one value has one spelling (a signature or a key cannot
    be varied without changing its bytes)."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        # (The value is not quoted: it may be a private key's d.)
        raise ValueError("not base64url (%d characters)" % len(text) if isinstance(text, str) else
                         "not base64url: a %s" % type(text).__name__)
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _es256_b64(data) != text:
        raise ValueError("not canonical base64url (nonzero unused bits in its last character)")
    return data


def _unb64_32(text: Any, what: str) -> int:
    """A JWK member that is a 32-byte big-endian integer (RFC 7518 §6.2.1.2 for x and y:
    "The length of this octet string MUST be the full size of a coordinate for the curve";
    §6.2.2.1 for d: "MUST be ceiling(log-base-2(n)/8) octets")."""
    data = _unb64(text)
    if len(data) != 32:
        raise ValueError("the JWK's %s is %d bytes, not 32" % (what, len(data)))
    return int.from_bytes(data, "big")


def _hash_int(data: bytes) -> int:
    """The message's SHA-256 as an integer: bits2int of RFC 6979 §2.3.2, which for a
    256-bit hash and a 256-bit order is the plain big-endian value."""
    return int.from_bytes(hashlib.sha256(data).digest(), "big")


def _rfc6979_nonces(secret: int, digest: int) -> Any:
    """The candidates for k, in order, as RFC 6979 §3.2 generates them with HMAC-SHA-256
    (qlen = hlen = 256, so each round's V is one candidate)."""
    x = secret.to_bytes(32, "big")                # int2octets(x)
    h1 = (digest % _P256_N).to_bytes(32, "big")  # bits2octets(h1)
    v = b"\x01" * 32
    k = b"\x00" * 32
    k = hmac.new(k, v + b"\x00" + x + h1, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    k = hmac.new(k, v + b"\x01" + x + h1, hashlib.sha256).digest()
    v = hmac.new(k, v, hashlib.sha256).digest()
    while True:
        v = hmac.new(k, v, hashlib.sha256).digest()
        candidate = int.from_bytes(v, "big")
        if 1 <= candidate < _P256_N:
            yield candidate
        # "Otherwise, compute K = HMAC_K(V || 0x00), V = HMAC_K(V)" and loop (also when
        # the candidate gave r = 0 or s = 0).
        k = hmac.new(k, v + b"\x00", hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()


class ES256Key:
    """A P-256 private key: ``sign(data)`` gives the 64-byte JWS signature (r || s, each
    32 bytes big-endian, RFC 7518 §3.4 - not DER). ``ES256Key.generate()`` makes a new
    one, ``from_pem`` / ``from_jwk`` read one; ``public_jwk()``, ``private_jwk()`` and
    ``thumbprint()`` describe it. ``kid`` (optional) goes into the headers of what
    ``jws`` signs with it."""

    def __init__(self, secret: int, kid: Optional[str] = None) -> None:
        # (bool is an int to Python, but True is no key.)
        if not isinstance(secret, int) or isinstance(secret, bool) or not 1 <= secret < _P256_N:
            raise ValueError("a P-256 private key is an integer in [1, n-1]")
        self._secret = secret
        public = _ec_affine(_ec_multiply_secret(secret, (_P256_GX, _P256_GY, 1)))
        assert public is not None  # 1 <= secret < n
        self.x, self.y = public
        self.kid = kid

    def __repr__(self) -> str:
        return "ES256Key(thumbprint=%r)" % self.thumbprint()  # never the private part

    @classmethod
    def generate(cls, kid: Optional[str] = None) -> "ES256Key":
        """A new key, its secret from ``secrets`` (the operating system's CSPRNG)."""
        return cls(secrets.randbelow(_P256_N - 1) + 1, kid)

    @classmethod
    def from_jwk(cls, jwk: Dict[str, Any]) -> "ES256Key":
        """A private EC JWK (``kty`` EC, ``crv`` P-256, ``d``; ``x``/``y`` checked if given)."""
        if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" not in jwk:
            raise ValueError("not a private P-256 JWK")
        key = cls(_unb64_32(jwk["d"], "d"), jwk.get("kid"))
        if ("x" in jwk or "y" in jwk) and (jwk.get("x"), jwk.get("y")) != (key.public_jwk()["x"], key.public_jwk()["y"]):
            raise ValueError("the JWK's x and y are not the public key of its d")
        return key

    @classmethod
    def from_pem(cls, pem: Union[str, bytes], kid: Optional[str] = None) -> "ES256Key":
        """A P-256 private key from PEM: PKCS#8 (``-----BEGIN PRIVATE KEY-----``, what
        ``openssl genpkey`` and most libraries write) or SEC 1 (``-----BEGIN EC PRIVATE
        KEY-----``, what ``openssl ecparam -genkey`` writes, EC PARAMETERS block or not).
        Encrypted keys and other curves raise ValueError."""
        if len(pem) > _PEM_MAX:
            # Before any regular expression: the search below is quadratic on some
            # inputs (many BEGIN lines without an END), and a key file is never this big.
            raise ValueError("the PEM text is larger than 64 KiB: not a private key file")
        text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
        found = re.search(r"-----BEGIN (PRIVATE KEY|EC PRIVATE KEY)-----(.*?)-----END \1-----", text, re.S)
        if found is None:
            if "ENCRYPTED" in text:
                raise ValueError("the PEM key is encrypted: decrypt it first (openssl pkcs8 -nocrypt ...)")
            raise ValueError("no PRIVATE KEY or EC PRIVATE KEY block in the PEM text")
        body = found.group(2)
        if "Proc-Type:" in body or "DEK-Info:" in body:
            raise ValueError("the PEM key is encrypted: decrypt it first")
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except ValueError:
            raise ValueError("the PEM block is not base64")
        if found.group(1) == "PRIVATE KEY":
            return cls(_pkcs8_secret(der), kid)
        return cls(_sec1_secret(der, None), kid)

    def sign(self, data: bytes) -> bytes:
        """The ES256 signature of ``data``: r || s (64 bytes), k from RFC 6979."""
        digest = _hash_int(data)
        n = _P256_N
        for k in _rfc6979_nonces(self._secret, digest):
            point = _ec_affine(_ec_multiply_secret(k, (_P256_GX, _P256_GY, 1)))
            if point is None:
                continue
            r = point[0] % n
            if r == 0:
                continue
            s = pow(k, n - 2, n) * (digest + r * self._secret) % n
            if s == 0:
                continue
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        raise AssertionError("unreachable: the nonce generator never ends")  # pragma: no cover

    def public_jwk(self) -> Dict[str, str]:
        """The public key as a JWK (RFC 7518 §6.2.1: x and y, 32 bytes each; no ``d``)."""
        jwk = {"kty": "EC", "crv": "P-256", "x": _es256_b64(self.x.to_bytes(32, "big")),
               "y": _es256_b64(self.y.to_bytes(32, "big"))}
        if self.kid is not None:
            jwk["kid"] = self.kid
        return jwk

    def private_jwk(self) -> Dict[str, str]:
        """The key with its private part ``d``: for storage only, never to send."""
        return dict(self.public_jwk(), d=_es256_b64(self._secret.to_bytes(32, "big")))

    def thumbprint(self) -> str:
        """The RFC 7638 SHA-256 thumbprint of the public key (base64url)."""
        return jwk_thumbprint(self.public_jwk())


def jwk_thumbprint(jwk: Dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the JSON of the key type's required members only (for EC:
    crv, kty, x, y), "in lexicographic order" and "with no whitespace or line breaks";
    base64url. EC and RSA keys."""
    if not isinstance(jwk, dict):
        raise ValueError("a JWK is a JSON object")
    if jwk.get("kty") == "EC":
        members = ("crv", "kty", "x", "y")
    elif jwk.get("kty") == "RSA":
        members = ("e", "kty", "n")
    else:
        raise ValueError("no thumbprint for key type %r" % (jwk.get("kty"),))
    if any(not isinstance(jwk.get(name), str) for name in members):
        raise ValueError("the JWK lacks one of its required members %s (or one is not a string)"
                         % ", ".join(members))
    required = {name: jwk[name] for name in members}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _es256_b64(hashlib.sha256(canonical.encode("utf-8")).digest())


def verify(jwk: Dict[str, Any], data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (r || s, 64 bytes) is a valid ES256 signature of ``data`` by
    the public P-256 key ``jwk``. False for anything malformed (a point off the curve
    included)."""
    try:
        x = _unb64_32(jwk["x"], "x")
        y = _unb64_32(jwk["y"], "y")
    except (KeyError, TypeError, ValueError):
        return False
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or not _on_curve(x, y) or len(signature) != 64:
        return False
    n = _P256_N
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (1 <= r < n and 1 <= s < n):
        return False
    w = pow(s, n - 2, n)
    digest = _hash_int(data)
    total = _ec_add(_ec_multiply(digest * w % n, (_P256_GX, _P256_GY, 1)), _ec_multiply(r * w % n, (x, y, 1)))
    point = _ec_affine(total)
    return point is not None and point[0] % n == r


def jws(header: Dict[str, Any], claims: Dict[str, Any], key: ES256Key) -> str:
    """The JWS compact serialization (RFC 7515 §7.1) of the JSON ``claims``, signed with
    ``key``: base64url(header) . base64url(claims) . base64url(r || s). ``alg`` is set to
    ES256 (and ``kid`` to the key's, when it has one and the header has none)."""
    header = dict(header, alg="ES256")
    if key.kid is not None:
        header.setdefault("kid", key.kid)
    signing_input = "%s.%s" % (_es256_b64(json.dumps(header, separators=(",", ":")).encode("utf-8")),
                               _es256_b64(json.dumps(claims, separators=(",", ":")).encode("utf-8")))
    return signing_input + "." + _es256_b64(key.sign(signing_input.encode("ascii")))


def jws_verify(token: str) -> Optional[Tuple[Dict[str, Any], Dict[str, Any]]]:
    """(header, claims) of an ES256 JWS whose header carries its public key as ``jwk``
    (a DPoP proof) and whose signature verifies with it; None otherwise. (For tests and
    for checking what this module made; a real verifier also checks the claims.)"""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_unb64(parts[0]).decode("utf-8"))
        claims = json.loads(_unb64(parts[1]).decode("utf-8"))
        signature = _unb64(parts[2])
    except ValueError:
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict) or header.get("alg") != "ES256":
        return None
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or not verify(jwk, (parts[0] + "." + parts[1]).encode("ascii"), signature):
        return None
    return header, claims


# --- a minimal DER reader: just what a P-256 private key's structures need ----------------------

def _der_read(data: bytes, offset: int) -> Tuple[int, bytes, int]:
    """One DER TLV at ``offset``: (tag, value, offset after it). Definite lengths only, as
    DER requires."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[offset], data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise ValueError("a DER length that is not definite or too long")
        length = int.from_bytes(data[offset:offset + count], "big")
        # X.690 §10.1: DER lengths are "encoded in the minimum number of octets": the long
        # form only from 128 on, and no leading zero octet (one key, one encoding).
        if length < 0x80 or data[offset] == 0:
            raise ValueError("a DER length that is not minimal")
        offset += count
    if offset + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[offset:offset + length], offset + length


def _der_items(data: bytes) -> Any:
    """The (tag, value) pairs of a SEQUENCE's content."""
    offset = 0
    while offset < len(data):
        tag, value, offset = _der_read(data, offset)
        yield tag, value


def _der_sequence(data: bytes) -> Any:
    tag, value, end = _der_read(data, 0)
    if tag != 0x30 or end != len(data):
        raise ValueError("not a DER SEQUENCE")
    return list(_der_items(value))


def _pkcs8_secret(der: bytes) -> int:
    """RFC 5208 / 5958 PrivateKeyInfo: version, AlgorithmIdentifier {id-ecPublicKey,
    prime256v1}, OCTET STRING holding an RFC 5915 ECPrivateKey."""
    items = _der_sequence(der)
    if len(items) < 3 or items[0][0] != 0x02 or items[1][0] != 0x30 or items[2][0] != 0x04:
        raise ValueError("not a PKCS#8 PrivateKeyInfo")
    # RFC 5958: "Version ::= INTEGER { v1(0), v2(1) }" (v2 adds an optional public key);
    # DER writes either as the one octet 00 or 01.
    if items[0][1] not in (b"\x00", b"\x01"):
        raise ValueError("a PKCS#8 version that is neither v1 (0) nor v2 (1)")
    algorithm = list(_der_items(items[1][1]))
    if not algorithm or algorithm[0] != (0x06, _OID_EC_PUBLIC_KEY):
        raise ValueError("the PKCS#8 key is not an EC key")
    if len(algorithm) < 2 or algorithm[1] != (0x06, _OID_P256):
        raise ValueError("the PKCS#8 EC key is not on P-256")
    return _sec1_secret(items[2][1], _OID_P256)


def _sec1_secret(der: bytes, curve: Optional[bytes]) -> int:
    """RFC 5915 ECPrivateKey: version 1, the private key (32 octets), [0] the curve's OID
    (optional in PKCS#8), [1] the public key (optional; checked against the private one)."""
    items = _der_sequence(der)
    if len(items) < 2 or items[0] != (0x02, b"\x01") or items[1][0] != 0x04:
        raise ValueError("not an EC private key (RFC 5915)")
    secret_bytes = items[1][1]
    public_bits = None  # type: Optional[bytes]
    for tag, value in items[2:]:
        if tag == 0xA0:
            # parameters [0] ECParameters: here the namedCurve OBJECT IDENTIFIER, alone.
            oid_tag, oid, end = _der_read(value, 0)
            if oid_tag != 0x06 or end != len(value):
                raise ValueError("the EC private key's parameters are not a named curve's OID")
            curve = oid
        elif tag == 0xA1:
            bit_tag, public_bits, _ = _der_read(value, 0)
            if bit_tag != 0x03:
                raise ValueError("the EC private key's public key is not a BIT STRING")
    if curve != _OID_P256:
        raise ValueError("the EC private key is not on P-256")
    if len(secret_bytes) > 32:
        raise ValueError("the EC private key is longer than 32 bytes")
    secret = int.from_bytes(secret_bytes, "big")
    if not 1 <= secret < _P256_N:
        raise ValueError("the EC private key is out of range")
    if public_bits is not None:
        # An uncompressed point after the BIT STRING's unused-bits octet: 00 04 x y.
        expected = ES256Key(secret)
        if public_bits != b"\x00\x04" + expected.x.to_bytes(32, "big") + expected.y.to_bytes(32, "big"):
            raise ValueError("the EC private key's public key does not match it")
    return secret
