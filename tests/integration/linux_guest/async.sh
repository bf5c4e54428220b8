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
#   3. the first 1 MiB reads back the same through the new session;
#   4. "ASYNC-READY2": the host stops uscstd (SIGTERM, AsyncEvent 1 again:
#      iscsid logs out) and starts a new one on the same port; the guest
#      reads block 4096 until the host writes "ASYNC-GO2" there once the
#      new daemon has the guest's login, then the 1 MiB reads back the
#      same again.

discover_node
say "login"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
find_disk "first session"

step 30 dd if=/dev/urandom of=/tmp/pattern bs=1M count=1 2> /dev/null
step 60 dd if=/tmp/pattern of="/dev/$DISK" bs=1M count=1 conv=fsync 2> /dev/null
want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
say "ASYNC-READY"

# wait_go BLOCK WORD: reads BLOCK (page cache dropped) until it holds WORD
# (the host writes it in the backing file once it saw the re-login).
wait_go() {
	local got=
	for _ in $(seq 120); do
		echo 3 > /proc/sys/vm/drop_caches
		got=$(timeout 30 dd if="/dev/$DISK" bs=512 skip="$1" count=1 2> /dev/null |
			head -c ${#2})
		[ "$got" = "$2" ] && return 0
		sleep 0.5
	done
	fail "the host's $2 did not come within 60 s"
}

# same_data WHEN: the first 1 MiB reads back as written.
same_data() {
	local have
	echo 3 > /proc/sys/vm/drop_caches
	have=$(timeout 60 dd if="/dev/$DISK" bs=1M count=1 2> /dev/null | sha256sum |
		cut -d' ' -f1)
	[ "$have" = "$want" ] || fail "the first 1 MiB reads back different $1"
	say "the first 1 MiB reads back the same $1"
}

wait_go 2048 ASYNC-GO
say "the host saw the logout and the new login"
iscsiadm -m session -P 1 | grep -E 'SID|Session State|iSCSI Connection State' > /dev/console
same_data "after the re-login"

say "ASYNC-READY2"
wait_go 4096 ASYNC-GO2
say "the host restarted the daemon and saw the new login"
same_data "after the daemon's restart"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
finish PASS
