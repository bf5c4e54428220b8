#!/bin/bash
# WRITE SAME (10/16) on fileio, blockio and nullio: patterns over ranges
# of several 1 MiB chunks read back, NDOB zeros, "to the end", the
# maximum length, every refused field with its sense, a read-only LUN, an
# abort between chunks (write_same.py, our python initiator); then the
# target must still serve everyone (check_liveness).
. "$(dirname "$0")/lib.sh" "$@"

TGT_IQN=iqn.2026-11.test:writesame
# More than MAXIMUM WRITE SAME LENGTH (64 MiB), so that "through the last
# block" from LBA 0 is too long. Sparse until written.
IMG_SIZE=$((80 * 1024 * 1024))
truncate -s "$IMG_SIZE" "$WORKDIR/file.img" "$WORKDIR/block.img" "$WORKDIR/ro.img" \
	"$WORKDIR/wt.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE file0 {
		filename $WORKDIR/file.img
	}
	DEVICE ro0 {
		filename $WORKDIR/ro.img
	}
	DEVICE wt0 {
		filename $WORKDIR/wt.img
		write_through 1
	}
}
HANDLER vdisk_blockio {
	DEVICE block0 {
		filename $WORKDIR/block.img
	}
}
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb $((IMG_SIZE / 1024 / 1024))
	}
}

TARGET_DRIVER iscsi {
	enabled 1

	TARGET $TGT_IQN {
		enabled 1
		LUN 0 file0
		LUN 1 block0
		LUN 2 null0
		LUN 3 ro0 {
			read_only 1
		}
		LUN 4 wt0
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/write_same.py" "$PORT" "$TGT_IQN" "$INI1" "$IMG_SIZE"
# The refused Data-Out sizes are named in the log.
grep -q "WRITE SAME with 256 byte(s) of Data-Out for a 512-byte block: refused" "$LOG" ||
	fail "the refused Data-Out is not in the log"
LIVENESS_TARGET=$TGT_IQN check_liveness "after WRITE SAME" "$INI1" 400000000041
stop_uscstd
echo "write_same: all checks passed"
