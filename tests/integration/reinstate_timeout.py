"""A reinstating login that times out leaves the old session to finish and
the next login free to try (issue 5, section 2).

The old session must stay draining for longer than a login may take. Two
targets share one device: FAST (RspTimeout 3, the login timeout) and SLOW
(RspTimeout 60). On SLOW, session B starts a WRITE, gets its R2T and sends
half of a Data-Out PDU, then stalls: a LUN RESET that aborts that command
waits for the PDU to end, or for B's connection to close. On FAST,
session A sends that LUN RESET, and is then reinstated by A2 (same
initiator and ISID): A's session cannot be freed while its TMF waits, so
A2 waits, and times out after 3 s. A3 (same again) must then be accepted
as the new successor, wait, and log in once B's connection is closed and
A is gone with it; before the fix, A2's timed-out login stayed registered
as A's successor and A3 was refused at once (Service Unavailable)."""
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

port, fast, slow = int(sys.argv[1]), sys.argv[2], sys.argv[3]
INI_A, ISID_A = "iqn.2026-11.test:reinstate-a", b"\x40\0\0\0\0\x41"
INI_B, ISID_B = "iqn.2026-11.test:reinstate-b", b"\x40\0\0\0\0\x42"
KEYS = [("InitialR2T", "Yes"), ("ImmediateData", "No"),
        ("MaxRecvDataSegmentLength", "65536")]
failures = []


def check(ok, what):
    print(("ok  : " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


# B on SLOW: a WRITE stalled in the middle of its Data-Out PDU.
b = ic.Session(port, timeout=30)
b.login(INI_B, slow, ISID_B, KEYS)
check(b.ready(), "B: TEST UNIT READY")
size = 64 * 1024
cdb = struct.pack(">BBIBHB", 0x2A, 0, 0, 0, size // 512, 0)
itt, _ = b.send_scsi(cdb, edtl=size, write=True)
r2t = b.recv_pdu()
check(r2t.opcode == ic.OP_R2T and r2t.itt == itt, "B: R2T for the WRITE")
seg = min(size, b.target_mrdsl)
hdr = ic.bhs(ic.OP_DATA_OUT, ic.FINAL if seg == size else 0, itt, word20=r2t.u32(20),
             word28=b.exp_stat_sn, rest=struct.pack(">III", 0, 0, 0))
hdr[5:8] = seg.to_bytes(3, "big")
b.sock.sendall(bytes(hdr) + os.urandom(seg // 2))
b_stalled = time.monotonic()

# A on FAST: a LUN RESET that waits for B's command.
a = ic.Session(port, timeout=30)
a.login(INI_A, fast, ISID_A, KEYS)
check(a.ready(), "A: TEST UNIT READY")
a.send_tmf(ic.TMF_LUN_RESET)
time.sleep(0.5)

# A2 reinstates A and waits for it; its login times out.
a2 = ic.Session(port, timeout=30)
t0 = time.monotonic()
try:
    a2.login(INI_A, fast, ISID_A, KEYS)
    check(False, "A2: the reinstating login was answered while A still drained")
except (ic.ConnectionClosed, ic.ProtocolError, OSError) as e:
    waited = time.monotonic() - t0
    check(2.0 <= waited <= 8.0, "A2: login closed after %.1f s, by the login timeout (%s)"
          % (waited, type(e).__name__))
a2.close()

# A3 (same again), while A still drains: it must be taken as the new
# successor and wait (not be refused at once), then log in as soon as A is
# gone, which closing B's connection brings about.
a3 = ic.Session(port, timeout=30)
result = {}


def login_a3():
    t = time.monotonic()
    try:
        a3.login(INI_A, fast, ISID_A, KEYS)
        result["ok"] = time.monotonic() - t
    except (ic.ConnectionClosed, ic.ProtocolError, OSError) as e:
        result["error"] = "%s after %.1f s" % (e, time.monotonic() - t)


th = threading.Thread(target=login_a3)
th.start()
th.join(1.0)
check(th.is_alive(), "A3: its login waits for A (result so far: %r)" % result)
b.close()
th.join(10)
check("ok" in result, "A3: logged in once B and A were gone (%r)" % result)
if "ok" in result:
    check(a3.ready(), "A3: TEST UNIT READY")
    a3.logout()
a3.close()
a.close()
if failures:
    print("reinstate_timeout: FAILED (%d check(s))" % len(failures))
    sys.exit(1)
print("reinstate_timeout: all passed")
