#!/bin/bash
# Task management across two sessions on one LUN while one of them goes
# away (tmf_sessions.py), on two reactors so that the sessions' commands
# and TMFs cross threads; then the liveness check for both initiators.
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd --threads 2
note "TMFs across two sessions, one disconnecting (python initiator)"
run python3 -B "$(dirname "$0")/tmf_sessions.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID"
check_alive "after the TMF rounds"
check_liveness "after the TMF rounds (session A)" iqn.2026-11.test:tmf-a 80000000a001 ||
	fail "liveness after the TMF rounds (session A)"
check_liveness "after the TMF rounds (session B)" iqn.2026-11.test:tmf-b 80000000b001 ||
	fail "liveness after the TMF rounds (session B)"
stop_uscstd
echo "tmf_sessions: all checks passed"
