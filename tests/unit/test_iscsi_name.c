/* iSCSI names (src/targets/iscsi/iscsi_name.c): the three forms of RFC
 * 7143 4.2.7, the character set and length, and the exact reason for each
 * kind of bad name; patterns for INITIATOR lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targets/iscsi/iscsi_name.h"

static void assert_valid(const char *name, unsigned flags)
{
	char why[160] = "";

	if (!iscsi_name_check(name, flags, why, sizeof(why)))
		fail_msg("'%s' refused: %s", name, why);
}

static void assert_invalid(const char *name, unsigned flags, const char *reason)
{
	char why[160] = "";

	if (iscsi_name_check(name, flags, why, sizeof(why)))
		fail_msg("'%s' accepted, expected \"%s\"", name, reason);
	assert_string_equal(why, reason);
}

static void test_valid_names(void **state)
{
	/* RFC 3720 3.2.6.3's own examples, in lower case. */
	assert_valid("iqn.2001-04.com.example", 0);
	assert_valid("iqn.2001-04.com.example:storage", 0);
	assert_valid("iqn.2001-04.com.example:storage.tape1.sys1.xyz", 0);
	assert_valid("iqn.2001-04.com.example:storage.disk2.sys1.xyz", 0);
	assert_valid("eui.02004567a425678d", 0);
	assert_valid("naa.52004567ba64678d", 0);
	assert_valid("naa.62004567ba64678d0123456789abcdef", 0);
	/* What the rest of the suite and open-iscsi use. */
	assert_valid("iqn.2026-11.org.uscst:demo", 0);
	assert_valid("iqn.2026-11.test:tgt", 0);
	assert_valid("iqn.1993-08.org.debian:01:a1b2c3d4e5f6", 0);
	assert_valid("iqn.2026-12.org.x-y:a:b::c-d", 0);
}

static void test_length(void **state)
{
	char name[ISCSI_NAME_MAX + 2];

	memset(name, 'a', sizeof(name));
	memcpy(name, "iqn.2026-12.org.example:", 24);
	name[ISCSI_NAME_MAX] = '\0';
	assert_valid(name, 0);
	name[ISCSI_NAME_MAX] = 'a';
	name[ISCSI_NAME_MAX + 1] = '\0';
	assert_invalid(name, 0, "longer than 223 bytes");
	assert_invalid("", 0, "empty");
	assert_invalid("", ISCSI_NAME_PATTERN, "empty");
}

static void test_characters(void **state)
{
	assert_invalid("iqn.2026-12.org.example:Disk1", 0,
		       "upper-case 'D': iSCSI names are compared in lower case (RFC 3722), "
		       "write them in lower case");
	assert_invalid("IQN.2026-12.org.example", 0,
		       "upper-case 'I': iSCSI names are compared in lower case (RFC 3722), "
		       "write them in lower case");
	assert_invalid("eui.02004567A425678D", 0,
		       "upper-case 'A': iSCSI names are compared in lower case (RFC 3722), "
		       "write them in lower case");
	assert_invalid("iqn.2026-12.org.example:a/b", 0,
		       "'/' is not allowed, only a-z, 0-9, '-', '.' and ':'");
	assert_invalid("iqn.2026-12.org.example:a_b", 0,
		       "'_' is not allowed, only a-z, 0-9, '-', '.' and ':'");
	assert_invalid("iqn.2026-12.org.example:a b", 0,
		       "byte 0x20 is not allowed, only a-z, 0-9, '-', '.' and ':'");
	assert_invalid("iqn.2026-12.org.example:\xc3\xa9", 0,
		       "byte 0xc3 is not allowed, only a-z, 0-9, '-', '.' and ':'");
	assert_invalid("iqn.2026-12.org.example:*", 0,
		       "'*' is not allowed, only a-z, 0-9, '-', '.' and ':'");
}

static void test_forms(void **state)
{
	assert_invalid("target1", 0, "no iqn., eui. or naa. prefix");
	assert_invalid("iqn", 0, "no iqn., eui. or naa. prefix");
	assert_invalid("iqn.", 0, "iqn. must be followed by a date yyyy-mm");
	assert_invalid("iqn.2026.org.example", 0, "iqn. must be followed by a date yyyy-mm");
	assert_invalid("iqn.26-12.org.example", 0, "iqn. must be followed by a date yyyy-mm");
	assert_invalid("iqn.2026-1.org.example", 0, "iqn. must be followed by a date yyyy-mm");
	assert_invalid("iqn.2026-13.org.example", 0, "month 13 is not 01 to 12");
	assert_invalid("iqn.2026-00.org.example", 0, "month 00 is not 01 to 12");
	assert_invalid("iqn.2026-12", 0, "the date must be followed by '.' and a domain name");
	assert_invalid("iqn.2026-12:x", 0, "the date must be followed by '.' and a domain name");
	assert_invalid("iqn.2026-12.", 0, "no domain name after the date");
	assert_invalid("iqn.2026-12.:x", 0, "no domain name after the date");
	assert_invalid("iqn.2026-12.org..example", 0, "empty label in the domain name");
	assert_invalid("iqn.2026-12..org", 0, "empty label in the domain name");
	assert_invalid("iqn.2026-12.org.:x", 0, "empty label in the domain name");
	assert_invalid("iqn.2026-12.org.example:", 0, "nothing after ':'");
	assert_invalid("eui.02004567a425678", 0, "eui. must be followed by 16 hex digits");
	assert_invalid("eui.02004567a425678d0", 0, "eui. must be followed by 16 hex digits");
	assert_invalid("eui.02004567a425678g", 0, "eui. must be followed by 16 hex digits");
	assert_invalid("eui.", 0, "eui. must be followed by 16 hex digits");
	assert_invalid("naa.52004567ba64678", 0, "naa. must be followed by 16 or 32 hex digits");
	assert_invalid("naa.52004567ba64678d0", 0,
		       "naa. must be followed by 16 or 32 hex digits");
	assert_invalid("naa.52004567ba64678d:x", 0,
		       "naa. must be followed by 16 or 32 hex digits");
}

/* INITIATOR patterns: wildcards allowed, the rest as for names. */
static void test_patterns(void **state)
{
	assert_valid("*", ISCSI_NAME_PATTERN);
	assert_valid("iqn.2026-12.org.example:*", ISCSI_NAME_PATTERN);
	assert_valid("iqn.1993-08.org.debian:01:??????", ISCSI_NAME_PATTERN);
	assert_valid("iqn.2026-12.org.example:host1", ISCSI_NAME_PATTERN);
	assert_invalid("iqn.2026-12.org.example:Host*", ISCSI_NAME_PATTERN,
		       "upper-case 'H': iSCSI names are compared in lower case (RFC 3722), "
		       "write them in lower case");
	assert_invalid("iqn.2026-12.org.example:[ab]", ISCSI_NAME_PATTERN,
		       "'[' is not allowed, only a-z, 0-9, '-', '.' and ':'");
	/* Without a wildcard a pattern is a name and is checked as one. */
	assert_invalid("host1", ISCSI_NAME_PATTERN, "no iqn., eui. or naa. prefix");
}

/* The reason is cut to the buffer; no buffer at all is fine. */
static void test_reason_buffer(void **state)
{
	char why[6];

	assert_false(iscsi_name_check("target1", 0, why, sizeof(why)));
	assert_string_equal(why, "no iq");
	assert_false(iscsi_name_check("target1", 0, NULL, 0));
	assert_true(iscsi_name_check("iqn.2026-12.org.example", 0, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_characters),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_reason_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
