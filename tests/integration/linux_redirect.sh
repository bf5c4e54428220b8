#!/bin/bash
# Login redirect with the Linux initiator (issue 10: "login redirect to a
# second portal"; docs/redirect.md). One uscstd, two portals: the lib's
# 127.0.0.1:$PORT, which the guest reaches at 10.0.2.100:3260, and
# 127.0.0.1:$P2, which it reaches at 10.0.2.101:3260 (--listen
# 127.0.0.1:$P2=10.0.2.101:3260 tells uscstd so: a login that arrives
# there is not redirected again). Two targets redirect to 10.0.2.101:3260,
# $DEMO_IQN temporarily (0x0101), $T2 permanently (0x0102). For each, in
# the guest (linux_guest/redirect.sh): open-iscsi logs in through the
# first portal, follows the redirect, its session's current portal is the
# second, and 1 MiB written through it reads back. On the host: uscstd
# logged each redirect with its status; pdu_relay.py saw each redirected
# login's connection open to $P2 (and the first to $PORT); the data is in
# each target's backing file; no login was redirected from the second
# portal.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-12.test:linux-redirect
GUEST_PORTAL2=10.0.2.101:3260
GUEST_PORT2=$(free_port)
T2=iqn.2026-12.test:linux-redirect-permanent

guest_build

# A disk each; both targets send logins on to the second portal.
fileio_conf 64M temp0 perm0 -- \
	target "$DEMO_IQN" temp0 "redirect $GUEST_PORTAL2" "redirect_type temporary" \
	target "$T2" perm0 "redirect $GUEST_PORTAL2" "redirect_type permanent"
IMG1=$WORKDIR/temp0.img IMG2=$WORKDIR/perm0.img
start_uscstd -c "$WORKDIR/scst.conf" --listen "127.0.0.1:$GUEST_PORT2=$GUEST_PORTAL2"
grep -q "iSCSI: listening on 127.0.0.1:$GUEST_PORT2, reached by initiators at $GUEST_PORTAL2" "$LOG" ||
	fail "uscstd did not log the second portal's advertised address"

GUEST_EVENTS=$WORKDIR/relay-events.log
: > "$GUEST_EVENTS"
guest_boot redirect "uscst.portal2=$GUEST_PORTAL2 uscst.target2=$T2 uscst.listed=127.0.0.1:$PORT"
guest_finish

note "uscstd's side"
grep -F "($GUEST_INI)" "$LOG"
for t in "$DEMO_IQN temporarily 0x0101" "$T2 permanently 0x0102"; do
	read -r tgt how status <<< "$t"
	n=$(grep -c "login: redirected 127.0.0.1:[0-9]* ($GUEST_INI): login to target $tgt moved $how to $GUEST_PORTAL2 (status $status)" "$LOG")
	[ "$n" -ge 1 ] || fail "no redirect of the guest's login to $tgt logged (status $status)"
	grep -Eq "\($GUEST_INI\): normal session [0-9]+ logged in to $tgt " "$LOG" ||
		fail "no session of the guest logged in to $tgt"
done
# Each target has one session, and it did not come through the first
# portal: every connection the relay opened to $PORT is a discovery or a
# redirected login, and one opened to $GUEST_PORT2 per session.
opens1=$(grep -c "OPEN port=$PORT\$" "$GUEST_EVENTS")
opens2=$(grep -c "OPEN port=$GUEST_PORT2\$" "$GUEST_EVENTS")
redirects=$(grep -c "login: redirected .*($GUEST_INI)" "$LOG")
discoveries=$(grep -Ec "\($GUEST_INI\): discovery session [0-9]+ logged in" "$LOG")
sessions=$(grep -Ec "\($GUEST_INI\): normal session [0-9]+ logged in" "$LOG")
note "relay: $opens1 connection(s) to the first portal ($discoveries discoveries, $redirects redirected logins), $opens2 to the second; $sessions session(s)"
[ "$sessions" = 2 ] || fail "$sessions normal sessions of the guest, expected 2 (one per target)"
[ "$opens2" = 2 ] || fail "$opens2 connections to the second portal, expected 2 (the two sessions)"
[ "$opens1" = $((discoveries + redirects)) ] ||
	fail "$opens1 connections to the first portal, expected $discoveries discoveries + $redirects redirected logins: a session came in there"
logouts=$(grep -Fc "($GUEST_INI) closed: logged out" "$LOG")
[ "$logouts" = 2 ] || fail "$logouts sessions of the guest logged out, expected 2"

note "the data is on each target's disk"
for img in "$IMG1" "$IMG2"; do
	sum=$(head -c 1048576 "$img" | sha256sum | cut -d' ' -f1)
	grep -q "1 MiB written and read back through $GUEST_PORTAL2, sha256 $sum" "$CONSOLE" ||
		fail "the first 1 MiB of $img (sha256 $sum) is not what the guest wrote"
done
stop_uscstd
echo "PASS: open-iscsi followed the temporary and the permanent redirect to the second portal and did I/O there"
