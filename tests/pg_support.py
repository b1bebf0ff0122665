"""A throwaway PostgreSQL server and nginx for the tests: Debian's packages, unpacked by
``scripts/pgnginx`` (``$MCPLITE_PGNGINX``, which ``scripts/test`` sets), else the machine's own
(``/usr/lib/postgresql/*/bin``, ``nginx`` on PATH).

- ``Postgres(workdir)``: ``initdb`` of a new cluster in a temp dir, ``postgres`` on 127.0.0.1 on a
  free port with its unix socket in the same dir, ``dsn`` (a dict for pg8000.connect), ``stop()``
  by PID (a fast shutdown, SIGKILL after 10 s) and the dir removed.
- ``Nginx(config_body)``: ``nginx -p <temp dir> -c ... -g 'daemon off;'`` with a generated
  config, listening on 127.0.0.1 only; stopped by the master's PID (it stops its workers).
- ``sticky_config(...)`` / ``haproxy_config(...)``: the routing the README shows, for nginx and
  HAProxy: a session's requests go to the instance whose route token starts its id.
- ``Proxy(port, config, "haproxy")``: HAProxy (``-db``, in the foreground) the same way.

PostgreSQL refuses to run as root: as root, both run as ``nobody`` (``setpriv``; nginx too, so
its workers can write its temp dir). Under ``MCPLITE_REQUIRE_INTEROP=1`` (CI) a missing program
fails the test; elsewhere it skips.

As a script, for ``scripts/conformance --nginx``: ``python tests/pg_support.py nginx PREFIX PORT
a=127.0.0.1:P1 b=127.0.0.1:P2`` writes the sticky config into PREFIX and runs nginx in the
foreground, and ``python tests/pg_support.py postgres PREFIX PORT`` makes a cluster in
PREFIX/data and runs postgres in the foreground (both exec: the PID is the server's).
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple

PG_MAJOR = "15"
START_TIMEOUT = 60.0


def _unusable(variable: str, reason: str) -> None:
    if __name__ == "__main__":  # run as a script (scripts/conformance): no pytest there
        raise SystemExit("pg_support.py: " + reason)
    from interop_support import unusable
    unusable(variable, reason)


_ROOT_SEEN = {}  # type: Dict[str, str]


def _traversable_by_all(path: str) -> bool:
    """Whether every directory from / down to ``path`` lets others in (o+x)."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _root() -> str:
    """The unpacked tree. As root the programs run as ``nobody``, who must reach them: a
    checkout in a private directory (``mktemp -d`` makes 0700 ones) is copied once to a
    directory of its own under the system's temporary directory, made by a rename so that
    parallel test processes share one copy."""
    root = os.environ.get("MCPLITE_PGNGINX", "")
    if not root or os.geteuid() != 0 or root in _ROOT_SEEN:
        return _ROOT_SEEN.get(root, root)
    usable = root
    if not _traversable_by_all(root):
        import hashlib
        marker = os.path.join(os.path.dirname(root), ".mcplite-ready")
        try:
            with open(marker, "rb") as f:
                stamp = f.read()
        except OSError:
            stamp = b""
        digest = hashlib.sha256(os.path.abspath(root).encode() + b"\0" + stamp).hexdigest()[:16]
        usable = os.path.join(tempfile.gettempdir(), "mcplite-pgnginx-" + digest)
        if not os.path.isdir(usable):
            staging = tempfile.mkdtemp(prefix="mcplite-pgnginx-staging-")
            os.chmod(staging, 0o755)
            shutil.copytree(root, os.path.join(staging, "root"), symlinks=True)
            try:
                os.rename(os.path.join(staging, "root"), usable)
            except OSError:  # another test process made it first
                pass
            shutil.rmtree(staging, ignore_errors=True)
    _ROOT_SEEN[root] = usable
    return usable


def _libdir(root: str) -> Optional[str]:
    found = glob.glob(os.path.join(root, "usr", "lib", "*-linux-gnu"))
    return found[0] if found else None


def program_env(root: str) -> Dict[str, str]:
    """The environment the unpacked programs run in: their libraries first."""
    env = dict(os.environ)
    libdir = _libdir(root) if root else None
    if libdir:
        env["LD_LIBRARY_PATH"] = os.pathsep.join([libdir] + [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p])
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    return env


def pg_bindir() -> str:
    """The directory of initdb and postgres (fails or skips when there is none)."""
    root = _root()
    if root:
        bindir = os.path.join(root, "usr", "lib", "postgresql", PG_MAJOR, "bin")
        if not os.path.isfile(os.path.join(bindir, "postgres")):
            _unusable("MCPLITE_PGNGINX", "MCPLITE_PGNGINX=%s holds no PostgreSQL server (%s)" % (root, bindir))
        return bindir
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        _unusable("MCPLITE_PGNGINX", "no PostgreSQL server: run scripts/test (it unpacks Debian's with scripts/pgnginx)")
    return os.path.dirname(found[-1])


def haproxy_binary() -> str:
    root = _root()
    path = os.path.join(root, "usr", "sbin", "haproxy") if root else (shutil.which("haproxy") or "")
    if not path or not os.path.isfile(path):
        _unusable("MCPLITE_PGNGINX", "no haproxy: run scripts/test (it unpacks Debian's with scripts/pgnginx)")
    return path


def nginx_binary() -> str:
    root = _root()
    if root:
        path = os.path.join(root, "usr", "sbin", "nginx")
        if not os.path.isfile(path):
            _unusable("MCPLITE_PGNGINX", "MCPLITE_PGNGINX=%s holds no nginx" % root)
        return path
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.isfile("/usr/sbin/nginx") else "")
    if not path:
        _unusable("MCPLITE_PGNGINX", "no nginx: run scripts/test (it unpacks Debian's with scripts/pgnginx)")
    return path


def _unprivileged() -> Tuple[List[str], Optional[Tuple[int, int]]]:
    """The command prefix that drops root (setpriv execs: the PID stays the program's), and
    the uid/gid its files must belong to; nothing when not root."""
    if os.geteuid() != 0:
        return [], None
    import pwd
    entry = pwd.getpwnam("nobody")
    return (["setpriv", "--reuid=%d" % entry.pw_uid, "--regid=%d" % entry.pw_gid, "--clear-groups", "--"],
            (entry.pw_uid, entry.pw_gid))


def _workdir(prefix: str) -> str:
    path = tempfile.mkdtemp(prefix=prefix)
    owner = _unprivileged()[1]
    if owner is not None:
        os.chown(path, owner[0], owner[1])
    return path


def free_port() -> int:
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


def _stop_pid(proc: "subprocess.Popen[bytes]", first: int, grace: float) -> None:
    for sig in (first, signal.SIGKILL):
        try:
            os.kill(proc.pid, sig)
        except OSError:
            pass
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _initdb(bindir: str, data: str, user: str, env: Dict[str, str]) -> None:
    done = subprocess.run(_unprivileged()[0] + [os.path.join(bindir, "initdb"), "-D", data, "-U", user,
                                                "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C",
                                                "--no-instructions"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=120,
                          cwd=os.path.dirname(data))
    if done.returncode != 0:
        raise RuntimeError("initdb failed:\n" + done.stdout.decode("utf-8", "replace")[-3000:])


def _postgres_command(bindir: str, data: str, port: int, socket_dir: str) -> List[str]:
    # 127.0.0.1 only; the socket in our dir, not /var/run/postgresql; no fsync (a throwaway
    # cluster); no JIT (its LLVM library is not unpacked).
    return _unprivileged()[0] + [os.path.join(bindir, "postgres"), "-D", data, "-p", str(port),
                                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + socket_dir,
                                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                 "-c", "jit=off", "-c", "max_connections=100"]


class Postgres:
    """A PostgreSQL cluster of its own: ``dsn``, ``port``, ``pid``, ``log()``, ``stop()``."""

    def __init__(self) -> None:
        bindir = pg_bindir()
        self.dir = _workdir("mcplite-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.user = "mcplite"
        self.proc = None  # type: Optional[subprocess.Popen[bytes]]
        env = program_env(_root())
        env["HOME"] = self.dir
        try:
            _initdb(bindir, self.data, self.user, env)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self._log_path = os.path.join(self.dir, "postgres.log")
        log = open(self._log_path, "wb")
        try:
            self.proc = subprocess.Popen(_postgres_command(bindir, self.data, self.port, self.dir),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=self.dir)
        finally:
            log.close()
        self.pid = self.proc.pid
        self.dsn = {"host": "127.0.0.1", "port": self.port, "user": self.user, "database": "postgres"}
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                text = self.log()
                self.stop()
                raise RuntimeError("postgres did not start:\n" + text[-3000:])
            time.sleep(0.05)

    def _ready(self) -> bool:
        # postmaster.pid's 8th line is the server's state: "ready" once it accepts connections.
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                lines = f.read().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def url(self) -> str:
        return "postgresql://%s@127.0.0.1:%d/postgres" % (self.user, self.port)

    def log(self) -> str:
        try:
            with open(self._log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None:
            _stop_pid(self.proc, signal.SIGINT, 10)  # SIGINT: PostgreSQL's fast shutdown
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


def sticky_config(port: int, routes: Sequence[Tuple[str, str]], prefix: str) -> str:
    """nginx's config: 127.0.0.1:``port`` in front of ``routes`` [(token, "host:port")]. A
    request whose Mcp-Session-Id (or, in the 2024-11-05 transport, ?session_id=) starts with
    ``<token>.`` goes to that token's instance; the rest (initialize, 2026-07-28 requests) to
    any instance, in turn."""
    upstreams = "".join("    upstream mcp_%s { server %s; }\n" % (token, address) for token, address in routes)
    anyone = "".join("        server %s;\n" % address for _token, address in routes)
    mapping = "".join('        "~^%s\\." mcp_%s;\n' % (token, token) for token, _address in routes)
    temp = "".join("    %s_temp_path %s;\n" % (kind, os.path.join(prefix, kind))
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return """worker_processes 1;
pid %(prefix)s/nginx.pid;
error_log %(prefix)s/error.log notice;
events { worker_connections 512; }
http {
    access_log %(prefix)s/access.log;
%(temp)s
    # The route token that starts the session id (one header or the other is there).
    map "$http_mcp_session_id$arg_session_id" $mcp_upstream {
        default mcp_any;
%(mapping)s    }
%(upstreams)s    upstream mcp_any {
%(anyone)s    }
    server {
        listen 127.0.0.1:%(port)d;
        location / {
            proxy_pass http://$mcp_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 1h;
            add_header X-Upstream $upstream_addr always;
        }
    }
}
""" % {"prefix": prefix, "temp": temp, "mapping": mapping, "upstreams": upstreams, "anyone": anyone, "port": port}


def haproxy_config(port: int, routes: Sequence[Tuple[str, str]], prefix: str) -> str:
    """HAProxy's config for the same routing as ``sticky_config`` (the README's snippet): each
    route token's ACLs pick its server, the rest are balanced in turn. The answer says which
    server took it (X-Upstream, its address), as nginx's does."""
    acls = "".join("    acl to_%s req.hdr(mcp-session-id) -m beg %s.\n"
                   "    acl to_%s url_param(session_id) -m beg %s.\n" % (token, token, token, token)
                   for token, _address in routes)
    use = "".join("    use-server %s if to_%s\n" % (token, token) for token, _address in routes)
    servers = "".join("    server %s %s\n" % (token, address) for token, address in routes)
    return """global
    maxconn 256
    pidfile %(prefix)s/haproxy.pid
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
frontend mcp_in
    bind 127.0.0.1:%(port)d
    default_backend mcp
backend mcp
    balance roundrobin
%(acls)s%(use)s    http-response set-header X-Upstream %%[srv_name]
%(servers)s""" % {"prefix": prefix, "port": port, "acls": acls, "use": use, "servers": servers}


def haproxy_command(prefix: str) -> List[str]:
    """HAProxy in the foreground (-db) with ``prefix``/haproxy.cfg."""
    return _unprivileged()[0] + [haproxy_binary(), "-db", "-f", os.path.join(prefix, "haproxy.cfg")]


def nginx_command(prefix: str) -> List[str]:
    """The command running nginx in the foreground with ``prefix``/nginx.conf."""
    return _unprivileged()[0] + [nginx_binary(), "-p", prefix, "-c", os.path.join(prefix, "nginx.conf"),
                                 "-e", os.path.join(prefix, "error.log"), "-g", "daemon off;"]


class Proxy:
    """A load balancer (``kind`` "nginx" or "haproxy") running ``config(prefix)``: ``port``,
    ``pid``, ``error_log()``, ``stop()``."""

    def __init__(self, port: int, config: "object", kind: str = "nginx") -> None:
        self.kind = kind
        self.dir = _workdir("mcplite-%s-" % kind)
        self.port = port
        self.proc = None  # type: Optional[subprocess.Popen[bytes]]
        name = "nginx.conf" if kind == "nginx" else "haproxy.cfg"
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(config(self.dir))  # type: ignore[operator]
        owner = _unprivileged()[1]
        if owner is not None:
            os.chown(os.path.join(self.dir, name), owner[0], owner[1])
        command = nginx_command(self.dir) if kind == "nginx" else haproxy_command(self.dir)
        self._log = open(os.path.join(self.dir, "output.log"), "wb")
        # (cwd: its own directory. As nobody it cannot enter a checkout under a private
        # directory, and HAProxy fails when it cannot get back to where it started.)
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     env=program_env(_root()), cwd=self.dir)
        self.pid = self.proc.pid
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                text = self.error_log()
                self.stop()
                raise RuntimeError("%s did not start:\n%s" % (kind, text[-3000:]))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)

    def error_log(self) -> str:
        text = ""
        for name in ("error.log", "output.log"):
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    text += f.read().decode("utf-8", "replace")
            except OSError:
                pass
        return text

    def stop(self) -> None:
        if self.proc is not None:
            _stop_pid(self.proc, signal.SIGTERM, 10)  # SIGTERM: nginx's master stops its workers
            self.proc = None
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def Nginx(port: int, config: "object") -> Proxy:
    """nginx running ``config(prefix)`` (see ``Proxy``)."""
    return Proxy(port, config, "nginx")


def _main(argv: List[str]) -> int:
    usage = ("usage: pg_support.py nginx PREFIX PORT TOKEN=HOST:PORT...\n"
             "       pg_support.py postgres PREFIX PORT    (initdb PREFIX/data, then postgres; user mcplite)\n")
    if len(argv) < 3 or argv[0] not in ("nginx", "postgres") or (argv[0] == "nginx" and len(argv) < 4):
        sys.stderr.write(usage)
        return 2
    prefix, port = argv[1], int(argv[2])
    owner = _unprivileged()[1]
    if owner is not None:
        os.chown(prefix, owner[0], owner[1])
    if argv[0] == "postgres":
        bindir = pg_bindir()
        env = program_env(_root())
        env["HOME"] = prefix
        data = os.path.join(prefix, "data")
        _initdb(bindir, data, "mcplite", env)
        command = _postgres_command(bindir, data, port, prefix)
        os.execvpe(command[0], command, env)
    routes = [tuple(each.split("=", 1)) for each in argv[3:]]
    with open(os.path.join(prefix, "nginx.conf"), "w") as f:
        f.write(sticky_config(port, routes, prefix))  # type: ignore[arg-type]
    command = nginx_command(prefix)
    os.execvpe(command[0], command, program_env(_root()))
    return 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
