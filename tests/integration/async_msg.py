#!/usr/bin/env python3
"""One initiator facing the target's Asynchronous Messages (RFC 7143 11.9),
for async_msg.sh.

usage: async_msg.py PORT TARGET INITIATOR ISID_HEX MODE [ARG]

It logs in, prints "logged-in" (the shell then stops uscstd, disables the
target or closes the session) and, by MODE:
  answer P3   expects AsyncEvent 1 (logout requested) with Parameter3 = P3,
              answers with a Logout, expects its response and the close;
  ignore P3   expects AsyncEvent 1 with Parameter3 = P3 and does not
              answer: expects AsyncEvent 2 (connection dropped: its CID,
              Time2Wait, Time2Retain) after P3 to P3 + 2.5 seconds, then
              the close;
  drop        expects AsyncEvent 3 (all connections dropped: Time2Wait,
              Time2Retain), then the close;
  silent      expects the connection closed with no Asynchronous Message
              before it (logout_timeout 0);
  quiet FILE  expects nothing at all until FILE exists; then a NOP-Out is
              answered, nothing asynchronous came, and it logs out.
Every check that fails is printed as "async_msg: FAILED: ..." and the
exit status is 1.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iscsi_client as ic  # noqa: E402

KEYS = [("ErrorRecoveryLevel", "0"), ("MaxRecvDataSegmentLength", "65536")]
ASYNC_WAIT = 20  # seconds the shell may take to act


def fail(msg):
    print("async_msg: FAILED: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def next_pdu(s, timeout):
    """The next PDU of any kind (recv_pdu would skip Asynchronous
    Messages); None if the target closed the connection."""
    s.sock.settimeout(timeout)
    try:
        return s._recv_one()
    except ic.ConnectionClosed:
        return None
    except TimeoutError:
        fail("nothing from the target within %s s" % timeout)


def async_fields(pdu):
    b = pdu.bhs
    return {
        "event": b[36], "vcode": b[37],
        "p1": int.from_bytes(b[38:40], "big"), "p2": int.from_bytes(b[40:42], "big"),
        "p3": int.from_bytes(b[42:44], "big"),
    }


def expect_async(s, event, timeout=ASYNC_WAIT):
    pdu = next_pdu(s, timeout)
    check(pdu is not None, "connection closed without AsyncEvent %d" % event)
    check(pdu.opcode == ic.OP_ASYNC, "expected an Asynchronous Message, got %r" % pdu)
    f = async_fields(pdu)
    check(f["event"] == event, "AsyncEvent %d, expected %d" % (f["event"], event))
    check(pdu.flags == 0x80, "flags 0x%02x, expected F only" % pdu.flags)
    check(pdu.itt == ic.RESERVED_TAG, "ITT 0x%08x, expected 0xffffffff" % pdu.itt)
    check(len(pdu.data) == 0, "a data segment of %d bytes" % len(pdu.data))
    check(f["vcode"] == 0, "AsyncVCode %d" % f["vcode"])
    # It carries status: the StatSN the initiator expects, and the window.
    statsn = pdu.u32(24)
    check(statsn == s.exp_stat_sn,
          "StatSN %d, the initiator expects %d" % (statsn, s.exp_stat_sn))
    s.exp_stat_sn = (statsn + 1) & 0xFFFFFFFF
    check(pdu.u32(28) == s.cmd_sn, "ExpCmdSN %d, expected %d" % (pdu.u32(28), s.cmd_sn))
    return f


def expect_closed(s, timeout=10):
    pdu = next_pdu(s, timeout)
    check(pdu is None, "expected the close, got %r" % pdu)


def main():
    if len(sys.argv) < 6:
        print(__doc__)
        return 2
    port, target, initiator = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    isid = bytes.fromhex(sys.argv[4])
    mode, arg = sys.argv[5], sys.argv[6] if len(sys.argv) > 6 else None
    s = ic.Session(port)
    answers = s.login(initiator, target, isid, KEYS)
    t2w = int(answers.get("DefaultTime2Wait", 2))
    s.nop()  # full feature phase works
    print("logged-in", flush=True)

    if mode == "answer":
        f = expect_async(s, 1)
        t0 = time.monotonic()
        check(f["p3"] == int(arg), "Parameter3 %d, expected logout_timeout %s" % (f["p3"], arg))
        check(f["p1"] == 0 and f["p2"] == 0, "Parameter1/2 %d/%d, reserved" % (f["p1"], f["p2"]))
        itt = s.send_logout()
        rsp = next_pdu(s, 10)
        check(rsp is not None and rsp.opcode == ic.OP_LOGOUT_RSP and rsp.itt == itt,
              "expected the Logout Response, got %r" % rsp)
        check(rsp.bhs[2] == 0, "Logout Response %d, expected 0 (closed)" % rsp.bhs[2])
        expect_closed(s)
        print("async_msg: AsyncEvent 1 (Parameter3 %d) answered with a Logout; closed "
              "%.2f s later" % (f["p3"], time.monotonic() - t0), flush=True)
    elif mode == "ignore":
        f = expect_async(s, 1)
        t0 = time.monotonic()
        check(f["p3"] == int(arg), "Parameter3 %d, expected logout_timeout %s" % (f["p3"], arg))
        d = expect_async(s, 2, timeout=f["p3"] + 5)
        took = time.monotonic() - t0
        check(f["p3"] - 0.2 <= took <= f["p3"] + 2.5,
              "dropped %.2f s after the request; Parameter3 was %d" % (took, f["p3"]))
        check(d["p1"] == 0, "Parameter1 %d, expected CID 0" % d["p1"])
        check(d["p2"] == t2w and d["p3"] == 0,
              "Time2Wait/Time2Retain %d/%d, expected the negotiated Time2Wait %d and 0 "
              "(no task is kept)" % (d["p2"], d["p3"], t2w))
        expect_closed(s)
        print("async_msg: AsyncEvent 1 ignored; AsyncEvent 2 (CID 0, Time2Wait %d, "
              "Time2Retain %d) and the close %.2f s later" % (d["p2"], d["p3"], took),
              flush=True)
    elif mode == "drop":
        d = expect_async(s, 3)
        check(d["p1"] == 0, "Parameter1 %d, reserved" % d["p1"])
        check(d["p2"] == t2w and d["p3"] == 0,
              "Time2Wait/Time2Retain %d/%d, expected the negotiated Time2Wait %d and 0 "
              "(no task is kept)" % (d["p2"], d["p3"], t2w))
        expect_closed(s)
        print("async_msg: AsyncEvent 3 (Time2Wait %d, Time2Retain %d), then the close"
              % (d["p2"], d["p3"]), flush=True)
    elif mode == "silent":
        pdu = next_pdu(s, ASYNC_WAIT)
        check(pdu is None, "expected the close, got %r" % pdu)
        print("async_msg: closed with no Asynchronous Message", flush=True)
    elif mode == "quiet":
        deadline = time.monotonic() + ASYNC_WAIT
        s.sock.setblocking(False)
        while not os.path.exists(arg):
            check(time.monotonic() < deadline, "%s did not appear" % arg)
            try:
                got = s.sock.recv(1, ic.socket.MSG_PEEK)
                fail("the target sent something (%r...) to an untouched session" % got
                     if got else "the target closed an untouched session")
            except BlockingIOError:
                pass
            time.sleep(0.05)
        s.sock.setblocking(True)
        s.nop()
        s.logout()
        print("async_msg: nothing asynchronous came; NOP-Out answered; logged out", flush=True)
    else:
        fail("unknown mode %s" % mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
