"""Tamper-evident tokens: small JSON values the server hands to a client and gets back.

Two things travel this way so that the server needs no memory between requests: the
``requestState`` of a 2026-07-28 ``input_required`` result (the answers gathered so far)
and pagination cursors. A token is ``<base64url JSON>.<base64url HMAC-SHA256>``: readable
by anyone (never put secrets in it), but any change to it is detected.
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence

# hashlib and hmac load OpenSSL: megabytes and milliseconds a server that never seals
# anything should not pay at start-up. They are imported on first use, as is base64.


def _b64encode(data: bytes) -> str:
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    """Seals JSON values with a secret key and opens only what it sealed itself.

    Without a ``secret`` a random one is drawn, so tokens are good for this process only;
    several processes serving one endpoint (behind a load balancer) need the same secret.
    ``keys`` is a key ring instead: tokens are sealed with the first and opened with any of
    them, so a new key can be put first while tokens sealed with the old one (a cursor, a
    ``requestState`` in flight) still open until the old key is dropped from the ring.
    """

    def __init__(self, secret: Optional[bytes] = None, keys: Optional[Sequence[bytes]] = None) -> None:
        if secret is not None and keys is not None:
            raise ValueError("give a sealing secret or a key ring (keys), not both")
        if keys is not None:
            if isinstance(keys, (bytes, str)) or not list(keys):
                raise ValueError("the key ring is a non-empty list of keys (bytes), the newest first")
            ring = list(keys)
        else:
            ring = [secret] if secret is not None else []
        for key in ring:
            if not isinstance(key, bytes) or len(key) < 16:
                raise ValueError("a sealing key must be at least 16 bytes")
        # Whether the keys were given (several processes can share them) or drawn here.
        self.configured = bool(ring)
        self._keys = ring or [os.urandom(32)]
        self._key = self._keys[0]

    def _mac(self, body: str, key: Optional[bytes] = None) -> str:
        import hashlib
        import hmac
        return _b64encode(hmac.new(key or self._key, body.encode("ascii"), hashlib.sha256).digest())

    def seal(self, value: Any) -> str:
        body = _b64encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        return body + "." + self._mac(body)

    def open(self, token: Any) -> Any:
        """The sealed value, or None when ``token`` is not one this sealer made (altered,
        truncated, not a string)."""
        if not isinstance(token, str) or token.count(".") != 1:
            return None
        body, mac = token.split(".")
        try:
            body.encode("ascii")
        except UnicodeEncodeError:
            return None
        import hmac
        given = mac.encode("utf-8")
        # Every key is tried (no early exit on a match), so the time taken does not tell
        # which key of the ring sealed the token.
        matched = False
        for key in self._keys:
            if hmac.compare_digest(self._mac(body, key).encode("ascii"), given):
                matched = True
        if not matched:
            return None
        try:
            return json.loads(_b64decode(body).decode("utf-8"))
        except ValueError:
            return None
