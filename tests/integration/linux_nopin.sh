#!/bin/bash
# NOP-In keepalive with the Linux initiator (issue 10: "NOP-In keepalive
# with NopInInterval and NopInTimeout ... an initiator that stops
# answering has its connection closed and its tasks cleaned up as nexus
# loss"). The target pings every 2 idle seconds and gives an answer 2 s;
# the guest (linux_guest/nopin.sh) switches open-iscsi's own pings off.
# The guest's connections go through pdu_relay.py, which logs every NOP
# it relays, so the pings and the answers are counted on the wire:
#  1. idle for 12 s: at least 4 pings, each answered with its TTT, the
#     session the same, the data reads back;
#  2. eth0 down in the guest while four 48 MiB reads are in flight, and the
#     relay stops draining the target (as a dead peer's TCP window
#     closes; qemu's network would buffer everything): the ping
#     that follows goes unanswered, the target closes the connection
#     within NopInInterval + NopInTimeout (plus a tick) with commands
#     still held (a state dump before counts them; the relay counts those
#     without status), its session is gone from
#     the daemon's tree and the state dump shows no session and no
#     command (nexus loss: "session: close"), all while the guest is
#     still down;
#  3. eth0 up: iscsid logs in again by itself (a new session of the same
#     initiator), the kernel's retried reads complete and the data reads
#     back through it.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-12.test:linux-nopin
INTERVAL=2 TIMEOUT=2

guest_build

# The demo target's name on one disk (256M: room for the four 48 MiB
# reads), pinging every $INTERVAL idle seconds, an answer due in $TIMEOUT.
fileio_conf 256M nopin0 -- \
	target "$DEMO_IQN" nopin0 "NopInInterval $INTERVAL" "NopInTimeout $TIMEOUT"
start_uscstd -c "$WORKDIR/scst.conf"

GUEST_EVENTS=$WORKDIR/nop-events.log
: > "$GUEST_EVENTS"
closed_by_ping() { grep -c "($GUEST_INI) closed: no answer to NOP-In ping (NopInTimeout)" "$LOG"; }

guest_boot nopin
idle_at= idle_done_at= down_at= closed_at= gone_at= up_at= down_dump= held_dump=
while kill -0 "$QEMU_PID" 2>/dev/null; do
	now=$(date +%s.%N)
	[ -z "$idle_at" ] && grep -q '^guest: NOPIN-IDLE:' "$CONSOLE" && idle_at=$now
	[ -z "$idle_done_at" ] && grep -q '^guest: NOPIN-IDLE-DONE' "$CONSOLE" && idle_done_at=$now
	# A guest that is gone takes nothing: its TCP window closes and the
	# target's Data-In backs up into the target (pdu_relay.py's freeze).
	if [ -z "$down_at" ] && grep -q '^guest: NOPIN-DOWN' "$CONSOLE"; then
		down_at=$now
		: > "$GUEST_EVENTS.freeze"
	fi
	[ -z "$up_at" ] && grep -q '^guest: NOPIN-UP' "$CONSOLE" && up_at=$now
	# The reads have started (1 s after the mark), the ping not yet
	# timed out (NopInInterval + NopInTimeout after the last command):
	# the target holds them.
	if [ -n "$down_at" ] && [ -z "$held_dump" ] && [ "$(closed_by_ping)" = 0 ] &&
		awk -v n="$now" -v d="$down_at" 'BEGIN { exit !(n >= d + 2.5) }'; then
		held_dump=$(dump_state "reads held" | grep "device nopin0:")
	fi
	if [ -n "$down_at" ] && [ -z "$closed_at" ] && [ "$(closed_by_ping)" -ge 1 ]; then
		closed_at=$now
	fi
	# While the guest is still down, its session must be gone.
	if [ -n "$closed_at" ] && [ -z "$gone_at" ] && [ -z "$up_at" ] &&
		[ -z "$(guest_sessions "$DEMO_IQN")" ]; then
		gone_at=$now
		# Nexus loss: nothing of the session is left in the core.
		down_dump=$(dump_state "the guest down" | tail -n 1)
		rm -f "$GUEST_EVENTS.freeze"
	fi
	sleep 0.2
done
rm -f "$GUEST_EVENTS.freeze"
since() { [ -n "$1" ] && awk -v a="$1" -v b="$GUEST_START" 'BEGIN { printf "%.1f", a - b }'; }
guest_finish "guest marks (s): idle $(since "$idle_at"), idle done $(since "$idle_done_at"), down $(since "$down_at"), up $(since "$up_at"); target closed at $(since "$closed_at"), session gone at $(since "$gone_at")"

note "the NOPs on the wire (pdu_relay.py)"
cat "$GUEST_EVENTS"
[ -n "$idle_at" ] && [ -n "$idle_done_at" ] && [ -n "$down_at" ] && [ -n "$up_at" ] ||
	fail "the guest passed without going through every step"
grep -q 'NOP-OUT-PING' "$GUEST_EVENTS" && fail "the initiator sent pings of its own (noop_out_interval 0 ignored?)"
# Pings in the idle window, and their answers, by TTT.
window() { awk -v a="$1" -v b="$2" -v what="$3" '$1 >= a && $1 <= b && $3 == what { print $4 }' "$GUEST_EVENTS"; }
pings=$(window "$idle_at" "$idle_done_at" NOP-IN-PING | sort -u)
answers=$(window "$idle_at" "$idle_done_at" NOP-OUT-ANSWER | sort -u)
npings=$(grep -c . <<< "$pings")
[ "$npings" -ge 4 ] || fail "$npings pings of the target in the guest's 12 s idle, expected at least 4 (every $INTERVAL s)"
# An answer may follow its ping by a moment, past the window's end.
unanswered=$(comm -23 <(echo "$pings") <(window "$idle_at" "$(awk -v a="$idle_done_at" 'BEGIN { printf "%.3f", a + 5 }')" NOP-OUT-ANSWER | sort -u))
[ -z "$unanswered" ] || fail "pings not answered while the guest was up: $unanswered"
note "idle: $npings pings by the target, every one answered with its TTT ($(grep -c . <<< "$answers") answers)"

[ -n "$closed_at" ] || fail "the target never closed the connection for an unanswered ping"
# The close came within NopInInterval + NopInTimeout (+ a tick each) of
# the guest going down. (The ping itself the relay does not see: frozen,
# it reads nothing from the target; the close line names it.)
delay=$(awk -v a="$closed_at" -v b="$down_at" 'BEGIN { printf "%.1f", a - b }')
# (The guest takes eth0 down 1.5 s after the mark, the reads started.)
awk -v d="$delay" -v lim=$((INTERVAL + TIMEOUT + 5)) 'BEGIN { exit !(d <= lim) }' ||
	fail "the target closed the connection $delay s after the guest went down, more than NopInInterval + NopInTimeout + 5"
# The connection the target closed had commands whose status never came
# back: reads the target held (or had sent into a connection nobody
# drained) when the ping went unanswered.
held=$(awk -v a="$down_at" '$1 >= a && $3 == "CLOSED" { sub("unanswered-commands=", "", $4); print $4; exit }' "$GUEST_EVENTS")
[ "${held:-0}" -ge 1 ] || fail "no command was in flight when the target closed the connection (relay: '${held}')"
# And the target had them: the dump before the close counts them active.
active=$(sed -n 's/.*device nopin0: \([0-9]*\) active command.*/\1/p' <<< "$held_dump")
[ "${active:-0}" -ge 1 ] || fail "the state dump before the close shows no command held by the target: '$held_dump'"
[ -n "$gone_at" ] || fail "the guest's session was still in the daemon's tree while the guest was down"
grep -q "session: close $GUEST_INI -> $DEMO_IQN" "$LOG" || fail "no 'session: close' of the guest's session"
[ "$down_dump" = "dump: end: 0 session(s), 0 active command(s)" ] ||
	fail "the state dump while the guest was down ends '$down_dump', expected no session and no command"
note "down: the target closed the connection $delay s after eth0 went down ($active command(s) active before, $held unanswered at the close), the session left the tree at $(since "$gone_at") s with nothing left in the core"

n=$(guest_logins)
[ "$n" -ge 2 ] || fail "$n normal sessions of $GUEST_INI logged in, expected 2 (the first, and iscsid's again)"
[ -n "$(guest_sessions "$DEMO_IQN")" ] && fail "a session of the guest left after its logout"
grep -F "($GUEST_INI)" "$LOG"
stop_uscstd
echo "PASS: the Linux initiator answered $npings NOP-In pings; unanswered, the connection closed in $delay s and the initiator logged in again"
