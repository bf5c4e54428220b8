#!/usr/bin/env python3
"""ALUA on the wire (issue 7), alua.sh's configuration: device disk0 at LUN
0 of targets TA (rel_tgt_id 1, target group ga, group_id 1) and TB
(rel_tgt_id 2, group gb, group_id 2) of device group dg (tpgs both,
implicit_transition_time 2, on_stpg records its arguments). Sessions:
A = INI_A through TA; B = INI_A (another ISID) and C = INI_B through TB.

usage: alua.py PORT PID LOG WORKDIR TA TB INI_A INI_B [--states-only STATE_A STATE_B]
"""
import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

PORT, PID = int(sys.argv[1]), int(sys.argv[2])
LOG, WORKDIR, TA, TB, INI_A, INI_B = sys.argv[3:9]
KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
        ("MaxBurstLength", "262144")]
GOOD, CHECK_CONDITION = 0x00, 0x02
NOT_READY, ILLEGAL_REQUEST, UNIT_ATTENTION, HARDWARE_ERROR = 0x2, 0x5, 0x6, 0x4
STANDBY = (NOT_READY, 0x04, 0x0B)
UNAVAILABLE = (NOT_READY, 0x04, 0x0C)
TRANSITION = (NOT_READY, 0x04, 0x0A)
OFFLINE = (NOT_READY, 0x04, 0x12)
STATE_CHANGED = (UNIT_ATTENTION, 0x2A, 0x06)
POWER_ON = (UNIT_ATTENTION, 0x29, 0x00)
PARAM_LEN_ERROR = (ILLEGAL_REQUEST, 0x1A, 0x00)
INVALID_PARAM = (ILLEGAL_REQUEST, 0x26, 0x00)
INVALID_OPCODE = (ILLEGAL_REQUEST, 0x20, 0x00)
STPG_FAILED = (HARDWARE_ERROR, 0x67, 0x0A)
STATE_CODES = {"active": 0, "nonoptimized": 1, "standby": 2, "unavailable": 3,
               "offline": 0xE, "transitioning": 0xF}
HOOK_LOG = os.path.join(WORKDIR, "on_stpg.log")
failures = []

TUR = bytes(6)
INQUIRY = bytes([0x12, 0, 0, 0, 96, 0])
VPD83 = bytes([0x12, 1, 0x83, 0, 255, 0])
READ_CAPACITY = bytes([0x25] + [0] * 9)
MODE_SENSE = bytes([0x1A, 0, 0x3F, 0, 255, 0])
REPORT_LUNS = bytes([0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
REQUEST_SENSE = bytes([0x03, 0, 0, 0, 96, 0])
READ10 = bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0])
WRITE10 = bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0])
PRIN_READ_KEYS = bytes([0x5E, 0, 0, 0, 0, 0, 0, 0, 64, 0])


def check(cond, what):
    print(("ok  : " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def login(initiator, target, isid_last):
    s = ic.Session(PORT)
    s.login(initiator, target, bytes([0x80, 0, 0x07, 0x1b, 0, isid_last]), KEYS)
    return s


def cmd(s, cdb, read_len=0, data=b"", edtl=None):
    """(status, data, (key, asc, ascq) or None, raw sense)."""
    itt, _ = s.send_scsi(cdb, edtl=edtl if edtl is not None else (read_len or len(data)),
                         read=read_len > 0, write=bool(data), data=data)
    buf = bytearray(read_len)
    status, rsp = s.wait_response(itt, read_buf=buf if read_len else None)
    raw = rsp[2:2 + struct.unpack(">H", rsp[:2])[0]] if len(rsp) >= 2 else b""
    return status, bytes(buf), ic.sense_key_asc(rsp), raw


def expect(s, name, cdb, want, what, read_len=0, data=b""):
    """@want: GOOD or a (key, asc, ascq) the command ends with."""
    st, _, sense, _ = cmd(s, cdb, read_len=read_len, data=data)
    if want == GOOD:
        return check(st == GOOD, "%s: %s GOOD (got status %#x, %s)" % (name, what, st,
                                                                      fmt(sense)))
    return check(st == CHECK_CONDITION and sense == want,
                 "%s: %s -> %s (got status %#x, %s)" % (name, what, fmt(want), st, fmt(sense)))


def fmt(sense):
    return "%x/%02x/%02x" % sense if sense else "no sense"


def rtpg(s, extended=False, alloc=1024):
    cdb = bytes([0xA3, 0x0A | (0x20 if extended else 0), 0, 0, 0, 0]) + \
        alloc.to_bytes(4, "big") + bytes(2)
    st, d, sense, _ = cmd(s, cdb, read_len=alloc)
    check(st == GOOD, "RTPG (%s format) GOOD" % ("extended" if extended else "length"))
    return d


def parse_rtpg(d, extended=False):
    """{group_id: (state, pref, status, [rel_tgt_ids])}, header info."""
    total = struct.unpack(">I", d[:4])[0] + 4
    at, hdr = 4, {}
    if extended:
        hdr = {"format": d[4], "time": d[5]}
        at = 8
    groups = {}
    while at < total:
        state, pref = d[at] & 0x0F, bool(d[at] & 0x80)
        gid = struct.unpack(">H", d[at + 2:at + 4])[0]
        status, n = d[at + 5], d[at + 7]
        ports = [struct.unpack(">H", d[at + 8 + 4 * i + 2:at + 8 + 4 * i + 4])[0]
                 for i in range(n)]
        groups[gid] = (state, pref, status, ports, d[at + 1])
        at += 8 + 4 * n
    return groups, hdr, total


def states(s):
    g, _, _ = parse_rtpg(rtpg(s))
    return {gid: v[0] for gid, v in g.items()}


def stpg_cdb(length):
    return bytes([0xA4, 0x0A, 0, 0, 0, 0]) + length.to_bytes(4, "big") + bytes(2)


def stpg_list(*changes):
    out = bytes(4)
    for gid, state in changes:
        out += bytes([state, 0]) + gid.to_bytes(2, "big")
    return out


def stpg(s, *changes, raw=None, length=None):
    data = raw if raw is not None else stpg_list(*changes)
    return cmd(s, stpg_cdb(length if length is not None else len(data)), data=data,
               edtl=len(data))


def hook_entries():
    try:
        return open(HOOK_LOG).read().count("args: ")
    except FileNotFoundError:
        return 0


def sighup_and_wait(what):
    before = open(LOG, errors="replace").read().count("reload of ")
    os.kill(PID, signal.SIGHUP)
    for _ in range(100):
        text = open(LOG, errors="replace").read()
        if text.count("reload of ") > before:
            return check(" done" in text.split("reload of ")[-1].split("\n")[0],
                         "SIGHUP reload (%s) done" % what)
        time.sleep(0.1)
    return check(False, "no reload in the log 10 s after SIGHUP (%s)" % what)


def reload_with(name, what):
    conf = os.path.join(WORKDIR, "scst.conf")
    src = os.path.join(WORKDIR, name)
    open(conf, "w").write(open(src).read())
    sighup_and_wait(what)


def field_pointer(raw):
    """(C/D, BPV, bit, byte) of fixed-format sense's SKSV field, or None."""
    if len(raw) < 18 or not raw[15] & 0x80:
        return None
    return bool(raw[15] & 0x40), bool(raw[15] & 0x08), raw[15] & 7, (raw[16] << 8) | raw[17]


def states_only(want_a, want_b):
    a = login(INI_A, TA, 9)
    cmd(a, TUR)
    got = states(a)
    check(got == {1: STATE_CODES[want_a], 2: STATE_CODES[want_b]},
          "after the refused reloads: RTPG says ga %s, gb %s (%s)" % (want_a, want_b, got))
    a.logout()


def main():
    if len(sys.argv) > 9 and sys.argv[9] == "--states-only":
        states_only(sys.argv[10], sys.argv[11])
        return
    a, b, c = login(INI_A, TA, 1), login(INI_A, TB, 2), login(INI_B, TB, 3)
    # ---- the power-on UA comes before the standby refusal (UA first)
    expect(b, "B", TUR, POWER_ON, "first TEST UNIT READY through standby TB reports POWER ON")
    expect(b, "B", TUR, STANDBY, "TEST UNIT READY through standby TB")
    expect(c, "C", TUR, POWER_ON, "first TEST UNIT READY")
    expect(a, "A", TUR, POWER_ON, "first TEST UNIT READY")
    expect(a, "A", TUR, GOOD, "TEST UNIT READY through active TA")

    # ---- INQUIRY: TPGS, VPD 0x83 designators per port
    for name, s, rel, tpg in (("A", a, 1, 1), ("B", b, 2, 2)):
        st, d, _, _ = cmd(s, INQUIRY, read_len=96)
        check(st == GOOD and d[5] & 0x30 == 0x30, "%s: standard INQUIRY TPGS 11b (byte 5 %#x)"
              % (name, d[5]))
        st, d, _, _ = cmd(s, VPD83, read_len=255)
        at, found = 4, {}
        while at + 4 <= 4 + struct.unpack(">H", d[2:4])[0]:
            found[d[at + 1] & 0x3F] = d[at + 4:at + 4 + d[at + 3]]
            at += 4 + d[at + 3]
        check(found.get(0x14) == bytes([0, 0]) + rel.to_bytes(2, "big"),
              "%s: VPD 0x83 relative target port %d" % (name, rel))
        check(found.get(0x15) == bytes([0, 0]) + tpg.to_bytes(2, "big"),
              "%s: VPD 0x83 target port group %d" % (name, tpg))

    # ---- RTPG, both formats, and allocation lengths
    d = rtpg(a)
    g, _, total = parse_rtpg(d)
    check(total == 4 + 2 * 12, "RTPG: 28 bytes for two groups of one port (%d)" % total)
    check(g.get(1) == (0, True, 0, [1], 0xCF), "RTPG: group 1 active, preferred, port 1 (%s)"
          % (g.get(1),))
    check(g.get(2) == (2, False, 0, [2], 0xCF), "RTPG: group 2 standby, port 2 (%s)"
          % (g.get(2),))
    d = rtpg(b, extended=True)
    g2, hdr, total = parse_rtpg(d, extended=True)
    check(hdr == {"format": 0x10, "time": 2} and total == 32 and g2 == g,
          "RTPG extended: format 1, IMPLICIT TRANSITION TIME 2, same groups (%s)" % hdr)
    d = rtpg(a, alloc=4)
    check(struct.unpack(">I", d[:4])[0] == 24, "RTPG with 4 bytes: the full length, 24")

    # ---- standby (TB): what it serves and what it refuses
    for what, cdb, rl in (("INQUIRY", INQUIRY, 96), ("READ CAPACITY(10)", READ_CAPACITY, 8),
                          ("MODE SENSE(6)", MODE_SENSE, 255), ("REPORT LUNS", REPORT_LUNS, 256),
                          ("REQUEST SENSE", REQUEST_SENSE, 96),
                          ("PERSISTENT RESERVE IN (READ KEYS)", PRIN_READ_KEYS, 64)):
        expect(b, "B", cdb, GOOD, "standby serves " + what, read_len=rl)
    expect(b, "B", READ10, STANDBY, "standby refuses READ(10)", read_len=512)
    expect(b, "B", WRITE10, STANDBY, "standby refuses WRITE(10)", data=bytes(512))
    expect(a, "A", READ10, GOOD, "active serves READ(10)", read_len=512)

    # ---- bad STPG parameter lists: the exact sense, nothing changed
    before = states(a)
    st, _, sense, _ = stpg(a, raw=bytes(6))
    check(st == CHECK_CONDITION and sense == PARAM_LEN_ERROR,
          "STPG of 6 bytes: PARAMETER LIST LENGTH ERROR (%s)" % fmt(sense))
    st, _, sense, raw = stpg(a, (2, 0xF))
    check(st == CHECK_CONDITION and sense == INVALID_PARAM and
          field_pointer(raw) == (False, True, 3, 4),
          "STPG to transitioning: INVALID FIELD IN PARAMETER LIST at byte 4 bit 3 (%s %s)"
          % (fmt(sense), field_pointer(raw)))
    st, _, sense, raw = stpg(a, (2, 0), (9, 0))
    check(st == CHECK_CONDITION and sense == INVALID_PARAM and
          field_pointer(raw) == (False, False, 0, 10),
          "STPG of unknown group 9: INVALID FIELD IN PARAMETER LIST at byte 10 (%s %s)"
          % (fmt(sense), field_pointer(raw)))
    st, _, sense, _ = stpg(a, raw=b"", length=4 + 4 * 65)
    check(st == CHECK_CONDITION and sense == PARAM_LEN_ERROR,
          "STPG announcing 264 bytes: PARAMETER LIST LENGTH ERROR (%s)" % fmt(sense))
    check(states(a) == before, "after the bad lists the states are as before")
    check(hook_entries() == 0, "no bad list ran on_stpg")
    expect(c, "C", TUR, STANDBY, "no unit attention after the bad lists")

    # ---- the hook says no: HARDWARE ERROR, nothing changed
    open(os.path.join(WORKDIR, "hook_exit"), "w").write("1\n")
    st, _, sense, _ = stpg(a, (2, 0))
    check(st == CHECK_CONDITION and sense == STPG_FAILED,
          "STPG refused by on_stpg (exit 1): SET TARGET PORT GROUPS COMMAND FAILED (%s)"
          % fmt(sense))
    os.unlink(os.path.join(WORKDIR, "hook_exit"))
    check(hook_entries() == 1, "on_stpg ran once")
    check(states(a) == before, "after the refused STPG the states are as before")
    expect(c, "C", TUR, STANDBY, "no unit attention after the refused STPG")

    # ---- STPG through standby TB: gb active; the hook's arguments
    st, _, sense, _ = stpg(b, (2, 0))
    check(st == GOOD, "B: STPG gb -> active GOOD (%s)" % fmt(sense))
    log = open(HOOK_LOG).read().split("args: ")[-1]
    for line in ("dg gb=active", "initiator: " + INI_A, "target: " + TB, "rel_tgt_id: 2",
                 "device: disk0", "previous: gb=standby"):
        check(line in log, "on_stpg got '%s'" % line)
    expect(b, "B", TUR, GOOD, "the STPG's own nexus: no unit attention, active now")
    expect(c, "C", TUR, STATE_CHANGED, "another nexus of TB: ASYMMETRIC ACCESS STATE CHANGED")
    expect(c, "C", TUR, GOOD, "then active")
    expect(a, "A", TUR, GOOD, "TA did not change: no unit attention")
    g, _, _ = parse_rtpg(rtpg(a))
    check(g[2][0] == 0 and g[2][2] == 1, "RTPG: gb active, STATUS CODE 1 (by STPG) (%s)"
          % (g[2],))
    # A second STPG of the device group while the hook of the first runs:
    # BUSY; the first completes, and its own nexus keeps serving meanwhile.
    open(os.path.join(WORKDIR, "hook_sleep"), "w").write("2\n")
    data = stpg_list((2, 0))
    itt, _ = b.send_scsi(stpg_cdb(len(data)), edtl=len(data), write=True, data=data)
    time.sleep(0.5)
    st, _, sense, _ = stpg(c, (2, 0))
    check(st == 0x08, "C: STPG while B's hook runs: BUSY (status %#x)" % st)
    expect(a, "A", TUR, GOOD, "A is served while the hook runs")
    st, rsp = b.wait_response(itt)
    check(st == GOOD, "B: the STPG whose hook slept 2 s GOOD (status %#x)" % st)
    os.unlink(os.path.join(WORKDIR, "hook_sleep"))
    expect(c, "C", TUR, GOOD, "C: no second unit attention (gb was active already)")

    # Active/non-optimized serves everything.
    st, _, _, _ = stpg(b, (2, 1))
    check(st == GOOD, "B: STPG gb -> nonoptimized GOOD")
    check(states(a) == {1: 0, 2: 1}, "RTPG: gb nonoptimized")
    expect(c, "C", TUR, STATE_CHANGED, "C: ASYMMETRIC ACCESS STATE CHANGED (nonoptimized)")
    expect(c, "C", WRITE10, GOOD, "nonoptimized serves WRITE(10)", data=bytes(512))
    expect(c, "C", READ10, GOOD, "nonoptimized serves READ(10)", read_len=512)
    # From A, for TB's group: A's port is unchanged, B and C are told.
    st, _, _, _ = stpg(a, (2, 2))
    check(st == GOOD, "A: STPG gb -> standby GOOD")
    expect(a, "A", TUR, GOOD, "A: no unit attention (its port did not change)")
    expect(b, "B", TUR, STATE_CHANGED, "B: ASYMMETRIC ACCESS STATE CHANGED")
    expect(b, "B", TUR, STANDBY, "B: standby again")
    expect(c, "C", TUR, STATE_CHANGED, "C: ASYMMETRIC ACCESS STATE CHANGED")

    # ---- reload: ga unavailable, through transitioning for 2 s
    reload_with("scst_unavailable.conf", "ga unavailable")
    t0 = time.monotonic()
    expect(a, "A", TUR, TRANSITION, "during the implicit transition")
    g, _, _ = parse_rtpg(rtpg(a))
    check(g[1][0] == 0xF, "RTPG during the transition: ga transitioning")
    expect(a, "A", READ_CAPACITY, GOOD, "transitioning serves READ CAPACITY", read_len=8)
    expect(a, "A", MODE_SENSE, TRANSITION, "transitioning refuses MODE SENSE", read_len=255)
    expect(c, "C", TUR, STANDBY, "TB unchanged by the reload: no unit attention")
    check(time.monotonic() - t0 < 1.8, "those checks took less than the transition time")
    time.sleep(max(0, 2.5 - (time.monotonic() - t0)))
    expect(a, "A", TUR, STATE_CHANGED, "after the transition: ASYMMETRIC ACCESS STATE CHANGED")
    expect(a, "A", TUR, UNAVAILABLE, "unavailable")
    expect(a, "A", READ_CAPACITY, GOOD, "unavailable serves READ CAPACITY", read_len=8)
    expect(a, "A", INQUIRY, GOOD, "unavailable serves INQUIRY", read_len=96)
    expect(a, "A", MODE_SENSE, UNAVAILABLE, "unavailable refuses MODE SENSE", read_len=255)
    expect(a, "A", WRITE10, UNAVAILABLE, "unavailable refuses WRITE(10)", data=bytes(512))
    g, _, _ = parse_rtpg(rtpg(a))
    check(g[1][0] == 3 and g[1][2] == 2, "RTPG: ga unavailable, STATUS CODE 2 (implicit) (%s)"
          % (g[1],))
    expect(b, "B", TUR, STANDBY, "B: no unit attention for TA's change")

    # ---- offline
    reload_with("scst_offline.conf", "ga offline")
    time.sleep(2.5)
    expect(a, "A", TUR, STATE_CHANGED, "offline: ASYMMETRIC ACCESS STATE CHANGED")
    expect(a, "A", TUR, OFFLINE, "offline refuses TEST UNIT READY")
    expect(a, "A", READ_CAPACITY, OFFLINE, "offline refuses READ CAPACITY", read_len=8)
    expect(a, "A", INQUIRY, GOOD, "offline serves INQUIRY", read_len=96)
    # An offline port may still be brought back by STPG.
    st, _, sense, _ = stpg(a, (1, 0))
    check(st == GOOD, "A: STPG ga -> active through the offline port (%s)" % fmt(sense))
    expect(a, "A", TUR, GOOD, "A: active, no unit attention for the STPG's sender")
    expect(b, "B", TUR, STANDBY, "B: TB unchanged, no unit attention")

    rsoc_stpg = bytes([0xA3, 0x0C, 0x02, 0xA4, 0x00, 0x0A, 0, 0, 0, 64, 0, 0])
    st, d, sense, _ = cmd(a, rsoc_stpg, read_len=64)
    check(st == GOOD and d[1] & 0x07 == 3,
          "explicit ALUA: RSOC reports STPG supported (%s, SUPPORT %d)"
          % (fmt(sense), d[1] & 0x07))

    # ---- tpgs implicit: no STPG; INQUIRY says so
    reload_with("scst_implicit.conf", "tpgs implicit")
    st, d, _, _ = cmd(a, INQUIRY, read_len=96)
    check(d[5] & 0x30 == 0x10, "tpgs implicit: INQUIRY TPGS 01b (%#x)" % d[5])
    st, _, sense, _ = stpg(a, (1, 0))
    check(st == CHECK_CONDITION and sense == INVALID_OPCODE,
          "tpgs implicit: STPG is INVALID COMMAND OPERATION CODE (%s)" % fmt(sense))
    # REPORT SUPPORTED OPERATION CODES agrees (one command, MAINTENANCE
    # OUT / SET TARGET PORT GROUPS): SUPPORT 001b, not supported.
    rsoc_stpg = bytes([0xA3, 0x0C, 0x02, 0xA4, 0x00, 0x0A, 0, 0, 0, 64, 0, 0])
    st, d, sense, _ = cmd(a, rsoc_stpg, read_len=64)
    check(st == GOOD and d[1] & 0x07 == 1,
          "tpgs implicit: RSOC reports STPG not supported (%s, SUPPORT %d)"
          % (fmt(sense), d[1] & 0x07))
    expect(a, "A", TUR, GOOD, "an unchanged state line keeps STPG's state (active)")

    # ---- a port of another node in gb
    reload_with("scst_remote.conf", "a remote port in gb")
    g, _, _ = parse_rtpg(rtpg(a))
    check(g[2][3] == [2, 7], "RTPG lists the remote port's rel_tgt_id 7 in gb (%s)"
          % (g[2][3],))

    # ---- configured transitioning stays; STPG of it is refused
    reload_with("scst_transitioning.conf", "ga transitioning")
    expect(a, "A", TUR, TRANSITION, "ga configured transitioning")
    st, _, sense, _ = stpg(a, (1, 0))
    check(st == CHECK_CONDITION and sense == TRANSITION,
          "STPG of a group in transition: ASYMMETRIC ACCESS STATE TRANSITION (%s)"
          % fmt(sense))
    time.sleep(2.5)
    expect(a, "A", TUR, TRANSITION, "still transitioning 2.5 s later (no timer for it)")

    # ---- back to the first file: ga active after 2 s of transition
    reload_with("scst.conf.orig", "back to the first file")
    expect(a, "A", TUR, TRANSITION, "on the way back: transitioning")
    time.sleep(2.5)
    expect(a, "A", TUR, STATE_CHANGED, "back: ASYMMETRIC ACCESS STATE CHANGED")
    expect(a, "A", TUR, GOOD, "back: active")
    check(states(a) == {1: 0, 2: 2}, "RTPG: ga active, gb standby")
    for s in (a, b, c):
        s.logout()


if __name__ == "__main__":
    main()
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("alua.py: all checks passed")
