"""What the hostile-client tests (tmf_sessions, reinstate_busy,
sigterm_churn, disconnect_states, unread_responses, cmd_window,
overlap_order, task_attrs) share: their command line, logging in, the
phases each test is made of, and the checks.

A phase is a `with phase("name"):` block. An exception inside it (the
target closed the connection, a socket timed out, a PDU we did not
expect) is a failure of that phase, not of the whole test, so one run
reports every phase; after each, uscstd must still be running.

Every socket has a timeout (Session's, 20 s unless said otherwise), so a
target that hangs fails a phase instead of hanging the test.
"""
import contextlib
import os
import socket
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402
from digests import pattern  # noqa: E402,F401  (re-exported for the tests)

BLOCK = 512
KiB = 1024
MiB = 1024 * KiB

# Immediate data up to 1 MiB in one PDU (uscstd's MaxRecvDataSegmentLength
# and FirstBurstLength are 1 MiB), unsolicited data allowed.
IMMEDIATE_KEYS = [("InitialR2T", "No"), ("ImmediateData", "Yes"),
                  ("MaxRecvDataSegmentLength", "262144"), ("FirstBurstLength", "1048576"),
                  ("MaxBurstLength", "1048576"), ("MaxOutstandingR2T", "1"),
                  ("ErrorRecoveryLevel", "0")]
# Every byte of write data solicited by an R2T.
R2T_KEYS = [("InitialR2T", "Yes"), ("ImmediateData", "No"),
            ("MaxRecvDataSegmentLength", "262144"), ("FirstBurstLength", "65536"),
            ("MaxBurstLength", "1048576"), ("MaxOutstandingR2T", "1"),
            ("ErrorRecoveryLevel", "0")]

failures = []
_args = {}


def args(usage, extra=()):
    """Parses PORT TARGET_IQN USCSTD_PID [extra...]; exits with @usage
    when they are not there."""
    names = ["port", "target", "pid"] + list(extra)
    if len(sys.argv) != 1 + len(names):
        print(usage)
        sys.exit(2)
    for n, v in zip(names, sys.argv[1:]):
        _args[n] = v
    _args["port"] = int(_args["port"])
    _args["pid"] = int(_args["pid"])
    return _args


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return cond


def ok(what):
    print("ok  : " + what, flush=True)


def measured(what):
    print("measured: " + what, flush=True)


def alive():
    """Is uscstd still running?"""
    try:
        os.kill(_args["pid"], 0)
    except ProcessLookupError:
        return False
    # A zombie has not been reaped by its parent (the shell) yet: dead.
    try:
        with open("/proc/%d/stat" % _args["pid"]) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def rss_kib():
    """uscstd's resident set size (VmRSS) in KiB."""
    with open("/proc/%d/status" % _args["pid"]) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sanitized():
    """Is uscstd built with a sanitizer (its shadow memory and ASan's
    quarantine make RSS several times what the daemon itself holds)?"""
    try:
        with open("/proc/%d/maps" % _args["pid"]) as f:
            maps = f.read()
    except OSError:
        return False
    return any(lib in maps for lib in ("libasan", "libtsan", "libubsan"))


@contextlib.contextmanager
def phase(name):
    """One part of a test: whatever it raises fails it (and only it);
    uscstd must still be alive afterwards."""
    print("--- " + name, flush=True)
    t0 = time.monotonic()
    try:
        yield
    except (ic.ConnectionClosed, ic.ProtocolError, OSError, AssertionError) as e:
        if isinstance(e, socket.timeout):
            check(False, "%s: a socket operation timed out (the target hangs?)" % name)
        else:
            check(False, "%s: %s: %s" % (name, type(e).__name__, e))
        if not isinstance(e, (ic.ConnectionClosed, socket.timeout)):
            traceback.print_exc()
    if not alive():
        check(False, "%s: uscstd died (crash?)" % name)
        finish()
    print("    (%s: %.2f s)" % (name, time.monotonic() - t0), flush=True)


def login(initiator, isid, keys=IMMEDIATE_KEYS, timeout=20, rcvbuf=None, target=None,
          consume_ua=True):
    """A logged-in session of @initiator with ISID @isid (6 bytes) on the
    target under test; its unit attentions consumed unless told not to."""
    s = ic.Session(_args["port"], timeout=timeout, rcvbuf=rcvbuf)
    s.login(initiator, target or _args["target"], isid, keys)
    s.isid = isid
    if consume_ua and not s.ready():
        raise AssertionError("TEST UNIT READY never GOOD on a new session")
    return s


def wait_closed(s, timeout=10):
    """True once the target has closed @s (everything it sends before is
    read and dropped)."""
    s.sock.settimeout(timeout)
    try:
        while s._recv_one():
            pass
    except ic.ConnectionClosed:
        return True
    except OSError:
        return False
    return False


def ping(s, data=b""):
    """An immediate NOP-Out and its NOP-In; every other PDU on the way is
    returned (in wire order)."""
    itt = s.send_nop(data)
    others = []
    s.collect(set(), until=lambda p: p.opcode == ic.OP_NOP_IN and p.itt == itt, others=others)
    return others


def finish():
    """Prints the verdict and exits with it."""
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    if failures:
        print("%s: FAILED (%d check(s)):" % (name, len(failures)))
        for f in failures:
            print("  - " + f)
        sys.exit(1)
    print("%s: all passed" % name)
    sys.exit(0)
