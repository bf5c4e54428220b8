#!/bin/bash
# Initiators that vanish mid-transfer (vanish.py): the target cleans up,
# writes nothing half-received, keeps serving, and still shuts down
# cleanly (under ASan: without leaking what the vanished sessions held).
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
note "initiators vanishing mid-transfer (python initiator)"
run python3 -B "$(dirname "$0")/vanish.py" "$PORT" "$DEMO_IQN"
check_alive "after the vanished initiators"
for _ in $(seq 50); do
	[ "$(grep -c 'closed' "$LOG")" -ge 4 ] && break
	sleep 0.1
done
grep -q "peer closed the connection" "$LOG" || fail "uscstd logged no vanished peer"
check_serving "after the vanished initiators"
stop_uscstd
echo "vanish: all checks passed"
