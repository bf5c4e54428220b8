# The host side every guest test shares (sourced after lib.sh):
#   guest_build          checks for qemu and socat and builds the guest's
#                        image into $WORKDIR/guest (exit 77, a skip, when
#                        qemu is missing or its packages cannot be had)
#   guest_qemu APPEND    boots it on TCG under $GUEST_TIMEOUT with the
#                        kernel command line "console=... APPEND", its
#                        console in $CONSOLE, qemu's own output in
#                        $WORKDIR/qemu.out; its network reaches nothing but
#                        $GUEST_PORTAL, each connection to which a socat
#                        hands to uscstd on 127.0.0.1:$PORT.
# linux_guest/README.md has the why.

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

guest_qemu() {
	timeout -k 5 "$GUEST_TIMEOUT" qemu-system-x86_64 \
		-nodefaults -no-user-config -machine pc -accel tcg -cpu max -smp 1 -m 512 \
		-display none -monitor none -serial "file:$CONSOLE" -no-reboot \
		-kernel "$WORKDIR/guest/vmlinuz" -initrd "$WORKDIR/guest/initramfs" \
		-append "console=ttyS0 panic=-1 quiet mitigations=off $1" \
		-netdev "user,id=net0,restrict=on,guestfwd=tcp:$GUEST_PORTAL-cmd:socat - TCP:127.0.0.1:$PORT" \
		-device virtio-net-pci,netdev=net0 \
		> "$WORKDIR/qemu.out" 2>&1
}
