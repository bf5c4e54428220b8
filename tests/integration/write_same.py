#!/usr/bin/env python3
"""WRITE SAME (10/16), SBC-4 5.50/5.51: one block written to every block of
a range, in chunks of 1 MiB on the target.

write_same.sh gives this script:
  LUN 0  vdisk_fileio,  IMG_SIZE bytes
  LUN 1  vdisk_blockio, IMG_SIZE bytes (O_DIRECT)
  LUN 2  vdisk_nullio,  IMG_SIZE bytes
  LUN 3  vdisk_fileio, mapped read_only
  LUN 4  vdisk_fileio with write_through, IMG_SIZE bytes
IMG_SIZE is more than MAXIMUM WRITE SAME LENGTH (64 MiB): a range "through
the last block" from LBA 0 must be refused.

On LUNs 0 and 1, ranges that cross chunk boundaries (and do not end on
one) are read back: every block of the range holds the block sent (or
zeros with NDOB), and the blocks on either side keep what they held. On
every LUN each refused CDB field gets ILLEGAL REQUEST with its field
pointer and, where data was there to lose, leaves the medium as it was.
LUN 2 (nullio) stores nothing: its WRITE SAMEs must answer as the others
do, its reads are not checked. LUN 3 refuses WRITE SAME with DATA PROTECT.
LUN 4: an ABORT TASK of a 64 MiB WRITE SAME (write-through, so each chunk
waits for the disk) ends it between chunks: no response for it, and the
chunks after the abort are not written.

usage: write_same.py PORT TARGET_IQN INITIATOR_IQN IMG_SIZE
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import BLOCK, MiB, Target, check, failures, pattern  # noqa: E402

KEYS = [("InitialR2T", "Yes"), ("ImmediateData", "No"),
        ("MaxRecvDataSegmentLength", "262144"), ("FirstBurstLength", "262144"),
        ("MaxBurstLength", "1048576"), ("MaxOutstandingR2T", "1"), ("ErrorRecoveryLevel", "0")]
SK_ILLEGAL_REQUEST, SK_DATA_PROTECT = 0x5, 0x7
INVALID_FIELD_IN_CDB = (0x24, 0x00)
LBA_OUT_OF_RANGE = (0x21, 0x00)
INVALID_FIELD_IN_COMMAND_IU = (0x0E, 0x03)
WRITE_PROTECTED = (0x27, 0x00)
MAX_WS_BLOCKS = min(64 * MiB // BLOCK, 0xFFFF)  # VDISK_MAX_WRITE_SAME_BYTES, < 2^16 blocks
CHUNK_BLOCKS = MiB // BLOCK        # WRITE_SAME_CHUNK_BYTES
# Byte 1 of both CDBs.
WRPROTECT_SHIFT, ANCHOR, UNMAP, PBDATA, LBDATA, NDOB = 5, 0x10, 0x08, 0x04, 0x02, 0x01


def ws10_cdb(lba, nblocks, flags=0):
    return struct.pack(">BBIBHB", 0x41, flags, lba, 0, nblocks, 0)


def ws16_cdb(lba, nblocks, flags=0):
    return struct.pack(">BBQIBB", 0x93, flags, lba, nblocks, 0, 0)


def parse_sense(rsp):
    """(key, asc, ascq, field pointer) of a SCSI Response's fixed-format
    sense; the field pointer is (cdb?, byte, bit or None) or None."""
    slen = struct.unpack(">H", rsp[:2])[0] if len(rsp) >= 2 else 0
    s = rsp[2:2 + slen]
    if len(s) < 18 or s[0] & 0x7F not in (0x70, 0x71):
        return ("unparsed", bytes(s).hex())
    sks = None
    if s[15] & 0x80:
        sks = (bool(s[15] & 0x40), struct.unpack(">H", s[16:18])[0],
               s[15] & 0x07 if s[15] & 0x08 else None)
    return s[2] & 0x0F, s[12], s[13], sks


def run_cmd(s, cdb, data=b"", lun=0, edtl=None):
    """One command, its Data-Out sent as the target solicits it; @edtl the
    Expected Data Transfer Length when it is not len(data). Returns
    (status, sense tuple or None)."""
    edtl = len(data) if edtl is None else edtl
    itt, _ = s.send_scsi(cdb, edtl=edtl, write=edtl > 0, lun=lun)

    def on_r2t(r2t):
        s._send_data_out(itt, r2t.u32(20), data, r2t.u32(40), r2t.u32(44), None, [0])
    status, rsp = s.wait_response(itt, on_r2t=on_r2t)
    return status, (parse_sense(rsp) if status == ic.STATUS_CHECK_CONDITION else None)


def read_lun(s, lun, lba, nblocks):
    """READ(16); returns (status, data)."""
    cdb = struct.pack(">BBQIBB", 0x88, 0, lba, nblocks, 0, 0)
    buf = bytearray(nblocks * BLOCK)
    itt, _ = s.send_scsi(cdb, edtl=len(buf), read=True, lun=lun)
    status, _ = s.wait_response(itt, read_buf=buf)
    return status, bytes(buf)


def read_in(s, lun, cdb, length):
    buf = bytearray(length)
    itt, _ = s.send_scsi(cdb, edtl=length, read=True, lun=lun)
    status, _ = s.wait_response(itt, read_buf=buf)
    return status, bytes(buf)


def write_lun(s, lun, lba, data):
    for off in range(0, len(data), MiB):
        part = data[off:off + MiB]
        cdb = struct.pack(">BBIBHB", 0x2A, 0, lba + off // BLOCK, 0, len(part) // BLOCK, 0)
        status, sn = run_cmd(s, cdb, part, lun=lun)
        check(status == ic.STATUS_GOOD, "LUN %d: WRITE(10) at %d: 0x%02x %s" % (lun, lba, status, sn))


def expect_good(what, result):
    status, sn = result
    if check(status == ic.STATUS_GOOD, "%s: status 0x%02x, sense %s" % (what, status, sn)):
        print("ok  : %s: GOOD" % what, flush=True)


def expect_sense(what, result, key, asc_ascq, field=None):
    """CHECK CONDITION with that sense; with @field (byte, bit) also the
    field pointer into the CDB."""
    status, sn = result
    want = (key,) + asc_ascq + (((True,) + field,) if field else ())
    got = sn if field or not sn else sn[:3]
    if check(status == ic.STATUS_CHECK_CONDITION and got == want,
             "%s: status 0x%02x sense %s, expected CHECK CONDITION %s" % (what, status, sn, want)):
        print("ok  : %s: sense %s" % (what, want), flush=True)


def expect_range(s, lun, name, lba, nblocks, block, before, after_lba, after):
    """Blocks [lba, lba + nblocks) all hold @block; the blocks just before
    (@before, ending at lba) and from @after_lba (@after) are unchanged."""
    lo = lba - len(before) // BLOCK
    hi = after_lba + len(after) // BLOCK
    status, got = read_lun(s, lun, lo, hi - lo)
    if not check(status == ic.STATUS_GOOD, "%s: read back: status 0x%02x" % (name, status)):
        return
    head = len(before)
    body = got[head:head + nblocks * BLOCK]
    bad = [i for i in range(nblocks) if body[i * BLOCK:(i + 1) * BLOCK] != block]
    ok = check(not bad, "%s: %d of %d blocks differ, the first at LBA %d" %
               (name, len(bad), nblocks, lba + bad[0] if bad else 0))
    ok &= check(got[:head] == before, "%s: the blocks before the range changed" % name)
    ok &= check(got[(after_lba - lo) * BLOCK:] == after, "%s: the blocks after it changed" % name)
    if ok:
        print("ok  : %s: %d blocks read back, neighbours intact" % (name, nblocks), flush=True)


def data_checks(s, lun, name, nblocks_lun):
    """Patterns written with WRITE SAME and read back (fileio, blockio)."""
    base = pattern(lun + 1, 8 * MiB)
    write_lun(s, lun, 0, base)
    blk = lambda lba: base[lba * BLOCK:(lba + 1) * BLOCK]  # noqa: E731

    def area(lba, n):
        return base[lba * BLOCK:(lba + n) * BLOCK]

    # WRITE SAME(10) over two and a half chunks plus a few blocks, from
    # the middle of a chunk.
    b1 = pattern(101, BLOCK)
    lba, n = 1000, 2 * CHUNK_BLOCKS + CHUNK_BLOCKS // 2 + 77
    expect_good("%s WRITE SAME(10) of %d blocks" % (name, n), run_cmd(s, ws10_cdb(lba, n), b1, lun))
    expect_range(s, lun, "%s WRITE SAME(10)" % name, lba, n, b1, area(lba - 8, 8), lba + n,
                 area(lba + n, 8))

    # NDOB: zeros, no Data-Out, over three chunks and five blocks.
    lba2, n2 = 8000, 3 * CHUNK_BLOCKS + 5
    expect_good("%s WRITE SAME(16) NDOB of %d blocks" % (name, n2),
                run_cmd(s, ws16_cdb(lba2, n2, NDOB), lun=lun))
    expect_range(s, lun, "%s WRITE SAME(16) NDOB" % name, lba2, n2, bytes(BLOCK),
                 area(lba2 - 8, 8), lba2 + n2, area(lba2 + n2, 8))

    # NUMBER OF BLOCKS 0: through the last block (WSNZ=0). The blocks
    # before are written first so that they are known.
    tail = 2 * CHUNK_BLOCKS + 52
    lba3 = nblocks_lun - tail
    edge = pattern(103, 8 * BLOCK)
    write_lun(s, lun, lba3 - 8, edge)
    b3 = pattern(102, BLOCK)
    expect_good("%s WRITE SAME(16) of 0 blocks = the last %d" % (name, tail),
                run_cmd(s, ws16_cdb(lba3, 0), b3, lun))
    expect_range(s, lun, "%s WRITE SAME(16) to the end" % name, lba3, tail, b3, edge,
                 nblocks_lun, b"")
    b4 = pattern(104, BLOCK)
    expect_good("%s WRITE SAME(10) of 0 blocks = the last 3" % name,
                run_cmd(s, ws10_cdb(nblocks_lun - 3, 0), b4, lun))
    expect_range(s, lun, "%s WRITE SAME(10) to the end" % name, nblocks_lun - 3, 3, b4,
                 b3 * 5, nblocks_lun, b"")

    # Exactly MAXIMUM WRITE SAME LENGTH, ending one block short of the end.
    b5 = pattern(105, BLOCK)
    lba5 = nblocks_lun - 1 - MAX_WS_BLOCKS
    expect_good("%s WRITE SAME(16) of MAXIMUM WRITE SAME LENGTH" % name,
                run_cmd(s, ws16_cdb(lba5, MAX_WS_BLOCKS), b5, lun))
    for at in (lba5, lba5 + MAX_WS_BLOCKS // 2 + 1, lba5 + MAX_WS_BLOCKS - 1):
        status, got = read_lun(s, lun, at, 1)
        check(status == ic.STATUS_GOOD and got == b5, "%s: block %d of the 64 MiB range" % (name, at))
    status, got = read_lun(s, lun, nblocks_lun - 1, 1)
    check(got == b4, "%s: the last block, past the 64 MiB range, changed" % name)

    # What is refused changes nothing.
    refused_unchanged(s, lun, name, 1000 + n + 8, blk)


def refused_unchanged(s, lun, name, lba, blk):
    """The refused WRITE SAMEs of error_checks at @lba wrote nothing."""
    before = b"".join(blk(lba + i) for i in range(4))
    other = pattern(106, BLOCK)
    for flags in (UNMAP, ANCHOR | UNMAP, 1 << WRPROTECT_SHIFT, LBDATA):
        run_cmd(s, ws10_cdb(lba, 4, flags), other, lun)
    run_cmd(s, ws16_cdb(lba, 4), other[:BLOCK // 2], lun)
    run_cmd(s, ws16_cdb(lba, 4), other * 2, lun)
    status, got = read_lun(s, lun, lba, 4)
    if check(status == ic.STATUS_GOOD and got == before,
             "%s: a refused WRITE SAME changed the medium" % name):
        print("ok  : %s: refused WRITE SAMEs left the medium alone" % name, flush=True)


def error_checks(s, lun, name, nblocks_lun):
    """The sense of every refused WRITE SAME (any medium, nullio too)."""
    blk = pattern(107, BLOCK)
    expect_sense("%s WRITE SAME(16) of 0 blocks from LBA 0 (> MAXIMUM WRITE SAME LENGTH)" % name,
                 run_cmd(s, ws16_cdb(0, 0), blk, lun), SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB,
                 (10, None))
    expect_sense("%s WRITE SAME(16) of MAXIMUM WRITE SAME LENGTH + 1" % name,
                 run_cmd(s, ws16_cdb(0, MAX_WS_BLOCKS + 1), blk, lun), SK_ILLEGAL_REQUEST,
                 INVALID_FIELD_IN_CDB, (10, None))
    expect_sense("%s WRITE SAME(10) of 0 blocks, MAXIMUM + 1 from the end" % name,
                 run_cmd(s, ws10_cdb(nblocks_lun - MAX_WS_BLOCKS - 1, 0), blk, lun),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, (7, None))
    for what, cdb in (("WRITE SAME(10) of 2 blocks at the last", ws10_cdb(nblocks_lun - 1, 2)),
                      ("WRITE SAME(16) at LBA 2^63", ws16_cdb(1 << 63, 1)),
                      ("WRITE SAME(16) of 0 blocks at the capacity", ws16_cdb(nblocks_lun, 0)),
                      ("WRITE SAME(10) at LBA 2^32 - 1", ws10_cdb(0xFFFFFFFF, 1))):
        expect_sense("%s %s" % (name, what), run_cmd(s, cdb, blk, lun), SK_ILLEGAL_REQUEST,
                     LBA_OUT_OF_RANGE)
    for wp in range(1, 8):
        for size, cdb in ((10, ws10_cdb(0, 1, wp << WRPROTECT_SHIFT)),
                          (16, ws16_cdb(0, 1, wp << WRPROTECT_SHIFT))):
            expect_sense("%s WRITE SAME(%d) WRPROTECT %d" % (name, size, wp),
                         run_cmd(s, cdb, blk, lun), SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB,
                         (1, 7))
    for what, flags, bit in (("ANCHOR", ANCHOR, 4), ("ANCHOR and UNMAP", ANCHOR | UNMAP, 4),
                             ("UNMAP on a fully provisioned LUN", UNMAP, 3),
                             ("PBDATA", PBDATA, 2), ("LBDATA", LBDATA, 1)):
        expect_sense("%s WRITE SAME(10) %s" % (name, what), run_cmd(s, ws10_cdb(0, 1, flags), blk, lun),
                     SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, (1, bit))
    expect_sense("%s WRITE SAME(16) NDOB and UNMAP" % name,
                 run_cmd(s, ws16_cdb(0, 1, NDOB | UNMAP), lun=lun), SK_ILLEGAL_REQUEST,
                 INVALID_FIELD_IN_CDB, (1, 3))
    for what, data in (("half a block", blk[:BLOCK // 2]), ("two blocks", blk * 2)):
        expect_sense("%s WRITE SAME(16) with %s of Data-Out" % (name, what),
                     run_cmd(s, ws16_cdb(0, 1), data, lun), SK_ILLEGAL_REQUEST,
                     INVALID_FIELD_IN_COMMAND_IU)
    expect_good("%s WRITE SAME(10) of one block" % name, run_cmd(s, ws10_cdb(5, 1), blk, lun))
    expect_good("%s WRITE SAME(16) NDOB of 0 blocks from the last 2000" % name,
                run_cmd(s, ws16_cdb(nblocks_lun - 2000, 0, NDOB), lun=lun))


def limits_checks(s):
    """Block Limits: WSNZ 0, MAXIMUM WRITE SAME LENGTH; REPORT SUPPORTED
    OPERATION CODES: both rows, with the CDB bits they use."""
    status, bl = read_in(s, 0, bytes([0x12, 0x01, 0xB0, 0, 0x40, 0]), 0x40)
    if check(status == ic.STATUS_GOOD and bl[1] == 0xB0, "VPD 0xb0: status 0x%02x" % status):
        wsnz = bl[4] & 1
        mwsl = struct.unpack(">Q", bl[36:44])[0]
        if check(wsnz == 0 and mwsl == MAX_WS_BLOCKS,
                 "VPD 0xb0: WSNZ %d, MAXIMUM WRITE SAME LENGTH %d" % (wsnz, mwsl)):
            print("ok  : VPD 0xb0: WSNZ 0, MAXIMUM WRITE SAME LENGTH %d" % mwsl, flush=True)
    for op, size, byte1 in ((0x41, 10, 0xF8), (0x93, 16, 0xF9)):
        cdb = struct.pack(">BBBBHIBB", 0xA3, 0x0C, 0x01, op, 0, 64, 0, 0)
        status, d = read_in(s, 0, cdb, 64)
        ok = status == ic.STATUS_GOOD and d[1] & 0x07 == 3 and \
            struct.unpack(">H", d[2:4])[0] == size and d[4] == op and d[5] == byte1
        if check(ok, "REPORT SUPPORTED OPERATION CODES 0x%02x: status 0x%02x %s" %
                 (op, status, d[:8].hex())):
            print("ok  : REPORT SUPPORTED OPERATION CODES: 0x%02x supported, %d bytes, "
                  "byte 1 usage 0x%02x" % (op, size, byte1), flush=True)


def abort_long_write_same(s, lun, nblocks_lun):
    """ABORT TASK of a 64 MiB write-through WRITE SAME ends it between
    chunks: no response for it, and the chunks after the abort are never
    written (the range's first block of each chunk tells which were).
    Should the whole command end before the abort reaches it, its GOOD
    response must have come instead."""
    old, new = pattern(108, BLOCK), pattern(109, BLOCK)
    t0 = time.monotonic()
    expect_good("write-through WRITE SAME(16) of 64 MiB",
                run_cmd(s, ws16_cdb(0, MAX_WS_BLOCKS), old, lun))
    whole = time.monotonic() - t0
    print("info: a 64 MiB write-through WRITE SAME took %.3f s" % whole, flush=True)
    # Immediate data is off: the Data-Out goes after the R2T, then the
    # abort once the first chunks are under way.
    itt, sn = s.send_scsi(ws16_cdb(0, MAX_WS_BLOCKS), edtl=BLOCK, write=True, lun=lun)
    pdu = s.recv_pdu()
    if not check(pdu.opcode == ic.OP_R2T and pdu.itt == itt, "no R2T for the WRITE SAME: %r" % pdu):
        return
    s._send_data_out(itt, pdu.u32(20), new, 0, BLOCK, None, [0])
    time.sleep(whole / 8)
    t1 = time.monotonic()
    tmf = s.send_tmf(ic.TMF_ABORT_TASK, lun=lun, ref_itt=itt, ref_cmd_sn=sn)
    others = []
    code = s.wait_tmf(tmf, others=others)
    took = time.monotonic() - t1
    late = [p for p in others if p.opcode == ic.OP_SCSI_RSP and p.itt == itt]
    chunks = MAX_WS_BLOCKS // CHUNK_BLOCKS
    written = 0
    for c in range(chunks):
        status, got = read_lun(s, lun, c * CHUNK_BLOCKS, 1)
        check(status == ic.STATUS_GOOD and got in (old, new), "chunk %d holds neither block" % c)
        written += got == new
    if late:
        check(late[0].bhs[3] == ic.STATUS_GOOD and written == chunks,
              "the WRITE SAME ended before its abort, status 0x%02x, %d of %d chunks written" %
              (late[0].bhs[3], written, chunks))
        print("info: the WRITE SAME ended before its abort (%.3f s in all)" % whole, flush=True)
        return
    if check(code == ic.TMF_RSP_COMPLETE and written < chunks,
             "ABORT TASK: response %d, %d of %d chunks written" % (code, written, chunks)):
        print("ok  : ABORT TASK of the WRITE SAME answered in %.3f s, after %d of %d chunks" %
              (took, written, chunks), flush=True)


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    nblocks = int(sys.argv[4]) // BLOCK
    assert nblocks > MAX_WS_BLOCKS + 8 * CHUNK_BLOCKS
    s = t.login(KEYS, False, False)
    for lun in (1, 2, 3, 4):
        for _ in range(3):
            if run_cmd(s, b"\0" * 6, lun=lun)[0] == ic.STATUS_GOOD:
                break

    limits_checks(s)
    data_checks(s, 0, "fileio", nblocks)
    data_checks(s, 1, "blockio", nblocks)
    for lun, name in ((0, "fileio"), (1, "blockio"), (2, "nullio")):
        error_checks(s, lun, name, nblocks)
    expect_good("nullio WRITE SAME(16) of MAXIMUM WRITE SAME LENGTH",
                run_cmd(s, ws16_cdb(1, MAX_WS_BLOCKS), pattern(9, BLOCK), 2))
    expect_sense("read-only WRITE SAME(10)", run_cmd(s, ws10_cdb(0, 8), pattern(1, BLOCK), 3),
                 SK_DATA_PROTECT, WRITE_PROTECTED)
    expect_sense("read-only WRITE SAME(16) NDOB", run_cmd(s, ws16_cdb(0, 8, NDOB), lun=3),
                 SK_DATA_PROTECT, WRITE_PROTECTED)
    abort_long_write_same(s, 4, nblocks)
    s.logout()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("write_same: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
