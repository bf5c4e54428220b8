#!/usr/bin/env python3
"""Peers that connect, log in, send commands and hang up, many at once;
optionally SIGTERM to uscstd in the middle of it (issue 5, section 1:
"abort at SIGTERM while peers hang up").

usage: sigterm_churn.py PORT TARGET_IQN USCSTD_PID SECONDS SIGTERM_AT

For SECONDS, 8 threads each loop: connect, log in (half of them with one
of a few shared ISIDs, so that logins reinstate each other's sessions),
send a burst of READs and WRITEs (some with their immediate data cut
short), and leave one of several ways (Logout, close, close in the middle
of a PDU, reset). With SIGTERM_AT > 0, SIGTERM goes to uscstd after that
many seconds and the threads go on connecting until it is gone; prints
how long uscstd took to exit (the shell checks its exit status). Errors
from the target (closed connections, refused logins) are expected
during the churn and only counted; what counts is that uscstd survives
without SIGTERM, and exits (0, checked by the shell) within 10 s of it.
"""
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from hostile import BLOCK, MiB, alive, args, check, finish, measured, ok  # noqa: E402

THREADS = 8
KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "262144"), ("FirstBurstLength", "262144"),
        ("MaxBurstLength", "1048576"), ("ErrorRecoveryLevel", "0")]
stats = {"sessions": 0, "commands": 0, "errors": 0}
stats_lock = threading.Lock()


def count(key, n=1):
    with stats_lock:
        stats[key] += n


def one_peer(rng, a, tid):
    s = ic.Session(a["port"], timeout=5)
    try:
        shared = rng.random() < 0.5
        isid = bytes([0x80, 0, 0, 0xd0, tid if not shared else 0xff, rng.randrange(4)])
        s.login("iqn.2026-11.test:churn%d" % (0 if shared else tid), a["target"], isid, KEYS)
        count("sessions")
        itts = set()
        for _ in range(rng.randrange(1, 12)):
            lba = rng.randrange(0, 1024) * 2048
            if rng.random() < 0.5:
                itts.add(s.send_read10(lba, rng.choice([4096, 65536, MiB]))[0])
            else:
                itts.add(s.send_write10(lba, os.urandom(rng.choice([4096, 65536])))[0])
        count("commands", len(itts))
        way = rng.randrange(5)
        if way == 0:
            s.collect(itts, others=[])
            s.logout()
        elif way == 1:
            # Gone in the middle of a command's immediate data.
            cdb = struct.pack(">BBIBHB", 0x2A, 0, 0, 0, 65536 // BLOCK, 0)
            s.send_scsi(cdb, edtl=65536, write=True, announce_len=65536,
                        data=os.urandom(rng.randrange(1, 65536)))
        elif way == 2:
            # A reset instead of a FIN.
            s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif way == 3:
            s.collect(set(list(itts)[:1]), others=[])
    finally:
        s.close()


def churn(a, tid, stop):
    rng = random.Random(tid)
    while not stop.is_set():
        try:
            one_peer(rng, a, tid)
        except ConnectionRefusedError:
            # The listener is gone (SIGTERM): no busy loop while uscstd exits.
            count("errors")
            time.sleep(0.05)
        except (OSError, ic.ConnectionClosed, ic.ProtocolError):
            count("errors")
            if not alive():
                return


def main():
    a = args(__doc__, ["seconds", "sigterm_at"])
    seconds, sigterm_at = float(a["seconds"]), float(a["sigterm_at"])
    stop = threading.Event()
    threads = [threading.Thread(target=churn, args=(a, i + 1, stop), daemon=True)
               for i in range(THREADS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    if sigterm_at > 0:
        time.sleep(sigterm_at)  # how long to churn before the signal (not a synchronisation)
        before = dict(stats)
        check(alive(), "uscstd died during the churn, before SIGTERM")
        os.kill(a["pid"], signal.SIGTERM)
        t_term = time.monotonic()
        ok("SIGTERM sent after %.1f s of churn (%d sessions, %d commands so far)"
           % (t_term - t0, before["sessions"], before["commands"]))
        while alive() and time.monotonic() - t_term < 10:
            time.sleep(0.05)
        gone = not alive()
        measured("uscstd %s %.2f s after SIGTERM, with %d peers still churning"
                 % ("exited" if gone else "still running", time.monotonic() - t_term, THREADS))
        check(gone, "uscstd still running 10 s after SIGTERM")
    else:
        while time.monotonic() - t0 < seconds and alive():
            time.sleep(0.1)
        check(alive(), "uscstd died during the churn")
    stop.set()
    for t in threads:
        t.join(30)
    check(not any(t.is_alive() for t in threads), "a churn thread hangs")
    measured("churn: %d sessions, %d commands, %d connections ended by errors in %.1f s"
             % (stats["sessions"], stats["commands"], stats["errors"], time.monotonic() - t0))
    finish()


if __name__ == "__main__":
    main()
