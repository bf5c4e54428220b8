#!/usr/bin/env python3
"""Session reinstatement while the old connection is busy, 100 times in a
row with the same InitiatorName and ISID (issue 5, section 1: "double
free when an initiator logs in again with the same ISID while its old
connection is still sending").

usage: reinstate_busy.py PORT TARGET_IQN USCSTD_PID

Each round, the current session is made busy one of three ways, then a
new connection logs in with the same InitiatorName and ISID (TSIH 0):
  a. a thread streams 1 MiB WRITEs as immediate data on it, and keeps
     sending while the new login happens;
  b. a thread streams WRITEs whose data goes in R2T-solicited Data-Out;
  c. it has READs of 8 MiB outstanding whose Data-In it never reads.
Required (RFC 7143 6.3.5): every new login succeeds, once the old
session is gone; the target closes the old connection; uscstd lives. At
the end the last session's write reads back unchanged (nothing an old
session had in flight lands after it). Prints the time the 100
reinstatements took.
"""
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import (BLOCK, IMMEDIATE_KEYS, MiB, R2T_KEYS, alive, check, args,  # noqa: E402
                     finish, login, measured, ok, pattern, phase)

INITIATOR = "iqn.2026-11.test:reinstate-busy"
ISID = bytes.fromhex("80000000c001")
ROUNDS = 100
LBA = 128 * MiB // BLOCK  # the region every busy session writes to
REGION = 8 * MiB
BUSY_DATA = pattern(81, MiB)


class Busy:
    """Keeps @s busy in a thread until its connection fails."""

    def __init__(self, s, how):
        self.s, self.how, self.sent = s, how, 0
        self.started = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        # Wait until the connection really carries traffic (not a sleep:
        # the thread says so after its first command is on the wire).
        self.started.wait(20)

    def run(self):
        s = self.s
        try:
            if self.how == "immediate":
                while True:
                    s.send_write10(LBA + (self.sent % 8) * MiB // BLOCK, BUSY_DATA)
                    self.sent += 1
                    self.started.set()
            elif self.how == "r2t":
                while True:
                    lba = LBA + (self.sent % 8) * MiB // BLOCK
                    cdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, MiB // BLOCK, 0)
                    itt, _ = s.send_scsi(cdb, edtl=MiB, write=True)
                    self.sent += 1
                    self.started.set()
                    while True:
                        p = s.recv_pdu()
                        if p.opcode == ic.OP_R2T and p.itt == itt:
                            s._send_data_out(itt, p.u32(20), BUSY_DATA, p.u32(40), p.u32(44),
                                             None, [0])
                        if p.opcode == ic.OP_SCSI_RSP and p.itt == itt:
                            break
            else:  # unread reads
                for _ in range(4):
                    s.send_read10(LBA, 8 * MiB)
                    self.sent += 1
                # Never read: the target's sends to us stay blocked.
        except (OSError, ic.ConnectionClosed, ic.ProtocolError):
            pass
        finally:
            self.started.set()

    def gone(self, timeout=20):
        """True once the target closed the connection (or the thread
        ended for another reason)."""
        if self.how == "unread":
            return wait_eof(self.s, timeout)
        self.thread.join(timeout)
        return not self.thread.is_alive()


def wait_eof(s, timeout):
    """Reads (and drops) what the target still sends until it closes."""
    s.sock.settimeout(timeout)
    try:
        while s.sock.recv(1 << 20):
            pass
        return True
    except ConnectionResetError:
        return True
    except OSError:
        return False


def main():
    args(__doc__)
    modes = ["immediate", "r2t", "unread"]
    cur = login(INITIATOR, ISID, keys=IMMEDIATE_KEYS)
    logins_ok = logins_failed = not_closed = 0
    times = []
    t_all = time.monotonic()
    for n in range(ROUNDS):
        how = modes[n % len(modes)]
        with phase("round %d: reinstate while the old connection is busy (%s)" % (n, how)):
            busy = Busy(cur, how)
            keys = R2T_KEYS if modes[(n + 1) % len(modes)] == "r2t" else IMMEDIATE_KEYS
            t0 = time.monotonic()
            try:
                cur = login(INITIATOR, ISID, keys=keys)
                logins_ok += 1
            except (OSError, ic.ConnectionClosed, ic.ProtocolError, AssertionError) as e:
                logins_failed += 1
                check(False, "round %d: the reinstating login failed: %s" % (n, e))
                if logins_failed >= 3 or not alive():
                    break
                cur = login(INITIATOR, ISID, keys=keys)
            times.append(time.monotonic() - t0)
            if not check(busy.gone(), "round %d: the old connection (%s, %d commands sent) "
                         "still open after the new login" % (n, how, busy.sent)):
                not_closed += 1
            busy.s.close()
        if not alive():
            break
    total = time.monotonic() - t_all
    measured("%d reinstatements of a busy session in %.2f s (%d logins failed; login time "
             "min %.3f / max %.3f s)" % (logins_ok, total, logins_failed,
                                         min(times) if times else 0, max(times) if times else 0))
    with phase("the last session's data reads back"):
        data = pattern(82, REGION)
        status, _ = cur.write10(LBA, data)
        check(status == ic.STATUS_GOOD, "the last session's WRITE got status %d" % status)
        status, back, _ = cur.read10(LBA, REGION)
        check(status == ic.STATUS_GOOD and back == data,
              "the last session reads back something else than it wrote")
        ok("the last session's 8 MiB write read back unchanged")
        cur.logout()
    finish()


if __name__ == "__main__":
    main()
