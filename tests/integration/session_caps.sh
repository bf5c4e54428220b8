#!/bin/bash
# Session caps of a target: MaxSessions (SCST's attribute) and
# MaxSessionsPerInitiator refuse the next session with Out of resources
# (0x0302), logged; a reinstatement is no new session; after a logout a new
# login is served.
. "$(dirname "$0")/lib.sh" "$@"

IQN_MAX2=iqn.2026-11.test:max-sessions-2
IQN_PER_INI1=iqn.2026-11.test:per-initiator-1
truncate -s 16M "$WORKDIR/disk.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $IQN_MAX2 {
		enabled 1
		MaxSessions 2
		MaxSessionsPerInitiator 0
		LUN 0 disk0
	}
	TARGET $IQN_PER_INI1 {
		enabled 1
		MaxSessionsPerInitiator 1
		LUN 0 disk0
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/login_limits.py" sessions "$PORT" "$IQN_MAX2" "$IQN_PER_INI1"
grep -q 'no new session: the target has 2 sessions (MaxSessions 2)' "$LOG" ||
	fail "the MaxSessions refusal is not logged"
grep -q 'no new session: the initiator has 1 sessions on the target (MaxSessionsPerInitiator 1)' \
	"$LOG" || fail "the MaxSessionsPerInitiator refusal is not logged"
stop_uscstd

note "out-of-range caps are refused at start-up"
sed -i 's/MaxSessions 2$/MaxSessions 65536/' "$WORKDIR/scst.conf"
"$USCSTD" -c "$WORKDIR/scst.conf" --listen "127.0.0.1:$(free_port)" > "$WORKDIR/bad.log" 2>&1 &&
	fail "uscstd started with MaxSessions 65536"
grep -q 'MaxSessions' "$WORKDIR/bad.log" || fail "the error does not name MaxSessions"
echo "session_caps: all checks passed"
