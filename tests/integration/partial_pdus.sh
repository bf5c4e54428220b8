#!/bin/bash
# PDUs split at every kind of boundary and PDUs arriving in bulk, driven by
# partial_pdus.py (our own initiator, which can cut its writes anywhere).
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
note "dribbled and bulk PDUs (python initiator)"
run python3 -B "$(dirname "$0")/partial_pdus.py" "$PORT" "$DEMO_IQN"
check_alive "after dribbled and bulk PDUs"
stop_uscstd
echo "partial_pdus: all checks passed"
