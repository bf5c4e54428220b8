#!/bin/bash
# devlog_ns.sh DIR SOCKET CMD [ARGS...]: runs CMD (exec, same pid) in a
# private mount namespace whose /dev/log is SOCKET ("" for no /dev/log at
# all), so that syslog(3) in CMD writes to a socket the test listens on,
# and nothing reaches the machine's own syslog. /dev there is a tmpfs of
# symlinks to the real /dev's entries (the real one moved aside with a
# bind mount to DIR/realdev, a directory of the test's), because /dev/log may not exist, and creating it would
# change the machine's /dev for everyone. Needs root (unshare -m).
set -eu
dir=$1
sock=$2
shift 2
mkdir -p "$dir/realdev"
exec unshare --mount --propagation private bash -c '
	set -eu
	real=$1/realdev
	sock=$2
	shift 2
	mount --rbind /dev "$real"
	mount -t tmpfs -o mode=0755,size=64k uscst-dev /dev
	for e in "$real"/* "$real"/.[!.]*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		ln -s "$e" /dev/
	done
	rm -f /dev/log
	[ -z "$sock" ] || ln -s "$sock" /dev/log
	exec "$@"' devlog_ns "$dir" "$sock" "$@"
