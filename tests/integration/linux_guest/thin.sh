# The linux_thin test inside the guest (sourced by init when the kernel
# command line says uscst.scenario=thin), with init's say, fail, step,
# finish and discover_node. One session to the target, whose LUN 0 is a thin 512 MiB LUN and
# LUN 1 a thin 64 MiB one, the destination of the copy:
#
#   1. the kernel sees a thin disk: provisioning_mode unmap, discard and
#      write-zeroes limits, LBPME and LBPRZ in READ CAPACITY(16);
#   2. fstrim: ext4 on LUN 0, 32 MiB written and synced ("THIN-FILLED":
#      the host measures the backing file with du), the file removed,
#      fstrim -v, which must report at least those 32 MiB ("THIN-TRIMMED":
#      the host measures again and wants the space back);
#   3. blkdiscard -z (write zeroes) and blkdiscard (discard) of written
#      ranges, which then read as zeros;
#   4. sg_write_same (a pattern block over 64 blocks, read back; then with
#      --unmap, read back as zeros), sg_unmap (read back as zeros;
#      sg_get_lba_status says deallocated), sg_compare_and_write (a match
#      writes, a miscompare exits 14 and writes nothing), sg_xcopy from
#      LUN 0 to LUN 1 (read back the same; the host compares the backing
#      files too).
# fstrim and blkdiscard are util-linux's, in /sbin: busybox's applets of
# the same names (in /bin, first on PATH) have no -z and print less; -f:
# the LUN still holds the ext4 of step 2, which blkdiscard protects.
# Every read-back drops the page cache first: the sg_* commands write
# around it. Each marker is followed by a pause long enough for the host
# (which polls the console every 0.2 s) to measure before the next step.

# show CMD...: runs CMD under a timeout, its output on the console.
show() {
	local out rc
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	echo "$out" > /dev/console
	[ "$rc" = 0 ] || fail "'$*' exited with status $rc"
	SHOWN=$out
}

# sum DEV BLOCK COUNT: the SHA-256 of COUNT 512-byte blocks of DEV from
# BLOCK, read past the page cache's old copy.
sum() {
	echo 3 > /proc/sys/vm/drop_caches
	dd if="/dev/$1" bs=512 skip="$2" count="$3" 2>/dev/null | sha256sum | cut -d' ' -f1
}

# zeros COUNT: the SHA-256 of COUNT zero blocks.
zeros() {
	head -c $(($1 * 512)) /dev/zero | sha256sum | cut -d' ' -f1
}

# fill DEV BLOCK COUNT: COUNT random blocks at BLOCK, on the medium.
fill() {
	dd if=/dev/urandom of="/dev/$1" bs=512 seek="$2" count="$3" conv=fsync 2>/dev/null ||
		fail "writing $3 blocks at $2 of /dev/$1"
}

discover_node
say "login"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
attach_luns_0_1
say "LUN 0 is /dev/$D0, LUN 1 is /dev/$D1"

say "1. the kernel's view of the thin LUN"
mode=$(cat /sys/block/$D0/device/scsi_disk/*/provisioning_mode)
zmode=$(cat /sys/block/$D0/device/scsi_disk/*/zeroing_mode 2>/dev/null)
dmax=$(cat /sys/block/$D0/queue/discard_max_bytes)
dgran=$(cat /sys/block/$D0/queue/discard_granularity)
zmax=$(cat /sys/block/$D0/queue/write_zeroes_max_bytes)
say "provisioning_mode $mode, zeroing_mode $zmode, discard_max_bytes $dmax," \
	"discard_granularity $dgran, write_zeroes_max_bytes $zmax"
[ "$mode" = unmap ] || fail "provisioning_mode is '$mode', not unmap (VPD 0xb0/0xb2, LBPME)"
[ "$dmax" -gt 0 ] || fail "the kernel does not discard on /dev/$D0"
[ "$zmax" -gt 0 ] || fail "the kernel has no write-zeroes on /dev/$D0"
show sg_readcap -l "/dev/$D0"
echo "$SHOWN" | grep -q 'lbpme=1' || fail "READ CAPACITY(16) without LBPME"
echo "$SHOWN" | grep -q 'lbprz=1' || fail "READ CAPACITY(16) without LBPRZ"

say "2. fstrim on ext4"
step 120 mkfs.ext4 -q -F -L thin "/dev/$D0"
step 30 mount -t ext4 "/dev/$D0" /mnt
head -c 33554432 /dev/urandom > /mnt/big || fail "writing /mnt/big"
step 60 sync
say "THIN-FILLED"
sleep 4
say "THIN-TRIM-START"
rm /mnt/big
step 60 sync
show /sbin/fstrim -v /mnt
# "/mnt: 470.1 MiB (492929024 bytes) trimmed"
trimmed=$(echo "$SHOWN" | sed -n 's/.*[ (]\([0-9][0-9]*\) bytes)* trimmed.*/\1/p')
[ -n "$trimmed" ] || fail "fstrim printed no byte count"
[ "$trimmed" -ge 33554432 ] || fail "fstrim trimmed $trimmed bytes, fewer than the 32 MiB freed"
step 60 sync
say "THIN-TRIMMED"
sleep 4
step 30 umount /mnt

say "3. blkdiscard -z and blkdiscard"
# 4 MiB at 300 MiB, and at 320 MiB.
fill "$D0" 614400 8192
[ "$(sum "$D0" 614400 8192)" != "$(zeros 8192)" ] || fail "the random data reads as zeros"
step 60 /sbin/blkdiscard -f -z -o $((614400 * 512)) -l $((8192 * 512)) "/dev/$D0"
[ "$(sum "$D0" 614400 8192)" = "$(zeros 8192)" ] || fail "blkdiscard -z: the range does not read as zeros"
fill "$D0" 655360 8192
step 60 /sbin/blkdiscard -f -o $((655360 * 512)) -l $((8192 * 512)) "/dev/$D0"
[ "$(sum "$D0" 655360 8192)" = "$(zeros 8192)" ] || fail "blkdiscard: the range does not read as zeros (LBPRZ)"
say "both ranges read as zeros"

say "4. sg3-utils: WRITE SAME, UNMAP, GET LBA STATUS, COMPARE AND WRITE, EXTENDED COPY"
head -c 512 /dev/urandom > /tmp/pattern
: > /tmp/pattern64
for _ in $(seq 64); do cat /tmp/pattern >> /tmp/pattern64; done
want=$(sha256sum < /tmp/pattern64 | cut -d' ' -f1)
fill "$D0" 700000 64
show sg_write_same --in=/tmp/pattern --lba=700000 --num=64 "/dev/$D0"
[ "$(sum "$D0" 700000 64)" = "$want" ] || fail "sg_write_same: the 64 blocks are not the pattern"
show sg_write_same --16 --unmap --lba=700000 --num=64 "/dev/$D0"
[ "$(sum "$D0" 700000 64)" = "$(zeros 64)" ] || fail "sg_write_same --unmap: the 64 blocks do not read as zeros"

fill "$D0" 720000 2048
# "[1] LBA: 0x00000000000afc80  blocks:       2048  mapped (or unknown)"
first="LBA: 0x0*$(printf %x 720000) +blocks: +[0-9]+ +"
show sg_get_lba_status --lba=720000 "/dev/$D0"
echo "$SHOWN" | grep -Eq "${first}mapped" ||
	fail "sg_get_lba_status: the blocks just written are not mapped"
# --force: without it sg_unmap waits 15 s for a ^C.
show sg_unmap --force --lba=720000 --num=2048 "/dev/$D0"
[ "$(sum "$D0" 720000 2048)" = "$(zeros 2048)" ] || fail "sg_unmap: the 2048 blocks do not read as zeros"
show sg_get_lba_status --lba=720000 "/dev/$D0"
echo "$SHOWN" | grep -Eq "${first}deallocated" ||
	fail "sg_get_lba_status: the blocks are not deallocated after sg_unmap"

# COMPARE AND WRITE of LBA 740000: old block A, new block B.
fill "$D0" 740000 1
echo 3 > /proc/sys/vm/drop_caches
dd if="/dev/$D0" bs=512 skip=740000 count=1 of=/tmp/a 2>/dev/null
head -c 512 /dev/urandom > /tmp/b
cat /tmp/a /tmp/b > /tmp/caw
show sg_compare_and_write --in=/tmp/caw --lba=740000 --num=1 "/dev/$D0"
[ "$(sum "$D0" 740000 1)" = "$(sha256sum < /tmp/b | cut -d' ' -f1)" ] ||
	fail "sg_compare_and_write: the block is not the new data after a match"
# Again: the block is B now, the compare data A: a miscompare (exit 14).
timeout 60 sg_compare_and_write --in=/tmp/caw --lba=740000 --num=1 "/dev/$D0" > /tmp/caw.out 2>&1
rc=$?
cat /tmp/caw.out > /dev/console
[ "$rc" = 14 ] || fail "sg_compare_and_write with stale compare data exited $rc, not 14 (MISCOMPARE)"
[ "$(sum "$D0" 740000 1)" = "$(sha256sum < /tmp/b | cut -d' ' -f1)" ] ||
	fail "sg_compare_and_write: a miscompare changed the block"

# EXTENDED COPY of 1 MiB from LUN 0 at LBA 760000 to LUN 1 at LBA 0.
# sg_xcopy opens the disks' SCSI generic devices (sg.ko).
SG0=$(ls "/sys/block/$D0/device/scsi_generic")
SG1=$(ls "/sys/block/$D1/device/scsi_generic")
[ -c "/dev/$SG0" ] && [ -c "/dev/$SG1" ] || fail "no SCSI generic devices for $D0 and $D1 ('$SG0', '$SG1')"
fill "$D0" 760000 2048
show sg_xcopy if="/dev/$SG0" of="/dev/$SG1" bs=512 skip=760000 seek=0 count=2048
[ "$(sum "$D1" 0 2048)" = "$(sum "$D0" 760000 2048)" ] ||
	fail "sg_xcopy: LUN 1's first 1 MiB differs from LUN 0's at LBA 760000"
say "XCOPY-SHA256 $(sum "$D1" 0 2048)"

say "logout"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
iscsiadm -m session > /dev/null 2>&1
[ $? = 21 ] || fail "a session is still open after logout"
say "kernel messages about the LUNs:"
dmesg | grep -E 'scsi|sd |sd[a-z]|iscsi|connection|EXT4' > /dev/console
# The miscompare is the one error the kernel may log (sg_compare_and_write
# goes through SG_IO, which logs nothing; a discard or write-zeroes the
# kernel retried or failed would).
if dmesg | grep -Eqi 'I/O error|detected conn error|blk_update_request|EXT4-fs error|timing out command|scsi_eh|offlined|abort|WRITE SAME failed|Discard failure'; then
	fail "the kernel logged errors for the LUNs"
fi
finish PASS
