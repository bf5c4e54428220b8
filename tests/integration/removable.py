#!/usr/bin/env python3
"""A removable medium (removable 1) from the wire, with two sessions (two
I_T nexuses, A and B) on one LUN, and a fixed disk beside it:

- INQUIRY RMB is 1 on the removable LUN, 0 on the fixed one;
- an eject from A: GOOD; then TEST UNIT READY, READ(10), WRITE(10) and
  READ CAPACITY(10) get NOT READY / MEDIUM NOT PRESENT (3A/xx) on both
  sessions, REQUEST SENSE returns that condition as its data, INQUIRY,
  MODE SENSE and PREVENT ALLOW are still served; a second eject is GOOD;
- a load from A: GOOD, A's next command sees no unit attention, B's sees
  NOT READY TO READY CHANGE (28/00) once; data written before the eject
  reads back;
- PREVENT from A: an eject from B and from A, and a load, get ILLEGAL
  REQUEST / MEDIUM REMOVAL PREVENTED (53/02); B's own ALLOW does not lift
  A's prevention; A's logout does, and B ejects;
- a prevention ends with a LOGICAL UNIT RESET too;
- on the fixed disk an eject is INVALID FIELD IN CDB and a load and
  PREVENT ALLOW are GOOD, with the medium always there;
- with RPC_SOCKET, management's device.eject and device.load: both
  sessions see the medium go, both get the media-change unit attention
  when it comes back; refused while a session prevents removal, and for
  the fixed disk.

usage: removable.py PORT TARGET_IQN INITIATOR_IQN [RPC_SOCKET]
"""
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import Target, check, failures  # noqa: E402

KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
        ("MaxBurstLength", "262144"), ("ErrorRecoveryLevel", "0")]
REMOVABLE_LUN, FIXED_LUN = 0, 1
BLOCK = 512
SK_NOT_READY, SK_ILLEGAL_REQUEST, SK_UNIT_ATTENTION = 0x2, 0x5, 0x6
TMF_LUN_RESET = 5


def cmd(s, cdb, lun=REMOVABLE_LUN, data=b"", read_len=0):
    """One command; returns (status, data read, (key, asc, ascq) or None)."""
    itt, _ = s.send_scsi(cdb, edtl=len(data) or read_len, read=bool(read_len),
                         write=bool(data), data=data, lun=lun)
    buf = bytearray(read_len)
    status, rsp = s.wait_response(itt, read_buf=buf if read_len else None)
    return status, bytes(buf), ic.sense_key_asc(rsp) if rsp else None


def tur(s, lun=REMOVABLE_LUN):
    status, _, sense = cmd(s, bytes(6), lun)
    return status, sense


def start_stop(s, start, loej, lun=REMOVABLE_LUN):
    return cmd(s, bytes([0x1B, 0, 0, 0, (2 if loej else 0) | (1 if start else 0), 0]), lun)


def prevent(s, on, lun=REMOVABLE_LUN):
    return cmd(s, bytes([0x1E, 0, 0, 0, 1 if on else 0, 0]), lun)


def read10(s, lba, lun=REMOVABLE_LUN):
    return cmd(s, struct.pack(">BBIBHB", 0x28, 0, lba, 0, 1, 0), lun, read_len=BLOCK)


def write10(s, lba, data, lun=REMOVABLE_LUN):
    return cmd(s, struct.pack(">BBIBHB", 0x2A, 0, lba, 0, 1, 0), lun, data=data)


def expect(what, got, status, sense=None):
    check(got[0] == status and (sense is None or (got[2] if len(got) == 3 else got[1]) == sense),
          "%s: expected status 0x%02x %s, got 0x%02x %s"
          % (what, status, sense, got[0], got[2] if len(got) == 3 else got[1]))


def no_medium(what, got):
    sense = got[2] if len(got) == 3 else got[1]
    check(got[0] == ic.STATUS_CHECK_CONDITION and sense and sense[0] == SK_NOT_READY and
          sense[1] == 0x3A, "%s: expected NOT READY / MEDIUM NOT PRESENT, got 0x%02x %s"
          % (what, got[0], sense))


REMOVAL_PREVENTED = (SK_ILLEGAL_REQUEST, 0x53, 0x02)
MEDIUM_CHANGED = (SK_UNIT_ATTENTION, 0x28, 0x00)


def eject_load_cycle(a, b):
    pattern = bytes((i * 7 + 3) & 0xFF for i in range(BLOCK))
    expect("write before the eject", write10(a, 5, pattern), ic.STATUS_GOOD)
    expect("eject from A", start_stop(a, start=False, loej=True), ic.STATUS_GOOD)
    for name, s in (("A", a), ("B", b)):
        no_medium("TEST UNIT READY on %s while ejected" % name, tur(s))
        no_medium("READ(10) on %s while ejected" % name, read10(s, 5))
        no_medium("WRITE(10) on %s while ejected" % name, write10(s, 5, bytes(BLOCK)))
        no_medium("READ CAPACITY(10) on %s while ejected" % name,
                  cmd(s, bytes([0x25] + [0] * 9), read_len=8))
        # REQUEST SENSE reports the condition as its data (GOOD status).
        status, data, _ = cmd(s, bytes([0x03, 0, 0, 0, 18, 0]), read_len=18)
        check(status == ic.STATUS_GOOD and data[2] & 0x0F == SK_NOT_READY and data[12] == 0x3A,
              "REQUEST SENSE on %s while ejected: status 0x%02x data %s"
              % (name, status, data[:14].hex()))
        status, inq, _ = cmd(s, bytes([0x12, 0, 0, 0, 36, 0]), read_len=36)
        check(status == ic.STATUS_GOOD, "INQUIRY on %s while ejected: 0x%02x" % (name, status))
        status, _, sense = cmd(s, bytes([0x1A, 0x08, 0x3F, 0, 255, 0]), read_len=255)
        check(status == ic.STATUS_GOOD, "MODE SENSE on %s while ejected: 0x%02x %s"
              % (name, status, sense))
    expect("a second eject", start_stop(b, start=False, loej=True), ic.STATUS_GOOD)
    print("ok  : eject: NOT READY / MEDIUM NOT PRESENT on both sessions, "
          "REQUEST SENSE and INQUIRY served", flush=True)

    expect("load from A", start_stop(a, start=True, loej=True), ic.STATUS_GOOD)
    expect("A after its own load", tur(a), ic.STATUS_GOOD)
    expect("B after A's load", tur(b), ic.STATUS_CHECK_CONDITION, MEDIUM_CHANGED)
    expect("B once the unit attention is reported", tur(b), ic.STATUS_GOOD)
    status, data, _ = read10(b, 5)
    check(status == ic.STATUS_GOOD and data == pattern,
          "what was written before the eject does not read back after the load")
    print("ok  : load: GOOD, the other session told NOT READY TO READY CHANGE, data kept",
          flush=True)


def prevention(t, a, b):
    expect("PREVENT from A", prevent(a, True), ic.STATUS_GOOD)
    expect("eject from B while A prevents", start_stop(b, False, True),
           ic.STATUS_CHECK_CONDITION, REMOVAL_PREVENTED)
    expect("eject from A while A prevents", start_stop(a, False, True),
           ic.STATUS_CHECK_CONDITION, REMOVAL_PREVENTED)
    expect("the medium is still there", tur(b), ic.STATUS_GOOD)
    expect("ALLOW from B", prevent(b, False), ic.STATUS_GOOD)
    expect("eject from B after B's ALLOW (A still prevents)", start_stop(b, False, True),
           ic.STATUS_CHECK_CONDITION, REMOVAL_PREVENTED)
    print("ok  : A's prevention blocks ejects from A and B; B's ALLOW does not lift it",
          flush=True)

    a.logout()
    expect("eject from B after A logged out", start_stop(b, False, True), ic.STATUS_GOOD)
    no_medium("TEST UNIT READY on B after its eject", tur(b))
    expect("PREVENT from B while ejected", prevent(b, True), ic.STATUS_GOOD)
    expect("load from B while B prevents", start_stop(b, True, True),
           ic.STATUS_CHECK_CONDITION, REMOVAL_PREVENTED)
    expect("ALLOW from B", prevent(b, False), ic.STATUS_GOOD)
    expect("load from B", start_stop(b, True, True), ic.STATUS_GOOD)
    print("ok  : A's logout cleared its prevention; a load is refused while prevented",
          flush=True)

    c = t.login(KEYS, False, False)
    expect("PREVENT from C", prevent(c, True), ic.STATUS_GOOD)
    expect("eject from B while C prevents", start_stop(b, False, True),
           ic.STATUS_CHECK_CONDITION, REMOVAL_PREVENTED)
    itt = b.send_tmf(TMF_LUN_RESET, lun=REMOVABLE_LUN)
    rsp = b.wait_tmf(itt)
    check(rsp == 0, "LOGICAL UNIT RESET: response %d" % rsp)
    for s in (b, c):
        for _ in range(3):
            if tur(s)[0] == ic.STATUS_GOOD:
                break
    expect("eject from B after the LUN reset", start_stop(b, False, True), ic.STATUS_GOOD)
    expect("load from C", start_stop(c, True, True), ic.STATUS_GOOD)
    expect("B after C's load", tur(b), ic.STATUS_CHECK_CONDITION, MEDIUM_CHANGED)
    c.logout()
    print("ok  : a LOGICAL UNIT RESET cleared C's prevention", flush=True)


def rpc(path, method, params):
    """One request to uscstd's management socket: (result, error)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                          "params": params}).encode() + b"\n")
    buf, dec = b"", json.JSONDecoder()
    while True:
        chunk = s.recv(65536)
        check(chunk, "%s: the management socket closed" % method)
        if not chunk:
            return None, None
        buf += chunk
        try:
            rsp, _ = dec.raw_decode(buf.decode().lstrip())
            break
        except ValueError:
            continue
    s.close()
    return rsp.get("result"), rsp.get("error")


def management(path, t, a, b):
    _, err = rpc(path, "device.eject", {"device": "rdisk"})
    check(err is None, "device.eject: %s" % err)
    for name, s in (("A", a), ("B", b)):
        no_medium("TEST UNIT READY on %s after device.eject" % name, tur(s))
    _, err = rpc(path, "device.load", {"device": "rdisk"})
    check(err is None, "device.load: %s" % err)
    for name, s in (("A", a), ("B", b)):
        expect("%s after device.load" % name, tur(s), ic.STATUS_CHECK_CONDITION, MEDIUM_CHANGED)
        expect("%s once told" % name, tur(s), ic.STATUS_GOOD)
    expect("PREVENT from A", prevent(a, True), ic.STATUS_GOOD)
    _, err = rpc(path, "device.eject", {"device": "rdisk"})
    check(err is not None and "prevents" in err.get("message", ""),
          "device.eject while A prevents: %s" % err)
    expect("the medium is still there", tur(b), ic.STATUS_GOOD)
    expect("ALLOW from A", prevent(a, False), ic.STATUS_GOOD)
    _, err = rpc(path, "device.eject", {"device": "fdisk"})
    check(err is not None and "not removable" in err.get("message", ""),
          "device.eject of the fixed disk: %s" % err)
    print("ok  : device.eject and device.load: both sessions told; refused while "
          "prevented and for the fixed disk", flush=True)


def fixed_disk(a):
    status, inq, _ = cmd(a, bytes([0x12, 0, 0, 0, 36, 0]), FIXED_LUN, read_len=36)
    check(status == ic.STATUS_GOOD and inq[1] & 0x80 == 0, "fixed LUN: RMB is set")
    status, _, sense = start_stop(a, start=False, loej=True, lun=FIXED_LUN)
    check(status == ic.STATUS_CHECK_CONDITION and sense == (SK_ILLEGAL_REQUEST, 0x24, 0x00),
          "fixed LUN: eject: 0x%02x %s, expected INVALID FIELD IN CDB" % (status, sense))
    expect("fixed LUN: load", start_stop(a, True, True, FIXED_LUN), ic.STATUS_GOOD)
    expect("fixed LUN: PREVENT", prevent(a, True, FIXED_LUN), ic.STATUS_GOOD)
    expect("fixed LUN: stop", start_stop(a, False, False, FIXED_LUN), ic.STATUS_GOOD)
    expect("fixed LUN: ready after a stop", tur(a, FIXED_LUN), ic.STATUS_GOOD)
    expect("fixed LUN: ALLOW", prevent(a, False, FIXED_LUN), ic.STATUS_GOOD)
    print("ok  : fixed LUN: RMB 0, eject refused, load, PREVENT and stop GOOD", flush=True)


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__)
        return 2
    t = Target(int(sys.argv[1]), sys.argv[2], sys.argv[3])
    a = t.login(KEYS, False, False)
    b = t.login(KEYS, False, False)
    for s in (a, b):
        for lun in (REMOVABLE_LUN, FIXED_LUN):
            check(any(tur(s, lun)[0] == ic.STATUS_GOOD for _ in range(3)),
                  "LUN %d is not ready" % lun)
    status, inq, _ = cmd(a, bytes([0x12, 0, 0, 0, 36, 0]), read_len=36)
    check(status == ic.STATUS_GOOD and inq[1] & 0x80, "removable LUN: INQUIRY RMB is not 1")

    fixed_disk(a)
    eject_load_cycle(a, b)
    prevention(t, a, b)
    if len(sys.argv) == 5:
        a = t.login(KEYS, False, False)
        for _ in range(3):
            if tur(a)[0] == ic.STATUS_GOOD:
                break
        management(sys.argv[4], t, a, b)
        a.logout()
    b.logout()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("removable: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
