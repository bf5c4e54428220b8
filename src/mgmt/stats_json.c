/* The statistics as json-c objects (stats_json.h has the layout). */
#include "core/stats.h"
#include "mgmt/stats_json.h"

static void put_u64(json_object *o, const char *key, uint64_t v)
{
	/* json-c's integers are int64_t; a counter does not reach 2^63. */
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/* {name_of(k): v[k]} for the non-zero ones. */
static json_object *nonzero(const uint64_t *v, unsigned n, const char *(*name_of)(unsigned))
{
	json_object *o = json_object_new_object();

	for (unsigned k = 0; o && k < n; k++) {
		if (v[k])
			put_u64(o, name_of(k), v[k]);
	}
	return o;
}

static json_object *latency(const struct scst_stats_snap *s)
{
	json_object *lat = json_object_new_object();
	json_object *le = json_object_new_array();

	for (unsigned k = 0; le && k + 1 < SCST_LAT_NBUCKETS; k++)
		json_object_array_add(le, json_object_new_int64((int64_t)scst_lat_bucket_le_us(k)));
	json_object_object_add(lat, "bucket_le_us", le);
	for (unsigned d = 0; d < SCST_STATS_NDIR; d++) {
		json_object *dir = json_object_new_object();
		json_object *buckets = json_object_new_array();
		uint64_t count = 0;

		for (unsigned k = 0; k < SCST_LAT_NBUCKETS; k++) {
			count += s->lat_bucket[d][k];
			json_object_array_add(buckets,
					      json_object_new_int64((int64_t)s->lat_bucket[d][k]));
		}
		put_u64(dir, "count", count);
		put_u64(dir, "sum_ns", s->lat_sum_ns[d]);
		json_object_object_add(dir, "buckets", buckets);
		json_object_object_add(lat, scst_stats_dir_name(d), dir);
	}
	return lat;
}

json_object *stats_json(const struct scst_stats_snap *s)
{
	json_object *o = json_object_new_object();
	json_object *cmds;

	if (!o)
		return NULL;
	put_u64(o, "received", s->received);
	put_u64(o, "outstanding", scst_stats_outstanding(s));
	cmds = json_object_new_object();
	for (unsigned d = 0; d < SCST_STATS_NDIR; d++)
		put_u64(cmds, scst_stats_dir_name(d), s->done[d]);
	json_object_object_add(o, "commands", cmds);
	put_u64(o, "bytes_read", s->bytes_read);
	put_u64(o, "bytes_written", s->bytes_written);
	put_u64(o, "aborted", s->aborted);
	json_object_object_add(o, "check_conditions",
			       nonzero(s->sense_key, SCST_STATS_NSENSE, scst_stats_sense_key_name));
	json_object_object_add(o, "error_statuses",
			       nonzero(s->status, SCST_STATS_NSTATUS, scst_stats_status_name));
	json_object_object_add(o, "task_management",
			       nonzero(s->tmf, SCST_STATS_NTMF, scst_stats_tmf_name));
	json_object_object_add(o, "latency", latency(s));
	return o;
}

json_object *stats_json_device(const struct scst_device *dev)
{
	struct scst_stats_snap s;

	scst_stats_read_device(dev, &s);
	return stats_json(&s);
}

json_object *stats_json_target(const struct scst_tgt *tgt)
{
	struct scst_stats_snap s;

	scst_stats_read_target(tgt, &s);
	return stats_json(&s);
}

json_object *stats_json_session(const struct scst_session *sess)
{
	struct scst_stats_snap s;

	scst_stats_read_session(sess, &s);
	return stats_json(&s);
}

json_object *stats_json_session_lun(const struct scst_session *sess, uint64_t lun)
{
	struct scst_stats_snap s;

	if (!scst_stats_read_session_lun(sess, lun, &s))
		return NULL;
	return stats_json(&s);
}

static void add_lun(void *ctx, uint64_t lun, const char *device, const struct scst_stats_snap *s)
{
	json_object *e = json_object_new_object();

	put_u64(e, "lun", lun);
	json_object_object_add(e, "device", json_object_new_string(device));
	json_object_object_add(e, "stats", stats_json(s));
	json_object_array_add(ctx, e);
}

json_object *stats_json_target_luns(const struct scst_tgt *tgt)
{
	json_object *a = json_object_new_array();

	if (a)
		scst_stats_for_each_target_lun(tgt, add_lun, a);
	return a;
}
