#!/bin/bash
# ORDERED and HEAD OF QUEUE task attributes seen in the order of statuses
# on the wire (task_attrs.py), on a write_through fileio LUN; then the
# liveness check for each of its sessions.
. "$(dirname "$0")/lib.sh" "$@"

truncate -s 128M "$WORKDIR/disk0.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk0.img
		write_through 1
	}
}
TARGET_DRIVER iscsi {
	TARGET $DEMO_IQN {
		enabled 1
		LUN 0 disk0
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
note "task attributes (python initiator)"
run python3 -B "$(dirname "$0")/task_attrs.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID"
check_alive "after the task attribute checks"
for isid in 800000003001 800000003002 800000003003; do
	check_liveness "after the task attribute checks ($isid)" iqn.2026-11.test:attrs "$isid" ||
		fail "liveness after the task attribute checks ($isid)"
done
stop_uscstd
echo "task_attrs: all checks passed"
