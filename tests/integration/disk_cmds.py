#!/usr/bin/env python3
"""REPORT SUPPORTED OPERATION CODES' timeouts descriptors, ORWRITE(32),
LOG SENSE's page control and PPC and LOG SELECT on vdisk, with our python
initiator (32-byte CDBs go in the Extended CDB AHS, RFC 7143 11.2.1.3).

disk_cmds.sh gives this script:
  LUN 0  vdisk_fileio, 64 MiB           LUN 1  vdisk_fileio thin, 64 MiB
  LUN 2  vdisk_nullio, 64 MiB
Checked here:
  - RSOC with RCTD=1: every command of the all-commands form has a
    timeouts descriptor of length 0Ah, COMMAND SPECIFIC 0, recommended
    >= nominal > 0, equal to what the one-command form reports for it;
    the values are the op tables' (EXPECTED below, the same numbers as
    vdisk_ops.c and core/report_opcodes.c); with RCTD=0 none;
  - ORWRITE(32) is reported under 7Fh with service action 000Eh in the
    one-command form (32 bytes of usage data, NACA in byte 1, its
    timeouts), and left out of the all-commands list; it ORs the Data-Out into
    the blocks (data read back), FUA too, on fileio and nullio; the
    refusals: BMOP other than 000b, ADDITIONAL CDB LENGTH, ORPROTECT, a
    range past the end, a length past the maximum, a 0x7f CDB of 16 bytes,
    an unknown variable-length service action; 0 blocks writes nothing;
  - LOG SENSE: the four PAGE CONTROL values give the same (list)
    parameters; the PARAMETER POINTER; PPC=1 refused on the supported-pages
    page, and on the provisioning page of the thin LUN reports what changed
    since the last LOG SENSE (the used count after a 2 MiB write, not
    again after), or since a LOG SELECT; LOG SELECT: PCR=1 / defaults with
    no list GOOD, SP=1, PCR with a list, a page in the CDB with a list, an
    unknown page, a parameter (not changeable), a page longer than the
    list refused with their fields.

usage: disk_cmds.py PORT TARGET_IQN INITIATOR_IQN
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import BLOCK, Target, check, failures, pattern  # noqa: E402
from compare_and_write import KEYS, cmd, read, write  # noqa: E402
from compare_and_write import expect_good, expect_sense  # noqa: E402

SK_ILLEGAL_REQUEST = 0x5
INVALID_FIELD_IN_CDB = (0x24, 0x00)
INVALID_FIELD_IN_PARAM_LIST = (0x26, 0x00)
LBA_OUT_OF_RANGE = (0x21, 0x00)
LUN_FILE, LUN_THIN, LUN_NULL = 0, 1, 2

# The timeouts (nominal, recommended) the tables give, in seconds:
# vdisk_ops.c's RANGE_, FLUSH_ and WHOLE_MEDIUM_TIMEOUTS, core_ops.c's
# COPY_TIMEOUTS, and the
# defaults of core/report_opcodes.c for rows without their own (1/30 for
# a block read or write, 1/10 for the rest). Keyed (opcode, service
# action or None).
MEDIA, NO_MEDIA = (1, 30), (1, 10)
RANGE, FLUSH, WHOLE, COPY = (2, 60), (1, 120), (60, 10800), (5, 600)
EXPECTED = {
    (0x00, None): NO_MEDIA,      # TEST UNIT READY
    (0x12, None): NO_MEDIA,      # INQUIRY (the core's)
    (0xA0, None): NO_MEDIA,      # REPORT LUNS
    (0x1A, None): NO_MEDIA,      # MODE SENSE(6)
    (0x55, None): NO_MEDIA,      # MODE SELECT(10)
    (0x4D, None): NO_MEDIA,      # LOG SENSE
    (0x1B, None): FLUSH,         # START STOP UNIT
    (0x35, None): FLUSH,         # SYNCHRONIZE CACHE(10)
    (0x91, None): FLUSH,         # SYNCHRONIZE CACHE(16)
    (0x28, None): MEDIA,         # READ(10)
    (0x88, None): MEDIA,         # READ(16)
    (0x2A, None): MEDIA,         # WRITE(10)
    (0x2F, None): MEDIA,         # VERIFY(10)
    (0x89, None): MEDIA,         # COMPARE AND WRITE
    (0x8B, None): MEDIA,         # ORWRITE(16)
    (0x41, None): RANGE,         # WRITE SAME(10)
    (0x93, None): RANGE,         # WRITE SAME(16)
    (0x48, 0x01): WHOLE,         # SANITIZE OVERWRITE
    (0x48, 0x02): WHOLE,         # SANITIZE BLOCK ERASE
    (0x48, 0x03): WHOLE,         # SANITIZE CRYPTOGRAPHIC ERASE
    (0x48, 0x1F): NO_MEDIA,      # SANITIZE EXIT FAILURE MODE
    (0x04, None): WHOLE,         # FORMAT UNIT
    (0x9E, 0x10): NO_MEDIA,      # READ CAPACITY(16)
    (0x83, 0x00): COPY,          # EXTENDED COPY(LID1) (the core's)
    (0x83, 0x01): COPY,          # EXTENDED COPY(LID4)
}
# Thin LUNs only (UNMAP and GET LBA STATUS are served there alone).
EXPECTED_THIN = {
    (0x42, None): RANGE,         # UNMAP
    (0x9E, 0x12): MEDIA,         # GET LBA STATUS
}


# ---- 32-byte CDBs (compare_and_write.cmd() sends them with an AHS) ----

def orwrite32_cdb(lba, nblocks, flags=0, bmop=0, pgp=0, addl=0x18, sa=0x000E,
                  expected_gen=0, new_gen=0):
    return struct.pack(">BBBBHBBHBBQIII", 0x7F, 0, bmop, pgp, 0, 0, addl, sa, flags, 0,
                       lba, expected_gen, new_gen, nblocks)


# ---- REPORT SUPPORTED OPERATION CODES ----

def rsoc(s, lun, options, rctd, opcode=0, sa=0, alloc=65536):
    cdb = struct.pack(">BBBBHIBB", 0xA3, 0x0C, (0x80 if rctd else 0) | options, opcode, sa,
                      alloc, 0, 0)
    return cmd(s, cdb, read_len=alloc, lun=lun)


def all_commands(s, lun, rctd):
    """{(opcode, sa or None): (cdb length, timeouts descriptor or None)}."""
    status, data, sn = rsoc(s, lun, 0, rctd)
    if not check(status == ic.STATUS_GOOD, "RSOC all, LUN %d: status 0x%02x %s"
                 % (lun, status, sn)):
        return {}
    n = struct.unpack(">I", data[:4])[0]
    out, off = {}, 4
    while off < 4 + n:
        opcode, sa, flags, cdb_len = data[off], struct.unpack(">H", data[off + 2:off + 4])[0], \
            data[off + 5], struct.unpack(">H", data[off + 6:off + 8])[0]
        ctdp = bool(flags & 0x02)
        check(ctdp == rctd, "RSOC all: opcode 0x%02x CTDP %d with RCTD %d" % (opcode, ctdp, rctd))
        td = data[off + 8:off + 20] if ctdp else None
        out[(opcode, sa if flags & 0x01 else None)] = (cdb_len, td)
        off += 20 if ctdp else 8
    return out


def timeouts_of(what, td):
    """(nominal, recommended) of a timeouts descriptor, its form checked."""
    length, cs = struct.unpack(">H", td[:2])[0], td[3]
    nominal, recommended = struct.unpack(">II", td[4:12])
    check(length == 0x0A, "%s: timeouts descriptor length 0x%x" % (what, length))
    check(td[2] == 0 and cs == 0, "%s: reserved %d / COMMAND SPECIFIC %d, not 0" % (what, td[2], cs))
    check(0 < nominal <= recommended, "%s: nominal %d, recommended %d" % (what, nominal, recommended))
    return nominal, recommended


def one_command(s, lun, opcode, sa, rctd):
    """(support, cdb length, usage data, timeouts descriptor or None)."""
    status, data, sn = rsoc(s, lun, 3, rctd, opcode, sa or 0, alloc=64)
    if not check(status == ic.STATUS_GOOD, "RSOC one 0x%02x/%s: status 0x%02x %s"
                 % (opcode, sa, status, sn)):
        return None
    support, ctdp = data[1] & 0x07, bool(data[1] & 0x80)
    cdb_len = struct.unpack(">H", data[2:4])[0]
    usage = data[4:4 + cdb_len]
    td = data[4 + cdb_len:4 + cdb_len + 12] if ctdp else None
    check(ctdp == (rctd and support == 3), "RSOC one 0x%02x/%s: CTDP %d" % (opcode, sa, ctdp))
    return support, cdb_len, usage, td


def rsoc_checks(s):
    for lun, expected in ((LUN_FILE, EXPECTED), (LUN_THIN, {**EXPECTED, **EXPECTED_THIN}),
                          (LUN_NULL, EXPECTED)):
        listed = all_commands(s, lun, True)
        check(all(td is None for _, td in all_commands(s, lun, False).values()),
              "RSOC all without RCTD: a timeouts descriptor")
        for key, (cdb_len, td) in sorted(listed.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
            what = "LUN %d 0x%02x/%s" % (lun, key[0], key[1])
            got = timeouts_of(what, td)
            one = one_command(s, lun, key[0], key[1], True)
            if one:
                check(one[0] == 3 and one[1] == cdb_len,
                      "%s: one-command support %d length %d, listed %d"
                      % (what, one[0], one[1], cdb_len))
                check(one[3] == td, "%s: one-command descriptor %s, all-commands %s"
                      % (what, one[3] and one[3].hex(), td.hex()))
            if key in expected:
                check(got == expected[key], "%s: timeouts %s, the table says %s"
                      % (what, got, expected[key]))
        missing = [k for k in expected if k not in listed]
        if check(not missing, "LUN %d: RSOC does not list %s" % (lun, missing)):
            print("ok  : LUN %d: %d commands, each with the timeouts of its row (%d checked "
                  "against the table)" % (lun, len(listed), len(expected)), flush=True)
        if lun != LUN_THIN:
            check((0x42, None) not in listed, "LUN %d: UNMAP listed on a thick LUN" % lun)
    # ORWRITE(32): not in the all-commands list (libiscsi's suite asks
    # for each listed command alone and cannot take more than 16 bytes of
    # usage data), in the one-command form with 32 bytes of usage data,
    # NACA in CONTROL (byte 1), the service action's bytes, and the
    # timeouts of a block write.
    check((0x7F, 0x000E) not in all_commands(s, LUN_FILE, True),
          "ORWRITE(32) in the all-commands list")
    one = one_command(s, LUN_FILE, 0x7F, 0x000E, True)
    check(one and timeouts_of("ORWRITE(32)", one[3]) == MEDIA,
          "ORWRITE(32) one-command timeouts: %s" % (one and one[3] and one[3].hex()))
    one = one_command(s, LUN_FILE, 0x7F, 0x000E, False)
    if one and check(one[0] == 3 and one[1] == 32 and len(one[2]) == 32,
                     "ORWRITE(32) one-command: %s" % (one[:2],)):
        u = one[2]
        check(u[0] == 0x7F and u[1] == 0x04 and u[7] == 0xFF and u[8:10] == b"\xff\xff"
              and u[10] == 0xF8 and u[28:32] == b"\xff" * 4,
              "ORWRITE(32) usage data %s" % u.hex())
        print("ok  : ORWRITE(32) listed, usage data %s" % u.hex(), flush=True)
    one = one_command(s, LUN_FILE, 0x7F, 0x0009, False)
    check(one and one[0] == 1, "variable-length service action 0009h: support %s"
          % (one and one[0]))


# ---- ORWRITE(32) ----

def orwrite32_checks(s):
    nblocks_dev = capacity16(s, LUN_FILE)
    old, new = pattern(31, 4 * BLOCK), pattern(32, 4 * BLOCK)
    for lun in (LUN_FILE, LUN_NULL):
        write(s, lun, 10, old)
        expect_good("LUN %d ORWRITE(32) 4 blocks" % lun,
                    cmd(s, orwrite32_cdb(10, 4), new, lun=lun))
        want = bytes(a | b for a, b in zip(old, new)) if lun == LUN_FILE else bytes(4 * BLOCK)
        check(read(s, lun, 10, 4) == want, "LUN %d: ORWRITE(32) did not leave old | new" % lun)
    # FUA, the generation fields (not used with BMOP 000b) and a different
    # pattern: the OR again.
    third = pattern(33, 2 * BLOCK)
    before = read(s, LUN_FILE, 100, 2)
    expect_good("ORWRITE(32) FUA, generation fields set",
                cmd(s, orwrite32_cdb(100, 2, flags=0x08, pgp=5, expected_gen=7, new_gen=9),
                      third, lun=LUN_FILE))
    check(read(s, LUN_FILE, 100, 2) == bytes(a | b for a, b in zip(before, third)),
          "ORWRITE(32) FUA: not the OR")
    print("ok  : ORWRITE(32) ORs the Data-Out into the blocks (fileio, nullio, FUA)", flush=True)
    snapshot = read(s, LUN_FILE, 10, 4)
    for what, cdb, fp in (
            ("BMOP 001b", orwrite32_cdb(10, 4, bmop=1), (2, 2)),
            ("BMOP 011b", orwrite32_cdb(10, 4, bmop=3), (2, 2)),
            ("ADDITIONAL CDB LENGTH 10h", orwrite32_cdb(10, 4, addl=0x10), (7, None)),
            ("ORPROTECT 001b", orwrite32_cdb(10, 4, flags=0x20), (10, 7)),
            ("TRANSFER LENGTH past the maximum", orwrite32_cdb(10, (8 << 20) // BLOCK + 1),
             (28, None))):
        expect_sense("ORWRITE(32) " + what, cmd(s, cdb, new, lun=LUN_FILE),
                     SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=fp)
    expect_sense("ORWRITE(32) past the end",
                 cmd(s, orwrite32_cdb(nblocks_dev - 2, 4), new, lun=LUN_FILE),
                 SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE)
    # A 0x7f CDB in the BHS alone: 16 bytes of a 32-byte command.
    expect_sense("ORWRITE(32) cut to 16 bytes",
                 cmd(s, orwrite32_cdb(10, 4)[:16], new, lun=LUN_FILE),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(7, None))
    expect_sense("variable-length service action 0009h",
                 cmd(s, orwrite32_cdb(10, 0, sa=0x0009), lun=LUN_FILE),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(8, 7))
    expect_good("ORWRITE(32) 0 blocks", cmd(s, orwrite32_cdb(10, 0), lun=LUN_FILE))
    check(read(s, LUN_FILE, 10, 4) == snapshot, "a refused ORWRITE(32) changed the blocks")


# ---- LOG SENSE / LOG SELECT ----

PARAM_LIST_LENGTH_ERROR = (0x1A, 0x00)


def log_sense(s, lun, page, subpage=0, pc=1, ppc=False, sp=False, pointer=0, alloc=512):
    cdb = struct.pack(">BBBBBHHB", 0x4D, (0x02 if ppc else 0) | (0x01 if sp else 0),
                      (pc << 6) | page, subpage, 0, pointer, alloc, 0)
    return cmd(s, cdb, read_len=alloc, lun=lun)


def log_params(what, result):
    """{parameter code: value bytes} of a LOG SENSE answer, or None."""
    status, data, sn = result
    if not check(status == ic.STATUS_GOOD, "%s: status 0x%02x %s" % (what, status, sn)):
        return None
    n = struct.unpack(">H", data[2:4])[0]
    out, off = {}, 4
    while off + 4 <= 4 + n:
        code, plen = struct.unpack(">H", data[off:off + 2])[0], data[off + 3]
        out[code] = bytes(data[off + 4:off + 4 + plen])
        off += 4 + plen
    return out


def log_select(s, lun, data=b"", pcr=False, sp=False, pc=1, page=0, subpage=0, plen=None):
    cdb = struct.pack(">BBBBBHHB", 0x4C, (0x02 if pcr else 0) | (0x01 if sp else 0),
                      (pc << 6) | page, subpage, 0, 0, len(data) if plen is None else plen, 0)
    return cmd(s, cdb, data, lun=lun)


def log_sense_checks(s):
    for page in (0x0D, 0x2F):
        values = [log_params("LOG SENSE 0x%02x PC %d" % (page, pc), log_sense(s, LUN_FILE, page, pc=pc))
                  for pc in range(4)]
        check(values[0] and all(v == values[0] for v in values),
              "page 0x%02x: PAGE CONTROL changes list parameters: %s" % (page, values))
    print("ok  : pages 0x0d and 0x2f: the same list parameters under PC 00b..11b", flush=True)
    check(log_params("pointer 1", log_sense(s, LUN_FILE, 0x0D, pointer=1)) == {1: b"\x00\xff"},
          "page 0x0d from parameter 0001h")
    expect_sense("LOG SENSE 0x0d pointer past the last parameter",
                 log_sense(s, LUN_FILE, 0x0D, pointer=2), SK_ILLEGAL_REQUEST,
                 INVALID_FIELD_IN_CDB, fp=(5, None))
    check(log_params("PPC, pointer 1", log_sense(s, LUN_FILE, 0x0D, ppc=True, pointer=1)) == {},
          "page 0x0d with PPC=1: a temperature that never changes reported as changed")
    expect_sense("LOG SENSE 0x0d PPC=1 pointer past the last parameter",
                 log_sense(s, LUN_FILE, 0x0D, ppc=True, pointer=2), SK_ILLEGAL_REQUEST,
                 INVALID_FIELD_IN_CDB, fp=(5, None))
    expect_sense("LOG SENSE 0x00 PPC=1", log_sense(s, LUN_FILE, 0x00, ppc=True),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(1, 1))
    expect_sense("LOG SENSE SP=1", log_sense(s, LUN_FILE, 0x0D, sp=True),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(1, 0))
    # The thin LUN's provisioning page: USED (0002h) in 1 MiB units.
    first = log_params("LBP page", log_sense(s, LUN_THIN, 0x0C))
    again = log_params("LBP page PPC=1", log_sense(s, LUN_THIN, 0x0C, ppc=True))
    check(first and 2 in first and again is not None and 2 not in again,
          "LBP page: USED reported as changed with nothing written: %s then %s" % (first, again))
    for i in range(2):
        write(s, LUN_THIN, 8192 + i * 2048, pattern(40 + i, 2048 * BLOCK))
    changed = log_params("LBP page PPC=1 after a write", log_sense(s, LUN_THIN, 0x0C, ppc=True))
    now = log_params("LBP page after a write", log_sense(s, LUN_THIN, 0x0C))
    used = lambda p: struct.unpack(">I", p[2][:4])[0] if p and 2 in p else None  # noqa: E731
    check(changed and used(changed) is not None and used(changed) >= used(first) + 2
          and used(changed) == used(now),
          "LBP page PPC=1 after 2 MiB written: USED %s (before %s, now %s)"
          % (used(changed), used(first), used(now)))
    again = log_params("LBP page PPC=1 again", log_sense(s, LUN_THIN, 0x0C, ppc=True))
    check(again is not None and 2 not in again, "LBP page PPC=1 again: USED %s" % again)
    print("ok  : LBP page PPC=1: USED %d -> %d reported once as changed" % (used(first), used(now)),
          flush=True)
    # LOG SELECT makes the current values the reference.
    write(s, LUN_THIN, 16384, pattern(42, 2048 * BLOCK))
    expect_good("LOG SELECT page 0x0c, no list", log_select(s, LUN_THIN, page=0x0C))
    after = log_params("LBP page PPC=1 after LOG SELECT", log_sense(s, LUN_THIN, 0x0C, ppc=True))
    check(after is not None and 2 not in after, "PPC=1 after LOG SELECT: USED %s" % after)
    write(s, LUN_THIN, 20480, pattern(43, 2048 * BLOCK))
    expect_good("LOG SELECT PCR=1", log_select(s, LUN_THIN, pcr=True))
    after = log_params("LBP page PPC=1 after PCR", log_sense(s, LUN_THIN, 0x0C, ppc=True))
    check(after is not None and 2 not in after, "PPC=1 after PCR=1: USED %s" % after)
    for pc in range(4):
        expect_good("LOG SELECT PC %d, no list" % pc, log_select(s, LUN_FILE, pc=pc))
    empty = struct.pack(">BBH", 0x0D, 0, 0)
    expect_good("LOG SELECT a page with no parameters", log_select(s, LUN_FILE, empty))
    for what, result, sense, fp in (
            ("SP=1", log_select(s, LUN_FILE, sp=True), INVALID_FIELD_IN_CDB, (1, 0)),
            ("PCR=1 with a list", log_select(s, LUN_FILE, empty, pcr=True),
             INVALID_FIELD_IN_CDB, (1, 1)),
            ("a list with the page in the CDB", log_select(s, LUN_FILE, empty, page=0x0D),
             INVALID_FIELD_IN_CDB, (2, None)),
            ("an unknown subpage, no list", log_select(s, LUN_FILE, page=0x0D, subpage=5),
             INVALID_FIELD_IN_CDB, (3, None)),
            ("an unknown page", log_select(s, LUN_FILE, struct.pack(">BBH", 0x33, 0, 0)),
             INVALID_FIELD_IN_PARAM_LIST, (0, 5)),
            ("the supported pages page", log_select(s, LUN_FILE, struct.pack(">BBH", 0, 0, 0)),
             INVALID_FIELD_IN_PARAM_LIST, (0, 5)),
            ("a temperature parameter",
             log_select(s, LUN_FILE, struct.pack(">BBHHBBH", 0x0D, 0, 6, 0, 3, 2, 0x0020)),
             INVALID_FIELD_IN_PARAM_LIST, (4, None)),
            ("a page longer than the list",
             log_select(s, LUN_FILE, struct.pack(">BBHI", 0x0D, 0, 8, 0)),
             PARAM_LIST_LENGTH_ERROR, None)):
        expect_sense("LOG SELECT " + what, result, SK_ILLEGAL_REQUEST, sense, fp=fp)
    check(log_params("page 0x0d after the refusals", log_sense(s, LUN_FILE, 0x0D)) ==
          {0: b"\x00\xff", 1: b"\x00\xff"}, "a refused LOG SELECT changed the temperature page")


def capacity16(s, lun):
    status, data, _ = cmd(s, struct.pack(">BB8xIBB", 0x9E, 0x10, 32, 0, 0), read_len=32, lun=lun)
    check(status == ic.STATUS_GOOD, "READ CAPACITY(16) LUN %d: 0x%02x" % (lun, status))
    return struct.unpack(">Q", data[:8])[0] + 1


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    s = t.login(KEYS, False, False)
    for lun in (LUN_FILE, LUN_THIN, LUN_NULL):
        cmd(s, b"\0" * 6, lun=lun)  # the POWER ON unit attention
    rsoc_checks(s)
    orwrite32_checks(s)
    log_sense_checks(s)
    s.logout()
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("disk_cmds: all checks passed")


if __name__ == "__main__":
    main()
