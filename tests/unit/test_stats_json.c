/* The statistics as the RPC tree shows them (src/mgmt/stats_json.c): the
 * layout stats_json.h promises, from a snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mgmt/stats_json.h"

static int64_t get_int(json_object *o, const char *path0, const char *path1)
{
	json_object *v;

	if (!json_object_object_get_ex(o, path0, &v))
		fail_msg("no key %s", path0);
	if (path1 && !json_object_object_get_ex(v, path1, &v))
		fail_msg("no key %s.%s", path0, path1);
	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static void test_layout(void **state)
{
	struct scst_stats_snap s = { 0 };
	json_object *o, *lat, *read, *buckets, *le, *cc;

	s.received = 9;
	s.done[1] = 4;  /* read */
	s.done[2] = 3;  /* write */
	s.bytes_read = 16384;
	s.bytes_written = 12288;
	s.sense_key[6] = 1; /* UNIT ATTENTION */
	s.tmf[0] = 2;       /* ABORT TASK */
	s.lat_bucket[1][0] = 3;
	s.lat_bucket[1][SCST_LAT_NBUCKETS - 1] = 1;
	s.lat_sum_ns[1] = 123456;
	o = stats_json(&s);
	assert_non_null(o);
	assert_int_equal(get_int(o, "received", NULL), 9);
	assert_int_equal(get_int(o, "outstanding", NULL), 2);
	assert_int_equal(get_int(o, "commands", "read"), 4);
	assert_int_equal(get_int(o, "commands", "write"), 3);
	assert_int_equal(get_int(o, "commands", "other"), 0);
	assert_int_equal(get_int(o, "bytes_read", NULL), 16384);
	assert_int_equal(get_int(o, "bytes_written", NULL), 12288);
	assert_int_equal(get_int(o, "check_conditions", "UNIT_ATTENTION"), 1);
	assert_int_equal(get_int(o, "task_management", "ABORT_TASK"), 2);
	/* Only the non-zero sense keys are there. */
	assert_true(json_object_object_get_ex(o, "check_conditions", &cc));
	assert_int_equal(json_object_object_length(cc), 1);
	assert_true(json_object_object_get_ex(o, "latency", &lat));
	assert_true(json_object_object_get_ex(lat, "bucket_le_us", &le));
	assert_int_equal(json_object_array_length(le), SCST_LAT_NBUCKETS - 1);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(le, 0)), 16);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(le, 18)), 4194304);
	assert_true(json_object_object_get_ex(lat, "read", &read));
	assert_int_equal(get_int(read, "count", NULL), 4);
	assert_int_equal(get_int(read, "sum_ns", NULL), 123456);
	assert_true(json_object_object_get_ex(read, "buckets", &buckets));
	assert_int_equal(json_object_array_length(buckets), SCST_LAT_NBUCKETS);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(buckets, 0)), 3);
	assert_int_equal(
		json_object_get_int64(json_object_array_get_idx(buckets, SCST_LAT_NBUCKETS - 1)), 1);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
