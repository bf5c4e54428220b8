#!/bin/bash
# physical_blocksize: what READ CAPACITY(16) and VPD page 0xb0 report for
# LUNs of every handler with and without it (block_geometry.py), and the
# values a configuration is refused for, with the reason.
. "$(dirname "$0")/lib.sh" "$@"

T=iqn.2026-12.test:geometry
truncate -s 16M "$WORKDIR/f.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_nullio {
	DEVICE n512 { size_mb 8; physical_blocksize 4096 }
	DEVICE n4k { size_mb 8; blocksize 4096 }
	DEVICE n4k64 { size_mb 8; blocksize 4096; physical_blocksize 65536 }
}
HANDLER vdisk_fileio {
	DEVICE f { filename $WORKDIR/f.img; physical_blocksize 2048 }
	DEVICE plain { filename $WORKDIR/f.img; read_only 1 }
}
TARGET_DRIVER iscsi {
	TARGET $T {
		enabled 1
		LUN 0 n512
		LUN 1 n4k
		LUN 2 n4k64
		LUN 3 f
		LUN 4 plain
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/block_geometry.py" "$PORT" "$T" 0:512:3 1:4096:0 2:4096:4 3:512:2 \
	4:512:0
stop_uscstd

# Refused: not a multiple of blocksize, smaller than it, not a power of two
# times it, more than 2^15 times it.
for bad in "blocksize 4096; physical_blocksize 2048" "physical_blocksize 1536" \
	"physical_blocksize 3072" "physical_blocksize 33554432"; do
	printf 'HANDLER vdisk_nullio {\n\tDEVICE d { size_mb 8; %s }\n}\n' "$bad" > "$WORKDIR/bad.conf"
	out=$("$USCSTD" -c "$WORKDIR/bad.conf" --listen 127.0.0.1:0 --rpc-socket none \
		--state-dir "$WORKDIR/state" 2>&1) && fail "'$bad' was accepted"
	grep -q "bad.conf:2: device 'd': physical_blocksize" <<< "$out" ||
		fail "'$bad': no reason naming physical_blocksize: $out"
	note "refused: $bad: $(grep -o "physical_blocksize .*" <<< "$out" | head -1)"
done
echo "block_geometry: all checks passed"
