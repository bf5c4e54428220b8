#!/bin/bash
# uscstadmin against a running uscstd (issue 8): every verb, with I/O in
# flight. Three libiscsi sessions (mgmt_admin_io) run for the whole test:
# io-a on T writes and verifies keep1 (LUN 1) and reads keep0 (LUN 0),
# g1-io (in group G1) reads keep0, io-b on T2 reads keep0; every read of
# keep0 is compared with its file, so a change that touched another LUN's
# data shows. mgmt_admin.py makes the changes and checks them from
# sessions of its own; at the end each io session must still be logged in
# (libiscsi's reconnect is off) with no error and no miscompare. Then
# -clear_config -force empties the daemon.
. "$(dirname "$0")/lib.sh" "$@"
IO=${2:?usage: $0 USCSTD MGMT_ADMIN_IO USCSTADMIN}
ADMIN=${3:?usage: $0 USCSTD MGMT_ADMIN_IO USCSTADMIN}
[ -x "$IO" ] || fail "$IO is not an executable"
[ -x "$ADMIN" ] || fail "$ADMIN is not an executable"

T=iqn.2026-12.test:mgmt
T2=iqn.2026-12.test:mgmt2
SOCK=$WORKDIR/rpc.sock

# keep0's first 2 MiB and new1/new2 are random, so that a read of the
# wrong device or block cannot pass for the right one.
for f in keep0:16 keep1:16 grow:8 new1:8 new2:8; do
	truncate -s "${f#*:}M" "$WORKDIR/${f%:*}.img"
done
for f in keep0:2 new1:1 new2:1; do
	head -c "$((${f#*:} << 20))" /dev/urandom |
		dd of="$WORKDIR/${f%:*}.img" conv=notrunc status=none
done

cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE keep0 {
		filename $WORKDIR/keep0.img
	}
	DEVICE keep1 {
		filename $WORKDIR/keep1.img
	}
	DEVICE grow {
		filename $WORKDIR/grow.img
	}
}
HANDLER vdisk_nullio {
	DEVICE null0 {
		size_mb 64
	}
}
TARGET_DRIVER iscsi {
	TARGET $T {
		enabled 1
		LUN 0 keep0
		LUN 1 keep1
		LUN 2 grow
		GROUP G1 {
			LUN 0 keep0
			LUN 4 null0
			INITIATOR iqn.2026-12.test:g1-*
		}
	}
	TARGET $T2 {
		enabled 1
		LUN 0 keep0
		LUN 1 null0
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf" --rpc-socket "$SOCK"
for _ in $(seq 50); do
	[ -S "$SOCK" ] && break
	sleep 0.1
done
[ -S "$SOCK" ] || fail "no RPC socket at $SOCK"
mode=$(stat -c %a "$SOCK")
[ "$mode" = 600 ] || fail "the RPC socket's mode is $mode, not 600"
note "RPC socket $SOCK, mode $mode"

note "three libiscsi sessions with I/O in flight"
STOP=$WORKDIR/io.stop
io_pids=() io_status=()
start_io() {
	local name=$1 target=$2
	shift 2
	"$IO" "127.0.0.1:$PORT" "$target" "iqn.2026-12.test:$name" "$WORKDIR/$name.status" "$STOP" \
		"$@" > "$WORKDIR/$name.out" 2>&1 &
	io_pids+=($!)
	io_status+=("$WORKDIR/$name.status")
}
start_io io-a "$T" "r:0:4096:$WORKDIR/keep0.img" w:1:2048
start_io g1-io "$T" "r:0:4096:$WORKDIR/keep0.img"
start_io io-b "$T2" "r:0:4096:$WORKDIR/keep0.img"
for s in "${io_status[@]}"; do
	for _ in $(seq 100); do
		[ -s "$s" ] && break
		sleep 0.1
	done
	[ -s "$s" ] || fail "the io session writing $s did not start: $(cat "${s%.status}.out")"
done

PORT=$PORT RPC_SOCK=$SOCK ADMIN=$ADMIN WORKDIR=$WORKDIR T=$T T2=$T2 \
	PROBE=iqn.2026-12.test:probe GPROBE=iqn.2026-12.test:g1-probe IO_STATUS="${io_status[*]}" \
	timeout -k 5 600 python3 -B "$LIB_DIR/mgmt_admin.py"
rc=$?

: > "$STOP"
io_failed=
for i in "${!io_pids[@]}"; do
	wait "${io_pids[$i]}"
	io_rc=$?
	out=${io_status[$i]%.status}.out
	cat "$out"
	[ "$io_rc" = 0 ] || io_failed="$io_failed $(basename "$out" .out) (exit $io_rc)"
	grep -q 'session kept' "$out" || io_failed="$io_failed $(basename "$out" .out) (dropped)"
done
[ "$rc" = 0 ] || fail "mgmt_admin.py: checks failed (above)"
[ -z "$io_failed" ] || fail "io sessions failed:$io_failed"
grep -q 'reads verified, 0 miscompare(s), 0 error(s), session kept' "$WORKDIR/io-a.out" ||
	fail "io-a's summary is not clean"
# Who was told: io-a's map changed (LUN 3 came and went, LUN 5 by
# -config), io-b's target T2 never changed its LUNs.
grep -q ' 3f/0e x' "$WORKDIR/io-a.out" || fail "io-a never got REPORTED LUNS DATA HAS CHANGED"
grep -q ' 3f/0e x' "$WORKDIR/io-b.out" && fail "io-b got REPORTED LUNS DATA HAS CHANGED, but T2's map never changed"
note "the io sessions stayed logged in through every change, every byte verified"

note "-clear_config"
out=$(timeout -k 5 "$CMD_TIMEOUT" "$ADMIN" --rpc-socket "$SOCK" -clear_config -noprompt 2>&1 < /dev/null) &&
	fail "-clear_config without -force was accepted: $out"
grep -q 'Please specify -force with -clear_config.' <<< "$out" ||
	fail "-clear_config without -force: no scstadmin message: $out"
run "$ADMIN" --rpc-socket "$SOCK" -clear_config -force -noprompt
out=$(run "$ADMIN" --rpc-socket "$SOCK" -list_target --json)
python3 -c 'import json, sys
t = json.loads(sys.argv[1])
sys.exit(0 if all(not d.get("targets") for d in t.values()) else 1)' "$out" ||
	fail "targets remain after -clear_config: $out"
out=$(run "$ADMIN" --rpc-socket "$SOCK" -list_device --json)
[ "$(tr -d ' \n' <<< "$out")" = "{}" ] || fail "devices remain after -clear_config: $out"
note "-clear_config -force: no target, no device left"
check_alive "after -clear_config"
stop_uscstd
