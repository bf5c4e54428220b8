#!/usr/bin/env python3
"""Eight sessions on two reactors hammer one device while task management
and configuration reloads happen under them (issue 6, "Concurrency").

Each worker session (its own initiator name and ISID) writes and reads
blocks of its own region of LUN 0, keeping up to four commands in flight,
never two on one block. A controller session sends LOGICAL UNIT RESET,
TARGET WARM RESET, ABORT TASK SET and CLEAR TASK SET, each worker now and
then resets the LUN or its own I_T nexus (I_T NEXUS RESET, RFC 7144), and
the configuration file is swapped between
two versions and reloaded with SIGHUP (LUN 1 comes and goes, worker 7
moves between the default group and a group of its own that maps the
same device at LUN 0, so its nexus and its commands must survive).

What must hold:
 - every command gets at most one response, and only commands in flight
   get one (no duplicated or stray completion);
 - a command without a response was aborted: it only counts as such after
   a reset; a worker whose commands stop being answered with no reset to
   explain it fails;
 - afterwards every block reads back as its last write that ended GOOD,
   or as a later write that was aborted (no lost write);
 - each worker completed commands throughout; the controller's TMFs were
   all answered.

usage: nexus_stress.py PORT PID TARGET CONF CONF_A CONF_B SECONDS
"""
import os
import random
import select
import shutil
import signal
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

PORT, PID = int(sys.argv[1]), int(sys.argv[2])
TARGET, CONF, CONF_A, CONF_B = sys.argv[3:7]
SECONDS = float(sys.argv[7])
WORKERS = 8
REGION = 2048          # blocks per worker
BLOCK = 512
DEPTH = 4
# No answer for this long, with commands in flight, is a stall: aborted
# commands explain it only when a reset happened meanwhile. After a reset
# the worker gives up on its silent commands sooner; one that is answered
# later after all counts as answered (it was slow, not aborted).
STALL = 10.0
STALL_AFTER_RESET = 2.0
KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
        ("MaxRecvDataSegmentLength", "65536"), ("FirstBurstLength", "65536"),
        ("MaxBurstLength", "262144")]
TMF_ABORT_TASK_SET, TMF_CLEAR_TASK_SET, TMF_LUN_RESET, TMF_TARGET_WARM_RESET = 2, 4, 5, 6
TMF_I_T_NEXUS_RESET = 11  # RFC 7144

lock = threading.Lock()
failures = []
# TMFs that may abort others' commands: sent so far, and answered so far.
# A command may be aborted by any TMF not answered before it was sent.
resets = [0]
resets_answered = [0]
stop = threading.Event()


def fail(what):
    with lock:
        failures.append(what)
    print("FAIL: " + what, flush=True)
    stop.set()


def login(name, isid_low):
    s = ic.Session(PORT, timeout=60)
    s.login(name, TARGET, bytes([0x80, 0, 0x0e, 0x55, 0, isid_low]), KEYS)
    return s


# The medium starts as zeros (a new sparse file): what a block holds
# until a write to it has ended GOOD.
ZEROS = bytes(BLOCK)


def block(worker, lba, seq):
    return (b"w%d:lba%d:seq%d:" % (worker, lba, seq)).ljust(BLOCK, b".")


class Worker(threading.Thread):
    def __init__(self, n):
        super().__init__(daemon=True)
        self.n = n
        self.base = (n + 1) * REGION
        self.good = {}        # lba -> data of the last write that ended GOOD
        self.maybe = {}       # lba -> [data of later writes that were aborted]
        self.inflight = {}    # itt -> (kind, lba, data, resets when sent)
        self.given_up = {}    # itt -> in-flight entry, given up on after a reset
        self.late = 0         # given up on, then answered after all
        self.done = 0
        self.seq = 0
        self.own_resets = {TMF_LUN_RESET: 0, TMF_I_T_NEXUS_RESET: 0}

    def send(self, s):
        busy = {v[1] for v in self.inflight.values()} | {v[1] for v in self.given_up.values()}
        lba = random.choice([x for x in range(self.base, self.base + REGION) if x not in busy])
        if random.random() < 0.5:
            self.seq += 1
            data = block(self.n, lba, self.seq)
            itt, _ = s.send_write10(lba, data)
            self.inflight[itt] = ("w", lba, data, resets_answered[0])
        else:
            itt, _ = s.send_read10(lba, BLOCK)
            self.inflight[itt] = ("r", lba, bytearray(BLOCK), resets_answered[0])

    def handle(self, pdu):
        itt = pdu.itt
        if pdu.opcode == ic.OP_TMF_RSP:
            with lock:
                resets_answered[0] += 1
            return
        if itt in self.given_up:
            self.inflight[itt] = self.given_up.pop(itt)
            self.late += 1
        if itt not in self.inflight:
            fail("worker %d: a response for ITT 0x%x, which is not in flight (answered "
                 "twice?): %r" % (self.n, itt, pdu))
            return
        kind, lba, data, _ = self.inflight[itt]
        if pdu.opcode == ic.OP_DATA_IN:
            off = pdu.u32(40)
            data[off:off + len(pdu.data)] = pdu.data
            if not pdu.flags & 0x01:
                return
            status = pdu.bhs[3]
        elif pdu.opcode == ic.OP_SCSI_RSP:
            status = pdu.bhs[3]
        else:
            fail("worker %d: unexpected %r" % (self.n, pdu))
            return
        del self.inflight[itt]
        self.done += 1
        if status != ic.STATUS_GOOD:
            return  # a unit attention or a busy target: nothing happened
        if kind == "w":
            self.good[lba] = bytes(data)
            self.maybe.pop(lba, None)
            for e in self.given_up.values():
                if e[1] == lba and e[0] == "w":
                    self.maybe.setdefault(lba, []).append(bytes(e[2]))
        else:
            allowed = [self.good.get(lba, ZEROS)] + self.maybe.get(lba, [])
            if bytes(data) not in allowed:
                fail("worker %d: READ of block %d returned %r (%s)" %
                     (self.n, lba, bytes(data[:40]), self.history(lba)))

    def history(self, lba):
        """What the test knows of a block, for a failure message."""
        good = self.good.get(lba)
        return "last GOOD write %r, %d aborted write(s) after it" % (
            good[:24] if good else None, len(self.maybe.get(lba, [])))

    def give_up_inflight(self, silent_for):
        """Commands not answered for a while: aborted by a reset sent after
        them, or lost if there was none and STALL has passed."""
        for itt, entry in list(self.inflight.items()):
            kind, lba, data, answered_before = entry
            # No TMF was in flight when it was sent, and none since.
            if resets[0] == answered_before:
                if silent_for >= STALL:
                    fail("worker %d: ITT 0x%x unanswered for %.0f s and no reset since"
                         % (self.n, itt, silent_for))
                continue
            if kind == "w":
                self.maybe.setdefault(lba, []).append(bytes(data))
            self.given_up[itt] = entry
            del self.inflight[itt]

    def run(self):
        try:
            s = login("iqn.2026-12.test:w%d" % self.n, self.n + 1)
            self.s = s
            last = time.time()
            while not stop.is_set() or self.inflight:
                if not stop.is_set():
                    while len(self.inflight) < DEPTH:
                        self.send(s)
                    if random.random() < 0.002:
                        fn = random.choice([TMF_LUN_RESET, TMF_I_T_NEXUS_RESET])
                        s.send_tmf(fn)
                        with lock:
                            resets[0] += 1
                        self.own_resets[fn] += 1
                r, _, _ = select.select([s.sock], [], [], 0.5)
                if r:
                    self.handle(s.recv_pdu())
                    last = time.time()
                elif self.inflight and time.time() - last > STALL_AFTER_RESET:
                    self.give_up_inflight(time.time() - last)
                elif stop.is_set() and not self.inflight:
                    break
        except Exception as e:  # noqa: BLE001
            fail("worker %d: %s: %s" % (self.n, type(e).__name__, e))

    def verify(self):
        s = self.s
        s.ready(tries=8)
        for lba in sorted(set(self.good) | set(self.maybe)):
            allowed = [self.good.get(lba, ZEROS)] + self.maybe.get(lba, [])
            for _ in range(4):
                status, data, _ = s.read10(lba, BLOCK)
                if status == ic.STATUS_GOOD:
                    break
            if status != ic.STATUS_GOOD or data not in allowed:
                fail("worker %d: block %d after the run: status 0x%02x, %r (%s)" %
                     (self.n, lba, status, data[:40], self.history(lba)))
                return False
        return True


def controller():
    s = login("iqn.2026-12.test:controller", 0x40)
    s.ready(tries=8)
    tmfs = 0
    configs = [CONF_B, CONF_A]
    reloads = 0
    next_reload = time.time() + 1.0
    while not stop.is_set():
        fn = random.choice([TMF_LUN_RESET, TMF_TARGET_WARM_RESET, TMF_ABORT_TASK_SET,
                            TMF_CLEAR_TASK_SET])
        with lock:
            resets[0] += 1
        itt = s.send_tmf(fn)
        t0 = time.time()
        others = []
        code = s.wait_tmf(itt, others=others)
        with lock:
            resets_answered[0] += 1
        if code != 0:
            fail("controller: TMF %d answered 0x%02x" % (fn, code))
        if time.time() - t0 > 10:
            fail("controller: TMF %d took %.1f s" % (fn, time.time() - t0))
        tmfs += 1
        if time.time() >= next_reload:
            shutil.copyfile(configs[reloads % 2], CONF + ".new")
            os.replace(CONF + ".new", CONF)
            os.kill(PID, signal.SIGHUP)
            reloads += 1
            next_reload = time.time() + 1.5
        time.sleep(random.uniform(0.05, 0.3))
    print("controller: %d TMFs, %d reloads" % (tmfs, reloads), flush=True)
    return tmfs, reloads


workers = [Worker(n) for n in range(WORKERS)]
for w in workers:
    w.start()
time.sleep(0.5)
result = {}
ctl = threading.Thread(target=lambda: result.update(zip(("tmfs", "reloads"), controller())),
                       daemon=True)
ctl.start()
time.sleep(SECONDS)
stop.set()
ctl.join(60)
for w in workers:
    w.join(STALL + 60)
    if w.is_alive():
        fail("worker %d did not finish" % w.n)
if not failures:
    for w in workers:
        if w.done < 50:
            fail("worker %d completed only %d commands" % (w.n, w.done))
        w.verify()
for w in workers:
    print("worker %d: %d commands answered, %d aborted by resets (%d answered late), "
          "%d own LUN resets, %d own I_T nexus resets, %d blocks checked"
          % (w.n, w.done, len(w.given_up) + w.late, w.late, w.own_resets[TMF_LUN_RESET],
             w.own_resets[TMF_I_T_NEXUS_RESET],
             len(set(w.good) | set(w.maybe))))
if result.get("reloads", 0) < 2:
    fail("only %d reloads happened" % result.get("reloads", 0))
if failures:
    print("%d failure(s)" % len(failures))
    sys.exit(1)
print("nexus_stress: %d TMFs, %d reloads, no lost or duplicated completion, data verified"
      % (result["tmfs"], result["reloads"]))
