#!/bin/bash
# Every test, twice: on the normal build and on an ASan+UBSan build, where
# any sanitizer report fails the test that caused it; then the tests of the
# 'multisession' suite (several sessions on two reactors) a third time, on
# a ThreadSanitizer build, where a data race fails the test. Ends with the
# one line CI reads:  N passed, N failed  (summed over the runs; a build
# that fails counts as one failed test). Also written to
# $BUILD_DIR/test-summary.txt.
set -u
cd "$(dirname "$0")/.." || exit 1

BUILD_DIR=${BUILD_DIR:-build}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
TSAN_BUILD_DIR=${TSAN_BUILD_DIR:-build-tsan}
passed=0
failed=0
skipped=0

# Sanitizer reports abort the process, so the test sees a failure.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
# A race report ends uscstd (exit status 66), so the test fails; the report
# is in the test's output (lib.sh prints it). second_deadlock_stack: both
# stacks of a lock-order inversion.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

# count TESTLOG: prints "passed failed skipped" from meson's testlog.json.
count() {
	python3 - "$1" <<'PY'
import json, sys
p = f = s = 0
with open(sys.argv[1]) as log:
    for line in log:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif r == "SKIP":
            s += 1
        else:
            f += 1
print(p, f, s)
PY
}

# run_suite DIR TIMEOUT_MULTIPLIER SUITE [meson setup options...]: the
# tests of meson suite SUITE, or all of them when SUITE is empty.
run_suite() {
	local dir=$1 mult=$2 suite=$3 p f s
	shift 3

	echo "===== tests in $dir"
	if [ ! -f "$dir/build.ninja" ] && ! meson setup "$dir" "$@"; then
		echo "===== $dir: meson setup FAILED"
		failed=$((failed + 1))
		return
	fi
	if ! ninja -C "$dir"; then
		echo "===== $dir: build FAILED"
		failed=$((failed + 1))
		return
	fi
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --print-errorlogs --timeout-multiplier "$mult" \
		${suite:+--suite "$suite"}
	if [ ! -s "$dir/meson-logs/testlog.json" ]; then
		echo "===== $dir: meson test produced no test log"
		failed=$((failed + 1))
		return
	fi
	read -r p f s < <(count "$dir/meson-logs/testlog.json")
	echo "===== $dir: OK: $p FAIL: $f SKIP: $s"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

run_suite "$BUILD_DIR" 1 ""
run_suite "$ASAN_BUILD_DIR" 3 "" -Db_sanitize=address,undefined -Db_lundef=false
# TSan slows uscstd 5 to 15 times: only the tests whose sessions share
# state across reactors, where a race can be.
run_suite "$TSAN_BUILD_DIR" 5 multisession -Db_sanitize=thread -Db_lundef=false

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
mkdir -p "$BUILD_DIR"
echo "$summary" > "$BUILD_DIR/test-summary.txt"
echo "$summary"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
