#!/bin/bash
# VERIFY reads the medium: MEDIUM ERROR where it cannot, chunked reads over
# long ranges, miscompares named to the byte, ABORT TASK of a long VERIFY
# answered at once, nullio's VERIFY at once (verify_medium.py, our python
# initiator: libiscsi's tools cannot cut a LUN's file short in between).
. "$(dirname "$0")/lib.sh" "$@"

TGT_IQN=iqn.2026-11.test:verify
IMG_SIZE=$((8 * 1024 * 1024))
BLOCKS_2TIB=$((1 << 32))
truncate -s "$IMG_SIZE" "$WORKDIR/file.img" "$WORKDIR/block.img"
# Sparse: only the blocks the test reads ever exist.
truncate -s $((BLOCKS_2TIB * 512)) "$WORKDIR/huge.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE file0 {
		filename $WORKDIR/file.img
	}
}
HANDLER vdisk_blockio {
	DEVICE block0 {
		filename $WORKDIR/block.img
	}
	DEVICE huge0 {
		filename $WORKDIR/huge.img
	}
}
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb $((BLOCKS_2TIB * 512 / 1024 / 1024))
	}
}

TARGET_DRIVER iscsi {
	enabled 1

	TARGET $TGT_IQN {
		enabled 1
		LUN 0 file0
		LUN 1 block0
		LUN 2 huge0
		LUN 3 null0
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/verify_medium.py" "$PORT" "$TGT_IQN" "$INI1" \
	"$WORKDIR/file.img" "$WORKDIR/block.img" "$IMG_SIZE"
grep -q "device file0: read at LBA $(( (5 * 1024 * 1024 + 3 * 512) / 512 )) failed" "$LOG" ||
	fail "the failed read is not in the log"
stop_uscstd
echo "verify_medium: all checks passed"
