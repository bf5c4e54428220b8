#!/bin/bash
# The log lines an administrator greps for (issue 8, Observability:
# Logging; docs/logging.md lists them): each kind of event, provoked here,
# is one line starting with its kind's word, naming the initiator, the
# target, the LUN and the device:
#   session: open / close        a session begins / ends
#   login: refused               a login fails, whatever refused it
#   tmf:                         each task management function
#   pr:                          each PERSISTENT RESERVE OUT that changed something
#   reserve:                     RESERVE / RELEASE, and a release by a logout
#   lun:                         a LUN a session gained or lost
#   config:                      a reload (SIGHUP): begun, each change, applied
#                                or refused
#   mgmt:                        a change through the management socket
# and 200 READs add no line at all.
. "$(dirname "$0")/lib.sh" "$@"

TGT=iqn.2026-12.test:admin
INI=iqn.2026-12.test:admin-host
EV=$LIB_DIR/admin_events.py

write_conf() { # LUN1_DEVICE LUN2_DEVICE (empty: no such LUN)
	cat <<CONF
HANDLER vdisk_nullio {
	DEVICE pr0 {
		size_mb 16
	}
	DEVICE res0 {
		size_mb 16
	}
	DEVICE extra0 {
		size_mb 16
	}
}
TARGET_DRIVER iscsi {
	TARGET $TGT {
		enabled 1
		LUN 0 pr0
${1:+		LUN 1 $1}
${2:+		LUN 2 $2}
	}
}
CONF
}

# expect KIND REGEX: exactly one line of the log matches the extended
# REGEX, and it starts (after the time stamp and level) with "KIND: ".
# Prints it.
expect() {
	local kind=$1 re=$2 lines n

	lines=$(grep -E -- "^[0-9:.]+ uscstd [a-z]+: $kind: $re" "$LOG")
	n=$(grep -c . <<< "$lines")
	[ "$n" = 1 ] || {
		echo "----- the log's '$kind:' lines -----" >&2
		grep -E -- " $kind: " "$LOG" >&2
		fail "$n lines match '$kind: $re', expected 1"
	}
	echo "$lines" | sed 's/^[0-9:.]* uscstd //'
}

write_conf res0 "" > "$WORKDIR/scst.conf"
start_uscstd -c "$WORKDIR/scst.conf"

note "one session: task management, reservations, 200 READs, logout"
out=$(run python3 -B "$EV" events "$PORT" "$TGT" "$INI" "$LOG")
echo "$out"
sleep 0.3
expect session "open $INI -> $TGT: 2 LUN\\(s\\)\$"
expect tmf "LOGICAL UNIT RESET from $INI -> $TGT, LUN 0 \\(pr0\\)\$"
expect tmf "ABORT TASK from $INI -> $TGT, LUN 0 \\(pr0\\), tag 0x7777: no such task\$"
expect tmf "ABORT TASK SET from $INI -> $TGT, LUN 1 \\(res0\\)\$"
expect pr "REGISTER by $INI -> $TGT, LUN 0 \\(pr0\\): generation 1, 1 registered, not reserved\$"
expect pr "RESERVE by $INI -> $TGT, LUN 0 \\(pr0\\): generation 1, 1 registered, reserved \\(WE\\)\$"
expect pr "RELEASE by $INI -> $TGT, LUN 0 \\(pr0\\): generation 1, 1 registered, not reserved\$"
n=$(grep -c ' pr: ' "$LOG")
[ "$n" = 3 ] || fail "$n 'pr:' lines for 3 changes and a RELEASE that changed nothing"
[ "$(grep -c " reserve: RESERVE by $INI -> $TGT, LUN 1 (res0)\$" "$LOG")" = 2 ] ||
	fail "not two 'reserve: RESERVE' lines for the two RESERVE(6)s"
expect reserve "RELEASE by $INI -> $TGT, LUN 1 \\(res0\\)\$"
expect reserve "released res0, held by $INI -> $TGT \\(.*\\)\$"
expect session "close $INI -> $TGT\$"

note "a refused login"
run python3 -B "$LIB_DIR/log_refused_logins.py" "$PORT" 1
sleep 0.2
expect login "refused 127\\.0\\.0\\.1:[0-9]+ \\(iqn\\.2026-11\\.test:syslog\\): login failed with status 0x0203 \\(not found\\); target iqn\\.2026-11\\.test:no-such-target: unknown target\$"

note "a LUN added through the management socket under a session: mgmt and lun lines"
python3 -B "$EV" hold "$PORT" "$TGT" "$INI" 4 > "$WORKDIR/hold.out" 2>&1 &
hold_pid=$!
for _ in $(seq 50); do grep -q 'logged in' "$WORKDIR/hold.out" && break; sleep 0.1; done
grep -q 'logged in' "$WORKDIR/hold.out" || fail "the holding session did not log in"
out=$(run python3 -c 'import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "lun.add", "params":
	{"driver": "iscsi", "target": sys.argv[2], "lun": 3, "device": "res0"}}).encode() + b"\n")
print(s.makefile().readline().strip())' "$RPC_SOCKET" "$TGT")
echo "$out"
grep -q '"result"' <<< "$out" || fail "lun.add failed: $out"
sleep 0.2
expect mgmt "lun\\.add .*$TGT.* lun 3 device res0\$"
expect lun "$INI -> $TGT: LUN 3 \\(res0\\) added\$"

note "a reload under the session: LUNs 1 and 3 go, LUN 2 comes; config lines"
write_conf "" extra0 > "$WORKDIR/scst.conf"
kill -HUP "$USCSTD_PID"
for _ in $(seq 50); do grep -q 'reload of .* done' "$LOG" && break; sleep 0.1; done
expect lun "$INI -> $TGT: LUN 1 \\(res0\\) removed\$"
expect lun "$INI -> $TGT: LUN 2 \\(extra0\\) added\$"
expect lun "$INI -> $TGT: now sees 2 LUN\\(s\\), group \\(default\\)\$"
expect config "$WORKDIR/scst.conf: remove TARGET_DRIVER iscsi / TARGET $TGT / LUN 1\$"
expect config "$WORKDIR/scst.conf: add TARGET_DRIVER iscsi / TARGET $TGT / LUN 2 extra0\$"
# The reload's own lines: uscstd.c's.
expect config "SIGHUP: reloading $WORKDIR/scst.conf\$"
expect config "reload of $WORKDIR/scst.conf done\$"
echo "HANDLER vdisk_nullio {" > "$WORKDIR/scst.conf"
kill -HUP "$USCSTD_PID"
for _ in $(seq 50); do grep -q 'reload refused' "$LOG" && break; sleep 0.1; done
expect config "reload refused, nothing changed: $WORKDIR/scst\\.conf:1: .*\$"
wait "$hold_pid" || { cat "$WORKDIR/hold.out"; fail "the holding session failed"; }
stop_uscstd
