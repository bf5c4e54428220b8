#!/bin/bash
# ErrorRecoveryLevel 2 (issue 10; docs/iscsi_erl.md): connection recovery
# within a session, TASK REASSIGN after a connection failure or Logout
# reason 2, Time2Wait + Time2Retain, session continuation; driven by
# erl2.py (our own initiator); then the liveness checks.
. "$(dirname "$0")/lib.sh" "$@"

T2=iqn.2026-12.test:erl2
T0=iqn.2026-12.test:erl2-off
truncate -s 16M "$WORKDIR/disk.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE d2 {
		filename $WORKDIR/disk.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $T2 {
		enabled 1
		ErrorRecoveryLevel 2
		MaxConnections 4
		MaxRecvDataSegmentLength 8192
		DefaultTime2Wait 1
		DefaultTime2Retain 3
		LUN 0 d2
	}
	TARGET $T0 {
		enabled 1
		LUN 0 d2
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
note "ERL 2: connection recovery and TASK REASSIGN (python initiator)"
run python3 -B "$(dirname "$0")/erl2.py" "$PORT" "$T2" "$USCSTD_PID" "$T0"
grep -q "kept for recovery" "$LOG" || fail "uscstd logged no connection kept for recovery"
grep -q "DefaultTime2Wait + DefaultTime2Retain passed" "$LOG" ||
	fail "uscstd logged no expiry of a kept connection"
LIVENESS_TARGET=$T2 check_liveness "after ERL 2 recovery" iqn.2026-12.test:erl2 800000003001
stop_uscstd
echo "erl2: all checks passed"
