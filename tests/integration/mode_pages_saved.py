#!/usr/bin/env python3
"""MODE SELECT of every changeable field of the caching and control pages,
its effect, and saved pages (mode_pages_saved.sh runs the phases around
restarts of uscstd):

  change   every changeable field (WCE, TST, D_SENSE, QAM, QERR, SWP,
           UA_INTLCK_CTRL, TAS) set away from its default and back: MODE
           SENSE current shows it, default does not move, the other
           session gets MODE PARAMETERS CHANGED; SWP=1 refuses a WRITE
           with DATA PROTECT / WRITE PROTECTED and sets WP while READ
           goes on; D_SENSE=1 makes an error's sense descriptor format; a
           change of a field that is not changeable gets INVALID FIELD IN
           PARAMETER LIST with its byte and bit; the changeable masks and
           PS=1 on both pages. Then SP=1 saves the SAVED set below.
  saved    after a restart: current = saved = the SAVED set, and SWP
           still refuses writes; then SP=1 saves the defaults back.
  defaults current = saved = default (no saved file, or a refused one).
  savefail the file cannot be written: SP=1 gets HARDWARE ERROR /
           INTERNAL TARGET FAILURE, the saved values stay the defaults
           (what the file holds), the current ones are applied.

usage: mode_pages_saved.py PORT TARGET_IQN INITIATOR_IQN PHASE
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
CACHING, CONTROL = 0x08, 0x0A
PC_CURRENT, PC_CHANGEABLE, PC_DEFAULT, PC_SAVED = 0, 1, 2, 3
SK_ILLEGAL_REQUEST, SK_UNIT_ATTENTION, SK_DATA_PROTECT = 0x5, 0x6, 0x7
BLOCK = 512

# (name, page, byte, mask, default value, another value): where each
# changeable field lives (SPC-4 7.5.8, SBC-3 6.4.5).
FIELDS = [
    ("WCE", CACHING, 2, 0x04, 1, 0),
    ("TST", CONTROL, 2, 0xE0, 0, 1),
    ("D_SENSE", CONTROL, 2, 0x04, 0, 1),
    ("QAM", CONTROL, 3, 0xF0, 0, 1),
    ("QERR", CONTROL, 3, 0x06, 0, 3),
    ("SWP", CONTROL, 4, 0x08, 0, 1),
    ("UA_INTLCK_CTRL", CONTROL, 4, 0x30, 0, 3),
    ("TAS", CONTROL, 5, 0x40, 0, 1),
]
# The set saved with SP=1 and expected after the restart. UA_INTLCK_CTRL
# and QERR stay 0: the sessions of the next phase must be able to clear
# their POWER ON unit attention the usual way.
SAVED = {"WCE": 0, "TST": 1, "D_SENSE": 1, "QAM": 1, "QERR": 0, "SWP": 1,
         "UA_INTLCK_CTRL": 0, "TAS": 1}
DEFAULTS = {f[0]: f[4] for f in FIELDS}


def cmd(s, cdb, data=b"", read_len=0):
    """One command; returns (status, data read, raw sense bytes)."""
    itt, _ = s.send_scsi(cdb, edtl=len(data) or read_len, read=bool(read_len),
                         write=bool(data), data=data)
    buf = bytearray(read_len)
    status, rsp = s.wait_response(itt, read_buf=buf if read_len else None)
    slen = struct.unpack(">H", rsp[:2])[0] if len(rsp) >= 2 else 0
    return status, bytes(buf), rsp[2:2 + slen]


def key_asc(raw):
    return ic.sense_key_asc(struct.pack(">H", len(raw)) + raw) if raw else None


def tur(s):
    status, _, sense = cmd(s, bytes(6))
    return status, key_asc(sense)


def mode_sense(s, page, pc):
    """(device-specific byte, page bytes) from MODE SENSE(6), no block
    descriptors."""
    status, data, sense = cmd(s, bytes([0x1A, 0x08, (pc << 6) | page, 0, 255, 0]), read_len=255)
    check(status == ic.STATUS_GOOD, "MODE SENSE page 0x%02x pc %d: 0x%02x %s"
          % (page, pc, status, key_asc(sense)))
    pg = data[4:4 + 2 + data[5]]
    check(pg and pg[0] & 0x3F == page, "MODE SENSE page 0x%02x pc %d: got %r" % (page, pc, pg))
    return data[2], pg


def field(pg, f):
    _, _, byte, mask, _, _ = f
    shift = (mask & -mask).bit_length() - 1
    return (pg[byte] & mask) >> shift


def values(s, pc):
    pages = {CACHING: mode_sense(s, CACHING, pc)[1], CONTROL: mode_sense(s, CONTROL, pc)[1]}
    return {f[0]: field(pages[f[1]], f) for f in FIELDS}


def mode_select(s, page, edit, save=False):
    """MODE SELECT(6) of the current @page changed by @edit(bytearray)."""
    _, pg = mode_sense(s, page, PC_CURRENT)
    pg = bytearray(pg)
    pg[0] &= 0x3F  # PS is reserved in MODE SELECT
    edit(pg)
    plist = bytes(4) + bytes(pg)
    status, _, sense = cmd(s, bytes([0x15, 0x10 | (1 if save else 0), 0, 0, len(plist), 0]),
                           data=plist)
    return status, sense


def set_field(s, f, value, save=False):
    _, page, byte, mask, _, _ = f
    shift = (mask & -mask).bit_length() - 1

    def edit(pg):
        pg[byte] = (pg[byte] & ~mask & 0xFF) | ((value << shift) & mask)
    return mode_select(s, page, edit, save)


def expect_ua(name, s, asc_ascq):
    status, sn = tur(s)
    check(status == ic.STATUS_CHECK_CONDITION and sn and sn[0] == SK_UNIT_ATTENTION and
          sn[1:] == asc_ascq, "%s: expected UNIT ATTENTION %02x/%02x, got 0x%02x %s"
          % (name, asc_ascq[0], asc_ascq[1], status, sn))
    check(tur(s)[0] == ic.STATUS_GOOD, "%s: a second unit attention" % name)


def write10(s, lba, data):
    return cmd(s, struct.pack(">BBIBHB", 0x2A, 0, lba, 0, 1, 0), data=data)


def read10(s, lba):
    return cmd(s, struct.pack(">BBIBHB", 0x28, 0, lba, 0, 1, 0), read_len=BLOCK)


def phase_change(a, b):
    # The changeable masks, and PS=1 on both pages.
    for page in (CACHING, CONTROL):
        _, pg = mode_sense(a, page, PC_CHANGEABLE)
        check(pg[0] & 0x80, "page 0x%02x: PS is not 1" % page)
        for f in FIELDS:
            if f[1] == page:
                check(pg[f[2]] & f[3] == f[3], "%s is not in the changeable mask" % f[0])
    check(values(a, PC_CURRENT) == DEFAULTS, "current values at start: %s" % values(a, PC_CURRENT))
    check(values(a, PC_SAVED) == DEFAULTS, "saved values at start: %s" % values(a, PC_SAVED))

    for f in FIELDS:
        name, _, _, _, dflt, other = f
        status, sense = set_field(a, f, other)
        check(status == ic.STATUS_GOOD, "MODE SELECT %s=%d: 0x%02x %s"
              % (name, other, status, key_asc(sense)))
        check(values(a, PC_CURRENT)[name] == other, "%s=%d did not stick" % (name, other))
        check(values(a, PC_DEFAULT)[name] == dflt, "%s: the default moved" % name)
        # B's TEST UNIT READY collects MODE PARAMETERS CHANGED (under
        # UA_INTLCK_CTRL 11b it stays until REQUEST SENSE: clear it).
        status, sn = tur(b)
        check(status == ic.STATUS_CHECK_CONDITION and sn == (SK_UNIT_ATTENTION, 0x2A, 0x01),
              "%s: session B was not told MODE PARAMETERS CHANGED: 0x%02x %s"
              % (name, status, sn))
        cmd(b, bytes([0x03, 0, 0, 0, 18, 0]), read_len=18)
        check(tur(a)[0] == ic.STATUS_GOOD, "%s: the session that changed it got a UA" % name)
        if name == "SWP":
            dev_specific, _ = mode_sense(a, CONTROL, PC_CURRENT)
            check(dev_specific & 0x80, "SWP=1: MODE SENSE's WP bit is not set")
            status, _, sense = write10(a, 7, bytes(BLOCK))
            check(status == ic.STATUS_CHECK_CONDITION and
                  key_asc(sense) == (SK_DATA_PROTECT, 0x27, 0x00),
                  "SWP=1: WRITE(10) got 0x%02x %s, expected DATA PROTECT / WRITE PROTECTED"
                  % (status, key_asc(sense)))
            check(read10(a, 7)[0] == ic.STATUS_GOOD, "SWP=1: READ(10) refused")
        if name == "D_SENSE":
            # An LBA beyond the end: the error's sense is descriptor format.
            status, _, sense = cmd(a, struct.pack(">BBIBHB", 0x28, 0, 0xFFFFFFF0, 0, 1, 0),
                                   read_len=BLOCK)
            check(status == ic.STATUS_CHECK_CONDITION and sense and sense[0] & 0x7F == 0x72,
                  "D_SENSE=1: sense is not descriptor format: %s" % sense.hex())
        status, sense = set_field(a, f, dflt)
        check(status == ic.STATUS_GOOD and values(a, PC_CURRENT)[name] == dflt,
              "%s back to %d: 0x%02x %s" % (name, dflt, status, key_asc(sense)))
        status, sn = tur(b)
        cmd(b, bytes([0x03, 0, 0, 0, 18, 0]), read_len=18)
        if name == "SWP":
            check(write10(a, 7, bytes(BLOCK))[0] == ic.STATUS_GOOD, "SWP=0: WRITE refused")
        print("ok  : %s %d -> %d -> %d: shown, the other session told" % (name, dflt, other, dflt),
              flush=True)

    # A field that is not changeable (RAC, control byte 4 bit 6): refused
    # with the pointer at list byte 4 + 4, bit 6; nothing changes.
    def rac(pg):
        pg[4] |= 0x40
        pg[3] |= 0x10  # QAM 1 in the same list: must not be applied either
    status, sense = mode_select(a, CONTROL, rac)
    want = (SK_ILLEGAL_REQUEST, 0x26, 0x00)
    check(status == ic.STATUS_CHECK_CONDITION and key_asc(sense) == want and
          sense[15:18] == bytes([0x80 | 0x08 | 6, 0, 8]),
          "RAC=1: 0x%02x %s sks %s" % (status, key_asc(sense), sense[15:18].hex()))
    check(values(a, PC_CURRENT) == DEFAULTS, "a refused MODE SELECT changed something")
    print("ok  : a field that is not changeable: INVALID FIELD IN PARAMETER LIST, byte 8 bit 6",
          flush=True)

    select10(a, b)
    save_set(a, SAVED)
    check(values(a, PC_SAVED) == SAVED, "saved values after SP=1: %s" % values(a, PC_SAVED))
    check(values(a, PC_CURRENT) == SAVED, "current values after SP=1: %s"
          % values(a, PC_CURRENT))
    check(values(a, PC_DEFAULT) == DEFAULTS, "the defaults moved with SP=1")
    print("ok  : SP=1 saved %s" % SAVED, flush=True)


def select10(a, b):
    """The 10-byte forms: MODE SENSE(10) with a long LBA block descriptor
    shows the control page after it, MODE SELECT(10) with that descriptor
    echoed sets D_SENSE and clears it again."""
    for value in (1, 0):
        status, data, sense = cmd(a, bytes([0x5A, 0x10, CONTROL, 0, 0, 0, 0, 1, 0, 0]),
                                  read_len=256)
        check(status == ic.STATUS_GOOD and data[4] & 1 and data[6:8] == b"\0\x10",
              "MODE SENSE(10) LLBAA: 0x%02x %s header %s" % (status, key_asc(sense),
                                                             data[:8].hex()))
        bd, pg = data[8:24], bytearray(data[24:24 + 2 + data[25]])
        check(pg and pg[0] & 0x3F == CONTROL, "MODE SENSE(10): no control page after the "
              "descriptor: %s" % data[:40].hex())
        pg[0] &= 0x3F
        pg[2] = (pg[2] & ~0x04 & 0xFF) | (0x04 if value else 0)
        plist = bytes([0, 0, 0, 0, 1, 0, 0, 16]) + bd + bytes(pg)
        status, _, sense = cmd(a, bytes([0x55, 0x10, 0, 0, 0, 0, 0, 0, len(plist), 0]),
                               data=plist)
        check(status == ic.STATUS_GOOD, "MODE SELECT(10) D_SENSE=%d: 0x%02x %s"
              % (value, status, key_asc(sense)))
        check(values(a, PC_CURRENT)["D_SENSE"] == value,
              "MODE SELECT(10) D_SENSE=%d did not stick" % value)
        tur(b)
        cmd(b, bytes([0x03, 0, 0, 0, 18, 0]), read_len=18)
    print("ok  : MODE SELECT(10) and MODE SENSE(10) with a long LBA descriptor", flush=True)


def save_set(s, want):
    """MODE SELECT with SP=1 of both pages, to @want."""
    for page in (CACHING, CONTROL):
        def edit(pg, page=page):
            for f in FIELDS:
                if f[1] == page:
                    shift = (f[3] & -f[3]).bit_length() - 1
                    pg[f[2]] = (pg[f[2]] & ~f[3] & 0xFF) | ((want[f[0]] << shift) & f[3])
        status, sense = mode_select(s, page, edit, save=True)
        check(status == ic.STATUS_GOOD, "MODE SELECT SP=1 page 0x%02x: 0x%02x %s"
              % (page, status, key_asc(sense)))


def phase_saved(a):
    check(values(a, PC_SAVED) == SAVED, "saved after the restart: %s" % values(a, PC_SAVED))
    check(values(a, PC_CURRENT) == SAVED, "current after the restart: %s"
          % values(a, PC_CURRENT))
    check(values(a, PC_DEFAULT) == DEFAULTS, "default after the restart: %s"
          % values(a, PC_DEFAULT))
    status, _, sense = write10(a, 7, bytes(BLOCK))
    check(status == ic.STATUS_CHECK_CONDITION and key_asc(sense) == (SK_DATA_PROTECT, 0x27, 0x00),
          "saved SWP=1 after the restart: WRITE(10) got 0x%02x %s" % (status, key_asc(sense)))
    print("ok  : after the restart current = saved = %s; writes refused (SWP)" % SAVED,
          flush=True)
    save_set(a, DEFAULTS)
    check(values(a, PC_SAVED) == DEFAULTS and values(a, PC_CURRENT) == DEFAULTS,
          "the defaults saved back: saved %s current %s"
          % (values(a, PC_SAVED), values(a, PC_CURRENT)))
    check(write10(a, 7, bytes(BLOCK))[0] == ic.STATUS_GOOD, "SWP=0 saved: WRITE refused")
    print("ok  : the defaults saved back", flush=True)


def phase_defaults(a):
    for pc, name in ((PC_CURRENT, "current"), (PC_SAVED, "saved"), (PC_DEFAULT, "default")):
        check(values(a, pc) == DEFAULTS, "%s values: %s, expected the defaults %s"
              % (name, values(a, pc), DEFAULTS))
    check(write10(a, 7, bytes(BLOCK))[0] == ic.STATUS_GOOD, "defaults: WRITE refused")
    print("ok  : current = saved = default", flush=True)


def phase_savefail(a):
    status, sense = set_field(a, FIELDS[5], 1, save=True)  # SWP=1, SP=1
    check(status == ic.STATUS_CHECK_CONDITION and key_asc(sense) == (0x4, 0x44, 0x00),
          "SP=1 with an unwritable file: 0x%02x %s, expected HARDWARE ERROR 44/00"
          % (status, key_asc(sense)))
    check(values(a, PC_SAVED) == DEFAULTS, "a failed save changed the saved values: %s"
          % values(a, PC_SAVED))
    check(values(a, PC_CURRENT)["SWP"] == 1, "the current SWP was not applied")
    status, sense = set_field(a, FIELDS[5], 0)
    check(status == ic.STATUS_GOOD, "SWP back to 0: 0x%02x %s" % (status, key_asc(sense)))
    print("ok  : a save that fails: HARDWARE ERROR, the saved values unchanged", flush=True)


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    a = t.login(KEYS, False, False)
    b = t.login(KEYS, False, False)
    for s in (a, b):
        for _ in range(4):
            if tur(s)[0] == ic.STATUS_GOOD:
                break
    phase = sys.argv[4]
    if phase == "change":
        phase_change(a, b)
    elif phase == "saved":
        phase_saved(a)
    elif phase == "defaults":
        phase_defaults(a)
    elif phase == "savefail":
        phase_savefail(a)
    else:
        print(__doc__)
        return 2
    a.logout()
    b.logout()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("mode_pages_saved %s: all checks passed" % phase)
    return 0


if __name__ == "__main__":
    sys.exit(main())
