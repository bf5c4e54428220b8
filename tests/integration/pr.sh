#!/bin/bash
# Reservations from libiscsi's C API, one scenario per run: persistent
# reservations (pr_scenarios.c) or SPC-2 RESERVE/RELEASE (reserve_spc2.c), on
# one vdisk exported by two targets (two target ports, rel_tgt_id 1 and
# 2), three initiators with two ISIDs each.
#   pr.sh USCSTD PR_RULES|RESERVE_SPC2 SCENARIO [fileio|blockio|nullio]
# After the scenario: uscstd is alive, serves a new login and a LUN reset
# (check_liveness), and exits 0 on SIGTERM.
. "$(dirname "$0")/lib.sh" "$@"
RULES=${2:?usage: $0 USCSTD PR_RULES SCENARIO [MODE]}
SCENARIO=${3:?usage: $0 USCSTD PR_RULES SCENARIO [MODE]}
MODE=${4:-fileio}
T1=iqn.2026-12.test:pr-t1
T2=iqn.2026-12.test:pr-t2

case "$MODE" in
fileio|blockio) truncate -s 64M "$WORKDIR/disk0.img"; device="filename $WORKDIR/disk0.img" ;;
nullio) device="size_mb 64" ;;
*) fail "unknown mode '$MODE'" ;;
esac
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_$MODE {
	DEVICE disk0 {
		$device
	}
}

TARGET_DRIVER iscsi {
	enabled 1
	TARGET $T1 {
		enabled 1
		rel_tgt_id 1
		LUN 0 disk0
	}
	TARGET $T2 {
		enabled 1
		rel_tgt_id 2
		LUN 0 disk0
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf"
PROG=$(basename "$RULES")
note "$PROG $SCENARIO ($MODE)"
timeout -k 5 "${PR_TIMEOUT:-240}" "$RULES" "127.0.0.1:$PORT" "$T1" "$T2" "$SCENARIO"
rc=$?
[ "$rc" = 0 ] || fail "$PROG $SCENARIO ($MODE): exit $rc (the FAIL lines above)"
LIVENESS_TARGET=$T1 check_liveness "$PROG $SCENARIO" iqn.2026-12.test:pr-a 80a0000000ff
stop_uscstd
