/* Initiator name patterns of access control groups
 * (src/core/name_pattern.c): SCST's '*' and '?', '!' exclusions, the
 * overlap test that catches an initiator two groups would take, and the
 * validity rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/name_pattern.h"

#define NAME "iqn.1993-08.org.debian:01:abcdef"

static void test_match(void **state)
{
	assert_true(name_pattern_match(NAME, NAME));
	assert_false(name_pattern_match(NAME "0", NAME));
	assert_false(name_pattern_match(NAME, NAME "0"));
	assert_true(name_pattern_match("*", NAME));
	assert_true(name_pattern_match("iqn.1993-08.org.debian:*", NAME));
	assert_true(name_pattern_match("*:abcdef", NAME));
	assert_true(name_pattern_match("iqn.*.debian:*ab*f", NAME));
	assert_false(name_pattern_match("iqn.*.debian:*ab*g", NAME));
	assert_true(name_pattern_match("iqn.1993-08.org.debian:01:abcde?", NAME));
	assert_false(name_pattern_match("iqn.1993-08.org.debian:01:abcdef?", NAME));
	assert_true(name_pattern_match("iqn.1993-08.org.debian:01:abcdef*", NAME));
	assert_true(name_pattern_match("**", ""));
	assert_false(name_pattern_match("?", ""));
	/* Case matters: iSCSI names are lower case on the wire. */
	assert_false(name_pattern_match("IQN.*", NAME));
	/* The '!' is not part of what is matched. */
	assert_true(name_pattern_match("!iqn.1993-08.*", NAME));
	assert_true(name_pattern_excludes("!iqn.1993-08.*"));
	assert_false(name_pattern_excludes("iqn.1993-08.*"));
}

/* The greedy walk with one backtrack point must not be exponential: a
 * pattern of many stars against a long name that just fails. */
static void test_match_hostile(void **state)
{
	char pattern[NAME_PATTERN_MAX + 1], name[224];

	for (size_t i = 0; i < sizeof(pattern) - 1; i++)
		pattern[i] = i % 2 ? 'a' : '*';
	pattern[sizeof(pattern) - 2] = 'b';
	pattern[sizeof(pattern) - 1] = '\0';
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_false(name_pattern_match(pattern, name));
}

static void test_overlap(void **state)
{
	assert_true(name_patterns_overlap(NAME, NAME));
	assert_false(name_patterns_overlap(NAME, NAME "x"));
	assert_true(name_patterns_overlap("iqn.*", NAME));
	assert_true(name_patterns_overlap("iqn.*", "*debian*"));
	assert_true(name_patterns_overlap("iqn.2026-11.test:init*", "iqn.2026-11.test:i?it1"));
	assert_false(name_patterns_overlap("iqn.*", "eui.*"));
	assert_false(name_patterns_overlap("*a", "*b"));
	assert_true(name_patterns_overlap("a*", "*b"));
	assert_false(name_patterns_overlap("a?", "a??"));
	assert_true(name_patterns_overlap("a?*", "a??"));
	assert_true(name_patterns_overlap("*", "x"));
	assert_false(name_patterns_overlap("x", "y"));
	/* An exclusion's '!' is ignored: the caller decides what it means. */
	assert_true(name_patterns_overlap("!iqn.*", "iqn.x"));
}

static void test_valid(void **state)
{
	char longest[NAME_PATTERN_MAX + 2];

	assert_true(name_pattern_valid(NAME));
	assert_true(name_pattern_valid("!" NAME));
	assert_true(name_pattern_valid("*"));
	assert_false(name_pattern_valid(""));
	assert_false(name_pattern_valid("!"));
	assert_false(name_pattern_valid("iqn!x"));
	assert_false(name_pattern_valid("iqn x"));
	assert_false(name_pattern_valid("iqn\tx"));
	assert_false(name_pattern_valid("iqn\x7f"));
	memset(longest, 'a', NAME_PATTERN_MAX);
	longest[NAME_PATTERN_MAX] = '\0';
	assert_true(name_pattern_valid(longest));
	longest[NAME_PATTERN_MAX] = 'a';
	longest[NAME_PATTERN_MAX + 1] = '\0';
	assert_false(name_pattern_valid(longest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_hostile),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
