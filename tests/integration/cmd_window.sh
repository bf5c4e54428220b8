#!/bin/bash
# MaxCmdSN as a real window of QueuedCommands (8 here), immediate
# commands counting, commands beyond it dropped, duplicate CmdSNs refused,
# and NOP-Out/Text/TMF/Logout in the CmdSN sequence (cmd_window.py); then
# the liveness check.
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
		QueuedCommands 8
		LUN 0 disk0
	}
}
CONF
start_uscstd --threads 2 -c "$WORKDIR/scst.conf"
note "the CmdSN window (python initiator)"
run python3 -B "$(dirname "$0")/cmd_window.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID"
check_alive "after the window checks"
for isid in 800000001001 800000001002 800000001003 800000001004 800000001005; do
	check_liveness "after the window checks ($isid)" iqn.2026-11.test:window "$isid" ||
		fail "liveness after the window checks ($isid)"
done
stop_uscstd
echo "cmd_window: all checks passed"
