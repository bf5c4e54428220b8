#!/bin/bash
# Initiators that vanish mid-transfer (vanish.py): the target cleans up,
# writes nothing half-received, keeps serving, and still shuts down
# cleanly (under ASan: without leaking what the vanished sessions held).
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd
note "initiators vanishing mid-transfer (python initiator)"
out=$(run python3 -B "$(dirname "$0")/vanish.py" "$PORT" "$DEMO_IQN")
echo "$out"
check_alive "after the vanished initiators"
# The session that vanished in the middle of its immediate data.
isid=$(sed -n 's/^vanished in the middle of an immediate data segment .*ISID \([0-9a-f]*\).*/\1/p' \
	<<< "$out")
[ -n "$isid" ] || fail "vanish.py did not name the ISID of its immediate-data session"
for _ in $(seq 50); do
	[ "$(grep -c 'closed' "$LOG")" -ge 4 ] && break
	sleep 0.1
done
grep -q "peer closed the connection" "$LOG" || fail "uscstd logged no vanished peer"
check_serving "after the vanished initiators"
check_liveness "after the vanished initiators" iqn.2026-11.test:vanish "$isid"
stop_uscstd
echo "vanish: all checks passed"
