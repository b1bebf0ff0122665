"""JWT access tokens checked on the standard library, for a resource server: RS256
(RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3) and ES256 (``es256``), the claims a
resource server must check, and the issuer's keys fetched from its JWKS URL and cached.

    verifier = JWTVerifier("https://auth.example", "https://mcp.example/mcp",
                           jwks_url="https://auth.example/.well-known/jwks.json")
    claims = verifier.verify(token)      # the claims, or JWTError saying why not

``BearerAuth.jwt`` (``auth``) puts one in front of an MCP server.

What a token must be to pass. Its header's ``alg`` is one of ``algorithms`` (RS256 and
ES256 by default; those are the only ones there are here): ``none`` and the HMAC ones are
never accepted, so a token cannot choose to be checked without a signature or with the
public key as an HMAC secret ("algorithm confusion"), and the key it names must be of that
algorithm's type (an RSA key for RS256, a P-256 key for ES256) and, when the key says its
``alg``, of that one. A header with ``crit`` is refused (RFC 7515 §4.1.11: extensions a
recipient does not understand MUST make it reject the JWS; this one understands none). Its
``typ``, when there is one, says an access token: ``at+jwt`` (RFC 9068) or ``JWT``, with or
without ``application/``, in any case; any other (``dpop+jwt``, ``secevent+jwt``...) is
another kind of JWT, refused so that it cannot pass for an access token.
The claims: ``iss`` equal to the issuer; ``aud`` (a string or a list) holding one of the
audiences - for MCP the server's own canonical URL ("MCP servers MUST validate that access
tokens were issued specifically for them as the intended audience"); ``exp`` present and
not past, ``nbf`` and ``iat`` not in the future, each with ``leeway`` seconds of clock skew.

RSA: the signature is checked as RFC 8017 §8.2.2 says, by encoding the expected message
(EMSA-PKCS1-v1_5: 00 01 FF..FF 00, the SHA-256 DigestInfo, the hash) and comparing it with
s^e mod n in full, in constant time - not by parsing what the exponentiation gave, which is
where the known PKCS#1 v1.5 forgeries (Bleichenbacher's 2006 e = 3 one and its kin) live.
A modulus under 2048 bits is refused (NIST SP 800-131A), and over 8192 bits too (a bound on
the work one token can cause). Only public values are involved, so nothing here needs to be
constant-time but the final comparison.

Keys. Static keys (``jwks``: a JWKS dict, for a server with no network or a fixed key) or
the issuer's ``jwks_url``, which must be ``https://`` - ``http://`` only on a loopback host
(127.0.0.1, ::1, localhost), where nothing crosses a network (for tests and a local issuer).
The set is fetched on the first token, with ``urllib``, a timeout, a size bound and no
redirects (a redirect could lead anywhere, plain http included), and kept ``jwks_ttl``
seconds. A token naming a ``kid`` the set does not hold makes the verifier fetch the set
again - the issuer may have rotated its keys - but at most once every
``jwks_refresh_interval`` seconds, so tokens with made-up ``kid`` values cannot make it
hammer the issuer; so does a bad signature by a key the set holds (a rotation that kept the
``kid``, or keys without one), within the same bound. A failed fetch keeps the keys it had.
At most ``jwks_max_keys`` usable keys are kept; keys it cannot use (another ``kty``, ``use``
other than "sig", a short RSA modulus) are left out of the set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from .es256 import _unb64
from .es256 import verify as es256_verify
from .errors import JWTError
from .loopback import is_loopback_host

SUPPORTED_ALGORITHMS = ("RS256", "ES256")
# DER of DigestInfo ::= SEQUENCE { AlgorithmIdentifier { id-sha256, NULL }, OCTET STRING (32) },
# the bytes before the hash in EMSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_RSA_MIN_BITS = 2048
_RSA_MAX_BITS = 8192
_MAX_TOKEN = 64 * 1024  # characters; a JWT access token is usually under 2 KiB
_ACCESS_TYPES = ("application/at+jwt", "application/jwt")


class _JWTKey:
    """One usable public key from a JWKS: its kid, alg (or None), kty, and what checks it."""

    __slots__ = ("kid", "alg", "kty", "jwk", "rsa")

    def __init__(self, jwk: Dict[str, Any]) -> None:
        kid = jwk.get("kid")
        alg = jwk.get("alg")
        if kid is not None and not isinstance(kid, str) or alg is not None and not isinstance(alg, str):
            raise ValueError("kid and alg must be strings")
        use = jwk.get("use")
        if use is not None and use != "sig":
            raise ValueError("a key for %r, not signatures" % (use,))
        ops = jwk.get("key_ops")
        if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
            raise ValueError("key_ops without verify")
        self.kid = kid  # type: Optional[str]
        self.alg = alg  # type: Optional[str]
        self.kty = jwk.get("kty")
        self.jwk = jwk
        self.rsa = None  # type: Optional[Tuple[int, int]]
        if self.kty == "RSA":
            n_bytes, e_bytes = _unb64(jwk.get("n", "")), _unb64(jwk.get("e", ""))
            n, e = int.from_bytes(n_bytes, "big"), int.from_bytes(e_bytes, "big")
            if not _RSA_MIN_BITS <= n.bit_length() <= _RSA_MAX_BITS:
                raise ValueError("an RSA modulus of %d bits (%d to %d accepted)"
                                 % (n.bit_length(), _RSA_MIN_BITS, _RSA_MAX_BITS))
            if e < 3 or e % 2 == 0 or e >= n:
                raise ValueError("an RSA public exponent that cannot be one")
            self.rsa = (n, e)
        elif self.kty == "EC":
            if jwk.get("crv") != "P-256":
                raise ValueError("an EC key on %r, not P-256" % (jwk.get("crv"),))
            for member in ("x", "y"):
                if len(_unb64(jwk.get(member, ""))) != 32:
                    raise ValueError("the EC key's %s is not 32 bytes" % member)
        else:
            raise ValueError("a key of type %r" % (self.kty,))

    def fits(self, alg: str) -> bool:
        """Whether this key may check a signature made with ``alg``: the algorithm's key
        type, and the key's own ``alg`` when it has one."""
        if self.alg is not None and self.alg != alg:
            return False
        return (alg == "RS256" and self.kty == "RSA") or (alg == "ES256" and self.kty == "EC")

    def check(self, alg: str, data: bytes, signature: bytes) -> bool:
        if alg == "RS256" and self.rsa is not None:
            return rs256_verify(self.rsa[0], self.rsa[1], data, signature)
        if alg == "ES256" and self.kty == "EC":
            return es256_verify(self.jwk, data, signature)
        return False


def rs256_verify(n: int, e: int, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is an RSASSA-PKCS1-v1_5 SHA-256 signature of ``data`` by the
    public key (n, e) - RFC 8017 §8.2.2, the comparison done in constant time."""
    k = (n.bit_length() + 7) // 8
    # "If the length of the signature S is not k octets, output 'invalid signature'."
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:  # RSAVP1: "If the signature representative s is not between 0 and n - 1"
        return False
    encoded = pow(s, e, n).to_bytes(k, "big")
    suffix = _SHA256_DIGEST_INFO + hashlib.sha256(data).digest()
    expected = b"\x00\x01" + b"\xff" * (k - 3 - len(suffix)) + b"\x00" + suffix
    return hmac.compare_digest(encoded, expected)


def parse_jwks(jwks: Any, max_keys: int = 64) -> List[_JWTKey]:
    """The usable keys of a JWKS (``{"keys": [...]}``), keys it cannot use left out; a
    ValueError when it is no JWKS at all."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError('a JWKS is a JSON object with a "keys" list')
    keys = []  # type: List[_JWTKey]
    for jwk in jwks["keys"]:
        if len(keys) >= max_keys:
            break
        if not isinstance(jwk, dict):
            continue
        try:
            keys.append(_JWTKey(jwk))
        except (ValueError, TypeError):
            continue
    return keys


def _loopback_url(url: str) -> bool:
    # The host as urllib, which fetches it, reads it: the authority ends at "/", "?" or "#",
    # so in http://evil.example#@127.0.0.1/ the host is evil.example.
    from urllib.parse import urlsplit
    try:
        host = urlsplit(url).hostname
    except ValueError:  # (a malformed bracketed host, a bad port)
        return False
    # (The one loopback rule, loopback.py: all of 127.0.0.0/8 and ::1 are this machine.)
    return host is not None and is_loopback_host(host)


def _access_typ(typ: Any) -> bool:
    """Whether a header's ``typ`` may be an access token's: RFC 9068's ``at+jwt`` (its §4:
    resource servers "MUST verify that the typ header value is at+jwt or application/at+jwt
    and reject tokens carrying any other value"), or RFC 7519's ``JWT``, which many issuers
    write on access tokens. Any other type is another kind of JWT (a DPoP proof, an ID or
    logout token, a security event) that must not pass for an access token. A media type:
    compared case-insensitively, and "A recipient using the media type value MUST treat it
    as if 'application/' were prepended to any 'typ' value not containing a '/'" (RFC 7515
    §4.1.9)."""
    if not isinstance(typ, str):
        return False
    media = typ.lower()
    if "/" not in media:
        media = "application/" + media
    return media in _ACCESS_TYPES


def _numeric(claims: Dict[str, Any], name: str, required: bool) -> Optional[float]:
    value = claims.get(name)
    if value is None:
        if required:
            raise JWTError("no %s claim" % name)
        return None
    # (bool is an int in Python; a JSON true is no time)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise JWTError("the %s claim is not a number" % name)
    # Python's json reads NaN and Infinity, which JSON has not, 1e400 as inf and 1 with 400
    # zeros as an int no float holds; none is a time, and a NaN compares false with every
    # time: an exp of NaN would never expire.
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds):
        raise JWTError("the %s claim is not a finite number" % name)
    return seconds


class JWTVerifier:
    """Checks JWT access tokens from one issuer for one resource (see the module's
    docstring): ``verify(token)`` returns the claims or raises ``JWTError``.

    ``issuer``: the ``iss`` a token must carry, exactly. ``audience``: the ``aud`` value (or
    values) of this server, one of which the token's must hold. One of ``jwks_url`` (the
    issuer's key set, fetched and cached) or ``jwks`` (a JWKS dict). ``algorithms``: those
    accepted, of RS256 and ES256. ``leeway``: seconds of clock skew allowed on ``exp``,
    ``nbf``, ``iat``. The fetching: ``jwks_timeout`` seconds, at most ``jwks_max_bytes``,
    kept ``jwks_ttl`` seconds, fetched again for an unknown ``kid`` at most once every
    ``jwks_refresh_interval`` seconds, at most ``jwks_max_keys`` keys kept. ``clock``: the
    time (for tests).
    """

    def __init__(self, issuer: str, audience: Union[str, Sequence[str]], jwks_url: Optional[str] = None,
                 jwks: Optional[Dict[str, Any]] = None, algorithms: Sequence[str] = SUPPORTED_ALGORITHMS,
                 leeway: float = 60.0, require_exp: bool = True, jwks_ttl: float = 3600.0,
                 jwks_refresh_interval: float = 60.0, jwks_timeout: float = 5.0,
                 jwks_max_bytes: int = 256 * 1024, jwks_max_keys: int = 64,
                 clock: Callable[[], float] = time.time) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ValueError("issuer must be the issuer's identifier (its iss), e.g. https://auth.example")
        audiences = [audience] if isinstance(audience, str) else list(audience)
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise ValueError("audience must be this server's identifier (a string, or a list of them)")
        if isinstance(algorithms, str):
            algorithms = [algorithms]
        unknown = [a for a in algorithms if a not in SUPPORTED_ALGORITHMS]
        if unknown or not algorithms:
            # "none" and HS256 land here: a public-key verifier has no business with them.
            raise ValueError("algorithms must be some of %s (not %s)" % (", ".join(SUPPORTED_ALGORITHMS),
                                                                          ", ".join(map(str, unknown)) or "none"))
        if (jwks_url is None) == (jwks is None):
            raise ValueError("give one of jwks_url (the issuer's key set) and jwks (static keys)")
        if jwks_url is not None:
            if not isinstance(jwks_url, str) or not (jwks_url.startswith("https://") or (
                    jwks_url.startswith("http://") and _loopback_url(jwks_url))):
                raise ValueError("jwks_url must be https:// (http:// only on a loopback host): %r" % (jwks_url,))
        self.issuer = issuer
        self.audiences = frozenset(audiences)
        self.algorithms = tuple(algorithms)
        self.leeway = float(leeway)
        self.require_exp = require_exp
        self.jwks_url = jwks_url
        self.jwks_ttl = float(jwks_ttl)
        self.jwks_refresh_interval = float(jwks_refresh_interval)
        self.jwks_timeout = float(jwks_timeout)
        self.jwks_max_bytes = int(jwks_max_bytes)
        self.jwks_max_keys = int(jwks_max_keys)
        self.clock = clock
        self.fetches = 0  # how many times the key set was asked for (fetch attempts)
        self._keys = parse_jwks(jwks, self.jwks_max_keys) if jwks is not None else []  # type: List[_JWTKey]
        if jwks is not None and not self._keys:
            raise ValueError("the JWKS holds no key this verifier can use (RSA of 2048+ bits, P-256)")
        self.last_fetch_error = None  # type: Optional[str]  # why the last fetch failed
        self._fetched_at = None  # type: Optional[float]  # the last successful fetch
        self._tried_at = None  # type: Optional[float]  # the last attempt
        self._lock = threading.Lock()

    # -- the keys ------------------------------------------------------------------------

    def _fetch(self) -> None:
        """Fetch the key set now (the caller holds the lock); on failure keep the old."""
        import urllib.request

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None  # a 3xx then fails as an HTTPError

        self.fetches += 1
        self._tried_at = self.clock()
        opener = urllib.request.build_opener(_NoRedirect)
        request = urllib.request.Request(str(self.jwks_url), headers={"Accept": "application/json"})
        try:
            with opener.open(request, timeout=self.jwks_timeout) as response:
                body = response.read(self.jwks_max_bytes + 1)
            if len(body) > self.jwks_max_bytes:
                raise ValueError("the JWKS is over %d bytes" % self.jwks_max_bytes)
            keys = parse_jwks(json.loads(body.decode("utf-8")), self.jwks_max_keys)
        except Exception as exc:  # any failure: the old keys stay; the token may still fail
            self.last_fetch_error = "%s: %s" % (type(exc).__name__, exc)
            return
        self.last_fetch_error = None
        self._keys = keys
        self._fetched_at = self._tried_at

    def _due(self, keys: List[_JWTKey], kid: Optional[str]) -> Optional[bool]:
        """None when ``keys`` are fresh and hold ``kid``; else whether a fetch may happen
        now. A stale set, or a kid it does not hold (a rotation), is fetched again - but
        never more often than jwks_refresh_interval, whatever the tokens say."""
        now = self.clock()
        stale = self._fetched_at is None or now - self._fetched_at >= self.jwks_ttl
        known = any(k.kid == kid for k in keys) if kid is not None else bool(keys)
        if not stale and known:
            return None
        return self._tried_at is None or now - self._tried_at >= self.jwks_refresh_interval

    def _keys_for(self, kid: Optional[str]) -> List[_JWTKey]:
        """The keys that may have signed a token with this ``kid`` (all of them when it
        has none), fetching the set first if it is due."""
        if self.jwks_url is None:
            return [k for k in self._keys if kid is None or k.kid == kid]
        keys = self._keys  # (replaced whole by a fetch, never changed in place)
        if self._due(keys, kid) is None:
            # The common case takes no lock: a fresh set that knows the kid.
            return [k for k in keys if kid is None or k.kid == kid]
        with self._lock:  # one fetch at a time; the others wait for its keys
            if self._due(self._keys, kid):
                self._fetch()
            keys = self._keys
        return [k for k in keys if kid is None or k.kid == kid]

    # -- the token -----------------------------------------------------------------------

    def verify(self, token: str) -> Dict[str, Any]:
        """The claims of ``token`` when it is good; JWTError otherwise."""
        if not isinstance(token, str) or len(token) > _MAX_TOKEN:
            raise JWTError("not a token of a sensible size")
        parts = token.split(".")
        if len(parts) != 3:
            raise JWTError("not a JWS compact serialization (three parts)")
        try:
            header = json.loads(_unb64(parts[0]).decode("utf-8"))
            claims = json.loads(_unb64(parts[1]).decode("utf-8"))
            signature = _unb64(parts[2])
        except ValueError as exc:  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
            raise JWTError("malformed: %s" % exc)
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise JWTError("the header and the claims must be JSON objects")
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise JWTError("alg %r is not accepted (%s are)" % (alg, ", ".join(self.algorithms)))
        if "crit" in header:
            raise JWTError("a critical header extension (crit), which this verifier does not understand")
        if "typ" in header and not _access_typ(header["typ"]):
            raise JWTError("typ %r is not an access token's (at+jwt, JWT or none)" % (header["typ"],))
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise JWTError("kid is not a string")
        signing_input = (parts[0] + "." + parts[1]).encode("ascii")
        candidates = self._candidates(self._keys_for(kid), kid, alg)
        if not any(k.check(alg, signing_input, signature) for k in candidates):
            # The issuer may have rotated to a key the cached set does not hold under a kid
            # it already knows: none (kids are optional) or the same one. Fetched again, as
            # for an unknown kid and within the same bound (jwks_refresh_interval), and
            # only new keys tried.
            fresh = self._refetched(kid, alg, candidates)
            if not any(k.check(alg, signing_input, signature) for k in fresh):
                raise JWTError("bad signature")
        self._check_claims(claims)
        return claims

    @staticmethod
    def _candidates(keys: List[_JWTKey], kid: Optional[str], alg: str) -> List[_JWTKey]:
        candidates = [k for k in keys if k.fits(alg)]
        if not candidates:
            raise JWTError("no %s key %s" % (alg, "with kid %r" % kid if kid is not None else "at all"))
        if kid is None and len(candidates) > 1:
            # Trying every key would multiply the work one token costs; a key set of several
            # keys is what kid exists for.
            raise JWTError("no kid, and %d keys could have signed it" % len(candidates))
        return candidates

    def _refetched(self, kid: Optional[str], alg: str, tried: List[_JWTKey]) -> List[_JWTKey]:
        """The keys for ``kid`` and ``alg`` after fetching the set again, those already
        ``tried`` left out; none when no fetch is due or it brought nothing new."""
        if self.jwks_url is None:
            return []
        with self._lock:
            now = self.clock()
            if self._tried_at is not None and now - self._tried_at < self.jwks_refresh_interval:
                return []
            self._fetch()
            keys = [k for k in self._keys if kid is None or k.kid == kid]
        try:
            candidates = self._candidates(keys, kid, alg)
        except JWTError:
            return []
        old = [k.jwk for k in tried]
        return [k for k in candidates if k.jwk not in old]

    def _check_claims(self, claims: Dict[str, Any]) -> None:
        now = self.clock()
        if claims.get("iss") != self.issuer:
            raise JWTError("issued by %r, not %r" % (claims.get("iss"), self.issuer))
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not any(isinstance(a, str) and a in self.audiences for a in auds):
            raise JWTError("not for this audience (aud %r)" % (aud,))
        exp = _numeric(claims, "exp", self.require_exp)
        if exp is not None and now >= exp + self.leeway:
            raise JWTError("expired")
        nbf = _numeric(claims, "nbf", False)
        if nbf is not None and now + self.leeway < nbf:
            raise JWTError("not valid yet (nbf)")
        iat = _numeric(claims, "iat", False)
        if iat is not None and now + self.leeway < iat:
            raise JWTError("issued in the future (iat)")


def token_scopes(claims: Dict[str, Any]) -> List[str]:
    """The scopes a token grants: ``scope``, a space-separated string (RFC 9068 §2.2.3,
    RFC 8693 §4.2), or ``scp``, a list or a string (what some issuers write instead)."""
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [s for s in value if isinstance(s, str)]
    return []
