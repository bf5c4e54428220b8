#!/bin/bash
# The management socket against clients that get it wrong (mgmt_rpc.py:
# protocol errors, huge requests, a peer that is not root, clients that
# never read or never finish, too many clients), then the daemon's state:
# the socket still serves, the demo target's initiators log in again, no
# session is left, the socket is gone after SIGTERM (exit 0).
. "$(dirname "$0")/lib.sh" "$@"

SRC_DIR=$(cd "$(dirname "$0")/../.." && pwd)

start_uscstd --threads 2
run python3 -B "$(dirname "$0")/mgmt_rpc.py" "$RPC_SOCKET" "$USCSTD_PID" "$SRC_DIR/docs/rpc.md"
check_alive "after the bad RPC clients"
check_liveness "after the bad RPC clients" iqn.2026-11.test:rpc 80000000e001 ||
	fail "liveness after the bad RPC clients"
out=$(python3 -B - "$RPC_SOCKET" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"tree.get","params":{"path":"targets/iscsi/targets"}}\n')
buf = b""
while not buf.endswith(b"\n"):
    buf += s.recv(65536)
t = json.loads(buf)["result"]
print(sum(len(v["sessions"]) for v in t.values()))
PY
) || fail "tree.get after the liveness check"
[ "$out" = 0 ] || fail "$out session(s) left in the tree after every client logged out"
note "the tree shows no session left"
grep -q "rpc pid [0-9]* uid 65534: refused: not root" "$LOG" ||
	fail "no log line for the refused peer"
stop_uscstd
[ -e "$RPC_SOCKET" ] && fail "the socket $RPC_SOCKET is left after SIGTERM"
note "the socket is removed at exit"
echo "mgmt_rpc: all checks passed"
