#!/bin/bash
# A removable medium (removable 1): eject and load with START STOP UNIT,
# NOT READY / MEDIUM NOT PRESENT while it is out, the media-change unit
# attention, PREVENT ALLOW per I_T nexus, cleared by logout and LUN
# reset (removable.py, our python initiator, two and three sessions), and
# management's device.eject and device.load; a fixed LUN beside it. Then libiscsi's PreventAllow, StartStopUnit,
# NoMedia and TestUnitReady suites on the removable LUN and on the fixed
# one: every test passes, and on the removable LUN (thin, so that NoMedia
# reaches UNMAP and GET LBA STATUS too) nothing is skipped. Last, the
# daemon still serves everyone (check_liveness).
. "$(dirname "$0")/lib.sh" "$@"

T=iqn.2026-12.test:removable
truncate -s 64M "$WORKDIR/r.img" "$WORKDIR/f.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE rdisk { filename $WORKDIR/r.img; removable 1; thin_provisioned 1 }
	DEVICE fdisk { filename $WORKDIR/f.img }
}
TARGET_DRIVER iscsi {
	TARGET $T {
		enabled 1
		LUN 0 rdisk
		LUN 1 fdisk
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/removable.py" "$PORT" "$T" "$INI1" "$RPC_SOCKET"
grep -q "vdisk: rdisk: medium ejected (START STOP UNIT)" "$LOG" || fail "no log line for the eject"
grep -q "vdisk: rdisk: medium loaded (START STOP UNIT)" "$LOG" || fail "no log line for the load"
grep -q "mgmt: device.eject rdisk" "$LOG" || fail "no log line for device.eject"
grep -q "vdisk: rdisk: medium loaded (management)" "$LOG" || fail "no log line for device.load"

# suites LUN KIND: runs libiscsi's suites on LUN; every test must pass,
# and on the removable LUN none may skip.
suites() {
	local lun=$1 kind=$2 s out
	for s in SCSI.PreventAllow SCSI.StartStopUnit SCSI.NoMedia SCSI.TestUnitReady; do
		out=$(timeout -k 5 180 iscsi-test-cu -d -t "$s" -i "$INI1" -I "$INI2" \
			"iscsi://127.0.0.1:$PORT/$T/$lun" 2>&1) ||
			fail "$s on the $kind LUN failed: $out"
		grep -q "Run Summary" <<< "$out" || fail "$s on the $kind LUN did not finish: $out"
		grep -Eq "tests +[0-9]+ +[0-9]+ +[0-9]+ +0 " <<< "$out" ||
			fail "$s on the $kind LUN: a test failed: $out"
		if [ "$kind" = removable ] && grep -q "SKIPPED" <<< "$out"; then
			fail "$s skipped on the removable LUN: $out"
		fi
		note "$s on the $kind LUN: $(grep -E "^ +tests" <<< "$out" | tr -s ' ')"
	done
}
command -v iscsi-test-cu > /dev/null || fail "iscsi-test-cu is missing (libiscsi-bin)"
suites 0 removable
suites 1 fixed
run python3 -B "$(dirname "$0")/removable.py" "$PORT" "$T" "$INI1"

LIVENESS_TARGET=$T check_liveness "after the removable checks" "$INI1" 80023d000077
stop_uscstd
echo "removable: all checks passed"
