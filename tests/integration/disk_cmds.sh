#!/bin/bash
# REPORT SUPPORTED OPERATION CODES' timeouts descriptors, ORWRITE(32) over
# the Extended CDB AHS, LOG SENSE page control and LOG SELECT, on fileio
# (thick and thin) and nullio (disk_cmds.py, our python initiator); then
# the daemon must still serve (check_liveness).
. "$(dirname "$0")/lib.sh" "$@"

TGT_IQN=iqn.2026-12.test:diskcmds
truncate -s 64M "$WORKDIR/file.img" "$WORKDIR/thin.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE file0 {
		filename $WORKDIR/file.img
	}
	DEVICE thin0 {
		filename $WORKDIR/thin.img
		thin_provisioned 1
	}
}
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb 64
	}
}

TARGET_DRIVER iscsi {
	enabled 1

	TARGET $TGT_IQN {
		enabled 1
		LUN 0 file0
		LUN 1 thin0
		LUN 2 null0
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf" --threads 2
timeout 120 python3 -B "$(dirname "$0")/disk_cmds.py" "$PORT" "$TGT_IQN" "$INI1" ||
	fail "disk_cmds.py failed"
LIVENESS_TARGET=$TGT_IQN check_liveness "disk_cmds" "$INI1" 800e55000c0b
stop_uscstd
echo "disk_cmds: all checks passed"
