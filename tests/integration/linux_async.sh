#!/bin/bash
# The Linux initiator and Asynchronous Messages (issue 10: "async logout
# ... and its re-login"; docs/iscsi_async.md): Debian 12's open-iscsi in
# the qemu guest of linux_initiator.sh (linux_guest/async.sh is its side)
# logs in and writes; the host asks its session to log out
# (session.logout, AsyncEvent 1); iscsid must answer with a Logout (not
# be dropped at logout_timeout) and log in again by itself, and the data
# read back through the new session must be what it wrote. Then the same
# through a daemon restart: SIGTERM (AsyncEvent 1 to the guest: iscsid
# logs out, uscstd exits 0), a new uscstd on the same port and state, and
# iscsid logs in again by itself; the data reads back through it.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-12.test:linux-async

guest_build

# The demo target's name on one disk; logout_timeout 5: the deadline the
# guest's Logout must beat (and the "within 5 s" of the log lines below).
fileio_conf 64M async0 -- \
	driver "logout_timeout 5" \
	target "$DEMO_IQN" async0
IMG=$WORKDIR/async0.img
start_uscstd -c "$WORKDIR/scst.conf"

guest_boot async
asked= relogin= restarted= relogin2=
while kill -0 "$QEMU_PID" 2>/dev/null; do
	if [ -n "$relogin" ] && [ -z "$restarted" ] && grep -q '^guest: ASYNC-READY2' "$CONSOLE"; then
		note "SIGTERM: the daemon asks the guest to log out and ends"
		stop_uscstd
		grep -q "($GUEST_INI) closed: did not log out" "$LOG" &&
			fail "at shutdown the Linux initiator was dropped instead of logging out"
		USCSTD_SAME_PORT=1 start_uscstd -c "$WORKDIR/scst.conf"
		restarted=$(guest_secs)
		before_restart=$(guest_logins)
	fi
	if [ -n "$restarted" ] && [ -z "$relogin2" ] && [ "$(guest_logins)" -gt "$before_restart" ]; then
		relogin2=$(guest_secs)
		printf 'ASYNC-GO2' | dd of="$IMG" bs=512 seek=4096 conv=notrunc 2> /dev/null
	fi
	if [ -z "$asked" ] && grep -q '^guest: ASYNC-READY' "$CONSOLE"; then
		name=$(guest_sessions "$DEMO_IQN" | head -n 1)
		[ -n "$name" ] || fail "no session of the guest in the tree"
		note "session.logout $name"
		guest_rpc session.logout "{\"driver\":\"iscsi\",\"target\":\"$DEMO_IQN\",\"session\":\"$name\"}" ||
			fail "session.logout failed"
		asked=$(guest_secs)
	fi
	if [ -n "$asked" ] && [ -z "$relogin" ] && [ "$(guest_logins)" -ge 2 ]; then
		relogin=$(guest_secs)
		printf 'ASYNC-GO' | dd of="$IMG" bs=512 seek=2048 conv=notrunc 2> /dev/null
	fi
	sleep 0.2
done
guest_finish "asked at ${asked:-never} s, logged in again at ${relogin:-never} s; daemon restarted at ${restarted:-never} s, logged in again at ${relogin2:-never} s"
[ -n "$asked" ] && [ -n "$relogin" ] || fail "the guest passed without the logout request and re-login"
[ -n "$restarted" ] && [ -n "$relogin2" ] ||
	fail "the guest passed without the daemon's restart and its re-login"

grep -F "($GUEST_INI)" "$LOG"
grep -q "($GUEST_INI): asked to log out within 5 s: logout requested by management" "$LOG" ||
	fail "no logout request in uscstd's log"
grep -q "($GUEST_INI) closed: did not log out" "$LOG" &&
	fail "the Linux initiator was dropped at logout_timeout instead of logging out"
grep -q "($GUEST_INI): asked to log out within 5 s: shutting down" "$LOG" ||
	fail "no logout request at shutdown in uscstd's log"
logouts=$(grep -Fc "($GUEST_INI) closed: logged out" "$LOG")
[ "$logouts" = 3 ] || fail "$logouts connections of $GUEST_INI closed after a Logout, expected 3 (the requested one, the one at shutdown, the last)"
grep -q "Target requests logout within 5 seconds" "$CONSOLE" ||
	fail "iscsid did not report the target's logout request"
stop_uscstd
echo "PASS: the Linux initiator logged out on AsyncEvent 1 (management, then shutdown) and logged in again by itself"
