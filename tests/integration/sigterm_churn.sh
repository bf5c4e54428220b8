#!/bin/bash
# Peers connecting, logging in, sending commands and hanging up, 8 at a
# time (sigterm_churn.py), on two reactors: SIGTERM in the middle of it
# must end uscstd with status 0 within 10 s and no sanitizer report; and
# a second uscstd must survive 3 s of it and pass the liveness check.
. "$(dirname "$0")/lib.sh" "$@"

sanitizer_report() {
	grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer' "$LOG"
}

start_uscstd --threads 2
note "SIGTERM 1.5 s into the churn"
timeout -k 5 60 python3 -B "$(dirname "$0")/sigterm_churn.py" "$PORT" "$DEMO_IQN" \
	"$USCSTD_PID" 3 1.5
churn_rc=$?
# The script sent SIGTERM and waited (10 s at most) for uscstd to go.
kill -0 "$USCSTD_PID" 2>/dev/null && fail "uscstd still running 10 s after SIGTERM in the churn"
wait "$USCSTD_PID"
rc=$?
USCSTD_PID=
[ "$rc" = 0 ] || fail "uscstd exited with status $rc after SIGTERM in the churn"
note "uscstd exited 0 after SIGTERM in the churn"
sanitizer_report && fail "a sanitizer reported an error at SIGTERM in the churn"
[ "$churn_rc" = 0 ] || fail "sigterm_churn.py (SIGTERM phase) exited with status $churn_rc"

start_uscstd --threads 2
note "3 s of churning peers"
run python3 -B "$(dirname "$0")/sigterm_churn.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID" 3 0
check_alive "after the churn"
check_liveness "after the churn" iqn.2026-11.test:churn0 800000d0ff00 ||
	fail "liveness after the churn"
sanitizer_report && fail "a sanitizer reported an error during the churn"
stop_uscstd
echo "sigterm_churn: all checks passed"
