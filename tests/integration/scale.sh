#!/bin/bash
# Scale (issue 10, section 4; docs/scale.md): 1000 sessions, 2000
# connections (every session with a second connection by TSIH, MC/S) to 16
# targets of 64 LUNs each on two reactors, from one initiator process
# (scale_client.c). Checked:
#  1. every login succeeds; 2000 connections are established; the state
#     dump counts 1000 sessions, spread over both reactors;
#  2. memory per idle session: uscstd's RSS growth from start-up to all
#     sessions logged in, divided by the sessions, below a bound;
#  3. every session writes 4 KiB and reads it back on each of its target's
#     64 LUNs (the two fileio LUNs compared with what was written, the 62
#     nullio ones with zeros): 128000 commands, all 1024 LUNs, over both
#     connections of each session; both reactor threads do the work; and
#     meanwhile one busy session (iscsi-perf, 1 MiB reads, 32 in flight)
#     does not make any of those commands wait longer than a bound;
#  4. after every logout: 0 sessions and 0 active commands in the dump,
#     uscstd's descriptors back to what it had before the logins, its RSS
#     below a bound; SIGTERM exits 0.
#
#   scale.sh USCSTD SCALE_CLIENT
#
# SCALE_SESSIONS / SCALE_MCS (default 1000 / 1000) change the numbers,
# SCALE_CLIENT_ARGS the way the client logs in (scale_client.c).
. "$(dirname "$0")/lib.sh" "$1"
CLIENT=${2:?usage: $0 USCSTD SCALE_CLIENT}
[ -x "$CLIENT" ] || fail "$CLIENT is not an executable"

. "$(dirname "$0")/scale_conf.sh"
TARGETS=$SCALE_TARGETS
LUNS=$SCALE_LUNS
SESSIONS=${SCALE_SESSIONS:-1000}
MCS=${SCALE_MCS:-$SESSIONS}
CONNS=$((SESSIONS + MCS))
PREFIX=$SCALE_PREFIX
FILEIO_LUNS=$SCALE_FILEIO_LUNS
# Bounds (docs/scale.md has the measured values): KiB of RSS per idle
# session, and MiB of RSS once every session is gone. A sanitized build
# (ASan's redzones and quarantine) gets its own.
# Measured: 110 KiB per session and 132 MiB after the logouts (glibc keeps
# the freed heap for reuse); ASan+UBSan 181 KiB and 272 MiB.
PER_SESSION_KIB=${SCALE_PER_SESSION_KIB:-160}
PER_SESSION_SANITIZED_KIB=${SCALE_PER_SESSION_SANITIZED_KIB:-384}
RSS_AFTER_MIB=${SCALE_RSS_AFTER_MIB:-192}
RSS_AFTER_SANITIZED_MIB=${SCALE_RSS_AFTER_SANITIZED_MIB:-448}
LATENCY_MS=${SCALE_LATENCY_MS:-2000}
LATENCY_SANITIZED_MS=${SCALE_LATENCY_SANITIZED_MS:-5000}
# ThreadSanitizer (the multisession suite's third run) shadows everything
# the program touches: measured 703 KiB per session, 958 MiB after the
# logouts, 1955 ms the longest wait.
PER_SESSION_TSAN_KIB=${SCALE_PER_SESSION_TSAN_KIB:-1280}
RSS_AFTER_TSAN_MIB=${SCALE_RSS_AFTER_TSAN_MIB:-1536}
LATENCY_TSAN_MS=${SCALE_LATENCY_TSAN_MS:-20000}

# Two descriptors per session in the client, as many in uscstd.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -ge $((CONNS + 256)) ] ||
	fail "ulimit -n is $(ulimit -n) (hard $(ulimit -Hn)); $((CONNS + 256)) descriptors needed"

conf=$WORKDIR/scst.conf
write_scale_conf "$conf"

# thread_ticks: "TID TICKS" of each uscstd thread (utime + stime).
thread_ticks() {
	local t
	for t in /proc/"$USCSTD_PID"/task/*; do
		awk -v tid="${t##*/}" '{ sub(/^.*\) /, ""); print tid, $12 + $13 }' "$t/stat" 2>/dev/null
	done
}

# meson test sets MALLOC_PERTURB_, with which glibc fills every block
# malloc returns: each connection's 64 KiB receive staging buffer would
# then be resident in full, which it is not in service (only the pages a
# recv() wrote are). The memory measured here is the service's.
unset MALLOC_PERTURB_
start_uscstd --threads 2 -c "$conf"
if grep -q 'libtsan' "/proc/$USCSTD_PID/maps" 2>/dev/null; then
	PER_SESSION_KIB=$PER_SESSION_TSAN_KIB
	RSS_AFTER_MIB=$RSS_AFTER_TSAN_MIB
	LATENCY_MS=$LATENCY_TSAN_MS
elif uscstd_sanitized; then
	PER_SESSION_KIB=$PER_SESSION_SANITIZED_KIB
	RSS_AFTER_MIB=$RSS_AFTER_SANITIZED_MIB
	LATENCY_MS=$LATENCY_SANITIZED_MS
fi
base_rss=$(rss_kb)
base_fds=$(fd_count)
note "$TARGETS targets x $LUNS LUNs configured; uscstd: VmRSS $(mib "$base_rss") MiB, $base_fds descriptors"

# The client waits for a line on its stdin between phases (coproc). It
# brings the sessions up one at a time, each with its second connection
# right after the first (--join-with-lead, one login in flight): with
# round-robin placement that put every session on one of the two reactors
# (each second connection took the other reactor's turn and moved back).
coproc SCALE { exec "$CLIENT" --port "$PORT" --target-prefix "$PREFIX" --targets "$TARGETS" \
	--luns "$LUNS" --sessions "$SESSIONS" --mcs "$MCS" --verify-luns "${FILEIO_LUNS// /,}" \
	--phase-timeout 90 --all-luns ${SCALE_CLIENT_ARGS:---join-with-lead --logins-in-flight 1} 2>&1; }
CLIENT_PID=$SCALE_PID
CLIENT_OUT=${SCALE[0]}
CLIENT_IN=${SCALE[1]}

# expect_line WORD: the client's next line, which must start with WORD.
expect_line() {
	local line
	IFS= read -r -t 150 -u "$CLIENT_OUT" line || fail "no '$1' from the client within 150 s"
	echo "client: $line"
	[[ $line == "$1 "* ]] || fail "the client said '$line', expected '$1 ...'"
	LINE=$line
}

# ---- 1. logins
expect_line logged_in
read -r _ got_sessions got_conns _ <<< "$LINE"
[ "$got_sessions" = "$SESSIONS" ] && [ "$got_conns" = "$CONNS" ] ||
	fail "the client logged in $got_sessions sessions with $got_conns connections"
est=$(established_conns)
note "$est connections established on port $PORT"
[ "$est" = "$CONNS" ] || fail "$est connections established, expected $CONNS"
dump=$(dump_state "all logged in")
read -r d_sessions _ < <(sed -n 's/^dump: end: \([0-9]*\) session(s), \([0-9]*\) active.*/\1 \2/p' <<< "$dump")
[ "$d_sessions" = "$SESSIONS" ] || fail "the state dump counts $d_sessions sessions, expected $SESSIONS"
placement=$(grep '^dump: reactor ' <<< "$dump")
echo "$placement"
# Placement (docs/scale.md): a new connection goes to the reactor with
# the fewest connections, a joining one then moves to its session's.
# Neither reactor may have fewer than 45% of the sessions.
while read -r _ _ idx n _; do
	[ "$n" -ge $((SESSIONS * 45 / 100)) ] || fail "reactor ${idx%:} has $n of $SESSIONS sessions"
done <<< "$placement"
[ "$(wc -l <<< "$placement")" = 2 ] || fail "expected 2 reactors in the dump: $placement"

# ---- 2. memory per idle session
idle_rss=$(rss_kb)
idle_fds=$(fd_count)
per_session=$(( (idle_rss - base_rss) / SESSIONS ))
note "idle: VmRSS $(mib "$idle_rss") MiB, $idle_fds descriptors; $per_session KiB per session" \
	"(bound $PER_SESSION_KIB KiB)"
[ "$per_session" -le "$PER_SESSION_KIB" ] ||
	fail "$per_session KiB of RSS per idle session, bound $PER_SESSION_KIB KiB"
[ "$idle_fds" -ge $((base_fds + CONNS)) ] ||
	fail "uscstd has $idle_fds descriptors with $CONNS connections ($base_fds before)"

# ---- 3. I/O on every LUN of every target, with one busy session beside:
# libiscsi's iscsi-perf reading 1 MiB at a time, 32 in flight, from LUN 1
# of the first target, on whichever reactor it lands. The others' commands
# must still be answered promptly (the longest wait is bounded), and it
# must still be running when they are done (so it was busy throughout).
# SCALE_BUSY=0 leaves it out, for the latencies without it.
perf_pid=
if [ "${SCALE_BUSY:-1}" = 1 ]; then
	timeout -k 5 300 iscsi-perf -i iqn.2026-12.test:busy -m 32 -b 2048 -t 240 \
		"iscsi://127.0.0.1:$PORT/${PREFIX}0/1" > "$WORKDIR/perf.out" 2>&1 &
	perf_pid=$!
	for _ in $(seq 50); do
		[ "$(established_conns)" -gt "$CONNS" ] && break
		sleep 0.1
	done
	[ "$(established_conns)" -gt "$CONNS" ] || fail "iscsi-perf did not connect: $(cat "$WORKDIR/perf.out")"
	sleep 1
fi
before=$(thread_ticks)
echo go >&"$CLIENT_IN"
expect_line io_done
read -r _ cmds verified luns p50 p99 longest _ <<< "$LINE"
if [ -n "$perf_pid" ]; then
	kill -0 "$perf_pid" 2>/dev/null || fail "iscsi-perf ended before the I/O did: $(cat "$WORKDIR/perf.out")"
	kill -INT "$perf_pid"
	wait "$perf_pid"
	# iscsi-perf rewrites one line with \r: its last "iops average N (M MB/s)".
	perf=$(tr '\r' '\n' < "$WORKDIR/perf.out" | grep -o 'iops average [0-9]* ([0-9]* MB/s)' | tail -n 1)
	note "beside the busy session ($perf): command latency median $p50 ms," \
		"99th percentile $p99 ms, longest $longest ms (bound $LATENCY_MS ms)"
	[[ $perf =~ \(([0-9]+)\ MB/s\) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] ||
		fail "the busy session read nothing: $(tr '\r' '\n' < "$WORKDIR/perf.out" | tail -n 3)"
	[ "$longest" -le "$LATENCY_MS" ] ||
		fail "a command waited $longest ms beside the busy session, bound $LATENCY_MS ms"
else
	note "no busy session: command latency median $p50 ms, 99th percentile $p99 ms," \
		"longest $longest ms"
fi
[ "$luns" = $((TARGETS * LUNS)) ] || fail "I/O reached $luns LUNs, expected $((TARGETS * LUNS))"
[ "$verified" -ge "$SESSIONS" ] || fail "only $verified read-backs verified"
after=$(thread_ticks)
# Each reactor thread's CPU during the I/O: the two busiest threads must
# both have worked (a reactor left idle while the other carries every
# session would show up as one thread with nearly all the ticks). The
# busy session's reactor does more: measured 318 and 120 ticks.
busy=$(join <(sort <<< "$before") <(sort <<< "$after") | awk '{ print $3 - $2 }' | sort -rn | head -2)
note "CPU ticks of the two busiest uscstd threads during the I/O: $(paste -sd' ' - <<< "$busy")"
read -r top second < <(paste -sd' ' - <<< "$busy")
[ "${second:-0}" -gt 0 ] && [ "$((second * 10))" -ge "$top" ] ||
	fail "one reactor did the I/O alone (ticks $top and ${second:-0})"
io_rss=$(rss_kb)
note "after the I/O: VmRSS $(mib "$io_rss") MiB"

# ---- 4. logouts: back to the state before the logins
echo go >&"$CLIENT_IN"
expect_line logged_out
wait "$CLIENT_PID" || fail "the client exited with status $?"
for _ in $(seq 50); do
	dump=$(dump_state "after the logouts")
	read -r s c < <(sed -n 's/^dump: end: \([0-9]*\) session(s), \([0-9]*\) active.*/\1 \2/p' <<< "$dump")
	placed=$(grep '^dump: reactor ' <<< "$dump" | grep -vc ' 0 connection(s) placed$')
	fds=$(fd_count)
	[ "$s" = 0 ] && [ "$c" = 0 ] && [ "$fds" -le "$base_fds" ] && [ "$placed" = 0 ] && break
	sleep 0.2
done
grep '^dump: reactor ' <<< "$dump"
note "after the logouts: $s sessions, $c active commands, $fds descriptors ($base_fds at start-up)"
[ "$placed" = 0 ] || fail "a reactor still counts connections placed on it after every logout"
[ "$s" = 0 ] || fail "$s sessions remain 10 s after every logout"
[ "$c" = 0 ] || fail "$c commands remain active 10 s after every logout"
[ "$fds" -le "$base_fds" ] || fail "uscstd has $fds descriptors, $base_fds before the logins"
est=$(established_conns)
[ "$est" = 0 ] || fail "$est connections still established after every logout"
rss=$(rss_kb)
note "after the logouts: VmRSS $(mib "$rss") MiB (bound $RSS_AFTER_MIB MiB)"
[ "$rss" -lt $((RSS_AFTER_MIB * 1024)) ] ||
	fail "uscstd's VmRSS is $(mib "$rss") MiB after every logout, bound $RSS_AFTER_MIB MiB"
grep -q 'refused' "$LOG" && { grep 'refused' "$LOG" | head -5; fail "uscstd refused something (above)"; }
stop_uscstd
echo "scale: all checks passed ($SESSIONS sessions, $CONNS connections, $cmds commands)"
