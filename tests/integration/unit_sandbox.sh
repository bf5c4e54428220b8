#!/bin/bash
# uscstd.service's sandbox lets uscstd do its work. A daemon that calls a
# system call the unit's filter denies gets EPERM in the middle of
# serving (SystemCallErrorNumber=EPERM), one that opens a socket of a
# family it restricts gets EAFNOSUPPORT, and one that needs a capability
# outside its bounding set fails: none of which systemd-analyze verify
# can see, and this machine has no systemd to run the unit. So uscstd
# runs here with the unit's CapabilityBoundingSet= and NoNewPrivileges=
# applied by setpriv, under strace -f, serving a workload that reaches
# every part of it (fileio and blockio I/O through io_uring, logins, task
# management, reservations, SIGHUP, SIGUSR1, the management socket, the
# metrics endpoint, SIGTERM); then
#  - every system call it made must be in the set the unit's
#    SystemCallFilter= lines allow, as systemd-analyze syscall-filter
#    expands their groups (the comparison is first shown to catch a call
#    outside a narrower filter);
#  - every socket it opened must be of a family RestrictAddressFamilies=
#    lists.
# ProtectSystem= and the other namespace options are not applied here.
#
#   unit_sandbox.sh USCSTD UNIT
. "$(dirname "$0")/lib.sh" "$1"
UNIT=${2:?usage: $0 USCSTD UNIT}
REAL_USCSTD=$USCSTD
TGT=iqn.2026-12.test:syscalls
INI=iqn.2026-12.test:syscalls-host
command -v strace > /dev/null || fail "strace is missing (Debian's strace package)"
command -v setpriv > /dev/null || fail "setpriv is missing (Debian's util-linux)"
command -v systemd-analyze > /dev/null || fail "systemd-analyze is missing (Debian's systemd)"

# expand ITEM...: the system calls the names and @groups stand for, one a
# line, groups expanded recursively.
expand() {
	local item

	for item in "$@"; do
		case $item in
		@*) systemd-analyze syscall-filter "$item" 2>/dev/null |
			sed -n '2,$p' | grep -v '^ *#' | grep -v '^ *$' |
			while read -r sub; do expand "$sub"; done ;;
		*) echo "$item" ;;
		esac
	done
}

# allowed FILTER_LINES_FILE: what the SystemCallFilter= lines (one a
# line, without the key) allow: the first is the allow-list, a line
# starting with ~ takes its calls out again.
allowed() {
	local line

	: > "$WORKDIR/allow" && : > "$WORKDIR/deny"
	while read -r line; do
		case $line in
		"~"*) expand ${line#\~} >> "$WORKDIR/deny" ;;
		*) expand $line >> "$WORKDIR/allow" ;;
		esac
	done < "$1"
	sort -u "$WORKDIR/allow" > "$WORKDIR/allow.s"
	sort -u "$WORKDIR/deny" > "$WORKDIR/deny.s"
	comm -23 "$WORKDIR/allow.s" "$WORKDIR/deny.s"
}

sed -n 's/^SystemCallFilter=//p' "$UNIT" > "$WORKDIR/filter"
[ -s "$WORKDIR/filter" ] || fail "$UNIT has no SystemCallFilter= line"
head -c 1 "$WORKDIR/filter" | grep -q '[@a-z]' ||
	fail "the first SystemCallFilter= line of $UNIT is not an allow-list"
allowed "$WORKDIR/filter" > "$WORKDIR/allowed"
note "the unit's filter allows $(wc -l < "$WORKDIR/allowed") system calls: $(paste -sd ' ' "$WORKDIR/filter")"
[ "$(wc -l < "$WORKDIR/allowed")" -gt 100 ] || fail "the expansion of the filter is too small to be right"

cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE file0 {
		filename $WORKDIR/file0.img
	}
}
HANDLER vdisk_blockio {
	DEVICE block0 {
		filename $WORKDIR/block0.img
	}
}
TARGET_DRIVER iscsi {
	TARGET $TGT {
		enabled 1
		LUN 0 file0
		LUN 1 block0
	}
}
CONF
truncate -s 16M "$WORKDIR/file0.img" "$WORKDIR/block0.img"

# CapabilityBoundingSet=CAP_A CAP_B -> setpriv's -all,+a,+b.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ -n "$caps" ] || fail "$UNIT has no CapabilityBoundingSet="
bounding=-all$(for c in $caps; do c=${c#CAP_}; printf ',+%s' "${c,,}"; done)
nnp=
grep -qx 'NoNewPrivileges=yes' "$UNIT" && nnp=--no-new-privs
note "capabilities: setpriv --bounding-set=$bounding $nnp"
# LeakSanitizer cannot run under ptrace (a sanitizer build); the other
# tests look for leaks.
cat > "$WORKDIR/uscstd-strace" <<WRAP
#!/bin/bash
export ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0
exec setpriv --bounding-set=$bounding --inh-caps=-all $nnp -- \
	strace -f -qq -o "$WORKDIR/strace.txt" "$REAL_USCSTD" "\$@"
WRAP
chmod +x "$WORKDIR/uscstd-strace"
USCSTD=$WORKDIR/uscstd-strace
MPORT=$(free_port)
start_uscstd -c "$WORKDIR/scst.conf" --metrics "127.0.0.1:$MPORT"
STRACE_PID=$USCSTD_PID
for _ in $(seq 50); do
	USCSTD_PID=$(pgrep -P "$STRACE_PID" -x uscstd) && break
	sleep 0.1
done
[ -n "$USCSTD_PID" ] || fail "no uscstd under strace"
bits=$(awk '/^CapBnd:/ { print $2 }' "/proc/$USCSTD_PID/status" |
	python3 -c 'import sys; print(bin(int(sys.stdin.read(), 16)).count("1"))')
[ "$bits" = "$(wc -w <<< "$caps")" ] ||
	fail "uscstd's bounding set has $bits capabilities, not the unit's $(wc -w <<< "$caps")"

note "the workload"
export LIB_DIR
for lun in 0 1; do
	url=iscsi://127.0.0.1:$PORT/$TGT/$lun
	run iscsi-inq -i "$INI" "$url" > /dev/null
	run iscsi-readcapacity16 -i "$INI" "$url" > /dev/null
done
run python3 -B - "$PORT" "$TGT" "$INI" <<'PY'
import os, sys
sys.path.insert(0, os.environ["LIB_DIR"])
import iscsi_client as ic
port, tgt, ini = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = ic.Session(port)
s.login(ini, tgt, b"\x40\0\0\0\x5c\x01", [("ImmediateData", "Yes"), ("InitialR2T", "No"),
                                           ("MaxRecvDataSegmentLength", "65536")])
for lun in (0, 1):
    for _ in range(5):
        itt, _ = s.send_scsi(b"\0" * 6, lun=lun)
        if s.wait_response(itt)[0] == 0:
            break
    for i in range(20):
        data = bytes([i]) * 4096
        itt, _ = s.send_write10(i * 8, data, lun=lun)
        assert s.wait_response(itt)[0] == 0, "WRITE"
        itt, _ = s.send_read10(i * 8, 4096, lun=lun)
        buf = bytearray(4096)
        assert s.wait_response(itt, read_buf=buf)[0] == 0 and bytes(buf) == data, "READ"
    # SYNCHRONIZE CACHE(10)
    itt, _ = s.send_scsi(b"\x35" + b"\0" * 9, lun=lun)
    assert s.wait_response(itt)[0] == 0, "SYNCHRONIZE CACHE"
assert s.wait_tmf(s.send_tmf(ic.TMF_LUN_RESET, lun=0)) == 0
s.logout()
print("I/O on fileio and blockio, a LUN reset")
PY
run python3 -B "$LIB_DIR/admin_events.py" events "$PORT" "$TGT" "$INI" "$LOG" > /dev/null
run python3 -B "$LIB_DIR/log_refused_logins.py" "$PORT" 2 > /dev/null
run python3 -c 'import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"tree.get\"}\n")
assert "\"result\"" in s.makefile().readline()' "$RPC_SOCKET"
run python3 -c 'import sys, urllib.request
body = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=20).read()
assert body' "$MPORT"
dump_state "workload" > /dev/null
kill -HUP "$USCSTD_PID"
for _ in $(seq 50); do grep -q 'reload of .* done' "$LOG" && break; sleep 0.1; done
grep -q 'reload of .* done' "$LOG" || fail "the reload did not finish"

note "SIGTERM"
kill -TERM "$USCSTD_PID"
USCSTD_PID=$STRACE_PID
for _ in $(seq 100); do kill -0 "$STRACE_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$STRACE_PID" 2>/dev/null && fail "uscstd still running 10 s after SIGTERM"
wait "$STRACE_PID"
rc=$?
USCSTD_PID=
[ "$rc" = 0 ] || fail "uscstd exited with status $rc"

# "PID name(args) = ..." and "PID <... name resumed>...": the names.
sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z0-9_]+)[( ].*/\2/p' "$WORKDIR/strace.txt" |
	grep -vx 'exited\|killed' | sort -u > "$WORKDIR/used"
[ "$(wc -l < "$WORKDIR/used")" -gt 30 ] || { cat "$WORKDIR/strace.txt"; fail "strace saw too few calls"; }
note "uscstd made $(wc -l < "$WORKDIR/used") different system calls"

note "the check catches a call outside the filter (the same filter without @file-system)"
printf '%s\n~@file-system\n' "$(cat "$WORKDIR/filter")" > "$WORKDIR/filter.narrow"
allowed "$WORKDIR/filter.narrow" > "$WORKDIR/allowed.narrow"
outside=$(comm -23 "$WORKDIR/used" "$WORKDIR/allowed.narrow" | paste -sd ' ' -)
[ -n "$outside" ] || fail "without @file-system every call is still allowed: the check is blind"
note "without @file-system these would be denied: $outside"

outside=$(comm -23 "$WORKDIR/used" "$WORKDIR/allowed" | paste -sd ' ' -)
[ -z "$outside" ] || fail "uscstd calls what uscstd.service's SystemCallFilter= denies: $outside"
note "every call uscstd made is allowed by the unit's filter"

families=$(sed -n 's/^RestrictAddressFamilies=//p' "$UNIT")
[ -n "$families" ] || fail "$UNIT has no RestrictAddressFamilies="
used=$(grep -oE 'socket\((AF|PF)_[A-Z0-9]+' "$WORKDIR/strace.txt" | sed 's/.*(PF_/AF_/; s/.*(//' |
	sort -u | paste -sd ' ' -)
[ -n "$used" ] || fail "strace saw no socket()"
for f in $used; do
	grep -qw -- "$f" <<< "$families" || fail "uscstd opened an $f socket; RestrictAddressFamilies=$families"
done
note "socket families used: $used; all in RestrictAddressFamilies=$families"
