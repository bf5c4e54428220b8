#!/bin/bash
# A READ pipelined right behind an overlapping WRITE returns the new data,
# 100 times on each of fileio, blockio and fileio with o_direct (LUNs 0, 1
# and 2); with QAM 1 set by MODE SELECT both still complete
# (overlap_order.py). Then the liveness check.
. "$(dirname "$0")/lib.sh" "$@"

for i in 0 1 2; do truncate -s 64M "$WORKDIR/disk$i.img"; done
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk0.img
	}
	DEVICE disk2 {
		filename $WORKDIR/disk2.img
		o_direct 1
	}
}
HANDLER vdisk_blockio {
	DEVICE disk1 {
		filename $WORKDIR/disk1.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $DEMO_IQN {
		enabled 1
		LUN 0 disk0
		LUN 1 disk1
		LUN 2 disk2
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
note "READs right behind overlapping WRITEs (python initiator)"
run python3 -B "$(dirname "$0")/overlap_order.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID"
check_alive "after the overlapping commands"
check_liveness "after the overlapping commands" iqn.2026-11.test:overlap 800000002001 ||
	fail "liveness after the overlapping commands"
stop_uscstd
echo "overlap_order: all checks passed"
