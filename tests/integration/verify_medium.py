#!/usr/bin/env python3
"""VERIFY reads the medium (SBC-4 5.31), in chunks, whatever BYTCHK says.

verify_medium.sh gives this script LUNs backed by files it can change
behind the target's back:
  LUN 0  vdisk_fileio,  IMG_SIZE bytes (page cache)
  LUN 1  vdisk_blockio, IMG_SIZE bytes (O_DIRECT)
  LUN 2  vdisk_blockio on a sparse file of 2^32 blocks
  LUN 3  vdisk_nullio of 2^32 blocks
On LUNs 0 and 1 every BYTCHK value is checked over ranges of several
chunks (VERIFY_CHUNK_BYTES is 1 MiB), a miscompare in a later chunk must
name its byte, and once the file is cut short, BYTCHK 0 must report
MEDIUM ERROR / UNRECOVERED READ ERROR with the first block that is no
longer there in the INFORMATION field. Before this test existed, BYTCHK 0
returned GOOD without reading anything. LUN 2: a VERIFY of 2 TiB is read
chunk by chunk, so an ABORT TASK ends it at once. LUN 3: nullio has no
medium; a VERIFY of 2 TiB succeeds at once.

usage: verify_medium.py PORT TARGET_IQN INITIATOR_IQN IMG0 IMG1 IMG_SIZE
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
SK_MEDIUM_ERROR, SK_MISCOMPARE = 0x3, 0xE
UNRECOVERED_READ_ERROR = (0x11, 0x00)
MISCOMPARE_DURING_VERIFY = (0x1D, 0x00)
BYTCHK_NONE, BYTCHK_ALL, BYTCHK_ONE_BLOCK = 0, 1, 3


def verify16_cdb(lba, nblocks, bytchk):
    return struct.pack(">BBQIBB", 0x8F, bytchk << 1, lba, nblocks, 0, 0)


def verify10_cdb(lba, nblocks, bytchk):
    return struct.pack(">BBIBHB", 0x2F, bytchk << 1, lba, 0, nblocks, 0)


def sense(rsp):
    """(key, asc, ascq, information or None) of a SCSI Response's sense."""
    slen = struct.unpack(">H", rsp[:2])[0] if len(rsp) >= 2 else 0
    s = rsp[2:2 + slen]
    if len(s) >= 14 and s[0] & 0x7F in (0x70, 0x71):
        info = struct.unpack(">I", s[3:7])[0] if s[0] & 0x80 else None
        return s[2] & 0x0F, s[12], s[13], info
    if len(s) >= 8 and s[0] & 0x7F in (0x72, 0x73):
        info = None
        off = 8
        while off + 2 <= len(s):
            if s[off] == 0x00 and off + 12 <= len(s) and s[off + 2] & 0x80:
                info = struct.unpack(">Q", s[off + 4:off + 12])[0]
            off += 2 + s[off + 1]
        return s[1] & 0x0F, s[2], s[3], info
    return None


def run_cmd(s, cdb, data=b"", lun=0):
    """One command, its Data-Out (if any) sent as the target solicits it;
    returns (status, sense tuple or None)."""
    itt = s.next_itt()
    flags = ic.FINAL | (0x20 if data else 0) | ic.ATTR_SIMPLE
    b = ic.bhs(ic.OP_SCSI_CMD, flags, itt, lun=lun, word20=len(data), word24=s.cmd_sn,
               word28=s.exp_stat_sn, rest=cdb + b"\0" * (16 - len(cdb)))
    s.cmd_sn = (s.cmd_sn + 1) & 0xFFFFFFFF
    s.send_pdu(b)

    def on_r2t(r2t):
        s._send_data_out(itt, r2t.u32(20), data, r2t.u32(40), r2t.u32(44), None, [0])
    status, rsp = s.wait_response(itt, on_r2t=on_r2t)
    return status, (sense(rsp) if status == ic.STATUS_CHECK_CONDITION else None)


def expect_good(what, result):
    status, sn = result
    if check(status == ic.STATUS_GOOD, "%s: status 0x%02x, sense %s" % (what, status, sn)):
        print("ok  : %s: GOOD" % what, flush=True)


def expect_sense(what, result, key, asc_ascq, info):
    status, sn = result
    want = (key, asc_ascq[0], asc_ascq[1], info)
    if check(status == ic.STATUS_CHECK_CONDITION and sn == want,
             "%s: status 0x%02x sense %s, expected CHECK CONDITION %s" % (what, status, sn, want)):
        print("ok  : %s: sense %x/%02x/%02x INFORMATION %d" % ((what,) + want), flush=True)


def ready(s, lun):
    for _ in range(3):
        if run_cmd(s, b"\0" * 6, lun=lun)[0] == ic.STATUS_GOOD:
            return
    check(False, "LUN %d never became ready" % lun)


def medium_checks(s, lun, name, img, size):
    nblocks = size // BLOCK
    data = pattern(lun + 1, size)
    for off in range(0, size, MiB):
        status, _ = write10_lun(s, lun, off // BLOCK, data[off:off + MiB])
        check(status == ic.STATUS_GOOD, "%s: write at %d failed" % (name, off))

    expect_good("%s VERIFY(10) BYTCHK 0, %d blocks" % (name, nblocks),
                run_cmd(s, verify10_cdb(0, nblocks, BYTCHK_NONE), lun=lun))
    # BYTCHK 1 over three chunks and a half, starting mid-chunk.
    lba, n = 1000, (3 * MiB + MiB // 2) // BLOCK
    part = data[lba * BLOCK:(lba + n) * BLOCK]
    expect_good("%s VERIFY(16) BYTCHK 1, %d blocks" % (name, n),
                run_cmd(s, verify16_cdb(lba, n, BYTCHK_ALL), part, lun=lun))
    at = 2 * MiB + 12345  # in the third chunk of the range
    bad = bytearray(part)
    bad[at] ^= 0x55
    expect_sense("%s VERIFY(16) BYTCHK 1, one byte off in chunk 3" % name,
                 run_cmd(s, verify16_cdb(lba, n, BYTCHK_ALL), bytes(bad), lun=lun),
                 SK_MISCOMPARE, MISCOMPARE_DURING_VERIFY, at)

    # BYTCHK 3: one block against every block of a range of 2.5 chunks.
    block = pattern(99, BLOCK)
    lba, n = 4 * MiB // BLOCK, (2 * MiB + MiB // 2) // BLOCK
    check(write10_lun(s, lun, lba, block * n)[0] == ic.STATUS_GOOD, "%s: write failed" % name)
    expect_good("%s VERIFY(16) BYTCHK 3, %d blocks" % (name, n),
                run_cmd(s, verify16_cdb(lba, n, BYTCHK_ONE_BLOCK), block, lun=lun))
    odd = bytearray(block)
    odd[7] ^= 1
    check(write10_lun(s, lun, lba + n - 2, bytes(odd))[0] == ic.STATUS_GOOD,
          "%s: write failed" % name)
    expect_sense("%s VERIFY(16) BYTCHK 3, next to last block differs" % name,
                 run_cmd(s, verify16_cdb(lba, n, BYTCHK_ONE_BLOCK), block, lun=lun),
                 SK_MISCOMPARE, MISCOMPARE_DURING_VERIFY, (n - 2) * BLOCK + 7)

    # The store shrinks behind the target's back, to a length that is no
    # whole chunk: blocks from there on cannot be read any more.
    cut = 5 * MiB + 3 * BLOCK
    os.truncate(img, cut)
    expect_good("%s VERIFY(10) BYTCHK 0 of what is left" % name,
                run_cmd(s, verify10_cdb(0, cut // BLOCK, BYTCHK_NONE), lun=lun))
    expect_sense("%s VERIFY(10) BYTCHK 0 past the cut" % name,
                 run_cmd(s, verify10_cdb(0, nblocks, BYTCHK_NONE), lun=lun),
                 SK_MEDIUM_ERROR, UNRECOVERED_READ_ERROR, cut // BLOCK)
    expect_sense("%s VERIFY(16) BYTCHK 0 from the cut's chunk" % name,
                 run_cmd(s, verify16_cdb(cut // BLOCK - 5, 100, BYTCHK_NONE), lun=lun),
                 SK_MEDIUM_ERROR, UNRECOVERED_READ_ERROR, cut // BLOCK)
    expect_sense("%s VERIFY(16) BYTCHK 3 past the cut" % name,
                 run_cmd(s, verify16_cdb(lba, n, BYTCHK_ONE_BLOCK), block, lun=lun),
                 SK_MEDIUM_ERROR, UNRECOVERED_READ_ERROR, cut // BLOCK)
    ready(s, lun)


def write10_lun(s, lun, lba, data):
    cdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, len(data) // BLOCK, 0)
    return run_cmd(s, cdb, data, lun=lun)


def abort_long_verify(s):
    """A VERIFY of 2^32 - 1 blocks (2 TiB of holes, O_DIRECT) takes
    minutes; ABORT TASK must end it within a second."""
    cdb = verify16_cdb(0, 0xFFFFFFFF, BYTCHK_NONE)
    itt, sn = s.send_scsi(cdb, lun=2)
    time.sleep(0.3)  # the read is under way
    t0 = time.monotonic()
    tmf = s.send_tmf(ic.TMF_ABORT_TASK, lun=2, ref_itt=itt, ref_cmd_sn=sn)
    others = []
    s.sock.settimeout(30)
    code = s.wait_tmf(tmf, others=others)
    took = time.monotonic() - t0
    late = [p for p in others if p.opcode == ic.OP_SCSI_RSP and p.itt == itt]
    check(code == ic.TMF_RSP_COMPLETE, "ABORT TASK of the long VERIFY: response %d" % code)
    check(not late, "the aborted VERIFY got a response")
    if check(took < 1.0, "ABORT TASK of a 2 TiB VERIFY took %.2f s" % took):
        print("ok  : ABORT TASK of a 2 TiB VERIFY answered in %.3f s" % took, flush=True)
    s.sock.settimeout(20)


def main():
    if len(sys.argv) != 7:
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    imgs, size = sys.argv[4:6], int(sys.argv[6])
    s = t.login(KEYS, False, False)
    for lun in (1, 2, 3):
        ready(s, lun)

    medium_checks(s, 0, "fileio", imgs[0], size)
    medium_checks(s, 1, "blockio", imgs[1], size)
    abort_long_verify(s)
    t0 = time.monotonic()
    expect_good("nullio VERIFY(16) BYTCHK 0 of 2^32 - 1 blocks",
                run_cmd(s, verify16_cdb(0, 0xFFFFFFFF, BYTCHK_NONE), lun=3))
    took = time.monotonic() - t0
    check(took < 1.0, "nullio VERIFY of 2 TiB took %.2f s" % took)
    s.logout()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("verify_medium: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
