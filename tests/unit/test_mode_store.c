/* The saved mode pages' file (vdisk_mode_store.c): what encode writes
 * decodes to the same values, and every way a file can be wrong is
 * refused whole, with the line and the reason, leaving the values alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "handlers/vdisk/vdisk_internal.h"

static const struct mode_values some = {
	.wce = false, .d_sense = true, .swp = true, .qam = MODE_QAM_UNRESTRICTED,
	.tst = MODE_TST_PER_NEXUS, .qerr = MODE_QERR_ABORT_NEXUS, .tas = true,
	.ua_intlck_ctrl = 2,
};

static void test_round_trip(void **state)
{
	char buf[VDISK_MODE_FILE_MAX], err[256];
	struct mode_values v = { 0 };
	size_t n = vdisk_mode_encode(&some, buf);

	assert_true(n > 0 && n < VDISK_MODE_FILE_MAX);
	assert_int_equal(vdisk_mode_decode(buf, n, &v, err, sizeof(err)), 0);
	assert_memory_equal(&v, &some, sizeof(v));
	assert_non_null(strstr(buf, "uscst-mode-pages 1\n"));
	assert_non_null(strstr(buf, "\nswp 1\n"));
	assert_non_null(strstr(buf, "\nqerr 3\n"));
}

/* Each refused text, and a word the reason must contain. */
static const struct {
	const char *text, *why;
} bad[] = {
	{ "", "empty" },
	{ "garbage", "no newline" },
	{ "uscst-mode-pages 2\n", "line 1" },
	{ "something 1\n", "line 1" },
	{ "uscst-mode-pages 1\nwce 1\n", "missing" },
	{ "uscst-mode-pages 1\nwce 1\nwce 1\n", "line 3: wce given twice" },
	{ "uscst-mode-pages 1\ncolour 1\n", "line 2: unknown field 'colour'" },
	{ "uscst-mode-pages 1\nwce 2\n", "line 2: wce 2 is above 1" },
	{ "uscst-mode-pages 1\nwce -1\n", "line 2" },
	{ "uscst-mode-pages 1\nwce 1 \n", "line 2" },
	{ "uscst-mode-pages 1\nwce\n", "line 2" },
	{ "uscst-mode-pages 1\nwce 99999999999999999999\n", "line 2" },
	{ "uscst-mode-pages 1\nwce 1\nd_sense 0\nswp 0\nqam 0\ntst 0\nqerr 2\ntas 0\n"
	  "ua_intlck_ctrl 0\n", "reserves" },
	{ "uscst-mode-pages 1\nwce 1\nd_sense 0\nswp 0\nqam 0\ntst 0\nqerr 0\ntas 0\n"
	  "ua_intlck_ctrl 1\n", "reserves" },
	{ "uscst-mode-pages 1\nwce 1\nd_sense 0\nswp 0\nqam 0\ntst 0\nqerr 0\ntas 0\n"
	  "ua_intlck_ctrl 0", "line 9: no newline" },
};

static void test_refused(void **state)
{
	char err[256];
	struct mode_values v = some;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(vdisk_mode_decode(bad[i].text, strlen(bad[i].text), &v, err,
						   sizeof(err)), -1);
		if (!strstr(err, bad[i].why))
			fail_msg("'%s': reason '%s' lacks '%s'", bad[i].text, err, bad[i].why);
		assert_memory_equal(&v, &some, sizeof(v));
	}
}

/* A NUL inside a line is not text. */
static void test_nul_refused(void **state)
{
	static const char text[] = "uscst-mode-pages 1\nwce 1\0\n";
	char err[256];
	struct mode_values v = some;

	assert_int_equal(vdisk_mode_decode(text, sizeof(text) - 1, &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nul_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
