# The linux_pr_alua test's steps in the guest, sourced by /init (busybox
# sh) once iscsid is up, with init's say, fail, step and finish. The guest
# logs in to two targets that export one LU through two target ports (two
# sessions, two SCSI disks), then:
#   - persistent reservations with sg_persist: a key registered through
#     the first port is read through the second, a Write Exclusive -
#     Registrants Only reservation taken through the first is seen through
#     the second, whose unregistered I_T nexus may read but not write
#     (reservation conflict) until it registers a key of its own; the
#     release gives the second nexus RESERVATIONS RELEASED; both unregister;
#   - ALUA: sg_rtpg reports both target port groups and their states, and
#     dm-multipath (multipath -v2 without multipathd or udev) with the
#     kernel's scsi_dh_alua and multipath's alua prioritizer makes one map
#     of two path groups, the optimized path's active and of the higher
#     priority, the nonoptimized one's enabled; I/O through the map works;
#   - the host then swaps the groups' states by a config reload, and the
#     guest sees it in RTPG and, after multipath -r, in the map's order.
# Every output it checks is printed on the console first, so that the
# host's log shows what was seen.
#
# Kernel command line words of its own:
#   uscst.targets=IQN_A,IQN_B   the optimized port's target, the other's
# It prints "guest: PR-ALUA-SWAP" when it is ready for the host's reload.

TARGET_A= TARGET_B=
for word in $(cat /proc/cmdline); do
	case $word in
	uscst.targets=*)
		TARGET_A=${word#*=}
		TARGET_B=${TARGET_A#*,}
		TARGET_A=${TARGET_A%%,*}
		;;
	esac
done
[ -n "$TARGET_A" ] && [ -n "$TARGET_B" ] && [ "$TARGET_A" != "$TARGET_B" ] ||
	fail "uscst.targets=IQN_A,IQN_B must name two targets"

# show CMD...: runs CMD (under a timeout), prints its output to the
# console, and leaves it in $OUT; its exit status is $RC.
show() {
	say "\$ $*"
	OUT=$(timeout 60 "$@" 2>&1)
	RC=$?
	[ -n "$OUT" ] && echo "$OUT" | sed 's/^/    /' > /dev/console
	[ "$RC" = 0 ] || say "(exit status $RC)"
	return 0
}

# must CMD...: show, and the command must succeed.
must() {
	show "$@"
	[ "$RC" = 0 ] || fail "'$*' exited with status $RC"
}

# expect WHAT REGEX: the last output matches the extended regex REGEX.
expect() {
	echo "$OUT" | grep -Eq -- "$2" || fail "$1: no '$2' in the output above"
}

say "discovery (SendTargets) at $PORTAL"
out=$(step 60 iscsiadm -m discovery -t sendtargets -p "$PORTAL" -o nonpersistent)
echo "$out"
for t in "$TARGET_A" "$TARGET_B"; do
	echo "$out" | grep -q " $t\$" || fail "discovery does not list $t"
	# The target reports the host's loopback address: the node record
	# names the forwarded portal instead (README.md says why).
	step 30 iscsiadm -m node -o new -T "$t" -p "$PORTAL" > /dev/null
done

# disk_of IQN: the disk the session to IQN attached ("" while none).
disk_of() {
	iscsiadm -m session -P 3 2>/dev/null | awk -v t="$1" '
		$1 == "Target:" { cur = $2 }
		cur == t && /Attached scsi disk/ { print $4; exit }'
}

# login IQN: logs in, prints the disk's name once the kernel attached it.
login() {
	local disk
	say "login to $1"
	step 60 iscsiadm -m node -T "$1" -p "$PORTAL" --login > /dev/console
	for _ in $(seq 150); do
		disk=$(disk_of "$1")
		[ -n "$disk" ] && [ -b "/dev/$disk" ] && { echo "$disk"; return 0; }
		sleep 0.2
	done
	fail "no disk attached 30 s after the login to $1"
}

DA=$(login "$TARGET_A")
DB=$(login "$TARGET_B")
[ "$DA" != "$DB" ] || fail "both sessions attached the same disk $DA"
say "the optimized port's disk is /dev/$DA, the nonoptimized port's /dev/$DB"

# One LU behind two ports: one NAA designator, two relative target ports,
# two target port groups; TPGS in the standard INQUIRY data (3: implicit
# and explicit, the device group's "tpgs both").
for d in $DA $DB; do
	must sg_inq "/dev/$d"
	expect "INQUIRY of $d" 'TPGS=3'
done
must sg_inq -p 0x83 "/dev/$DA"
NAA_A=$(echo "$OUT" | grep -o '\[0x[0-9a-f]*\]' | head -n 1)
expect "VPD 0x83 of $DA" 'Relative target port: 0x1'
expect "VPD 0x83 of $DA" 'Target port group: 0x1'
must sg_inq -p 0x83 "/dev/$DB"
NAA_B=$(echo "$OUT" | grep -o '\[0x[0-9a-f]*\]' | head -n 1)
expect "VPD 0x83 of $DB" 'Relative target port: 0x2'
expect "VPD 0x83 of $DB" 'Target port group: 0x2'
[ -n "$NAA_A" ] && [ "$NAA_A" = "$NAA_B" ] ||
	fail "the two disks have different NAA designators ('$NAA_A', '$NAA_B')"

# prout DISK ARGS...: PERSISTENT RESERVE OUT that must succeed.
prout() {
	local d=$1
	shift
	must sg_persist --out "$@" "/dev/$d"
}

# write_block DISK LBA: writes one block of random bytes at LBA with
# O_DIRECT, so that the command reaches the target at once; $RC is dd's
# status. The host checks which of these blocks are on the backing file:
# LBA 64 (the holder's) and 65 (a registrant's), not 96 (refused).
write_block() {
	show dd if=/dev/urandom of="/dev/$1" bs=512 count=1 seek="$2" oflag=direct conv=notrunc
}

# conflicts DISK: how many reservation conflicts the kernel logged for
# DISK (its SCSI error handling says "H:C:T:L: reservation conflict").
conflicts() {
	dmesg | grep -c "$(basename "$(readlink "/sys/block/$1/device")"): reservation conflict"
}

say "=== persistent reservations"
must sg_persist --in -k "/dev/$DB"
expect "READ KEYS before any REGISTER" 'there are NO registered reservation keys'
prout "$DA" --register --param-sark=0xabc1
must sg_persist --in -k "/dev/$DB"
expect "READ KEYS through the second port" '^ *0xabc1$'
prout "$DA" --reserve --param-rk=0xabc1 --prout-type=5
must sg_persist --in -r "/dev/$DB"
expect "READ RESERVATION through the second port" 'Key=0xabc1'
expect "READ RESERVATION through the second port" 'Write Exclusive, registrants only'
# The second port's I_T nexus is not registered: under WERO it may read...
show dd if="/dev/$DB" of=/dev/null bs=512 count=1 skip=96 iflag=direct
[ "$RC" = 0 ] || fail "an unregistered nexus could not read under Write Exclusive - Registrants Only"
# ...but not write: the target answers RESERVATION CONFLICT, which the
# kernel logs and passes on as an I/O error.
before=$(conflicts "$DB")
write_block "$DB" 96
[ "$RC" != 0 ] || fail "an unregistered nexus wrote under Write Exclusive - Registrants Only"
dmesg | tail -n 4 > /dev/console
[ "$(conflicts "$DB")" = $((before + 1)) ] ||
	fail "the kernel logged no reservation conflict for /dev/$DB's refused write"
write_block "$DA" 64
[ "$RC" = 0 ] || fail "the reservation holder could not write"
# Registered, the second nexus may write too.
prout "$DB" --register --param-sark=0xabc2
must sg_persist --in -k "/dev/$DA"
expect "READ KEYS after the second REGISTER" '^ *0xabc1$'
expect "READ KEYS after the second REGISTER" '^ *0xabc2$'
write_block "$DB" 65
[ "$RC" = 0 ] || fail "a registrant could not write under Write Exclusive - Registrants Only"
must sg_persist --in -s "/dev/$DB"
expect "READ FULL STATUS" 'Relative port address: 0x1'
expect "READ FULL STATUS" 'Relative port address: 0x2'
expect "READ FULL STATUS" 'reservation holder'
prout "$DA" --release --param-rk=0xabc1 --prout-type=5
# The other registrant learns of the release from a unit attention.
show sg_turs -v "/dev/$DB"
[ "$RC" = 6 ] || fail "no unit attention after the release on /dev/$DB (sg_turs status $RC)"
expect "the UA after RELEASE" '[Rr]eservations released'
must sg_persist --in -r "/dev/$DB"
expect "READ RESERVATION after RELEASE" 'there is NO reservation held'
prout "$DA" --register --param-rk=0xabc1 --param-sark=0
prout "$DB" --register --param-rk=0xabc2 --param-sark=0
must sg_persist --in -k "/dev/$DA"
expect "READ KEYS after unregistering" 'there are NO registered reservation keys'

say "=== ALUA"
must sg_rtpg -d "/dev/$DA"
expect "RTPG" 'target port group id : 0x1'
expect "RTPG" 'target port group id : 0x2'
# The groups in id order: 1 active/optimized, 2 active/non optimized.
echo "$OUT" | grep -E 'asymmetric access state' | head -n 2 | tr '\n' ' ' |
	grep -Eq 'active/optimized.*active/non optimized' ||
	fail "RTPG: group 1 is not active/optimized and group 2 active/non optimized"
# scsi_dh_alua attached to both disks on its own (they have TPGS).
for d in $DA $DB; do
	h=$(cat "/sys/block/$d/device/dh_state" 2>/dev/null)
	say "/sys/block/$d/device/dh_state: $h"
	[ "$h" = alua ] || fail "scsi_dh_alua is not attached to /dev/$d ('$h')"
done
dmesg | grep -E 'alua' > /dev/console

# multipath without multipathd and udev. It takes only the disks udev has
# initialized, those with an entry in udev's database, of which one
# property matches its default blacklist exception (SCSI_IDENT_ or
# ID_WWN), and their WWID from ID_SERIAL; udev's scsi_id would make all
# three of VPD page 0x83's NAA designator. With no udev here, the entries
# are written from what sg_inq read above, as udev would write them.
mkdir -p /run/udev/data
NAA=${NAA_A#[0x}
NAA=${NAA%]}
WWID=3$NAA
for d in $DA $DB; do
	printf 'I:1\nE:ID_SERIAL=%s\nE:ID_WWN=0x%s\nE:SCSI_IDENT_LUN_NAA_REG=%s\n' \
		"$WWID" "$NAA" "$NAA" > "/run/udev/data/b$(cat "/sys/block/$d/dev")"
done
say "udev database entries: $(ls /run/udev/data | tr '\n' ' '), WWID $WWID"
# Every disk a candidate, the groups by priority (alua's).
mkdir -p /etc/multipath
cat > /etc/multipath.conf <<'EOF'
defaults {
	user_friendly_names no
	find_multipaths off
	enable_foreign "^$"
}
devices {
	device {
		vendor "USCST"
		product ".*"
		path_grouping_policy group_by_prio
		prio alua
		hardware_handler "1 alua"
		path_checker tur
		failback immediate
		no_path_retry fail
	}
}
EOF

# map_check FIRST SECOND: multipath -ll shows one map of two path groups,
# the first with FIRST's disk, status active and the higher priority, the
# second with SECOND's disk, status enabled.
map_check() {
	# dm-multipath chooses its current path group, the one multipath
	# shows active, at the first I/O after the map's table was loaded;
	# until then every group is enabled.
	show dd if="/dev/$MAP" of=/dev/null bs=4096 count=1 iflag=direct
	[ "$RC" = 0 ] || fail "reading through /dev/$MAP failed"
	must multipath -ll
	expect "multipath -ll" "hwhandler='1 alua'"
	groups=$(echo "$OUT" | grep -Ec 'policy=.*prio=[0-9]+ status=')
	[ "$groups" = 2 ] || fail "multipath -ll shows $groups path groups, expected 2"
	g1=$(echo "$OUT" | grep -E 'policy=.*prio=' | sed -n 1p)
	g2=$(echo "$OUT" | grep -E 'policy=.*prio=' | sed -n 2p)
	p1=$(echo "$g1" | sed 's/.*prio=\([0-9]*\).*/\1/')
	p2=$(echo "$g2" | sed 's/.*prio=\([0-9]*\).*/\1/')
	echo "$g1" | grep -q 'status=active' || fail "the first path group is not active: $g1"
	echo "$g2" | grep -q 'status=enabled' || fail "the second path group is not enabled: $g2"
	[ "$p1" -gt "$p2" ] || fail "the first path group's prio $p1 is not above the second's $p2"
	# Each group's path line follows its group line.
	echo "$OUT" | grep -A1 -F "$g1" | grep -q " $1 " || fail "/dev/$1 is not in the active group"
	echo "$OUT" | grep -A1 -F "$g2" | grep -q " $2 " || fail "/dev/$2 is not in the enabled group"
	say "map: $1 active (prio $p1), $2 enabled (prio $p2)"
}

must multipath -v2
MAP=$(ls /sys/block | grep '^dm-' | head -n 1)
if [ -z "$MAP" ]; then
	# Why, in multipath's words (-v4 says why a path is left out).
	show multipath -v4 -d
	fail "multipath made no device-mapper device"
fi
map_check "$DA" "$DB"
# I/O through the map goes down the active path.
show dd if=/dev/urandom of=/tmp/block bs=4096 count=16
show dd if=/tmp/block of="/dev/$MAP" bs=4096 count=16 seek=32 oflag=direct conv=notrunc
[ "$RC" = 0 ] || fail "writing through /dev/$MAP failed"
show dd if="/dev/$DB" of=/tmp/back bs=4096 count=16 skip=32 iflag=direct
[ "$RC" = 0 ] || fail "reading through /dev/$DB failed"
cmp /tmp/block /tmp/back || fail "what the map wrote is not what the other path reads"
say "64 KiB written through /dev/$MAP read back through /dev/$DB"

# The host swaps the groups' states (a config reload) when it sees this.
say "PR-ALUA-SWAP"
swapped=
for _ in $(seq 100); do
	OUT=$(sg_rtpg -d "/dev/$DA" 2>&1)
	echo "$OUT" | grep -E 'asymmetric access state' | head -n 2 | tr '\n' ' ' |
		grep -Eq 'active/non optimized.*active/optimized' && { swapped=1; break; }
	sleep 0.3
done
must sg_rtpg -d "/dev/$DA"
[ -n "$swapped" ] || fail "RTPG did not show group 1 nonoptimized and group 2 optimized 30 s after PR-ALUA-SWAP"
must multipath -r
map_check "$DB" "$DA"

# Explicit ALUA from the initiator: SET TARGET PORT GROUPS through the
# now optimized port puts group 1 back to active/optimized and group 2 to
# active/nonoptimized. The host's on_stpg hook records the call.
must sg_stpg --tp=1,2 --state=ao,an "/dev/$DB"
must sg_rtpg -d "/dev/$DB"
echo "$OUT" | grep -E 'asymmetric access state' | head -n 2 | tr '\n' ' ' |
	grep -Eq 'active/optimized.*active/non optimized' ||
	fail "RTPG after STPG: group 1 is not active/optimized and group 2 active/non optimized"
expect "RTPG after STPG" 'status code : 0x01'
must multipath -r
map_check "$DA" "$DB"

must multipath -F
for t in "$TARGET_A" "$TARGET_B"; do
	step 60 iscsiadm -m node -T "$t" -p "$PORTAL" --logout > /dev/console
done
iscsiadm -m session > /dev/null 2>&1
[ $? = 21 ] || fail "a session is still open after logout"
say "kernel messages:"
dmesg | grep -Ei 'scsi|sd[a-z]|alua|multipath|device-mapper|iscsi|connection' > /dev/console
# The one refused write is the only error the kernel may have seen: no
# retried or timed-out command, no error handling, no lost connection.
if dmesg | grep -Eqi 'timing out command|scsi_eh|offlined|abort|detected conn error|failing path|I/O error'; then
	fail "the kernel logged errors"
fi
finish PASS
