#!/bin/bash
# The Linux initiator and AsyncEvent 0 (issue 10: "SCSI async event for
# unit attentions where the initiator accepts it"; docs/iscsi_async.md):
# Debian 12's open-iscsi in the qemu guest of linux_initiator.sh
# (linux_guest/aen.sh is its side) logs in to a target with LUN 0; with
# the target's aen off, mapping LUN 1 changes nothing in the guest; with
# aen on, mapping LUN 2 sends AsyncEvent 0 with REPORTED LUNS DATA HAS
# CHANGED, on which iscsid rescans and both new LUNs appear.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-12.test:linux-aen
GUEST_TIMEOUT=${GUEST_TIMEOUT:-240}

guest_build

cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_nullio {
	DEVICE aen0 {
		size_mb 64
	}
	DEVICE aen1 {
		size_mb 64
	}
	DEVICE aen2 {
		size_mb 64
	}
}
TARGET_DRIVER iscsi {
	TARGET $DEMO_IQN {
		enabled 1
		LUN 0 aen0
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"

guest_boot aen
lun() {
	guest_rpc lun.add "{\"driver\":\"iscsi\",\"target\":\"$DEMO_IQN\",\"lun\":$1,\"device\":\"aen$1\"}" ||
		fail "lun.add $1 failed"
}
mapped1= mapped2=
while kill -0 "$QEMU_PID" 2>/dev/null; do
	if [ -z "$mapped1" ] && grep -q '^guest: AEN-READY-0' "$CONSOLE"; then
		lun 1
		mapped1=$(guest_secs)
	fi
	if [ -z "$mapped2" ] && grep -q '^guest: AEN-READY-1' "$CONSOLE"; then
		guest_rpc target.set_attr "{\"driver\":\"iscsi\",\"target\":\"$DEMO_IQN\",\"attributes\":{\"aen\":\"1\"}}" ||
			fail "target.set_attr aen 1 failed"
		lun 2
		mapped2=$(guest_secs)
	fi
	sleep 0.2
done
guest_finish "LUN 1 at ${mapped1:-never} s, LUN 2 at ${mapped2:-never} s"
[ -n "$mapped1" ] && [ -n "$mapped2" ] || fail "the guest passed without both LUN map changes"
grep -F "($GUEST_INI)" "$LOG" | grep "AsyncEvent 0" ||
	fail "no AsyncEvent 0 in uscstd's log"
grep -q "unit attention 06/3f/0e sent as AsyncEvent 0" "$LOG" ||
	fail "no REPORTED LUNS DATA HAS CHANGED sent"
stop_uscstd
echo "PASS: with aen on, the Linux initiator rescanned on AsyncEvent 0 and found the new LUNs"
