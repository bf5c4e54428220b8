#!/bin/bash
# Thin provisioning (thin_provisioning.py, our python initiator): UNMAP
# frees space in the backing file, GET LBA STATUS reports exactly what was
# unmapped, unmapped blocks read as zeros, every malformed UNMAP list is
# refused with its sense and changes nothing, WRITE SAME with UNMAP, LOG
# SENSE, and a write to a thin LUN whose file system is full (a 1 MiB
# tmpfs mounted here: the test needs root) gets SPACE ALLOCATION FAILED
# WRITE PROTECT; a thin blockio LUN on a loop device frees space in the
# loop's file. Then the target must still serve everyone.
. "$(dirname "$0")/lib.sh" "$@"

[ "$(id -u)" = 0 ] ||
	fail "needs root: it mounts a 1 MiB tmpfs to make a thin LUN run out of space"

TGT_IQN=iqn.2026-11.test:thin
IMG_SIZE=$((1024 * 1024 * 1024))
MNT=$WORKDIR/tiny
mkdir "$MNT"
mount -t tmpfs -o size=1m tmpfs "$MNT" || fail "cannot mount a 1 MiB tmpfs on $MNT"
truncate -s "$IMG_SIZE" "$WORKDIR/thin.img" "$WORKDIR/full.img" "$WORKDIR/block.img" \
	"$WORKDIR/ro.img"
# A real block device for blockio: a loop device over a sparse file,
# which the kernel deallocates in when the device is told to discard.
LOOP_SIZE=$((64 * 1024 * 1024))
truncate -s "$LOOP_SIZE" "$WORKDIR/loop.img"
LOOP=$(losetup -f --show "$WORKDIR/loop.img") || fail "losetup: no loop device for $WORKDIR/loop.img"
# lib.sh's cleanup removes WORKDIR: the tmpfs and the loop device must be
# gone first.
trap 'rc=$?; losetup -d "$LOOP"; umount "$MNT" 2>/dev/null || umount -l "$MNT"; (exit $rc); cleanup' EXIT
truncate -s $((4 * 1024 * 1024)) "$MNT/small.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE thin0 {
		filename $WORKDIR/thin.img
		thin_provisioned 1
	}
	DEVICE small0 {
		filename $MNT/small.img
		thin_provisioned 1
	}
	DEVICE full0 {
		filename $WORKDIR/full.img
	}
	DEVICE ro0 {
		filename $WORKDIR/ro.img
		thin_provisioned 1
	}
}
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb $((IMG_SIZE / 1024 / 1024))
		thin_provisioned 1
	}
}
HANDLER vdisk_blockio {
	DEVICE block0 {
		filename $WORKDIR/block.img
		thin_provisioned 1
	}
	DEVICE loop0 {
		filename $LOOP
		thin_provisioned 1
	}
}

TARGET_DRIVER iscsi {
	enabled 1

	TARGET $TGT_IQN {
		enabled 1
		LUN 0 thin0
		LUN 1 small0
		LUN 2 full0
		LUN 3 null0
		LUN 4 block0
		LUN 5 loop0
		LUN 6 ro0 {
			read_only 1
		}
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf"
# The attribute is listed, and kept in the running configuration.
"$USCSTD" --list-attributes | grep -q 'thin_provisioned' ||
	fail "uscstd --list-attributes does not list thin_provisioned"
run python3 -B "$(dirname "$0")/thin_provisioning.py" "$PORT" "$TGT_IQN" "$INI1" "$IMG_SIZE" \
	"$WORKDIR/thin.img" "$MNT/small.img" "$WORKDIR/block.img" "$WORKDIR/loop.img" "$LOOP_SIZE"
# du agrees with st_blocks: what is left of the 8 MiB written is less.
note "du of the thin LUN's file after the test: $(du -k "$WORKDIR/thin.img" | cut -f1) KiB"
grep -q "device small0: write at LBA .* failed: No space left on device" "$LOG" ||
	fail "the ENOSPC write is not in the log"
LIVENESS_TARGET=$TGT_IQN check_liveness "after thin provisioning" "$INI1" 400000000091
stop_uscstd
