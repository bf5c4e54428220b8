#!/usr/bin/env python3
"""The control mode page's QUEUE ALGORITHM MODIFIER (SPC-4 7.5.8) from the
wire: MODE SENSE shows it (current 0, changeable mask 0xf0 in byte 3,
default 0), MODE SELECT sets it to 1 and back to 0, refuses 2 with
INVALID FIELD IN PARAMETER LIST pointing at byte 3 of the page, bit 7;
every change gives the other session MODE PARAMETERS CHANGED and not
the session that made it.

usage: mode_qam.py PORT TARGET_IQN INITIATOR_IQN
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import Target, check, failures  # noqa: E402

KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
        ("MaxBurstLength", "262144"), ("ErrorRecoveryLevel", "0")]
CONTROL_PAGE = 0x0A
PC_CURRENT, PC_CHANGEABLE, PC_DEFAULT = 0, 1, 2
SK_ILLEGAL_REQUEST, SK_UNIT_ATTENTION = 0x5, 0x6


def run_cmd(s, cdb, data=b"", read_len=0):
    """One command with immediate Data-Out or with Data-In; returns
    (status, data read, raw sense bytes)."""
    itt = s.next_itt()
    flags = ic.FINAL | ic.ATTR_SIMPLE | (0x20 if data else 0) | (0x40 if read_len else 0)
    edtl = len(data) or read_len
    b = ic.bhs(ic.OP_SCSI_CMD, flags, itt, word20=edtl, word24=s.cmd_sn,
               word28=s.exp_stat_sn, rest=cdb + b"\0" * (16 - len(cdb)))
    s.cmd_sn = (s.cmd_sn + 1) & 0xFFFFFFFF
    s.send_pdu(b, data)
    buf = bytearray(read_len)
    status, rsp = s.wait_response(itt, read_buf=buf if read_len else None)
    slen = struct.unpack(">H", rsp[:2])[0] if len(rsp) >= 2 else 0
    return status, bytes(buf), rsp[2:2 + slen]


def control_page(s, pc):
    """Byte 3 of the control page for page control @pc (MODE SENSE(6),
    no block descriptors)."""
    cdb = struct.pack(">BBBBBB", 0x1A, 0x08, (pc << 6) | CONTROL_PAGE, 0, 255, 0)
    status, data, _ = run_cmd(s, cdb, read_len=255)
    check(status == ic.STATUS_GOOD, "MODE SENSE pc %d: status 0x%02x" % (pc, status))
    page = data[4:4 + 2 + data[4 + 1]]
    check(page[0] & 0x3F == CONTROL_PAGE and len(page) == 12, "not the control page: %r" % page)
    return page


def select_qam(s, qam):
    page = bytearray(control_page(s, PC_CURRENT))
    page[0] &= 0x3F  # PS is reserved in MODE SELECT
    page[3] = (page[3] & 0x0F) | (qam << 4)
    plist = bytes(4) + bytes(page)
    cdb = struct.pack(">BBBBBB", 0x15, 0x10, 0, 0, len(plist), 0)  # PF=1
    status, _, sense = run_cmd(s, cdb, data=plist)
    return status, sense


def fixed(sense):
    """(key, asc, ascq, sense-key specific bytes) of fixed-format sense."""
    if len(sense) < 18 or sense[0] & 0x7F not in (0x70, 0x71):
        return None
    return sense[2] & 0x0F, sense[12], sense[13], bytes(sense[15:18])


def tur(s):
    status, _, sense = run_cmd(s, b"\0" * 6)
    return status, fixed(sense) if status == ic.STATUS_CHECK_CONDITION else None


def expect_mode_changed_ua(name, s):
    status, sn = tur(s)
    check(status == ic.STATUS_CHECK_CONDITION and sn and sn[:3] == (SK_UNIT_ATTENTION, 0x2A, 0x01),
          "%s: expected UNIT ATTENTION / MODE PARAMETERS CHANGED, got 0x%02x %s"
          % (name, status, sn))
    check(tur(s)[0] == ic.STATUS_GOOD, "%s: a second unit attention" % name)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    a = t.login(KEYS, False, False)
    b = t.login(KEYS, False, False)
    for s in (a, b):
        check(any(tur(s)[0] == ic.STATUS_GOOD for _ in range(3)), "LUN 0 is not ready")

    check(control_page(a, PC_CURRENT)[3] >> 4 == 0, "QAM is not 0 at start")
    check(control_page(a, PC_CHANGEABLE)[3] & 0xF0 == 0xF0, "QAM is not in the changeable mask")
    check(control_page(a, PC_DEFAULT)[3] >> 4 == 0, "default QAM is not 0")

    status, sense = select_qam(a, 1)
    check(status == ic.STATUS_GOOD, "MODE SELECT QAM 1: status 0x%02x %s" % (status, fixed(sense)))
    check(control_page(a, PC_CURRENT)[3] >> 4 == 1, "QAM 1 did not stick")
    check(control_page(a, PC_DEFAULT)[3] >> 4 == 0, "the default moved with the current value")
    check(tur(a)[0] == ic.STATUS_GOOD, "the session that changed QAM got a unit attention")
    expect_mode_changed_ua("session B after QAM 1", b)
    print("ok  : QAM 1 accepted; the other session told", flush=True)

    status, sense = select_qam(a, 2)
    # SKSV, C/D = 0 (parameter list), BPV, bit 7; field pointer 4 + 3.
    want = (SK_ILLEGAL_REQUEST, 0x26, 0x00, bytes([0x80 | 0x08 | 7, 0, 7]))
    check(status == ic.STATUS_CHECK_CONDITION and fixed(sense) == want,
          "MODE SELECT QAM 2: status 0x%02x sense %s, expected %s" % (status, fixed(sense), want))
    check(control_page(a, PC_CURRENT)[3] >> 4 == 1, "the refused QAM 2 changed QAM")
    check(tur(b)[0] == ic.STATUS_GOOD, "a refused MODE SELECT raised a unit attention")
    print("ok  : QAM 2 refused, pointing at byte 7 bit 7 of the list", flush=True)

    status, sense = select_qam(b, 0)
    check(status == ic.STATUS_GOOD, "MODE SELECT QAM 0: status 0x%02x %s" % (status, fixed(sense)))
    check(control_page(b, PC_CURRENT)[3] >> 4 == 0, "QAM 0 did not stick")
    expect_mode_changed_ua("session A after QAM 0", a)
    print("ok  : QAM back to 0 from the other session", flush=True)

    a.logout()
    b.logout()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("mode_qam: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
