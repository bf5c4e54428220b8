#!/bin/bash
# The default /etc/uscst/scst.conf (dist/scst.conf), checked by uscstd's
# own parser:
#  - as installed it loads and serves nothing (no target in discovery);
#  - its commented example, uncommented as the file tells the
#    administrator to ("#WORD" and "#<tab>WORD" lines are configuration,
#    "# text" lines explanation), loads too, with its backing file moved
#    to this test's directory, and serves what its comments say: every
#    initiator sees null1 as LUN 0; the group "hosts" sees disk1 as LUN 0
#    and null1 as LUN 1 (told apart by block size and capacity).
#
#   default_conf.sh USCSTD SCST_CONF
. "$(dirname "$0")/lib.sh" "$1"
CONF=${2:?usage: $0 USCSTD SCST_CONF}
TGT=iqn.2026-12.org.example:storage
HOST=iqn.2026-12.org.example:host1

note "the file as installed"
start_uscstd -c "$CONF"
grep -q "uscstd ready: .*config $CONF" "$LOG" || fail "uscstd did not load $CONF"
out=$(run iscsi-ls -i "$INI1" "iscsi://127.0.0.1:$PORT")
echo "$out"
grep -q '^Target:' <<< "$out" && fail "the default file serves a target"
stop_uscstd

note "its example, uncommented"
sed -E -e '/^#( |$)/d' -e 's/^#//' -e "s|/var/lib/uscst/|$WORKDIR/|" "$CONF" > "$WORKDIR/example.conf"
cat "$WORKDIR/example.conf"
n=$(grep -c . "$WORKDIR/example.conf")
[ "$n" -ge 20 ] || fail "the uncommented example has only $n lines"
truncate -s 64M "$WORKDIR/disk1.img"
start_uscstd -c "$WORKDIR/example.conf"

# luns INITIATOR: "LUN TYPE" of each LUN the initiator sees on the target.
luns() {
	run iscsi-ls -s -i "$1" "iscsi://127.0.0.1:$PORT" |
		sed -n "/^Target:$TGT /,/^Target:/p" | grep -oE '^Lun:[0-9]+ +Type:[A-Z_]+'
}
out=$(luns "$INI1")
echo "$INI1: $out"
[ "$(wc -l <<< "$out")" = 1 ] && grep -q '^Lun:0 ' <<< "$out" ||
	fail "an initiator outside the group does not see exactly LUN 0"
out=$(luns "$HOST")
echo "$HOST: $out"
[ "$(grep -c '^Lun:[01] ' <<< "$out")" = 2 ] || fail "$HOST does not see LUNs 0 and 1"
# disk1 (4096-byte blocks, 64 MiB) at LUN 0 of the group, null1 (1 GiB)
# at LUN 1: the capacities tell them apart.
out=$(run iscsi-readcapacity16 -i "$HOST" "iscsi://127.0.0.1:$PORT/$TGT/0")
grep -q '^LOGICAL BLOCK LENGTH IN BYTES:4096$' <<< "$out" || fail "the group's LUN 0 is not disk1: $out"
out=$(run iscsi-readcapacity16 -i "$HOST" "iscsi://127.0.0.1:$PORT/$TGT/1")
grep -q '^Total size:1073741824$' <<< "$out" || fail "the group's LUN 1 is not null1: $out"
stop_uscstd
