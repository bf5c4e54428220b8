#!/bin/bash
# Asynchronous Messages (RFC 7143 11.9; issue 10 section 2,
# docs/iscsi_async.md), one python initiator each (async_msg.py):
#  1. SIGTERM: a logged-in initiator gets AsyncEvent 1 with Parameter3 =
#     logout_timeout, logs out, and uscstd exits 0 well before the
#     timeout (measured);
#  2. SIGTERM: one that ignores the request gets AsyncEvent 2 and is
#     dropped after logout_timeout; uscstd still exits 0, in time;
#  3. target.disable: the sessions of that target are asked to log out,
#     those of another target get nothing and go on (check_liveness);
#  4. session.close: AsyncEvent 3 before the close; session.logout:
#     AsyncEvent 1 to that session only; the daemon serves on;
#  5. logout_timeout 0: SIGTERM closes at once, without a message.
. "$(dirname "$0")/lib.sh" "$@"

T1=iqn.2026-12.test:async-one
T2=iqn.2026-12.test:async-two
I1=iqn.2026-12.test:async-ini1
I2=iqn.2026-12.test:async-ini2
ISID1=80000000a001
ISID2=80000000a002

write_conf() {
	cat <<CONF
HANDLER vdisk_nullio {
	DEVICE async1 {
		size_mb 16
	}
	DEVICE async2 {
		size_mb 16
	}
}
TARGET_DRIVER iscsi {
	logout_timeout $1
	TARGET $T1 {
		enabled 1
		LUN 0 async1
	}
	TARGET $T2 {
		enabled 1
		LUN 0 async2
	}
}
CONF
}

# initiator OUTFILE TARGET INITIATOR ISID MODE [ARG]: async_msg.py in the
# background (INI_PID), its output in OUTFILE; returns once it is logged in.
initiator() {
	local out=$1 i
	shift
	timeout -k 5 60 python3 -B "$LIB_DIR/async_msg.py" "$PORT" "$@" > "$out" 2>&1 &
	INI_PID=$!
	for i in $(seq 100); do
		grep -q '^logged-in$' "$out" && return 0
		kill -0 "$INI_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$out"
	fail "async_msg.py $* did not log in"
}

# initiator_done PID OUTFILE WHAT: the initiator's checks all passed.
initiator_done() {
	wait "$1" || { cat "$2"; fail "$3: async_msg.py failed"; }
	grep '^async_msg:' "$2"
}

# stop_and_time MAX_SECONDS: SIGTERM; uscstd must exit 0 within MAX_SECONDS;
# sets STOP_SECONDS.
stop_and_time() {
	local max=$1 t0 rc
	t0=$(date +%s%N)
	kill -TERM "$USCSTD_PID"
	for _ in $(seq $((max * 20))); do
		kill -0 "$USCSTD_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$USCSTD_PID" 2>/dev/null && fail "uscstd still running $max s after SIGTERM"
	wait "$USCSTD_PID"
	rc=$?
	USCSTD_PID=
	STOP_SECONDS=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	[ "$rc" = 0 ] || fail "uscstd exited with status $rc after SIGTERM"
	note "uscstd exited 0, $STOP_SECONDS s after SIGTERM"
}

# mark: what the log has so far; logged PATTERN: the log has it since.
mark() { MARK=$(wc -l < "$LOG"); }
logged() { tail -n +$((MARK + 1)) "$LOG" | grep -q "$1"; }

sessions_of() {
	rpc tree.get '{"path":"targets/iscsi/targets"}' |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)[sys.argv[1]]["sessions"]))' "$1"
}

# ---- 1. SIGTERM, the initiator logs out
mark
write_conf 5 > "$WORKDIR/scst.conf"
start_uscstd --threads 2 -c "$WORKDIR/scst.conf"
# Two sessions, one per reactor as connections are placed round-robin:
# each reactor asks its own.
initiator "$WORKDIR/i1.out" "$T1" "$I1" "$ISID1" answer 5
P1=$INI_PID
initiator "$WORKDIR/i1b.out" "$T2" "$I2" "$ISID2" answer 5
P1B=$INI_PID
stop_and_time 4
initiator_done "$P1" "$WORKDIR/i1.out" "SIGTERM, answered ($T1)"
initiator_done "$P1B" "$WORKDIR/i1b.out" "SIGTERM, answered ($T2)"
# The logout, not the timeout, let it go: well under logout_timeout.
awk -v s="$STOP_SECONDS" 'BEGIN { exit !(s < 2.5) }' ||
	fail "uscstd took $STOP_SECONDS s to stop though the initiator logged out at once"
logged "asked to log out within 5 s: shutting down" || fail "no log line for the request"
logged "closed: logged out" || fail "the connection did not end by logout"
logged "did not log out" && fail "a connection was dropped for not logging out"
note "1: AsyncEvent 1 at SIGTERM, Logout, uscstd exited 0 in $STOP_SECONDS s"

# ---- 2. SIGTERM, the initiator does not answer
mark
write_conf 2 > "$WORKDIR/scst.conf"
start_uscstd --threads 2 -c "$WORKDIR/scst.conf"
initiator "$WORKDIR/i2.out" "$T1" "$I1" "$ISID1" ignore 2
P2=$INI_PID
stop_and_time 8
initiator_done "$P2" "$WORKDIR/i2.out" "SIGTERM, ignored"
awk -v s="$STOP_SECONDS" 'BEGIN { exit !(s >= 2 && s < 5) }' ||
	fail "uscstd stopped $STOP_SECONDS s after SIGTERM; logout_timeout is 2 s"
logged "closed: did not log out within logout_timeout" ||
	fail "no log line for the connection dropped at the timeout"
note "2: AsyncEvent 1 ignored, AsyncEvent 2 and the drop; uscstd exited 0 in $STOP_SECONDS s"

# ---- 3. target.disable: only that target's sessions are asked
# One reactor for 3 and 4: the sessions share it, so only the choice of
# sessions keeps the others out (on two reactors the other session might
# just live on the other one).
mark
write_conf 3 > "$WORKDIR/scst.conf"
start_uscstd --threads 1 -c "$WORKDIR/scst.conf"
GO=$WORKDIR/go
initiator "$WORKDIR/i3a.out" "$T1" "$I1" "$ISID1" answer 3
P3A=$INI_PID
initiator "$WORKDIR/i3b.out" "$T2" "$I2" "$ISID2" quiet "$GO"
P3B=$INI_PID
[ "$(sessions_of "$T1")" = 1 ] && [ "$(sessions_of "$T2")" = 1 ] ||
	fail "not one session on each target before the disable"
rpc target.disable "{\"driver\":\"iscsi\",\"target\":\"$T1\"}" > /dev/null
initiator_done "$P3A" "$WORKDIR/i3a.out" "target.disable, $T1"
touch "$GO"
initiator_done "$P3B" "$WORKDIR/i3b.out" "target.disable, $T2 untouched"
[ "$(sessions_of "$T1")" = 0 ] || fail "a session of the disabled $T1 remains"
logged "asked to log out within 3 s: target disabled" || fail "no log line for the request"
check_alive "after target.disable"
LIVENESS_TARGET=$T2 check_liveness "after target.disable" "$I2" "$ISID2" ||
	fail "liveness after target.disable"
note "3: target.disable asked $T1's session only; $T2 served on"

# ---- 4. session.close: AsyncEvent 3 first
initiator "$WORKDIR/i4.out" "$T2" "$I1" "$ISID1" drop
P4=$INI_PID
rpc session.close "{\"driver\":\"iscsi\",\"target\":\"$T2\",\"session\":\"$I1,i,0x$ISID1\"}" \
	> /dev/null
initiator_done "$P4" "$WORKDIR/i4.out" "session.close"
[ "$(sessions_of "$T2")" = 0 ] || fail "the closed session remains"
LIVENESS_TARGET=$T2 check_liveness "after session.close" "$I2" "$ISID2" ||
	fail "liveness after session.close"
note "4: session.close sent AsyncEvent 3, then closed; uscstd served on"

# ---- 4b. session.logout: AsyncEvent 1 to that session only
initiator "$WORKDIR/i4b.out" "$T2" "$I1" "$ISID1" answer 3
P4B=$INI_PID
initiator "$WORKDIR/i4c.out" "$T2" "$I2" "$ISID2" quiet "$GO.4b"
P4C=$INI_PID
rpc session.logout "{\"driver\":\"iscsi\",\"target\":\"$T2\",\"session\":\"$I1,i,0x$ISID1\"}" \
	> /dev/null
initiator_done "$P4B" "$WORKDIR/i4b.out" "session.logout"
touch "$GO.4b"
initiator_done "$P4C" "$WORKDIR/i4c.out" "session.logout, the other session untouched"
[ "$(sessions_of "$T2")" = 0 ] || fail "a session remains after session.logout and a logout"
LIVENESS_TARGET=$T2 check_liveness "after session.logout" "$I2" "$ISID2" ||
	fail "liveness after session.logout"
stop_and_time 4
note "4b: session.logout asked that session only; it logged out; uscstd served on"

# ---- 5. logout_timeout 0: the old way
mark
write_conf 0 > "$WORKDIR/scst.conf"
start_uscstd --threads 2 -c "$WORKDIR/scst.conf"
initiator "$WORKDIR/i5.out" "$T1" "$I1" "$ISID1" silent
P5=$INI_PID
stop_and_time 4
initiator_done "$P5" "$WORKDIR/i5.out" "logout_timeout 0"
logged "asked to log out" && fail "asked to log out with logout_timeout 0"
note "5: logout_timeout 0: closed at once, no message; uscstd exited 0 in $STOP_SECONDS s"

grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$LOG" &&
	fail "a sanitizer reported an error"
echo "async_msg: all checks passed"
