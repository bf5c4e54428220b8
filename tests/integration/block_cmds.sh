#!/bin/bash
# ORWRITE(16), WRITE ATOMIC(16), PRE-FETCH(10/16), READ DEFECT DATA(10/12),
# VPD 0x86 and the protection-information refusal matrix, on fileio,
# blockio and nullio, with the atomicity of ORWRITE and WRITE ATOMIC
# against a writer of another session (block_cmds.py, our python
# initiator); then the daemon must still serve (check_liveness).
. "$(dirname "$0")/lib.sh" "$@"

TGT_IQN=iqn.2026-12.test:blockcmds
truncate -s 64M "$WORKDIR/file.img" "$WORKDIR/block.img" "$WORKDIR/nv.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE file0 {
		filename $WORKDIR/file.img
	}
	DEVICE nv0 {
		filename $WORKDIR/nv.img
		nv_cache 1
	}
}
HANDLER vdisk_blockio {
	DEVICE block0 {
		filename $WORKDIR/block.img
	}
}
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb 64
	}
}

TARGET_DRIVER iscsi {
	enabled 1

	TARGET $TGT_IQN {
		enabled 1
		LUN 0 file0
		LUN 1 block0
		LUN 2 null0
		LUN 3 nv0
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf" --threads 2
timeout 300 python3 -B "$(dirname "$0")/block_cmds.py" "$PORT" "$TGT_IQN" "$INI1" \
	"${BLOCK_CMDS_ITERATIONS:-200}" "$WORKDIR/file.img" || fail "block_cmds.py failed"
LIVENESS_TARGET=$TGT_IQN check_liveness "block_cmds" "$INI1" 800e55000c09
stop_uscstd
echo "block_cmds: all checks passed"
