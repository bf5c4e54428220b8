#!/bin/bash
# Unit attentions reaching exactly the right nexuses (issue 6, section 4):
# three sessions of two initiator names on one LUN, each condition seen
# once by each nexus the standard names and by no other, REQUEST SENSE,
# UA_INTLCK_CTRL 10b, and the capacity and LUN inventory changes a SIGHUP
# reload brings (unit_attentions.py); then the liveness check.
. "$(dirname "$0")/lib.sh" "$@"

T=iqn.2026-12.test:ua
truncate -s 16M "$WORKDIR/disk0.img"
truncate -s 1M "$WORKDIR/disk1.img"

# write_conf LUN1: the configuration, with LUN 1 mapped or not.
write_conf() {
	cat <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk0.img
	}
	DEVICE disk1 {
		filename $WORKDIR/disk1.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $T {
		enabled 1
		LUN 0 disk0
$([ "$1" = yes ] && echo "		LUN 1 disk1")
	}
}
CONF
}
write_conf no > "$WORKDIR/scst.conf"
write_conf yes > "$WORKDIR/scst_lun1.conf"

start_uscstd -c "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/unit_attentions.py" "$PORT" "$USCSTD_PID" "$LOG" \
	"$WORKDIR/scst.conf" "$WORKDIR/scst_lun1.conf" "$WORKDIR/disk0.img" "$T" "$INI1" "$INI2"
grep -q 'device disk0: capacity changed from 32768 to 65536 blocks' "$LOG" ||
	fail "the log does not say that disk0's capacity changed"
LIVENESS_TARGET=$T check_liveness "after the unit attentions" "$INI1" 400001370001
stop_uscstd
echo "unit_attentions: all checks passed"
