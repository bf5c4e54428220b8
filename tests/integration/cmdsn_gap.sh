#!/bin/bash
# A command held behind a CmdSN gap times out with RspTimeout (cmdsn_gap.py).
. "$(dirname "$0")/lib.sh" "$@"

IQN=iqn.2026-11.test:cmdsn-gap-target
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
		RspTimeout 3
		LUN 0 disk0
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
note "a command held behind a CmdSN gap that is never filled"
run python3 -B "$(dirname "$0")/cmdsn_gap.py" "$PORT" "$IQN" 3
grep -q "gap in the CmdSN sequence was not filled" "$LOG" ||
	fail "the log does not say why the connection closed"
check_alive "after the gap"
stop_uscstd
echo "cmdsn_gap: all checks passed"
