#!/bin/bash
# `make fuzz`: runs each libFuzzer harness of build-fuzz for a bounded time.
#
#   tests/fuzz/run_fuzz.sh BUILD_DIR
#
# Environment:
#   FUZZ_SECONDS   time per harness (default 60)
#   FUZZ_HARNESSES which ones (default: connection login_keys config chap scsi)
#   FUZZ_WORK      scratch directory (default BUILD_DIR/fuzz-work): new
#                  interesting inputs go to FUZZ_WORK/corpus/<harness>,
#                  crashes to FUZZ_WORK/crashes/<harness>-*; the repo's
#                  corpus is only read
#   FUZZ_FLAGS     more libFuzzer flags, e.g. "-fork=1 -ignore_crashes=1"
#                  to go on fuzzing past a known crash
#   FUZZ_MERGE=1   afterwards, merge into tests/fuzz/corpus/<harness> the
#                  scratch inputs that add coverage (libFuzzer -merge=1);
#                  review and commit them like any other change
#
# Prints, per harness, the executions run, the corpus size and whether it
# crashed; exits 1 if any did (the reproducer's path is printed: copy it to
# tests/fuzz/crashes/<harness>/ and see tests/fuzz/crashes/README.md).
set -u
cd "$(dirname "$0")/../.." || exit 1

BUILD_DIR=${1:?usage: $0 BUILD_DIR}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_HARNESSES=${FUZZ_HARNESSES:-"connection login_keys config chap scsi"}
FUZZ_WORK=${FUZZ_WORK:-$BUILD_DIR/fuzz-work}
# A sanitizer report is a crash for libFuzzer to save.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

failed=0
summary=""
for h in $FUZZ_HARNESSES; do
	exe=$BUILD_DIR/tests/fuzz/fuzz_$h
	seeds=tests/fuzz/corpus/$h
	work=$FUZZ_WORK/corpus/$h
	log=$FUZZ_WORK/fuzz_$h.log
	if [ ! -x "$exe" ]; then
		echo "run_fuzz: $exe missing (configure with -Dfuzzing=true)" >&2
		exit 1
	fi
	mkdir -p "$work" "$FUZZ_WORK/crashes"
	extra=()
	# Scripts of several connections need room for a few PDUs each.
	[ "$h" = connection ] && extra+=(-max_len=16384)
	echo "===== fuzz_$h: $FUZZ_SECONDS s (log: $log)"
	# The scratch corpus comes first: that is where libFuzzer adds inputs.
	# shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
	"$exe" "${extra[@]}" ${FUZZ_FLAGS:-} -max_total_time="$FUZZ_SECONDS" -timeout=30 \
		-print_final_stats=1 -artifact_prefix="$FUZZ_WORK/crashes/$h-" \
		"$work" "$seeds" > "$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	# -fork mode prints no final stats, only "#N: cov: ..." progress lines.
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -1)
	size=$(find "$work" "$seeds" -type f | wc -l)
	result="ok"
	if [ "$rc" != 0 ]; then
		failed=1
		artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
		result="FAILED (exit $rc): ${artifact:-see $log}"
		grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error|check failed|fuzz_connection:|fuzz_scsi:' \
			"$log" >&2
	fi
	line="fuzz_$h: ${execs:-?} executions, corpus $size inputs ($(ls "$seeds" | wc -l) in the repo), $result"
	echo "$line"
	summary="$summary$line"$'\n'
	if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$rc" = 0 ]; then
		before=$(ls "$seeds" | wc -l)
		"$exe" "${extra[@]}" -merge=1 "$seeds" "$work" >> "$log" 2>&1
		echo "fuzz_$h: merged into $seeds: $before -> $(ls "$seeds" | wc -l) inputs"
	fi
done
echo "===== fuzz summary"
printf '%s' "$summary"
exit $failed
