#!/bin/bash
# Thin provisioning and the block commands as the Linux initiator uses them
# (issue 9): the qemu guest of linux_initiator.sh (linux_guest/README.md)
# logs in to a target with two thin fileio LUNs and runs linux_guest/thin.sh:
# fstrim on ext4, blkdiscard -z and blkdiscard, and sg3-utils'
# sg_write_same, sg_unmap, sg_get_lba_status, sg_compare_and_write and
# sg_xcopy, every write read back through the target.
#
# This side measures what fstrim gives back: the guest prints THIN-FILLED
# after writing and syncing 32 MiB on ext4, THIN-TRIMMED after removing the
# file and fstrim; at each, the LUN's backing file is measured with du
# (blocks allocated on the host's filesystem). Filled must be at least
# 30 MiB more than before the guest started, and trimmed at least 30 MiB
# less than filled. At the end, the 1 MiB the guest copied with sg_xcopy is
# compared between the two backing files, and with the SHA-256 the guest
# read back.
#
# Skipped (exit 77) only when qemu-system-x86_64 is not installed or the
# guest's Debian packages can be neither downloaded nor found in the cache.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-11.test:linux-guest
GUEST_PORTAL=10.0.2.100:3260
TGT=iqn.2026-11.test:thin
GUEST_TIMEOUT=${GUEST_TIMEOUT:-240}
MIB=1024

guest_build

truncate -s 512M "$WORKDIR/thin0.img"
truncate -s 64M "$WORKDIR/thin1.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE thin0 {
		filename $WORKDIR/thin0.img
		thin_provisioned 1
	}
	DEVICE thin1 {
		filename $WORKDIR/thin1.img
		thin_provisioned 1
	}
}
TARGET_DRIVER iscsi {
	TARGET $TGT {
		enabled 1
		LUN 0 thin0
		LUN 1 thin1
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"

# du_kib: KiB the host's filesystem allocated to LUN 0's backing file.
du_kib() {
	du -k "$WORKDIR/thin0.img" | cut -f1
}

CONSOLE=$WORKDIR/console.log
: > "$CONSOLE"
empty=$(du_kib)
note "LUN 0's backing file: $empty KiB allocated before the guest starts"
note "booting the guest (TCG, timeout ${GUEST_TIMEOUT} s); its console follows when it is done"
start=$(date +%s)
guest_qemu "uscst.scenario=thin uscst.portal=$GUEST_PORTAL uscst.target=$TGT uscst.initiator=$GUEST_INI" &
QEMU_PID=$!

# The guest pauses 4 s after each marker; a measurement taken once the
# next step has begun would be of the wrong moment, and fails the test.
filled= trimmed=
while kill -0 "$QEMU_PID" 2>/dev/null; do
	if [ -z "$filled" ] && grep -q '^guest: THIN-FILLED' "$CONSOLE"; then
		filled=$(du_kib)
		grep -q '^guest: THIN-TRIM-START' "$CONSOLE" &&
			fail "du after THIN-FILLED was taken after the guest went on"
	fi
	if [ -z "$trimmed" ] && grep -q '^guest: THIN-TRIMMED' "$CONSOLE"; then
		trimmed=$(du_kib)
		grep -q '^guest: 3\. ' "$CONSOLE" &&
			fail "du after THIN-TRIMMED was taken after the guest went on"
	fi
	sleep 0.2
done
wait "$QEMU_PID"
qemu_rc=$?
secs=$(($(date +%s) - start))
note "the guest ran ${secs} s, qemu exited with status $qemu_rc"
guest_verdict "$qemu_rc"

note "fstrim: LUN 0's backing file had $empty KiB allocated before the guest," \
	"${filled:-?} KiB with 32 MiB written, ${trimmed:-?} KiB after fstrim"
[ -n "$filled" ] && [ -n "$trimmed" ] || fail "the guest passed without THIN-FILLED and THIN-TRIMMED"
[ "$filled" -ge $((empty + 30 * MIB)) ] ||
	fail "32 MiB written grew the backing file by only $((filled - empty)) KiB"
[ "$trimmed" -le $((filled - 30 * MIB)) ] ||
	fail "fstrim gave back only $((filled - trimmed)) KiB of the 32 MiB freed"

note "sg_xcopy: LUN 1's first MiB is LUN 0's at LBA 760000 on the host's files too"
guest_sum=$(sed -n 's/\r$//; s/^guest: XCOPY-SHA256 //p' "$CONSOLE")
src_sum=$(dd if="$WORKDIR/thin0.img" bs=512 skip=760000 count=2048 2>/dev/null | sha256sum | cut -d' ' -f1)
dst_sum=$(dd if="$WORKDIR/thin1.img" bs=512 count=2048 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$src_sum" = "$dst_sum" ] || fail "the copy's source and destination differ on the host ($src_sum, $dst_sum)"
[ "$dst_sum" = "$guest_sum" ] || fail "the guest read back $guest_sum, the host's file has $dst_sum"
[ "$dst_sum" != "$(head -c 1048576 /dev/zero | sha256sum | cut -d' ' -f1)" ] ||
	fail "the copied MiB is all zeros"

grep -Fq "($GUEST_INI) closed: logged out" "$LOG" || fail "the guest's session did not end with a Logout"
stop_uscstd
echo "PASS: fstrim gave back $((filled - trimmed)) KiB; write zeroes, discard, WRITE SAME, UNMAP, GET LBA STATUS, COMPARE AND WRITE and XCOPY from the Linux guest verified"
