#!/bin/bash
# LUN masking and live LUN maps with several initiators (issue 6,
# sections 1 and 2): groups, '!' exclusions, read-only for one group,
# login refusal, SendTargets per initiator (libiscsi's iscsi-ls), and a
# SIGHUP reload during I/O (masking.py); then the daemon's state. The views
# are checked twice: from libiscsi contexts (masking_views.c: several
# initiator names, two ISIDs each) and from the python initiator.
. "$(dirname "$0")/lib.sh" "$@"
VIEWS=${2:?usage: $0 USCSTD MASKING_VIEWS}

T=iqn.2026-12.test:masked
P=iqn.2026-12.test:private
Q=iqn.2026-12.test:portal2
for d in shared a_only pub; do
	truncate -s 16M "$WORKDIR/$d.img"
done

# write_conf FILE HOSTSA_LUN1 HOSTSB_RO EXTRA_GROUP PRIVATE_TARGET
devices() {
	cat <<CONF
HANDLER vdisk_fileio {
	DEVICE shared {
		filename $WORKDIR/shared.img
	}
	DEVICE a_only {
		filename $WORKDIR/a_only.img
	}
	DEVICE pub {
		filename $WORKDIR/pub.img
	}
}
CONF
}

{
	devices
	cat <<CONF
TARGET_DRIVER iscsi {
	TARGET $T {
		enabled 1
		LUN 0 pub
		GROUP hostsA {
			LUN 0 shared
			LUN 1 a_only
			INITIATOR iqn.2026-12.test:a*
			INITIATOR !iqn.2026-12.test:a-bad
		}
		GROUP hostsB {
			LUN 0 shared {
				read_only 1
			}
			INITIATOR iqn.2026-12.test:b?
		}
	}
	TARGET $P {
		enabled 1
		GROUP only {
			LUN 0 pub
			INITIATOR iqn.2026-12.test:a1
		}
	}
	TARGET $Q {
		enabled 1
		allowed_portal 127.0.0.2
		LUN 0 pub
	}
}
CONF
} > "$WORKDIR/scst.conf"

# The reload: hostsA loses LUN 1 (a_only goes to hostsB), shared is
# read-write for hostsB, c9 gets a group of its own, the private target
# goes.
{
	devices
	cat <<CONF
TARGET_DRIVER iscsi {
	TARGET $T {
		enabled 1
		LUN 0 pub
		GROUP hostsA {
			LUN 0 shared
			INITIATOR iqn.2026-12.test:a*
			INITIATOR !iqn.2026-12.test:a-bad
		}
		GROUP hostsB {
			LUN 0 shared
			LUN 1 a_only
			INITIATOR iqn.2026-12.test:b?
		}
		GROUP hostsC {
			LUN 3 pub
			INITIATOR iqn.2026-12.test:c9
		}
	}
}
CONF
} > "$WORKDIR/reload.conf"

# A reload that must be refused whole: a group names an unknown device.
sed -e 's/LUN 1 a_only/LUN 1 no_such_device/' "$WORKDIR/scst.conf" > "$WORKDIR/bad.conf"

EXTRA_PORTAL_HOSTS=127.0.0.2 start_uscstd -c "$WORKDIR/scst.conf"

note "SendTargets per initiator (iscsi-ls)"
# targets_for INITIATOR [PORTAL_HOST]
targets_for() {
	timeout "$CMD_TIMEOUT" iscsi-ls -i "$1" "iscsi://${2:-127.0.0.1}:$PORT" 2>&1 |
		sed -n 's/^Target:\([^ ]*\).*/\1/p' | sort | tr '\n' ' '
}
got=$(targets_for iqn.2026-12.test:a1)
[ "$got" = "$T $P " ] || fail "a1's SendTargets: '$got', expected both targets"
got=$(targets_for iqn.2026-12.test:b1)
[ "$got" = "$T " ] || fail "b1's SendTargets: '$got', expected $T only"
note "SendTargets: a1 sees both targets, b1 only $T"

note "allowed_portal: $Q only on 127.0.0.2"
got=$(targets_for iqn.2026-12.test:b1 127.0.0.2)
[ "$got" = "$T $Q " ] || fail "b1's SendTargets on 127.0.0.2: '$got', expected $T and $Q"
timeout "$CMD_TIMEOUT" iscsi-inq -i iqn.2026-12.test:b1 "iscsi://127.0.0.2:$PORT/$Q/0" \
	> /dev/null || fail "no login to $Q through 127.0.0.2"
timeout "$CMD_TIMEOUT" iscsi-inq -i iqn.2026-12.test:b1 "iscsi://127.0.0.1:$PORT/$Q/0" \
	> /dev/null 2>&1 && fail "login to $Q through 127.0.0.1 accepted"
grep -q "login to target $Q through portal 127.0.0.1 refused: not an allowed_portal" "$LOG" ||
	fail "no log line for the refused portal"
note "allowed_portal: listed and reachable on 127.0.0.2 only"

note "the views of six initiators through libiscsi (masking_views)"
run timeout "$CMD_TIMEOUT" "$VIEWS" "127.0.0.1:$PORT" "$T" "$P" || fail "masking_views failed"

run timeout "$CMD_TIMEOUT" python3 "$LIB_DIR/masking.py" "$PORT" "$USCSTD_PID" \
	"$WORKDIR/scst.conf" "$WORKDIR/reload.conf" "$WORKDIR/bad.conf" "$T" "$P" ||
	fail "masking.py failed"
grep -q "reload refused, nothing changed: .*bad.conf\|reload refused, nothing changed: .*scst.conf:.*no_such_device" "$LOG" ||
	fail "the refused reload did not log its reason"
grep -q "target $P: removed from the configuration" "$LOG" || fail "no log of the removed target"

LIVENESS_TARGET=$T check_liveness "masking" iqn.2026-12.test:a1 800000000001
stop_uscstd
