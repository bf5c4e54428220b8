#!/bin/bash
# meson install (issue 8, Running it as a service), into a scratch
# DESTDIR: uscstd in sbindir, uscstd.service in systemd's unit directory
# with ExecStart naming that uscstd, the three man pages, and the default
# SYSCONFDIR/uscst/scst.conf; a second install keeps an scst.conf the
# administrator changed (and installs the new default beside the docs
# as scst.conf.example).
#
#   install.sh USCSTD BUILD_ROOT SBINDIR SYSCONFDIR MANDIR UNITDIR DOCDIR
. "$(dirname "$0")/lib.sh" "$1"
BUILD_ROOT=${2:?} SBINDIR=${3:?} SYSCONFDIR=${4:?} MANDIR=${5:?} UNITDIR=${6:?} DOCDIR=${7:?}
DEST=$WORKDIR/root

install_once() {
	run meson install -C "$BUILD_ROOT" --no-rebuild --destdir "$DEST" > "$WORKDIR/install.log" 2>&1 ||
		{ cat "$WORKDIR/install.log"; fail "meson install failed"; }
}

note "meson install --destdir"
install_once
for f in "$SBINDIR/uscstd" "$UNITDIR/uscstd.service" "$MANDIR/man8/uscstd.8" \
	"$MANDIR/man8/uscstadmin.8" "$MANDIR/man5/scst.conf.5" "$SYSCONFDIR/uscst/scst.conf" \
	"$DOCDIR/scst.conf.example" "$DOCDIR/service.md" "$DOCDIR/logging.md"; do
	[ -s "$DEST$f" ] || fail "meson install did not install $f"
	echo "installed $f"
done
[ -x "$DEST$SBINDIR/uscstd" ] || fail "$SBINDIR/uscstd is not executable"
grep -qxF "ExecStart=$SBINDIR/uscstd --syslog -c $SYSCONFDIR/uscst/scst.conf \$USCSTD_OPTIONS" \
	"$DEST$UNITDIR/uscstd.service" || fail "the installed unit does not start $SBINDIR/uscstd"
grep -q '^ATTRIBUTES' <(MANWIDTH=80 man -l "$DEST$MANDIR/man5/scst.conf.5" 2>/dev/null) ||
	fail "the installed scst.conf(5) has no ATTRIBUTES section"
cmp -s "$DEST$SYSCONFDIR/uscst/scst.conf" "$DEST$DOCDIR/scst.conf.example" ||
	fail "the installed scst.conf is not the default"

note "a second install keeps the administrator's scst.conf"
echo "# changed by the administrator" >> "$DEST$SYSCONFDIR/uscst/scst.conf"
cp "$DEST$SYSCONFDIR/uscst/scst.conf" "$WORKDIR/mine.conf"
install_once
cmp -s "$WORKDIR/mine.conf" "$DEST$SYSCONFDIR/uscst/scst.conf" ||
	fail "the second meson install overwrote $SYSCONFDIR/uscst/scst.conf"
cmp -s "$DEST$DOCDIR/scst.conf.example" "$DEST$SYSCONFDIR/uscst/scst.conf" &&
	fail "the example is the administrator's file"
note "$(find "$DEST" -type f | wc -l) files installed; scst.conf kept on reinstall"
