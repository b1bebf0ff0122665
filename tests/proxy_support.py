"""Test doubles for the network between a client and a server: a forward HTTP proxy, a
TLS-terminating front, and a throwaway certificate authority made with ``openssl``.

``ForwardProxy`` (127.0.0.1, port 0) takes absolute-form requests (``POST http://host:port/path
HTTP/1.1``), which it forwards in origin-form to the host its ``hosts`` table maps the name
to, and ``CONNECT host:port`` tunnels, whose bytes it relays. Names not in the table get 502:
the fake names the tests use (``mcp.example.test``) exist only here. It records every
request line, the Proxy-Authorization it came with and the Host header; with
``require_auth`` set, a request without that Proxy-Authorization gets 407.

``TlsFront`` accepts TLS with a given server context and relays the plaintext to a plain
HTTP server (mcplite's server speaks plain HTTP only).

Both are bounded (at most ``max_connections`` connections, each served by one daemon
thread), close a connection's other side as soon as one side ends, and ``stop()`` shuts
every socket down and joins the threads.
"""

import os
import select
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Set, Tuple

_HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
                         "upgrade"))
_MAX_HEAD = 64 * 1024
_TICK = 0.1  # how often a waiting relay looks whether it is being stopped


class _ClientGone(Exception):
    """The client closed its connection while the proxy was relaying an answer to it."""


class _Relay:
    """What ForwardProxy and TlsFront share: a listening socket on 127.0.0.1, an accept
    thread, a bounded set of connection threads, and ``stop()``."""

    name = "relay"

    def __init__(self, max_connections: int = 32, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._sockets = set()  # type: Set[socket.socket]
        self._threads = []  # type: List[threading.Thread]
        self.refused = 0  # connections turned away at the bound
        self._waker, self._wake = socket.socketpair()  # stop() writes to _wake: the accept loop ends at once
        self._acceptor = threading.Thread(target=self._accept_loop, name="test-%s-accept" % self.name, daemon=True)
        self._acceptor.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                ready, _, _ = select.select([self._listener, self._waker], [], [], _TICK)
                if self._listener not in ready:
                    continue
                sock, _ = self._listener.accept()
            except (OSError, ValueError):
                return  # the listener was closed by stop()
            if not self._slots.acquire(blocking=False):
                self.refused += 1
                self._refuse(sock)
                continue
            self._track(sock)
            thread = threading.Thread(target=self._run, args=(sock,), name="test-%s-conn" % self.name, daemon=True)
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _refuse(self, sock: socket.socket) -> None:
        sock.close()

    def _run(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(self.timeout)
            self.serve(sock)
        except (OSError, ValueError, _ClientGone):
            pass
        finally:
            self._close(sock)
            self._slots.release()

    def serve(self, sock: socket.socket) -> None:
        raise NotImplementedError

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
        if self._stopping.is_set():
            self._close(sock)

    def _close(self, sock: Optional[socket.socket]) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass
        sock.close()

    def _connect(self, host: str, port: int) -> socket.socket:
        upstream = socket.create_connection((host, port), timeout=min(self.timeout, 5.0))
        upstream.settimeout(self.timeout)
        self._track(upstream)
        return upstream

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        """Relay bytes both ways until either side ends (or stop())."""
        while not self._stopping.is_set():
            ready, _, _ = select.select([a, b], [], [], _TICK)
            for src in ready:
                dst = b if src is a else a
                data = src.recv(65536)
                if not data:
                    return
                dst.sendall(data)
                while isinstance(src, ssl.SSLSocket) and src.pending():
                    dst.sendall(src.recv(src.pending()))

    def alive(self) -> List[threading.Thread]:
        """Its threads still running (none once stop() returned, normally)."""
        with self._lock:
            threads = list(self._threads)
        return [t for t in threads + [self._acceptor] if t.is_alive()]

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        try:
            self._wake.send(b"x")
        except OSError:
            pass
        self._acceptor.join(timeout)
        self._listener.close()
        self._waker.close()
        self._wake.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def _read_head(sock: socket.socket, buf: bytes, watch: Optional[socket.socket] = None,
               stopping: Optional[threading.Event] = None) -> Tuple[Optional[bytes], bytes]:
    """An HTTP head (up to its blank line) and what was read past it; (None, b"") when the
    peer ended before a whole head. With ``watch``, raise _ClientGone when it ends first."""
    watching = watch
    while b"\r\n\r\n" not in buf:
        if len(buf) > _MAX_HEAD:
            raise ValueError("an HTTP head of more than %d bytes" % _MAX_HEAD)
        data = _recv(sock, watching, stopping)
        if data is None:
            watching = None  # the watched side sent something (pipelining): stop looking at it
            continue
        if not data:
            return None, b""
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def _recv(sock: socket.socket, watch: Optional[socket.socket],
          stopping: Optional[threading.Event]) -> Optional[bytes]:
    """Bytes from ``sock`` (b"" at its end). While waiting, a ``watch`` socket that ends
    raises _ClientGone; one that has data returns None (the caller stops watching it)."""
    while True:
        if stopping is not None and stopping.is_set():
            return b""
        socks = [sock] if watch is None else [sock, watch]
        ready, _, _ = select.select(socks, [], [], _TICK)
        if sock in ready:
            return sock.recv(65536)
        if watch is not None and watch in ready:
            try:
                peeked = watch.recv(1, socket.MSG_PEEK)
            except OSError:
                peeked = b""
            if not peeked:
                raise _ClientGone()
            return None


def _parse_head(head: bytes) -> Tuple[str, List[Tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = []  # type: List[Tuple[str, str]]
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return lines[0], headers


def _header(headers: List[Tuple[str, str]], name: str) -> Optional[str]:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


class _ChunkedEnd:
    """Follows a chunked body as it is relayed, to tell where it ends."""

    def __init__(self) -> None:
        self.buf = b""
        self.state = "size"
        self.remaining = 0
        self.done = False

    def feed(self, data: bytes) -> None:
        self.buf += data
        while not self.done:
            if self.state == "data":
                take = min(self.remaining, len(self.buf))
                self.buf = self.buf[take:]
                self.remaining -= take
                if self.remaining:
                    return
                self.state = "size"
                continue
            end = self.buf.find(b"\r\n")
            if end < 0:
                return
            line, self.buf = self.buf[:end], self.buf[end + 2:]
            if self.state == "size":
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size:
                    self.state, self.remaining = "data", size + 2  # and its CRLF
                else:
                    self.state = "trailer"
            elif not line:  # the blank line after the (empty) trailer
                self.done = True


class ForwardProxy(_Relay):
    """A forward proxy for absolute-form http requests and CONNECT tunnels (see the module
    docstring). ``seen``: one dict per request (method, target, line, proxy_authorization,
    host); ``connects``: the CONNECT targets."""

    name = "proxy"

    def __init__(self, hosts: Dict[str, str], require_auth: Optional[str] = None, max_connections: int = 32,
                 timeout: float = 10.0) -> None:
        self.hosts = {name.lower(): address for name, address in hosts.items()}
        self.require_auth = require_auth
        self.seen = []  # type: List[Dict[str, Any]]
        super().__init__(max_connections, timeout)
        self.url = "http://127.0.0.1:%d" % self.port

    def url_with(self, userinfo: str) -> str:
        return "http://%s@127.0.0.1:%d" % (userinfo, self.port)

    @property
    def lines(self) -> List[str]:
        with self._lock:
            return [entry["line"] for entry in self.seen]

    @property
    def connects(self) -> List[str]:
        with self._lock:
            return [entry["target"] for entry in self.seen if entry["method"] == "CONNECT"]

    def _refuse(self, sock: socket.socket) -> None:
        try:
            sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        sock.close()

    def _answer(self, sock: socket.socket, status: str, extra: str = "", body: bytes = b"") -> None:
        sock.sendall(("HTTP/1.1 %s\r\n%sContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                      % (status, extra, len(body))).encode("latin-1") + body)

    def serve(self, sock: socket.socket) -> None:
        buf = b""
        while not self._stopping.is_set():
            head, buf = _read_head(sock, buf, stopping=self._stopping)
            if head is None:
                return
            line, headers = _parse_head(head)
            method, _, rest = line.partition(" ")
            target, _, version = rest.partition(" ")
            entry = {"method": method, "target": target, "line": line,
                     "proxy_authorization": _header(headers, "proxy-authorization"),
                     "host": _header(headers, "host")}
            with self._lock:
                self.seen.append(entry)
            if self.require_auth is not None and entry["proxy_authorization"] != self.require_auth:
                self._answer(sock, "407 Proxy Authentication Required", 'Proxy-Authenticate: Basic realm="test"\r\n',
                             b"proxy credentials needed\n")
                return
            if method == "CONNECT":
                self._tunnel(sock, target, buf)
                return
            buf = self._forward(sock, method, target, version, headers, buf)
            if buf is None:
                return

    def _address(self, host: Optional[str]) -> Optional[str]:
        return self.hosts.get((host or "").lower())

    def _tunnel(self, sock: socket.socket, target: str, rest: bytes) -> None:
        host, _, port = target.rpartition(":")
        address = self._address(host)
        if address is None or not port.isdigit():
            self._answer(sock, "502 Bad Gateway", body=b"unknown host\n")
            return
        try:
            upstream = self._connect(address, int(port))
        except OSError:
            self._answer(sock, "502 Bad Gateway", body=b"cannot connect\n")
            return
        try:
            sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            self._pump(sock, upstream)
        finally:
            self._close(upstream)

    def _forward(self, sock: socket.socket, method: str, target: str, version: str,
                 headers: List[Tuple[str, str]], rest: bytes) -> Optional[bytes]:
        """Forward one absolute-form request and relay its answer; what the client sent
        past it, or None when the client connection is to be closed."""
        parts = urllib.parse.urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            self._answer(sock, "400 Bad Request", body=b"absolute-form http:// requests only\n")
            return None
        if _header(headers, "transfer-encoding") is not None:
            self._answer(sock, "411 Length Required")
            return None
        length = int(_header(headers, "content-length") or "0")
        while len(rest) < length:
            data = _recv(sock, None, self._stopping)
            if not data:
                return None
            rest += data
        body, rest = rest[:length], rest[length:]
        address = self._address(parts.hostname)
        if address is None:
            self._answer(sock, "502 Bad Gateway", body=b"unknown host\n")
            return None
        try:
            upstream = self._connect(address, parts.port or 80)
        except OSError:
            self._answer(sock, "502 Bad Gateway", body=b"cannot connect\n")
            return None
        try:
            origin_form = (parts.path or "/") + ("?" + parts.query if parts.query else "")
            out = ["%s %s %s" % (method, origin_form, version)]
            out += ["%s: %s" % (name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP]
            out.append("Connection: close")  # one upstream connection per request
            upstream.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
            keep = self._relay_answer(sock, upstream, method)
        finally:
            self._close(upstream)
        client_close = (_header(headers, "connection") or "").lower() == "close" or version == "HTTP/1.0"
        return rest if keep and not client_close else None

    def _relay_answer(self, sock: socket.socket, upstream: socket.socket, method: str) -> bool:
        """Relay the upstream's answer to the client as it comes; whether the client
        connection can carry another request."""
        head, data = _read_head(upstream, b"", watch=sock, stopping=self._stopping)
        if head is None:
            self._answer(sock, "502 Bad Gateway", body=b"no answer\n")
            return False
        line, headers = _parse_head(head)
        status = int(line.split(" ")[1])
        out = [line] + ["%s: %s" % (name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP]
        chunked = "chunked" in (_header(headers, "transfer-encoding") or "").lower()
        length = _header(headers, "content-length")
        if method == "HEAD" or status in (204, 304) or status < 200:
            remaining = 0  # type: Optional[int]
        elif chunked:
            remaining = None
        elif length is not None:
            remaining = int(length)
        else:
            remaining = -1  # until the upstream closes: so must the client connection
            out.append("Connection: close")
        sock.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        tracker = _ChunkedEnd() if chunked else None
        watch = sock  # type: Optional[socket.socket]
        while True:
            if tracker is not None:
                if data:
                    tracker.feed(data)
                    sock.sendall(data)
                if tracker.done:
                    return True
            elif remaining is not None and remaining >= 0:
                data = data[:remaining]
                if data:
                    sock.sendall(data)
                    remaining -= len(data)
                if remaining == 0:
                    return True
            elif data:
                sock.sendall(data)
            received = _recv(upstream, watch, self._stopping)
            if received is None:
                watch, data = None, b""  # the client sent its next request already: stop watching
                continue
            if not received:
                return False  # the upstream ended (the end of an answer framed by closing, or broken off)
            data = received


class TlsFront(_Relay):
    """TLS on 127.0.0.1 (``port``), relayed as plaintext to 127.0.0.1:``upstream_port``.
    ``handshake_errors``: the failed handshakes (what the server side saw)."""

    name = "tls"

    def __init__(self, context: ssl.SSLContext, upstream_port: int, max_connections: int = 32,
                 timeout: float = 10.0) -> None:
        self.context = context
        self.upstream_port = upstream_port
        self.handshake_errors = []  # type: List[str]
        super().__init__(max_connections, timeout)

    def serve(self, sock: socket.socket) -> None:
        try:
            tls = self.context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            with self._lock:
                self.handshake_errors.append(str(exc))
            return
        self._track(tls)
        upstream = None
        try:
            upstream = self._connect("127.0.0.1", self.upstream_port)
            self._pump(tls, upstream)
        finally:
            self._close(upstream)
            self._close(tls)


# --- a throwaway certificate authority --------------------------------------------------------------

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = %s
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_certificates(directory: str, names: List[str], ips: List[str], openssl: str = "openssl") -> Dict[str, str]:
    """A CA (``ca``: its certificate) and a server certificate it signed (``cert``, ``key``)
    for ``names`` and ``ips``, written to ``directory`` by the openssl command line. EC
    P-256 keys: fast to make; valid for two days."""
    alt = ", ".join(["DNS:" + name for name in names] + ["IP:" + ip for ip in ips])
    config = os.path.join(directory, "openssl.cnf")
    with open(config, "w") as f:
        f.write(_OPENSSL_CONFIG % alt)
    paths = {name: os.path.join(directory, name) for name in ("ca.pem", "ca.key", "server.csr", "server.pem",
                                                               "server.key")}
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    commands = [
        [openssl, "req", "-x509", "-config", config, "-extensions", "v3_ca"] + key + [
            "-keyout", paths["ca.key"], "-out", paths["ca.pem"], "-days", "2", "-subj", "/CN=mcplite test CA"],
        [openssl, "req", "-new", "-config", config] + key + [
            "-keyout", paths["server.key"], "-out", paths["server.csr"], "-subj", "/CN=localhost"],
        [openssl, "x509", "-req", "-in", paths["server.csr"], "-CA", paths["ca.pem"], "-CAkey", paths["ca.key"],
         "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2", "-extfile", config,
         "-extensions", "v3_leaf", "-out", paths["server.pem"]],
    ]
    for command in commands:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if done.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(command[:3]), done.stderr.decode("utf-8", "replace")))
    return {"ca": paths["ca.pem"], "cert": paths["server.pem"], "key": paths["server.key"]}
