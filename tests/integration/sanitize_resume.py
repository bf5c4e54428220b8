#!/usr/bin/env python3
"""A SANITIZE that uscstd's death cuts short runs again when it starts
again (SBC-4 4.11.2: a sanitize is suspended through a power on and
resumed after it), and the records that mean a failure mode instead;
then the 10 s drain of vdisk_medium_job.c: a job waits for the commands
of its device already under way, at most 10 s.

sanitize_resume.sh gives this script:
  LUN 0  fileio, 64 MiB, background_rate_mb 8 (8 s a pass)
  LUN 1  fileio, 16 MiB                 (the drain)
  LUN 2  fileio, 16 MiB, a record of a sanitize that failed with AUSE=1
  LUN 3  fileio, 16 MiB, a version 1 record (AUSE=0)
  LUN 4  fileio, 16 MiB, a record of a format cut short
Modes:
  start    an IMMED OVERWRITE of LUN 0 (pattern 5a a5 0f, INVERT, 3
           passes), left once REQUEST SENSE shows progress (the shell
           kills uscstd -9 then);
  resumed  after the restart: LUN 0 says SANITIZE IN PROGRESS for READ,
           TEST UNIT READY and REQUEST SENSE (with progress, rising), then
           NOT READY TO READY CHANGE, and the pattern is on every sampled
           block; LUN 2 is in the failure mode and EXIT FAILURE MODE gets
           it out; LUN 3 too, and EXIT FAILURE MODE is refused (AUSE=0),
           a BLOCK ERASE gets it out; LUN 4 says MEDIUM FORMAT CORRUPTED
           until a FORMAT UNIT;
  drain    session A sends a WRITE to LUN 1 and holds its Data-Out (the
           R2T unanswered); session B's IMMED BLOCK ERASE then makes no
           progress until the drain gives up, 10 s later, and completes;
           A's Data-Out then ends its WRITE with the NOT READY TO READY
           CHANGE unit attention, nothing written.
           Again with A's Data-Out sent after 2 s: the job starts as soon
           as that WRITE (refused: SANITIZE IN PROGRESS) is over.

usage: sanitize_resume.py PORT TARGET_IQN INITIATOR_IQN start|resumed|drain
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
from sanitize import (sanitize, overwrite_list, fmt, tur, request_sense, watch_progress,  # noqa: E402
                      samples, MIB_BLOCKS, SK_NOT_READY, SK_MEDIUM_ERROR, SK_ILLEGAL_REQUEST,
                      SANITIZE_IN_PROGRESS, SANITIZE_FAILED, FORMAT_CORRUPTED,
                      INVALID_FIELD_IN_CDB, SA_OVERWRITE, SA_BLOCK_ERASE, SA_EXIT, IMMED)

LUN_SLOW, LUN_DRAIN, LUN_FAILED, LUN_V1, LUN_FORMAT = range(5)
PATTERN = b"\x5a\xa5\x0f"
PASSES = 3


def expected_block():
    """What 3 passes with INVERT leave: the last pass writes the pattern as
    given, from the start of every block."""
    return (PATTERN * (BLOCK // len(PATTERN) + 1))[:BLOCK]


def start(t):
    s = t.login(KEYS, False, False)
    tur(s, LUN_SLOW)
    expect_good("IMMED OVERWRITE of LUN 0",
                sanitize(s, LUN_SLOW, SA_OVERWRITE, overwrite_list(PATTERN, count=PASSES,
                                                                   invert=True), flags=IMMED))
    deadline = time.time() + 20
    while time.time() < deadline:
        key, asc, ascq, progress = request_sense(s, LUN_SLOW)
        check((key, asc, ascq) == (SK_NOT_READY,) + SANITIZE_IN_PROGRESS,
              "LUN 0 while sanitizing: %x/%02x/%02x" % (key, asc, ascq))
        if progress:
            print("ok  : LUN 0 sanitizing, progress %d of 65536: kill -9 now" % progress,
                  flush=True)
            return
        time.sleep(0.2)
    check(False, "LUN 0: no progress after 20 s")


def resumed(t):
    s = t.login(KEYS, False, False)
    for lun in range(5):
        tur(s, lun)  # the POWER ON unit attention of the new nexus
    expect_sense("LUN 0 after the restart: READ",
                 cmd(s, struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0), read_len=BLOCK,
                     lun=LUN_SLOW), SK_NOT_READY, SANITIZE_IN_PROGRESS)
    expect_sense("LUN 0 after the restart: TEST UNIT READY", tur(s, LUN_SLOW),
                 SK_NOT_READY, SANITIZE_IN_PROGRESS)
    watch_progress(s, LUN_SLOW, SANITIZE_IN_PROGRESS, "LUN 0, resumed")
    expect_good("LUN 0 after the resumed sanitize: TEST UNIT READY", tur(s, LUN_SLOW))
    nblocks = capacity(s, LUN_SLOW)
    got = b"".join(read(s, LUN_SLOW, lba, MIB_BLOCKS) for lba in samples(nblocks))
    if check(got == expected_block() * MIB_BLOCKS * len(samples(nblocks)),
             "LUN 0 after the resumed sanitize: not the pattern everywhere sampled"):
        print("ok  : LUN 0: the pattern (last pass not inverted) on %d sampled MiB"
              % len(samples(nblocks)), flush=True)
    # A failed sanitize (AUSE=1) stays failed across a restart.
    expect_sense("LUN 2 (failed, AUSE=1): READ",
                 cmd(s, struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0), read_len=BLOCK,
                     lun=LUN_FAILED), SK_MEDIUM_ERROR, SANITIZE_FAILED)
    expect_good("LUN 2: EXIT FAILURE MODE", sanitize(s, LUN_FAILED, SA_EXIT))
    expect_good("LUN 2 after EXIT FAILURE MODE: TEST UNIT READY", tur(s, LUN_FAILED))
    # A version 1 record: a sanitize that cannot be run again.
    expect_sense("LUN 3 (version 1 record): TEST UNIT READY", tur(s, LUN_V1),
                 SK_MEDIUM_ERROR, SANITIZE_FAILED)
    expect_sense("LUN 3: EXIT FAILURE MODE (AUSE=0)", sanitize(s, LUN_V1, SA_EXIT),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(1, 4))
    expect_good("LUN 3: BLOCK ERASE", sanitize(s, LUN_V1, SA_BLOCK_ERASE))
    expect_good("LUN 3 after the BLOCK ERASE: TEST UNIT READY", tur(s, LUN_V1))
    # A format cut short is not resumed: format corrupted until a format.
    expect_sense("LUN 4 (format cut short): TEST UNIT READY", tur(s, LUN_FORMAT),
                 SK_MEDIUM_ERROR, FORMAT_CORRUPTED)
    expect_good("LUN 4: FORMAT UNIT", fmt(s, LUN_FORMAT))
    expect_good("LUN 4 after FORMAT UNIT: TEST UNIT READY", tur(s, LUN_FORMAT))
    s.logout()


def held_write(a, lba, data):
    """A WRITE(10) sent, its R2T received and not answered: (itt, r2t)."""
    cdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, len(data) // BLOCK, 0)
    itt, _ = a.send_scsi(cdb, edtl=len(data), write=True, lun=LUN_DRAIN)
    r2t = a.recv_pdu()
    check(r2t.opcode == ic.OP_R2T and r2t.itt == itt, "no R2T for the held WRITE: %r" % r2t)
    return itt, r2t


def release_write(a, itt, r2t, data):
    """The held WRITE's Data-Out, then its status and sense key / ASC."""
    a._send_data_out(itt, r2t.u32(20), data, r2t.u32(40), r2t.u32(44), None, [0])
    status, rsp = a.wait_response(itt)
    sense = None
    if status == ic.STATUS_CHECK_CONDITION and len(rsp) >= 16:
        sense = (rsp[2 + 2] & 0x0F, rsp[2 + 12], rsp[2 + 13])
    return status, sense


def wait_over(b, what, limit=60):
    """REQUEST SENSE until LUN 1 is no longer sanitizing; returns the
    seconds it took and the progress values seen."""
    t0, seen = time.time(), []
    while time.time() - t0 < limit:
        key, asc, ascq, progress = request_sense(b, LUN_DRAIN)
        if (key, asc, ascq) != (SK_NOT_READY,) + SANITIZE_IN_PROGRESS:
            return time.time() - t0, seen
        seen.append(progress)
        time.sleep(0.25)
    check(False, "%s: still sanitizing after %d s" % (what, limit))
    return limit, seen


def drain(t):
    a, b = t.login(KEYS, False, False), t.login(KEYS, False, False)
    tur(a, LUN_DRAIN)
    tur(b, LUN_DRAIN)
    data = pattern(77, 8 * BLOCK)
    # 1. Held for the whole drain: the job waits 10 s, then starts anyway.
    itt, r2t = held_write(a, 100, data)
    t0 = time.time()
    expect_good("IMMED BLOCK ERASE with a WRITE held", sanitize(b, LUN_DRAIN, SA_BLOCK_ERASE,
                                                                flags=IMMED))
    _, seen = wait_over(b, "the drain")
    took = time.time() - t0
    early = [p for p in seen[:20] if p]
    # Ten ticks of the reactor's one-second clock, the first of them up
    # to a second after the start.
    if check(8.5 <= took <= 30 and not early,
             "the sanitize behind a held WRITE: over after %.1f s, progress %s" % (took, seen[:40])):
        print("ok  : held WRITE: no progress for the drain, the sanitize over after %.1f s"
              % took, flush=True)
    # Its checks run once its data is in: the unit attention of the
    # sanitize's end comes first, and nothing is written.
    status, sense = release_write(a, itt, r2t, data)
    check(status == ic.STATUS_CHECK_CONDITION and sense == (0x6, 0x28, 0x00),
          "the held WRITE after the sanitize: 0x%02x %s" % (status, sense))
    check(read(b, LUN_DRAIN, 100, 8) == bytes(8 * BLOCK) and
          read(b, LUN_DRAIN, 0, 8) == bytes(8 * BLOCK),
          "after the drain: the held WRITE's data landed, or not zeros")
    # 2. Released after 2 s: refused (the unit is sanitizing), and the job
    # starts once it is over, well before 10 s.
    itt, r2t = held_write(a, 200, data)
    t0 = time.time()
    expect_good("IMMED BLOCK ERASE, the WRITE released after 2 s",
                sanitize(b, LUN_DRAIN, SA_BLOCK_ERASE, flags=IMMED))
    time.sleep(2)
    status, sense = release_write(a, itt, r2t, data)
    check(status == ic.STATUS_CHECK_CONDITION and sense == (SK_NOT_READY,) + SANITIZE_IN_PROGRESS,
          "the WRITE released during the drain: 0x%02x %s" % (status, sense))
    wait_over(b, "the drain cut short")
    took = time.time() - t0
    if check(2 <= took < 8, "the sanitize after the WRITE ended: over after %.1f s" % took):
        print("ok  : WRITE released after 2 s: refused, the sanitize over after %.1f s" % took,
              flush=True)
    tur(a, LUN_DRAIN)
    check(read(b, LUN_DRAIN, 100, 8) == bytes(8 * BLOCK) and read(b, LUN_DRAIN, 200, 8) ==
          bytes(8 * BLOCK), "after the second sanitize: not zeros")
    a.logout()
    b.logout()


def main():
    modes = {"start": start, "resumed": resumed, "drain": drain}
    if len(sys.argv) != 5 or sys.argv[4] not in modes:
        sys.exit(__doc__)
    modes[sys.argv[4]](Target(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("sanitize_resume.py %s: all checks passed" % sys.argv[4])


if __name__ == "__main__":
    main()
