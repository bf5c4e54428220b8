#!/bin/bash
# The Linux initiator and AsyncEvent 4 (issue 10: "request for
# renegotiation"; docs/iscsi_text.md): Debian 12's open-iscsi in the qemu
# guest of linux_initiator.sh (linux_guest/reneg.sh is its side) logs in
# and writes; the host changes the live target's
# MaxRecvDataSegmentLength, which asks each connection to renegotiate.
# iscsid's answer is to drop the connection and log in again (it does
# not renegotiate in FFP): it must do so by itself, before the target's
# deadline, and the data read back through the new session must be what
# it wrote.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-12.test:linux-reneg

guest_build

# The demo target's name on one disk; logout_timeout 5: the time the
# guest is given to renegotiate (the "within 5 s" of the log line below).
fileio_conf 64M reneg0 -- \
	driver "logout_timeout 5" \
	target "$DEMO_IQN" reneg0
IMG=$WORKDIR/reneg0.img
start_uscstd -c "$WORKDIR/scst.conf"

guest_boot reneg
asked= relogin=
while kill -0 "$QEMU_PID" 2>/dev/null; do
	if [ -z "$asked" ] && grep -q '^guest: RENEG-READY' "$CONSOLE"; then
		guest_rpc target.set_attr "{\"driver\":\"iscsi\",\"target\":\"$DEMO_IQN\",\"attributes\":{\"MaxRecvDataSegmentLength\":\"16384\"}}" > /dev/null ||
			fail "target.set_attr MaxRecvDataSegmentLength failed"
		asked=$(guest_secs)
	fi
	if [ -n "$asked" ] && [ -z "$relogin" ] && [ "$(guest_logins)" -ge 2 ]; then
		relogin=$(guest_secs)
		printf 'RENEG-GO' | dd of="$IMG" bs=512 seek=2048 conv=notrunc 2> /dev/null
	fi
	sleep 0.2
done
guest_finish "asked at ${asked:-never} s, logged in again at ${relogin:-never} s"
[ -n "$asked" ] && [ -n "$relogin" ] || fail "the guest passed without the request and a new login"

grep -F "($GUEST_INI)" "$LOG"
grep -q "($GUEST_INI): asked to renegotiate within 5 s: .*MaxRecvDataSegmentLength 16384" "$LOG" ||
	fail "no renegotiation request in uscstd's log"
grep -q "($GUEST_INI) closed: did not renegotiate" "$LOG" &&
	fail "the Linux initiator was dropped at the deadline instead of acting on the request"
grep -q "Received async event param negotiation" "$CONSOLE" ||
	fail "iscsid did not report the target's renegotiation request"
stop_uscstd
echo "PASS: the Linux initiator answered AsyncEvent 4 with a new login and its data is intact"
