# A target's iSCSI attributes from scst.conf reach the login: what the
# target declares and the limits it negotiates down to.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import Session  # noqa: E402

port, target, initiator = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = Session(port)
answers = s.login(initiator, target, b"\x40\0\0\0\0\x07", [
    ("HeaderDigest", "CRC32C,None"),
    ("DataDigest", "CRC32C,None"),
    ("MaxBurstLength", "16776192"),
    ("FirstBurstLength", "262144"),
    ("InitialR2T", "No"),
    ("ImmediateData", "Yes"),
    ("MaxRecvDataSegmentLength", "262144"),
])
expected = {
    "TargetAlias": "uscst test array",   # declared
    "HeaderDigest": "None",              # the target allows None only
    "DataDigest": "CRC32C",              # the target insists on CRC32C
    "MaxBurstLength": "131072",          # min(ours, theirs)
    "FirstBurstLength": "65536",         # min(ours, theirs)
    "InitialR2T": "Yes",                 # OR: the target wants R2T
    "ImmediateData": "Yes",
    "MaxRecvDataSegmentLength": "16384",  # declared by the target
}
bad = {k: (v, answers.get(k)) for k, v in expected.items() if answers.get(k) != v}
if bad:
    sys.exit("unexpected login answers (expected, got): %r" % bad)
s.test_unit_ready()
data = os.urandom(200 * 1024)  # several R2T bursts of 128 KiB, 16 KiB PDUs
st, _ = s.write10(64, data)
assert st == 0, st
st, back, _ = s.read10(64, len(data))
assert st == 0 and back == data, "data read back differs"
s.logout()
print("target parameters: login answers and data as configured")
