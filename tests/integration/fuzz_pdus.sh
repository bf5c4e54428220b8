#!/bin/bash
# Mutated PDUs after a valid login (fuzz_pdus.py, seeded): the target must
# not crash or hang, must keep serving a well-behaved initiator, and must
# still shut down cleanly.
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
note "mutated PDUs (python initiator)"
run python3 -B "$(dirname "$0")/fuzz_pdus.py" "$PORT" "$DEMO_IQN" "${FUZZ_SEED:-2026}" \
	"${FUZZ_COUNT:-3000}"
check_serving "after the mutated PDUs"
stop_uscstd
echo "fuzz_pdus: all checks passed"
