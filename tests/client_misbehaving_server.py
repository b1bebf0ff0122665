"""A tiny stdio "MCP server" that misbehaves on purpose, for tests/test_client.py.

Standard library only: it speaks just enough of the legacy era (initialize, ping,
tools/list, tools/call) for a client to reach the point where it misbehaves.

    python tests/client_misbehaving_server.py [options]

    --log FILE            append every line received (one JSON text per line) to FILE;
                          the first line written is {"pid": <this process>}
    --discover MODE       how server/discover is answered: error (-32601, the default),
                          silent (never), unsupported-legacy (-32022 listing legacy
                          versions only), unsupported-none (-32022 listing no version
                          the client knows), unsupported-same (-32022 listing only the
                          version asked for), result-none (a result whose
                          supportedVersions names no version the client knows),
                          late-modern (the first never answered, initialize refused with
                          -32022 listing 2026-07-28, later ones answered as a 2026-07-28
                          server)
    --init-version V      answer initialize with protocol version V (default: the
                          version the client asked for)
    --garbage-at-start    print a line that is not JSON before anything else
    --bom                 write a UTF-8 byte order mark before the first message
    --ignore-eof          keep running after stdin ends
    --ignore-term         ignore SIGTERM (implies --ignore-eof)
    --setsid              try to leave the process group it was started in (os.setsid());
                          the outcome ("ok" or the error) goes in the --log pid line
    --stop-reading-after-init   stop reading stdin once notifications/initialized came

Tools (tools/call by name): echo (returns its arguments, the environment variable
MCPLITE_TEST_MARK and the working directory), hang (never answers), die (writes
arguments.message to stderr, exits with arguments.status), garbage (a line that is not
JSON, then the answer), garbage_then_die, unknown_id (answers with ids nobody used
first), big (one line of arguments.size bytes), error (a JSON-RPC error built from
arguments), not_object (a result that is a list), stderr_flood_then_die,
close_stdout (closes stdout, keeps running).

Whatever happens the process ends itself after 60 seconds (a safety net for tests).
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

LIFETIME = 60.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log")
    parser.add_argument("--discover", default="error",
                        choices=["error", "silent", "unsupported-legacy", "unsupported-none", "unsupported-same",
                                 "result-none", "late-modern"])
    parser.add_argument("--init-version")
    parser.add_argument("--garbage-at-start", action="store_true")
    parser.add_argument("--bom", action="store_true")
    parser.add_argument("--ignore-eof", action="store_true")
    parser.add_argument("--ignore-term", action="store_true")
    parser.add_argument("--setsid", action="store_true")
    parser.add_argument("--stop-reading-after-init", action="store_true")
    args = parser.parse_args()

    watchdog = threading.Timer(LIFETIME, os._exit, (99,))
    watchdog.daemon = True
    watchdog.start()
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        args.ignore_eof = True

    first = {"pid": os.getpid()}
    if args.setsid:
        try:
            os.setsid()
            first["setsid"] = "ok"
        except OSError as exc:  # (a session leader already: EPERM)
            first["setsid"] = "%s: %s" % (type(exc).__name__, exc)
    log = open(args.log, "a") if args.log else None
    if log is not None:
        log.write(json.dumps(first) + "\n")
        log.flush()
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer

    def write_line(data):
        stdout.write(data + b"\n")
        stdout.flush()

    def send(message):
        write_line(json.dumps(message).encode("utf-8"))

    def result(rid, value):
        send({"jsonrpc": "2.0", "id": rid, "result": value})

    def error(rid, code, message, data=None):
        err = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        send({"jsonrpc": "2.0", "id": rid, "error": err})

    def die(message, status):
        sys.stderr.write(message)
        sys.stderr.flush()
        os._exit(status)

    if args.garbage_at_start:
        write_line(b"Server starting... (not JSON)")
    if args.bom:
        stdout.write(b"\xef\xbb\xbf")  # (no flush: it goes with the first message)

    discovers_seen = 0
    while True:
        line = stdin.readline()
        if not line:
            if args.ignore_eof:
                time.sleep(LIFETIME)
            return
        if log is not None:
            log.write(line.decode("utf-8", "replace").rstrip("\r\n") + "\n")
            log.flush()
        try:
            message = json.loads(line)
        except ValueError:
            error(None, -32700, "Parse error")
            continue
        method = message.get("method")
        rid = message.get("id")
        params = message.get("params") or {}
        if rid is None:  # a notification
            if method == "notifications/initialized" and args.stop_reading_after_init:
                time.sleep(LIFETIME)
            continue
        if method == "server/discover":
            if args.discover == "error":
                error(rid, -32601, "Method not found: server/discover")
            elif args.discover == "unsupported-legacy":
                error(rid, -32022, "Unsupported protocol version",
                      {"supported": ["2025-11-25", "2025-06-18"], "requested": "2026-07-28"})
            elif args.discover == "unsupported-none":
                error(rid, -32022, "Unsupported protocol version", {"supported": ["1999-01-01"]})
            elif args.discover == "unsupported-same":
                asked = (params.get("_meta") or {}).get("io.modelcontextprotocol/protocolVersion")
                error(rid, -32022, "Unsupported protocol version", {"supported": [asked], "requested": asked})
            elif args.discover == "result-none":
                result(rid, {"supportedVersions": ["1999-01-01"], "capabilities": {}})
            elif args.discover == "late-modern" and discovers_seen:
                result(rid, {"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}}})
            discovers_seen += 1
            continue  # silent, and late-modern's first: never answered
        if method == "initialize" and args.discover == "late-modern":
            error(rid, -32022, "Unsupported protocol version", {"supported": ["2026-07-28"]})
        elif method == "initialize":
            version = args.init_version or params.get("protocolVersion")
            result(rid, {"protocolVersion": version, "capabilities": {"tools": {}},
                         "serverInfo": {"name": "misbehaving", "version": "0.0.1"}})
        elif method == "ping":
            result(rid, {})
        elif method == "tools/list":
            result(rid, {"tools": [{"name": name, "inputSchema": {"type": "object"}} for name in (
                "echo", "hang", "die", "garbage", "garbage_then_die", "unknown_id", "big", "error",
                "not_object", "stderr_flood_then_die", "close_stdout")]})
        elif method == "tools/call":
            name = params.get("name")
            arguments = params.get("arguments") or {}
            if name == "echo":
                result(rid, {"content": [{"type": "text", "text": json.dumps(arguments)}],
                             "structuredContent": {"arguments": arguments,
                                                   "mark": os.environ.get("MCPLITE_TEST_MARK"),
                                                   "cwd": os.getcwd()}})
            elif name == "hang":
                pass
            elif name == "die":
                die(arguments.get("message", ""), arguments.get("status", 3))
            elif name == "garbage":
                write_line(b"garbage: this line is not JSON")
                result(rid, {"content": [{"type": "text", "text": "after garbage"}]})
            elif name == "garbage_then_die":
                write_line(b"Traceback: something went wrong (not JSON)")
                die("", 4)
            elif name == "unknown_id":
                result(987654, {"content": [{"type": "text", "text": "WRONG (int id)"}]})
                result("no-such-id", {"content": [{"type": "text", "text": "WRONG (str id)"}]})
                error(424242, -32000, "WRONG (error with an unknown id)")
                result(rid, {"content": [{"type": "text", "text": "right"}]})
            elif name == "big":
                filler = "x" * max(0, int(arguments.get("size", 0)) - 60)
                result(rid, {"content": [{"type": "text", "text": filler}]})
            elif name == "error":
                error(rid, arguments["code"], arguments["message"], arguments.get("data"))
            elif name == "not_object":
                result(rid, [1, 2, 3])
            elif name == "stderr_flood_then_die":
                sys.stderr.write("x" * int(arguments.get("size", 200000)) + "\nTHE END OF STDERR\n")
                die("", 5)
            elif name == "close_stdout":
                os.close(1)
                time.sleep(LIFETIME)
            else:
                error(rid, -32602, "Unknown tool: %s" % name)
        else:
            error(rid, -32601, "Method not found: %s" % method)


if __name__ == "__main__":
    main()
