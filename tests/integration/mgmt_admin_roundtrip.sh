#!/bin/bash
# -write_config round trips (issue 8): every configuration the integration
# tests start uscstd with loads back, from what uscstadmin -write_config
# wrote, to the same state, and writes the same text again.
#
# The configurations are not copied here (they would drift from the
# tests): each test script runs with mgmt_admin_capture.sh as its uscstd,
# which records the first file a test starts the daemon with and ends that
# test. Then for each recorded file:
#   1. uscstd -c FILE; uscstadmin -write_config W1; tree.get -> T1
#   2. uscstd -c W1;   uscstadmin -write_config W2; tree.get -> T2
#   3. W1 == W2 byte for byte, and T1 == T2 (sessions and counters aside)
#   4. with -nonkey as well: written, loaded back, written the same.
# A test script that writes a configuration (it has HANDLER or
# TARGET_DRIVER in it) but from which nothing was recorded fails this
# test, unless it is in NO_CAPTURE below with the reason.
. "$(dirname "$0")/lib.sh" "$@"
ADMIN=${2:?usage: $0 USCSTD USCSTADMIN}
[ -x "$ADMIN" ] || fail "$ADMIN is not an executable"
RPC="$LIB_DIR/mgmt_admin_rpc.py"

# Scripts whose configuration cannot be recorded this way, and why.
declare -A NO_CAPTURE=(
	[badinput.sh]="every file it writes is one uscstd must refuse"
	[man_pages.sh]="it starts no daemon; HANDLER is in its text, not in a file"
	[unit_sandbox.sh]="it needs the configured uscstd.service to start uscstd under"
	[scale_conf.sh]="no test: scale.sh and soak.sh write their configuration with it, and scale.sh is recorded"
)
# Scripts whose configuration depends on a mode argument: each mode.
# Others that want arguments after USCSTD (the programs they run) get
# /bin/true for each, as many as their usage line asks: the test ends
# before it would run them.
declare -A VARIANTS=(
	[conformance.sh]="fileio|blockio|nullio|readonly|removable"
	[pr.sh]="/bin/true register fileio|/bin/true register blockio|/bin/true register nullio"
)

CAP=$WORKDIR/capture
# lib.sh's cleanup removes WORKDIR; the loop devices made below go first.
detach_loops() {
	[ -f "$WORKDIR/loops" ] || return 0
	while read -r loop; do losetup -d "$loop" 2>/dev/null; done < "$WORKDIR/loops"
}
trap 'rc=$?; detach_loops; (exit $rc); cleanup' EXIT
mkdir -p "$CAP"
missing=
note "recording the configurations the integration tests start uscstd with"
# MGMT_ADMIN_CAPTURED=DIR: a directory to copy the recordings to, or to
# take them from when it has them already (to rerun the round trips alone).
keep=${MGMT_ADMIN_CAPTURED:-}
if [ -n "$keep" ] && [ -e "$keep/001.conf" ]; then
	cp -a "$keep/." "$CAP/"
	scripts=()
else
	# tests/conformance/conformance.sh sources lib.sh too.
	scripts=("$LIB_DIR"/*.sh "$LIB_DIR"/../conformance/conformance.sh)
fi
for script in "${scripts[@]}"; do
	name=$(basename "$script")
	case "$name" in
	lib.sh|devlog_ns.sh|mgmt_admin*) continue ;;
	esac
	IFS='|' read -r -a variants <<< "${VARIANTS[$name]:-}"
	[ ${#variants[@]} -gt 0 ] || variants=("")
	before=$(find "$CAP" -maxdepth 1 -name '*.conf' | wc -l)
	for v in "${variants[@]}"; do
		for _ in 1 2 3 4; do
			# shellcheck disable=SC2086 # the variant is a word list
			MGMT_CAPTURE_DIR=$CAP MGMT_CAPTURE_REAL=$USCSTD \
				MGMT_CAPTURE_SCRIPT="$name${v:+ $v}" \
				timeout -k 5 120 bash "$script" "$LIB_DIR/mgmt_admin_capture.sh" $v \
				> "$CAP/$name.log" 2>&1 < /dev/null
			# "${2:?usage: ...}": one more argument wanted.
			grep -q "^$script: line [0-9]*: [0-9]*: usage: " "$CAP/$name.log" || break
			v="${v:+$v }/bin/true"
		done
	done
	after=$(find "$CAP" -maxdepth 1 -name '*.conf' | wc -l)
	if [ "$after" = "$before" ] && grep -q 'HANDLER\|TARGET_DRIVER' "$script"; then
		if [ -n "${NO_CAPTURE[$name]:-}" ]; then
			note "$name: not recorded (${NO_CAPTURE[$name]})"
		else
			echo "----- $name: nothing recorded; the end of its output:" >&2
			tail -n 5 "$CAP/$name.log" >&2
			missing="$missing $name"
		fi
	fi
done
[ -n "$keep" ] && mkdir -p "$keep" && cp -a "$CAP/." "$keep/"
[ -z "$missing" ] || fail "these scripts write a configuration, but none was recorded:$missing" \
	"(give such a script its arguments in VARIANTS, or say in NO_CAPTURE why it cannot be" \
	"recorded, in $0)"
total=$(find "$CAP" -maxdepth 1 -name '*.conf' | wc -l)
[ "$total" -ge 20 ] || fail "only $total configurations recorded; expected at least 20"
note "$total configurations recorded"

SOCK=$WORKDIR/rpc.sock
start_with() {
	start_uscstd -c "$1" --rpc-socket "$SOCK"
	for _ in $(seq 50); do
		[ -S "$SOCK" ] && return 0
		sleep 0.1
	done
	fail "no RPC socket at $SOCK 5 s after uscstd listened"
}

admin() {
	timeout -k 5 "$CMD_TIMEOUT" "$ADMIN" --rpc-socket "$SOCK" "$@"
}

# round_trip DIR CONF [-nonkey]: the two loads and writes; fails on a
# difference.
round_trip() {
	local d=$1 conf=$2 flag=${3:-} what tag=w${3:+-nonkey}

	what="$(sed -n 's/^script //p' "$d/info") ($(basename "$conf"))${flag:+ $flag}"
	note "$what: uscstd -c $conf"
	start_with "$conf"
	admin -write_config "$d/$tag.1.conf" ${flag:+"$flag"} > "$d/$tag.1.out" 2>&1 ||
		fail "$what: -write_config failed: $(cat "$d/$tag.1.out")"
	python3 "$RPC" --config-only "$SOCK" tree.get > "$d/$tag.1.tree" ||
		fail "$what: tree.get failed"
	stop_uscstd
	start_with "$d/$tag.1.conf"
	admin -write_config "$d/$tag.2.conf" ${flag:+"$flag"} > "$d/$tag.2.out" 2>&1 ||
		fail "$what: -write_config of the reloaded state failed: $(cat "$d/$tag.2.out")"
	python3 "$RPC" --config-only "$SOCK" tree.get > "$d/$tag.2.tree" ||
		fail "$what: tree.get of the reloaded state failed"
	stop_uscstd
	if ! cmp -s "$d/$tag.1.conf" "$d/$tag.2.conf"; then
		diff -u "$d/$tag.1.conf" "$d/$tag.2.conf" >&2
		fail "$what: the configuration written after the reload differs (diff above)"
	fi
	if ! cmp -s "$d/$tag.1.tree" "$d/$tag.2.tree"; then
		diff -u "$d/$tag.1.tree" "$d/$tag.2.tree" >&2
		fail "$what: the state loaded from the written file differs (tree.get diff above)"
	fi
	note "$what: $(wc -l < "$d/$tag.1.conf") lines written, identical after the reload;" \
		"tree.get identical ($(wc -c < "$d/$tag.1.tree") bytes)"
}

for conf in "$CAP"/*.conf; do
	n=$(basename "$conf" .conf)
	d=$WORKDIR/rt/$n
	mkdir -p "$d"
	old=$(sed -n 's/^workdir //p' "$CAP/$n.info")
	cp "$CAP/$n.info" "$d/info"
	cp -a --sparse=always "$CAP/$n.files/." "$d/"
	# The file names the test's work directory, gone now: point it at
	# the copy of that directory's files.
	sed "s|$old|$d|g" "$conf" > "$d/in.conf"
	# Loop devices over the work directory's files (the capture's "loop"
	# lines): a new one over each copy, detached when the test ends.
	while read -r _ dev file; do
		loop=$(losetup -f --show "$d/$file") || fail "$n: losetup over $d/$file failed"
		echo "$loop" >> "$WORKDIR/loops"
		sed -i "s|$dev\$|$loop|" "$d/in.conf"
	done < <(grep '^loop ' "$d/info")
	round_trip "$d" "$d/in.conf"
	round_trip "$d" "$d/in.conf" -nonkey
done
note "all $total configurations round-trip through -write_config"
