#!/usr/bin/env python3
"""ErrorRecoveryLevel 1 (RFC 7143 7.1, 11.16; docs/iscsi_erl.md), from our
own initiator: nobody else here speaks it (libiscsi and open-iscsi stop at
ERL 0).

usage: erl1.py PORT ERL1_TARGET ERL0_TARGET INITIATOR

1. ErrorRecoveryLevel: the ERL 1 target answers 1 to an offer of 2, the
   other target (the default) 0.
2. A 256 KiB READ cut in 8 KiB Data-In PDUs and 64 KiB bursts: each burst
   not ended by the status has the A bit and one TTT; then, its status not
   acknowledged (ExpStatSN held back):
   - Data SNACK for DataSN 5 (one), 30.. (RunLength 0): exact replicas,
     the last with the S bit and its original StatSN;
   - DataACK up to DataSN 16; then a Data SNACK below it is refused
     (Reject, protocol error, DataSN field 32); a DataACK inside a burst
     is refused (Reject, invalid DataACK);
   - Status SNACK for the status: the final Data-In again;
   - MaxRecvDataSegmentLength renegotiated down to 4096 (Text), then an
     R-Data SNACK: the 128 KiB after the DataACK again in 4096-byte PDUs,
     DataSN 16..47 (no S bit), then a SCSI Response with the SNACK Tag,
     the same StatSN and ExpDataSN 48; a Status SNACK now gets that
     response;
   - acknowledged (a NOP-Out with ExpStatSN past it): a Data SNACK or a
     Status SNACK for it is refused.
3. R2T SNACK: a WRITE's unanswered R2T sent again, identical; once its
   data is in, a SNACK for it is refused; the WRITE ends GOOD.
4. Recovery R2T: a solicited Data-Out with a wrong data digest is
   rejected (Data Digest Error) and asked for again by a recovery R2T
   (a new R2TSN, from its offset); an unsolicited one is asked for by the
   first R2T. Both WRITEs end GOOD and read back whole.
5. At ERL 0 a SNACK gets Reject, SNACK Reject (0x03).
   A LOGICAL UNIT RESET while a READ's status is unacknowledged is
   answered at once (the reset does not wait for the acknowledgement).
6. An initiator that acknowledges no status (ExpStatSN never moves) has
   its connection closed once 2 x QueuedCommands + 256 responses wait.
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

PORT, T1, T0, INI = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
OP_SNACK = 0x10
KIB = 1024
KEYS = [("HeaderDigest", "CRC32C"), ("DataDigest", "CRC32C"), ("ErrorRecoveryLevel", "2"),
        ("MaxRecvDataSegmentLength", "8192"), ("MaxBurstLength", "65536"),
        ("FirstBurstLength", "65536"), ("MaxOutstandingR2T", "1")]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)
    return cond


def login(target, isid, extra=()):
    s = ic.Session(PORT)
    keys = [kv for kv in KEYS if kv[0] not in dict(extra)] + list(extra)
    a = s.login(INI, target, bytes.fromhex(isid), keys)
    if target == T1:
        s.ready()  # the power-on unit attention
    return s, a


def snack(s, kind, itt=ic.RESERVED_TAG, ttt=ic.RESERVED_TAG, beg=0, run=0, exp_stat_sn=None):
    s.send_pdu(ic.bhs(OP_SNACK, ic.FINAL | kind, itt, word20=ttt,
                      word28=s.exp_stat_sn if exp_stat_sn is None else exp_stat_sn,
                      rest=struct.pack(">IIII", 0, 0, beg, run)))


def recv(s):
    """Next PDU without the client's ExpStatSN bookkeeping moving what we
    send (we hold it back on purpose)."""
    held = s.exp_stat_sn
    p = s.recv_pdu()
    s.exp_stat_sn = held
    return p


def same(a, b, with_statsn):
    """Replicas: everything but ExpCmdSN and MaxCmdSN (and StatSN where it
    is not meaningful) as first sent."""
    skip = range(24, 36) if not with_statsn else range(28, 36)
    return all(a.bhs[i] == b.bhs[i] for i in range(48) if i not in skip) and a.data == b.data


def expect_reject(s, reason, what, sn=None):
    p = recv(s)
    ok = p.opcode == ic.OP_REJECT and p.bhs[2] == reason
    if ok and sn is not None:
        ok = p.u32(36) == sn
    check(ok, "%s: Reject 0x%02x%s (got %r, reason 0x%02x, DataSN field %d)" %
          (what, reason, "" if sn is None else " DataSN %d" % sn, p,
           p.bhs[2] if p.opcode == ic.OP_REJECT else 0, p.u32(36)))


def pattern(n, seed):
    return bytes((i * 7 + seed + i // 512) & 0xFF for i in range(n))


# ---- 1 + 5: negotiation, and ERL 0
s0, a0 = login(T0, "400000000001")
check(a0.get("ErrorRecoveryLevel") == "0", "ERL 0 target answers ErrorRecoveryLevel=%s (0)" %
      a0.get("ErrorRecoveryLevel"))
snack(s0, 1, beg=0, run=0)
expect_reject(s0, 0x03, "SNACK at ERL 0")
s0.logout()
s0.close()

s, a = login(T1, "400000000002", [("InitialR2T", "Yes"), ("ImmediateData", "No")])
check(a.get("ErrorRecoveryLevel") == "1", "ERL 1 target answers ErrorRecoveryLevel=%s (1)" %
      a.get("ErrorRecoveryLevel"))

# ---- 2: the READ and its Data-In
data = pattern(256 * KIB, 3)
st, _ = s.write10(0, data)
check(st == 0, "WRITE 256 KiB: status %d" % st)
s.exp_stat_sn = s.exp_stat_sn  # acknowledged so far
acked = s.exp_stat_sn
itt, _ = s.send_read10(0, len(data))
din = {}
while True:
    p = recv(s)
    if p.opcode != ic.OP_DATA_IN or p.itt != itt:
        check(False, "expected Data-In of the READ, got %r" % p)
        sys.exit(1)
    din[p.u32(36)] = p
    if p.flags & 0x01:
        break
status_sn = din[31].u32(24) if 31 in din else -1
check(sorted(din) == list(range(32)), "READ: DataSN 0..31 (%d PDUs)" % len(din))
got = b"".join(din[k].data for k in sorted(din))
check(got == data, "READ: the data written")
a_bits = [k for k in sorted(din) if din[k].flags & 0x40]
ttts = {din[k].u32(20) for k in a_bits}
check(a_bits == [7, 15, 23] and len(ttts) == 1 and ic.RESERVED_TAG not in ttts,
      "A bit on DataSN %s (7, 15, 23), TTT %s" % (a_bits, ["0x%x" % t for t in ttts]))
ack_ttt = ttts.pop() if ttts else 0

snack(s, 0, itt=itt, beg=5, run=1, exp_stat_sn=acked)
p = recv(s)
check(p.opcode == ic.OP_DATA_IN and same(p, din[5], False),
      "Data SNACK DataSN 5: a replica (%r)" % p)
snack(s, 0, itt=itt, beg=30, run=0, exp_stat_sn=acked)
p30, p31 = recv(s), recv(s)
check(same(p30, din[30], False) and same(p31, din[31], True) and p31.u32(24) == status_sn,
      "Data SNACK DataSN 30..: replicas of 30 and 31 (status, StatSN %d)" % status_sn)

snack(s, 2, ttt=ack_ttt, beg=16, exp_stat_sn=acked)
snack(s, 0, itt=itt, beg=3, run=1, exp_stat_sn=acked)
expect_reject(s, 0x04, "Data SNACK below the DataACK", sn=32)
snack(s, 2, ttt=ack_ttt, beg=20, exp_stat_sn=acked)
expect_reject(s, 0x08, "DataACK inside a burst")

snack(s, 1, beg=status_sn, run=1, exp_stat_sn=acked)
p = recv(s)
check(p.opcode == ic.OP_DATA_IN and same(p, din[31], True),
      "Status SNACK: the final Data-In again (%r)" % p)

# What R-Data SNACK is for: our MaxRecvDataSegmentLength goes down to
# 4096 (Text in the full feature phase), so the rest is cut anew.
tsn = s.cmd_sn
s.send_pdu(ic.bhs(ic.OP_TEXT_REQ, ic.FINAL, 0x7000, word20=ic.RESERVED_TAG, word24=tsn,
                  word28=acked), b"MaxRecvDataSegmentLength=4096\0")
s.cmd_sn += 1
p = recv(s)
check(p.opcode == ic.OP_TEXT_RSP and p.flags & ic.FINAL,
      "Text in the full feature phase: MaxRecvDataSegmentLength=4096 answered (%r %r)" %
      (p, p.data))
s.my_mrdsl = 4096
snack(s, 3, itt=itt, ttt=0x1234, exp_stat_sn=acked)
again = {}
while True:
    p = recv(s)
    if p.opcode != ic.OP_DATA_IN:
        break
    again[p.u32(36)] = p
check(sorted(again) == list(range(16, 48)) and
      all(len(again[k].data) == 4096 and not again[k].flags & 0x01 and
          again[k].data == data[128 * KIB + (k - 16) * 4096:128 * KIB + (k - 15) * 4096]
          for k in again),
      "R-Data SNACK: the 128 KiB after the DataACK again in 4096-byte PDUs, DataSN 16..47, "
      "no status in them (%d PDUs)" % len(again))
check(p.opcode == ic.OP_SCSI_RSP and p.bhs[3] == 0 and p.u32(20) == 0x1234 and
      p.u32(24) == status_sn and p.u32(36) == 48,
      "R-Data SNACK: SCSI Response, SNACK Tag 0x%x, StatSN %d (%d), ExpDataSN %d (48)" %
      (p.u32(20), p.u32(24), status_sn, p.u32(36)))
rsp = p
snack(s, 1, beg=status_sn, run=1, exp_stat_sn=acked)
p = recv(s)
check(p.opcode == ic.OP_SCSI_RSP and same(p, rsp, True),
      "Status SNACK after the R-Data SNACK: that SCSI Response (%r)" % p)

# Acknowledged: nothing of it can be asked for any more.
s.exp_stat_sn = (status_sn + 1) & 0xFFFFFFFF
nop = s.send_nop()
p = s.recv_pdu()
check(p.opcode == ic.OP_NOP_IN and p.itt == nop, "NOP-In (the status acknowledged)")
snack(s, 0, itt=itt, beg=0, run=1)
expect_reject(s, 0x04, "Data SNACK once the status is acknowledged")
snack(s, 1, beg=status_sn, run=1)
expect_reject(s, 0x04, "Status SNACK for an acknowledged StatSN")

# ---- 3: R2T SNACK
wdata = pattern(128 * KIB, 9)
cdb = struct.pack(">BBIBHB", 0x2A, 0, 1024, 0, len(wdata) // 512, 0)
witt, _ = s.send_scsi(cdb, edtl=len(wdata), write=True)
r2t = recv(s)
check(r2t.opcode == ic.OP_R2T and r2t.u32(36) == 0 and r2t.u32(40) == 0 and
      r2t.u32(44) == 65536, "WRITE 128 KiB: R2T 0 for 0+65536 (%r)" % r2t)
snack(s, 0, itt=witt, beg=0, run=1)
p = recv(s)
check(p.opcode == ic.OP_R2T and same(p, r2t, False), "R2T SNACK: the R2T again (%r)" % p)
counter = [0]
s._send_data_out(witt, r2t.u32(20), wdata, 0, 65536, None, counter)
r2t1 = recv(s)
check(r2t1.opcode == ic.OP_R2T and r2t1.u32(36) == 1 and r2t1.u32(40) == 65536,
      "R2T 1 for 65536 (%r)" % r2t1)
snack(s, 0, itt=witt, beg=0, run=1)
expect_reject(s, 0x04, "R2T SNACK for an R2T answered with its data", sn=2)
s._send_data_out(witt, r2t1.u32(20), wdata, 65536, 65536, None, counter)
st, _ = s.wait_response(witt)
check(st == 0, "WRITE after the R2T SNACK: status %d" % st)

# ---- 4: recovery R2T


def write_recovered(s, lba, bad_pdu, what):
    """A 128 KiB WRITE whose PDU number @bad_pdu (the command is 1) has a
    wrong data digest: one Reject (Data Digest Error), GOOD, and the
    blocks read back whole."""
    rejects = []
    st, sense = s.write10(lba, wdata, bad_pdu=bad_pdu, others=rejects)
    check(st == 0, "WRITE with a bad %s Data-Out: status %d %s (recovered)" %
          (what, st, ic.sense_key_asc(sense) if st else ""))
    check([(p.opcode, p.bhs[2]) for p in rejects] == [(ic.OP_REJECT, 0x02)],
          "one Reject, Data Digest Error (%s)" % rejects)
    st, back, _ = s.read10(lba, len(wdata))
    check(st == 0 and back == wdata, "read back whole after the %s data was asked for again" %
          what)
    s.logout()
    s.close()


# solicited: the 3rd Data-Out of burst 0 (Data-Outs are PDUs 2..)
write_recovered(s, 2048, 4, "solicited")
# unsolicited: InitialR2T=No, no immediate data; the 2nd Data-Out is bad
s, a = login(T1, "400000000003", [("InitialR2T", "No"), ("ImmediateData", "No")])
write_recovered(s, 4096, 3, "unsolicited")

# ---- 5b: task management does not wait for acknowledgements
s, a = login(T1, "400000000005")
acked = s.exp_stat_sn
ritt, _ = s.send_read10(0, 8192)
while True:
    p = recv(s)
    if p.opcode == ic.OP_DATA_IN and p.flags & 0x01:
        break
t0 = time.monotonic()
titt = s.send_tmf(5)  # LOGICAL UNIT RESET, ExpStatSN still before the READ's status
p = recv(s)
took = time.monotonic() - t0
check(p.opcode == ic.OP_TMF_RSP and p.itt == titt and p.bhs[2] == 0 and took < 2,
      "LOGICAL UNIT RESET with the READ's status unacknowledged: response %d in %.2f s "
      "(not waiting for the acknowledgement)" % (p.bhs[2], took))
s.exp_stat_sn = (p.u32(24) + 1) & 0xFFFFFFFF
s.logout()
s.close()

# ---- 6: never acknowledged
s, a = login(T1, "400000000004")
frozen = s.exp_stat_sn
closed = False
for i in range(400):
    try:
        s.send_pdu(ic.bhs(ic.OP_NOP_OUT | ic.IMMEDIATE, ic.FINAL, 0x1000 + i,
                          word20=ic.RESERVED_TAG, word24=s.cmd_sn, word28=frozen))
        recv(s)
    except (ic.ConnectionClosed, OSError):
        closed = True
        break
check(closed and 300 <= i <= 330,
      "ExpStatSN never moving: connection closed after %d unacknowledged responses "
      "(2 x 32 + 256 = 320)" % i)
s.close()

print("erl1: %d failed" % len(failures))
sys.exit(1 if failures else 0)
