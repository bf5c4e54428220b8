#!/bin/bash
# SANITIZE (every service action) and FORMAT UNIT on vdisk: data on the
# medium afterwards, the refusals of malformed CDBs and parameter lists,
# SANITIZE / FORMAT IN PROGRESS with progress seen from a second session
# during an IMMED job on a large LUN, the unit attention at its end, a
# sanitize going on through ABORT TASK and LUN RESET, and the failure
# modes of a sanitize and a format that run out of space (two LUNs on a
# small tmpfs of their own); sanitize.py, our python initiator. Then the
# daemon must still serve (check_liveness), and a sanitize that a stop cuts
# short runs again when uscstd starts again (sanitize_resume.sh: after a
# kill -9 too).
. "$(dirname "$0")/lib.sh" "$@"

TGT_IQN=iqn.2026-12.test:sanitize
TINY=$WORKDIR/tiny
mkdir -p "$TINY"
# The failure modes need a store that runs out of space: an 8 MiB tmpfs
# under LUNs of 16 MiB. Unmounted on every way out (lib.sh's cleanup then
# removes the directory).
mount -t tmpfs -o size=8m uscst-sanitize-test "$TINY" ||
	fail "cannot mount an 8 MiB tmpfs on $TINY (the failure mode checks need one; run as root)"
trap 'rc=$?; umount "$TINY" 2>/dev/null; (exit $rc); cleanup' EXIT

truncate -s 16M "$WORKDIR/small.img" "$WORKDIR/thin.img" "$TINY/thin.img" "$TINY/thick.img"
truncate -s 256M "$WORKDIR/big.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE small {
		filename $WORKDIR/small.img
	}
	DEVICE thin {
		filename $WORKDIR/thin.img
		thin_provisioned 1
	}
	DEVICE big {
		filename $WORKDIR/big.img
		background_rate_mb 64
	}
	DEVICE tinythin {
		filename $TINY/thin.img
		thin_provisioned 1
	}
	DEVICE tinythick {
		filename $TINY/thick.img
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
		LUN 0 small
		LUN 1 thin
		LUN 2 big
		LUN 3 tinythin
		LUN 4 tinythick
		LUN 5 null0
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf" --threads 2
timeout 400 python3 -B "$(dirname "$0")/sanitize.py" "$PORT" "$TGT_IQN" "$INI1" ||
	fail "sanitize.py failed"
# The failed jobs said why, naming the device.
grep -q "device tinythin: sanitize (overwrite) failed at LBA [0-9]*: No space left on device" "$LOG" ||
	fail "no log line for the failed sanitize"
grep -q "device tinythick: format (zeros) failed at LBA [0-9]*: No space left on device" "$LOG" ||
	fail "no log line for the failed format"
LIVENESS_TARGET=$TGT_IQN check_liveness "sanitize" "$INI1" 800e55000c0a
# A sanitize still running when uscstd stops (its session gone): the
# device is released once the job sees it destroyed, and uscstd exits 0.
timeout 60 python3 -B "$(dirname "$0")/sanitize.py" "$PORT" "$TGT_IQN" "$INI1" leave-running ||
	fail "could not leave a sanitize running"
stop_uscstd
grep -q "device big: destroyed during a sanitize (overwrite); the medium is left part-written" \
	"$LOG" || fail "uscstd stopped without saying the sanitize of big was cut short"
[ -f "$WORKDIR/state/medium/big" ] || fail "no record of the sanitize cut short"
for dev in small thin tinythin tinythick null0; do
	[ ! -e "$WORKDIR/state/medium/$dev" ] || fail "a record for $dev, whose jobs all ended"
done
# Started again: the sanitize of big runs again (SBC-4 4.11.2) and
# completes; its record goes with it.
start_uscstd -c "$WORKDIR/scst.conf" --threads 2
grep -q "device big: a sanitize (overwrite) did not complete before uscstd stopped .*: it starts again" "$LOG" ||
	fail "no log line for the interrupted sanitize found at start-up"
timeout 120 python3 -B "$(dirname "$0")/sanitize.py" "$PORT" "$TGT_IQN" "$INI1" after-restart ||
	fail "the restart after an interrupted sanitize"
stop_uscstd
[ ! -e "$WORKDIR/state/medium/big" ] || fail "the record stayed after the sanitize completed"
start_uscstd -c "$WORKDIR/scst.conf" --threads 2
timeout 60 python3 -B "$(dirname "$0")/sanitize.py" "$PORT" "$TGT_IQN" "$INI1" after-clear ||
	fail "the second restart"
stop_uscstd
# A record that does not parse still means a job that did not complete.
echo "not a record" > "$WORKDIR/state/medium/small"
start_uscstd -c "$WORKDIR/scst.conf" --threads 2
grep -q "device small: .*/medium/small is not a medium job record; taken as an interrupted sanitize (line 1: not \"uscst-medium-job 2\")" \
	"$LOG" || fail "no log line for the record that does not parse"
timeout 60 python3 -B "$(dirname "$0")/sanitize.py" "$PORT" "$TGT_IQN" "$INI1" garbage-record ||
	fail "a record that does not parse"
stop_uscstd
[ ! -e "$WORKDIR/state/medium/small" ] || fail "the record of small stayed after its sanitize"
echo "sanitize: all checks passed"
