# CHAP logins (RFC 7143 12.1.3) against the targets chap.sh configures:
#   chap.py PORT USCSTD_LOG
# CHAP_TGT: IncomingUser joe and ann, OutgoingUser array (mutual);
# ONEWAY_TGT: IncomingUser joe only; OPEN_TGT: no CHAP; the discovery
# service: IncomingUser disc, OutgoingUser discarray. Every algorithm
# one-way and mutual, both encodings, and everything that must fail,
# with the status it must fail with and the reason uscstd must log for it
# (refusals are paced so that the log's rate limit keeps every line).
# Exits 1 with the reasons on failure.
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import (OP_TEXT_RSP, ConnectionClosed, LoginRejected,  # noqa: E402
                          ProtocolError, Session, chap_decode, chap_encode, chap_response)

PORT = int(sys.argv[1])
LOG = sys.argv[2]
CHAP_TGT = "iqn.2026-11.test:chap"
ONEWAY_TGT = "iqn.2026-11.test:chap-oneway"
OPEN_TGT = "iqn.2026-11.org.uscst:demo"
INI = "iqn.2026-11.test:chap-initiator"
JOE, JOE_SECRET = "joe", "12charsecret"
ANN, ANN_SECRET = "ann", "ann's other secret"
ARRAY, ARRAY_SECRET = "array", "targetsecret12"
DISC, DISC_SECRET = "disc", "discoverysecret"
DISCARRAY, DISCARRAY_SECRET = "discarray", "discarraysecret"
# The target's RspTimeout for CHAP_TGT (chap.sh): bounds a stalled login.
RSP_TIMEOUT = 3

AUTH_FAILURE, INITIATOR_ERROR = 0x0201, 0x0200
failures = []
isid_seq = [0]


def new_isid():
    isid_seq[0] += 1
    return bytes.fromhex("8000c4a0%04x" % isid_seq[0])


def check(cond, what):
    if cond:
        print("ok: " + what)
    else:
        print("FAILED: " + what)
        failures.append(what)


def session():
    return Session(PORT, timeout=10)


def full_session_works(s, what):
    """TEST UNIT READY answered (a first UNIT ATTENTION is fine), logout."""
    ok = s.ready()
    s.logout()
    check(ok, what)


def names(target=CHAP_TGT, discovery=False):
    if discovery:
        return [("InitiatorName", INI), ("SessionType", "Discovery")]
    return [("InitiatorName", INI), ("TargetName", target), ("SessionType", "Normal")]


def log_size():
    return os.path.getsize(LOG)


def logged_since(offset, *texts):
    """Whether a line of uscstd's log after byte @offset has all @texts
    (waits 2 s at most)."""
    for _ in range(20):
        with open(LOG, "rb") as f:
            f.seek(offset)
            for line in f.read().decode(errors="replace").splitlines():
                if all(t in line for t in texts):
                    return True
        time.sleep(0.1)
    return False


def refused(what, status, reason, steps):
    """@steps(s) is a login that must end in a Login Response with
    @status; the target must then close the connection and log @reason
    with the peer's address and the initiator's name."""
    # At most LOG_RATELIMIT_BURST (10) lines a second from one call site.
    time.sleep(0.12)
    offset = log_size()
    s = session()
    peer = "127.0.0.1:%d (%s): " % (s.sock.getsockname()[1], INI)
    try:
        steps(s)
    except LoginRejected as e:
        got = e.status
    except (ConnectionClosed, ProtocolError, OSError) as e:
        check(False, "%s: refused with status 0x%04x (got %s)" % (what, status, e))
        s.close()
        return
    else:
        check(False, "%s: refused with status 0x%04x (the login went on)" % (what, status))
        s.close()
        return
    closed = False
    try:
        s.sock.settimeout(5)
        closed = s.sock.recv(1) == b""
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    s.close()
    check(got == status and closed,
          "%s: status 0x%04x (want 0x%04x), connection %s" %
          (what, got, status, "closed" if closed else "left open"))
    # A refusal the generic login checks make (a wrong stage) has no
    # reason of its own, only the status.
    texts = ("refused: ", reason) if reason else ("login failed with status 0x%04x" % status,)
    check(logged_since(offset, peer, *texts),
          "%s: logged '%s' with address and initiator" % (what, texts[-1]))


def challenge(s, target=CHAP_TGT, algs="5", discovery=False):
    """AuthMethod=CHAP and CHAP_A: returns (alg, id, challenge bytes)."""
    _, a = s.login_step(names(target, discovery) + [("AuthMethod", "CHAP,None")], 0,
                        isid=new_isid())
    assert a.get("AuthMethod") == "CHAP", a
    _, a = s.login_step([("CHAP_A", algs)], 0)
    return int(a["CHAP_A"]), int(a["CHAP_I"]), chap_decode(a["CHAP_C"])


def response(s, user=JOE, secret=JOE_SECRET, extra=(), target=CHAP_TGT):
    alg, ident, c = challenge(s, target)
    s.login_step([("CHAP_N", user), ("CHAP_R", chap_encode(chap_response(alg, ident, secret, c)))]
                 + list(extra), 0, 1, transit=True)


# ---------------------------------------------------------------- good logins

for alg, name in ((5, "MD5"), (6, "SHA-1"), (7, "SHA-256"), (8, "SHA3-256")):
    s = session()
    s.login_chap(INI, CHAP_TGT, new_isid(), JOE, JOE_SECRET, algs=str(alg))
    check(s.chap_alg == alg, "%s one-way: target chose CHAP_A=%d" % (name, s.chap_alg))
    full_session_works(s, "%s one-way: logged in, TEST UNIT READY answered" % name)
    for enc in ("hex", "base64"):
        s = session()
        s.login_chap(INI, CHAP_TGT, new_isid(), JOE, JOE_SECRET, algs=str(alg),
                     mutual=(ARRAY, ARRAY_SECRET), encoding=enc)
        full_session_works(s, "%s mutual (%s): target's response right, session works"
                           % (name, enc))

# The initiator's order of preference, among what the target does.
s = session()
s.login_chap(INI, CHAP_TGT, new_isid(), JOE, JOE_SECRET, algs="99,8,7,6,5")
check(s.chap_alg == 8, "CHAP_A=99,8,7,6,5: target chose %d (want 8)" % s.chap_alg)
s.logout()
s = session()
s.login_chap(INI, CHAP_TGT, new_isid(), JOE, JOE_SECRET, algs="5,7")
check(s.chap_alg == 5, "CHAP_A=5,7: target chose %d (want 5)" % s.chap_alg)
s.logout()

# Any IncomingUser line.
s = session()
s.login_chap(INI, CHAP_TGT, new_isid(), ANN, ANN_SECRET, algs="7")
full_session_works(s, "second IncomingUser (ann) logs in")

# Discovery: CHAP from the TARGET_DRIVER section, then SendTargets.
for mutual in (None, (DISCARRAY, DISCARRAY_SECRET)):
    s = session()
    s.login_chap(INI, None, new_isid(), DISC, DISC_SECRET, algs="7", mutual=mutual,
                 discovery=True)
    itt = s.send_text()
    pdu = s.recv_pdu()
    targets = [v for k, v in (p.split("=", 1) for p in
               pdu.data.rstrip(b"\0").decode().split("\0") if "=" in p) if k == "TargetName"]
    check(pdu.opcode == OP_TEXT_RSP and pdu.itt == itt and CHAP_TGT in targets,
          "discovery CHAP%s: SendTargets lists %s" % (" mutual" if mutual else "", targets))
    s.logout()

# Where CHAP is not configured, CHAP is not offered: "CHAP,None" -> None.
s = session()
_, a = s.login_step(names(OPEN_TGT) + [("AuthMethod", "CHAP,None")], 0, 1, transit=True,
                    isid=new_isid())
check(a.get("AuthMethod") == "None", "no IncomingUser: AuthMethod=CHAP,None answered %s"
      % a.get("AuthMethod"))
s.close()

# A transition asked for before CHAP is done is answered with T=0.
s = session()
flags, a = s.login_step(names() + [("AuthMethod", "CHAP,None")], 0, 1, transit=True,
                        isid=new_isid())
check(a.get("AuthMethod") == "CHAP" and not flags & 0x80,
      "T=1 with AuthMethod=CHAP: answered CHAP with T=0 (flags 0x%02x)" % flags)
flags, a = s.login_step([("CHAP_A", "5")], 0, 1, transit=True)
check("CHAP_C" in a and not flags & 0x80, "T=1 with CHAP_A: challenge with T=0")
alg, ident, c = int(a["CHAP_A"]), int(a["CHAP_I"]), chap_decode(a["CHAP_C"])
flags, a = s.login_step([("CHAP_N", JOE), ("CHAP_R", chap_encode(
    chap_response(alg, ident, JOE_SECRET, c)))], 0, 1, transit=True)
check(flags & 0x80 and flags & 3 == 1, "T=1 with the right CHAP_R: into the operational stage")
s.close()

# ---------------------------------------------------------------- refused

refused("wrong secret", AUTH_FAILURE, "wrong CHAP_R for user 'joe'",
        lambda s: response(s, secret="not the secret"))
refused("unknown CHAP_N", AUTH_FAILURE, "unknown CHAP_N 'mallory'",
        lambda s: response(s, user="mallory"))
refused("ann's name with joe's secret", AUTH_FAILURE, "wrong CHAP_R for user 'ann'",
        lambda s: response(s, user=ANN, secret=JOE_SECRET))
refused("no credentials: AuthMethod=None where CHAP is configured", AUTH_FAILURE,
        "CHAP is required and AuthMethod does not offer it",
        lambda s: s.login_step(names() + [("AuthMethod", "None")], 0, 1, transit=True,
                               isid=new_isid()))
refused("no credentials: straight into the operational stage", AUTH_FAILURE,
        "CHAP is required and the login skipped the security stage",
        lambda s: s.login(INI, CHAP_TGT, new_isid(), []))
refused("no credentials: security stage without AuthMethod", AUTH_FAILURE,
        "CHAP is required and AuthMethod was not negotiated",
        lambda s: s.login_step(names(), 0, 1, transit=True, isid=new_isid()))
refused("AuthMethod=CHAP alone where CHAP is not configured", AUTH_FAILURE,
        "AuthMethod does not offer None",
        lambda s: s.login_step(names(OPEN_TGT) + [("AuthMethod", "CHAP")], 0, isid=new_isid()))
refused("discovery without CHAP", AUTH_FAILURE, "discovery login refused: CHAP is required",
        lambda s: s.login_step(names(discovery=True) + [("AuthMethod", "None")], 0, 1,
                               transit=True, isid=new_isid()))
refused("discovery with the wrong secret", AUTH_FAILURE, "wrong CHAP_R for user 'disc'",
        lambda s: (lambda alg, i, c: s.login_step(
            [("CHAP_N", DISC), ("CHAP_R", chap_encode(chap_response(alg, i, "wrong wrong!", c)))],
            0, 1, transit=True))(*challenge(s, discovery=True)))
refused("CHAP_A with no algorithm we do", AUTH_FAILURE,
        "CHAP_A offers none of the algorithms we do",
        lambda s: challenge(s, algs="4,9,128"))


def reflected(s):
    """Mutual CHAP whose challenge is the target's own (reflection)."""
    alg, ident, c = challenge(s)
    r = chap_encode(chap_response(alg, ident, JOE_SECRET, c))
    s.login_step([("CHAP_N", JOE), ("CHAP_R", r), ("CHAP_I", str(ident)),
                  ("CHAP_C", chap_encode(c))], 0, 1, transit=True)


refused("mutual CHAP reflecting the target's challenge", AUTH_FAILURE,
        "CHAP_C is the challenge we sent", reflected)
refused("mutual CHAP where no OutgoingUser is configured", AUTH_FAILURE,
        "no OutgoingUser is configured",
        lambda s: response(s, target=ONEWAY_TGT,
                           extra=[("CHAP_I", "9"), ("CHAP_C", chap_encode(os.urandom(16)))]))
refused("mutual CHAP with an 8-byte challenge", AUTH_FAILURE, "CHAP_C is shorter than 16 bytes",
        lambda s: response(s, extra=[("CHAP_I", "9"), ("CHAP_C", chap_encode(os.urandom(8)))]))


def bad_r(value):
    def steps(s):
        challenge(s)
        s.login_step([("CHAP_N", JOE), ("CHAP_R", value)], 0, 1, transit=True)
    return steps


refused("CHAP_R with an odd number of hex digits", INITIATOR_ERROR,
        "CHAP_R is malformed (an odd number of hex digits)", bad_r("0x" + "a" * 31))
refused("CHAP_R with a non-hex digit", INITIATOR_ERROR,
        "CHAP_R is malformed (a character that is not a hex digit)", bad_r("0x" + "g" * 32))
refused("CHAP_R in bad base64", INITIATOR_ERROR,
        "CHAP_R is malformed (a character outside the base64 alphabet)", bad_r("0b" + "!" * 24))
refused("CHAP_R without 0x/0b", INITIATOR_ERROR,
        "CHAP_R is malformed (neither 0x (hex) nor 0b (base64))", bad_r("a" * 32))
refused("CHAP_R of 4000 bytes", INITIATOR_ERROR,
        "CHAP_R is malformed (a value longer than allowed)", bad_r("0x" + "ab" * 4000))
refused("CHAP_R of the wrong length", AUTH_FAILURE,
        "wrong CHAP_R for user 'joe'", bad_r("0x" + "ab" * 8))
refused("CHAP_R missing", INITIATOR_ERROR, "CHAP_R is missing",
        lambda s: (challenge(s), s.login_step([("CHAP_N", JOE)], 0, 1, transit=True)))
refused("CHAP_N missing", INITIATOR_ERROR, "CHAP_N is missing",
        lambda s: (challenge(s), s.login_step([("CHAP_R", "0x" + "00" * 16)], 0, 1,
                                              transit=True)))
refused("CHAP_I without CHAP_C", INITIATOR_ERROR, "CHAP_I without the other",
        lambda s: response(s, extra=[("CHAP_I", "9")]))
refused("CHAP_I of 300", INITIATOR_ERROR, "CHAP_I is not a number from 0 to 255",
        lambda s: response(s, extra=[("CHAP_I", "300"), ("CHAP_C", chap_encode(os.urandom(16)))]))
refused("CHAP_C in bad hex", INITIATOR_ERROR,
        "CHAP_C is malformed (a character that is not a hex digit)",
        lambda s: response(s, extra=[("CHAP_I", "9"), ("CHAP_C", "0xzz")]))
refused("CHAP_N before CHAP_A", INITIATOR_ERROR, "CHAP keys before CHAP_A",
        lambda s: (s.login_step(names() + [("AuthMethod", "CHAP")], 0, isid=new_isid()),
                   s.login_step([("CHAP_N", JOE), ("CHAP_R", "0x" + "00" * 16)], 0)))
refused("CHAP_A without AuthMethod", INITIATOR_ERROR,
        "CHAP_A without AuthMethod=CHAP agreed before",
        lambda s: s.login_step(names() + [("CHAP_A", "5")], 0, isid=new_isid()))
refused("CHAP_A before AuthMethod in one request", INITIATOR_ERROR,
        "CHAP_A without AuthMethod=CHAP agreed before",
        lambda s: s.login_step(names() + [("CHAP_A", "5"), ("AuthMethod", "CHAP")], 0,
                               isid=new_isid()))
refused("CHAP_A after AuthMethod=None", INITIATOR_ERROR,
        "CHAP_A without AuthMethod=CHAP agreed before",
        lambda s: s.login_step(names(OPEN_TGT) + [("AuthMethod", "None"), ("CHAP_A", "5")], 0,
                               isid=new_isid()))
refused("CHAP_A twice", INITIATOR_ERROR, "CHAP_A sent twice",
        lambda s: (challenge(s), s.login_step([("CHAP_A", "5")], 0)))
# A CHAP_ key that does not exist is any unknown key: NotUnderstood.
s = session()
challenge(s)
_, a = s.login_step([("CHAP_X", "1")], 0)
check(a.get("CHAP_X") == "NotUnderstood", "CHAP_X answered %s" % a.get("CHAP_X"))
s.close()


def chap_after_done(s):
    s.login_chap(INI, CHAP_TGT, new_isid(), JOE, JOE_SECRET, keys=[("CHAP_A", "5")])


refused("CHAP_A in the operational stage", INITIATOR_ERROR,
        "CHAP_A outside the security stage", chap_after_done)


def skip_ahead(s):
    """Operational stage while the target still holds us in security."""
    s.login_step(names() + [("AuthMethod", "CHAP")], 0, 1, transit=True, isid=new_isid())
    s.login_step([("MaxRecvDataSegmentLength", "8192")], 1, 3, transit=True)


refused("operational stage before CHAP finished", INITIATOR_ERROR, None, skip_ahead)

# A login that stops after the challenge: the target closes it once its
# RspTimeout has passed, and serves others meanwhile.
s = session()
challenge(s)
start = time.monotonic()
s.sock.settimeout(RSP_TIMEOUT + 10)
try:
    gone = s.sock.recv(1) == b""
except ConnectionResetError:
    gone = True
except socket.timeout:
    gone = False
waited = time.monotonic() - start
s.close()
check(gone and waited <= RSP_TIMEOUT + 3,
      "login stalled after the challenge: closed after %.1f s (RspTimeout %d)"
      % (waited, RSP_TIMEOUT))

# After all of it, the right secret still works.
s = session()
s.login_chap(INI, CHAP_TGT, new_isid(), JOE, JOE_SECRET, algs="7", mutual=(ARRAY, ARRAY_SECRET))
full_session_works(s, "after the refusals: mutual SHA-256 login works")

print("chap.py: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
