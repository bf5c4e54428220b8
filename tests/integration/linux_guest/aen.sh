# The linux_aen test inside the guest (sourced by init when the kernel
# command line says uscst.scenario=aen), with init's say, fail, step,
# finish, discover_node and find_disk. One session, LUN 0 attached; the
# guest then sends nothing of its own, so only an Asynchronous Message
# can tell it that the target's LUN map changed:
#   1. "AEN-READY-0": the host maps LUN 1 with the target's aen off; in
#      15 s no second disk may appear (the unit attention waits, unseen,
#      for a command the guest does not send);
#   2. "AEN-READY-1": the host turns aen on and maps LUN 2; iscsid gets
#      AsyncEvent 0 with REPORTED LUNS DATA HAS CHANGED and rescans the
#      host, so LUN 1 and LUN 2 appear (within 60 s) without iscsiadm's
#      rescan.

disks() {
	iscsiadm -m session -P 3 2>/dev/null | grep -c 'Attached scsi disk sd'
}

discover_node
say "login"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
find_disk "the session"
[ "$(disks)" = 1 ] || fail "$(disks) disks at login, expected LUN 0 alone"
say "AEN-READY-0"
sleep 15
n=$(disks)
[ "$n" = 1 ] || fail "$n disks with aen off: something rescanned without an AEN"
say "aen off: still one disk after 15 s"
say "AEN-READY-1"
n=1
for _ in $(seq 300); do
	n=$(disks)
	[ "$n" -ge 3 ] && break
	sleep 0.2
done
[ "$n" -ge 3 ] || fail "$n disks 60 s after LUN 2 was mapped with aen on (want 3: iscsid's rescan)"
iscsiadm -m session -P 3 | grep 'Attached scsi disk' > /dev/console
say "aen on: LUN 1 and LUN 2 attached by iscsid's rescan"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
finish PASS
