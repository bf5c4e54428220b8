"""Commands whose CDB needs Data-Out but whose iSCSI header does not ask
for it (issue 5, section 4): a WRITE(10) sent without the W bit, and a
VERIFY(10) with BYTCHK=1 and no Data-Out buffer. Before the fix both ended
GOOD having written or compared nothing; they must get CHECK CONDITION,
ILLEGAL REQUEST / INVALID MESSAGE ERROR (49h/00h, SCST's answer to a
direction mismatch), and the medium must be unchanged. A READ(10) flagged
as a write stays GOOD (libiscsi's Read10Invalid relies on it) and moves no
data. Every answer is checked from the wire."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

port, target = int(sys.argv[1]), sys.argv[2]
LBA, BLOCK = 2048, 512
failures = []


def check(ok, what):
    print(("ok  : " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


s = ic.Session(port, timeout=20)
s.login("iqn.2026-11.test:direction", target, b"\x40\0\0\0\0\x31",
        [("ImmediateData", "Yes"), ("InitialR2T", "Yes")])
check(s.ready(), "TEST UNIT READY after login")

pattern = os.urandom(BLOCK)
status = s.write10(LBA, pattern)[0]
check(status == ic.STATUS_GOOD, "the reference WRITE(10) is GOOD")


def expect_invalid_message(what, cdb, **kw):
    itt, _ = s.send_scsi(cdb, **kw)
    (_, status, data), = s.collect({itt})
    key_asc = ic.sense_key_asc(data) if status == ic.STATUS_CHECK_CONDITION else None
    check(status == ic.STATUS_CHECK_CONDITION and key_asc is not None and
          key_asc[0] == 0x05 and key_asc[1] == 0x49,
          "%s: CHECK CONDITION, ILLEGAL REQUEST / INVALID MESSAGE ERROR (got status 0x%02x, "
          "sense %r)" % (what, status, key_asc))


# A WRITE(10) of one block without the W bit and without data: nothing to
# write, so it must not be GOOD.
write_cdb = struct.pack(">BBIBHB", 0x2A, 0, LBA, 0, 1, 0)
expect_invalid_message("WRITE(10) without the W bit", write_cdb, edtl=BLOCK)
# The same with EDTL 0 and no direction at all.
expect_invalid_message("WRITE(10) without a direction and EDTL 0", write_cdb, edtl=0)
# VERIFY(10) BYTCHK=1 (byte 1 bit 1) of one block, with no Data-Out.
verify_cdb = struct.pack(">BBIBHB", 0x2F, 0x02, LBA, 0, 1, 0)
expect_invalid_message("VERIFY(10) BYTCHK=1 without a Data-Out buffer", verify_cdb, edtl=0)

# The medium still holds the reference block.
status, got, _ = s.read10(LBA, BLOCK)
check(status == ic.STATUS_GOOD and got == pattern, "the block is unchanged")

# A READ(10) flagged as a write: GOOD, no data, overflow reported.
read_cdb = struct.pack(">BBIBHB", 0x28, 0, LBA, 0, 1, 0)
itt, _ = s.send_scsi(read_cdb, edtl=BLOCK, write=True, data=os.urandom(BLOCK))
others = []
(_, status, _), = s.collect({itt}, others=others)
check(status == ic.STATUS_GOOD and not any(p.opcode == ic.OP_DATA_IN for p in others),
      "READ(10) flagged as a write: GOOD with no Data-In (status 0x%02x)" % status)
status, got, _ = s.read10(LBA, BLOCK)
check(status == ic.STATUS_GOOD and got == pattern, "the block is still unchanged")

s.logout()
s.close()
if failures:
    print("direction: FAILED (%d check(s))" % len(failures))
    sys.exit(1)
print("direction: all passed")
