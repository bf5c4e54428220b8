#!/bin/bash
# A reinstating login that times out leaves the old session to finish and
# the next login of the same initiator and ISID free to try
# (reinstate_timeout.py has the set-up).
. "$(dirname "$0")/lib.sh" "$@"

FAST=iqn.2026-11.test:reinstate-fast
SLOW=iqn.2026-11.test:reinstate-slow
truncate -s 16M "$WORKDIR/disk.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $FAST {
		enabled 1
		RspTimeout 3
		NopInInterval 0
		LUN 0 disk0
	}
	TARGET $SLOW {
		enabled 1
		RspTimeout 60
		NopInInterval 0
		LUN 0 disk0
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
note "a reinstating login times out while the old session drains"
run python3 -B "$(dirname "$0")/reinstate_timeout.py" "$PORT" "$FAST" "$SLOW"
grep -q "login waits for 1 older session" "$LOG" ||
	fail "the reinstating login did not wait for the old session"
check_alive "after the reinstatements"
stop_uscstd
echo "reinstate_timeout: all checks passed"
