#!/bin/bash
# QUEUE ALGORITHM MODIFIER through MODE SENSE and MODE SELECT, with the
# unit attention the other session gets (mode_qam.py, our python
# initiator: two sessions whose unit attentions the test sees one by one).
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
run python3 -B "$(dirname "$0")/mode_qam.py" "$PORT" "$DEMO_IQN" "$INI1"
check_serving "after the MODE SELECTs"
stop_uscstd
echo "mode_qam: all checks passed"
