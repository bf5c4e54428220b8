#!/usr/bin/env python3
"""Header and data digests (CRC32C), with the parameters real initiators
negotiate, and what the target does with a wrong digest.

usage: digests.py PORT TARGET_IQN INITIATOR_IQN

1. For the login profiles of open-iscsi (both iscsid.conf data settings),
   VMware ESXi and the Windows initiator, each with HeaderDigest x
   DataDigest in {None, CRC32C}: log in, check the target's answers, write
   sizes that cross FirstBurstLength and MaxBurstLength (immediate data,
   unsolicited Data-Out, R2T sequences), read them back and compare. Every
   PDU from the target has its digests checked and its data segment held
   to our MaxRecvDataSegmentLength.
2. A wrong data digest (RFC 7143 7.8): on a solicited or an unsolicited
   Data-Out, Reject (Data Digest Error) and then CHECK CONDITION, ABORTED
   COMMAND, PROTOCOL SERVICE CRC ERROR (47h/05h) once the data phase is
   over, nothing written; on a SCSI Command's immediate data, Reject and
   the command discarded (CmdSN not taken), so that its retry succeeds.
   The connection goes on in every case.
3. A wrong header digest: the connection is closed, and the target still
   accepts new ones.
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

BLOCK = 512
MiB = 1024 * 1024

# What each initiator offers (its defaults, as documented by its vendor
# or shipped in its configuration file).
PROFILES = [
    ("open-iscsi", [("InitialR2T", "No"), ("ImmediateData", "Yes"),
                    ("MaxRecvDataSegmentLength", "262144"), ("FirstBurstLength", "262144"),
                    ("MaxBurstLength", "16776192"), ("MaxOutstandingR2T", "1"),
                    ("ErrorRecoveryLevel", "0")]),
    ("open-iscsi InitialR2T=Yes ImmediateData=No",
     [("InitialR2T", "Yes"), ("ImmediateData", "No"),
      ("MaxRecvDataSegmentLength", "262144"), ("FirstBurstLength", "262144"),
      ("MaxBurstLength", "16776192"), ("MaxOutstandingR2T", "1"), ("ErrorRecoveryLevel", "0")]),
    ("VMware ESXi", [("InitialR2T", "No"), ("ImmediateData", "Yes"),
                     ("MaxRecvDataSegmentLength", "131072"), ("FirstBurstLength", "65536"),
                     ("MaxBurstLength", "262144"), ("MaxOutstandingR2T", "1"),
                     ("DataPDUInOrder", "Yes"), ("DataSequenceInOrder", "Yes"),
                     ("ErrorRecoveryLevel", "0")]),
    ("Windows", [("InitialR2T", "No"), ("ImmediateData", "Yes"),
                 ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
                 ("MaxBurstLength", "262144"), ("MaxOutstandingR2T", "1"),
                 ("ErrorRecoveryLevel", "2")]),
]
# One sector; just over a 64 KiB first burst; past a 256 KiB first burst;
# several MaxBurstLength sequences after the unsolicited data.
SIZES = [512, 65 * 1024 + 512, 300 * 1024, MiB + 4096]
TARGET_MAX_BURST = 1048576  # uscstd's default MaxBurstLength / FirstBurstLength

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return cond


def pattern(seed, n):
    """Pseudo-random bytes, distinct per seed (fast: one block hashed)."""
    out = bytearray()
    x = (seed * 0x9E3779B97F4A7C15 + 1) & 0xFFFFFFFFFFFFFFFF
    block = bytearray()
    for _ in range(64):
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        block += struct.pack("<Q", x)
    i = 0
    while len(out) < n:
        # Each 512-byte block differs (its index and the seed in front).
        out += struct.pack("<II", seed, i) + block[8:]
        i += 1
    return bytes(out[:n])


class Target:
    def __init__(self, port, iqn, initiator):
        self.port, self.iqn, self.initiator = port, iqn, initiator
        self.isid_counter = 0

    def login(self, keys, hd, dd, isid=None):
        s = ic.Session(self.port)
        if isid is None:
            self.isid_counter += 1
            isid = bytes([0x80, 0, 0x02, 0x3d, 0, self.isid_counter & 0xFF])
        offers = [("HeaderDigest", "CRC32C,None" if hd else "None"),
                  ("DataDigest", "CRC32C,None" if dd else "None")] + keys
        s.login(self.initiator, self.iqn, isid, offers)
        s.isid = isid
        # The first command of a session may meet a unit attention.
        for _ in range(3):
            status, _ = s.test_unit_ready()
            if status == ic.STATUS_GOOD:
                break
        return s


def check_answers(name, s, keys, hd, dd):
    offered = dict(keys)
    a = s.params
    check(a.get("HeaderDigest") == ("CRC32C" if hd else "None"),
          "%s: HeaderDigest answer %s" % (name, a.get("HeaderDigest")))
    check(a.get("DataDigest") == ("CRC32C" if dd else "None"),
          "%s: DataDigest answer %s" % (name, a.get("DataDigest")))
    check(a.get("ImmediateData") == offered["ImmediateData"],
          "%s: ImmediateData answer %s" % (name, a.get("ImmediateData")))
    check(a.get("InitialR2T") == offered["InitialR2T"],
          "%s: InitialR2T answer %s" % (name, a.get("InitialR2T")))
    for key in ("FirstBurstLength", "MaxBurstLength"):
        want = min(int(offered[key]), TARGET_MAX_BURST)
        check(a.get(key) == str(want), "%s: %s answer %s, expected %d" % (name, key, a.get(key), want))
    check(a.get("ErrorRecoveryLevel") == "0",
          "%s: ErrorRecoveryLevel answer %s" % (name, a.get("ErrorRecoveryLevel")))
    check(a.get("MaxOutstandingR2T") == "1",
          "%s: MaxOutstandingR2T answer %s" % (name, a.get("MaxOutstandingR2T")))
    check(int(a.get("MaxRecvDataSegmentLength", "0")) >= 512,
          "%s: target declared no MaxRecvDataSegmentLength" % name)


def write_read(name, s, lba, seed):
    ok = True
    for i, n in enumerate(SIZES):
        data = pattern(seed * 16 + i, n)
        status, rsp = s.write10(lba, data)
        ok &= check(status == ic.STATUS_GOOD, "%s: WRITE(10) of %d bytes: status 0x%02x %s"
                    % (name, n, status, ic.sense_key_asc(rsp)))
        status, back, _ = s.read10(lba, n)
        ok &= check(status == ic.STATUS_GOOD and back == data,
                    "%s: %d bytes read back differ (status 0x%02x)" % (name, n, status))
        lba += (n + MiB - 1) // MiB * (MiB // BLOCK)
    return ok


def profiles(t):
    area = 0
    for pname, keys in PROFILES:
        for hd in (False, True):
            for dd in (False, True):
                name = "%s HeaderDigest=%s DataDigest=%s" % (
                    pname, "CRC32C" if hd else "None", "CRC32C" if dd else "None")
                before = len(failures)
                try:
                    s = t.login(keys, hd, dd)
                    check_answers(name, s, keys, hd, dd)
                    write_read(name, s, area * 4 * MiB // BLOCK, area + 1)
                    s.logout()
                    detail = "%d PDUs, %d digests checked" % (s.pdus_received, s.digests_checked)
                    if hd or dd:
                        check(s.digests_checked > 0, "%s: no digest checked" % name)
                except (ic.ProtocolError, ic.ConnectionClosed, OSError) as e:
                    check(False, "%s: %s" % (name, e))
                    detail = ""
                print("%s: %s (%s)" % ("ok  " if len(failures) == before else "FAIL", name,
                                       detail), flush=True)
                area += 1


# ---------------------------------------------------------------- errors

ERR_KEYS_R2T = [("InitialR2T", "Yes"), ("ImmediateData", "No"),
                ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
                ("MaxBurstLength", "65536"), ("MaxOutstandingR2T", "1"),
                ("ErrorRecoveryLevel", "0")]
ERR_KEYS_UNSOL = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
                  ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
                  ("MaxBurstLength", "65536"), ("MaxOutstandingR2T", "1"),
                  ("ErrorRecoveryLevel", "0")]
ERR_LBA = 200 * MiB // BLOCK


def expect_crc_failure(name, s, lba, old, new, bad_pdu):
    """Writes @new over @old with PDU number @bad_pdu's data digest
    corrupted: expects the Reject, CHECK CONDITION 0B/47/05, @old intact,
    and the connection still serving."""
    others = []
    status, rsp = s.write10(lba, new, bad_pdu=bad_pdu, others=others)
    rejects = [p for p in others if p.opcode == ic.OP_REJECT]
    check(len(rejects) == 1 and len(others) == 1,
          "%s: expected exactly one Reject before the response, got %r" % (name, others))
    if rejects:
        r = rejects[0]
        check(r.bhs[2] == ic.REJECT_DATA_DIGEST,
              "%s: Reject reason 0x%02x, expected 0x02" % (name, r.bhs[2]))
        check(len(r.data) >= 48 and r.data[0] & 0x3F == ic.OP_DATA_OUT,
              "%s: the Reject does not carry the Data-Out's header" % name)
    check(status == ic.STATUS_CHECK_CONDITION and ic.sense_key_asc(rsp) == (0x0B, 0x47, 0x05),
          "%s: status 0x%02x sense %r, expected CHECK CONDITION 0B/47/05"
          % (name, status, ic.sense_key_asc(rsp)))
    status, back, _ = s.read10(lba, len(old))
    check(status == ic.STATUS_GOOD and back == old,
          "%s: the LUN does not hold the old data after the failed write" % name)
    # The command's retry (a new command at ERL 0) works on the same connection.
    status, _ = s.write10(lba, new)
    status2, back, _ = s.read10(lba, len(new))
    check(status == ic.STATUS_GOOD and status2 == ic.STATUS_GOOD and back == new,
          "%s: the write after the digest error did not succeed" % name)


# Data-Out digest errors. Our Data-Out segments are cut to 16 KiB, so with
# 64 KiB bursts a 196 KiB write is, by PDU ordinal:
#   InitialR2T=Yes, ImmediateData=No: 1 the command; 2-5 the first R2T's
#     burst; 6-9 the second's; 10-13 the third's; 14 the fourth's.
#   InitialR2T=No, ImmediateData=Yes: 1 the command with 16 KiB immediate
#     data; 2-4 unsolicited Data-Out (to FirstBurstLength); 5-8 the first
#     R2T's burst; ...
DATA_OUT_CASES = [
    ("solicited Data-Out in the middle of a burst", ERR_KEYS_R2T, 3),
    ("solicited Data-Out ending a burst", ERR_KEYS_R2T, 9),
    ("unsolicited Data-Out", ERR_KEYS_UNSOL, 2),
    ("solicited Data-Out after unsolicited data", ERR_KEYS_UNSOL, 6),
]


def data_out_digest_errors(t):
    for i, (label, keys, ordinal) in enumerate(DATA_OUT_CASES):
        name = "data digest error in a " + label
        before = len(failures)
        try:
            s = t.login(keys, True, True)
            s.target_mrdsl = min(s.target_mrdsl, 16384)
            lba = ERR_LBA + i * MiB // BLOCK
            old = pattern(1000 + i, 3 * 65536 + 4096)
            new = pattern(2000 + i, len(old))
            status, _ = s.write10(lba, old)
            check(status == ic.STATUS_GOOD, "%s: first write failed" % name)
            expect_crc_failure(name, s, lba, old, new, ordinal)
            s.logout()
        except (ic.ProtocolError, ic.ConnectionClosed, OSError) as e:
            check(False, "%s: %s" % (name, e))
        print("%s: %s" % ("ok  " if len(failures) == before else "FAIL", name), flush=True)


def immediate_data_digest_error(t):
    name = "data digest error in a SCSI Command's immediate data"
    before = len(failures)
    try:
        s = t.login(ERR_KEYS_UNSOL, True, True)
        lba = ERR_LBA + 16 * MiB // BLOCK
        old = pattern(3000, 8192)
        new = pattern(3001, 8192)
        check(s.write10(lba, old)[0] == ic.STATUS_GOOD, "%s: first write failed" % name)
        cmd_sn = s.cmd_sn
        itt = s.write10(lba, new, bad_pdu=1, wait=False)
        rej = s.recv_pdu()
        check(rej.opcode == ic.OP_REJECT and rej.bhs[2] == ic.REJECT_DATA_DIGEST,
              "%s: expected Reject 0x02, got %r" % (name, rej))
        check(len(rej.data) >= 48 and rej.data[0] & 0x3F == ic.OP_SCSI_CMD and
              struct.unpack(">I", rej.data[16:20])[0] == itt,
              "%s: the Reject does not carry the command's header" % name)
        # The command was discarded: no response for it, and ExpCmdSN
        # has not moved past its CmdSN.
        nop = s.nop()
        check(nop.u32(28) == cmd_sn,
              "%s: ExpCmdSN %d after the discarded command, expected %d"
              % (name, nop.u32(28), cmd_sn))
        # Retry: same ITT, same CmdSN (RFC 7143 6.2.1).
        status, rsp = s.write10(lba, new, itt=itt, cmd_sn=cmd_sn)
        check(status == ic.STATUS_GOOD, "%s: the retried command failed: 0x%02x %r"
              % (name, status, ic.sense_key_asc(rsp)))
        status, back, _ = s.read10(lba, len(new))
        check(status == ic.STATUS_GOOD and back == new, "%s: retried data not on the LUN" % name)
        s.logout()
    except (ic.ProtocolError, ic.ConnectionClosed, OSError) as e:
        check(False, "%s: %s" % (name, e))
    print("%s: %s" % ("ok  " if len(failures) == before else "FAIL", name), flush=True)


def header_digest_error(t):
    name = "header digest error"
    before = len(failures)
    try:
        s = t.login(ERR_KEYS_UNSOL, True, False)
        closed = False
        try:
            pdu = s.nop(bad_header_digest=True)
            check(False, "%s: the target answered %r" % (name, pdu))
        except ic.ConnectionClosed:
            closed = True
        except OSError as e:  # timeout
            check(False, "%s: connection not closed: %s" % (name, e))
        check(closed, "%s: the target kept the connection" % name)
        s.close()
        # The target still serves: a new session reads the LUN.
        s = t.login(ERR_KEYS_UNSOL, True, True)
        status, _, _ = s.read10(ERR_LBA, 4096)
        check(status == ic.STATUS_GOOD, "%s: READ on a new connection failed" % name)
        s.logout()
    except (ic.ProtocolError, ic.ConnectionClosed, OSError) as e:
        check(False, "%s: %s" % (name, e))
    print("%s: %s" % ("ok  " if len(failures) == before else "FAIL", name), flush=True)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    start = time.time()
    profiles(t)
    data_out_digest_errors(t)
    immediate_data_digest_error(t)
    header_digest_error(t)
    print("digests: %s in %.1f s" % ("FAILED (%d)" % len(failures) if failures else "all passed",
                                      time.time() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
