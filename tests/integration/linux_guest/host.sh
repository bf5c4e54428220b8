# The host side every guest test shares (sourced after lib.sh):
#   guest_build          checks for qemu and socat and builds the guest's
#                        image into $WORKDIR/guest (exit 77, a skip, when
#                        qemu is missing or its packages cannot be had)
#   guest_qemu APPEND    boots it on TCG under $GUEST_TIMEOUT with the
#                        kernel command line "console=... APPEND", its
#                        console in $CONSOLE, qemu's own output in
#                        $WORKDIR/qemu.out; its network reaches nothing but
#                        $GUEST_PORTAL, each connection to which a socat
#                        hands to uscstd on 127.0.0.1:$PORT; and, when
#                        $GUEST_PORTAL2 is set, $GUEST_PORTAL2 likewise to
#                        127.0.0.1:$GUEST_PORT2 (a second portal). With
#                        $GUEST_EVENTS set, pdu_relay.py stands in for
#                        socat and logs the NOP PDUs it relays there.
#   guest_verdict        after qemu exited with status $1: fails unless the
#                        guest printed "LINUX-INITIATOR: PASS" and powered
#                        off in time (prints its console first)
#   guest_rpc METHOD JSON  one JSON-RPC call on uscstd's management socket;
#                        prints the result, fails on an error
#   guest_sessions IQN   the names of target IQN's sessions, one a line
#   guest_boot SCENARIO [APPEND]
#                        guest_qemu in the background ($QEMU_PID), the
#                        guest running linux_guest/SCENARIO.sh (with
#                        SCENARIO "", init's own steps: linux_initiator)
#                        against $GUEST_TARGET (default $DEMO_IQN) as
#                        $GUEST_INI through $GUEST_PORTAL, APPEND added to
#                        its command line; $CONSOLE is a new, empty console
#                        log, $GUEST_START the time it booted (date +%s.%N)
#   guest_secs           whole seconds since guest_boot
#   guest_logins         how many normal sessions $GUEST_INI has logged in
#                        to $GUEST_TARGET so far (uscstd's log)
#   guest_finish [NOTE]  waits for qemu, notes how long the guest ran, how
#                        qemu exited and NOTE, then guest_verdict
# Defaults: GUEST_PORTAL 10.0.2.100:3260, GUEST_TIMEOUT 200 (seconds),
# taken when the guest boots, so that a test may set either before or
# after it sources this file.
# linux_guest/README.md has the why.

# guest_defaults: GUEST_PORTAL and GUEST_TIMEOUT where the test (or the
# environment) set neither.
guest_defaults() {
	: "${GUEST_PORTAL:=10.0.2.100:3260}" "${GUEST_TIMEOUT:=200}"
}

guest_build() {
	local rc

	if ! command -v qemu-system-x86_64 > /dev/null; then
		echo "SKIP: qemu-system-x86_64 is not installed (Debian package qemu-system-x86; make deps-test installs it)"
		exit 77
	fi
	command -v socat > /dev/null ||
		fail "socat is not installed (make deps-test installs it): qemu's guest forwarding runs it"
	note "building the guest (Debian packages via apt-get download, cached)"
	"$(dirname "${BASH_SOURCE[0]}")/build_initramfs.sh" "$WORKDIR/guest"
	rc=$?
	if [ "$rc" = 77 ]; then
		echo "SKIP: the guest's Debian packages cannot be fetched (see above)"
		exit 77
	fi
	[ "$rc" = 0 ] || fail "building the guest failed (status $rc)"
}

# guest_forward GUEST_ADDR HOST_PORT: a -netdev guestfwd rule.
guest_forward() {
	local cmd="socat - TCP:127.0.0.1:$2"
	[ -n "${GUEST_EVENTS:-}" ] &&
		cmd="python3 -B $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pdu_relay.py $2 $GUEST_EVENTS"
	printf ',guestfwd=tcp:%s-cmd:%s' "$1" "$cmd"
}

guest_qemu() {
	guest_defaults
	local net="user,id=net0,restrict=on$(guest_forward "$GUEST_PORTAL" "$PORT")"
	[ -n "${GUEST_PORTAL2:-}" ] && net="$net$(guest_forward "$GUEST_PORTAL2" "$GUEST_PORT2")"
	timeout -k 5 "$GUEST_TIMEOUT" qemu-system-x86_64 \
		-nodefaults -no-user-config -machine pc -accel tcg -cpu max -smp 1 -m 512 \
		-display none -monitor none -serial "file:$CONSOLE" -no-reboot \
		-kernel "$WORKDIR/guest/vmlinuz" -initrd "$WORKDIR/guest/initramfs" \
		-append "console=ttyS0 panic=-1 quiet mitigations=off $1" \
		-netdev "$net" \
		-device virtio-net-pci,netdev=net0 \
		> "$WORKDIR/qemu.out" 2>&1
}

guest_verdict() {
	local qemu_rc=$1 verdict

	sed 's/\r$//' "$CONSOLE"
	cat "$WORKDIR/qemu.out"
	[ "$qemu_rc" = 124 ] && fail "the guest did not finish within $GUEST_TIMEOUT s"
	verdict=$(sed -n 's/\r$//; s/^LINUX-INITIATOR: //p' "$CONSOLE" | tail -n 1)
	[ -n "$verdict" ] || fail "the guest printed no LINUX-INITIATOR verdict"
	[ "$verdict" = PASS ] || fail "the guest says: $verdict"
	[ "$qemu_rc" = 0 ] || fail "qemu exited with status $qemu_rc"
}

guest_rpc() {
	rpc_try "$@"
}

guest_sessions() {
	guest_rpc tree.get '{"path":"targets/iscsi/targets"}' | python3 -c '
import json, sys
for name in json.load(sys.stdin)[sys.argv[1]].get("sessions", {}):
    print(name)' "$1"
}

guest_boot() {
	local scenario=${1?usage: guest_boot SCENARIO [APPEND]}

	guest_defaults
	GUEST_TARGET=${GUEST_TARGET:-$DEMO_IQN}
	CONSOLE=$WORKDIR/console.log
	: > "$CONSOLE"
	note "booting the guest (TCG, timeout ${GUEST_TIMEOUT} s); its console follows when it is done"
	GUEST_START=$(date +%s.%N)
	guest_qemu "${scenario:+uscst.scenario=$scenario }uscst.portal=$GUEST_PORTAL uscst.target=$GUEST_TARGET uscst.initiator=$GUEST_INI${2:+ $2}" &
	QEMU_PID=$!
}

guest_secs() {
	echo $(($(date +%s) - ${GUEST_START%.*}))
}

guest_logins() {
	grep -Ec "\($GUEST_INI\): normal session [0-9]+ logged in to $GUEST_TARGET" "$LOG"
}

guest_finish() {
	local qemu_rc

	wait "$QEMU_PID"
	qemu_rc=$?
	note "the guest ran $(guest_secs) s, qemu exited with status $qemu_rc${1:+; $1}"
	guest_verdict "$qemu_rc"
}
