#!/usr/bin/env python3
"""config.apply, config.write and SIGHUP on a running uscstd (issue 8:
"-config of a changed file applies exactly the difference; SIGHUP the
same"), with a session of the target logged in throughout.

usage: mgmt_config.py SOCKET PORT USCSTD_PID CONFIG_FILE LOG IMAGE
       mgmt_config.py --file-a IMAGE   (prints FILE_A)

uscstd was started with -c CONFIG_FILE holding FILE_A. Phases:
 1. the running configuration written out (config.write) applied back in
    check mode: no step at all (the written file is the running state);
 2. FILE_B checked: exactly the steps EXPECTED_B, and nothing changed;
 3. FILE_B applied with the session logged in: the same steps; the
    session gets REPORTED LUNS DATA HAS CHANGED, then REPORT LUNS lists
    LUN 1; INQUIRY shows the new product id after INQUIRY DATA HAS
    CHANGED; data written on LUN 0 before is read back unchanged; the
    written configuration now checks against FILE_B with no step;
 4. a file that does not load (a LUN of a device it does not define):
    refused with its FILE:LINE reason, and the running configuration is
    as before;
 5. FILE_C written to CONFIG_FILE and SIGHUP: the log lists exactly the
    steps EXPECTED_C ("config: FILE: ..."), and the session sees LUN 1
    go (LOGICAL UNIT NOT SUPPORTED on it after the unit attention);
 6. a device attribute that cannot change live: the step says it is not
    applied, and the log says it stays;
 7. the session is still the one logged in at the start (no session was
    dropped: the tree still lists it).
"""
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
import hostile  # noqa: E402
from hostile import check, ok  # noqa: E402

T1 = "iqn.2026-12.test:cfg1"
T2 = "iqn.2026-12.test:cfg2"
INI = "iqn.2026-12.test:cfg-ini"

FILE_A = """HANDLER vdisk_fileio {
	DEVICE d0 { filename %(img)s }
}
HANDLER vdisk_nullio {
	DEVICE d1 { size_mb 8; blocksize 4096 }
}
TARGET_DRIVER iscsi {
	TARGET %(t1)s {
		enabled 1
		LUN 0 d0
		GROUP g1 {
			LUN 0 d1
			INITIATOR iqn.2026-12.test:other
		}
	}
	TARGET %(t2)s {
		enabled 1
		LUN 0 d1
	}
}
"""

FILE_B = """HANDLER vdisk_fileio {
	DEVICE d0 { filename %(img)s; prod_id NEWPROD }
}
HANDLER vdisk_nullio {
	DEVICE d1 { size_mb 8; blocksize 4096 }
	DEVICE d2 { size_mb 4 }
}
TARGET_DRIVER iscsi {
	TARGET %(t1)s {
		enabled 1
		QueuedCommands 64
		LUN 0 d0
		LUN 1 d2 { read_only 1 }
		GROUP g1 {
			LUN 0 d1
			INITIATOR iqn.2026-12.test:another
		}
	}
}
"""

EXPECTED_B = [
    "change HANDLER vdisk_fileio / DEVICE d0 prod_id: vdisk_fileio -> NEWPROD",
    "add HANDLER vdisk_nullio / DEVICE d2",
    "change TARGET_DRIVER iscsi / TARGET %s QueuedCommands: 32 -> 64" % T1,
    "add TARGET_DRIVER iscsi / TARGET %s / LUN 1 d2" % T1,
    "add TARGET_DRIVER iscsi / TARGET %s / GROUP g1 / INITIATOR iqn.2026-12.test:another" % T1,
    "remove TARGET_DRIVER iscsi / TARGET %s / GROUP g1 / INITIATOR iqn.2026-12.test:other" % T1,
    "remove TARGET_DRIVER iscsi / TARGET %s" % T2,
]

if sys.argv[1:2] == ["--file-a"]:
    sys.stdout.write(FILE_A % {"img": sys.argv[2], "t1": T1, "t2": T2})
    sys.exit(0)
SOCK, PORT, PID, CONFIG, LOG, IMG = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4], sys.argv[5], sys.argv[6]
hostile._args["pid"] = PID
FILE_A = FILE_A % {"img": IMG, "t1": T1, "t2": T2}
FILE_B = FILE_B % {"img": IMG, "t1": T1, "t2": T2}
FILE_C = FILE_B.replace("\t\tLUN 1 d2 { read_only 1 }\n", "")
EXPECTED_C = ["remove TARGET_DRIVER iscsi / TARGET %s / LUN 1" % T1]

FILE_BAD = FILE_C.replace("LUN 0 d0", "LUN 0 d0\n\t\tLUN 7 nosuch")


def rpc(method, params=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(SOCK)
    req = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        req["params"] = params
    s.sendall(json.dumps(req).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return json.loads(buf)


def running():
    return rpc("config.write")["result"]["text"]


def steps_of(text, check_only, filename="test.conf"):
    r = rpc("config.apply", {"text": text, "check": check_only, "filename": filename})
    if "error" in r:
        raise AssertionError("config.apply refused: %s" % r["error"]["message"])
    return r["result"]["steps"]


def same_steps(got, want, what):
    return check(got == want, "%s: steps\n  %s\nnot\n  %s" % (what, "\n  ".join(got),
                                                             "\n  ".join(want)))


def cmd(sess, cdb, edtl, lun=0):
    buf = bytearray(edtl)
    itt, _ = sess.send_scsi(cdb, edtl=edtl, read=edtl > 0, lun=lun)
    status, data = sess.wait_response(itt, read_buf=buf)
    return status, ic.sense_key_asc(data) if status == 2 else None, bytes(buf)


def until_good(sess, cdb, edtl, lun=0, tries=5):
    """Sends @cdb until GOOD; returns the senses seen before, and the data."""
    seen = []
    for _ in range(tries):
        status, sense, data = cmd(sess, cdb, edtl, lun)
        if status == 0:
            return seen, data
        seen.append(sense)
    raise AssertionError("%s never GOOD: %s" % (cdb.hex(), seen))


REPORT_LUNS = bytes([0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
INQUIRY = bytes([0x12, 0, 0, 0, 96, 0])


def luns(sess):
    _, data = until_good(sess, REPORT_LUNS, 256)
    n = int.from_bytes(data[0:4], "big") // 8
    return sorted(int.from_bytes(data[8 + 8 * i:10 + 8 * i], "big") & 0x3fff for i in range(n))


def log_text():
    with open(LOG) as f:
        return f.read()


sess = ic.Session(PORT)
sess.login(INI, T1, bytes.fromhex("80000000c001"), {})
until_good(sess, bytes(6), 0)  # the power-on unit attention
pattern = bytes(range(256)) * 2
wrote = sess.write10(8, pattern)[0]
check(wrote == 0, "WRITE(10) on LUN 0: status %s" % wrote)
ok("session %s -> %s logged in, LUN 0 written" % (INI, T1))

with hostile.phase("the written configuration is the running state"):
    w1 = running()
    same_steps(steps_of(w1, True), [], "config.write applied back") and ok(
        "config.write checked against the running state: no step")

with hostile.phase("a changed file checked"):
    same_steps(steps_of(FILE_B, True), EXPECTED_B, "FILE_B checked") and ok(
        "FILE_B checked: the %d expected steps" % len(EXPECTED_B))
    check(running() == w1, "checking changed the running state") and ok("nothing changed")

with hostile.phase("the changed file applied under a session"):
    same_steps(steps_of(FILE_B, False), EXPECTED_B, "FILE_B applied") and ok(
        "FILE_B applied: the same steps")
    seen, _ = until_good(sess, bytes(6), 0)
    check((6, 0x3f, 0x0e) in seen, "no REPORTED LUNS DATA HAS CHANGED: %s" % seen)
    check((6, 0x3f, 0x03) in seen, "no INQUIRY DATA HAS CHANGED: %s" % seen)
    ok("unit attentions: %s" % seen)
    got = luns(sess)
    check(got == [0, 1], "REPORT LUNS: %s" % got) and ok("REPORT LUNS: LUN 0 and the new LUN 1")
    _, inq = until_good(sess, INQUIRY, 96)
    check(inq[16:32].rstrip() == b"NEWPROD", "INQUIRY product %r" % inq[16:32]) and ok(
        "INQUIRY: product NEWPROD")
    status, back, _ = sess.read10(8, len(pattern))
    check(status == 0 and back == pattern, "LUN 0's data changed") and ok(
        "LUN 0's data read back unchanged")
    same_steps(steps_of(running(), True), [], "config.write after FILE_B") and ok(
        "the written configuration checks with no step")
    same_steps(steps_of(FILE_B, True), [], "FILE_B again") and ok("FILE_B again: no step")

with hostile.phase("a file that does not load"):
    before = running()
    r = rpc("config.apply", {"text": FILE_BAD, "filename": "bad.conf"})
    msg = r.get("error", {}).get("message", "")
    check(r.get("error", {}).get("code") == -32000 and msg.startswith("bad.conf:") and
          "nosuch" in msg, "bad file: %s" % r) and ok("refused: %s" % msg)
    check(running() == before, "the refused file changed the running state") and ok(
        "nothing changed")

with hostile.phase("SIGHUP applies the file the same way"):
    with open(CONFIG, "w") as f:
        f.write(FILE_C)
    mark = len(log_text())
    os.kill(PID, signal.SIGHUP)
    for _ in range(100):
        if "reload of %s done" % CONFIG in log_text()[mark:]:
            break
        time.sleep(0.1)
    new = log_text()[mark:]
    check("reload of %s done" % CONFIG in new, "no 'reload done' line after SIGHUP")
    logged = [line.split("config: %s: " % CONFIG, 1)[1] for line in new.splitlines()
              if "config: %s: " % CONFIG in line]
    same_steps(logged, EXPECTED_C, "SIGHUP's logged steps") and ok(
        "SIGHUP logged exactly: %s" % logged)
    seen, _ = until_good(sess, bytes(6), 0)
    check((6, 0x3f, 0x0e) in seen, "no REPORTED LUNS DATA HAS CHANGED after SIGHUP: %s" % seen)
    status, sense, _ = cmd(sess, bytes(6), 0, lun=1)
    check(status == 2 and sense == (5, 0x25, 0), "LUN 1 after SIGHUP: %s %s" % (status, sense)) \
        and ok("LUN 1 gone: LOGICAL UNIT NOT SUPPORTED")
    same_steps(steps_of(FILE_C, True), [], "FILE_C after SIGHUP") and ok("FILE_C: no step")

with hostile.phase("an attribute that cannot change live"):
    fixed = FILE_C.replace("DEVICE d1 { size_mb 8; blocksize 4096 }",
                           "DEVICE d1 { size_mb 8; blocksize 512 }")
    steps = steps_of(fixed, False)
    check(len(steps) == 1 and "blocksize: 4096 -> 512" in steps[0] and "not applied" in steps[0],
          "fixed attribute: %s" % steps) and ok("step: %s" % steps)
    check("device d1: blocksize stays as the device was opened" in log_text(),
          "no log line for the fixed attribute") and ok("logged: stays as opened")
    tree = rpc("tree.get", {"path": "devices/d1/attributes/blocksize"})["result"]
    check(tree["value"] == "4096", "d1's blocksize %s" % tree) and ok("d1 keeps 4096")

with hostile.phase("no session dropped"):
    sessions = rpc("tree.get", {"path": "targets/iscsi/targets/%s/sessions" % T1})["result"]
    names = list(sessions)
    check(names == ["%s,i,0x80000000c001" % INI], "sessions: %s" % names) and ok(
        "the session of the start is still there: %s" % names)
    check(cmd(sess, bytes(6), 0)[0] == 0, "TEST UNIT READY at the end")
    sess.logout()

if hostile.failures:
    print("mgmt_config: %d failure(s)" % len(hostile.failures))
    sys.exit(1)
print("mgmt_config: all phases passed")
