#!/bin/bash
# scst.conf checks seen from the daemon (issue 5, section 5); the exact
# messages are unit-tested in tests/unit/test_config.c, this shows them
# reaching the user of uscstd -c:
#  - a 1.6 MB statement is refused at once (it took 14 s to parse before
#    parsing was made linear);
#  - a duplicate attribute, an invalid iSCSI target name and a duplicate
#    rel_tgt_id stop the start-up with FILE:LINE: reason;
#  - numbers are decimal: size_mb 010 is a 10 MiB LUN;
#  - uscstd --list-attributes lists every section's attributes, and a file
#    giving each listed one its listed default loads.
. "$(dirname "$0")/lib.sh" "$@"

# expect_config_error NAME SECONDS EXPECTED_MESSAGE_REGEX: config
# $WORKDIR/NAME must make uscstd exit non-zero within SECONDS, printing the
# message.
expect_config_error() {
	local conf=$WORKDIR/$1 limit=$2 want=$3 out rc

	out=$(timeout -k 5 "$limit" "$USCSTD" -c "$conf" --listen "127.0.0.1:$(free_port)" \
		--state-dir "$WORKDIR/state" 2>&1 < /dev/null)
	rc=$?
	echo "$out" | tail -n 2 | cut -c 1-300
	[ "$rc" = 124 ] && fail "uscstd still ran after $limit s with the bad config $1"
	[ "$rc" != 0 ] || fail "uscstd exited 0 with the bad config $1"
	grep -Eq -- "$want" <<< "$out" || fail "no message matching '$want' for $1"
	note "$1: exit status $rc, message as expected"
}

mkdir -p "$WORKDIR/state"

note "config: one 1.6 MB statement (800k words)"
{
	printf 'HANDLER vdisk_nullio {\n\tDEVICE n {\n\t\tbig'
	head -c 1600000 /dev/zero | tr '\0' 'w' | sed 's/w/ w/g' | head -c 1600000
	printf '\n\t}\n}\n'
} > "$WORKDIR/big.conf"
# A generous bound for a sanitized build on a loaded machine; the old
# parser needed 14 s here.
expect_config_error big.conf 10 "big\.conf:3: device 'n': unknown attribute 'big'"

note "config: a duplicate attribute"
cat > "$WORKDIR/dup.conf" <<CONF
HANDLER vdisk_nullio {
	DEVICE n {
		size_mb 16
		blocksize 512
		size_mb 32
	}
}
CONF
expect_config_error dup.conf 30 \
	"dup\.conf:5: duplicate attribute 'size_mb' \(first given on line 3\)"

note "config: a target name that is not an iSCSI name"
cat > "$WORKDIR/name.conf" <<CONF
TARGET_DRIVER iscsi {
	TARGET iqn.2026-12.org.example:good
	TARGET my_target
}
CONF
expect_config_error name.conf 30 \
	"name\.conf:3: 'my_target' is not a valid iSCSI name \('_' is not allowed"

note "config: two targets with one rel_tgt_id"
cat > "$WORKDIR/relid.conf" <<CONF
TARGET_DRIVER iscsi {
	TARGET iqn.2026-12.org.example:a {
		rel_tgt_id 7
	}
	TARGET iqn.2026-12.org.example:b {
		rel_tgt_id 007
	}
}
CONF
expect_config_error relid.conf 30 \
	"relid\.conf:6: duplicate rel_tgt_id 7 \(first given on line 3, for target 'iqn\.2026-12\.org\.example:a'\)"

note "config: size_mb 010 is ten MiB, not eight"
IQN=iqn.2026-12.org.example:decimal
cat > "$WORKDIR/decimal.conf" <<CONF
TARGET_DRIVER iscsi {
	TARGET $IQN {
		enabled 1
		LUN 0 n
	}
}
HANDLER vdisk_nullio {
	DEVICE n {
		size_mb 010
		blocksize 512
	}
}
CONF
start_uscstd -c "$WORKDIR/decimal.conf"
out=$(run iscsi-readcapacity16 -i "$INI1" "iscsi://127.0.0.1:$PORT/$IQN/0")
grep -q '^Total size:10485760$' <<< "$out" ||
	fail "READ CAPACITY(16) does not say 10 MiB: $out"
note "the LUN has 10485760 bytes"
stop_uscstd
note "uscstd --list-attributes: every section's attribute descriptors"
out=$("$USCSTD" --list-attributes 2>&1) || fail "uscstd --list-attributes exited $?: $out"
for want in \
	'^TARGET attributes of every TARGET:$' \
	'^  rel_tgt_id  \[uint 1\.\.65535\]  default: none; set at creation only$' \
	'^  enabled  \[bool\]  default: 0; changeable at run time$' \
	'^LUN attributes of every LUN:$' \
	'^GROUP attributes of every GROUP:$' \
	'^  t10_vend_id  \[string, at most 8 characters\]  default: USCST; changeable at run time$' \
	'^TARGET attributes of the TARGETs of driver iscsi:$' \
	'^  QueuedCommands  \[uint 1\.\.2048\]  default: 32; changeable at run time$' \
	'^  IncomingUser  \[user secret\]  default: none; repeatable; secret; changeable at run time$' \
	'^TARGET_DRIVER attributes of TARGET_DRIVER iscsi:$' \
	'^DEVICE attributes of the DEVICEs of HANDLER vdisk_fileio:$' \
	'^  filename  \[string\]  default: none; required; set at creation only$' \
	'^  blocksize  \[uint: 512 or 4096\]  default: 512; set at creation only$'; do
	grep -Eq -- "$want" <<< "$out" || fail "--list-attributes has no line matching '$want'"
done
note "--list-attributes: $(grep -c '^  [A-Za-z]' <<< "$out") attribute lines, help under each"

# The listing cannot drift from what the loader takes: a file that gives
# every listed attribute of a nullio device, an iscsi target and a LUN its
# listed default loads.
defaults_of() { # SECTION-HEADING: "name value" lines for the attributes with a default
	awk -v h="$1" '$0 == h { on = 1; next } /^[A-Z]/ { on = 0 }
		on && /^  [A-Za-z_0-9]+  \[/ && match($0, /default: [^;]*;/) {
			v = substr($0, RSTART + 9, RLENGTH - 10)
			if (v != "none") print $1, "\"" v "\"" }' <<< "$out"
}
dev_attrs=$(defaults_of "DEVICE attributes of every DEVICE:"; \
	defaults_of "DEVICE attributes of the DEVICEs of HANDLER vdisk_nullio:")
tgt_attrs=$(defaults_of "TARGET attributes of every TARGET:"; \
	defaults_of "TARGET attributes of the TARGETs of driver iscsi:")
lun_attrs=$(defaults_of "LUN attributes of every LUN:")
[ "$(wc -l <<< "$dev_attrs")" -ge 5 ] || fail "too few device defaults listed: $dev_attrs"
[ "$(wc -l <<< "$tgt_attrs")" -ge 16 ] || fail "too few target defaults listed: $tgt_attrs"
IQN=iqn.2026-12.org.example:defaults
cat > "$WORKDIR/defaults.conf" <<CONF
HANDLER vdisk_nullio {
	DEVICE n {
$dev_attrs
	}
}
TARGET_DRIVER iscsi {
$(defaults_of "TARGET_DRIVER attributes of every TARGET_DRIVER:")
	TARGET $IQN {
$tgt_attrs
		LUN 0 n {
$lun_attrs
		}
	}
}
CONF
start_uscstd -c "$WORKDIR/defaults.conf"
note "a file of $(grep -c '"' "$WORKDIR/defaults.conf") listed defaults loads"
stop_uscstd

echo "config_checks: all checks passed"
