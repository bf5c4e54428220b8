#!/bin/bash
# Data integrity through QEMU's iSCSI block driver: pattern writes with
# read-back verification at offsets and sizes from one 512-byte block to
# 16 MiB, including offsets not aligned to 4 KiB, then a second qemu-io
# process reads every region back. Each region has its own pattern, so a
# write that lands in the wrong place or overlaps a neighbour is caught.
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd

# offset length pattern: regions do not overlap; the patterns all differ.
REGIONS=(
	"0 512 0x11"
	"512 512 0x12"
	"1536 3584 0x13"
	"5120 4096 0x14"
	"12800 65536 0x15"
	"1048576 1048576 0x16"
	"2621952 131072 0x17"
	"4194304 16777216 0x18"
	"536870400 512 0x19"
	"1073741312 512 0x1a"
	"1073676288 65024 0x1b"
)

# qemu-io exits 0 even for some failed verifications in older versions, so
# its output is checked too.
qemu_io() {
	local out

	out=$(timeout -k 5 "$CMD_TIMEOUT" qemu-io -f raw "$@" "$URL" 2>&1)
	local rc=$?
	echo "$out"
	[ "$rc" = 0 ] || fail "qemu-io exited with status $rc"
	grep -Eqi 'verification failed|error|failed' <<< "$out" && fail "qemu-io reported an error"
	return 0
}

note "write and verify each region (first qemu-io process)"
args=()
for r in "${REGIONS[@]}"; do
	read -r off len pat <<< "$r"
	args+=(-c "write -P $pat $off $len" -c "read -P $pat $off $len")
done
qemu_io "${args[@]}"

note "read every region back from a second qemu-io process"
args=()
for r in "${REGIONS[@]}"; do
	read -r off len pat <<< "$r"
	args+=(-c "read -P $pat $off $len")
done
qemu_io "${args[@]}"

note "the untouched gap between two regions still reads as zeros"
qemu_io -c "read -P 0x00 9216 3584"

note "overwrite the middle of a region, check its neighbours are intact"
qemu_io -c "write -P 0x2c 5632 1024" -c "read -P 0x14 5120 512" \
	-c "read -P 0x2c 5632 1024" -c "read -P 0x14 6656 2560" -c "read -P 0x13 1536 3584"

stop_uscstd
echo "qemu_io: all checks passed"
