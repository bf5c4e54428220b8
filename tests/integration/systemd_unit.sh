#!/bin/bash
# uscstd.service (dist/systemd/uscstd.service.in, as meson configured it)
# passes `systemd-analyze verify` with no complaint at all: not one line
# of output, exit status 0. Before that, the check itself is shown to
# catch a fault (an unknown key, which verify reports but exits 0 for).
# The unit's ExecStart names the installed uscstd, which need not exist
# here: the copy verified runs the build's uscstd instead, and nothing
# else in it is changed. Its Documentation= pages are found in the
# build's man pages (MANPATH), so verify checks them too.
#
#   systemd_unit.sh USCSTD UNIT SBINDIR SYSCONFDIR USCSTD_8 USCSTADMIN_8 SCST_CONF_5
. "$(dirname "$0")/lib.sh" "$1"
UNIT=${2:?} SBINDIR=${3:?} SYSCONFDIR=${4:?}
shift 4
[ $# = 3 ] || fail "usage: systemd_unit.sh USCSTD UNIT SBINDIR SYSCONFDIR USCSTD_8 USCSTADMIN_8 SCST_CONF_5"
command -v systemd-analyze > /dev/null || fail "systemd-analyze is missing (Debian's systemd package)"

mkdir -p "$WORKDIR/man/man5" "$WORKDIR/man/man8"
for page in "$@"; do
	case $page in
	*.5) cp "$page" "$WORKDIR/man/man5/" ;;
	*.8) cp "$page" "$WORKDIR/man/man8/" ;;
	*) fail "$page is not a section 5 or 8 page" ;;
	esac
done

note "the configured unit"
want="ExecStart=$SBINDIR/uscstd --syslog -c $SYSCONFDIR/uscst/scst.conf \$USCSTD_OPTIONS"
grep -qxF "$want" "$UNIT" || fail "$UNIT has no line '$want'"
grep -q '@[A-Z]*@' "$UNIT" && fail "$UNIT still has unconfigured @...@ in it"
for line in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure \
	RuntimeDirectory=uscst StateDirectory=uscst; do
	grep -qxF "$line" "$UNIT" || fail "$UNIT lacks '$line'"
done
# The file must keep its name: verify takes the unit's name from it.
mkdir -p "$WORKDIR/unit"
sed "s|^ExecStart=$SBINDIR/uscstd |ExecStart=$USCSTD |" "$UNIT" > "$WORKDIR/unit/uscstd.service"
[ "$(diff "$UNIT" "$WORKDIR/unit/uscstd.service" | grep -c '^[<>]')" = 2 ] ||
	fail "pointing ExecStart at the build's uscstd changed more than that line"

# verify_unit FILE: systemd-analyze verify's output (empty when all is
# well) and its exit status, as "exit N" on the last line.
verify_unit() {
	local rc

	MANPATH=$WORKDIR/man SYSTEMD_LOG_COLOR=0 timeout -k 5 60 systemd-analyze verify "$1" 2>&1
	rc=$?
	echo "exit $rc"
}

note "the check catches a fault: an unknown key"
mkdir -p "$WORKDIR/unit/broken"
sed 's/^Type=notify$/Type=notify\nNoSuchKey=1/' "$WORKDIR/unit/uscstd.service" \
	> "$WORKDIR/unit/broken/uscstd.service"
out=$(verify_unit "$WORKDIR/unit/broken/uscstd.service")
echo "$out"
grep -q "Unknown key 'NoSuchKey'" <<< "$out" ||
	fail "systemd-analyze verify did not report the unknown key: it is not checking the file"

note "systemd-analyze verify uscstd.service"
out=$(verify_unit "$WORKDIR/unit/uscstd.service")
echo "$out"
[ "$out" = "exit 0" ] || fail "systemd-analyze verify is not silent and successful on uscstd.service"
note "systemd-analyze verify: no complaint, exit 0"
