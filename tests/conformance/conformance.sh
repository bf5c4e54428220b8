#!/bin/bash
# libiscsi's iscsi-test-cu over one configuration of a LUN (issue 9):
#   conformance.sh USCSTD fileio|blockio|nullio|readonly|removable|chap|chap_mutual
#
#   fileio     a read-write thin-provisioned fileio LUN: every SCSI suite
#              but the ones below that need another LUN, and the iSCSI ones
#   blockio    thin vdisk_blockio: the suites the medium decides (reads,
#              writes, verifies, WRITE SAME, COMPARE AND WRITE, reservations)
#              and the iSCSI ones
#   nullio     thin vdisk_nullio: the same less those that read back data,
#              and the iSCSI suites
#   readonly   a read-only thin fileio LUN: SCSI.ReadOnly
#   removable  a removable thin fileio LUN: SCSI.PreventAllow, NoMedia,
#              StartStopUnit
#   chap       fileio behind a target that requires CHAP (IncomingUser):
#              the iSCSI suites and the quick SCSI ones that log in more
#              than once (CHAP_SUITES), every login with MD5 CHAP
#   chap_mutual the same with mutual CHAP (OutgoingUser): libiscsi checks
#              the target's answer (LIBISCSI_CHAP_TARGET_USERNAME/PASSWORD)
#
# Every suite runs with --dataloss and --allow-sanitize, and -V: libiscsi
# prints some of its "[SKIPPED]" lines (a LUN too small, not removable, no
# alignment restrictions) only at its verbose level. Each suite runs under
# its own timeout. Each test of the suite's listing (iscsi-test-cu --list) must
# pass: a FAIL, a SKIP ("[SKIPPED]" printed), a hang, a crash of
# iscsi-test-cu, a test that never ran, a uscstd that died, or one that
# fails check_liveness at the end (a leaked session or command, its RSS)
# fails the test. The only exceptions are the lines of not_yet.txt (tests
# that wait for a command a colleague is building), and a test listed there
# that passes fails the run too: the list can only shrink.
#
# Every verdict is printed as "result: CONFIG TEST RESULT [NOTE]", from
# which gen_doc.py writes docs/conformance.md.
HERE=$(cd "$(dirname "$0")" && pwd)
# not_yet.txt's patterns may use @(a|b).
shopt -s extglob
. "$HERE/../integration/lib.sh" "$@"

CONFIG=${2:?usage: $0 USCSTD fileio|blockio|nullio|readonly|removable|chap|chap_mutual}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-240}
NOT_YET=${NOT_YET:-$HERE/not_yet.txt}
TGT_IQN=iqn.2026-11.test:conformance

# The suites of the SCSI family that need a LUN of their own.
READONLY_SUITES="SCSI.ReadOnly"
REMOVABLE_SUITES="SCSI.PreventAllow SCSI.NoMedia SCSI.StartStopUnit"
ISCSI_SUITES="iSCSI.iSCSIcmdsn iSCSI.iSCSIdatasn iSCSI.iSCSIResiduals iSCSI.iSCSITMF"
# What blockio and nullio run (what conformance.sh ran before issue 9):
# the suites whose outcome depends on the medium. Reservations check
# statuses and keys, never data read back, so they run on nullio too.
MEDIUM_BASIC_SUITES="SCSI.Inquiry SCSI.Mandatory SCSI.ModeSense6 SCSI.Read6 SCSI.Read10
	SCSI.Read12 SCSI.Read16 SCSI.ReadCapacity10 SCSI.ReadCapacity16
	SCSI.TestUnitReady SCSI.Verify10 SCSI.Verify12 SCSI.Verify16 SCSI.Write10
	SCSI.Write12 SCSI.Write16 SCSI.WriteSame10 SCSI.WriteSame16 SCSI.WriteVerify10
	SCSI.WriteVerify12 SCSI.WriteVerify16
	SCSI.Reserve6 SCSI.PrinReadKeys SCSI.PrinServiceactionRange
	SCSI.PrinReportCapabilities SCSI.ProutRegister SCSI.ProutReserve SCSI.ProutClear
	SCSI.ProutPreempt"
# Suites whose every test reads back or compares with what it wrote: not
# on nullio, where they can only fail.
READBACK_SUITES="SCSI.CompareAndWrite SCSI.MultipathIO"
# Suites given a second URL to the same LUN: a second session (I_T nexus),
# without which iscsi-test-cu skips every test of MultipathIO. Reserve6
# (2Initiators), ProutReserve (access and ownership per type) and
# ProutPreempt act from two initiators: given the second URL, that nexus
# (-I $INI2) is logged in by the suite's set-up rather than by each test.
MPATH_SUITES="SCSI.MultipathIO SCSI.Reserve6 SCSI.ProutReserve SCSI.ProutPreempt"
# Through CHAP: the iSCSI suites (iSCSITMF logs in a second session,
# iSCSIcmdsn and iSCSIdatasn reconnect after the errors they provoke), and
# the SCSI suites that take little time, among them those that log in
# from two initiators (MultipathIO, Reserve6) or reconnect.
CHAP_SUITES="SCSI.Inquiry SCSI.TestUnitReady SCSI.ReadCapacity10 SCSI.ReadCapacity16
	SCSI.Read10 SCSI.Write10 SCSI.Mandatory SCSI.Reserve6 SCSI.MultipathIO"
# The CHAP configurations' credentials. Secrets are at least 12 bytes
# (RFC 7143 12.1.3's 96 bits), and the target's differs from the
# initiator's, as uscstd demands.
CHAP_USER=confuzz-ini
CHAP_SECRET=initiator-secret-12
CHAP_TARGET_USER=confuzz-tgt
CHAP_TARGET_SECRET=target-secret-1234
# A target without CHAP on the same LUN, for check_liveness (liveness.py
# speaks no CHAP).
OPEN_IQN=$TGT_IQN-open

iscsi-test-cu --list > "$WORKDIR/list" 2>/dev/null || fail "iscsi-test-cu --list failed"
# For docs/conformance.md (gen_doc.py).
echo "info: iscsi-test-cu of libiscsi-bin $(dpkg-query -W -f '${Version}' libiscsi-bin 2>/dev/null || echo '(version unknown)')"
echo "info: uscst source tree at commit $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '(not a git tree)')"
grep -q '^SCSI\.[^.]*$' "$WORKDIR/list" || fail "iscsi-test-cu --list shows no SCSI suite"

# in_list WORD LIST...: WORD is one of the words of LIST.
in_list() {
	local w=$1
	shift
	[[ " $(echo $*) " == *" $w "* ]]
}

# The not-yet list: "CONFIG TEST PIECE REASON..." per line ('#' comments).
# CONFIG is a configuration or '*'; TEST a test (SCSI.Suite.Test), a
# suite's tests (SCSI.Suite.*), or "attr:NAME" for a device attribute the
# configuration would set and uscstd does not know yet.
not_yet_lines() {
	[ -f "$NOT_YET" ] || fail "$NOT_YET is missing"
	awk -v c="$CONFIG" '!/^[ \t]*(#|$)/ && ($1 == c || $1 == "*")' "$NOT_YET"
}

# not_yet TEST: prints "PIECE REASON" of the line that lists TEST for this
# configuration; returns 1 when none does.
not_yet() {
	local cfg pat piece reason
	while read -r cfg pat piece reason; do
		# shellcheck disable=SC2053 # the pattern is a glob on purpose
		if [[ $1 == $pat ]]; then
			echo "$piece $reason"
			return 0
		fi
	done < <(not_yet_lines)
	return 1
}

# attr_known HANDLER ATTRIBUTE VALUE: uscstd accepts ATTRIBUTE on a device
# of HANDLER (a file of its own on a port nobody uses; uscstd refuses an
# unknown attribute at once, naming it, and is killed after 3 s otherwise).
attr_known() {
	local dir=$WORKDIR/probe out dev="filename $WORKDIR/probe/d.img"
	mkdir -p "$dir/state"
	truncate -s 1M "$dir/d.img"
	[ "$1" = vdisk_nullio ] && dev="size_mb 1"
	printf 'HANDLER %s {\n\tDEVICE probe {\n\t\t%s\n\t\t%s %s\n\t}\n}\n' \
		"$1" "$dev" "$2" "$3" > "$dir/p.conf"
	out=$(timeout -k 2 3 "$USCSTD" -c "$dir/p.conf" --listen "127.0.0.1:$(free_port)" \
		--state-dir "$dir/state" --rpc-socket none 2>&1 < /dev/null)
	! grep -q "unknown attribute '$2'" <<< "$out"
}

bad=()
dev_attrs=()
# want_attr HANDLER NAME VALUE: the device gets "NAME VALUE", unless the
# not-yet list says uscstd does not know NAME yet (checked: a listed
# attribute that uscstd now accepts is a problem, and is set).
want_attr() {
	local why
	if why=$(not_yet "attr:$2"); then
		if ! attr_known "$1" "$2" "$3"; then
			echo "result: $CONFIG attr:$2 NOTYET not-yet: $why"
			return
		fi
		bad+=("attr:$2:accepted-now-remove-it-from-not_yet.txt")
	fi
	dev_attrs+=("$2 $3")
}

lun_attrs=()
case "$CONFIG" in
fileio|readonly|removable|chap|chap_mutual)
	handler=vdisk_fileio
	dev_attrs=("filename $WORKDIR/disk0.img")
	;;
blockio)
	handler=vdisk_blockio
	dev_attrs=("filename $WORKDIR/disk0.img")
	;;
nullio)
	handler=vdisk_nullio
	dev_attrs=("size_mb 1024")
	;;
*) fail "unknown configuration '$CONFIG' (fileio, blockio, nullio, readonly, removable, chap or chap_mutual)" ;;
esac
# 512-byte logical blocks in 4 KiB physical ones: WRITE SAME's unaligned
# UNMAP and InvalidDataOutSize tests skip unless LOGICAL BLOCKS PER
# PHYSICAL BLOCK is 2 or more.
dev_attrs+=("physical_blocksize 4096")
case "$CONFIG" in
fileio)
	want_attr $handler thin_provisioned 1
	# SANITIZE paced at 128 MB/s: libiscsi's Sanitize.Reset sleeps 3 s
	# after its OVERWRITE and expects it to outlast resets and a
	# reconnection; unpaced, the 1 GiB LUN is overwritten in about 0.8 s.
	want_attr $handler background_rate_mb 128
	SUITES=$(sed -n 's/^\(SCSI\.[^.]*\)$/\1/p' "$WORKDIR/list" |
		grep -vxF $(printf -- '-e %s ' $READONLY_SUITES $REMOVABLE_SUITES))
	SUITES="$SUITES $ISCSI_SUITES"
	;;
blockio)
	want_attr $handler thin_provisioned 1
	SUITES="$MEDIUM_BASIC_SUITES $READBACK_SUITES $ISCSI_SUITES"
	;;
nullio)
	want_attr $handler thin_provisioned 1
	SUITES="$MEDIUM_BASIC_SUITES $ISCSI_SUITES"
	;;
readonly)
	# Thin, so that UNMAP and WRITE SAME's UNMAP are refused for being
	# writes, not for a LUN that cannot unmap.
	want_attr $handler thin_provisioned 1
	lun_attrs=("read_only 1")
	SUITES=$READONLY_SUITES
	;;
removable)
	want_attr $handler thin_provisioned 1
	want_attr $handler removable 1
	SUITES=$REMOVABLE_SUITES
	;;
chap|chap_mutual)
	want_attr $handler thin_provisioned 1
	SUITES="$ISCSI_SUITES $CHAP_SUITES"
	;;
esac
chap=0
case "$CONFIG" in chap|chap_mutual) chap=1 ;; esac
# Every suite named must exist in this iscsi-test-cu; the tests of them
# all, one a line.
: > "$WORKDIR/tests_here"
for s in $SUITES; do
	grep -qxF "$s" "$WORKDIR/list" || fail "iscsi-test-cu has no suite $s"
	grep -E "^${s//./\\.}\.[^.]+$" "$WORKDIR/list" >> "$WORKDIR/tests_here"
done

# LUN 1 (fileio only): disk0's twin with 512-byte physical blocks, for
# the suites in LBPPB1_SUITES. libiscsi's GetLBAStatus.UnmapSingle asks
# for the status from LBA i + 1 after unmapping LBAs 0 to i - 1 and wants
# the first descriptor to start at i + LBPPB, where SBC-4 (5.7, GET LBA
# STATUS) has it start at the STARTING LOGICAL BLOCK ADDRESS, i + 1: the
# two agree only when LBPPB is 1.
LBPPB1_SUITES="SCSI.GetLBAStatus"
twin=0
[ "$CONFIG" = fileio ] && twin=1
[ "$CONFIG" = nullio ] || truncate -s 1G "$WORKDIR/disk0.img"
[ "$twin" = 1 ] && truncate -s 1G "$WORKDIR/disk1.img"
{
	echo "# generated by $(basename "$0") for the $CONFIG configuration"
	echo "HANDLER $handler {"
	echo "	DEVICE disk0 {"
	printf '\t\t%s\n' "${dev_attrs[@]}"
	echo "	}"
	if [ "$twin" = 1 ]; then
		echo "	DEVICE disk1 {"
		printf '\t\t%s\n' "${dev_attrs[@]}" |
			sed -e '/physical_blocksize/d' -e 's/disk0\.img/disk1.img/'
		echo "	}"
	fi
	echo "}"
	echo
	echo "TARGET_DRIVER iscsi {"
	echo "	enabled 1"
	echo
	echo "	TARGET $TGT_IQN {"
	echo "		enabled 1"
	if [ ${#lun_attrs[@]} -gt 0 ]; then
		echo "		LUN 0 disk0 {"
		printf '\t\t\t%s\n' "${lun_attrs[@]}"
		echo "		}"
	else
		echo "		LUN 0 disk0"
	fi
	[ "$twin" = 1 ] && echo "		LUN 1 disk1"
	if [ "$chap" = 1 ]; then
		echo "		IncomingUser \"$CHAP_USER $CHAP_SECRET\""
		[ "$CONFIG" = chap_mutual ] &&
			echo "		OutgoingUser \"$CHAP_TARGET_USER $CHAP_TARGET_SECRET\""
	fi
	echo "	}"
	if [ "$chap" = 1 ]; then
		echo "	TARGET $OPEN_IQN {"
		echo "		enabled 1"
		echo "		LUN 0 disk0"
		echo "	}"
	fi
	echo "}"
} > "$WORKDIR/scst.conf"

# target_url USER%SECRET@ or '': the LUN 0 URL of the target under test.
target_url() {
	echo "iscsi://${1}127.0.0.1:$PORT/$TGT_IQN/0"
}

start_uscstd -c "$WORKDIR/scst.conf"
URL=$(target_url "")
if [ "$chap" = 1 ]; then
	URL=$(target_url "$CHAP_USER%$CHAP_SECRET@")
	# The target really requires CHAP, and libiscsi really checks the
	# target's answer: otherwise every suite below could pass without
	# authenticating anyone.
	# refused WHAT URL [ENV...]: iscsi-inq must fail to log in.
	refused() {
		local what=$1 url=$2 out
		shift 2
		out=$(env "$@" timeout -k 5 "$CMD_TIMEOUT" iscsi-inq -i "$INI1" "$url" 2>&1) &&
			fail "$CONFIG: a login $what succeeded: $out"
		echo "info: $CONFIG: refused as it must be, a login $what:" \
			"$(head -n 1 <<< "$out" | cut -c 1-160)"
	}
	refused "without credentials" "$(target_url "")"
	refused "with a wrong secret" "$(target_url "$CHAP_USER%wrong-secret-123@")"
	refused "as an unknown user" "$(target_url "nobody%$CHAP_SECRET@")"
	if [ "$CONFIG" = chap_mutual ]; then
		# libiscsi compares the target's CHAP_R with the one it computed
		# from the secret it was given: a wrong one must end the login.
		refused "expecting another target secret" "$URL" \
			LIBISCSI_CHAP_TARGET_USERNAME="$CHAP_TARGET_USER" \
			LIBISCSI_CHAP_TARGET_PASSWORD=not-the-target-secret
		export LIBISCSI_CHAP_TARGET_USERNAME=$CHAP_TARGET_USER
		export LIBISCSI_CHAP_TARGET_PASSWORD=$CHAP_TARGET_SECRET
	fi
fi
run iscsi-inq -i "$INI1" "$URL" > /dev/null

# iscsi-test-cu runs unbuffered (stdbuf) so that a test's own messages
# stay between its "Test:" header and its verdict.
#
# classify SUITE OUTPUT STATUS: prints "FULL.TEST.NAME RESULT [WHY]" per
# test expected in the suite, RESULT one of PASS SKIP FAIL HANG CRASH
# NOTRUN, WHY the first "[SKIPPED]"/"[FAILED]" line of a test that did not
# pass.
# CUnit prints "  Test: NAME ..." and then, possibly after the test's own
# output, the verdict "passed" or "FAILED" (at the start of a line or right
# after the header) with no newline; libiscsi prints "[SKIPPED]" for a test
# it skipped. Its PR and RESERVE tests end with CU_PASS("PERSISTENT
# RESERVE OUT is not implemented.") when a helper found the command
# refused; the helper's line ("PERSISTENT RESERVE IN is not implemented",
# "PROUT Not Supported", "RESERVE6 is not implemented") counts as a skip
# even without its "[SKIPPED]", so that a target without reservations
# cannot pass them.
classify() {
	local suite=$1 out=$2 status=$3

	grep -E "^${suite//./\\.}\.[^.]+$" "$WORKDIR/list" > "$WORKDIR/expected"
	awk -v suite="$suite" -v status="$status" -v expf="$WORKDIR/expected" '
	function verdict(res) {
		if (cur == "") return
		if (res == "passed") res = skipped ? "SKIP" : "PASS"
		else if (res == "FAILED") res = "FAIL"
		print suite "." cur, res, (res == "PASS" ? "" : why)
		seen[suite "." cur] = 1
		cur = ""
	}
	{
		line = $0
		if (match(line, /^  Test: [^ ]+ \.\.\./)) {
			verdict("CRASH")
			cur = substr(line, 9, RLENGTH - 12)
			skipped = 0
			why = ""
			line = substr(line, RSTART + RLENGTH)
		}
		if (cur == "") next
		# The first reason libiscsi gave, for the report.
		if (why == "" && match(line, /\[(SKIPPED|SKIPPING|FAILED)\].*/)) {
			why = substr(line, RSTART, RLENGTH)
			gsub(/[ \t]+/, " ", why)
		}
		# What follows a verdict on its line is printed by the next
		# set-up or the suite clean-up, not by this test.
		if (line ~ /^passed/) verdict("passed")
		else if (line ~ /^FAILED/) verdict("FAILED")
		else if (line ~ /\[SKIPP(ED|ING)\]|PERSISTENT RESERVE (IN|OUT) is not implemented|PROUT Not Supported|RESERVE6 is not/) skipped = 1
	}
	END {
		verdict(status)
		while ((getline t < expf) > 0)
			if (!(t in seen)) print t, "NOTRUN"
	}' "$out"
}

# vdisk_nullio keeps no data: reads return zeros. The residual write tests
# end by reading back what they wrote; on nullio exactly those read-back
# checks must fail, and nothing else may: the residual flags and counts,
# the status and the sense are still checked. Each of these tests must
# FAIL with exactly its expected assertions, in order (file and message;
# libiscsi's line numbers are left out); passing, failing with any other
# assertion, one fewer or one more, or not running is a problem.
NULLIO_READBACK_TESTS="iSCSI.iSCSIResiduals.Write10Residuals iSCSI.iSCSIResiduals.Write12Residuals
	iSCSI.iSCSIResiduals.Write16Residuals iSCSI.iSCSIResiduals.WriteVerify10Residuals
	iSCSI.iSCSIResiduals.WriteVerify12Residuals iSCSI.iSCSIResiduals.WriteVerify16Residuals
	SCSI.WriteSame10.Check SCSI.WriteSame16.Check"

# nullio_expected_assertions TEST: the assertion lines TEST must fail with
# on nullio, as test_assertions prints them. Every residual write test
# checks its two blocks twice (the overflow and the underflow case). The
# WRITE SAME checks write blocks of byte i (i = 1..256) at the start and at
# the end of the LUN and compare i bytes read back: all but i = 256 (byte
# 0, what nullio reads) differ.
nullio_expected_assertions() {
	local file

	case $1 in
	SCSI.WriteSame*.Check)
		file=$(sed -E 's/^SCSI\.WriteSame([0-9]+)\.Check$/test_writesame\1_check.c/' <<< "$1")
		for _ in $(seq 510); do
			echo "$file: CU_ASSERT_EQUAL(0,memcmp(read_buf, scratch, i))"
		done
		return
		;;
	esac
	file=$(sed -E 's/^.*\.(Write|WriteVerify)([0-9]+)Residuals$/test_\L\1\2_residuals.c/' <<< "$1")
	for _ in 1 2; do
		echo "$file: CU_FAIL(\"Block was not written correctly\")"
		echo "$file: CU_FAIL(\"Second block was incorrectly overwritten\")"
	done
}

# test_assertions TEST OUTPUT: the failed assertions CUnit listed for TEST
# (after its verdict, before the next test's header) in OUTPUT, as
# "FILE: ASSERTION", without the line number and without what a later
# set-up printed on the same line.
test_assertions() {
	awk -v want="${1##*.}" '
	match($0, /^  Test: [^ ]+ \.\.\./) { cur = substr($0, 9, RLENGTH - 12); next }
	cur == want' "$2" |
		sed -nE 's/^ *[0-9]+\. (test_[^ :]+):[0-9]+ +- (.*)$/\1: \2/p' |
		sed -E 's/ {3,}.*$//'
}

# nullio_readback_test TEST: TEST is one of the read-back tests (on nullio).
nullio_readback_test() {
	[ "$CONFIG" = nullio ] && in_list "$1" $NULLIO_READBACK_TESTS
}

# nullio_readback_only TEST OUTPUT: TEST failed with exactly the expected
# read-back assertions in OUTPUT.
nullio_readback_only() {
	[ "$(test_assertions "$1" "$2")" = "$(nullio_expected_assertions "$1")" ]
}

readback_seen=()
total=0
passed=0
notyet=0
started=$SECONDS
for suite in $SUITES; do
	out=$WORKDIR/out.$suite
	lun_url=$URL
	[ "$twin" = 1 ] && in_list "$suite" $LBPPB1_SUITES && lun_url=${URL%/0}/1
	urls=("$lun_url")
	in_list "$suite" $MPATH_SUITES && urls+=("$lun_url")
	t0=$SECONDS
	timeout -k 5 "$SUITE_TIMEOUT" stdbuf -o0 -e0 iscsi-test-cu -d -S -V -i "$INI1" -I "$INI2" \
		-t "$suite" "${urls[@]}" > "$out" 2>&1 < /dev/null
	rc=$?
	status=CRASH
	case $rc in
	0|1) status=ok ;;
	124|137) status=HANG ;;
	esac
	echo >> "$out"  # a killed run may end without a newline
	suite_bad=0
	while read -r test result why; do
		total=$((total + 1))
		if nullio_readback_test "$test"; then
			readback_seen+=("$test")
			# Allowed to fail only as expected, and required to.
			if [ "$result" = FAIL ] && nullio_readback_only "$test" "$out"; then
				passed=$((passed + 1))
				echo "result: $CONFIG $test PASS (nullio: fails exactly its read-back checks)"
				continue
			fi
			echo "----- $test on nullio: $result; its failed assertions:"
			test_assertions "$test" "$out" | sed 's/^/  got:      /'
			nullio_expected_assertions "$test" | sed 's/^/  expected: /'
			echo "result: $CONFIG $test $result (not the expected read-back failure)"
			bad+=("$test:$result-not-the-expected-read-back-failure")
			suite_bad=1
			continue
		fi
		# A failed assertion says more than nothing.
		[ "$result" = FAIL ] && [ -z "$why" ] &&
			why=$(test_assertions "$test" "$out" | head -n 1)
		if not_yet "$test" > /dev/null; then
			echo "result: $CONFIG $test $result not-yet: $(not_yet "$test")${why:+ -- $why}"
			if [ "$result" = PASS ]; then
				bad+=("$test:passes-now-remove-it-from-not_yet.txt")
				suite_bad=1
			else
				notyet=$((notyet + 1))
			fi
			continue
		fi
		echo "result: $CONFIG $test $result${why:+ -- $why}"
		if [ "$result" = PASS ]; then
			passed=$((passed + 1))
			continue
		fi
		bad+=("$test:$result")
		suite_bad=1
	done < <(classify "$suite" "$out" "$status")
	if [ "$suite_bad" = 1 ] || [ "$status" != ok ]; then
		echo "----- $suite: iscsi-test-cu exit $rc ($status); its output:"
		grep -v '^ *$' "$out"
		[ "$status" = ok ] || bad+=("$suite:exit-$rc")
	fi
	printf '%-30s %4ds %s\n' "$suite" $((SECONDS - t0)) \
		"$([ "$suite_bad" = 1 ] && echo FAILING || echo ok)"
	if ! kill -0 "$USCSTD_PID" 2>/dev/null; then
		bad+=("$suite:uscstd-died")
		echo "uscstd died during $suite; restarting it for the remaining suites"
		wait "$USCSTD_PID"
		start_uscstd -c "$WORKDIR/scst.conf"
		URL=$(target_url "")
		[ "$chap" = 1 ] && URL=$(target_url "$CHAP_USER%$CHAP_SECRET@")
	fi
done

# The read-back tests must have run on nullio whenever their suite did.
if [ "$CONFIG" = nullio ]; then
	for t in $NULLIO_READBACK_TESTS; do
		in_list "${t%.*}" $SUITES || continue
		in_list "$t" "${readback_seen[@]}" || bad+=("$t:missing")
	done
fi

# Every not-yet line of this configuration must still name a test that
# ran here (or an attribute it sets): a stale line could later hide a
# regression of a test that moved.
while read -r cfg pat _; do
	[ "$cfg" = "$CONFIG" ] || continue
	case $pat in attr:*) continue ;; esac
	found=0
	while read -r t; do
		# shellcheck disable=SC2053 # the pattern is a glob on purpose
		[[ $t == $pat ]] && { found=1; break; }
	done < "$WORKDIR/tests_here"
	[ "$found" = 1 ] || bad+=("not_yet.txt:'$cfg $pat'-matches-no-test-of-$CONFIG")
done < <(not_yet_lines)

# After the whole family: no session or command left behind, RSS bounded,
# uscstd still serving.
# Under CHAP, every login of the suites authenticated: uscstd logs each
# success (rate-limited, so at least one).
if [ "$chap" = 1 ]; then
	want="CHAP MD5$([ "$CONFIG" = chap_mutual ] && echo ' (mutual)') authenticated user '$CHAP_USER'"
	n=$(grep -cF "$want" "$LOG")
	[ "$n" -gt 0 ] || bad+=("log:no-'$want'")
	echo "info: $CONFIG: the log has $n lines \"$want\""
fi

liveness_tgt=$TGT_IQN
[ "$chap" = 1 ] && liveness_tgt=$OPEN_IQN
LIVENESS_TARGET=$liveness_tgt check_liveness "after the $CONFIG suites" "$INI1" 400000000001

stop_uscstd
echo "conformance $CONFIG: $total tests in $((SECONDS - started)) s: $passed passed," \
	"$notyet on not_yet.txt, ${#bad[@]} problems"
if [ "${#bad[@]}" -gt 0 ]; then
	printf '  %s\n' "${bad[@]}"
	fail "conformance $CONFIG: ${#bad[@]} problems (FAIL, SKIP, HANG, CRASH, NOTRUN above)"
fi
[ "$total" -gt 0 ] || fail "no test ran"
echo "conformance $CONFIG: all checks passed"
