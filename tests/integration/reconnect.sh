#!/bin/bash
# Session reinstatement: logging in again with the same InitiatorName and
# ISID replaces the old session (reconnect.py, our python initiator:
# libiscsi cannot keep an old connection around while it logs in again).
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
note "session reinstatement with a write in progress"
run python3 -B "$(dirname "$0")/reconnect.py" "$PORT" "$DEMO_IQN" "$INI1"
check_alive "after the reinstatement"
# The new session may start only once the old one, commands and all, is
# gone (RFC 7143 6.3.5): its login waited for it.
grep -q "login waits for 1 older session" "$LOG" ||
	fail "the reinstating login did not wait for the old session"
stop_uscstd
echo "reconnect: all checks passed"
