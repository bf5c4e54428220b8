#!/bin/bash
# Text negotiation in the full feature phase and the Asynchronous
# Messages that go with it (issue 10 section 2; docs/iscsi_text.md,
# docs/iscsi_async.md), one python initiator per check (text_ffp.py):
#  1. MaxRecvDataSegmentLength renegotiated: READs before and after obey
#     the value in force, which changes only when the exchange ends;
#  2. a multi-PDU request (C bit) and a multi-PDU response;
#  3. a new exchange resets one under way (RFC 7143 11.10.4);
#  4. login-only keys refused; 5. SendTargets=All in FFP;
#  6. target.set_attr MaxRecvDataSegmentLength: AsyncEvent 4, answered
#     (the target declares the new value) and not answered (dropped
#     after Parameter3 seconds with AsyncEvent 2), on each connection of
#     a session with two; and asked by session.renegotiate;
#  7. AsyncEvent 0 (AEN) for a LUN map change and a capacity change with
#     the target's aen attribute on, none with it off.
. "$(dirname "$0")/lib.sh" "$@"

T=iqn.2026-12.test:text-ffp
DISK=$WORKDIR/aen_disk.img
truncate -s 16M "$DISK"

cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE aen_disk {
		filename $DISK
	}
}
HANDLER vdisk_nullio {
	DEVICE aen_extra {
		size_mb 16
	}
}
TARGET_DRIVER iscsi {
	logout_timeout 2
	TARGET $T {
		enabled 1
		LUN 0 aen_disk
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"

# check MODE [ARG]: one text_ffp.py run, which must pass.
check() {
	local out=$WORKDIR/text_ffp.$1.out
	timeout -k 5 60 python3 -B "$LIB_DIR/text_ffp.py" "$PORT" "$RPC_SOCKET" "$T" "$@" \
		> "$out" 2>&1 || { cat "$out"; fail "text_ffp.py $*"; }
	sed -n "s/^text_ffp: ok: /  $1: /p" "$out"
	grep -c '^text_ffp: ok:' "$out" | sed "s/^/text_ffp $1: checks passed: /"
}

mark() { MARK=$(wc -l < "$LOG"); }
logged() { tail -n +$((MARK + 1)) "$LOG" | grep -q "$1"; }

mark
check mrdsl
logged "renegotiated: MaxRecvDataSegmentLength 4096" || fail "no log line for the renegotiation"
check multi
mark
check reset
logged "continues no exchange" || fail "no log line for the stale TTT"
check refused
check sendtargets
check_alive

# The target's MaxRecvDataSegmentLength changes under a live session.
mark
check reneg-answer 16384
logged "asked to renegotiate within 2 s" || fail "no log line for the AsyncEvent 4"
logged "data segment, beyond the 16384-byte limit" || fail "the new limit was not in force"
check reneg-ignore 32768
logged "did not renegotiate within" || fail "no log line for the drop"
check reneg-mcs 8192
mark
check reneg-rpc 8192
logged "mgmt: session.renegotiate" || fail "no log line for session.renegotiate"
logged "asked to renegotiate within 2 s: renegotiation requested by management" ||
	fail "no log line for the request"
check_alive

# AEN: off by default, then on.
check aen-off "$DISK"
rpc lun.remove "{\"driver\":\"iscsi\",\"target\":\"$T\",\"lun\":1}" > /dev/null
rpc target.set_attr "{\"driver\":\"iscsi\",\"target\":\"$T\",\"attributes\":{\"aen\":\"1\"}}" > /dev/null
check aen-on "$DISK"
check_alive
stop_uscstd
