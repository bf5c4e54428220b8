#!/bin/bash
# The Linux initiator and Asynchronous Messages (issue 10: "async logout
# ... and its re-login"; docs/iscsi_async.md): Debian 12's open-iscsi in
# the qemu guest of linux_initiator.sh (linux_guest/async.sh is its side)
# logs in and writes; the host asks its session to log out
# (session.logout, AsyncEvent 1); iscsid must answer with a Logout (not
# be dropped at logout_timeout) and log in again by itself, and the data
# read back through the new session must be what it wrote.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-12.test:linux-async
GUEST_PORTAL=10.0.2.100:3260
GUEST_TIMEOUT=${GUEST_TIMEOUT:-200}

guest_build

mkdir -p "$WORKDIR/state"
IMG=$WORKDIR/state/async-lun0.img
truncate -s 64M "$IMG"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE async0 {
		filename $IMG
	}
}
TARGET_DRIVER iscsi {
	logout_timeout 5
	TARGET $DEMO_IQN {
		enabled 1
		LUN 0 async0
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"

rpc() {
	timeout -k 5 30 python3 -B - "$RPC_SOCKET" "$1" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": sys.argv[2],
                      "params": json.loads(sys.argv[3])}).encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
r = json.loads(buf)
if "error" in r:
    print(r["error"]); sys.exit(1)
print(json.dumps(r["result"]))
PY
}

logins() { grep -Ec "\($GUEST_INI\): normal session [0-9]+ logged in to $DEMO_IQN" "$LOG"; }

CONSOLE=$WORKDIR/console.log
: > "$CONSOLE"
note "booting the guest (TCG, timeout ${GUEST_TIMEOUT} s); its console follows when it is done"
start=$(date +%s)
guest_qemu "uscst.scenario=async uscst.portal=$GUEST_PORTAL uscst.target=$DEMO_IQN uscst.initiator=$GUEST_INI" &
QEMU_PID=$!

asked= relogin=
while kill -0 "$QEMU_PID" 2>/dev/null; do
	if [ -z "$asked" ] && grep -q '^guest: ASYNC-READY' "$CONSOLE"; then
		name=$(rpc tree.get '{"path":"targets/iscsi/targets"}' | python3 -c '
import json, sys
t = json.load(sys.stdin)[sys.argv[1]]["sessions"]
print(next(iter(t)))' "$DEMO_IQN") || fail "no session of the guest in the tree"
		note "session.logout $name"
		rpc session.logout "{\"driver\":\"iscsi\",\"target\":\"$DEMO_IQN\",\"session\":\"$name\"}" ||
			fail "session.logout failed"
		asked=$(($(date +%s) - start))
	fi
	if [ -n "$asked" ] && [ -z "$relogin" ] && [ "$(logins)" -ge 2 ]; then
		relogin=$(($(date +%s) - start))
		printf 'ASYNC-GO' | dd of="$IMG" bs=512 seek=2048 conv=notrunc 2> /dev/null
	fi
	sleep 0.2
done
wait "$QEMU_PID"
qemu_rc=$?
secs=$(($(date +%s) - start))
sed 's/\r$//' "$CONSOLE"
cat "$WORKDIR/qemu.out"
note "the guest ran ${secs} s, qemu exited with status $qemu_rc; asked at ${asked:-never} s, logged in again at ${relogin:-never} s"
[ "$qemu_rc" = 124 ] && fail "the guest did not finish within $GUEST_TIMEOUT s"
verdict=$(sed -n 's/\r$//; s/^LINUX-INITIATOR: //p' "$CONSOLE" | tail -n 1)
[ -n "$verdict" ] || fail "the guest printed no LINUX-INITIATOR verdict"
[ "$verdict" = PASS ] || fail "the guest says: $verdict"
[ "$qemu_rc" = 0 ] || fail "qemu exited with status $qemu_rc"
[ -n "$asked" ] && [ -n "$relogin" ] || fail "the guest passed without the logout request and re-login"

grep -F "($GUEST_INI)" "$LOG"
grep -q "($GUEST_INI): asked to log out within 5 s: logout requested by management" "$LOG" ||
	fail "no logout request in uscstd's log"
grep -q "($GUEST_INI) closed: did not log out" "$LOG" &&
	fail "the Linux initiator was dropped at logout_timeout instead of logging out"
logouts=$(grep -Fc "($GUEST_INI) closed: logged out" "$LOG")
[ "$logouts" = 2 ] || fail "$logouts connections of $GUEST_INI closed after a Logout, expected 2 (the requested one, the last)"
grep -q "Target requests logout within 5 seconds" "$CONSOLE" ||
	fail "iscsid did not report the target's logout request"
stop_uscstd
echo "PASS: the Linux initiator logged out on AsyncEvent 1 and logged in again by itself"
