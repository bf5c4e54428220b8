/* Per-device state files (src/core/state_file.c): the line reader's
 * refusals name the line, a "name value" line is exactly that, and the
 * writer thread makes the file (its directory too), replaces it and
 * removes it, in submission order; reading refuses what is not ours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pr_store.h"
#include "core/state_file.h"

static void test_lines(void **state)
{
	static const char text[] = "magic 1\nfirst 7\nsecond 42\n";
	struct state_file_lines it;
	char line[32], name[16], err[128];
	unsigned value;

	(void)state;
	state_file_lines_init(&it, text, sizeof(text) - 1);
	assert_int_equal(state_file_header(&it, "magic", 1, err, sizeof(err)), 0);
	assert_int_equal(state_file_next_line(&it, line, sizeof(line), err, sizeof(err)), 1);
	assert_true(state_file_split(line, name, sizeof(name), &value));
	assert_string_equal(name, "first");
	assert_int_equal(value, 7);
	assert_int_equal(state_file_next_line(&it, line, sizeof(line), err, sizeof(err)), 1);
	assert_string_equal(line, "second 42");
	assert_int_equal(it.lineno, 3);
	assert_int_equal(state_file_next_line(&it, line, sizeof(line), err, sizeof(err)), 0);
}

/* Each text, and what the first refusal must say. */
static const struct {
	const char *text, *why;
} bad[] = {
	{ "", "empty" },
	{ "magic 1", "line 1: no newline" },
	{ "magic 2\n", "line 1: not \"magic 1\"" },
	{ "other 1\n", "line 1: not \"magic 1\"" },
	{ "magic 1\nfirst 1\nsecond", "line 3: no newline" },
	{ "magic 1\nthis line is longer than the buffer\n", "line 2: not a line of text" },
};

static void test_refused(void **state)
{
	char line[32], err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct state_file_lines it;
		int rc;

		err[0] = '\0';
		state_file_lines_init(&it, bad[i].text, strlen(bad[i].text));
		rc = state_file_header(&it, "magic", 1, err, sizeof(err));
		while (!rc && (rc = state_file_next_line(&it, line, sizeof(line), err,
							 sizeof(err))) > 0)
			rc = 0;
		assert_int_equal(rc, -1);
		if (!strstr(err, bad[i].why))
			fail_msg("'%s': reason '%s' lacks '%s'", bad[i].text, err, bad[i].why);
	}
}

static void test_nul_refused(void **state)
{
	static const char text[] = "magic 1\nfirst\0 1\n";
	struct state_file_lines it;
	char line[32], err[128];

	(void)state;
	state_file_lines_init(&it, text, sizeof(text) - 1);
	assert_int_equal(state_file_header(&it, "magic", 1, err, sizeof(err)), 0);
	assert_int_equal(state_file_next_line(&it, line, sizeof(line), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 2"));
}

static void test_split(void **state)
{
	static const char *const refused[] = {
		"", "name", "name ", " 1", "name -1", "name 1 ", "name 1x", "name  1",
		"name 99999999999999999999", "a_name_longer_than_sixteen 1",
	};
	char name[16];
	unsigned value = 5;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (state_file_split(refused[i], name, sizeof(name), &value))
			fail_msg("'%s' split", refused[i]);
		assert_int_equal(value, 5);
	}
	assert_true(state_file_split("n 4294967295", name, sizeof(name), &value));
	assert_int_equal(value, 4294967295u);
}

/* ---- with a state directory ---- */

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int ndone, last_err;
static pthread_t writer_thread;

static void written(struct state_file_write *w, int err, const char *why)
{
	(void)w;
	(void)why;
	pthread_mutex_lock(&done_lock);
	writer_thread = pthread_self();
	ndone++;
	last_err = err;
	pthread_cond_signal(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

static void wait_done(int n)
{
	pthread_mutex_lock(&done_lock);
	while (ndone < n)
		pthread_cond_wait(&done_cond, &done_lock);
	pthread_mutex_unlock(&done_lock);
}

static void test_write_read_remove(void **state)
{
	char tmpdir[] = "/tmp/uscst-state-file-XXXXXX", sdir[64], path[PATH_MAX];
	char text[17], err[PATH_MAX + 256];
	struct state_file_write w[3];
	size_t len;
	struct stat st;

	(void)state;
	/* No state directory: no file, nothing queued. */
	assert_int_equal(state_file_read("sub", "dev", text, 16, &len, path, err, sizeof(err)),
			 0);
	assert_string_equal(path, "");
	assert_int_equal(state_file_submit(&w[0], "sub", "dev", "x\n", 2, written, err,
					   sizeof(err)), 1);

	assert_non_null(mkdtemp(tmpdir));
	/* The state directory itself is made by the first write too. */
	snprintf(sdir, sizeof(sdir), "%s/state", tmpdir);
	assert_int_equal(pr_store_start(sdir, err, sizeof(err)), 0);
	assert_int_equal(state_file_submit(&w[0], "sub", "..", "x\n", 2, written, err,
					   sizeof(err)), -1);
	assert_int_equal(state_file_read("sub", "a/b", text, 16, &len, path, err, sizeof(err)),
			 -1);
	assert_string_equal(path, "");

	/* In order: written, replaced, then read back; then removed. */
	assert_int_equal(state_file_submit(&w[0], "sub", "dev", "first 1\n", 8, written, err,
					   sizeof(err)), 0);
	assert_int_equal(state_file_submit(&w[1], "sub", "dev", "second 2\n", 9, written, err,
					   sizeof(err)), 0);
	wait_done(2);
	assert_int_equal(last_err, 0);
	assert_false(pthread_equal(writer_thread, pthread_self()));
	assert_int_equal(state_file_read("sub", "dev", text, 16, &len, path, err, sizeof(err)),
			 1);
	assert_int_equal(len, 9);
	assert_string_equal(text, "second 2\n");
	assert_non_null(strstr(path, "/state/sub/dev"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Larger than the reader takes: refused, naming the file. */
	assert_int_equal(state_file_read("sub", "dev", text, 8, &len, path, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "/state/sub/dev: larger than 8 bytes"));

	assert_int_equal(state_file_submit(&w[2], "sub", "dev", NULL, 0, written, err,
					   sizeof(err)), 0);
	wait_done(3);
	assert_int_equal(last_err, 0);
	assert_int_equal(state_file_read("sub", "dev", text, 16, &len, path, err, sizeof(err)),
			 0);
	assert_int_equal(stat(path, &st), -1);

	pr_store_stop();
	snprintf(path, sizeof(path), "%s/state/sub", tmpdir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(sdir), 0);
	assert_int_equal(rmdir(tmpdir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nul_refused),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_write_read_remove),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
