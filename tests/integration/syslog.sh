#!/bin/bash
# uscstd --syslog (issue 8, Observability: Logging): every line goes to
# syslog(3) instead of stderr. syslog(3) writes to /dev/log, which this
# machine may not have and which is the machine's own where it does; so
# uscstd runs in a private mount namespace (devlog_ns.sh, unshare -m)
# whose /dev/log is a datagram socket this test listens on
# (unix_dgram_sink.py). Checked:
#  - the lines arrive as LOG_DAEMON with the level's priority (<30> info,
#    <28> warning, <27> error) and "uscstd[PID]:", PID uscstd's own;
#  - the rate-limited form still limits, and says how many it suppressed;
#  - nothing of the log goes to stderr meanwhile;
#  - SIGTERM exits 0 and the last line ("uscstd stopped") arrives;
#  - without a /dev/log, --syslog says so on stderr and logs there.
. "$(dirname "$0")/lib.sh" "$@"

REAL_USCSTD=$USCSTD
SINK=$WORKDIR/syslog.txt
SINK_PID=

stop_sink() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
	SINK_PID=
}

# wait_syslog REGEX WHAT: a datagram matching the extended REGEX arrives
# within 10 s; prints it.
wait_syslog() {
	for _ in $(seq 100); do
		grep -Em1 -- "$1" "$SINK" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "----- what the syslog socket received -----" >&2
	cat "$SINK" >&2
	fail "no syslog line matching '$1' ($2)"
}

unshare --mount true 2>/dev/null ||
	fail "unshare --mount does not work here (not root?): this test needs a private /dev/log"

python3 -B "$LIB_DIR/unix_dgram_sink.py" "$WORKDIR/devlog.sock" "$SINK" &
SINK_PID=$!
for _ in $(seq 50); do [ -e "$SINK" ] && break; sleep 0.1; done
[ -e "$SINK" ] || fail "the syslog socket did not come up"
# lib.sh's cleanup takes the exit status from $?: hand it on.
trap 'rc_=$?; stop_sink; (exit $rc_); cleanup' EXIT

cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb 16
	}
}
TARGET_DRIVER iscsi {
	TARGET iqn.2026-12.test:syslog {
		enabled 1
		LUN 0 null0
	}
}
CONF

# start_uscstd runs $USCSTD: here the namespace wrapper, which execs the
# real uscstd (same pid, so USCSTD_PID is uscstd's).
cat > "$WORKDIR/uscstd-ns" <<WRAP
#!/bin/bash
exec "$LIB_DIR/devlog_ns.sh" "$WORKDIR" "\${DEVLOG_SOCKET-$WORKDIR/devlog.sock}" "$REAL_USCSTD" "\$@"
WRAP
chmod +x "$WORKDIR/uscstd-ns"
USCSTD=$WORKDIR/uscstd-ns

note "uscstd --syslog with /dev/log on the test's socket"
start_uscstd -c "$WORKDIR/scst.conf" --syslog
ident="uscstd\\[$USCSTD_PID\\]: "
wait_syslog "^<30>.*${ident}uscstd ready: " "the ready line, LOG_DAEMON|LOG_INFO"
wait_syslog "^<30>.*${ident}listening on 127\\.0\\.0\\.1:$PORT\$" "the portal, at info"

note "25 refused logins at once, then one more after a second: rate-limited warnings"
run python3 -B "$LIB_DIR/log_refused_logins.py" "$PORT" 25
sleep 1.2
run python3 -B "$LIB_DIR/log_refused_logins.py" "$PORT" 1
wait_syslog "^<28>.*${ident}.*login to unknown target iqn\\.2026-11\\.test:no-such-target refused" \
	"a refused login, LOG_DAEMON|LOG_WARNING"
wait_syslog "^<28>.*${ident}[0-9]+ similar messages suppressed \\(src/targets/iscsi/" \
	"the rate limiter's count of what it dropped"
refused=$(grep -c 'no-such-target refused' "$SINK")
note "$refused of 26 refused-login lines reached syslog"
[ "$refused" -lt 26 ] || fail "all 26 refused logins were logged: the rate limit did not act"

note "a reload of a broken file: an error"
echo "HANDLER vdisk_nullio {" > "$WORKDIR/scst.conf"
kill -HUP "$USCSTD_PID"
wait_syslog "^<27>.*${ident}(config: )?reload refused, nothing changed: " "a refused reload, LOG_DAEMON|LOG_ERR"
check_alive "after the refused reload"

stop_uscstd
wait_syslog "^<30>.*${ident}uscstd stopped\$" "the last line, after SIGTERM"
if grep -E ' uscstd (error|warn|info|debug): ' "$LOG"; then
	fail "with --syslog these log lines went to stderr too (above)"
fi
note "$(wc -l < "$SINK") lines on the syslog socket, none on stderr"

note "uscstd --syslog without any /dev/log: it says so and logs to stderr"
export DEVLOG_SOCKET=
: > "$LOG"
start_uscstd --syslog
grep -q 'error: --syslog: cannot reach syslog at /dev/log: No such file or directory; logging to stderr' \
	"$LOG" || fail "no stderr line saying syslog is unreachable"
grep -q 'info: uscstd ready: ' "$LOG" || fail "the log did not go on on stderr"
stop_uscstd
