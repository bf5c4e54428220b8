# Login redirect at the PDU level (redirect.sh says what is configured).
#
#   redirect.py login HOST PORT TARGET INITIATOR STATUS [ADDRESS]
#       One Login Request (security stage, T=1 to operational) to TARGET on
#       HOST:PORT. STATUS 0x0101 / 0x0102: the answer must be that status,
#       with TargetAddress=ADDRESS and nothing else, T=0, TSIH 0, our ITT
#       and ISID, and the target must then close the connection. STATUS 0:
#       the login must go through to the full feature phase and a READ(10)
#       of LBA 0 be answered.
#   redirect.py sendtargets HOST PORT INITIATOR TARGET ADDRESS
#       A discovery session on HOST:PORT (never redirected): SendTargets=All
#       must list TARGET with exactly one TargetAddress, ADDRESS.
#   redirect.py pattern HOST PORT TARGET INITIATOR BYTE
#       A normal session; the first 64 KiB of LUN 0 must all be BYTE (hex).
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client  # noqa: E402
from iscsi_client import (IMMEDIATE, OP_LOGIN_REQ, OP_LOGIN_RSP, OP_TEXT_RSP,  # noqa: E402
                          ConnectionClosed, Session, bhs, parse_text)


def check(cond, what):
    if not cond:
        sys.exit("redirect: FAILED: " + what)


def session_at(host, port):
    """A Session connected to HOST (IPv4 or IPv6 literal), not only
    127.0.0.1 as iscsi_client.Session connects."""
    real = iscsi_client.socket.create_connection

    def connect(addr, timeout=None):
        return real((host, addr[1]), timeout=timeout)
    iscsi_client.socket.create_connection = connect
    try:
        return Session(port)
    finally:
        iscsi_client.socket.create_connection = real


def first_login_request(s, initiator, target, isid, itt, session_type="Normal"):
    pairs = [("InitiatorName", initiator), ("SessionType", session_type),
             ("AuthMethod", "None")]
    if target:
        pairs.insert(1, ("TargetName", target))
    text = b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs)
    # T=1, CSG=security (0), NSG=operational (1).
    b = bhs(OP_LOGIN_REQ | IMMEDIATE, 0x80 | (0 << 2) | 1, itt, word24=1, word28=0)
    b[8:14] = isid
    s.send_pdu(b, text)
    return s.recv_pdu()


def login(host, port, target, initiator, status, address=None):
    want = int(status, 0)
    s = session_at(host, int(port))
    isid = b"\x40\x00\x01\x02\x03" + bytes([want & 0xFF])
    itt = 0x1234
    rsp = first_login_request(s, initiator, target, isid, itt)
    check(rsp.opcode == OP_LOGIN_RSP, "expected a Login Response, got %r" % rsp)
    got = rsp.bhs[36] << 8 | rsp.bhs[37]
    answers = parse_text(rsp.data)
    where = "login to %s on %s:%s" % (target, host, port)
    if want == 0:
        check(got == 0, "%s: status 0x%04x (%r), expected success" % (where, got, answers))
        check("TargetAddress" not in answers, "%s: TargetAddress without a redirect" % where)
        s.close()
        s = session_at(host, int(port))
        s.login(initiator, target, isid, [])
        s.ready()  # past the unit attention of a new I_T nexus
        st, data, _ = s.read10(0, 4096)
        check(st == 0 and len(data) == 4096, "%s: READ(10) status %r" % (where, st))
        s.logout()
        print("redirect: %s: logged in, not redirected, READ(10) answered" % where)
        return
    check(got == want, "%s: status 0x%04x (%r), expected 0x%04x" % (where, got, answers, want))
    check(answers == {"TargetAddress": address},
          "%s: answer text %r, expected exactly TargetAddress=%s" % (where, answers, address))
    check(rsp.flags & 0x80 == 0, "%s: T bit set in a redirect" % where)
    check(rsp.flags & 0x40 == 0, "%s: C bit set in a redirect" % where)
    check(struct.unpack(">H", rsp.bhs[14:16])[0] == 0, "%s: TSIH not 0" % where)
    check(rsp.itt == itt, "%s: ITT 0x%x, expected 0x%x" % (where, rsp.itt, itt))
    check(bytes(rsp.bhs[8:14]) == isid, "%s: ISID not echoed" % where)
    # The target closes the connection after the response.
    s.sock.settimeout(5)
    try:
        extra = s.sock.recv(1)
    except socket.timeout:
        check(False, "%s: connection still open 5 s after the redirect" % where)
    except ConnectionResetError:
        extra = b""
    check(extra == b"", "%s: bytes after the redirecting Login Response" % where)
    s.close()
    print("redirect: %s: status 0x%04x, TargetAddress=%s, T=0, connection closed"
          % (where, got, address))


def sendtargets(host, port, initiator, target, address):
    s = session_at(host, int(port))
    isid = b"\x40\x00\x0d\x0d\x0d\x0d"
    rsp = first_login_request(s, initiator, None, isid, 0x77, session_type="Discovery")
    got = rsp.bhs[36] << 8 | rsp.bhs[37]
    check(got == 0, "discovery login on %s:%s: status 0x%04x (%r)"
          % (host, port, got, parse_text(rsp.data)))
    s.exp_stat_sn = (rsp.u32(24) + 1) & 0xFFFFFFFF
    s.login_isid = isid
    s.login_itt = 0x77
    flags, _ = s.login_step([], 1, 3, transit=True)
    check(flags & 0x80, "discovery login did not reach the full feature phase")
    s.in_login = False
    s.cmd_sn = s.exp_cmd_sn
    itt = s.send_text()
    pdu = s.recv_pdu()
    check(pdu.opcode == OP_TEXT_RSP and pdu.itt == itt, "no Text Response: %r" % pdu)
    pairs = [p.split("=", 1) for p in pdu.data.rstrip(b"\0").decode().split("\0") if "=" in p]
    addrs, current = {}, None
    for k, v in pairs:
        if k == "TargetName":
            current = v
            addrs[v] = []
        elif k == "TargetAddress" and current:
            addrs[current].append(v)
    check(addrs.get(target) == [address], "SendTargets on %s:%s lists %s at %r, expected [%r]"
          " (all: %r)" % (host, port, target, addrs.get(target), address, addrs))
    s.logout()
    print("redirect: SendTargets on %s:%s: %s at %s" % (host, port, target, address))


def pattern(host, port, target, initiator, byte):
    s = session_at(host, int(port))
    s.login(initiator, target, b"\x40\x00\x0e\x0e\x0e\x0e", [])
    s.ready()
    st, data, _ = s.read10(0, 65536)
    check(st == 0, "READ(10) on %s:%s: status %r" % (host, port, st))
    want = bytes([int(byte, 16)]) * 65536
    check(data == want, "the first 64 KiB of %s read on %s:%s are not all 0x%s"
          % (target, host, port, byte))
    s.logout()
    print("redirect: %s on %s:%s: 64 KiB of 0x%s read back" % (target, host, port, byte))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        {"login": login, "sendtargets": sendtargets, "pattern": pattern}[cmd](*args)
    except ConnectionClosed as e:
        sys.exit("redirect: FAILED: %s: %s" % (cmd, e))
