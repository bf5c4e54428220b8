/* Corpus replay: links with one fuzz harness in place of libFuzzer, so that
 * `make test` runs every input of the committed corpus through
 * LLVMFuzzerTestOneInput() on the normal and the ASan+UBSan builds.
 *
 *   replay_<harness> DIR|FILE...
 *
 * Files of a directory run in name order. A crash, a sanitizer report or
 * a harness check aborts the process, which fails the test; so does an
 * argument that holds no input at all (a corpus that went missing must not
 * pass as an empty success). Prints each input's name before running it,
 * so a failing log ends with the culprit. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger than any input the fuzzer makes (-max_len) or the seeds hold. */
#define REPLAY_MAX_INPUT (1u << 20)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_MAX_INPUT);
	if (!buf) {
		fprintf(stderr, "replay: out of memory\n");
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, REPLAY_MAX_INPUT, f);
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "replay: %s: %s\n", path,
			ferror(f) ? "read error" : "larger than 1 MiB");
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	printf("replay: %s (%zu bytes)\n", path, n);
	fflush(stdout);
	/* A copy of exactly the input's size, so that ASan sees a read past
	 * its end as libFuzzer would. */
	uint8_t *input = malloc(n ? n : 1);
	if (!input) {
		free(buf);
		return -1;
	}
	memcpy(input, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(input, n);
	free(input);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of @dir; returns how many, or -1. */
static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ran = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **bigger = realloc(names, cap * sizeof(*names));
			if (!bigger)
				break;
			names = bigger;
		}
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (!names[n])
			break;
		sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (ran >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			ran = run_file(names[i]) < 0 ? -1 : ran + 1;
		free(names[i]);
	}
	free(names);
	return ran;
}

int main(int argc, char **argv)
{
	int total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int ran;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		ran = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) < 0 ? -1 : 1;
		if (ran <= 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				ran < 0 ? "failed" : "holds no input");
			return 1;
		}
		total += ran;
	}
	printf("replay: %d input(s), all passed\n", total);
	return 0;
}
