#!/usr/bin/env python3
"""A READ sent right after an overlapping WRITE on the same session,
without waiting for the WRITE's response, returns the new data (issue 5,
section 4: under the QUEUE ALGORITHM MODIFIER 0 the control mode page
promises, SIMPLE commands whose LBA ranges overlap run in order; today
the READ returns the old data 28 of 30 times on fileio).

usage: overlap_order.py PORT TARGET_IQN USCSTD_PID

For LUN 0 (fileio), 1 (blockio on a file) and 2 (fileio, o_direct 1):
the region is first written with "old" data (each WRITE waited for);
then 100 times a 64 KiB WRITE of new data and a READ of the same range
go out back to back in one send, and the READ must return the new data
(counted: new, old, mixed). Then QAM 1 (unrestricted reordering) is set
on LUN 0 with MODE SELECT(10) and read back with MODE SENSE(10); the
same pairs must both complete GOOD, in whatever order (not asserted).
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import (BLOCK, KiB, args, check, finish, login, measured, ok, pattern,  # noqa: E402
                     phase)

INITIATOR = "iqn.2026-11.test:overlap"
ISID = bytes.fromhex("800000002001")
ROUNDS = 100
SIZE = 64 * KiB
LUNS = [(0, "fileio"), (1, "blockio"), (2, "fileio o_direct")]


def write_then_read(s, lun, lba, data):
    """WRITE @data and a READ of the same range, pipelined (one send);
    returns (write status, read status, data read, completion order)."""
    w_itt, r_itt = s.next_itt(), s.next_itt()
    wcdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, len(data) // BLOCK, 0) + b"\0" * 6
    rcdb = struct.pack(">BBIBHB", 0x28, 0, lba, 0, len(data) // BLOCK, 0) + b"\0" * 6
    w = ic.bhs(ic.OP_SCSI_CMD, ic.FINAL | 0x20 | ic.ATTR_SIMPLE, w_itt, lun=lun,
               word20=len(data), word24=s.cmd_sn, word28=s.exp_stat_sn, rest=wcdb)
    w[5:8] = len(data).to_bytes(3, "big")
    r = ic.bhs(ic.OP_SCSI_CMD, ic.FINAL | 0x40 | ic.ATTR_SIMPLE, r_itt, lun=lun,
               word20=len(data), word24=s.cmd_sn + 1, word28=s.exp_stat_sn, rest=rcdb)
    s.cmd_sn += 2
    s.sock.sendall(bytes(w) + data + bytes(r))
    buf = bytearray(len(data))
    done = s.collect({w_itt, r_itt}, read_bufs={r_itt: buf})
    status = {itt: st for itt, st, _ in done}
    order = "".join("W" if itt == w_itt else "R" for itt, _, _ in done)
    return status[w_itt], status[r_itt], bytes(buf), order


def rounds(s, lun, name, seed, assert_order=True):
    base = 4096 + lun * 8192
    old = [pattern(seed + i, SIZE) for i in range(ROUNDS)]
    for i in range(ROUNDS):
        status, _ = write_lun(s, lun, base + i * (SIZE // BLOCK), old[i])
        check(status == ic.STATUS_GOOD, "%s: setup WRITE failed" % name)
    counts = {"new": 0, "old": 0, "mixed": 0}
    orders = {}
    for i in range(ROUNDS):
        new = pattern(seed + 1000 + i, SIZE)
        ws, rs, got, order = write_then_read(s, lun, base + i * (SIZE // BLOCK), new)
        check(ws == ic.STATUS_GOOD and rs == ic.STATUS_GOOD,
              "%s round %d: WRITE status %d, READ status %d" % (name, i, ws, rs))
        counts["new" if got == new else "old" if got == old[i] else "mixed"] += 1
        orders[order] = orders.get(order, 0) + 1
    measured("%s: READ right after an overlapping WRITE returned new data %d, old %d, mixed %d "
             "of %d times (completion order %s)" % (name, counts["new"], counts["old"],
                                                    counts["mixed"], ROUNDS, orders))
    if assert_order:
        check(counts["new"] == ROUNDS, "%s: the READ overtook the overlapping WRITE before it "
              "%d of %d times" % (name, ROUNDS - counts["new"], ROUNDS))


def write_lun(s, lun, lba, data):
    itt, _ = s.send_scsi(struct.pack(">BBIBHB", 0x2A, 0, lba, 0, len(data) // BLOCK, 0),
                         edtl=len(data), write=True, data=data, lun=lun)
    done = s.collect({itt})
    return done[0][1], done[0][2]


def mode_sense_control(s, lun):
    itt, _ = s.send_scsi(struct.pack(">BBBBBBHB", 0x5A, 0x08, 0x0A, 0, 0, 0, 255, 0),
                         edtl=255, read=True, lun=lun)
    buf = bytearray(255)
    done = s.collect({itt}, read_bufs={itt: buf})
    check(done[0][1] == ic.STATUS_GOOD, "MODE SENSE(10) of the control page failed")
    bdl = struct.unpack(">H", buf[6:8])[0]
    page = bytes(buf[8 + bdl:8 + bdl + 12])
    check(page[0] & 0x3F == 0x0A and page[1] == 0x0A, "MODE SENSE returned no control page: %r"
          % page)
    return page


def set_qam(s, lun, qam):
    page = bytearray(mode_sense_control(s, lun))
    page[0] &= 0x3F  # PS is reserved in MODE SELECT
    page[3] = (page[3] & 0x0F) | (qam << 4)
    param = bytes(8) + bytes(page)
    itt, _ = s.send_scsi(struct.pack(">BBBBBBBHB", 0x55, 0x10, 0, 0, 0, 0, 0, len(param), 0),
                         edtl=len(param), write=True, data=param, lun=lun)
    done = s.collect({itt})
    check(done[0][1] == ic.STATUS_GOOD, "MODE SELECT(10) of QAM %d failed: %r" % (qam, done))
    got = mode_sense_control(s, lun)[3] >> 4
    check(got == qam, "MODE SENSE shows QAM %d after MODE SELECT of %d" % (got, qam))


def main():
    args(__doc__)
    s = login(INITIATOR, ISID)
    for lun, name in LUNS:
        with phase("LUN %d (%s): %d READs right behind overlapping WRITEs" % (lun, name, ROUNDS)):
            # The first command on a LUN may meet its unit attention.
            for _ in range(3):
                itt, _ = s.send_scsi(b"\0" * 6, lun=lun)
                if s.collect({itt})[0][1] == ic.STATUS_GOOD:
                    break
            qam = mode_sense_control(s, lun)[3] >> 4
            check(qam == 0, "LUN %d: the control mode page says QAM %d, not 0" % (lun, qam))
            rounds(s, lun, "LUN %d (%s)" % (lun, name), seed=lun * 10000)
    with phase("LUN 0 with QAM 1 (unrestricted): both complete, order not asserted"):
        set_qam(s, 0, 1)
        ok("QAM 1 set on LUN 0 with MODE SELECT(10)")
        rounds(s, 0, "LUN 0 (fileio, QAM 1)", seed=50000, assert_order=False)
        set_qam(s, 0, 0)
    s.logout()
    finish()


if __name__ == "__main__":
    main()
