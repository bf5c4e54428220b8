#!/bin/bash
# Every task management function's effect on its own and other sessions
# under each TST/TAS setting, QErr, ACA and the QUERY functions
# (tmf_matrix.py, our python initiator: three sessions of three
# initiators); on two reactors so that functions and the tasks they reach
# cross threads. Then the liveness check of each initiator.
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd --threads 2
note "task management matrix (python initiator)"
run python3 -B "$(dirname "$0")/tmf_matrix.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID"
check_alive "after the task management matrix"
for ini in a b d; do
	check_liveness "after the matrix (session $ini)" "iqn.2026-11.test:tmfm-$ini" 80000000c001 ||
		fail "liveness after the matrix (session $ini)"
done
stop_uscstd
echo "tmf_matrix: all checks passed"
