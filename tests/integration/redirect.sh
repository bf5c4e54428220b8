#!/bin/bash
# Login redirect (issue 10, section 3; docs/redirect.md). One uscstd with
# three portals: 127.0.0.1:$PORT (portal 1), 127.0.0.1:$P2 and [::1]:$P2.
# Target $A redirects; a login that arrives at the very address the
# redirect names is served there (one daemon plays both nodes).
#  1. temporary redirect to 127.0.0.1:$P2: a login on portal 1 gets 0x0101
#     with TargetAddress=127.0.0.1:$P2 and the connection closed (PDU
#     level, redirect.py); libiscsi (qemu-io) follows it and writes and
#     reads data; SendTargets on portal 1 still lists portal 1; a target
#     with CHAP redirects before security (no CHAP offered, still 0x0101);
#  2. changed at run time (uscstadmin) to permanent, [::1]:$P2 with tag 7:
#     the next login gets 0x0102 and TargetAddress=[::1]:$P2 (no tag: RFC
#     7143 13.8); SendTargets lists [::1]:$P2,7; made temporary again,
#     libiscsi (which follows 0x0101 only) goes to ::1 and reads the data
#     of 1;
#  3. a bad value is refused with a reason and changes nothing;
#  4. redirect cleared: the login is served on portal 1;
#  5. a portal reached through a NAT (--listen 127.0.0.1:$P3=192.0.2.7:3260):
#     with the redirect naming 192.0.2.7:3260, a login on portal 1 is
#     redirected there and one on $P3 served; SendTargets on $P3 lists
#     192.0.2.7:3260; a bad advertised address stops uscstd with the reason;
#  6. liveness. Before all that, a bad redirect in scst.conf stops uscstd
#     with the file, line and reason.
#
#   redirect.sh USCSTD USCSTADMIN
. "$(dirname "$0")/lib.sh" "$1"
use_uscstadmin "${2:?usage: $0 USCSTD USCSTADMIN}"
command -v qemu-io > /dev/null || fail "qemu-io is missing (qemu-utils)"

A=iqn.2026-12.test:redirect-a
B=iqn.2026-12.test:redirect-b
C=iqn.2026-12.test:redirect-chap
PY=(python3 -B "$(dirname "$0")/redirect.py")
P2=$(free_port)
P3=$(free_port)
# Two disks: $A's redirecting, $B's served; $C (CHAP) redirects too.
fileio_conf 16M da db -- \
	target "$A" da "redirect 127.0.0.1:$P2" \
	target "$B" db \
	target "$C" db 'IncomingUser "joe verysecretpassword"' "redirect 127.0.0.1:$P2"
# A bad redirect in scst.conf: uscstd says where and why, and does not start.
sed "s|redirect 127.0.0.1:$P2|redirect 127.0.0.1:99999|" "$WORKDIR/scst.conf" > "$WORKDIR/bad.conf"
start_refused "bad.conf:[0-9]*: target '$A': bad value '127.0.0.1:99999' for iSCSI target attribute redirect" \
	-c "$WORKDIR/bad.conf" --listen "127.0.0.1:$P2" > /dev/null
note "a bad redirect in scst.conf: refused with file, line and reason"

start_uscstd -c "$WORKDIR/scst.conf" --listen "127.0.0.1:$P2" --listen "[::1]:$P2" \
	--listen "127.0.0.1:$P3=192.0.2.7:3260"

redirects() {
	grep -c "login: redirected .*target $A moved" "$LOG"
}
# qemu_io URL CMD: libiscsi's initiator (QEMU's iscsi driver) runs CMD.
qemu_io() {
	local out rc

	out=$(timeout -k 5 "$CMD_TIMEOUT" qemu-io -f raw -c "$2" "$1" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] || fail "qemu-io '$2' on $1 exited with status $rc"
	grep -Eqi 'verification failed|error|failed' <<< "$out" && fail "qemu-io '$2' on $1: $out"
	return 0
}

note "1. temporary redirect to 127.0.0.1:$P2"
run "${PY[@]}" login 127.0.0.1 "$PORT" "$A" "$INI1" 0x0101 "127.0.0.1:$P2"
grep -q "login: redirected 127.0.0.1:[0-9]* ($INI1): login to target $A moved temporarily to 127.0.0.1:$P2 (status 0x0101)" "$LOG" ||
	fail "no 'login: redirected' info line for the temporary redirect"
grep -q "login: refused.*$A" "$LOG" && fail "a redirect was logged as a refused login"
# Served where the redirect points (no loop), on the same daemon.
run "${PY[@]}" login 127.0.0.1 "$P2" "$A" "$INI1" 0
before=$(redirects)
qemu_io "iscsi://127.0.0.1:$PORT/$A/0" "write -P 0x5a 0 64k"
qemu_io "iscsi://127.0.0.1:$PORT/$A/0" "read -P 0x5a 0 64k"
after=$(redirects)
[ "$after" -ge $((before + 2)) ] ||
	fail "libiscsi's logins were not redirected ($before, then $after redirects)"
note "libiscsi followed the redirect twice ($before -> $after redirects) and read its data back"
# The data is on $A's disk, not $B's.
[ "$(head -c 65536 "$WORKDIR/da.img" | tr -d '\132' | wc -c)" = 0 ] ||
	fail "the 64 KiB libiscsi wrote are not on $A's disk"
run "${PY[@]}" sendtargets 127.0.0.1 "$PORT" "$INI1" "$A" "127.0.0.1:$PORT,1"
run "${PY[@]}" login 127.0.0.1 "$PORT" "$B" "$INI1" 0
# Before security: a CHAP target redirects a login that offers no CHAP.
run "${PY[@]}" login 127.0.0.1 "$PORT" "$C" "$INI1" 0x0101 "127.0.0.1:$P2"
grep -q "login: refused.*$C" "$LOG" && fail "the login to $C was refused rather than redirected"

note "2. at run time: permanent, to [::1]:$P2 with tag 7"
admin -set_tgt_attr "$A" -driver iscsi -attributes "redirect=[::1]:$P2\\,7,redirect_type=permanent"
run "${PY[@]}" login 127.0.0.1 "$PORT" "$A" "$INI1" 0x0102 "[::1]:$P2"
grep -q "login: redirected .*target $A moved permanently to \[::1\]:$P2 (status 0x0102)" "$LOG" ||
	fail "no 'login: redirected' info line for the permanent redirect"
run "${PY[@]}" sendtargets 127.0.0.1 "$PORT" "$INI1" "$A" "[::1]:$P2,7"
# libiscsi follows 0x0101 only (its iscsi_login_cb): temporary again, to
# see it go to ::1.
admin -set_tgt_attr "$A" -driver iscsi -attributes "redirect_type=temporary"
run "${PY[@]}" login 127.0.0.1 "$PORT" "$A" "$INI1" 0x0101 "[::1]:$P2"
before=$(grep -c "normal session [0-9]* logged in to $A" "$LOG")
before_v6=$(grep -c "iSCSI: \[::1\]:[0-9]* ([^)]*): normal session [0-9]* logged in to $A" "$LOG")
qemu_io "iscsi://127.0.0.1:$PORT/$A/0" "read -P 0x5a 0 64k"
[ "$(grep -c "iSCSI: \[::1\]:[0-9]* ([^)]*): normal session [0-9]* logged in to $A" "$LOG")" -gt "$before_v6" ] ||
	fail "libiscsi did not log in to $A over ::1 after the redirect"
[ "$(grep -c "normal session [0-9]* logged in to $A" "$LOG")" = $((before + 1)) ] ||
	fail "libiscsi's login to $A was not one session over ::1"
run "${PY[@]}" pattern ::1 "$P2" "$A" "$INI1" 5a
note "libiscsi followed the redirect to [::1]:$P2 and read the data written through portal 2"

note "3. bad values are refused and change nothing"
for bad in "::1:$P2" "[::1" "127.0.0.1:0" "127.0.0.1:70000" "host name" "127.0.0.1:$P2\\,0"; do
	admin_refused "bad value .* for iSCSI target attribute redirect" \
		-set_tgt_attr "$A" -driver iscsi -attributes "redirect=$bad" > /dev/null
done
run "${PY[@]}" login 127.0.0.1 "$PORT" "$A" "$INI1" 0x0101 "[::1]:$P2"
admin_refused "bad value 'sideways' for iSCSI target attribute redirect_type" \
	-set_tgt_attr "$A" -driver iscsi -attributes "redirect_type=sideways" > /dev/null
note "bad values refused, the redirect unchanged"

note "4. redirect cleared at run time"
admin -set_tgt_attr "$A" -driver iscsi -attributes "redirect=,redirect_type=temporary"
run "${PY[@]}" login 127.0.0.1 "$PORT" "$A" "$INI1" 0
run "${PY[@]}" sendtargets 127.0.0.1 "$PORT" "$INI1" "$A" "127.0.0.1:$PORT,1"
before=$(redirects)
qemu_io "iscsi://127.0.0.1:$PORT/$A/0" "read -P 0x5a 0 64k"
[ "$(redirects)" = "$before" ] || fail "a login was redirected after the redirect was cleared"

note "5. a portal behind a NAT: 127.0.0.1:$P3, reached at 192.0.2.7:3260"
grep -q "iSCSI: listening on 127.0.0.1:$P3, reached by initiators at 192.0.2.7:3260" "$LOG" ||
	fail "uscstd did not log where portal 127.0.0.1:$P3 is reached"
admin -set_tgt_attr "$A" -driver iscsi -attributes "redirect=192.0.2.7:3260"
run "${PY[@]}" login 127.0.0.1 "$PORT" "$A" "$INI1" 0x0101 "192.0.2.7:3260"
run "${PY[@]}" login 127.0.0.1 "$P3" "$A" "$INI1" 0
# Only that portal: the same address on another port is still redirected.
run "${PY[@]}" login 127.0.0.1 "$P2" "$A" "$INI1" 0x0101 "192.0.2.7:3260"
admin -set_tgt_attr "$A" -driver iscsi -attributes "redirect="
# SendTargets tells an initiator behind the NAT the address it reaches the
# portal at; the other portals still list where they are bound.
run "${PY[@]}" sendtargets 127.0.0.1 "$P3" "$INI1" "$A" "192.0.2.7:3260,1"
run "${PY[@]}" sendtargets 127.0.0.1 "$PORT" "$INI1" "$A" "127.0.0.1:$PORT,1"
for bad in "127.0.0.1:$P3=host.example:3260" "127.0.0.1:$P3=192.0.2.7:0" "127.0.0.1:$P3=::1:3260"; do
	start_refused "bad listen address '$bad': the address after '=' must be" \
		-c "$WORKDIR/scst.conf" --listen "$bad" > /dev/null
done
note "a login on the NAT'd portal is served, on the others redirected; bad advertised addresses refused"

LIVENESS_TARGET=$B check_liveness "redirect" "$INI1" 400000000001
stop_uscstd
echo "redirect: all checks passed"
