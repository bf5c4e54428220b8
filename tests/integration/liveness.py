# The serving half of the liveness check (lib.sh's check_liveness), run
# after a test's hostile part:
#   liveness.py PORT TARGET INITIATOR ISID_HEX SECOND_INITIATOR
# a. INITIATOR, with the ISID the hostile client used, logs in again within
#    LOGIN_LIMIT seconds (a session it left behind must not block the
#    reinstatement) and gets TEST UNIT READY answered (one UNIT ATTENTION
#    first is fine: a new nexus starts with one), then logs out;
# b. meanwhile a second, independent session (SECOND_INITIATOR, its own
#    ISID) sends a LOGICAL UNIT RESET for LUN 0 and gets the TMF Response
#    within TMF_LIMIT seconds (a command the hostile client left behind
#    must not hold the reset forever), then logs out.
# Prints what it did with timings; exits 1 with the reason on failure.
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import (FINAL, IMMEDIATE, RESERVED_TAG, STATUS_CHECK_CONDITION,  # noqa: E402
                          STATUS_GOOD, ConnectionClosed, ProtocolError, Session, bhs,
                          sense_key_asc)

LOGIN_LIMIT = 5.0
TMF_LIMIT = 1.0
SENSE_KEY_UNIT_ATTENTION = 0x6
OP_TMF_REQ, OP_TMF_RSP = 0x02, 0x22
TMF_LUN_RESET = 5     # RFC 7143 11.5.1
TMF_RSP_COMPLETE = 0  # RFC 7143 11.6.1: function complete

port, target, initiator, isid_hex, second = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                             sys.argv[4], sys.argv[5])
if len(isid_hex) != 12:
    sys.exit("liveness: ISID '%s' is not 12 hex digits" % isid_hex)
isid = bytes.fromhex(isid_hex)
# The second session's ISID differs from the first's even when both
# initiators have the same name: it must not reinstate the first.
second_isid = bytes.fromhex("40000000ab01" if isid_hex.lower() != "40000000ab01"
                            else "40000000ab02")


class Failed(Exception):
    pass


def login(name, isid, what):
    """A session for @name/@isid within LOGIN_LIMIT; returns it and the
    seconds the login took."""
    start = time.monotonic()
    try:
        s = Session(port, timeout=LOGIN_LIMIT + 1)
        s.login(name, target, isid, [])
    except (OSError, ConnectionClosed, ProtocolError) as e:
        raise Failed("%s: login of %s (ISID %s) failed after %.2f s: %s"
                     % (what, name, isid.hex(), time.monotonic() - start, e))
    took = time.monotonic() - start
    if took > LOGIN_LIMIT:
        s.close()
        raise Failed("%s: login of %s (ISID %s) took %.2f s (limit %.0f s)"
                     % (what, name, isid.hex(), took, LOGIN_LIMIT))
    print("%s: %s (ISID %s) logged in in %.3f s" % (what, name, isid.hex(), took), flush=True)
    return s


def test_unit_ready(s):
    """TEST UNIT READY answered GOOD, after at most one UNIT ATTENTION."""
    for attempt in (1, 2):
        start = time.monotonic()
        try:
            status, data = s.test_unit_ready()
        except (OSError, ConnectionClosed, ProtocolError) as e:
            raise Failed("a: TEST UNIT READY (attempt %d) got no answer after %.2f s: %s"
                         % (attempt, time.monotonic() - start, e))
        took = time.monotonic() - start
        if status == STATUS_GOOD:
            print("a: TEST UNIT READY: GOOD in %.3f s (attempt %d)" % (took, attempt))
            return
        sense = sense_key_asc(data)
        if status == STATUS_CHECK_CONDITION and attempt == 1 and sense and \
                sense[0] == SENSE_KEY_UNIT_ATTENTION:
            print("a: TEST UNIT READY: UNIT ATTENTION (asc 0x%02x ascq 0x%02x), once more"
                  % sense[1:])
            continue
        raise Failed("a: TEST UNIT READY (attempt %d): status 0x%02x, sense %s"
                     % (attempt, status, sense))


def lun_reset(s, lun):
    """An immediate LOGICAL UNIT RESET (as Linux sends it) answered
    "function complete" within TMF_LIMIT."""
    itt = s.next_itt()
    s.sock.settimeout(TMF_LIMIT + 0.5)
    start = time.monotonic()
    try:
        s.send_pdu(bhs(OP_TMF_REQ | IMMEDIATE, FINAL | TMF_LUN_RESET, itt, lun=lun,
                       word20=RESERVED_TAG, word24=s.cmd_sn, word28=s.exp_stat_sn))
        pdu = s.recv_pdu()
    except (OSError, ConnectionClosed, ProtocolError) as e:
        raise Failed("b: LOGICAL UNIT RESET got no TMF Response after %.2f s: %s"
                     % (time.monotonic() - start, e))
    took = time.monotonic() - start
    s.sock.settimeout(LOGIN_LIMIT + 1)
    if pdu.opcode != OP_TMF_RSP or pdu.itt != itt:
        raise Failed("b: %r instead of the TMF Response" % pdu)
    if took > TMF_LIMIT:
        raise Failed("b: LOGICAL UNIT RESET took %.2f s (limit %.0f s)" % (took, TMF_LIMIT))
    if pdu.bhs[2] != TMF_RSP_COMPLETE:
        raise Failed("b: LOGICAL UNIT RESET answered with response %d, not 0 (function "
                     "complete)" % pdu.bhs[2])
    print("b: LOGICAL UNIT RESET of LUN %d: function complete in %.3f s" % (lun, took))


def logout(s, what):
    try:
        s.logout()
    except (OSError, ConnectionClosed, ProtocolError) as e:
        raise Failed("%s: logout failed: %s" % (what, e))
    print("%s: logged out" % what)


# The reset's session logs in first and sends the reset while the
# reinstated session is open, after that session's TEST UNIT READY: the
# reset queues a unit attention of its own (BUS DEVICE RESET FUNCTION
# OCCURRED) behind the new nexus' POWER ON, which "one UNIT ATTENTION
# first" would not cover. A failure of a. does not skip b.: both are
# reported.
failures = []
a = b = None
try:
    b = login(second, second_isid, "b")
except Failed as e:
    failures.append(str(e))
try:
    a = login(initiator, isid, "a")
    test_unit_ready(a)
except Failed as e:
    failures.append(str(e))
if b:
    try:
        lun_reset(b, 0)
    except Failed as e:
        failures.append(str(e))
for s, what in ((a, "a"), (b, "b")):
    if s and not failures:
        try:
            logout(s, what)
        except Failed as e:
            failures.append(str(e))
    elif s:
        s.close()
for f in failures:
    print("liveness: FAILED: " + f)
sys.exit(1 if failures else 0)
