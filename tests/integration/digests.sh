#!/bin/bash
# Header and data digests with the parameters open-iscsi, VMware and
# Windows negotiate, and the target's answer to wrong digests (RFC 7143
# 7.8), driven by digests.py (our own initiator: libiscsi has no data
# digest).
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
note "digest variants and digest errors (python initiator)"
run python3 -B "$(dirname "$0")/digests.py" "$PORT" "$DEMO_IQN" "$INI1"
check_alive "after the digest errors"
grep -q "data digest error in Data-Out PDU" "$LOG" || fail "uscstd logged no data digest error"
stop_uscstd
echo "digests: all checks passed"
