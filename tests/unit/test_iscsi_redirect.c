/* The redirect / redirect_type target attributes (redirect.h): what is
 * accepted, the canonical form kept, how it is written back and what
 * SendTargets lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "targets/iscsi/params.h"
#include "targets/iscsi/redirect.h"

/* Parses "redirect VALUE" (and "redirect_type TYPE" when not NULL) into
 * fresh defaults; returns what iscsi_target_params_parse() returned. */
static int parse(struct iscsi_target_params *tp, const char *value, const char *type, char *err,
		 size_t errlen)
{
	struct scst_attr attrs[2] = { { .name = "redirect", .value = value },
				      { .name = "redirect_type", .value = type } };
	iscsi_target_params_default(tp);
	return iscsi_target_params_parse(tp, attrs, type ? 2 : 1, err, errlen);
}

/* The value "show" writes for redirect (one emitted, or none). */
struct shown {
	char value[300];
	unsigned n;
};

static void take(void *ctx, const char *name, const char *value)
{
	struct shown *s = ctx;
	if (strcmp(name, "redirect") != 0)
		return;
	snprintf(s->value, sizeof(s->value), "%s", value);
	s->n++;
}

static void expect_kept(const char *value, const char *host, unsigned port, unsigned tpgt,
			bool ipv6, const char *shown)
{
	struct iscsi_target_params tp;
	char err[256] = "";
	assert_int_equal(parse(&tp, value, NULL, err, sizeof(err)), 0);
	assert_string_equal(tp.redirect.host, host);
	assert_int_equal(tp.redirect.port, port);
	assert_int_equal(tp.redirect.tpgt, tpgt);
	assert_int_equal(tp.redirect.ipv6, ipv6);
	assert_int_equal(tp.redirect.type, ISCSI_REDIRECT_TEMPORARY);
	struct shown s = { 0 };
	iscsi_target_params_show(&tp, take, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.value, shown);
	/* What is shown parses back to the same. */
	struct iscsi_target_params again;
	assert_int_equal(parse(&again, s.value, NULL, err, sizeof(err)), 0);
	assert_memory_equal(&again.redirect, &tp.redirect, sizeof(tp.redirect));
}

static void test_accepted(void **state)
{
	(void)state;
	expect_kept("10.0.0.5", "10.0.0.5", 3260, 0, false, "10.0.0.5:3260");
	expect_kept("10.0.0.5:3261", "10.0.0.5", 3261, 0, false, "10.0.0.5:3261");
	expect_kept("10.0.0.5:3261,7", "10.0.0.5", 3261, 7, false, "10.0.0.5:3261,7");
	expect_kept("10.0.0.5,2", "10.0.0.5", 3260, 2, false, "10.0.0.5:3260,2");
	expect_kept("[::1]:3262", "::1", 3262, 0, true, "[::1]:3262");
	/* Canonical IPv6, so that the portal the redirect names is
	 * recognised whatever way it was written. */
	expect_kept("[0:0:0::1]", "::1", 3260, 0, true, "[::1]:3260");
	expect_kept("[FD00::A]:1,65535", "fd00::a", 1, 65535, true, "[fd00::a]:1,65535");
	expect_kept("node-2.example.com:3260", "node-2.example.com", 3260, 0, false,
		    "node-2.example.com:3260");
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"::1",             /* IPv6 without brackets */
		"::1:3260",
		"[::1",            /* unclosed */
		"[::1]x",
		"[10.0.0.1]",      /* brackets are for IPv6 */
		"[]:3260",
		"10.0.0.1:",       /* empty port */
		"10.0.0.1:0",
		"10.0.0.1:65536",
		"10.0.0.1:99999",
		"10.0.0.1:32a",
		"10.0.0.1:+5",
		"10.0.0.1,",       /* empty tag */
		"10.0.0.1,0",
		"10.0.0.1:3260,7,8",
		"10.0.0.1:3260:1",
		":3260",
		"host name",
		"-host",
		"host.",
		"host/1",
		"10.0.0.1 ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct iscsi_target_params tp;
		char err[256] = "";
		if (parse(&tp, bad[i], NULL, err, sizeof(err)) != -1)
			fail_msg("redirect '%s' was accepted", bad[i]);
		assert_non_null(strstr(err, "redirect"));
		assert_non_null(strstr(err, bad[i]));
	}
	/* A host name longer than DNS allows. */
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	struct iscsi_target_params tp;
	char err[512];
	assert_int_equal(parse(&tp, longname, NULL, err, sizeof(err)), -1);
}

static void test_empty_and_type(void **state)
{
	(void)state;
	struct iscsi_target_params tp;
	char err[256];
	iscsi_target_params_default(&tp);
	assert_false(iscsi_redirect_set(&tp.redirect));
	assert_int_equal(tp.redirect.type, ISCSI_REDIRECT_TEMPORARY);
	assert_int_equal(parse(&tp, "", NULL, err, sizeof(err)), 0);
	assert_false(iscsi_redirect_set(&tp.redirect));
	struct shown s = { 0 };
	iscsi_target_params_show(&tp, take, &s);
	assert_int_equal(s.n, 0); /* nothing shown when there is none */

	assert_int_equal(parse(&tp, "10.0.0.1", "permanent", err, sizeof(err)), 0);
	assert_int_equal(tp.redirect.type, ISCSI_REDIRECT_PERMANENT);
	assert_int_equal(parse(&tp, "10.0.0.1", "sideways", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "redirect_type"));
}

static void test_send_targets_address(void **state)
{
	(void)state;
	struct iscsi_target_params tp;
	char err[256], buf[300];

	/* No redirect, or a temporary one: this portal. */
	iscsi_target_params_default(&tp);
	iscsi_redirect_send_targets_address(&tp.redirect, "127.0.0.1:3260", 1, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:3260,1");
	assert_int_equal(parse(&tp, "[::1]:3261,7", NULL, err, sizeof(err)), 0);
	iscsi_redirect_send_targets_address(&tp.redirect, "127.0.0.1:3260", 1, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:3260,1");
	/* Permanent: the new place, with its tag, else ours. */
	assert_int_equal(parse(&tp, "[::1]:3261,7", "permanent", err, sizeof(err)), 0);
	iscsi_redirect_send_targets_address(&tp.redirect, "127.0.0.1:3260", 1, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:3261,7");
	assert_int_equal(parse(&tp, "10.1.1.1", "permanent", err, sizeof(err)), 0);
	iscsi_redirect_send_targets_address(&tp.redirect, "127.0.0.1:3260", 3, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.1.1:3260,3");
	/* The Login Response's form: no tag. */
	iscsi_redirect_format(&tp.redirect, 0, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.1.1:3260");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_empty_and_type),
		cmocka_unit_test(test_send_targets_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
