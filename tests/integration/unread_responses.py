#!/usr/bin/env python3
"""A client that does not read what the target sends must not grow the
target's memory beyond a bound (issue 5, section 3: "today 48 READ PDUs
of 8 MiB whose responses are never read grow RSS by 384 MiB").

usage: unread_responses.py PORT TARGET_IQN USCSTD_PID

1. One session (MaxRecvDataSegmentLength 262144, MaxBurstLength
   16776192 offered) sends 48 READ(10)s of 8 MiB and never reads.
2. Another sends immediate NOP-Out pings with 256 KiB of data each (1024
   of them: 256 MiB of echo) and never reads the NOP-Ins. When the
   target stops reading from us (its sends are bounded, so ours block),
   that is the right answer, not a failure.
In each, uscstd's VmRSS is sampled until it has not grown for 1 s (10 s
at most); its growth over the baseline before the phase must stay below
RSS_BOUND_MIB (64 MiB: a connection's queued responses are bounded by
bytes, and 8 MiB buffers of commands not yet due are not allocated;
256 MiB on a sanitizer build, whose shadow memory (TSan: 4 bytes per byte
touched) and quarantine (ASan) multiply RSS).
The figure is printed. Then the clients disconnect (the shell runs
check_liveness).
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import (MiB, KiB, args, check, finish, login, measured, ok, phase,  # noqa: E402
                     rss_kib, sanitized)

INITIATOR = "iqn.2026-11.test:unread"
ISID_READS = bytes.fromhex("80000000f001")
ISID_PINGS = bytes.fromhex("80000000f002")
RSS_BOUND_MIB = 64
RSS_BOUND_SANITIZED_MIB = 256
KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "262144"), ("FirstBurstLength", "262144"),
        ("MaxBurstLength", "16776192"), ("ErrorRecoveryLevel", "0")]


def settle(baseline_kib):
    """Samples VmRSS until it has not grown for 1 s (10 s at most);
    returns the peak growth over @baseline_kib in MiB."""
    peak = last_growth_at = None
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        r = rss_kib()
        if peak is None or r > peak:
            peak, last_growth_at = r, time.monotonic()
        elif time.monotonic() - last_growth_at >= 1:
            break
        time.sleep(0.05)
    return (peak - baseline_kib) / 1024


def unread_reads():
    s = login(INITIATOR, ISID_READS, keys=KEYS)
    base = rss_kib()
    for i in range(48):
        s.send_read10(i * 16384, 8 * MiB)
    growth = settle(base)
    measured("VmRSS grew by %.1f MiB with 48 READs of 8 MiB unread (baseline %.1f MiB, "
             "bound %d MiB)" % (growth, base / 1024, RSS_BOUND_MIB))
    check(growth < RSS_BOUND_MIB, "48 unread 8 MiB READs grew uscstd's VmRSS by %.1f MiB "
          "(bound %d MiB)" % (growth, RSS_BOUND_MIB))
    return s


def unread_pings():
    s = login(INITIATOR, ISID_PINGS, keys=KEYS)
    base = rss_kib()
    data = os.urandom(256 * KiB)
    sent = 0
    # Our sends block once the target stops reading (bounded queue):
    # the short timeout turns that into the end of this phase.
    s.sock.settimeout(3)
    try:
        for _ in range(1024):
            s.send_nop(data)
            sent += 1
    except socket.timeout:
        ok("the target stopped reading after %d pings of 256 KiB" % sent)
    growth = settle(base)
    measured("VmRSS grew by %.1f MiB with %d NOP-Out pings of 256 KiB unread (baseline "
             "%.1f MiB, bound %d MiB)" % (growth, sent, base / 1024, RSS_BOUND_MIB))
    check(growth < RSS_BOUND_MIB, "%d unread 256 KiB pings grew uscstd's VmRSS by %.1f MiB "
          "(bound %d MiB)" % (sent, growth, RSS_BOUND_MIB))
    return s


def main():
    global RSS_BOUND_MIB
    args(__doc__)
    if sanitized():
        RSS_BOUND_MIB = RSS_BOUND_SANITIZED_MIB
    sessions = []
    with phase("1: 48 READs of 8 MiB, responses never read"):
        sessions.append(unread_reads())
    with phase("2: NOP-Out pings with data, NOP-Ins never read"):
        sessions.append(unread_pings())
    for s in sessions:
        s.close()
    finish()


if __name__ == "__main__":
    main()
