#!/bin/bash
# uscstd as a Type=notify service (issue 8, Running it as a service): with
# $NOTIFY_SOCKET set, as systemd sets it, uscstd tells the service manager
# READY=1 once it serves (the configuration loaded, every portal
# listening), RELOADING=1 and then READY=1 again around a SIGHUP (also
# one that refuses the file: the old configuration still serves), and
# STOPPING=1 on SIGTERM. The socket is a datagram socket of this test
# (unix_dgram_sink.py --creds), which also records the sender's pid: with
# systemd's default NotifyAccess=main only the main process is heard.
. "$(dirname "$0")/lib.sh" "$@"

SINK=$WORKDIR/notify.txt
SINK_PID=

stop_sink() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
	SINK_PID=
}

# wait_notify N REGEX WHAT: the N-th notification (1-based) arrives within
# 10 s and matches the extended REGEX; prints it.
wait_notify() {
	local n=$1 re=$2 what=$3 line

	for _ in $(seq 100); do
		line=$(sed -n "${n}p" "$SINK")
		[ -n "$line" ] && break
		sleep 0.1
	done
	echo "notification $n: $line"
	if [ -z "$line" ] || ! grep -Eq -- "$re" <<< "$line"; then
		echo "----- notifications received -----" >&2
		cat "$SINK" >&2
		fail "notification $n is not $what (expected /$re/)"
	fi
}

python3 -B "$LIB_DIR/unix_dgram_sink.py" --creds "$WORKDIR/notify.sock" "$SINK" &
SINK_PID=$!
for _ in $(seq 50); do [ -e "$SINK" ] && break; sleep 0.1; done
[ -e "$SINK" ] || fail "the notification socket did not come up"
# lib.sh's cleanup takes the exit status from $?: hand it on.
trap 'rc_=$?; stop_sink; (exit $rc_); cleanup' EXIT

cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb 16
	}
}
TARGET_DRIVER iscsi {
	TARGET iqn.2026-12.test:notify {
		enabled 1
		LUN 0 null0
	}
}
CONF
cp "$WORKDIR/scst.conf" "$WORKDIR/good.conf"

export NOTIFY_SOCKET=$WORKDIR/notify.sock
start_uscstd -c "$WORKDIR/scst.conf"
unset NOTIFY_SOCKET
me="^pid=$USCSTD_PID "

note "start-up: READY=1 once the portal listens"
wait_notify 1 "${me}READY=1\\\\nSTATUS=serving $WORKDIR/scst.conf\$" "READY=1"
port_open "$PORT" || fail "READY=1 came, but nothing listens on $PORT"
run iscsi-inq -i "$INI1" "iscsi://127.0.0.1:$PORT/iqn.2026-12.test:notify/0" > /dev/null

note "SIGHUP with a file that loads: RELOADING=1, then READY=1"
now_us=$(python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)')
kill -HUP "$USCSTD_PID"
wait_notify 2 "${me}RELOADING=1\\\\nMONOTONIC_USEC=[0-9]+\\\\nSTATUS=reloading $WORKDIR/scst.conf\$" \
	"RELOADING=1"
# MONOTONIC_USEC is CLOCK_MONOTONIC's time of the reload: within 10 s of
# the SIGHUP.
mono=$(sed -n '2s/.*MONOTONIC_USEC=\([0-9]*\).*/\1/p' "$SINK")
[ "$mono" -ge "$now_us" ] && [ "$mono" -le $((now_us + 10000000)) ] ||
	fail "MONOTONIC_USEC=$mono is not CLOCK_MONOTONIC's now ($now_us us)"
wait_notify 3 "${me}READY=1\\\\nSTATUS=serving $WORKDIR/scst.conf\$" \
	"READY=1 after the reload"
grep -q "reload of $WORKDIR/scst.conf done" "$LOG" || fail "the reload is not in the log"

note "SIGHUP with a file that does not load: RELOADING=1, then READY=1 saying so"
echo "HANDLER vdisk_nullio {" > "$WORKDIR/scst.conf"
kill -HUP "$USCSTD_PID"
wait_notify 4 "${me}RELOADING=1\\\\n" "RELOADING=1"
wait_notify 5 "${me}READY=1\\\\nSTATUS=reload of $WORKDIR/scst\\.conf refused: .*scst\\.conf:1: " \
	"READY=1 with the refusal in STATUS"
run iscsi-inq -i "$INI1" "iscsi://127.0.0.1:$PORT/iqn.2026-12.test:notify/0" > /dev/null

note "SIGTERM: STOPPING=1, then exit 0"
stop_uscstd
wait_notify 6 "${me}STOPPING=1\\\\nSTATUS=" "STOPPING=1"
n=$(wc -l < "$SINK")
[ "$n" = 6 ] || fail "$n notifications, expected exactly 6"

note "without NOTIFY_SOCKET (started by hand): nothing is sent, nothing complains"
start_uscstd -c "$WORKDIR/good.conf"
kill -HUP "$USCSTD_PID"
for _ in $(seq 50); do grep -q "reload of .* done" "$LOG" && break; sleep 0.1; done
stop_uscstd
n=$(wc -l < "$SINK")
[ "$n" = 6 ] || fail "$n notifications after a run without NOTIFY_SOCKET, expected still 6"
grep -n 'service: cannot notify' "$LOG" && fail "a notification error in the log (above)"
note "6 notifications, in order, from uscstd's pid"
