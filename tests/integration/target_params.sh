#!/bin/bash
# A TARGET block's iSCSI attributes (TargetAlias, digests, burst and
# segment lengths, InitialR2T) shape the login and the data transfer,
# checked by target_params.py.
. "$(dirname "$0")/lib.sh" "$@"

IQN=iqn.2026-11.test:params
truncate -s 64M "$WORKDIR/disk.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $IQN {
		enabled 1
		TargetAlias "uscst test array"
		HeaderDigest None
		DataDigest CRC32C
		MaxBurstLength 131072
		FirstBurstLength 65536
		InitialR2T Yes
		MaxRecvDataSegmentLength 16384
		LUN 0 disk0
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"
note "login answers reflect the target's attributes"
run python3 -B "$(dirname "$0")/target_params.py" "$PORT" "$IQN" "$INI1"
stop_uscstd
echo "target_params: all checks passed"
