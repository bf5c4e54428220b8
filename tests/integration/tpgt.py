# The Target Portal Group Tag a login declares (tpgt.sh says what is
# configured).
#
#   tpgt.py login PORT TARGET INITIATOR TAG
#       A normal session to TARGET on 127.0.0.1:PORT: the Login Response
#       must declare TargetPortalGroupTag=TAG; a second connection joining
#       the session by its TSIH (MC/S) must be told the same tag; a READ(10)
#       of LBA 0 is answered first.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import Session  # noqa: E402


def check(cond, what):
    if not cond:
        sys.exit("tpgt: FAILED: " + what)


def login(port, target, initiator, tag):
    isid = b"\x40\x00\x07\x07\x07\x07"
    s = Session(int(port))
    answers = s.login(initiator, target, isid, [("MaxConnections", "2")])
    where = "login to %s on port %s" % (target, port)
    check(answers.get("TargetPortalGroupTag") == tag,
          "%s: TargetPortalGroupTag=%r, expected %s (answers %r)"
          % (where, answers.get("TargetPortalGroupTag"), tag, answers))
    s.ready()
    st, data, _ = s.read10(0, 4096)
    check(st == 0 and len(data) == 4096, "%s: READ(10) status %r" % (where, st))
    # A connection of the same session belongs to the same portal group.
    s2 = Session(int(port))
    joined = s2.login(initiator, target, isid, [], tsih=s.tsih, cid=1)
    check(joined.get("TargetPortalGroupTag") == tag,
          "%s, second connection (TSIH %d): TargetPortalGroupTag=%r, expected %s"
          % (where, s.tsih, joined.get("TargetPortalGroupTag"), tag))
    # Reason 0: the whole session, both connections, logs out.
    s2.logout()
    s.close()
    print("tpgt: %s: TargetPortalGroupTag=%s on both connections" % (where, tag))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "login":
        login(*sys.argv[2:])
    else:
        sys.exit("usage: tpgt.py login PORT TARGET INITIATOR TAG")
