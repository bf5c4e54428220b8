#!/bin/bash
# `make soak` (issue 10, section 4; docs/scale.md): logins and logouts at a
# steady rate for SOAK_SECONDS against one uscstd with the scale test's 16
# targets of 64 LUNs; uscstd's RSS and open descriptors sampled every
# SOAK_SAMPLE seconds. Fails when, after the warm-up, RSS grows by more
# than SOAK_RSS_GROWTH_MIB over the first sample after it, or the
# descriptors exceed what the live sessions can hold; and unless, once the
# client has logged every session out, the state dump shows 0 sessions and
# 0 commands and the descriptors are back where they were at start-up.
# Not part of `make test`: it takes ten minutes.
#
#   soak.sh USCSTD SCALE_CLIENT
#
# SOAK_SECONDS (600), SOAK_SESSIONS (200 kept alive, the first half with a
# second connection), SOAK_RATE (20 logins and 20 logouts a second),
# SOAK_SAMPLE (30), SOAK_WARMUP (120), SOAK_RSS_GROWTH_MIB (8).
. "$(dirname "$0")/lib.sh" "$1"
CLIENT=${2:?usage: $0 USCSTD SCALE_CLIENT}
[ -x "$CLIENT" ] || fail "$CLIENT is not an executable"
. "$(dirname "$0")/scale_conf.sh"

SECONDS_TOTAL=${SOAK_SECONDS:-600}
SESSIONS=${SOAK_SESSIONS:-200}
MCS=$((SESSIONS / 2))
RATE=${SOAK_RATE:-20}
SAMPLE=${SOAK_SAMPLE:-30}
WARMUP=${SOAK_WARMUP:-120}
# 8 MiB over ten minutes of 20 logins a second (12000 sessions with 64
# LUNs each) is about 700 bytes per session: a leak of one nexus (1.5 KiB)
# per session, or of a connection's staging buffer, fails it many times over.
GROWTH_MIB=${SOAK_RSS_GROWTH_MIB:-8}
LOGINS_IN_FLIGHT=16

ulimit -n "$(ulimit -Hn)" 2>/dev/null
conf=$WORKDIR/scst.conf
write_scale_conf "$conf"
# As in scale.sh: what is measured is the service's memory, not that of
# blocks glibc fills on purpose.
unset MALLOC_PERTURB_
start_uscstd --threads 2 -c "$conf"
base_fds=$(fd_count)
note "soak: $SESSIONS sessions ($MCS with two connections), $RATE logins and logouts a" \
	"second for $SECONDS_TOTAL s; uscstd has $base_fds descriptors"
# What the live sessions may hold: one per connection, and the logins in
# flight; a few more for anything else a reactor opens for a moment.
FD_LIMIT=$((base_fds + SESSIONS + MCS + LOGINS_IN_FLIGHT + 16))

"$CLIENT" --port "$PORT" --target-prefix "$SCALE_PREFIX" --targets "$SCALE_TARGETS" \
	--luns "$SCALE_LUNS" --sessions "$SESSIONS" --mcs "$MCS" \
	--verify-luns "${SCALE_FILEIO_LUNS// /,}" --logins-in-flight "$LOGINS_IN_FLIGHT" \
	--phase-timeout 60 --soak "$SECONDS_TOTAL" --rate "$RATE" > "$WORKDIR/client.out" 2>&1 &
client_pid=$!

start=$(date +%s)
first_rss=
max_rss=0
max_fds=0
printf '%8s %10s %8s %s\n' "seconds" "VmRSS MiB" "fds" "client"
while kill -0 "$client_pid" 2>/dev/null; do
	sleep "$SAMPLE" &
	wait $! 2>/dev/null
	kill -0 "$client_pid" 2>/dev/null || break
	check_alive "during the soak"
	t=$(($(date +%s) - start))
	rss=$(rss_kb)
	fds=$(fd_count)
	printf '%8s %10s %8s %s\n' "$t" "$(mib "$rss")" "$fds" "$(tail -n 1 "$WORKDIR/client.out")"
	[ "$fds" -le "$FD_LIMIT" ] ||
		fail "uscstd has $fds descriptors at $t s, more than the live sessions hold ($FD_LIMIT)"
	[ "$t" -lt "$WARMUP" ] && continue
	if [ -z "$first_rss" ]; then
		first_rss=$rss
		note "warm-up over: VmRSS $(mib "$rss") MiB; bound $(mib $((rss + GROWTH_MIB * 1024))) MiB"
	fi
	[ "$rss" -gt "$max_rss" ] && max_rss=$rss
	[ "$fds" -gt "$max_fds" ] && max_fds=$fds
	[ "$rss" -le $((first_rss + GROWTH_MIB * 1024)) ] ||
		fail "uscstd's VmRSS grew to $(mib "$rss") MiB at $t s, from $(mib "$first_rss") MiB" \
			"after the warm-up (bound +$GROWTH_MIB MiB)"
done
wait "$client_pid"
rc=$?
cat "$WORKDIR/client.out"
[ "$rc" = 0 ] || fail "the client exited with status $rc"
grep -q '^soak_done ' "$WORKDIR/client.out" || fail "the client did not finish the soak"
[ -n "$first_rss" ] || fail "no sample after the warm-up: SOAK_SECONDS must exceed SOAK_WARMUP + SOAK_SAMPLE"

for _ in $(seq 50); do
	dump=$(dump_state "after the soak")
	read -r s c < <(sed -n 's/^dump: end: \([0-9]*\) session(s), \([0-9]*\) active.*/\1 \2/p' <<< "$dump")
	fds=$(fd_count)
	[ "$s" = 0 ] && [ "$c" = 0 ] && [ "$fds" -le "$base_fds" ] && break
	sleep 0.2
done
grep '^dump: reactor ' <<< "$dump"
rss=$(rss_kb)
note "after the soak: $s sessions, $c active commands, $fds descriptors ($base_fds at start-up)," \
	"VmRSS $(mib "$rss") MiB (after the warm-up $(mib "$first_rss") MiB, at most" \
	"$(mib "$max_rss") MiB; at most $max_fds descriptors)"
[ "$s" = 0 ] || fail "$s sessions remain after the soak"
[ "$c" = 0 ] || fail "$c commands remain active after the soak"
[ "$fds" -le "$base_fds" ] || fail "uscstd has $fds descriptors after the soak, $base_fds at start-up"
grep '^dump: reactor ' <<< "$dump" | grep -vq ' 0 connection(s) placed$' &&
	fail "a reactor still counts connections placed on it after the soak"
stop_uscstd
echo "soak: all checks passed"
