/* iSCSI names (RFC 7143 4.2.7, formerly RFC 3720 3.2.6): which strings are
 * names a target or an initiator may have. Pure: no state, no I/O, so that
 * the config apply step, and later the login code for the InitiatorName
 * and TargetName keys and the INITIATOR patterns of access control, all
 * judge a name the same way.
 *
 * The three forms:
 *   iqn.yyyy-mm.reversed.domain[:anything]   "iqn.2026-11.org.example:disk1"
 *   eui. + 16 hex digits                     "eui.02004567a425678d"
 *   naa. + 16 or 32 hex digits               "naa.52004567ba64678d"
 * At most 223 bytes of lower-case ASCII letters, digits, '-', '.' and ':'.
 * iSCSI compares names after RFC 3722's stringprep, which maps upper case
 * to lower case; rather than fold silently, a name with upper case is
 * refused with a reason that says to write it in lower case, so that what
 * the file says is what initiators see. */
#ifndef USCST_TARGETS_ISCSI_ISCSI_NAME_H
#define USCST_TARGETS_ISCSI_ISCSI_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* The longest iSCSI name, in bytes (RFC 7143 6.1). */
#define ISCSI_NAME_MAX 223

/* Flags for iscsi_name_check(). */
enum {
	/* An INITIATOR pattern (SCST's access control): '*' (any run of
	 * characters) and '?' (one character) are also allowed; a pattern
	 * with a wildcard is checked for its characters and length only,
	 * one without is checked as a name. */
	ISCSI_NAME_PATTERN = 1u << 0,
};

/* Is @name a valid iSCSI name (or, with ISCSI_NAME_PATTERN, pattern)?
 * Returns true, or false with the reason in @why, a phrase such as
 * "no iqn., eui. or naa. prefix" meant to follow "not a valid iSCSI
 * name". @why may be NULL. */
bool iscsi_name_check(const char *name, unsigned flags, char *why, size_t whylen);

#endif
