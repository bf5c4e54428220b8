#!/bin/bash
# A client that does not read: 48 READs of 8 MiB and 256 KiB NOP-Out
# pings whose answers it never collects (unread_responses.py, which
# prints uscstd's RSS growth and holds it to a bound); after it
# disconnects, the liveness check.
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd --threads 2
note "responses and ping data never read (python initiator)"
run python3 -B "$(dirname "$0")/unread_responses.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID"
check_alive "after the unread responses"
check_liveness "after the unread READs" iqn.2026-11.test:unread 80000000f001 ||
	fail "liveness after the unread READs"
check_liveness "after the unread pings" iqn.2026-11.test:unread 80000000f002 ||
	fail "liveness after the unread pings"
stop_uscstd
echo "unread_responses: all checks passed"
