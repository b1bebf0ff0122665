"""One rule for "is this host this machine?": what the HTTP server binds to and answers to by
default, what the client never sends through a proxy, and where OAuth accepts plain http.

Loopback is ``localhost`` and every address in 127.0.0.0/8 or ``::1`` (bracketed or not). A
name that merely starts with "127." (``127.example.com``) is not: it resolves wherever its
owner says.
"""

from __future__ import annotations

_COMMON_LOOPBACK = frozenset(("localhost", "127.0.0.1", "::1", "[::1]"))


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, without a port) is this machine's loopback."""
    host = host.strip().lower()
    if host in _COMMON_LOOPBACK:
        return True  # (no parsing for the usual ones: every HTTP request asks)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    import ipaddress  # only for a host that is not one of the usual names
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name
