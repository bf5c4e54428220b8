#!/usr/bin/env python3
"""Task management across two sessions on one LUN, with one of them going
away (issue 5, sections 1 and 2).

usage: tmf_sessions.py PORT TARGET_IQN USCSTD_PID

1. Reset pending, its session gone (30 rounds): session B sends a command
   whose CmdSN leaves a gap (ExpCmdSN + 1, so the target holds it);
   session A sends LOGICAL UNIT RESET for LUN 0, which has to deal with
   B's held command; A disconnects; B fills the gap. The found bug: the
   reset waits for the held command and completes after A's session was
   freed (use-after-free in src/core/tmf.c). Required: uscstd lives, B's
   gap-filling command is answered, the held one is answered or aborted
   (no response), B's session goes on working.
2. ABORT TASK of a task of B's own that is held behind a gap: answered
   at once with Function complete (RFC 7143 11.5.1: the task is aborted,
   its CmdSN counts as received), before the gap is filled; the aborted
   task never gets a response; the gap filler does.
3. TMFs from B while A's commands are in flight: A has writes waiting for
   their R2T-solicited data (so they are certainly in the task set when
   the reset arrives); B's LOGICAL UNIT RESET is answered within 5 s, A's
   writes get no response or a status, A's late Data-Out is dropped, and
   A works afterwards. Then the same with A streaming reads it collects.
4. A disconnects with writes in flight while B resets the LUN: answered.
"""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import (BLOCK, MiB, R2T_KEYS, alive, args, check, finish, login,  # noqa: E402
                     measured, ok, pattern, phase, ping)

INI_A = "iqn.2026-11.test:tmf-a"
INI_B = "iqn.2026-11.test:tmf-b"
ISID_A = bytes.fromhex("80000000a001")
ISID_B = bytes.fromhex("80000000b001")
LBA = 64 * MiB // BLOCK
TMF_DEADLINE = 5.0  # seconds a TMF may take before it counts as hanging


def held_read(s, lba=LBA):
    """Sends a 4 KiB READ with CmdSN one past the next, leaving a gap;
    returns (held itt, held CmdSN, gap CmdSN). The session's counter
    moves past both."""
    gap = s.cmd_sn
    s.cmd_sn = (gap + 2) & 0xFFFFFFFF
    itt, sn = s.send_read10(lba, 4096, cmd_sn=gap + 1)
    # An immediate ping is served at once: once its answer is back, the
    # held command has been received (one connection keeps PDUs in order).
    check(not ping(s), "a response arrived for a command held behind a CmdSN gap")
    return itt, sn, gap


def wait_tmf_deadline(s, itt, deadline, others):
    """The TMF response code, or None when none came within @deadline s."""
    s.sock.settimeout(deadline)
    try:
        return s.wait_tmf(itt, others)
    except socket.timeout:
        return None
    finally:
        s.sock.settimeout(20)


def responses_for(pdus, itt):
    return [p for p in pdus if p.itt == itt and
            (p.opcode == ic.OP_SCSI_RSP or (p.opcode == ic.OP_DATA_IN and p.flags & 0x01))]


def round_reset_then_gone(n, stats):
    a = login(INI_A, ISID_A)
    b = login(INI_B, ISID_B)
    held_itt, _, gap = held_read(b)
    reset = a.send_tmf(ic.TMF_LUN_RESET)
    # A's ping comes back once the reset has been taken in (PDUs of one
    # connection are handled in order); the reset's answer may or may not
    # be there yet: both are right.
    others = ping(a)
    if any(p.opcode == ic.OP_TMF_RSP and p.itt == reset for p in others):
        stats["answered before A left"] += 1
    else:
        stats["pending when A left"] += 1
    a.close()
    fill_itt, _ = b.send_read10(LBA, 4096, cmd_sn=gap)
    late = []
    done = b.collect({fill_itt}, others=late)
    check(done and done[0][1] in (ic.STATUS_GOOD, ic.STATUS_CHECK_CONDITION),
          "round %d: B's gap-filling READ got status %r" % (n, done))
    check(b.ready(), "round %d: B's session no longer answers TEST UNIT READY" % n)
    late += ping(b)
    got = responses_for(late, held_itt)
    check(len(got) <= 1, "round %d: the held READ got %d responses" % (n, len(got)))
    stats["held READ answered" if got else "held READ aborted"] += 1
    b.logout()


def test_reset_then_gone():
    stats = {"answered before A left": 0, "pending when A left": 0,
             "held READ answered": 0, "held READ aborted": 0}
    rounds = 30
    for n in range(rounds):
        with phase("1.%d: A's LUN RESET waits for B's held command, A leaves, B fills the gap"
                   % n):
            round_reset_then_gone(n, stats)
        if not alive():
            break
    measured("over %d rounds: %s" % (rounds, ", ".join("%s %d" % kv for kv in stats.items())))


def test_abort_held():
    b = login(INI_B, ISID_B)
    held_itt, held_sn, gap = held_read(b)
    t0 = time.monotonic()
    abort = b.send_tmf(ic.TMF_ABORT_TASK, ref_itt=held_itt, ref_cmd_sn=held_sn)
    others = []
    rsp = wait_tmf_deadline(b, abort, TMF_DEADLINE, others)
    measured("ABORT TASK of a held task answered after %s" %
             ("%.3f s" % (time.monotonic() - t0) if rsp is not None else
              "more than %.0f s (not before the gap was filled)" % TMF_DEADLINE))
    check(rsp is not None, "ABORT TASK of a task held behind a CmdSN gap not answered "
          "within %.0f s" % TMF_DEADLINE)
    check(rsp in (None, ic.TMF_RSP_COMPLETE),
          "ABORT TASK of a held task answered %r, not Function complete (0)" % rsp)
    fill_itt, _ = b.send_read10(LBA, 4096, cmd_sn=gap)
    done = b.collect({fill_itt}, others=others)
    check(done[0][1] in (ic.STATUS_GOOD, ic.STATUS_CHECK_CONDITION),
          "the gap-filling READ got status %r" % (done,))
    if rsp is None:
        rsp = b.wait_tmf(abort, others)
        measured("ABORT TASK answered %d once the gap was filled" % rsp)
    check(b.ready(), "B's session no longer answers TEST UNIT READY after ABORT TASK")
    others += ping(b)
    check(not responses_for(others, held_itt), "the aborted held READ got a response")
    b.logout()


def test_reset_with_r2t_pending():
    a = login(INI_A, ISID_A, keys=R2T_KEYS)
    b = login(INI_B, ISID_B)
    size = MiB
    data = pattern(71, size)
    writes = []
    for i in range(4):
        cdb = struct.pack(">BBIBHB", 0x2A, 0, LBA + i * size // BLOCK, 0, size // BLOCK, 0)
        itt, _ = a.send_scsi(cdb, edtl=size, write=True)
        writes.append(itt)
    r2ts = {}
    while len(r2ts) < len(writes):
        p = a.recv_pdu()
        check(p.opcode == ic.OP_R2T and p.itt in writes, "expected R2Ts, got %r" % p)
        r2ts[p.itt] = p
    ok("A has %d writes waiting for their solicited data" % len(writes))
    t0 = time.monotonic()
    reset = b.send_tmf(ic.TMF_LUN_RESET)
    rsp = wait_tmf_deadline(b, reset, TMF_DEADLINE, [])
    measured("B's LUN RESET with A's writes waiting for data answered %s" %
             ("after %.3f s" % (time.monotonic() - t0) if rsp is not None else "never"))
    check(rsp == ic.TMF_RSP_COMPLETE, "B's LUN RESET answered %r (None: not within %.0f s)"
          % (rsp, TMF_DEADLINE))
    # The data the R2Ts asked for, now for aborted tasks: dropped.
    for itt, r2t in r2ts.items():
        a._send_data_out(itt, r2t.u32(20), data, r2t.u32(40), r2t.u32(44), None, [0])
    others = []
    check(a.ready(), "A's session no longer answers after the reset")
    others += ping(a)
    for itt in writes:
        check(len(responses_for(others, itt)) <= 1, "a reset write got several responses")
    status, _ = a.write10(LBA, data)
    status2, back, _ = a.read10(LBA, size)
    check(status == 0 and status2 == 0 and back == data, "A cannot write and read after the reset")
    a.logout()
    b.logout()


def test_reset_while_streaming():
    a = login(INI_A, ISID_A)
    b = login(INI_B, ISID_B)
    stop = threading.Event()
    result = {"done": 0, "error": None}

    def stream():
        # Eight 256 KiB READs in flight at all times, responses collected;
        # tasks the reset aborts have no response, so a task is given up
        # once the next ping comes back without it.
        try:
            inflight = set()
            while not stop.is_set():
                while len(inflight) < 8:
                    itt, _ = a.send_read10(LBA, 256 * 1024)
                    inflight.add(itt)
                nop = a.send_nop()
                done = a.collect(set(inflight), until=lambda p: p.opcode == ic.OP_NOP_IN
                                 and p.itt == nop, others=[])
                result["done"] += len(done)
                inflight -= {d[0] for d in done}
                if len(inflight) == 8:
                    # None ended while a ping went there and back: aborted.
                    inflight.clear()
        except Exception as e:  # reported by the main thread
            result["error"] = e

    th = threading.Thread(target=stream, daemon=True)
    th.start()
    answered = 0
    for fn in (ic.TMF_LUN_RESET, ic.TMF_ABORT_TASK_SET, ic.TMF_LUN_RESET):
        time.sleep(0.2)  # let A's reads run; not a synchronisation
        t0 = time.monotonic()
        rsp = wait_tmf_deadline(b, b.send_tmf(fn), TMF_DEADLINE, [])
        check(rsp == ic.TMF_RSP_COMPLETE, "B's TMF %d during A's reads answered %r" % (fn, rsp))
        if rsp is not None:
            answered += 1
            measured("B's TMF %d during A's reads answered after %.3f s"
                     % (fn, time.monotonic() - t0))
    stop.set()
    th.join(60)
    check(not th.is_alive(), "A's reading thread hangs")
    check(result["error"] is None, "A's reads failed: %r" % (result["error"],))
    measured("A's READs completed during the TMFs: %d" % result["done"])
    # Reads A gave up on may still answer: they are let through.
    check(a.ready(others=[]), "A no longer answers after the TMFs")
    a.logout()
    b.logout()


def test_gone_with_writes_inflight():
    a = login(INI_A, ISID_A)
    b = login(INI_B, ISID_B)
    data = pattern(72, MiB)
    for i in range(16):
        a.send_write10(LBA + i * MiB // BLOCK, data)
    a.close()
    rsp = wait_tmf_deadline(b, b.send_tmf(ic.TMF_LUN_RESET), TMF_DEADLINE, [])
    check(rsp == ic.TMF_RSP_COMPLETE, "B's LUN RESET after A vanished with 16 writes in "
          "flight answered %r" % rsp)
    check(b.ready(), "B no longer answers")
    b.logout()


def main():
    args(__doc__)
    with phase("2: ABORT TASK of a task held behind a CmdSN gap"):
        test_abort_held()
    with phase("3a: B's LUN RESET while A's writes wait for their data"):
        test_reset_with_r2t_pending()
    with phase("3b: B's TMFs while A streams reads"):
        test_reset_while_streaming()
    with phase("4: A vanishes with writes in flight, B resets the LUN"):
        test_gone_with_writes_inflight()
    test_reset_then_gone()
    finish()


if __name__ == "__main__":
    main()
