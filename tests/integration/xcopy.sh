#!/bin/bash
# The copy manager (EXTENDED COPY, RECEIVE COPY RESULTS) from libiscsi's
# C API, one scenario per run (xcopy_client.c says what each checks):
#   xcopy.sh USCSTD XCOPY_CLIENT copy|masking|reservation|badlist|abort|reset|lid4|
#            odx|odx_life|odx_zero_thin|odx_resize|cfr|...
# Target 1 has the LUNs copied between (fileio with 512- and 4096-byte
# blocks, nullio, a read-only one)
# and a group whose LUN only the viewer initiator sees; target 2 has a
# LUN of its own. Afterwards uscstd is alive, serves a new login and a LUN
# reset (check_liveness), and exits 0 on SIGTERM; for reset, the held
# results of A's ended sessions were dropped with them (the log).
. "$(dirname "$0")/lib.sh" "$@"
CLIENT=${2:?usage: $0 USCSTD XCOPY_CLIENT SCENARIO}
SCENARIO=${3:?usage: $0 USCSTD XCOPY_CLIENT SCENARIO}
T1=iqn.2026-12.test:xcopy-t1
T2=iqn.2026-12.test:xcopy-t2

for d in src dst ro other hidden big thin; do
	truncate -s 64M "$WORKDIR/$d.img"
done
# odx_resize shrinks this one, and ejects rem.
truncate -s 8M "$WORKDIR/shrink.img"
truncate -s 8M "$WORKDIR/rem.img"
# immed, abort_op, preempt: long copies to LUN 10 (sparse until written)
truncate -s 2G "$WORKDIR/bigdst.img"
# cfr: fileio LUNs 20-25 of target 1, only in that scenario (the others'
# LUN tables stay as they are): a 64 MiB source of random bytes, the
# destinations of an EXTENDED COPY and of a WRITE USING TOKEN, a
# write-through one and an O_DIRECT one, and one on tmpfs (/dev/shm),
# another file system than $WORKDIR's, where copy_file_range gives EXDEV.
CFR_DEVICES=
CFR_LUNS=
if [ "$SCENARIO" = cfr ]; then
	[ "$(stat -f -c %T "$WORKDIR")" != tmpfs ] || fail "cfr: $WORKDIR is on tmpfs itself"
	[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] || fail "cfr: /dev/shm is not a tmpfs"
	CFR_SHM=$(mktemp -d /dev/shm/uscst-cfr.XXXXXX) || fail "cfr: mktemp in /dev/shm"
	trap 'rc=$?; rm -rf "$CFR_SHM"; (exit $rc); cleanup' EXIT
	head -c 64M /dev/urandom > "$WORKDIR/cfrsrc.img" || fail "cfr: 64 MiB of /dev/urandom"
	for d in cfrxc cfrwut cfrwt cfrdio; do
		truncate -s 64M "$WORKDIR/$d.img"
	done
	truncate -s 64M "$CFR_SHM/cfrshm.img"
	CFR_DEVICES="
	DEVICE cfrsrc {
		filename $WORKDIR/cfrsrc.img
	}
	DEVICE cfrxc {
		filename $WORKDIR/cfrxc.img
	}
	DEVICE cfrwut {
		filename $WORKDIR/cfrwut.img
	}
	DEVICE cfrwt {
		filename $WORKDIR/cfrwt.img
		write_through 1
	}
	DEVICE cfrdio {
		filename $WORKDIR/cfrdio.img
		o_direct 1
	}
	DEVICE cfrshm {
		filename $CFR_SHM/cfrshm.img
	}"
	CFR_LUNS="
		LUN 20 cfrsrc
		LUN 21 cfrxc
		LUN 22 cfrwut
		LUN 23 cfrwt
		LUN 24 cfrdio
		LUN 25 cfrshm"
fi
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE src {
		filename $WORKDIR/src.img
	}
	DEVICE dst {
		filename $WORKDIR/dst.img
	}
	DEVICE ro {
		filename $WORKDIR/ro.img
	}
	DEVICE other {
		filename $WORKDIR/other.img
	}
	DEVICE hidden {
		filename $WORKDIR/hidden.img
	}
	DEVICE big {
		filename $WORKDIR/big.img
		blocksize 4096
	}
	DEVICE thin {
		filename $WORKDIR/thin.img
		thin_provisioned 1
	}
	DEVICE shrink {
		filename $WORKDIR/shrink.img
	}
	DEVICE rem {
		filename $WORKDIR/rem.img
		removable 1
	}
	DEVICE bigdst {
		filename $WORKDIR/bigdst.img
	}$CFR_DEVICES
}
HANDLER vdisk_nullio {
	DEVICE null_a {
		size_mb 32768
	}
	DEVICE null_b {
		size_mb 32768
	}
}

TARGET_DRIVER iscsi {
	enabled 1
	TARGET $T1 {
		enabled 1
		rel_tgt_id 1
		LUN 0 src
		LUN 1 dst
		LUN 2 null_a
		LUN 3 null_b
		LUN 4 ro {
			read_only 1
		}
		LUN 5 big
		LUN 10 bigdst$CFR_LUNS
		GROUP viewers {
			LUN 0 hidden
			INITIATOR iqn.2026-12.test:xcopy-viewer
		}
	}
	TARGET $T2 {
		enabled 1
		rel_tgt_id 2
		LUN 0 other
		# odx: a ROD token of src used through another target
		LUN 1 src
		# odx_zero_thin, odx_resize
		LUN 2 thin
		LUN 3 shrink
		LUN 4 rem
	}
}
CONF

start_uscstd -c "$WORKDIR/scst.conf"
note "xcopy_client $SCENARIO"
XCOPY_WORKDIR=$WORKDIR XCOPY_RPC_SOCKET=$RPC_SOCKET XCOPY_CFR_SHM=${CFR_SHM:-} \
	timeout -k 5 "${XCOPY_TIMEOUT:-240}" "$CLIENT" "127.0.0.1:$PORT" "$T1" "$T2" "$SCENARIO"
rc=$?
[ "$rc" = 0 ] || fail "xcopy_client $SCENARIO: exit $rc (the FAIL lines above)"
LIVENESS_TARGET=$T1 check_liveness "xcopy $SCENARIO" iqn.2026-12.test:xcopy-a 80a0000000ff
# reset: A's first session ended (its connection dropped) with four held
# records (three cut copies, the one aborted by the drop), its second
# (logged out) with one; each goes with its session.
if [ "$SCENARIO" = reset ]; then
	for n in 4 1; do
		grep -q "session iqn.2026-12.test:xcopy-a: $n list identifier record(s) of its copies dropped" "$LOG" ||
			fail "no log line: $n held list identifier record(s) dropped with A's session"
	done
fi
# odx_life: each of C's sessions took its records with it (the logout
# 254 of the 1000, the dropped connection 1, the reinstated session 1).
if [ "$SCENARIO" = odx_life ]; then
	for n in 254 1; do
		grep -q "session iqn.2026-12.test:xcopy-c: $n ODX record(s)" "$LOG" ||
			fail "no log line: $n ODX record(s) dropped with C's session"
	done
	[ "$(grep -c "session iqn.2026-12.test:xcopy-c: 1 ODX record(s)" "$LOG")" = 2 ] ||
		fail "not two sessions of C (dropped, reinstated) that dropped 1 ODX record each"
fi
if [ "$SCENARIO" = odx_resize ]; then
	grep -q "device shrink: 1 ROD token(s) revoked: their blocks are beyond its new end" "$LOG" ||
		fail "no log line: the shrink revoked one ROD token"
	[ "$(grep -c "device rem: 1 ROD token(s) revoked: its medium was ejected" "$LOG")" = 2 ] ||
		fail "not two log lines: an eject revoked rem's ROD token"
fi
# immed: the background copy of A's logged-out session was stopped.
if [ "$SCENARIO" = immed ]; then
	grep -q "session iqn.2026-12.test:xcopy-a: background copy (list id 4100) terminated" "$LOG" ||
		fail "no log line: the background copy (list id 0x1004) terminated with its session"
fi
# offsets_race: B's WRITEs landed between a copy's READ of a partial
# block and its COMPARE AND WRITE, which miscompared and was redone.
if [ "$SCENARIO" = offsets_race ]; then
	n=$(grep -c "was written between the READ of its kept bytes and their COMPARE AND WRITE: read again" "$LOG")
	[ "$n" -gt 0 ] || fail "offsets_race: no log line: a partial block's COMPARE AND WRITE miscompared and was redone"
	note "offsets_race: $n log line(s) of a partial block read again after a MISCOMPARE"
fi
# cfr: which path wrote each destination's chunks of 1 MiB (the state
# dump's counters, copy_job.c), and the handler's log lines once per
# device: copy_file_range for the 64 MiB EXTENDED COPY and WRITE USING
# TOKEN and the write-through LUN's 8 MiB; READ/WRITE for the O_DIRECT
# LUN (refused at once) and the tmpfs one (EXDEV on the first call), all
# of the chunks, the refusal remembered for the later copies.
if [ "$SCENARIO" = cfr ]; then
	dump=$(dump_state "cfr")
	for want in "cfrxc: 64 chunk(s) by copy_range (copy_file_range), 0 by READ/WRITE" \
		"cfrwut: 64 chunk(s) by copy_range (copy_file_range), 0 by READ/WRITE" \
		"cfrwt: 8 chunk(s) by copy_range (copy_file_range), 0 by READ/WRITE" \
		"cfrdio: 0 chunk(s) by copy_range (copy_file_range), 8 by READ/WRITE; copy_range refused" \
		"cfrshm: 0 chunk(s) by copy_range (copy_file_range), 17 by READ/WRITE; copy_range refused"; do
		grep -qxF "dump: copies to device $want" <<< "$dump" ||
			fail "cfr: no dump line \"copies to device $want\" (dump above: $(grep 'copies to' <<< "$dump"))"
	done
	for want in "device cfrxc: copy offload: copy_file_range (first chunk from cfrsrc)" \
		"device cfrwut: copy offload: copy_file_range (first chunk from cfrsrc)" \
		"device cfrdio: copy offload: no copy_file_range (o_direct)" \
		"device cfrshm: copy offload: copy_file_range from cfrsrc refused (Invalid cross-device link)"; do
		[ "$(grep -cF "$want" "$LOG")" = 1 ] || fail "cfr: not one log line \"$want\""
	done
fi
# cfr_caw: some in-kernel chunks from src found one of B's COMPARE AND
# WRITEs queued on it and were read and written instead (the source held
# as a reader across copy_file_range, range_lock.h).
if [ "$SCENARIO" = cfr_caw ]; then
	dump=$(dump_state "cfr_caw")
	n=$(sed -n 's/^dump: copies from device src: \([0-9]*\) in-kernel chunk(s) read and written for a COMPARE AND WRITE queued on it$/\1/p' <<< "$dump")
	[ -n "$n" ] && [ "$n" -gt 0 ] ||
		fail "cfr_caw: no dump line: in-kernel chunks from src that met a queued COMPARE AND WRITE"
	note "cfr_caw: $n in-kernel chunk(s) from src read and written for a queued COMPARE AND WRITE"
	grep -q "^dump: copies to device dst: [1-9][0-9]* chunk(s) by copy_range" <<< "$dump" ||
		fail "cfr_caw: no chunk to dst went by copy_range"
fi
stop_uscstd
