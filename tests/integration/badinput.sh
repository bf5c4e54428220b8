#!/bin/bash
# Bad input must not hurt the daemon:
#  - a bad config file makes uscstd exit non-zero at start-up with a message
#    naming the file, the line and the reason;
#  - clients that send garbage, truncated PDUs, absurd lengths, or vanish in
#    the middle of a login do not kill it: afterwards it still serves
#    INQUIRY and still exits 0 on SIGTERM.
. "$(dirname "$0")/lib.sh" "$@"

# expect_config_error NAME EXPECTED_MESSAGE_REGEX: config $WORKDIR/NAME must
# make uscstd exit non-zero within 30 s, printing the message.
expect_config_error() {
	local conf=$WORKDIR/$1 want=$2 out rc

	out=$(timeout -k 5 30 "$USCSTD" -c "$conf" --listen "127.0.0.1:$(free_port)" \
		--state-dir "$WORKDIR/state" 2>&1 < /dev/null)
	rc=$?
	echo "$out" | tail -n 3
	[ "$rc" = 124 ] && fail "uscstd kept running with the bad config $1"
	[ "$rc" != 0 ] || fail "uscstd exited 0 with the bad config $1"
	grep -Eq -- "$want" <<< "$out" || fail "no message matching '$want' for $1"
	note "$1: exit status $rc, message as expected"
}

mkdir -p "$WORKDIR/state"
truncate -s 64M "$WORKDIR/disk.img"

note "config: LUN referring to a device that does not exist"
cat > "$WORKDIR/unknown_device.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk1 {
		filename $WORKDIR/disk.img
	}
}

TARGET_DRIVER iscsi {
	TARGET iqn.2026-11.test:bad {
		LUN 0 d9
	}
}
CONF
expect_config_error unknown_device.conf \
	"unknown_device\.conf:9: LUN 0 refers to unknown device 'd9'"

note "config: unknown handler"
printf 'HANDLER vdisk_foo {\n\tDEVICE d {\n\t}\n}\n' > "$WORKDIR/unknown_handler.conf"
expect_config_error unknown_handler.conf "unknown_handler\.conf:1: unknown handler 'vdisk_foo'"

note "config: missing '}'"
printf '# comment\n\nHANDLER vdisk_fileio {\n\tDEVICE d {\n\t\tfilename %s\n\t}\n' \
	"$WORKDIR/disk.img" > "$WORKDIR/missing_brace.conf"
expect_config_error missing_brace.conf "missing_brace\.conf:3: missing '\}'"

note "config: an initiator two groups would take"
cat > "$WORKDIR/group.conf" <<CONF
HANDLER vdisk_nullio {
	DEVICE n {
		size_mb 16
	}
}
TARGET_DRIVER iscsi {
	TARGET iqn.2026-11.test:bad {
		GROUP ig1 {
			LUN 0 n
			INITIATOR iqn.2026-11.test:init*
		}
		GROUP ig2 {
			LUN 0 n
			INITIATOR iqn.2026-11.test:i?it1
		}
	}
}
CONF
expect_config_error group.conf "group\.conf:14: initiator 'iqn\.2026-11\.test:i\?it1' of group 'ig2' also matches 'iqn\.2026-11\.test:init\*' of group 'ig1'"

note "config: a group's LUN naming an unknown device"
sed -e 's/LUN 0 n$/LUN 0 nothere/' "$WORKDIR/group.conf" > "$WORKDIR/group_dev.conf"
expect_config_error group_dev.conf "group_dev\.conf:9: LUN 0 refers to unknown device 'nothere'"

note "config: an initiator pattern with a '!' inside"
sed -e 's/INITIATOR iqn.2026-11.test:i?it1/INITIATOR iqn!x/' "$WORKDIR/group.conf" > "$WORKDIR/group_pat.conf"
expect_config_error group_pat.conf "group_pat\.conf:14: group 'ig2': 'iqn!x' is not an initiator name pattern"

note "config: an attribute nobody takes"
cat > "$WORKDIR/unknown_attr.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk1 {
		filename $WORKDIR/disk.img
		no_such_attribute 1
	}
}
CONF
expect_config_error unknown_attr.conf "unknown_attr\.conf:4: .*no_such_attribute"

note "config: file that does not exist"
expect_config_error does_not_exist.conf "does_not_exist\.conf: No such file or directory"

# Bad command lines: refused before serving anything, with a reason.
for args in "--listen 127.0.0.1:99999" "--listen 127.0.0.1:0" "--listen 127.0.0.1:iscsi" \
	"--threads 0" "--log-level loud" "--no-such-option"; do
	# shellcheck disable=SC2086
	out=$(timeout -k 5 30 "$USCSTD" $args --state-dir "$WORKDIR/state" 2>&1 < /dev/null)
	rc=$?
	[ "$rc" = 124 ] && fail "uscstd kept running with '$args'"
	[ "$rc" != 0 ] || fail "uscstd exited 0 with '$args'"
	[ -n "$out" ] || fail "uscstd said nothing about '$args'"
	note "'$args': exit status $rc: $(tail -n 1 <<< "$out")"
done

start_uscstd

note "hostile clients"
python3 - "$PORT" "$DEMO_IQN" <<'PY' || fail "the hostile client script failed"
import os, socket, struct, sys, time

port, iqn = int(sys.argv[1]), sys.argv[2]

def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(5)
    return s

def drain(s):
    """Read until the target closes or stays silent; a reply is fine."""
    try:
        while s.recv(65536):
            pass
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()

def login_pdu(data, dlen=None, flags=0x81):
    """A Login Request (RFC 7143 11.12): security -> operational, transit."""
    if dlen is None:
        dlen = len(data)
    bhs = bytearray(48)
    bhs[0] = 0x43                                  # immediate | LOGIN
    bhs[1] = flags
    bhs[5:8] = dlen.to_bytes(3, "big")
    bhs[8:14] = bytes([0x40, 0, 0, 0, 0x12, 0x34])  # ISID
    struct.pack_into(">I", bhs, 16, 1)             # ITT
    return bytes(bhs) + data + b"\0" * (-len(data) % 4)

keys = (b"InitiatorName=iqn.2026-11.test:hostile\0SessionType=Normal\0"
        b"TargetName=" + iqn.encode() + b"\0AuthMethod=None\0")

cases = {
    "random garbage": lambda: os.urandom(4096),
    "zeros": lambda: b"\0" * 4096,
    "half a header": lambda: login_pdu(keys)[:20],
    "header promising more data than sent": lambda: login_pdu(keys, dlen=1000)[:48 + 100],
    "maximal data segment length": lambda: login_pdu(b"", dlen=0xFFFFFF),
    "maximal AHS length": lambda: bytes([0x43, 0x81, 0, 0, 0xFF]) + bytes(43),
    "unknown opcode": lambda: bytes([0x3f]) + bytes(47),
    "SCSI command before login": lambda: bytes([0x01, 0x80]) + bytes(46),
    "keys without NUL terminator": lambda: login_pdu(b"InitiatorName=" + b"x" * 3000),
}
for name, make in cases.items():
    s = conn()
    try:
        s.sendall(make())
    except (BrokenPipeError, ConnectionResetError):
        pass
    drain(s)
    print("sent:", name)

# Disconnect in the middle of a login: first PDU sent, no answer awaited.
for _ in range(20):
    s = conn()
    s.sendall(login_pdu(keys, flags=0x01))  # no transit: more to come
    s.close()
print("sent: 20 logins abandoned half-way")

# A complete first login exchange, then the connection is cut.
s = conn()
s.sendall(login_pdu(keys))
reply = s.recv(48)
print("login reply opcode 0x%02x" % (reply[0] if reply else 0))
s.close()

# Connections opened and closed at once.
for _ in range(50):
    conn().close()
print("sent: 50 empty connections")
PY

check_alive "after the hostile clients"
sleep 0.5
check_alive "after the hostile clients"

note "a well-behaved initiator is still served"
check_serving "after the hostile clients"
# The hostile clients' name and ISID (login_pdu above): whatever they left
# half-open must not keep it from logging in again, nor hold a LUN RESET.
check_liveness "after the hostile clients" iqn.2026-11.test:hostile 400000001234

stop_uscstd
echo "badinput: all checks passed"
