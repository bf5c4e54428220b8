#!/bin/bash
# Reservations and ALUA seen by the real Linux initiator (issue 7): the
# throw-away qemu guest of linux_initiator (linux_guest/, same image) logs
# in to two targets that export one fileio device through two target ports
# (rel_tgt_id 1 and 2), one in an active/optimized target port group, the
# other in an active/nonoptimized one, of one device group. Its
# linux_guest/pr_alua.sh then
#   - registers, reserves (Write Exclusive - Registrants Only), reads keys,
#     the reservation and the full status with sg_persist through both
#     sessions, and checks that the unregistered nexus may read but gets a
#     reservation conflict on a write, until it registers; releases (the
#     other registrant gets RESERVATIONS RELEASED) and unregisters both;
#   - reads both groups' states with sg_rtpg, and builds a dm-multipath map
#     with multipath -v2 (no multipathd, no udev) whose active path group
#     is the optimized port's, with the alua prioritizer's higher priority,
#     and the nonoptimized port's group enabled; writes through the map;
#   - says PR-ALUA-SWAP, upon which this script swaps the two groups'
#     states in scst.conf and reloads (SIGHUP); the guest sees the new
#     states in RTPG and, after multipath -r, the map's groups swapped.
# The guest prints every command's output on its console, which this
# script shows, and its verdict (LINUX-INITIATOR: PASS or FAIL ...) last.
# On this side: uscstd's log shows the two sessions, both logged out, and
# the reload; the block the registrant wrote is on the backing file.
#
# Both targets are reached through the one forwarded address (every target
# is on every portal): qemu's user network with restrict=on, a guestfwd of
# 10.0.2.100:3260 to a socat per connection, to uscstd on 127.0.0.1:$PORT.
#
# Skipped (exit 77) only when qemu-system-x86_64 is not installed, or when
# the guest's Debian packages can be neither downloaded nor found in the
# cache; everything else is a failure.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-12.test:linux-guest-pr
TA=iqn.2026-12.test:pr-alua-a
TB=iqn.2026-12.test:pr-alua-b
# The guest's two targets are its uscst.targets; uscst.target, which its
# init requires, names the first.
GUEST_TARGET=$TA
# The guest's work takes about a minute on TCG; this bounds a hung guest.
GUEST_TIMEOUT=${GUEST_TIMEOUT:-240}

guest_build

truncate -s 64M "$WORKDIR/disk0.img"
# write_conf STATE_A STATE_B: the configuration with target A's group in
# STATE_A and target B's in STATE_B.
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
	tpgs both
	implicit_transition_time 1
	on_stpg $WORKDIR/on_stpg
	DEVICE disk0
	TARGET_GROUP ga {
		group_id 1
		state $1
		TARGET $TA
	}
	TARGET_GROUP gb {
		group_id 2
		state $2
		TARGET $TB
	}
}
CONF
}
# The hook records its arguments and the initiator's nexus, and agrees.
cat > "$WORKDIR/on_stpg" <<'HOOK'
#!/bin/sh
{
	echo "args: $*"
	echo "initiator: $USCST_STPG_INITIATOR"
	echo "target: $USCST_STPG_TARGET"
	echo "rel_tgt_id: $USCST_STPG_REL_TGT_ID"
	echo "previous: $USCST_STPG_PREVIOUS"
} >> "$(dirname "$0")/on_stpg.log"
HOOK
chmod +x "$WORKDIR/on_stpg"
write_conf active nonoptimized > "$WORKDIR/scst.conf"
start_uscstd -c "$WORKDIR/scst.conf"

guest_boot pr_alua "uscst.targets=$TA,$TB"

# The swap, once the guest asks for it; the guest itself waits 30 s for it.
swapped=
while kill -0 "$QEMU_PID" 2>/dev/null; do
	if [ -z "$swapped" ] && grep -q '^guest: PR-ALUA-SWAP' "$CONSOLE"; then
		reloads=$(grep -c "reload of .* done" "$LOG")
		write_conf nonoptimized active > "$WORKDIR/scst.conf"
		kill -HUP "$USCSTD_PID"
		for _ in $(seq 50); do
			[ "$(grep -c "reload of .* done" "$LOG")" -gt "$reloads" ] && break
			sleep 0.1
		done
		[ "$(grep -c "reload of .* done" "$LOG")" -gt "$reloads" ] ||
			fail "the reload swapping the groups' states did not complete"
		swapped=$(guest_secs)
	fi
	sleep 0.5
done
guest_finish "${swapped:+the states were swapped at ${swapped} s}"
[ -n "$swapped" ] || fail "the guest passed without asking for the swap"

note "uscstd saw the guest's two sessions, one per target, both logged out"
grep -F "($GUEST_INI)" "$LOG"
for t in $TA $TB; do
	n=$(GUEST_TARGET=$t guest_logins)
	[ "$n" = 1 ] || fail "$n normal sessions of $GUEST_INI logged in to $t, expected 1"
done
logouts=$(grep -Fc "($GUEST_INI) closed: logged out" "$LOG")
[ "$logouts" = 2 ] || fail "$logouts connections of $GUEST_INI closed after a Logout, expected 2"

note "the guest's STPG ran the on_stpg hook once, for the guest's nexus through $TB"
cat "$WORKDIR/on_stpg.log" 2>/dev/null
want="args: dg ga=active gb=nonoptimized
initiator: $GUEST_INI
target: $TB
rel_tgt_id: 2
previous: ga=nonoptimized gb=active"
[ "$(cat "$WORKDIR/on_stpg.log" 2>/dev/null)" = "$want" ] ||
	fail "the on_stpg hook's record is not: $want"

note "the blocks the guest wrote are on the backing file, the refused one is not"
# zero OFFSET LENGTH: the backing file's bytes there are all zero.
zero() {
	[ -z "$(od -An -v -tx1 -j "$1" -N "$2" "$WORKDIR/disk0.img" | tr -d ' 0\n')" ]
}
zero $((64 * 512)) 512 && fail "LBA 64 (the holder's write) is all zero"
zero $((65 * 512)) 512 && fail "LBA 65 (the registrant's write) is all zero"
zero $((96 * 512)) 512 || fail "LBA 96 (the unregistered nexus's refused write) is not zero"
zero $((32 * 4096)) 65536 && fail "the 64 KiB written through the map are not on the backing file"

stop_uscstd
echo "PASS: sg_persist and dm-multipath with scsi_dh_alua in the Linux guest"
