#!/usr/bin/env python3
"""What a LUN says of its blocks: READ CAPACITY(16)'s block length and
LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT, and VPD page 0xb0's OPTIMAL
TRANSFER LENGTH GRANULARITY, for each LUN of block_geometry.sh's target.

usage: block_geometry.py PORT TARGET LUN:BLOCK:EXPONENT...
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

port, target = int(sys.argv[1]), sys.argv[2]
sess = ic.Session(port)
sess.login("iqn.2026-12.test:geometry", target, bytes.fromhex("80000000d001"), {})
failures = 0


def command(cdb, edtl, lun):
    """GOOD data of @cdb, once the power-on unit attention is taken."""
    for _ in range(3):
        buf = bytearray(edtl)
        itt, _ = sess.send_scsi(cdb, edtl=edtl, read=True, lun=lun)
        status, data = sess.wait_response(itt, read_buf=buf)
        if status == 0:
            return bytes(buf)
    raise AssertionError("LUN %d: %s got status %d, sense %s" % (lun, cdb.hex(), status,
                                                                ic.sense_key_asc(data)))


for spec in sys.argv[3:]:
    lun, block, exponent = (int(x) for x in spec.split(":"))
    rc16 = command(bytes([0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]), 32, lun)
    got_block = struct.unpack(">I", rc16[8:12])[0]
    got_exp = rc16[13] & 0x0f
    lowest_aligned = struct.unpack(">H", rc16[14:16])[0] & 0x3fff
    b0 = command(bytes([0x12, 1, 0xb0, 0, 64, 0]), 64, lun)
    granularity = struct.unpack(">H", b0[6:8])[0]
    good = (got_block, got_exp, lowest_aligned, granularity) == (block, exponent, 0,
                                                                 1 << exponent)
    print("%s: LUN %d: block %d, exponent %d, lowest aligned LBA %d, granularity %d" %
          ("ok  " if good else "FAIL", lun, got_block, got_exp, lowest_aligned, granularity))
    failures += not good
sess.logout()
sys.exit(1 if failures else 0)
