# The target's receive path with PDUs cut anywhere: every PDU dribbled in
# pieces of 1 to 4097 bytes (a header split across reads, a digest split
# from its data), with and without digests; and 600 PDUs arriving in one
# send, more than one readiness event may handle (the per-event budget and
# the resume after it). Responses must come back whole and in order.
import os, random, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import *  # noqa: F401,F403

port = int(sys.argv[1]); target = sys.argv[2]
rnd = random.Random(7)

def session(hd, dd, mode):
    s = Session(port)
    keys = [("HeaderDigest", hd), ("DataDigest", dd), ("ImmediateData", "Yes"),
            ("InitialR2T", "No"), ("MaxRecvDataSegmentLength", "65536"),
            ("FirstBurstLength", "65536"), ("MaxBurstLength", "262144")]
    s.login("iqn.2026-11.test:stress", target, b"\x40\0\0\0\0\x01", keys)
    class Wrap:
        def __init__(self, sock):
            self.sock = sock; self.sendall = sock.sendall
        def __getattr__(self, name):
            return getattr(self.sock, name)
    s.sock = Wrap(s.sock)
    real = s.sock.sock.sendall
    if mode == "dribble":
        def dribble(wire):
            pos = 0
            while pos < len(wire):
                n = rnd.choice([1, 2, 3, 5, 47, 48, 49, 511, 4097])
                real(wire[pos:pos + n]); pos += n
        s.sock.sendall = dribble
    return s, real

def nop_with_data(s, payload):
    itt = s.next_itt()
    s.send_pdu(bhs(OP_NOP_OUT | IMMEDIATE, FINAL, itt, word20=RESERVED_TAG,
                   word24=s.cmd_sn, word28=s.exp_stat_sn), payload)
    return itt

for hd, dd in (("None", "None"), ("CRC32C", "CRC32C")):
    for mode in ("dribble", "normal"):
        s, real = session(hd, dd, mode)
        s.test_unit_ready()  # takes the session's unit attention
        # writes with immediate data, unsolicited and solicited Data-Out
        for size in (512, 4096, 8192, 65536, 200704):
            data = os.urandom(size)
            st, _ = s.write10(8, data)
            assert st == 0, (mode, size, st)
            st, back, _ = s.read10(8, size)
            assert st == 0 and back == data, (mode, size)
        # padding: odd-length NOP-Out data comes back whole
        for n in (1, 3, 13, 4099):
            payload = os.urandom(n)
            itt = nop_with_data(s, payload)
            rsp = s.recv_pdu()
            assert rsp.opcode == OP_NOP_IN and rsp.itt == itt and rsp.data == payload, n
        s.logout(); s.close()
        print("ok", hd, dd, mode)

# 600 PDUs in one send: TEST UNIT READYs and NOP-Outs, window permitting.
for hd, dd in (("None", "None"), ("CRC32C", "CRC32C")):
    s, real = session(hd, dd, "normal")
    s.test_unit_ready()
    buf = []
    s.sock.sendall = buf.append
    itts = []
    for i in range(600):
        if i % 2:
            itts.append(nop_with_data(s, bytes([i & 0xff]) * (i % 7)))
        else:
            itts.append(nop_with_data(s, b""))
    real(b"".join(bytes(b) for b in buf))
    s.sock.sendall = real
    got = [s.recv_pdu().itt for _ in itts]
    assert got == itts, "responses out of order or missing"
    s.logout(); s.close()
    print("ok burst", hd, dd, len(itts))
