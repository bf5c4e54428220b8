#!/bin/bash
# scst.conf checks seen from the daemon (issue 5, section 5); the exact
# messages are unit-tested in tests/unit/test_config.c, this shows them
# reaching the user of uscstd -c:
#  - a 1.6 MB statement is refused at once (it took 14 s to parse before
#    parsing was made linear);
#  - a duplicate attribute, an invalid iSCSI target name and a duplicate
#    rel_tgt_id stop the start-up with FILE:LINE: reason;
#  - numbers are decimal: size_mb 010 is a 10 MiB LUN.
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
echo "config_checks: all checks passed"
