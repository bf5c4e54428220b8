#!/bin/bash
# COMPARE AND WRITE on fileio, blockio and nullio: the compare, the
# miscompare's offset in both sense formats, the refusals, and its
# atomicity against every writer of the device: 4 sessions on 2 reactors
# counting with it on one block while 2 more write around it, no update
# lost; a waiting one ended by ABORT TASK and by its session's end
# (compare_and_write.py, our python initiator).
. "$(dirname "$0")/lib.sh" "$@"

TGT_IQN=iqn.2026-12.test:caw
# Larger than MAXIMUM WRITE SAME LENGTH (64 MiB): the long writer the
# abort test needs. Sparse.
truncate -s 128M "$WORKDIR/file.img" "$WORKDIR/block.img" "$WORKDIR/ro.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE file0 {
		filename $WORKDIR/file.img
	}
	DEVICE ro0 {
		filename $WORKDIR/ro.img
		read_only 1
	}
}
HANDLER vdisk_blockio {
	DEVICE block0 {
		filename $WORKDIR/block.img
	}
}
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb 128
	}
}

TARGET_DRIVER iscsi {
	enabled 1

	TARGET $TGT_IQN {
		enabled 1
		LUN 0 file0
		LUN 1 block0
		LUN 2 null0
		LUN 3 ro0
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf" --threads 2
timeout 300 python3 -B "$(dirname "$0")/compare_and_write.py" "$PORT" "$TGT_IQN" "$INI1" \
	"${CAW_SECONDS:-5}" || fail "compare_and_write.py failed"
LIVENESS_TARGET=$TGT_IQN check_liveness "compare_and_write" "$INI1" 800e55000c01
stop_uscstd
echo "compare_and_write: all checks passed"
