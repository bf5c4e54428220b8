# Mutated PDUs from a logged-in initiator: valid-looking SCSI commands
# (random CDBs, LUNs, lengths, flags), Data-Outs for tasks that do or do
# not exist, NOP-Outs, Text and Task Management requests, with random
# bytes of the header flipped and data segments of random length. The
# target may answer, reject or drop the connection; it must not crash,
# hang or stop serving (the shell wrapper checks; under ASan any memory
# error aborts the daemon). Seeded, so a failure can be replayed:
#   fuzz_pdus.py PORT TARGET [SEED [COUNT]]
import os
import random
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import (FINAL, IMMEDIATE, OP_DATA_OUT, OP_NOP_OUT,  # noqa: E402
                          OP_SCSI_CMD, RESERVED_TAG, ConnectionClosed, ProtocolError,
                          Session, bhs)

port, target = int(sys.argv[1]), sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2026
count = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
rnd = random.Random(seed)
OPCODES = [0x00, 0x03, 0x08, 0x0a, 0x12, 0x1a, 0x1b, 0x25, 0x28, 0x2a, 0x2e, 0x2f, 0x35,
           0x5a, 0x88, 0x8a, 0x8f, 0x91, 0x9e, 0xa0, 0xa3, 0xa8, 0xaa, 0x15, 0x55, 0x7f, 0xff]


def connect(n):
    s = Session(port, timeout=2)
    s.login("iqn.2026-11.test:fuzz", target, b"\x40\0\0\0\x0f" + bytes([n & 0xff]), [
        ("InitialR2T", rnd.choice(["Yes", "No"])),
        ("ImmediateData", rnd.choice(["Yes", "No"])),
        ("HeaderDigest", rnd.choice(["None", "CRC32C"])),
        ("DataDigest", rnd.choice(["None", "CRC32C"])),
        ("MaxRecvDataSegmentLength", "65536")])
    return s


def scsi_cmd(s):
    cdb = bytearray(rnd.randbytes(16))
    cdb[0] = rnd.choice(OPCODES)
    if rnd.random() < 0.5:
        cdb[1:] = bytes(15)
        cdb[7:9] = struct.pack(">H", rnd.choice([0, 1, 8, 255, 0xffff]))
    flags = rnd.choice([0x80, 0x81, 0xc1, 0xa1, 0x21, 0xe1, 0x00]) | rnd.randrange(8)
    edtl = rnd.choice([0, 512, 4096, 65536, 1 << 20, 0xffffffff, rnd.randrange(1 << 32)])
    b = bytearray(bhs(OP_SCSI_CMD | (IMMEDIATE if rnd.random() < 0.1 else 0), flags,
                      s.next_itt(), word20=edtl, word24=s.cmd_sn, word28=s.exp_stat_sn,
                      rest=bytes(cdb)))
    # LUN field: peripheral and flat addressing, and nonsense.
    b[8:16] = struct.pack(">Q", rnd.choice([0, 0, 0, 1, 0x4000, rnd.randrange(1 << 16)]) << 48)
    s.cmd_sn = (s.cmd_sn + 1) & 0xffffffff
    return bytes(b), rnd.randbytes(rnd.choice([0, 0, 100, 512, 8192]))


def data_out(s):
    b = bhs(OP_DATA_OUT, rnd.choice([0, FINAL]), rnd.choice([s.itt, s.itt - 1, rnd.randrange(99)]),
            word20=rnd.choice([RESERVED_TAG, 0, 1, rnd.randrange(1 << 32)]),
            word28=s.exp_stat_sn,
            rest=struct.pack(">III", 0, rnd.randrange(4), rnd.choice([0, 512, 1 << 20,
                                                                       rnd.randrange(1 << 32)])))
    return b, rnd.randbytes(rnd.choice([0, 1, 512, 4096, 65536]))


def other(s):
    op = rnd.choice([OP_NOP_OUT, 0x02, 0x04, 0x06, 0x10, 0x1c, 0x1d, 0x1e])
    b = bhs(op | IMMEDIATE, rnd.choice([FINAL, FINAL | rnd.randrange(16), 0]), s.next_itt(),
            word20=rnd.choice([RESERVED_TAG, rnd.randrange(1 << 32)]),
            word24=s.cmd_sn, word28=s.exp_stat_sn, rest=rnd.randbytes(16))
    data = rnd.choice([b"", b"SendTargets=All\0", rnd.randbytes(rnd.randrange(300))])
    return b, data


def mutate(b):
    b = bytearray(b)
    for _ in range(rnd.choice([0, 0, 1, 2, 4])):
        b[rnd.randrange(48)] = rnd.randrange(256)
    b[4] = 0  # keep AHS sane half the time; the other half, anything goes
    if rnd.random() < 0.1:
        b[4] = rnd.randrange(256)
    return bytes(b)


sessions = 0
s = connect(sessions)
sent = 0
while sent < count:
    kind = rnd.random()
    b, data = scsi_cmd(s) if kind < 0.6 else data_out(s) if kind < 0.8 else other(s)
    try:
        s.send_pdu(mutate(b), data)
        s.sock.settimeout(0.005)
        try:
            while s.sock.recv(65536):
                pass
        except (socket.timeout, BlockingIOError):
            pass
        s.sock.settimeout(2)
    except (OSError, ConnectionClosed, ProtocolError):
        s.close()
        sessions += 1
        s = connect(sessions)
    sent += 1
s.close()
print("fuzz: %d PDUs over %d sessions (seed %d)" % (sent, sessions + 1, seed))
