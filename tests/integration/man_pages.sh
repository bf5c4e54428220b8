#!/bin/bash
# The man pages (issue 8, Running it as a service):
#  - uscstd(8), uscstadmin(8) and scst.conf(5) render with man -l without
#    a warning (groff's and man's);
#  - scst.conf(5) lists, section by section, exactly the attributes
#    `uscstd --list-attributes` lists (it is made from that listing at
#    build time: this catches a page the build did not remake, or a
#    listing the conversion misread);
#  - uscstd(8) documents exactly the long options `uscstd --help` lists;
#  - uscstadmin(8) documents exactly the operations and options
#    `uscstadmin --help` lists.
#
#   man_pages.sh USCSTD USCSTADMIN USCSTD_8 USCSTADMIN_8 SCST_CONF_5
. "$(dirname "$0")/lib.sh" "$1"
USCSTADMIN=${2:?usage: $0 USCSTD USCSTADMIN USCSTD_8 USCSTADMIN_8 SCST_CONF_5}
PAGE_USCSTD=${3:?} PAGE_ADMIN=${4:?} PAGE_CONF=${5:?}

command -v man > /dev/null || fail "man is missing: install man-db and groff-base (make deps-test)"

# render PAGE [WIDTH]: the page as text; fails on any warning. Hyphens
# and minus signs become ASCII, so that options compare as typed.
render() {
	local warnings

	warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=${2:-80} \
		man --warnings -E UTF-8 -l "$1" 2>&1 > /dev/null)
	[ -z "$warnings" ] || fail "$(basename "$1") renders with warnings: $warnings"
	LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=${2:-80} man -E UTF-8 -l "$1" 2> /dev/null |
		sed 's/\xe2\x88\x92/-/g; s/\xe2\x80\x90/-/g'
}

for page in "$PAGE_USCSTD" "$PAGE_ADMIN" "$PAGE_CONF"; do
	[ -s "$page" ] || fail "$page is missing or empty"
	for width in 80 60; do
		out=$(render "$page" "$width")
		[ "$(wc -l <<< "$out")" -gt 40 ] || fail "$(basename "$page") renders to almost nothing"
	done
	note "$(basename "$page"): renders without warnings at 80 and 60 columns"
done

# compare WHAT EXPECTED_FILE FOUND_FILE: the sorted lists must be equal.
compare() {
	local missing extra

	missing=$(comm -23 "$2" "$3" | paste -sd ' ' -)
	extra=$(comm -13 "$2" "$3" | paste -sd ' ' -)
	[ -z "$missing" ] || fail "$1: not in the page: $missing"
	[ -z "$extra" ] || fail "$1: in the page but not in the program: $extra"
	note "$1: $(wc -l < "$2") entries, the same in both"
}

note "scst.conf(5) against uscstd --list-attributes"
"$USCSTD" --list-attributes > "$WORKDIR/listing" || fail "uscstd --list-attributes failed"
# "SECTION HEADING|attribute" pairs: headings are the unindented lines
# ending with ':', attributes the lines indented by two.
awk '/^[^ ].*:$/ { h = substr($0, 1, length($0) - 1); next }
	h != "" && /^  [^ ]/ && $1 != "(none)" { print h "|" $1 }' "$WORKDIR/listing" |
	sort > "$WORKDIR/want"
# In the page (wide, so that nothing wraps): subsection headings are
# indented by three, the attribute tags by seven, "name [type]".
render "$PAGE_CONF" 1000 | sed -n '/^ATTRIBUTES/,/^EXAMPLES/p' |
	awk '/^   [^ ]/ { sub(/^ +/, ""); h = $0; next }
		/^       [^ ]+ \[/ { print h "|" $1 }' | sort > "$WORKDIR/found"
[ -s "$WORKDIR/want" ] || fail "uscstd --list-attributes listed no attribute"
compare "scst.conf(5) attributes" "$WORKDIR/want" "$WORKDIR/found"
for kw in HANDLER DEVICE TARGET_DRIVER TARGET LUN GROUP INITIATOR DEVICE_GROUP TARGET_GROUP; do
	render "$PAGE_CONF" 1000 | sed -n '/^SECTIONS/,/^RELOADING/p' | grep -q "^       $kw " ||
		fail "scst.conf(5) does not describe the $kw section"
done

note "uscstd(8) against uscstd --help"
"$USCSTD" --help > "$WORKDIR/help" || fail "uscstd --help failed"
grep -oE -- '(^|[ ,])--[a-z][a-z-]+' "$WORKDIR/help" | grep -oE -- '--[a-z-]+' | sort -u \
	> "$WORKDIR/want"
render "$PAGE_USCSTD" 1000 | sed -n '/^OPTIONS/,/^SIGNALS/p' |
	grep -oE -- '(^|[ ,])--[a-z][a-z-]+' | grep -oE -- '--[a-z-]+' | sort -u > "$WORKDIR/found"
compare "uscstd(8) options" "$WORKDIR/want" "$WORKDIR/found"

note "uscstadmin(8) against uscstadmin --help"
"$USCSTADMIN" --help > "$WORKDIR/help" || fail "uscstadmin --help failed"
# Operations and options: the first word of an indented line of the
# usage that starts with a dash ("-add_lun <lun>", "-driver <driver>",
# "[-group <group>]", "--rpc-socket <path>", "-h, -help, --help").
sed -n '/^General Operations/,/^Exit status/p' "$WORKDIR/help" |
	grep -oE -- '^ +\[?-{1,2}[a-z][a-z_-]*(, -{1,2}[a-z_-]+)*' | tr ',' '\n' |
	grep -oE -- '-{1,2}[a-z][a-z_-]*' | sort -u > "$WORKDIR/want"
render "$PAGE_ADMIN" 1000 | sed -n '/^GENERAL OPERATIONS/,/^EXIT STATUS/p' |
	grep -oE -- '(^|[ [,])-{1,2}[a-z][a-z_-]*' | grep -oE -- '-{1,2}[a-z][a-z_-]*' |
	sort -u > "$WORKDIR/found"
[ "$(wc -l < "$WORKDIR/want")" -gt 30 ] || fail "uscstadmin --help lists only $(wc -l < "$WORKDIR/want") operations and options"
compare "uscstadmin(8) operations and options" "$WORKDIR/want" "$WORKDIR/found"
