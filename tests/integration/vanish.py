# Initiators that vanish mid-transfer: in the middle of solicited write
# data, in the middle of a PDU of unsolicited data, and with many large
# reads whose responses they never collect. The target cleans each up,
# writes nothing half-received, and serves the next initiator.
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import FINAL, OP_DATA_OUT, OP_R2T, Session, bhs  # noqa: E402

port, target = int(sys.argv[1]), sys.argv[2]
isid = [0]


def session(initial_r2t, immediate):
    isid[0] += 1
    s = Session(port, timeout=10)
    s.login("iqn.2026-11.test:vanish", target, b"\x40\0\0\0\0" + bytes([isid[0]]), [
        ("InitialR2T", initial_r2t), ("ImmediateData", immediate),
        ("FirstBurstLength", "65536"), ("MaxBurstLength", "262144"),
        ("MaxRecvDataSegmentLength", "65536")])
    s.test_unit_ready()  # collects the session's unit attention
    return s


LBA, SIZE = 4096, 1 << 20
old = os.urandom(SIZE)
s = session("No", "Yes")
assert s.write10(LBA, old)[0] == 0
s.logout()
s.close()

# 1. Gone halfway through the data an R2T asked for.
s = session("Yes", "No")
itt = s.next_itt()
cdb = struct.pack(">BBIBHB", 0x2A, 0, LBA, 0, SIZE // 512, 0)
s.send_pdu(s._cmd_bhs(itt, FINAL | 0x20 | 0x01, SIZE, cdb))
r2t = s.recv_pdu()
assert r2t.opcode == OP_R2T and r2t.itt == itt, r2t
half = r2t.u32(44) // 2
s.send_pdu(bhs(OP_DATA_OUT, 0, itt, word20=r2t.u32(20), word28=s.exp_stat_sn,
               rest=struct.pack(">III", 0, 0, r2t.u32(40))), os.urandom(half))
s.close()
print("vanished in the middle of solicited data")

# 2. Gone in the middle of a PDU of immediate data.
s = session("No", "Yes")
itt = s.next_itt()
b = bytearray(s._cmd_bhs(itt, 0x20 | 0x01, SIZE, cdb))
b[5:8] = (65536).to_bytes(3, "big")
s.sock.sendall(bytes(b) + os.urandom(20000))
s.close()
print("vanished in the middle of an immediate data segment")

# 3. Gone with 32 large reads outstanding and their data never read.
s = session("No", "Yes")
for i in range(32):
    itt = s.next_itt()
    rcdb = struct.pack(">BBIBHB", 0x28, 0, 0, 0, SIZE // 512, 0)
    s.send_pdu(s._cmd_bhs(itt, FINAL | 0x40 | 0x01, SIZE, rcdb))
s.close()
print("vanished with 32 MiB of reads uncollected")

# The half-received writes never reached the LUN.
s = session("No", "Yes")
st, back, _ = s.read10(LBA, SIZE)
assert st == 0, st
assert back == old, "a write from a vanished initiator changed the LUN"
s.logout()
s.close()
print("the LUN holds what it held before")
