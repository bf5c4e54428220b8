#!/bin/bash
# The whole login, from accept to the full feature phase, gets at most
# RspTimeout however often the initiator sends: a connection that never
# sends and one that keeps dribbling Login Requests (each PDU completed in
# time, the login never) are both closed within RspTimeout + 2 s, and the
# daemon serves a normal login afterwards.
. "$(dirname "$0")/lib.sh" "$@"

IQN=iqn.2026-11.test:login-timeout
RSP_TIMEOUT=3
truncate -s 16M "$WORKDIR/disk.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $IQN {
		enabled 1
		RspTimeout $RSP_TIMEOUT
		LUN 0 disk0
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/login_limits.py" timeout "$PORT" "$IQN" "$RSP_TIMEOUT"
n=$(grep -c 'login not finished within the login timeout' "$LOG")
[ "$n" -ge 2 ] || fail "expected 2 login timeouts in the log, found $n"
stop_uscstd
echo "login_timeout: all checks passed"
