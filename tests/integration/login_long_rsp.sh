#!/bin/bash
# A Login Response never exceeds the initiator's MaxRecvDataSegmentLength
# (8192 during login): a ~30 KB answer (hundreds of vendor keys, each
# NotUnderstood) goes out in C-bit pieces, each asked for with an empty
# Login Request (RFC 7143 11.13).
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
run python3 -B "$(dirname "$0")/login_limits.py" longrsp "$PORT" "$DEMO_IQN"
check_serving "after the long login"
stop_uscstd
echo "login_long_rsp: all checks passed"
