#!/usr/bin/env python3
"""Text negotiation in the full feature phase (RFC 7143 11.10, 11.11, 13),
AsyncEvent 4 (renegotiation requested) and AsyncEvent 0 (AEN), for
text_ffp.sh.

usage: text_ffp.py PORT RPC_SOCKET TARGET MODE [ARG]

MODE:
  mrdsl        MaxRecvDataSegmentLength renegotiated down and up: READs
               before and after, their Data-In within the value in force;
               a value takes effect only when the exchange ends (F=1);
  multi        a request split in pieces with the C bit, answered by a
               response split in pieces (many NotUnderstood keys at a
               512-byte MaxRecvDataSegmentLength);
  reset        a new request (other ITT, TTT 0xffffffff) abandons an
               exchange under way and what it negotiated; its old TTT is
               then rejected;
  refused      login-only (LO, IO) keys answered Reject, unknown ones
               NotUnderstood, the session unchanged;
  sendtargets  SendTargets=All in FFP lists this target only;
  reneg-answer target.set_attr MaxRecvDataSegmentLength=ARG: AsyncEvent 4
               arrives, the initiator starts an empty Text exchange, the
               target declares ARG, and afterwards accepts a data segment
               of ARG bytes and closes the connection on a longer one;
  reneg-ignore the same, unanswered: AsyncEvent 2, then the close, after
               Parameter3 seconds;
  reneg-rpc ARG session.renegotiate: AsyncEvent 4 with nothing changed;
               the exchange that answers it declares ARG again;
  reneg-mcs    two connections of one session, both asked (AsyncEvent 4);
               the one that answers goes on, the other is dropped;
  aen-on DEV   lun.add (REPORTED LUNS DATA HAS CHANGED) and
               device.resync_size of file DEV grown (CAPACITY DATA HAS
               CHANGED): an AsyncEvent 0 each, with the LUN and the sense;
               the unit attention still reported by the next command;
  aen-off DEV  the same changes, no AsyncEvent 0; the UA reported.
Each check that passes prints "text_ffp: ok: ..."; a failure prints
"text_ffp: FAILED: ..." and the exit status is 1.
"""
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

C_BIT = 0x40
INITIATOR = "iqn.2026-12.test:text-ffp"


def fail(msg):
    print("text_ffp: FAILED: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("text_ffp: ok: " + msg, flush=True)


def rpc(sock_path, method, params):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                          "params": params}).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    r = json.loads(buf)
    if "error" in r:
        fail("rpc %s: %s" % (method, r["error"]))
    return r["result"]


def text_pairs(pairs):
    return b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs)


class Text:
    """One Text exchange on session @s, by hand: each request's flags
    and TTT as the caller says."""

    def __init__(self, s, itt=None):
        self.s = s
        self.itt = itt if itt is not None else s.next_itt()
        self.ttt = ic.RESERVED_TAG

    def send(self, data, final=True, cont=False, ttt=None):
        flags = (ic.FINAL if final else 0) | (C_BIT if cont else 0)
        ttt = self.ttt if ttt is None else ttt
        sn = self.s._take_cmd_sn(None, False)
        self.s.send_pdu(ic.bhs(ic.OP_TEXT_REQ, flags, self.itt, word20=ttt, word24=sn,
                               word28=self.s.exp_stat_sn), data)

    def recv(self):
        """The next Text Response (its TTT kept for the next request)."""
        pdu = self.s.recv_pdu()
        if pdu.opcode != ic.OP_TEXT_RSP:
            fail("expected a Text Response, got %r" % pdu)
        if pdu.itt != self.itt:
            fail("Text Response ITT 0x%x, the request's was 0x%x" % (pdu.itt, self.itt))
        self.ttt = pdu.u32(20)
        return pdu

    def whole(self, data, final=True):
        """Sends @data in one request and collects the whole answer
        (asking for each piece); returns (last PDU, text, pieces)."""
        self.send(data, final=final)
        text = b""
        pieces = 0
        while True:
            pdu = self.recv()
            pieces += 1
            text += pdu.data
            if not pdu.flags & C_BIT:
                return pdu, text, pieces
            if pdu.flags & ic.FINAL or self.ttt == ic.RESERVED_TAG:
                fail("a response piece with C=1 needs F=0 and a TTT: %r" % pdu)
            self.send(b"", final=final)


def login(port, mrdsl=65536, isid=None):
    s = ic.Session(port)
    s.login(INITIATOR, TARGET, isid or bytes.fromhex("80000000f001"),
            [("ErrorRecoveryLevel", "0"), ("MaxRecvDataSegmentLength", str(mrdsl)),
             ("MaxBurstLength", "1048576"), ("ImmediateData", "Yes")])
    s.ready()
    return s


def read_segments(s, length):
    """READ(10) of @length bytes; the Data-In data segment sizes."""
    itt = s.next_itt()
    cdb = struct.pack(">BBIBHB", 0x28, 0, 0, 0, length // 512, 0)
    s.send_pdu(s._cmd_bhs(itt, ic.FINAL | 0x40 | 0x01, length, cdb))
    sizes = []
    while True:
        pdu = s.recv_pdu()
        if pdu.opcode == ic.OP_DATA_IN and pdu.itt == itt:
            sizes.append(len(pdu.data))
            if pdu.flags & 0x01:
                check(pdu.bhs[3] == 0, "READ of %d bytes GOOD" % length)
                return sizes
        elif pdu.opcode == ic.OP_SCSI_RSP and pdu.itt == itt:
            check(pdu.bhs[3] == 0, "READ of %d bytes GOOD" % length)
            return sizes
        else:
            fail("unexpected %r during a READ" % pdu)


def set_mrdsl(s, value):
    """One exchange declaring our MaxRecvDataSegmentLength; returns the
    target's answers."""
    t = Text(s)
    pdu, text, _ = t.whole(text_pairs([("MaxRecvDataSegmentLength", value)]))
    check(pdu.flags & ic.FINAL and t.ttt == ic.RESERVED_TAG,
          "MaxRecvDataSegmentLength=%d answered with F=1, TTT 0xffffffff" % value)
    s.my_mrdsl = value
    return ic.parse_text(text)


def mode_mrdsl(port):
    s = login(port)
    sizes = read_segments(s, 256 * 1024)
    check(max(sizes) == 65536, "before: Data-In of up to the login's 65536 bytes (%d PDUs)"
          % len(sizes))
    answers = set_mrdsl(s, 4096)
    check("MaxRecvDataSegmentLength" not in answers,
          "a declaration is not answered (declarative key): %r" % answers)
    sizes = read_segments(s, 64 * 1024)
    check(max(sizes) == 4096 and len(sizes) == 16,
          "after 4096: 16 Data-In of 4096 bytes (%d, largest %d)" % (len(sizes), max(sizes)))
    # An exchange left open (F=0): the value waits for its end.
    t = Text(s)
    t.send(text_pairs([("MaxRecvDataSegmentLength", 2048)]), final=False)
    pdu = t.recv()
    check(not pdu.flags & ic.FINAL and t.ttt != ic.RESERVED_TAG,
          "a request with F=0 is answered with F=0 and a TTT")
    sizes = read_segments(s, 16 * 1024)
    check(max(sizes) == 4096, "exchange not over: Data-In still of 4096 bytes")
    t.send(b"", final=True)
    pdu = t.recv()
    check(pdu.flags & ic.FINAL and t.ttt == ic.RESERVED_TAG, "the empty F=1 request ends it")
    s.my_mrdsl = 2048
    sizes = read_segments(s, 16 * 1024)
    check(max(sizes) == 2048 and len(sizes) == 8, "once over: 8 Data-In of 2048 bytes")
    s.my_mrdsl = 262144
    set_mrdsl(s, 262144)
    sizes = read_segments(s, 512 * 1024)
    check(max(sizes) == 262144, "up again to 262144: Data-In of 262144 bytes")
    s.logout()


def mode_multi(port):
    s = login(port, mrdsl=512)
    keys = [("X-org.uscst.test-key-%02d" % i, "v" * 40) for i in range(40)]
    data = text_pairs(keys)
    t = Text(s)
    pieces = [data[i:i + 500] for i in range(0, len(data), 500)]
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        t.send(piece, final=last, cont=not last)
        if last:
            break
        pdu = t.recv()
        check(len(pdu.data) == 0 and not pdu.flags & ic.FINAL and not pdu.flags & C_BIT and
              t.ttt != ic.RESERVED_TAG,
              "request piece %d (C=1) answered empty, F=0, with a TTT" % (i + 1))
    text = b""
    n = 0
    while True:
        pdu = t.recv()
        n += 1
        check(len(pdu.data) <= 512, "response piece %d within our 512 bytes" % n)
        text += pdu.data
        if not pdu.flags & C_BIT:
            break
        check(not pdu.flags & ic.FINAL and t.ttt != ic.RESERVED_TAG,
              "response piece %d: C=1, F=0, a TTT" % n)
        t.send(b"", final=True)
    check(pdu.flags & ic.FINAL and t.ttt == ic.RESERVED_TAG, "last response piece: F=1")
    answers = ic.parse_text(text)
    check(n > 1 and len(answers) == 40 and
          all(answers[k] == "NotUnderstood" for k, _ in keys),
          "%d request pieces, %d response pieces, 40 NotUnderstood" % (len(pieces), n))
    s.nop()
    s.logout()


def mode_reset(port):
    s = login(port, mrdsl=8192)
    old = Text(s)
    old.send(text_pairs([("MaxRecvDataSegmentLength", 1024)]), final=False)
    pdu = old.recv()
    check(not pdu.flags & ic.FINAL, "exchange A left open (F=0)")
    stale_ttt = old.ttt
    new = Text(s)
    pdu, _, _ = new.whole(b"", final=True)
    check(pdu.flags & ic.FINAL, "exchange B (new ITT, TTT 0xffffffff) ends at once")
    sizes = read_segments(s, 32 * 1024)
    check(max(sizes) == 8192, "A's MaxRecvDataSegmentLength=1024 was dropped with A (%d)"
          % max(sizes))
    old.send(b"", final=True, ttt=stale_ttt)
    pdu = s.recv_pdu()
    check(pdu.opcode == ic.OP_REJECT and pdu.bhs[2] == 0x09,
          "A's TTT afterwards: Reject, invalid PDU field (%r)" % pdu)
    s.nop()
    s.logout()


def mode_refused(port):
    s = login(port, mrdsl=8192)
    keys = [("MaxBurstLength", "4096"), ("InitialR2T", "Yes"), ("HeaderDigest", "CRC32C"),
            ("MaxConnections", "2"), ("ErrorRecoveryLevel", "1"), ("TargetName", TARGET)]
    t = Text(s)
    _, text, _ = t.whole(text_pairs(keys + [("X-org.uscst.unknown", "1"),
                                            ("InitiatorAlias", "tester")]))
    answers = ic.parse_text(text)
    for k, _ in keys:
        check(answers.get(k) == "Reject", "login-only %s in FFP: Reject" % k)
    check(answers.get("X-org.uscst.unknown") == "NotUnderstood", "unknown key: NotUnderstood")
    check("InitiatorAlias" not in answers, "InitiatorAlias declared, nothing answered")
    # The session goes on as negotiated: a 64 KiB WRITE (FirstBurst
    # 65536, no R2T needed) and no header digest.
    status, _ = s.write10(0, b"\x5a" * 65536)
    check(status == 0, "a WRITE afterwards is GOOD")
    s.logout()


def mode_sendtargets(port):
    s = login(port)
    t = Text(s)
    pdu, text, _ = t.whole(b"SendTargets=All\0")
    pairs = [p.decode() for p in text.rstrip(b"\0").split(b"\0")]
    names = [p.split("=", 1)[1] for p in pairs if p.startswith("TargetName=")]
    addrs = [p.split("=", 1)[1] for p in pairs if p.startswith("TargetAddress=")]
    check(names == [TARGET], "SendTargets=All in FFP lists this target only: %r" % names)
    check(addrs and addrs[0].startswith("127.0.0.1:%d," % port),
          "with its TargetAddress %r" % addrs)
    s.logout()


def next_any(s, timeout):
    """The next PDU of any kind, Asynchronous Messages included; None once
    the target has closed the connection."""
    s.sock.settimeout(timeout)
    try:
        return s._recv_one()
    except ic.ConnectionClosed:
        return None
    except (TimeoutError, socket.timeout):
        return "timeout"


def wait_async(s, event, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pdu = next_any(s, max(0.1, end - time.monotonic()))
        if pdu is None:
            fail("connection closed while waiting for AsyncEvent %d" % event)
        if pdu == "timeout":
            break
        if pdu.opcode == ic.OP_ASYNC:
            check(pdu.bhs[36] == event, "AsyncEvent %d (got %d)" % (event, pdu.bhs[36]))
            return pdu
        fail("unexpected %r while waiting for AsyncEvent %d" % (pdu, event))
    fail("no AsyncEvent %d within %s s" % (event, timeout))


def set_target_mrdsl(rpc_sock, value):
    rpc(rpc_sock, "target.set_attr", {"driver": "iscsi", "target": TARGET,
                                      "attributes": {"MaxRecvDataSegmentLength": str(value)}})


def mode_reneg(port, rpc_sock, value, answer):
    s = login(port, mrdsl=65536)
    set_target_mrdsl(rpc_sock, value)
    pdu = wait_async(s, 4, 10)
    p3 = struct.unpack(">H", pdu.bhs[42:44])[0]
    check(pdu.itt == ic.RESERVED_TAG and p3 > 0,
          "AsyncEvent 4 with ITT 0xffffffff, Parameter3 %d s" % p3)
    if not answer:
        t0 = time.monotonic()
        pdu = next_any(s, p3 + 5)
        check(pdu not in (None, "timeout") and pdu.opcode == ic.OP_ASYNC and pdu.bhs[36] == 2,
              "not answered: AsyncEvent 2 (connection dropped)")
        waited = time.monotonic() - t0
        check(p3 - 0.5 <= waited <= p3 + 2.5, "after %.2f s (Parameter3 %d)" % (waited, p3))
        check(next_any(s, 5) is None, "then the connection is closed")
        return
    t = Text(s)
    _, text, _ = t.whole(b"")
    answers = ic.parse_text(text)
    check(answers.get("MaxRecvDataSegmentLength") == str(value),
          "the empty exchange: the target declares MaxRecvDataSegmentLength=%d (%r)"
          % (value, answers))
    # The new limit is ours to send to: a WRITE with immediate data of
    # exactly that size is taken.
    s.target_mrdsl = value
    status, _ = s.write10(0, b"\xa5" * value)
    check(status == 0, "a WRITE with %d bytes of immediate data is GOOD" % value)
    # Nothing more comes: no drop after Parameter3.
    pdu = next_any(s, p3 + 2)
    check(pdu == "timeout", "answered: no drop after Parameter3 (%r)" % (pdu,))
    s.nop()
    # One byte more than the new limit is a framing error now: the target
    # closes the connection (its log names the limit).
    s.send_nop(data=b"\0" * (value + 4))
    check(next_any(s, 5) is None, "a NOP-Out of %d bytes closes the connection" % (value + 4))


def mode_reneg_rpc(port, rpc_sock, value):
    """session.renegotiate: AsyncEvent 4 with nothing changed; the empty
    exchange that answers it declares the target's value again, and the
    session goes on."""
    isid = "80000000f0d1"
    s = login(port, isid=bytes.fromhex(isid))
    rpc(rpc_sock, "session.renegotiate", {"driver": "iscsi", "target": TARGET,
                                          "session": "%s,i,0x%s" % (INITIATOR, isid)})
    pdu = wait_async(s, 4, 10)
    p3 = struct.unpack(">H", pdu.bhs[42:44])[0]
    t = Text(s)
    _, text, _ = t.whole(b"")
    answers = ic.parse_text(text)
    check(answers.get("MaxRecvDataSegmentLength") == str(value),
          "the exchange declares MaxRecvDataSegmentLength=%d again (%r)" % (value, answers))
    pdu = next_any(s, p3 + 2)
    check(pdu == "timeout", "answered: no drop after Parameter3 %d (%r)" % (p3, pdu))
    # An exchange the initiator starts on its own declares nothing.
    _, text, _ = Text(s).whole(b"")
    check(text == b"", "a later exchange of its own: nothing declared (%r)" % text)
    s.nop()
    s.logout()


def mode_reneg_mcs(port, rpc_sock, value):
    """Two connections of one session: AsyncEvent 4 comes on each (the
    key is per connection); the one that answers keeps going with the
    new value, the one that does not is dropped, and the session lives
    on."""
    isid = bytes.fromhex("80000000f0c5")
    keys = [("ErrorRecoveryLevel", "0"), ("MaxRecvDataSegmentLength", "65536"),
            ("MaxConnections", "2")]
    a = ic.Session(port)
    answers = a.login(INITIATOR, TARGET, isid, keys)
    check(answers.get("MaxConnections") == "2", "MaxConnections=2 agreed")
    a.ready()
    b = ic.Session(port)
    b.login(INITIATOR, TARGET, isid, keys[:2], tsih=a.tsih, cid=1)
    # Both connections share the session's CmdSN.
    b.cmd_sn = a.cmd_sn
    set_target_mrdsl(rpc_sock, value)
    pa = wait_async(a, 4, 10)
    wait_async(b, 4, 10)
    p3 = struct.unpack(">H", pa.bhs[42:44])[0]
    t = Text(a)
    _, text, _ = t.whole(b"")
    check(ic.parse_text(text).get("MaxRecvDataSegmentLength") == str(value),
          "connection 0 renegotiates: MaxRecvDataSegmentLength=%d declared" % value)
    pdu = next_any(b, p3 + 5)
    check(pdu not in (None, "timeout") and pdu.opcode == ic.OP_ASYNC and pdu.bhs[36] == 2 and
          struct.unpack(">H", pdu.bhs[38:40])[0] == 1,
          "connection 1, silent: AsyncEvent 2 naming CID 1")
    check(next_any(b, 5) is None, "connection 1 closed")
    a.cmd_sn = max(a.cmd_sn, b.cmd_sn)
    a.target_mrdsl = value
    status, _ = a.write10(0, b"\x3c" * value)
    check(status == 0, "the session goes on over connection 0 (a WRITE of %d bytes of "
          "immediate data)" % value)
    a.logout()


def sense_of(data):
    slen = struct.unpack(">H", data[:2])[0]
    return data[2:2 + slen]


def mode_aen(port, rpc_sock, dev_file, on):
    s = login(port)
    # 1. A LUN added: REPORTED LUNS DATA HAS CHANGED (3F/0E) on LUN 0.
    rpc(rpc_sock, "lun.add", {"driver": "iscsi", "target": TARGET, "lun": 1,
                              "device": "aen_extra"})
    # 2. The backing file grows: CAPACITY DATA HAS CHANGED (2A/09).
    with open(dev_file, "r+b") as f:
        f.truncate(os.path.getsize(dev_file) + 1024 * 1024)
    rpc(rpc_sock, "device.resync_size", {"device": "aen_disk"})
    got = []
    end = time.monotonic() + 3
    while time.monotonic() < end:
        pdu = next_any(s, max(0.1, end - time.monotonic()))
        if pdu == "timeout":
            break
        if pdu is None:
            fail("connection closed while waiting for AENs")
        if pdu.opcode == ic.OP_ASYNC:
            got.append(pdu)
        elif pdu.opcode == ic.OP_NOP_IN:
            continue
        else:
            fail("unexpected %r" % pdu)
    if on:
        check(len(got) >= 2, "aen 1: an AsyncEvent 0 per condition (got %d)" % len(got))
        seen = set()
        for pdu in got:
            check(pdu.bhs[36] == 0 and pdu.itt == ic.RESERVED_TAG,
                  "AsyncEvent 0, ITT 0xffffffff")
            lun = pdu.bhs[9]
            sense = sense_of(pdu.data)
            check(len(sense) >= 18 and sense[0] == 0x70 and sense[2] & 0x0F == 6,
                  "fixed-format sense, UNIT ATTENTION, LUN %d" % lun)
            seen.add((lun, sense[12], sense[13]))
            check(len(pdu.data) == 2 + len(sense), "SenseLength covers the data segment")
        want = {(0, 0x3F, 0x0E), (0, 0x2A, 0x09)}
        check(want <= seen and seen <= want | {(1, 0x3F, 0x0E)},
              "REPORTED LUNS DATA HAS CHANGED and CAPACITY DATA HAS CHANGED on LUN 0, "
              "nothing else: %r" % sorted(seen))
    else:
        check(not got, "aen 0: no Asynchronous Message (%d)" % len(got))
    # The conditions stay queued: the next command reports them.
    itt, _ = s.send_scsi(b"\0" * 6)
    status, data = s.wait_response(itt)
    check(status == ic.STATUS_CHECK_CONDITION and ic.sense_key_asc(data)[0] == 6,
          "the UA still comes with the next command: %r" % (ic.sense_key_asc(data),))
    s.ready(tries=6)
    s.logout()


def main():
    global TARGET
    if len(sys.argv) < 5:
        fail(__doc__)
    port, rpc_sock, TARGET, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    arg = sys.argv[5] if len(sys.argv) > 5 else None
    if mode == "mrdsl":
        mode_mrdsl(port)
    elif mode == "multi":
        mode_multi(port)
    elif mode == "reset":
        mode_reset(port)
    elif mode == "refused":
        mode_refused(port)
    elif mode == "sendtargets":
        mode_sendtargets(port)
    elif mode == "reneg-answer":
        mode_reneg(port, rpc_sock, int(arg), True)
    elif mode == "reneg-ignore":
        mode_reneg(port, rpc_sock, int(arg), False)
    elif mode == "reneg-rpc":
        mode_reneg_rpc(port, rpc_sock, int(arg))
    elif mode == "reneg-mcs":
        mode_reneg_mcs(port, rpc_sock, int(arg))
    elif mode in ("aen-on", "aen-off"):
        mode_aen(port, rpc_sock, arg, mode == "aen-on")
    else:
        fail("unknown mode " + mode)
    print("text_ffp: %s passed" % mode, flush=True)


if __name__ == "__main__":
    main()
