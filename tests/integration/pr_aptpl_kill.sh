#!/bin/bash
# APTPL across kill -9 and SIGTERM (issue 7): persistent reservations
# registered with APTPL=1 are kept in STATE/pr/demo0, written crash-safely
# (docs/pr_state_file.md). Each round runs PERSISTENT RESERVE OUT traffic
# from two I_T nexuses (pr_aptpl_client: REGISTER AND IGNORE EXISTING KEY
# with new keys, unregistering, RESERVE of every type, RELEASE), kills
# uscstd with SIGKILL at a random moment, and checks
#  1. the state file decodes (uscstd --print-pr-state) and is the last
#     state the client was acknowledged or the one it was waiting for
#     (no file: the empty state, which must then be one of those two);
#  2. after a restart, READ KEYS and READ RESERVATION over the wire give
#     that same state (generation, keys, type, holder).
# Then the state must survive a SIGTERM restart exactly, and a damaged
# file (a flipped bit, a file cut short) must keep uscstd from starting
# with a log line naming the file and the reason, and be left unchanged.
#
# usage: pr_aptpl_kill.sh USCSTD PR_APTPL_CLIENT [ROUNDS]
. "$(dirname "$0")/lib.sh" "$@"

CLIENT=${2:?usage: $0 USCSTD PR_APTPL_CLIENT [ROUNDS]}
ROUNDS=${3:-20}
[ -x "$CLIENT" ] || fail "$CLIENT is not an executable"
FILE=$WORKDIR/state/pr/demo0

# file_view: the "view ..." line of the state file, "view none" without one.
file_view() {
	local out

	if [ ! -e "$FILE" ]; then
		echo "view none"
		return
	fi
	out=$("$USCSTD" --print-pr-state "$FILE" 2>&1) ||
		fail "the state file does not decode: $out"
	grep '^view ' <<< "$out" || fail "no view line in: $out"
}

# wire_view: the same, from READ KEYS and READ RESERVATION.
wire_view() {
	run "$CLIENT" read "127.0.0.1:$PORT" "$DEMO_IQN" "$INI1"
}

# keys_res VIEW: VIEW without its generation.
keys_res() {
	sed 's/^view gen=[0-9]* //' <<< "$1"
}

# check_file CONTEXT LOG: the state file is LOG's last acknowledged state
# (or its start), or the state pending after it; sets EXPECT_WIRE to what
# a restarted target must answer ("keys= res=none" without a file: the
# generation is not kept then), PENDING, and HELD (acknowledged: the file
# is the last acknowledged state; pending: the one written but not yet
# acknowledged; none: no file).
check_file() {
	local context=$1 log=$2 acked last got

	acked=$(grep -E '^(start|acked) ' "$log" | tail -n 1 | sed 's/^[a-z]* //')
	last=$(grep -E '^(start|acked|pending) ' "$log" | tail -n 1)
	PENDING=
	case $last in
	pending\ *) PENDING=${last#pending } ;;
	esac
	got=$(file_view)
	if [ "$got" = "view none" ]; then
		if [ "$(keys_res "view $acked")" = "keys= res=none" ] ||
			{ [ -n "$PENDING" ] && [ "$(keys_res "view $PENDING")" = "keys= res=none" ]; }; then
			EXPECT_WIRE="keys= res=none"
			HELD=none
		else
			fail "$context: no state file; acknowledged '$acked', pending '${PENDING:-none}'"
		fi
	elif [ "$got" = "view $acked" ]; then
		EXPECT_WIRE=$got
		HELD=acknowledged
	elif [ -n "$PENDING" ] && [ "$got" = "view $PENDING" ]; then
		EXPECT_WIRE=$got
		HELD=pending
	else
		fail "$context: the file holds '$got'; acknowledged '$acked', pending '${PENDING:-none}'"
	fi
}

# check_wire CONTEXT: the restarted target answers EXPECT_WIRE.
check_wire() {
	local wire

	wire=$(wire_view)
	if [ "$EXPECT_WIRE" = "keys= res=none" ]; then
		[ "$(keys_res "$wire")" = "$EXPECT_WIRE" ] ||
			fail "$1: restarted without a file, the wire says '$wire'"
	else
		[ "$wire" = "$EXPECT_WIRE" ] ||
			fail "$1: the file says '$EXPECT_WIRE', the restarted target '$wire'"
	fi
}

tmp_left=0
held_acknowledged=0
held_pending=0
held_none=0
start_uscstd
for round in $(seq "$ROUNDS"); do
	log=$WORKDIR/round$round.log
	: > "$log"
	"$CLIENT" traffic "127.0.0.1:$PORT" "$DEMO_IQN" "$INI1" "$log" "$round" \
		> "$WORKDIR/client.out" 2>&1 &
	client=$!
	# Until the client has logged in and read the state, then 50 to
	# 800 ms into its traffic.
	for _ in $(seq 100); do
		grep -q '^start ' "$log" && break
		kill -0 "$client" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^start ' "$log" || fail "round $round: the client did not start: $(cat "$WORKDIR/client.out")"
	sleep "0.$(printf '%03d' $((50 + RANDOM % 750)))"
	kill -0 "$client" 2>/dev/null ||
		fail "round $round: the client ended before the kill: $(cat "$WORKDIR/client.out")"
	kill -KILL "$USCSTD_PID"
	wait "$USCSTD_PID" 2>/dev/null
	USCSTD_PID=
	wait "$client"
	rc=$?
	[ "$rc" = 3 ] || fail "round $round: the client exited $rc, not 3 (connection lost): $(cat "$WORKDIR/client.out")"

	[ -e "$FILE.tmp" ] && tmp_left=$((tmp_left + 1))
	check_file "round $round" "$log"
	case $HELD in
	acknowledged) held_acknowledged=$((held_acknowledged + 1)) ;;
	pending) held_pending=$((held_pending + 1)) ;;
	none) held_none=$((held_none + 1)) ;;
	esac
	ncmds=$(grep -c '^acked ' "$log")
	note "round $round: $ncmds command(s) acknowledged; the file holds the $HELD state: $EXPECT_WIRE"

	start_uscstd
	check_wire "round $round"
	[ -e "$FILE.tmp" ] && fail "round $round: $FILE.tmp still there after the restart"
done
note "$ROUNDS rounds: the file held the last acknowledged state $held_acknowledged times, the" \
	"pending one $held_pending times, no file $held_none times; $tmp_left kills left a .tmp"

# SIGTERM: a last registration, acknowledged, then a graceful restart.
log=$WORKDIR/sigterm.log
: > "$log"
"$CLIENT" traffic "127.0.0.1:$PORT" "$DEMO_IQN" "$INI1" "$log" 999 > "$WORKDIR/client.out" 2>&1 &
client=$!
for _ in $(seq 100); do
	[ "$(grep -c '^acked ' "$log")" -ge 5 ] && break
	sleep 0.1
done
[ "$(grep -c '^acked ' "$log")" -ge 5 ] || fail "SIGTERM: fewer than 5 commands acknowledged"
kill -STOP "$client"
# The client is stopped between two commands or inside one: SIGTERM
# waits for the one inside to complete (its session ends after it).
stop_uscstd
kill -KILL "$client"
wait "$client" 2>/dev/null
check_file "SIGTERM" "$log"
[ -e "$FILE.tmp" ] && fail "SIGTERM: $FILE.tmp left after a graceful stop"
start_uscstd
check_wire "SIGTERM"
note "SIGTERM restart: $EXPECT_WIRE"
stop_uscstd

# A damaged file (one flipped byte, then one cut short) keeps uscstd from
# serving the device, with a log line naming the file and the reason, and
# is left as it was; put back, it loads again.
start_uscstd
registered=$(run "$CLIENT" register "127.0.0.1:$PORT" "$DEMO_IQN" "$INI1")
stop_uscstd
[ "$(file_view)" = "$registered" ] ||
	fail "after a registration the file holds '$(file_view)', the target said '$registered'"
EXPECT_WIRE=$registered
cp "$FILE" "$WORKDIR/good"
refused_start() {
	local what=$1 want=$2 rc

	timeout -k 5 30 "$USCSTD" --listen "127.0.0.1:$(free_port)" --state-dir "$WORKDIR/state" \
		> "$WORKDIR/refused.log" 2>&1 < /dev/null
	rc=$?
	[ "$rc" = 1 ] || fail "$what: uscstd exited $rc, not 1: $(cat "$WORKDIR/refused.log")"
	grep -q "$FILE: refused: $want" "$WORKDIR/refused.log" ||
		fail "$what: no log line naming $FILE and '$want': $(cat "$WORKDIR/refused.log")"
	note "$what: $(grep -o "$FILE: refused: .*" "$WORKDIR/refused.log")"
}
python3 -c 'import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[30] ^= 0x01
open(p, "wb").write(b)' "$FILE"
cp "$FILE" "$WORKDIR/damaged"
refused_start "one flipped bit" "CRC32C"
cmp -s "$FILE" "$WORKDIR/damaged" || fail "the refused file was changed"
head -c 40 "$WORKDIR/good" > "$FILE"
refused_start "cut short" "CRC32C"
cp "$WORKDIR/good" "$FILE"
start_uscstd
check_wire "the file put back"
stop_uscstd
echo "PASS: pr_aptpl_kill ($ROUNDS kill -9 rounds, SIGTERM restart, damaged files refused)"
