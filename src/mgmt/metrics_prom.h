/* The statistics (core/stats.h) as Prometheus text exposition, format
 * 0.0.4 (what `promtool check metrics` checks). One metric family per
 * counter and level, named uscst_<level>_<what>, so that a sum() over one
 * family never counts a command twice:
 *
 *   level    labels
 *   device   device
 *   target   driver, target
 *   session  driver, target, session (INITIATOR,i,0xISID), initiator
 *   lun      driver, target, lun, device   (every nexus of a target's
 *            LUN summed, those gone included)
 *   nexus    driver, target, session, lun, device   (one I_T_L nexus)
 *
 * Families (each with HELP and TYPE): commands_total{dir},
 * read_bytes_total, written_bytes_total, check_conditions_total
 * {sense_key}, error_statuses_total{status},
 * aborted_commands_total, task_management_functions_total{function},
 * outstanding_commands (a gauge) and command_latency_seconds{dir} (a
 * histogram, buckets 16 us to 4.194304 s by powers of two). Series with
 * a label naming a sense key, status or function appear once non-zero;
 * the others are always there.
 *
 * Collecting (metrics_collect.h) copies every object's counters under
 * scst_mutex; formatting (here) is pure, on that copy, without any lock. */
#ifndef USCST_MGMT_METRICS_PROM_H
#define USCST_MGMT_METRICS_PROM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/stats.h"

enum metrics_level {
	METRICS_DEVICE,
	METRICS_TARGET,
	METRICS_SESSION,
	METRICS_LUN,
	METRICS_NEXUS,
	METRICS_NLEVELS,
};

/* At most this many labels per level (the nexus has five), each value
 * at most METRICS_LABEL_MAX - 1 bytes (an iSCSI name is at most 223, a
 * session's name 223 + 17). */
#define METRICS_MAX_LABELS 5
#define METRICS_LABEL_MAX 256

/* One object's counters, with the values of its level's labels in the
 * order metrics_level_labels() names them. */
struct metrics_record {
	enum metrics_level level;
	char labels[METRICS_MAX_LABELS][METRICS_LABEL_MAX];
	struct scst_stats_snap stats;
};

/* The label names of @level, NULL-terminated. */
const char *const *metrics_level_labels(enum metrics_level level);

/* A growing text buffer; on allocation failure it keeps what it had and
 * remembers the failure (checked once at the end). */
struct metrics_buf {
	char *text;
	size_t len, cap;
	bool failed;
};

void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void metrics_buf_free(struct metrics_buf *b);

/* Appends the exposition of @n records to @out. Pure. */
void metrics_prom_format(const struct metrics_record *recs, size_t n, struct metrics_buf *out);

#endif
