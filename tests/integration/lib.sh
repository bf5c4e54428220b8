# Shared helpers for the integration tests: each test sources this file,
# starts its own uscstd on a free loopback port with a private state
# directory, and stops it (SIGTERM, expecting exit status 0) at the end.
#
#   . "$(dirname "$0")/lib.sh" "$@"    # $1 = path of the uscstd binary
#   start_uscstd [uscstd args...]      # sets PORT, USCSTD_PID, URL
#   stop_uscstd                         # SIGTERM, waits, checks exit 0
#   check_serving "context"             # a libiscsi initiator is still served
#   fail "reason"                       # prints the reason and the log, exits 1
#
# Every command that talks to the target runs under `timeout`, so that a
# hung target fails the test instead of hanging it.

set -u

USCSTD=${1:?usage: $0 PATH_TO_USCSTD}
[ -x "$USCSTD" ] || { echo "FAIL: $USCSTD is not an executable" >&2; exit 1; }

DEMO_IQN=iqn.2026-11.org.uscst:demo
INI1=iqn.2026-11.test:init1
INI2=iqn.2026-11.test:init2
# Seconds a single client command may take before the test fails.
CMD_TIMEOUT=${CMD_TIMEOUT:-60}

WORKDIR=$(mktemp -d /tmp/uscst-it.XXXXXX)
LOG=$WORKDIR/uscstd.log
USCSTD_PID=
PORT=
URL=

cleanup() {
	local rc=$?

	if [ -n "$USCSTD_PID" ] && kill -0 "$USCSTD_PID" 2>/dev/null; then
		kill -KILL "$USCSTD_PID" 2>/dev/null
		wait "$USCSTD_PID" 2>/dev/null
	fi
	if [ "$rc" != 0 ] && [ -s "$LOG" ]; then
		echo "----- last lines of uscstd's log ($LOG) -----" >&2
		tail -n 40 "$LOG" >&2
	fi
	rm -rf "$WORKDIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
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
	PORT=$(free_port)
	mkdir -p "$WORKDIR/state"
	"$USCSTD" --listen "127.0.0.1:$PORT" --state-dir "$WORKDIR/state" \
		--log-level info "$@" >> "$LOG" 2>&1 < /dev/null &
	USCSTD_PID=$!
	URL=iscsi://127.0.0.1:$PORT/$DEMO_IQN/0
	for _ in $(seq 300); do
		kill -0 "$USCSTD_PID" 2>/dev/null || {
			wait "$USCSTD_PID"
			fail "uscstd exited with status $? during start-up"
		}
		port_open "$PORT" && { note "uscstd pid $USCSTD_PID on 127.0.0.1:$PORT"; return 0; }
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

# stop_uscstd: SIGTERM, then uscstd must exit with status 0 within 30 s.
stop_uscstd() {
	local rc

	check_alive "before SIGTERM"
	kill -TERM "$USCSTD_PID"
	for _ in $(seq 300); do
		kill -0 "$USCSTD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$USCSTD_PID" 2>/dev/null && fail "uscstd still running 30 s after SIGTERM"
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
