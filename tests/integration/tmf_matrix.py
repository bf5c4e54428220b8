#!/usr/bin/env python3
"""Every task management function's effect on its own and other sessions
under each control page setting (issue 6, section 5), QErr, ACA, and the
QUERY functions, seen from the wire.

usage: tmf_matrix.py PORT TARGET_IQN USCSTD_PID

Three sessions of three initiators on LUN 0: A acts, B has a task of its
own in flight, D sets the control page (MODE SELECT) and holds nothing.
A task "in flight" is a WRITE whose R2T has come and whose data we hold
back, so it is certainly in the task set and cannot end on its own.

1. Functions x TST 0/1 x TAS 0/1: A has two held WRITEs (A1, A2), B one
   (B1). A sends the function (ABORT TASK names A1). Then, without
   sending any data: which tasks got a status (TASK ABORTED is the only
   one possible); then the data of every held WRITE goes out: a task the
   function did not reach completes GOOD, an aborted one never answers.
   Then each session's TEST UNIT READY shows its unit attention.
   Expected (SAM-5 7, 5.6): A's tasks end without a response whenever
   reached; B1 is reached by CLEAR TASK SET under TST 0 only and by every
   reset, and ends with TASK ABORTED under TAS 1, silently under TAS 0
   (then, for CLEAR TASK SET, with COMMANDS CLEARED BY ANOTHER INITIATOR);
   resets give every nexus, A too, BUS DEVICE RESET FUNCTION OCCURRED;
   I_T NEXUS RESET gives A I_T NEXUS LOSS OCCURRED. Every response code
   is Function complete. TARGET COLD RESET is answered Function complete
   and then closes every connection of the target (RFC 7143 11.5.1).
2. QErr 00b/01b/11b x TST x TAS: A1 and B1 held, A's READ beyond the
   capacity ends with CHECK CONDITION: 00b aborts nothing, 11b A's other
   tasks, 01b the task set's (B's under TST 0 only, with TAS's choice).
3. ACA, under TST 0 and 1: A's NACA=1 READ beyond the capacity
   establishes ACA; A's held WRITE from before stays blocked even once
   its data is in; A's new command gets ACA ACTIVE, A's ACA-attribute
   command runs; B's gets ACA ACTIVE under TST 0 and runs under TST 1;
   B's CLEAR ACA is rejected (TST 0); A's CLEAR ACA clears it and the
   blocked WRITE completes. Then a LOGICAL UNIT RESET from B clears an
   ACA, and so does the end of the faulted session; an ACA-attribute
   command without ACA is ILLEGAL REQUEST.
4. QUERY TASK, QUERY TASK SET, QUERY ASYNCHRONOUS EVENT (RFC 7144: 7 is
   Function succeeded), TASK REASSIGN (4 at ErrorRecoveryLevel 0), an
   unknown function (5), REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS.
5. ABORT TASK of a READ whose Data-In is queued or partly sent: nothing
   of the READ comes after the TMF response, and a status only with all
   its data.
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import (BLOCK, IMMEDIATE_KEYS, KiB, R2T_KEYS, args, check, finish,  # noqa: E402
                     login, measured, ok, pattern, phase, ping, wait_closed)

INI_A = "iqn.2026-11.test:tmfm-a"
INI_B = "iqn.2026-11.test:tmfm-b"
INI_D = "iqn.2026-11.test:tmfm-d"
ISID = bytes.fromhex("80000000c001")
TUR = b"\0" * 6
WRITE_SIZE = 16 * KiB
TMF_DEADLINE = 5.0

TMF_ABORT_TASK, TMF_ABORT_TASK_SET, TMF_CLEAR_ACA, TMF_CLEAR_TASK_SET = 1, 2, 3, 4
TMF_LUN_RESET, TMF_WARM_RESET, TMF_COLD_RESET, TMF_TASK_REASSIGN = 5, 6, 7, 8
TMF_QUERY_TASK, TMF_QUERY_TASK_SET, TMF_I_T_NEXUS_RESET, TMF_QUERY_ASYNC = 9, 10, 11, 12
RSP_COMPLETE, RSP_NO_TASK, RSP_NO_REASSIGN, RSP_NOT_SUPPORTED = 0, 1, 4, 5
RSP_SUCCEEDED, RSP_REJECTED = 7, 255
STATUS_ACA_ACTIVE, STATUS_TASK_ABORTED = 0x30, 0x40
ATTR_ACA = 4

UA_BUS_DEVICE_RESET = (0x06, 0x29, 0x03)
UA_POWER_ON = (0x06, 0x29, 0x01)
UA_NEXUS_LOSS = (0x06, 0x29, 0x07)
UA_CLEARED = (0x06, 0x2F, 0x00)
UA_MODE_CHANGED = (0x06, 0x2A, 0x01)

# Fates of a held WRITE.
UNTOUCHED, SILENT, TASK_ABORTED = "untouched", "aborted", "TASK ABORTED"

NAMES = {TMF_ABORT_TASK: "ABORT TASK", TMF_ABORT_TASK_SET: "ABORT TASK SET",
         TMF_CLEAR_TASK_SET: "CLEAR TASK SET", TMF_LUN_RESET: "LOGICAL UNIT RESET",
         TMF_WARM_RESET: "TARGET WARM RESET", TMF_COLD_RESET: "TARGET COLD RESET",
         TMF_I_T_NEXUS_RESET: "I_T NEXUS RESET"}

lba_next = [4096]


def fresh_lba():
    lba_next[0] += WRITE_SIZE // BLOCK
    return lba_next[0]


def sense_of(rsp):
    """(key, asc, ascq) of the fixed or descriptor sense in a SCSI
    Response data segment, or None."""
    if len(rsp) < 4:
        return None
    n = struct.unpack(">H", rsp[:2])[0]
    s = rsp[2:2 + n]
    if len(s) >= 14 and s[0] & 0x7F in (0x70, 0x71):
        return s[2] & 0x0F, s[12], s[13]
    if len(s) >= 4 and s[0] & 0x7F in (0x72, 0x73):
        return s[1] & 0x0F, s[2], s[3]
    return None


def command(s, cdb, attr=ic.ATTR_SIMPLE, data=b"", read_len=0):
    """One command, waited for; returns (status, sense triple or None)."""
    itt, _ = s.send_scsi(cdb, edtl=len(data) or read_len, read=read_len > 0,
                         write=bool(data), data=data, attr=attr)
    bufs = {itt: bytearray(read_len)} if read_len else None
    _, status, rsp = s.collect({itt}, read_bufs=bufs)[0]
    return status, sense_of(rsp)


def tur(s, attr=ic.ATTR_SIMPLE):
    return command(s, TUR, attr=attr)


def bad_read(naca=False):
    """READ(10) beyond the 1 GiB demo LUN: CHECK CONDITION in PARSE."""
    return struct.pack(">BBIBHB", 0x28, 0, 0xFFFFFF00, 0, 1, 0x04 if naca else 0)


def drain_uas(s):
    check(s.ready(tries=8), "TEST UNIT READY never GOOD")


def control_page(s):
    cdb = struct.pack(">BBBBBB", 0x1A, 0x08, 0x0A, 0, 255, 0)
    itt, _ = s.send_scsi(cdb, edtl=255, read=True)
    buf = bytearray(255)
    _, status, _ = s.collect({itt}, read_bufs={itt: buf})[0]
    check(status == ic.STATUS_GOOD, "MODE SENSE of the control page: status 0x%02x" % status)
    return bytearray(buf[4:4 + 12])


def set_control(d, tst, qerr, tas):
    """D sets TST, QErr and TAS with MODE SELECT(6) (immediate data)."""
    page = control_page(d)
    page[0] &= 0x3F
    page[2] = (page[2] & 0x1F) | (tst << 5)
    page[3] = (page[3] & 0xF9) | (qerr << 1)
    page[5] = (page[5] & 0xBF) | (0x40 if tas else 0)
    plist = bytes(4) + bytes(page)
    cdb = struct.pack(">BBBBBB", 0x15, 0x10, 0, 0, len(plist), 0)
    status, sense = command(d, cdb, data=plist)
    check(status == ic.STATUS_GOOD, "MODE SELECT TST %d QErr %d TAS %d: 0x%02x %s"
          % (tst, qerr, tas, status, sense))
    got = control_page(d)
    check(got[2] >> 5 == tst and (got[3] >> 1) & 3 == qerr and bool(got[5] & 0x40) == tas,
          "the control page did not take TST %d QErr %d TAS %d: %s" % (tst, qerr, tas,
                                                                     got.hex()))


class Held:
    """A WRITE whose R2T has come and whose data we hold."""

    def __init__(self, s, name):
        self.s, self.name = s, name
        self.data = pattern(len(name) * 7 + lba_next[0], WRITE_SIZE)
        cdb = struct.pack(">BBIBHB", 0x2A, 0, fresh_lba(), 0, WRITE_SIZE // BLOCK, 0)
        self.itt, self.cmd_sn = s.send_scsi(cdb, edtl=WRITE_SIZE, write=True)
        r2t = s.recv_pdu()
        if r2t.opcode != ic.OP_R2T or r2t.itt != self.itt:
            raise ic.ProtocolError("expected the R2T of %s, got %r" % (name, r2t))
        self.r2t = r2t
        self.early = None   # status seen before its data went out
        self.late = None    # status seen after

    def release(self):
        r = self.r2t
        self.s._send_data_out(self.itt, r.u32(20), self.data, r.u32(40), r.u32(44), None, [0])

    def fate(self):
        if self.early == STATUS_TASK_ABORTED and self.late is None:
            return TASK_ABORTED
        if self.early is None and self.late == ic.STATUS_GOOD:
            return UNTOUCHED
        if self.early is None and self.late is None:
            return SILENT
        return "early %r late %r" % (self.early, self.late)


def note_statuses(held, pdus, when):
    for h in held:
        for p in pdus:
            if p.itt == h.itt and p.opcode == ic.OP_SCSI_RSP:
                if getattr(h, when) is not None:
                    check(False, "%s got two statuses" % h.name)
                setattr(h, when, p.bhs[3])
            elif p.itt == h.itt and p.opcode == ic.OP_DATA_IN:
                check(False, "%s, a WRITE, got Data-In" % h.name)


def wait_tmf(s, itt, others):
    s.sock.settimeout(TMF_DEADLINE)
    try:
        return s.wait_tmf(itt, others)
    except socket.timeout:
        return None
    finally:
        s.sock.settimeout(20)


def settle(sessions, held):
    """Statuses before the data, then the data of every held WRITE that
    has none, then statuses after: every held task has its fate."""
    # Each session's PDUs against its own tasks only: ITTs are the
    # session's, and A's and B's counters may meet (A1 once took B1's
    # TASK ABORTED for its own when their ITTs were equal).
    for s in sessions:
        note_statuses([h for h in held if h.s is s], ping(s), "early")
    for h in held:
        if h.early is None:
            h.release()
    for s in sessions:
        # An ORDERED INQUIRY completes after every older task of the
        # nexus that is still to complete (and reports no unit
        # attention): once it is back, an untouched WRITE has answered.
        inq = struct.pack(">BBBHB", 0x12, 0, 0, 36, 0)
        itt, _ = s.send_scsi(inq, edtl=36, read=True, attr=ic.ATTR_ORDERED)
        pdus = []
        s.collect({itt}, read_bufs={itt: bytearray(36)}, others=pdus)
        note_statuses([h for h in held if h.s is s], pdus, "late")


def ua_of(s):
    """The unit attention TEST UNIT READY reports, or None for GOOD;
    the nexus's other UAs are consumed."""
    status, sense = tur(s)
    if status == ic.STATUS_GOOD:
        return None
    check(status == ic.STATUS_CHECK_CONDITION, "TEST UNIT READY: status 0x%02x" % status)
    drain_uas(s)
    return sense


# ---------------------------------------------------------------- 1

def expected_b(fn, tst, tas):
    """(fate of B's task, UA on B, UA on D, UA on A)."""
    reset_ua = UA_POWER_ON if fn == TMF_COLD_RESET else UA_BUS_DEVICE_RESET
    if fn in (TMF_LUN_RESET, TMF_WARM_RESET, TMF_COLD_RESET):
        return (TASK_ABORTED if tas else SILENT), reset_ua, reset_ua, reset_ua
    if fn == TMF_CLEAR_TASK_SET and tst == 0:
        return (TASK_ABORTED, None, None, None) if tas else (SILENT, UA_CLEARED, None, None)
    if fn == TMF_I_T_NEXUS_RESET:
        return UNTOUCHED, None, None, UA_NEXUS_LOSS
    return UNTOUCHED, None, None, None


def tmf_round(a, b, d, fn, tst, tas, table):
    a1, a2, b1 = Held(a, "A1"), Held(a, "A2"), Held(b, "B1")
    others = []
    itt = a.send_tmf(fn, ref_itt=a1.itt if fn == TMF_ABORT_TASK else ic.RESERVED_TAG,
                     ref_cmd_sn=a1.cmd_sn if fn == TMF_ABORT_TASK else 0)
    rsp = wait_tmf(a, itt, others)
    note_statuses([a1, a2], others, "early")
    check(rsp == RSP_COMPLETE, "%s TST %d TAS %d: response %r, want 0 (Function complete)"
          % (NAMES[fn], tst, tas, rsp))
    settle([a, b], [a1, a2, b1])
    want_b, want_ua_b, want_ua_d, want_ua_a = expected_b(fn, tst, tas)
    want_a2 = UNTOUCHED if fn == TMF_ABORT_TASK else SILENT
    got = {"A1": a1.fate(), "A2": a2.fate(), "B1": b1.fate(),
           "UA A": ua_of(a), "UA B": ua_of(b), "UA D": ua_of(d), "rsp": rsp}
    table.append((NAMES[fn], tst, tas, got))
    tag = "%s TST %d TAS %d" % (NAMES[fn], tst, tas)
    check(got["A1"] == SILENT, "%s: A's referenced/own task A1 %s, want aborted" % (tag, got["A1"]))
    check(got["A2"] == want_a2, "%s: A's task A2 %s, want %s" % (tag, got["A2"], want_a2))
    check(got["B1"] == want_b, "%s: B's task %s, want %s" % (tag, got["B1"], want_b))
    check(got["UA B"] == want_ua_b, "%s: B's UA %s, want %s" % (tag, got["UA B"], want_ua_b))
    check(got["UA D"] == want_ua_d, "%s: D's UA %s, want %s" % (tag, got["UA D"], want_ua_d))
    check(got["UA A"] == want_ua_a, "%s: A's UA %s, want %s" % (tag, got["UA A"], want_ua_a))


def ua_name(u):
    return {None: "-", UA_BUS_DEVICE_RESET: "29/03", UA_POWER_ON: "29/01",
            UA_NEXUS_LOSS: "29/07", UA_CLEARED: "2F/00"}.get(u, str(u))


def print_table(title, table):
    measured(title)
    print("    %-20s %3s %3s | %-12s %-12s %-12s | %-5s %-5s %-5s | rsp"
          % ("function", "TST", "TAS", "A1", "A2", "B1", "UA A", "UA B", "UA D"))
    for name, tst, tas, g in table:
        print("    %-20s %3d %3d | %-12s %-12s %-12s | %-5s %-5s %-5s | %s"
              % (name, tst, tas, g["A1"], g["A2"], g["B1"], ua_name(g["UA A"]),
                 ua_name(g["UA B"]), ua_name(g["UA D"]), g["rsp"]), flush=True)


def test_functions(a, b, d):
    table = []
    for tst in (0, 1):
        for tas in (False, True):
            set_control(d, tst, 0, tas)
            for s in (a, b):
                drain_uas(s)
            for fn in (TMF_ABORT_TASK, TMF_ABORT_TASK_SET, TMF_CLEAR_TASK_SET, TMF_LUN_RESET,
                       TMF_WARM_RESET, TMF_I_T_NEXUS_RESET):
                with phase("1: %s, TST %d, TAS %d" % (NAMES[fn], tst, tas)):
                    tmf_round(a, b, d, fn, tst, tas, table)
    print_table("functions x TST x TAS (A acts; A1, A2 A's held WRITEs, B1 B's):", table)


def test_cold_reset(a, b, d):
    """TARGET COLD RESET: Function complete, then every connection of the
    target closes (RFC 7143 11.5.1), the asking one once its response has
    left; new logins work. Returns the new sessions."""
    with phase("1: TARGET COLD RESET closes every session of the target"):
        Held(a, "A1")  # tasks in flight on both sessions
        Held(b, "B1")
        rsp = wait_tmf(a, a.send_tmf(TMF_COLD_RESET), [])
        check(rsp == RSP_COMPLETE, "TARGET COLD RESET: response %r, want 0" % rsp)
        for s, n in ((a, "A"), (b, "B"), (d, "D")):
            check(wait_closed(s), "%s's connection still open after TARGET COLD RESET" % n)
        measured("TARGET COLD RESET: response %r; A, B and D closed by the target" % rsp)
    a = login(INI_A, ISID, keys=R2T_KEYS)
    b = login(INI_B, ISID, keys=R2T_KEYS)
    d = login(INI_D, ISID, keys=IMMEDIATE_KEYS)
    return a, b, d


# ---------------------------------------------------------------- 2

def test_qerr(a, b, d):
    table = []
    for tst in (0, 1):
        for tas in (False, True):
            for qerr in (0, 1, 3):
                with phase("2: QErr %d, TST %d, TAS %d" % (qerr, tst, tas)):
                    set_control(d, tst, qerr, tas)
                    for s in (a, b):
                        drain_uas(s)
                    a1, b1 = Held(a, "A1"), Held(b, "B1")
                    status, sense = command(a, bad_read(), read_len=512)
                    check(status == ic.STATUS_CHECK_CONDITION and sense[:2] == (0x05, 0x21),
                          "the READ beyond the capacity: 0x%02x %s" % (status, sense))
                    settle([a, b], [a1, b1])
                    got = {"A1": a1.fate(), "B1": b1.fate(), "UA B": ua_of(b)}
                    want_a = UNTOUCHED if qerr == 0 else SILENT
                    if qerr == 1 and tst == 0:
                        want_b, want_ua = (TASK_ABORTED, None) if tas else (SILENT, UA_CLEARED)
                    else:
                        want_b, want_ua = UNTOUCHED, None
                    table.append((qerr, tst, tas, got))
                    tag = "QErr %d TST %d TAS %d" % (qerr, tst, tas)
                    check(got["A1"] == want_a, "%s: A1 %s, want %s" % (tag, got["A1"], want_a))
                    check(got["B1"] == want_b, "%s: B1 %s, want %s" % (tag, got["B1"], want_b))
                    check(got["UA B"] == want_ua, "%s: B's UA %s, want %s"
                          % (tag, got["UA B"], want_ua))
    set_control(d, 0, 0, False)
    measured("QErr x TST x TAS (A's READ beyond the capacity fails; A1 A's held WRITE, B1 B's):")
    print("    QErr TST TAS | %-12s %-12s | UA B" % ("A1", "B1"))
    for qerr, tst, tas, g in table:
        print("    %4d %3d %3d | %-12s %-12s | %s" % (qerr, tst, tas, g["A1"], g["B1"],
                                                   ua_name(g["UA B"])), flush=True)


# ---------------------------------------------------------------- 3

def test_aca(a, b, d):
    for tst in (0, 1):
        with phase("3: ACA under TST %d" % tst):
            set_control(d, tst, 0, False)
            for s in (a, b):
                drain_uas(s)
            w = Held(a, "W")
            status, sense = command(a, bad_read(naca=True), read_len=512)
            check(status == ic.STATUS_CHECK_CONDITION, "the NACA=1 READ: status 0x%02x" % status)
            w.release()
            note_statuses([w], ping(a), "early")
            check(w.early is None, "TST %d: the WRITE from before the ACA completed (0x%02x) "
                  "while the ACA holds" % (tst, w.early or 0))
            status, _ = tur(a)
            check(status == STATUS_ACA_ACTIVE, "TST %d: A's SIMPLE command under ACA: 0x%02x, "
                  "want ACA ACTIVE" % (tst, status))
            status, _ = tur(a, attr=ATTR_ACA)
            check(status == ic.STATUS_GOOD, "TST %d: A's ACA command: 0x%02x, want GOOD"
                  % (tst, status))
            status, _ = tur(b)
            want = STATUS_ACA_ACTIVE if tst == 0 else ic.STATUS_GOOD
            check(status == want, "TST %d: B's command while A's ACA: 0x%02x, want 0x%02x"
                  % (tst, status, want))
            others = []
            rsp = wait_tmf(b, b.send_tmf(TMF_CLEAR_ACA), others)
            want = RSP_REJECTED if tst == 0 else RSP_COMPLETE
            check(rsp == want, "TST %d: B's CLEAR ACA: %r, want %d" % (tst, rsp, want))
            status, _ = tur(a)
            check(status == STATUS_ACA_ACTIVE, "TST %d: B's CLEAR ACA cleared A's ACA" % tst)
            others = []
            rsp = wait_tmf(a, a.send_tmf(TMF_CLEAR_ACA), others)
            check(rsp == RSP_COMPLETE, "TST %d: A's CLEAR ACA: %r" % (tst, rsp))
            note_statuses([w], others, "late")
            if w.late is None:
                a.sock.settimeout(5)
                try:
                    _, st, _ = a.collect({w.itt})[0]
                    w.late = st
                except socket.timeout:
                    pass
                a.sock.settimeout(20)
            check(w.late == ic.STATUS_GOOD, "TST %d: the blocked WRITE after CLEAR ACA: %r"
                  % (tst, w.late))
            for s, n in ((a, "A"), (b, "B")):
                status, _ = tur(s)
                check(status == ic.STATUS_GOOD, "TST %d: %s after CLEAR ACA: 0x%02x"
                      % (tst, n, status))
            ok("TST %d: NACA=1 CHECK CONDITION, blocked WRITE, ACA ACTIVE, ACA command, "
               "CLEAR ACA" % tst)
    with phase("3: a LOGICAL UNIT RESET clears an ACA"):
        set_control(d, 0, 0, False)
        for s in (a, b):
            drain_uas(s)
        command(a, bad_read(naca=True), read_len=512)
        check(tur(a)[0] == STATUS_ACA_ACTIVE, "no ACA after the NACA=1 failure")
        rsp = wait_tmf(b, b.send_tmf(TMF_LUN_RESET), [])
        check(rsp == RSP_COMPLETE, "B's LUN RESET: %r" % rsp)
        status, sense = tur(a)
        check(status == ic.STATUS_CHECK_CONDITION and sense == UA_BUS_DEVICE_RESET,
              "A after the reset: 0x%02x %s, want the reset's UA (no ACA)" % (status, sense))
        for s in (a, b, d):
            drain_uas(s)
        ok("the reset cleared the ACA")
    with phase("3: the faulted nexus's loss clears its ACA"):
        e = login(INI_A + "-e", ISID, keys=R2T_KEYS)
        wb = Held(b, "WB")
        command(e, bad_read(naca=True), read_len=512)
        check(tur(b)[0] == STATUS_ACA_ACTIVE, "B is not held by E's ACA (TST 0)")
        wb.release()
        note_statuses([wb], ping(b), "early")
        check(wb.early is None, "B's WRITE from before E's ACA was not blocked")
        e.close()  # no logout: the I_T nexus is lost
        status = None
        for _ in range(50):
            status, _ = tur(d)
            if status == ic.STATUS_GOOD:
                break
            time.sleep(0.05)
        check(status == ic.STATUS_GOOD, "D after the faulted session went away: 0x%02x" % status)
        # B sends nothing more: its blocked WRITE must be let go by the
        # device noticing the ACA is gone, not by a later command of B's.
        b.sock.settimeout(5)
        try:
            _, wb.late, _ = b.collect({wb.itt})[0]
        except socket.timeout:
            pass
        b.sock.settimeout(20)
        check(wb.late == ic.STATUS_GOOD, "B's blocked WRITE after the faulted session went "
              "away: %r" % wb.late)
        ok("the ACA went with its session, and the WRITE it blocked ran")
    with phase("3: an ACA command without an ACA"):
        status, sense = tur(a, attr=ATTR_ACA)
        check(status == ic.STATUS_CHECK_CONDITION and sense == (0x05, 0x49, 0x00),
              "ACA attribute without ACA: 0x%02x %s, want ILLEGAL REQUEST / INVALID MESSAGE "
              "ERROR" % (status, sense))
        check(tur(a)[0] == ic.STATUS_GOOD, "the ILLEGAL REQUEST left an ACA behind")


# ---------------------------------------------------------------- 4

def test_queries(a, b, d):
    with phase("4: QUERY TASK, QUERY TASK SET"):
        w = Held(a, "Q")
        rsp = wait_tmf(a, a.send_tmf(TMF_QUERY_TASK, ref_itt=w.itt, ref_cmd_sn=w.cmd_sn), [])
        check(rsp == RSP_SUCCEEDED, "QUERY TASK of a held WRITE: %r, want 7" % rsp)
        rsp = wait_tmf(a, a.send_tmf(TMF_QUERY_TASK, ref_itt=0x7777), [])
        check(rsp == RSP_COMPLETE, "QUERY TASK of no task: %r, want 0" % rsp)
        rsp = wait_tmf(a, a.send_tmf(TMF_QUERY_TASK_SET), [])
        check(rsp == RSP_SUCCEEDED, "QUERY TASK SET with a task: %r, want 7" % rsp)
        rsp = wait_tmf(b, b.send_tmf(TMF_QUERY_TASK_SET), [])
        check(rsp == RSP_COMPLETE, "B's QUERY TASK SET (A's task only): %r, want 0" % rsp)
        w.release()
        check(a.collect({w.itt})[0][1] == ic.STATUS_GOOD, "the queried WRITE failed")
        rsp = wait_tmf(a, a.send_tmf(TMF_QUERY_TASK_SET), [])
        check(rsp == RSP_COMPLETE, "QUERY TASK SET without a task: %r, want 0" % rsp)
        rsp = wait_tmf(a, a.send_tmf(TMF_QUERY_TASK_SET, lun=5), [])
        check(rsp == 2, "QUERY TASK SET of an unmapped LUN: %r, want 2" % rsp)
    with phase("4: QUERY ASYNCHRONOUS EVENT"):
        rsp = wait_tmf(a, a.send_tmf(TMF_QUERY_ASYNC), [])
        check(rsp == RSP_COMPLETE, "QUERY ASYNCHRONOUS EVENT with nothing pending: %r" % rsp)
        set_control(d, 0, 0, False)  # unchanged values: no UA
        set_control(d, 0, 0, True)
        itt = a.send_tmf(TMF_QUERY_ASYNC)
        pdu = a.recv_pdu()
        check(pdu.opcode == ic.OP_TMF_RSP and pdu.itt == itt, "not the TMF response: %r" % pdu)
        rsp, info = pdu.bhs[2], bytes(pdu.bhs[8:11])  # RFC 7144: bytes 8..10
        check(rsp == RSP_SUCCEEDED, "QUERY ASYNCHRONOUS EVENT with MODE PARAMETERS CHANGED "
              "pending: %r, want 7" % rsp)
        # ADDITIONAL RESPONSE INFORMATION: UADE DEPTH 01b (one), UNIT
        # ATTENTION, then ASC and ASCQ.
        measured("QUERY ASYNCHRONOUS EVENT: response %d, additional response information %s"
                 % (rsp, info.hex()))
        check(info == bytes([0x16, 0x2A, 0x01]), "additional response information %s, want "
              "16 2a 01" % info.hex())
        status, sense = tur(a)
        check(status == ic.STATUS_CHECK_CONDITION and sense == UA_MODE_CHANGED,
              "the queried UA was not left for the next command: 0x%02x %s" % (status, sense))
        rsp = wait_tmf(a, a.send_tmf(TMF_QUERY_ASYNC), [])
        check(rsp == RSP_COMPLETE, "QUERY ASYNCHRONOUS EVENT after the UA: %r" % rsp)
        set_control(d, 0, 0, False)
        drain_uas(a)
        drain_uas(b)
    with phase("4: TASK REASSIGN, an unknown function"):
        rsp = wait_tmf(a, a.send_tmf(TMF_TASK_REASSIGN, ref_itt=1), [])
        check(rsp == RSP_NO_REASSIGN, "TASK REASSIGN at ERL 0: %r, want 4" % rsp)
        rsp = wait_tmf(a, a.send_tmf(13), [])
        check(rsp == RSP_NOT_SUPPORTED, "function 13: %r, want 5" % rsp)
    with phase("4: REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS, INQUIRY's NORMACA"):
        drain_uas(a)
        inq = struct.pack(">BBBHB", 0x12, 0, 0, 36, 0)
        itt, _ = a.send_scsi(inq, edtl=36, read=True)
        buf = bytearray(36)
        a.collect({itt}, read_bufs={itt: buf})
        check(buf[3] & 0x20, "standard INQUIRY does not set NORMACA (byte 3: %02x)" % buf[3])
        # REPORT SUPPORTED OPERATION CODES, one command (TEST UNIT READY):
        # its CDB usage data shows the CONTROL byte's NACA bit as used.
        cdb = struct.pack(">BBBBHIBB", 0xA3, 0x0C, 0x01, 0x00, 0, 64, 0, 0)
        itt, _ = a.send_scsi(cdb, edtl=64, read=True)
        buf = bytearray(64)
        a.collect({itt}, read_bufs={itt: buf})
        check(buf[1] & 7 == 3 and buf[3] == 6 and buf[4 + 5] & 0x04,
              "TEST UNIT READY's usage data does not show NACA: %s" % buf[:10].hex())
        for repcd, n in ((0, 4), (0x80, 16)):
            cdb = struct.pack(">BBBBBBIBB", 0xA3, 0x0D, repcd, 0, 0, 0, 64, 0, 0)
            itt, _ = a.send_scsi(cdb, edtl=64, read=True)
            buf = bytearray(64)
            done = a.collect({itt}, read_bufs={itt: buf})
            check(done[0][1] == ic.STATUS_GOOD, "REPORT SUPPORTED TMFS: 0x%02x" % done[0][1])
            measured("REPORT SUPPORTED TMFS REPCD=%d: %s" % (repcd >> 7, buf[:n].hex()))
            check(buf[0] == 0xFE and buf[1] == 0x07,
                  "supported bits %02x %02x, want fe 07 (all but WAKEUP)" % (buf[0], buf[1]))
            if repcd:
                check(buf[3] == 0x0C, "REPCD=1: ADDITIONAL DATA LENGTH %d, want 12" % buf[3])
            else:
                check(not any(buf[2:]), "REPCD=0: bytes past the four of the basic format")


# ---------------------------------------------------------------- 5

def test_abort_on_the_wire():
    """ABORT TASK of a READ whose Data-In is on its way: a small receive
    buffer backs the target's sends up, so the READ is aborted while its
    PDUs are queued or partly sent. Whatever of it comes must come before
    the TMF response, and nothing of it after."""
    size = 4 * 1024 * 1024
    rounds, before, after, complete = 10, 0, 0, 0
    with phase("5: ABORT TASK of a READ whose Data-In is on the wire, %d rounds" % rounds):
        s = login(INI_A + "-w", ISID, keys=IMMEDIATE_KEYS, rcvbuf=64 * KiB)
        for n in range(rounds):
            itt, sn = s.send_read10(0, size)
            time.sleep(0.05)  # the target has started sending, the socket is full
            tmf = s.send_tmf(TMF_ABORT_TASK, ref_itt=itt, ref_cmd_sn=sn)
            got, status, rsp = 0, None, None
            while rsp is None:
                pdu = s.recv_pdu()
                if pdu.opcode == ic.OP_TMF_RSP and pdu.itt == tmf:
                    rsp = pdu.bhs[2]
                elif pdu.itt == itt and pdu.opcode == ic.OP_DATA_IN:
                    got += len(pdu.data)
                    if pdu.flags & 0x01:
                        status = pdu.bhs[3]
                elif pdu.itt == itt and pdu.opcode == ic.OP_SCSI_RSP:
                    status = pdu.bhs[3]
            late = [p for p in ping(s) if p.itt == itt]
            before += got > 0
            complete += status is not None
            after += len(late) > 0
            check(not late, "round %d: %d PDU(s) of the aborted READ after the TMF response"
                  % (n, len(late)))
            check(rsp in (RSP_COMPLETE, RSP_NO_TASK), "round %d: ABORT TASK answered %r"
                  % (n, rsp))
            check(status is None or got == size, "round %d: the READ got status 0x%02x after "
                  "%d of %d bytes" % (n, status or 0, got, size))
        s.logout()
    measured("ABORT TASK of a 4 MiB READ being sent, %d rounds: Data-In before the TMF "
             "response in %d, the READ complete (all data and status) in %d, anything of it "
             "after the response in %d" % (rounds, before, complete, after))


def main():
    args(__doc__)
    a = login(INI_A, ISID, keys=R2T_KEYS)
    b = login(INI_B, ISID, keys=R2T_KEYS)
    d = login(INI_D, ISID, keys=IMMEDIATE_KEYS)
    test_functions(a, b, d)
    a, b, d = test_cold_reset(a, b, d)
    test_qerr(a, b, d)
    test_aca(a, b, d)
    test_queries(a, b, d)
    test_abort_on_the_wire()
    set_control(d, 0, 0, False)
    for s in (a, b, d):
        s.logout()
    finish()


if __name__ == "__main__":
    main()
