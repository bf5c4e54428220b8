"""The events an administrator looks for in uscstd's log, provoked one
by one from one session (admin_log.sh greps their lines):

  admin_events.py events PORT TARGET INITIATOR LOG
      log in; LOGICAL UNIT RESET of LUN 0, ABORT TASK of a task that does
      not exist, ABORT TASK SET of LUN 1; PERSISTENT RESERVE OUT
      REGISTER, RESERVE (Write Exclusive), RELEASE on LUN 0, then a
      RELEASE that changes nothing; RESERVE(6) and RELEASE(6) on LUN 1;
      200 READ(10)s on LUN 0, which must add no line to uscstd's LOG; a
      RESERVE(6) left held at the logout; log out.
  admin_events.py hold PORT TARGET INITIATOR SECONDS
      log in, print "logged in", stay SECONDS (answering pings), clear the
      unit attentions, log out.

Exit status 0 when the target answered everything as expected; a
message otherwise.
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

KEY = 0x1122334455667788


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def scsi(s, cdb, lun, data=b"", read_len=0):
    """Runs one command on @lun; returns (status, sense data)."""
    itt, _ = s.send_scsi(cdb, edtl=len(data) or read_len, read=bool(read_len),
                         write=bool(data), data=data, lun=lun)
    buf = bytearray(read_len) if read_len else None
    status, rsp = s.wait_response(itt, read_buf=buf)
    return status, rsp


def clear_uas(s, lun):
    """TEST UNIT READY until GOOD: collects the unit attentions a reset
    or a login left."""
    for _ in range(20):
        status, _ = scsi(s, b"\x00" * 6, lun)
        if status == ic.STATUS_GOOD:
            return
    sys.exit("FAIL: LUN %d: TEST UNIT READY never GOOD" % lun)


def pr_out(s, sa, prtype, key, sa_key):
    """PERSISTENT RESERVE OUT @sa with the 24-byte parameter list."""
    cdb = struct.pack(">BBBxxIx", 0x5F, sa, prtype & 0x0F, 24)
    params = struct.pack(">QQ8x", key, sa_key)
    status, _ = scsi(s, cdb, 0, data=params)
    return status


def login(port, target, initiator, isid):
    s = ic.Session(port)
    s.login(initiator, target, isid, [("ImmediateData", "Yes"), ("InitialR2T", "No"),
                                      ("MaxRecvDataSegmentLength", "65536")])
    return s


def log_lines(path):
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def events(port, target, initiator, log):
    s = login(port, target, initiator, b"\x40\0\0\0\xad\x01")
    for lun in (0, 1):
        clear_uas(s, lun)
    # Task management.
    rsp = s.wait_tmf(s.send_tmf(ic.TMF_LUN_RESET, lun=0))
    check(rsp == ic.TMF_RSP_COMPLETE, "LOGICAL UNIT RESET answered %d" % rsp)
    rsp = s.wait_tmf(s.send_tmf(ic.TMF_ABORT_TASK, lun=0, ref_itt=0x7777,
                                ref_cmd_sn=s.cmd_sn - 1))
    check(rsp in (ic.TMF_RSP_COMPLETE, ic.TMF_RSP_NO_TASK), "ABORT TASK answered %d" % rsp)
    rsp = s.wait_tmf(s.send_tmf(ic.TMF_ABORT_TASK_SET, lun=1))
    check(rsp == ic.TMF_RSP_COMPLETE, "ABORT TASK SET answered %d" % rsp)
    clear_uas(s, 0)
    # Persistent reservations: three changes, then one that changes nothing.
    check(pr_out(s, 0, 0, 0, KEY) == ic.STATUS_GOOD, "PR OUT REGISTER failed")
    check(pr_out(s, 1, 1, KEY, 0) == ic.STATUS_GOOD, "PR OUT RESERVE failed")
    check(pr_out(s, 2, 1, KEY, 0) == ic.STATUS_GOOD, "PR OUT RELEASE failed")
    check(pr_out(s, 2, 1, KEY, 0) == ic.STATUS_GOOD, "the second PR OUT RELEASE failed")
    # SPC-2 reservations, on the LUN without registrations.
    check(scsi(s, b"\x16" + b"\0" * 5, 1)[0] == ic.STATUS_GOOD, "RESERVE(6) failed")
    check(scsi(s, b"\x17" + b"\0" * 5, 1)[0] == ic.STATUS_GOOD, "RELEASE(6) failed")
    # The I/O path logs nothing.
    time.sleep(0.2)
    before = log_lines(log)
    for i in range(200):
        status, _ = scsi(s, struct.pack(">BBIBHB", 0x28, 0, i * 8, 0, 8, 0), 0,
                         read_len=4096)
        check(status == ic.STATUS_GOOD, "READ(10) %d failed with status 0x%02x" % (i, status))
    time.sleep(0.2)
    added = log_lines(log)[len(before):]
    check(not added, "200 READs added %d line(s) to the log: %r" % (len(added), added[:3]))
    print("200 READs: no log line")
    # Left held: the logout releases it.
    check(scsi(s, b"\x16" + b"\0" * 5, 1)[0] == ic.STATUS_GOOD, "the second RESERVE(6) failed")
    s.logout()
    print("events done")


def hold(port, target, initiator, seconds):
    s = login(port, target, initiator, b"\x40\0\0\0\xad\x02")
    print("logged in", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.nop()
        time.sleep(0.2)
    clear_uas(s, 0)
    s.logout()
    print("held %.0f s" % seconds)


if sys.argv[1] == "events":
    events(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
elif sys.argv[1] == "hold":
    hold(int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]))
else:
    sys.exit("usage: admin_events.py events|hold PORT TARGET INITIATOR [SECONDS]")
