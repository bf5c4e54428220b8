#!/bin/bash
# The state dump (SIGUSR1) names who holds each reserved device: a
# persistent reservation (its type and holder's key, generation, number of
# registrations, APTPL) and an SPC-2 reservation (its holder), and says
# nothing of a device nobody reserved; a logout ends the SPC-2 one.
. "$(dirname "$0")/lib.sh" "$@"

TGT=iqn.2026-12.test:pr-dump
truncate -s 16M "$WORKDIR/pr.img" "$WORKDIR/spc2.img" "$WORKDIR/free.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE prdisk {
		filename $WORKDIR/pr.img
	}
	DEVICE spc2disk {
		filename $WORKDIR/spc2.img
	}
	DEVICE freedisk {
		filename $WORKDIR/free.img
	}
}
TARGET_DRIVER iscsi {
	enabled 1
	TARGET $TGT {
		enabled 1
		LUN 0 prdisk
		LUN 1 spc2disk
		LUN 2 freedisk
	}
}
CONF
start_uscstd -c "$WORKDIR/scst.conf"

# A registers key 0xabc and reserves LUN 0 Write Exclusive, Registrants
# Only; B reserves LUN 1 (SPC-2); then waits for "logout" on stdin.
# (The script is a file: the client's stdin is the coprocess pipe.)
HERE=$(cd "$(dirname "$0")" && pwd)
cat > "$WORKDIR/client.py" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[3])
import iscsi_client as ic
port, tgt = int(sys.argv[1]), sys.argv[2]

def cmd(s, lun, cdb, data=b""):
    for _ in range(4):  # past the unit attentions of a new session
        itt, _ = s.send_scsi(cdb, edtl=len(data), write=bool(data), data=data, lun=lun)
        st, rsp = s.wait_response(itt)
        if st != ic.STATUS_CHECK_CONDITION or ic.sense_key_asc(rsp)[0] != 6:
            return st
    return st

def pr_out(sa, key, sa_key, type_):
    p = struct.pack(">QQIBBH", key, sa_key, 0, 0, 0, 0)
    return struct.pack(">BBBHIB", 0x5F, sa, type_, 0, len(p), 0), p

a, b = ic.Session(port), ic.Session(port)
a.login("iqn.2026-12.test:dump-a", tgt, b"\x80\0\0\0\0\x01", {})
b.login("iqn.2026-12.test:dump-b", tgt, b"\x80\0\0\0\0\x02", {})
ok = cmd(a, 0, *pr_out(0, 0, 0xABC, 0)) == 0
ok &= cmd(a, 0, *pr_out(1, 0xABC, 0, 0x05)) == 0
ok &= cmd(b, 1, bytes([0x16, 0, 0, 0, 0, 0])) == 0
print("ready" if ok else "failed", flush=True)
sys.stdin.readline()
b.logout()
print("done", flush=True)
sys.stdin.readline()
PY
coproc CLIENT { python3 -B "$WORKDIR/client.py" "$PORT" "$TGT" "$HERE"; }
read -r -t 20 line <&"${CLIENT[0]}" || fail "the client did not get ready"
[ "$line" = ready ] || fail "the client's REGISTER, RESERVE or RESERVE(6) failed"

dump=$(dump_state "two reservations")
echo "$dump"
grep -qx 'dump: reservations prdisk: generation 1, 1 registered, reserved WERO by key 0xabc, APTPL off, SPC-2 none' <<< "$dump" ||
	fail "the dump does not show prdisk's persistent reservation"
grep -qx 'dump: reservations spc2disk: generation 0, 0 registered, not reserved, APTPL off, SPC-2 held by iqn.2026-12.test:dump-b' <<< "$dump" ||
	fail "the dump does not show spc2disk's SPC-2 reservation"
grep -q 'dump: reservations freedisk' <<< "$dump" && fail "the dump shows freedisk, which nobody reserved"

echo logout >&"${CLIENT[1]}"
read -r -t 20 line <&"${CLIENT[0]}" || fail "B's logout did not complete"
dump=$(dump_state "after B's logout")
grep -q 'dump: reservations spc2disk' <<< "$dump" && fail "spc2disk is still reserved after its holder logged out"
grep -q 'dump: reservations prdisk: .* by key 0xabc' <<< "$dump" ||
	fail "prdisk's persistent reservation went with B's logout"
note "the dump shows each reservation and its holder; B's logout ended its SPC-2 one"
echo done >&"${CLIENT[1]}"
wait "$CLIENT_PID" 2>/dev/null
stop_uscstd
