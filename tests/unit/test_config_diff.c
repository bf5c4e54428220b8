/* config_diff(): the steps between two parsed scst.conf trees, with the
 * descriptor questions (secret? same value? kept when absent? a note?)
 * answered by stubs here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mgmt/config_diff.h"

#define MAX_STEPS 32

struct steps {
	char line[MAX_STEPS][512];
	unsigned n;
};

static void collect(void *ctx, const char *line)
{
	struct steps *s = ctx;

	assert_true(s->n < MAX_STEPS);
	snprintf(s->line[s->n++], sizeof(s->line[0]), "%s", line);
}

static bool is_secret(const char *name)
{
	return strcmp(name, "IncomingUser") == 0;
}

static bool same_value(const char *name, const char *a, const char *b)
{
	/* "yes" and "1" are one value of a bool, as the descriptors say. */
	if (strcmp(name, "nv_cache") == 0)
		return (strcmp(a, "yes") == 0 || strcmp(a, "1") == 0) ==
		       (strcmp(b, "yes") == 0 || strcmp(b, "1") == 0);
	return strcmp(a, b) == 0;
}

static bool kept_when_absent(const char *keyword, const char *name)
{
	return strcmp(keyword, "TARGET") == 0 && strcmp(name, "rel_tgt_id") == 0;
}

static const char *note(const char *keyword, const char *name)
{
	return strcmp(keyword, "DEVICE") == 0 && strcmp(name, "blocksize") == 0 ? "not applied"
										 : NULL;
}

static struct config_tree *parse(const char *text)
{
	char err[256];
	struct config_tree *t = config_parse_string(text, "t.conf", err, sizeof(err));

	if (!t)
		fail_msg("%s", err);
	return t;
}

/* The steps from @have (its "all" and "key" forms the same) to @want. */
static void diff(const char *have, const char *have_key, const char *want, struct steps *s)
{
	struct config_tree *h = parse(have), *k = parse(have_key ? have_key : have),
			   *w = parse(want);
	struct config_diff_input in = {
		.want = w, .have_all = h, .have_key = k,
		.is_secret = is_secret, .same_value = same_value,
		.kept_when_absent = kept_when_absent, .note = note,
	};

	unsigned n;

	s->n = 0;
	n = config_diff(&in, collect, s);
	assert_int_equal(n, s->n);
	config_free(h);
	config_free(k);
	config_free(w);
}

#define BASE                                                                   \
	"HANDLER vdisk_nullio { DEVICE d0 { size 1048576 } DEVICE d1 }\n"      \
	"TARGET_DRIVER iscsi { TARGET iqn.2026-12.x:t { enabled 1\n"           \
	"  rel_tgt_id 1\n  LUN 0 d0\n  GROUP g { LUN 0 d1\n"                   \
	"  INITIATOR iqn.2026-12.x:a } } }\n"

static void test_same_is_no_step(void **state)
{
	struct steps s;

	(void)state;
	diff(BASE, NULL, BASE, &s);
	assert_int_equal(s.n, 0);
}

static void test_adds_and_removes(void **state)
{
	struct steps s;

	(void)state;
	diff(BASE, NULL,
	     "HANDLER vdisk_nullio { DEVICE d0 { size 1048576 } DEVICE d2 }\n"
	     "TARGET_DRIVER iscsi { TARGET iqn.2026-12.x:t { enabled 1\n"
	     "  rel_tgt_id 1\n  LUN 0 d0\n  LUN 3 d2 } }\n",
	     &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.line[0], "add HANDLER vdisk_nullio / DEVICE d2");
	assert_string_equal(s.line[1], "remove HANDLER vdisk_nullio / DEVICE d1");
	assert_string_equal(s.line[2], "add TARGET_DRIVER iscsi / TARGET iqn.2026-12.x:t / LUN 3 d2");
	assert_string_equal(s.line[3], "remove TARGET_DRIVER iscsi / TARGET iqn.2026-12.x:t / GROUP g");
}

static void test_replace_lun(void **state)
{
	struct steps s;
	char *want = strdup(BASE), *at = strstr(want, "LUN 0 d0");

	(void)state;
	memcpy(at, "LUN 0 d1", 8);
	diff(BASE, NULL, want, &s);
	free(want);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.line[0],
			    "replace TARGET_DRIVER iscsi / TARGET iqn.2026-12.x:t / LUN 0: d0 -> d1");
}

static void test_attribute_changes(void **state)
{
	struct steps s;

	(void)state;
	/* A changed value, one spelt another way (no step), one to its
	 * default (the key form has it, the file not), a note, a secret. */
	diff("HANDLER h { DEVICE d { size 2; nv_cache 1; blocksize 4096; t10_vend_id X } }\n"
	     "TARGET_DRIVER iscsi { IncomingUser joe secret1secret1 }\n",
	     "HANDLER h { DEVICE d { size 2; nv_cache 1; blocksize 4096; t10_vend_id X } }\n"
	     "TARGET_DRIVER iscsi { IncomingUser joe secret1secret1 }\n",
	     "HANDLER h { DEVICE d { size 3; nv_cache yes; blocksize 512 } }\n"
	     "TARGET_DRIVER iscsi { IncomingUser joe secret2secret2 }\n",
	     &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.line[0], "change HANDLER h / DEVICE d size: 2 -> 3");
	assert_string_equal(s.line[1],
			    "change HANDLER h / DEVICE d blocksize: 4096 -> 512; not applied");
	assert_string_equal(s.line[2], "change HANDLER h / DEVICE d t10_vend_id: X -> default");
	assert_string_equal(s.line[3], "change TARGET_DRIVER iscsi IncomingUser (secret)");
	for (unsigned i = 0; i < s.n; i++)
		assert_null(strstr(s.line[i], "secret1"));
}

static void test_kept_when_absent(void **state)
{
	struct steps s;

	(void)state;
	/* A running target's rel_tgt_id that the file leaves out stays. */
	diff(BASE, NULL,
	     "HANDLER vdisk_nullio { DEVICE d0 { size 1048576 } DEVICE d1 }\n"
	     "TARGET_DRIVER iscsi { TARGET iqn.2026-12.x:t { enabled 1\n"
	     "  LUN 0 d0\n  GROUP g { LUN 0 d1\n  INITIATOR iqn.2026-12.x:a } } }\n",
	     &s);
	assert_int_equal(s.n, 0);
}

static void test_repeated_values(void **state)
{
	struct steps s;

	(void)state;
	/* Repeating attributes compare as lists, in order. */
	diff("TARGET_DRIVER iscsi { TARGET t { allowed_portal 10.*; allowed_portal 127.* } }\n", NULL,
	     "TARGET_DRIVER iscsi { TARGET t { allowed_portal 10.* } }\n", &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.line[0],
			    "change TARGET_DRIVER iscsi / TARGET t allowed_portal: 10.* | 127.* -> 10.*");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_is_no_step),
		cmocka_unit_test(test_adds_and_removes),
		cmocka_unit_test(test_replace_lun),
		cmocka_unit_test(test_attribute_changes),
		cmocka_unit_test(test_kept_when_absent),
		cmocka_unit_test(test_repeated_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
