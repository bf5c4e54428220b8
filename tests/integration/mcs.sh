#!/bin/bash
# Several connections per session (mcs.py): join by TSIH on any reactor,
# commands striped over four connections in one CmdSN order, logout of one
# connection, connection loss and reinstatement, logout of the session;
# then the liveness check.
. "$(dirname "$0")/lib.sh" "$@"

truncate -s 64M "$WORKDIR/disk0.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk0.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $DEMO_IQN {
		enabled 1
		MaxConnections 4
		LUN 0 disk0
	}
}
CONF
start_uscstd --threads 3 -c "$WORKDIR/scst.conf"
note "MC/S (python initiator)"
run python3 -B "$(dirname "$0")/mcs.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID"
joins=$(grep -c "joined by a connection" "$LOG")
moves=$(grep -c "connection moved to reactor" "$LOG")
[ "$joins" -ge 5 ] || fail "$joins joins logged, expected at least 5"
[ "$moves" -ge 1 ] || fail "no connection was moved to its session's reactor"
note "$joins connections joined a session; $moves logins moved to their session's reactor"
check_alive "after the MC/S checks"
check_liveness "after the MC/S checks" iqn.2026-12.test:mcs 800000002001 ||
	fail "liveness after the MC/S checks"
stop_uscstd
echo "mcs: all checks passed"
