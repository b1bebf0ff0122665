"""The conformance client (examples/conformance/client.py) through ``mcplite bridge --stdio``,
for ``scripts/conformance --bridge client-...``:

    MCP_CONFORMANCE_SCENARIO=tools_call python tests/conformance/bridged_client.py URL

The same scenarios, but each client speaks stdio to a ``python -m mcplite bridge --stdio URL``
process (its ``-H`` options carrying the headers a scenario gives), and that process speaks
Streamable HTTP to the harness's mock server: what the harness checks on the wire is the
bridge's doing. Signing in is the bridge's too, with the options a person would give it
(``--oauth``, ``--client-id``, ``--client-metadata-url``, ``--private-key``, ``--assertion``,
``--id-token``, ``--dpop``; each bridge its own ``--token-file``), mapped from the OAuth the
scenario's code in examples/conformance/client.py asks for. For ``--oauth`` the bridge opens
the sign-in URL as it would for a person, with Python's ``webbrowser``, and $BROWSER names
tests/conformance/headless_browser.py: it follows the mock authorization server's redirect
to the bridge's loopback callback.
"""

import atexit
import os
import shlex
import shutil
import sys
import tempfile
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "examples", "conformance"))
sys.path.insert(0, REPO)

import client as conformance  # noqa: E402  (examples/conformance/client.py)
from mcplite import Client, OAuth  # noqa: E402

BROWSER = os.path.join(HERE, "headless_browser.py")


def sign_in_options(auth: OAuth, env: Dict[str, str]) -> List[str]:
    """The bridge's command-line options for what ``auth`` (the scenario's OAuth) asks for;
    secrets go in ``env``, files (tokens, keys, JWTs) in a directory of this process's own."""
    folder = tempfile.mkdtemp(prefix="mcplite-bridged-")
    atexit.register(shutil.rmtree, folder, True)

    def file_of(name: str, text: str) -> str:
        path = os.path.join(folder, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(text)
        return path

    # Each bridge its own token file: the harness runs a suite's scenarios all at once.
    argv = ["--token-file", os.path.join(folder, "tokens.json")]
    if auth.client_id:
        argv += ["--client-id", auth.client_id]
    if auth.client_secret:
        env["MCPLITE_CLIENT_SECRET"] = auth.client_secret  # (kept out of the process list)
    if auth.private_key is not None:
        argv += ["--private-key", file_of("key.pem", conformance.context()["private_key_pem"])]
    if auth.dpop:
        argv += ["--dpop"]
    if auth.grant == "authorization_code":
        argv += ["--oauth"]
        if auth.client_metadata_url:
            argv += ["--client-metadata-url", auth.client_metadata_url]
        # webbrowser runs $BROWSER as one program, with the URL as its argument: a script here
        # that runs the headless browser with this very interpreter (no pyenv shim to go through).
        browser = file_of("browser", "#!/bin/sh\nexec %s %s \"$@\"\n" % (shlex.quote(sys.executable),
                                                                         shlex.quote(BROWSER)))
        os.chmod(browser, 0o700)
        env["BROWSER"] = browser
    elif auth.grant == "jwt_bearer":
        argv += ["--assertion", file_of("assertion.jwt", auth.assertion)]
    elif auth.grant == "id_jag":
        argv += ["--id-token", file_of("id-token.jwt", auth.id_token), "--idp-token-endpoint",
                 auth.idp_token_endpoint or "", "--idp-client-id", auth.idp_client_id or ""]
        if auth.idp_client_secret:
            env["MCPLITE_IDP_CLIENT_SECRET"] = auth.idp_client_secret
    elif auth.grant != "client_credentials":
        raise conformance.Unsupported("the %s grant through the bridge" % auth.grant)
    return argv


def bridged(url: str, headers: Optional[Dict[str, str]] = None, *, auth: Any = None, **options: Any) -> Client:
    """``Client.http``'s stand-in: a stdio client of the bridge to ``url``."""
    argv = [sys.executable, "-m", "mcplite", "bridge", "--stdio", url]
    for name, value in (headers or {}).items():
        argv += ["-H", "%s: %s" % (name, value)]
    env = {}  # type: Dict[str, str]   # (added to this process's environment)
    if auth is not None:
        argv += sign_in_options(auth, env)
    # The bridge's process is stopped by the client's close (stdin closed, then SIGTERM,
    # then SIGKILL, by its PID).
    return Client.stdio(argv, cwd=REPO, env=env, **options)


def take_a_slot(spec: str) -> None:
    """Wait for one of the run's slots (``DIR:COUNT`` in $MCPLITE_BRIDGED_SLOTS, set by
    scripts/conformance --bridge) and hold it until this process exits. The harness starts
    all of a suite's scenarios at once; bridged, each is two Python processes, some 120
    starting together on this 2-core machine, and sse-retry's check ("MUST respect the retry
    field", 500 ms within -50/+200 ms) then measured the scheduler instead of the bridge
    (999 ms in a run whose same scenario alone took 502 ms). So at most COUNT at a time."""
    import fcntl
    import time

    folder, _, count = spec.rpartition(":")
    os.makedirs(folder, exist_ok=True)
    deadline = time.monotonic() + 50  # the harness gives a client 60 s in all
    while True:
        for slot in range(int(count)):
            handle = open(os.path.join(folder, "slot-%d" % slot), "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            atexit.register(handle.close)  # (the lock goes with the process in any case)
            return
        if time.monotonic() > deadline:
            raise SystemExit("bridged_client: no free slot in 50 s under " + folder)
        time.sleep(0.02)


if __name__ == "__main__":
    if os.environ.get("MCPLITE_BRIDGED_SLOTS"):
        take_a_slot(os.environ["MCPLITE_BRIDGED_SLOTS"])
    # Each call crosses two more processes than the plain client's (the bridge and, to sign
    # in, the browser), which start while the harness runs all of a suite's scenarios at
    # once: 40 s a call, still inside the harness's 60 s for a client.
    conformance.CALL_TIMEOUT = 40.0
    Client.http = bridged  # type: ignore[assignment]  # (this process's client only)
    sys.exit(conformance.main())
