#!/bin/bash
# ALUA (issue 7): two targets export one device, each in its own target
# port group of one device group. alua.py checks, on the wire: INQUIRY's
# TPGS and VPD page 0x83's designators per port, REPORT TARGET PORT GROUPS
# in both formats, every state's refusals and sense, SET TARGET PORT GROUPS
# (through the on_stpg hook below, which records its arguments and whose
# exit status decides), bad STPG parameter lists (exact sense, nothing
# changed), the ASYMMETRIC ACCESS STATE CHANGED unit attentions on exactly
# the nexuses whose port changed, after STPG and after SIGHUP reloads, and
# a transition that ends after implicit_transition_time. Then a refused
# reload changes nothing, and the liveness check.
. "$(dirname "$0")/lib.sh" "$@"

TA=iqn.2026-12.test:alua-a
TB=iqn.2026-12.test:alua-b
truncate -s 16M "$WORKDIR/disk0.img"

# The hook: records its arguments and environment, sleeps for the seconds
# in hook_sleep, exits with the number in hook_exit (0 when there is none).
cat > "$WORKDIR/on_stpg" <<'HOOK'
#!/bin/sh
dir=$(dirname "$0")
{
	echo "args: $*"
	echo "initiator: $USCST_STPG_INITIATOR"
	echo "target: $USCST_STPG_TARGET"
	echo "rel_tgt_id: $USCST_STPG_REL_TGT_ID"
	echo "device: $USCST_STPG_DEVICE"
	echo "previous: $USCST_STPG_PREVIOUS"
} >> "$dir/on_stpg.log"
[ -f "$dir/hook_sleep" ] && sleep "$(cat "$dir/hook_sleep")"
[ -f "$dir/hook_exit" ] && exit "$(cat "$dir/hook_exit")"
exit 0
HOOK
chmod +x "$WORKDIR/on_stpg"

# write_conf TPGS STATE_A STATE_B [EXTRA]: the configuration.
write_conf() {
	cat <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk0.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $TA {
		rel_tgt_id 1
		enabled 1
		LUN 0 disk0
	}
	TARGET $TB {
		rel_tgt_id 2
		enabled 1
		LUN 0 disk0
	}
}
DEVICE_GROUP dg {
	tpgs $1
	implicit_transition_time 2
	on_stpg $WORKDIR/on_stpg
	DEVICE disk0
	TARGET_GROUP ga {
		group_id 1
		state $2
		preferred 1
		TARGET $TA
	}
	TARGET_GROUP gb {
		group_id 2
		state $3
		TARGET $TB
		${4:-}
	}
}
CONF
}
write_conf both active standby > "$WORKDIR/scst.conf"
cp "$WORKDIR/scst.conf" "$WORKDIR/scst.conf.orig"
for s in unavailable offline transitioning; do
	write_conf both "$s" standby > "$WORKDIR/scst_$s.conf"
done
write_conf implicit offline standby > "$WORKDIR/scst_implicit.conf"
# A port of another node (SCST's remote target) needs its rel_tgt_id.
write_conf both active standby "TARGET iqn.2026-12.test:remote { rel_tgt_id 7 }" \
	> "$WORKDIR/scst_remote.conf"

start_uscstd -c "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/alua.py" "$PORT" "$USCSTD_PID" "$LOG" "$WORKDIR" \
	"$TA" "$TB" "$INI1" "$INI2"

note "a refused reload changes nothing"
cp "$WORKDIR/scst.conf" "$WORKDIR/scst.conf.good"
bad_reload() {
	local want=$1
	kill -HUP "$USCSTD_PID"
	for _ in $(seq 50); do
		grep -qF "$want" "$LOG" && return 0
		sleep 0.1
	done
	fail "no '$want' in the log after a bad reload"
}
write_conf both active bogus > "$WORKDIR/scst.conf"
bad_reload "state: 'bogus' is not one of active, nonoptimized, standby, unavailable, offline, transitioning"
write_conf both active standby "TARGET iqn.2026-12.test:nowhere" > "$WORKDIR/scst.conf"
bad_reload "target 'iqn.2026-12.test:nowhere' is not a target of this node: rel_tgt_id is needed"
sed 's/group_id 2/group_id 1/' "$WORKDIR/scst.conf.good" > "$WORKDIR/scst.conf"
bad_reload "group_id 1 is already that of target group 'ga'"
sed "s|TARGET $TB\$|TARGET $TA|" "$WORKDIR/scst.conf.good" > "$WORKDIR/scst.conf"
bad_reload "target '$TA' is already in target group 'ga'"
sed 's/DEVICE disk0$/DEVICE nodisk/' "$WORKDIR/scst.conf.good" > "$WORKDIR/scst.conf"
bad_reload "device group 'dg': no device 'nodisk' in the file"
{ cat "$WORKDIR/scst.conf.good"; printf 'DEVICE_GROUP dg2 {\n\tDEVICE disk0\n}\n'; } \
	> "$WORKDIR/scst.conf"
bad_reload "device 'disk0' is already in device group 'dg'"
sed 's/preferred 1/colour red/' "$WORKDIR/scst.conf.good" > "$WORKDIR/scst.conf"
bad_reload "unknown attribute 'colour' for TARGET_GROUP 'ga'"
sed '/group_id 2/d' "$WORKDIR/scst.conf.good" > "$WORKDIR/scst.conf"
bad_reload "target group 'gb': TARGET_GROUP needs a group_id attribute"
sed 's|on_stpg .*|on_stpg relative/path|' "$WORKDIR/scst.conf.good" > "$WORKDIR/scst.conf"
bad_reload "on_stpg 'relative/path' is not an absolute path"
sed 's/implicit_transition_time 2/implicit_transition_time 300/' "$WORKDIR/scst.conf.good" \
	> "$WORKDIR/scst.conf"
bad_reload "device group 'dg': implicit_transition_time: '300' is not in 0..255"
grep -q "scst.conf:[0-9]*: " "$LOG" || fail "the refusals do not name the file and line"
# Allowed, but said: a target exporting disk0 outside every target group.
sed "s|^\t\tTARGET $TB\$||" "$WORKDIR/scst.conf.good" > "$WORKDIR/scst.conf"
kill -HUP "$USCSTD_PID"
for _ in $(seq 50); do
	grep -q "target $TB exports device disk0 of device group dg but is in none" "$LOG" && break
	sleep 0.1
done
grep -q "target $TB exports device disk0 of device group dg but is in none" "$LOG" ||
	fail "no warning about $TB outside every target group"

cp "$WORKDIR/scst.conf.good" "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/alua.py" "$PORT" "$USCSTD_PID" "$LOG" "$WORKDIR" \
	"$TA" "$TB" "$INI1" "$INI2" --states-only active standby

# libiscsi's own RTPG tests (test_rtpg_*.c), through the active port (its
# connect needs TEST UNIT READY to pass). Debian 12's libiscsi 1.19 has
# none; ISCSI_TEST_CU may name a newer iscsi-test-cu. Without PREF: its
# struct scsi_target_port_group declares byte 0's bit fields most
# significant first, which GCC on x86 lays out the other way, so it takes
# PREF (bit 7) for part of the state and refuses the descriptor.
TEST_CU=${ISCSI_TEST_CU:-iscsi-test-cu}
if "$TEST_CU" --list 2>/dev/null | grep -qx 'SCSI.ReportTargetPortGroups.Simple'; then
	note "libiscsi's SCSI.ReportTargetPortGroups through $TA (no preferred group)"
	sed '/preferred 1/d' "$WORKDIR/scst.conf.good" > "$WORKDIR/scst.conf"
	reloads=$(grep -c "reload of .* done" "$LOG")
	kill -HUP "$USCSTD_PID"
	for _ in $(seq 50); do
		[ "$(grep -c "reload of .* done" "$LOG")" -gt "$reloads" ] && break
		sleep 0.1
	done
	[ "$(grep -c "reload of .* done" "$LOG")" -gt "$reloads" ] || fail "the reload without PREF failed"
	out=$(timeout -k 5 60 "$TEST_CU" -i "$INI1" --test 'SCSI.ReportTargetPortGroups*' \
		"iscsi://127.0.0.1:$PORT/$TA/0" 2>&1 < /dev/null)
	grep -E 'Test:|tests |asserts' <<< "$out"
	grep -Eq '^ +tests +2 +2 +2 +0 +0' <<< "$out" ||
		fail "libiscsi's ReportTargetPortGroups tests did not all pass: $out"
else
	note "$TEST_CU has no SCSI.ReportTargetPortGroups tests (libiscsi 1.19); not run"
fi

note "the state dump shows each target port group's state"
dump=$(dump_state "ALUA states")
grep -E '^dump: alua ' <<< "$dump"
grep -Eq '^dump: alua dg/ga: group 1, [a-z/ -]+, 1 port\(s\)$' <<< "$dump" &&
	grep -Eq '^dump: alua dg/gb: group 2, [a-z/ -]+, [0-9]+ port\(s\)$' <<< "$dump" ||
	fail "the state dump does not list target groups ga and gb"

LIVENESS_TARGET=$TA check_liveness "after ALUA's bad input" "$INI1" 400001370001
stop_uscstd

note "--list-attributes documents the ALUA sections"
out=$("$USCSTD" --list-attributes)
for a in tpgs implicit_transition_time on_stpg group_id state preferred; do
	grep -q "^  $a  " <<< "$out" || fail "--list-attributes does not list '$a'"
done
grep -q "^DEVICE_GROUP attributes" <<< "$out" || fail "no DEVICE_GROUP heading in --list-attributes"
echo "alua: all checks passed"
