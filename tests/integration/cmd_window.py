#!/usr/bin/env python3
"""MaxCmdSN is a real window (issue 5, sections 2 and 3; RFC 7143
4.2.2.1), with the target's QueuedCommands set to 8 by the shell.

usage: cmd_window.py PORT TARGET_IQN USCSTD_PID

Commands are kept outstanding deterministically: WRITEs with every byte
solicited (InitialR2T=Yes, ImmediateData=No) stay in the target until we
send the Data-Out their R2T asks for, and each R2T carries MaxCmdSN.
1. The window: with k commands outstanding, MaxCmdSN = ExpCmdSN + (8 - k)
   - 1 (in the Login Response, k = 0; in the R2T of the k-th WRITE; in the
   R2T of a WRITE sent after one of them completed).
2. Immediate commands count: with an immediate WRITE among the k
   outstanding, MaxCmdSN = ExpCmdSN + (8 - k) - 1 (seen once another
   command ends: a window once offered is never taken back).
3. A command beyond MaxCmdSN is dropped: never answered, and its CmdSN
   not consumed (ExpCmdSN stays; the same CmdSN is accepted later).
4. Two commands claiming the same CmdSN (both held behind a gap): a
   protocol error, answered with a Reject or by closing the connection,
   not a command left behind forever.
5. NOP-Out, Text, TMF and Logout without the I bit take their place in
   the CmdSN sequence: one sent with CmdSN = ExpCmdSN + 1 is answered
   only once the gap is filled, and ExpCmdSN then moves past both (so
   the session goes on with the next CmdSN).
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import (BLOCK, KiB, R2T_KEYS, args, check, finish, login, measured,  # noqa: E402
                     ok, pattern, phase, ping)

N = 8  # QueuedCommands in the shell's scst.conf
INITIATOR = "iqn.2026-11.test:window"
ISID = bytes.fromhex("800000001001")
SIZE = 64 * KiB


def write_cmd(s, n, immediate=False):
    """A WRITE at block n*128 waiting for its R2T; returns (itt, R2T)."""
    cdb = struct.pack(">BBIBHB", 0x2A, 0, n * (SIZE // BLOCK), 0, SIZE // BLOCK, 0)
    itt, _ = s.send_scsi(cdb, edtl=SIZE, write=True, immediate=immediate)
    r2t = s.recv_pdu()
    if r2t.opcode != ic.OP_R2T or r2t.itt != itt:
        raise ic.ProtocolError("expected the R2T of ITT 0x%x, got %r" % (itt, r2t))
    return itt, r2t


def complete(s, itt, r2t):
    """Sends the data @r2t asks for; returns the WRITE's status."""
    s._send_data_out(itt, r2t.u32(20), pattern(itt, SIZE), r2t.u32(40), r2t.u32(44), None, [0])
    return s.collect({itt}, others=[])[0][1]


def window_of(pdu):
    """(ExpCmdSN, MaxCmdSN) a PDU carries."""
    return pdu.u32(28), pdu.u32(32)


def check_window(s, r2t, outstanding, what):
    """The R2T of the command just sent acknowledges it (ExpCmdSN is the
    next CmdSN we would use: we send in order) and opens the window by
    QueuedCommands - outstanding. Returns its MaxCmdSN."""
    exp, mx = window_of(r2t)
    want = (s.cmd_sn + (N - outstanding) - 1) & 0xFFFFFFFF
    check(exp == s.cmd_sn, "%s: ExpCmdSN %d, want %d (the command is received)"
          % (what, exp, s.cmd_sn))
    check(mx == want, "%s: %d outstanding, MaxCmdSN %d, want ExpCmdSN %d + (%d - %d) - 1 = %d"
          % (what, outstanding, mx, s.cmd_sn, N, outstanding, want))
    return mx


def test_window():
    s = login(INITIATOR, ISID, keys=R2T_KEYS)
    ping(s)
    exp0 = s.exp_cmd_sn
    # The ping's own NOP-In may count it as outstanding (RFC 7143 calls
    # every request a command): either value is right for an idle session.
    check(s.max_cmd_sn in (exp0 + N - 1, exp0 + N - 2), "idle session: MaxCmdSN %d, want "
          "ExpCmdSN %d + %d - 1" % (s.max_cmd_sn, exp0, N))
    pending = []
    for k in range(1, N):
        itt, r2t = write_cmd(s, k)
        pending.append((itt, r2t))
        mx = check_window(s, r2t, k, "WRITE %d" % k)
    measured("with %d WRITEs outstanding: ExpCmdSN %d, MaxCmdSN %d (want %d)"
             % (N - 1, s.cmd_sn, mx, s.cmd_sn + (N - (N - 1)) - 1))
    # 2. An immediate WRITE counts. A window once offered cannot be taken
    # back (the initiator ignores a MaxCmdSN that goes down), so it shows
    # when another command ends: N - 1 outstanding with the immediate one,
    # so the window must not open further than ExpCmdSN (it would be
    # ExpCmdSN + 1 if the immediate WRITE did not count).
    itt, r2t = write_cmd(s, N, immediate=True)
    pending.append((itt, r2t))
    check(complete(s, *pending.pop(0)) == ic.STATUS_GOOD, "a WRITE failed")
    ping(s)
    check(s.max_cmd_sn == s.cmd_sn, "immediate commands count: %d outstanding (one of them "
          "immediate), MaxCmdSN %d, want ExpCmdSN %d + (%d - %d) - 1 = %d"
          % (N - 1, s.max_cmd_sn, s.cmd_sn, N, N - 1, s.cmd_sn))
    measured("after an immediate WRITE and one completed (%d outstanding): ExpCmdSN %d, "
             "MaxCmdSN %d (want %d)" % (N - 1, s.cmd_sn, s.max_cmd_sn, s.cmd_sn))
    # One more WRITE fills the window: N outstanding, MaxCmdSN = ExpCmdSN - 1.
    itt, r2t = write_cmd(s, N + 1)
    pending.append((itt, r2t))
    check_window(s, r2t, N, "the window filled")
    # 3. Beyond the window: the next CmdSN is dropped, and not consumed.
    beyond = s.cmd_sn
    tur, _ = s.send_scsi(b"\0" * 6, cmd_sn=beyond)
    others = ping(s)
    if not check(s.exp_cmd_sn == beyond, "a TEST UNIT READY with CmdSN %d, beyond the window "
                 "(%d outstanding of %d), moved ExpCmdSN to %d (want %d: dropped, its CmdSN "
                 "not consumed)" % (beyond, N, N, s.exp_cmd_sn, beyond)):
        # It took the CmdSN: go on from there.
        s.cmd_sn = s.exp_cmd_sn
    for itt, r2t in pending:
        check(complete(s, itt, r2t) == ic.STATUS_GOOD, "a WRITE failed")
    others += ping(s)
    check(not any(p.itt == tur for p in others), "the TEST UNIT READY beyond the window was "
          "answered")
    if s.cmd_sn == beyond:
        # The same CmdSN, now inside the window, is a new command.
        tur2, _ = s.send_scsi(b"\0" * 6, cmd_sn=beyond)
        s.cmd_sn = beyond + 1
        done = s.collect({tur2}, others=others)
        check(done[0][1] == ic.STATUS_GOOD, "the CmdSN dropped before is not accepted later")
        check(not any(p.itt == tur for p in others), "the TEST UNIT READY beyond the window "
              "was answered late")
    s.logout()


def test_duplicate_cmdsn():
    s = login(INITIATOR, ISID, keys=R2T_KEYS)
    gap = s.cmd_sn
    s.cmd_sn = gap + 2
    s.send_scsi(b"\0" * 6, cmd_sn=gap + 1)
    s.send_scsi(b"\0" * 6, cmd_sn=gap + 1)
    fill, _ = s.send_scsi(b"\0" * 6, cmd_sn=gap)
    s.sock.settimeout(5)
    seen = []
    outcome = None
    try:
        while outcome is None:
            p = s.recv_pdu()
            seen.append(p)
            if p.opcode == ic.OP_REJECT:
                outcome = "Reject"
    except ic.ConnectionClosed:
        outcome = "connection closed"
    except socket.timeout:
        outcome = None
    answered = sum(1 for p in seen if p.opcode == ic.OP_SCSI_RSP)
    measured("two commands with CmdSN %d: %s (%d SCSI Responses seen)"
             % (gap + 1, outcome or "neither a Reject nor a close within 5 s", answered))
    check(outcome is not None, "two commands with the same CmdSN: no Reject and the "
          "connection not closed within 5 s")
    s.close()


def gap_request(s, kind, cmd_sn):
    """Sends a non-immediate @kind request with @cmd_sn; returns a
    predicate matching its answer."""
    if kind == "NOP-Out":
        itt = s.send_nop(immediate=False, cmd_sn=cmd_sn)
        return lambda p: p.opcode == ic.OP_NOP_IN and p.itt == itt
    if kind == "Text":
        itt = s.send_text(immediate=False, cmd_sn=cmd_sn)
        return lambda p: p.opcode == ic.OP_TEXT_RSP and p.itt == itt
    if kind == "TMF":
        itt = s.send_tmf(ic.TMF_ABORT_TASK_SET, immediate=False, cmd_sn=cmd_sn)
        return lambda p: p.opcode == ic.OP_TMF_RSP and p.itt == itt
    itt = s.send_logout(immediate=False, cmd_sn=cmd_sn)
    return lambda p: p.opcode == ic.OP_LOGOUT_RSP and p.itt == itt


def test_non_scsi_in_sequence(kind, n):
    s = login(INITIATOR, bytes.fromhex("8000000010%02x" % (n + 2)), keys=R2T_KEYS)
    gap = s.cmd_sn
    s.cmd_sn = gap + 2
    is_answer = gap_request(s, kind, gap + 1)
    try:
        early = ping(s)
    except ic.ConnectionClosed:
        check(False, "a %s with CmdSN ExpCmdSN + 1 was served (the connection closed) before "
              "the gap was filled" % kind)
        return
    check(not any(is_answer(p) for p in early), "a %s with CmdSN ExpCmdSN + 1 was answered "
          "before the gap was filled" % kind)
    fill, _ = s.send_scsi(b"\0" * 6, cmd_sn=gap)
    others = []
    done = s.collect({fill}, others=others)
    check(done[0][1] == ic.STATUS_GOOD, "the gap filler failed")
    if kind == "Logout":
        got = any(is_answer(p) for p in others) or \
            s.collect(set(), until=is_answer, others=others) == []
        check(got, "no Logout Response after the gap was filled")
        s.close()
        return
    if not any(is_answer(p) for p in others + early):
        s.collect(set(), until=is_answer, others=others)
    others += ping(s)
    check(s.exp_cmd_sn == gap + 2, "after a %s with CmdSN %d and the gap filled, ExpCmdSN is %d"
          " (want %d: past both)" % (kind, gap + 1, s.exp_cmd_sn, gap + 2))
    # The session goes on with the next CmdSN.
    s.sock.settimeout(5)
    tur, _ = s.send_scsi(b"\0" * 6, cmd_sn=gap + 2)
    s.cmd_sn = gap + 3
    try:
        s.collect({tur}, others=others)
    except socket.timeout:
        check(False, "after a %s served ahead of ExpCmdSN, the command with the next CmdSN "
              "(%d) is never answered" % (kind, gap + 2))
        s.close()
        return
    s.sock.settimeout(20)
    s.logout()


def main():
    args(__doc__)
    with phase("1-3: the window, immediate commands, a command beyond MaxCmdSN"):
        test_window()
    with phase("4: two commands with the same CmdSN"):
        test_duplicate_cmdsn()
    for n, kind in enumerate(("NOP-Out", "Text", "TMF", "Logout")):
        with phase("5: a non-immediate %s ahead of ExpCmdSN" % kind):
            test_non_scsi_in_sequence(kind, n)
    finish()


if __name__ == "__main__":
    main()
