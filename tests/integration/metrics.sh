#!/bin/bash
# The statistics (issue 8, Observability) on uscstd's Prometheus endpoint
# (--metrics): metrics_io (libiscsi) sends a known set of commands, and
# every level's counters must have grown by exactly that: commands per
# direction, bytes read and written, a CHECK CONDITION under each sense
# key it provoked, each task management function; promtool accepts every
# scrape; after the session logs out, the device's, target's and LUN's
# counters keep what it counted (nothing goes backwards) while its own
# series go, and the same for a LUN unmapped (SIGHUP) under a session
# that stays; scrapes during 40000 commands never see a counter go back;
# and the endpoint survives peers that send nothing, never read, or send
# nonsense, while iSCSI and other scrapes go on.
#   metrics.sh USCSTD METRICS_IO
. "$(dirname "$0")/lib.sh" "$@"
METRICS_IO=${2:?usage: $0 PATH_TO_USCSTD PATH_TO_METRICS_IO}
[ -x "$METRICS_IO" ] || fail "$METRICS_IO is not an executable"
command -v promtool > /dev/null ||
	fail "promtool is missing (Debian package prometheus: make deps-test)"
CHECK="python3 -B $LIB_DIR/metrics_check.py"
TGT=iqn.2026-12.test:metrics
T="target=$TGT"

truncate -s 128M "$WORKDIR/d0.img" "$WORKDIR/d1.img"
# config WITH_LUN1: the target with LUN 0 (d0) and, if asked, LUN 1 (d1).
config() {
	cat <<CONF
HANDLER vdisk_fileio {
	DEVICE d0 {
		filename $WORKDIR/d0.img
	}
	DEVICE d1 {
		filename $WORKDIR/d1.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $TGT {
		enabled 1
		LUN 0 d0
$([ "$1" = 1 ] && echo "		LUN 1 d1")
	}
}
CONF
}
config 1 > "$WORKDIR/scst.conf"

MPORT=$(free_port)
start_uscstd -c "$WORKDIR/scst.conf" --threads 2 --metrics "127.0.0.1:$MPORT"
URL=iscsi://127.0.0.1:$PORT/$TGT/0
grep -q "metrics: Prometheus text on http://127.0.0.1:$MPORT/metrics" "$LOG" ||
	fail "no log line for the metrics endpoint"

# scrape NAME: $WORKDIR/NAME.prom, checked by promtool.
scrape() {
	run $CHECK scrape "$MPORT" "$WORKDIR/$1.prom"
	timeout 30 promtool check metrics < "$WORKDIR/$1.prom" > "$WORKDIR/promtool.out" 2>&1 ||
		fail "promtool check metrics on scrape $1: $(cat "$WORKDIR/promtool.out")"
	note "scrape $1: $(grep -vc '^#' "$WORKDIR/$1.prom") samples, promtool: OK"
}

scrape fresh
grep -q '^uscst_device_commands_total{device="d0",dir="read"} 0$' "$WORKDIR/fresh.prom" ||
	fail "a fresh device does not start at 0 reads"

# session1: metrics_io, held logged in until told to log out.
note "session 1 ($INI1): 10 writes, 10 reads and the rest, held logged in"
mkfifo "$WORKDIR/go1"
timeout -k 5 60 "$METRICS_IO" "127.0.0.1:$PORT" "$TGT" "$INI1" 1 10 0 \
	< "$WORKDIR/go1" > "$WORKDIR/s1.out" 2>&1 &
IO1=$!
exec 7> "$WORKDIR/go1"
for _ in $(seq 100); do
	grep -q '^ready$' "$WORKDIR/s1.out" && break
	kill -0 $IO1 2>/dev/null || break
	sleep 0.1
done
grep -q '^ready$' "$WORKDIR/s1.out" || fail "metrics_io 1: $(cat "$WORKDIR/s1.out")"
scrape live
SESS1="session=$INI1,i,0x804d45540001"
for level in "device device=d0" "target $T" "lun $T;lun=0;device=d0" \
	"session $T;$SESS1;initiator=$INI1" "nexus $T;$SESS1;lun=0;device=d0"; do
	set -- $level
	run $CHECK expect "$WORKDIR/live.prom" "$1" "$2" "$WORKDIR/s1.out"
done
# The management RPC's tree shows the same (docs/rpc.md, "stats" nodes).
run $CHECK rpc "$RPC_SOCKET" "$WORKDIR/live.prom" "$TGT"

note "session 1 logs out"
echo logout >&7
exec 7>&-
wait $IO1 || fail "metrics_io 1 failed: $(cat "$WORKDIR/s1.out")"
grep -q '^done$' "$WORKDIR/s1.out" || fail "metrics_io 1 did not log out"
# The session is freed on its reactor once its logout is through.
for _ in $(seq 50); do
	scrape gone
	grep -q "^uscst_session_.*initiator=\"$INI1\"" "$WORKDIR/gone.prom" || break
	sleep 0.1
done
run $CHECK absent "$WORKDIR/gone.prom" session "$SESS1"
run $CHECK absent "$WORKDIR/gone.prom" nexus "$SESS1"
run $CHECK same "$WORKDIR/live.prom" "$WORKDIR/gone.prom" device device=d0
run $CHECK same "$WORKDIR/live.prom" "$WORKDIR/gone.prom" target "$T"
run $CHECK same "$WORKDIR/live.prom" "$WORKDIR/gone.prom" lun "$T;lun=0"
run $CHECK monotonic "$WORKDIR/live.prom" "$WORKDIR/gone.prom"

note "session 2 ($INI2): 20000 writes, 20000 reads, scraped meanwhile; the totals are both sessions'"
mkfifo "$WORKDIR/go2"
timeout -k 5 120 "$METRICS_IO" "127.0.0.1:$PORT" "$TGT" "$INI2" 2 20000 0 gate \
	< "$WORKDIR/go2" > "$WORKDIR/s2.out" 2>&1 &
IO2=$!
exec 7> "$WORKDIR/go2"
for _ in $(seq 100); do
	grep -q '^logged in$' "$WORKDIR/s2.out" && break
	sleep 0.1
done
grep -q '^logged in$' "$WORKDIR/s2.out" || fail "metrics_io 2: $(cat "$WORKDIR/s2.out")"
$CHECK watch "$MPORT" $IO2 "$INI2" "$WORKDIR/gone.prom" "$WORKDIR/watching" \
	> "$WORKDIR/watch.out" 2>&1 &
WATCH=$!
for _ in $(seq 100); do
	[ -e "$WORKDIR/watching" ] && break
	kill -0 $WATCH 2>/dev/null || break
	sleep 0.1
done
[ -e "$WORKDIR/watching" ] || fail "the watcher did not start: $(cat "$WORKDIR/watch.out")"
echo go >&7
echo logout >&7
exec 7>&-
wait $IO2 || fail "metrics_io 2 failed: $(cat "$WORKDIR/s2.out")"
wait $WATCH || fail "$(cat "$WORKDIR/watch.out")"
cat "$WORKDIR/watch.out"
scrape both
run $CHECK monotonic "$WORKDIR/gone.prom.watch" "$WORKDIR/both.prom"
for level in "device device=d0" "target $T" "lun $T;lun=0;device=d0"; do
	set -- $level
	run $CHECK expect "$WORKDIR/both.prom" "$1" "$2" "$WORKDIR/s1.out" "$WORKDIR/s2.out"
done
run $CHECK monotonic "$WORKDIR/gone.prom" "$WORKDIR/both.prom"

note "session 3 ($INI1 again): LUN 1, unmapped by a reload while it stays logged in"
mkfifo "$WORKDIR/go3"
timeout -k 5 60 "$METRICS_IO" "127.0.0.1:$PORT" "$TGT" "$INI1" 3 5 1 \
	< "$WORKDIR/go3" > "$WORKDIR/s3.out" 2>&1 &
IO3=$!
exec 7> "$WORKDIR/go3"
for _ in $(seq 100); do
	grep -q '^ready$' "$WORKDIR/s3.out" && break
	kill -0 $IO3 2>/dev/null || break
	sleep 0.1
done
grep -q '^ready$' "$WORKDIR/s3.out" || fail "metrics_io 3: $(cat "$WORKDIR/s3.out")"
SESS3="session=$INI1,i,0x804d45540003"
scrape lun1
run $CHECK expect "$WORKDIR/lun1.prom" nexus "$T;$SESS3;lun=1;device=d1" "$WORKDIR/s3.out"
run $CHECK expect "$WORKDIR/lun1.prom" device device=d1 "$WORKDIR/s3.out"
config 0 > "$WORKDIR/scst.conf"
kill -HUP "$USCSTD_PID"
for _ in $(seq 50); do
	scrape unmapped
	grep -q "^uscst_nexus_.*lun=\"1\"" "$WORKDIR/unmapped.prom" || break
	sleep 0.1
done
grep -q "reload of $WORKDIR/scst.conf done" "$LOG" || fail "the reload without LUN 1 was not done"
run $CHECK absent "$WORKDIR/unmapped.prom" nexus "$SESS3;lun=1"
# The session is still there, and keeps what its nexus to LUN 1 counted.
run $CHECK expect "$WORKDIR/unmapped.prom" session "$T;$SESS3" "$WORKDIR/s3.out"
run $CHECK same "$WORKDIR/lun1.prom" "$WORKDIR/unmapped.prom" session "$SESS3"
run $CHECK same "$WORKDIR/lun1.prom" "$WORKDIR/unmapped.prom" device device=d1
run $CHECK same "$WORKDIR/lun1.prom" "$WORKDIR/unmapped.prom" lun "$T;lun=1"
run $CHECK same "$WORKDIR/lun1.prom" "$WORKDIR/unmapped.prom" target "$T"
run $CHECK monotonic "$WORKDIR/lun1.prom" "$WORKDIR/unmapped.prom"
run $CHECK rpc "$RPC_SOCKET" "$WORKDIR/unmapped.prom" "$TGT"
echo logout >&7
exec 7>&-
wait $IO3 || fail "metrics_io 3 failed: $(cat "$WORKDIR/s3.out")"

note "requests the endpoint refuses"
run $CHECK status "$MPORT" 404 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
run $CHECK status "$MPORT" 404 'GET /metricsx HTTP/1.1\r\n\r\n'
run $CHECK status "$MPORT" 405 'POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n'
run $CHECK status "$MPORT" 400 'hello\r\n\r\n'
run $CHECK status "$MPORT" 431 "GET /metrics HTTP/1.1\\r\\nX: $(head -c 9000 /dev/zero | tr '\0' a)\\r\\n\\r\\n"
run $CHECK status "$MPORT" 200 'GET /metrics?x=1 HTTP/1.0\n\n'

note "a peer that never sends and one that never reads, while others are served"
timeout -k 5 60 python3 -B - "$MPORT" > "$WORKDIR/peers.out" 2>&1 << 'EOF' &
import socket, sys, time
port = int(sys.argv[1])
ok = True
silent = socket.create_connection(('127.0.0.1', port))
# The deaf peer asks and never reads: with a small receive window the
# response (tens of KiB) cannot all leave, and uscstd must give up on it.
deaf = socket.socket()
deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
deaf.connect(('127.0.0.1', port))
deaf.sendall(b'GET /metrics HTTP/1.1\r\n\r\n')
print('connected', flush=True)
start = time.monotonic()
silent.settimeout(15)
try:
    data = silent.recv(1)
    took = time.monotonic() - start
    print('silent peer: closed after %.1f s (%r)' % (took, data))
    ok &= data == b'' and 4 <= took <= 9
except socket.timeout:
    print('silent peer: not closed within 15 s')
    ok = False
time.sleep(max(0, 12 - (time.monotonic() - start)))
deaf.settimeout(5)
got = b''
try:
    while True:
        chunk = deaf.recv(65536)
        if not chunk:
            break
        got += chunk
except (socket.timeout, ConnectionResetError) as e:
    print('deaf peer: %r after %d bytes' % (e, len(got)))
    ok = False
head, _, body = got.partition(b'\r\n\r\n')
length = [int(l.split(b':')[1]) for l in head.split(b'\r\n')
          if l.lower().startswith(b'content-length:')]
print('deaf peer: %d of %s body bytes, then the connection was closed' %
      (len(body), length[0] if length else '?'))
ok &= bool(length) and len(body) < length[0]
sys.exit(0 if ok else 1)
EOF
PEERS=$!
for _ in $(seq 50); do
	grep -q connected "$WORKDIR/peers.out" && break
	sleep 0.1
done
grep -q connected "$WORKDIR/peers.out" || fail "the hostile peers did not connect: $(cat "$WORKDIR/peers.out")"
for i in 1 2 3; do
	start=$(date +%s%N)
	scrape during$i
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$ms" -lt 2000 ] || fail "a scrape took $ms ms while the hostile peers were connected"
done
check_serving "while the hostile peers are connected"
wait $PEERS || fail "$(cat "$WORKDIR/peers.out")"
cat "$WORKDIR/peers.out"
grep -q "metrics: 127.0.0.1:[0-9]*: no reading of the response within 10 s: closed" "$LOG" ||
	fail "no log line for the peer that did not read"
scrape after
run $CHECK monotonic "$WORKDIR/both.prom" "$WORKDIR/after.prom"
check_serving "after the hostile peers"

stop_uscstd
echo "metrics: all checks passed"
