#!/bin/bash
# A SANITIZE cut short by kill -9 runs again when uscstd starts again with
# the same state directory (SBC-4 4.11.2); records of a failed sanitize, of
# an older uscst (version 1) and of a format cut short mean their failure
# modes instead; the 10 s drain of vdisk_medium_job.c, reached with a WRITE
# whose Data-Out is held (sanitize_resume.py, our python initiator). Then
# the daemon must still serve (check_liveness).
. "$(dirname "$0")/lib.sh" "$@"

TGT_IQN=iqn.2026-12.test:sanitizeresume
truncate -s 64M "$WORKDIR/slow.img"
truncate -s 16M "$WORKDIR/drain.img" "$WORKDIR/failed.img" "$WORKDIR/v1.img" "$WORKDIR/format.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE slow {
		filename $WORKDIR/slow.img
		background_rate_mb 8
	}
	DEVICE drain {
		filename $WORKDIR/drain.img
	}
	DEVICE failed {
		filename $WORKDIR/failed.img
	}
	DEVICE v1 {
		filename $WORKDIR/v1.img
	}
	DEVICE format {
		filename $WORKDIR/format.img
	}
}

TARGET_DRIVER iscsi {
	enabled 1

	TARGET $TGT_IQN {
		enabled 1
		LUN 0 slow
		LUN 1 drain
		LUN 2 failed
		LUN 3 v1
		LUN 4 format
	}
}
CONF
client() {
	timeout 120 python3 -B "$(dirname "$0")/sanitize_resume.py" "$PORT" "$TGT_IQN" "$INI1" "$1" ||
		fail "sanitize_resume.py $1 failed"
}

start_uscstd -c "$WORKDIR/scst.conf" --threads 2
client start
REC=$WORKDIR/state/medium/slow
[ -f "$REC" ] || fail "no record of the running sanitize"
grep -qx "job 1 3 1 0 5aa50f" "$REC" || fail "the record does not say what the job writes: $(cat "$REC")"
kill -KILL "$USCSTD_PID"
wait "$USCSTD_PID" 2>/dev/null
USCSTD_PID=
# What the other LUNs' records say: written as uscstd writes them.
printf 'uscst-medium-job 2\nsanitize 1\n' > "$WORKDIR/state/medium/failed"
printf 'uscst-medium-job 1\nsanitize 0\n' > "$WORKDIR/state/medium/v1"
printf 'uscst-medium-job 2\nformat 0\njob 0 1 0 0 -\n' > "$WORKDIR/state/medium/format"
start_uscstd -c "$WORKDIR/scst.conf" --threads 2
grep -q "device slow: a sanitize (overwrite) did not complete before uscstd stopped .*: it starts again" "$LOG" ||
	fail "no log line for the sanitize resumed"
grep -q "device slow: sanitize (overwrite) of 131072 blocks resumed from its first pass" "$LOG" ||
	fail "no log line for the start of the resumed sanitize"
for dev in failed v1; do
	grep -q "device $dev: a sanitize did not complete before uscstd stopped .*failure mode" "$LOG" ||
		fail "no failure-mode line for $dev"
done
grep -q "device format: a format did not complete before uscstd stopped .*failure mode" "$LOG" ||
	fail "no failure-mode line for the format"
client resumed
grep -q "device slow: sanitize (overwrite) done" "$LOG" || fail "the resumed sanitize did not say it is done"
for _ in $(seq 50); do [ -e "$REC" ] || break; sleep 0.1; done
[ ! -e "$REC" ] || fail "the record stayed after the resumed sanitize completed"
for dev in failed v1 format; do
	for _ in $(seq 50); do [ -e "$WORKDIR/state/medium/$dev" ] || break; sleep 0.1; done
	[ ! -e "$WORKDIR/state/medium/$dev" ] || fail "the record of $dev stayed after its way out"
done
client drain
grep -q "device drain: commands from before the sanitize (block erase: zeros) still active after 10 s; it starts anyway" "$LOG" ||
	fail "no log line for the drain that gave up"
[ "$(grep -c "still active after 10 s" "$LOG")" = 1 ] ||
	fail "the drain cut short by the WRITE's end gave up all the same"
LIVENESS_TARGET=$TGT_IQN check_liveness "sanitize_resume" "$INI1" 800e55000c0c
stop_uscstd
echo "sanitize_resume: all checks passed"
