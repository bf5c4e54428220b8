#!/usr/bin/env python3
"""ORDERED and HEAD OF QUEUE task attributes, observed from the wire
(issue 5, section 4; SAM-5 8.6: an ORDERED task starts only after every
older task has completed, and every younger one waits for it; a HEAD OF
QUEUE task goes before every task still queued).

usage: task_attrs.py PORT TARGET_IQN USCSTD_PID

What can be seen without timing: on one connection the target sends a
task's status when the task completes, so the order of statuses on the
wire is the order of completions. And a WRITE whose data is solicited by
an R2T cannot complete before we send that data, so "X is held behind
the WRITE" is seen exactly: X's status has not come when our ping's
NOP-In (sent after X) is back, and comes after we release the WRITE's
data. Nothing here waits for a fixed time; a held task that never
completes fails on the socket timeout.

1. ORDERED behind a WRITE waiting for its data: W (SIMPLE WRITE, R2T
   received, data held back), then O (ORDERED TEST UNIT READY), then L
   (SIMPLE TEST UNIT READY), then H (HEAD OF QUEUE TEST UNIT READY), then
   a ping. Required: by the NOP-In, H has completed and neither O nor L
   has; once W's data goes, the statuses come in the order W, O, L.
   (Today nothing is held: O and L complete at once.)
2. ORDERED behind slow SIMPLE WRITEs: four 1 MiB WRITEs with immediate
   data to a write_through fileio LUN (each takes a sync to the file),
   then an ORDERED 4 KiB READ elsewhere, then two SIMPLE 4 KiB READs;
   the ORDERED status must come after all four WRITEs and before both
   READs sent after it, in each of 20 rounds.
3. HEAD OF QUEUE past queued SIMPLE commands of the same range: W
   (WRITE of the range, data held back), then R (SIMPLE READ of the same
   range: under QAM 0 it must wait for W), then H (HEAD OF QUEUE READ of
   the same range): by the ping's NOP-In, H has completed and R has not;
   after W's data, R returns W's data.
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import (BLOCK, IMMEDIATE_KEYS, KiB, MiB, R2T_KEYS, args, check, finish,  # noqa: E402
                     login, measured, ok, pattern, phase, ping)

INITIATOR = "iqn.2026-11.test:attrs"
ISID_R2T = bytes.fromhex("800000003001")
ISID_IMM = bytes.fromhex("800000003002")
ISID_HOQ = bytes.fromhex("800000003003")
TUR = b"\0" * 6


def statuses(pdus):
    """ITTs whose status is among @pdus, in wire order."""
    return [p.itt for p in pdus if p.opcode == ic.OP_SCSI_RSP or
            (p.opcode == ic.OP_DATA_IN and p.flags & 0x01)]


def held_write(s, lba, size):
    """A SIMPLE WRITE whose R2T has come; returns (itt, r2t)."""
    cdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, size // BLOCK, 0)
    itt, _ = s.send_scsi(cdb, edtl=size, write=True)
    r2t = s.recv_pdu()
    if r2t.opcode != ic.OP_R2T or r2t.itt != itt:
        raise ic.ProtocolError("expected the R2T of ITT 0x%x, got %r" % (itt, r2t))
    return itt, r2t


def until_done(s, itt):
    """ITTs whose status came, in wire order, up to and including that of
    @itt and then up to the NOP-In of a ping sent after it. A task held
    for ever fails on the socket timeout."""
    pdus = []
    try:
        s.collect({itt}, others=pdus)
    except socket.timeout:
        raise AssertionError("task 0x%x is held behind the queued tasks (no status within "
                             "%.0f s)" % (itt, s.sock.gettimeout()))
    return statuses(pdus) + [itt] + statuses(ping(s))


def release(s, itt, r2t, data):
    s._send_data_out(itt, r2t.u32(20), data, r2t.u32(40), r2t.u32(44), None, [0])


def test_ordered_behind_held_write(s):
    data = pattern(301, 64 * KiB)
    w, r2t = held_write(s, 8192, len(data))
    o, _ = s.send_scsi(TUR, attr=ic.ATTR_ORDERED)
    late, _ = s.send_scsi(TUR, attr=ic.ATTR_SIMPLE)
    h, _ = s.send_scsi(TUR, attr=ic.ATTR_HEAD_OF_QUEUE)
    early = until_done(s, h)
    names = {w: "W", o: "O", late: "L", h: "H"}
    measured("before W's data: statuses of %s" % ("".join(names[i] for i in early) or "none"))
    check(o not in early, "the ORDERED task completed while an older WRITE waits for its data")
    check(late not in early, "a SIMPLE task younger than a waiting ORDERED one completed first")
    release(s, w, r2t, data)
    rest = set([w, o, late, h]) - set(early)
    done = [itt for itt, _, _ in s.collect(rest)]
    order = [i for i in early + done if i != h]
    measured("statuses in wire order (H left out): %s" % "".join(names[i] for i in order))
    check(order == [w, o, late], "completion order %s, want W O L"
          % " ".join(names[i] for i in order))


def test_ordered_behind_slow_writes(s):
    rounds, bad = 20, 0
    data = pattern(302, MiB)
    seen = {}
    for n in range(rounds):
        writes = [s.send_write10(i * MiB // BLOCK, data)[0] for i in range(4)]
        o, _ = s.send_read10(64 * MiB // BLOCK, 4096, attr=ic.ATTR_ORDERED)
        after = [s.send_read10((64 * MiB + (i + 1) * 4096) // BLOCK, 4096)[0] for i in range(2)]
        done = [itt for itt, _, _ in s.collect(set(writes + [o] + after))]
        pos = done.index(o)
        ok_round = set(done[:pos]) == set(writes) and set(done[pos + 1:]) == set(after)
        bad += not ok_round
        key = "".join("W" if i in writes else "O" if i == o else "r" for i in done)
        seen[key] = seen.get(key, 0) + 1
    measured("ORDERED READ behind four 1 MiB write_through WRITEs, then two SIMPLE READs: "
             "completion orders %s over %d rounds" % (seen, rounds))
    check(bad == 0, "the ORDERED task did not complete after every older and before every "
          "younger task in %d of %d rounds" % (bad, rounds))


def test_head_of_queue(s):
    lba = 16384
    old = pattern(303, 64 * KiB)
    new = pattern(304, len(old))
    w, r2t = held_write(s, lba, len(old))
    release(s, w, r2t, old)
    s.collect({w})
    w, r2t = held_write(s, lba, len(new))
    r, _ = s.send_read10(lba, len(new))
    h, _ = s.send_read10(lba, len(new), attr=ic.ATTR_HEAD_OF_QUEUE)
    early = until_done(s, h)
    names = {w: "W", r: "R", h: "H"}
    measured("before W's data: statuses of %s" % ("".join(names[i] for i in early) or "none"))
    check(r not in early, "a SIMPLE READ completed before the overlapping WRITE sent before it "
          "had its data (QAM 0)")
    release(s, w, r2t, new)
    buf = bytearray(len(new))
    s.collect(set([w, r, h]) - set(early), read_bufs={r: buf})
    if r not in early:
        check(bytes(buf) == new, "the SIMPLE READ queued behind the WRITE did not return its data")


def main():
    args(__doc__)
    for isid, keys, name, fn in [
            (ISID_R2T, R2T_KEYS, "1: ORDERED and HEAD OF QUEUE behind a WRITE waiting for its data",
             test_ordered_behind_held_write),
            (ISID_IMM, IMMEDIATE_KEYS, "2: ORDERED behind slow SIMPLE WRITEs, SIMPLE READs "
             "behind it", test_ordered_behind_slow_writes),
            (ISID_HOQ, R2T_KEYS, "3: HEAD OF QUEUE past SIMPLE commands queued on the same range",
             test_head_of_queue)]:
        with phase(name):
            s = login(INITIATOR, isid, keys=keys)
            fn(s)
            s.logout()
    finish()


if __name__ == "__main__":
    main()
