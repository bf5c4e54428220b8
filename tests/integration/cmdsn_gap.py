"""A command held behind a gap in the CmdSN sequence waits no longer than
RspTimeout (issue 5, section 2): at ErrorRecoveryLevel 0 the missing
command never comes, so the connection closes and the held command ends
with it (before, it held its session, and every LUN RESET on its LUN,
for ever). The same initiator and ISID then log in again at once."""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

port, target, rsp_timeout = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
INI, ISID = "iqn.2026-11.test:cmdsn-gap", b"\x40\0\0\0\0\x51"
failures = []


def check(ok, what):
    print(("ok  : " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


s = ic.Session(port, timeout=rsp_timeout + 10)
s.login(INI, target, ISID, [])
check(s.ready(), "TEST UNIT READY")
# A READ numbered one past ExpCmdSN: CmdSN ExpCmdSN never comes.
cdb = struct.pack(">BBIBHB", 0x28, 0, 0, 0, 8, 0)
s.send_scsi(cdb, edtl=4096, read=True, cmd_sn=(s.cmd_sn + 1) & 0xFFFFFFFF)
t0 = time.monotonic()
try:
    while True:
        pdu = s.recv_pdu()
        check(pdu.opcode == ic.OP_NOP_IN, "only NOP-Ins while the command is held (%r)" % pdu)
except (ic.ConnectionClosed, OSError):
    waited = time.monotonic() - t0
    check(rsp_timeout - 1 <= waited <= rsp_timeout + 3,
          "the connection closed after %.1f s (RspTimeout %d s)" % (waited, rsp_timeout))
s.close()

s = ic.Session(port, timeout=10)
t0 = time.monotonic()
s.login(INI, target, ISID, [])
check(time.monotonic() - t0 < 2, "the same initiator and ISID log in again at once")
check(s.ready(), "and are served")
s.logout()
s.close()
if failures:
    print("cmdsn_gap: FAILED (%d check(s))" % len(failures))
    sys.exit(1)
print("cmdsn_gap: all passed")
