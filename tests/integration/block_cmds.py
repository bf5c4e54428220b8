#!/usr/bin/env python3
"""ORWRITE(16), WRITE ATOMIC(16), PRE-FETCH(10/16), READ DEFECT DATA(10/12),
VPD 0x86 and the refusal of protection information in every command.

block_cmds.sh gives this script (uscstd --threads 2):
  LUN 0  vdisk_fileio              LUN 2  vdisk_nullio
  LUN 1  vdisk_blockio (O_DIRECT)  LUN 3  vdisk_fileio, nv_cache 1
Checked here:
  - ORWRITE: the medium ends as the byte-wise OR of what was there and
    the Data-Out, on fileio and blockio, with and without FUA/DPO; zero
    blocks change nothing; past the end is LBA OUT OF RANGE;
  - atomicity from two sessions on the two reactors, many iterations:
    ORWRITE of B racing a WRITE of Y ends as Y|B or Y, never B (the
    write lost under a read-modify-write); WRITE ATOMIC of X racing a
    WRITE of Y over 1 MiB ends entirely X or entirely Y, and a READ
    racing a WRITE ATOMIC sees all of the old data or all of the new;
  - Block Limits' atomic fields (alignment and granularity 4 KiB);
    WRITE ATOMIC above MAXIMUM ATOMIC TRANSFER LENGTH, not aligned, or
    not a multiple of the granularity is INVALID FIELD IN CDB on its
    LBA or length, and writes nothing;
  - PRE-FETCH (10/16): GOOD (also IMMED, and 0 blocks = to the end) on
    every backend, LBA OUT OF RANGE past the end; on buffered fileio
    the range is in the page cache afterwards (fincore of LUN0_FILE);
  - READ DEFECT DATA (10/12): empty lists, PLISTV/GLISTV as asked, the
    standard formats as asked, 110b/111b as RECOVERED ERROR / DEFECT
    LIST NOT FOUND with the short block header; the allocation length;
  - VPD 0x86 listed in page 0x00, its fields, V_SUP / NV_SUP per LUN;
  - under another nexus's persistent reservation: ORWRITE and WRITE
    ATOMIC conflict, PRE-FETCH and READ DEFECT DATA are allowed under
    Write Exclusive and conflict under Exclusive Access;
  - every command with a protect field, with each value 1..7: ILLEGAL
    REQUEST / INVALID FIELD IN CDB, field pointer byte 1 bit 7, nothing
    written.

usage: block_cmds.py PORT TARGET_IQN INITIATOR_IQN ITERATIONS LUN0_FILE
"""
import os
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import BLOCK, Target, check, failures, pattern  # noqa: E402
from compare_and_write import KEYS, cmd, read, write, capacity, ready  # noqa: E402
from compare_and_write import expect_good, expect_sense  # noqa: E402

SK_RECOVERED_ERROR, SK_ILLEGAL_REQUEST = 0x1, 0x5
RESERVATION_CONFLICT = 0x18
INVALID_FIELD_IN_CDB = (0x24, 0x00)
LBA_OUT_OF_RANGE = (0x21, 0x00)
DEFECT_LIST_NOT_FOUND = (0x1C, 0x00)
LUN_FILE, LUN_BLOCK, LUN_NULL, LUN_NV = 0, 1, 2, 3
MAX_XFER_BLOCKS = (8 << 20) // BLOCK
# ATOMIC ALIGNMENT and ATOMIC TRANSFER LENGTH GRANULARITY: 4 KiB.
ATOMIC_GRAN = 4096 // BLOCK


def orwrite_cdb(lba, n, flags=0):
    return struct.pack(">BBQIBB", 0x8B, flags, lba, n, 0, 0)


def write_atomic_cdb(lba, n, flags=0):
    return struct.pack(">BBQHHBB", 0x9C, flags, lba, 0, n, 0, 0)


def write16_cdb(lba, n, flags=0):
    return struct.pack(">BBQIBB", 0x8A, flags, lba, n, 0, 0)


def orwrite(s, lun, lba, data, flags=0):
    return cmd(s, orwrite_cdb(lba, len(data) // BLOCK, flags), data, lun=lun)


def vpd(s, page, lun=0, alloc=255):
    status, data, sn = cmd(s, bytes([0x12, 0x01, page, alloc >> 8, alloc & 0xFF, 0]),
                           read_len=alloc, lun=lun)
    check(status == ic.STATUS_GOOD and data[1] == page,
          "INQUIRY VPD 0x%02x LUN %d: status 0x%02x %s" % (page, lun, status, sn))
    return data


# ---- ORWRITE ----

def orwrite_semantics(s, lun, name):
    for flags, what in ((0, ""), (0x18, " with DPO and FUA")):
        for n in (1, 8, 256):
            lba = 200 + n
            old, new = pattern(60 + n, n * BLOCK), pattern(90 + n, n * BLOCK)
            write(s, lun, lba, old)
            expect_good("%s: ORWRITE of %d block(s)%s" % (name, n, what),
                        orwrite(s, lun, lba, new, flags))
            want = bytes(a | b for a, b in zip(old, new))
            check(read(s, lun, lba, n) == want,
                  "%s: ORWRITE of %d block(s)%s: the medium is not old | new" % (name, n, what))
    last = capacity(s, lun)
    old, new = pattern(71, 4 * BLOCK), pattern(72, 4 * BLOCK)
    write(s, lun, last - 4, old)
    expect_good("%s: ORWRITE of the last 4 blocks" % name, orwrite(s, lun, last - 4, new))
    check(read(s, lun, last - 4, 4) == bytes(a | b for a, b in zip(old, new)),
          "%s: ORWRITE at the end is not old | new" % name)
    expect_sense("%s: ORWRITE one block past the end" % name,
                 orwrite(s, lun, last - 3, new), SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE)
    check(read(s, lun, last - 4, 4) == bytes(a | b for a, b in zip(old, new)),
          "%s: a refused ORWRITE wrote" % name)
    write(s, lun, 300, old[:BLOCK])
    expect_good("%s: ORWRITE of 0 blocks" % name, cmd(s, orwrite_cdb(300, 0), lun=lun))
    check(read(s, lun, 300, 1) == old[:BLOCK], "%s: ORWRITE of 0 blocks changed a block" % name)


# ---- atomicity from two sessions ----

def race(t, lun, iterations, name, first, second, settle):
    """Runs first(s1, i) and second(s2, i) at the same moment, @iterations
    times, each pair on its own session (the two reactors); settle(s1, i)
    checks the result. Returns how many times each ended last."""
    s1, s2 = t.login(KEYS, False, False), t.login(KEYS, False, False)
    ready(s1, lun)
    ready(s2, lun)
    barrier = threading.Barrier(2)
    outcome = {}
    errors = []

    def runner(s, fn, i):
        try:
            barrier.wait(timeout=30)
            fn(s, i)
        except Exception as e:  # noqa: BLE001 - reported as a failure below
            errors.append(repr(e))

    for i in range(iterations):
        th = threading.Thread(target=runner, args=(s2, second, i))
        th.start()
        runner(s1, first, i)
        th.join(60)
        if errors or th.is_alive():
            check(False, "%s: iteration %d: %s" % (name, i, errors or "a writer hung"))
            break
        r = settle(s1, i)
        outcome[r] = outcome.get(r, 0) + 1
        if r == "torn":
            break
    s1.logout()
    s2.logout()
    return outcome


def orwrite_race(t, lun, name, iterations):
    lba, n = 5000, 16
    b_data = bytes([0x0F]) * (n * BLOCK)
    s0 = t.login(KEYS, False, False)

    def y_data(i):
        # Low nibble clear (Y|B differs from Y), high nibble set (Y
        # differs from B alone, the lost write).
        return bytes([(0xF0, 0xC0, 0x30, 0x90)[i % 4]]) * (n * BLOCK)

    def first(s, i):
        status, _, sn = orwrite(s, lun, lba, b_data)
        check(status == ic.STATUS_GOOD, "%s: racing ORWRITE: 0x%02x %s" % (name, status, sn))

    def second(s, i):
        write(s, lun, lba, y_data(i))

    def settle(s, i):
        got = read(s, lun, lba, n)
        y = y_data(i)
        if got == bytes(a | b for a, b in zip(y, b_data)):
            r = "WRITE then ORWRITE"
        elif got == y:
            r = "ORWRITE then WRITE"
        else:
            r = "torn"
            check(False, "%s: iteration %d: ORWRITE racing a WRITE left neither Y|B nor Y "
                  "(first bytes %s)" % (name, i, got[:8].hex()))
        write(s, lun, lba, bytes(n * BLOCK))
        return r

    ready(s0, lun)
    write(s0, lun, lba, bytes(n * BLOCK))
    s0.logout()
    out = race(t, lun, iterations, name + " ORWRITE vs WRITE", first, second, settle)
    if check("torn" not in out, "%s: ORWRITE race outcomes %s" % (name, out)):
        print("ok  : %s: ORWRITE racing WRITE from another session, %d iterations: %s"
              % (name, iterations, out), flush=True)


def write_atomic_race(t, lun, name, iterations):
    lba, n = 8192, 2048  # 1 MiB: many pages, more than one burst
    x, y = bytes([0xA5]) * (n * BLOCK), bytes([0x5A]) * (n * BLOCK)

    def first(s, i):
        status, _, sn = cmd(s, write_atomic_cdb(lba, n), x, lun=lun)
        check(status == ic.STATUS_GOOD, "%s: racing WRITE ATOMIC: 0x%02x %s" % (name, status, sn))

    def second(s, i):
        status, _, sn = cmd(s, write16_cdb(lba, n), y, lun=lun)
        check(status == ic.STATUS_GOOD, "%s: racing WRITE(16): 0x%02x %s" % (name, status, sn))

    def settle(s, i):
        got = read_big(s, lun, lba, n)
        if got == x:
            return "WRITE then WRITE ATOMIC"
        if got == y:
            return "WRITE ATOMIC then WRITE"
        check(False, "%s: iteration %d: WRITE ATOMIC racing WRITE left %d byte(s) of one and "
              "%d of the other" % (name, i, got.count(0xA5), got.count(0x5A)))
        return "torn"

    out = race(t, lun, iterations, name + " WRITE ATOMIC vs WRITE", first, second, settle)
    if check("torn" not in out, "%s: WRITE ATOMIC race outcomes %s" % (name, out)):
        print("ok  : %s: WRITE ATOMIC racing WRITE(16) of 1 MiB from another session, %d "
              "iterations: %s" % (name, iterations, out), flush=True)


def write_atomic_vs_read(t, lun, name, iterations):
    """A READ from another session while WRITE ATOMIC replaces the range
    sees all of the old data or all of the new, never some of each."""
    lba, n = 16384, 2048
    values = (0xC3, 0x3C)
    seen = {}
    s0 = t.login(KEYS, False, False)
    ready(s0, lun)
    status, _, sn = cmd(s0, write_atomic_cdb(lba, n), bytes([values[1]]) * (n * BLOCK), lun=lun)
    check(status == ic.STATUS_GOOD, "%s: WRITE ATOMIC: 0x%02x %s" % (name, status, sn))
    s0.logout()

    def first(s, i):
        status, _, sn = cmd(s, write_atomic_cdb(lba, n), bytes([values[i % 2]]) * (n * BLOCK),
                            lun=lun)
        check(status == ic.STATUS_GOOD, "%s: racing WRITE ATOMIC: 0x%02x %s" % (name, status, sn))

    def second(s, i):
        seen[i] = read_big(s, lun, lba, n)

    def settle(s, i):
        got = seen.pop(i)
        if got == bytes([values[i % 2]]) * len(got):
            return "new"
        if got == bytes([values[(i + 1) % 2]]) * len(got):
            return "old"
        check(False, "%s: iteration %d: a READ racing WRITE ATOMIC saw %d byte(s) old and %d "
              "new" % (name, i, got.count(values[(i + 1) % 2]), got.count(values[i % 2])))
        return "torn"

    out = race(t, lun, iterations, name + " WRITE ATOMIC vs READ", first, second, settle)
    if check("torn" not in out, "%s: WRITE ATOMIC vs READ outcomes %s" % (name, out)):
        print("ok  : %s: READ(16) of 1 MiB racing WRITE ATOMIC from another session, %d "
              "iterations: %s" % (name, iterations, out), flush=True)


def read_big(s, lun, lba, n):
    cdb = struct.pack(">BBQIBB", 0x88, 0, lba, n, 0, 0)
    status, data, sn = cmd(s, cdb, read_len=n * BLOCK, lun=lun)
    check(status == ic.STATUS_GOOD, "READ(16) of %d blocks: 0x%02x %s" % (n, status, sn))
    return data


# ---- WRITE ATOMIC and Block Limits ----

def write_atomic_limits(s):
    bl = vpd(s, 0xB0, alloc=64)
    max_xfer, max_atomic = struct.unpack(">I", bl[8:12])[0], struct.unpack(">I", bl[44:48])[0]
    align, gran = struct.unpack(">I", bl[48:52])[0], struct.unpack(">I", bl[52:56])[0]
    ok = check(max_atomic == MAX_XFER_BLOCKS and max_atomic <= max_xfer and
               align == ATOMIC_GRAN and gran == ATOMIC_GRAN and bl[56:64] == bytes(8),
               "Block Limits: MAXIMUM ATOMIC TRANSFER LENGTH %d (max transfer %d), ALIGNMENT %d,"
               " GRANULARITY %d, boundary fields %s" % (max_atomic, max_xfer, align, gran,
                                                        bl[56:64].hex()))
    if ok:
        print("ok  : Block Limits: MAXIMUM ATOMIC TRANSFER LENGTH %d, alignment and granularity"
              " %d" % (max_atomic, gran), flush=True)
    g = ATOMIC_GRAN
    data = pattern(81, 3 * g * BLOCK)
    expect_good("WRITE ATOMIC of %d blocks at LBA %d" % (3 * g, g),
                cmd(s, write_atomic_cdb(g, 3 * g), data))
    check(read(s, 0, g, 3 * g) == data, "WRITE ATOMIC: the data is not on the medium")
    expect_good("WRITE ATOMIC with DPO and FUA",
                cmd(s, write_atomic_cdb(g, 3 * g, 0x18), data[::-1]))
    check(read(s, 0, g, 3 * g) == data[::-1], "WRITE ATOMIC FUA: the data is not on the medium")
    # Not aligned, not a whole number of granules: refused, not written.
    expect_sense("WRITE ATOMIC at LBA %d (not aligned)" % (g + 1),
                 cmd(s, write_atomic_cdb(g + 1, g), bytes(g * BLOCK)),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(2, None))
    expect_sense("WRITE ATOMIC of %d blocks (not a multiple of %d)" % (g + 1, g),
                 cmd(s, write_atomic_cdb(g, g + 1), bytes((g + 1) * BLOCK)),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(12, None))
    check(read(s, 0, g, 3 * g) == data[::-1], "a refused WRITE ATOMIC wrote")
    n = max_atomic + 1
    expect_sense("WRITE ATOMIC of MAXIMUM ATOMIC TRANSFER LENGTH + 1 blocks",
                 cmd(s, write_atomic_cdb(0, n), bytes(n * BLOCK)),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(12, None))
    last = capacity(s, 0)
    expect_sense("WRITE ATOMIC past the end", cmd(s, write_atomic_cdb(last - g, 2 * g),
                                                  bytes(2 * g * BLOCK)),
                 SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE)
    expect_good("WRITE ATOMIC of 0 blocks", cmd(s, write_atomic_cdb(0, 0)))


# ---- PRE-FETCH ----

def prefetch(s):
    for lun, name in ((LUN_FILE, "fileio"), (LUN_BLOCK, "blockio"), (LUN_NULL, "nullio")):
        last = capacity(s, lun)
        for ten in (True, False):
            tag = "PRE-FETCH(%d) %s" % (10 if ten else 16, name)

            def pf(lba, n, immed=False):
                flags = 0x02 if immed else 0
                if ten:
                    c = struct.pack(">BBIBHB", 0x34, flags, lba, 0, n, 0)
                else:
                    c = struct.pack(">BBQIBB", 0x90, flags, lba, n, 0, 0)
                return cmd(s, c, lun=lun)
            expect_good(tag + " of 256 blocks", pf(0, 256))
            expect_good(tag + " IMMED", pf(0, 256, True))
            expect_good(tag + " of the last block", pf(last - 1, 1))
            expect_good(tag + " of 0 blocks (to the end) from the middle", pf(last // 2, 0))
            expect_sense(tag + " one block past the end", pf(last - 1, 2),
                         SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE)
            expect_sense(tag + " at the capacity, 0 blocks", pf(last, 0),
                         SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE)


def resident_bytes(path):
    """Bytes of @path in the page cache (util-linux fincore)."""
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "-o", "RES", path],
                         capture_output=True, text=True, timeout=30)
    check(out.returncode == 0, "fincore %s: %s" % (path, out.stderr.strip()))
    return int(out.stdout.split()[0]) if out.returncode == 0 else 0


def prefetch_fills_cache(s, path):
    """On buffered fileio PRE-FETCH really reads the blocks in: the page
    cache holds the range afterwards (it was dropped before)."""
    lba, n = 40960, 2048  # 1 MiB at 20 MiB
    write(s, LUN_FILE, lba, pattern(5, n * BLOCK))
    status, _, sn = cmd(s, struct.pack(">BBIBHB", 0x35, 0, 0, 0, 0, 0), lun=LUN_FILE)
    check(status == ic.STATUS_GOOD, "SYNCHRONIZE CACHE: 0x%02x %s" % (status, sn))
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    before = resident_bytes(path)
    if before >= n * BLOCK:
        # tmpfs, say: its pages are the data and cannot be dropped.
        print("note: %s keeps %d byte(s) in memory after POSIX_FADV_DONTNEED: PRE-FETCH's "
              "effect on the page cache cannot be measured here" % (path, before), flush=True)
        return
    expect_good("PRE-FETCH(16) of 1 MiB on buffered fileio",
                cmd(s, struct.pack(">BBQIBB", 0x90, 0, lba, n, 0, 0), lun=LUN_FILE))
    after = before
    for _ in range(40):  # the advice starts reads; they complete soon after
        after = resident_bytes(path)
        if after - before >= n * BLOCK:
            break
        time.sleep(0.05)
    if check(after - before >= n * BLOCK,
             "PRE-FETCH left %d byte(s) of %s in the page cache (%d before), expected at "
             "least %d more" % (after, path, before, n * BLOCK)):
        print("ok  : PRE-FETCH brought %d KiB into the page cache (%d KiB before)"
              % (after // 1024, before // 1024), flush=True)


# ---- reservations (SBC-4 table 13) ----

def pr_out(s, sa, prtype, key, sa_key, lun=LUN_FILE):
    cdb = struct.pack(">BBBxxIx", 0x5F, sa, prtype & 0x0F, 24)
    status, _, sn = cmd(s, cdb, struct.pack(">QQ8x", key, sa_key), lun=lun)
    check(status == ic.STATUS_GOOD, "PERSISTENT RESERVE OUT 0x%02x: 0x%02x %s" % (sa, status, sn))


def reservations(t):
    """Under a persistent reservation another nexus holds, the new rows
    conflict as their flags say: ORWRITE and WRITE ATOMIC write (conflict
    under every type), PRE-FETCH and READ DEFECT DATA read (allowed under
    Write Exclusive, conflict under Exclusive Access)."""
    holder, other = t.login(KEYS, False, False), t.login(KEYS, False, False)
    for sess in (holder, other):
        ready(sess, LUN_FILE)
    key = 0xC0DE
    g = ATOMIC_GRAN
    rows = [
        ("ORWRITE(16)", lambda: cmd(other, orwrite_cdb(64, 1), bytes(BLOCK)), True),
        ("WRITE ATOMIC(16)", lambda: cmd(other, write_atomic_cdb(64, g), bytes(g * BLOCK)),
         True),
        ("PRE-FETCH(10)", lambda: cmd(other, struct.pack(">BBIBHB", 0x34, 0, 64, 0, 8, 0)),
         False),
        ("PRE-FETCH(16)", lambda: cmd(other, struct.pack(">BBQIBB", 0x90, 0, 64, 8, 0, 0)),
         False),
        ("READ DEFECT DATA(10)", lambda: read_defect(other, False, True, True, 0, 8), False),
        ("READ DEFECT DATA(12)", lambda: read_defect(other, True, True, True, 0, 8), False),
    ]
    pr_out(holder, 0x00, 0, 0, key)  # REGISTER
    for prtype, tname in ((1, "Write Exclusive"), (3, "Exclusive Access")):
        pr_out(holder, 0x01, prtype, key, 0)  # RESERVE
        for name, send, writes in rows:
            status = send()[0]
            want = RESERVATION_CONFLICT if writes or prtype == 3 else ic.STATUS_GOOD
            if check(status == want, "%s from another nexus under %s: status 0x%02x, expected "
                     "0x%02x" % (name, tname, status, want)):
                print("ok  : %s from another nexus under %s: %s" % (
                    name, tname, "RESERVATION CONFLICT" if want else "GOOD"), flush=True)
        pr_out(holder, 0x02, prtype, key, 0)  # RELEASE
    pr_out(holder, 0x03, 0, key, 0)  # CLEAR
    expect_good("ORWRITE once the reservation is gone",
                cmd(other, orwrite_cdb(64, 1), bytes(BLOCK)))
    holder.logout()
    other.logout()


# ---- READ DEFECT DATA ----

def read_defect(s, twelve, plist, glist, fmt, alloc, index=0):
    flags = (0x10 if plist else 0) | (0x08 if glist else 0) | fmt
    if twelve:
        c = struct.pack(">BBIIBB", 0xB7, flags, index, alloc, 0, 0)
    else:
        c = struct.pack(">BBBIHB", 0x37, 0, flags, 0, alloc, 0)
    return cmd(s, c, read_len=alloc)


def defect_data(s):
    for twelve in (False, True):
        hlen = 8 if twelve else 4
        tag = "READ DEFECT DATA(%d)" % (12 if twelve else 10)
        for fmt in range(8):
            for plist in (False, True):
                for glist in (False, True):
                    status, data, sn = read_defect(s, twelve, plist, glist, fmt, 64, index=7)
                    served = fmt <= 5
                    want = bytearray(hlen)
                    want[1] = (0x10 if plist else 0) | (0x08 if glist else 0) | (fmt if served
                                                                                  else 0)
                    what = "%s format %d PLIST %d GLIST %d" % (tag, fmt, plist, glist)
                    if served:
                        check(status == ic.STATUS_GOOD,
                              "%s: status 0x%02x %s" % (what, status, sn))
                    else:
                        check(status == ic.STATUS_CHECK_CONDITION and sn and
                              sn[:3] == (SK_RECOVERED_ERROR,) + DEFECT_LIST_NOT_FOUND,
                              "%s: status 0x%02x sense %s, expected RECOVERED ERROR / DEFECT "
                              "LIST NOT FOUND" % (what, status, sn))
                    check(data[:hlen] == bytes(want),
                          "%s: header %s, expected %s" % (what, data[:hlen].hex(), want.hex()))
        print("ok  : %s: empty lists in formats 0-5 with PLISTV/GLISTV, 6 and 7 recovered "
              "error with the short block header" % tag, flush=True)
        # The allocation length cuts the header; 0 is not an error.
        status, data, sn = read_defect(s, twelve, True, True, 0, 2)
        check(status == ic.STATUS_GOOD and data == bytes([0, 0x18]),
              "%s with ALLOCATION LENGTH 2: status 0x%02x data %s" % (tag, status, data.hex()))
        status, data, sn = read_defect(s, twelve, True, True, 0, 0)
        check(status == ic.STATUS_GOOD, "%s with ALLOCATION LENGTH 0: status 0x%02x %s"
              % (tag, status, sn))


# ---- VPD 0x86 ----

def extended_inquiry(s):
    pages = vpd(s, 0x00)
    listed = list(pages[4:4 + pages[3]])
    check(0x86 in listed and listed == sorted(listed),
          "VPD 0x00 lists %s: 0x86 missing or not ascending" % [hex(p) for p in listed])
    for lun, name, cache in ((LUN_FILE, "fileio", 0x01), (LUN_BLOCK, "blockio", 0x01),
                             (LUN_NULL, "nullio", 0x00), (LUN_NV, "fileio nv_cache", 0x02)):
        d = vpd(s, 0x86, lun)
        ok = check(struct.unpack(">H", d[2:4])[0] == 0x3C,
                   "%s: VPD 0x86 page length %d" % (name, struct.unpack(">H", d[2:4])[0]))
        ok &= check(d[4] == 0, "%s: VPD 0x86 byte 4 (SPT, checks) 0x%02x" % (name, d[4]))
        ok &= check(d[5] == 0x07, "%s: VPD 0x86 byte 5 0x%02x, expected HEADSUP ORDSUP "
                    "SIMPSUP" % (name, d[5]))
        ok &= check(d[6] == cache, "%s: VPD 0x86 byte 6 (V_SUP/NV_SUP) 0x%02x, expected 0x%02x"
                    % (name, d[6], cache))
        ok &= check(d[7] == 0, "%s: VPD 0x86 byte 7 (LUICLR, P_I_I_SUP) 0x%02x" % (name, d[7]))
        ok &= check(d[13] == 96, "%s: MAXIMUM SUPPORTED SENSE DATA LENGTH %d" % (name, d[13]))
        if ok:
            print("ok  : %s: VPD 0x86 HEADSUP ORDSUP SIMPSUP, cache bits 0x%02x, sense 96"
                  % (name, cache), flush=True)
    for lun, name in ((LUN_FILE, "fileio"), (LUN_BLOCK, "blockio"), (LUN_NULL, "nullio")):
        status, std, _ = cmd(s, bytes([0x12, 0, 0, 0, 96, 0]), read_len=96, lun=lun)
        check(status == ic.STATUS_GOOD and std[5] & 0x01 == 0,
              "%s: standard INQUIRY PROTECT is set" % name)
        # 3PC: the copy manager answers through every disk LUN (VPD 0x8F).
        if check(status == ic.STATUS_GOOD and std[5] & 0x08,
                 "%s: standard INQUIRY 3PC is clear (byte 5 0x%02x)" % (name, std[5])):
            print("ok  : %s: standard INQUIRY 3PC set, PROTECT clear" % name, flush=True)


# ---- protection information refused everywhere ----

def protect_matrix(s):
    def rw10(op):
        return lambda f, n: struct.pack(">BBIBHB", op, f, 400, 0, n, 0)

    def rw12(op):
        return lambda f, n: struct.pack(">BBIIBB", op, f, 400, n, 0, 0)

    def rw16(op):
        return lambda f, n: struct.pack(">BBQIBB", op, f, 400, n, 0, 0)
    # name, CDB builder(flags byte, blocks), Data-Out blocks (0: none)
    rows = [
        ("READ(10)", rw10(0x28), 0), ("READ(12)", rw12(0xA8), 0), ("READ(16)", rw16(0x88), 0),
        ("WRITE(10)", rw10(0x2A), 1), ("WRITE(12)", rw12(0xAA), 1),
        ("WRITE(16)", rw16(0x8A), 1),
        ("VERIFY(10)", rw10(0x2F), 0), ("VERIFY(12)", rw12(0xAF), 0),
        ("VERIFY(16)", rw16(0x8F), 0),
        ("WRITE AND VERIFY(10)", rw10(0x2E), 1), ("WRITE AND VERIFY(12)", rw12(0xAE), 1),
        ("WRITE AND VERIFY(16)", rw16(0x8E), 1),
        ("WRITE SAME(10)", rw10(0x41), 1), ("WRITE SAME(16)", rw16(0x93), 1),
        ("COMPARE AND WRITE", lambda f, n: struct.pack(">BBQ3xBBB", 0x89, f, 400, n, 0, 0), 2),
        ("ORWRITE(16)", lambda f, n: orwrite_cdb(400, n, f), 1),
        ("WRITE ATOMIC(16)", lambda f, n: write_atomic_cdb(400, n, f), 1),
    ]
    before = pattern(99, BLOCK)
    write(s, 0, 400, before)
    refused = 0
    for name, build, dout in rows:
        for protect in range(1, 8):
            data = bytes([0xEE]) * (dout * BLOCK)
            status, _, sn = cmd(s, build(protect << 5, 1), data,
                                read_len=BLOCK if name.startswith("READ") else 0)
            ok = check(status == ic.STATUS_CHECK_CONDITION and sn and
                       sn[:3] == (SK_ILLEGAL_REQUEST,) + INVALID_FIELD_IN_CDB and
                       sn[4] == (1, 7),
                       "%s with protect %d: status 0x%02x sense %s, expected 5/24/00 field "
                       "pointer byte 1 bit 7" % (name, protect, status, sn))
            refused += ok
    check(read(s, 0, 400, 1) == before, "a command with a protect field wrote")
    if refused == 7 * len(rows):
        print("ok  : %d commands x protect 1..7: INVALID FIELD IN CDB, field pointer byte 1 "
              "bit 7, nothing written" % len(rows), flush=True)


def main():
    if len(sys.argv) != 6:
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    iterations = int(sys.argv[4])
    s = t.login(KEYS, False, False)
    for lun in (LUN_BLOCK, LUN_NULL, LUN_NV):
        ready(s, lun)
    orwrite_semantics(s, LUN_FILE, "fileio")
    orwrite_semantics(s, LUN_BLOCK, "blockio")
    write_atomic_limits(s)
    prefetch(s)
    prefetch_fills_cache(s, sys.argv[5])
    defect_data(s)
    extended_inquiry(s)
    protect_matrix(s)
    s.logout()
    reservations(t)
    orwrite_race(t, LUN_FILE, "fileio", iterations)
    orwrite_race(t, LUN_BLOCK, "blockio", iterations)
    write_atomic_race(t, LUN_FILE, "fileio", iterations // 4)
    write_atomic_race(t, LUN_BLOCK, "blockio", iterations // 4)
    write_atomic_vs_read(t, LUN_FILE, "fileio", iterations)
    write_atomic_vs_read(t, LUN_BLOCK, "blockio", iterations)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
