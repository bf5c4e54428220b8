"""A small iSCSI initiator for the integration tests (python3 stdlib only).

libiscsi implements the header digest but not the data digest, and never
sends a wrong digest or reuses an ISID on purpose; this client does what
the tests need and nothing more: one connection per session, a login
straight into the operational stage, WRITE(10) with immediate,
unsolicited and R2T-solicited data, READ(10), NOP-Out, Logout. Every PDU
received has its header and data digest checked (when negotiated) and its
data segment length checked against our MaxRecvDataSegmentLength.

Test hooks: write10() can corrupt the data digest of the n-th PDU it sends
and leave the response to the caller; send_pdu() can corrupt either digest.
"""
import base64
import hashlib
import os
import socket
import struct

# ---------------------------------------------------------------- CRC32C

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    """CRC32C (Castagnoli, RFC 7143 13.1), as iSCSI digests use it."""
    crc = 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def digest_bytes(data):
    # The digest goes on the wire least significant byte first (the CRC
    # register as the RFC's examples show it; what libiscsi and Linux do).
    return struct.pack("<I", crc32c(data))


# ---------------------------------------------------------------- PDUs

OP_NOP_OUT, OP_SCSI_CMD, OP_LOGIN_REQ, OP_DATA_OUT, OP_LOGOUT_REQ = 0x00, 0x01, 0x03, 0x05, 0x06
OP_NOP_IN, OP_SCSI_RSP, OP_LOGIN_RSP, OP_DATA_IN, OP_LOGOUT_RSP = 0x20, 0x21, 0x23, 0x25, 0x26
OP_R2T, OP_ASYNC, OP_REJECT = 0x31, 0x32, 0x3F
IMMEDIATE = 0x40
FINAL = 0x80
RESERVED_TAG = 0xFFFFFFFF
REJECT_DATA_DIGEST = 0x02
STATUS_GOOD, STATUS_CHECK_CONDITION = 0x00, 0x02
OP_TMF_REQ, OP_TMF_RSP, OP_TEXT_REQ, OP_TEXT_RSP = 0x02, 0x22, 0x04, 0x24
TMF_ABORT_TASK, TMF_ABORT_TASK_SET, TMF_LUN_RESET, TMF_TARGET_WARM_RESET = 1, 2, 5, 6
TMF_RSP_COMPLETE, TMF_RSP_NO_TASK = 0, 1
ATTR_UNTAGGED, ATTR_SIMPLE, ATTR_ORDERED, ATTR_HEAD_OF_QUEUE = 0, 1, 2, 3

# Opcodes whose StatSN is a status (advances ExpStatSN).
_STATUS_OPS = {OP_SCSI_RSP, 0x22, OP_LOGIN_RSP, 0x24, OP_LOGOUT_RSP, OP_REJECT}


class ProtocolError(Exception):
    pass


class ConnectionClosed(Exception):
    pass


class LoginRejected(ProtocolError):
    """A Login Response with a non-zero status; .status is class << 8 |
    detail (0x0201: authentication failure, 0x0200: initiator error)."""

    def __init__(self, status, answers=None):
        super().__init__("login failed, status class %d detail %d" % (status >> 8, status & 0xFF))
        self.status = status
        self.answers = answers or {}


class Pdu:
    def __init__(self, bhs, data=b""):
        self.bhs = bytes(bhs)
        self.data = data

    @property
    def opcode(self):
        return self.bhs[0] & 0x3F

    @property
    def flags(self):
        return self.bhs[1]

    def u32(self, off):
        return struct.unpack_from(">I", self.bhs, off)[0]

    @property
    def itt(self):
        return self.u32(16)

    def __repr__(self):
        return "Pdu(op=0x%02x flags=0x%02x itt=0x%x dlen=%d)" % (
            self.opcode, self.flags, self.itt, len(self.data))


def bhs(opcode, flags, itt, lun=0, word20=0, word24=0, word28=0, rest=b""):
    """A 48-byte BHS: opcode byte, flags byte, LUN (peripheral addressing),
    ITT and the four words at 20, 24, 28, then bytes 32..47 from @rest."""
    b = bytearray(48)
    b[0] = opcode
    b[1] = flags
    b[8:16] = struct.pack(">BBxxxxxx", 0, lun)
    struct.pack_into(">IIII", b, 16, itt, word20, word24, word28)
    b[32:32 + len(rest)] = rest
    return b


def parse_text(data):
    """Login/Text data segment to a dict."""
    out = {}
    for pair in data.rstrip(b"\0").split(b"\0"):
        if pair:
            k, _, v = pair.decode().partition("=")
            out[k] = v
    return out


def sense_key_asc(data):
    """(key, asc, ascq) of the sense in a SCSI Response data segment."""
    if len(data) < 2:
        return None
    slen = struct.unpack(">H", data[:2])[0]
    s = data[2:2 + slen]
    if len(s) >= 14 and s[0] & 0x7F in (0x70, 0x71):
        return s[2] & 0x0F, s[12], s[13]
    if len(s) >= 4 and s[0] & 0x7F in (0x72, 0x73):
        return s[1] & 0x0F, s[2], s[3]
    return None


# ---------------------------------------------------------------- session

class Session:
    """One connection, one session."""

    def __init__(self, port, timeout=20, rcvbuf=None):
        if rcvbuf is None:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        else:
            # SO_RCVBUF before connect(): the TCP window is fixed at the
            # handshake, so a small buffer keeps the target's sends short.
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.header_digest = False
        self.data_digest = False
        self.in_login = True
        self.cmd_sn = 1
        self.exp_stat_sn = 0
        self.itt = 0x10
        self.params = {}
        self.my_mrdsl = 8192       # what we accept (declared at login)
        self.target_mrdsl = 8192   # what we may send
        self.digests_checked = 0
        self.pdus_received = 0
        self.exp_cmd_sn = None
        self.max_cmd_sn = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def next_itt(self):
        self.itt += 1
        return self.itt

    # ---- wire

    def send_pdu(self, b, data=b"", bad_header_digest=False, bad_data_digest=False):
        b = bytearray(b)
        b[5:8] = len(data).to_bytes(3, "big")
        wire = bytearray(b)
        if self.header_digest and not self.in_login:
            d = bytearray(digest_bytes(bytes(b)))
            if bad_header_digest:
                d[0] ^= 0x01
            wire += d
        if data:
            padded = data + b"\0" * ((4 - len(data) % 4) % 4)
            wire += padded
            if self.data_digest and not self.in_login:
                d = bytearray(digest_bytes(padded))
                if bad_data_digest:
                    d[3] ^= 0x80
                wire += d
        self.sock.sendall(wire)

    def _recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ConnectionClosed("target closed the connection")
            buf += chunk
        return bytes(buf)

    def recv_pdu(self):
        """Next PDU, digests checked. Answers target pings on the way."""
        while True:
            pdu = self._recv_one()
            if pdu.opcode == OP_NOP_IN and pdu.u32(20) != RESERVED_TAG:
                # A ping: answer with the same TTT (RFC 7143 11.18).
                self.send_pdu(bhs(OP_NOP_OUT | IMMEDIATE, FINAL, RESERVED_TAG,
                                  word20=pdu.u32(20), word24=self.cmd_sn,
                                  word28=self.exp_stat_sn))
                continue
            if pdu.opcode == OP_ASYNC:
                continue
            return pdu

    def _recv_one(self):
        b = self._recv_exact(48)
        ahs_len = b[4] * 4
        ahs = self._recv_exact(ahs_len) if ahs_len else b""
        if self.header_digest and not self.in_login:
            got = self._recv_exact(4)
            if got != digest_bytes(b + ahs):
                raise ProtocolError("bad header digest from the target: %r" % Pdu(b))
            self.digests_checked += 1
        dlen = int.from_bytes(b[5:8], "big")
        if dlen > self.my_mrdsl:
            raise ProtocolError("target sent a %d-byte data segment, above our "
                                "MaxRecvDataSegmentLength %d" % (dlen, self.my_mrdsl))
        data = b""
        if dlen:
            padded = self._recv_exact(dlen + (4 - dlen % 4) % 4)
            if self.data_digest and not self.in_login:
                got = self._recv_exact(4)
                if got != digest_bytes(padded):
                    raise ProtocolError("bad data digest from the target: %r" % Pdu(b))
                self.digests_checked += 1
            data = padded[:dlen]
        pdu = Pdu(b, data)
        self.pdus_received += 1
        op = pdu.opcode
        if op in _STATUS_OPS or (op == OP_DATA_IN and pdu.flags & 0x01) or \
                (op == OP_NOP_IN and pdu.itt != RESERVED_TAG):
            self.exp_stat_sn = (pdu.u32(24) + 1) & 0xFFFFFFFF
        if op not in (OP_LOGIN_RSP,):
            self.exp_cmd_sn = pdu.u32(28)
            self.max_cmd_sn = pdu.u32(32)
        return pdu

    # ---- login

    def login(self, initiator, target, isid, keys, tsih=0, cid=0):
        """Logs in straight into the operational stage offering @keys
        (ordered list of (key, value)); returns the target's answers. A
        TSIH other than 0 adds this connection (CID @cid) to that session."""
        offered = [("InitiatorName", initiator), ("TargetName", target),
                   ("SessionType", "Normal")] + list(keys)
        text = b"".join(("%s=%s" % kv).encode() + b"\0" for kv in offered)
        answers = {}
        itt = self.next_itt()
        while True:
            # T=1, CSG=operational (1), NSG=full feature (3).
            b = bhs(OP_LOGIN_REQ | IMMEDIATE, 0x80 | (1 << 2) | 3, itt,
                    word20=0, word24=self.cmd_sn, word28=self.exp_stat_sn)
            b[8:14] = isid
            b[14:16] = struct.pack(">H", tsih)
            b[20:22] = struct.pack(">H", cid)
            self.send_pdu(b, text)
            rsp = self.recv_pdu()
            if rsp.opcode != OP_LOGIN_RSP:
                raise ProtocolError("expected a Login Response, got %r" % rsp)
            status = rsp.bhs[36] << 8 | rsp.bhs[37]
            if status:
                raise LoginRejected(status, parse_text(rsp.data))
            answers.update(parse_text(rsp.data))
            self.exp_stat_sn = (rsp.u32(24) + 1) & 0xFFFFFFFF
            self.exp_cmd_sn = rsp.u32(28)
            self.tsih = struct.unpack(">H", rsp.bhs[14:16])[0]
            if rsp.flags & 0x80 and rsp.flags & 0x03 == 3:
                break
            text = b""
        self.cmd_sn = self.exp_cmd_sn
        self.params = answers
        self.header_digest = answers.get("HeaderDigest") == "CRC32C"
        self.data_digest = answers.get("DataDigest") == "CRC32C"
        self.my_mrdsl = int(dict(keys).get("MaxRecvDataSegmentLength", 8192))
        self.target_mrdsl = int(answers.get("MaxRecvDataSegmentLength", 8192))
        self.in_login = False
        return answers

    # ---- login with CHAP (RFC 7143 12.1.3)

    def login_step(self, pairs, csg, nsg=0, transit=False, isid=None, tsih=0):
        """One Login Request (pairs: ordered (key, value) list, sent as
        given, values may be anything) and its response: returns (flags,
        answers); raises LoginRejected on a non-zero status. A response
        with the C bit is collected whole."""
        if isid is not None:
            self.login_isid = isid
        if not hasattr(self, "login_itt"):
            self.login_itt = self.next_itt()
        text = b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs)
        flags = (0x80 if transit else 0) | (csg << 2) | (nsg if transit else 0)
        answers = {}
        while True:
            b = bhs(OP_LOGIN_REQ | IMMEDIATE, flags, self.login_itt,
                    word24=self.cmd_sn, word28=self.exp_stat_sn)
            b[8:14] = self.login_isid
            b[14:16] = struct.pack(">H", tsih)
            self.send_pdu(b, text)
            rsp = self.recv_pdu()
            if rsp.opcode != OP_LOGIN_RSP:
                raise ProtocolError("expected a Login Response, got %r" % rsp)
            status = rsp.bhs[36] << 8 | rsp.bhs[37]
            answers.update(parse_text(rsp.data))
            if status:
                raise LoginRejected(status, answers)
            self.exp_stat_sn = (rsp.u32(24) + 1) & 0xFFFFFFFF
            self.exp_cmd_sn = rsp.u32(28)
            self.tsih = struct.unpack(">H", rsp.bhs[14:16])[0]
            if not rsp.flags & 0x40:
                return rsp.flags, answers
            text = b""  # the C bit: ask for the rest with an empty request

    def login_chap(self, initiator, target, isid, user, secret, algs="5", mutual=None,
                   encoding="hex", keys=(), discovery=False):
        """A login through the security stage with CHAP: AuthMethod=CHAP,
        CHAP_A=@algs, our response for @user/@secret in @encoding ("hex"
        or "base64"); with @mutual = (target user, target secret) our
        own challenge too, and the target's answer checked. Then the
        operational stage with @keys into full feature. Returns the
        answers of the whole login; self.chap_alg is the algorithm the
        target chose."""
        names = [("InitiatorName", initiator)]
        names += [("SessionType", "Discovery")] if discovery else \
            [("TargetName", target), ("SessionType", "Normal")]
        _, a = self.login_step(names + [("AuthMethod", "CHAP,None")], 0, isid=isid)
        if a.get("AuthMethod") != "CHAP":
            raise ProtocolError("target answered AuthMethod=%s" % a.get("AuthMethod"))
        answers = dict(a)
        _, a = self.login_step([("CHAP_A", algs)], 0)
        answers.update(a)
        alg = int(a["CHAP_A"])
        self.chap_alg = alg
        pairs = [("CHAP_N", user),
                 ("CHAP_R", chap_encode(chap_response(alg, int(a["CHAP_I"]), secret,
                                                      chap_decode(a["CHAP_C"])), encoding))]
        if mutual:
            my_id, my_c = os.urandom(1)[0], os.urandom(16)
            pairs += [("CHAP_I", str(my_id)), ("CHAP_C", chap_encode(my_c, encoding))]
        flags, a = self.login_step(pairs, 0, 1, transit=True)
        answers.update(a)
        if not flags & 0x80 or flags & 3 != 1:
            raise ProtocolError("target did not move to the operational stage after CHAP"
                                " (flags 0x%02x)" % flags)
        if mutual:
            want = chap_response(alg, my_id, mutual[1], my_c)
            if a.get("CHAP_N") != mutual[0] or "CHAP_R" not in a or \
                    chap_decode(a["CHAP_R"]) != want:
                raise ProtocolError("target's mutual CHAP answer is wrong: %r" % a)
            if not a["CHAP_R"].startswith("0b" if encoding == "base64" else "0x"):
                raise ProtocolError("target answered in another encoding: %s" % a["CHAP_R"])
        flags, a = self.login_step(list(keys), 1, 3, transit=True)
        while not (flags & 0x80 and flags & 3 == 3):
            flags, more = self.login_step([], 1, 3, transit=True)
            a.update(more)
        answers.update(a)
        self.cmd_sn = self.exp_cmd_sn
        self.params = answers
        self.header_digest = answers.get("HeaderDigest") == "CRC32C"
        self.data_digest = answers.get("DataDigest") == "CRC32C"
        self.my_mrdsl = int(dict(keys).get("MaxRecvDataSegmentLength", 8192))
        self.target_mrdsl = int(answers.get("MaxRecvDataSegmentLength", 8192))
        self.in_login = False
        return answers

    def param(self, key, default):
        return self.params.get(key, default)

    # ---- SCSI

    def _cmd_bhs(self, itt, flags, edtl, cdb, cmd_sn=None):
        """SCSI Command header; takes the next CmdSN unless @cmd_sn is
        given (a retry reuses its command's)."""
        if cmd_sn is None:
            cmd_sn = self.cmd_sn
            self.cmd_sn = (self.cmd_sn + 1) & 0xFFFFFFFF
        cdb = cdb + b"\0" * (16 - len(cdb))
        return bhs(OP_SCSI_CMD, flags, itt, word20=edtl, word24=cmd_sn,
                   word28=self.exp_stat_sn, rest=cdb)

    def wait_response(self, itt, read_buf=None, on_r2t=None, others=None):
        """Collects PDUs of task @itt until its status: Data-In into
        @read_buf, R2Ts to @on_r2t. Other PDUs go to @others (a list) or
        fail. Returns (status, data segment of the SCSI Response)."""
        while True:
            pdu = self.recv_pdu()
            if pdu.opcode == OP_DATA_IN and pdu.itt == itt and read_buf is not None:
                off = pdu.u32(40)
                if off + len(pdu.data) > len(read_buf):
                    raise ProtocolError("Data-In beyond the buffer")
                read_buf[off:off + len(pdu.data)] = pdu.data
                if pdu.flags & 0x01:
                    return pdu.bhs[3], b""
            elif pdu.opcode == OP_R2T and pdu.itt == itt and on_r2t:
                on_r2t(pdu)
            elif pdu.opcode == OP_SCSI_RSP and pdu.itt == itt:
                if pdu.bhs[2] != 0:
                    raise ProtocolError("iSCSI response 0x%02x" % pdu.bhs[2])
                return pdu.bhs[3], pdu.data
            elif others is not None:
                others.append(pdu)
            else:
                raise ProtocolError("unexpected %r while waiting for ITT 0x%x" % (pdu, itt))

    def _send_data_out(self, itt, ttt, data, offset, length, bad, counter):
        """Data-Out PDUs for [offset, offset+length), DataSN from 0, F on
        the last; the one whose ordinal (across the command) equals @bad
        gets a wrong data digest."""
        seg = self.target_mrdsl
        sn = 0
        pos = offset
        while pos < offset + length:
            n = min(seg, offset + length - pos)
            last = pos + n == offset + length
            b = bhs(OP_DATA_OUT, FINAL if last else 0, itt, word20=ttt, word28=self.exp_stat_sn,
                    rest=struct.pack(">III", 0, sn, pos))
            counter[0] += 1
            self.send_pdu(b, data[pos:pos + n], bad_data_digest=(counter[0] == bad))
            sn += 1
            pos += n

    def write10(self, lba, data, block=512, bad_pdu=None, itt=None, cmd_sn=None,
                others=None, wait=True):
        """WRITE(10) of @data at @lba using what the login negotiated:
        immediate data, then unsolicited Data-Out up to FirstBurstLength,
        then whatever the target solicits. @bad_pdu (1 = the command PDU
        itself) gets a corrupted data digest. Returns (status, rsp data),
        or without @wait the ITT once the unsolicited data is sent."""
        itt = itt if itt is not None else self.next_itt()
        edtl = len(data)
        cdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, edtl // block, 0)
        immediate = self.param("ImmediateData", "Yes") == "Yes"
        initial_r2t = self.param("InitialR2T", "Yes") == "Yes"
        first_burst = int(self.param("FirstBurstLength", 65536))
        unsol_total = 0 if initial_r2t and not immediate else min(edtl, first_burst)
        imm_len = min(unsol_total, self.target_mrdsl) if immediate else 0
        if initial_r2t:
            unsol_total = imm_len
        flags = 0x20 | 0x01 | (FINAL if unsol_total <= imm_len else 0)
        b = self._cmd_bhs(itt, flags, edtl, cdb, cmd_sn)
        counter = [1]
        self.send_pdu(b, data[:imm_len], bad_data_digest=(bad_pdu == 1 and imm_len > 0))
        if unsol_total > imm_len:
            self._send_data_out(itt, RESERVED_TAG, data, imm_len, unsol_total - imm_len,
                                bad_pdu, counter)
        if not wait:
            return itt

        def on_r2t(r2t):
            self._send_data_out(itt, r2t.u32(20), data, r2t.u32(40), r2t.u32(44), bad_pdu,
                                counter)
        return self.wait_response(itt, on_r2t=on_r2t, others=others)

    def read10(self, lba, length, block=512):
        itt = self.next_itt()
        cdb = struct.pack(">BBIBHB", 0x28, 0, lba, 0, length // block, 0)
        self.send_pdu(self._cmd_bhs(itt, FINAL | 0x40 | 0x01, length, cdb))
        buf = bytearray(length)
        status, rsp = self.wait_response(itt, read_buf=buf)
        return status, bytes(buf), rsp

    def test_unit_ready(self):
        itt = self.next_itt()
        self.send_pdu(self._cmd_bhs(itt, FINAL | 0x01, 0, b"\0" * 6))
        return self.wait_response(itt)

    def nop(self, bad_header_digest=False):
        """Immediate NOP-Out ping; returns the NOP-In (or raises)."""
        itt = self.next_itt()
        self.send_pdu(bhs(OP_NOP_OUT | IMMEDIATE, FINAL, itt, word20=RESERVED_TAG,
                          word24=self.cmd_sn, word28=self.exp_stat_sn),
                      bad_header_digest=bad_header_digest)
        while True:
            pdu = self.recv_pdu()
            if pdu.opcode == OP_NOP_IN and pdu.itt == itt:
                return pdu
            raise ProtocolError("unexpected %r while waiting for NOP-In" % pdu)

    def logout(self):
        itt = self.next_itt()
        self.send_pdu(bhs(OP_LOGOUT_REQ | IMMEDIATE, FINAL, itt, word24=self.cmd_sn,
                          word28=self.exp_stat_sn))
        pdu = self.recv_pdu()
        if pdu.opcode != OP_LOGOUT_RSP or pdu.bhs[2] != 0:
            raise ProtocolError("logout failed: %r" % pdu)
        self.close()

    # ---- requests put on the wire without waiting (the hostile tests)
    #
    # tmf_sessions, reinstate_busy, disconnect_states and the others need
    # PDUs with CmdSNs of their choosing, several tasks in flight, and the
    # responses of many tasks in the order the target sends them.

    def _take_cmd_sn(self, cmd_sn, immediate):
        """The CmdSN to put in a request: @cmd_sn if given (the counter is
        left alone), else the next one, not advanced for an immediate
        request (RFC 7143 4.2.2.1)."""
        if cmd_sn is not None:
            return cmd_sn
        sn = self.cmd_sn
        if not immediate:
            self.cmd_sn = (self.cmd_sn + 1) & 0xFFFFFFFF
        return sn

    def send_scsi(self, cdb, edtl=0, read=False, write=False, data=b"", final=True,
                  attr=ATTR_SIMPLE, lun=0, cmd_sn=None, immediate=False, itt=None,
                  announce_len=None):
        """Sends one SCSI Command PDU; returns (itt, cmd_sn) at once.
        @data is its immediate data. With @announce_len the header claims
        that DataSegmentLength and the PDU goes out raw (no padding, no
        digest), so that a caller can stop in the middle of its data."""
        itt = itt if itt is not None else self.next_itt()
        sn = self._take_cmd_sn(cmd_sn, immediate)
        flags = (FINAL if final else 0) | (0x40 if read else 0) | (0x20 if write else 0) | \
            (attr & 7)
        cdb = cdb + b"\0" * (16 - len(cdb))
        b = bhs(OP_SCSI_CMD | (IMMEDIATE if immediate else 0), flags, itt, lun=lun,
                word20=edtl, word24=sn, word28=self.exp_stat_sn, rest=cdb)
        if announce_len is None:
            self.send_pdu(b, data)
        else:
            b[5:8] = announce_len.to_bytes(3, "big")
            wire = bytearray(b)
            if self.header_digest:
                wire += digest_bytes(bytes(b))
            self.sock.sendall(bytes(wire) + data)
        return itt, sn

    def send_read10(self, lba, length, block=512, **kw):
        """READ(10) of @length bytes at @lba, not waited for."""
        cdb = struct.pack(">BBIBHB", 0x28, 0, lba, 0, length // block, 0)
        return self.send_scsi(cdb, edtl=length, read=True, **kw)

    def send_write10(self, lba, data, block=512, **kw):
        """WRITE(10) of @data at @lba, all of it immediate data (the login
        allowed ImmediateData with FirstBurstLength and the target's
        MaxRecvDataSegmentLength at least len(data)), not waited for."""
        cdb = struct.pack(">BBIBHB", 0x2A, 0, lba, 0, len(data) // block, 0)
        return self.send_scsi(cdb, edtl=len(data), write=True, data=data, **kw)

    def send_tmf(self, function, lun=0, ref_itt=RESERVED_TAG, ref_cmd_sn=0, immediate=True,
                 cmd_sn=None, itt=None):
        """Task Management Function Request (RFC 7143 11.5); returns its
        ITT at once."""
        itt = itt if itt is not None else self.next_itt()
        sn = self._take_cmd_sn(cmd_sn, immediate)
        self.send_pdu(bhs(OP_TMF_REQ | (IMMEDIATE if immediate else 0), FINAL | (function & 0x7F),
                          itt, lun=lun, word20=ref_itt, word24=sn, word28=self.exp_stat_sn,
                          rest=struct.pack(">II", ref_cmd_sn, 0)))
        return itt

    def send_nop(self, data=b"", immediate=True, cmd_sn=None, itt=None):
        """NOP-Out that wants its NOP-In; returns its ITT at once."""
        itt = itt if itt is not None else self.next_itt()
        sn = self._take_cmd_sn(cmd_sn, immediate)
        self.send_pdu(bhs(OP_NOP_OUT | (IMMEDIATE if immediate else 0), FINAL, itt,
                          word20=RESERVED_TAG, word24=sn, word28=self.exp_stat_sn), data)
        return itt

    def send_text(self, text=b"SendTargets=All\0", immediate=False, cmd_sn=None, itt=None):
        """Text Request, a new exchange with F=1; returns its ITT at once."""
        itt = itt if itt is not None else self.next_itt()
        sn = self._take_cmd_sn(cmd_sn, immediate)
        self.send_pdu(bhs(OP_TEXT_REQ | (IMMEDIATE if immediate else 0), FINAL, itt,
                          word20=RESERVED_TAG, word24=sn, word28=self.exp_stat_sn), text)
        return itt

    def send_logout(self, immediate=True, cmd_sn=None, itt=None):
        """Logout Request, reason "close the session"; returns its ITT."""
        itt = itt if itt is not None else self.next_itt()
        sn = self._take_cmd_sn(cmd_sn, immediate)
        self.send_pdu(bhs(OP_LOGOUT_REQ | (IMMEDIATE if immediate else 0), FINAL, itt,
                          word24=sn, word28=self.exp_stat_sn))
        return itt

    def wait_tmf(self, itt, others=None):
        """The response code of TMF @itt; PDUs of anything else go to
        @others (a list), or fail without it."""
        while True:
            pdu = self.recv_pdu()
            if pdu.opcode == OP_TMF_RSP and pdu.itt == itt:
                return pdu.bhs[2]
            if others is None:
                raise ProtocolError("unexpected %r while waiting for TMF 0x%x" % (pdu, itt))
            others.append(pdu)

    def collect(self, itts, read_bufs=None, until=None, others=None):
        """Reads PDUs until every task in @itts (a set, emptied as they
        end) has its status, or until a PDU for which @until(pdu) holds
        (that one is consumed). Data-In goes into @read_bufs[itt] (a
        bytearray) when there is one. Returns the completions in wire
        order, which on one connection is the order the target completed
        them: [(itt, status, response data segment)]. PDUs of anything
        else go to @others (a list), or fail without it."""
        done = []
        read_bufs = read_bufs or {}
        while itts or until is not None:
            pdu = self.recv_pdu()
            if until is not None and until(pdu):
                return done
            op, itt = pdu.opcode, pdu.itt
            if op == OP_DATA_IN and itt in itts:
                buf = read_bufs.get(itt)
                if buf is not None:
                    off = pdu.u32(40)
                    if off + len(pdu.data) > len(buf):
                        raise ProtocolError("Data-In beyond the buffer")
                    buf[off:off + len(pdu.data)] = pdu.data
                if pdu.flags & 0x01:
                    itts.discard(itt)
                    done.append((itt, pdu.bhs[3], b""))
            elif op == OP_SCSI_RSP and itt in itts:
                if pdu.bhs[2] != 0:
                    raise ProtocolError("iSCSI response 0x%02x" % pdu.bhs[2])
                itts.discard(itt)
                done.append((itt, pdu.bhs[3], pdu.data))
            elif others is not None:
                others.append(pdu)
            else:
                raise ProtocolError("unexpected %r while collecting %d task(s)"
                                    % (pdu, len(itts)))
        return done

    def ready(self, tries=5, others=None):
        """TEST UNIT READY until GOOD, consuming the unit attentions of a
        new session or a reset; True once GOOD. PDUs of other tasks on
        the way go to @others (a list), or fail without it."""
        for _ in range(tries):
            itt, _ = self.send_scsi(b"\0" * 6)
            if self.collect({itt}, others=others)[0][1] == STATUS_GOOD:
                return True
        return False


# ---------------------------------------------------------------- CHAP

CHAP_DIGESTS = {5: "md5", 6: "sha1", 7: "sha256", 8: "sha3_256"}


def chap_response(alg, ident, secret, challenge):
    """RFC 1994: H(identifier || secret || challenge), hashlib's digest."""
    if isinstance(secret, str):
        secret = secret.encode()
    return hashlib.new(CHAP_DIGESTS[alg], bytes([ident]) + secret + challenge).digest()


def chap_encode(data, encoding="hex"):
    if encoding == "base64":
        return "0b" + base64.b64encode(data).decode()
    return "0x" + data.hex()


def chap_decode(value):
    if value[:2] in ("0x", "0X"):
        return bytes.fromhex(value[2:])
    if value[:2] in ("0b", "0B"):
        return base64.b64decode(value[2:], validate=True)
    raise ProtocolError("CHAP value %r is neither hex nor base64" % value)
