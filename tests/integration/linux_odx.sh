#!/bin/bash
# Windows ODX's commands from the Linux guest (issue 9): the qemu guest of
# linux_initiator.sh (linux_guest/README.md) logs in to a target with two
# fileio LUNs of 16 MiB and runs linux_guest/odx.sh through the disks'
# SCSI generic devices: POPULATE TOKEN, RECEIVE ROD TOKEN INFORMATION and
# WRITE USING TOKEN one by one with sg_raw (4 MiB from LUN 0 to LUN 1),
# the block device zero ROD token (1 MiB of LUN 1), and ddpt's `--odx`
# (Debian 12's 0.97, whose range descriptors are one byte early: refused
# with LOGICAL BLOCK ADDRESS OUT OF RANGE, nothing written; odx.sh says
# more), each read back in the guest.
#
# This side then compares the backing files (LUN 1's 4 MiB at LBA 2048 are
# LUN 0's 2 MiB at LBA 0 and 2 MiB at LBA 8192, and the SHA-256 the guest
# read back; LUN 1's 1 MiB at LBA 16384 is zeros) and asks uscstd's state
# dump how the copies went: exactly the ROD tokens made of LUN 0's device
# and the WRITE USING TOKENs, with their blocks, that wrote LUN 1's, and
# LUN 1's copy chunks written by the copy manager (the 4 MiB by
# copy_file_range): a host copy, READs and WRITEs from the guest, counts
# none of these.
#
# Skipped (exit 77) only when qemu-system-x86_64 is not installed or the
# guest's Debian packages can be neither downloaded nor found in the cache.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-12.test:linux-odx
GUEST_TARGET=iqn.2026-12.test:odx
GUEST_TIMEOUT=${GUEST_TIMEOUT:-240}

guest_build

truncate -s 16M "$WORKDIR/odx0.img"
truncate -s 16M "$WORKDIR/odx1.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE odx0 {
		filename $WORKDIR/odx0.img
	}
	DEVICE odx1 {
		filename $WORKDIR/odx1.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $GUEST_TARGET {
		enabled 1
		LUN 0 odx0
		LUN 1 odx1
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"

guest_boot odx
guest_finish "the ODX copy, zeroing, and ddpt's"
note "the ODX copy: LUN 1's 4 MiB at LBA 2048 are LUN 0's at LBA 0 and 8192 on the host's files too"
guest_sum=$(sed -n 's/\r$//; s/^guest: ODX-SHA256 //p' "$CONSOLE")
src_sum=$({ dd if="$WORKDIR/odx0.img" bs=512 count=4096 2>/dev/null
	dd if="$WORKDIR/odx0.img" bs=512 skip=8192 count=4096 2>/dev/null; } | sha256sum | cut -d' ' -f1)
dst_sum=$(dd if="$WORKDIR/odx1.img" bs=512 skip=2048 count=8192 2>/dev/null | sha256sum | cut -d' ' -f1)
zero4=$(head -c 4194304 /dev/zero | sha256sum | cut -d' ' -f1)
[ "$src_sum" = "$dst_sum" ] || fail "the copy's source and destination differ on the host ($src_sum, $dst_sum)"
[ "$dst_sum" = "$guest_sum" ] || fail "the guest read back '$guest_sum', the host's file has $dst_sum"
[ "$dst_sum" != "$zero4" ] || fail "the copied 4 MiB are all zeros"
zero1=$(head -c 1048576 /dev/zero | sha256sum | cut -d' ' -f1)
[ "$(dd if="$WORKDIR/odx1.img" bs=512 skip=16384 count=2048 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$zero1" ] ||
	fail "LUN 1's 1 MiB at LBA 16384 is not zeros on the host's file"

# What ddpt did: refused (0.97), or a ddpt that copies 2 MiB more.
if grep -q '^guest: DDPT copied' "$CONSOLE"; then
	tokens='[2-9]' wuts=3 blocks=14336 ddpt="ddpt copied"
else
	grep -q '^guest: DDPT refused' "$CONSOLE" || fail "the guest said nothing of ddpt"
	tokens=1 wuts=2 blocks=10240 ddpt="ddpt's malformed lists refused"
fi
dump=$(dump_state "linux_odx")
note "the state dump's copy lines:"
grep -E '^dump: (ODX of|copies to) device' <<< "$dump"
grep -qE "^dump: ODX of device odx0: $tokens ROD token\(s\) made, 0 WRITE USING TOKEN\(s\) wrote 0 block\(s\) to it\$" <<< "$dump" ||
	fail "not $tokens ROD token(s) made of LUN 0's device"
grep -qxF "dump: ODX of device odx1: 0 ROD token(s) made, $wuts WRITE USING TOKEN(s) wrote $blocks block(s) to it" <<< "$dump" ||
	fail "not $wuts WRITE USING TOKENs that wrote $blocks blocks to LUN 1's device"
grep -qE '^dump: copies to device odx1: [4-9][0-9]* chunk\(s\) by copy_range \(copy_file_range\), [1-9][0-9]* by READ/WRITE$' <<< "$dump" ||
	fail "the copy manager did not write LUN 1's chunks (at least 4 by copy_file_range, the zeroing by WRITE)"
grep -Fq "($GUEST_INI) closed: logged out" "$LOG" || fail "the guest's session did not end with a Logout"
stop_uscstd
echo "PASS: the ODX copy (4 MiB) and zeroing (1 MiB) from the Linux guest went by ROD token; $ddpt"
