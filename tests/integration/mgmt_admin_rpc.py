#!/usr/bin/env python3
"""One JSON-RPC request to uscstd's management socket, for the tests that
check the daemon's own answers beside uscstadmin's (mgmt_admin*.sh).

usage: mgmt_admin_rpc.py SOCKET METHOD [PARAMS_JSON]

Prints the result as JSON (keys sorted, so that two trees compare as
text) and exits 0, or prints the error object on stderr and exits 1.
With --no-sessions the result's "sessions" nodes are emptied (a
configuration's round trip compares everything but who is logged in).
"""
import json
import socket
import sys


def strip_sessions(node):
    if isinstance(node, dict):
        return {k: ({} if k == "sessions" else strip_sessions(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [strip_sessions(v) for v in node]
    return node


def main(argv):
    no_sessions = "--no-sessions" in argv
    argv = [a for a in argv if a != "--no-sessions"]
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    path, method = argv[0], argv[1]
    params = json.loads(argv[2]) if len(argv) == 3 else {}
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                          "params": params}).encode() + b"\n")
    buf = b""
    dec = json.JSONDecoder()
    while True:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("mgmt_admin_rpc: connection closed; got %r" % buf[:200])
        buf += chunk
        try:
            rsp, _ = dec.raw_decode(buf.decode().lstrip())
            break
        except ValueError:
            continue
    if "error" in rsp:
        print(json.dumps(rsp["error"]), file=sys.stderr)
        return 1
    result = rsp["result"]
    if no_sessions:
        result = strip_sessions(result)
    print(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
