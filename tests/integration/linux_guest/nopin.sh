# The linux_nopin test inside the guest (sourced by init when the kernel
# command line says uscst.scenario=nopin), with init's say, fail, step,
# finish, discover_node and find_disk. The target pings every idle
# NopInInterval seconds (linux_nopin.sh sets it small); the initiator's
# own pings are switched off, so that every NOP on the wire is the
# target's ping or the kernel's answer to it. Then:
#   1. login; 1 MiB of a pattern written and synced; "NOPIN-IDLE", and the
#      session sits idle for IDLE seconds: the kernel answers each ping,
#      the session stays up (same SID, still LOGGED IN) and reads the
#      pattern back;
#   2. "NOPIN-DOWN": four 48 MiB O_DIRECT reads start and eth0 goes down for
#      DOWN seconds, so nothing answers the target's next ping (nor takes
#      the Data-In): the host checks that the target closes the
#      connection after NopInTimeout and drops the session, its commands
#      ended, meanwhile;
#   3. the connection the target closed is found dead, iscsid logs in
#      again (a new session of the same initiator), the kernel's retried
#      reads complete, and the pattern reads back through it.
IDLE=12 DOWN=14

discover_node
# Only the target pings: noop_out_interval 0 switches the initiator's off.
step 30 iscsiadm -m node -T "$TARGET" -p "$PORTAL" -o update \
	-n 'node.conn[0].timeo.noop_out_interval' -v 0
step 30 iscsiadm -m node -T "$TARGET" -p "$PORTAL" -o update \
	-n 'node.conn[0].timeo.noop_out_timeout' -v 0
say "login"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --login
find_disk "first session"
sid() { iscsiadm -m session -P 1 2>/dev/null | sed -n 's/.*SID: *\([0-9]*\).*/\1/p' | head -n 1; }
state() { iscsiadm -m session -P 1 2>/dev/null | sed -n 's/.*iSCSI Connection State: *//p' | head -n 1; }
first_sid=$(sid)

step 30 dd if=/dev/urandom of=/tmp/pattern bs=1M count=1 2> /dev/null
step 60 dd if=/tmp/pattern of="/dev/$DISK" bs=1M count=1 conv=fsync 2> /dev/null
want=$(sha256sum < /tmp/pattern | cut -d' ' -f1)
readback() {
	echo 3 > /proc/sys/vm/drop_caches
	have=$(timeout 60 dd if="/dev/$DISK" bs=1M count=1 2> /dev/null | sha256sum | cut -d' ' -f1)
	[ "$have" = "$want" ] || fail "the first 1 MiB reads back different ($1)"
}

say "NOPIN-IDLE: idle for $IDLE s"
sleep "$IDLE"
[ "$(sid)" = "$first_sid" ] || fail "the session changed while idle (SID $first_sid, now $(sid))"
[ "$(state)" = "LOGGED IN" ] || fail "connection state '$(state)' after $IDLE s idle"
readback "after $IDLE s idle"
say "NOPIN-IDLE-DONE: session $first_sid still logged in, the pattern reads back"

# Reads in flight as the guest goes down: on NOPIN-DOWN the host stops
# draining the connection (a dead peer's TCP window closes), so the target
# holds their Data-In, and must end them as nexus loss; the kernel retries
# them through the new login. The second lets the host's poll see it.
say "NOPIN-DOWN: eth0 down for $DOWN s, reads in flight"
sleep 1
readers=
for i in 0 1 2 3; do
	dd if="/dev/$DISK" of=/dev/null bs=4M count=12 skip=$((i * 12)) iflag=direct 2> "/tmp/dd$i.err" &
	readers="$readers $!"
done
sleep 0.5
ip link set eth0 down || fail "ip link set eth0 down"
sleep "$DOWN"
ip link set eth0 up || fail "ip link set eth0 up"
say "NOPIN-UP: eth0 up again"

# The kernel finds the connection closed and iscsid logs in again.
for _ in $(seq 120); do
	s=$(sid) st=$(state)
	[ -n "$s" ] && [ "$st" = "LOGGED IN" ] && dmesg | grep -q 'detected conn error' && break
	sleep 0.5
done
dmesg | grep -E 'connection|conn error|iscsi' | tail -n 10 > /dev/console
dmesg | grep -q 'detected conn error' || fail "the kernel never saw the closed connection"
[ "$(state)" = "LOGGED IN" ] || fail "not logged in again 60 s after eth0 came up ($(state))"
say "logged in again: session $(sid), connection $(state)"
find_disk "after the re-login"
readback "after the re-login"
for r in $readers; do
	wait "$r" || fail "the reads in flight at the loss failed: $(cat /tmp/dd*.err)"
done
say "the reads in flight at the loss completed through the new login: $(tail -q -n 1 /tmp/dd*.err | tr '\n' ' ')"
say "NOPIN-RELOGIN: the pattern reads back through the new login"
step 60 iscsiadm -m node -T "$TARGET" -p "$PORTAL" --logout
finish PASS
