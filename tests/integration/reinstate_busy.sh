#!/bin/bash
# Session reinstatement while the old connection is busy, 100 times with
# the same InitiatorName and ISID (reinstate_busy.py), on two reactors;
# then the liveness check for that initiator and ISID.
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd --threads 2
note "100 reinstatements of a busy session (python initiator)"
run python3 -B "$(dirname "$0")/reinstate_busy.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID"
check_alive "after the reinstatements"
check_liveness "after 100 reinstatements" iqn.2026-11.test:reinstate-busy 80000000c001 ||
	fail "liveness after 100 reinstatements"
stop_uscstd
echo "reinstate_busy: all checks passed"
