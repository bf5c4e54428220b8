#!/bin/bash
# A configurable Target Portal Group Tag (issue 10, section 3;
# docs/redirect.md, "Target portal groups"): the iscsi target attribute
# TargetPortalGroupTag, 1..65535, default 1.
#  1. a tag out of range in scst.conf stops uscstd with the file, line and
#     reason;
#  2. target $A with tag 7, $B without: the Login Response declares 7 (on
#     a joining MC/S connection too) and 1; SendTargets lists ",7" and ",1";
#  3. changed at run time through uscstadmin to 300: the next login and
#     SendTargets say 300, and uscstadmin shows it; a permanent redirect
#     without a tag of its own lists this target's tag;
#  4. bad values through management are refused with the reason and
#     change nothing;
#  5. liveness.
#
#   tpgt.sh USCSTD USCSTADMIN
. "$(dirname "$0")/lib.sh" "$1"
use_uscstadmin "${2:?usage: $0 USCSTD USCSTADMIN}"

A=iqn.2026-12.test:tpgt-a
B=iqn.2026-12.test:tpgt-b
PY=(python3 -B "$(dirname "$0")/tpgt.py")
RPY=(python3 -B "$(dirname "$0")/redirect.py")
# Two disks: $A's with tag 7, $B's with the default.
fileio_conf 16M da db -- \
	target "$A" da "TargetPortalGroupTag 7" \
	target "$B" db

note "1. a tag out of range in scst.conf"
for bad in 0 65536 seven; do
	sed "s|TargetPortalGroupTag 7|TargetPortalGroupTag $bad|" "$WORKDIR/scst.conf" > "$WORKDIR/bad.conf"
	why=$(start_refused "bad.conf:[0-9]*: .*'$bad'.*TargetPortalGroupTag" \
		-c "$WORKDIR/bad.conf" --listen "127.0.0.1:$(free_port)")
	note "TargetPortalGroupTag $bad: $why"
done

start_uscstd -c "$WORKDIR/scst.conf"

note "2. $A with tag 7, $B with the default"
run "${PY[@]}" login "$PORT" "$A" "$INI1" 7
run "${PY[@]}" login "$PORT" "$B" "$INI1" 1
run "${RPY[@]}" sendtargets 127.0.0.1 "$PORT" "$INI1" "$A" "127.0.0.1:$PORT,7"
run "${RPY[@]}" sendtargets 127.0.0.1 "$PORT" "$INI1" "$B" "127.0.0.1:$PORT,1"

note "3. changed at run time to 300"
admin -set_tgt_attr "$A" -driver iscsi -attributes "TargetPortalGroupTag=300"
run "${PY[@]}" login "$PORT" "$A" "$INI1" 300
run "${RPY[@]}" sendtargets 127.0.0.1 "$PORT" "$INI1" "$A" "127.0.0.1:$PORT,300"
run "${PY[@]}" login "$PORT" "$B" "$INI1" 1
shown=$("$USCSTADMIN" --rpc-socket "$RPC_SOCKET" -list_tgt_attr "$A" -driver iscsi 2>&1)
grep -Eq "TargetPortalGroupTag +300" <<< "$shown" ||
	fail "uscstadmin -list_tgt_attr does not show TargetPortalGroupTag 300: $shown"
# A permanent redirect with no tag of its own: SendTargets gives the
# target's (docs/redirect.md).
admin -set_tgt_attr "$A" -driver iscsi -attributes "redirect=127.0.0.9:3261,redirect_type=permanent"
run "${RPY[@]}" sendtargets 127.0.0.1 "$PORT" "$INI1" "$A" "127.0.0.9:3261,300"
admin -set_tgt_attr "$A" -driver iscsi -attributes "redirect=,redirect_type=temporary"

note "4. bad values through management"
for bad in 0 65536 -1 abc ""; do
	why=$(admin_refused "bad value '$bad' for iSCSI target attribute TargetPortalGroupTag" \
		-set_tgt_attr "$A" -driver iscsi -attributes "TargetPortalGroupTag=$bad")
	note "TargetPortalGroupTag=$bad refused: $why"
done
run "${PY[@]}" login "$PORT" "$A" "$INI1" 300

LIVENESS_TARGET=$B check_liveness "tpgt" "$INI1" 400000000001
stop_uscstd
echo "tpgt: all checks passed"
