# Initiators that vanish mid-transfer: in the middle of solicited write
# data, in the middle of the immediate data of an accepted command, and
# with many large reads whose responses they never collect. The target
# cleans each up, writes nothing half-received, and serves the next
# initiator (vanish.sh then checks liveness with the ISID this prints).
import os
import struct
import sys
import time

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

# 2. Gone in the middle of the immediate data of a command the target
# accepted: a valid WRITE(10) (W and F set, ImmediateData=Yes, the whole
# transfer as immediate data, within FirstBurstLength and the target's
# MaxRecvDataSegmentLength), of which only part of the data segment
# arrives before the connection closes.
s = session("No", "Yes")
assert s.param("ImmediateData", "No") == "Yes", s.params
imm = min(32768, int(s.param("FirstBurstLength", 0)), s.target_mrdsl)
assert imm >= 8192, "the login left no room for immediate data: %r" % s.params
imm_lba = LBA + 512  # inside the range written above, 256 KiB in
itt = s.next_itt()
imm_cdb = struct.pack(">BBIBHB", 0x2A, 0, imm_lba, 0, imm // 512, 0)
b = bytearray(s._cmd_bhs(itt, FINAL | 0x20 | 0x01, imm, imm_cdb))
b[5:8] = imm.to_bytes(3, "big")
s.sock.sendall(bytes(b) + os.urandom(imm // 2))
time.sleep(0.2)  # the target has the header and is receiving the data
s.close()
imm_isid = "4000000000%02x" % isid[0]
print("vanished in the middle of an immediate data segment (%d of %d bytes sent, ISID %s)"
      % (imm // 2, imm, imm_isid))
s = session("No", "Yes")
st, back, _ = s.read10(imm_lba, imm)
assert st == 0, st
off = (imm_lba - LBA) * 512
assert back == old[off:off + imm], \
    "the half-received immediate data of a vanished initiator reached the LUN"
s.logout()
s.close()
print("its LBA range holds what it held before")

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
