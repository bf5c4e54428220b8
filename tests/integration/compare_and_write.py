#!/usr/bin/env python3
"""COMPARE AND WRITE (SBC-4 5.2), atomic against every writer of the device.

compare_and_write.sh gives this script (uscstd --threads 2):
  LUN 0  vdisk_fileio             LUN 2  vdisk_nullio
  LUN 1  vdisk_blockio (O_DIRECT) LUN 3  vdisk_fileio, read_only
Checked here:
  - Block Limits (VPD 0xb0) reports MAXIMUM COMPARE AND WRITE LENGTH 128;
  - a match writes the write instance; a miscompare writes nothing and
    names the first differing byte in INFORMATION, in fixed and (after
    MODE SELECT of D_SENSE) descriptor sense; nullio compares with zeros;
  - the refusals: more than 128 blocks, a Data-Out of 256 blocks pairs
    (the wrapped length), a range past the end, WRPROTECT, a Data-Out that
    is not both instances, a read-only LUN; zero blocks is GOOD;
  - concurrency: 4 sessions on the 2 reactors use one block as a counter
    (read it, COMPARE AND WRITE old -> old + 1, retry on MISCOMPARE) while
    2 more write the blocks around it; the counter must end equal to the
    number of successful COMPARE AND WRITEs (no update lost) and the
    neighbours must hold what was last written there;
  - a COMPARE AND WRITE waiting for a long WRITE SAME of another session
    is ended at once by ABORT TASK, and one whose session goes away is
    ended too: neither writes, and the device serves on.

usage: compare_and_write.py PORT TARGET_IQN INITIATOR_IQN SECONDS
"""
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import BLOCK, Target, check, failures, pattern  # noqa: E402

KEYS = [("InitialR2T", "Yes"), ("ImmediateData", "No"),
        ("MaxRecvDataSegmentLength", "262144"), ("FirstBurstLength", "262144"),
        ("MaxBurstLength", "1048576"), ("MaxOutstandingR2T", "1"), ("ErrorRecoveryLevel", "0")]
SK_ILLEGAL_REQUEST, SK_DATA_PROTECT, SK_MISCOMPARE = 0x5, 0x7, 0xE
MISCOMPARE_DURING_VERIFY = (0x1D, 0x00)
INVALID_FIELD_IN_CDB = (0x24, 0x00)
LBA_OUT_OF_RANGE = (0x21, 0x00)
INVALID_FIELD_IN_INFO_UNIT = (0x0E, 0x03)
WRITE_PROTECTED = (0x27, 0x00)
MAX_CAW = 128
LUN_FILE, LUN_BLOCK, LUN_NULL, LUN_RO = 0, 1, 2, 3


def caw_cdb(lba, nblocks, flags=0):
    return struct.pack(">BBQ3xBBB", 0x89, flags, lba, nblocks & 0xFF, 0, 0)


def parse_sense(s):
    """(key, asc, ascq, information or None, field pointer or None) of
    fixed or descriptor sense; the field pointer as (byte, bit or None)."""
    info = fp = None
    if len(s) >= 18 and s[0] & 0x7F in (0x70, 0x71):
        if s[0] & 0x80:
            info = struct.unpack(">I", s[3:7])[0]
        if s[15] & 0x80:
            fp = (struct.unpack(">H", s[16:18])[0], s[15] & 7 if s[15] & 0x08 else None)
        return s[2] & 0x0F, s[12], s[13], info, fp
    if len(s) >= 8 and s[0] & 0x7F in (0x72, 0x73):
        off = 8
        while off + 2 <= len(s):
            d = s[off:off + 2 + s[off + 1]]
            if d[0] == 0x00 and len(d) >= 12 and d[2] & 0x80:
                info = struct.unpack(">Q", d[4:12])[0]
            if d[0] == 0x02 and len(d) >= 7 and d[4] & 0x80:
                fp = (struct.unpack(">H", d[5:7])[0], d[4] & 7 if d[4] & 0x08 else None)
            off += len(d)
        return s[1] & 0x0F, s[2], s[3], info, fp
    return None


def cmd(s, cdb, data=b"", read_len=0, lun=0, edtl=None):
    """One command; Data-Out as the target solicits it. A CDB longer than
    16 bytes sends the rest in an Extended CDB AHS (type 1, its length
    counting the reserved byte: RFC 7143 11.2.1.3). Returns (status, data
    read, sense tuple or None)."""
    itt = s.next_itt()
    flags = ic.FINAL | ic.ATTR_SIMPLE | (0x20 if data else 0) | (0x40 if read_len else 0)
    b = ic.bhs(ic.OP_SCSI_CMD, flags, itt, lun=lun,
               word20=edtl if edtl is not None else (len(data) or read_len),
               word24=s.cmd_sn, word28=s.exp_stat_sn, rest=cdb[:16] + b"\0" * (16 - len(cdb[:16])))
    ahs = b""
    if len(cdb) > 16:
        ahs = struct.pack(">HBB", len(cdb) - 16 + 1, 0x01, 0) + cdb[16:]
        ahs += b"\0" * ((4 - len(ahs) % 4) % 4)
        b[4] = len(ahs) // 4
    s.cmd_sn = (s.cmd_sn + 1) & 0xFFFFFFFF
    s.send_pdu(bytes(b) + ahs)
    buf = bytearray(read_len)

    def on_r2t(r2t):
        s._send_data_out(itt, r2t.u32(20), data, r2t.u32(40), r2t.u32(44), None, [0])
    status, rsp = s.wait_response(itt, read_buf=buf if read_len else None, on_r2t=on_r2t)
    sense = None
    if status == ic.STATUS_CHECK_CONDITION:
        slen = struct.unpack(">H", rsp[:2])[0] if len(rsp) >= 2 else 0
        sense = parse_sense(rsp[2:2 + slen])
    return status, bytes(buf), sense


def read(s, lun, lba, n=1):
    cdb = struct.pack(">BBIBHB", 0x28, 0, lba, 0, n, 0)
    status, data, sn = cmd(s, cdb, read_len=n * BLOCK, lun=lun)
    check(status == ic.STATUS_GOOD, "READ LUN %d LBA %d: status 0x%02x %s" % (lun, lba, status, sn))
    return data


def capacity(s, lun):
    """Number of blocks (READ CAPACITY(10))."""
    status, data, _ = cmd(s, bytes(10).replace(b"\0", b"\x25", 1), read_len=8, lun=lun)
    check(status == ic.STATUS_GOOD, "READ CAPACITY LUN %d: status 0x%02x" % (lun, status))
    return struct.unpack(">I", data[:4])[0] + 1


def write(s, lun, lba, data):
    cdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, len(data) // BLOCK, 0)
    status, _, sn = cmd(s, cdb, data, lun=lun)
    check(status == ic.STATUS_GOOD, "WRITE LUN %d LBA %d: status 0x%02x %s" % (lun, lba, status, sn))


def caw(s, lun, lba, verify, new, flags=0, nblocks=None, edtl=None):
    n = len(verify) // BLOCK if nblocks is None else nblocks
    return cmd(s, caw_cdb(lba, n, flags), verify + new, lun=lun, edtl=edtl)


def expect_good(what, result):
    status, _, sn = result
    if check(status == ic.STATUS_GOOD, "%s: status 0x%02x, sense %s" % (what, status, sn)):
        print("ok  : %s: GOOD" % what, flush=True)


def expect_sense(what, result, key, asc_ascq, info=None, fp=None):
    status, _, sn = result
    got = sn[:3] if sn else None
    ok = status == ic.STATUS_CHECK_CONDITION and got == (key,) + asc_ascq
    ok = ok and sn[3] == info and (fp is None or sn[4] == fp)
    if check(ok, "%s: status 0x%02x sense %s, expected %x/%02x/%02x INFORMATION %s field %s"
             % ((what, status, sn, key) + asc_ascq + (info, fp))):
        print("ok  : %s: sense %x/%02x/%02x INFORMATION %s field pointer %s"
              % ((what, key) + asc_ascq + (info, sn[4])), flush=True)


def ready(s, lun):
    for _ in range(3):
        if cmd(s, b"\0" * 6, lun=lun)[0] == ic.STATUS_GOOD:
            return
    check(False, "LUN %d never became ready" % lun)


def set_d_sense(s, lun, on):
    """MODE SELECT(6) of the control page with D_SENSE = @on."""
    cdb = struct.pack(">BBBBBB", 0x1A, 0x08, 0x0A, 0, 255, 0)
    status, data, _ = cmd(s, cdb, read_len=255, lun=lun)
    check(status == ic.STATUS_GOOD, "MODE SENSE control page: status 0x%02x" % status)
    page = bytearray(data[4:4 + 2 + data[5]])
    page[0] &= 0x3F
    page[2] = (page[2] & ~0x04) | (0x04 if on else 0)
    plist = bytes(4) + bytes(page)
    status, _, sn = cmd(s, struct.pack(">BBBBBB", 0x15, 0x10, 0, 0, len(plist), 0), plist, lun=lun)
    check(status == ic.STATUS_GOOD, "MODE SELECT D_SENSE %d: status 0x%02x %s" % (on, status, sn))


def block_limits(s):
    status, data, _ = cmd(s, bytes([0x12, 0x01, 0xB0, 0, 64, 0]), read_len=64)
    check(status == ic.STATUS_GOOD and data[1] == 0xB0, "INQUIRY VPD 0xb0: status 0x%02x" % status)
    if check(data[5] == MAX_CAW, "MAXIMUM COMPARE AND WRITE LENGTH %d, expected %d"
             % (data[5], MAX_CAW)):
        print("ok  : Block Limits: MAXIMUM COMPARE AND WRITE LENGTH %d" % data[5], flush=True)


def semantics(s, lun, name):
    a, b, c = pattern(1 + lun, 2 * BLOCK), pattern(11 + lun, 2 * BLOCK), pattern(21 + lun, 2 * BLOCK)
    write(s, lun, 10, a)
    expect_good("%s: COMPARE AND WRITE of 2 blocks that match" % name, caw(s, lun, 10, a, b))
    check(read(s, lun, 10, 2) == b, "%s: the write instance is not on the medium" % name)
    for fmt, d_sense in (("fixed", False), ("descriptor", True)):
        set_d_sense(s, lun, d_sense)
        bad = bytearray(b)
        bad[BLOCK + 77] ^= 0x40  # in the second block
        expect_sense("%s: miscompare at byte %d, %s sense" % (name, BLOCK + 77, fmt),
                     caw(s, lun, 10, bytes(bad), c), SK_MISCOMPARE, MISCOMPARE_DURING_VERIFY,
                     BLOCK + 77)
        check(read(s, lun, 10, 2) == b, "%s: a miscompare wrote (%s)" % (name, fmt))
    set_d_sense(s, lun, False)
    expect_good("%s: FUA and DPO" % name, caw(s, lun, 10, b, c, flags=0x18))
    check(read(s, lun, 10, 2) == c, "%s: the FUA write is not on the medium" % name)
    # The largest range, ending on the last block.
    last = capacity(s, lun)
    big_old, big_new = pattern(31, MAX_CAW * BLOCK), pattern(32, MAX_CAW * BLOCK)
    write(s, lun, last - MAX_CAW, big_old)
    expect_good("%s: %d blocks at the end" % (name, MAX_CAW),
                caw(s, lun, last - MAX_CAW, big_old, big_new))
    check(read(s, lun, last - MAX_CAW, MAX_CAW) == big_new, "%s: %d blocks not written"
          % (name, MAX_CAW))


def refusals(s):
    one = pattern(41, BLOCK)
    write(s, LUN_FILE, 20, one)
    expect_sense("129 blocks", caw(s, LUN_FILE, 20, pattern(42, 129 * BLOCK), bytes(129 * BLOCK)),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(13, None))
    expect_sense("256 blocks (the one-byte length wraps to 0)",
                 caw(s, LUN_FILE, 20, bytes(256 * BLOCK), bytes(256 * BLOCK)),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(13, None))
    last = capacity(s, LUN_FILE)
    expect_sense("2 blocks from the last one", caw(s, LUN_FILE, last - 1, bytes(2 * BLOCK),
                                                   bytes(2 * BLOCK)),
                 SK_ILLEGAL_REQUEST, LBA_OUT_OF_RANGE)
    expect_sense("WRPROTECT 1", caw(s, LUN_FILE, 20, one, one, flags=0x20),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_CDB, fp=(1, 7))
    expect_sense("1 block with 4 blocks of Data-Out",
                 caw(s, LUN_FILE, 20, one + one, one + one, nblocks=1),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_INFO_UNIT)
    expect_sense("3 blocks with 4 blocks of Data-Out",
                 caw(s, LUN_FILE, 20, one + one, one + one, nblocks=3),
                 SK_ILLEGAL_REQUEST, INVALID_FIELD_IN_INFO_UNIT)
    check(read(s, LUN_FILE, 20) == one, "a refused COMPARE AND WRITE wrote")
    expect_good("0 blocks", cmd(s, caw_cdb(20, 0), lun=LUN_FILE))
    ready(s, LUN_RO)
    expect_sense("read-only LUN", caw(s, LUN_RO, 0, bytes(BLOCK), one),
                 SK_DATA_PROTECT, WRITE_PROTECTED)
    # nullio: the medium reads as zeros and keeps nothing.
    ready(s, LUN_NULL)
    expect_good("nullio: zeros compare equal", caw(s, LUN_NULL, 5, bytes(BLOCK), one))
    expect_sense("nullio: the write was not kept", caw(s, LUN_NULL, 5, one, one),
                 SK_MISCOMPARE, MISCOMPARE_DURING_VERIFY, 0)


# ---- concurrency ----

COUNTER_LBA = 1000
NEIGHBOURS = (COUNTER_LBA - 1, COUNTER_LBA + 1)


def counter_block(value):
    return struct.pack(">Q", value) + pattern(7, BLOCK - 8)


def counter_worker(t, lun, seconds, out, idx):
    s = t.login(KEYS, False, False)
    ready(s, lun)
    wins = misses = 0
    end = time.monotonic() + seconds
    cur = read(s, lun, COUNTER_LBA)
    while time.monotonic() < end:
        value = struct.unpack(">Q", cur[:8])[0]
        status, _, sn = caw(s, lun, COUNTER_LBA, cur, counter_block(value + 1))
        if status == ic.STATUS_GOOD:
            wins += 1
            cur = counter_block(value + 1)
        elif sn and sn[:3] == (SK_MISCOMPARE,) + MISCOMPARE_DURING_VERIFY:
            misses += 1
            cur = read(s, lun, COUNTER_LBA)
        else:
            check(False, "counter worker %d: status 0x%02x sense %s" % (idx, status, sn))
            break
    s.logout()
    out[idx] = (wins, misses)


def neighbour_writer(t, lun, seconds, out, idx):
    s = t.login(KEYS, False, False)
    ready(s, lun)
    lba = NEIGHBOURS[idx]
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        n += 1
        write(s, lun, lba, struct.pack(">QQ", idx, n) + pattern(100 + idx, BLOCK - 16))
        # A write that spans the counter's neighbour and the blocks
        # before it, overlapping nothing of the counter.
        if idx == 0:
            write(s, lun, lba - 3, pattern(200, 3 * BLOCK) + struct.pack(">QQ", idx, n) +
                  pattern(100 + idx, BLOCK - 16))
    s.logout()
    out[idx] = n


def concurrency(t, lun, name, seconds):
    s = t.login(KEYS, False, False)
    ready(s, lun)
    write(s, lun, COUNTER_LBA, counter_block(0))
    counters, writers = [None] * 4, [None] * 2
    threads = [threading.Thread(target=counter_worker, args=(t, lun, seconds, counters, i))
               for i in range(4)]
    threads += [threading.Thread(target=neighbour_writer, args=(t, lun, seconds, writers, i))
                for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + 60)
    if not check(None not in counters and None not in writers, "%s: a worker did not finish"
                 % name):
        return
    wins = sum(w for w, _ in counters)
    misses = sum(m for _, m in counters)
    value = struct.unpack(">Q", read(s, lun, COUNTER_LBA)[:8])[0]
    if check(value == wins, "%s: counter %d after %d successful COMPARE AND WRITEs (lost updates)"
             % (name, value, wins)):
        print("ok  : %s: counter %d = successful COMPARE AND WRITEs of 4 sessions (%d miscompares)"
              % (name, value, misses), flush=True)
    check(read(s, lun, COUNTER_LBA)[8:] == pattern(7, BLOCK - 8), "%s: the counter block is torn"
          % name)
    check(misses > 0, "%s: no COMPARE AND WRITE ever met another: no contention" % name)
    for idx, lba in enumerate(NEIGHBOURS):
        want = struct.pack(">QQ", idx, writers[idx]) + pattern(100 + idx, BLOCK - 16)
        if check(read(s, lun, lba) == want, "%s: neighbour LBA %d does not hold its last write"
                 % (name, lba)):
            print("ok  : %s: neighbour LBA %d holds its last of %d writes" % (name, lba, writers[idx]),
                  flush=True)
    s.logout()


# ---- a waiting COMPARE AND WRITE ended by ABORT TASK or its session's end ----

# MAXIMUM WRITE SAME LENGTH: 64 MiB, below 2^16 blocks (vdisk_write_same.c).
WS_BLOCKS = min(64 * 1024 * 1024 // BLOCK, 0xFFFF)
WS_SESSIONS = 8


def send_long_write_same(s, lun):
    """A WRITE SAME(16) with NDOB (zeros, no Data-Out) of 64 MiB from LBA
    0 on an O_DIRECT LUN, not waited for: a writer a COMPARE AND WRITE
    in its range waits for. Returns its ITT."""
    cdb = struct.pack(">BBQIBB", 0x93, 0x01, 0, WS_BLOCKS, 0, 0)
    return s.send_scsi(cdb, lun=lun)[0]


def send_caw_parked(s, lun, lba, verify, new):
    """Sends a COMPARE AND WRITE and its solicited Data-Out; returns its
    ITT and CmdSN. It then waits in the target for the range lock."""
    data = verify + new
    itt, sn = s.send_scsi(caw_cdb(lba, len(verify) // BLOCK), edtl=len(data), write=True, lun=lun)
    pdu = s.recv_pdu()
    if not check(pdu.opcode == 0x31 and pdu.itt == itt, "expected an R2T, got %r" % pdu):
        return itt, sn
    s._send_data_out(itt, pdu.u32(20), data, pdu.u32(40), pdu.u32(44), None, [0])
    return itt, sn


def waiting_caw(t, lun):
    """Several sessions write 64 MiB of zeros each with WRITE SAME, at
    once (writes of different nexuses run side by side); two COMPARE AND
    WRITEs inside that range wait for them. One is aborted, the other's
    session goes away: both must end before the writes do, and neither
    may write."""
    s = t.login(KEYS, False, False)
    ready(s, lun)
    write(s, lun, 5, pattern(51, 2 * BLOCK))
    wss = [t.login(KEYS, False, False) for _ in range(WS_SESSIONS)]
    for w in wss:
        ready(w, lun)
    gone = t.login(KEYS, False, False)
    ready(gone, lun)

    t0 = time.monotonic()
    ws_itts = [send_long_write_same(w, lun) for w in wss]
    time.sleep(0.02)  # the WRITE SAMEs are executing
    itt, sn = send_caw_parked(s, lun, 5, bytes(BLOCK), pattern(52, BLOCK))
    send_caw_parked(gone, lun, 6, bytes(BLOCK), pattern(53, BLOCK))
    time.sleep(0.02)  # both are parked behind them
    gone.close()
    tmf = s.send_tmf(ic.TMF_ABORT_TASK, lun=lun, ref_itt=itt, ref_cmd_sn=sn)
    others = []
    code = s.wait_tmf(tmf, others=others)
    t_tmf = time.monotonic() - t0
    check(code == ic.TMF_RSP_COMPLETE, "ABORT TASK of the waiting COMPARE AND WRITE: %d" % code)
    check(not [p for p in others if p.opcode == ic.OP_SCSI_RSP and p.itt == itt],
          "the aborted COMPARE AND WRITE got a response")
    t_first = None
    for w, ws_itt in zip(wss, ws_itts):
        w.sock.settimeout(120)
        status, _ = w.wait_response(ws_itt)
        t_first = t_first or time.monotonic() - t0
        check(status == ic.STATUS_GOOD, "a 64 MiB WRITE SAME: status 0x%02x" % status)
        w.logout()
    if check(t_tmf < t_first, "ABORT TASK answered after %.3f s, once the first WRITE SAME it "
             "waited for had ended (%.3f s)" % (t_tmf, t_first)):
        print("ok  : ABORT TASK of a waiting COMPARE AND WRITE answered in %.3f s, the first of "
              "the WRITE SAMEs it waited for ended after %.3f s" % (t_tmf, t_first), flush=True)
    # Neither wrote: the WRITE SAMEs' zeros are there.
    check(read(s, lun, 5, 2) == bytes(2 * BLOCK), "an ended COMPARE AND WRITE wrote")
    expect_good("COMPARE AND WRITE after the two ended ones",
                caw(s, lun, 5, bytes(2 * BLOCK), pattern(54, 2 * BLOCK)))
    s.logout()


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    seconds = float(sys.argv[4])
    s = t.login(KEYS, False, False)
    for lun in (LUN_BLOCK, LUN_NULL, LUN_RO):
        ready(s, lun)
    block_limits(s)
    semantics(s, LUN_FILE, "fileio")
    semantics(s, LUN_BLOCK, "blockio")
    refusals(s)
    s.logout()
    concurrency(t, LUN_BLOCK, "blockio", seconds)
    concurrency(t, LUN_FILE, "fileio", seconds)
    waiting_caw(t, LUN_BLOCK)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
