#!/usr/bin/env python3
"""One JSON-RPC request to uscstd's management socket, for the tests that
check the daemon's own answers beside uscstadmin's (mgmt_admin*.sh).

usage: mgmt_admin_rpc.py SOCKET METHOD [PARAMS_JSON]

Prints the result as JSON (keys sorted, so that two trees compare as
text) and exits 0, or prints the error object on stderr and exits 1.
With --config-only the result loses what is not configuration: the
"sessions" nodes are emptied, the "stats" and "lun_stats" counters
dropped (a configuration's round trip compares everything else).
"""
import json
import socket
import sys


def config_only(node):
    if isinstance(node, dict):
        return {k: ({} if k == "sessions" else config_only(v)) for k, v in node.items()
                if k not in ("stats", "lun_stats")}
    if isinstance(node, list):
        return [config_only(v) for v in node]
    return node


def main(argv):
    only_config = "--config-only" in argv
    argv = [a for a in argv if a != "--config-only"]
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
    if only_config:
        result = config_only(result)
    print(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
