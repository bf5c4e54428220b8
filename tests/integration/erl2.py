#!/usr/bin/env python3
"""ErrorRecoveryLevel 2 (RFC 7143 6.2.2, 7.2.2, 11.5.1; docs/iscsi_erl.md):
connection recovery within a session, from our own initiator.

usage: erl2.py PORT ERL2_TARGET USCSTD_PID ERL0_TARGET

The target keeps a failed connection's tasks for DefaultTime2Wait +
DefaultTime2Retain (1 + 3 s here) and another connection takes them over
with TASK REASSIGN:
1. a WRITE whose R2T was half answered when its connection died: after
   TASK REASSIGN (Function complete) the rest is asked for on the new
   connection (a new TTT, from the first byte not received), the WRITE
   ends GOOD there and the blocks read back whole;
2. a READ whose connection died before the initiator read anything: its
   Data-In and status come on the new connection, the data right; one
   such task is aborted (ABORT TASK from another connection) at once,
   and is gone for TASK REASSIGN;
3. Logout reason 2 (remove the connection for recovery) of another
   connection by CID: Logout Response with Time2Wait 1 and Time2Retain
   3, the connection closed, its WRITE reassigned and done;
4. TASK REASSIGN of a task whose connection is alive: 3 (still
   allegiant); of a task whose connection's time ran out: 1 (does not
   exist);
5. session continuation: the only connection of a session dies with a
   WRITE waiting for data; a new connection joins by TSIH, takes the
   task over and finishes it;
6. at ErrorRecoveryLevel 0: TASK REASSIGN gets 4, Logout reason 2 gets 2.
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import BLOCK, KiB, args, check, finish, ok, pattern, phase, wait_closed  # noqa: E402

A = args("usage: erl2.py PORT ERL2_TARGET USCSTD_PID ERL0_TARGET", ["erl0"])
INI = "iqn.2026-12.test:erl2"
KEYS = [("ErrorRecoveryLevel", "2"), ("MaxConnections", "4"), ("InitialR2T", "Yes"),
        ("ImmediateData", "No"), ("MaxRecvDataSegmentLength", "8192"),
        ("MaxBurstLength", "65536"), ("FirstBurstLength", "65536"),
        ("MaxOutstandingR2T", "1"), ("DefaultTime2Wait", "1"), ("DefaultTime2Retain", "3")]
TASK_REASSIGN = 8
SIZE = 128 * KiB


class Session:
    """Connections of one session sharing its CmdSN sequence."""

    def __init__(self, isid, target=None):
        self.isid = bytes.fromhex(isid)
        self.target = target or A["target"]
        self.conns = {}
        s = ic.Session(A["port"])
        self.answers = s.login(INI, self.target, self.isid, KEYS)
        self.tsih = s.tsih
        if not s.ready():
            raise AssertionError("TEST UNIT READY never GOOD")
        self.cmd_sn = s.cmd_sn
        self.conns[0] = s

    def join(self, cid):
        s = ic.Session(A["port"])
        s.itt = 0x10000 * (cid + 1) + (int(time.time() * 1000) & 0xFF) * 0x100
        s.cmd_sn = self.cmd_sn
        s.login(INI, self.target, self.isid, [("MaxRecvDataSegmentLength", "8192")],
                tsih=self.tsih, cid=cid)
        s.params = dict(self.conns[0].params) if 0 in self.conns else dict(self.answers)
        self.conns[cid] = s
        return s

    def take(self):
        sn = self.cmd_sn
        self.cmd_sn = (self.cmd_sn + 1) & 0xFFFFFFFF
        return sn

    def write_cmd(self, cid, lba, data):
        cdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, len(data) // BLOCK, 0)
        itt, _ = self.conns[cid].send_scsi(cdb, edtl=len(data), write=True, cmd_sn=self.take())
        return itt

    def read(self, cid, lba, length):
        s = self.conns[cid]
        itt, _ = s.send_read10(lba, length, cmd_sn=self.take())
        buf = bytearray(length)
        st, _ = s.wait_response(itt, read_buf=buf)
        return st, bytes(buf)

    def reassign(self, cid, ref_itt, exp_data_sn=0):
        s = self.conns[cid]
        itt = s.next_itt()
        s.send_pdu(ic.bhs(ic.OP_TMF_REQ | ic.IMMEDIATE, ic.FINAL | TASK_REASSIGN, itt,
                          word20=ref_itt, word24=self.cmd_sn, word28=s.exp_stat_sn,
                          rest=struct.pack(">II", 0, exp_data_sn)))
        return s.wait_tmf(itt)


def send_data(s, itt, r2t, data, upto=None):
    """Answers @r2t with @data's bytes it asks for; with @upto only those
    before it, in 8 KiB PDUs without the F bit (the burst left open)."""
    off, length = r2t.u32(40), r2t.u32(44)
    if upto is None:
        s._send_data_out(itt, r2t.u32(20), data, off, length, None, [0])
        return
    for sn, pos in enumerate(range(off, upto, 8 * KiB)):
        s.send_pdu(ic.bhs(ic.OP_DATA_OUT, 0, itt, word20=r2t.u32(20), word28=s.exp_stat_sn,
                          rest=struct.pack(">III", 0, sn, pos)), data[pos:pos + 8 * KiB])


def finish_write(s, itt, data):
    """Answers every R2T of @itt on @s until its status."""
    def on_r2t(r2t):
        send_data(s, itt, r2t, data)
    st, _ = s.wait_response(itt, on_r2t=on_r2t)
    return st


def reassign_write(m, cid, witt, lba, data, what):
    """TASK REASSIGN of the WRITE @witt to connection @cid, its data sent
    there: GOOD, and the blocks read back."""
    rsp = m.reassign(cid, witt)
    check(rsp == 0, "TASK REASSIGN %s: response %s (0)" % (what, rsp))
    st = finish_write(m.conns[cid], witt, data)
    check(st == 0, "its WRITE ends GOOD (%d)" % st)
    st, back = m.read(cid, lba, len(data))
    check(st == 0 and back == data, "and reads back")


def expect_r2t(s, itt):
    p = s.recv_pdu()
    if p.opcode != ic.OP_R2T or p.itt != itt:
        raise AssertionError("expected an R2T for 0x%x, got %r" % (itt, p))
    return p


with phase("1. a half-answered WRITE reassigned"):
    m = Session("800000003001")
    m.join(1)
    data = pattern(11, SIZE)
    witt = m.write_cmd(1, 0, data)
    r2t = expect_r2t(m.conns[1], witt)
    old_ttt = r2t.u32(20)
    send_data(m.conns[1], witt, r2t, data, upto=32 * KiB)
    # Make sure the target has the data before the connection dies.
    m.conns[1].send_nop()
    p = m.conns[1].recv_pdu()
    m.conns[1].close()
    time.sleep(0.3)
    rsp = m.reassign(0, witt)
    check(rsp == 0, "TASK REASSIGN of the WRITE: response %s (0)" % rsp)
    r2t = expect_r2t(m.conns[0], witt)
    check(r2t.u32(40) == 32 * KiB and r2t.u32(20) != old_ttt and r2t.u32(44) == 64 * KiB,
          "R2T on the new connection from offset %d (32768), %d bytes, a new TTT" %
          (r2t.u32(40), r2t.u32(44)))
    send_data(m.conns[0], witt, r2t, data)
    st = finish_write(m.conns[0], witt, data)
    check(st == 0, "the WRITE ends GOOD on the new connection (%d)" % st)
    st, back = m.read(0, 0, SIZE)
    check(st == 0 and back == data, "the blocks read back whole")
    ok("WRITE reassigned")

with phase("2. a READ whose answer was lost, reassigned"):
    m.join(2)
    ritt, _ = m.conns[2].send_read10(0, SIZE, cmd_sn=m.take())
    # A NOP with the next CmdSN on connection 0: once it is answered the
    # READ has arrived (commands run in CmdSN order).
    m.conns[0].send_nop(immediate=False, cmd_sn=m.take())
    p = m.conns[0].recv_pdu()
    m.conns[2].close()
    time.sleep(0.3)
    rsp = m.reassign(0, ritt)
    check(rsp == 0, "TASK REASSIGN of the READ: response %s (0)" % rsp)
    buf = bytearray(SIZE)
    st, _ = m.conns[0].wait_response(ritt, read_buf=buf)
    check(st == 0 and bytes(buf) == data,
          "its Data-In and status on the new connection, the data right (%d)" % st)
    ok("READ reassigned")

with phase("2b. ABORT TASK of a held task"):
    m.join(2)
    sn = m.take()
    ritt, _ = m.conns[2].send_read10(0, SIZE, cmd_sn=sn)
    m.conns[0].send_nop(immediate=False, cmd_sn=m.take())
    m.conns[0].recv_pdu()
    m.conns[2].close()
    time.sleep(0.3)
    t0 = time.monotonic()
    s0 = m.conns[0]
    titt = s0.send_tmf(1, ref_itt=ritt, ref_cmd_sn=sn, cmd_sn=m.cmd_sn)
    rsp = s0.wait_tmf(titt)
    took = time.monotonic() - t0
    check(rsp == 0 and took < 1.0, "ABORT TASK of a task held for reassignment: %s (0) in "
          "%.2f s" % (rsp, took))
    rsp = m.reassign(0, ritt)
    check(rsp == 1, "then TASK REASSIGN of it: %s (1, gone)" % rsp)
    ok("held task aborted")

with phase("3. Logout reason 2 of another connection"):
    s3 = m.join(3)
    d3 = pattern(33, 64 * KiB)
    witt = m.write_cmd(3, 1024, d3)
    expect_r2t(s3, witt)
    s0 = m.conns[0]
    litt = s0.next_itt()
    s0.send_pdu(ic.bhs(ic.OP_LOGOUT_REQ | ic.IMMEDIATE, ic.FINAL | 2, litt, word20=3 << 16,
                       word24=m.cmd_sn, word28=s0.exp_stat_sn))
    p = s0.recv_pdu()
    check(p.opcode == ic.OP_LOGOUT_RSP and p.bhs[2] == 0 and
          struct.unpack(">HH", p.bhs[40:44]) == (1, 3),
          "Logout Response 0, Time2Wait/Time2Retain %s (1, 3)" %
          (struct.unpack(">HH", p.bhs[40:44]),))
    check(wait_closed(s3), "connection 3 closed by the target")
    reassign_write(m, 0, witt, 1024, d3, "after Logout reason 2")
    ok("Logout reason 2")

with phase("4. still allegiant; time ran out"):
    s1 = m.join(1)
    witt = m.write_cmd(1, 2048, d3)
    expect_r2t(s1, witt)
    rsp = m.reassign(0, witt)
    check(rsp == 3, "TASK REASSIGN of a live connection's task: %s (3)" % rsp)
    s1.close()
    time.sleep(6)  # 1 + 3 + 1 s
    rsp = m.reassign(0, witt)
    check(rsp == 1, "TASK REASSIGN after Time2Wait + Time2Retain: %s (1)" % rsp)
    ok("allegiant and expired")

with phase("5. session continuation"):
    c = Session("800000003002")
    d5 = pattern(55, 64 * KiB)
    witt = c.write_cmd(0, 4096, d5)
    expect_r2t(c.conns[0], witt)
    c.conns[0].close()
    del c.conns[0]
    time.sleep(0.3)
    c.join(0)
    reassign_write(c, 0, witt, 4096, d5, "on the connection that continued the session")
    ok("session continued")

with phase("6. ErrorRecoveryLevel 0"):
    z = ic.Session(A["port"])
    ans = z.login(INI, A["erl0"], bytes.fromhex("800000003003"), KEYS)
    check(ans.get("ErrorRecoveryLevel") == "0", "ERL 0 target: ErrorRecoveryLevel=%s" %
          ans.get("ErrorRecoveryLevel"))
    itt = z.next_itt()
    z.send_pdu(ic.bhs(ic.OP_TMF_REQ | ic.IMMEDIATE, ic.FINAL | TASK_REASSIGN, itt,
                      word20=0x1234, word24=z.cmd_sn, word28=z.exp_stat_sn))
    check(z.wait_tmf(itt) == 4, "TASK REASSIGN at ERL 0: 4")
    itt = z.next_itt()
    z.send_pdu(ic.bhs(ic.OP_LOGOUT_REQ | ic.IMMEDIATE, ic.FINAL | 2, itt, word20=0,
                      word24=z.cmd_sn, word28=z.exp_stat_sn))
    p = z.recv_pdu()
    check(p.opcode == ic.OP_LOGOUT_RSP and p.bhs[2] == 2, "Logout reason 2 at ERL 0: %d (2)" %
          p.bhs[2])
    z.logout()
    ok("ERL 0 refusals")

for sess in (m, c):
    for s in sess.conns.values():
        try:
            s.logout()
        except Exception:  # noqa: BLE001 - some are gone already
            pass
finish()
