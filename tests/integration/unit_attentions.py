#!/usr/bin/env python3
"""Unit attentions on the wire (issue 6, section 4), with three sessions
on one LUN: A and B of two initiator names, C of A's name with another
ISID (another I_T nexus of the same initiator). Every condition must
reach exactly the nexuses the standard names, each once:

 - POWER ON, RESET: each new session; INQUIRY and REPORT LUNS neither
   report nor clear it, REQUEST SENSE returns it as its data and clears
   it, a TEST UNIT READY reports it once;
 - MODE PARAMETERS CHANGED: the others of a MODE SELECT, not its sender;
 - BUS DEVICE RESET FUNCTION OCCURRED: every nexus of a LOGICAL UNIT
   RESET, its requester's too; queued behind a MODE PARAMETERS CHANGED it
   is still reported first (SAM-5 precedence);
 - COMMANDS CLEARED BY ANOTHER INITIATOR (TAS 0): the nexus whose WRITE
   another nexus's CLEAR TASK SET aborted, not the idle one, not the
   sender;
 - UA_INTLCK_CTRL 10b (MODE SELECT of the control page): a CHECK
   CONDITION reports the unit attention without clearing it, again and
   again, until REQUEST SENSE takes it; back at 00b one report clears it;
 - CAPACITY DATA HAS CHANGED: every session, after the backing file grew
   and SIGHUP reloaded the configuration; READ CAPACITY shows the new
   size and a READ beyond the old end works;
 - REPORTED LUNS DATA HAS CHANGED: every session after a reload added LUN
   1, on both LUNs; REPORT LUNS clears it on all of the session's LUNs;
 - I_T NEXUS LOSS OCCURRED: the next login of an initiator port (name and
   ISID) whose connection dropped, on every LUN; after a logout, or for
   another ISID of the same name, POWER ON again.

usage: unit_attentions.py PORT PID LOG CONF CONF_WITH_LUN1 IMAGE TARGET INI_A INI_B
"""
import os
import shutil
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

PORT, PID = int(sys.argv[1]), int(sys.argv[2])
LOG, CONF, CONF_LUN1, IMAGE, TARGET, INI_A, INI_B = sys.argv[3:10]
KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
        ("MaxBurstLength", "262144")]
SK_NO_SENSE, SK_UNIT_ATTENTION = 0x0, 0x6
POWER_ON = (SK_UNIT_ATTENTION, 0x29, 0x00)
BUS_DEVICE_RESET = (SK_UNIT_ATTENTION, 0x29, 0x03)
MODE_CHANGED = (SK_UNIT_ATTENTION, 0x2A, 0x01)
CAPACITY_CHANGED = (SK_UNIT_ATTENTION, 0x2A, 0x09)
CLEARED_BY_ANOTHER = (SK_UNIT_ATTENTION, 0x2F, 0x00)
LUNS_CHANGED = (SK_UNIT_ATTENTION, 0x3F, 0x0E)
NEXUS_LOSS = (SK_UNIT_ATTENTION, 0x29, 0x07)
TMF_CLEAR_TASK_SET = 4  # RFC 7143 11.5.1
CONTROL_PAGE = 0x0A
failures = []


def check(cond, what):
    print(("ok  : " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def login(initiator, isid_last):
    s = ic.Session(PORT)
    s.login(initiator, TARGET, bytes([0x80, 0, 0x07, 0x1a, 0, isid_last]), KEYS)
    s.stray = []  # PDUs of commands that were aborted without a response
    return s


def cmd(s, cdb, read_len=0, data=b"", lun=0):
    """(status, data, (key, asc, ascq) or None)."""
    itt, _ = s.send_scsi(cdb, edtl=read_len or len(data), read=read_len > 0,
                         write=bool(data), data=data, lun=lun)
    buf = bytearray(read_len)
    status, rsp = s.wait_response(itt, read_buf=buf if read_len else None, others=s.stray)
    return status, bytes(buf), ic.sense_key_asc(rsp)


def tur(s, lun=0):
    status, _, sense = cmd(s, b"\0" * 6, lun=lun)
    return None if status == ic.STATUS_GOOD else (status, sense)


def request_sense(s, lun=0):
    """(key, asc, ascq) REQUEST SENSE returns as its data (fixed format)."""
    status, d, _ = cmd(s, bytes([0x03, 0, 0, 0, 252, 0]), read_len=252, lun=lun)
    check(status == ic.STATUS_GOOD, "REQUEST SENSE status 0x%02x" % status)
    return d[2] & 0x0F, d[12], d[13]


def inquiry_ok(s):
    return cmd(s, bytes([0x12, 0, 0, 0, 96, 0]), read_len=96)[0] == ic.STATUS_GOOD


def report_luns(s):
    status, d, _ = cmd(s, struct.pack(">BBBBBBIBB", 0xA0, 0, 0, 0, 0, 0, 4096, 0, 0),
                       read_len=4096)
    if status != ic.STATUS_GOOD:
        return None
    n = struct.unpack(">I", d[:4])[0] // 8
    return [struct.unpack(">H", d[8 + 8 * i:10 + 8 * i])[0] & 0x3FFF for i in range(n)]


def read_capacity16(s):
    status, d, _ = cmd(s, bytes([0x9E, 0x10]) + bytes(8) + struct.pack(">I", 32) + bytes(2),
                       read_len=32)
    return struct.unpack(">Q", d[:8])[0] + 1 if status == ic.STATUS_GOOD else None


def expect_uas(name, s, want, lun=0):
    """TEST UNIT READY reports exactly @want, in that order, then GOOD."""
    seen = []
    for _ in range(len(want) + 2):
        r = tur(s, lun)
        if r is None:
            break
        seen.append(r[1] if r[0] == ic.STATUS_CHECK_CONDITION else ("status", r[0]))
    return check(seen == list(want), "%s: unit attentions %s (expected %s)" % (name, seen, want))


def control_page(s):
    cdb = bytes([0x1A, 0x08, CONTROL_PAGE, 0, 255, 0])  # DBD, current values
    status, d, _ = cmd(s, cdb, read_len=255)
    check(status == ic.STATUS_GOOD, "MODE SENSE of the control page")
    return bytearray(d[4:4 + 2 + d[5]])


def mode_select_control(s, edit):
    page = control_page(s)
    page[0] &= 0x3F
    edit(page)
    plist = bytes(4) + bytes(page)
    status, _, sense = cmd(s, bytes([0x15, 0x10, 0, 0, len(plist), 0]), data=plist)
    return check(status == ic.STATUS_GOOD, "MODE SELECT of the control page: 0x%02x %s"
                 % (status, sense))


def set_qam(s, qam):
    def edit(p):
        p[3] = (p[3] & 0x0F) | (qam << 4)
    return mode_select_control(s, edit)


def set_ua_intlck_ctrl(s, v):
    def edit(p):
        p[4] = (p[4] & ~0x30) | (v << 4)
    return mode_select_control(s, edit)


def sighup_and_wait(what):
    before = open(LOG, errors="replace").read().count("reload of ")
    os.kill(PID, signal.SIGHUP)
    for _ in range(100):
        text = open(LOG, errors="replace").read()
        if text.count("reload of ") > before:
            return check(" done" in text.split("reload of ")[-1].split("\n")[0],
                         "SIGHUP reload (%s) done" % what)
        time.sleep(0.1)
    return check(False, "no reload in the log 10 s after SIGHUP (%s)" % what)


def main():
    a, b, c = login(INI_A, 1), login(INI_B, 2), login(INI_A, 3)

    # ---- POWER ON, RESET; which commands report and clear it
    check(inquiry_ok(a), "A: INQUIRY runs with a unit attention pending")
    check(report_luns(a) == [0], "A: REPORT LUNS runs with a unit attention pending")
    expect_uas("A (new session, after INQUIRY and REPORT LUNS)", a, [POWER_ON])
    sense = request_sense(b)
    check(sense == POWER_ON, "B: REQUEST SENSE returns the pending POWER ON: %s" % (sense,))
    check(tur(b) is None, "B: REQUEST SENSE cleared it")
    check(request_sense(b)[0] == SK_NO_SENSE, "B: REQUEST SENSE with nothing pending: NO SENSE")
    expect_uas("C (same initiator name as A, other ISID)", c, [POWER_ON])

    # ---- MODE PARAMETERS CHANGED: the others only
    set_qam(a, 1)
    expect_uas("A after its own MODE SELECT", a, [])
    expect_uas("B after A's MODE SELECT", b, [MODE_CHANGED])
    expect_uas("C after A's MODE SELECT", c, [MODE_CHANGED])

    # ---- BUS DEVICE RESET: the others; precedence over an older one
    set_qam(b, 0)
    check(a.wait_tmf(a.send_tmf(ic.TMF_LUN_RESET), others=a.stray) == ic.TMF_RSP_COMPLETE,
          "A: LOGICAL UNIT RESET complete")
    # SAM-5 6.3.3: the reset's condition is for every I_T nexus, the
    # requester's included (libiscsi's MultipathIO.Reset wants it on both
    # paths); it goes before the older MODE PARAMETERS CHANGED.
    expect_uas("A after its own LUN reset", a, [BUS_DEVICE_RESET, MODE_CHANGED])
    expect_uas("B after B's MODE SELECT and A's LUN reset", b, [BUS_DEVICE_RESET])
    expect_uas("C after B's MODE SELECT and A's LUN reset (reset first)", c,
               [BUS_DEVICE_RESET, MODE_CHANGED])

    # ---- COMMANDS CLEARED BY ANOTHER INITIATOR: B's WRITE waits for its
    # Data-Out when A clears the task set (TAS 0: B's command ends
    # without a response, B is told, C had nothing aborted).
    b.send_scsi(struct.pack(">BBIBHB", 0x2A, 0, 8, 0, 1, 0), edtl=512, write=True)
    time.sleep(0.3)
    check(a.wait_tmf(a.send_tmf(TMF_CLEAR_TASK_SET), others=a.stray) == ic.TMF_RSP_COMPLETE,
          "A: CLEAR TASK SET complete")
    expect_uas("A after its own CLEAR TASK SET", a, [])
    expect_uas("B, whose WRITE A's CLEAR TASK SET aborted", b, [CLEARED_BY_ANOTHER])
    expect_uas("C, idle during A's CLEAR TASK SET", c, [])
    check(not [p for p in b.stray if p.opcode == ic.OP_SCSI_RSP],
          "B: the aborted WRITE got no response (TAS 0)")

    # ---- UA_INTLCK_CTRL 10b
    if set_ua_intlck_ctrl(a, 2):
        check(control_page(a)[4] >> 4 & 3 == 2, "A: UA_INTLCK_CTRL reads back 10b")
        for i in range(3):
            r = tur(b)
            check(r == (ic.STATUS_CHECK_CONDITION, MODE_CHANGED),
                  "B: TEST UNIT READY %d under 10b reports MODE PARAMETERS CHANGED: %s"
                  % (i + 1, r))
        status, _, sense = cmd(b, struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0), read_len=512)
        check(status == ic.STATUS_CHECK_CONDITION and sense == MODE_CHANGED,
              "B: a READ under 10b reports it too: 0x%02x %s" % (status, sense))
        check(request_sense(b) == MODE_CHANGED, "B: REQUEST SENSE takes it under 10b")
        check(tur(b) is None, "B: REQUEST SENSE cleared it")
        check(request_sense(c) == MODE_CHANGED, "C: REQUEST SENSE takes it under 10b")
        check(tur(c) is None, "C: and then nothing is pending")
        set_ua_intlck_ctrl(a, 0)
        expect_uas("B back under 00b", b, [MODE_CHANGED])
        expect_uas("C back under 00b", c, [MODE_CHANGED])
        expect_uas("A, which changed UA_INTLCK_CTRL", a, [])

    # ---- CAPACITY DATA HAS CHANGED after the file grew and SIGHUP
    old = read_capacity16(a)
    check(old == 16 << 11, "READ CAPACITY before: %s blocks" % old)
    with open(IMAGE, "r+b") as f:
        f.truncate(32 << 20)
    sighup_and_wait("the backing file grew")
    for name, s in (("A", a), ("B", b), ("C", c)):
        expect_uas("%s after the resize" % name, s, [CAPACITY_CHANGED])
        n = read_capacity16(s)
        check(n == 32 << 11, "%s: READ CAPACITY after: %s blocks" % (name, n))
    status, _, sense = cmd(a, struct.pack(">BBIBHB", 0x28, 0, (16 << 11) + 5, 0, 1, 0),
                           read_len=512)
    check(status == ic.STATUS_GOOD, "A: READ beyond the old end: 0x%02x %s" % (status, sense))
    sighup_and_wait("nothing changed")
    for name, s in (("A", a), ("B", b), ("C", c)):
        expect_uas("%s after a reload that changed nothing" % name, s, [])

    # ---- REPORTED LUNS DATA HAS CHANGED: a reload adds LUN 1
    shutil.copyfile(CONF_LUN1, CONF)
    sighup_and_wait("LUN 1 added")
    check(report_luns(a) == [0, 1], "A: REPORT LUNS shows LUN 1")
    expect_uas("A's LUN 0 after its REPORT LUNS", a, [])
    expect_uas("A's LUN 1 after its REPORT LUNS", a, [], lun=1)
    expect_uas("B's LUN 1", b, [LUNS_CHANGED], lun=1)
    expect_uas("B's LUN 0", b, [LUNS_CHANGED])
    expect_uas("C's LUN 0", c, [LUNS_CHANGED])
    check(report_luns(c) == [0, 1], "C: REPORT LUNS shows LUN 1")
    expect_uas("C's LUN 1 after its REPORT LUNS", c, [], lun=1)

    # ---- I_T NEXUS LOSS OCCURRED: C's connection drops (no logout); the
    # same name and ISID logging in again is told; a logout is no loss.
    c.sock.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            c = login(INI_A, 3)
            break
        except ic.ProtocolError:
            time.sleep(0.2)  # the old session is still closing
    expect_uas("C again, after its connection dropped", c, [NEXUS_LOSS])
    expect_uas("C again, LUN 1", c, [NEXUS_LOSS], lun=1)
    d = login(INI_A, 4)
    expect_uas("A's name with a new ISID", d, [POWER_ON])
    d.logout()
    d = login(INI_A, 4)
    expect_uas("the same port after a logout", d, [POWER_ON])
    d.logout()

    for s in (a, b, c):
        s.logout()
    if failures:
        print("unit_attentions: %d check(s) failed" % len(failures))
        return 1
    print("unit_attentions: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
