#!/bin/bash
# ErrorRecoveryLevel 1 (issue 10; docs/iscsi_erl.md): SNACK of every type,
# DataACK, recovery R2T and the bound on unacknowledged responses, driven
# by erl1.py (our own initiator: libiscsi and open-iscsi stop at ERL 0);
# then the liveness checks on the ERL 1 target.
. "$(dirname "$0")/lib.sh" "$@"

T1=iqn.2026-12.test:erl1
T0=iqn.2026-12.test:erl0
# One disk behind an ERL 1 target and an ERL 0 one (the default).
fileio_conf 16M d1 -- \
	target "$T1" d1 "ErrorRecoveryLevel 1" "MaxRecvDataSegmentLength 8192" \
	target "$T0" d1
start_uscstd -c "$WORKDIR/scst.conf"
note "ERL 1: SNACK, DataACK, recovery R2T (python initiator)"
run python3 -B "$(dirname "$0")/erl1.py" "$PORT" "$T1" "$T0" "$INI1"
grep -q "recovery R2T" "$LOG" || fail "uscstd logged no recovery R2T"
grep -q "responses unacknowledged" "$LOG" || fail "uscstd did not log the unacknowledged responses"
LIVENESS_TARGET=$T1 check_liveness "after ERL 1 recovery" "$INI1" 400000000002
stop_uscstd
echo "erl1: all checks passed"
