#!/bin/bash
# ErrorRecoveryLevel 2 (issue 10; docs/iscsi_erl.md): connection recovery
# within a session, TASK REASSIGN after a connection failure or Logout
# reason 2, Time2Wait + Time2Retain, session continuation; driven by
# erl2.py (our own initiator); then the liveness checks.
. "$(dirname "$0")/lib.sh" "$@"

T2=iqn.2026-12.test:erl2
T0=iqn.2026-12.test:erl2-off
# One disk behind an ERL 2 target (erl2.py's times: 1 + 3 s) and an ERL
# 0 one (the default).
fileio_conf 16M d2 -- \
	target "$T2" d2 "ErrorRecoveryLevel 2" "MaxConnections 4" "MaxRecvDataSegmentLength 8192" \
		"DefaultTime2Wait 1" "DefaultTime2Retain 3" \
	target "$T0" d2
start_uscstd -c "$WORKDIR/scst.conf"
note "ERL 2: connection recovery and TASK REASSIGN (python initiator)"
run python3 -B "$(dirname "$0")/erl2.py" "$PORT" "$T2" "$USCSTD_PID" "$T0"
grep -q "kept for recovery" "$LOG" || fail "uscstd logged no connection kept for recovery"
grep -q "DefaultTime2Wait + DefaultTime2Retain passed" "$LOG" ||
	fail "uscstd logged no expiry of a kept connection"
LIVENESS_TARGET=$T2 check_liveness "after ERL 2 recovery" iqn.2026-12.test:erl2 800000003001
stop_uscstd
echo "erl2: all checks passed"
