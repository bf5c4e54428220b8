#!/bin/bash
# MODE SELECT of every changeable caching and control field, with its
# effect (SWP refuses writes, D_SENSE switches the sense format), and
# saved pages across restarts of uscstd (mode_pages_saved.py has the
# phases): SP=1, SIGTERM, restart, current = saved; the defaults saved
# back; a corrupt saved file gets a log line naming it and the defaults,
# never a refusal to start or a crash. libiscsi's ModeSense6 passes
# before and after, nothing skipped; the daemon is still well at the end.
. "$(dirname "$0")/lib.sh" "$@"

T=iqn.2026-12.test:modepages
truncate -s 64M "$WORKDIR/m.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE mdisk { filename $WORKDIR/m.img }
}
TARGET_DRIVER iscsi {
	TARGET $T {
		enabled 1
		LUN 0 mdisk
	}
}
CONF
FILE=$WORKDIR/state/mode/mdisk
PY="$(dirname "$0")/mode_pages_saved.py"

modesense6() {
	local out
	out=$(timeout -k 5 120 iscsi-test-cu -d -t SCSI.ModeSense6 -i "$INI1" \
		"iscsi://127.0.0.1:$PORT/$T/0" 2>&1) || fail "SCSI.ModeSense6 ($1) failed: $out"
	grep -Eq "tests +5 +5 +5 +0 " <<< "$out" || fail "SCSI.ModeSense6 ($1): $out"
	! grep -Eq "SKIPPED|not changeable" <<< "$out" || fail "SCSI.ModeSense6 ($1) skipped: $out"
	note "SCSI.ModeSense6 ($1): $(grep -E "^ +tests" <<< "$out" | tr -s ' ')"
}

start_uscstd -c "$WORKDIR/scst.conf"
[ ! -e "$FILE" ] || fail "$FILE exists before anything was saved"
command -v iscsi-test-cu > /dev/null || fail "iscsi-test-cu is missing (libiscsi-bin)"
modesense6 "fresh"
run python3 -B "$PY" "$PORT" "$T" "$INI1" change
[ -s "$FILE" ] || fail "SP=1 left no $FILE"
note "saved file: $(tr '\n' ' ' < "$FILE")"
grep -qx "swp 1" "$FILE" || fail "$FILE does not hold swp 1"
stop_uscstd

start_uscstd -c "$WORKDIR/scst.conf"
grep -q "vdisk: mdisk: mode pages from the saved values" "$LOG" ||
	fail "no log line for the saved values at start-up"
run python3 -B "$PY" "$PORT" "$T" "$INI1" saved
grep -qx "swp 0" "$FILE" || fail "$FILE does not hold swp 0 after the defaults were saved"
modesense6 "after a restart"
stop_uscstd

# Corrupt files: each gets one log line naming the file and the reason,
# and the device starts from its defaults.
for bad in "garbage" "uscst-mode-pages 1\nwce 1\n" "uscst-mode-pages 1\nwce 1\nd_sense 0\nswp 0\nqam 2\ntst 0\nqerr 0\ntas 0\nua_intlck_ctrl 0\n" \
	"uscst-mode-pages 1\nwce 1\nwce 0\n" "uscst-mode-pages 7\n"; do
	printf "$bad" > "$FILE"
	: > "$LOG"
	start_uscstd -c "$WORKDIR/scst.conf"
	line=$(grep "vdisk: mdisk: saved mode pages not used, the defaults are: $FILE: " "$LOG") ||
		fail "corrupt file ($(printf "$bad" | head -c 40 | tr '\n' ' ')): no log line naming it"
	note "refused: ${line#*: the defaults are: }"
	run python3 -B "$PY" "$PORT" "$T" "$INI1" defaults
	stop_uscstd
done

# A save that cannot be written (mode/ is a file, not a directory): the
# command fails, the log says why, nothing else changes.
rm -f "$FILE"
rmdir "$WORKDIR/state/mode"
echo "not a directory" > "$WORKDIR/state/mode"
start_uscstd -c "$WORKDIR/scst.conf"
run python3 -B "$PY" "$PORT" "$T" "$INI1" savefail
line=$(grep "vdisk: mdisk: mode pages not saved: " "$LOG") || fail "no log line for the failed save"
note "failed save: ${line#*: mode pages not saved: }"
stop_uscstd
rm "$WORKDIR/state/mode"

start_uscstd -c "$WORKDIR/scst.conf"
LIVENESS_TARGET=$T check_liveness "after the saved mode pages" "$INI1" 80023d000078
stop_uscstd
echo "mode_pages_saved: all checks passed"
