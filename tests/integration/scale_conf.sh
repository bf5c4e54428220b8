# The configuration of scale.sh and soak.sh, sourced after lib.sh:
# SCALE_TARGETS targets of SCALE_LUNS LUNs each, named $SCALE_PREFIX<t>
# (0-based), each with MaxConnections 2. LUNs $SCALE_FILEIO_LUNS of each
# target are fileio (a sparse 16 MiB file in $WORKDIR), the others nullio
# (16 MiB, reads return zeros); every LUN is a device of its own, t<T>l<L>.
#
#   write_scale_conf FILE

SCALE_TARGETS=${SCALE_TARGETS:-16}
SCALE_LUNS=${SCALE_LUNS:-64}
SCALE_PREFIX=iqn.2026-12.test:scale
SCALE_FILEIO_LUNS="0 63"

write_scale_conf() {
	local conf=${1:?usage: write_scale_conf FILE} t l
	{
		echo "HANDLER vdisk_fileio {"
		for t in $(seq 0 $((SCALE_TARGETS - 1))); do
			for l in $SCALE_FILEIO_LUNS; do
				[ "$l" -lt "$SCALE_LUNS" ] || continue
				truncate -s 16M "$WORKDIR/t${t}l${l}.img"
				printf '\tDEVICE t%sl%s {\n\t\tfilename %s\n\t}\n' "$t" "$l" \
					"$WORKDIR/t${t}l${l}.img"
			done
		done
		echo "}"
		echo "HANDLER vdisk_nullio {"
		for t in $(seq 0 $((SCALE_TARGETS - 1))); do
			for l in $(seq 0 $((SCALE_LUNS - 1))); do
				case " $SCALE_FILEIO_LUNS " in *" $l "*) continue ;; esac
				printf '\tDEVICE t%sl%s {\n\t\tsize_mb 16\n\t}\n' "$t" "$l"
			done
		done
		echo "}"
		echo "TARGET_DRIVER iscsi {"
		for t in $(seq 0 $((SCALE_TARGETS - 1))); do
			printf '\tTARGET %s%s {\n\t\tenabled 1\n\t\tMaxConnections 2\n' "$SCALE_PREFIX" "$t"
			for l in $(seq 0 $((SCALE_LUNS - 1))); do
				printf '\t\tLUN %s t%sl%s\n' "$l" "$t" "$l"
			done
			printf '\t}\n'
		done
		echo "}"
	} > "$conf"
}

# uscstd's open descriptors.
fd_count() {
	ls "/proc/$USCSTD_PID/fd" 2>/dev/null | wc -l
}

# TCP connections to uscstd's port, seen from its side.
established_conns() {
	ss -Htn state established "( sport = :$PORT )" 2>/dev/null | wc -l
}

# True when uscstd runs with ASan or UBSan (its memory is then larger).
uscstd_sanitized() {
	grep -Eq 'lib(a|ub)san' "/proc/$USCSTD_PID/maps" 2>/dev/null
}
