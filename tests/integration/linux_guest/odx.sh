# The linux_odx test inside the guest (sourced by init when the kernel
# command line says uscst.scenario=odx), with init's say, fail, step,
# finish and discover_node. One session to the target, whose LUN 0 and
# LUN 1 are fileio LUNs of 16 MiB, reached through their SCSI generic
# devices (sg.ko), as Windows' ODX and ddpt reach them:
#
#   1. the ODX copy, command by command with sg3-utils' sg_raw: POPULATE
#      TOKEN of 4 MiB of random data on LUN 0 (two range descriptors,
#      LBA 0 and 8192, 2 MiB each), RECEIVE ROD TOKEN INFORMATION for its
#      token (completed, 8192 blocks), WRITE USING TOKEN of it to LUN 1
#      LBA 2048 (RRTI: completed, 8192 blocks), read back the same
#      ("ODX-SHA256": the host compares its files too);
#   2. the block device zero ROD token: WRITE USING TOKEN of 1 MiB of
#      LUN 1 at LBA 16384, written with random data first, read back as
#      zeros;
#   3. ddpt's own ODX (`ddpt --odx`, Debian 12's 0.97) of 2 MiB to LUN 1
#      LBA 20480. Its POPULATE TOKEN and WRITE USING TOKEN put every
#      block device range descriptor one byte early (byte 15 of the
#      list, not 16: ddpt_xcopy.c's `n = 15` before
#      sg_put_unaligned_be64(lba, pl + n), still so upstream), so uscstd
#      answers ILLEGAL REQUEST, LOGICAL BLOCK ADDRESS OUT OF RANGE (the
#      number of blocks reads as 256 times too many) and nothing is
#      written: ddpt exits 22 ("Early termination: LBA out of range") and
#      LUN 1's blocks stay as they were. A ddpt that gets the lists right
#      copies: then the blocks are compared. "DDPT refused" or "DDPT
#      copied" tells the host which.
#
# The host checks in uscstd's state dump that the copies went by ROD
# token: tokens made of LUN 0's device, and WRITE USING TOKENs that wrote
# their blocks to LUN 1's (a host copy by READ and WRITE counts neither).
# Every read-back drops the page cache first: SG_IO writes around it.

# run CMD...: runs CMD under a timeout, its output on the console.
run() {
	local out rc
	out=$(timeout 120 "$@" 2>&1)
	rc=$?
	echo "$out" > /dev/console
	[ "$rc" = 0 ] || fail "'$*' exited with status $rc"
}

# sum DEV BLOCK COUNT: the SHA-256 of COUNT 512-byte blocks of DEV from
# BLOCK, read past the page cache's old copy.
sum() {
	echo 3 > /proc/sys/vm/drop_caches
	dd if="/dev/$1" bs=512 skip="$2" count="$3" 2>/dev/null | sha256sum | cut -d' ' -f1
}

# fill DEV BLOCK COUNT: COUNT random blocks at BLOCK, on the medium.
fill() {
	dd if=/dev/urandom of="/dev/$1" bs=512 seek="$2" count="$3" conv=fsync 2>/dev/null ||
		fail "writing $3 blocks at $2 of /dev/$1"
}

# be BYTES VALUE: VALUE as BYTES big-endian bytes, binary.
be() {
	local i=$(($1 - 1))
	while [ "$i" -ge 0 ]; do
		printf "\\$(printf %o $((($2 >> (8 * i)) & 255)))"
		i=$((i - 1))
	done
}

# zeros COUNT: COUNT zero bytes.
zeros() {
	head -c "$1" /dev/zero
}

# range LBA NUM: a block device range descriptor (SBC-4 5.9.2: LBA, NUMBER
# OF LOGICAL BLOCKS, 4 reserved bytes).
range() {
	be 8 "$1"
	be 4 "$2"
	zeros 4
}

# rrti SG LIST_ID OUT: RECEIVE ROD TOKEN INFORMATION of LIST_ID into OUT
# (1024 bytes asked).
rrti() {
	run sg_raw -r 1024 -o "$3" "/dev/$1" 84 07 $(be 4 "$2" | od -An -tx1) 00 00 00 00 \
		00 00 04 00 00 00
}

# rrti_says OUT SA STATUS BLOCKS: OUT is RRTI data for service action SA
# with COPY OPERATION STATUS STATUS (hex) and TRANSFER COUNT BLOCKS.
rrti_says() {
	local hex
	hex=$(od -An -tx1 -N 24 "$1" | tr -d ' \n')
	[ "${hex:8:2}" = "$2" ] && [ "${hex:10:2}" = "$3" ] &&
		[ "$((0x${hex:32:16}))" = "$4" ] ||
		fail "RRTI: $hex (want SA $2, status $3, $4 blocks)"
}

discover_node
say "login"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
attach_luns_0_1
SG0=$(ls "/sys/block/$D0/device/scsi_generic")
SG1=$(ls "/sys/block/$D1/device/scsi_generic")
[ -c "/dev/$SG0" ] && [ -c "/dev/$SG1" ] || fail "no SCSI generic devices for $D0 and $D1 ('$SG0', '$SG1')"
say "LUN 0 is /dev/$D0 (/dev/$SG0), LUN 1 is /dev/$D1 (/dev/$SG1)"

say "1. POPULATE TOKEN of LUN 0 LBA 0 and 8192, WRITE USING TOKEN to LUN 1 LBA 2048"
fill "$D0" 0 12288
fill "$D1" 0 12288
# POPULATE TOKEN (83h/10h), list id 0x101: DATA LENGTH, flags, reserved,
# INACTIVITY TIMEOUT 0 (the default), ROD TYPE 0, reserved, the range
# descriptor list's length, two descriptors.
{ be 2 46; zeros 12; be 2 32; range 0 4096; range 8192 4096; } > /tmp/pt.bin
run sg_raw -s 48 -i /tmp/pt.bin "/dev/$SG0" 83 10 00 00 00 00 00 00 01 01 00 00 00 30 00 00
rrti "$SG0" 257 /tmp/pt.rrti
rrti_says /tmp/pt.rrti 10 01 8192
# The token: after the 32 status bytes (no sense data), ROD TOKEN
# DESCRIPTORS LENGTH (4 bytes) and 2 reserved ones.
dd if=/tmp/pt.rrti of=/tmp/token bs=1 skip=38 count=512 2>/dev/null
[ "$(od -An -tx1 -N 8 /tmp/token | tr -d ' \n')" = 00800001000001f8 ] ||
	fail "the token is not a point-in-time ROD token of 1F8h bytes: $(od -An -tx1 -N 8 /tmp/token)"
# WRITE USING TOKEN (83h/11h), list id 0x102: DATA LENGTH 550, flags,
# reserved, OFFSET INTO ROD 0, the token, reserved, the list's length, one
# descriptor.
{ be 2 550; zeros 14; cat /tmp/token; zeros 6; be 2 16; range 2048 8192; } > /tmp/wut.bin
run sg_raw -s 552 -i /tmp/wut.bin "/dev/$SG1" 83 11 00 00 00 00 00 00 01 02 00 00 02 28 00 00
rrti "$SG1" 258 /tmp/wut.rrti
rrti_says /tmp/wut.rrti 11 01 8192
[ "$(sum "$D1" 2048 4096)" = "$(sum "$D0" 0 4096)" ] ||
	fail "LUN 1's 2 MiB at LBA 2048 differ from LUN 0's first 2 MiB"
[ "$(sum "$D1" 6144 4096)" = "$(sum "$D0" 8192 4096)" ] ||
	fail "LUN 1's 2 MiB at LBA 6144 differ from LUN 0's at LBA 8192"
say "ODX-SHA256 $(sum "$D1" 2048 8192)"

say "2. WRITE USING TOKEN with the block device zero ROD token: 1 MiB of LUN 1 at LBA 16384"
fill "$D1" 16384 2048
zero_sum=$(zeros 1048576 | sha256sum | cut -d' ' -f1)
[ "$(sum "$D1" 16384 2048)" != "$zero_sum" ] || fail "the random data reads as zeros"
{ be 2 550; zeros 14; be 4 4294901761; zeros 2; be 2 504; zeros 504; zeros 6; be 2 16
	range 16384 2048; } > /tmp/zero.bin
run sg_raw -s 552 -i /tmp/zero.bin "/dev/$SG1" 83 11 00 00 00 00 00 00 01 03 00 00 02 28 00 00
[ "$(sum "$D1" 16384 2048)" = "$zero_sum" ] || fail "the 1 MiB does not read as zeros"

say "3. ddpt --odx: 2 MiB of LUN 0 to LUN 1 LBA 20480"
fill "$D1" 20480 4096
before=$(sum "$D1" 20480 4096)
out=$(timeout 120 ddpt --odx if="/dev/$SG0" of="/dev/$SG1" bs=512 skip=0,4096 seek=20480,4096 \
	count=4096 2>&1)
rc=$?
echo "$out" > /dev/console
if [ "$rc" = 0 ]; then
	[ "$(sum "$D1" 20480 4096)" = "$(sum "$D0" 0 4096)" ] ||
		fail "ddpt --odx exited 0, but LUN 1's 2 MiB at LBA 20480 are not LUN 0's first"
	say "DDPT copied"
elif [ "$rc" = 22 ] && echo "$out" | grep -q 'Early termination: LBA out of range'; then
	[ "$(sum "$D1" 20480 4096)" = "$before" ] || fail "ddpt's refused copy changed LUN 1"
	say "DDPT refused"
else
	fail "ddpt --odx exited with status $rc"
fi

say "logout"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
iscsiadm -m session > /dev/null 2>&1
[ $? = 21 ] || fail "a session is still open after logout"
if dmesg | grep -Eqi 'I/O error|detected conn error|timing out command|scsi_eh|offlined|abort'; then
	dmesg | grep -E 'scsi|sd |sd[a-z]|iscsi|connection' > /dev/console
	fail "the kernel logged errors for the LUNs"
fi
finish PASS
