#!/bin/bash
# The iSNS client (issue 10, section 3; docs/isns.md), against Debian's
# isnsd (open-isns-server) on a private port and state directory, checked
# with isnsadm (open-isns-utils):
#  1. registration: the entity, both portals (127.0.0.1 and ::1), both
#     targets with the alias, a portal group per target and portal with
#     the tag SendTargets reports (the default 1, and $T2's
#     TargetPortalGroupTag 5);
#  2. a target disabled is gone from the server and back when enabled;
#  3. isns_access_control 1 with two discovery domains: SendTargets
#     (libiscsi's iscsi-ls) lists only the initiator's domain's target, a
#     login to the other is refused (iscsi_client.py); a domain changed on
#     the server reaches the target through an SCN within seconds (the
#     periodic refresh is 30 s);
#  4. isnsd restarted with an empty database: registered again;
#  5. SIGTERM: deregistered (isnsadm lists nothing of ours), exit 0;
#  6. a server that accepts and never answers, and one that answers
#     garbage (isns_fake.py): uscstd logs why, keeps serving I/O
#     (check_liveness) and stops in time.
#
#   isns.sh USCSTD USCSTADMIN
. "$(dirname "$0")/lib.sh" "$1"
use_uscstadmin "${2:?usage: $0 USCSTD USCSTADMIN}"

for tool in isnsd isnsadm iscsi-ls; do
	command -v "$tool" > /dev/null ||
		fail "$tool is missing: install open-isns-server open-isns-utils libiscsi-bin (make deps-test)"
done

T1=iqn.2026-12.test:isns-one
T2=iqn.2026-12.test:isns-two
I1=iqn.2026-12.test:isns-ini1
I2=iqn.2026-12.test:isns-ini2
I3=iqn.2026-12.test:isns-nodd
ISNS_DIR=$WORKDIR/isns
ISNS_PORT=$(free_port)
ISNSD_PID=
FAKE_PID=
mkdir -p "$ISNS_DIR/db"

# Our isnsd and fake servers go with the test, whatever ends it.
stop_servers() {
	[ -n "$ISNSD_PID" ] && kill "$ISNSD_PID" 2>/dev/null && wait "$ISNSD_PID" 2>/dev/null
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
	ISNSD_PID= FAKE_PID=
	return 0
}
trap 'rc=$?; stop_servers; (exit $rc); cleanup' EXIT

cat > "$ISNS_DIR/isnsd.conf" <<CONF
SourceName = iqn.2026-12.test:isnsd
PIDFile = $ISNS_DIR/isnsd.pid
Database = $ISNS_DIR/db
Security = 0
DefaultDiscoveryDomain = 0
SLPRegister = 0
RegistrationPeriod = 10m
ESIRetries = 3
CONF
cat > "$ISNS_DIR/isnsadm.conf" <<CONF
ServerAddress = 127.0.0.1:$ISNS_PORT
SourceName = iqn.2026-12.test:isnsadm
# --local speaks as this control node (start_isnsd registers it), which
# sees every discovery domain.
Control.SourceName = iqn.2026-12.test:control
Security = 0
ControlSocket = $ISNS_DIR/isnsctl
CONF
ISNSADM=(isnsadm -c "$ISNS_DIR/isnsadm.conf" --local)

# start_isnsd: isnsd on 127.0.0.1:$ISNS_PORT with an empty database, and
# the control node isnsadm --local needs to list everything.
start_isnsd() {
	[ "${1:-}" = keep ] || { rm -rf "$ISNS_DIR/db" && mkdir -p "$ISNS_DIR/db"; }
	python3 "$LIB_DIR/isnsd_launch.py" "$ISNS_PORT" "$ISNS_DIR/isnsctl" \
		isnsd -f -d scn -c "$ISNS_DIR/isnsd.conf" >> "$ISNS_DIR/isnsd.log" 2>&1 &
	ISNSD_PID=$!
	for _ in $(seq 50); do
		port_open "$ISNS_PORT" && break
		sleep 0.1
	done
	port_open "$ISNS_PORT" || fail "isnsd did not listen on 127.0.0.1:$ISNS_PORT"
	[ "${1:-}" = keep ] ||
		run "${ISNSADM[@]}" --register control=iqn.2026-12.test:control > /dev/null
	note "isnsd pid $ISNSD_PID on 127.0.0.1:$ISNS_PORT"
}

stop_isnsd() {
	kill "$ISNSD_PID" && wait "$ISNSD_PID" 2>/dev/null
	ISNSD_PID=
}

list() {
	run "${ISNSADM[@]}" --list "$@" 2>/dev/null
}

# wait_for WHAT SECONDS CMD...: until CMD succeeds, or fail.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for i in $(seq $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	fail "$what: not within $secs s"
}

node_listed() { list nodes | grep -qF "iSCSI name = \"$1\""; }
node_gone() { ! node_listed "$1"; }
node_index() {
	list nodes | grep -A3 -F "iSCSI name = \"$1\"" | sed -n 's/.*iSCSI node index = //p'
}
# scn_events KIND: how many SCNs isnsd has sent out about a storage node
# being KIND (added, removed) so far (its "-d scn" log).
scn_events() {
	grep -c "SCN multicast <iSCSI Storage Node [0-9]*,.*$1" "$ISNS_DIR/isnsd.log"
}
# ls_sees INITIATOR "TARGETS...": SendTargets lists exactly these.
# dd_register ARGS...: isnsadm --dd-register, tried up to 3 times.
# Debian 12's isnsd (open-isns 0.101) now and then dies of a segmentation
# fault while it sends the SCNs of a domain change (its log ends at "SCN:
# transmit pending message for ..."; about one run in three on this
# machine). That is the server's bug, not the target's: isnsd is started
# again on its database, and the change tried again once uscstd is
# registered again. Anything else that fails is the test's failure.
dd_register() {
	local out i
	for i in 1 2 3; do
		out=$(timeout -k 5 "$CMD_TIMEOUT" "${ISNSADM[@]}" --dd-register "$@" 2>&1) && return 0
		if ! kill -0 "$ISNSD_PID" 2>/dev/null; then
			wait "$ISNSD_PID" 2>/dev/null
			ISNSD_CRASHED=1
			note "isnsd died during the domain change (its log: $(tail -n 1 "$ISNS_DIR/isnsd.log")); started again on its database"
			start_isnsd keep
			wait_for "registered again after isnsd's crash" 15 eval 'node_listed $T1 && node_listed $T2'
		fi
		sleep 1
	done
	tail -n 20 "$ISNS_DIR/isnsd.log" >&2
	fail "isnsadm --dd-register $* failed 3 times (isnsd's log above): $out"
}

ls_sees() {
	local got
	got=$(timeout -k 5 "$CMD_TIMEOUT" iscsi-ls -i "$1" "iscsi://127.0.0.1:$PORT" 2>&1 |
		sed -n 's/^Target:\([^ ]*\) .*/\1/p' | sort | paste -sd ' ' -)
	[ "$got" = "$2" ]
}

write_conf() {
	cat <<CONF
HANDLER vdisk_nullio {
	DEVICE isns1 {
		size_mb 16
	}
	DEVICE isns2 {
		size_mb 16
	}
}
TARGET_DRIVER iscsi {
	iSNSServer $1
	TARGET $T1 {
		enabled 1
		TargetAlias isns-first
		LUN 0 isns1
	}
	TARGET $T2 {
		enabled 1
		TargetPortalGroupTag 5
		LUN 0 isns2
	}
}
CONF
}

export LIVENESS_TARGET=$T1

# ---- 0. a bad iSNSServer is refused, naming the file, line and attribute
for v in "bad:port:x" "127.0.0.1:0" "127.0.0.1:65536" "[::1" "[::1]x" "host_name" "1.2.3.4:"; do
	printf 'TARGET_DRIVER iscsi {\n\tiSNSServer %s\n}\n' "$v" > "$WORKDIR/bad.conf"
	out=$(timeout 10 "$USCSTD" -c "$WORKDIR/bad.conf" --listen "127.0.0.1:$(free_port)" \
		--rpc-socket none --state-dir "$WORKDIR" 2>&1)
	rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "iSNSServer '$v' was accepted (status $rc)"
	grep -qF "bad.conf:2: target driver iscsi: iSNSServer: '$v' is not ADDR" <<< "$out" ||
		fail "iSNSServer '$v': refused without the reason: $out"
done
note "bad iSNSServer values refused with file, line and reason"

# ---- 1. registration
start_isnsd
write_conf "127.0.0.1:$ISNS_PORT" > "$WORKDIR/scst.conf"
EXTRA_PORTAL_HOSTS="[::1]" start_uscstd -c "$WORKDIR/scst.conf"
wait_for "both targets registered" 10 eval 'node_listed $T1 && node_listed $T2'
# The first registration already has the portals (they open after the
# configuration is loaded: the client waits for them).
out=$(list entities)
grep -q 'Entity identifier = "uscst:' <<< "$out" || fail "no uscst entity: $out"
out=$(list nodes)
grep -A3 -F "\"$T1\"" <<< "$out" | grep -q 'iSCSI alias = "isns-first"' ||
	fail "$T1 registered without its alias: $out"
[ "$(grep -c 'iSCSI node type = Target' <<< "$out")" = 2 ] || fail "not 2 target nodes: $out"
out=$(list portals)
for a in 127.0.0.1 ::1; do
	grep -A1 "Portal IP address = $a\$" <<< "$out" | grep -q "port = $PORT/tcp" ||
		fail "portal $a:$PORT not registered: $out"
done
out=$(list portal-groups)
for tt in "$T1 1" "$T2 5"; do
	read -r t tag <<< "$tt"
	for a in 127.0.0.1 ::1; do
		grep -A3 -F "Portal group name = \"$t\"" <<< "$out" |
			grep -A2 "address = $a\$" | grep -q "Portal group tag = $tag\$" ||
			fail "no portal group $t / $a with tag $tag: $out"
	done
done
note "registered: entity, portals 127.0.0.1 and ::1:$PORT, $T1 (alias) and $T2, 4 portal groups ($T2's TargetPortalGroupTag 5)"

# ---- 2. disable / enable: only that target goes and comes back (the
# other keeps its node index: it was not re-registered), and isnsd sends
# the state change notifications for it.
t1_index=$(node_index "$T1")
[ -n "$t1_index" ] || fail "no node index for $T1"
removed=$(scn_events removed) added=$(scn_events added)
admin -disable_target "$T2" -driver iscsi
wait_for "$T2 gone after disable" 10 node_gone "$T2"
wait_for "an SCN for $T2's removal" 5 eval '[ "$(scn_events removed)" -gt "$removed" ]'
admin -enable_target "$T2" -driver iscsi
wait_for "$T2 back after enable" 10 node_listed "$T2"
wait_for "an SCN for $T2's return" 5 eval '[ "$(scn_events added)" -gt "$added" ]'
[ "$(list portal-groups | grep -cF "Portal group name = \"$T2\"")" = 2 ] ||
	fail "$T2 back without its 2 portal groups"
[ "$(node_index "$T1")" = "$t1_index" ] ||
	fail "$T1 was registered again (index $t1_index -> $(node_index "$T1")) for $T2's change"
grep -q "iSNS: updated entity .* 1 target(s) deregistered, 0 registered, 1 in all" "$LOG" ||
	fail "the disable was not an update of one target"
note "disabled $T2: gone from isnsd (SCN removed); enabled: back (SCN added); $T1 untouched"

# ---- 3. access control by discovery domains
run "${ISNSADM[@]}" --register entity=isns-host1 initiator=$I1 > /dev/null
run "${ISNSADM[@]}" --register entity=isns-host2 initiator=$I2 > /dev/null
run "${ISNSADM[@]}" --register entity=isns-host3 initiator=$I3 > /dev/null
dd_register dd-name=dd-one member-name=$T1 member-name=$I1
dd_register dd-name=dd-two member-name=$T2 member-name=$I2
ls_sees "$I1" "$T1 $T2" || fail "access control off: $I1 does not see both targets"
admin -set_drv_attr iscsi -attributes isns_access_control=1
out=$(run "$USCSTADMIN" --rpc-socket "$RPC_SOCKET" -list_drv_attr iscsi)
grep -Eq "^[[:space:]]*iSNSServer[[:space:]]+127\.0\.0\.1:$ISNS_PORT[[:space:]]" <<< "$out" &&
	grep -Eq '^[[:space:]]*isns_access_control[[:space:]]+1[[:space:]]' <<< "$out" ||
	fail "uscstadmin -list_drv_attr iscsi does not show the iSNS attributes: $out"
wait_for "$I1 sees only $T1" 10 ls_sees "$I1" "$T1"
ls_sees "$I2" "$T2" || fail "$I2 does not see exactly $T2"
ls_sees "$I3" "" || fail "$I3, in no discovery domain, sees a target"
note "SendTargets: $I1 sees $T1 only, $I2 $T2 only, $I3 nothing"

login_status() {
	timeout -k 5 "$CMD_TIMEOUT" python3 -B - "$PORT" "$1" "$2" <<'PY'
import os
import sys
sys.path.insert(0, os.environ["LIB_DIR"])
import iscsi_client as ic
port, ini, tgt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = ic.Session(port)
try:
    s.login(ini, tgt, bytes.fromhex("400000000001"), [])
    print("0x0000")
    s.logout()
except ic.LoginRejected as e:
    print("0x%04x" % e.status)
PY
}
export LIB_DIR
refused=$(login_status "$I1" "$T2")
# Class 2, initiator error: authorization failure (0x0202), not
# authentication failure (0x0201): the initiator is who it says it is.
case $refused in
0x0202) ;;
*) fail "login of $I1 to $T2 (not in its discovery domain): status $refused, want 0x0202" ;;
esac
grep -q "login to target $T2 refused: isns_access_control: initiator $I1 shares no iSNS" "$LOG" ||
	fail "the refused login's log line does not say why"
st=$(login_status "$I1" "$T1")
[ "$st" = 0x0000 ] || fail "login of $I1 to $T1 (same domain) failed with status $st"
note "login $I1 -> $T2 refused ($refused), $I1 -> $T1 accepted"

# A domain change on the server: its SCN makes the target ask again.
scns=$(grep -c 'iSNS: SCN from' "$LOG")
dd_register dd-id=2 member-name=$I1
wait_for "$I1 sees $T2 after joining dd-two" 5 ls_sees "$I1" "$T1 $T2"
if [ -n "${ISNSD_CRASHED:-}" ]; then
	# The crash took the SCN with it: the target learnt the change when
	# it registered again.
	note "$I1 joined dd-two on the server: it sees both targets (isnsd crashed: no SCN to check)"
else
	[ "$(grep -c 'iSNS: SCN from' "$LOG")" -gt "$scns" ] || fail "no SCN logged for the domain change"
	note "$I1 joined dd-two on the server: an SCN, and it sees both targets within 5 s"
fi

# ---- 4. the server restarts with an empty database
admin -set_drv_attr iscsi -attributes isns_access_control=0
regs=$(grep -c 'iSNS: registered entity' "$LOG")
stop_isnsd
start_isnsd
wait_for "registered again after the server's restart" 15 eval 'node_listed $T1 && node_listed $T2'
[ "$(grep -c 'iSNS: registered entity' "$LOG")" -gt "$regs" ] || fail "no new registration logged"
list portal-groups | grep -qF "\"$T2\"" || fail "portal groups not registered again"
note "isnsd restarted empty: uscstd registered again"

check_liveness "iSNS registered" "$INI1" 400000000011

# ---- 5. SIGTERM: deregistered
stop_uscstd
grep -q 'iSNS: deregistered entity' "$LOG" || fail "no deregistration logged"
out=$(list nodes; list portals; list entities)
grep -q -e "$T1" -e "$T2" -e "port = $PORT/tcp" -e 'uscst:' <<< "$out" &&
	fail "still registered after SIGTERM: $out"
note "after SIGTERM isnsd lists nothing of ours"
stop_isnsd

# ---- 6. hostile servers
for mode in silent garbage; do
	python3 -B "$LIB_DIR/isns_fake.py" "$mode" "$ISNS_PORT" > "$ISNS_DIR/fake-$mode.log" 2>&1 &
	FAKE_PID=$!
	wait_for "the $mode server listening" 5 port_open "$ISNS_PORT"
	: > "$ISNS_DIR/fake-$mode.log"
	write_conf "127.0.0.1:$ISNS_PORT" > "$WORKDIR/scst.conf"
	start=$(wc -l < "$LOG")
	EXTRA_PORTAL_HOSTS="[::1]" start_uscstd -c "$WORKDIR/scst.conf"
	# I/O goes on while the client waits or reads garbage.
	for _ in 1 2 3 4; do
		run iscsi-inq -i "$INI1" "iscsi://127.0.0.1:$PORT/$T1/0" > /dev/null
		sleep 2
	done
	conns=$(tail -n 1 "$ISNS_DIR/fake-$mode.log" | awk '{ print $2 }')
	if [ "$mode" = silent ]; then
		tail -n +"$start" "$LOG" | grep -q 'bad answer to DevAttrReg (no answer within the timeout)' ||
			fail "silent server: no timeout logged"
	else
		# Each malformed answer drops the connection; the client comes
		# back (back-off 1, 2, 4 s) and logs each reason.
		[ "${conns:-0}" -ge 3 ] || fail "garbage server: only ${conns:-0} connection(s) in 8 s"
		n=$(tail -n +"$start" "$LOG" | grep -c 'bad answer to')
		[ "$n" -ge 3 ] || fail "garbage server: $n bad answers logged, want 3 or more"
		tail -n +"$start" "$LOG" | grep 'bad answer' | sed 's/^.*(\(.*\)).*$/  reason: \1/' | sort -u
	fi
	[ "$mode" = silent ] && grep -q 'iSNS: registered' <(tail -n +"$start" "$LOG") &&
		fail "silent server: registered?"
	check_liveness "iSNS server $mode" "$INI1" 400000000012
	stop_uscstd
	kill "$FAKE_PID" && wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=
	note "$mode iSNS server ($conns connection(s)): I/O served, stopped with exit 0"
done
echo "PASS: isns"
