/* Prometheus text exposition of the statistics (metrics_prom.h has the
 * families and labels). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/metrics_prom.h"

/* ---- the text buffer ---- */

void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->text ? b->text + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 64 * 1024;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *t = realloc(b->text, cap);
		if (!t) {
			b->failed = true;
			return;
		}
		b->text = t;
		b->cap = cap;
	}
}

void metrics_buf_free(struct metrics_buf *b)
{
	free(b->text);
	memset(b, 0, sizeof(*b));
}

/* ---- levels and families ---- */

static const char *const device_labels[] = { "device", NULL };
static const char *const target_labels[] = { "driver", "target", NULL };
static const char *const session_labels[] = { "driver", "target", "session", "initiator", NULL };
static const char *const lun_labels[] = { "driver", "target", "lun", "device", NULL };
static const char *const nexus_labels[] = { "driver", "target", "session", "lun", "device", NULL };

static const struct {
	const char *prefix; /* uscst_<level>_ */
	const char *what;   /* for HELP: "of the device" */
	const char *const *labels;
} levels[METRICS_NLEVELS] = {
	[METRICS_DEVICE] = { "uscst_device_", "of the device, over every nexus to it", device_labels },
	[METRICS_TARGET] = { "uscst_target_", "of the target port, over all its sessions",
			     target_labels },
	[METRICS_SESSION] = { "uscst_session_", "of the session (I_T nexus)", session_labels },
	[METRICS_LUN] = { "uscst_lun_", "of the target's LUN, over every nexus to it",
			  lun_labels },
	[METRICS_NEXUS] = { "uscst_nexus_", "of the I_T_L nexus", nexus_labels },
};

const char *const *metrics_level_labels(enum metrics_level level)
{
	return levels[level].labels;
}

/* A label value, escaped as the text format asks (backslash, double
 * quote and line feed). */
static void put_value(struct metrics_buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			metrics_buf_printf(b, "\\\\");
		else if (*v == '"')
			metrics_buf_printf(b, "\\\"");
		else if (*v == '\n')
			metrics_buf_printf(b, "\\n");
		else
			metrics_buf_printf(b, "%c", *v);
	}
}

/* name{the record's labels[,extra="value"][,le="..."]} */
static void put_series(struct metrics_buf *b, const struct metrics_record *r, const char *name,
		       const char *extra, const char *extra_value, const char *le)
{
	const char *const *labels = levels[r->level].labels;

	metrics_buf_printf(b, "%s%s{", levels[r->level].prefix, name);
	for (unsigned i = 0; labels[i]; i++) {
		metrics_buf_printf(b, "%s%s=\"", i ? "," : "", labels[i]);
		put_value(b, r->labels[i]);
		metrics_buf_printf(b, "\"");
	}
	if (extra) {
		metrics_buf_printf(b, ",%s=\"", extra);
		put_value(b, extra_value);
		metrics_buf_printf(b, "\"");
	}
	if (le)
		metrics_buf_printf(b, ",le=\"%s\"", le);
	metrics_buf_printf(b, "} ");
}

static void put_header(struct metrics_buf *b, enum metrics_level level, const char *name,
		       const char *type, const char *help)
{
	metrics_buf_printf(b, "# HELP %s%s %s, %s.\n", levels[level].prefix, name, help,
			   levels[level].what);
	metrics_buf_printf(b, "# TYPE %s%s %s\n", levels[level].prefix, name, type);
}

/* A family with one series per record, valued by @get. */
static void put_scalar(struct metrics_buf *b, const struct metrics_record *recs, size_t n,
		       enum metrics_level level, const char *name, const char *type,
		       const char *help, uint64_t (*get)(const struct scst_stats_snap *s))
{
	put_header(b, level, name, type, help);
	for (size_t i = 0; i < n; i++) {
		if (recs[i].level != level)
			continue;
		put_series(b, &recs[i], name, NULL, NULL, NULL);
		metrics_buf_printf(b, "%" PRIu64 "\n", get(&recs[i].stats));
	}
}

static uint64_t get_bytes_read(const struct scst_stats_snap *s)
{
	return s->bytes_read;
}

static uint64_t get_bytes_written(const struct scst_stats_snap *s)
{
	return s->bytes_written;
}

static uint64_t get_aborted(const struct scst_stats_snap *s)
{
	return s->aborted;
}

/* A family with a label from a fixed set (@nvalues values named by
 * @name_of), a series for each value whose counter (@base[value], @base
 * inside the snapshot) is non-zero, or each value when @always. */
static void put_labelled(struct metrics_buf *b, const struct metrics_record *recs, size_t n,
			 enum metrics_level level, const char *name, const char *help,
			 const char *label, unsigned nvalues, const char *(*name_of)(unsigned),
			 size_t base, bool always)
{
	put_header(b, level, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		const uint64_t *v = (const uint64_t *)((const char *)&recs[i].stats + base);

		if (recs[i].level != level)
			continue;
		for (unsigned k = 0; k < nvalues; k++) {
			if (!v[k] && !always)
				continue;
			put_series(b, &recs[i], name, label, name_of(k), NULL);
			metrics_buf_printf(b, "%" PRIu64 "\n", v[k]);
		}
	}
}

static void put_latency(struct metrics_buf *b, const struct metrics_record *recs, size_t n,
			enum metrics_level level)
{
	static const char name[] = "command_latency_seconds";

	put_header(b, level, name, "histogram",
		   "Time from a command's arrival to its response having left, by data "
		   "direction (aborted commands not included)");
	for (size_t i = 0; i < n; i++) {
		const struct scst_stats_snap *s = &recs[i].stats;

		if (recs[i].level != level)
			continue;
		for (unsigned d = 0; d < SCST_STATS_NDIR; d++) {
			const char *dir = scst_stats_dir_name(d);
			uint64_t cum = 0;
			char le[32];

			for (unsigned k = 0; k < SCST_LAT_NBUCKETS; k++) {
				cum += s->lat_bucket[d][k];
				if (k == SCST_LAT_NBUCKETS - 1) {
					snprintf(le, sizeof(le), "+Inf");
				} else {
					uint64_t us = scst_lat_bucket_le_us(k);

					snprintf(le, sizeof(le), "%" PRIu64 ".%06" PRIu64, us / 1000000,
						 us % 1000000);
				}
				put_series(b, &recs[i], "command_latency_seconds_bucket", "dir", dir,
					   le);
				metrics_buf_printf(b, "%" PRIu64 "\n", cum);
			}
			put_series(b, &recs[i], "command_latency_seconds_sum", "dir", dir, NULL);
			metrics_buf_printf(b, "%" PRIu64 ".%09" PRIu64 "\n",
					   s->lat_sum_ns[d] / 1000000000u, s->lat_sum_ns[d] % 1000000000u);
			put_series(b, &recs[i], "command_latency_seconds_count", "dir", dir, NULL);
			metrics_buf_printf(b, "%" PRIu64 "\n", cum);
		}
	}
}

static void put_outstanding(struct metrics_buf *b, const struct metrics_record *recs, size_t n,
			    enum metrics_level level)
{
	put_scalar(b, recs, n, level, "outstanding_commands", "gauge",
		   "Commands received and not yet finished", scst_stats_outstanding);
}

void metrics_prom_format(const struct metrics_record *recs, size_t n, struct metrics_buf *out)
{
	for (unsigned l = 0; l < METRICS_NLEVELS; l++) {
		enum metrics_level level = (enum metrics_level)l;

		put_labelled(out, recs, n, level, "commands_total",
			     "Commands finished (with a response or aborted), by data direction "
			     "(the CDB's, or the transport's for a CDB refused)",
			     "dir", SCST_STATS_NDIR, scst_stats_dir_name,
			     offsetof(struct scst_stats_snap, done), true);
		put_scalar(out, recs, n, level, "read_bytes_total", "counter",
			   "Data-In bytes of commands that ended GOOD", get_bytes_read);
		put_scalar(out, recs, n, level, "written_bytes_total", "counter",
			   "Data-Out bytes of commands that ended GOOD", get_bytes_written);
		put_labelled(out, recs, n, level, "check_conditions_total",
			     "Commands that ended with CHECK CONDITION, by sense key", "sense_key",
			     SCST_STATS_NSENSE, scst_stats_sense_key_name,
			     offsetof(struct scst_stats_snap, sense_key), false);
		put_labelled(out, recs, n, level, "error_statuses_total",
			     "Commands that ended with another status than GOOD, CONDITION MET or "
			     "CHECK CONDITION, by status",
			     "status", SCST_STATS_NSTATUS, scst_stats_status_name,
			     offsetof(struct scst_stats_snap, status), false);
		put_scalar(out, recs, n, level, "aborted_commands_total", "counter",
			   "Commands ended by task management, a session's end or QErr",
			   get_aborted);
		put_labelled(out, recs, n, level, "task_management_functions_total",
			     "Task management functions received, by function", "function",
			     SCST_STATS_NTMF, scst_stats_tmf_name,
			     offsetof(struct scst_stats_snap, tmf), false);
		put_outstanding(out, recs, n, level);
		put_latency(out, recs, n, level);
	}
}
