/* The statistics' latency buckets (core/stats.h) and their Prometheus
 * text (src/mgmt/metrics_prom.c): bucket bounds, cumulative buckets and
 * +Inf equal to _count, _sum in seconds, label escaping, one HELP and
 * TYPE per family, series of the non-zero sense keys only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/metrics_prom.h"

static void test_bucket_bounds(void **state)
{
	/* Bucket k holds (16 us << (k-1), 16 us << k]. */
	assert_int_equal(scst_lat_bucket(0), 0);
	assert_int_equal(scst_lat_bucket(1), 0);
	assert_int_equal(scst_lat_bucket(16000), 0);
	assert_int_equal(scst_lat_bucket(16001), 1);
	assert_int_equal(scst_lat_bucket(32000), 1);
	assert_int_equal(scst_lat_bucket(32001), 2);
	assert_int_equal(scst_lat_bucket(1000000), 6); /* 1 ms: (512, 1024] us */
	assert_int_equal(scst_lat_bucket(4194304000ull), 18);
	assert_int_equal(scst_lat_bucket(4194304001ull), SCST_LAT_NBUCKETS - 1);
	assert_int_equal(scst_lat_bucket(UINT64_MAX), SCST_LAT_NBUCKETS - 1);
	assert_int_equal(scst_lat_bucket_le_us(0), 16);
	assert_int_equal(scst_lat_bucket_le_us(18), 4194304);
	/* Every latency is in the bucket whose bound is the first >= it. */
	for (uint64_t ns = 1; ns < 5000000000ull; ns = ns * 3 + 7) {
		unsigned k = scst_lat_bucket(ns);

		if (k < SCST_LAT_NBUCKETS - 1)
			assert_true(ns <= scst_lat_bucket_le_us(k) * 1000);
		if (k > 0)
			assert_true(ns > scst_lat_bucket_le_us(k - 1) * 1000);
	}
}

static struct metrics_record device_record(const char *name)
{
	struct metrics_record r = { .level = METRICS_DEVICE };

	snprintf(r.labels[0], sizeof(r.labels[0]), "%s", name);
	return r;
}

static char *format(const struct metrics_record *recs, size_t n)
{
	struct metrics_buf b = { 0 };

	metrics_prom_format(recs, n, &b);
	assert_false(b.failed);
	assert_non_null(b.text);
	return b.text;
}

static void assert_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("no line \"%s\" in:\n%s", line, text);
}

static unsigned count(const char *text, const char *what)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void test_histogram_is_cumulative(void **state)
{
	struct metrics_record r = device_record("d0");
	char *text;

	r.stats.lat_bucket[1 /* read */][0] = 3;  /* <= 16 us */
	r.stats.lat_bucket[1 /* read */][2] = 2;  /* (32, 64] us */
	r.stats.lat_bucket[1 /* read */][SCST_LAT_NBUCKETS - 1] = 1; /* > 4.19 s */
	r.stats.lat_sum_ns[1 /* read */] = 5000123456ull;
	text = format(&r, 1);
	assert_line(text, "uscst_device_command_latency_seconds_bucket{device=\"d0\",dir=\"read\","
			  "le=\"0.000016\"} 3");
	assert_line(text, "uscst_device_command_latency_seconds_bucket{device=\"d0\",dir=\"read\","
			  "le=\"0.000032\"} 3");
	assert_line(text, "uscst_device_command_latency_seconds_bucket{device=\"d0\",dir=\"read\","
			  "le=\"0.000064\"} 5");
	assert_line(text, "uscst_device_command_latency_seconds_bucket{device=\"d0\",dir=\"read\","
			  "le=\"4.194304\"} 5");
	assert_line(text, "uscst_device_command_latency_seconds_bucket{device=\"d0\",dir=\"read\","
			  "le=\"+Inf\"} 6");
	assert_line(text, "uscst_device_command_latency_seconds_count{device=\"d0\",dir=\"read\"} 6");
	assert_line(text, "uscst_device_command_latency_seconds_sum{device=\"d0\",dir=\"read\"} "
			  "5.000123456");
	assert_line(text, "uscst_device_command_latency_seconds_count{device=\"d0\",dir=\"write\"} 0");
	/* 20 buckets per direction, three directions. */
	assert_int_equal(count(text, "uscst_device_command_latency_seconds_bucket{"),
			 3 * SCST_LAT_NBUCKETS);
	free(text);
}

static void test_counters_and_labels(void **state)
{
	struct metrics_record r[2] = { device_record("a\"b\\c\nd"), device_record("plain") };
	char *text;

	r[0].stats.received = 7;
	r[0].stats.done[2 /* write */] = 5;
	r[0].stats.bytes_written = 20480;
	r[0].stats.sense_key[5] = 2; /* ILLEGAL REQUEST */
	r[0].stats.tmf[3] = 1;       /* SCST_TMF_LUN_RESET */
	r[0].stats.status[1] = 4;    /* RESERVATION CONFLICT */
	text = format(r, 2);
	/* Escaped as the text format says: \" \\ \n. */
	assert_line(text, "uscst_device_commands_total{device=\"a\\\"b\\\\c\\nd\",dir=\"write\"} 5");
	assert_line(text, "uscst_device_written_bytes_total{device=\"a\\\"b\\\\c\\nd\"} 20480");
	assert_line(text, "uscst_device_outstanding_commands{device=\"a\\\"b\\\\c\\nd\"} 2");
	assert_line(text, "uscst_device_check_conditions_total{device=\"a\\\"b\\\\c\\nd\","
			  "sense_key=\"ILLEGAL_REQUEST\"} 2");
	assert_line(text, "uscst_device_task_management_functions_total{device=\"a\\\"b\\\\c\\nd\","
			  "function=\"LOGICAL_UNIT_RESET\"} 1");
	assert_line(text, "uscst_device_error_statuses_total{device=\"a\\\"b\\\\c\\nd\","
			  "status=\"RESERVATION_CONFLICT\"} 4");
	assert_line(text, "uscst_device_commands_total{device=\"plain\",dir=\"read\"} 0");
	/* Sense keys, statuses and functions only where non-zero. */
	assert_int_equal(count(text, "uscst_device_check_conditions_total{"), 1);
	assert_int_equal(count(text, "sense_key=\"UNIT_ATTENTION\""), 0);
	/* One HELP and one TYPE per family, before its samples; every level
	 * has its families even without records. */
	assert_int_equal(count(text, "# TYPE uscst_device_commands_total counter\n"), 1);
	assert_int_equal(count(text, "# HELP uscst_device_commands_total "), 1);
	assert_int_equal(count(text, "# TYPE uscst_device_outstanding_commands gauge\n"), 1);
	assert_int_equal(count(text, "# TYPE uscst_device_command_latency_seconds histogram\n"), 1);
	assert_int_equal(count(text, "# TYPE uscst_nexus_commands_total counter\n"), 1);
	assert_true(strstr(text, "# TYPE uscst_device_commands_total") <
		    strstr(text, "uscst_device_commands_total{"));
	free(text);
}

static void test_labels_of_every_level(void **state)
{
	struct metrics_record r = { .level = METRICS_NEXUS };
	static const char *const want[] = { "driver", "target", "session", "lun", "device" };
	const char *const *labels = metrics_level_labels(METRICS_NEXUS);
	char *text;

	for (unsigned i = 0; i < 5; i++) {
		assert_string_equal(labels[i], want[i]);
		snprintf(r.labels[i], sizeof(r.labels[i]), "v%u", i);
	}
	assert_null(labels[5]);
	text = format(&r, 1);
	assert_line(text, "uscst_nexus_read_bytes_total{driver=\"v0\",target=\"v1\",session=\"v2\","
			  "lun=\"v3\",device=\"v4\"} 0");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_histogram_is_cumulative),
		cmocka_unit_test(test_counters_and_labels),
		cmocka_unit_test(test_labels_of_every_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
