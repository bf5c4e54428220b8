#!/bin/bash
# A CDB that needs Data-Out sent without the Data-Out direction is refused,
# not executed as a zero-length command (direction.py).
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
note "direction mismatches (python initiator)"
run python3 -B "$(dirname "$0")/direction.py" "$PORT" "$DEMO_IQN"
check_liveness "after the direction mismatches" iqn.2026-11.test:direction 400000000031
stop_uscstd
echo "direction: all checks passed"
