#!/bin/bash
# Side-by-side read benchmark: uscstd against Debian's tgtd, same machine,
# same load, same run. See bench/README.md.
#
# Both targets serve two LUNs: NULLIO (no backing store) and FILEIO on a
# file in /dev/shm (tmpfs, so the page cache, not a disk, is measured).
# libiscsi's iscsi-perf drives each LUN with 4 KiB random reads at queue
# depth 32 and 1 MiB sequential reads at queue depth 8; each measurement is
# repeated REPS times, alternating the two targets, and the median is kept.
#
# Environment: USCSTD (default build/src/daemon/uscstd), RUNTIME=10 (s per
# run), REPS=3, SIZE_MB=1024 (LUN size), THREADS (uscstd --threads).
set -u
cd "$(dirname "$0")/.." || exit 1

USCSTD=${USCSTD:-build/src/daemon/uscstd}
RUNTIME=${RUNTIME:-10}
REPS=${REPS:-3}
SIZE_MB=${SIZE_MB:-1024}
INI=iqn.2026-11.test:bench
IQN=iqn.2026-11.org.uscst:bench

for tool in "$USCSTD" tgtd tgtadm iscsi-perf iscsi-readcapacity16 python3; do
	command -v "$tool" > /dev/null || { echo "bench: $tool not found (make deps build)" >&2; exit 1; }
done

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

wait_port() {
	for _ in $(seq 100); do
		python3 -c 'import socket, sys
s = socket.socket()
sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))))' "$1" && return 0
		sleep 0.1
	done
	return 1
}

WORK=$(mktemp -d /dev/shm/uscst-bench.XXXXXX)
USCSTD_PID=
TGTD_PID=
# tgtd's management socket is named after this number; pick an unused one
# (tgtd refuses numbers of 32768 and more).
CTL=$(( (RANDOM % 20000) + 10000 ))
while [ -e "/var/run/tgtd/socket.$CTL" ]; do CTL=$(( (RANDOM % 20000) + 10000 )); done

cleanup() {
	if [ -n "$USCSTD_PID" ]; then
		kill -TERM "$USCSTD_PID" 2>/dev/null
		wait "$USCSTD_PID" 2>/dev/null
	fi
	if [ -n "$TGTD_PID" ]; then
		# tgtd ignores SIGTERM while it has targets
		tgtadm -C "$CTL" --lld iscsi --op delete --mode target --tid 1 --force > /dev/null 2>&1
		tgtadm -C "$CTL" --op delete --mode system > /dev/null 2>&1
		sleep 0.5
		kill -TERM "$TGTD_PID" 2>/dev/null
		wait "$TGTD_PID" 2>/dev/null
		rm -f "/var/run/tgtd/socket.$CTL" "/var/run/tgtd/socket.$CTL.lock"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench: preparing a ${SIZE_MB} MiB file in $WORK (tmpfs)"
dd if=/dev/urandom of="$WORK/disk.img" bs=1M count="$SIZE_MB" status=none || exit 1

# --- uscstd: LUN 0 nullio, LUN 1 fileio on tmpfs
U_PORT=$(free_port)
cat > "$WORK/scst.conf" <<CONF
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb $SIZE_MB
	}
}

HANDLER vdisk_fileio {
	DEVICE shm0 {
		filename $WORK/disk.img
	}
}

TARGET_DRIVER iscsi {
	enabled 1
	TARGET $IQN {
		enabled 1
		LUN 0 null0
		LUN 1 shm0
	}
}
CONF
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
mkdir -p "$WORK/state"
"$USCSTD" -c "$WORK/scst.conf" --listen "127.0.0.1:$U_PORT" --state-dir "$WORK/state" \
	--log-level warn "${threads[@]}" > "$WORK/uscstd.log" 2>&1 < /dev/null &
USCSTD_PID=$!
wait_port "$U_PORT" || { echo "bench: uscstd did not start:" >&2; cat "$WORK/uscstd.log" >&2; exit 1; }

# --- tgtd: LUN 1 null, LUN 2 rdwr on the same tmpfs file (LUN 0 is its
# controller)
T_PORT=$(free_port)
tgtd -f -C "$CTL" --iscsi portal="127.0.0.1:$T_PORT" > "$WORK/tgtd.log" 2>&1 < /dev/null &
TGTD_PID=$!
wait_port "$T_PORT" || { echo "bench: tgtd did not start:" >&2; cat "$WORK/tgtd.log" >&2; exit 1; }
adm=(tgtadm -C "$CTL" --lld iscsi)
"${adm[@]}" --op new --mode target --tid 1 -T iqn.2026-11.test:tgt &&
	"${adm[@]}" --op new --mode logicalunit --tid 1 --lun 1 -b nullbs --bstype null &&
	"${adm[@]}" --op new --mode logicalunit --tid 1 --lun 2 -b "$WORK/disk.img" --bstype rdwr &&
	"${adm[@]}" --op bind --mode target --tid 1 -I ALL ||
	{ echo "bench: tgtadm failed" >&2; exit 1; }

declare -A URLS=(
	[uscstd.nullio]=iscsi://127.0.0.1:$U_PORT/$IQN/0
	[uscstd.fileio]=iscsi://127.0.0.1:$U_PORT/$IQN/1
	[tgtd.nullio]=iscsi://127.0.0.1:$T_PORT/iqn.2026-11.test:tgt/1
	[tgtd.fileio]=iscsi://127.0.0.1:$T_PORT/iqn.2026-11.test:tgt/2
)

block_size() {
	timeout 30 iscsi-readcapacity16 -i "$INI" "$1" 2>/dev/null |
		awk -F: '/LOGICAL BLOCK LENGTH/ { print $2 + 0 }'
}

# measure URL BYTES QD RANDOM(0|1): prints the run's average IOPS (0 when
# iscsi-perf failed).
measure() {
	local url=$1 bytes=$2 qd=$3 random=$4 bs out flags=()

	bs=$(block_size "$url")
	[ -n "$bs" ] && [ "$bs" -gt 0 ] || { echo 0; return; }
	[ "$random" = 1 ] && flags=(-r)
	out=$(timeout $((RUNTIME + 30)) iscsi-perf -i "$INI" -t "$RUNTIME" -m "$qd" \
		-b $((bytes / bs)) "${flags[@]}" "$url" 2>&1 | tr '\r' '\n')
	echo "$out" >> "$WORK/perf.log"
	grep -o '^iops average [0-9]*' <<< "$out" | tail -n 1 | awk '{ print $3 + 0 } END { if (!NR) print 0 }'
}

median() {
	sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# name bytes qd random unit
TESTS=(
	"rand4k-qd32 4096 32 1 IOPS"
	"seq1m-qd8 1048576 8 0 MiB/s"
)

rows=()
failures=0
for lun in nullio fileio; do
	for t in "${TESTS[@]}"; do
		read -r name bytes qd random unit <<< "$t"
		: > "$WORK/uscstd.vals"
		: > "$WORK/tgtd.vals"
		for rep in $(seq "$REPS"); do
			for target in uscstd tgtd; do
				iops=$(measure "${URLS[$target.$lun]}" "$bytes" "$qd" "$random")
				echo "$iops" >> "$WORK/$target.vals"
				[ "$iops" -gt 0 ] || failures=$((failures + 1))
				printf '  %-7s %-7s %-12s rep %d: %8d IOPS\n' "$lun" "$target" "$name" \
					"$rep" "$iops" >&2
			done
		done
		u=$(median < "$WORK/uscstd.vals")
		g=$(median < "$WORK/tgtd.vals")
		if [ "$unit" = MiB/s ]; then
			u=$(awk -v i="$u" -v b="$bytes" 'BEGIN { printf "%.0f", i * b / 1048576 }')
			g=$(awk -v i="$g" -v b="$bytes" 'BEGIN { printf "%.0f", i * b / 1048576 }')
		fi
		ratio=$(awk -v u="$u" -v g="$g" 'BEGIN { if (g > 0) printf "%.2f", u / g; else print "n/a" }')
		rows+=("$(printf '%-20s %-6s %10s %10s %8s' "$lun $name" "$unit" "$u" "$g" "$ratio")")
	done
done

echo
echo "uscstd vs tgtd: iscsi-perf, ${RUNTIME}s per run, median of $REPS, $(nproc) CPUs"
printf '%-20s %-6s %10s %10s %8s\n' "test" "unit" "uscstd" "tgtd" "ratio"
printf '%s\n' "${rows[@]}"
if [ "$failures" -gt 0 ]; then
	echo "bench: $failures runs failed (0 IOPS); iscsi-perf's output was:" >&2
	grep -iE 'error|fail' "$WORK/perf.log" | sort | uniq -c | head -n 20 >&2
	exit 1
fi
