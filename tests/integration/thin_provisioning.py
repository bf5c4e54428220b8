#!/usr/bin/env python3
"""Thin provisioning (SBC-4 4.7, issue 9) on the wire, checked against the
backing files themselves.

thin_provisioning.sh gives this script:
  LUN 0  vdisk_fileio, thin_provisioned 1, IMG0 (sparse, IMG_SIZE bytes)
  LUN 1  vdisk_fileio, thin_provisioned 1, SMALL on a 1 MiB tmpfs (or "-")
  LUN 2  vdisk_fileio, fully provisioned
  LUN 3  vdisk_nullio, thin_provisioned 1
  LUN 4  vdisk_blockio, thin_provisioned 1, IMG4 (a file, O_DIRECT)
  LUN 5  vdisk_blockio, thin_provisioned 1, a loop device over LOOP_FILE
  LUN 6  vdisk_fileio, thin_provisioned 1, mapped read_only

What must hold:
- LUN 0 and 4 report LBPME and LBPRZ (READ CAPACITY(16)), VPD 0xb2 says
  LBPU, LBPWS, LBPWS10, LBPRZ, thin; Block Limits has the unmap limits;
  LUN 2 reports none of it and refuses UNMAP and GET LBA STATUS as
  commands it does not have (also absent from REPORT SUPPORTED OPERATION
  CODES), and WRITE SAME's UNMAP bit.
- UNMAP frees space in the backing file (st_blocks, what du shows), the
  unmapped blocks read as zeros, the blocks around them keep their data,
  and GET LBA STATUS then reports exactly the unmapped range deallocated.
- Every malformed UNMAP parameter list gets its exact sense and changes
  nothing: the blocks of its valid descriptors still hold their data.
- WRITE SAME(10/16) with UNMAP deallocates (also sent without its
  Data-Out, which it does not need); ANCHOR is refused. On the read-only
  LUN, UNMAP and WRITE SAME with UNMAP get WRITE PROTECTED.
- LOG SENSE: the supported pages, the provisioning page's counts against
  the file's own st_blocks and statvfs, and every refused field.
- A write the full tmpfs cannot take gets DATA PROTECT, SPACE ALLOCATION
  FAILED WRITE PROTECT (27/07); after an UNMAP frees room it succeeds.

- On the loop device, UNMAP deallocates in the loop's own file (the
  kernel's discard), the blocks read as zeros, and GET LBA STATUS calls
  every block mapped (a block device shows no holes).

usage: thin_provisioning.py PORT TARGET_IQN INITIATOR_IQN IMG_SIZE IMG0 SMALL IMG4
                            LOOP_FILE LOOP_SIZE
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import BLOCK, MiB, Target, check, failures, pattern  # noqa: E402
from write_same import (KEYS, read_in, read_lun, run_cmd, write_lun, ws10_cdb,  # noqa: E402
                        ws16_cdb)

SK_ILLEGAL_REQUEST, SK_DATA_PROTECT = 0x5, 0x7
PARAMETER_LIST_LENGTH_ERROR = (0x1A, 0x00)
INVALID_OPCODE = (0x20, 0x00)
LBA_OUT_OF_RANGE = (0x21, 0x00)
INVALID_FIELD_IN_CDB = (0x24, 0x00)
INVALID_FIELD_IN_PARAM_LIST = (0x26, 0x00)
SPACE_ALLOCATION_FAILED = (0x27, 0x07)
WRITE_PROTECTED = (0x27, 0x00)
# What vdisk reports in Block Limits (vdisk_internal.h), for 512-byte blocks.
MAX_UNMAP_BLOCKS = 1 << 20
MAX_UNMAP_DESCRIPTORS = 256
THRESHOLD_EXPONENT = 11  # 1 MiB of 512-byte blocks
MAPPED, DEALLOCATED = 0, 1


def unmap_list(ranges, data_len=None, bd_len=None):
    """An UNMAP parameter list; the two header lengths can be forced."""
    body = b"".join(struct.pack(">QII", lba, n, 0) for lba, n in ranges)
    dl = 6 + len(body) if data_len is None else data_len
    bl = len(body) if bd_len is None else bd_len
    return struct.pack(">HHI", dl, bl, 0) + body


def unmap_cdb(param_len, anchor=False):
    return struct.pack(">BBIBHB", 0x42, 1 if anchor else 0, 0, 0, param_len, 0)


def unmap(s, lun, data, param_len=None, anchor=False):
    return run_cmd(s, unmap_cdb(len(data) if param_len is None else param_len, anchor),
                   data, lun=lun)


def get_lba_status(s, lun, lba, alloc_len=1024):
    """(status, sense or None, [(lba, nblocks, state)], raw data)."""
    cdb = struct.pack(">BBQIBB", 0x9E, 0x12, lba, alloc_len, 0, 0)
    buf = bytearray(alloc_len)
    itt, _ = s.send_scsi(cdb, edtl=alloc_len, read=True, lun=lun)
    status, rsp = s.wait_response(itt, read_buf=buf)
    if status != ic.STATUS_GOOD:
        from write_same import parse_sense
        return status, parse_sense(rsp), [], b""
    n = struct.unpack(">I", buf[:4])[0] if alloc_len >= 4 else 0
    descs = []
    for off in range(8, min(4 + n, alloc_len) - 15, 16):
        lba_, nb, st = struct.unpack(">QIB", buf[off:off + 13])
        descs.append((lba_, nb, st & 0x0F))
    return status, None, descs, bytes(buf)


def expect(what, result, key=None, asc=None, sks=None):
    """GOOD when @key is None; else CHECK CONDITION with that key and
    ASC/ASCQ, and with @sks the field pointer (cdb?, byte, bit)."""
    status, sn = result[0], result[1]
    if key is None:
        ok = check(status == ic.STATUS_GOOD, "%s: status 0x%02x sense %s" % (what, status, sn))
        if ok:
            print("ok  : %s: GOOD" % what, flush=True)
        return ok
    want = (key,) + asc + ((sks,) if sks else ())
    got = sn if (sks or not sn) else sn[:3]
    ok = check(status == ic.STATUS_CHECK_CONDITION and got == want,
               "%s: status 0x%02x sense %s, expected %s" % (what, status, sn, want))
    if ok:
        print("ok  : %s: sense %s" % (what, want), flush=True)
    return ok


def st_blocks(path):
    os.sync()
    return os.stat(path).st_blocks


def read_capacity16(s, lun):
    cdb = struct.pack(">BBQIBB", 0x9E, 0x10, 0, 32, 0, 0)
    return read_in(s, lun, cdb, 32)


def vpd(s, lun, page, length=64):
    cdb = struct.pack(">BBBHB", 0x12, 1, page, length, 0)
    return read_in(s, lun, cdb, length)


def log_sense(s, lun, page, subpage=0, pointer=0, alloc=512, byte1=0, pc=1):
    cdb = struct.pack(">BBBBBHHB", 0x4D, byte1, (pc << 6) | page, subpage, 0, pointer, alloc, 0)
    buf = bytearray(alloc)
    itt, _ = s.send_scsi(cdb, edtl=alloc, read=True, lun=lun)
    status, rsp = s.wait_response(itt, read_buf=buf)
    from write_same import parse_sense
    return status, (parse_sense(rsp) if status == ic.STATUS_CHECK_CONDITION else None), bytes(buf)


def log_params(page):
    """{code: value bytes} of a log page."""
    n = struct.unpack(">H", page[2:4])[0]
    out, off = {}, 4
    while off + 4 <= 4 + n:
        code, ln = struct.unpack(">H", page[off:off + 2])[0], page[off + 3]
        out[code] = page[off + 4:off + 4 + ln]
        off += 4 + ln
    return out


def report_opcodes(s, lun):
    """The opcodes (opcode, service action or None) REPORT SUPPORTED
    OPERATION CODES lists, all commands."""
    cdb = struct.pack(">BBBBHIBB", 0xA3, 0x0C, 0, 0, 0, 65536, 0, 0)
    status, data = read_in(s, lun, cdb, 65536)
    check(status == ic.STATUS_GOOD, "LUN %d: REPORT SUPPORTED OPERATION CODES 0x%02x" % (lun, status))
    n = struct.unpack(">I", data[:4])[0]
    ops, off = set(), 4
    while off < 4 + n:
        op, sa, flags = data[off], struct.unpack(">H", data[off + 2:off + 4])[0], data[off + 5]
        ops.add((op, sa if flags & 1 else None))
        off += 8 + (12 if flags & 2 else 0)
    return ops


def check_thin_identity(s, lun, name):
    status, rc = read_capacity16(s, lun)
    check(status == ic.STATUS_GOOD and rc[14] & 0xC0 == 0xC0,
          "%s: READ CAPACITY(16) LBPME/LBPRZ byte 0x%02x" % (name, rc[14]))
    status, b2 = vpd(s, lun, 0xB2)
    check(status == ic.STATUS_GOOD and b2[1] == 0xB2 and b2[4] == THRESHOLD_EXPONENT and
          b2[5] & 0xE4 == 0xE4 and b2[5] & 0x02 == 0 and b2[6] & 0x07 == 2,
          "%s: VPD 0xb2 %s" % (name, b2[:8].hex()))
    status, b0 = vpd(s, lun, 0xB0)
    mul, mubdc, oug, uga = struct.unpack(">IIII", b0[20:36])
    check(status == ic.STATUS_GOOD and mul == MAX_UNMAP_BLOCKS and mubdc == MAX_UNMAP_DESCRIPTORS
          and oug >= 1 and uga == 0x80000000,
          "%s: Block Limits unmap fields %d %d %d %08x" % (name, mul, mubdc, oug, uga))
    status, p00 = vpd(s, lun, 0x00)
    check(0xB2 in p00[4:4 + p00[3]], "%s: VPD 0xb2 not in VPD 0x00 %s" % (name, p00.hex()))
    ops = report_opcodes(s, lun)
    check((0x42, None) in ops and (0x9E, 0x12) in ops and (0x4D, None) in ops,
          "%s: UNMAP, GET LBA STATUS or LOG SENSE not reported: %s" % (name, sorted(ops)))
    print("ok  : %s: LBPME, LBPRZ, VPD 0xb2, Block Limits (granularity %d), opcodes" %
          (name, oug), flush=True)


def check_full_lun(s, lun, nblocks):
    status, rc = read_capacity16(s, lun)
    check(status == ic.STATUS_GOOD and rc[14] & 0xC0 == 0,
          "full LUN: READ CAPACITY(16) byte 14 0x%02x" % rc[14])
    status, b2 = vpd(s, lun, 0xB2)
    check(status == ic.STATUS_GOOD and b2[5] == 0 and b2[6] & 7 == 0,
          "full LUN: VPD 0xb2 %s" % b2[:8].hex())
    status, b0 = vpd(s, lun, 0xB0)
    check(b0[20:36] == bytes(16), "full LUN: Block Limits unmap fields %s" % b0[20:36].hex())
    ops = report_opcodes(s, lun)
    check((0x42, None) not in ops and (0x9E, 0x12) not in ops,
          "full LUN: UNMAP or GET LBA STATUS reported")
    expect("full LUN: UNMAP", unmap(s, lun, unmap_list([(0, 8)])), SK_ILLEGAL_REQUEST,
           INVALID_OPCODE)
    status, sn, _, _ = get_lba_status(s, lun, 0)
    expect("full LUN: GET LBA STATUS", (status, sn), SK_ILLEGAL_REQUEST, INVALID_OPCODE)
    expect("full LUN: WRITE SAME(16) UNMAP",
           run_cmd(s, ws16_cdb(0, 8, 0x08), bytes(BLOCK), lun), SK_ILLEGAL_REQUEST,
           INVALID_FIELD_IN_CDB, (True, 1, 3))
    status, _, page = log_sense(s, lun, 0)
    check(status == ic.STATUS_GOOD and 0x0C not in page[4:4 + page[3]],
          "full LUN: LOG SENSE page 0 lists 0x0c: %s" % page[:16].hex())


def expect_lba_status(s, lun, lba, want, what):
    status, sn, descs, _ = get_lba_status(s, lun, lba)
    ok = check(status == ic.STATUS_GOOD and descs[:len(want)] == want,
               "%s: GET LBA STATUS from %d: %s %s, expected %s" % (what, lba, status, descs[:6],
                                                                    want))
    if ok:
        print("ok  : %s: GET LBA STATUS %s" % (what, want), flush=True)


def data_intact(s, lun, image, what):
    """LBA 0.. len(image) still hold @image."""
    got = b""
    for off in range(0, len(image), MiB):
        status, part = read_lun(s, lun, off // BLOCK, min(MiB, len(image) - off) // BLOCK)
        check(status == ic.STATUS_GOOD, "%s: READ status 0x%02x" % (what, status))
        got += part
    if check(got == image, "%s: the data changed" % what):
        print("ok  : %s: data intact" % what, flush=True)


def unmap_and_space(s, path, nblocks):
    """LUN 0: write, unmap, see the space go, the zeros, the status."""
    data = pattern(1, 8 * MiB)
    write_lun(s, 0, 0, data)
    before = st_blocks(path)
    check(before * 512 >= 8 * MiB, "the 8 MiB written occupy only %d blocks" % before)
    expect_lba_status(s, 0, 0, [(0, 16384, MAPPED), (16384, nblocks - 16384, DEALLOCATED)],
                      "after writing 8 MiB")
    # Blocks 2048..6143 (1 MiB to 3 MiB), in two descriptors.
    expect("UNMAP of 2 MiB in two descriptors",
           unmap(s, 0, unmap_list([(2048, 2048), (4096, 2048)])))
    after = st_blocks(path)
    freed = (before - after) * 512
    if check(freed >= 2 * MiB, "UNMAP of 2 MiB freed %d bytes (st_blocks %d -> %d)" %
             (freed, before, after)):
        print("ok  : UNMAP freed %d KiB of the backing file (st_blocks %d -> %d)" %
              (freed // 1024, before, after), flush=True)
    status, got = read_lun(s, 0, 2048, 4096)
    check(status == ic.STATUS_GOOD and got == bytes(2 * MiB), "the unmapped blocks do not read as zeros")
    expect_lba_status(s, 0, 0, [(0, 2048, MAPPED), (2048, 4096, DEALLOCATED),
                                (6144, 10240, MAPPED), (16384, nblocks - 16384, DEALLOCATED)],
                      "after UNMAP")
    expect_lba_status(s, 0, 3000, [(3000, 3144, DEALLOCATED), (6144, 10240, MAPPED)],
                      "from inside the hole")
    image = bytearray(data)
    image[1 * MiB:3 * MiB] = bytes(2 * MiB)
    # One block inside a file system block: zeroed, its neighbours kept,
    # and still mapped (the rest of the file system block holds data).
    expect("UNMAP of one block", unmap(s, 0, unmap_list([(10, 1)])))
    image[10 * BLOCK:11 * BLOCK] = bytes(BLOCK)
    expect_lba_status(s, 0, 0, [(0, 2048, MAPPED)], "after a one-block UNMAP")
    data_intact(s, 0, bytes(image[:4 * MiB]), "after a one-block UNMAP")
    # A descriptor of no blocks may sit at the capacity; one block there is past it.
    expect("UNMAP of 0 blocks at the capacity", unmap(s, 0, unmap_list([(nblocks, 0)])))
    expect("UNMAP with PARAMETER LIST LENGTH 0", run_cmd(s, unmap_cdb(0), lun=0))
    return image


def malformed_lists(s, image, nblocks):
    """Each must change nothing: its first descriptor (blocks 0..7, data)
    is valid, a later fault refuses the whole list."""
    first = (0, 8)
    cases = [
        ("PARAMETER LIST LENGTH 4", unmap(s, 0, unmap_list([first])[:4], param_len=4),
         SK_ILLEGAL_REQUEST, PARAMETER_LIST_LENGTH_ERROR, None),
        ("UNMAP DATA LENGTH past the list",
         unmap(s, 0, unmap_list([first], data_len=6 + 32)),
         SK_ILLEGAL_REQUEST, PARAMETER_LIST_LENGTH_ERROR, None),
        ("BLOCK DESCRIPTOR DATA LENGTH past the list",
         unmap(s, 0, unmap_list([first], data_len=6 + 32, bd_len=32)),
         SK_ILLEGAL_REQUEST, PARAMETER_LIST_LENGTH_ERROR, None),
        ("BLOCK DESCRIPTOR DATA LENGTH beyond UNMAP DATA LENGTH",
         unmap(s, 0, unmap_list([first, (100, 8)], data_len=6 + 16)),
         SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_PARAM_LIST, (False, 2, None)),
        ("%d descriptors" % (MAX_UNMAP_DESCRIPTORS + 1),
         unmap(s, 0, unmap_list([first] + [(16 + i, 1) for i in range(MAX_UNMAP_DESCRIPTORS)])),
         SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_PARAM_LIST, (False, 2, None)),
        ("a range past the last block", unmap(s, 0, unmap_list([first, (nblocks - 4, 8)])),
         SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE, None),
        ("one block at the capacity", unmap(s, 0, unmap_list([first, (nblocks, 1)])),
         SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE, None),
        ("an LBA near 2^64", unmap(s, 0, unmap_list([first, (2 ** 64 - 2, 4)])),
         SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE, None),
        ("more blocks than MAXIMUM UNMAP LBA COUNT",
         unmap(s, 0, unmap_list([first, (16384, MAX_UNMAP_BLOCKS - 7)])),
         SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_PARAM_LIST, (False, 8 + 16 + 8, None)),
        ("ANCHOR", unmap(s, 0, unmap_list([first]), anchor=True),
         SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, (True, 1, 0)),
    ]
    for what, result, key, asc, sks in cases:
        expect("malformed UNMAP: " + what, result, key, asc, sks)
    data_intact(s, 0, bytes(image[:4 * MiB]), "after %d malformed UNMAP lists" % len(cases))
    expect_lba_status(s, 0, 0, [(0, 2048, MAPPED)], "after the malformed lists")
    # The largest valid list does go through.
    expect("UNMAP of %d descriptors" % MAX_UNMAP_DESCRIPTORS,
           unmap(s, 0, unmap_list([(12288 + 8 * i, 8) for i in range(MAX_UNMAP_DESCRIPTORS)])))
    status, got = read_lun(s, 0, 12288, 2048)
    check(status == ic.STATUS_GOOD and got == bytes(MiB), "256 descriptors did not all unmap")
    image[6 * MiB:7 * MiB] = bytes(MiB)
    return image


def write_same_unmap(s, image, nblocks):
    # WRITE SAME(16) UNMAP of a block of 0xff: deallocated, reads zeros.
    expect("WRITE SAME(16) UNMAP", run_cmd(s, ws16_cdb(8192, 2048, 0x08), b"\xff" * BLOCK, 0))
    image[4 * MiB:5 * MiB] = bytes(MiB)
    expect("WRITE SAME(10) UNMAP", run_cmd(s, ws10_cdb(10240, 2048, 0x08), bytes(BLOCK), 0))
    expect("WRITE SAME(16) UNMAP NDOB", run_cmd(s, ws16_cdb(14336, 2048, 0x09), lun=0))
    image[5 * MiB:6 * MiB] = bytes(MiB)
    image[7 * MiB:8 * MiB] = bytes(MiB)
    # 4 MiB on: WRITE SAME, the 256 descriptors, NDOB, the never written.
    expect_lba_status(s, 0, 8192, [(8192, nblocks - 8192, DEALLOCATED)],
                      "after WRITE SAME UNMAP")
    data_intact(s, 0, bytes(image), "after WRITE SAME UNMAP")
    expect("WRITE SAME(10) UNMAP ANCHOR", run_cmd(s, ws10_cdb(0, 8, 0x18), bytes(BLOCK), 0),
           SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, (True, 1, 4))
    # Through the last block (NUMBER OF BLOCKS 0).
    write_lun(s, 0, nblocks - 2048, pattern(3, MiB))
    expect("WRITE SAME(16) UNMAP through the end",
           run_cmd(s, ws16_cdb(nblocks - 2048, 0, 0x08), bytes(BLOCK), 0))
    status, got = read_lun(s, 0, nblocks - 2048, 2048)
    check(status == ic.STATUS_GOOD and got == bytes(MiB), "the last MiB does not read as zeros")
    # UNMAP does not need the block: none sent is not an error.
    write_lun(s, 0, nblocks - 4096, pattern(4, MiB))
    expect("WRITE SAME(10) UNMAP without Data-Out", run_cmd(s, ws10_cdb(nblocks - 4096, 2048, 0x08),
                                                             lun=0))
    status, got = read_lun(s, 0, nblocks - 4096, 2048)
    check(status == ic.STATUS_GOOD and got == bytes(MiB),
          "WRITE SAME(10) UNMAP without Data-Out left data")
    expect_lba_status(s, 0, nblocks - 4096, [(nblocks - 4096, 4096, DEALLOCATED)],
                      "after WRITE SAME UNMAP without Data-Out")


def read_only(s):
    expect("read-only UNMAP", unmap(s, 6, unmap_list([(0, 8)])), SK_DATA_PROTECT, WRITE_PROTECTED)
    expect("read-only WRITE SAME(16) UNMAP without Data-Out",
           run_cmd(s, ws16_cdb(0, 8, 0x08), lun=6), SK_DATA_PROTECT, WRITE_PROTECTED)
    expect("read-only WRITE SAME(10) UNMAP", run_cmd(s, ws10_cdb(0, 8, 0x08), bytes(BLOCK), 6),
           SK_DATA_PROTECT, WRITE_PROTECTED)
    expect_lba_status(s, 6, 0, [(0, 2097152, DEALLOCATED)], "read-only")


def lba_status_edges(s, nblocks):
    status, sn, _, _ = get_lba_status(s, 0, nblocks)
    expect("GET LBA STATUS at the capacity", (status, sn), SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE)
    status, sn, descs, raw = get_lba_status(s, 0, 0, alloc_len=24)
    check(status == ic.STATUS_GOOD and len(descs) == 1 and struct.unpack(">I", raw[:4])[0] == 20,
          "GET LBA STATUS, 24 bytes: %s" % raw.hex())
    status, sn, descs, raw = get_lba_status(s, 0, 0, alloc_len=16)
    check(status == ic.STATUS_GOOD and raw[8:16] == bytes(8),
          "GET LBA STATUS, 16 bytes: %s" % raw.hex())
    print("ok  : GET LBA STATUS: allocation lengths 24 and 16", flush=True)


def log_pages(s, path):
    status, sn, p0 = log_sense(s, 0, 0)
    listed = list(p0[4:4 + struct.unpack(">H", p0[2:4])[0]])
    check(status == ic.STATUS_GOOD and listed == [0x00, 0x0C, 0x0D, 0x2F],
          "LOG SENSE page 0: %s" % listed)
    status, sn, pff = log_sense(s, 0, 0, subpage=0xFF)
    pairs = pff[4:4 + struct.unpack(">H", pff[2:4])[0]]
    check(status == ic.STATUS_GOOD and pff[0] & 0x40 and pff[1] == 0xFF and
          pairs == bytes([0, 0, 0, 0xFF, 0x0C, 0, 0x0D, 0, 0x2F, 0]),
          "LOG SENSE page 0/ff: %s" % pff[:16].hex())
    status, sn, lbp = log_sense(s, 0, 0x0C)
    params = log_params(lbp)
    used = struct.unpack(">I", params.get(2, bytes(8))[:4])[0]
    avail = struct.unpack(">I", params.get(1, bytes(8))[:4])[0]
    os.sync()
    want_used = os.stat(path).st_blocks * 512 // MiB
    sv = os.statvfs(path)
    want_avail = sv.f_bavail * sv.f_frsize // MiB
    check(status == ic.STATUS_GOOD and lbp[0] & 0x3F == 0x0C and set(params) == {1, 2} and
          abs(used - want_used) <= 1 and abs(avail - want_avail) <= 64,
          "LOG SENSE 0x0c: used %d (file %d MiB), available %d (fs %d MiB)" %
          (used, want_used, avail, want_avail))
    print("ok  : LOG SENSE 0x0c: used %d MiB (st_blocks says %d), available %d MiB" %
          (used, want_used, avail), flush=True)
    status, sn, only2 = log_sense(s, 0, 0x0C, pointer=2)
    check(status == ic.STATUS_GOOD and set(log_params(only2)) == {2},
          "LOG SENSE 0x0c from parameter 2: %s" % only2[:32].hex())
    status, sn, ie = log_sense(s, 0, 0x2F)
    check(status == ic.STATUS_GOOD and log_params(ie).get(0, b"\1")[:2] == b"\0\0",
          "LOG SENSE 0x2f: %s" % ie[:16].hex())
    status, sn, short = log_sense(s, 0, 0x0C, alloc=4)
    check(status == ic.STATUS_GOOD and short[:2] == bytes([0x8C, 0]),
          "LOG SENSE 0x0c in 4 bytes: %s" % short.hex())
    expect("LOG SENSE SP=1", log_sense(s, 0, 0x0C, byte1=0x01), SK_ILLEGAL_REQUEST,
           INVALID_FIELD_IN_CDB, (True, 1, 0))
    # PPC=1 is served on pages with parameters (disk_cmds.py checks what
    # it reports); the supported-pages page has none.
    expect("LOG SENSE 0x00 PPC=1", log_sense(s, 0, 0x00, byte1=0x02), SK_ILLEGAL_REQUEST,
           INVALID_FIELD_IN_CDB, (True, 1, 1))
    expect("LOG SENSE page 0x3e", log_sense(s, 0, 0x3E), SK_ILLEGAL_REQUEST,
           INVALID_FIELD_IN_CDB, (True, 2, None))
    expect("LOG SENSE page 0x0c subpage 1", log_sense(s, 0, 0x0C, subpage=1), SK_ILLEGAL_REQUEST,
           INVALID_FIELD_IN_CDB, (True, 3, None))
    expect("LOG SENSE 0x0c pointer 3", log_sense(s, 0, 0x0C, pointer=3), SK_ILLEGAL_REQUEST,
           INVALID_FIELD_IN_CDB, (True, 5, None))
    expect("LOG SENSE page 0 pointer 1", log_sense(s, 0, 0, pointer=1), SK_ILLEGAL_REQUEST,
           INVALID_FIELD_IN_CDB, (True, 5, None))


def enospc(s, path):
    """LUN 1: a thin file on a 1 MiB tmpfs, more than 1 MiB big."""
    data = pattern(5, 2 * MiB)
    cdb = struct.pack(">BBIBHB", 0x2A, 0, 0, 0, len(data) // BLOCK, 0)
    expect("WRITE of 2 MiB to a thin LUN on a full tmpfs", run_cmd(s, cdb, data, lun=1),
           SK_DATA_PROTECT, SPACE_ALLOCATION_FAILED)
    expect("UNMAP of the thin LUN on tmpfs", unmap(s, 1, unmap_list([(0, 8192)])))
    check(st_blocks(path) == 0, "UNMAP left %d blocks on tmpfs" % st_blocks(path))
    part = data[:256 * 1024]
    cdb = struct.pack(">BBIBHB", 0x2A, 0, 0, 0, len(part) // BLOCK, 0)
    expect("WRITE of 256 KiB after the UNMAP freed room", run_cmd(s, cdb, part, lun=1))
    status, got = read_lun(s, 1, 0, len(part) // BLOCK)
    check(status == ic.STATUS_GOOD and got == part, "the 256 KiB written after ENOSPC read back wrong")


def nullio(s, nblocks):
    expect_lba_status(s, 3, 0, [(0, nblocks, DEALLOCATED)], "nullio")
    expect("nullio UNMAP", unmap(s, 3, unmap_list([(0, 8)])))
    status, _, lbp = log_sense(s, 3, 0x0C)
    params = log_params(lbp)
    check(status == ic.STATUS_GOOD and struct.unpack(">I", params[2][:4])[0] == 0 and
          struct.unpack(">I", params[1][:4])[0] == nblocks * BLOCK // MiB,
          "nullio LOG SENSE 0x0c: %s" % lbp[:32].hex())


def blockio(s, path, nblocks):
    check_thin_identity(s, 4, "blockio")
    write_lun(s, 4, 0, pattern(7, 2 * MiB))
    before = st_blocks(path)
    expect("blockio UNMAP", unmap(s, 4, unmap_list([(0, 2048)])))
    freed = (before - st_blocks(path)) * 512
    check(freed >= MiB, "blockio UNMAP freed %d bytes" % freed)
    status, got = read_lun(s, 4, 0, 4096)
    check(status == ic.STATUS_GOOD and got == bytes(MiB) + pattern(7, 2 * MiB)[MiB:],
          "blockio: the unmapped MiB is not zeros, or the next one changed")
    expect_lba_status(s, 4, 0, [(0, 2048, DEALLOCATED), (2048, 2048, MAPPED)], "blockio")


def block_device(s, loop_file, nblocks):
    data = pattern(8, 2 * MiB)
    write_lun(s, 5, 0, data)
    before = st_blocks(loop_file)
    expect("loop device UNMAP", unmap(s, 5, unmap_list([(0, 2048)])))
    freed = (before - st_blocks(loop_file)) * 512
    if check(freed >= MiB, "loop device UNMAP freed %d bytes of the loop's file" % freed):
        print("ok  : loop device UNMAP freed %d KiB of the loop's file" % (freed // 1024),
              flush=True)
    status, got = read_lun(s, 5, 0, 4096)
    check(status == ic.STATUS_GOOD and got == bytes(MiB) + data[MiB:],
          "loop device: the unmapped MiB is not zeros, or the next one changed")
    expect_lba_status(s, 5, 0, [(0, nblocks, MAPPED)], "loop device")
    status, _, lbp = log_sense(s, 5, 0x0C)
    check(status == ic.STATUS_GOOD and lbp[2:4] == b"\0\0",
          "loop device LOG SENSE 0x0c has parameters: %s" % lbp[:16].hex())


def main():
    if len(sys.argv) != 10:
        print(__doc__)
        return 2
    port, iqn, ini, size, img0, small, img4, loop_file, loop_size = sys.argv[1:]
    nblocks = int(size) // BLOCK
    s = Target(int(port), iqn, ini).login(KEYS, False, False)
    for lun in (1, 2, 3, 4, 5, 6):
        for _ in range(3):
            if run_cmd(s, b"\0" * 6, lun=lun)[0] == ic.STATUS_GOOD:
                break
    check_thin_identity(s, 0, "fileio")
    check_full_lun(s, 2, nblocks)
    image = unmap_and_space(s, img0, nblocks)
    image = malformed_lists(s, image, nblocks)
    write_same_unmap(s, image, nblocks)
    lba_status_edges(s, nblocks)
    log_pages(s, img0)
    nullio(s, nblocks)
    blockio(s, img4, nblocks)
    block_device(s, loop_file, int(loop_size) // BLOCK)
    read_only(s)
    if small != "-":
        enospc(s, small)
    s.logout()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("thin_provisioning: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
