#!/bin/bash
# The demo target as a first-time user meets it: uscstd without a config
# file serves iqn.2026-11.org.uscst:demo with a 1 GiB LUN 0; discovery,
# INQUIRY (standard and the VPD pages every initiator reads), READ CAPACITY
# and a clean exit on SIGTERM.
. "$(dirname "$0")/lib.sh" "$@"

start_uscstd

note "discovery and LUN listing (iscsi-ls -s)"
out=$(run iscsi-ls -s -i "$INI1" "iscsi://127.0.0.1:$PORT")
echo "$out"
grep -q "^Target:$DEMO_IQN Portal:127.0.0.1:$PORT" <<< "$out" || fail "iscsi-ls does not list $DEMO_IQN"
grep -Eq '^Lun:0 +Type:DIRECT_ACCESS' <<< "$out" || fail "iscsi-ls does not show LUN 0 as a disk"

note "standard INQUIRY"
out=$(run iscsi-inq -i "$INI1" "$URL")
echo "$out"
grep -q '^Peripheral Qualifier:CONNECTED' <<< "$out" || fail "peripheral qualifier is not CONNECTED"
grep -q '^Peripheral Device Type:DIRECT_ACCESS' <<< "$out" || fail "LUN 0 is not a direct-access device"

note "VPD: supported pages"
out=$(run iscsi-inq -i "$INI1" -e 1 -c 0 "$URL")
echo "$out"
for page in 0x80 0x83; do
	grep -q "^Page:$page " <<< "$out" || fail "VPD page $page is not listed as supported"
done

note "VPD 0x80: unit serial number"
out=$(run iscsi-inq -i "$INI1" -e 1 -c 128 "$URL")
echo "$out"
grep -Eq '^Unit Serial Number:\[ *[^] ]' <<< "$out" || fail "no unit serial number"

note "VPD 0x83: device identification"
out=$(run iscsi-inq -i "$INI1" -e 1 -c 131 "$URL")
echo "$out"
grep -q '^DEVICE DESIGNATOR #0' <<< "$out" || fail "no designator in VPD 0x83"
grep -q 'Association:(0) LOGICAL_UNIT' <<< "$out" || fail "no logical unit designator in VPD 0x83"

note "READ CAPACITY(16)"
out=$(run iscsi-readcapacity16 -i "$INI1" "$URL")
echo "$out"
grep -q '^Total size:1073741824$' <<< "$out" || fail "LUN 0 is not 1 GiB"

note "a LUN that is not mapped is not reported"
out=$(run iscsi-ls -s -i "$INI1" "iscsi://127.0.0.1:$PORT")
grep -q '^Lun:1 ' <<< "$out" && fail "iscsi-ls shows a LUN 1 that was never configured"

stop_uscstd
echo "basic: all checks passed"
