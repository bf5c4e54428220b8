#!/bin/bash
# The iSCSI driver's layering (docs/architecture.md, "The iSCSI driver's
# layers"): the connection layer includes no header of the layers above
# it, the session layer none of the PDU handlers', and only cmdsn.c moves
# ExpCmdSN and MaxCmdSN. Fails naming the file and the line that breaks it.
src="${1:?usage: iscsi_layers.sh SRCDIR}/src/targets/iscsi"
bad=0
forbid() { # forbid FILE HEADER...
	local f=$1; shift
	for h in "$@"; do
		if grep -n "#include \"targets/iscsi/$h\"" "$src/$f"; then
			echo "FAIL: $f includes $h, a layer above it"; bad=1
		fi
	done
}
above_conn="session.h cmd.h dispatch.h login.h requests.h target.h"
above_session="cmd.h dispatch.h login.h requests.h target.h"
for f in conn.h conn.c conn_rx.c conn_tx.c; do forbid $f $above_conn; done
forbid session.h conn.h $above_session
for f in session.c session_registry.c cmdsn.c; do forbid $f $above_session; done
for f in "$src"/*.c; do
	[ "$(basename "$f")" = cmdsn.c ] && continue
	if grep -nE '(exp_cmd_sn|max_cmd_sn)[[:space:]]*(\+\+|--|[-+]?=[^=])' "$f"; then
		echo "FAIL: $(basename "$f") changes ExpCmdSN/MaxCmdSN (only cmdsn.c may)"; bad=1
	fi
done
# The check itself must see the files it checks.
[ -f "$src/conn.c" ] && [ -f "$src/cmdsn.c" ] || { echo "FAIL: no driver sources in $src"; exit 1; }
[ $bad = 0 ] && echo "iscsi layers: conn < session < handlers, ExpCmdSN/MaxCmdSN only in cmdsn.c"
exit $bad
