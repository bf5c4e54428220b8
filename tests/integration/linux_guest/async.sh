# The linux_async test inside the guest (sourced by init when the kernel
# command line says uscst.scenario=async), with init's say, fail, step,
# finish, discover_node and find_disk. One session to the target; then:
#   1. 1 MiB of a pattern is written at the start of the LUN, synced, and
#      its SHA-256 kept; "ASYNC-READY" tells the host, which asks the
#      session to log out (session.logout: an Asynchronous Message,
#      AsyncEvent 1). iscsid answers with a Logout and logs in again;
#   2. the guest reads block 2048 from the LUN (page cache dropped) until
#      the host, having seen the logout and the new login in uscstd's
#      log, writes "ASYNC-GO" there in the backing file: reads that go on
#      through the re-login;
#   3. the first 1 MiB reads back the same through the new session.

discover_node
say "login"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
find_disk "first session"

step 30 dd if=/dev/urandom of=/tmp/pattern bs=1M count=1 2> /dev/null
step 60 dd if=/tmp/pattern of="/dev/$DISK" bs=1M count=1 conv=fsync 2> /dev/null
want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
say "ASYNC-READY"

got=
for _ in $(seq 120); do
	echo 3 > /proc/sys/vm/drop_caches
	got=$(timeout 30 dd if="/dev/$DISK" bs=512 skip=2048 count=1 2> /dev/null |
		head -c 8)
	[ "$got" = ASYNC-GO ] && break
	sleep 0.5
done
[ "$got" = ASYNC-GO ] || fail "the host's ASYNC-GO did not come within 60 s"
say "the host saw the logout and the new login"
iscsiadm -m session -P 1 | grep -E 'SID|Session State|iSCSI Connection State' > /dev/console

echo 3 > /proc/sys/vm/drop_caches
have=$(timeout 60 dd if="/dev/$DISK" bs=1M count=1 2> /dev/null | sha256sum |
	cut -d' ' -f1)
[ "$have" = "$want" ] || fail "the first 1 MiB reads back different after the re-login"
say "the first 1 MiB reads back the same after the re-login"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
finish PASS
