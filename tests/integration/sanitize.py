#!/usr/bin/env python3
"""SANITIZE and FORMAT UNIT (vdisk_sanitize.c, vdisk_format.c,
vdisk_medium_job.c), with our python initiator.

sanitize.sh gives this script:
  LUN 0  fileio, 16 MiB                 LUN 3  fileio thin, 16 MiB, on an 8 MiB tmpfs
  LUN 1  fileio thin, 16 MiB            LUN 4  fileio, 16 MiB, on the same tmpfs
  LUN 2  fileio, 256 MiB, background_rate_mb 64 (4 s a pass)
  LUN 5  nullio, 64 MiB
Checked here:
  - REPORT SUPPORTED OPERATION CODES lists every SANITIZE service action
    and FORMAT UNIT; an unknown service action is INVALID FIELD IN CDB
    on byte 1 bit 4; ZNR and the reserved bytes are refused;
  - every malformed OVERWRITE parameter list and FORMAT UNIT CDB or
    header gets its exact sense and field pointer, and the medium is
    unchanged;
  - OVERWRITE with an odd-length pattern, INVERT and 3 passes leaves every
    block of the LUN the pattern as given (the last pass is not inverted),
    restarting at each block; BLOCK ERASE, CRYPTOGRAPHIC ERASE and FORMAT
    UNIT leave every block zero; on a thin LUN every block deallocated
    (GET LBA STATUS); FFMT=1 keeps the data; nullio answers GOOD;
  - an IMMED sanitize of the big LUN: GOOD at once; a second session gets
    NOT READY / SANITIZE IN PROGRESS for TUR, READ, WRITE, MODE SENSE,
    SANITIZE and FORMAT UNIT while INQUIRY and REPORT LUNS work; REQUEST
    SENSE shows the progress growing; at the end NOT READY TO READY
    CHANGE on both sessions and the pattern on the medium; the same for an
    IMMED FORMAT UNIT with FORMAT IN PROGRESS;
  - an IMMED=0 sanitize survives ABORT TASK of its command and a LUN RESET
    (SBC-4 4.11.2), and finishes;
  - failure: an overwrite that runs out of space leaves MEDIUM ERROR /
    SANITIZE COMMAND FAILED for READ, TUR and FORMAT UNIT (INQUIRY and
    REQUEST SENSE still answer), EXIT FAILURE MODE is refused after AUSE=0
    and so is a new sanitize with AUSE=1; a block erase gets the unit out;
    after a failure with AUSE=1, EXIT FAILURE MODE does; a format that runs
    out of space leaves MEDIUM FORMAT CORRUPTED until a format completes.

  - leave-running: an IMMED sanitize of the big LUN started and left
    running, for sanitize.sh to stop uscstd under it; after-restart: that
    sanitize runs again (SANITIZE IN PROGRESS, its progress, then the
    pattern on the medium) while the others are ready; after-clear: after
    another restart it is ready with the pattern; garbage-record:
    LUN 0, whose record does not parse, is in the failure mode all the
    same.

usage: sanitize.py PORT TARGET_IQN INITIATOR_IQN
                   [leave-running | after-restart | after-clear | garbage-record]
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import BLOCK, Target, check, failures, pattern  # noqa: E402
from compare_and_write import KEYS, cmd, read, write, capacity  # noqa: E402
from compare_and_write import expect_good, expect_sense  # noqa: E402

SK_NO_SENSE, SK_NOT_READY, SK_MEDIUM_ERROR, SK_ILLEGAL_REQUEST, SK_UNIT_ATTENTION = 0, 2, 3, 5, 6
INVALID_FIELD_IN_CDB = (0x24, 0x00)
INVALID_FIELD_IN_PARAM_LIST = (0x26, 0x00)
PARAM_LIST_LENGTH_ERROR = (0x1A, 0x00)
SANITIZE_IN_PROGRESS = (0x04, 0x1B)
FORMAT_IN_PROGRESS = (0x04, 0x04)
SANITIZE_FAILED = (0x31, 0x03)
FORMAT_CORRUPTED = (0x31, 0x00)
FORMAT_FAILED = (0x31, 0x01)
NOT_READY_TO_READY = (0x28, 0x00)
LUN_SMALL, LUN_THIN, LUN_BIG, LUN_TINY_THIN, LUN_TINY_THICK, LUN_NULL = range(6)
SA_OVERWRITE, SA_BLOCK_ERASE, SA_CRYPTO_ERASE, SA_EXIT = 0x01, 0x02, 0x03, 0x1F
IMMED, AUSE = 0x80, 0x20
MIB_BLOCKS = (1 << 20) // BLOCK


def sanitize_cdb(sa, plen=0, flags=0, reserved=None):
    cdb = bytearray(struct.pack(">BB5xHB", 0x48, flags | sa, plen, 0))
    if reserved:
        cdb[reserved[0]] = reserved[1]
    return bytes(cdb)


def sanitize(s, lun, sa, params=b"", flags=0, plen=None, edtl=None):
    return cmd(s, sanitize_cdb(sa, len(params) if plen is None else plen, flags), params,
               lun=lun, edtl=edtl)


def overwrite_list(pat, count=1, invert=False, test=0, byte1=0, ipl=None):
    return struct.pack(">BBH", (0x80 if invert else 0) | (test << 5) | count, byte1,
                       len(pat) if ipl is None else ipl) + pat


def format_cdb(b1=0, b4=0):
    return bytes([0x04, b1, 0, 0, b4, 0])


def fmt(s, lun, b1=0, b4=0, params=b"", edtl=None):
    return cmd(s, format_cdb(b1, b4), params, lun=lun, edtl=edtl)


def tur(s, lun):
    return cmd(s, b"\0" * 6, lun=lun)


def request_sense(s, lun):
    """(key, asc, ascq, progress or None) of REQUEST SENSE's fixed data."""
    status, d, sn = cmd(s, bytes([0x03, 0, 0, 0, 252, 0]), read_len=252, lun=lun)
    check(status == ic.STATUS_GOOD, "REQUEST SENSE LUN %d: status 0x%02x %s" % (lun, status, sn))
    progress = struct.unpack(">H", d[16:18])[0] if d[15] & 0x80 else None
    return d[2] & 0x0F, d[12], d[13], progress


def request_sense_desc(s, lun):
    """(key, asc, ascq, progress or None) of REQUEST SENSE with DESC=1:
    descriptor format, the progress in a sense key specific descriptor."""
    status, d, sn = cmd(s, bytes([0x03, 0x01, 0, 0, 252, 0]), read_len=252, lun=lun)
    check(status == ic.STATUS_GOOD and d[0] & 0x7F == 0x72,
          "REQUEST SENSE DESC=1 LUN %d: status 0x%02x, response code 0x%02x %s"
          % (lun, status, d[0], sn))
    progress, off = None, 8
    while off + 2 <= 8 + d[7]:
        desc = d[off:off + 2 + d[off + 1]]
        if desc[0] == 0x02 and len(desc) >= 7 and desc[4] & 0x80:
            progress = struct.unpack(">H", desc[5:7])[0]
        off += len(desc)
    return d[1] & 0x0F, d[2], d[3], progress


def read_all(s, lun, nblocks):
    out = bytearray()
    for lba in range(0, nblocks, MIB_BLOCKS):
        out += read(s, lun, lba, min(MIB_BLOCKS, nblocks - lba))
    return bytes(out)


def fill(s, lun, nblocks, seed):
    for lba in range(0, nblocks, MIB_BLOCKS):
        n = min(MIB_BLOCKS, nblocks - lba)
        write(s, lun, lba, pattern(seed + lba, n * BLOCK))


def samples(nblocks):
    """The LBAs a big LUN is checked at: its first and last MiB and 14 in
    between."""
    last = nblocks - MIB_BLOCKS
    return sorted({0, last} | {last * i // 15 for i in range(1, 15)})


def read_samples(s, lun, nblocks):
    return b"".join(read(s, lun, lba, MIB_BLOCKS) for lba in samples(nblocks))


def per_block(pat):
    """One block as OVERWRITE writes it: the pattern from the start of the
    block, repeated."""
    return (pat * (BLOCK // len(pat) + 1))[:BLOCK]


def wait_ready(s, lun, what, limit=120):
    """TEST UNIT READY until the job is over; returns the senses seen."""
    seen = []
    deadline = time.time() + limit
    while time.time() < deadline:
        status, _, sn = tur(s, lun)
        if status == ic.STATUS_GOOD:
            return seen
        seen.append(sn[:3])
        if sn[:2] != (SK_UNIT_ATTENTION, 0x29) and sn[:3] not in (
                (SK_NOT_READY,) + SANITIZE_IN_PROGRESS, (SK_NOT_READY,) + FORMAT_IN_PROGRESS,
                (SK_UNIT_ATTENTION,) + NOT_READY_TO_READY):
            check(False, "%s: TEST UNIT READY while waiting: %s" % (what, sn))
            return seen
        time.sleep(0.2)
    check(False, "%s: not over after %d s" % (what, limit))
    return seen


def lba_status_all_deallocated(s, lun, nblocks, what):
    cdb = struct.pack(">BBQIBB", 0x9E, 0x12, 0, 4096, 0, 0)
    status, d, sn = cmd(s, cdb, read_len=4096, lun=lun)
    if not check(status == ic.STATUS_GOOD, "%s: GET LBA STATUS: 0x%02x %s" % (what, status, sn)):
        return
    n = (struct.unpack(">I", d[:4])[0] - 4) // 16
    covered = 0
    for i in range(n):
        lba, cnt, prov = struct.unpack(">QIB", d[8 + 16 * i:8 + 16 * i + 13])
        check(lba == covered, "%s: descriptor %d at LBA %d, expected %d" % (what, i, lba, covered))
        check(prov & 0x0F == 1, "%s: LBA %d..%d provisioning %d, not deallocated"
              % (what, lba, lba + cnt, prov & 0x0F))
        covered = lba + cnt
    if check(covered == nblocks, "%s: descriptors cover %d of %d blocks" % (what, covered, nblocks)):
        print("ok  : %s: every block deallocated (%d descriptor(s))" % (what, n), flush=True)


# ---------------------------------------------------------------- checks

def opcodes(s):
    for sa in (SA_OVERWRITE, SA_BLOCK_ERASE, SA_CRYPTO_ERASE, SA_EXIT):
        cdb = struct.pack(">BBBBHIBB", 0xA3, 0x0C, 0x02, 0x48, sa, 64, 0, 0)
        status, d, sn = cmd(s, cdb, read_len=64)
        check(status == ic.STATUS_GOOD and d[1] & 0x07 == 3,
              "RSOC SANITIZE SA 0x%02x: status 0x%02x support %s %s" % (sa, status, d[1] & 7, sn))
    cdb = struct.pack(">BBBBHIBB", 0xA3, 0x0C, 0x01, 0x04, 0, 64, 0, 0)
    status, d, sn = cmd(s, cdb, read_len=64)
    check(status == ic.STATUS_GOOD and d[1] & 0x07 == 3,
          "RSOC FORMAT UNIT: status 0x%02x support %s %s" % (status, d[1] & 7, sn))
    for sa in (0x00, 0x04, 0x10, 0x1E):
        expect_sense("SANITIZE service action 0x%02x" % sa, sanitize(s, LUN_SMALL, sa),
                     SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(1, 4))
    expect_sense("SANITIZE with ZNR", sanitize(s, LUN_SMALL, SA_BLOCK_ERASE, flags=0x40),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(1, 6))
    for byte in range(2, 7):
        r = cmd(s, sanitize_cdb(SA_BLOCK_ERASE, reserved=(byte, 1)), lun=LUN_SMALL)
        expect_sense("SANITIZE reserved byte %d" % byte, r, SK_ILLEGAL_REQUEST,
                     INVALID_FIELD_IN_CDB, fp=(byte, None))


def malformed(s, nblocks):
    """Every refusal, on a LUN whose content is known: nothing changes."""
    fill(s, LUN_SMALL, nblocks, 7000)
    before = read_all(s, LUN_SMALL, nblocks)
    pat = b"\xa5" * 8
    cases = [
        ("OVERWRITE list of 4 bytes", sanitize(s, LUN_SMALL, SA_OVERWRITE, b"\x01\0\0\0"),
         INVALID_FIELD_IN_CDB, (7, None)),
        ("OVERWRITE list of block+5 bytes",
         sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(b"\x11" * (BLOCK + 1))),
         INVALID_FIELD_IN_CDB, (7, None)),
        ("OVERWRITE COUNT 0", sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(pat, 0)),
         INVALID_FIELD_IN_PARAM_LIST, (0, 4)),
        ("OVERWRITE TEST 01b", sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(pat, test=1)),
         INVALID_FIELD_IN_PARAM_LIST, (0, 6)),
        ("OVERWRITE reserved byte 1",
         sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(pat, byte1=4)),
         INVALID_FIELD_IN_PARAM_LIST, (1, None)),
        ("OVERWRITE pattern length 0",
         sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(pat, ipl=0)),
         INVALID_FIELD_IN_PARAM_LIST, (2, None)),
        ("OVERWRITE pattern length above a block",
         sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(b"\x22" * BLOCK, ipl=BLOCK + 1)),
         INVALID_FIELD_IN_PARAM_LIST, (2, None)),
        ("OVERWRITE pattern length 4 in a list of 12",
         sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(pat, ipl=4)),
         INVALID_FIELD_IN_PARAM_LIST, (2, None)),
        ("OVERWRITE list cut short by the transport",
         sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(pat)[:8], plen=12, edtl=8),
         PARAM_LIST_LENGTH_ERROR, None),
        ("BLOCK ERASE with a parameter list",
         sanitize(s, LUN_SMALL, SA_BLOCK_ERASE, bytes(8)), INVALID_FIELD_IN_CDB, (7, None)),
        ("CRYPTOGRAPHIC ERASE with a parameter list",
         sanitize(s, LUN_SMALL, SA_CRYPTO_ERASE, bytes(8)), INVALID_FIELD_IN_CDB, (7, None)),
        ("EXIT FAILURE MODE with a parameter list",
         sanitize(s, LUN_SMALL, SA_EXIT, bytes(8)), INVALID_FIELD_IN_CDB, (7, None)),
        ("FORMAT UNIT FMTPINFO", fmt(s, LUN_SMALL, 0x80), INVALID_FIELD_IN_CDB, (1, 7)),
        ("FORMAT UNIT RTO_REQ", fmt(s, LUN_SMALL, 0x40), INVALID_FIELD_IN_CDB, (1, 6)),
        ("FORMAT UNIT FFMT 10b", fmt(s, LUN_SMALL, b4=0x02), INVALID_FIELD_IN_CDB, (4, 1)),
        ("FORMAT UNIT DEFECT LIST FORMAT 001b",
         fmt(s, LUN_SMALL, 0x11, params=bytes(4)), INVALID_FIELD_IN_CDB, (1, 2)),
        ("FORMAT UNIT FMTDATA without a list", fmt(s, LUN_SMALL, 0x10),
         PARAM_LIST_LENGTH_ERROR, None),
        ("FORMAT UNIT PROTECTION FIELD USAGE", fmt(s, LUN_SMALL, 0x10, params=b"\x01\0\0\0"),
         INVALID_FIELD_IN_PARAM_LIST, (0, 2)),
        ("FORMAT UNIT DCRT without FOV", fmt(s, LUN_SMALL, 0x10, params=b"\0\x20\0\0"),
         INVALID_FIELD_IN_PARAM_LIST, (1, 5)),
        ("FORMAT UNIT IP", fmt(s, LUN_SMALL, 0x10, params=b"\0\x88\0\0"),
         INVALID_FIELD_IN_PARAM_LIST, (1, 3)),
        ("FORMAT UNIT with a defect list",
         fmt(s, LUN_SMALL, 0x10, params=b"\0\0\0\x08" + bytes(8)),
         INVALID_FIELD_IN_PARAM_LIST, (2, None)),
        ("FORMAT UNIT long header P_I_INFORMATION",
         fmt(s, LUN_SMALL, 0x30, params=b"\0\0\0\x10\0\0\0\0"),
         INVALID_FIELD_IN_PARAM_LIST, (3, 7)),
        ("FORMAT UNIT header with bytes after it",
         fmt(s, LUN_SMALL, 0x10, params=bytes(8)), PARAM_LIST_LENGTH_ERROR, None),
    ]
    for what, result, asc, fp in cases:
        expect_sense(what, result, SK_ILLEGAL_REQUEST, asc, fp=fp)
    if check(read_all(s, LUN_SMALL, nblocks) == before, "the refusals changed the medium"):
        print("ok  : %d refusals left all %d blocks as they were" % (len(cases), nblocks),
              flush=True)


def overwrite(s, nblocks):
    pat = b"SANITZ!"  # 7 bytes: restarts at each block, never divides it
    fill(s, LUN_SMALL, nblocks, 100)
    expect_good("OVERWRITE INVERT, 3 passes",
                sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(pat, 3, invert=True)))
    got = read_all(s, LUN_SMALL, nblocks)
    want = per_block(pat) * nblocks
    if check(got == want, "OVERWRITE INVERT x3: %d of %d blocks differ from the pattern"
             % (sum(got[i:i + BLOCK] != want[i:i + BLOCK] for i in range(0, len(got), BLOCK)),
                nblocks)):
        print("ok  : OVERWRITE INVERT x3: all %d blocks the pattern as given" % nblocks, flush=True)
    blk = pattern(4242, BLOCK)
    expect_good("OVERWRITE with a block-long pattern, 2 passes, INVERT",
                sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(blk, 2, invert=True)))
    check(read_all(s, LUN_SMALL, nblocks) == blk * nblocks, "OVERWRITE block pattern: medium differs")
    # Only the whole passes count: one odd pass with INVERT is the pattern.
    expect_good("OVERWRITE 1 pass, INVERT",
                sanitize(s, LUN_SMALL, SA_OVERWRITE, overwrite_list(b"\x0f", 1, invert=True)))
    check(read_all(s, LUN_SMALL, nblocks) == b"\x0f" * BLOCK * nblocks,
          "OVERWRITE INVERT x1: medium is not the pattern")


def erases(s, nblocks):
    zeros = bytes(BLOCK * nblocks)
    for sa, name in ((SA_BLOCK_ERASE, "BLOCK ERASE"), (SA_CRYPTO_ERASE, "CRYPTOGRAPHIC ERASE")):
        for lun, kind in ((LUN_SMALL, "fileio"), (LUN_THIN, "thin")):
            fill(s, lun, nblocks, 200 + sa)
            expect_good("%s %s" % (name, kind), sanitize(s, lun, sa))
            if check(read_all(s, lun, nblocks) == zeros, "%s %s: not all zeros" % (name, kind)):
                print("ok  : %s %s: all %d blocks zero" % (name, kind, nblocks), flush=True)
            if lun == LUN_THIN:
                lba_status_all_deallocated(s, lun, nblocks, "%s thin" % name)
    for lun, kind in ((LUN_SMALL, "fileio"), (LUN_THIN, "thin")):
        fill(s, lun, nblocks, 300)
        expect_good("FORMAT UNIT %s" % kind, fmt(s, lun))
        if check(read_all(s, lun, nblocks) == zeros, "FORMAT UNIT %s: not all zeros" % kind):
            print("ok  : FORMAT UNIT %s: all %d blocks zero" % (kind, nblocks), flush=True)
        if lun == LUN_THIN:
            lba_status_all_deallocated(s, lun, nblocks, "FORMAT UNIT thin")
    fill(s, LUN_SMALL, nblocks, 400)
    before = read_all(s, LUN_SMALL, nblocks)
    expect_good("FORMAT UNIT FFMT 01b", fmt(s, LUN_SMALL, b4=0x01))
    check(read_all(s, LUN_SMALL, nblocks) == before, "FORMAT UNIT FFMT 01b changed the data")
    expect_good("FORMAT UNIT FMTDATA, FOV DCRT DPRY, long header",
                fmt(s, LUN_SMALL, 0x30, params=b"\0\xe0" + bytes(6)))
    check(read_all(s, LUN_SMALL, nblocks) == zeros, "FORMAT UNIT long header: not all zeros")
    expect_good("SANITIZE OVERWRITE nullio",
                sanitize(s, LUN_NULL, SA_OVERWRITE, overwrite_list(b"\x01\x02")))
    expect_good("SANITIZE BLOCK ERASE nullio", sanitize(s, LUN_NULL, SA_BLOCK_ERASE))
    expect_good("FORMAT UNIT nullio", fmt(s, LUN_NULL))
    expect_good("EXIT FAILURE MODE, no failure", sanitize(s, LUN_SMALL, SA_EXIT))


def blocked_during(s2, lun, asc, what):
    """What a second session gets while a job runs on @lun."""
    nr = (SK_NOT_READY,) + asc
    for name, r in (("TEST UNIT READY", tur(s2, lun)),
                    ("READ(10)", cmd(s2, struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0),
                                     read_len=BLOCK, lun=lun)),
                    ("WRITE(10)", cmd(s2, struct.pack(">BBIBHB", 0x2A, 0, 0, 0, 1, 0),
                                      bytes(BLOCK), lun=lun)),
                    ("MODE SENSE(6)", cmd(s2, bytes([0x1A, 0, 0x3F, 0, 255, 0]), read_len=255,
                                          lun=lun)),
                    ("SANITIZE", sanitize(s2, lun, SA_BLOCK_ERASE)),
                    ("FORMAT UNIT", fmt(s2, lun))):
        status, _, sn = r
        check(status == ic.STATUS_CHECK_CONDITION and sn[:3] == nr,
              "%s: %s from session 2: 0x%02x %s, expected %s" % (what, name, status, sn, nr))
    status, _, sn = cmd(s2, bytes([0x12, 0, 0, 0, 96, 0]), read_len=96, lun=lun)
    check(status == ic.STATUS_GOOD, "%s: INQUIRY: 0x%02x %s" % (what, status, sn))
    status, _, sn = cmd(s2, struct.pack(">BBBBBBIBB", 0xA0, 0, 0, 0, 0, 0, 256, 0, 0),
                        read_len=256, lun=lun)
    check(status == ic.STATUS_GOOD, "%s: REPORT LUNS: 0x%02x %s" % (what, status, sn))
    print("ok  : %s: session 2 refused with %x/%02x/%02x, INQUIRY and REPORT LUNS served"
          % ((what,) + nr), flush=True)


def watch_progress(s2, lun, asc, what):
    """REQUEST SENSE until the job is over: progress must grow; the end is
    the NOT READY TO READY CHANGE unit attention."""
    values = []
    deadline = time.time() + 120
    while time.time() < deadline:
        key, a, q, progress = request_sense(s2, lun)
        if (key, a, q) == (SK_NOT_READY,) + asc:
            if not check(progress is not None, "%s: REQUEST SENSE without progress" % what):
                return
            values.append(progress)
            time.sleep(0.3)
            continue
        check((key, a, q) == (SK_UNIT_ATTENTION,) + NOT_READY_TO_READY,
              "%s: REQUEST SENSE at the end: %x/%02x/%02x" % (what, key, a, q))
        break
    else:
        check(False, "%s: still running after 120 s" % what)
    rising = all(b >= a for a, b in zip(values, values[1:]))
    distinct = len(set(values))
    if check(rising and distinct >= 3, "%s: progress %s" % (what, values)):
        print("ok  : %s: progress rose through %d values, %d..%d of 65536, then %x/%02x/%02x"
              % (what, distinct, values[0], values[-1], SK_UNIT_ATTENTION, *NOT_READY_TO_READY),
              flush=True)


def big_lun(t, s, nblocks):
    s2 = t.login(KEYS, False, False)
    tur(s2, LUN_BIG)
    # IMMED OVERWRITE, 2 passes of one block of pattern.
    pat = pattern(9090, BLOCK)
    t0 = time.time()
    expect_good("IMMED OVERWRITE big LUN",
                sanitize(s, LUN_BIG, SA_OVERWRITE, overwrite_list(pat, 2), flags=IMMED))
    check(time.time() - t0 < 2, "IMMED OVERWRITE took %.1f s to answer" % (time.time() - t0))
    blocked_during(s2, LUN_BIG, SANITIZE_IN_PROGRESS, "IMMED OVERWRITE")
    key, asc, ascq, progress = request_sense_desc(s2, LUN_BIG)
    if check((key, asc, ascq) == (SK_NOT_READY,) + SANITIZE_IN_PROGRESS and progress is not None,
             "REQUEST SENSE DESC=1 during the sanitize: %x/%02x/%02x progress %s"
             % (key, asc, ascq, progress)):
        print("ok  : REQUEST SENSE DESC=1: descriptor sense 2/04/1b, progress %d" % progress,
              flush=True)
    watch_progress(s2, LUN_BIG, SANITIZE_IN_PROGRESS, "IMMED OVERWRITE")
    # The issuer answered GOOD before the end: it gets the unit attention too.
    expect_sense("IMMED OVERWRITE: the issuer after the end", tur(s, LUN_BIG),
                 SK_UNIT_ATTENTION, NOT_READY_TO_READY)
    if check(read_samples(s, LUN_BIG, nblocks) == pat * (MIB_BLOCKS * len(samples(nblocks))),
             "IMMED OVERWRITE: the medium is not the pattern"):
        print("ok  : IMMED OVERWRITE: %d sampled MiB are the pattern" % len(samples(nblocks)),
              flush=True)
    # IMMED FORMAT UNIT (the IMMED bit of the parameter list header).
    expect_good("IMMED FORMAT UNIT big LUN", fmt(s, LUN_BIG, 0x10, params=b"\0\x02\0\0"))
    blocked_during(s2, LUN_BIG, FORMAT_IN_PROGRESS, "IMMED FORMAT UNIT")
    watch_progress(s2, LUN_BIG, FORMAT_IN_PROGRESS, "IMMED FORMAT UNIT")
    expect_sense("IMMED FORMAT UNIT: the issuer after the end", tur(s, LUN_BIG),
                 SK_UNIT_ATTENTION, NOT_READY_TO_READY)
    check(read_samples(s, LUN_BIG, nblocks) == bytes(BLOCK * MIB_BLOCKS * len(samples(nblocks))),
          "IMMED FORMAT UNIT: the medium is not zero")
    # IMMED=0: the command waits; aborting it, or a LUN RESET, leaves the
    # sanitize running.
    write(s, LUN_BIG, 0, pattern(1, BLOCK))
    itt, sn = s.send_scsi(sanitize_cdb(SA_BLOCK_ERASE), lun=LUN_BIG)
    time.sleep(1)
    blocked_during(s2, LUN_BIG, SANITIZE_IN_PROGRESS, "BLOCK ERASE IMMED=0")
    t0 = time.time()
    tmf = s.send_tmf(ic.TMF_ABORT_TASK, lun=LUN_BIG, ref_itt=itt, ref_cmd_sn=sn)
    others = []
    rsp = s.wait_tmf(tmf, others=others)
    # TAS=0: the aborted SANITIZE gets no response at all.
    check(not others, "ABORT TASK of the SANITIZE: also got %r" % others)
    check(rsp == ic.TMF_RSP_COMPLETE and time.time() - t0 < 3,
          "ABORT TASK of the SANITIZE: response %d after %.1f s" % (rsp, time.time() - t0))
    expect_sense("after ABORT TASK, the sanitize goes on", tur(s2, LUN_BIG), SK_NOT_READY,
                 SANITIZE_IN_PROGRESS)
    tmf = s2.send_tmf(ic.TMF_LUN_RESET, lun=LUN_BIG)
    check(s2.wait_tmf(tmf) == ic.TMF_RSP_COMPLETE, "LUN RESET during the sanitize")
    seen = wait_ready(s2, LUN_BIG, "BLOCK ERASE after ABORT TASK and LUN RESET")
    check((SK_NOT_READY,) + SANITIZE_IN_PROGRESS in seen,
          "after the LUN RESET the sanitize was not running: %s" % seen)
    check(read(s2, LUN_BIG, 0) == bytes(BLOCK), "BLOCK ERASE after the aborts: LBA 0 not zero")
    print("ok  : IMMED=0 BLOCK ERASE went on through ABORT TASK and LUN RESET", flush=True)
    s2.logout()


def failure_modes(s, nblocks):
    """LUN 3 (thin) and 4 live on an 8 MiB tmpfs: a 16 MiB overwrite or
    format runs out of space."""
    pat = b"\x77" * 16
    r = sanitize(s, LUN_TINY_THIN, SA_OVERWRITE, overwrite_list(pat))
    expect_sense("OVERWRITE out of space", r, SK_MEDIUM_ERROR, SANITIZE_FAILED)
    for name, res in (("READ", cmd(s, struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0),
                                   read_len=BLOCK, lun=LUN_TINY_THIN)),
                      ("TEST UNIT READY", tur(s, LUN_TINY_THIN)),
                      ("FORMAT UNIT", fmt(s, LUN_TINY_THIN))):
        expect_sense("sanitize failure mode: %s" % name, res, SK_MEDIUM_ERROR, SANITIZE_FAILED)
    status, _, sn = cmd(s, bytes([0x12, 0, 0, 0, 96, 0]), read_len=96, lun=LUN_TINY_THIN)
    check(status == ic.STATUS_GOOD, "sanitize failure mode: INQUIRY 0x%02x %s" % (status, sn))
    check(request_sense(s, LUN_TINY_THIN)[:3] == (SK_MEDIUM_ERROR,) + SANITIZE_FAILED,
          "sanitize failure mode: REQUEST SENSE does not say so")
    expect_sense("EXIT FAILURE MODE after AUSE=0", sanitize(s, LUN_TINY_THIN, SA_EXIT),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(1, 4))
    expect_sense("a sanitize with AUSE=1 after AUSE=0",
                 sanitize(s, LUN_TINY_THIN, SA_BLOCK_ERASE, flags=AUSE),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(1, 5))
    # A block erase deallocates (thin): it completes, and the unit is out.
    expect_good("BLOCK ERASE leaves the failure mode", sanitize(s, LUN_TINY_THIN, SA_BLOCK_ERASE))
    expect_good("after the BLOCK ERASE: TEST UNIT READY", tur(s, LUN_TINY_THIN))
    check(read(s, LUN_TINY_THIN, 0, 16) == bytes(16 * BLOCK), "after the BLOCK ERASE: not zero")
    r = sanitize(s, LUN_TINY_THIN, SA_OVERWRITE, overwrite_list(pat), flags=AUSE)
    expect_sense("OVERWRITE AUSE=1 out of space", r, SK_MEDIUM_ERROR, SANITIZE_FAILED)
    expect_sense("failure mode after AUSE=1: READ",
                 cmd(s, struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0), read_len=BLOCK,
                     lun=LUN_TINY_THIN), SK_MEDIUM_ERROR, SANITIZE_FAILED)
    expect_good("EXIT FAILURE MODE after AUSE=1", sanitize(s, LUN_TINY_THIN, SA_EXIT))
    expect_good("after EXIT FAILURE MODE: TEST UNIT READY", tur(s, LUN_TINY_THIN))
    # Give the space back (thin format deallocates), then fail a format of
    # the fully provisioned LUN on the same file system.
    expect_good("FORMAT UNIT thin on tmpfs", fmt(s, LUN_TINY_THIN))
    expect_sense("FORMAT UNIT out of space", fmt(s, LUN_TINY_THICK), SK_MEDIUM_ERROR,
                 FORMAT_FAILED)
    expect_sense("format corrupted: READ", cmd(s, struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0),
                                              read_len=BLOCK, lun=LUN_TINY_THICK),
                 SK_MEDIUM_ERROR, FORMAT_CORRUPTED)
    expect_good("format corrupted: FORMAT UNIT FFMT 01b gets it out",
                fmt(s, LUN_TINY_THICK, b4=0x01))
    expect_good("after the format: TEST UNIT READY", tur(s, LUN_TINY_THICK))


def start_and_leave(t):
    """An IMMED sanitize of the big LUN, then logout: uscstd is stopped
    while it runs (sanitize.sh)."""
    s = t.login(KEYS, False, False)
    tur(s, LUN_BIG)
    expect_good("IMMED OVERWRITE left running",
                sanitize(s, LUN_BIG, SA_OVERWRITE, overwrite_list(b"\x3c"), flags=IMMED))
    check(request_sense(s, LUN_BIG)[:3] == (SK_NOT_READY,) + SANITIZE_IN_PROGRESS,
          "the sanitize left running is not running")
    s.logout()


def after_restart(t):
    """uscstd was stopped under a sanitize of the big LUN and started
    again: that sanitize runs again (SBC-4 4.11.2: it resumes after a power
    on), SANITIZE IN PROGRESS with its progress until it completes, then
    NOT READY TO READY CHANGE and the pattern on the medium; the others
    (whose jobs completed, or whose failure mode was left) are ready."""
    s = t.login(KEYS, False, False)
    for lun in range(6):
        tur(s, lun)  # the new nexus's POWER ON unit attention
    for lun in (LUN_SMALL, LUN_THIN, LUN_TINY_THIN, LUN_TINY_THICK, LUN_NULL):
        expect_good("after the restart, LUN %d: TEST UNIT READY" % lun, tur(s, lun))
    expect_sense("after the restart, the resumed sanitize: READ",
                 cmd(s, struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0), read_len=BLOCK,
                     lun=LUN_BIG), SK_NOT_READY, SANITIZE_IN_PROGRESS)
    # It began at start-up, before this login, and takes 4 s: the
    # progress seen may be two values, or one.
    values, deadline = [], time.time() + 120
    while time.time() < deadline:
        key, a, q, progress = request_sense(s, LUN_BIG)
        if (key, a, q) != (SK_NOT_READY,) + SANITIZE_IN_PROGRESS:
            check((key, a, q) == (SK_UNIT_ATTENTION,) + NOT_READY_TO_READY,
                  "the resumed sanitize, at the end: %x/%02x/%02x" % (key, a, q))
            break
        values.append(progress)
        time.sleep(0.3)
    check(values and None not in values and values == sorted(values),
          "the resumed sanitize: progress %s" % values)
    expect_good("after the resumed sanitize: TEST UNIT READY", tur(s, LUN_BIG))
    nblocks = capacity(s, LUN_BIG)
    check(read_samples(s, LUN_BIG, nblocks) == per_block(b"\x3c") * MIB_BLOCKS * 16,
          "after the resumed sanitize: not the pattern everywhere")
    print("ok  : the resumed sanitize left its pattern at 16 places", flush=True)
    s.logout()


def after_clear(t):
    s = t.login(KEYS, False, False)
    tur(s, LUN_BIG)
    expect_good("after a second restart: TEST UNIT READY", tur(s, LUN_BIG))
    check(read(s, LUN_BIG, 0, 8) == per_block(b"\x3c") * 8,
          "after a second restart: LBA 0 not the pattern")
    s.logout()


def garbage_record(t):
    """sanitize.sh left a record that is not one for LUN 0: the unit is in
    the sanitize failure mode all the same, and a sanitize gets it out."""
    s = t.login(KEYS, False, False)
    tur(s, LUN_SMALL)
    expect_sense("a record that does not parse: READ",
                 cmd(s, struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0), read_len=BLOCK,
                     lun=LUN_SMALL), SK_MEDIUM_ERROR, SANITIZE_FAILED)
    expect_good("a record that does not parse: BLOCK ERASE", sanitize(s, LUN_SMALL, SA_BLOCK_ERASE))
    expect_good("after the BLOCK ERASE: TEST UNIT READY", tur(s, LUN_SMALL))
    s.logout()


def main():
    modes = {"leave-running": start_and_leave, "after-restart": after_restart,
             "after-clear": after_clear, "garbage-record": garbage_record}
    if len(sys.argv) not in (4, 5) or (len(sys.argv) == 5 and sys.argv[4] not in modes):
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    if len(sys.argv) == 5:
        modes[sys.argv[4]](t)
        return 1 if failures else 0
    s = t.login(KEYS, False, False)
    for lun in range(6):
        tur(s, lun)
    small = capacity(s, LUN_SMALL)
    check(small == capacity(s, LUN_THIN), "LUN 0 and 1 differ in size")
    opcodes(s)
    malformed(s, small)
    overwrite(s, small)
    erases(s, small)
    big_lun(t, s, capacity(s, LUN_BIG))
    failure_modes(s, capacity(s, LUN_TINY_THIN))
    s.logout()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
