#!/usr/bin/env python3
"""Every uscstadmin verb against a running uscstd (issue 8), with I/O in
flight: mgmt_admin.sh starts the daemon and three libiscsi sessions
(mgmt_admin_io: writes verified on keep1, reads of keep0 compared with its
file, also through a group and another target); this script makes the
changes with uscstadmin and checks, from sessions of its own
(iscsi_client.py), that each change is seen as the standard says:

 - a LUN added: REPORTED LUNS DATA HAS CHANGED, then REPORT LUNS lists it
   and it reads the new device's bytes; sessions of another group see no
   unit attention;
 - a LUN replaced: the new device's bytes at the same LUN;
 - a LUN removed: LOGICAL UNIT NOT SUPPORTED;
 - a device resized: CAPACITY DATA HAS CHANGED, then its new capacity;
 - a group made, an initiator added to it, moved and removed: the
   session's LUN map follows, each time after REPORTED LUNS DATA HAS
   CHANGED;
 - a target added, enabled, disabled (its session closed, logins
   refused), removed; a session closed by -close_session;
 - refusals (a used LUN, a mapped device, a backing file that does not
   open): exit status 1, the daemon's reason on stderr, nothing changed;
 - every listing's text, and its --json equal to the daemon's tree.get;
 - -write_config, -check_config and -config of a changed file: exactly
   the difference is applied; the original file puts everything back.

The io sessions' commands keep running through every change (checked by
their counters before and after each uscstadmin run).

usage: mgmt_admin.py (everything from the environment; see mgmt_admin.sh)
"""
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

E = os.environ
PORT = int(E["PORT"])
SOCK, ADMIN, W = E["RPC_SOCK"], E["ADMIN"], E["WORKDIR"]
T, T2, T3 = E["T"], E["T2"], "iqn.2026-12.test:mgmt3"
PROBE, GPROBE = E["PROBE"], E["GPROBE"]
IO_STATUS = E["IO_STATUS"].split()
KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
        ("MaxBurstLength", "262144")]
SK_ILLEGAL_REQUEST, SK_UNIT_ATTENTION = 0x5, 0x6
LUNS_CHANGED = (SK_UNIT_ATTENTION, 0x3F, 0x0E)
INQUIRY_CHANGED = (SK_UNIT_ATTENTION, 0x3F, 0x03)
CAPACITY_CHANGED = (SK_UNIT_ATTENTION, 0x2A, 0x09)
LUN_NOT_SUPPORTED = (SK_ILLEGAL_REQUEST, 0x25, 0x00)
failures = []
isid_n = [0]


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


# ---- the daemon, directly and through uscstadmin

def rpc(method, params=None):
    """(result, error) of one request straight to the socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(SOCK)
    s.sendall(json.dumps({"jsonrpc": "2.0", "id": 7, "method": method,
                          "params": params or {}}).encode() + b"\n")
    buf, dec = b"", json.JSONDecoder()
    while True:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("uscstd closed the RPC connection: %r" % buf[:200])
        buf += chunk
        try:
            rsp, _ = dec.raw_decode(buf.decode().lstrip())
            break
        except ValueError:
            continue
    s.close()
    return rsp.get("result"), rsp.get("error")


def tree():
    result, error = rpc("tree.get")
    assert error is None, error
    return result


def io_ops():
    """The io sessions' command counters."""
    ops = []
    for path in IO_STATUS:
        try:
            with open(path) as f:
                ops.append(int(f.read().split()[1]))
        except (OSError, IndexError, ValueError):
            ops.append(-1)
    return ops


def admin(*args, expect=0, stdin=None):
    """Runs uscstadmin; checks its exit status and that the io sessions
    made progress while it ran. Returns (stdout, stderr)."""
    before = io_ops()
    proc = subprocess.run([ADMIN, "--rpc-socket", SOCK] + list(args), input=stdin or "",
                          capture_output=True, text=True, timeout=120)
    # The change is made by now; commands that were in flight during it
    # and after it must keep completing.
    deadline = time.time() + 5
    after = io_ops()
    while time.time() < deadline and not all(a > b for a, b in zip(after, before)):
        time.sleep(0.05)
        after = io_ops()
    shown = " ".join(a if " " not in a else "'%s'" % a for a in args)
    check(proc.returncode == expect,
          "uscstadmin %s: exit %d (expected %d)%s" % (
              shown, proc.returncode, expect,
              "" if proc.returncode == expect else
              "\n--- stdout:\n%s--- stderr:\n%s" % (proc.stdout, proc.stderr)))
    if IO_STATUS and args[0] not in ("-clear_config",):
        check(all(a > b for a, b in zip(after, before)),
              "I/O went on across '%s' (io commands %s -> %s)" % (args[0], before, after))
    return proc.stdout, proc.stderr


# ---- initiator side

def login(initiator, target=T):
    isid_n[0] += 1
    s = ic.Session(PORT)
    s.login(initiator, target, bytes([0x80, 0, 0x07, 0x1d, 0, isid_n[0]]), KEYS)
    return s


def cmd(s, lun, cdb, read_len=0, data=b""):
    itt, _ = s.send_scsi(cdb, edtl=read_len or len(data), read=read_len > 0,
                         write=bool(data), data=data, lun=lun)
    buf = bytearray(read_len)
    status, rsp = s.wait_response(itt, read_buf=buf if read_len else None)
    return status, bytes(buf), ic.sense_key_asc(rsp)


def drain_uas(s, lun):
    """TEST UNIT READY until GOOD; the unit attentions on the way."""
    seen = []
    for _ in range(10):
        status, _, sense = cmd(s, lun, b"\0" * 6)
        if status == ic.STATUS_GOOD:
            return seen
        seen.append(sense)
        if not sense or sense[0] != SK_UNIT_ATTENTION:
            return seen
    return seen


def report_luns(s):
    status, d, sense = cmd(s, 0, struct.pack(">BBBBBBIBB", 0xA0, 0, 0, 0, 0, 0, 4096, 0, 0),
                           read_len=4096)
    if status != ic.STATUS_GOOD:
        return "status 0x%02x %r" % (status, sense)
    n = struct.unpack(">I", d[:4])[0] // 8
    return [struct.unpack(">H", d[8 + 8 * i:10 + 8 * i])[0] & 0x3FFF for i in range(n)]


def device_of(s, lun):
    """The device behind LUN: VPD page 0x83's T10 vendor ID designator
    carries t10_dev_id, the device's name unless set."""
    status, d, sense = cmd(s, lun, bytes([0x12, 1, 0x83, 0, 255, 0]), read_len=255)
    if status != ic.STATUS_GOOD:
        return "status 0x%02x %r" % (status, sense)
    pos = 4
    while pos + 4 <= len(d):
        dlen = d[pos + 3]
        if d[pos + 1] & 0x0F == 1:
            return d[pos + 4 + 8:pos + 4 + dlen].rstrip(b"\0 ").decode()
        pos += 4 + dlen
    return None


def read_block(s, lun, lba):
    return cmd(s, lun, struct.pack(">BBIBHB", 0x28, 0, lba, 0, 1, 0), read_len=512)


def read_capacity16(s, lun):
    return cmd(s, lun, bytes([0x9E, 0x10]) + b"\0" * 8 + struct.pack(">I", 32) + b"\0\0",
               read_len=32)


def vendor(s, lun):
    status, d, sense = cmd(s, lun, bytes([0x12, 0, 0, 0, 96, 0]), read_len=96)
    return d[8:16].decode().strip() if status == ic.STATUS_GOOD else "status %r" % (sense,)


def file_block(name, lba=0):
    with open(os.path.join(W, name), "rb") as f:
        f.seek(lba * 512)
        return f.read(512)


def dropped(s, seconds=10):
    """Whether the target ends the session within SECONDS: the
    connection closes, or an Async Message asks for a logout or says the
    connection or session is being dropped."""
    s.sock.settimeout(seconds)
    try:
        while True:
            pdu = s.recv_pdu()
            if pdu.opcode == ic.OP_ASYNC and pdu.bhs[36] in (1, 2, 3):
                return True
    except (ic.ConnectionClosed, OSError, ic.ProtocolError):
        return True
    return False


def login_refused(initiator, target):
    try:
        login(initiator, target).close()
    except (ic.ProtocolError, ic.ConnectionClosed, OSError):
        return True
    return False


def config_of(node):
    """The tree without what I/O changes (sessions, counters)."""
    if isinstance(node, dict):
        return {k: config_of(v) for k, v in node.items()
                if k not in ("sessions", "stats", "lun_stats")}
    if isinstance(node, list):
        return [config_of(v) for v in node]
    return node


# ---- the scenario

p = login(PROBE)
g = login(GPROBE)
check(drain_uas(p, 0) is not None and report_luns(p) == [0, 1, 2],
      "the probe session sees the default LUNs 0, 1, 2: %r" % report_luns(p))
drain_uas(g, 0)
check(report_luns(g) == [0, 4], "the group probe (G1) sees LUNs 0, 4: %r" % report_luns(g))

print("--- listings, text and --json")
root = tree()
out, _ = admin("-list_handler")
check(re.search(r"\n\tHandler\n\t-+\n", out) and "\tvdisk_fileio\n" in out
      and "\tvdisk_nullio\n" in out, "-list_handler lists the handlers")
out, _ = admin("-list_handler", "vdisk_fileio")
check(re.search(r"\tvdisk_fileio +grow\b", out) and re.search(r"\n\t +keep0\b", out),
      "-list_handler vdisk_fileio lists its devices")
out, _ = admin("-list_device")
check(re.search(r"\tvdisk_nullio +null0\b", out), "-list_device lists null0 under vdisk_nullio")
out, _ = admin("-list_device", "keep0")
check(re.search(r"\tfilename +%s/keep0.img +No +Yes" % re.escape(W), out),
      "-list_device keep0 shows its filename as a key attribute")
out, _ = admin("-list_dev_attr", "keep0", "-nonkey")
check(re.search(r"\tblocksize +512 +No +No", out), "-list_dev_attr -nonkey shows blocksize 512")
out, _ = admin("-list_target")
check(re.search(r"\tiscsi +%s *\n" % re.escape(T), out) and re.search(r"\n\t +%s *\n" % re.escape(T2), out),
      "-list_target lists both targets")
out, _ = admin("-list_target", T, "-driver", "iscsi")
check(re.search(r"Driver: iscsi\nTarget: %s\n\nAssigned LUNs:\n\n\tLUN  Device\n\t-+\n"
                r"\t0    keep0 *\n\t1    keep1 *\n\t2    grow *\n" % re.escape(T), out),
      "-list_target T shows LUNs 0 keep0, 1 keep1, 2 grow")
check("Group: G1" in out, "-list_target T shows group G1")
out, _ = admin("-list_group", "G1", "-driver", "iscsi", "-target", T)
check(re.search(r"\t0    keep0 *\n\t4    null0 *\n", out) and "\tiqn.2026-12.test:g1-*\n" in out,
      "-list_group G1 shows its LUNs and initiator pattern")
out, _ = admin("-list_sessions")
for ini in ("iqn.2026-12.test:io-a", "iqn.2026-12.test:io-b", "iqn.2026-12.test:g1-io",
            PROBE, GPROBE):
    check(re.search(r"\tSession: %s,i,0x[0-9a-f]+\n" % re.escape(ini), out),
          "-list_sessions lists %s's session" % ini)
check(re.search(r"\tLUN 1 +keep1", out), "-list_sessions shows a session's LUN 1 keep1")
out, _ = admin("-list_tgt_attr", T, "-driver", "iscsi", "-nonkey")
check(re.search(r"\tenabled +1 +Yes", out), "-list_tgt_attr -nonkey: enabled 1, writable")
out, _ = admin("-list_grp_attr", "G1", "-driver", "iscsi", "-target", T, "-nonkey")
check("Attribute" in out, "-list_grp_attr G1 prints the attribute table")
out, _ = admin("-list_drv_attr", "iscsi", "-nonkey")
# docs/rpc.md's tree sketch gives a driver "enabled" too; uscstd leaves it
# out of the tree (driver.set_attr refuses it: "the configuration file's
# switch"), so only the attributes it does have are checked here.
check(re.search(r"\tIncomingUser +<not set> +Yes", out) and re.search(r"\tOutgoingUser +<n/a> +Yes", out),
      "-list_drv_attr iscsi -nonkey: IncomingUser, OutgoingUser not set, writable\n" + out)
tgt = root["targets"]["iscsi"]["targets"][T]
for args, node in [
        (["-list_handler"], root["handlers"]),
        (["-list_device"], root["devices"]),
        (["-list_dev_attr", "keep0"], root["devices"]["keep0"]["attributes"]),
        (["-list_drv_attr", "iscsi"], root["targets"]["iscsi"]["attributes"]),
        (["-list_tgt_attr", T, "-driver", "iscsi"], tgt["attributes"]),
        (["-list_grp_attr", "G1", "-driver", "iscsi", "-target", T],
         tgt["ini_groups"]["G1"]["attributes"]),
        (["-list_group", "-driver", "iscsi", "-target", T], {"iscsi": {T: tgt["ini_groups"]}})]:
    out, _ = admin(*(args + ["--json"]))
    try:
        got = json.loads(out)
    except ValueError:
        got = "not JSON: %r" % out[:100]
    # The counters move with the io sessions' commands; the rest must be
    # what tree.get says.
    check(config_of(got) == config_of(node),
          "%s --json is the daemon's tree.get subtree" % " ".join(args))

print("--- a new device and a new LUN")
admin("-open_dev", "new1", "-handler", "vdisk_fileio", "-attributes",
      "filename=%s/new1.img" % W)
check("new1" in tree()["devices"], "-open_dev: new1 is in the tree")
out, _ = admin("-add_lun", "3", "-driver", "iscsi", "-target", T, "-device", "new1")
check("Adding device 'new1' at LUN 3 to driver/target 'iscsi/%s': done." % T in out,
      "-add_lun prints scstadmin's step line")
uas = drain_uas(p, 0)
check(LUNS_CHANGED in uas, "the probe gets REPORTED LUNS DATA HAS CHANGED: %r" % uas)
check(report_luns(p) == [0, 1, 2, 3], "then REPORT LUNS lists LUN 3: %r" % report_luns(p))
drain_uas(p, 3)
st, data, _ = read_block(p, 3, 0)
check(st == ic.STATUS_GOOD and data == file_block("new1.img"), "LUN 3 reads new1's bytes")
uas = drain_uas(g, 0)
check(uas == [], "the G1 session, whose map did not change, has no unit attention: %r" % uas)

print("--- a LUN replaced")
admin("-open_dev", "new2", "-handler", "vdisk_fileio", "-attributes",
      "filename=%s/new2.img" % W)
admin("-replace_lun", "3", "-driver", "iscsi", "-target", T, "-device", "new2", "-noprompt")
uas = drain_uas(p, 0)
check(LUNS_CHANGED in uas, "replace: REPORTED LUNS DATA HAS CHANGED on LUN 0: %r" % uas)
uas3 = drain_uas(p, 3)
check(INQUIRY_CHANGED in uas + uas3 or LUNS_CHANGED in uas3,
      "replace: LUN 3 announces the new device (%r)" % uas3)
st, data, _ = read_block(p, 3, 0)
check(st == ic.STATUS_GOOD and data == file_block("new2.img") and data != file_block("new1.img"),
      "LUN 3 now reads new2's bytes")
check(device_of(p, 3) == "new2", "VPD 0x83 of LUN 3 names new2: %r" % device_of(p, 3))

print("--- a LUN removed")
admin("-rem_lun", "3", "-driver", "iscsi", "-target", T, "-noprompt")
uas = drain_uas(p, 0)
check(LUNS_CHANGED in uas, "rem_lun: REPORTED LUNS DATA HAS CHANGED: %r" % uas)
check(report_luns(p) == [0, 1, 2], "REPORT LUNS no longer lists 3: %r" % report_luns(p))
st, _, sense = cmd(p, 3, b"\0" * 6)
check(st == ic.STATUS_CHECK_CONDITION and sense == LUN_NOT_SUPPORTED,
      "LUN 3 gets LOGICAL UNIT NOT SUPPORTED: %r" % (sense,))

print("--- a device resized")
drain_uas(p, 2)
st, d, _ = read_capacity16(p, 2)
old_last = struct.unpack(">Q", d[:8])[0] if st == ic.STATUS_GOOD else None
os.truncate(os.path.join(W, "grow.img"), 12 << 20)
out, _ = admin("-resync_dev", "grow")
st, d, sense = read_capacity16(p, 2)
check(st == ic.STATUS_CHECK_CONDITION and sense == CAPACITY_CHANGED,
      "READ CAPACITY(16) after -resync_dev gets CAPACITY DATA HAS CHANGED: %r" % (sense,))
drain_uas(p, 2)
st, d, _ = read_capacity16(p, 2)
new_last = struct.unpack(">Q", d[:8])[0] if st == ic.STATUS_GOOD else None
check(old_last == (8 << 20) // 512 - 1 and new_last == (12 << 20) // 512 - 1,
      "grow's last LBA %r -> %r (8 MiB -> 12 MiB)" % (old_last, new_last))
check(tree()["devices"]["grow"].get("nblocks") in (None, (12 << 20) // 512),
      "the tree's nblocks follows")

print("--- device attributes")
vend = tree()["devices"]["keep0"]["attributes"].get("t10_vend_id", {})
if vend.get("changeable"):
    admin("-set_dev_attr", "keep0", "-attributes", "t10_vend_id=ACME", "-noprompt")
    uas = drain_uas(p, 0)
    check(INQUIRY_CHANGED in uas, "t10_vend_id set: INQUIRY DATA HAS CHANGED: %r" % uas)
    check(vendor(p, 0) == "ACME", "INQUIRY's vendor is ACME: %r" % vendor(p, 0))
    admin("-set_dev_attr", "keep0", "-attributes", "t10_vend_id=USCST", "-noprompt")
    drain_uas(p, 0)
    drain_uas(g, 0)
else:
    _, err = admin("-set_dev_attr", "keep0", "-attributes", "t10_vend_id=ACME", "-noprompt",
                   expect=1)
    check("FATAL" in err and len(err.strip()) > 40,
          "t10_vend_id (not changeable): refused with the daemon's reason: %r" % err.strip()[-120:])
    check(vendor(p, 0) == "USCST", "INQUIRY's vendor unchanged: %r" % vendor(p, 0))
out, _ = admin("-set_dev_attr", "keep0", "-attributes", "no_such_attr=1", "-noprompt")
check("lacks the settable attribute 'no_such_attr'" in out, "-set_dev_attr warns about an unknown one")

print("--- groups and initiators")
admin("-add_group", "G2", "-driver", "iscsi", "-target", T)
admin("-add_lun", "0", "-driver", "iscsi", "-target", T, "-group", "G2", "-device", "null0")
check(report_luns(p) == [0, 1, 2] and drain_uas(p, 0) == [],
      "a new group no initiator is in changes nothing for the probe")
admin("-add_init", PROBE, "-driver", "iscsi", "-target", T, "-group", "G2")
uas = drain_uas(p, 0)
check(LUNS_CHANGED in uas, "add_init: the probe gets REPORTED LUNS DATA HAS CHANGED: %r" % uas)
check(report_luns(p) == [0] and device_of(p, 0) == "null0",
      "the probe now sees G2's LUN 0 = null0: %r %r" % (report_luns(p), device_of(p, 0)))
admin("-move_init", PROBE, "-driver", "iscsi", "-target", T, "-group", "G2", "-to", "G1",
      "-noprompt")
uas = drain_uas(p, 0)
check(LUNS_CHANGED in uas, "move_init: REPORTED LUNS DATA HAS CHANGED: %r" % uas)
check(report_luns(p) == [0, 4] and device_of(p, 4) == "null0",
      "the probe now sees G1's LUNs 0, 4: %r" % report_luns(p))
admin("-rem_init", PROBE, "-driver", "iscsi", "-target", T, "-group", "G1", "-noprompt")
uas = drain_uas(p, 0)
check(LUNS_CHANGED in uas and report_luns(p) == [0, 1, 2],
      "rem_init: back to the default LUNs after the UA: %r %r" % (uas, report_luns(p)))
check(drain_uas(g, 0) == [], "the G1 session had no unit attention through all this")
admin("-add_init", "iqn.2026-12.test:nobody", "-driver", "iscsi", "-target", T, "-group", "G2")
admin("-clear_inits", "-driver", "iscsi", "-target", T, "-group", "G2", "-noprompt")
g2 = tree()["targets"]["iscsi"]["targets"][T]["ini_groups"]["G2"]
check(g2["initiators"] == [], "-clear_inits: G2 has no initiators: %r" % g2["initiators"])
_, err = admin("-rem_group", "G2", "-driver", "iscsi", "-target", T, "-noprompt", expect=1)
check("Group is still in use" in err, "-rem_group of a group with a LUN needs -force")
admin("-clear_luns", "-driver", "iscsi", "-target", T, "-group", "G2", "-noprompt")
check(tree()["targets"]["iscsi"]["targets"][T]["ini_groups"]["G2"]["luns"] == {},
      "-clear_luns: G2 has no LUNs")
admin("-rem_group", "G2", "-driver", "iscsi", "-target", T, "-noprompt")
check("G2" not in tree()["targets"]["iscsi"]["targets"][T]["ini_groups"], "-rem_group: G2 is gone")
out, _ = admin("-set_grp_attr", "G1", "-driver", "iscsi", "-target", T, "-attributes", "colour=red",
               "-noprompt")
check("lacks the settable attribute 'colour'" in out, "-set_grp_attr warns about an unknown one")

print("--- a target added, enabled, disabled, removed")
admin("-add_target", T3, "-driver", "iscsi")
admin("-add_lun", "0", "-driver", "iscsi", "-target", T3, "-device", "new1")
check(tree()["targets"]["iscsi"]["targets"][T3]["attributes"]["enabled"]["value"] in ("0", 0, False),
      "a new target starts disabled")
admin("-enable_target", T3, "-driver", "iscsi")
s3 = login("iqn.2026-12.test:t3", T3)
drain_uas(s3, 0)
check(report_luns(s3) == [0] and device_of(s3, 0) == "new1", "T3 serves LUN 0 = new1 once enabled")
admin("-disable_target", T3, "-driver", "iscsi", "-noprompt")
check(dropped(s3), "-disable_target closes T3's session")
s3.close()
check(login_refused("iqn.2026-12.test:t3", T3), "a disabled target refuses logins")
admin("-set_tgt_attr", T3, "-driver", "iscsi", "-attributes", "enabled=1", "-noprompt")
s3 = login("iqn.2026-12.test:t3", T3)
check(drain_uas(s3, 0) is not None and report_luns(s3) == [0],
      "-set_tgt_attr enabled=1 enables it again")
admin("-rem_target", T3, "-driver", "iscsi", "-noprompt")
check(dropped(s3), "-rem_target closes its session")
s3.close()
check(T3 not in tree()["targets"]["iscsi"]["targets"], "-rem_target: T3 is gone")
check(report_luns(p) == [0, 1, 2] and drain_uas(p, 0) == [], "the other target's probe saw nothing")

print("--- -close_session")
s4 = login("iqn.2026-12.test:closeme", T2)
drain_uas(s4, 0)
out, _ = admin("-close_session", "iqn.2026-12.test:closeme", "-driver", "iscsi", "-noprompt")
check(dropped(s4), "-close_session closes the session")
s4.close()
check(not any(n.startswith("iqn.2026-12.test:closeme,")
              for n in tree()["targets"]["iscsi"]["targets"][T2]["sessions"]),
      "the closed session is no longer in the tree")
s4 = login("iqn.2026-12.test:closeme", T2)
check(drain_uas(s4, 0) is not None and report_luns(s4) == [0, 1], "its initiator may log in again")
s4.logout()

print("--- driver attributes")
drv_attrs = tree()["targets"]["iscsi"]["attributes"]
out, _ = admin("-set_drv_attr", "iscsi", "-attributes", "enabled=1", "-noprompt")
check("Done, 0 change(s) made." in out, "-set_drv_attr of the value it has changes nothing")
if not drv_attrs.get("OutgoingUser", {}).get("changeable", True):
    _, err = admin("-set_drv_attr", "iscsi", "-attributes", "OutgoingUser=tgt 12charsecret42",
                   "-noprompt", expect=1)
    check("FATAL" in err, "-set_drv_attr of one not changeable is refused: %r" % err.strip()[-100:])
    check(tree()["targets"]["iscsi"]["attributes"] == drv_attrs, "and nothing changed")

print("--- live target and driver attributes")
t2_attrs = tree()["targets"]["iscsi"]["targets"][T2]["attributes"]
if t2_attrs.get("QueuedCommands", {}).get("changeable"):
    out, _ = admin("-set_tgt_attr", T2, "-driver", "iscsi", "-attributes", "QueuedCommands=8",
                   "-noprompt")
    check("Setting target attribute 'QueuedCommands' to value '8'" in out,
          "-set_tgt_attr prints scstadmin's step line")
    s5 = login("iqn.2026-12.test:window", T2)
    drain_uas(s5, 0)
    window = (s5.max_cmd_sn - s5.exp_cmd_sn + 1) & 0xFFFFFFFF
    check(window == 8, "a new session on T2 gets the CmdSN window 8: %d" % window)
    s5.logout()
    admin("-set_tgt_attr", T2, "-driver", "iscsi", "-attributes", "QueuedCommands=32", "-noprompt")
else:
    check(False, "QueuedCommands of a target is changeable at run time (uscstd --list-attributes)")
disc_user = drv_attrs.get("IncomingUser", {})
if disc_user.get("changeable"):
    admin("-set_drv_attr", "iscsi", "-attributes", "IncomingUser=disc 12charsecret77", "-noprompt")
    check(tree()["targets"]["iscsi"]["attributes"]["IncomingUser"]["value"] in (["disc"], "disc"),
          "the driver's IncomingUser shows its user only: %r"
          % tree()["targets"]["iscsi"]["attributes"]["IncomingUser"]["value"])
    check("12charsecret77" not in json.dumps(tree()), "the secret is not in the tree")
    ls = subprocess.run(["iscsi-ls", "-i", "iqn.2026-12.test:disc",
                         "iscsi://127.0.0.1:%d" % PORT], capture_output=True, text=True, timeout=60)
    check(T not in ls.stdout, "discovery without CHAP is refused once the driver has IncomingUser")
    ls = subprocess.run(["iscsi-ls", "-i", "iqn.2026-12.test:disc",
                         "iscsi://disc%%12charsecret77@127.0.0.1:%d" % PORT],
                        capture_output=True, text=True, timeout=60)
    check(T in ls.stdout, "discovery with the new CHAP user lists the targets: %r" % ls.stdout[-200:])

print("--- refusals change nothing")
before = tree()
_, err = admin("-add_lun", "0", "-driver", "iscsi", "-target", T, "-device", "null0", expect=1)
check("FATAL: Received the following error:" in err and "0" in err,
      "-add_lun at a used LUN: refused: %r" % err.strip().splitlines()[-1:])
out, err = admin("-close_dev", "keep0", "-noprompt", expect=1)
check("still in use" in err and "currently in use by the following" in out,
      "-close_dev of a mapped device is refused, its LUNs listed")
result, error = rpc("device.close", {"device": "keep0"})
check(error is not None and error.get("code") == -32000,
      "the daemon refuses device.close of a mapped device itself: %r" % (error,))
_, err = admin("-open_dev", "bad", "-handler", "vdisk_fileio", "-attributes",
               "filename=%s/no/such/file" % W, expect=1)
check("FATAL" in err, "-open_dev of a file that does not open: refused: %r" % err.strip()[-100:])
_, err = admin("-rem_lun", "9", "-driver", "iscsi", "-target", T, "-noprompt", expect=1)
check("FATAL" in err, "-rem_lun of a LUN that is not there: refused: %r" % err.strip()[-100:])
after = tree()


check(config_of(before) == config_of(after), "the refused changes left the tree as it was")
check(drain_uas(p, 0) == [] and report_luns(p) == [0, 1, 2], "and the probe saw nothing")

print("--- devices closed")
admin("-close_dev", "new1", "-handler", "vdisk_fileio", "-noprompt")
admin("-close_dev", "new2", "-noprompt")
devs = tree()["devices"]
check("new1" not in devs and "new2" not in devs, "-close_dev: new1 and new2 are gone")

print("--- configuration files")
live = os.path.join(W, "live.conf")
out, _ = admin("-write_config", live)
text = open(live).read()
check("TARGET %s" % T in text and "GROUP G1" in text, "-write_config wrote the running state")
out, _ = admin("-check_config", live)
check("0 change(s) to make" in out, "-check_config of the running state: nothing to do\n" + out)
changed = os.path.join(W, "changed.conf")
new_text = re.sub(r"(\n(\s*)LUN 2 grow\n)", r"\1\2LUN 5 null0\n", text, count=1)
new_text = re.sub(r"\n\s*LUN 4 null0\n", "\n", new_text, count=1)
check(new_text != text and "LUN 5 null0" in new_text and "LUN 4 null0" not in new_text,
      "changed.conf: LUN 5 added to T, LUN 4 removed from G1")
with open(changed, "w") as f:
    f.write(new_text)
out, _ = admin("-check_config", changed)
steps = [ln for ln in out.splitlines() if ln.startswith("\t-> ") and "Done" not in ln]
check(len(steps) == 2, "-check_config lists two steps: %r" % steps)
check(report_luns(p) == [0, 1, 2] and drain_uas(p, 0) == [], "-check_config changed nothing")
out, _ = admin("-config", changed)
steps = [ln for ln in out.splitlines() if ln.startswith("\t-> ") and "Done" not in ln]
check(len(steps) == 2 and "Done, 2 change(s) made." in out, "-config made two changes: %r" % steps)
uas = drain_uas(p, 0)
check(LUNS_CHANGED in uas and report_luns(p) == [0, 1, 2, 5],
      "the probe sees LUN 5 after the UA: %r %r" % (uas, report_luns(p)))
uas = drain_uas(g, 0)
check(LUNS_CHANGED in uas and report_luns(g) == [0], "G1's session lost LUN 4: %r" % report_luns(g))
out, _ = admin("-config", live)
check("Done, 2 change(s) made." in out, "-config of the original file undoes both")
drain_uas(p, 0)
drain_uas(g, 0)
check(report_luns(p) == [0, 1, 2] and report_luns(g) == [0, 4], "the maps are back")
again = os.path.join(W, "again.conf")
admin("-write_config", again)
check(open(again).read() == text, "-write_config after the round trip writes the same file")

p.logout()
g.logout()
print("%d check(s) failed" % len(failures) if failures else "all checks passed")
sys.exit(1 if failures else 0)
