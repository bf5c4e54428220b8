#!/bin/bash
# The connection closes while a command is in each of its states
# (disconnect_states.py: held behind a CmdSN gap, waiting for Data-Out, in
# the middle of immediate data or of its data digest, executing, with its
# responses unread, behind a Logout Request). Each state has its own LUN
# (1..7) and initiator; LUN 0 is for the liveness check, run for every
# state's initiator afterwards.
. "$(dirname "$0")/lib.sh" "$@"

{
	echo "HANDLER vdisk_fileio {"
	for i in 0 1 2 3 4 5 6 7; do
		truncate -s 64M "$WORKDIR/disk$i.img"
		echo "	DEVICE disk$i {"
		echo "		filename $WORKDIR/disk$i.img"
		# State e (LUN 5): WRITEs that take a while to execute.
		[ "$i" = 5 ] && echo "		write_through 1"
		echo "	}"
	done
	echo "}"
	echo "TARGET_DRIVER iscsi {"
	echo "	TARGET $DEMO_IQN {"
	echo "		enabled 1"
	for i in 0 1 2 3 4 5 6 7; do
		echo "		LUN $i disk$i"
	done
	echo "	}"
	echo "}"
} > "$WORKDIR/scst.conf"

start_uscstd --threads 2 -c "$WORKDIR/scst.conf"
note "the connection closes in each command state (python initiator)"
run python3 -B "$(dirname "$0")/disconnect_states.py" "$PORT" "$DEMO_IQN" "$USCSTD_PID"
check_alive "after the disconnects"
for state in a b c d e f g; do
	n=$(( $(printf '%d' "'$state") - 96 ))
	check_liveness "after the disconnect in state $state" "iqn.2026-11.test:disc-$state" \
		"$(printf '80000000e0%02x' "$n")" || fail "liveness after state $state"
done
stop_uscstd
echo "disconnect_states: all checks passed"
