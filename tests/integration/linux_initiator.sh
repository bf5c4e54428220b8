#!/bin/bash
# The real Linux initiator: Debian 12's kernel iSCSI initiator and
# open-iscsi, in a throw-away qemu guest (TCG), log in to uscstd, make an
# ext4 filesystem on the demo LUN, write files, log out, log in again in a
# new session, verify every file and the filesystem, and log out
# (linux_guest/init is the guest's side, linux_guest/README.md the why).
# Every session, discovery too, authenticates with mutual CHAP SHA-256
# (open-iscsi offers SHA256,MD5; the target takes the initiator's first).
#
# The guest has qemu's user-mode network with restrict=on: it reaches
# nothing but one forwarded address, 10.0.2.100:3260, each connection to
# which qemu hands to a socat connected to uscstd on 127.0.0.1:$PORT.
#
# Skipped (exit 77) only when qemu-system-x86_64 is not installed, or when
# the Debian packages of the guest can be neither downloaded nor found in
# the cache; everything else is a failure.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/linux_guest/host.sh"

GUEST_INI=iqn.2026-11.test:linux-guest
# TCG boots in ~10 s and the guest's work takes about a minute: host.sh's
# default GUEST_TIMEOUT, 200 s, bounds a hung guest.

guest_build

# The demo target on a 1 GiB disk, with mutual CHAP: the driver's users
# for discovery, the target's for its sessions.
fileio_conf 1G demo0 -- \
	driver 'IncomingUser "guestdisc guestdiscsecret"' 'OutgoingUser "uscstdisc uscstdiscsecret"' \
	target "$DEMO_IQN" demo0 'IncomingUser "guest guestsecret12"' 'OutgoingUser "uscst uscstsecret12"'
start_uscstd -c "$WORKDIR/scst.conf"
GUEST_CHAP="uscst.chap=guest:guestsecret12:uscst:uscstsecret12 uscst.chap_algs=SHA256,MD5"
GUEST_CHAP="$GUEST_CHAP uscst.discovery_chap=guestdisc:guestdiscsecret:uscstdisc:uscstdiscsecret"

# No scenario: init's own steps are this test's.
guest_boot "" "$GUEST_CHAP"
guest_finish

note "uscstd saw the guest's sessions"
grep -F "($GUEST_INI)" "$LOG"
grep -Eq "\($GUEST_INI\): discovery session [0-9]+ logged in" "$LOG" ||
	fail "no discovery session of $GUEST_INI in uscstd's log"
logins=$(guest_logins)
[ "$logins" = 2 ] || fail "$logins normal sessions of $GUEST_INI logged in, expected 2"
closes=$(grep -Fc "($GUEST_INI) closed:" "$LOG")
[ "$closes" = 3 ] || fail "$closes connections of $GUEST_INI closed, expected 3 (discovery and two sessions)"
# Both normal sessions end with a Logout. open-iscsi's discovery does not
# log out: iscsiadm exits once it has the SendTargets answer, and uscstd
# warns that the peer closed the connection.
logouts=$(grep -Fc "($GUEST_INI) closed: logged out" "$LOG")
[ "$logouts" = 2 ] || fail "$logouts connections of $GUEST_INI closed after a Logout, expected 2"

note "every session authenticated with mutual CHAP"
chap=$(grep -Fc "($GUEST_INI): CHAP SHA-256 (mutual) authenticated user 'guest'" "$LOG")
[ "$chap" = 2 ] || fail "$chap normal sessions authenticated with mutual SHA-256 CHAP, expected 2"
grep -Fq "($GUEST_INI): CHAP SHA-256 (mutual) authenticated user 'guestdisc'" "$LOG" ||
	fail "the discovery session did not authenticate with mutual CHAP"

note "the LUN holds the guest's ext4 filesystem"
magic=$(od -An -tx2 -j 1080 -N 2 "$WORKDIR/demo0.img" | tr -d ' ')
[ "$magic" = ef53 ] || fail "no ext4 superblock magic on the LUN's backing file (read '$magic')"

stop_uscstd
echo "PASS: the Linux initiator made, wrote and verified an ext4 filesystem on uscstd"
