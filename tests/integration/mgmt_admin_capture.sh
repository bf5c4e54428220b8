#!/bin/bash
# A stand-in for uscstd that collects the configurations the integration
# tests start uscstd with, for mgmt_admin.sh's -write_config round trips.
# mgmt_admin.sh runs each test script with this file as its USCSTD:
#
#   MGMT_CAPTURE_DIR=DIR MGMT_CAPTURE_REAL=PATH_TO_USCSTD \
#   MGMT_CAPTURE_SCRIPT=NAME mgmt_admin_capture.sh UCSTD_ARGS...
#
# It runs the real uscstd with the same arguments. A configuration the
# real one refuses is passed through (its output and exit status), so that
# a test checking refusals goes on to its next file. One it starts with is
# recorded (DIR/N.conf, the test's work directory's files in DIR/N.files,
# the original work directory's path in DIR/N.info); then the daemon is
# stopped and this exits 1, which ends that test: what it would do next
# needs a daemon, and the configuration is all that is wanted from it.
set -u
CAP=${MGMT_CAPTURE_DIR:?}
REAL=${MGMT_CAPTURE_REAL:?}

conf="" state="" listen=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	case "${args[i]}" in
	-c|--config) conf=${args[i + 1]:-} ;;
	--config=*) conf=${args[i]#--config=} ;;
	-s|--state-dir) state=${args[i + 1]:-} ;;
	-l|--listen) [ -z "$listen" ] && listen=${args[i + 1]:-} ;;
	esac
done
# Not a daemon start (--list-attributes, --print-pr-state, ...): uscstd's.
[ -n "$listen" ] || exec "$REAL" "$@"

# The real daemon listens on a port of its own: the test, polling the
# port it chose, must not see a daemon and go on with its body.
port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
# Only the first portal is kept, on that port: further --listen portals
# (a test's second port, ::1) are not part of the configuration, and on
# one port they would collide.
kept=() seen_listen=
for ((i = 0; i < ${#args[@]}; i++)); do
	case "${args[i]}" in
	-l|--listen)
		if [ -z "$seen_listen" ]; then
			kept+=("${args[i]}" "${args[i + 1]%:*}:$port")
			seen_listen=1
		fi
		i=$((i + 1)) ;;
	*) kept+=("${args[i]}") ;;
	esac
done
args=("${kept[@]}")
out=$(mktemp "$CAP/run.XXXXXX")
"$REAL" "${args[@]}" > "$out" 2>&1 &
pid=$!
started=
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	if [ -n "$port" ] && python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$port"; then
		started=1
		break
	fi
	sleep 0.1
done
if [ -z "$started" ]; then
	# Refused (or still starting after 10 s: then not a file to keep).
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	cat "$out"
	rm -f "$out"
	exit "$rc"
fi
kill -TERM "$pid"
wait "$pid"
rm -f "$out"
if [ -z "$conf" ]; then
	echo "mgmt_admin_capture: the demo target, nothing to record; ending the test here" >&2
	exit 1
fi

n=$(find "$CAP" -maxdepth 1 -name '*.conf' | wc -l)
n=$(printf '%03d' $((n + 1)))
workdir=$(dirname "${state:-$conf}")
cp "$conf" "$CAP/$n.conf"
printf 'script %s\nworkdir %s\nconf %s\n' "${MGMT_CAPTURE_SCRIPT:-?}" "$workdir" "$conf" \
	> "$CAP/$n.info"
mkdir -p "$CAP/$n.files"
# The backing files (sparse), hooks and whatever else the file names,
# in their subdirectories too; not the logs (tar leaves sockets out).
tar -C "$workdir" --sparse --exclude='*.log' -cf - . 2>/dev/null | tar -C "$CAP/$n.files" -xf -
# A loop device the test made over a file of its work directory (a real
# block device for blockio) goes with the test: record which file it was,
# for the round trip to make a loop device of its own over the copy.
for dev in $(sed -n 's|^[[:space:]]*filename[[:space:]]\{1,\}\(/dev/loop[0-9]\{1,\}\)[[:space:]]*$|\1|p' "$conf"); do
	back=$(losetup -n -O BACK-FILE "$dev" 2>/dev/null | sed 's/[[:space:]]*$//')
	case "$back" in
	"$workdir"/*) printf 'loop %s %s\n' "$dev" "${back#"$workdir"/}" >> "$CAP/$n.info" ;;
	esac
done
echo "mgmt_admin_capture: recorded $conf as $CAP/$n.conf; ending the test here" >&2
exit 1
