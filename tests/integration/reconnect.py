#!/usr/bin/env python3
"""Session reinstatement (RFC 7143 6.3.5): an initiator that logs in again
with the same InitiatorName and ISID (TSIH 0) replaces its old session,
as open-iscsi, VMware and Windows do after a path failure. The target
must close the old connection, even with a write waiting for its R2T-
solicited data, never execute that half-received write, and serve the new
session; a session with another ISID is left alone.

usage: reconnect.py PORT TARGET_IQN INITIATOR_IQN
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import BLOCK, MiB, Target, check, failures, pattern  # noqa: E402

KEYS = [("InitialR2T", "Yes"), ("ImmediateData", "No"),
        ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
        ("MaxBurstLength", "262144"), ("MaxOutstandingR2T", "1"), ("ErrorRecoveryLevel", "0")]
ISID = bytes([0x80, 0x12, 0x34, 0x56, 0x78, 0x01])
OTHER_ISID = bytes([0x80, 0x12, 0x34, 0x56, 0x78, 0x02])
LBA = 300 * MiB // BLOCK


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    old_data = pattern(4000, 64 * 1024)
    new_data = pattern(4001, len(old_data))

    a = t.login(KEYS, True, True, isid=ISID)
    check(a.write10(LBA, old_data)[0] == ic.STATUS_GOOD, "first write failed")
    other = t.login(KEYS, False, False, isid=OTHER_ISID)

    # A write left waiting for its data: the R2T arrives, no Data-Out goes.
    itt = a.write10(LBA, new_data, wait=False)
    r2t = a.recv_pdu()
    check(r2t.opcode == ic.OP_R2T and r2t.itt == itt, "expected an R2T, got %r" % r2t)
    print("ok  : session A has a write waiting for data (R2T received)", flush=True)

    b = t.login(KEYS, True, True, isid=ISID)
    print("ok  : session B logged in with A's InitiatorName and ISID (TSIH %d, A's was %d)"
          % (b.tsih, a.tsih), flush=True)
    check(b.tsih != a.tsih, "the new session reuses the old TSIH %d" % a.tsih)

    # A's connection is closed by the target (anything it sends first is
    # fine, but never a response to the write).
    a.sock.settimeout(10)
    closed = False
    try:
        while True:
            pdu = a.recv_pdu()
            check(not (pdu.opcode == ic.OP_SCSI_RSP and pdu.itt == itt),
                  "the old session's write got a response after reinstatement")
    except ic.ConnectionClosed:
        closed = True
    except OSError as e:
        check(False, "old connection still open 10 s after reinstatement: %s" % e)
    check(closed, "old connection not closed")
    print("%s: session A's connection closed by the target" % ("ok  " if closed else "FAIL"),
          flush=True)

    status, back, _ = b.read10(LBA, len(old_data))
    check(status == ic.STATUS_GOOD and back == old_data,
          "the half-received write of the old session changed the LUN")
    status, _ = b.write10(LBA, new_data)
    status2, back, _ = b.read10(LBA, len(new_data))
    check(status == ic.STATUS_GOOD and status2 == ic.STATUS_GOOD and back == new_data,
          "the new session cannot write and read")
    print("ok  : session B reads the old data, writes and reads new data", flush=True)

    # The session with the other ISID is untouched.
    for _ in range(3):
        status, _, _ = other.read10(LBA, len(new_data))
        if status == ic.STATUS_GOOD:
            break
    check(status == ic.STATUS_GOOD, "the session with another ISID no longer works")
    other.logout()
    b.logout()
    print("reconnect: %s" % ("FAILED (%d)" % len(failures) if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
