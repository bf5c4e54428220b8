"""Logins to a target that does not exist, as fast as they go: each is
refused (Target not found) and logged by the target's rate-limited
"login ... refused" line.

  log_refused_logins.py PORT COUNT

Exit status 0 when every login was refused; a message otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import Session, LoginRejected  # noqa: E402

port, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(count):
    s = Session(port, timeout=10)
    try:
        s.login("iqn.2026-11.test:syslog", "iqn.2026-11.test:no-such-target",
                b"\x40\0\0\0\x51\x01", [])
        sys.exit("FAIL: login %d to a target that does not exist succeeded" % i)
    except LoginRejected as e:
        if e.status != 0x0203:
            sys.exit("FAIL: login %d refused with 0x%04x, not 0x0203 (Not found)" % (i, e.status))
    finally:
        s.close()
print("%d logins refused with 0x0203" % count)
