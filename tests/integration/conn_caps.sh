#!/bin/bash
# Daemon-wide connection caps: --max-logins-per-address (connections still
# logging in from one address) and --max-connections. A connection beyond
# either is closed right after accept with a rate-limited log line; once
# others have gone new logins are served.
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd --max-logins-per-address 2 --max-connections 4
run python3 -B "$(dirname "$0")/login_limits.py" conns "$PORT" "$DEMO_IQN"
grep -q 'refused: 2 connections from this address are logging in already (--max-logins-per-address)' \
	"$LOG" || fail "the per-address refusal is not logged"
grep -q 'refused: 4 connections already (--max-connections)' "$LOG" ||
	fail "the total refusal is not logged"
n=$(grep -c 'refused: ' "$LOG")
note "$n refusal lines for ~203 refused connections"
[ "$n" -le 40 ] || fail "$n refusal lines: not rate-limited"
grep -Eq '[0-9]+ similar messages suppressed \(src/targets/iscsi/portal.c:[0-9]+\)' "$LOG" ||
	fail "no 'similar messages suppressed' line"
check_serving "after the connection caps"
stop_uscstd

note "bad cap values are refused"
"$USCSTD" --max-connections -1 > "$WORKDIR/bad.log" 2>&1 && fail "--max-connections -1 accepted"
grep -q 'max-connections' "$WORKDIR/bad.log" || fail "the error does not name --max-connections"
echo "conn_caps: all checks passed"
