#!/bin/bash
# config.apply, config.write and SIGHUP on a running uscstd with a session
# logged in (mgmt_config.py): a written configuration checks with no step,
# a changed file applies exactly its difference (and the session sees it),
# a bad file changes nothing, SIGHUP logs and applies the same steps.
. "$(dirname "$0")/lib.sh" "$@"

truncate -s 64M "$WORKDIR/d0.img"
python3 -B "$(dirname "$0")/mgmt_config.py" --file-a "$WORKDIR/d0.img" > "$WORKDIR/scst.conf"
start_uscstd --threads 2 -c "$WORKDIR/scst.conf"
run python3 -B "$(dirname "$0")/mgmt_config.py" "$RPC_SOCKET" "$PORT" "$USCSTD_PID" \
	"$WORKDIR/scst.conf" "$LOG" "$WORKDIR/d0.img"
check_alive "after the configuration changes"
LIVENESS_TARGET=iqn.2026-12.test:cfg1 check_liveness "after the configuration changes" \
	iqn.2026-12.test:cfg-ini 80000000c001 || fail "liveness after the configuration changes"
stop_uscstd
echo "mgmt_config: all checks passed"
