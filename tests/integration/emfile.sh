#!/bin/bash
# accept() out of descriptors (EMFILE) backs off instead of spinning: uscstd
# under an open-file limit of 64 (soft and hard, so it cannot raise it),
# more connections than that held open for seconds: its CPU stays far below
# one core and its log does not grow by thousands of lines; once the
# connections close a normal login is served.
. "$(dirname "$0")/lib.sh" "$@"

command -v prlimit > /dev/null || fail "prlimit (util-linux) is needed"
REAL_USCSTD=$USCSTD
cat > "$WORKDIR/uscstd-nofile64" <<WRAP
#!/bin/sh
exec prlimit --nofile=64:64 "$REAL_USCSTD" "\$@"
WRAP
chmod +x "$WORKDIR/uscstd-nofile64"
USCSTD=$WORKDIR/uscstd-nofile64
# No per-address cap: every connection must reach accept().
start_uscstd --max-logins-per-address 0 --threads 2
grep -q 'open-file limit 64 (hard limit 64)' "$LOG" || fail "the open-file limit is not logged"
lines_before=$(wc -l < "$LOG")

run python3 -B - "$PORT" "$USCSTD_PID" <<'PY'
import socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
hz = 100  # USER_HZ: /proc/PID/stat counts clock ticks of 1/100 s

def cpu_seconds():
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / hz  # utime + stime

conns = []
for _ in range(150):
    s = socket.socket()
    s.settimeout(5)
    s.connect(("127.0.0.1", port))  # completes in the listen backlog
    conns.append(s)
time.sleep(0.5)
c0, t0 = cpu_seconds(), time.monotonic()
time.sleep(3)
c1, t1 = cpu_seconds(), time.monotonic()
share = (c1 - c0) / (t1 - t0)
print("uscstd used %.0f%% of a core over %.1f s with %d connections open" %
      (share * 100, t1 - t0, len(conns)))
if share > 0.3:
    sys.exit("FAIL: uscstd spins while out of descriptors (%.0f%% of a core)" % (share * 100))
for s in conns:
    s.close()
PY
lines_during=$(( $(wc -l < "$LOG") - lines_before ))
note "$lines_during log lines while out of descriptors"
[ "$lines_during" -le 400 ] || fail "the log grew by $lines_during lines"
grep -q 'Too many open files (open-file limit 64); not accepting for a while' "$LOG" ||
	fail "the backoff is not logged"
n=$(grep -c 'not accepting for a while' "$LOG")
[ "$n" -le 3 ] || fail "the backoff was logged $n times, not once per episode"
# The connections left in the backlog are accepted and end; then a
# normal login is served.
for _ in $(seq 50); do
	grep -q 'accepting on .* again' "$LOG" && break
	sleep 0.1
done
grep -q 'accepting on .* again' "$LOG" || fail "the portal did not accept again"
sleep 1
check_serving "after running out of descriptors"
stop_uscstd
echo "emfile: all checks passed"
