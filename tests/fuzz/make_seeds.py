#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz harnesses (tests/fuzz/corpus/).

    tests/fuzz/make_seeds.py [CORPUS_DIR]

Each seed is a file named after what it does; running the script again
rewrites the same bytes, so the committed corpus can be regenerated and
diffed. Files the fuzzer added to a corpus directory (named by their hash)
are left alone.

connection/  record scripts for fuzz_connection.c: one record is
             [flags][length, 2 bytes big-endian][bytes for the connection];
             flags bits 0-1 = connection slot, 0x04 = sync first (the
             target has read everything before), 0x08 = join (the first
             PDU's TSIH becomes the last session's: MC/S), 0x10 = echo
             the connection's last TTT into the first PDU, 0x20 = put
             the next StatSN into its ExpStatSN, 0x40 = vanish after
             (close at once), 0x80 = close after (orderly shutdown).
             The initiator side is scripted blind: CmdSNs, ITTs and the
             R2T TTTs (1, 2, ... per connection) are predicted, and the
             patch bits correct what cannot be.
login_keys/  [mode byte][key=value\\0...] for fuzz_login_keys.c.
config/      scst.conf texts for fuzz_config.c.
rpc/         [piece size byte][JSON-RPC byte stream] for fuzz_rpc.c.
"""
import base64
import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from iscsi_client import (FINAL, IMMEDIATE, OP_DATA_OUT, OP_LOGIN_REQ,  # noqa: E402
                          OP_LOGOUT_REQ, OP_NOP_OUT, OP_SCSI_CMD, RESERVED_TAG, bhs,
                          digest_bytes)

TARGET = "iqn.2026-11.org.uscst:fuzz"
TARGET_R2T = "iqn.2026-11.org.uscst:fuzz-r2t"
INITIATOR = "iqn.2026-11.org.uscst:fuzz-initiator"
OP_TMF_REQ, OP_TEXT_REQ, OP_SNACK_REQ = 0x02, 0x04, 0x10
TMF_ABORT_TASK, TMF_ABORT_TASK_SET, TMF_CLEAR_TASK_SET = 1, 2, 4
TMF_LUN_RESET, TMF_TARGET_WARM_RESET = 5, 6
TMF_TASK_REASSIGN = 8  # RFC 7143 11.5.1
READ, WRITE, SIMPLE = 0x40, 0x20, 0x01
# SNACK types (RFC 7143 11.16): Data/R2T, Status, DataACK, R-Data.
SNACK_DATA_R2T, SNACK_STATUS, SNACK_DATA_ACK, SNACK_RDATA = 0, 1, 2, 3
# Logout reasons: close the session, close a connection, remove a
# connection for recovery.
LOGOUT_SESSION, LOGOUT_CONNECTION, LOGOUT_RECOVERY = 0, 1, 2

SYNC, JOIN, ECHO_TTT, ACK, VANISH, CLOSE = 0x04, 0x08, 0x10, 0x20, 0x40, 0x80

OPERATIONAL_KEYS = [
    ("HeaderDigest", "None"), ("DataDigest", "None"),
    ("InitialR2T", "No"), ("ImmediateData", "Yes"),
    ("MaxRecvDataSegmentLength", "262144"), ("MaxBurstLength", "262144"),
    ("FirstBurstLength", "65536"), ("MaxOutstandingR2T", "1"),
    ("DataPDUInOrder", "Yes"), ("DataSequenceInOrder", "Yes"),
    ("DefaultTime2Wait", "0"), ("DefaultTime2Retain", "0"),
    ("ErrorRecoveryLevel", "0"), ("MaxConnections", "1"),
]


def text(pairs):
    return b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs)


def keys_with(**values):
    """OPERATIONAL_KEYS with some values changed."""
    out = [(k, str(values.pop(k, v))) for k, v in OPERATIONAL_KEYS]
    assert not values, values
    return out


# What a connection joining a session negotiates (its own keys; the
# session's are the leading connection's).
JOIN_KEYS = [("HeaderDigest", "None"), ("DataDigest", "None"),
             ("MaxRecvDataSegmentLength", "262144")]


class Initiator:
    """One connection's PDUs, built without seeing the target's answers."""

    def __init__(self, isid=b"\x80\x00\x00\x00\x00\x01", name=INITIATOR, target=TARGET,
                 lead=None, cid=0):
        self.isid = isid
        self.name = name
        self.target = target
        # A connection joining @lead's session shares its CmdSN and ITT
        # sequences (both are session-wide, RFC 7143 4.2).
        self.lead = lead
        self.cid = cid
        if lead is None:
            self._cmd_sn = 1
            self._itt = 0x100
        self.digests = False

    def joined(self, cid):
        """Another connection of this session, with CID @cid."""
        return Initiator(self.isid, self.name, self.target, lead=self.lead or self, cid=cid)

    @property
    def cmd_sn(self):
        return (self.lead or self)._cmd_sn

    @cmd_sn.setter
    def cmd_sn(self, v):
        (self.lead or self)._cmd_sn = v

    @property
    def itt(self):
        return (self.lead or self)._itt

    @itt.setter
    def itt(self, v):
        (self.lead or self)._itt = v

    def next_itt(self):
        self.itt += 1
        return self.itt

    def take_cmd_sn(self):
        sn = self.cmd_sn
        self.cmd_sn += 1
        return sn

    def pdu(self, b, data=b""):
        b = bytearray(b)
        b[5:8] = len(data).to_bytes(3, "big")
        wire = bytes(b)
        if self.digests:
            wire += digest_bytes(bytes(b))
        if data:
            padded = data + b"\0" * ((4 - len(data) % 4) % 4)
            wire += padded
            if self.digests:
                wire += digest_bytes(padded)
        return wire

    def login(self, keys=OPERATIONAL_KEYS, discovery=False, security_stage=False, tsih=0,
              absorb_ua=True):
        """Login PDUs; for a normal session followed by a TEST UNIT READY
        that takes the new nexus's POWER ON unit attention, so that the
        seed's next commands run."""
        ident = [("InitiatorName", self.name)]
        if discovery:
            ident.append(("SessionType", "Discovery"))
        else:
            ident += [("TargetName", self.target), ("SessionType", "Normal")]
        out = b""
        itt = self.next_itt()

        def req(flags, data):
            b = bhs(OP_LOGIN_REQ | IMMEDIATE, flags, itt, word20=self.cid << 16,
                    word24=self.cmd_sn)
            b[8:14] = self.isid
            b[14:16] = struct.pack(">H", tsih)
            return self.pdu(b, data)
        if security_stage:
            # T=1, CSG=security (0), NSG=operational (1).
            out += req(0x80 | 1, text(ident + [("AuthMethod", "None")]))
            ident = []
        # T=1, CSG=operational (1), NSG=full feature (3).
        out += req(0x80 | (1 << 2) | 3, text(ident + list(keys)))
        if absorb_ua and not discovery:
            out += self.scsi(TEST_UNIT_READY, FINAL)
        return out

    def join_login(self, keys=JOIN_KEYS, predicted_tsih=1):
        """The Login Request of a connection joining the session: sent
        with the JOIN record flag, which puts the session's TSIH in."""
        return self.login(keys=keys, tsih=predicted_tsih, absorb_ua=False)

    def scsi(self, cdb, flags, edtl=0, data=b"", lun=0, itt=None, cmd_sn=None,
             immediate=False):
        itt = itt if itt is not None else self.next_itt()
        if cmd_sn is None:
            cmd_sn = self.cmd_sn if immediate else self.take_cmd_sn()
        cdb = cdb + b"\0" * (16 - len(cdb))
        op = OP_SCSI_CMD | (IMMEDIATE if immediate else 0)
        return self.pdu(bhs(op, flags | SIMPLE, itt, lun=lun, word20=edtl, word24=cmd_sn,
                            rest=cdb), data)

    def data_out(self, itt, offset, data, ttt=RESERVED_TAG, data_sn=0, final=True, lun=0):
        return self.pdu(bhs(OP_DATA_OUT, FINAL if final else 0, itt, lun=lun, word20=ttt,
                            rest=struct.pack(">III", 0, data_sn, offset)), data)

    def nop(self, data=b"", immediate=True):
        sn = self.cmd_sn if immediate else self.take_cmd_sn()
        op = OP_NOP_OUT | (IMMEDIATE if immediate else 0)
        return self.pdu(bhs(op, FINAL, self.next_itt(), word20=RESERVED_TAG, word24=sn), data)

    def tmf(self, fn, lun=0, ref_itt=RESERVED_TAG, ref_cmd_sn=0):
        return self.pdu(bhs(OP_TMF_REQ | IMMEDIATE, 0x80 | fn, self.next_itt(), lun=lun,
                            word20=ref_itt, word24=self.cmd_sn,
                            rest=struct.pack(">I", ref_cmd_sn)))

    def text_req(self, pairs, immediate=True, ttt=RESERVED_TAG, cont=False, itt=None,
                 raw=None):
        sn = self.cmd_sn if immediate else self.take_cmd_sn()
        op = OP_TEXT_REQ | (IMMEDIATE if immediate else 0)
        flags = 0x40 if cont else FINAL
        itt = itt if itt is not None else self.next_itt()
        data = raw if raw is not None else text(pairs)
        return self.pdu(bhs(op, flags, itt, word20=ttt, word24=sn), data)

    def logout(self, reason=0, immediate=True, cid=None):
        sn = self.cmd_sn if immediate else self.take_cmd_sn()
        op = OP_LOGOUT_REQ | (IMMEDIATE if immediate else 0)
        cid = self.cid if cid is None else cid
        return self.pdu(bhs(op, FINAL | reason, self.next_itt(), word20=cid << 16, word24=sn))

    def snack(self, kind, itt=RESERVED_TAG, beg_run=0, run_length=0, ttt=RESERVED_TAG, lun=0,
              exp_stat_sn=0):
        """A SNACK Request (opcode 0x10): no CmdSN; BegRun and RunLength
        count DataSNs, R2TSNs or StatSNs by @kind."""
        return self.pdu(bhs(OP_SNACK_REQ, FINAL | kind, itt, lun=lun, word20=ttt,
                            word28=exp_stat_sn, rest=struct.pack(">QII", 0, beg_run, run_length)))


# CDBs.
def inquiry(alloc=255, evpd=0, page=0):
    return struct.pack(">BBBHB", 0x12, evpd, page, alloc, 0)


def read10(lba, blocks):
    return struct.pack(">BBIBHB", 0x28, 0, lba, 0, blocks, 0)


def write10(lba, blocks):
    return struct.pack(">BBIBHB", 0x2A, 0, lba, 0, blocks, 0)


def read16(lba, blocks):
    return struct.pack(">BBQIBB", 0x88, 0, lba, blocks, 0, 0)


TEST_UNIT_READY = b"\0" * 6
REPORT_LUNS = struct.pack(">BBBBBBIBB", 0xA0, 0, 0, 0, 0, 0, 256, 0, 0)
READ_CAPACITY10 = b"\x25" + b"\0" * 9
MODE_SENSE6 = struct.pack(">BBBBBB", 0x1A, 0, 0x3F, 0, 255, 0)
REQUEST_SENSE = struct.pack(">BBBBBB", 0x03, 0, 0, 0, 252, 0)
SYNC_CACHE10 = b"\x35" + b"\0" * 9


class Script:
    def __init__(self):
        self.out = bytearray()

    def rec(self, slot, payload, flags=0):
        # A payload longer than one record goes out in several.
        while True:
            part, payload = payload[:0xFFFF], payload[0xFFFF:]
            last = not payload
            f = slot | (flags if last else flags & SYNC)
            self.out += struct.pack(">BH", f, len(part)) + part
            flags &= ~SYNC
            if last:
                return self


def block(n, fill):
    return bytes([fill]) * (512 * n)


def connection_seeds():
    seeds = {}

    # Login, a few SCSI commands, logout.
    i = Initiator()
    s = Script().rec(0, i.login())
    s.rec(0, i.scsi(inquiry(), READ | FINAL, 255) + i.scsi(TEST_UNIT_READY, FINAL)
          + i.scsi(REPORT_LUNS, READ | FINAL, 256) + i.scsi(READ_CAPACITY10, READ | FINAL, 8))
    s.rec(0, i.logout(), CLOSE)
    seeds["login_inquiry_logout"] = s

    # The security stage first, then the operational stage.
    i = Initiator()
    s = Script().rec(0, i.login(security_stage=True))
    s.rec(0, i.scsi(MODE_SENSE6, READ | FINAL, 255) + i.scsi(REQUEST_SENSE, READ | FINAL, 252))
    s.rec(0, i.logout(), CLOSE)
    seeds["login_security_stage"] = s

    # WRITE with immediate data, then READ back; then with immediate data
    # and unsolicited Data-Out (InitialR2T=No).
    i = Initiator()
    s = Script().rec(0, i.login())
    s.rec(0, i.scsi(write10(8, 2), WRITE | FINAL, 1024, block(2, 0xA5)))
    s.rec(0, i.scsi(read10(8, 2), READ | FINAL, 1024))
    itt = i.next_itt()
    s.rec(0, i.scsi(write10(16, 4), WRITE, 2048, block(2, 0x5A), itt=itt)
          + i.data_out(itt, 1024, block(2, 0x5B)))
    s.rec(0, i.scsi(read16(16, 4), READ | FINAL, 2048) + i.scsi(SYNC_CACHE10, FINAL))
    s.rec(0, i.logout(), CLOSE)
    seeds["write_immediate_and_unsolicited"] = s

    # Unsolicited data in two Data-Out PDUs, the first without F.
    i = Initiator()
    s = Script().rec(0, i.login())
    itt = i.next_itt()
    s.rec(0, i.scsi(write10(0, 6), WRITE, 3072, block(2, 1), itt=itt)
          + i.data_out(itt, 1024, block(2, 2), data_sn=0, final=False)
          + i.data_out(itt, 2048, block(2, 3), data_sn=1))
    s.rec(0, i.logout(), CLOSE)
    seeds["write_unsolicited_two_data_out"] = s

    # A write the target solicits: the R2T target (InitialR2T=Yes) sends
    # R2T TTT 1 for the part beyond the immediate data.
    i = Initiator(target=TARGET_R2T)
    s = Script().rec(0, i.login(keys=[k for k in OPERATIONAL_KEYS if k[0] != "InitialR2T"]))
    itt = i.next_itt()
    s.rec(0, i.scsi(write10(0, 4), WRITE | FINAL, 2048, block(2, 7), itt=itt))
    s.rec(0, i.data_out(itt, 1024, block(2, 8), ttt=1), SYNC)
    s.rec(0, i.scsi(read10(0, 4), READ | FINAL, 2048))
    s.rec(0, i.logout(), CLOSE)
    seeds["write_r2t_solicited"] = s

    # NOP-Out pings, immediate and not, with data.
    i = Initiator()
    s = Script().rec(0, i.login())
    s.rec(0, i.nop(b"ping data") + i.nop(immediate=False) + i.nop(b"x" * 600))
    s.rec(0, i.logout(), CLOSE)
    seeds["nop_out"] = s

    # ABORT TASK naming a WRITE that waits for its unsolicited Data-Out;
    # the Data-Out then arrives for the aborted task.
    i = Initiator()
    s = Script().rec(0, i.login())
    itt = i.next_itt()
    wsn = i.cmd_sn
    s.rec(0, i.scsi(write10(0, 4), WRITE, 2048, block(2, 9), itt=itt))
    s.rec(0, i.tmf(TMF_ABORT_TASK, ref_itt=itt, ref_cmd_sn=wsn), SYNC)
    s.rec(0, i.data_out(itt, 1024, block(2, 9)), SYNC)
    s.rec(0, i.scsi(TEST_UNIT_READY, FINAL))
    s.rec(0, i.logout(), CLOSE)
    seeds["abort_task_waiting_for_data"] = s

    # ABORT TASK naming a command held behind a CmdSN gap, then the gap
    # filled; and one naming a task that never existed.
    i = Initiator()
    s = Script().rec(0, i.login())
    gap = i.take_cmd_sn()
    held_itt = i.next_itt()
    held_sn = i.cmd_sn
    s.rec(0, i.scsi(read10(0, 2), READ | FINAL, 1024, itt=held_itt))
    s.rec(0, i.tmf(TMF_ABORT_TASK, ref_itt=held_itt, ref_cmd_sn=held_sn), SYNC)
    s.rec(0, i.scsi(TEST_UNIT_READY, FINAL, cmd_sn=gap), SYNC)
    s.rec(0, i.tmf(TMF_ABORT_TASK, ref_itt=0x7777, ref_cmd_sn=i.cmd_sn + 5))
    s.rec(0, i.logout(), CLOSE)
    seeds["abort_task_held_behind_gap"] = s

    # Two sessions on one LUN: B's LUN RESET while A's WRITE waits for
    # data; then A's data, A's new command, both log out.
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x0a")
    b = Initiator(isid=b"\x80\x00\x00\x00\x00\x0b")
    s = Script().rec(0, a.login()).rec(1, b.login())
    itt = a.next_itt()
    s.rec(0, a.scsi(write10(0, 4), WRITE, 2048, block(2, 0xA), itt=itt), SYNC)
    s.rec(1, b.tmf(TMF_LUN_RESET), SYNC)
    s.rec(0, a.data_out(itt, 1024, block(2, 0xA)), SYNC)
    s.rec(0, a.scsi(TEST_UNIT_READY, FINAL) + a.scsi(REQUEST_SENSE, READ | FINAL, 252))
    s.rec(1, b.scsi(inquiry(), READ | FINAL, 255))
    s.rec(0, a.logout(), CLOSE | SYNC).rec(1, b.logout(), CLOSE)
    seeds["lun_reset_across_sessions"] = s

    # The other task management functions, across two LUNs.
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x0c")
    b = Initiator(isid=b"\x80\x00\x00\x00\x00\x0d")
    s = Script().rec(0, a.login()).rec(1, b.login())
    itt = a.next_itt()
    s.rec(0, a.scsi(write10(0, 4), WRITE, 2048, block(2, 1), itt=itt), SYNC)
    itt1 = b.next_itt()
    s.rec(1, b.scsi(write10(0, 4), WRITE, 2048, block(2, 1), lun=1, itt=itt1), SYNC)
    s.rec(1, b.tmf(TMF_ABORT_TASK_SET, lun=1) + b.tmf(TMF_CLEAR_TASK_SET), SYNC)
    s.rec(0, a.tmf(TMF_TARGET_WARM_RESET), SYNC)
    s.rec(0, a.tmf(3) + a.tmf(8) + a.tmf(TMF_LUN_RESET, lun=7))
    s.rec(0, a.logout(), CLOSE).rec(1, b.logout(), CLOSE)
    seeds["tmf_kinds_two_sessions"] = s

    # Reinstatement: the same InitiatorName+ISID logs in on a second
    # connection while the first session has a WRITE waiting for data.
    a = Initiator()
    a2 = Initiator()
    s = Script().rec(0, a.login())
    itt = a.next_itt()
    s.rec(0, a.scsi(write10(0, 4), WRITE, 2048, block(2, 3), itt=itt), SYNC)
    # The new login waits for the old session; a PDU before its answer
    # would end it, so the next records sync first.
    s.rec(1, a2.login(absorb_ua=False), SYNC)
    s.rec(0, a.data_out(itt, 1024, block(2, 3)), SYNC)
    s.rec(1, a2.scsi(TEST_UNIT_READY, FINAL), SYNC)
    s.rec(1, a2.scsi(read10(0, 4), READ | FINAL, 2048) + a2.scsi(TEST_UNIT_READY, FINAL))
    s.rec(1, a2.logout(), CLOSE | SYNC)
    seeds["reinstatement_while_busy"] = s

    # Reinstatement three times over, the old connections vanishing or
    # left open.
    s = Script()
    for n in range(3):
        i = Initiator()
        s.rec(n % 3, i.login(absorb_ua=False), SYNC)
        s.rec(n % 3, i.scsi(inquiry(), READ | FINAL, 255), SYNC)
    s.rec(2, Initiator().nop(), VANISH)
    seeds["reinstatement_three_times"] = s

    # Log out, then log in again on a new connection with the same ISID.
    i = Initiator()
    s = Script().rec(0, i.login()).rec(0, i.scsi(TEST_UNIT_READY, FINAL))
    s.rec(0, i.logout(), CLOSE)
    j = Initiator()
    s.rec(0, j.login(), SYNC).rec(0, j.scsi(TEST_UNIT_READY, FINAL))
    s.rec(0, j.logout(reason=1), CLOSE)
    seeds["logout_then_login_again"] = s

    # Discovery session: SendTargets=All and a named target, then logout.
    i = Initiator(isid=b"\x80\x00\x00\x00\x00\x0e")
    s = Script().rec(0, i.login(keys=[("HeaderDigest", "None"), ("DataDigest", "None"),
                                      ("MaxRecvDataSegmentLength", "8192")], discovery=True))
    s.rec(0, i.text_req([("SendTargets", "All")]))
    s.rec(0, i.text_req([("SendTargets", TARGET_R2T)], immediate=False))
    s.rec(0, i.text_req([("SendTargets", "bogus"), ("X-Unknown", "1")]))
    s.rec(0, i.logout(), CLOSE)
    seeds["discovery_sendtargets"] = s

    # Text requests in a normal session, one split with the C bit.
    i = Initiator()
    s = Script().rec(0, i.login())
    s.rec(0, i.text_req([("SendTargets", "")]) + i.text_req([("MaxBurstLength", "512")]))
    s.rec(0, i.text_req([("X-a", "1")], cont=True) + i.text_req([("SendTargets", "All")]))
    s.rec(0, i.logout(), CLOSE)
    seeds["text_in_normal_session"] = s

    # Header and data digests (CRC32C).
    i = Initiator()
    keys = [("HeaderDigest", "CRC32C"), ("DataDigest", "CRC32C")] + OPERATIONAL_KEYS[2:]
    s = Script().rec(0, i.login(keys=keys, absorb_ua=False))
    i.digests = True
    s.rec(0, i.scsi(TEST_UNIT_READY, FINAL) + i.scsi(write10(0, 2), WRITE | FINAL, 1024, block(2, 4)) + i.nop(b"abcd"))
    s.rec(0, i.scsi(read10(0, 2), READ | FINAL, 1024))
    s.rec(0, i.logout(), CLOSE)
    seeds["digests_crc32c"] = s

    # PDUs dribbled over many records.
    i = Initiator()
    wire = i.login() + i.scsi(inquiry(), READ | FINAL, 255) + i.logout()
    s = Script()
    for off in range(0, len(wire), 37):
        s.rec(0, wire[off:off + 37])
    s.rec(0, b"", CLOSE)
    seeds["dribbled_pdus"] = s

    # The initiator vanishes in the middle of immediate data.
    i = Initiator()
    s = Script().rec(0, i.login())
    full = i.scsi(write10(0, 2), WRITE | FINAL, 1024, block(2, 6))
    s.rec(0, full[:48 + 500], VANISH)
    seeds["vanish_mid_immediate_data"] = s

    # ... and with a command waiting for Data-Out and a read in flight.
    i = Initiator()
    s = Script().rec(0, i.login())
    s.rec(0, i.scsi(write10(0, 4), WRITE, 2048, block(2, 6))
          + i.scsi(read10(0, 256), READ | FINAL, 131072), VANISH)
    seeds["vanish_with_commands"] = s


    # A write to the read-only LUN 1 and to a LUN that does not exist.
    i = Initiator()
    s = Script().rec(0, i.login())
    s.rec(0, i.scsi(write10(0, 2), WRITE | FINAL, 1024, block(2, 1), lun=1)
          + i.scsi(read10(0, 2), READ | FINAL, 1024, lun=1)
          + i.scsi(TEST_UNIT_READY, FINAL, lun=9))
    s.rec(0, i.logout(), CLOSE)
    seeds["read_only_and_missing_lun"] = s

    # Immediate SCSI commands and several in one batch.
    i = Initiator()
    s = Script().rec(0, i.login())
    batch = b"".join(i.scsi(read10(n * 8, 2), READ | FINAL, 1024) for n in range(8))
    s.rec(0, batch + i.scsi(TEST_UNIT_READY, FINAL, immediate=True))
    s.rec(0, i.logout(), CLOSE)
    seeds["batch_and_immediate_commands"] = s

    # Login failures: unknown target, no InitiatorName, a key twice.
    s = Script()
    s.rec(0, Initiator(target="iqn.2026-11.org.uscst:nosuch").login(absorb_ua=False), CLOSE)
    bad = Initiator()
    bad.name = ""
    s.rec(1, bad.login(absorb_ua=False), CLOSE)
    s.rec(2, Initiator().login(keys=OPERATIONAL_KEYS + [("MaxBurstLength", "512")],
                               absorb_ua=False), CLOSE)
    seeds["login_failures"] = s


    # A SCSI command right behind the Logout Request (issue 5, section 2;
    # the session used to stay forever).
    i = Initiator()
    s = Script().rec(0, i.login())
    s.rec(0, i.logout() + i.scsi(write10(0, 2), WRITE | FINAL, 1024, block(2, 2)), CLOSE)
    seeds["command_after_logout"] = s

    # A task management function covering a WRITE that waits for its
    # unsolicited Data-Out, on a live connection (it used to be answered
    # only once the data came; FUZZ_TRACE=1 shows the TMF Response for ITT
    # 0x104 ahead of the NOP-In).
    for fn, name in ((TMF_ABORT_TASK, "abort_task"), (TMF_LUN_RESET, "lun_reset")):
        a = Initiator()
        s = Script().rec(0, a.login())
        itt = a.next_itt()
        s.rec(0, a.scsi(write10(0, 4), WRITE, 2048, block(2, 1), itt=itt), SYNC)
        s.rec(0, a.tmf(fn, ref_itt=itt, ref_cmd_sn=2), SYNC)
        s.rec(0, a.nop(b"after"), SYNC)
        s.rec(0, a.logout(), CLOSE | SYNC)
        seeds["%s_unsolicited_wait" % name] = s

    # Reservations from two I_T nexuses: A registers (with SPEC_I_PT
    # naming B's port and a device TransportID) and reserves Write
    # Exclusive; B reads, writes (RESERVATION CONFLICT), reads every PR IN
    # report; B preempts and aborts A's WRITE waiting for its Data-Out;
    # RESERVE(6)/RELEASE(6); PR IN/OUT to an unmapped LUN; a REGISTER AND
    # MOVE with a TransportID cut short.
    def pr_out(sa, key, sa_key, scope_type=0, flags=0, extra=b""):
        params = struct.pack(">QQIBBH", key, sa_key, 0, flags, 0, 0) + extra
        cdb = struct.pack(">BBBHIB", 0x5F, sa, scope_type, 0, len(params), 0)
        return cdb, params

    def pr_in(sa, alloc=512):
        return struct.pack(">BBBIHB", 0x5E, sa, 0, 0, alloc, 0)

    def iscsi_tid(s, fmt):
        raw = s.encode() + b"\0"
        raw += b"\0" * (-len(raw) % 4)
        return bytes([fmt << 6 | 5, 0]) + struct.pack(">H", len(raw)) + raw

    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x0a", name=INITIATOR + "-pr-a")
    b = Initiator(isid=b"\x80\x00\x00\x00\x00\x0b", name=INITIATOR + "-pr-b")
    s = Script().rec(0, a.login()).rec(1, b.login(), SYNC)
    # Each nexus's first command collects its POWER ON unit attention.
    s.rec(0, a.scsi(TEST_UNIT_READY, FINAL)).rec(1, b.scsi(TEST_UNIT_READY, FINAL), SYNC)
    tids = iscsi_tid(INITIATOR + "-pr-b,i,0x80000000000b", 1) + iscsi_tid(INITIATOR + "-x", 0)
    cdb, p = pr_out(0, 0, 0xA, flags=0x08, extra=struct.pack(">I", len(tids)) + tids)
    s.rec(0, a.scsi(cdb, WRITE | FINAL, len(p), p), SYNC)
    cdb, p = pr_out(1, 0xA, 0, scope_type=0x01)
    s.rec(0, a.scsi(cdb, WRITE | FINAL, len(p), p), SYNC)
    s.rec(1, b.scsi(read10(0, 1), READ | FINAL, 512) + b.scsi(write10(0, 1), WRITE | FINAL, 512,
                                                              block(1, 3)), SYNC)
    s.rec(1, b"".join(b.scsi(pr_in(sa), READ | FINAL, 512) for sa in range(5)), SYNC)
    itt = a.next_itt()
    s.rec(0, a.scsi(write10(8, 4), WRITE, 2048, block(2, 4), itt=itt), SYNC)
    cdb, p = pr_out(5, 0xA, 0xA, scope_type=0x03)
    s.rec(1, b.scsi(cdb, WRITE | FINAL, len(p), p), SYNC)
    s.rec(0, a.data_out(itt, 1024, block(2, 5)), SYNC)
    s.rec(0, a.scsi(bytes([0x16, 0, 0, 0, 0, 0]), FINAL) + a.scsi(pr_in(3), READ | FINAL, 512, lun=5)
          + a.scsi(bytes([0x17, 0, 0, 0, 0, 0]), FINAL), SYNC)
    cdb, p = pr_out(7, 0xA, 0xB, scope_type=0x03,
                    extra=struct.pack(">I", 40) + iscsi_tid(INITIATOR + "-pr-a,i,0x8", 1)[:20])
    p = p[:16] + b"\0\x02\0\x01" + p[20:]
    s.rec(1, b.scsi(cdb, WRITE | FINAL, len(p), p), SYNC)
    s.rec(0, a.logout(), CLOSE | SYNC)
    s.rec(1, b.logout(), CLOSE | SYNC)
    seeds["reservations_two_nexuses"] = s

    seeds.update(mcs_seeds())
    seeds.update(text_ffp_seeds())
    seeds.update(snack_seeds())
    return {name: bytes(sc.out) for name, sc in seeds.items()}


def mcs_seeds():
    """Several connections in one session (issue 10, section 2): joins by
    TSIH (the JOIN record flag puts the session's in), one CmdSN sequence
    across connections, logout of one connection (reason 1) and for
    recovery (reason 2), connection loss, TASK REASSIGN."""
    seeds = {}
    mcs_keys = keys_with(MaxConnections=4)

    # Two connections: commands on both, CmdSN n+1 on connection 1 before
    # n on connection 0 (same blocks), NOP-Outs; connection 0 logs out
    # connection 1 by its CID, then a CID nobody has; then the session.
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x21")
    b = a.joined(1)
    s = Script().rec(0, a.login(keys=mcs_keys))
    s.rec(1, b.join_login(), JOIN)
    s.rec(1, b.scsi(write10(0, 2), WRITE | FINAL, 1024, block(2, 0x11)), SYNC)
    s.rec(0, a.scsi(read10(0, 2), READ | FINAL, 1024) + a.nop(b"zero"))
    first, second = a.take_cmd_sn(), a.take_cmd_sn()
    s.rec(1, b.scsi(write10(4, 2), WRITE | FINAL, 1024, block(2, 0x22), cmd_sn=second), SYNC)
    s.rec(0, a.scsi(write10(4, 2), WRITE | FINAL, 1024, block(2, 0x21), cmd_sn=first))
    s.rec(1, b.scsi(read10(4, 2), READ | FINAL, 1024) + b.nop(b"one", immediate=False), SYNC)
    s.rec(0, a.logout(LOGOUT_CONNECTION, cid=1), SYNC)
    s.rec(1, b.nop(b"after my logout"), SYNC)
    s.rec(0, a.logout(LOGOUT_CONNECTION, cid=7), SYNC)
    s.rec(0, a.scsi(TEST_UNIT_READY, FINAL) + a.logout(), CLOSE | SYNC)
    seeds["mcs_two_connections_logout_by_cid"] = s

    # A connection logs itself out (reason 1); its CID joins again; a
    # third connection takes the same CID while it is live (connection
    # reinstatement); the session's logout on the last one closes all.
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x22")
    b = a.joined(1)
    s = Script().rec(0, a.login(keys=mcs_keys))
    s.rec(1, b.join_login(), JOIN)
    s.rec(1, b.scsi(inquiry(), READ | FINAL, 255), SYNC)
    s.rec(1, b.logout(LOGOUT_CONNECTION), CLOSE | SYNC)
    s.rec(1, b.join_login(), JOIN)
    s.rec(1, b.scsi(read10(0, 8), READ | FINAL, 4096), SYNC)
    c = a.joined(1)
    s.rec(2, c.join_login(), JOIN)
    s.rec(2, c.scsi(TEST_UNIT_READY, FINAL) + c.scsi(read10(8, 2), READ | FINAL, 1024), SYNC)
    s.rec(0, a.nop(b"lead"), SYNC)
    s.rec(2, c.logout(LOGOUT_SESSION), CLOSE | SYNC)
    s.rec(0, a.nop(b"closed?"), SYNC)
    seeds["mcs_self_logout_rejoin_reinstate"] = s

    # Connection loss with the other alive (ErrorRecoveryLevel 0): a
    # command held behind a CmdSN gap and a WRITE waiting for its Data-Out
    # on connection 1, which vanishes; connection 0 fills the gap and goes
    # on.
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x23")
    b = a.joined(1)
    s = Script().rec(0, a.login(keys=mcs_keys))
    s.rec(1, b.join_login(), JOIN)
    gap = a.take_cmd_sn()
    witt = b.next_itt()
    s.rec(1, b.scsi(read10(0, 2), READ | FINAL, 1024)
          + b.scsi(write10(8, 4), WRITE, 2048, block(2, 5), itt=witt), SYNC)
    s.rec(1, b.nop(), VANISH | SYNC)
    s.rec(0, a.scsi(TEST_UNIT_READY, FINAL, cmd_sn=gap) + a.scsi(read10(8, 4), READ | FINAL, 2048),
          SYNC)
    s.rec(0, a.data_out(witt, 1024, block(2, 5)) + a.logout(), CLOSE | SYNC)
    seeds["mcs_connection_lost_erl0"] = s

    # ErrorRecoveryLevel 2: connection 1 has a WRITE waiting for its
    # Data-Out and a READ; connection 0 removes it for recovery (logout
    # reason 2) and it vanishes; a new connection takes CID 1 again and
    # reassigns both tasks (TASK REASSIGN), answers the WRITE's R2T (echo
    # TTT); then connection 0 logs out the session.
    erl2 = keys_with(MaxConnections=4, ErrorRecoveryLevel=2, DefaultTime2Wait=0,
                     DefaultTime2Retain=20)
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x24")
    b = a.joined(1)
    s = Script().rec(0, a.login(keys=erl2))
    s.rec(1, b.join_login(), JOIN)
    witt, wsn = b.next_itt(), a.cmd_sn
    ritt, rsn = b.next_itt() + 1, a.cmd_sn + 1
    s.rec(1, b.scsi(write10(16, 4), WRITE, 2048, block(2, 7), itt=witt)
          + b.scsi(read10(16, 4), READ | FINAL, 2048, itt=ritt), SYNC)
    b.itt = ritt
    s.rec(0, a.logout(LOGOUT_RECOVERY, cid=1), SYNC)
    s.rec(1, b"", VANISH | SYNC)
    c = a.joined(1)
    s.rec(1, c.join_login(), JOIN)
    s.rec(1, c.tmf(TMF_TASK_REASSIGN, ref_itt=witt, ref_cmd_sn=wsn)
          + c.tmf(TMF_TASK_REASSIGN, ref_itt=ritt, ref_cmd_sn=rsn), SYNC)
    # The R2T asks for what the immediate data did not bring.
    s.rec(1, c.data_out(witt, 1024, block(2, 7), ttt=1), ECHO_TTT)
    s.rec(1, c.nop(b"acked", immediate=True), ACK | SYNC)
    s.rec(0, a.scsi(read10(16, 4), READ | FINAL, 2048) + a.logout(), CLOSE | SYNC)
    seeds["mcs_erl2_remove_for_recovery_reassign"] = s

    # The same tasks reassigned on the surviving connection, after its
    # peer vanished without a logout; and TASK REASSIGN at ErrorRecovery
    # Level 0 and of a task that does not exist.
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x25")
    b = a.joined(1)
    s = Script().rec(0, a.login(keys=erl2))
    s.rec(1, b.join_login(), JOIN)
    witt, wsn = b.next_itt(), a.cmd_sn
    s.rec(1, b.scsi(write10(0, 4), WRITE, 2048, block(2, 3), itt=witt), SYNC | VANISH)
    s.rec(0, a.tmf(TMF_TASK_REASSIGN, ref_itt=witt, ref_cmd_sn=wsn), SYNC)
    s.rec(0, a.data_out(witt, 1024, block(2, 3), ttt=1), ECHO_TTT)
    s.rec(0, a.tmf(TMF_TASK_REASSIGN, ref_itt=0x5555, ref_cmd_sn=1), SYNC)
    s.rec(0, a.logout(), CLOSE | SYNC)
    e = Initiator(isid=b"\x80\x00\x00\x00\x00\x26")
    s.rec(2, e.login(), SYNC)
    s.rec(2, e.tmf(TMF_TASK_REASSIGN, ref_itt=0x101, ref_cmd_sn=1) + e.logout(), CLOSE | SYNC)
    seeds["mcs_reassign_after_loss"] = s

    # ERL 2 with DefaultTime2Wait 3600 (the larger value wins), the
    # initiator gone before its login's answer is read, a WRITE waiting
    # for data: the connection is kept for an hour, until the harness
    # disables the targets at the end (4 s).
    i = Initiator(isid=b"\x80\x00\x00\x00\x00\x2a")
    s = Script().rec(0, i.login(keys=keys_with(ErrorRecoveryLevel=2, DefaultTime2Wait=3600))
                     + i.scsi(write10(0, 4), WRITE, 2048, block(2, 1)), VANISH)
    seeds["mcs_erl2_kept_an_hour_vanished"] = s

    # Joins the target must refuse: a TSIH no session has, another ISID,
    # another target, more connections than the session's MaxConnections
    # (2), a discovery login with a TSIH; after them the session works.
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x27")
    s = Script().rec(0, a.login(keys=keys_with(MaxConnections=2)))
    s.rec(1, a.joined(3).join_login(predicted_tsih=0x7777), CLOSE | SYNC)
    other = Initiator(isid=b"\x80\x00\x00\x00\x00\x28")
    s.rec(1, other.login(keys=JOIN_KEYS, tsih=1, absorb_ua=False), JOIN | CLOSE)
    t = Initiator(isid=a.isid, target=TARGET_R2T)
    s.rec(1, t.login(keys=JOIN_KEYS, tsih=1, absorb_ua=False), JOIN | CLOSE)
    s.rec(1, a.joined(1).join_login(), JOIN)
    s.rec(2, a.joined(2).join_login(), JOIN | CLOSE)
    d = Initiator(isid=a.isid)
    s.rec(2, d.login(keys=[("HeaderDigest", "None")], discovery=True, tsih=1), JOIN | CLOSE)
    s.rec(0, a.scsi(TEST_UNIT_READY, FINAL) + a.logout(), CLOSE | SYNC)
    seeds["mcs_joins_refused"] = s

    # Three connections, commands striped with shuffled CmdSNs, a TMF on
    # one naming a task of another; the lead vanishes first.
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x29")
    conns = [a, a.joined(1), a.joined(2)]
    s = Script().rec(0, a.login(keys=mcs_keys))
    s.rec(1, conns[1].join_login(), JOIN).rec(2, conns[2].join_login(), JOIN)
    sns = [a.take_cmd_sn() for _ in range(9)]
    for n in (4, 0, 8, 2, 6, 1, 5, 3, 7):
        conn = conns[n % 3]
        if n % 2:
            s.rec(n % 3, conn.scsi(read10(n * 8, 8), READ | FINAL, 4096, cmd_sn=sns[n]))
        else:
            s.rec(n % 3, conn.scsi(write10(n * 8, 8), WRITE | FINAL, 4096, block(8, n),
                                   cmd_sn=sns[n]))
    itt = conns[2].next_itt()
    s.rec(2, conns[2].scsi(write10(0, 4), WRITE, 2048, block(2, 9), itt=itt), SYNC)
    s.rec(1, conns[1].tmf(TMF_ABORT_TASK, ref_itt=itt, ref_cmd_sn=a.cmd_sn - 1), SYNC)
    s.rec(0, b"", VANISH | SYNC)
    s.rec(2, conns[2].scsi(read10(0, 4), READ | FINAL, 2048), SYNC)
    s.rec(1, conns[1].logout(LOGOUT_SESSION), CLOSE | SYNC)
    seeds["mcs_three_connections_striped"] = s
    return seeds


def text_ffp_seeds():
    """Text negotiation in the full feature phase (RFC 7143 6.4): keys
    renegotiated, requests in several PDUs with C and the target's TTT,
    answers longer than MaxRecvDataSegmentLength fetched piece by piece
    (the ECHO_TTT record flag answers the TTT the target gave)."""
    seeds = {}

    # MaxRecvDataSegmentLength renegotiated down, then a 64 KiB READ
    # (Data-In in 4 KiB PDUs) and a NOP-Out with data; then up again;
    # keys that cannot change in the full feature phase and bad values.
    i = Initiator(isid=b"\x80\x00\x00\x00\x00\x31")
    s = Script().rec(0, i.login())
    s.rec(0, i.text_req([("MaxRecvDataSegmentLength", "4096")], immediate=False), SYNC)
    s.rec(0, i.scsi(read10(0, 128), READ | FINAL, 65536) + i.nop(b"y" * 3000), SYNC)
    s.rec(0, i.text_req([("MaxRecvDataSegmentLength", "65536"), ("X-org.uscst.k", "v")]), SYNC)
    s.rec(0, i.text_req([("MaxBurstLength", "4096"), ("HeaderDigest", "CRC32C"),
                         ("ErrorRecoveryLevel", "1"), ("InitialR2T", "Yes"),
                         ("MaxConnections", "2"), ("DefaultTime2Retain", "5")]), SYNC)
    s.rec(0, i.text_req([("MaxRecvDataSegmentLength", "100")])
          + i.text_req([("MaxRecvDataSegmentLength", "0x1000000")])
          + i.text_req([("MaxRecvDataSegmentLength", "4096"), ("MaxRecvDataSegmentLength", "8192")])
          + i.text_req([("MaxRecvDataSegmentLength", "")]), SYNC)
    s.rec(0, i.scsi(read10(0, 32), READ | FINAL, 16384), SYNC)
    s.rec(0, i.logout(), CLOSE | SYNC)
    seeds["text_ffp_renegotiate"] = s

    # One request in three PDUs (C set on the first two), a key split
    # across them; each continuation carries the TTT of the target's empty
    # answer and the first PDU's ITT. Once immediate, once numbered.
    for immediate in (True, False):
        i = Initiator(isid=b"\x80\x00\x00\x00\x00\x32")
        s = Script().rec(0, i.login())
        whole = text([("MaxRecvDataSegmentLength", "8192"), ("X-org.uscst.split", "yes"),
                      ("SendTargets", "All")])
        parts = [whole[:14], whole[14:40], whole[40:]]
        itt = i.next_itt()
        s.rec(0, i.text_req(None, immediate=immediate, cont=True, itt=itt, raw=parts[0]), SYNC)
        s.rec(0, i.text_req(None, immediate=immediate, cont=True, itt=itt, raw=parts[1], ttt=1),
              ECHO_TTT)
        s.rec(0, i.text_req(None, immediate=immediate, itt=itt, raw=parts[2], ttt=2), ECHO_TTT)
        s.rec(0, i.scsi(read10(0, 32), READ | FINAL, 16384) + i.logout(), CLOSE | SYNC)
        seeds["text_ffp_continued_request_%s" % ("immediate" if immediate else "numbered")] = s

    # An answer longer than MaxRecvDataSegmentLength (512, from the login):
    # 40 keys answered NotUnderstood, fetched piece by piece with empty
    # requests carrying the target's TTT; then a fetch with a TTT the
    # target never gave, a new request abandoning an unfetched answer, a
    # fetch after the answer ended.
    i = Initiator(isid=b"\x80\x00\x00\x00\x00\x33")
    s = Script().rec(0, i.login(keys=keys_with(MaxRecvDataSegmentLength=512)))
    many = [("X-org.uscst.fuzz-key-%02d" % n, "value-%02d" % n) for n in range(40)]
    itt = i.next_itt()
    s.rec(0, i.text_req(many, itt=itt), SYNC)
    for ttt in (1, 2, 3, 4):
        s.rec(0, i.text_req(None, itt=itt, raw=b"", ttt=ttt), ECHO_TTT)
    s.rec(0, i.text_req(None, itt=itt, raw=b"", ttt=0x12345678), SYNC)
    itt = i.next_itt()
    s.rec(0, i.text_req(many, itt=itt), SYNC)
    s.rec(0, i.text_req(None, itt=itt, raw=b"", ttt=5), ECHO_TTT)
    s.rec(0, i.text_req([("SendTargets", "All")]), SYNC)
    s.rec(0, i.text_req(None, itt=itt, raw=b"", ttt=6), ECHO_TTT)
    s.rec(0, i.logout(), CLOSE | SYNC)
    seeds["text_ffp_long_answer_fetched"] = s

    # Malformed text in the full feature phase: no NUL at the end, a pair
    # without '=', an empty request, a TTT out of the blue, a request that
    # grows past 64 KiB through C, then a good one.
    i = Initiator(isid=b"\x80\x00\x00\x00\x00\x34")
    s = Script().rec(0, i.login())
    s.rec(0, i.text_req(None, raw=b"MaxRecvDataSegmentLength=8192")
          + i.text_req(None, raw=b"NoEquals\0") + i.text_req(None, raw=b"")
          + i.text_req([("SendTargets", "All")], ttt=0x77), SYNC)
    itt = i.next_itt()
    chunk = b"X-org.uscst.pad=" + b"p" * 8000 + b"\0"
    for n in range(9):
        s.rec(0, i.text_req(None, cont=True, itt=itt, raw=chunk,
                            ttt=n if n else RESERVED_TAG), ECHO_TTT if n else SYNC)
    s.rec(0, i.text_req([("MaxRecvDataSegmentLength", "16384")]), SYNC)
    s.rec(0, i.logout(), CLOSE | SYNC)
    seeds["text_ffp_malformed"] = s

    # Text on two connections of one session at once: each connection
    # has its own negotiation (MaxRecvDataSegmentLength is per connection).
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x35")
    b = a.joined(1)
    s = Script().rec(0, a.login(keys=keys_with(MaxConnections=2)))
    s.rec(1, b.join_login(), JOIN)
    s.rec(0, a.text_req([("MaxRecvDataSegmentLength", "4096")]))
    s.rec(1, b.text_req([("MaxRecvDataSegmentLength", "8192")], immediate=False))
    s.rec(0, a.scsi(read10(0, 64), READ | FINAL, 32768), SYNC)
    s.rec(1, b.scsi(read10(0, 64), READ | FINAL, 32768), SYNC)
    s.rec(0, a.logout(), CLOSE | SYNC)
    seeds["text_ffp_two_connections"] = s
    return seeds


def snack_seeds():
    """SNACK (opcode 0x10, RFC 7143 11.16) of every type with
    ErrorRecoveryLevel=1 asked for (the target may agree to 0, and then
    rejects them), DataACK answering the A bit (echo TTT), ExpStatSN
    acknowledgements (the ACK record flag); and SNACKs at level 0."""
    seeds = {}
    erl1 = keys_with(ErrorRecoveryLevel=1, MaxRecvDataSegmentLength=8192)

    # A 64 KiB READ in 8 Data-In PDUs (DataSN 0-7); Data SNACKs for a
    # run, for everything, past the end; a status SNACK; DataACK; R-Data
    # SNACK; SNACKs for a task that does not exist and of types 4 and 15;
    # a SNACK for the READ after its status went.
    i = Initiator(isid=b"\x80\x00\x00\x00\x00\x41")
    s = Script().rec(0, i.login(keys=erl1))
    itt = i.next_itt()
    s.rec(0, i.scsi(read10(0, 128), READ | FINAL, 65536, itt=itt), SYNC)
    s.rec(0, i.snack(SNACK_DATA_R2T, itt, beg_run=2, run_length=3), SYNC)
    s.rec(0, i.snack(SNACK_DATA_R2T, itt, beg_run=0, run_length=0), SYNC)
    s.rec(0, i.snack(SNACK_DATA_R2T, itt, beg_run=7, run_length=5), SYNC)
    s.rec(0, i.snack(SNACK_STATUS, beg_run=1, run_length=1), SYNC)
    s.rec(0, i.snack(SNACK_DATA_ACK, beg_run=8, ttt=1), ECHO_TTT)
    s.rec(0, i.snack(SNACK_RDATA, itt, ttt=0x1234), SYNC)
    s.rec(0, i.snack(SNACK_DATA_R2T, 0x9999, beg_run=0, run_length=1)
          + i.snack(4, itt) + i.snack(15, itt), SYNC)
    s.rec(0, i.nop(b"ack"), ACK)
    s.rec(0, i.snack(SNACK_STATUS, beg_run=0, run_length=0), SYNC)
    s.rec(0, i.logout(), CLOSE | SYNC)
    seeds["snack_erl1_read"] = s

    # A WRITE the target solicits (R2T TTT 1, R2TSN 0): an R2T SNACK asks
    # for it again, the Data-Out answers the last TTT; then a status
    # SNACK for the WRITE's response, acknowledged after.
    i = Initiator(isid=b"\x80\x00\x00\x00\x00\x42", target=TARGET_R2T)
    s = Script().rec(0, i.login(keys=[k for k in erl1 if k[0] != "InitialR2T"]))
    itt = i.next_itt()
    s.rec(0, i.scsi(write10(0, 4), WRITE | FINAL, 2048, block(2, 8), itt=itt), SYNC)
    s.rec(0, i.snack(SNACK_DATA_R2T, itt, beg_run=0, run_length=1), SYNC)
    s.rec(0, i.data_out(itt, 1024, block(2, 8), ttt=2), ECHO_TTT)
    s.rec(0, i.snack(SNACK_STATUS, beg_run=2, run_length=1), SYNC)
    s.rec(0, i.nop(), ACK | SYNC)
    s.rec(0, i.scsi(read10(0, 4), READ | FINAL, 2048) + i.logout(), CLOSE | SYNC)
    seeds["snack_erl1_r2t_write"] = s

    # SNACKs at ErrorRecoveryLevel 0 (Reject), in the middle of a READ's
    # Data-In; and a SNACK as the first PDU of a connection, before login.
    i = Initiator(isid=b"\x80\x00\x00\x00\x00\x43")
    s = Script().rec(0, i.login())
    itt = i.next_itt()
    s.rec(0, i.scsi(read10(0, 256), READ | FINAL, 131072, itt=itt)
          + i.snack(SNACK_DATA_R2T, itt, beg_run=1, run_length=2)
          + i.snack(SNACK_STATUS, beg_run=0) + i.snack(SNACK_DATA_ACK, ttt=5, beg_run=3))
    s.rec(0, i.logout(), CLOSE | SYNC)
    s.rec(1, Initiator().snack(SNACK_DATA_R2T, 0x101), CLOSE)
    seeds["snack_erl0_and_before_login"] = s

    # Under MC/S: a SNACK on one connection for a task with allegiance to
    # the other.
    a = Initiator(isid=b"\x80\x00\x00\x00\x00\x44")
    b = a.joined(1)
    s = Script().rec(0, a.login(keys=keys_with(ErrorRecoveryLevel=1, MaxConnections=2)))
    s.rec(1, b.join_login(), JOIN)
    itt = a.next_itt()
    s.rec(0, a.scsi(read10(0, 64), READ | FINAL, 32768, itt=itt), SYNC)
    s.rec(1, b.snack(SNACK_DATA_R2T, itt, beg_run=0, run_length=0), SYNC)
    s.rec(0, a.snack(SNACK_DATA_R2T, itt, beg_run=0, run_length=1), SYNC)
    s.rec(0, a.logout(), CLOSE | SYNC)
    seeds["snack_erl1_other_connection"] = s

    # With header and data digests: the patched headers (the R2T's TTT,
    # the ExpStatSN) get their digest computed again by the harness.
    i = Initiator(isid=b"\x80\x00\x00\x00\x00\x45", target=TARGET_R2T)
    keys = [("HeaderDigest", "CRC32C"), ("DataDigest", "CRC32C")] + [
        k for k in erl1[2:] if k[0] != "InitialR2T"]
    s = Script().rec(0, i.login(keys=keys, absorb_ua=False))
    i.digests = True
    s.rec(0, i.scsi(TEST_UNIT_READY, FINAL), SYNC)
    itt = i.next_itt()
    s.rec(0, i.scsi(write10(0, 4), WRITE | FINAL, 2048, block(2, 6), itt=itt), SYNC)
    s.rec(0, i.data_out(itt, 1024, block(2, 6), ttt=0x7777), ECHO_TTT)
    s.rec(0, i.nop(b"acked", immediate=True), ACK | SYNC)
    s.rec(0, i.snack(SNACK_STATUS, beg_run=2, run_length=1), SYNC)
    s.rec(0, i.scsi(read10(0, 4), READ | FINAL, 2048) + i.logout(), CLOSE | SYNC)
    seeds["snack_digests_patched_headers"] = s

    # ERL 1's recovery R2T: a Data-Out whose data digest is wrong is
    # rejected and its data asked for again by R2T (echo TTT answers it);
    # unsolicited on the first target, solicited on the R2T target.
    def bad_data_digest(wire):
        return wire[:-4] + bytes(b ^ 0xFF for b in wire[-4:])
    for target, name in ((TARGET, "unsolicited"), (TARGET_R2T, "solicited")):
        i = Initiator(isid=b"\x80\x00\x00\x00\x00\x46", target=target)
        keys = [("HeaderDigest", "CRC32C"), ("DataDigest", "CRC32C")] + [
            k for k in erl1[2:] if target == TARGET or k[0] != "InitialR2T"]
        s = Script().rec(0, i.login(keys=keys, absorb_ua=False))
        i.digests = True
        s.rec(0, i.scsi(TEST_UNIT_READY, FINAL), SYNC)
        itt = i.next_itt()
        if target == TARGET:
            s.rec(0, i.scsi(write10(0, 6), WRITE, 3072, block(2, 1), itt=itt)
                  + bad_data_digest(i.data_out(itt, 1024, block(2, 2), final=False))
                  + i.data_out(itt, 2048, block(2, 3), data_sn=1), SYNC)
        else:
            # The R2T's TTT (echoed) on both PDUs of its burst.
            s.rec(0, i.scsi(write10(0, 6), WRITE | FINAL, 3072, block(2, 1), itt=itt), SYNC)
            s.rec(0, bad_data_digest(i.data_out(itt, 1024, block(2, 2), ttt=1, final=False)),
                  ECHO_TTT)
            s.rec(0, i.data_out(itt, 2048, block(2, 3), ttt=1, data_sn=1), ECHO_TTT)
        # The recovery R2T asks for everything from the lost offset on.
        s.rec(0, i.data_out(itt, 1024, block(4, 2), ttt=2), ECHO_TTT)
        s.rec(0, i.nop(b"acked"), ACK | SYNC)
        s.rec(0, i.scsi(read10(0, 6), READ | FINAL, 3072) + i.logout(), CLOSE | SYNC)
        seeds["erl1_data_digest_error_%s" % name] = s
    return seeds


def login_keys_seeds():
    linux = text([("InitiatorName", INITIATOR), ("InitiatorAlias", "host"),
                  ("TargetName", TARGET), ("SessionType", "Normal"),
                  ("AuthMethod", "None")] + OPERATIONAL_KEYS)
    libiscsi = text([("HeaderDigest", "None,CRC32C"), ("DataDigest", "None"),
                     ("InitialR2T", "Yes"), ("ImmediateData", "Yes"),
                     ("MaxBurstLength", "262144"), ("FirstBurstLength", "262144"),
                     ("MaxRecvDataSegmentLength", "262144"), ("DataPDUInOrder", "Yes"),
                     ("DataSequenceInOrder", "Yes"), ("MaxOutstandingR2T", "1"),
                     ("DefaultTime2Wait", "2"), ("DefaultTime2Retain", "0"),
                     ("ErrorRecoveryLevel", "0"), ("MaxConnections", "1")])
    bad_values = text([("HeaderDigest", "MD5"), ("MaxRecvDataSegmentLength", "100"),
                       ("MaxBurstLength", "0x1000000"), ("FirstBurstLength", "-1"),
                       ("InitialR2T", "maybe"), ("MaxOutstandingR2T", "0"),
                       ("DefaultTime2Wait", "99999"), ("ErrorRecoveryLevel", "2"),
                       ("MaxConnections", "0x"), ("X-com.example.key", "v"),
                       ("TargetAlias", "x"), ("TargetPortalGroupTag", "1"),
                       ("CHAP_A", "5"), ("AuthMethod", "CHAP,SRP")])
    hex_numbers = text([("MaxRecvDataSegmentLength", "0x2000"),
                        ("MaxBurstLength", "0X40000"), ("FirstBurstLength", "0x800"),
                        ("DefaultTime2Retain", "0x0"), ("AuthMethod", "KRB5,None")])
    target_attrs = text([("HeaderDigest", "CRC32C"), ("DataDigest", "None"),
                         ("MaxRecvDataSegmentLength", "8192"),
                         ("MaxXmitDataSegmentLength", "4096"), ("MaxBurstLength", "65536"),
                         ("FirstBurstLength", "8192"), ("InitialR2T", "Yes"),
                         ("ImmediateData", "No"), ("QueuedCommands", "4"),
                         ("TargetAlias", "fuzz target"), ("NopInInterval", "0")])
    bad_attrs = text([("FirstBurstLength", "1048576"), ("MaxBurstLength", "512"),
                      ("TargetAlias", "a" * 300), ("QueuedCommands", "0")])
    return {
        "linux_normal": b"\x00" + linux,
        "linux_twice": b"\x02" + linux,
        "libiscsi_normal": b"\x00" + libiscsi,
        "discovery": b"\x01" + text([("InitiatorName", INITIATOR),
                                     ("SessionType", "Discovery"),
                                     ("HeaderDigest", "None"), ("MaxBurstLength", "512"),
                                     ("InitialR2T", "No"),
                                     ("MaxRecvDataSegmentLength", "65536")]),
        "bad_values": b"\x00" + bad_values,
        "hex_numbers": b"\x00" + hex_numbers,
        "target_attrs": b"\x04" + target_attrs,
        "target_attrs_bad": b"\x04" + bad_attrs,
        "repeated_key": b"\x00" + text([("MaxBurstLength", "512"), ("MaxBurstLength", "1024")]),
        "no_equals": b"\x00HeaderDigest\0",
        "no_trailing_nul": b"\x00HeaderDigest=None",
        "padding_nuls": b"\x00" + text([("DataDigest", "CRC32C,None")]) + b"\0\0\0",
        "long_key": b"\x00" + ("K" * 70 + "=v").encode() + b"\0",
        "long_value": b"\x00" + ("X-long=" + "v" * 8300).encode() + b"\0",
    }


def config_seeds():
    full = (
        "# Automatically generated by SCST Configurator\n\n"
        "HANDLER vdisk_nullio {\n\tDEVICE null0 {\n\t\tsize_mb 64\n\t\tblocksize 4096\n"
        "\t\trotational 0\n\t\tt10_vend_id USCST\n\t\tprod_id \"fuzz disk\"\n\t}\n"
        "\tDEVICE null1\n}\n\n"
        "TARGET_DRIVER iscsi {\n\tenabled 1\n\n"
        "\tTARGET iqn.2026-11.org.uscst:t1 {\n\t\tenabled 1\n"
        "\t\tHeaderDigest CRC32C,None\n\t\tDataDigest None\n\t\tQueuedCommands 64\n"
        "\t\tTargetAlias \"the first target\"\n"
        "\t\tLUN 0 null0\n\t\tLUN 1 null1 {\n\t\t\tread_only 1\n\t\t}\n\t}\n"
        "\tTARGET iqn.2026-11.org.uscst:t2 {\n\t\tLUN 3 null0\n\t}\n}\n")
    return {
        "nullio_full": full,
        "one_line": "HANDLER vdisk_nullio { DEVICE d { size_mb 8; blocksize 512 } }; "
                    "TARGET_DRIVER iscsi { enabled 1; TARGET iqn.2026-11.org.x:t1 "
                    "{ enabled 1; LUN 0 d; LUN 1 d { read_only 1 } } }",
        "fileio_parse_only": "HANDLER vdisk_fileio {\n\tDEVICE disk01 {\n"
                             "\t\tfilename \"/srv/my disk.img\"   # a blank\n"
                             "\t\tnv_cache 1\n\t}\n}\n"
                             "TARGET_DRIVER iscsi {\n\tTARGET iqn.2026-11.org.x:f {\n"
                             "\t\tLUN 0 disk01\n\t}\n}\n",
        "groups_alua": "TARGET_DRIVER iscsi {\n\tTARGET iqn.2026-11.org.x:g {\n"
                       "\t\tGROUP hosts {\n\t\t\tINITIATOR iqn.1993-08.org.debian:*\n"
                       "\t\t\tLUN 0 d\n\t\t}\n\t}\n}\n"
                       "DEVICE_GROUP dg {\n\tTARGET_GROUP tg {\n\t\tgroup_id 1\n\t}\n}\n",
        "alua_two_ports": "HANDLER vdisk_nullio {\n\tDEVICE d { size_mb 4 }\n}\n"
                          "TARGET_DRIVER iscsi {\n\tenabled 1\n"
                          "\tTARGET iqn.2026-11.org.x:a { enabled 1; rel_tgt_id 1; LUN 0 d }\n"
                          "\tTARGET iqn.2026-11.org.x:b { enabled 1; rel_tgt_id 2; LUN 0 d }\n}\n"
                          "DEVICE_GROUP dg {\n\ttpgs both\n\timplicit_transition_time 3\n"
                          "\ton_stpg /bin/true\n\tDEVICE d\n"
                          "\tTARGET_GROUP ga {\n\t\tgroup_id 1\n\t\tstate active\n"
                          "\t\tpreferred 1\n\t\tTARGET iqn.2026-11.org.x:a\n\t}\n"
                          "\tTARGET_GROUP gb {\n\t\tgroup_id 2\n\t\tstate standby\n"
                          "\t\tTARGET iqn.2026-11.org.x:b\n"
                          "\t\tTARGET iqn.2026-11.org.x:remote { rel_tgt_id 7 }\n\t}\n}\n",
        "masking": "HANDLER vdisk_nullio {\n\tDEVICE a { size_mb 4 }\n"
                   "\tDEVICE b { size_mb 4 }\n}\n"
                   "TARGET_DRIVER iscsi {\n\tTARGET iqn.2026-11.org.x:m {\n"
                   "\t\tenabled 1\n\t\tallowed_portal 127.0.0.*\n\t\tLUN 0 a\n"
                   "\t\tGROUP g1 {\n\t\t\tLUN 0 a\n\t\t\tLUN 1 b { read_only 1 }\n"
                   "\t\t\tINITIATOR iqn.1993-08.org.debian:*\n"
                   "\t\t\tINITIATOR !iqn.1993-08.org.debian:01:bad\n\t\t}\n"
                   "\t\tGROUP g2 {\n\t\t\tLUN 3 b\n"
                   "\t\t\tINITIATOR iqn.1991-05.com.microsoft:host?\n\t\t}\n"
                   "\t\tGROUP g3 {\n\t\t\tLUN 0 b\n"
                   "\t\t\tINITIATOR iqn.1998-01.com.vmware:*\n\t\t}\n\t}\n}\n",
        "quoting": "HANDLER h {\r\n DEVICE d {\r\n  words a   b\tc\r\n"
                   "  quoted \"x  y\" z\r\n  special \"a;b{c}#d\"\r\n"
                   "  escaped 100\\#1 \\\"q\\\" back\\\\slash\r\n"
                   "  glued pre\"mid dle\"post\r\n  empty\r\n  emptyq \"\"\r\n"
                   "  trailing value#comment\r\n }\r\n}\r\n",
        "unbalanced": "HANDLER vdisk_nullio {\n\tDEVICE d {\n\t\tsize_mb 1\n}\n",
        "unterminated_quote": "HANDLER vdisk_nullio { DEVICE d { prod_id \"abc } }\n",
        "bad_lun": "HANDLER vdisk_nullio { DEVICE d }\nTARGET_DRIVER iscsi { TARGET "
                   "iqn.2026-11.org.x:t { LUN 16384 d; LUN -1 d; LUN 0x1 d } }\n",
        "duplicate_lun": "HANDLER vdisk_nullio { DEVICE d }\nTARGET_DRIVER iscsi { TARGET "
                         "iqn.2026-11.org.x:t { enabled 1; LUN 0 d; LUN 0 d } }\n",
        "duplicate_attr": "HANDLER vdisk_nullio { DEVICE d { size_mb 1; size_mb 010 } }\n",
        "unknown_things": "global_attr 1\nHANDLER vdisk_nosuch { DEVICE d }\n"
                          "TARGET_DRIVER nosuch { TARGET t }\nBOGUS x { }\n",
        "bad_target_attrs": "HANDLER vdisk_nullio { DEVICE d }\nTARGET_DRIVER iscsi { "
                            "enabled maybe; TARGET iqn.2026-11.org.x:t { FirstBurstLength "
                            "2000000; MaxBurstLength 512; LUN 0 d } }\n",
        "lun_unknown_device": "TARGET_DRIVER iscsi { TARGET iqn.2026-11.org.x:t "
                              "{ LUN 0 nosuch } }\n",
        "deep_nesting": "HANDLER a { " * 12 + "}" * 12 + "\n",
    }


def chap_seeds():
    """fuzz_chap: a mode byte, then requests separated by an empty pair.
    With mode bit 1 clear the target's challenge is 0, 1, 2, ... and its
    identifier 1, so these responses are right (hashlib computes them)."""
    def req(*pairs):
        return text(pairs) + b"\0"

    def resp(alg, secret, length):
        name = {5: "md5", 6: "sha1", 7: "sha256", 8: "sha3_256"}[alg]
        return hashlib.new(name, bytes([1]) + secret + bytes(range(length))).digest()

    md5 = resp(5, b"12charsecret", 16)
    mutual_c = bytes(range(0xa0, 0xb0))
    seeds = {}
    for alg, length in ((5, 16), (6, 20), (7, 32), (8, 32)):
        seeds["one_way_%d" % alg] = b"\0" + req(("CHAP_A", str(alg))) + req(
            ("CHAP_N", "joe"), ("CHAP_R", "0x" + resp(alg, b"12charsecret", length).hex()))
    seeds["mutual_hex"] = b"\0" + req(("CHAP_A", "5")) + req(
        ("CHAP_N", "joe"), ("CHAP_R", "0x" + md5.hex()), ("CHAP_I", "7"),
        ("CHAP_C", "0x" + mutual_c.hex()))
    seeds["mutual_base64"] = b"\0" + req(("CHAP_A", "7,5")) + req(
        ("CHAP_N", "joe"),
        ("CHAP_R", "0b" + base64.b64encode(resp(7, b"12charsecret", 32)).decode()),
        ("CHAP_I", "0x07"), ("CHAP_C", "0b" + base64.b64encode(mutual_c).decode()))
    seeds["mutual_no_outgoing"] = b"\1" + seeds["mutual_hex"][1:]
    seeds["reflection"] = b"\0" + req(("CHAP_A", "5")) + req(
        ("CHAP_N", "joe"), ("CHAP_R", "0x" + md5.hex()), ("CHAP_I", "1"),
        ("CHAP_C", "0x" + bytes(range(16)).hex()))
    seeds["wrong_then_right"] = b"\0" + req(("CHAP_A", "5")) + req(
        ("CHAP_N", "ann"), ("CHAP_R", "0x" + md5.hex())) + req(
        ("CHAP_N", "joe"), ("CHAP_R", "0x" + md5.hex()))
    seeds["malformed"] = b"\2" + req(("CHAP_A", "4,5")) + req(
        ("CHAP_N", "joe"), ("CHAP_R", "0x" + "a" * 31), ("CHAP_C", "0b!!=="))
    seeds["odd_hex"] = b"\0" + req(("CHAP_A", "5")) + req(
        ("CHAP_N", "joe"), ("CHAP_R", "0x" + "a" * 31))
    seeds["keys_before_a"] = b"\0" + req(("CHAP_N", "joe"), ("CHAP_R", "0b/w=="))
    seeds["repeated_key"] = b"\0" + req(("CHAP_A", "5"), ("CHAP_A", "7")) + req(
        ("CHAP_A", "8"))
    return seeds


def rpc_seeds():
    """fuzz_rpc: a piece-size byte (0: all at once), then requests as a
    client writes them. Every method appears at least once, with good and
    bad parameters, against what earlier requests of the seed created."""
    import json

    def req(method, params=None, rid=1):
        r = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            r["params"] = params
        return json.dumps(r) + "\n"

    t = {"driver": "iscsi", "target": "iqn.2026-11.org.x:t"}
    build = (req("device.open", {"device": "d0", "handler": "vdisk_nullio",
                                 "attributes": {"size_mb": 16}})
             + req("device.open", {"device": "d1", "handler": "vdisk_nullio",
                                   "attributes": {"size": "1048576", "blocksize": 4096}})
             + req("target.add", dict(t, attributes={"enabled": 1, "QueuedCommands": 64}))
             + req("lun.add", dict(t, lun=0, device="d0"))
             + req("lun.add", dict(t, lun=1, device="d1", attributes={"read_only": True})))
    seeds = {
        "methods": "\0" + req("rpc.methods") + req("tree.get") + req("tree.get", {"path": "targets"}),
        "build_and_write": "\0" + build + req("config.write") + req("config.write", {"nonkey": True}),
        "every_verb": "\0" + build
        + req("lun.add", dict(t, lun=0, device="d1"))
        + req("lun.replace", dict(t, lun=1, device="d0"))
        + req("group.add", dict(t, group="g"))
        + req("initiator.add", dict(t, group="g", initiator="iqn.1994-05.com.x:*"))
        + req("group.add", dict(t, group="h"))
        + req("initiator.add", dict(t, group="h", initiator="iqn.1994-05.com.x:a"))
        + req("initiator.move", dict(t, group="g", to="h", initiator="iqn.1994-05.com.x:*"))
        + req("lun.add", dict(t, group="g", lun=5, device="d0"))
        + req("lun.remove", dict(t, group="g", lun=5))
        + req("initiator.remove", dict(t, group="g", initiator="nosuch"))
        + req("initiator.clear", dict(t, group="h"))
        + req("group.set_attr", dict(t, group="g", attributes={"x": "1"}))
        + req("group.remove", dict(t, group="g"))
        + req("device.set_attr", {"device": "d0", "attributes": {"prod_id": "P", "usn": "S1"}})
        + req("device.set_attr", {"device": "d0", "attributes": {"blocksize": "512"}})
        + req("device.resync_size", {"device": "d0"})
        + req("target.set_attr", dict(t, attributes={"MaxSessions": 3, "IncomingUser": ["joe 12charsecret"]}))
        + req("driver.set_attr", {"driver": "iscsi", "attributes": {"IncomingUser": "d 12charsecret"}})
        + req("target.disable", t) + req("target.enable", t)
        + req("session.close", dict(t, session="nosuch"))
        + req("device.close", {"device": "d0"})
        + req("lun.clear", t) + req("device.close", {"device": "d0"})
        + req("target.remove", t),
        "config_apply": "\0" + req("config.apply", {"text": "HANDLER vdisk_nullio { DEVICE a { size_mb 1 } }\n"
                                                        "TARGET_DRIVER iscsi { TARGET iqn.2026-11.org.x:u { enabled 1; LUN 0 a } }\n",
                                                "check": True})
        + req("config.apply", {"text": "HANDLER vdisk_nullio { DEVICE a { size_mb 1 } }\n"
                                       "TARGET_DRIVER iscsi { TARGET iqn.2026-11.org.x:u { enabled 1; LUN 0 a } }\n"})
        + req("config.apply", {"text": "HANDLER vdisk_nullio { DEVICE a { size_mb 1; prod_id Z } }\n"})
        + req("config.apply", {"text": "HANDLER { broken", "filename": "x.conf"}),
        "config_apply_alua": "\0" + req("config.apply", {"text": (
            "HANDLER vdisk_nullio { DEVICE a { size_mb 1 } }\n"
            "TARGET_DRIVER iscsi { TARGET iqn.2026-11.org.x:u { enabled 1; LUN 0 a } }\n"
            "DEVICE_GROUP dg { tpgs both; on_stpg /bin/false\n DEVICE a\n"
            " TARGET_GROUP tg { group_id 1; state standby\n TARGET iqn.2026-11.org.x:u }\n"
            " TARGET_GROUP far { group_id 2\n"
            " TARGET iqn.2026-11.org.y:far { rel_tgt_id 9 } } }\n")})
        + req("tree.get", {"path": "device_groups"}) + req("config.write")
        + req("config.apply", {"text": "HANDLER vdisk_nullio { DEVICE a { size_mb 1 } }\n",
                               "check": True}),
        "pieces_of_one": "\1" + build,
        "pieces_of_seven": "\7" + build + req("tree.get", {"path": "devices/d0/attributes"}),
        "protocol_errors": "\0" + "{\"jsonrpc\":\"2.0\",\"id\":1}\n"
        + "[" + req("tree.get") + "]\n" + "42\n" + "\"str\"\n"
        + req("tree.get", {"path": 1}) + req("lun.add", {"driver": "iscsi"})
        + req("nosuch.method") + "{\"jsonrpc\":\"1.0\",\"id\":2,\"method\":\"tree.get\"}\n"
        + "{\"jsonrpc\":\"2.0\",\"method\":\"tree.get\"}\n"
        + "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"tree.get\"}\n"
        + "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tree.get\",\"params\":[1]}\n"
        + "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tree.get\",\"extra\":1}\n"
        + req("device.open", {"device": "x", "handler": "vdisk_nullio", "attributes": {"a": {"b": 1}}})
        + req("device.open", {"device": "x", "handler": "vdisk_nullio", "attributes": {"a": []}})
        + req("lun.add", dict(t, lun=-1, device="x")),
        "not_json": "\0{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": tree.get}\n",
        "bad_utf8": b"\0{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}\n",
        "deep": "\0" + "[" * 40 + "]" * 40 + "\n",
    }
    return seeds


# fuzz_scsi: one record per command (the format is at the top of
# fuzz_scsi.c). LUN 0 is the fileio device (1024 blocks of 512 bytes, thin,
# removable), 1 the nullio one, 2 the fileio one read-only, 3 unmapped.
SCSI_NONE, SCSI_IN, SCSI_OUT, SCSI_OUT_FAILS = 0, 1, 2, 3
SCSI_NOWAIT = 0x80
SCSI_BLOCKS = 1024


def scsi_rec(cdb, lun=0, direction=SCSI_NONE, exp=0, data=b"", attr=0, nowait=False):
    flags = lun | direction << 2 | attr << 4 | (SCSI_NOWAIT if nowait else 0)
    return (bytes([flags, len(cdb)]) + cdb + exp.to_bytes(3, "big")
            + len(data).to_bytes(2, "big") + data)


# The core's enum scst_tmf (fuzz_scsi's TMF records), not iSCSI's codes above.
(CORE_TMF_ABORT_TASK, CORE_TMF_ABORT_TASK_SET, CORE_TMF_CLEAR_TASK_SET, CORE_TMF_LUN_RESET,
 CORE_TMF_TARGET_RESET, CORE_TMF_I_T_NEXUS_RESET, CORE_TMF_CLEAR_ACA, CORE_TMF_QUERY_TASK,
 CORE_TMF_TARGET_COLD_RESET, CORE_TMF_QUERY_TASK_SET, CORE_TMF_QUERY_ASYNC_EVENT) = range(11)
# The harness's own REQUEST SENSEs are commands 0..2: a seed's first
# record is command 3.
SCSI_FIRST = 3


def scsi_tmf(fn, ref=0, lun=0, nowait=False):
    return bytes([lun | 0x40 | (SCSI_NOWAIT if nowait else 0), fn, ref])


# A restart record (fuzz_scsi.c): the target and its devices come back
# with the store and the state directory kept.
SCSI_RESTART = bytes([0x40, 0xFF, 0])


def pr_out(sa, key=0, sa_key=0, prtype=0, flags=0, lun=0):
    params = struct.pack(">QQIBBH", key, sa_key, 0, flags, 0, 0)
    return scsi_out(bytes([0x5F, sa, prtype, 0, 0, 0, 0, 0, len(params), 0]), params, lun=lun)


def pr_in(sa, lun=0):
    return scsi_in(bytes([0x5E, sa, 0, 0, 0, 0, 0, 4, 0, 0]), 1024, lun=lun)


def scsi_in(cdb, exp, lun=0, **kw):
    return scsi_rec(cdb, lun=lun, direction=SCSI_IN, exp=exp, **kw)


def scsi_out(cdb, data, lun=0, exp=None, **kw):
    return scsi_rec(cdb, lun=lun, direction=SCSI_OUT,
                    exp=len(data) if exp is None else exp, data=data, **kw)


def scsi_naa(name):
    """The NAA designator core/registry.c derives from a device's name."""
    h = 0xcbf29ce484222325
    for c in name.encode():
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return (0x5 << 60) | (0x0013f5 << 36) | (h & 0xfffffffff)


NAA_FILE = scsi_naa("fuzz_file")
NAA_NULL = scsi_naa("fuzz_null")


def write16(lba, blocks):
    return struct.pack(">BBQIBB", 0x8A, 0, lba, blocks, 0, 0)


def pattern_write(lba=0, blocks=64, lun=0):
    data = bytes((i * 7 + 1) & 0xFF for i in range(512 * blocks))
    return scsi_out(write10(lba, blocks), data, lun=lun)


def unmap_cdb(length, anchor=0):
    return struct.pack(">BBIBHB", 0x42, anchor, 0, 0, length, 0)


def unmap_list(descs, data_len=None, desc_len=None):
    body = b"".join(struct.pack(">QII", lba, n, 0) for lba, n in descs)
    dl = len(body) if desc_len is None else desc_len
    ul = 6 + len(body) if data_len is None else data_len
    return struct.pack(">HHI", ul, dl, 0) + body


def unmap(params, lun=0, length=None, anchor=0):
    n = len(params) if length is None else length
    return scsi_out(unmap_cdb(n, anchor), params, lun=lun, exp=n)


def get_lba_status(lba, alloc=4096, lun=0):
    return scsi_in(struct.pack(">BBQIBB", 0x9E, 0x12, lba, alloc, 0, 0), alloc, lun=lun)


def log_sense(page, sub=0, pc=1, ppc=0, ptr=0, alloc=1024, lun=0):
    return scsi_in(struct.pack(">BBBBBHHB", 0x4D, ppc << 1, pc << 6 | page, sub, 0,
                               ptr, alloc, 0), alloc, lun=lun)


def mode_sense10(page=0x3F, pc=0, sub=0, alloc=4096, lun=0, dbd=0):
    return scsi_in(struct.pack(">BBBBBBBHB", 0x5A, dbd << 3, pc << 6 | page, sub, 0, 0, 0,
                               alloc, 0), alloc, lun=lun)


def mode_select6(pages, sp=0, pf=1, lun=0, length=None, bdesc=b""):
    params = struct.pack(">BBBB", 0, 0, 0, len(bdesc)) + bdesc + pages
    n = len(params) if length is None else length
    return scsi_out(struct.pack(">BBBBBB", 0x15, pf << 4 | sp, 0, 0, n, 0), params,
                    lun=lun, exp=n)


def mode_select10(pages, sp=0, pf=1, lun=0, length=None):
    params = struct.pack(">HBBHH", 0, 0, 0, 0, 0) + pages
    n = len(params) if length is None else length
    return scsi_out(struct.pack(">BBBBBBBHB", 0x55, pf << 4 | sp, 0, 0, 0, 0, 0, n, 0),
                    params, lun=lun, exp=n)


def caching_page(wce=1, rcd=0):
    return bytes([0x08, 0x12, wce << 2 | rcd]) + b"\0" * 17


def control_page(d_sense=0, swp=0, qerr=0, tst=0, tas=0, qam=0, ua_intlck=0):
    # GLTSD is always set (no log parameters are saved), not changeable.
    return bytes([0x0A, 0x0A, tst << 5 | d_sense << 2 | 0x02, qam << 4 | qerr << 1,
                  ua_intlck << 4 | swp << 3, tas << 6, 0, 0, 0xFF, 0xFF, 0, 0])


def sanitize(sa, params=b"", immed=0, ause=0, lun=0, length=None, nowait=False):
    n = len(params) if length is None else length
    cdb = struct.pack(">BBBBBBBHB", 0x48, immed << 7 | ause << 5 | sa, 0, 0, 0, 0, 0, n, 0)
    if n or params:
        return scsi_out(cdb, params, lun=lun, exp=n, nowait=nowait)
    return scsi_rec(cdb, lun=lun, nowait=nowait)


def overwrite_params(pattern, count=1, invert=0, test=0, plen=None):
    pl = len(pattern) if plen is None else plen
    return bytes([invert << 7 | test << 5 | count, 0]) + struct.pack(">H", pl) + pattern


def format_unit(byte1=0, params=b"", lun=0):
    cdb = bytes([0x04, byte1, 0, 0, 0, 0])
    if params:
        return scsi_out(cdb, params, lun=lun)
    return scsi_rec(cdb, lun=lun)


def xcopy_cdb(length, sa=0):
    return struct.pack(">BBBBBBBBBBIBB", 0x83, sa, 0, 0, 0, 0, 0, 0, 0, 0, length, 0, 0)


def cscd_naa(naa, block_len=512, dtype=0, code_set=1, dtype_desig=3, desig_len=8):
    desig = struct.pack(">Q", naa).ljust(20, b"\0")
    return (bytes([0xE4, 0, dtype, 0, code_set, dtype_desig, 0, desig_len]) + desig
            + b"\0" + block_len.to_bytes(3, "big"))


def seg_b2b(src, dst, blocks, src_lba, dst_lba, dc=0, cat=0, kind=0x02, dlen=0x18):
    return (bytes([kind, dc << 1 | cat]) + struct.pack(">HHHHH", dlen, src, dst, 0, blocks)
            + struct.pack(">QQ", src_lba, dst_lba))


def seg_b2b_off(src, dst, nbytes, src_lba, dst_lba, src_off=0, dst_off=0, cat=0, dlen=0x1C):
    """A 0x0A segment: NUMBER OF BYTES from a byte of the source LBA to a
    byte of the destination LBA."""
    return (bytes([0x0A, cat]) + struct.pack(">HHHI", dlen, src, dst, nbytes)
            + struct.pack(">QQHH", src_lba, dst_lba, src_off, dst_off))


def xcopy_lid4_list(cscds, segs, list_id=1, usage=0, immed=0, header_cscds=b""):
    """EXTENDED COPY(LID4)'s 48-byte header, then the lists."""
    c = b"".join(cscds)
    g = b"".join(segs)
    hdr = bytearray(48)
    hdr[0] = 0x01
    hdr[1] = usage << 3
    hdr[2:4] = struct.pack(">H", len(header_cscds))
    hdr[15] = immed
    hdr[20:24] = struct.pack(">I", list_id)
    hdr[42:44] = struct.pack(">H", len(c))
    hdr[44:46] = struct.pack(">H", len(g))
    return bytes(hdr) + header_cscds + c + g


def odx_cdb(sa, list_id, length):
    """POPULATE TOKEN (10h) / WRITE USING TOKEN (11h): LIST IDENTIFIER at
    bytes 6-9, PARAMETER LIST LENGTH at 10-13."""
    return struct.pack(">BBBBBBIIBB", 0x83, sa, 0, 0, 0, 0, list_id, length, 0, 0)


def block_ranges(ranges):
    return b"".join(struct.pack(">QII", lba, n, 0) for lba, n in ranges)


def populate_token(list_id, ranges, immed=0, timeout=0, rod_type=0, lun=0):
    d = block_ranges(ranges)
    params = (struct.pack(">HBBIIHH", 14 + len(d), immed, 0, timeout, rod_type, 0, len(d)) + d)
    return scsi_out(odx_cdb(0x10, list_id, len(params)), params, lun=lun, exp=len(params))


ZERO_ROD_TOKEN = struct.pack(">IHH", 0xFFFF0001, 0, 0x1F8) + b"\0" * 504


def write_using_token(list_id, token, ranges, offset=0, immed=0, lun=0):
    d = block_ranges(ranges)
    params = (struct.pack(">HBBIQ", 534 + len(d), immed, 0, 0, offset) + token
              + b"\0" * 6 + struct.pack(">H", len(d)) + d)
    return scsi_out(odx_cdb(0x11, list_id, len(params)), params, lun=lun, exp=len(params))


def rcv_copy_status_lid4(sa, list_id, alloc=1024, lun=0):
    """RECEIVE COPY STATUS(LID4) (05h) / DATA(LID4) (06h): the LIST
    IDENTIFIER is four bytes, 2-5."""
    return scsi_in(struct.pack(">BBIIIBB", 0x84, sa, list_id, 0, alloc, 0, 0), alloc, lun=lun)


def rrti(list_id, alloc=1024, lun=0):
    return scsi_in(struct.pack(">BBIIIBB", 0x84, 0x07, list_id, 0, alloc, 0, 0), alloc, lun=lun)


def xcopy_list(cscds, segs, list_id=1, usage=0, inline=b"", cscd_len=None, seg_len=None,
               prio=0):
    c = b"".join(cscds)
    g = b"".join(segs)
    return (bytes([list_id, usage << 3 | prio])
            + struct.pack(">HIII", len(c) if cscd_len is None else cscd_len, 0,
                          len(g) if seg_len is None else seg_len, len(inline))
            + c + g + inline)


def xcopy(params, lun=0, length=None, sa=0, nowait=False):
    n = len(params) if length is None else length
    return scsi_out(xcopy_cdb(n, sa), params, lun=lun, exp=n, nowait=nowait)


def rcv_copy_results(sa, list_id=1, alloc=1024, lun=0):
    return scsi_in(struct.pack(">BBBBBBBBBBIBB", 0x84, sa, list_id, 0, 0, 0, 0, 0, 0, 0,
                               alloc, 0, 0), alloc, lun=lun)


def scsi_seeds():
    inq = scsi_in(inquiry(), 255)
    rc16 = scsi_in(struct.pack(">BBQIBB", 0x9E, 0x10, 0, 32, 0, 0), 32)
    read_back = scsi_in(read10(0, 64), 512 * 64)
    file_cscds = [cscd_naa(NAA_FILE), cscd_naa(NAA_NULL)]
    good_unmap = unmap_list([(8, 8)])
    seeds = {
        "basics": inq + scsi_in(inquiry(255, 1, 0xB0), 255) + scsi_in(inquiry(255, 1, 0xB2), 255)
        + scsi_in(inquiry(255, 1, 0x8F), 255) + scsi_in(inquiry(255, 1, 0x86), 255)
        + rc16 + scsi_in(REPORT_LUNS, 256, lun=3) + scsi_in(inq[2:12], 255, lun=3)
        + scsi_in(struct.pack(">BBBBBBIBB", 0xA3, 0x0C, 0, 0, 0, 0, 65536, 0, 0), 65536)
        + scsi_in(REQUEST_SENSE, 252) + scsi_rec(TEST_UNIT_READY, lun=1),
        "read_write": pattern_write() + read_back
        + scsi_out(write16(1020, 8), block(8, 0xAA)) + scsi_out(write10(0, 1), block(1, 1), lun=2)
        + scsi_in(read16(0, 8), 4096, lun=1) + scsi_rec(SYNC_CACHE10)
        + scsi_rec(write10(0, 8), direction=SCSI_OUT_FAILS, exp=4096, data=block(2, 5))
        + scsi_out(write10(0, 8), block(8, 3), exp=1024),
        "overlap": b"".join(scsi_out(write10(i * 4, 8), block(8, i), nowait=True, attr=i % 3)
                            for i in range(6)) + read_back,
        "unmap_valid": pattern_write() + unmap(good_unmap) + get_lba_status(0) + read_back
        + unmap(unmap_list([(0, 1), (2, 3), (1000, 24)])) + unmap(unmap_list([]))
        + unmap(good_unmap, lun=1) + get_lba_status(0, lun=1) + unmap(b"", length=0),
        # Each malformed list after a pattern: the store must stay as it was.
        "unmap_bad_lengths": pattern_write() + unmap(unmap_list([(8, 8)], data_len=30))
        + unmap(unmap_list([(8, 8)], desc_len=15)) + unmap(unmap_list([(8, 8)], desc_len=32))
        + unmap(good_unmap[:7]) + unmap(good_unmap, length=40)
        + unmap(good_unmap, length=12) + read_back,
        "unmap_bad_range": pattern_write()
        + unmap(unmap_list([(8, 8), (1020, 8)])) + unmap(unmap_list([(8, 8), (2 ** 64 - 4, 8)]))
        + unmap(unmap_list([(0, 1), (SCSI_BLOCKS, 0)])) + unmap(unmap_list([(0, 0xFFFFFFFF)]))
        + unmap(unmap_list([(i, 1) for i in range(257)])) + unmap(good_unmap, anchor=1)
        + unmap(good_unmap, lun=2) + read_back,
        "write_same": pattern_write()
        + scsi_out(struct.pack(">BBQIBB", 0x93, 0x08, 4, 8, 0, 0), block(1, 0))
        + scsi_rec(struct.pack(">BBQIBB", 0x93, 0x09, 16, 8, 0, 0))
        + scsi_out(struct.pack(">BBIBHB", 0x41, 0x08, 30, 0, 4, 0), block(1, 0))
        + scsi_out(struct.pack(">BBQIBB", 0x93, 0x18, 0, 8, 0, 0), block(1, 0))
        + scsi_out(struct.pack(">BBQIBB", 0x93, 0x08, 1020, 8, 0, 0), block(1, 0))
        + get_lba_status(0) + get_lba_status(SCSI_BLOCKS) + get_lba_status(0, alloc=8),
        "log_sense": log_sense(0) + log_sense(0, 0xFF) + log_sense(0x0C) + log_sense(0x0D)
        + log_sense(0x2F) + log_sense(0x0C, pc=0) + log_sense(0x0C, pc=3, ppc=1, ptr=3)
        + log_sense(0x3E) + log_sense(0x0C, alloc=4) + log_sense(0x0C, lun=1),
        "orwrite": pattern_write() + scsi_out(struct.pack(">BBQIBB", 0x8B, 0, 0, 2, 0, 0), block(2, 0x81))
        + scsi_out(struct.pack(">BBQIBB", 0x8B, 0, 1023, 2, 0, 0), block(2, 0x81))
        + scsi_out(struct.pack(">BBQIBB", 0x8B, 0x20, 0, 2, 0, 0), block(2, 0x81))
        + scsi_out(bytes([0x7F, 0, 0, 0, 0, 0, 0, 0x18, 0, 0x0E, 0, 0]) + struct.pack(">QIII", 4, 0, 0, 2),
                   block(2, 0x18)) + read_back,
        "write_atomic": scsi_out(struct.pack(">BBQHHBB", 0x9C, 0, 0, 0, 8, 0, 0), block(8, 9))
        + scsi_out(struct.pack(">BBQHHBB", 0x9C, 0, 3, 0, 8, 0, 0), block(8, 9))
        + scsi_out(struct.pack(">BBQHHBB", 0x9C, 0, 0, 8, 16, 0, 0), block(16, 9))
        + scsi_out(struct.pack(">BBQHHBB", 0x9C, 0, 1020, 0, 8, 0, 0), block(8, 9))
        + scsi_in(inquiry(255, 1, 0xB0), 255) + read_back,
        "prefetch": scsi_rec(struct.pack(">BBIBHB", 0x34, 0, 0, 0, 64, 0))
        + scsi_rec(struct.pack(">BBIBHB", 0x34, 2, 1000, 0, 64, 0))
        + scsi_rec(struct.pack(">BBQIBB", 0x90, 2, 0, 1024, 0, 0))
        + scsi_rec(struct.pack(">BBQIBB", 0x90, 0, 0, 0, 0, 0), lun=1),
        "defects": scsi_in(struct.pack(">BBBBBBBHB", 0x37, 0, 0x18 | 4, 0, 0, 0, 0, 512, 0), 512)
        + scsi_in(struct.pack(">BBBBBBBHB", 0x37, 0, 0x10 | 5, 0, 0, 0, 0, 4, 0), 4)
        + scsi_in(struct.pack(">BBBBBBBHB", 0x37, 0, 0x08 | 7, 0, 0, 0, 0, 512, 0), 512)
        + scsi_in(struct.pack(">BBIIBB", 0xB7, 0x18 | 3, 0, 512, 0, 0), 512)
        + scsi_in(struct.pack(">BBIIBB", 0xB7, 0x10 | 6, 7, 512, 0, 0), 512),
        "sanitize_overwrite": pattern_write()
        + sanitize(1, overwrite_params(b"\xde\xad\xbe\xef")) + read_back
        + sanitize(1, overwrite_params(b"\x11" * 4, count=2, invert=1), immed=1)
        + scsi_rec(TEST_UNIT_READY) + scsi_in(REQUEST_SENSE, 252) + read_back,
        "sanitize_bad": pattern_write()
        + sanitize(1, overwrite_params(b"", plen=0)) + sanitize(1, overwrite_params(b"\1" * 4, plen=8))
        + sanitize(1, overwrite_params(b"\1" * 600)) + sanitize(1, overwrite_params(b"\1" * 4, count=0))
        + sanitize(1, overwrite_params(b"\1" * 4), length=3) + sanitize(1)
        + sanitize(1, overwrite_params(b"\1" * 4), lun=2) + sanitize(1, overwrite_params(b"\1" * 4, test=1))
        + sanitize(4) + sanitize(0x1F) + sanitize(2, overwrite_params(b"\1" * 4)) + read_back,
        "sanitize_other": pattern_write() + sanitize(2) + sanitize(3, ause=1) + sanitize(0x1F)
        + sanitize(2, lun=1) + sanitize(3, immed=1, lun=1) + read_back,
        "format_unit": pattern_write() + format_unit() + read_back
        + format_unit(0x10, bytes([0, 0x02, 0, 0])) + scsi_rec(TEST_UNIT_READY)
        + format_unit(0x10, bytes([0, 0, 0, 8]) + b"\0" * 8) + format_unit(0x50)
        + format_unit(0x30, bytes([0, 0, 0, 0, 0, 0, 0, 0])) + format_unit(0x10, bytes([0, 0x80, 0, 0]))
        + format_unit(0x18, bytes([0, 0, 0, 0])) + format_unit(0x10, bytes([0, 0, 0, 0]), lun=2)
        + format_unit(0, lun=1) + read_back,
        "mode_select": mode_select6(caching_page(wce=0)) + mode_sense10(0x08)
        + mode_select10(caching_page(wce=1), sp=1) + mode_sense10(0x08, pc=3)
        + mode_select6(control_page(d_sense=1, qerr=1, tas=1), sp=1) + scsi_in(read10(SCSI_BLOCKS, 1), 512)
        + mode_sense10(0x0A, pc=3) + mode_sense10(0x3F, pc=1) + mode_sense10(0x3F, pc=2, dbd=1)
        + mode_select6(control_page(swp=1)) + pattern_write() + mode_select6(control_page())
        + mode_select10(caching_page(), sp=1, lun=1),
        "mode_select_bad": mode_select6(caching_page()[:-4]) + mode_select6(caching_page(), length=10)
        + mode_select6(bytes([0x08, 0x13]) + b"\0" * 19) + mode_select6(bytes([0x3E, 2, 0, 0]))
        + mode_select6(caching_page(), bdesc=b"\0" * 7) + mode_select6(caching_page(), bdesc=struct.pack(">II", 0, 4096))
        + mode_select6(caching_page(), pf=0) + mode_select6(control_page(tst=3))
        + mode_select6(bytes([0x8A, 0x0A]) + control_page()[2:], sp=1) + mode_sense10(0x3F, pc=3),
        "removable": scsi_rec(bytes([0x1E, 0, 0, 0, 1, 0])) + scsi_rec(bytes([0x1B, 0, 0, 0, 2, 0]))
        + scsi_rec(bytes([0x1E, 0, 0, 0, 0, 0])) + scsi_rec(bytes([0x1B, 0, 0, 0, 2, 0]))
        + scsi_rec(TEST_UNIT_READY) + scsi_in(read10(0, 1), 512) + pattern_write()
        + unmap(good_unmap) + scsi_rec(bytes([0x1B, 0, 0, 0, 3, 0])) + scsi_rec(TEST_UNIT_READY)
        + scsi_in(read10(0, 1), 512) + scsi_rec(bytes([0x1B, 1, 0, 0, 0, 0])) + scsi_rec(TEST_UNIT_READY)
        + scsi_rec(bytes([0x1B, 0, 0, 0, 1, 0])),
        "xcopy_valid": pattern_write()
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100), seg_b2b(0, 1, 16, 0, 0),
                                        seg_b2b(1, 0, 4, 0, 200)]))
        + rcv_copy_results(0) + rcv_copy_results(3) + rcv_copy_results(4)
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 300, dc=1)], list_id=2, usage=2))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 1, 0, 400)], list_id=0, usage=3))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 1, 8, 0, 0)]), lun=1)
        + xcopy(xcopy_list(file_cscds, [], list_id=1)) + rcv_copy_results(0, list_id=9)
        + scsi_in(read10(100, 8), 4096) + scsi_in(read10(200, 4), 2048),
        "xcopy_bad_lists": pattern_write()
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)], cscd_len=33))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)], seg_len=27))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 5, 8, 0, 100)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)], inline=b"\0" * 4))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)], list_id=3, usage=3))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100, kind=0x07)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100, dlen=0x14)]))
        + xcopy(xcopy_list([cscd_naa(NAA_FILE + 1)], [seg_b2b(0, 0, 8, 0, 100)]))
        + xcopy(xcopy_list([cscd_naa(NAA_FILE, block_len=4096)], [seg_b2b(0, 0, 8, 0, 100)]))
        + xcopy(xcopy_list([cscd_naa(NAA_FILE, desig_len=4)], [seg_b2b(0, 0, 8, 0, 100)]))
        + xcopy(xcopy_list(file_cscds * 9, [seg_b2b(0, 0, 8, 0, 100)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 1, 0, 100)] * 129))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)])[:20], length=60)
        + xcopy(b"\0" * 8) + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)]), sa=1)
        + read_back + scsi_in(read10(100, 8), 4096),
        "xcopy_offsets": pattern_write()
        + xcopy(xcopy_list(file_cscds, [seg_b2b_off(0, 0, 1000, 0, 100, 17, 300),
                                        seg_b2b_off(0, 1, 700, 3, 8, 511, 1),
                                        seg_b2b_off(1, 0, 5, 0, 200, 0, 510, cat=1),
                                        seg_b2b_off(0, 0, 4096, 2, 4, 100, 0)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b_off(0, 0, 100, 0, 100, 512, 0)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b_off(0, 0, 100, 0, 100, 0, 600)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b_off(0, 0, 100, 1023, 0, 500, 0)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b_off(0, 0, 100, 0, 100, dlen=0x18)]))
        + scsi_in(read10(100, 8), 4096) + scsi_in(read10(200, 4), 2048) + read_back,
        "xcopy_lid4": pattern_write()
        + xcopy(xcopy_lid4_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)], list_id=7), sa=1)
        + rcv_copy_status_lid4(5, 7) + rcv_copy_status_lid4(6, 7)
        + xcopy(xcopy_lid4_list(file_cscds, [seg_b2b(0, 0, 64, 0, 200)], list_id=8, immed=1),
                sa=1, nowait=True)
        + scsi_rec(struct.pack(">BBIIIBB", 0x83, 0x1C, 8, 0, 0, 0, 0))
        + rcv_copy_status_lid4(5, 8)
        + xcopy(xcopy_lid4_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)], list_id=9,
                                header_cscds=cscd_naa(NAA_FILE)), sa=1)
        + xcopy(xcopy_lid4_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)], list_id=0, usage=3,
                                immed=1), sa=1)
        + scsi_in(read10(100, 8), 4096),
        "odx": pattern_write()
        + populate_token(1, [(0, 16), (64, 8)]) + rrti(1)
        + write_using_token(2, ZERO_ROD_TOKEN, [(100, 8)])
        + write_using_token(3, ZERO_ROD_TOKEN, [(200, 8)], lun=1)
        + write_using_token(4, b"\x12" * 512, [(300, 8)]) + rrti(4)
        + populate_token(5, [(0, 8)], immed=1, timeout=1) + rrti(5)
        + populate_token(6, [(1020, 8)]) + populate_token(7, [(0, 0)])
        + populate_token(8, [(0, 8)], rod_type=0x12345678)
        + write_using_token(9, ZERO_ROD_TOKEN, [(100, 8)], immed=1, lun=2) + rrti(9)
        + scsi_in(read10(100, 8), 4096),
        "xcopy_bad_range": pattern_write()
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100), seg_b2b(0, 0, 8, 0, 1020)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 200), seg_b2b(0, 0, 8, 2 ** 64 - 2, 0)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 0, 0, 300), seg_b2b(1, 0, 8, 1020, 0)]))
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 8, 0, 100)]), lun=2)
        + xcopy(xcopy_list([cscd_naa(NAA_FILE)] * 2, [seg_b2b(0, 1, 8, 0, 400)]), lun=2)
        + rcv_copy_results(0) + rcv_copy_results(4) + read_back + scsi_in(read10(100, 8), 4096),
        "tmf_abort": b"".join(scsi_out(write10(i * 8, 8), block(8, i + 1), nowait=True)
                              for i in range(4))
        + scsi_tmf(CORE_TMF_ABORT_TASK, SCSI_FIRST + 2, nowait=True)
        + scsi_tmf(CORE_TMF_QUERY_TASK, SCSI_FIRST + 3, nowait=True)
        + scsi_out(write10(64, 8), block(8, 7), nowait=True, lun=1)
        + scsi_tmf(CORE_TMF_ABORT_TASK_SET, lun=1) + scsi_tmf(CORE_TMF_LUN_RESET)
        + scsi_rec(TEST_UNIT_READY) + scsi_tmf(CORE_TMF_QUERY_ASYNC_EVENT) + scsi_tmf(CORE_TMF_QUERY_TASK_SET)
        + scsi_tmf(CORE_TMF_ABORT_TASK, 200) + scsi_tmf(CORE_TMF_LUN_RESET, lun=3) + read_back,
        "tmf_sanitize": pattern_write()
        + sanitize(1, overwrite_params(b"\x5a" * 4), immed=1, nowait=True)
        + scsi_tmf(CORE_TMF_LUN_RESET, nowait=True) + scsi_rec(TEST_UNIT_READY)
        + scsi_in(REQUEST_SENSE, 252) + format_unit(0x10, bytes([0, 0x02, 0, 0]))
        + scsi_tmf(CORE_TMF_TARGET_COLD_RESET) + scsi_tmf(CORE_TMF_I_T_NEXUS_RESET) + scsi_rec(TEST_UNIT_READY)
        + read_back,
        "tmf_xcopy": pattern_write()
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 64, 0, 512), seg_b2b(0, 1, 512, 0, 0)]),
                nowait=True)
        + scsi_tmf(CORE_TMF_ABORT_TASK, SCSI_FIRST + 1, nowait=True) + rcv_copy_results(0)
        + xcopy(xcopy_list(file_cscds, [seg_b2b(0, 0, 64, 0, 512)], list_id=2), nowait=True)
        + scsi_tmf(CORE_TMF_TARGET_RESET) + rcv_copy_results(0, list_id=2) + rcv_copy_results(4, list_id=2),
        "aca": scsi_in(bytes([0x28, 0, 0, 0, 0x10, 0, 0, 0, 1, 0x04]), 512)
        + scsi_in(read10(0, 1), 512) + scsi_in(bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]), 512, attr=3)
        + scsi_in(REQUEST_SENSE, 252, attr=3) + scsi_tmf(CORE_TMF_CLEAR_ACA) + scsi_in(read10(0, 1), 512)
        + mode_select6(control_page(qerr=1)) + scsi_in(read10(SCSI_BLOCKS, 1), 512, nowait=True)
        + scsi_in(read10(0, 1), 512),
        "restart_mode_pages": mode_select10(caching_page(wce=0), sp=1)
        + mode_select6(control_page(d_sense=1, tas=1, qam=1, ua_intlck=2), sp=1) + SCSI_RESTART
        + mode_sense10(0x3F) + mode_sense10(0x3F, pc=3) + scsi_in(read10(SCSI_BLOCKS, 1), 512)
        + mode_select6(caching_page(), sp=1) + mode_select6(control_page()) + SCSI_RESTART
        + mode_sense10(0x08) + mode_sense10(0x0A),
        "restart_pr": pr_out(0, sa_key=0x1234, flags=1) + pr_out(1, key=0x1234, prtype=1)
        + SCSI_RESTART + pr_in(0) + pr_in(1) + pr_in(3) + pattern_write()
        + pr_out(2, key=0x1234, prtype=1) + pr_out(0, key=0x1234, sa_key=0, flags=1)
        + SCSI_RESTART + pr_in(0),
        "restart_media": pattern_write() + sanitize(1, overwrite_params(b"\x77" * 4), immed=1)
        + SCSI_RESTART + scsi_rec(TEST_UNIT_READY) + read_back
        + scsi_rec(bytes([0x1B, 0, 0, 0, 2, 0])) + SCSI_RESTART + scsi_rec(TEST_UNIT_READY)
        + scsi_in(read10(0, 1), 512) + format_unit() + SCSI_RESTART + read_back,
        "more_block_cmds": scsi_in(READ_CAPACITY10, 8) + scsi_in(READ_CAPACITY10, 8, lun=1)
        + scsi_out(struct.pack(">BBQIBB", 0x93, 0, 16, 8, 0, 0), block(1, 0x42))
        + scsi_out(struct.pack(">BBIBHB", 0x41, 0, 40, 0, 8, 0), block(1, 0x43))
        + scsi_out(struct.pack(">BBQIBB", 0x93, 0, 1020, 8, 0, 0), block(1, 0x44))
        + scsi_out(struct.pack(">BBIBHB", 0x2E, 0, 0, 0, 4, 0), block(4, 0x45))
        + scsi_out(struct.pack(">BBIBHB", 0x2E, 2, 8, 0, 4, 0), block(4, 0x46))
        + scsi_out(struct.pack(">BBQIBB", 0x8E, 0, 12, 4, 0, 0), block(4, 0x47))
        + scsi_out(struct.pack(">BBIBHB", 0x2F, 2, 0, 0, 4, 0), block(4, 0x45))
        + scsi_out(struct.pack(">BBIBHB", 0x2F, 2, 0, 0, 4, 0), block(4, 0x00))
        + scsi_rec(struct.pack(">BBQIBB", 0x91, 2, 0, 64, 0, 0))
        + scsi_in(read16(0, 48), 512 * 48),
        "misc": pattern_write()
        + scsi_out(struct.pack(">BBQBBBBBB", 0x89, 0, 0, 0, 0, 0, 1, 0, 0), block(2, 0))
        + scsi_rec(struct.pack(">BBIBHB", 0x2F, 0, 0, 0, 8, 0))
        + scsi_out(struct.pack(">BBIBHB", 0x2F, 2, 0, 0, 1, 0), block(1, 0))
        + scsi_out(bytes([0x5F, 0, 0, 0, 0, 0, 0, 0, 24, 0]), struct.pack(">QQ", 0, 0x1234) + b"\0" * 8)
        + scsi_out(bytes([0x5F, 1, 1, 0, 0, 0, 0, 0, 24, 0]), struct.pack(">QQ", 0x1234, 0) + b"\0" * 8)
        + scsi_out(write10(0, 1), block(1, 2)) + scsi_rec(bytes([0x16, 0, 0, 0, 0, 0]), lun=1)
        + scsi_rec(bytes([0x17, 0, 0, 0, 0, 0]), lun=1)
        + scsi_in(bytes([0x5E, 0, 0, 0, 0, 0, 0, 1, 0, 0]), 256)
        + scsi_rec(bytes([0x7F, 0, 0, 0, 0, 0, 0, 0x18, 0, 0x09]) + b"\0" * 22),
    }
    return seeds


def write_corpus(root, name, seeds):
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    for fname, data in sorted(seeds.items()):
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, "seed_" + fname), "wb") as f:
            f.write(data)
    print("%s: %d seeds, %d bytes" % (d, len(seeds), sum(len(v) for v in seeds.values())))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    write_corpus(root, "connection", connection_seeds())
    write_corpus(root, "login_keys", login_keys_seeds())
    write_corpus(root, "config", config_seeds())
    write_corpus(root, "chap", chap_seeds())
    write_corpus(root, "rpc", rpc_seeds())
    write_corpus(root, "scsi", scsi_seeds())


if __name__ == "__main__":
    main()
