# The linux_reneg test inside the guest (sourced by init when the kernel
# command line says uscst.scenario=reneg), with init's say, fail, step,
# finish, discover_node and find_disk. One session to the target; then:
#   1. 1 MiB of a pattern is written at the start of the LUN, synced, and
#      its SHA-256 kept; "RENEG-READY" tells the host, which changes the
#      target's MaxRecvDataSegmentLength (target.set_attr): AsyncEvent 4.
#      iscsid drops the connection and logs in again, negotiating the
#      new value at login;
#   2. the guest reads block 2048 from the LUN (page cache dropped) until
#      the host, having seen the new login in uscstd's log, writes
#      "RENEG-GO" there in the backing file;
#   3. the first 1 MiB reads back the same through the new session.

discover_node
say "login"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
find_disk "first session"

step 30 dd if=/dev/urandom of=/tmp/pattern bs=1M count=1 2> /dev/null
step 60 dd if=/tmp/pattern of="/dev/$DISK" bs=1M count=1 conv=fsync 2> /dev/null
want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
say "RENEG-READY"

got=
for _ in $(seq 120); do
	echo 3 > /proc/sys/vm/drop_caches
	got=$(timeout 30 dd if="/dev/$DISK" bs=512 skip=2048 count=1 2> /dev/null |
		head -c 8)
	[ "$got" = RENEG-GO ] && break
	sleep 0.5
done
[ "$got" = RENEG-GO ] || fail "the host's RENEG-GO did not come within 60 s"
say "the host saw the new login"

echo 3 > /proc/sys/vm/drop_caches
have=$(timeout 60 dd if="/dev/$DISK" bs=1M count=1 2> /dev/null | sha256sum |
	cut -d' ' -f1)
[ "$have" = "$want" ] || fail "the first 1 MiB reads back different after the renegotiation"
say "the first 1 MiB reads back the same after the renegotiation"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
finish PASS
