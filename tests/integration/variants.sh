#!/bin/bash
# Login variants as open-iscsi, VMware and Windows use them: every
# combination of HeaderDigest {None, CRC32C} x ImmediateData {Yes, No} x
# InitialR2T {Yes, No}, each writing and reading back transfers that cross
# the burst boundaries (the variants program, on libiscsi).
#   variants.sh USCSTD VARIANTS_PROGRAM
. "$(dirname "$0")/lib.sh" "$@"
VARIANTS=${2:?usage: $0 PATH_TO_USCSTD PATH_TO_VARIANTS}
[ -x "$VARIANTS" ] || fail "$VARIANTS is not an executable"

# Two reactors: the variants' sessions land on both (the multisession
# suite, run under ThreadSanitizer too).
start_uscstd --threads 2
note "8 login variants, 6 transfer sizes each, read back in two sessions"
run "$VARIANTS" "$URL" "$INI1"
check_alive "after the variants"
stop_uscstd
echo "variants: all checks passed"
