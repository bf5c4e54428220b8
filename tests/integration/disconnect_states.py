#!/usr/bin/env python3
"""The connection closes while a command is in each of its states (issue
5, section 2: "a command that was created always reaches FINISHED").

usage: disconnect_states.py PORT TARGET_IQN USCSTD_PID

Each state has its own initiator, ISID and LUN (1..7; LUN 5, state e's,
is a fileio LUN with write_through), so that a leak in one state does not hang the
checks of the next:
  a. held behind a CmdSN gap (CmdSN = ExpCmdSN + 1);
  b. waiting for Data-Out after its R2T;
  c. in the middle of its immediate data (a valid WRITE, F=1, 64 KiB
     announced, 20000 bytes sent);
  d. in the middle of its data digest (DataDigest=CRC32C, all data sent,
     2 of the 4 digest bytes);
  e. executing (16 WRITEs of 1 MiB to the write_through LUN; closed once
     the first has its response);
  f. with its responses queued and never read (SO_RCVBUF 4 KiB set
     before connect, eight 1 MiB READs; closed once the first Data-In
     bytes are there);
  g. a SCSI Command PDU (a WRITE with immediate data) right behind a
     Logout Request in the same send.
After each, at once: the same InitiatorName and ISID log in again within
5 s and get TEST UNIT READY answered (today some states leave the old
session forever and every later login gets 0x0301), and a LOGICAL UNIT
RESET of that state's LUN from another session is answered within 2 s.
The shell then runs check_liveness for each state's initiator (the state
dump shows no session and no active command left).
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import (BLOCK, IMMEDIATE_KEYS, KiB, MiB, R2T_KEYS, args, check,  # noqa: E402
                     finish, login, measured, ok, pattern, phase, ping)

OTHER = "iqn.2026-11.test:disc-other"
STATES = "abcdefg"


def initiator(state):
    return "iqn.2026-11.test:disc-" + state


def isid(state):
    return bytes.fromhex("80000000e0%02x" % (STATES.index(state) + 1))


def lun(state):
    return STATES.index(state) + 1


def wcdb(lba, length):
    return struct.pack(">BBIBHB", 0x2A, 0, lba, 0, length // BLOCK, 0)


def state_a(s, k):
    gap = s.cmd_sn
    s.cmd_sn += 2
    s.send_read10(0, 4096, lun=k, cmd_sn=gap + 1)
    check(not ping(s), "a: a response came for a held command")


def state_b(s, k):
    itt, _ = s.send_scsi(wcdb(0, MiB), edtl=MiB, write=True, lun=k)
    r2t = s.recv_pdu()
    check(r2t.opcode == ic.OP_R2T and r2t.itt == itt, "b: expected an R2T, got %r" % r2t)


def state_c(s, k):
    s.send_scsi(wcdb(0, 64 * KiB), edtl=64 * KiB, write=True, lun=k, announce_len=64 * KiB,
                data=os.urandom(20000))


def state_d(s, k):
    data = os.urandom(64 * KiB)
    s.send_scsi(wcdb(0, len(data)), edtl=len(data), write=True, lun=k, announce_len=len(data),
                data=data + ic.digest_bytes(data)[:2])


def state_e(s, k):
    data = pattern(41, MiB)
    itts = set(s.send_write10(i * MiB // BLOCK, data, lun=k)[0] for i in range(16))
    first = s.collect(set(itts), until=lambda p: p.opcode == ic.OP_SCSI_RSP)
    check(first == [], "e: unexpected completions %r" % first)


def state_f(s, k):
    for i in range(8):
        s.send_read10(i * MiB // BLOCK, MiB, lun=k)
    # The target has started sending: Data-In bytes are waiting for us.
    s.sock.settimeout(20)
    check(len(s.sock.recv(1, socket.MSG_PEEK)) == 1, "f: no Data-In came")


def state_g(s, k):
    lo_itt, cmd_itt = s.next_itt(), s.next_itt()
    logout = ic.bhs(ic.OP_LOGOUT_REQ | ic.IMMEDIATE, ic.FINAL, lo_itt, word24=s.cmd_sn,
                    word28=s.exp_stat_sn)
    data = os.urandom(4096)
    cmd = ic.bhs(ic.OP_SCSI_CMD, ic.FINAL | 0x20 | ic.ATTR_SIMPLE, cmd_itt, lun=k, word20=4096,
                 word24=s.cmd_sn, word28=s.exp_stat_sn, rest=wcdb(0, 4096) + b"\0" * 6)
    cmd[5:8] = (4096).to_bytes(3, "big")
    s.sock.sendall(bytes(logout) + bytes(cmd) + data)
    s.cmd_sn += 1
    rsp = s.recv_pdu()
    check(rsp.opcode == ic.OP_LOGOUT_RSP, "g: expected the Logout Response, got %r" % rsp)


STATE_FN = {"a": (state_a, IMMEDIATE_KEYS), "b": (state_b, R2T_KEYS),
            "c": (state_c, IMMEDIATE_KEYS),
            "d": (state_d, [("HeaderDigest", "None"), ("DataDigest", "CRC32C")] + IMMEDIATE_KEYS),
            "e": (state_e, IMMEDIATE_KEYS), "f": (state_f, IMMEDIATE_KEYS),
            "g": (state_g, IMMEDIATE_KEYS)}
KEYS_NO_DIGEST = [("HeaderDigest", "None"), ("DataDigest", "None")]


def after(state, k):
    """Another session's LUN RESET of LUN @k is answered within 2 s; the
    same initiator and ISID log in again at once."""
    other = login(OTHER, bytes.fromhex("80000000e0ff"), timeout=5)
    t0 = time.monotonic()
    other.sock.settimeout(2)
    try:
        rsp = other.wait_tmf(other.send_tmf(ic.TMF_LUN_RESET, lun=k))
        measured("%s: another session's LUN RESET of LUN %d answered %d after %.3f s"
                 % (state, k, rsp, time.monotonic() - t0))
        check(rsp == ic.TMF_RSP_COMPLETE, "%s: LUN RESET answered %d" % (state, rsp))
        other.sock.settimeout(20)
        other.logout()
    except socket.timeout:
        check(False, "%s: another session's LUN RESET of LUN %d not answered within 2 s"
              % (state, k))
        other.close()
    t0 = time.monotonic()
    try:
        s = login(initiator(state), isid(state), keys=KEYS_NO_DIGEST + IMMEDIATE_KEYS, timeout=5)
    except socket.timeout:
        check(False, "%s: the login with the same InitiatorName and ISID got no answer within "
              "5 s" % state)
        # What a second try gets (0x0301 when the first left its mark).
        try:
            login(initiator(state), isid(state), keys=IMMEDIATE_KEYS, timeout=5).logout()
            measured("%s: a second login succeeded" % state)
        except (OSError, ic.ProtocolError, ic.ConnectionClosed) as e:
            measured("%s: a second login: %s" % (state, e))
        return
    measured("%s: the same InitiatorName and ISID logged in again after %.3f s"
             % (state, time.monotonic() - t0))
    check(s.ready(others=[]), "%s: the new session's TEST UNIT READY is never GOOD" % state)
    s.logout()


def main():
    args(__doc__)
    for state in STATES:
        k = lun(state)
        fn, keys = STATE_FN[state]
        with phase("%s: connection closes in state %s (%s)" % (state, state, fn.__name__)):
            if state != "d":
                keys = KEYS_NO_DIGEST + keys
            rcvbuf = 4096 if state == "f" else None
            s = login(initiator(state), isid(state), keys=keys, rcvbuf=rcvbuf)
            fn(s, k)
            s.close()
            ok("%s: closed" % state)
        with phase("%s: same initiator and ISID again, LUN RESET from another session"
                   % state):
            after(state, k)
    finish()


if __name__ == "__main__":
    main()
