#!/bin/bash
# Eight sessions on two reactors on one device while LUN resets, target
# resets, task set aborts and SIGHUP reloads happen (nexus_stress.py), then
# the daemon's state. Runs on the TSan build too (multisession suite) and
# on ASan+UBSan with the rest.
. "$(dirname "$0")/lib.sh" "$@"

T=iqn.2026-12.test:stress
truncate -s 64M "$WORKDIR/shared.img"
truncate -s 16M "$WORKDIR/other.img"
devices="HANDLER vdisk_fileio {
	DEVICE shared {
		filename $WORKDIR/shared.img
	}
	DEVICE other {
		filename $WORKDIR/other.img
	}
}"
cat > "$WORKDIR/a.conf" <<CONF
$devices
TARGET_DRIVER iscsi {
	TARGET $T {
		enabled 1
		LUN 0 shared
		LUN 1 other
	}
}
CONF
cat > "$WORKDIR/b.conf" <<CONF
$devices
TARGET_DRIVER iscsi {
	TARGET $T {
		enabled 1
		LUN 0 shared
		GROUP w7 {
			LUN 0 shared
			LUN 2 other
			INITIATOR iqn.2026-12.test:w7
		}
	}
}
CONF
cp "$WORKDIR/a.conf" "$WORKDIR/scst.conf"
start_uscstd -c "$WORKDIR/scst.conf" --threads 2

run timeout 300 python3 "$LIB_DIR/nexus_stress.py" "$PORT" "$USCSTD_PID" "$T" \
	"$WORKDIR/scst.conf" "$WORKDIR/a.conf" "$WORKDIR/b.conf" "${STRESS_SECONDS:-20}" ||
	fail "nexus_stress.py failed"
n=$(grep -c "reload of .* done" "$LOG")
[ "$n" -ge 2 ] || fail "only $n reloads logged as done"
grep -q "reload refused" "$LOG" && fail "a reload was refused"

LIVENESS_TARGET=$T check_liveness "nexus_stress" iqn.2026-12.test:w3 800e55000004
stop_uscstd
