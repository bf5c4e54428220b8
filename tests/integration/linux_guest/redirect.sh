# The linux_redirect test inside the guest (sourced by init when the
# kernel command line says uscst.scenario=redirect), with init's say,
# fail, step, finish, discover_node and find_disk. The guest reaches two
# portals of one uscstd: $PORTAL and uscst.portal2=ADDR:PORT. The target
# uscst.target redirects temporarily, uscst.target2 permanently, both to
# the second portal; open-iscsi's node records name the first. For each:
#   1. discovery at the first portal lists it (at the first portal for
#      the temporary redirect, at the second for the permanent one);
#   2. login through the first: open-iscsi follows the redirect, and the
#      session's Current Portal is the second, its Persistent Portal the
#      first;
#   3. 1 MiB of a pattern written through it reads back (page cache
#      dropped);
#   4. logout.
# SendTargets lists a temporarily redirected target where uscstd listens
# (uscst.listed=ADDR:PORT, the host's loopback), as it lists every target
# not redirected: the initiator must keep coming back to the first portal.
PORTAL2= TARGET2= PORTAL_LISTED=
for word in $(cat /proc/cmdline); do
	case $word in
	uscst.portal2=*) PORTAL2=${word#*=} ;;
	uscst.target2=*) TARGET2=${word#*=} ;;
	uscst.listed=*) PORTAL_LISTED=${word#*=} ;;
	esac
done
[ -n "$PORTAL2" ] && [ -n "$TARGET2" ] && [ -n "$PORTAL_LISTED" ] ||
	fail "uscst.portal2, uscst.target2 and uscst.listed must be on the kernel command line"

# redirected_login TARGET LISTED: the steps above for TARGET, which
# SendTargets at $PORTAL must list at LISTED.
redirected_login() {
	local t=$1 listed=$2 out cur pers want have
	say "discovery (SendTargets) at $PORTAL for $t"
	out=$(step 60 iscsiadm -m discovery -t sendtargets -p "$PORTAL" -o nonpersistent)
	echo "$out" > /dev/console
	echo "$out" | grep -q "^$listed,[0-9]* $t\$" || fail "discovery does not list $t at $listed"
	step 30 iscsiadm -m node -o new -T "$t" -p "$PORTAL" > /dev/null
	say "login to $t through $PORTAL"
	step 60 iscsiadm -m node -T "$t" -p "$PORTAL" --login
	find_disk "$t"
	out=$(iscsiadm -m session -P 1)
	echo "$out" | grep -E 'Target:|Current Portal|Persistent Portal|SID|Connection State' > /dev/console
	cur=$(echo "$out" | sed -n 's/.*Current Portal: *\([^,]*\),.*/\1/p' | head -n 1)
	pers=$(echo "$out" | sed -n 's/.*Persistent Portal: *\([^,]*\),.*/\1/p' | head -n 1)
	[ "$cur" = "$PORTAL2" ] || fail "$t: the session's current portal is '$cur', not the redirect's $PORTAL2"
	[ "$pers" = "$PORTAL" ] || fail "$t: the session's persistent portal is '$pers', not $PORTAL"
	say "REDIRECT-ON-PORTAL2 $t: current portal $cur, persistent portal $pers"
	step 30 dd if=/dev/urandom of=/tmp/pattern bs=1M count=1 2> /dev/null
	step 60 dd if=/tmp/pattern of="/dev/$DISK" bs=1M count=1 conv=fsync 2> /dev/null
	want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
	echo 3 > /proc/sys/vm/drop_caches
	have=$(timeout 60 dd if="/dev/$DISK" bs=1M count=1 2> /dev/null | sha256sum | cut -d' ' -f1)
	[ "$have" = "$want" ] || fail "$t: the first 1 MiB reads back different through $PORTAL2"
	say "$t: 1 MiB written and read back through $PORTAL2, sha256 $want"
	step 60 iscsiadm -m node -T "$t" -p "$PORTAL" --logout
	for _ in $(seq 50); do
		[ -e "/sys/block/$DISK" ] || break
		sleep 0.2
	done
	[ -e "/sys/block/$DISK" ] && fail "/dev/$DISK still there 10 s after logout"
	step 30 iscsiadm -m node -o delete -T "$t" -p "$PORTAL"
}

redirected_login "$TARGET" "$PORTAL_LISTED"
redirected_login "$TARGET2" "$PORTAL2"
dmesg | grep -E 'iscsi|connection|sd[a-z]' | tail -n 15 > /dev/console
finish PASS
