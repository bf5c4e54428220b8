#!/usr/bin/env python3
"""Several connections in one session (MC/S, RFC 7143 4.2 and 6.3; issue
10, section 2), with the target's MaxConnections at 4 and uscstd on three
reactors, so that joining connections land on other reactors and are moved
to the session's.

usage: mcs.py PORT TARGET_IQN USCSTD_PID

1. Join: MaxConnections=4 is agreed; three more connections join by TSIH
   (CIDs 1-3); leading-only keys on them are answered Irrelevant; a fifth
   gets Too many connections (0x0206); a wrong ISID or an unknown TSIH gets
   Session does not exist (0x020a); a TargetName not the session's gets
   Initiator error.
2. Striping: 64 WRITEs of 64 KiB, one CmdSN sequence dealt round-robin
   over the four connections in shuffled order, then READs the same way:
   every block reads back as written.
3. Ordering across connections: WRITE CmdSN n+1 sent on connection 1
   before WRITE CmdSN n (same blocks) on connection 0; the later CmdSN
   wins.
4. Logout of one connection: connection 3 logs itself out (reason 1),
   connection 0 logs out connection 2 by CID; the target closes both and
   the others go on; a CID nobody has gets CID not found.
5. Connection loss with the others alive: a command held behind a gap on
   connection 1 (CmdSN n+1), then connection 1 dies; CmdSN n on
   connection 0 completes and n+2 after it (n+1 did arrive, so it is used
   up, not waited for).
6. Connection reinstatement: a login with the CID of a live connection
   replaces it.
7. Logout of the session (reason 0) on one connection closes all of them;
   its TSIH no longer takes connections.
"""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import (BLOCK, KiB, IMMEDIATE_KEYS, args, check, finish, ok, pattern,  # noqa: E402
                     phase, wait_closed)

A = args("usage: mcs.py PORT TARGET_IQN USCSTD_PID")
INITIATOR = "iqn.2026-12.test:mcs"
ISID = bytes.fromhex("800000002001")
SIZE = 64 * KiB
KEYS = IMMEDIATE_KEYS


class Mcs:
    """One session's connections sharing one CmdSN sequence."""

    def __init__(self):
        self.conns = {}
        self.cmd_sn = None
        self.tsih = None

    def lead(self, want=4):
        s = ic.Session(A["port"])
        s.itt = 0x100000
        answers = s.login(INITIATOR, A["target"], ISID, KEYS + [("MaxConnections", str(want))])
        self.tsih = s.tsih
        if not s.ready():  # the new nexus's unit attention
            raise AssertionError("TEST UNIT READY never GOOD on the new session")
        self.cmd_sn = s.cmd_sn
        self.conns[0] = s
        return answers

    def join(self, cid, keys=(), isid=ISID, tsih=None, target=None):
        s = ic.Session(A["port"])
        s.itt = 0x100000 * (cid + 1)
        s.cmd_sn = self.cmd_sn
        answers = s.login(INITIATOR, target or A["target"], isid,
                          [("MaxRecvDataSegmentLength", "262144")] + list(keys),
                          tsih=self.tsih if tsih is None else tsih, cid=cid)
        # The connection's own keys are its login's; the session's burst
        # and immediate-data settings are the leading connection's.
        s.params = dict(self.conns[0].params, **{k: v for k, v in answers.items()
                                                 if v != "Irrelevant"})
        self.conns[cid] = s
        return s, answers

    def take(self):
        sn = self.cmd_sn
        self.cmd_sn = (self.cmd_sn + 1) & 0xFFFFFFFF
        return sn

    def write(self, cid, lba, data, cmd_sn=None):
        s = self.conns[cid]
        itt, _ = s.send_write10(lba, data, cmd_sn=self.take() if cmd_sn is None else cmd_sn)
        return itt

    def read(self, cid, lba, length):
        itt, _ = self.conns[cid].send_read10(lba, length, cmd_sn=self.take())
        return itt


def login_refused(m, cid, status, **kw):
    try:
        s, _ = m.join(cid, **kw)
    except ic.LoginRejected as e:
        return e.status == status, "0x%04x" % e.status
    m.conns.pop(cid, None)
    s.close()
    return False, "accepted"


m = Mcs()
with phase("join"):
    answers = m.lead()
    check(answers.get("MaxConnections") == "4", "MaxConnections=4 agreed (got %r)"
          % answers.get("MaxConnections"))
    s1, a1 = m.join(1, keys=[("MaxBurstLength", "4096"), ("InitialR2T", "Yes")])
    check(a1.get("MaxBurstLength") == "Irrelevant" and a1.get("InitialR2T") == "Irrelevant",
          "leading-only keys on a joining connection answered Irrelevant (got %r)" % a1)
    check(s1.tsih == m.tsih, "the joined connection's TSIH is the session's")
    m.join(2)
    m.join(3)
    good, got = login_refused(m, 4, 0x0206)
    check(good, "a fifth connection gets Too many connections (%s)" % got)
    good, got = login_refused(m, 5, 0x020A, isid=bytes.fromhex("800000002099"))
    check(good, "a wrong ISID gets Session does not exist (%s)" % got)
    good, got = login_refused(m, 5, 0x020A, tsih=(m.tsih + 7) & 0xFFFF or 1)
    check(good, "an unknown TSIH gets Session does not exist (%s)" % got)
    good, got = login_refused(m, 5, 0x0200, target=A["target"] + "-other")
    check(good or got in ("0x0203",), "another TargetName is refused (%s)" % got)
    ok("4 connections in session %u" % m.tsih)

with phase("striping"):
    # In rounds of 16 commands: the window (QueuedCommands) is 32.
    rnd = random.Random(10)
    bad = wrong = 0
    for rnd_start in range(0, 64, 16):
        order = list(range(rnd_start, rnd_start + 16))
        sns = {i: m.take() for i in order}
        rnd.shuffle(order)
        pending = {c: set() for c in m.conns}
        for i in order:
            cid = i % 4
            pending[cid].add(m.write(cid, i * (SIZE // BLOCK), pattern(i, SIZE), cmd_sn=sns[i]))
        for cid, itts in pending.items():
            for itt, status, _ in m.conns[cid].collect(set(itts)):
                bad += status != ic.STATUS_GOOD
    check(bad == 0, "64 striped WRITEs GOOD (%d not)" % bad)
    for rnd_start in range(0, 64, 16):
        bufs = {}
        pending = {c: set() for c in m.conns}
        for i in range(rnd_start, rnd_start + 16):
            cid = (i + 1) % 4
            itt = m.read(cid, i * (SIZE // BLOCK), SIZE)
            bufs[itt] = (i, bytearray(SIZE))
            pending[cid].add(itt)
        for cid, itts in pending.items():
            got = m.conns[cid].collect(set(itts), read_bufs={t: bufs[t][1] for t in itts})
            for itt, status, _ in got:
                i, buf = bufs[itt]
                wrong += status != ic.STATUS_GOOD or bytes(buf) != pattern(i, SIZE)
    check(wrong == 0, "64 striped READs read back what was written (%d wrong)" % wrong)
    ok("64 x 64 KiB written and read back over 4 connections, CmdSNs shuffled")

with phase("ordering across connections"):
    lba = 200 * (SIZE // BLOCK)
    n = m.take()
    later = m.take()
    t1 = m.write(1, lba, pattern(1001, SIZE), cmd_sn=later)
    t0 = m.write(0, lba, pattern(1000, SIZE), cmd_sn=n)
    st0 = m.conns[0].collect({t0})[0][1]
    st1 = m.conns[1].collect({t1})[0][1]
    check(st0 == st1 == ic.STATUS_GOOD, "both WRITEs GOOD")
    itt = m.read(2, lba, SIZE)
    buf = bytearray(SIZE)
    m.conns[2].collect({itt}, read_bufs={itt: buf})
    check(bytes(buf) == pattern(1001, SIZE),
          "CmdSN %u (sent first, on connection 1) wins over %u (connection 0)" % (later, n))

with phase("logout of one connection"):
    s3 = m.conns.pop(3)
    itt = s3.next_itt()
    s3.send_pdu(ic.bhs(ic.OP_LOGOUT_REQ | ic.IMMEDIATE, ic.FINAL | 1, itt,
                       word20=3 << 16, word24=m.cmd_sn, word28=s3.exp_stat_sn))
    rsp = s3.recv_pdu()
    check(rsp.opcode == ic.OP_LOGOUT_RSP and rsp.bhs[2] == 0, "connection 3 logged out")
    check(wait_closed(s3), "the target closed connection 3")
    s0 = m.conns[0]
    itt = s0.next_itt()
    s0.send_pdu(ic.bhs(ic.OP_LOGOUT_REQ | ic.IMMEDIATE, ic.FINAL | 1, itt,
                       word20=2 << 16, word24=m.cmd_sn, word28=s0.exp_stat_sn))
    rsp = s0.recv_pdu()
    check(rsp.opcode == ic.OP_LOGOUT_RSP and rsp.bhs[2] == 0,
          "connection 0 logged out connection 2 (response %r)" % rsp)
    check(wait_closed(m.conns.pop(2)), "the target closed connection 2")
    itt = s0.next_itt()
    s0.send_pdu(ic.bhs(ic.OP_LOGOUT_REQ | ic.IMMEDIATE, ic.FINAL | 1, itt,
                       word20=9 << 16, word24=m.cmd_sn, word28=s0.exp_stat_sn))
    rsp = s0.recv_pdu()
    check(rsp.opcode == ic.OP_LOGOUT_RSP and rsp.bhs[2] == 1, "CID 9: CID not found")
    itt = m.read(1, 0, SIZE)
    check(m.conns[1].collect({itt})[0][1] == ic.STATUS_GOOD, "connection 1 goes on")
    ok("two connections logged out, two go on")

with phase("connection loss with the others alive"):
    n = m.take()
    held = m.take()
    m.write(1, 300 * (SIZE // BLOCK), pattern(2002, SIZE), cmd_sn=held)
    m.conns.pop(1).close()
    t = m.write(0, 301 * (SIZE // BLOCK), pattern(2003, SIZE), cmd_sn=n)
    check(m.conns[0].collect({t})[0][1] == ic.STATUS_GOOD, "CmdSN %u after the loss GOOD" % n)
    t = m.read(0, 301 * (SIZE // BLOCK), SIZE)
    buf = bytearray(SIZE)
    st = m.conns[0].collect({t}, read_bufs={t: buf})[0][1]
    check(st == ic.STATUS_GOOD and bytes(buf) == pattern(2003, SIZE),
          "the next CmdSN runs: %u, held on the lost connection, is used up" % held)
    ok("connection 1 lost; connection 0 goes on past its held CmdSN")

with phase("connection reinstatement"):
    s, _ = m.join(1)
    old = s
    new, _ = m.join(1)
    check(wait_closed(old), "the old connection with CID 1 is closed")
    itt = m.read(1, 0, SIZE)
    check(new.collect({itt})[0][1] == ic.STATUS_GOOD, "the new CID 1 works")

with phase("logout of the session"):
    s0 = m.conns[0]
    itt = s0.send_logout(cmd_sn=m.cmd_sn)
    rsp = s0.recv_pdu()
    check(rsp.opcode == ic.OP_LOGOUT_RSP and rsp.bhs[2] == 0, "session logged out")
    check(wait_closed(s0) and wait_closed(m.conns[1]), "every connection closed")
    good, got = login_refused(m, 2, 0x020A)
    check(good, "the TSIH takes no connection after the logout (%s)" % got)

finish()
