#!/usr/bin/env python3
"""LUN masking and live LUN maps (issue 6, sections 1 and 2), from the
wire, with several initiator names on one target:

 - each initiator sees the LUNs of its group (REPORT LUNS, and the device
   behind each LUN by its T10 vendor ID designator in VPD page 0x83), the
   default LUNs when no group takes it or a '!' pattern excludes it, and
   LOGICAL UNIT NOT SUPPORTED for a LUN outside its map;
 - one device read-write for one group and read-only for another: WRITE
   gets DATA PROTECT / WRITE PROTECTED and MODE SENSE shows WP;
 - a target that maps nothing for an initiator refuses its login with
   0x0202 (authorization failure: RFC 7143 11.13.5, not 0x0201, which
   says the credentials were wrong);
 - SIGHUP with a changed file while two sessions write and read: sessions
   stay logged in, get REPORTED LUNS DATA HAS CHANGED, see their new maps
   (a LUN added, one removed under I/O, read-only lifted, an initiator
   moved to a new group), no write is lost (every block read back), and
   commands to a removed LUN end GOOD if they started before it went and
   LOGICAL UNIT NOT SUPPORTED after;
 - a reload of a file with an error changes nothing.

usage: masking.py PORT PID CONF CONF_RELOAD CONF_BAD TARGET PRIVATE_TARGET
"""
import os
import re
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

PORT, PID = int(sys.argv[1]), int(sys.argv[2])
CONF, CONF_RELOAD, CONF_BAD = sys.argv[3:6]
TARGET, PRIVATE = sys.argv[6:8]
A1, ABAD, B1, C9 = ("iqn.2026-12.test:a1", "iqn.2026-12.test:a-bad",
                    "iqn.2026-12.test:b1", "iqn.2026-12.test:c9")
KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
        ("MaxBurstLength", "262144")]
SK_ILLEGAL_REQUEST, SK_UNIT_ATTENTION, SK_DATA_PROTECT = 0x5, 0x6, 0x7
failures = []
isid_n = [0]


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def login_status(e):
    """The status of a refused login, from the client's exception."""
    if hasattr(e, "status"):
        return e.status
    m = re.search(r"status class (\d+) detail (\d+)", str(e))
    return int(m.group(1)) << 8 | int(m.group(2)) if m else None


def login(initiator, target=TARGET):
    isid_n[0] += 1
    s = ic.Session(PORT)
    s.login(initiator, target, bytes([0x80, 0, 0x06, 0x5c, 0, isid_n[0]]), KEYS)
    return s


def cmd(s, lun, cdb, read_len=0, data=b""):
    """(status, data, (key, asc, ascq) or None)."""
    itt, _ = s.send_scsi(cdb, edtl=read_len or len(data), read=read_len > 0,
                         write=bool(data), data=data, lun=lun)
    buf = bytearray(read_len)
    status, rsp = s.wait_response(itt, read_buf=buf if read_len else None)
    return status, bytes(buf), ic.sense_key_asc(rsp)


def drain_uas(s, lun):
    """TEST UNIT READY until GOOD; returns the unit attentions seen."""
    seen = []
    for _ in range(8):
        status, _, sense = cmd(s, lun, b"\0" * 6)
        if status == ic.STATUS_GOOD:
            return seen
        seen.append(sense)
    return seen


def report_luns(s):
    status, d, _ = cmd(s, 0, struct.pack(">BBBBBBIBB", 0xA0, 0, 0, 0, 0, 0, 4096, 0, 0),
                       read_len=4096)
    if status != ic.STATUS_GOOD:
        return None
    n = struct.unpack(">I", d[:4])[0] // 8
    return [struct.unpack(">H", d[8 + 8 * i:10 + 8 * i])[0] & 0x3FFF for i in range(n)]


def device_of(s, lun):
    """The device name behind @lun: the T10 vendor ID designator of VPD
    page 0x83 carries t10_dev_id, which defaults to the device's name."""
    status, d, sense = cmd(s, lun, bytes([0x12, 1, 0x83, 0, 255, 0]), read_len=255)
    if status != ic.STATUS_GOOD:
        return "status 0x%02x %r" % (status, sense)
    pos = 4
    while pos + 4 <= len(d):
        dlen = d[pos + 3]
        if d[pos + 1] & 0x0F == 1:  # T10 vendor ID based
            return d[pos + 4 + 8:pos + 4 + dlen].rstrip(b"\0 ").decode()
        pos += 4 + dlen
    return None


def write_protected(s, lun):
    """The WP bit of MODE SENSE(6)'s device-specific parameter."""
    status, d, _ = cmd(s, lun, bytes([0x1A, 0, 0x3F, 0, 255, 0]), read_len=255)
    return status == ic.STATUS_GOOD and bool(d[2] & 0x80)


def write_block(s, lun, lba, payload):
    return cmd(s, lun, struct.pack(">BBIBHB", 0x2A, 0, lba, 0, 1, 0), data=payload)


def read_block(s, lun, lba):
    return cmd(s, lun, struct.pack(">BBIBHB", 0x28, 0, lba, 0, 1, 0), read_len=512)


def block(tag, lba):
    return (b"%s:%08d:" % (tag, lba)).ljust(512, b"x")


# ---- the views of the first file
a1, abad, b1, c9 = login(A1), login(ABAD), login(B1), login(C9)
for s, lun in ((a1, 0), (a1, 1), (abad, 0), (b1, 0), (c9, 0)):
    drain_uas(s, lun)
check(report_luns(a1) == [0, 1], "a1 (group hostsA) sees LUNs 0 and 1: %r" % report_luns(a1))
check(device_of(a1, 0) == "shared" and device_of(a1, 1) == "a_only",
      "a1: LUN 0 is shared, LUN 1 a_only (%s, %s)" % (device_of(a1, 0), device_of(a1, 1)))
check(report_luns(b1) == [0] and device_of(b1, 0) == "shared",
      "b1 (group hostsB) sees LUN 0 = shared only: %r" % report_luns(b1))
check(report_luns(c9) == [0] and device_of(c9, 0) == "pub",
      "c9 (no group) sees the default LUN 0 = pub")
check(report_luns(abad) == [0] and device_of(abad, 0) == "pub",
      "a-bad (excluded from hostsA by '!') sees the default LUN 0 = pub")
st, _, sense = cmd(b1, 1, b"\0" * 6)
check(st == ic.STATUS_CHECK_CONDITION and sense[:2] == (SK_ILLEGAL_REQUEST, 0x25),
      "b1: LUN 1 is not supported for it (%r)" % (sense,))
st, _, sense = read_block(c9, 1, 0)
check(st == ic.STATUS_CHECK_CONDITION and sense[:2] == (SK_ILLEGAL_REQUEST, 0x25),
      "c9: READ of LUN 1 (a_only, not its) refused with LUN NOT SUPPORTED")
# The core's own commands that need a logical unit (reservations, ALUA,
# REPORT SUPPORTED OPERATION CODES) get the same for a LUN not mapped;
# only INQUIRY, REPORT LUNS and REQUEST SENSE answer for any LUN.
for name, cdb, read_len, data in (
        ("PERSISTENT RESERVE IN", bytes([0x5E, 0, 0, 0, 0, 0, 0, 0, 64, 0]), 64, b""),
        ("PERSISTENT RESERVE OUT", bytes([0x5F, 0, 0, 0, 0, 0, 0, 0, 24, 0]), 0,
         b"\0" * 8 + b"\x11" * 8 + b"\0" * 8),
        ("RESERVE(6)", bytes([0x16, 0, 0, 0, 0, 0]), 0, b""),
        ("RELEASE(10)", bytes([0x57] + [0] * 9), 0, b""),
        ("REPORT TARGET PORT GROUPS", bytes([0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]), 256, b""),
        ("SET TARGET PORT GROUPS", bytes([0xA4, 0x0A, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]), 0,
         b"\0\0\0\0\x0f\0\0\x01"),
        ("REPORT SUPPORTED OPERATION CODES", bytes([0xA3, 0x0C, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]),
         256, b"")):
    st, _, sense = cmd(c9, 1, cdb, read_len=read_len, data=data)
    check(st == ic.STATUS_CHECK_CONDITION and sense[:2] == (SK_ILLEGAL_REQUEST, 0x25),
          "c9: %s to LUN 1 (not mapped for it) gets LUN NOT SUPPORTED (0x%02x %r)"
          % (name, st, sense))
st, _, sense = cmd(c9, 0, b"\0" * 6)
check(st == ic.STATUS_GOOD, "c9 goes on on LUN 0 after them (0x%02x %r)" % (st, sense))

check(write_block(a1, 0, 7, block(b"a1", 7))[0] == ic.STATUS_GOOD, "a1 writes to shared")
st, _, sense = write_block(b1, 0, 8, block(b"b1", 8))
check(st == ic.STATUS_CHECK_CONDITION and sense[:2] == (SK_DATA_PROTECT, 0x27),
      "b1's WRITE to shared (read-only for hostsB) gets DATA PROTECT / WRITE PROTECTED (%r)"
      % (sense,))
check(write_protected(b1, 0) and not write_protected(a1, 0),
      "MODE SENSE: WP set for b1, clear for a1 on the same device")
st, d, _ = read_block(b1, 0, 7)
check(st == ic.STATUS_GOOD and d == block(b"a1", 7), "b1 reads what a1 wrote to shared")

try:
    login(B1, PRIVATE)
    check(False, "b1's login to the private target was accepted")
except ic.ProtocolError as e:
    check(login_status(e) == 0x0202, "b1's login to the private target: %s" % e)
priv = login(A1, PRIVATE)
drain_uas(priv, 0)
check(report_luns(priv) == [0], "a1 may log in to the private target and sees its LUN")

# ---- a reload with an error changes nothing
os.replace(CONF_BAD, CONF)
os.kill(PID, signal.SIGHUP)
time.sleep(1)
check(report_luns(a1) == [0, 1] and report_luns(b1) == [0],
      "a refused reload leaves the maps as they were")
check(drain_uas(a1, 0) == [] and drain_uas(b1, 0) == [],
      "a refused reload queues no unit attention")

# ---- a reload during I/O: two sessions write and read shared (kept in
# both maps) and a1 writes a_only at LUN 1, which leaves a1's map.
os.replace(CONF_RELOAD, CONF)
writes = {a1: {}, b1: {}}
a1_lun1_done, a1_lun1_refused, reloaded_at = 0, 0, None
deadline = time.time() + 30
lba = 100
while time.time() < deadline:
    lba += 1
    # a1 writes shared and a_only; b1 only reads until read-only goes.
    st, _, sense = write_block(a1, 0, lba, block(b"a1", lba))
    if st == ic.STATUS_CHECK_CONDITION and sense[:2] == (SK_UNIT_ATTENTION, 0x3F):
        st, _, sense = write_block(a1, 0, lba, block(b"a1", lba))
    check(st == ic.STATUS_GOOD, "a1 write %d to shared during the reload" % lba) \
        if st != ic.STATUS_GOOD else None
    writes[a1][lba] = block(b"a1", lba)
    st, _, sense = write_block(a1, 1, lba, block(b"lun1", lba))
    if st == ic.STATUS_GOOD:
        a1_lun1_done += 1
    elif sense and sense[:2] == (SK_ILLEGAL_REQUEST, 0x25):
        a1_lun1_refused += 1
    elif not (sense and sense[:2] == (SK_UNIT_ATTENTION, 0x3F)):
        check(False, "a1 write to LUN 1 during the reload: 0x%02x %r" % (st, sense))
    st, d, sense = read_block(b1, 0, lba - 1)
    if st == ic.STATUS_GOOD and lba - 1 in writes[a1]:
        check(d == writes[a1][lba - 1], "b1 reads block %d as a1 wrote it" % (lba - 1)) \
            if d != writes[a1][lba - 1] else None
    if reloaded_at is None and lba == 120:
        os.kill(PID, signal.SIGHUP)
        reloaded_at = lba
    if a1_lun1_refused >= 20:
        break
check(a1_lun1_done > 0 and a1_lun1_refused >= 20,
      "a1's writes to LUN 1: %d GOOD before it left, then LOGICAL UNIT NOT SUPPORTED"
      % a1_lun1_done)

# b1's new LUN 1 says first that the inventory changed; REPORT LUNS
# clears that condition for the I_T nexus (SPC-4 6.33).
uas = drain_uas(b1, 1)
check(any(u and u[:3] == (SK_UNIT_ATTENTION, 0x3F, 0x0E) for u in uas),
      "b1's new LUN 1 reports REPORTED LUNS DATA HAS CHANGED first: %r" % uas)
drain_uas(b1, 0)
check(report_luns(a1) == [0], "after the reload a1 sees LUN 0 only: %r" % report_luns(a1))
check(report_luns(b1) == [0, 1] and device_of(b1, 1) == "a_only",
      "after the reload b1 sees LUN 1 = a_only too: %r" % report_luns(b1))
st, _, _ = write_block(b1, 0, 9, block(b"b1", 9))
check(st == ic.STATUS_GOOD and not write_protected(b1, 0),
      "after the reload shared is read-write for b1")
for lba_a, data in sorted(writes[a1].items()):
    st, d, _ = read_block(b1, 0, lba_a)
    if st != ic.STATUS_GOOD or d != data:
        check(False, "block %d of shared after the reload" % lba_a)
        break
else:
    check(True, "all %d blocks a1 wrote to shared read back" % len(writes[a1]))
# Every write a1 got GOOD for on LUN 1 (a_only) is there, seen from b1.
good = 0
for lba_a in range(101, lba + 1):
    st, d, _ = read_block(b1, 1, lba_a)
    if st == ic.STATUS_GOOD and d == block(b"lun1", lba_a):
        good += 1
check(good >= a1_lun1_done, "a_only holds every a1 write that ended GOOD (%d of %d)"
      % (good, a1_lun1_done))
uas = drain_uas(c9, 3)
check(report_luns(c9) == [3] and device_of(c9, 3) == "pub",
      "c9, now in the new group hostsC, sees LUN 3 = pub: %r" % report_luns(c9))
# The private target is gone: its session is asked to log out (an
# Asynchronous Message, which this client ignores) and closed once the
# driver's logout_timeout (5 s by default) is over.
deadline = time.monotonic() + 8
closed = False
while not closed and time.monotonic() < deadline:
    try:
        priv.test_unit_ready()
        time.sleep(0.2)
    except (ic.ConnectionClosed, OSError, ic.ProtocolError):
        closed = True
check(closed, "the session to the removed target was closed within 8 s")
try:
    login(A1, PRIVATE)
    check(False, "login to the removed target accepted")
except ic.ProtocolError as e:
    check(login_status(e) == 0x0203, "login to the removed target: %s" % e)

for s in (a1, abad, b1, c9):
    s.logout()
if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("masking: all checks passed")
