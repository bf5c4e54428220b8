# Shared helpers for the integration tests: each test sources this file,
# starts its own uscstd on a free loopback port with a private state
# directory, and stops it (SIGTERM, expecting exit status 0) at the end.
#
#   . "$(dirname "$0")/lib.sh" "$@"    # $1 = path of the uscstd binary
#   start_uscstd [uscstd args...]      # sets PORT, USCSTD_PID, URL
#                                       # ($USCSTD_THREADS: --threads N)
#   stop_uscstd                         # SIGTERM, waits, checks exit 0
#   check_serving "context"             # a libiscsi initiator is still served
#   check_liveness CONTEXT INITIATOR ISID_HEX [RSS_LIMIT_MIB]
#                                       # after hostile input: see below
#                                       # ($LIVENESS_TARGET: the target,
#                                       # default the demo target)
#   dump_state "context"                # SIGUSR1; prints the state dump
#   fileio_conf SIZE DEVICE... -- [driver ATTR...] [target IQN DEVICE [ATTR...]]...
#                                       # writes $WORKDIR/scst.conf: see below
#   start_refused PATTERN ARGS...       # uscstd ARGS must refuse to start
#   use_uscstadmin PATH; admin ARGS...; admin_refused PATTERN ARGS...
#                                       # uscstadmin on this uscstd's socket
#   fail "reason"                       # prints the reason and the log, exits 1
#
# Every command that talks to the target runs under `timeout`, so that a
# hung target fails the test instead of hanging it. fail ends the test
# from anywhere, also inside $(...), a pipeline or a background job.

set -u

USCSTD=${1:?usage: $0 PATH_TO_USCSTD}
[ -x "$USCSTD" ] || { echo "FAIL: $USCSTD is not an executable" >&2; exit 1; }

DEMO_IQN=iqn.2026-11.org.uscst:demo
INI1=iqn.2026-11.test:init1
INI2=iqn.2026-11.test:init2
# Seconds a single client command may take before the test fails.
CMD_TIMEOUT=${CMD_TIMEOUT:-60}

# RSS bound of check_liveness, measured (2 reactors): a fresh uscstd with
# the demo target has 2.3 MiB resident, 2.6 MiB after badinput or
# fuzz_pdus, 16 MiB after vanish (its 32 uncollected 1 MiB reads leave
# buffers in the reactors' pools); an ASan+UBSan build 10 MiB fresh and
# 13 to 20 MiB after them (shadow memory, quarantine), a TSan build 13 MiB
# fresh and 15 to 17 MiB after them. RSS_LIMIT_SANITIZED_MIB is ASan's
# (with or without UBSan).
RSS_LIMIT_MIB=${RSS_LIMIT_MIB:-64}
RSS_LIMIT_SANITIZED_MIB=${RSS_LIMIT_SANITIZED_MIB:-128}
# TSan shadows every 8 bytes the program touches with 32 bytes of its own
# (four access records), so a page of buffers costs it about five: after
# reinstate_busy (1 MiB and 8 MiB transfers through the buffer pools) a
# TSan build has 125.7 to 145.7 MiB resident where the normal build has
# 26.6 MiB. 256 MiB leaves 110 MiB over the highest seen: what about 22
# MiB more of the program's own memory costs there.
RSS_LIMIT_TSAN_MIB=${RSS_LIMIT_TSAN_MIB:-256}
# ASan keeps freed memory in a quarantine (256 MiB by default) to catch
# uses after free; after a test that moved a few hundred MiB, that alone
# is resident and hides any real bound. 32 MiB still catches the reuse of
# anything freed in the last few thousand commands.
case ":${ASAN_OPTIONS:-}:" in
*:quarantine_size_mb=*) ;;
*) export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=32 ;;
esac

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORKDIR=$(mktemp -d /tmp/uscst-it.XXXXXX)
LOG=$WORKDIR/uscstd.log
# fail() in a subshell leaves this file and signals the script itself.
MAIN_PID=$$
FAILED_MARK=$WORKDIR/failed
USCSTD_PID=
USCSTD_START_RSS_KB=
PORT=
URL=

cleanup() {
	local rc=$?

	# A fail() in a subshell whose exit status went unchecked.
	[ -e "$FAILED_MARK" ] && rc=1
	if [ -n "$USCSTD_PID" ] && kill -0 "$USCSTD_PID" 2>/dev/null; then
		kill -KILL "$USCSTD_PID" 2>/dev/null
		wait "$USCSTD_PID" 2>/dev/null
	fi
	if [ "$rc" != 0 ] && [ -s "$LOG" ]; then
		# A sanitizer's report is longer than the tail below: show it
		# whole (its stacks say where the race or the bad access is).
		if grep -q '^==[0-9]*==.*Sanitizer\|^WARNING: ThreadSanitizer' "$LOG"; then
			echo "----- sanitizer report in uscstd's log -----" >&2
			sed -n '/^\(==[0-9]*==\|WARNING: ThreadSanitizer\)/,/^SUMMARY: /p' "$LOG" |
				head -n 400 >&2
		fi
		echo "----- last lines of uscstd's log ($LOG) -----" >&2
		tail -n 40 "$LOG" >&2
	fi
	rm -rf "$WORKDIR"
	exit "$rc"
}
# SIGTERM is also how a fail() in a subshell stops the script: then the
# mark is there and the test fails with status 1.
on_signal() {
	[ -e "$FAILED_MARK" ] && exit 1
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM

# fail REASON: the test fails. exit alone would end only the subshell
# when called inside $(...), a pipeline or a background job (out=$(run
# ...) would go on with an empty $out), so a subshell also leaves the mark
# and sends SIGTERM to the script, whose trap then exits 1.
fail() {
	echo "FAIL: $*" >&2
	if [ "$BASHPID" != "$MAIN_PID" ]; then
		: > "$FAILED_MARK"
		kill -TERM "$MAIN_PID" 2>/dev/null
	fi
	exit 1
}

note() {
	echo "--- $*"
}

# A TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

port_open() {
	python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# start_uscstd [args...]: runs uscstd in the background on a fresh port with
# its own state directory and waits until it accepts connections. Without
# -c it serves the demo target; URL is then the demo LUN 0.
start_uscstd() {
	local extra=() h
	# USCSTD_SAME_PORT=1: the port of the uscstd before (a restart that
	# initiators, or a guest's forwarded portal, find where it was).
	[ -n "${USCSTD_SAME_PORT:-}" ] && [ -n "${PORT:-}" ] || PORT=$(free_port)
	mkdir -p "$WORKDIR/state"
	# EXTRA_PORTAL_HOSTS: more loopback addresses (127.0.0.2, ...) to
	# listen on, with the same port.
	for h in ${EXTRA_PORTAL_HOSTS:-}; do
		extra+=(--listen "$h:$PORT")
	done
	# USCSTD_THREADS (meson sets it for the multisession suite): reactor
	# threads, unless the test passes its own --threads (the later wins).
	# Each test's own management socket (RPC_SOCKET), unless it passes
	# its own --rpc-socket (the later wins).
	RPC_SOCKET=$WORKDIR/uscstd.sock
	"$USCSTD" --listen "127.0.0.1:$PORT" "${extra[@]}" --state-dir "$WORKDIR/state" \
		--rpc-socket "$RPC_SOCKET" \
		--log-level info ${USCSTD_THREADS:+--threads "$USCSTD_THREADS"} "$@" \
		>> "$LOG" 2>&1 < /dev/null &
	USCSTD_PID=$!
	URL=iscsi://127.0.0.1:$PORT/$DEMO_IQN/0
	for _ in $(seq 300); do
		kill -0 "$USCSTD_PID" 2>/dev/null || {
			wait "$USCSTD_PID"
			fail "uscstd exited with status $? during start-up"
		}
		if port_open "$PORT"; then
			USCSTD_START_RSS_KB=$(rss_kb)
			note "uscstd pid $USCSTD_PID on 127.0.0.1:$PORT"
			return 0
		fi
		sleep 0.1
	done
	fail "uscstd did not listen on 127.0.0.1:$PORT within 30 s"
}

# Fails unless uscstd is still running.
check_alive() {
	kill -0 "$USCSTD_PID" 2>/dev/null || fail "uscstd died ($*)"
}

# check_serving CONTEXT: a well-behaved initiator (libiscsi's tools) still
# gets INQUIRY and READ CAPACITY(16) answered on URL.
check_serving() {
	local out

	check_alive "$*"
	out=$(run iscsi-inq -i "$INI1" "$URL")
	grep -q '^Peripheral Device Type:DIRECT_ACCESS' <<< "$out" || fail "INQUIRY failed $*"
	run iscsi-readcapacity16 -i "$INI1" "$URL" > /dev/null
}

# stop_uscstd: SIGTERM, then uscstd must exit with status 0 within 10 s.
stop_uscstd() {
	local rc

	check_alive "before SIGTERM"
	kill -TERM "$USCSTD_PID"
	for _ in $(seq 100); do
		kill -0 "$USCSTD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$USCSTD_PID" 2>/dev/null && fail "uscstd still running 10 s after SIGTERM"
	wait "$USCSTD_PID"
	rc=$?
	USCSTD_PID=
	[ "$rc" = 0 ] || fail "uscstd exited with status $rc after SIGTERM"
	note "uscstd exited 0 after SIGTERM"
}

# run CMD...: runs a client command under the timeout; its output goes to
# stdout; fails the test when it fails.
run() {
	timeout -k 5 "$CMD_TIMEOUT" "$@" || fail "'$*' exited with status $?"
}

# uscstd's resident set size in KiB (VmRSS), empty if it is gone.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$USCSTD_PID/status" 2>/dev/null
}

# mib KIB: KiB as MiB with one decimal.
mib() {
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# dump_state CONTEXT: SIGUSR1; waits (5 s at most) for the dump's end line
# and prints that dump's lines from "dump: begin" to "dump: end: ...",
# without the log prefix (the line format is in src/core/dump.c).
dump_state() {
	local before after

	before=$(grep -c 'dump: end: ' "$LOG")
	kill -USR1 "$USCSTD_PID" 2>/dev/null || fail "cannot send SIGUSR1 to uscstd ($*)"
	for _ in $(seq 50); do
		after=$(grep -c 'dump: end: ' "$LOG")
		[ "$after" -gt "$before" ] && break
		sleep 0.1
	done
	[ "$after" -gt "$before" ] || fail "no state dump in the log within 5 s of SIGUSR1 ($*)"
	# Dumps run one at a time on uscstd's main thread: the last begin
	# starts the one just asked for.
	awk '/ dump: begin$/ { buf = "" }
	/ dump: / { sub(/^.* dump: /, "dump: "); buf = buf $0 "\n" }
	END { printf "%s", buf }' "$LOG"
}

# rpc_try METHOD JSON_PARAMS: one JSON-RPC call on uscstd's management
# socket ($RPC_SOCKET); prints the result as JSON (or the error) and
# returns 1 on an error.
rpc_try() {
	timeout -k 5 30 python3 -B - "$RPC_SOCKET" "$1" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": sys.argv[2],
                      "params": json.loads(sys.argv[3])}).encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
r = json.loads(buf)
if "error" in r:
    print(r["error"]); sys.exit(1)
print(json.dumps(r["result"]))
PY
}

# rpc METHOD JSON_PARAMS: the same; an error fails the test.
rpc() {
	rpc_try "$@" || fail "rpc $1 $2 failed"
}

# check_liveness CONTEXT INITIATOR ISID_HEX [RSS_LIMIT_MIB]: after a test's
# hostile part, fails the test unless
#  a. INITIATOR with ISID_HEX (12 hex digits) logs in again to $DEMO_IQN
#     within 5 s and gets TEST UNIT READY answered, then logs out;
#  b. meanwhile a second session ($INI2, another ISID) gets a LOGICAL UNIT
#     RESET of LUN 0 answered within 1 s (a. and b.: liveness.py);
#  c. then the state dump (SIGUSR1) shows no session of INITIATOR and 0
#     active commands, within ~3 s (sessions still draining after a
#     disconnect); longer is a leak;
#  d. uscstd's VmRSS is below RSS_LIMIT_MIB (default $RSS_LIMIT_MIB, or
#     $RSS_LIMIT_SANITIZED_MIB for an ASan/UBSan build, $RSS_LIMIT_TSAN_MIB
#     for a TSan build);
#  e. uscstd is still running.
check_liveness() {
	local context=${1:?usage: check_liveness CONTEXT INITIATOR ISID_HEX [RSS_LIMIT_MIB]}
	local ini=${2:?usage: check_liveness CONTEXT INITIATOR ISID_HEX [RSS_LIMIT_MIB]}
	local isid=${3:?usage: check_liveness CONTEXT INITIATOR ISID_HEX [RSS_LIMIT_MIB]}
	local limit=${4:-} out dump problem rss i

	[[ $isid =~ ^[0-9A-Fa-f]{12}$ ]] || fail "check_liveness: ISID '$isid' is not 12 hex digits"
	if [ -z "$limit" ]; then
		limit=$RSS_LIMIT_MIB
		if grep -q 'libtsan' "/proc/$USCSTD_PID/maps" 2>/dev/null; then
			limit=$RSS_LIMIT_TSAN_MIB
		elif grep -Eq 'lib(a|ub)san' "/proc/$USCSTD_PID/maps" 2>/dev/null; then
			limit=$RSS_LIMIT_SANITIZED_MIB
		fi
	fi
	check_alive "before the liveness check ($context)"

	note "liveness ($context): $ini ($isid) logs in again; $INI2 resets LUN 0"
	out=$(timeout -k 5 60 python3 -B "$LIB_DIR/liveness.py" "$PORT" \
		"${LIVENESS_TARGET:-$DEMO_IQN}" "$ini" \
		"$isid" "$INI2" 2>&1)
	i=$?
	echo "$out"
	if [ "$i" != 0 ]; then
		dump_state "liveness ($context)" >&2
		fail "liveness ($context):" \
			"$(sed -n 's/^liveness: FAILED: //p' <<< "$out" | paste -sd ';' -)" \
			"(liveness.py exit $i; the state dump above)"
	fi

	# A session whose connection just closed may still be finishing its
	# commands; give it about 3 s.
	for i in $(seq 15); do
		dump=$(dump_state "liveness ($context)")
		problem=
		grep -qF "dump: session $ini -> " <<< "$dump" &&
			problem="a session of $ini remains"
		grep -q '^dump: end: .*, 0 active command(s)$' <<< "$dump" ||
			problem="${problem:+$problem; }commands are still active"
		grep '^dump: device ' <<< "$dump" | grep -vq ': 0 active command(s)$' &&
			problem="${problem:+$problem; }a device still has active commands"
		[ -z "$problem" ] && break
		sleep 0.2
	done
	echo "$dump"
	[ -z "$problem" ] || fail "liveness ($context): $problem 3 s after its last logout (dump above)"

	rss=$(rss_kb)
	[ -n "$rss" ] || fail "liveness ($context): cannot read uscstd's VmRSS"
	note "liveness ($context): VmRSS $(mib "$rss") MiB (at start-up" \
		"$(mib "${USCSTD_START_RSS_KB:-0}") MiB; limit $limit MiB)"
	[ "$rss" -lt $((limit * 1024)) ] ||
		fail "liveness ($context): uscstd's VmRSS is $(mib "$rss") MiB, limit $limit MiB"
	check_alive "after the liveness check ($context)"
}

# fileio_conf SIZE DEVICE... -- [driver ATTR...] [target IQN DEVICE [ATTR...]]...
# writes $WORKDIR/scst.conf for the usual set-up: each DEVICE a
# vdisk_fileio device on a new sparse file $WORKDIR/DEVICE.img of SIZE
# (truncate's sizes), then the iSCSI driver: its own ATTRs after
# "driver", and each target after "target", enabled, with its ATTRs and
# DEVICE as LUN 0. An ATTR is one line, "Key value" (so it is never the
# word driver or target). Every setting a test makes is in its call, and
# nothing else is in the file.
fileio_conf() {
	local size=${1:?usage: fileio_conf SIZE DEVICE... -- [driver ATTR...] [target IQN DEVICE [ATTR...]]...}
	local dev in= conf=$WORKDIR/scst.conf

	shift
	{
		echo "HANDLER vdisk_fileio {"
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			truncate -s "$size" "$WORKDIR/$1.img" || fail "fileio_conf: cannot make $WORKDIR/$1.img"
			printf '\tDEVICE %s {\n\t\tfilename %s\n\t}\n' "$1" "$WORKDIR/$1.img"
			shift
		done
		echo "}"
		[ "${1:-}" = -- ] || fail "fileio_conf: no -- after the devices"
		shift
		echo "TARGET_DRIVER iscsi {"
		while [ $# -gt 0 ]; do
			case $1 in
			driver)
				[ -z "$in" ] || fail "fileio_conf: driver attributes after a target"
				shift
				;;
			target)
				[ $# -ge 3 ] || fail "fileio_conf: target without IQN and DEVICE"
				[ -z "$in" ] || printf '\t\tLUN 0 %s\n\t}\n' "$dev"
				in=$2 dev=$3
				printf '\tTARGET %s {\n\t\tenabled 1\n' "$in"
				shift 3
				;;
			*' '*)
				printf '\t%s%s\n' "${in:+$'\t'}" "$1"
				shift
				;;
			*)
				fail "fileio_conf: '$1' is neither driver, target nor 'Key value'"
				;;
			esac
		done
		[ -z "$in" ] || printf '\t\tLUN 0 %s\n\t}\n' "$dev"
		echo "}"
	} > "$conf"
}

# start_refused PATTERN ARGS...: uscstd ARGS (with a state directory and
# management socket of its own) must exit with an error by itself within
# 20 s, and its output must match PATTERN (grep's basic regular
# expression); prints the matching line. ARGS bring their own --listen.
start_refused() {
	local pattern=${1:?usage: start_refused PATTERN ARGS...} out=$WORKDIR/refused.log line

	shift
	mkdir -p "$WORKDIR/refused-state"
	if timeout -k 5 20 "$USCSTD" --state-dir "$WORKDIR/refused-state" \
		--rpc-socket "$WORKDIR/refused.sock" "$@" > "$out" 2>&1; then
		fail "uscstd started with $*"
	fi
	line=$(grep -m1 -- "$pattern" "$out") ||
		fail "uscstd $* refused without saying '$pattern': $(tail -n 3 "$out")"
	echo "$line"
}

# use_uscstadmin PATH: the uscstadmin a test drives (its second argument,
# from tools/), which must be there.
use_uscstadmin() {
	USCSTADMIN=${1:?usage: use_uscstadmin PATH_TO_USCSTADMIN}
	[ -x "$USCSTADMIN" ] || fail "uscstadmin is not built ($USCSTADMIN): it is in tools/"
}

# admin ARGS...: uscstadmin ARGS on this uscstd's management socket,
# without prompting; fails the test when it fails.
admin() {
	run "$USCSTADMIN" --rpc-socket "$RPC_SOCKET" "$@" -noprompt > /dev/null
}

# admin_refused PATTERN ARGS...: uscstadmin ARGS must fail, saying PATTERN
# (grep's basic regular expression); prints the line that says it.
admin_refused() {
	local pattern=${1:?usage: admin_refused PATTERN ARGS...} out line

	shift
	if out=$(timeout -k 5 "$CMD_TIMEOUT" "$USCSTADMIN" --rpc-socket "$RPC_SOCKET" "$@" \
		-noprompt 2>&1); then
		fail "uscstadmin $* was accepted: $out"
	fi
	line=$(grep -m1 -- "$pattern" <<< "$out") ||
		fail "uscstadmin $* refused without saying '$pattern': $out"
	echo "$line"
}
