#!/bin/bash
# Mutated PDUs after a valid login (fuzz_pdus.py, seeded): the target must
# not crash or hang, must keep serving a well-behaved initiator, and must
# still shut down cleanly.
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
note "mutated PDUs (python initiator)"
out=$(run python3 -B "$(dirname "$0")/fuzz_pdus.py" "$PORT" "$DEMO_IQN" "${FUZZ_SEED:-2026}" \
	"${FUZZ_COUNT:-3000}")
echo "$out"
check_serving "after the mutated PDUs"
# fuzz_pdus.py's n-th session has the ISID 40 00 00 00 0f n: log in again
# with the last one's, which may still be finishing what it was sent.
sessions=$(sed -n 's/^fuzz: .* over \([0-9]*\) sessions .*/\1/p' <<< "$out")
[ -n "$sessions" ] || fail "fuzz_pdus.py did not say how many sessions it used"
check_liveness "after the mutated PDUs" iqn.2026-11.test:fuzz \
	"$(printf '400000000f%02x' $(((sessions - 1) & 0xff)))"
stop_uscstd
echo "fuzz_pdus: all checks passed"
